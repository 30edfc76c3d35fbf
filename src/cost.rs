//! The cost J(W, b) and its derivative, each written once and shared by the
//! hand-written path, the autodiff path and finite differences.
//!
//! docs/maths.md § 4:
//!
//! ```text
//! J(W,b) = (1/m) Σ_i ½ ‖h(x^(i)) − y^(i)‖²  +  (λ/2) Σ_l Σ_i Σ_j (W^(l)_ji)²
//! ```
//!
//! The decay term covers the weights only, never the biases.

use crate::fast_path::{scaled_add, sum_of_squares};
use burn::tensor::Tensor;

/// Data term (1/m) Σ_i ½ ‖h_i − y_i‖² over a batch, `h`, `y`: `[m, s_{n_l}]`.
pub fn squared_error(h: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
    let m = h.dims()[0] as f64;
    sum_of_squares(h - y).mul_scalar(0.5 / m)
}

/// ∂/∂h of [`squared_error`]: (h − y) / m, `[m, s_{n_l}]`.
///
/// This is the seed of backpropagation; with the output activation's f′ it
/// becomes docs/maths.md § 6's Δ_out = (A_out − Y) ∘ f′, scaled by 1/m.
pub fn squared_error_grad(h: Tensor<2>, y: Tensor<2>) -> Tensor<2> {
    let m = h.dims()[0] as f64;
    (h - y).mul_scalar(1.0 / m)
}

/// Decay term of one layer, (λ/2) Σ_ij W_ij².
pub fn weight_decay(weight: Tensor<2>, weight_decay: f64) -> Tensor<1> {
    sum_of_squares(weight).mul_scalar(weight_decay / 2.0)
}

/// ∂/∂W of [`weight_decay`]: λ W.
pub fn weight_decay_grad(weight: Tensor<2>, weight_decay: f64) -> Tensor<2> {
    weight.mul_scalar(weight_decay)
}

/// `grad + λ W`: [`weight_decay_grad`] added to the data term's ∂J/∂W, as one
/// fused pass where the backend has one (the same value as
/// `grad + weight_decay_grad(weight, λ)`, to rounding).
pub fn add_weight_decay_grad(grad: Tensor<2>, weight: Tensor<2>, weight_decay: f64) -> Tensor<2> {
    scaled_add(grad, weight_decay, weight)
}
