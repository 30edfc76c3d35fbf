//! The dense layer as one node of burn's autodiff graph, whose backward is the
//! layer's hand-written one.
//!
//! burn's autodiff records `f(A · W + b)` written with tensor operations as a
//! chain of nodes — matmul, add, neg, clamp, exp, add, recip — each with its
//! own backward and saved tensors. [`dense`] records it as a single node
//! instead: its forward runs on the backend under autodiff, untracked, and its
//! backward is the δ recursion of docs/maths.md § 5–6, computed by the very functions
//! [`Dense`](super::Dense)'s [`Layer::backward`](super::Layer::backward) runs
//! (`formulas.rs`), on the backend's own tensors:
//!
//! ```text
//! forward     A' = f(A · W + b)                A: [m, s_l]  W: [s_l, s_{l+1}]  b: [s_{l+1}]
//! backward    delta = ∂J/∂A' ∘ f′(A')          f′ from the saved output A'
//!             ∂J/∂W = Aᵀ · delta               ∂J/∂b = column sums of delta
//!             ∂J/∂A = delta · Wᵀ
//! ```
//!
//! Only the gradients burn asks for are computed: no ∂J/∂A for the network's
//! input, no ∂J/∂W for a frozen weight.
//!
//! The operation is a burn backend extension (`#[backend_extension]`, burn
//! feature `extension`): one trait, [`DenseOps`], implemented for Flex and
//! NdArray, for the CubeCL backends (wgpu, cuda) and the remote backend where
//! those features are compiled, and for `Autodiff` of any of them.
//!
//! **Checkpointing.** The node is declared *compute-bound*: its forward holds
//! a matrix product, which burn's gradient checkpointing never recomputes, so
//! under `Device::autodiff().gradient_checkpointing()` the node keeps its
//! state (A, W, A') as it does without. A and W are kept alive by the graph in
//! any case (the layer below's output, a parameter); the node adds only A',
//! where burn's own chain of seven nodes keeps several `[m, s_{l+1}]` tensors.

// burn-ndarray is deprecated in 0.22; it is one of the two CPU backends this
// crate compares, and the macro's generated code names it.
#![allow(deprecated)]

use super::formulas;
use crate::activation::Activation;
use crate::cost;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
use burn::backend::Cube;
#[cfg(feature = "tch")]
use burn::backend::LibTorch;
#[cfg(feature = "remote")]
use burn::backend::Remote;
use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    Backend, Dispatch, DispatchKindConversion, DispatchTensor, Flex, NdArray, backend_extension,
};
use burn::tensor::Tensor;

/// `f(input · weight + bias)` on any device; one node with a hand-written
/// backward under autodiff. The bias is broadcast over the rows.
///
/// Shapes: `input` `[m, s_l]`, `weight` `[s_l, s_{l+1}]`, `bias` `[s_{l+1}]`,
/// result `[m, s_{l+1}]`. Tensors that require gradients get them from
/// `backward()` as from any burn operation.
///
/// # Panics
///
/// As burn's own operations do, on shapes that do not fit, and on a backend
/// this crate was compiled without (e.g. a wgpu device without feature `wgpu`).
pub fn dense(
    input: Tensor<2>,
    weight: Tensor<2>,
    bias: Tensor<1>,
    activation: Activation,
) -> Tensor<2> {
    Tensor::from_dispatch(<Dispatch as DenseOps>::dense(
        input.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        activation,
    ))
}

/// The squared-error cost ½‖h − y‖²/m of a batch (docs/maths.md § 4) on any
/// device; under autodiff one node whose backward is the hand-written
/// `(h − y)/m` ([`crate::cost::squared_error_grad`]), the seed of
/// backpropagation.
///
/// Shapes: `h` and `y` `[m, outputs]`, result `[1]`.
///
/// # Panics
///
/// As [`dense`].
pub fn squared_error(h: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
    Tensor::from_dispatch(<Dispatch as DenseOps>::squared_error(
        h.into_dispatch(),
        y.into_dispatch(),
    ))
}

/// The dense layer and the cost as backend operations: a forward per
/// backend, and under `Autodiff` a forward recorded with the hand-written
/// backward.
#[backend_extension(
    Flex,
    NdArray,
    Cube: cfg(any(feature = "wgpu", feature = "cuda")),
    LibTorch: cfg(feature = "tch"),
    Remote: cfg(feature = "remote"),
    Autodiff
)]
pub trait DenseOps: Backend {
    /// `f(input · weight + bias)`; see [`dense`] for the shapes.
    fn dense(
        input: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        activation: Activation,
    ) -> FloatTensor<Self>;

