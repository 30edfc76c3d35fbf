//! The reference's update, θ ← θ − α ∂J/∂θ, and the rule every step size obeys.

use crate::error::{Error, Result};
use crate::fast_path::scaled_add;
use crate::layer::{Dense, DenseGrads};
use crate::network::{Gradients, Network};
use burn::tensor::Tensor;

/// One update of docs/maths.md § 7, step 3:
///
/// ```text
/// W^(l) ← W^(l) − α [ (1/m) ΔW^(l) + λ W^(l) ]
/// b^(l) ← b^(l) − α (1/m) Δb^(l)
/// ```
///
/// The bracketed terms are exactly [`Network::gradients`]' output, so the step
/// is θ ← θ − α ∂J/∂θ. Plain tensor arithmetic on the parameters: nothing here
/// goes through autodiff, and parameter ids are kept.
///
/// `grads` is taken by value so that α ∂J/∂θ is formed in the gradient's own
/// buffer instead of a fresh allocation (a 4 MiB one per layer on the `wide`
/// benchmark shape); clone it first if you still need it.
pub fn gradient_descent_step(
    network: Network,
    grads: Gradients,
    learning_rate: f64,
) -> Result<Network> {
    gradient_descent_update(network, grads.layers, learning_rate)
}

/// [`gradient_descent_step`] from the per-layer gradients alone (as
/// [`Network::parameter_gradients`] gives them, with no cost read back).
pub fn gradient_descent_update(
    network: Network,
    grads: Vec<DenseGrads>,
    learning_rate: f64,
) -> Result<Network> {
    check_learning_rate(learning_rate)?;
    if grads.len() != network.layers.len() {
        return Err(Error::Shape {
            what: "gradients".into(),
            expected: format!("{} layers, like the network", network.layers.len()),
            got: format!("{} layers", grads.len()),
        });
    }
    let layers = network
        .layers
        .into_iter()
        .zip(grads)
        .map(|(layer, g)| Dense {
            weight: layer.weight.map(|w| descend(w, learning_rate, g.weight)),
            bias: layer.bias.map(|b| descend(b, learning_rate, g.bias)),
            activation: layer.activation,
        })
        .collect();
    Ok(Network { layers })
}

/// θ − α ∂J/∂θ for one parameter, in θ's buffer where the backend can (one
/// fused pass on libtorch; elsewhere the two operations, rounded exactly as
/// written).
fn descend<const D: usize>(theta: Tensor<D>, learning_rate: f64, grad: Tensor<D>) -> Tensor<D> {
    scaled_add(theta, -learning_rate, grad)
}

/// α must be finite and > 0.
pub(crate) fn check_learning_rate(learning_rate: f64) -> Result<()> {
    crate::error::require_positive("learning_rate", learning_rate, "the step size α", "")
}
