//! `backprop export-model`: a saved run's model in the JSON interchange format.

use super::{emit, to_json};
use crate::error::Error;
use crate::interchange::ModelJson;
use crate::{Backend, persist};
use std::path::PathBuf;
use std::process::ExitCode;

/// What `backprop export-model` writes.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportRequest {
    /// Model directory written by `train`.
    #[arg(long)]
    pub model: PathBuf,
    /// Output JSON file (stdout when absent).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Writes the model of the run directory `args.model` as JSON.
pub fn run(args: ExportRequest) -> Result<ExitCode, Error> {
    let (network, meta) = persist::load(&args.model, &Backend::Flex.device()?)?;
    let model = ModelJson::from_network_on_raw_features(&network, &meta.preprocessing.features)?;
    emit(args.out.as_ref(), &to_json(&model))?;
    Ok(ExitCode::SUCCESS)
}
