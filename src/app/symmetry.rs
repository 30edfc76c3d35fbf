//! `backprop symmetry`: why the initial weights must be random.

use super::headline;
use crate::error::Error;
use crate::run::{self, TrainOptions};
use crate::{Backend, NetworkConfig, Precision};
use std::ops::ControlFlow;
use std::process::ExitCode;

/// What `backprop symmetry` demonstrates.
#[derive(Debug, Clone, clap::Args)]
pub struct SymmetryRequest {
    /// Hidden units.
    #[arg(long, default_value_t = 16)]
    pub hidden: usize,
    /// Epochs of full-batch gradient descent on the digits.
    #[arg(long, default_value_t = 300)]
    pub epochs: usize,
    /// The value every weight and bias starts at in the symmetric run.
    #[arg(long, default_value_t = 0.05)]
    pub value: f64,
    /// Backend.
    #[arg(long, default_value = "flex", help = crate::backend::HELP)]
    pub backend: Backend,
    /// Precision.
    #[arg(long, value_enum, default_value = "f64")]
    pub dtype: Precision,
}

/// Trains the same network from all-equal and from random initial weights
/// and counts the distinct hidden units of each.
pub fn run(args: SymmetryRequest) -> Result<ExitCode, Error> {
    let base = TrainOptions {
        hidden: vec![args.hidden],
        epochs: args.epochs,
        backend: args.backend.clone(),
        dtype: args.dtype,
        ..TrainOptions::default()
    };
    base.validate()?;
    let device = args.backend.device_for(args.dtype)?;
    let split = base.load_data()?;
    println!(
        "digits, 64-{}-10 sigmoid, {} epochs of full-batch gradient descent (α = {}, λ = {}):",
        args.hidden,
        args.epochs,
        base.learning_rate(),
        base.lambda
    );
    for (label, constant) in [
        (format!("all weights = {}", args.value), Some(args.value)),
        ("random N(0, 0.1²)".to_string(), None),
    ] {
        let options = TrainOptions {
            init_std: 0.1,
            ..base.clone()
        };
        let network = |config: &NetworkConfig| match constant {
            Some(v) => config.init_constant(&device, args.dtype, v),
            None => config.init(&device, args.dtype),
        };
        let trained =
            run::train_with_network(&options, &split, network, |_| ControlFlow::Continue(()))?;
        let distinct = trained.outcome.network.distinct_units(0, 1e-9)?;
        println!(
            "  {label:<22} {distinct:>3} distinct hidden units of {}   test {}",
            args.hidden,
            headline(&trained.summary.test)
        );
    }
    Ok(ExitCode::SUCCESS)
}
