//! Batch gradient descent on the hand-written gradients.

use crate::error::{Error, Result};
use crate::layer::Dense;
use crate::network::{Gradients, Network};

/// One update of SPEC.md "Batch gradient descent", step 3:
///
/// ```text
/// W^(l) ← W^(l) − α [ (1/m) ΔW^(l) + λ W^(l) ]
/// b^(l) ← b^(l) − α (1/m) Δb^(l)
/// ```
///
/// The bracketed terms are exactly [`Network::gradients`]' output, so the step
/// is θ ← θ − α ∂J/∂θ. Plain tensor arithmetic on the parameters: nothing here
/// goes through autodiff, and parameter ids are kept.
pub fn gradient_descent_step(
    network: Network,
    grads: &Gradients,
    learning_rate: f64,
) -> Result<Network> {
    if !(learning_rate.is_finite() && learning_rate > 0.0) {
        return Err(Error::InvalidParameter {
            name: "learning_rate",
            value: learning_rate.to_string(),
            reason: "the step size α must be finite and > 0".into(),
        });
    }
    if grads.layers.len() != network.layers.len() {
        return Err(Error::Shape {
            what: "gradients".into(),
            expected: format!("{} layers, like the network", network.layers.len()),
            got: format!("{} layers", grads.layers.len()),
        });
    }
    let layers = network
        .layers
        .into_iter()
        .zip(&grads.layers)
        .map(|(layer, g)| Dense {
            weight: layer
                .weight
                .map(|w| w - g.weight.clone().mul_scalar(learning_rate)),
            bias: layer
                .bias
                .map(|b| b - g.bias.clone().mul_scalar(learning_rate)),
            activation: layer.activation,
        })
        .collect();
    Ok(Network { layers })
}
