//! `backprop grads`: the cost and gradients of a JSON model on JSON data.

use super::{emit, to_json};
use crate::error::Error;
use crate::gradients::GradientSource;
use crate::interchange::{DataJson, GradientsJson, ModelJson};
use crate::io::read_json;
use crate::{Backend, Precision};
use std::path::PathBuf;
use std::process::ExitCode;

/// What `backprop grads` computes.
#[derive(Debug, Clone, clap::Args)]
pub struct GradsRequest {
    /// Model in the JSON interchange format.
    #[arg(long)]
    pub model: PathBuf,
    /// Data in the JSON interchange format ({"x": [[…]], "y": [[…]]}).
    #[arg(long)]
    pub data: PathBuf,
    /// Weight decay λ.
    #[arg(long, default_value_t = 0.0)]
    pub lambda: f64,
    /// Which gradient to write.
    #[arg(long, value_enum, default_value_t = GradientSource::Manual)]
    pub source: GradientSource,
    /// Backend.
    #[arg(long, default_value = "flex", help = crate::backend::HELP)]
    pub backend: Backend,
    /// Precision.
    #[arg(long, value_enum, default_value = "f64")]
    pub dtype: Precision,
    /// Output file (stdout when absent).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Writes the gradients of `args.source` in the interchange format.
pub fn run(args: GradsRequest) -> Result<ExitCode, Error> {
    let device = args.backend.device_for(args.dtype)?;
    let model: ModelJson = read_json(&args.model)?;
    let network = model.to_network(&device, args.dtype)?;
    let data: DataJson = read_json(&args.data)?;
    let (x, y) = data.to_tensors(&network)?;
    let grads = args.source.gradients(&network, x, y, args.lambda)?;
    emit(
        args.out.as_ref(),
        &to_json(&GradientsJson::from_gradients(&network, &grads)?),
    )?;
    Ok(ExitCode::SUCCESS)
}
