//! The formulas whose fastest form depends on the backend, chosen per tensor
//! at run time.
//!
//! Every other formula of the crate is one sequence of burn operations for
//! every backend. These differ because a backend has a kernel the others lack,
//! or runs one formulation of the same value much faster than another; each
//! choice was measured back to back on every CPU backend (docs/performance.md,
//! "Formulations per backend" and "libtorch's fused kernels"), and each form
//! computes the same value to rounding, so the gradient checks hold whichever
//! runs. libtorch's own fused kernels, which burn's tensor API does not name,
//! are called in [`libtorch`] on plain (untracked) LibTorch tensors.

#[cfg(feature = "tch")]
mod libtorch;

use burn::backend::DispatchDevice;
use burn::tensor::Tensor;

/// Which backend's kernels run a tensor's operations, as far as the choices
/// of this module care. An autodiff tensor answers for the backend it wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kernels {
    /// burn-flex, and a remote server (see [`kernels`]).
    Flex,
    /// burn-tch: libtorch's ATen kernels (never seen in a build without
    /// feature `tch`).
    #[cfg_attr(not(feature = "tch"), allow(dead_code))]
    LibTorch,
    /// Any other: burn-ndarray, the CubeCL backends.
    Other,
}

/// The kernels that run `tensor`'s operations.
pub(crate) fn kernels<const D: usize>(tensor: &Tensor<D>) -> Kernels {
    match tensor.device().inner().as_dispatch() {
        DispatchDevice::Flex(_) => Kernels::Flex,
        // The client cannot see a server's backend. `backprop serve` hosts
        // flex unless told otherwise, and a run on it must be the local flex
        // run bit for bit (tests/remote.rs), so remote tensors take flex's
        // formulations; on another server they are still right, only not the
        // fastest there.
        #[cfg(feature = "remote")]
        DispatchDevice::Remote(_) => Kernels::Flex,
        #[cfg(feature = "tch")]
        DispatchDevice::LibTorch(_) => Kernels::LibTorch,
        _ => Kernels::Other,
    }
}

/// Whether libtorch's own kernels may take `tensors` directly: all on
/// LibTorch and none tracked by burn's autodiff (whose tensors must go
/// through operations it records).
#[cfg(feature = "tch")]
fn plain_libtorch<const D: usize>(tensors: &[&Tensor<D>]) -> bool {
    tensors
        .iter()
        .all(|t| kernels(t) == Kernels::LibTorch && !t.is_autodiff())
}

/// `grad_output ∘ f′(a)` from the cached output `a`: on libtorch its own
/// fused backward of the function (`sigmoid_backward`, `tanh_backward`, one
/// pass where the written-out product is four), written into
/// `grad_output`'s buffer when nothing else shares it; elsewhere the caller's
/// `formula(output, grad_output)`.
pub(crate) fn activation_backward<const D: usize>(
    function: FusedBackward,
    output: Tensor<D>,
    grad_output: Tensor<D>,
    formula: impl FnOnce(Tensor<D>, Tensor<D>) -> Tensor<D>,
) -> Tensor<D> {
    #[cfg(feature = "tch")]
    if plain_libtorch(&[&output, &grad_output]) && output.dims() == grad_output.dims() {
        return libtorch::activation_backward(function, output, grad_output);
    }
    let _ = function;
    formula(output, grad_output)
}

/// The element-wise functions whose backward libtorch fuses into one pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FusedBackward {
    /// `grad · a (1 − a)`.
    Sigmoid,
    /// `grad · (1 − a²)`.
    Tanh,
}

/// Σ x², the sum of the squares of all entries, `[1]`.
///
/// On flex, one product of the flattened tensor with itself, `x · xᵀ`: gemm
/// reads the entries once, where `square().sum()` writes a squared copy and
/// reduces it (a flex step 2–21 % faster with the decay term written so).
/// Elsewhere `square().sum()`: the product is 1.25–1.5× slower on ndarray
/// (whose GEMM packs the long operand first) and no faster on libtorch.
///
/// One form per backend whether or not autodiff tracks the tensor, so that
/// the hand-written path and the autodiff path evaluate J in the same order
/// and agree on it to the last bit (tests/autodiff_agreement.rs). libtorch's
/// `dot` would read the entries once too, but burn's autodiff cannot record
/// it, so the two paths would sum in different orders.
pub(crate) fn sum_of_squares<const D: usize>(tensor: Tensor<D>) -> Tensor<1> {
    match kernels(&tensor) {
        Kernels::Flex => {
            let n = tensor.shape().num_elements();
            let row = tensor.reshape([1, n]);
            row.clone().matmul(row.transpose()).reshape([1])
        }
        _ => tensor.square().sum(),
    }
}

