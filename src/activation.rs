//! Activation functions f and their derivatives f′, written from the cached output.
//!
//! docs/maths.md § 2: the derivative is computed from the cached activation
//! a = f(z), not by re-evaluating f — `a (1 − a)` for sigmoid, `1 − a²` for tanh.

use crate::fast_path::{self, FusedBackward, Kernels};
use burn::tensor::{DType, Tensor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The non-linearity f applied by a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
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
    /// On libtorch, its own sigmoid kernel instead: one vectorised pass where
    /// the formula is five calls through burn, a tch step up to 20 % faster; it is
    /// 1/(1 + e^(−z)) too, saturating to 0 without the cap, and burn's autodiff
    /// differentiates it as a(1 − a), so no NaN either.
    ///
    /// Alternatives measured and rejected (docs/performance.md): burn's fused
    /// `sigmoid` computes in f32 on burn-ndarray and the CubeCL backends even
    /// for f64 tensors, and flex's one-pass sigmoid branches on the sign of
    /// every z (a flex step up to 30 % slower on random signs); ½(1 +
    /// tanh(z/2)) loses all relative precision for z ≪ 0 (1 + tanh cancels) and
    /// costs six times more, because the CPU backends' `tanh` is a scalar libm
    /// call (≈ 28 ns an element against 3–4.5 ns for `exp`).
    pub fn forward<const D: usize>(self, z: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Sigmoid if fast_path::kernels(&z) == Kernels::LibTorch => {
                burn::tensor::activation::sigmoid(z)
            }
            Activation::Sigmoid => {
                let cap = exp_argument_cap(z.dtype());
                z.neg().clamp_max(cap).exp().add_scalar(1.0).recip()
            }
            Activation::Tanh => z.tanh(),
        }
    }

    /// Backward: `grad_output ∘ f′(z)`, f′ written with the cached output
    /// a = f(z) as in [`Activation::derivative_from_output`] — docs/maths.md § 2's
    /// `δ = (∂J/∂a) ∘ f′`, element-wise.
    ///
    /// On libtorch its own fused backward kernel instead (`sigmoid_backward`,
    /// `tanh_backward`: one pass where the formula is four calls through burn),
    /// the same value to rounding.
    pub fn backward_from_output<const D: usize>(
        self,
        a: Tensor<D>,
        grad_output: Tensor<D>,
    ) -> Tensor<D> {
        let function = match self {
            Activation::Sigmoid => FusedBackward::Sigmoid,
            Activation::Tanh => FusedBackward::Tanh,
        };
        fast_path::activation_backward(function, a, grad_output, |a, grad_output| {
            grad_output * self.derivative_from_output(a)
        })
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

#[cfg(test)]
mod tests {
    use super::Activation;
    use burn::tensor::{DType, Device, Tensor, TensorData};
    #[cfg(feature = "cli")]
    use clap::ValueEnum;

    #[cfg(feature = "cli")]
    #[test]
    fn the_printed_name_is_the_one_files_and_the_command_line_accept() {
        // Reports print the activation; a user copies it into a grid file
        // (serde) or onto the command line (clap): all three must agree.
        for activation in [Activation::Sigmoid, Activation::Tanh] {
            let printed = activation.to_string();
            let from_json: Activation = serde_json::from_str(&format!("\"{printed}\"")).unwrap();
            assert_eq!(from_json, activation, "{printed}");
            assert_eq!(Activation::from_str(&printed, false), Ok(activation));
        }
        assert_ne!(
            Activation::Sigmoid.to_string(),
            Activation::Tanh.to_string()
        );
    }

    /// The values of a tensor of any dtype, as f64.
    fn values(t: Tensor<1>) -> Vec<f64> {
        crate::tensor::to_vec(&t.cast(DType::F64)).unwrap()
    }

    #[test]
    fn sigmoid_stays_finite_and_differentiable_in_f16() {
        // f16's largest finite value is 65504, so e^(−z) overflows from −z ≈ 11.1:
        // the cap must be f16's own. With f32's cap (88), σ(−20) would come out as
        // 1/∞ = 0 and autodiff's derivative as 0 · ∞ = NaN.
        let device = Device::flex().autodiff();
        let z = Tensor::<1>::from_data(
            TensorData::new(vec![-20.0_f32, 0.0, 20.0], [3]),
            (&device, DType::F16),
        )
        .require_grad();
        let a = Activation::Sigmoid.forward(z.clone());
        let grads = a.clone().sum().backward();
        let (a, g) = (values(a.inner()), values(z.grad(&grads).unwrap()));
        // σ(−20) is below f16's smallest subnormal; the cap gives σ(−11) = 1.7e-5.
        assert!((a[0] - 1.67e-5).abs() < 1e-7, "σ(−20) = {}", a[0]);
        assert_eq!(a[1], 0.5);
        assert_eq!(a[2], 1.0);
        assert!(g.iter().all(|v| v.is_finite()), "σ′ = {g:?}");
        assert_eq!(g[1], 0.25);
    }
}
