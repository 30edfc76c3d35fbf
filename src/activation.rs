//! Activation functions f and their derivatives f′, written from the cached output.
//!
//! SPEC.md, "Activations": the derivative is computed from the cached activation
//! a = f(z), not by re-evaluating f — `a (1 − a)` for sigmoid, `1 − a²` for tanh.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The non-linearity f applied by a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// f(z) = 1 / (1 + e^(−z)), outputs in (0, 1); labels live in {0, 1}.
    Sigmoid,
    /// f(z) = (e^z − e^(−z)) / (e^z + e^(−z)), outputs in (−1, 1); labels live in {−1, 1}.
    Tanh,
}

impl Activation {
    /// Forward: a = f(z), element-wise.
    ///
    /// Sigmoid is evaluated as ½(1 + tanh(z/2)), an exact identity for
    /// 1 / (1 + e^(−z)). We do not use burn's `sigmoid` because burn-ndarray computes
    /// it in f32 even for f64 tensors, and not `(1 + exp(−z))⁻¹` because `exp`
    /// overflows for z < −709, which turns autodiff's derivative of that
    /// expression into `0 · ∞ = NaN` on saturated units. `tanh` is computed in
    /// the tensor's own precision on every CPU backend and saturates cleanly.
    pub fn forward<const D: usize>(self, z: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Sigmoid => z.mul_scalar(0.5).tanh().add_scalar(1.0).mul_scalar(0.5),
            Activation::Tanh => z.tanh(),
        }
    }

    /// Backward: f′(z) written with the cached output a = f(z), element-wise.
    pub fn derivative_from_output<const D: usize>(self, a: Tensor<D>) -> Tensor<D> {
        match self {
            // a (1 − a)
            Activation::Sigmoid => a.clone().mul(a.neg().add_scalar(1.0)),
            // 1 − a²
            Activation::Tanh => a.square().neg().add_scalar(1.0),
        }
    }

    /// The range of the output, (low, high): where labels and scaled targets must lie.
    pub fn range(self) -> (f64, f64) {
        match self {
            Activation::Sigmoid => (0.0, 1.0),
            Activation::Tanh => (-1.0, 1.0),
        }
    }

    /// The lower-case name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
