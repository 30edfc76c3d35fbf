//! Gradients by burn-autodiff of the same forward pass and cost the manual path uses.

use crate::error::{Error, Result};
use crate::layer::{DenseGrads, Layer};
use crate::network::{Gradients, Network};
use crate::tensor;
use burn::module::Module;
use burn::optim::GradientsParams;
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

/// A layer's vector–Jacobian product by autodiff: for the objective
/// J = Σ (layer(input) ∘ grad_output), returns ∂J/∂input and ∂J/∂θ for every
/// parameter, keyed by `ParamId`.
///
/// Any upstream gradient is the derivative of such a J, so this checks a
/// layer's backward pass on its own, without a cost or other layers.
pub fn layer_vjp_autodiff<L: Layer>(
    layer: &L,
    input: Tensor<2>,
    grad_output: Tensor<2>,
) -> (Tensor<2>, GradientsParams) {
    let model = layer.clone().train();
    let input = input.autodiff().require_grad();
    let (output, _) = model.forward(input.clone());
    let objective = (output * grad_output.autodiff()).sum();
    let mut grads = objective.backward();
    let grad_input = input
        .grad_remove(&mut grads)
        .unwrap_or_else(|| input.clone().inner().zeros_like());
    (grad_input, GradientsParams::from_grads(grads, &model))
}

/// The same vector–Jacobian product by the layer's hand-written backward.
pub fn layer_vjp_manual<L: Layer>(
    layer: &L,
    input: Tensor<2>,
    grad_output: Tensor<2>,
) -> (Tensor<2>, GradientsParams) {
    let (_, cache) = layer.forward(input);
    let (grad_input, layer_grads) = layer.backward(cache, grad_output);
    let mut grads = GradientsParams::new();
    layer.register_grads(layer_grads, &mut grads);
    (grad_input, grads)
}
