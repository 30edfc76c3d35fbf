//! A burn operation with a hand-written backward, checked by the gradient
//! checker: softplus(x) = ln(1 + eˣ), whose derivative is σ(x).
//!
//! burn's backend extensions (`#[backend_extension]`, burn feature
//! `extension`) let an operation have its own forward per backend and its own
//! `Backward` under autodiff. Nothing in burn tests such a backward; here the
//! checker does, in every mode — and catches its twin, whose backward is 1 %
//! off, naming the input and the index.
//!
//! ```sh
//! cargo run --release --example custom_backward
//! ```

// burn-ndarray is deprecated in 0.22 (the macro's code names it too); it is
// one of the two CPU backends this crate compares, so the operation has it.
#![allow(deprecated)]

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, NdArray, Scalar, backend_extension};
use burn::tensor::{Device, Tensor};
use burn_gradcheck::{GradCheck, Inputs, Place, Precision, Result};

/// The operation, for every backend named: a plain forward on Flex and
/// NdArray, a forward with a hand-written backward on Autodiff of either.
#[backend_extension(Flex, NdArray, Autodiff)]
pub trait SoftplusBackend: Backend {
    /// softplus(x) = ln(1 + eˣ), element-wise.
    fn softplus(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// The same forward, with a backward that returns 1.01·σ(x): a bug of
    /// the kind a hand-written backward has.
    fn softplus_skewed(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// ln(1 + eˣ) from the backend's own operations.
fn forward<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    B::float_log1p(B::float_exp(x))
}

impl SoftplusBackend for Flex {
    fn softplus(x: FloatTensor<Self>) -> FloatTensor<Self> {
        forward::<Self>(x)
    }
    fn softplus_skewed(x: FloatTensor<Self>) -> FloatTensor<Self> {
        forward::<Self>(x)
    }
}

impl SoftplusBackend for NdArray {
    fn softplus(x: FloatTensor<Self>) -> FloatTensor<Self> {
        forward::<Self>(x)
    }
    fn softplus_skewed(x: FloatTensor<Self>) -> FloatTensor<Self> {
        forward::<Self>(x)
    }
}

/// The backward step: ∂J/∂x = ∂J/∂y ⊙ σ(x) (× `skew`, 1 when correct).
#[derive(Debug)]
struct SoftplusBackward {
    skew: f64,
}

impl<B: Backend> Backward<B, 1> for SoftplusBackward {
    /// The forward's input x.
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [parent] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        if let Some(node) = parent {
            // d ln(1 + eˣ)/dx = eˣ / (1 + eˣ) = σ(x) = 1 / (1 + e⁻ˣ), written
            // out: burn's default `sigmoid` (burn-ndarray's) computes in f32.
            let one = Scalar::Float(1.0);
            let mut local = B::float_recip(B::float_add_scalar(
                B::float_exp(B::float_neg(ops.state)),
                one,
            ));
            if self.skew != 1.0 {
                local = B::float_mul_scalar(local, Scalar::Float(self.skew));
            }
            grads.register::<B>(node.id, B::float_mul(grad, local));
        }
    }
}

/// The forward on the inner backend, recorded with its backward when x is tracked.
fn tracked<B: SoftplusBackend, C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<B, C>>,
    skew: f64,
) -> FloatTensor<Autodiff<B, C>> {
    match (SoftplusBackward { skew })
        .prepare::<C>([x.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let input = x.primitive().clone();
            prep.finish(input.clone(), B::softplus(input))
        }
        OpsKind::UnTracked(prep) => prep.finish(B::softplus(x.into_primitive())),
    }
}

impl<B: SoftplusBackend, C: CheckpointStrategy> SoftplusBackend for Autodiff<B, C> {
    fn softplus(x: FloatTensor<Self>) -> FloatTensor<Self> {
        tracked::<B, C>(x, 1.0)
    }
    fn softplus_skewed(x: FloatTensor<Self>) -> FloatTensor<Self> {
        tracked::<B, C>(x, 1.01)
    }
}

/// softplus on any tensor, through burn's dispatch.
pub fn softplus<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as SoftplusBackend>::softplus(x.into_dispatch()))
}

/// softplus with the skewed backward.
pub fn softplus_skewed<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as SoftplusBackend>::softplus_skewed(
        x.into_dispatch(),
    ))
}

/// A [2, 3] input on both sides of 0.
pub fn inputs() -> Result<Inputs> {
    let x = Tensor::<2>::from_data([[-2.0, -0.5, 0.25], [0.75, 1.5, 3.0]], &Device::flex());
    Inputs::new().with("x", &x)
}

#[allow(dead_code)] // tests/custom_backward.rs includes this file for its op
fn main() -> Result<()> {
    let inputs = inputs()?;
    let ndarray = Device::ndarray();
    let places = [
        Place::new(Device::flex(), Precision::F64),
        Place::new(ndarray, Precision::F64),
        Place::new(Device::flex(), Precision::F32),
    ];
    for place in places {
        let report = GradCheck::new()
            .on(place)
            .function(&inputs, |x| softplus(x.get::<2>("x")))?;
        println!("{report}");
    }
    let report = GradCheck::new()
        .fast(4)
        .function(&inputs, |x| softplus(x.get::<2>("x")))?;
    println!("{report}");
    let report = GradCheck::new().function(&inputs, |x| softplus_skewed(x.get::<2>("x")))?;
    println!("{report}");
    Ok(())
}
