//! The fully connected layer of the reference network: `A' = f(A · W + b)`.

use crate::Precision;
use crate::activation::Activation;
use crate::layer::formulas::{delta, grad_bias, grad_input, grad_weight, output, weighted_input};
use crate::layer::{Layer, node};
use burn::config::Config;
use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use rand_distr::{Distribution, Normal};

/// Configuration to create a [`Dense`] layer with [`DenseConfig::init`].
#[derive(Config, Debug)]
pub struct DenseConfig {
    /// Units in the layer below, s_l.
    pub d_input: usize,
    /// Units in this layer, s_{l+1}.
    pub d_output: usize,
    /// The non-linearity f of this layer.
    #[config(default = "Activation::Sigmoid")]
    pub activation: Activation,
    /// Standard deviation ε of the N(0, ε²) initialisation of weights and biases.
    #[config(default = 0.01)]
    pub init_std: f64,
}

/// A fully connected layer with a separate bias and an element-wise activation.
///
/// docs/maths.md § 3 (examples as rows):
///
/// ```text
/// Z = A · weight + bias        A: [m, s_l]   weight: [s_l, s_{l+1}]   bias: [s_{l+1}]
/// A' = f(Z)                    Z, A': [m, s_{l+1}]
/// ```
///
/// `weight` is the reference's W^(l) transposed, so that `weight[i][j]` connects
/// input unit i to output unit j and a batch is one matrix product.
#[derive(Module, Debug)]
pub struct Dense {
    /// (W^(l))ᵀ, shape `[s_l, s_{l+1}]`.
    pub weight: Param<Tensor<2>>,
    /// b^(l), shape `[s_{l+1}]`; a parameter of its own, never folded into the weight.
    pub bias: Param<Tensor<1>>,
    /// The non-linearity f.
    #[module(skip)]
    pub activation: Activation,
}

/// What [`Dense::forward`] keeps for [`Dense::backward`].
#[derive(Debug, Clone)]
pub struct DenseCache {
    /// The layer's input A_l, `[m, s_l]`.
    pub input: Tensor<2>,
    /// The layer's output A_{l+1} = f(Z_{l+1}), `[m, s_{l+1}]`; f′ is computed from it.
    pub output: Tensor<2>,
}

/// Gradients of a scalar objective with respect to a [`Dense`] layer's parameters.
#[derive(Debug, Clone)]
pub struct DenseGrads {
    /// ∂J/∂weight, `[s_l, s_{l+1}]`.
    pub weight: Tensor<2>,
    /// ∂J/∂bias, `[s_{l+1}]`.
    pub bias: Tensor<1>,
}

/// `self + other`, entry by entry.
impl std::ops::Add for DenseGrads {
    type Output = DenseGrads;

    fn add(self, other: DenseGrads) -> DenseGrads {
        DenseGrads {
            weight: self.weight + other.weight,
            bias: self.bias + other.bias,
        }
    }
}

/// The gradient arithmetic every consumer needs, written once: sums of
/// per-example or per-shard gradients and their scaling by 1/m or a shard's share.
impl DenseGrads {
    /// `factor · self`.
    pub fn mul_scalar(self, factor: f64) -> DenseGrads {
        DenseGrads {
            weight: self.weight.mul_scalar(factor),
            bias: self.bias.mul_scalar(factor),
        }
    }

    /// The same gradients on `device`.
    pub fn to_device(self, device: &Device) -> DenseGrads {
        DenseGrads {
            weight: self.weight.to_device(device),
            bias: self.bias.to_device(device),
        }
    }

    /// Σ_k `per_part[k]` layer by layer: the sum of several gradients of one
    /// network (per example, per shard). Empty when `per_part` is.
    pub fn sum_layers(per_part: impl IntoIterator<Item = Vec<DenseGrads>>) -> Vec<DenseGrads> {
        per_part
            .into_iter()
            .reduce(|sum, part| sum.into_iter().zip(part).map(|(a, b)| a + b).collect())
            .unwrap_or_default()
    }
}

impl DenseConfig {
    /// Creates the layer with weights and biases drawn from N(0, ε²) by `rng`
    /// (docs/maths.md § 8), in the given precision.
    pub fn init<R: Rng + ?Sized>(
        &self,
        device: &Device,
        precision: Precision,
        rng: &mut R,
    ) -> Dense {
        // `init_std` is validated by the network config; a raw DenseConfig with a
        // negative or NaN std falls back to |ε| / 0, which still gives a usable layer.
        let normal = Normal::new(0.0, self.init_std.abs())
            .unwrap_or_else(|_| Normal::new(0.0, 0.0).expect("N(0, 0) is a valid distribution"));
        let weight: Vec<f64> = (0..self.d_input * self.d_output)
            .map(|_| normal.sample(rng))
            .collect();
        let bias: Vec<f64> = (0..self.d_output).map(|_| normal.sample(rng)).collect();
        Dense::from_values(
            weight,
            bias,
            [self.d_input, self.d_output],
            self.activation,
            device,
            precision,
        )
    }
}

