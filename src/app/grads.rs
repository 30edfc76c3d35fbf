//! `backprop grads`: the cost and gradients of a JSON model on JSON data.

use super::{emit, to_json};
use crate::error::Error;
use crate::interchange::{DataJson, GradientsJson, ModelJson, read_json};
use crate::verification::{self, FiniteDifference};
use crate::{Backend, Precision};
use std::path::PathBuf;
use std::process::ExitCode;

/// Which gradient `grads` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GradientSource {
    /// The hand-written backward passes.
    Manual,
    /// burn-autodiff.
    Autodiff,
    /// Central finite differences (ε = 1e-5).
    Numeric,
}

/// What `backprop grads` computes.
#[derive(Debug, Clone)]
pub struct GradsRequest {
    /// Model in the JSON interchange format.
    pub model: PathBuf,
    /// Data in the JSON interchange format ({"x": [[…]], "y": [[…]]}).
    pub data: PathBuf,
    /// Weight decay λ.
    pub lambda: f64,
    /// Which gradient to write.
    pub source: GradientSource,
    /// Backend.
    pub backend: Backend,
    /// Precision.
    pub dtype: Precision,
    /// Output file (stdout when absent).
    pub out: Option<PathBuf>,
}

/// Writes the gradients of `args.source` in the interchange format.
pub fn run(args: GradsRequest) -> Result<ExitCode, Error> {
    let device = args.backend.device_for(args.dtype)?;
    let model: ModelJson = read_json(&args.model)?;
    let network = model.to_network(&device, args.dtype)?;
    let data: DataJson = read_json(&args.data)?;
    let (x, y) = data.to_tensors(&network)?;
    let grads = match args.source {
        GradientSource::Manual => network.gradients(x, y, args.lambda)?,
        GradientSource::Autodiff => verification::autodiff_gradients(&network, x, y, args.lambda)?,
        GradientSource::Numeric => verification::numeric_gradients(
            &network,
            x,
            y,
            args.lambda,
            FiniteDifference::central(1e-5),
        )?,
    };
    emit(
        args.out.as_ref(),
        &to_json(&GradientsJson::from_gradients(&network, &grads)?),
    )?;
    Ok(ExitCode::SUCCESS)
}
