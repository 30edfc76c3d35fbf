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
    differentiate(network, x, y, weight_decay, Network::hypothesis)
}

/// J(W, b) and ∂J/∂θ by burn-autodiff, each layer one node whose backward is
/// the hand-written one ([`Network::forward`]): burn's engine runs the graph
/// (the cost, the decay term, the order of the nodes), the layers' gradients
/// are the crate's own.
pub fn node_gradients(
    network: &Network,
    x: Tensor<2>,
    y: Tensor<2>,
    weight_decay: f64,
) -> Result<Gradients> {
    differentiate(network, x, y, weight_decay, Network::forward)
}

/// `backward()` of J with the hypothesis `h`, on an autodiff copy of the
/// network and batch; every parameter's gradient read from burn's result.
fn differentiate(
    network: &Network,
    x: Tensor<2>,
    y: Tensor<2>,
    weight_decay: f64,
    h: fn(&Network, Tensor<2>) -> Tensor<2>,
) -> Result<Gradients> {
    network.check_batch(&x, &y, weight_decay)?;
    let model = network.clone().train();
    let cost = model.cost_of_hypothesis(h(&model, x.autodiff()), y.autodiff(), weight_decay);
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