    /// ½‖h − y‖²/m; see [`squared_error`].
    fn squared_error(h: FloatTensor<Self>, y: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// A backend's own tensor as a [`Tensor`], so that the formulas of `formulas.rs`,
/// written once with tensors, run on it.
fn tensor<B: Backend, const D: usize>(primitive: FloatTensor<B>) -> Tensor<D>
where
    DispatchTensor: DispatchKindConversion<B>,
{
    Tensor::from_primitive::<B>(primitive)
}

/// The inverse of [`tensor`].
fn primitive<B: Backend, const D: usize>(tensor: Tensor<D>) -> FloatTensor<B>
where
    DispatchTensor: DispatchKindConversion<B>,
{
    tensor
        .try_into_primitive::<B>()
        .expect("a tensor computed from tensors of backend B lives on B")
}

/// The forward pass on a backend without autodiff: docs/maths.md § 3.
fn forward<B: Backend>(
    input: FloatTensor<B>,
    weight: FloatTensor<B>,
    bias: FloatTensor<B>,
    activation: Activation,
) -> FloatTensor<B>
where
    DispatchTensor: DispatchKindConversion<B>,
{
    primitive(formulas::output(
        activation,
        tensor(input),
        tensor(weight),
        tensor(bias),
    ))
}

/// The cost on a backend without autodiff: docs/maths.md § 4.
fn cost_forward<B: Backend>(h: FloatTensor<B>, y: FloatTensor<B>) -> FloatTensor<B>
where
    DispatchTensor: DispatchKindConversion<B>,
{
    primitive(cost::squared_error(tensor(h), tensor(y)))
}

/// Every backend without autodiff runs the layer's forward pass and the cost.
macro_rules! forward_on {
    ($($(#[$cfg:meta])* $backend:ty),*) => {$(
        $(#[$cfg])*
        impl DenseOps for $backend {
            fn dense(
                input: FloatTensor<Self>,
                weight: FloatTensor<Self>,
                bias: FloatTensor<Self>,
                activation: Activation,
            ) -> FloatTensor<Self> {
                forward::<Self>(input, weight, bias, activation)
            }

            fn squared_error(h: FloatTensor<Self>, y: FloatTensor<Self>) -> FloatTensor<Self> {
                cost_forward::<Self>(h, y)
            }
        }
    )*};
}

forward_on!(
    Flex,
    NdArray,
    #[cfg(any(feature = "wgpu", feature = "cuda"))]
    Cube,
    #[cfg(feature = "tch")]
    LibTorch,
    #[cfg(feature = "remote")]
    Remote
);

/// What the node keeps for its backward: the layer's input A, its weight W,
/// its output A' (f′ is computed from it), and f.
pub(crate) type DenseState<B> = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, Activation);

/// The backward step of the node: docs/maths.md § 5, by the
/// functions [`Layer::backward`](super::Layer::backward) runs.
#[derive(Debug)]
pub(crate) struct DenseBackward;

impl<B: Backend> Backward<B, 3> for DenseBackward
where
    DispatchTensor: DispatchKindConversion<B>,
{
    type State = DenseState<B>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [input_node, weight_node, bias_node] = ops.parents;
        let grad_output = grads.consume::<B>(&ops.node);
        let (input, weight, output, activation) = ops.state;
        let delta = formulas::delta(activation, tensor(output), tensor(grad_output));
        if let Some(node) = weight_node {
            let grad = formulas::grad_weight(tensor(input), delta.clone());
            grads.register::<B>(node.id, primitive(grad));
        }
        if let Some(node) = bias_node {
            grads.register::<B>(node.id, primitive(formulas::grad_bias(delta.clone())));
        }
        if let Some(node) = input_node {
            let grad = formulas::grad_input(delta, tensor(weight));
            grads.register::<B>(node.id, primitive(grad));
        }
    }
}

/// Runs the forward on the inner backend and, when any of the three inputs is
/// tracked, records it as one node whose backward is `backward`.
pub(crate) fn record<B, C, R>(
    backward: R,
    input: FloatTensor<Autodiff<B, C>>,
    weight: FloatTensor<Autodiff<B, C>>,
    bias: FloatTensor<Autodiff<B, C>>,
    activation: Activation,
) -> FloatTensor<Autodiff<B, C>>
where
    B: DenseOps,
    C: CheckpointStrategy,
    R: Backward<B, 3, State = DenseState<B>>,
{
    let nodes = [input.node(), weight.node(), bias.node()];
    // Compute-bound: see the module's documentation on checkpointing.
    match backward.prepare::<C>(nodes).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let (a, w) = (input.primitive().clone(), weight.primitive().clone());
            let output = B::dense(a.clone(), w.clone(), bias.into_primitive(), activation);
            prep.finish((a, w, output.clone(), activation), output)
        }
        OpsKind::UnTracked(prep) => prep.finish(B::dense(
            input.into_primitive(),
            weight.into_primitive(),
            bias.into_primitive(),
            activation,
        )),
    }
}

/// The backward step of the cost: docs/maths.md § 5, step 2's seed
/// `∂J/∂h = (h − y)/m`, by [`cost::squared_error_grad`], times the gradient
/// flowing into the cost (1 when the cost is what `backward()` is called on).
#[derive(Debug)]
struct SquaredErrorBackward;

