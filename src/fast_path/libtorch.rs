//! libtorch's fused kernels, reached through burn-tch's own tensor
//! ([`TchTensor`]) where burn's tensor API has no single operation for the
//! formula.
//!
//! Only plain LibTorch tensors come here: the caller ([`super`]) sends
//! autodiff-tracked ones to the generic forms, which burn's autodiff records.

// burn-tch is deprecated in burn 0.22; it is the backend whose kernels are
// PyTorch's, which is why this file exists.
#![allow(deprecated)]

use super::FusedBackward;
use burn::backend::LibTorch;
use burn::backend::libtorch::TchTensor;
use burn::tensor::Tensor;

/// burn-tch's tensor inside `tensor`.
fn primitive<const D: usize>(tensor: Tensor<D>) -> TchTensor {
    tensor
        .try_into_primitive::<LibTorch>()
        .expect("fast_path sends only plain LibTorch tensors here")
}

/// The inverse of [`primitive`].
fn tensor<const D: usize>(primitive: TchTensor) -> Tensor<D> {
    Tensor::from_primitive::<LibTorch>(primitive)
}

/// `y + alpha · x` in one pass: ATen's `addcmul(y, x, s) = y + x · s` with
/// `s` a 0-dimensional tensor, which broadcasts without a copy (the Rust
/// binding of `add(y, x, alpha)` has no `alpha`). In `y`'s buffer when burn-tch
/// says no other tensor shares it, as burn-tch's own in-place operations do;
/// the two-step `y + x · alpha` costs two more passes over the entries
/// (1.71 against 1.23 ms for decay and update of a 1024² f32 layer in
/// PyTorch 2.9).
pub(super) fn scaled_add<const D: usize>(y: Tensor<D>, alpha: f64, x: Tensor<D>) -> Tensor<D> {
    let (mut y, x) = (primitive(y), primitive(x));
    let factor = tch::Tensor::from(alpha);
    if let Some(sum) = y.mut_ops(|y| y.addcmul_(&x.tensor, &factor)) {
        return tensor(sum);
    }
    tensor(TchTensor::new(y.tensor.addcmul(&x.tensor, &factor)))
}

/// `grad_output ∘ f′(a)` by ATen's fused backward kernel of `function`, which
/// reads `a` and `grad_output` once and writes δ once (ATen evaluates
/// `grad · (1 − a) · a` and `grad · (1 − a²)`); the result goes into
/// `grad_output`'s own buffer when burn-tch says no other tensor shares it
/// (ATen's `out=` form, whose output may be an input of the same layout).
pub(super) fn activation_backward<const D: usize>(
    function: FusedBackward,
    output: Tensor<D>,
    grad_output: Tensor<D>,
) -> Tensor<D> {
    let (output, mut grad) = (primitive(output), primitive(grad_output));
    let fused = |into: Option<&tch::Tensor>, grad: &tch::Tensor| match (function, into) {
        (FusedBackward::Sigmoid, None) => tch::Tensor::sigmoid_backward(grad, &output.tensor),
        (FusedBackward::Sigmoid, Some(into)) => {
            tch::Tensor::sigmoid_backward_grad_input(into, grad, &output.tensor)
        }
        (FusedBackward::Tanh, None) => tch::Tensor::tanh_backward(grad, &output.tensor),
        (FusedBackward::Tanh, Some(into)) => {
            tch::Tensor::tanh_backward_grad_input(into, grad, &output.tensor)
        }
    };
    if let Some(delta) = grad.mut_ops(|grad| fused(Some(grad), grad)) {
        return tensor(delta);
    }
    tensor(TchTensor::new(fused(None, &grad.tensor)))
}
