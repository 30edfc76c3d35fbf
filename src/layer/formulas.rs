//! The dense layer's formulas, on tensors rather than on a `Dense`, so that
//! the layer's own passes (`dense.rs`) and its autodiff node (`node.rs`) run
//! this one code. Each backward formula sits under the forward one it
//! differentiates (docs/maths.md §§ 3, 5 and 11).

use crate::activation::Activation;
use burn::tensor::Tensor;

/// docs/maths.md § 3: `Z = A · W + b`, the bias broadcast over the rows.
pub(crate) fn weighted_input(input: Tensor<2>, weight: Tensor<2>, bias: Tensor<1>) -> Tensor<2> {
    input.matmul(weight) + bias.unsqueeze::<2>()
}

/// docs/maths.md § 3: `A' = f(A · W + b)`.
pub(crate) fn output(
    activation: Activation,
    input: Tensor<2>,
    weight: Tensor<2>,
    bias: Tensor<1>,
) -> Tensor<2> {
    activation.forward(weighted_input(input, weight, bias))
}

/// docs/maths.md § 5: `delta = grad_output ∘ f′(A')`, f′ written with
/// the cached output A'.
pub(crate) fn delta(
    activation: Activation,
    output: Tensor<2>,
    grad_output: Tensor<2>,
) -> Tensor<2> {
    activation.backward_from_output(output, grad_output)
}

/// docs/maths.md § 5: `∇W = Aᵀ · delta`, δ aᵀ summed over the batch.
pub(crate) fn grad_weight(input: Tensor<2>, delta: Tensor<2>) -> Tensor<2> {
    input.transpose().matmul(delta)
}

/// docs/maths.md § 5: `∇b` = the column sums of `delta`.
pub(crate) fn grad_bias(delta: Tensor<2>) -> Tensor<1> {
    delta.sum_dim(0).squeeze_dim::<1>(0)
}

/// docs/maths.md § 5: `delta · Wᵀ`, the error handed to the layer below.
pub(crate) fn grad_input(delta: Tensor<2>, weight: Tensor<2>) -> Tensor<2> {
    delta.matmul(weight.transpose())
}