impl<B: Backend> Backward<B, 2> for SquaredErrorBackward
where
    DispatchTensor: DispatchKindConversion<B>,
{
    /// h and y.
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [h_node, y_node] = ops.parents;
        let upstream: Tensor<1> = tensor(grads.consume::<B>(&ops.node));
        let (h, y) = ops.state;
        let grad_h = cost::squared_error_grad(tensor(h), tensor(y)) * upstream.unsqueeze::<2>();
        if let Some(node) = y_node {
            grads.register::<B>(node.id, primitive(grad_h.clone().neg()));
        }
        if let Some(node) = h_node {
            grads.register::<B>(node.id, primitive(grad_h));
        }
    }
}

impl<B: DenseOps, C: CheckpointStrategy> DenseOps for Autodiff<B, C>
where
    DispatchTensor: DispatchKindConversion<B>,
{
    fn dense(
        input: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        activation: Activation,
    ) -> FloatTensor<Self> {
        record::<B, C, _>(DenseBackward, input, weight, bias, activation)
    }

    fn squared_error(h: FloatTensor<Self>, y: FloatTensor<Self>) -> FloatTensor<Self> {
        // Memory-bound would be as right (the forward is element-wise), but
        // the state h and y is alive in the graph anyway: nothing to save.
        match SquaredErrorBackward
            .prepare::<C>([h.node(), y.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (h, y) = (h.into_primitive(), y.into_primitive());
                let cost = B::squared_error(h.clone(), y.clone());
                prep.finish((h, y), cost)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::squared_error(h.into_primitive(), y.into_primitive()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verification::{Args, GradCheck, Inputs};
    use burn::backend::Scalar;

    /// The node with its backward 1 % too large: the kind of wrong constant a
    /// hand-written backward gets, planted in the node itself.
    #[derive(Debug)]
    struct Skewed;

    impl<B: Backend> Backward<B, 3> for Skewed
    where
        DispatchTensor: DispatchKindConversion<B>,
    {
        type State = DenseState<B>;

        fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, c: &mut Checkpointer) {
            let grad_output = grads.consume::<B>(&ops.node);
            let skewed = B::float_mul_scalar(grad_output, Scalar::Float(1.01));
            grads.register::<B>(ops.node.id, skewed);
            DenseBackward.backward(ops, grads, c)
        }
    }

    #[backend_extension(Flex, Autodiff)]
    trait SkewedOps: Backend {
        fn dense_skewed(
            input: FloatTensor<Self>,
            weight: FloatTensor<Self>,
            bias: FloatTensor<Self>,
            activation: Activation,
        ) -> FloatTensor<Self>;
    }

    impl SkewedOps for Flex {
        fn dense_skewed(
            input: FloatTensor<Self>,
            weight: FloatTensor<Self>,
            bias: FloatTensor<Self>,
            activation: Activation,
        ) -> FloatTensor<Self> {
            forward::<Self>(input, weight, bias, activation)
        }
    }

    impl<B: DenseOps + SkewedOps, C: CheckpointStrategy> SkewedOps for Autodiff<B, C>
    where
        DispatchTensor: DispatchKindConversion<B>,
    {
        fn dense_skewed(
            input: FloatTensor<Self>,
            weight: FloatTensor<Self>,
            bias: FloatTensor<Self>,
            activation: Activation,
        ) -> FloatTensor<Self> {
            record::<B, C, _>(Skewed, input, weight, bias, activation)
        }
    }

    fn inputs() -> Inputs {
        let a = (0..6).map(|i| i as f64 / 3.0 - 0.8).collect();
        Inputs::new()
            .values("a", &[2, 3], a)
            .unwrap()
            .values("w", &[3, 2], vec![0.4, -0.7, 1.1, 0.2, -0.5, 0.9])
            .unwrap()
            .values("b", &[2], vec![0.1, -0.3])
            .unwrap()
    }

    #[test]
    fn a_backward_planted_one_percent_wrong_in_the_node_is_caught_for_every_input() {
        let skewed = |x: &Args| {
            Tensor::<2>::from_dispatch(<Dispatch as SkewedOps>::dense_skewed(
                x.get::<2>("a").into_dispatch(),
                x.get::<2>("w").into_dispatch(),
                x.get::<1>("b").into_dispatch(),
                Activation::Sigmoid,
            ))
        };
        let report = GradCheck::new().function(&inputs(), skewed).unwrap();
        assert!(!report.passed, "{report}");
        for name in ["a", "w", "b"] {
            let variable = report.variable(name).unwrap();
            assert!(!variable.passed, "{name}: {report}");
            let (node, numeric) = variable.autodiff_vs_numeric.values;
            assert!((node / numeric - 1.01).abs() < 1e-6, "{name}: {report}");
        }
        // The node itself, on the same inputs, passes.
        let right = |x: &Args| dense(x.get("a"), x.get("w"), x.get("b"), Activation::Sigmoid);
        GradCheck::new()
            .function(&inputs(), right)
            .unwrap()
            .assert();
    }
}