/// `y + alpha · x`, the entries of `x` scaled and added to `y`'s: the decay
/// gradient's λW added to ∂J/∂W, and the update θ − α ∂J/∂θ (as α' = −α).
///
/// On libtorch one fused pass, in `y`'s own buffer when no other tensor
/// shares it (PyTorch's `add_(x, alpha=…)`); elsewhere the two operations of
/// the formula, `y + x · alpha`, which for `alpha = −α` rounds exactly as
/// `y − x · α` does (negation is exact). Same shapes expected; a shape that
/// only broadcasts takes the two operations on every backend.
pub(crate) fn scaled_add<const D: usize>(y: Tensor<D>, alpha: f64, x: Tensor<D>) -> Tensor<D> {
    match kernels(&y) {
        #[cfg(feature = "tch")]
        Kernels::LibTorch if plain_libtorch(&[&y, &x]) && y.dims() == x.dims() => {
            libtorch::scaled_add(y, alpha, x)
        }
        _ => y + x.mul_scalar(alpha),
    }
}

#[cfg(test)]
mod tests {
    use super::{Kernels, kernels, scaled_add, sum_of_squares};
    use crate::activation::Activation;
    use burn::tensor::{DType, Device, Tensor, TensorData};
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    fn f64s(values: Vec<f64>, device: &Device) -> Tensor<1> {
        let n = values.len();
        Tensor::from_data(TensorData::new(values, [n]), (device, DType::F64))
    }

    fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f64> {
        crate::tensor::to_vec(&tensor).unwrap()
    }

    #[test]
    fn an_autodiff_tensor_answers_for_the_backend_it_wraps() {
        let on = |device: &Device| kernels(&Tensor::<1>::zeros([2], device));
        assert_eq!(on(&Device::flex()), Kernels::Flex);
        assert_eq!(on(&Device::flex().autodiff()), Kernels::Flex);
        #[allow(deprecated)]
        let ndarray = Device::ndarray();
        assert_eq!(on(&ndarray), Kernels::Other);
        assert_eq!(on(&ndarray.autodiff()), Kernels::Other);
    }

    /// The CPU devices whose kernels this module chooses between.
    fn cpu_devices() -> Vec<Device> {
        #[allow(deprecated, unused_mut)]
        let mut devices = vec![Device::flex(), Device::ndarray()];
        #[cfg(feature = "tch")]
        #[allow(deprecated)]
        devices.push(Device::libtorch());
        devices
    }

    #[test]
    fn both_forms_give_the_exact_sum_of_squares_and_its_gradient() {
        // Entries whose squares and partial sums are exact in f64 (small
        // integers): any order of summation gives 1+4+9+16+25+36 = 91 exactly,
        // so the flex product and the square-and-sum of the others must all
        // print 91, plain or under autodiff, and autodiff's gradient of each
        // must be 2x.
        for plain in cpu_devices() {
            let value = sum_of_squares(Tensor::<2>::from_data(
                TensorData::new(vec![1.0_f64, -2.0, 3.0, -4.0, 5.0, -6.0], [2, 3]),
                (&plain, DType::F64),
            ));
            assert_eq!(values(value), [91.0], "{plain:?}");
            let device = plain.autodiff();
            let x = Tensor::<2>::from_data(
                TensorData::new(vec![1.0_f64, -2.0, 3.0, -4.0, 5.0, -6.0], [2, 3]),
                (&device, DType::F64),
            )
            .require_grad();
            let total = sum_of_squares(x.clone());
            let grads = total.clone().backward();
            let value = values(total);
            let grad = values(x.grad(&grads).unwrap());
            assert_eq!(value, [91.0], "{device:?}");
            assert_eq!(grad, [2.0, -4.0, 6.0, -8.0, 10.0, -12.0], "{device:?}");
        }
    }

