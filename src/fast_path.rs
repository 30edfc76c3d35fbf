//! The formulas whose fastest form depends on the backend, chosen per tensor
//! at run time.
//!
//! Every other formula of the crate is one sequence of burn operations for
//! every backend. These differ because a backend has a kernel the others lack,
//! or runs one formulation of the same value much faster than another; each
//! choice was measured back to back on every CPU backend (docs/performance.md,
//! "Formulations per backend"), and each form computes the same value to
//! rounding, so the gradient checks hold whichever runs.

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

/// Σ x², the sum of the squares of all entries, `[1]`.
///
/// On flex, one product of the flattened tensor with itself, `x · xᵀ`: gemm
/// reads the entries once, where `square().sum()` writes a squared copy and
/// reduces it (a flex step 2–21 % faster with the decay term written so).
/// Elsewhere `square().sum()`: the product is 1.25–1.5× slower on ndarray
/// (whose GEMM packs the long operand first) and no faster on libtorch.
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

#[cfg(test)]
mod tests {
    use super::{Kernels, kernels, sum_of_squares};
    use burn::tensor::{DType, Device, Tensor, TensorData};

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

    #[test]
    fn both_forms_give_the_exact_sum_of_squares_and_its_gradient() {
        // Entries whose squares and partial sums are exact in f64 (small
        // integers): any order of summation gives 1+4+9+16+25+36 = 91 exactly,
        // so the flex product and ndarray's square-and-sum must both print 91,
        // and autodiff's gradient of either must be 2x.
        #[allow(deprecated)]
        for device in [Device::flex(), Device::ndarray()] {
            let device = device.autodiff();
            let x = Tensor::<2>::from_data(
                TensorData::new(vec![1.0_f64, -2.0, 3.0, -4.0, 5.0, -6.0], [2, 3]),
                (&device, DType::F64),
            )
            .require_grad();
            let total = sum_of_squares(x.clone());
            let grads = total.clone().backward();
            let value = total.into_data().to_vec::<f64>().unwrap();
            let grad = x.grad(&grads).unwrap().into_data().to_vec::<f64>().unwrap();
            assert_eq!(value, [91.0], "{device:?}");
            assert_eq!(grad, [2.0, -4.0, 6.0, -8.0, 10.0, -12.0], "{device:?}");
        }
    }
}
