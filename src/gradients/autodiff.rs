//! Gradients by burn-autodiff of the same forward pass and cost the manual path uses.

use crate::error::{Error, Result};
use crate::layer::DenseGrads;
use crate::network::{Gradients, Network};
use crate::tensor;
use burn::module::Module;
use burn::tensor::Tensor;

/// J(W, b) and ∂J/∂θ of every parameter, by burn-autodiff.
///
/// The network is moved onto autodiff with `network.clone().train()`, the
/// batch with `Tensor::autodiff`, then [`Network::cost_tensor`] — the very
/// function the manual path evaluates — is differentiated by `backward()`.
/// Nothing of the hand-written backward is involved, so agreement is evidence.
pub fn autodiff_gradients(
    network: &Network,
    x: Tensor<2>,
    y: Tensor<2>,
    weight_decay: f64,
) -> Result<Gradients> {
    network.check_batch(&x, &y, weight_decay)?;
    let model = network.clone().train();
    let cost = model.cost_tensor(x.autodiff(), y.autodiff(), weight_decay);
    let grads = cost.backward();
    let paths = network.param_paths();
    let mut layers = Vec::with_capacity(model.layers.len());
    for (l, layer) in model.layers.iter().enumerate() {
        let missing =
            |path: &String| Error::TensorRead(format!("autodiff produced no gradient for {path}"));
        layers.push(DenseGrads {
            weight: layer
                .weight
                .grad(&grads)
                .ok_or_else(|| missing(&paths[2 * l]))?,
            bias: layer
                .bias
                .grad(&grads)
                .ok_or_else(|| missing(&paths[2 * l + 1]))?,
        });
    }
    Ok(Gradients {
        cost: tensor::scalar(cost.inner())?,
        layers,
    })
}
