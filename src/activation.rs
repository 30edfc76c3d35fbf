//! Activation functions f and their derivatives f′, written from the cached output.
//!
//! SPEC.md, "Activations": the derivative is computed from the cached activation
//! a = f(z), not by re-evaluating f — `a (1 − a)` for sigmoid, `1 − a²` for tanh.

use burn::tensor::{DType, Tensor};
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
    /// Sigmoid is evaluated as 1 / (1 + e^(−z)) with −z first capped at ln(max
    /// finite value) of the tensor's dtype (88 in f32, 709 in f64), so that e^(−z)
    /// never overflows. Without the cap, autodiff's derivative of this expression
    /// on a saturated unit is `0 · ∞ = NaN`; with it, σ(z) for z below −88
    /// (f32) or −709 (f64) is σ(−88) ≈ 6e-39 or σ(−709) ≈ 1e-308 instead of a
    /// smaller subnormal, and NaN still propagates (burn's clamps keep NaN).
    ///
    /// Alternatives measured and rejected (docs/performance.md): burn's fused
    /// `sigmoid` computes in f32 on burn-ndarray even for f64 tensors; ½(1 +
    /// tanh(z/2)) loses all relative precision for z ≪ 0 (1 + tanh cancels) and
    /// costs six times more, because the CPU backends' `tanh` is a scalar libm
    /// call (≈ 28 ns an element against 3–4.5 ns for `exp`).
    pub fn forward<const D: usize>(self, z: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Sigmoid => {
                let cap = exp_argument_cap(z.dtype());
                z.neg().clamp_max(cap).exp().add_scalar(1.0).recip()
            }
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

/// The largest whole x with e^x finite in `dtype`: ⌊ln(max finite)⌋.
fn exp_argument_cap(dtype: DType) -> f64 {
    match dtype {
        DType::F64 => 709.0,
        DType::F16 => 11.0,
        // f32, and bf16, which shares f32's exponent range.
        _ => 88.0,
    }
}
