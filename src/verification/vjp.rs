//! A layer's vector–Jacobian product two ways, for [`super::GradCheck::layer`]:
//! burn-autodiff of the layer's forward, and the layer's hand-written backward.

use crate::layer::Layer;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

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
    let (output, _) = model.forward_cached(input.clone());
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
    let (_, cache) = layer.forward_cached(input);
    let (grad_input, layer_grads) = layer.backward(cache, grad_output);
    let mut grads = GradientsParams::new();
    layer.register_grads(layer_grads, &mut grads);
    (grad_input, grads)
}
