//! Backpropagation shown number by number: the δ recursion of a network on
//! one example, in the reference's notation (docs/maths.md § 1), each table
//! under the formula it evaluates — `backprop explain`.
//!
//! Every number comes from the crate's own code: the forward pass and the
//! hand-written backward through [`Network::trace`], z from
//! [`Dense::weighted_input`](crate::layer::Dense::weighted_input), f′ from
//! [`Activation::derivative_from_output`], (W⁽ˡ⁾)ᵀδ⁽ˡ⁺¹⁾ from
//! [`Dense::grad_input`](crate::layer::Dense::grad_input); and
//! [`Explanation::autodiff`] says whether burn-autodiff agrees.

mod svg;
mod text;

pub use svg::to_svg;
pub use text::{Units, render};

use crate::Precision;
use crate::activation::Activation;
use crate::error::Result;
use crate::network::Network;
use crate::tensor;
use serde::{Deserialize, Serialize};

/// Everything [`render`] and [`to_svg`] show, and `--json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Units per layer s_1 … s_{n_l}.
    pub sizes: Vec<usize>,
    /// The precision the numbers were computed in.
    pub precision: Precision,
    /// Weight decay λ.
    pub weight_decay: f64,
    /// The example's input x = a⁽¹⁾.
    pub x: Vec<f64>,
    /// Its target y.
    pub y: Vec<f64>,
    /// J(W, b; x, y) = ½‖h(x) − y‖² + (λ/2) Σ W².
    pub cost: f64,
    /// One entry per layer of weights, input side first: `layers[l]` maps
    /// the reference's layer l+1 to l+2.
    pub layers: Vec<LayerExplanation>,
    /// The same gradients by burn-autodiff.
    pub autodiff: AutodiffAgreement,
}

/// The quantities of the units a layer of weights feeds (the reference's
/// layer l+1 for `W⁽ˡ⁾`), and the gradients of those weights. Matrices are in
/// the reference's orientation: row i is unit i of layer l+1, column j unit j
/// of layer l (the stored `weight` transposed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerExplanation {
    /// The activation f of these units.
    pub activation: Activation,
    /// z⁽ˡ⁺¹⁾ = W⁽ˡ⁾ a⁽ˡ⁾ + b⁽ˡ⁾.
    pub z: Vec<f64>,
    /// a⁽ˡ⁺¹⁾ = f(z⁽ˡ⁺¹⁾).
    pub a: Vec<f64>,
    /// f′(z⁽ˡ⁺¹⁾), from the cached a: a(1 − a) or 1 − a².
    pub f_prime: Vec<f64>,
    /// What δ multiplies f′ by: a − y for the output layer (−(y − a)),
    /// (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺²⁾ for a hidden one.
    pub upstream: Vec<f64>,
    /// δ⁽ˡ⁺¹⁾ = upstream ∘ f′.
    pub delta: Vec<f64>,
    /// W⁽ˡ⁾.
    pub weight: Vec<Vec<f64>>,
    /// b⁽ˡ⁾.
    pub bias: Vec<f64>,
    /// δ⁽ˡ⁺¹⁾ (a⁽ˡ⁾)ᵀ, the data term's gradient.
    pub grad_weight_data: Vec<Vec<f64>>,
    /// λ W⁽ˡ⁾, the decay term's.
    pub weight_decay_term: Vec<Vec<f64>>,
    /// ∂J/∂W⁽ˡ⁾ = δ⁽ˡ⁺¹⁾ (a⁽ˡ⁾)ᵀ + λ W⁽ˡ⁾.
    pub grad_weight: Vec<Vec<f64>>,
    /// ∂J/∂b⁽ˡ⁾ = δ⁽ˡ⁺¹⁾.
    pub grad_bias: Vec<f64>,
}

/// Whether burn-autodiff's gradients of the same J equal the hand-written ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutodiffAgreement {
    /// The largest element-wise relative difference over every parameter.
    pub max_relative_difference: f64,
    /// Within [`crate::verification::Tolerance::exact`] of the precision.
    pub passed: bool,
}

impl Explanation {
    /// Backpropagates the single example (`x`, `y`) through `network` with
    /// weight decay λ and collects every quantity.
    pub fn of(network: &Network, x: &[f64], y: &[f64], weight_decay: f64) -> Result<Explanation> {
        let (device, precision) = (network.device(), network.precision()?);
        let row =
            |what, v: &[f64]| tensor::matrix(what, v.to_vec(), [1, v.len()], &device, precision);
        let (xt, yt) = (row("x", x)?, row("y", y)?);
        let trace = network.trace(xt.clone(), yt.clone(), weight_decay)?;
        let n = network.layers.len();
        let mut layers = Vec::with_capacity(n);
        for (l, layer) in network.layers.iter().enumerate() {
            let output = trace.activations[l + 1].clone();
            let upstream = if l + 1 == n {
                crate::cost::squared_error_grad(output.clone(), yt.clone())
            } else {
                network.layers[l + 1].grad_input(trace.deltas[l + 1].clone())
            };
            let weight = layer.weight.val();
            let grads = &trace.gradients.layers[l];
            layers.push(LayerExplanation {
                activation: layer.activation,
                z: tensor::to_vec(&layer.weighted_input(trace.activations[l].clone()))?,
                a: tensor::to_vec(&output)?,
                f_prime: tensor::to_vec(&layer.activation.derivative_from_output(output))?,
                upstream: tensor::to_vec(&upstream)?,
                delta: tensor::to_vec(&trace.deltas[l])?,
                weight: reference_orientation(&weight)?,
                bias: tensor::to_vec(&layer.bias.val())?,
                grad_weight_data: reference_orientation(&trace.data_gradients[l].weight)?,
                weight_decay_term: reference_orientation(&crate::cost::weight_decay_grad(
                    weight,
                    weight_decay,
                ))?,
                grad_weight: reference_orientation(&grads.weight)?,
                grad_bias: tensor::to_vec(&grads.bias)?,
            });
        }
        let comparison = crate::verification::manual_vs_autodiff(network, xt, yt, weight_decay)?;
        Ok(Explanation {
            sizes: network.sizes(),
            precision,
            weight_decay,
            x: x.to_vec(),
            y: y.to_vec(),
            cost: trace.gradients.cost,
            layers,
            autodiff: AutodiffAgreement {
                max_relative_difference: comparison.max_rel_diff(),
                passed: comparison.passed,
            },
        })
    }
}

/// A stored `[s_l, s_{l+1}]` matrix as the reference writes W: row i is unit
/// i of layer l+1.
fn reference_orientation(stored: &burn::tensor::Tensor<2>) -> Result<Vec<Vec<f64>>> {
    let [rows, cols] = stored.dims();
    let values = tensor::to_vec(stored)?;
    Ok((0..cols)
        .map(|i| (0..rows).map(|j| values[j * cols + i]).collect())
        .collect())
}

/// The default example: the reference's 3-3-1 sigmoid network, drawn with a
/// fixed seed, on a fixed input whose target is 1.
pub fn reference_example(device: &burn::tensor::Device) -> Result<(Network, Vec<f64>, Vec<f64>)> {
    let network = crate::NetworkConfig::new(vec![3, 3, 1])
        .with_init_std(0.5)
        .with_seed(3)
        .init(device, Precision::F64)?;
    Ok((network, vec![0.5, 0.1, -0.3], vec![1.0]))
}
