//! Layers with a hand-written forward and backward pass.
//!
//! A [`Layer`] is a burn [`Module`] that, besides computing its output, returns
//! whatever its backward pass needs (the cache), and whose backward pass turns
//! the gradient of a scalar objective with respect to its output into the
//! gradient with respect to its input and to each of its parameters — the
//! vector–Jacobian product that backpropagation chains from the last layer to
//! the first (docs/maths.md § 5, steps 2–4).
//!
//! The trait is public so that layers defined outside this crate can be
//! verified by the same harness ([`crate::verification`]).

mod dense;
mod formulas;
pub mod node;

pub use dense::{Dense, DenseCache, DenseConfig, DenseGrads};

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

/// A module with a hand-written forward and backward pass over a batch.
///
/// Inputs and outputs are `[m, features]` tensors, one example per row.
pub trait Layer: Module {
    /// What `forward_cached` keeps for `backward` (inputs, activations).
    type Cache;
    /// The gradient of every parameter of the layer.
    type Grads;

    /// Computes the layer's output for a batch and the cache its backward needs.
    fn forward_cached(&self, input: Tensor<2>) -> (Tensor<2>, Self::Cache);

    /// Given `grad_output` = ∂J/∂output (`[m, outputs]`), returns ∂J/∂input
    /// (`[m, inputs]`) and ∂J/∂θ for every parameter θ of the layer.
    fn backward(&self, cache: Self::Cache, grad_output: Tensor<2>) -> (Tensor<2>, Self::Grads);

    /// Only the parameter gradients of [`Layer::backward`]: what the first layer
    /// of a network needs, since nothing consumes ∂J/∂x. Layers override it to
    /// skip the work of ∂J/∂input (for a dense layer, one matrix product).
    fn backward_params(&self, cache: Self::Cache, grad_output: Tensor<2>) -> Self::Grads {
        self.backward(cache, grad_output).1
    }

    /// Files `grads` under the ids of this layer's parameters, the keys burn's
    /// optimizers and autodiff gradients use.
    fn register_grads(&self, grads: Self::Grads, into: &mut GradientsParams);
}
