//! What a training run reports: a record per epoch, why it stopped, and the
//! networks it kept.

use super::config::TrainConfig;
use super::metrics::Metrics;
use crate::error::Error;
use crate::network::Network;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What happened in one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Metrics on the training set after the epoch's updates.
    pub train: Metrics,
    /// Metrics on the validation set, when there is one.
    pub validation: Option<Metrics>,
    /// Wall time of the epoch's updates (evaluation excluded), in milliseconds.
    pub millis: f64,
    /// Optimizer steps that moved the parameters so far (L-BFGS: iterations).
    #[serde(default)]
    pub iterations: usize,
    /// Cost-and-gradient evaluations so far (L-BFGS: with its line searches).
    #[serde(default)]
    pub evaluations: usize,
}

/// Why training ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Stop {
    /// All epochs ran.
    Completed,
    /// The cost became NaN or infinite in this epoch; the model is from the epoch before.
    Diverged {
        /// The first non-finite epoch (1-based).
        epoch: usize,
        /// The cost it reached.
        cost: f64,
    },
    /// The caller asked to stop (e.g. Ctrl-C) after this many completed epochs.
    Interrupted {
        /// Completed epochs.
        epochs: usize,
    },
    /// The validation metric did not improve for `patience` epochs.
    EarlyStopped {
        /// Completed epochs.
        epochs: usize,
        /// The epoch of the best validation metric.
        best_epoch: usize,
    },
    /// A remote device was lost (its server stopped or the network failed);
    /// the model is from the last completed epoch.
    Failed {
        /// Completed epochs.
        epochs: usize,
        /// What happened, naming the server.
        error: String,
    },
    /// L-BFGS could not move: the gradient or the slope along its search
    /// direction is below tolerance, or a step changed J by less than it.
    Converged {
        /// Completed epochs.
        epochs: usize,
        /// Which test ended it.
        reason: String,
    },
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Completed => f.write_str("completed"),
            Stop::Diverged { epoch, .. } => write!(f, "diverged at epoch {epoch}"),
            Stop::Interrupted { epochs } => write!(f, "interrupted after {epochs} epochs"),
            Stop::EarlyStopped { epochs, best_epoch } => write!(
                f,
                "stopped early after {epochs} epochs (best epoch {best_epoch})"
            ),
            Stop::Converged { epochs, reason } => {
                write!(f, "converged after {epochs} epochs ({reason})")
            }
            Stop::Failed { epochs, error } => write!(f, "failed after {epochs} epochs: {error}"),
        }
    }
}

/// The network of the epoch with the best validation metric.
#[derive(Debug, Clone)]
pub struct BestModel {
    /// Its epoch (1-based).
    pub epoch: usize,
    /// The network after that epoch's updates.
    pub network: Network,
}

/// The trained network, its history and why training stopped.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The last network whose cost was finite.
    pub network: Network,
    /// The network of the epoch with the best validation metric (the last
    /// network's epoch when there is no validation set).
    pub best: Option<BestModel>,
    /// One record per completed epoch.
    pub history: Vec<EpochRecord>,
    /// Why training ended.
    pub stop: Stop,
}

impl TrainOutcome {
    /// The divergence as an error, for callers that treat it as one.
    pub fn diverged(&self, config: &TrainConfig) -> Option<Error> {
        match self.stop {
            Stop::Diverged { epoch, cost } => Some(Error::Diverged {
                epoch,
                cost,
                learning_rate: config.learning_rate,
            }),
            _ => None,
        }
    }
}