impl Dense {
    /// A layer with the given row-major `weight` (`[d_input, d_output]`) and `bias`.
    ///
    /// # Panics
    ///
    /// If the lengths do not match the shape; callers with untrusted input
    /// validate first (see [`crate::tensor::matrix`]).
    pub fn from_values(
        weight: Vec<f64>,
        bias: Vec<f64>,
        [d_input, d_output]: [usize; 2],
        activation: Activation,
        device: &Device,
        precision: Precision,
    ) -> Dense {
        let dtype = precision.dtype();
        let weight = Tensor::from_data(
            TensorData::new(weight, [d_input, d_output]),
            (device, dtype),
        );
        let bias = Tensor::from_data(TensorData::new(bias, [d_output]), (device, dtype));
        Dense {
            weight: Param::from_tensor(weight),
            bias: Param::from_tensor(bias),
            activation,
        }
    }

    /// `[d_input, d_output]`.
    pub fn dims(&self) -> [usize; 2] {
        self.weight.dims()
    }

    /// docs/maths.md § 3: the weighted input `Z_{l+1} = A_l · weight_l +
    /// bias_l` (bias broadcast over rows), before the activation.
    pub fn weighted_input(&self, input: Tensor<2>) -> Tensor<2> {
        weighted_input(input, self.weight.val(), self.bias.val())
    }

    /// The last line of [`Layer::backward`]: `delta · weightᵀ`, the reference's
    /// (W^(l))ᵀ δ^(l+1), handed to the layer below.
    pub fn grad_input(&self, delta: Tensor<2>) -> Tensor<2> {
        grad_input(delta, self.weight.val())
    }

    /// The first three lines of [`Layer::backward`]: δ and the parameter gradients.
    pub fn delta_and_grads(
        &self,
        cache: DenseCache,
        grad_output: Tensor<2>,
    ) -> (Tensor<2>, DenseGrads) {
        delta_and_grads(self.activation, cache.input, cache.output, grad_output)
    }

    /// `f(input · weight + bias)` as one node of burn's autodiff graph, whose
    /// backward is this layer's hand-written one ([`Layer::backward`]): the way
    /// to use the layer inside any burn model, beside burn-nn's modules, trained
    /// with `loss.backward()` and burn's optimizers. On a device without
    /// autodiff it is the plain forward pass. See [`crate::layer::node`].
    ///
    /// `input`: `[m, s_l]` → `[m, s_{l+1}]`.
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        node::dense(input, self.weight.val(), self.bias.val(), self.activation)
    }
}

/// docs/maths.md § 5: δ and the parameter gradients of one layer.
pub(crate) fn delta_and_grads(
    activation: Activation,
    input: Tensor<2>,
    output: Tensor<2>,
    grad_output: Tensor<2>,
) -> (Tensor<2>, DenseGrads) {
    let delta = delta(activation, output, grad_output);
    let grads = DenseGrads {
        weight: grad_weight(input, delta.clone()),
        bias: grad_bias(delta.clone()),
    };
    (delta, grads)
}

impl Layer for Dense {
    type Cache = DenseCache;
    type Grads = DenseGrads;

    /// docs/maths.md § 3: `Z_{l+1} = A_l · weight_l + bias_l`, `A_{l+1} = f(Z_{l+1})`.
    fn forward_cached(&self, input: Tensor<2>) -> (Tensor<2>, DenseCache) {
        let (weight, bias) = (self.weight.val(), self.bias.val());
        let activated = output(self.activation, input.clone(), weight, bias);
        let cache = DenseCache {
            input,
            output: activated.clone(),
        };
        (activated, cache)
    }

    /// docs/maths.md § 5, batched with examples as rows:
    ///
    /// ```text
    /// delta        = grad_output ∘ f′(A_{l+1})       δ, the error of this layer's units
    /// grad weight  = A_lᵀ · delta                    ∇_W = δ aᵀ, summed over the batch
    /// grad bias    = column sums of delta            ∇_b = δ, summed over the batch
    /// grad input   = delta · weightᵀ                 Wᵀ δ, passed to the layer below
    /// ```
    ///
    /// `grad_output` is ∂J/∂A_{l+1} of the whole cost, so it already carries the
    /// cost's 1/m; `delta` here is the Δ_{l+1} / m of docs/maths.md § 6. The decay term λW is not a
    /// property of the layer and is added by the network's cost.
    fn backward(&self, cache: DenseCache, grad_output: Tensor<2>) -> (Tensor<2>, DenseGrads) {
        let (delta, grads) = self.delta_and_grads(cache, grad_output);
        (self.grad_input(delta), grads)
    }

    fn backward_params(&self, cache: DenseCache, grad_output: Tensor<2>) -> DenseGrads {
        self.delta_and_grads(cache, grad_output).1
    }

    fn register_grads(&self, grads: DenseGrads, into: &mut GradientsParams) {
        into.register(self.weight.id, grads.weight);
        into.register(self.bias.id, grads.bias);
    }
}
