//! What a training run is asked to do: [`TrainConfig`], checked before any work.

use super::optimizer::{OptimizerConfig, OptimizerKind};
use super::step::check_learning_rate;
use crate::error::{Error, Result};
use crate::gradients::GradientSource;
use serde::{Deserialize, Serialize};

/// Hyper-parameters of training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Step size α.
    pub learning_rate: f64,
    /// Weight decay λ (0 disables it).
    pub weight_decay: f64,
    /// Passes over the training set.
    pub epochs: usize,
    /// Examples per update; `None` is full-batch gradient descent, as in the reference.
    pub batch_size: Option<usize>,
    /// Seed of the per-epoch shuffle of mini-batches.
    pub seed: u64,
    /// The update rule and its hyper-parameters.
    pub optimizer: OptimizerConfig,
    /// Which gradients drive it: the hand-written ones, or autodiff's as a control.
    pub gradients: GradientSource,
    /// Stop when the validation metric has not improved for this many epochs.
    pub patience: Option<usize>,
}

impl TrainConfig {
    /// Full-batch gradient descent on the hand-written gradients, as in the reference.
    pub fn gradient_descent(learning_rate: f64, weight_decay: f64, epochs: usize) -> TrainConfig {
        TrainConfig {
            learning_rate,
            weight_decay,
            epochs,
            batch_size: None,
            seed: 0,
            optimizer: OptimizerConfig::gd(),
            gradients: GradientSource::Manual,
            patience: None,
        }
    }
}

impl TrainConfig {
    /// Rejects nonsense before any work starts; `m` is the training set's size.
    pub fn validate(&self, m: usize) -> Result<()> {
        check_learning_rate(self.learning_rate)?;
        crate::network::check_weight_decay(self.weight_decay)?;
        if self.epochs == 0 {
            return Err(Error::InvalidParameter {
                name: "epochs",
                value: "0".into(),
                reason: "train for at least one epoch".into(),
            });
        }
        if let Some(b) = self.batch_size
            && (b == 0 || b > m)
        {
            return Err(Error::InvalidParameter {
                name: "batch_size",
                value: b.to_string(),
                reason: format!(
                    "must be between 1 and the {m} training examples (omit it for full batch)"
                ),
            });
        }
        if self.optimizer.kind == OptimizerKind::Lbfgs && self.batch_size.is_some() {
            return Err(Error::InvalidParameter {
                name: "batch_size",
                value: self.batch_size.map_or(String::new(), |b| b.to_string()),
                reason: "L-BFGS works on the full batch: its line search and curvature pairs \
                         assume one fixed cost function; omit `batch_size`"
                    .into(),
            });
        }
        // Gradient descent scales every weight by (1 − αλ) before the data's
        // pull: at αλ ≥ 2 that factor's magnitude is ≥ 1 and the weights
        // oscillate and grow whatever the data say.
        let decay_factor = self.learning_rate * self.weight_decay;
        if self.optimizer.kind == OptimizerKind::Gd && decay_factor >= 2.0 {
            return Err(Error::InvalidParameter {
                name: "lambda",
                value: crate::error::readable(self.weight_decay),
                reason: format!(
                    "with α = {} the decay step scales the weights by 1 − αλ = {}, so they \
                     grow without bound; αλ must stay below 2 (usually far below: λ ≈ 1e-4)",
                    crate::error::readable(self.learning_rate),
                    crate::error::readable(1.0 - decay_factor)
                ),
            });
        }
        if self.gradients == GradientSource::Numeric {
            return Err(Error::InvalidParameter {
                name: "gradients",
                value: "numeric".into(),
                reason: "finite differences cost two evaluations of J per parameter and step; \
                         they check gradients (the `verification` module), they do not \
                         train: use manual or autodiff"
                    .into(),
            });
        }
        if self.patience == Some(0) {
            return Err(Error::InvalidParameter {
                name: "patience",
                value: "0".into(),
                reason: "wait at least one epoch for an improvement (omit it to train all epochs)"
                    .into(),
            });
        }
        self.optimizer.validate()
    }
}
