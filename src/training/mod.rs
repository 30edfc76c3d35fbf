//! Training on the hand-written gradients: the reference's batch gradient
//! descent (docs/maths.md § 7) or one of burn's optimizers fed
//! by the same gradients, with a per-epoch history, divergence detection,
//! the best model by validation metric, and early stopping.
//!
//! Gradient descent goes through no autodiff: gradients come from
//! [`Network::parameter_gradients`] and the update is plain tensor arithmetic.

mod config;
mod executor;
mod metrics;
mod objective;
mod optimizer;
mod outcome;
mod parallel;
mod prepared;
mod step;
pub mod threads;

pub use config::TrainConfig;
pub use metrics::{Metrics, evaluate};
pub use objective::{Batch, Objective};
pub use optimizer::{Optimizer, OptimizerConfig, OptimizerKind, StepReport};
pub use outcome::{BestModel, EpochRecord, Stop, TrainOutcome};
pub use parallel::{DataParallel, ShardedBatch};
pub use prepared::Prepared;
pub use step::{gradient_descent_step, gradient_descent_update};

use crate::data::preprocess::Preprocessing;
use crate::error::Result;
use crate::network::Network;
use executor::Setting;
use std::ops::ControlFlow;

/// Trains `network` with `config.optimizer` on the chosen gradients.
///
/// After each epoch the training (and validation) metrics are computed and
/// `on_epoch` is called; returning `ControlFlow::Break` stops training after
/// that epoch. A non-finite cost stops training and keeps the previous epoch's
/// network (see [`TrainOutcome::diverged`]). The network of the epoch with
/// the best validation metric ([`Metrics::better_than`]) is kept beside the
/// last one; with `config.patience`, training stops once that many epochs
/// have passed without an improvement. On a CPU backend, steps whose matrix
/// products are small run on one thread of their own ([`threads`]). A
/// training set spread over several devices ([`Prepared::spread_over`])
/// trains data-parallel.
pub fn train(
    network: Network,
    train_set: &Prepared,
    validation: Option<&Prepared>,
    preprocessing: &Preprocessing,
    config: &TrainConfig,
    on_epoch: impl FnMut(&EpochRecord) -> ControlFlow<()>,
) -> Result<TrainOutcome> {
    let setting = Setting {
        train_set,
        parallel: train_set.shards(),
        validation,
        preprocessing,
        config,
    };
    executor::run(network, setting, on_epoch)
}
