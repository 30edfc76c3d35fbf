//! How well a network fits a data set: cost, accuracy, MSE and R².

use super::Prepared;
use crate::cost;
use crate::data::Targets;
use crate::data::preprocess::{Predictions, Preprocessing};
use crate::error::Result;
use crate::network::Network;
use crate::tensor;
use serde::{Deserialize, Serialize};

/// Metrics of a network on one data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// J(W, b) including the decay term.
    pub cost: f64,
    /// The data term (1/m) Σ ½‖h − y‖² alone.
    pub data_cost: f64,
    /// Fraction of examples whose most active output is the true class (classification).
    pub accuracy: Option<f64>,
    /// Mean squared error in the targets' own units (regression).
    pub mse: Option<f64>,
    /// Coefficient of determination 1 − SS_res / SS_tot (regression).
    pub r2: Option<f64>,
}

impl Metrics {
    /// Whether these metrics beat `other` for choosing a model: a higher
    /// accuracy for classifiers (a lower cost among equal accuracies), a lower
    /// cost J otherwise. NaN never wins.
    pub fn better_than(&self, other: &Metrics) -> bool {
        match (self.accuracy, other.accuracy) {
            (Some(a), Some(b)) if a != b => a > b,
            _ => self.cost < other.cost,
        }
    }
}

/// Evaluates `network` on `data`: one forward pass, no gradients.
pub fn evaluate(
    network: &Network,
    data: &Prepared,
    preprocessing: &Preprocessing,
    weight_decay: f64,
) -> Result<Metrics> {
    let h = network.forward(data.x.clone());
    // J = data term + decay term; the data term is computed once and reused.
    let data_cost = tensor::scalar(cost::squared_error(h.clone(), data.y.clone()))?;
    let cost = data_cost + tensor::scalar(network.weight_decay_term(weight_decay))?;
    let outputs = tensor::to_vec(&h)?;
    let mut metrics = Metrics {
        cost,
        data_cost,
        accuracy: None,
        mse: None,
        r2: None,
    };
    match (preprocessing.decode(&outputs), &data.data.targets) {
        (Predictions::Classes(predicted), Targets::Classes { labels, .. }) => {
            let correct = predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
            metrics.accuracy = Some(correct as f64 / labels.len().max(1) as f64);
        }
        (Predictions::Values(predicted), Targets::Values { values, n_targets }) => {
            let n = values.len().max(1) as f64;
            let ss_res: f64 = predicted
                .iter()
                .zip(values)
                .map(|(p, v)| (p - v).powi(2))
                .sum();
            let mut ss_tot = 0.0;
            for j in 0..*n_targets {
                let col: Vec<f64> = values.iter().skip(j).step_by(*n_targets).copied().collect();
                let mean = col.iter().sum::<f64>() / col.len().max(1) as f64;
                ss_tot += col.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
            }
            metrics.mse = Some(ss_res / n);
            metrics.r2 = Some(if ss_tot > 0.0 {
                1.0 - ss_res / ss_tot
            } else {
                f64::NAN
            });
        }
        _ => {}
    }
    Ok(metrics)
}