    #[test]
    fn scaled_add_is_exact_where_the_sum_is_and_leaves_a_shared_buffer_alone() {
        // Dyadic entries: every product and sum is exact in f64, so the
        // fused pass and the two operations must give the same numbers, and
        // `kept`, which shares y's buffer, must still read y afterwards (the
        // fused form works in place only on an unshared buffer).
        for device in cpu_devices() {
            let y = || f64s(vec![1.0, 2.0, -3.0, 0.5], &device);
            let x = || f64s(vec![4.0, -8.0, 2.0, 1.0], &device);
            let exact = [0.0, 4.0, -3.5, 0.25];
            assert_eq!(values(scaled_add(y(), -0.25, x())), exact, "{device:?}");
            let shared = y();
            let kept = shared.clone();
            assert_eq!(values(scaled_add(shared, -0.25, x())), exact, "{device:?}");
            assert_eq!(values(kept), [1.0, 2.0, -3.0, 0.5], "{device:?}");
        }
    }

    #[test]
    fn scaled_add_with_minus_alpha_rounds_as_the_written_update() {
        // The update θ − α g is computed as θ + (−α) g; off libtorch that must
        // be the written formula bit for bit (negation is exact), so that the
        // remote and nodes tests' bit-for-bit comparisons keep their meaning.
        let mut rng = StdRng::seed_from_u64(7);
        let theta: Vec<f64> = (0..257).map(|_| rng.random::<f64>() - 0.5).collect();
        let grad: Vec<f64> = (0..257).map(|_| rng.random::<f64>() - 0.5).collect();
        #[allow(deprecated)]
        for device in [Device::flex(), Device::ndarray()] {
            let (t, g) = (f64s(theta.clone(), &device), f64s(grad.clone(), &device));
            let written = t.clone() - g.clone().mul_scalar(0.1);
            assert_eq!(
                values(scaled_add(t, -0.1, g)),
                values(written),
                "{device:?}"
            );
        }
    }

    #[test]
    fn the_activation_backward_is_the_written_formula_to_rounding() {
        // δ = g ∘ f′(a). Off libtorch it IS the formula; on libtorch ATen
        // evaluates g·(1 − a)·a and g·(1 − a²) in another order, each side a
        // few roundings from the exact product of the same a, so they agree to
        // 4 ε |δ| (+ the smallest normal for δ near 0), plus for tanh the
        // cancellation below. The shared copy of g must be left alone by the
        // in-place form, and both forms give the same δ.
        let mut rng = StdRng::seed_from_u64(3);
        let z: Vec<f64> = (0..300).map(|_| 8.0 * rng.random::<f64>() - 4.0).collect();
        let g: Vec<f64> = (0..300).map(|_| rng.random::<f64>() - 0.5).collect();
        for device in cpu_devices() {
            for activation in [Activation::Sigmoid, Activation::Tanh] {
                let a = activation.forward(f64s(z.clone(), &device));
                let written =
                    f64s(g.clone(), &device) * activation.derivative_from_output(a.clone());
                let written = values(written);
                // g unshared (the in-place form where there is one), then shared.
                let fused = activation.backward_from_output(a.clone(), f64s(g.clone(), &device));
                let grad = f64s(g.clone(), &device);
                let kept = grad.clone();
                let fused_shared = activation.backward_from_output(a.clone(), grad);
                let fused = values(fused);
                assert_eq!(fused, values(fused_shared), "{device:?} {activation:?}");
                let cancelled = values(a)
                    .into_iter()
                    .zip(&g)
                    .map(|(a, g)| match activation {
                        // 1 − a is exact for a ≥ ½ (Sterbenz): nothing cancels.
                        Activation::Sigmoid => 0.0,
                        // 1 − a² cancels near |a| = 1: the written form rounds a²
                        // (an error up to ε/2 · a²) before subtracting, where
                        // ATen may fuse it; times |g|.
                        Activation::Tanh => f64::EPSILON * a * a * g.abs(),
                    });
                for ((f, w), cancelled) in fused.into_iter().zip(written).zip(cancelled) {
                    let bound = 4.0 * f64::EPSILON * w.abs() + cancelled + f64::MIN_POSITIVE;
                    assert!(
                        (f - w).abs() <= bound,
                        "{device:?} {activation:?}: {f} vs {w}"
                    );
                }
                assert_eq!(values(kept), g, "{device:?} {activation:?}");
            }
        }
    }
}
