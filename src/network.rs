//! The feed-forward network: a stack of [`Dense`] layers, its cost and its
//! hand-written gradients.

use crate::Precision;
use crate::activation::Activation;
use crate::cost;
use crate::error::{Error, Result};
use crate::layer::{Dense, DenseCache, DenseConfig, DenseGrads, Layer};
use crate::tensor;
use burn::config::Config;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use burn_gradcheck::params::ParamValues;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Configuration to create a [`Network`] with [`NetworkConfig::init`].
#[derive(Config, Debug)]
pub struct NetworkConfig {
    /// Units per layer s_1 … s_{n_l}, input layer first and output layer last
    /// (bias units not counted), e.g. `[64, 25, 10]`.
    pub sizes: Vec<usize>,
    /// The activation f of every layer, unless `layer_activations` overrides it.
    #[config(default = "Activation::Sigmoid")]
    pub activation: Activation,
    /// One activation per non-input layer (`sizes.len() − 1` entries), for mixed nets.
    pub layer_activations: Option<Vec<Activation>>,
    /// ε of the N(0, ε²) initialisation of every weight and bias (docs/maths.md § 8).
    #[config(default = 0.01)]
    pub init_std: f64,
    /// Seed of the initialisation; the same seed gives the same network on every backend.
    #[config(default = 0)]
    pub seed: u64,
}

impl NetworkConfig {
    /// Checks sizes, per-layer activations and ε before any tensor is made.
    pub fn validate(&self) -> Result<()> {
        if self.sizes.len() < 2 {
            return Err(Error::InvalidParameter {
                name: "sizes",
                value: format!("{:?}", self.sizes),
                reason: "a network needs at least an input and an output layer, e.g. [2, 3, 1]"
                    .into(),
            });
        }
        if let Some(l) = self.sizes.iter().position(|&s| s == 0) {
            return Err(Error::InvalidParameter {
                name: "sizes",
                value: format!("{:?}", self.sizes),
                reason: format!("layer {l} has zero units; every layer needs at least one"),
            });
        }
        if let Some(acts) = &self.layer_activations
            && acts.len() != self.sizes.len() - 1
        {
            return Err(Error::InvalidParameter {
                name: "layer_activations",
                value: format!("{} entries", acts.len()),
                reason: format!(
                    "need one activation per non-input layer: {} for sizes {:?}",
                    self.sizes.len() - 1,
                    self.sizes
                ),
            });
        }
        // ε = 0 would start every unit of a layer identical, and gradient
        // descent keeps them so (docs/maths.md § 8); equal starting
        // values are what `init_constant` is for.
        crate::error::require_positive(
            "init_std",
            self.init_std,
            "the initialisation standard deviation ε",
            "default 0.01; 0 makes every unit identical, see `backprop symmetry`",
        )
    }

    /// The activation of layer `l` (0 = first hidden layer).
    pub fn activation_of(&self, l: usize) -> Activation {
        self.layer_activations
            .as_ref()
            .and_then(|acts| acts.get(l).copied())
            .unwrap_or(self.activation)
    }

    /// Creates the network with N(0, ε²) weights and biases drawn from a generator
    /// seeded with `seed`, so the same config gives bit-identical starting values
    /// on every backend and in every thread.
    ///
    /// Fails if the device does not compute `precision` correctly
    /// ([`crate::backend::verify_precision`]).
    pub fn init(&self, device: &Device, precision: Precision) -> Result<Network> {
        self.validate()?;
        self.ensure_fits(precision)?;
        crate::backend::verify_precision(device, precision)?;
        let mut rng = StdRng::seed_from_u64(self.seed);
        let layers = self
            .sizes
            .windows(2)
            .enumerate()
            .map(|(l, pair)| {
                DenseConfig::new(pair[0], pair[1])
                    .with_activation(self.activation_of(l))
                    .with_init_std(self.init_std)
                    .init(device, precision, &mut rng)
            })
            .collect();
        Ok(Network { layers })
    }

    /// The parameters are drawn on the host in f64 before they reach the
    /// device: both copies must fit ([`crate::resources`]).
    fn ensure_fits(&self, precision: Precision) -> Result<()> {
        let count = crate::resources::parameter_count(&self.sizes);
        crate::resources::ensure_fits(
            &format!(
                "a network of sizes {:?} ({} parameters)",
                self.sizes,
                crate::error::readable(count)
            ),
            count * 8.0 + crate::resources::network_bytes(&self.sizes, precision),
        )
    }

    /// Creates the network with every weight and bias equal to `value`.
    ///
    /// This is the initialisation the reference warns against: every hidden unit
    /// of a layer then computes the same function of the input, and gradient
    /// descent keeps them identical forever. It exists to demonstrate that.
    pub fn init_constant(
        &self,
        device: &Device,
        precision: Precision,
        value: f64,
    ) -> Result<Network> {
        self.validate()?;
        self.ensure_fits(precision)?;
        crate::backend::verify_precision(device, precision)?;
        tensor::check_finite("constant initial value", &[value])?;
        let layers = self
            .sizes
            .windows(2)
            .enumerate()
            .map(|(l, pair)| {
                let [d_input, d_output] = [pair[0], pair[1]];
                Dense::from_values(
                    vec![value; d_input * d_output],
                    vec![value; d_output],
                    [d_input, d_output],
                    self.activation_of(l),
                    device,
                    precision,
                )
            })
            .collect();
        Ok(Network { layers })
    }
}

/// A feed-forward network h_{W,b} whose gradients are computed by hand.
///
/// `layers[l]` maps layer l+1 of the reference (1-based, input = layer 1) to
/// layer l+2, so `n_l = layers.len() + 1`. A burn [`Module`]: it runs on any
/// [`Device`], and `network.clone().train()` gives the same network on autodiff.
#[derive(Module, Debug)]
pub struct Network {
    /// The layers, input side first: at least one, each taking the previous
    /// one's outputs ([`Network::new`] checks both).
    pub(crate) layers: Vec<Dense>,
}

/// The cost J(W, b) of a batch and the gradient of every parameter.
#[derive(Debug, Clone)]
pub struct Gradients {
    /// J(W, b), including the decay term.
    pub cost: f64,
    /// ∂J/∂weight and ∂J/∂bias per layer, in the parameters' shapes.
    pub layers: Vec<DenseGrads>,
}

impl Network {
    /// The network of `layers`, input side first: an error if there are none
    /// or if a layer's inputs are not the previous layer's outputs, so that
    /// every method after construction can rely on both.
    pub fn new(layers: Vec<Dense>) -> Result<Network> {
        if layers.is_empty() {
            return Err(Error::InvalidParameter {
                name: "layers",
                value: "none".into(),
                reason: "a network needs at least one layer (its output layer)".into(),
            });
        }
        for (l, pair) in layers.windows(2).enumerate() {
            let (outputs, inputs) = (pair[0].dims()[1], pair[1].dims()[0]);
            if outputs != inputs {
                return Err(Error::Shape {
                    what: format!("layers.{}.weight", l + 1),
                    expected: format!("{outputs} input rows, the outputs of layers.{l}"),
                    got: format!("{inputs}"),
                });
            }
        }
        Ok(Network { layers })
    }

    /// The layers, input side first (`layers()[l]` maps layer l+1 of the
    /// reference to layer l+2).
    pub fn layers(&self) -> &[Dense] {
        &self.layers
    }

    /// Units per layer, s_1 … s_{n_l}.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.layers[0].dims()[0]];
        sizes.extend(self.layers.iter().map(|layer| layer.dims()[1]));
        sizes
    }

    /// The precision of the network's parameters.
    pub fn precision(&self) -> Result<Precision> {
        tensor::precision_of("the network's weights", &self.layers[0].weight.val())
    }

    /// The device the network's parameters live on.
    pub fn device(&self) -> Device {
        self.layers[0].weight.device()
    }

    /// The module paths of the parameters, in the order of [`Gradients::layers`]
    /// (`layers.0.weight`, `layers.0.bias`, …), the names burn's records use.
    pub fn param_paths(&self) -> Vec<String> {
        (0..self.layers.len())
            .flat_map(|l| [format!("layers.{l}.weight"), format!("layers.{l}.bias")])
            .collect()
    }

    /// Every parameter's values, row-major, in the order of [`Network::param_paths`].
    pub fn param_values(&self) -> Result<Vec<Vec<f64>>> {
        Ok(ParamValues::of(self)?
            .entries
            .into_iter()
            .map(|e| e.values)
            .collect())
    }

    /// The same network (same parameter ids, device and precision) with new
    /// parameter values, given in the order and shapes of [`Network::param_values`].
    pub fn with_param_values(&self, values: Vec<Vec<f64>>) -> Result<Network> {
        let mut params = ParamValues::of(self)?;
        if values.len() != params.entries.len() {
            return Err(Error::Shape {
                what: "parameter values".into(),
                expected: format!(
                    "{} tensors ({})",
                    params.entries.len(),
                    params.paths().join(", ")
                ),
                got: format!("{} tensors", values.len()),
            });
        }
        for (entry, values) in params.entries.iter_mut().zip(values) {
            entry.values = values;
        }
        Ok(params.apply(self)?)
    }

    /// How many units of `layers[layer]` are distinct: units whose incoming
    /// weights and bias all agree within `tolerance` (relative to the layer's
    /// largest |value|) count as one. With all-equal initial values this stays
    /// 1 however long the network trains (docs/maths.md § 8).
    pub fn distinct_units(&self, layer: usize, tolerance: f64) -> Result<usize> {
        let dense = self
            .layers
            .get(layer)
            .ok_or_else(|| Error::InvalidParameter {
                name: "layer",
                value: layer.to_string(),
                reason: format!("the network has {} layers", self.layers.len()),
            })?;
        let [d_in, d_out] = dense.dims();
        let w = tensor::to_vec(&dense.weight.val())?;
        let b = tensor::to_vec(&dense.bias.val())?;
        // Unit j is described by column j of the weight and its bias.
        let units: Vec<Vec<f64>> = (0..d_out)
            .map(|j| (0..d_in).map(|i| w[i * d_out + j]).chain([b[j]]).collect())
            .collect();
        let scale = tensor::max_abs(w.iter().chain(&b)).max(f64::MIN_POSITIVE);
        let mut representatives: Vec<&Vec<f64>> = Vec::new();
        for unit in &units {
            let same = |r: &&Vec<f64>| {
                r.iter()
                    .zip(unit)
                    .all(|(a, b)| (a - b).abs() <= tolerance * scale)
            };
            if !representatives.iter().any(same) {
                representatives.push(unit);
            }
        }
        Ok(representatives.len())
    }

    /// The hypothesis h_{W,b}(x) = a^(n_l) for a batch `x`: `[m, s_1]` →
    /// `[m, s_{n_l}]`. Under autodiff each layer is recorded as one node whose
    /// backward is the layer's hand-written one ([`Dense::forward`],
    /// [`crate::layer::node`]); on a device without autodiff it is the plain
    /// forward pass, the values of [`Layer::forward_cached`] bit for bit.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.layers.iter().fold(x, |a, layer| layer.forward(a))
    }

    /// The cost J(W, b) as a tensor, with no validation: the one definition of J
    /// that both the manual and the autodiff path evaluate.
    pub fn cost_tensor(&self, x: Tensor<2>, y: Tensor<2>, weight_decay: f64) -> Tensor<1> {
        // Layer by layer through the cached forward, so that under autodiff J
        // is recorded operation by operation: the autodiff reference then
        // differentiates the formulas, never the hand-written backward.
        let h = self
            .layers
            .iter()
            .fold(x, |a, layer| layer.forward_cached(a).0);
        self.cost_of_hypothesis(h, y, weight_decay)
    }

    /// J(W, b) given the hypothesis `h` already computed for the batch.
    pub fn cost_of_hypothesis(&self, h: Tensor<2>, y: Tensor<2>, weight_decay: f64) -> Tensor<1> {
        cost::squared_error(h, y) + self.weight_decay_term(weight_decay)
    }

    /// The decay term of J, (λ/2) Σ_l ‖W^(l)‖², over every layer's weight.
    pub fn weight_decay_term(&self, weight_decay: f64) -> Tensor<1> {
        let mut terms = self
            .layers
            .iter()
            .map(|layer| cost::weight_decay(layer.weight.val(), weight_decay));
        let first = terms.next().expect("a network has at least one layer");
        terms.fold(first, |sum, term| sum + term)
    }

    /// The cost J(W, b) of a batch.
    pub fn cost(&self, x: Tensor<2>, y: Tensor<2>, weight_decay: f64) -> Result<f64> {
        self.check_batch(&x, &y, weight_decay)?;
        tensor::scalar(self.cost_tensor(x, y, weight_decay))
    }

    /// The cost and the hand-written gradients of a batch, in matrix form
    /// (docs/maths.md § 6, batched):
    ///
    /// ```text
    /// Δ_out          = (A_out − Y) ∘ f′             (cost::squared_error_grad, then Dense::backward)
    /// Δ_l            = (Δ_{l+1} · weight_lᵀ) ∘ f′(A_l)
    /// grad weight_l  = A_lᵀ · Δ_{l+1} / m + λ weight_l
    /// grad bias_l    = column sums of Δ_{l+1} / m
    /// ```
    pub fn gradients(&self, x: Tensor<2>, y: Tensor<2>, weight_decay: f64) -> Result<Gradients> {
        self.check_batch(&x, &y, weight_decay)?;
        let (h, caches) = Layer::forward_cached(self, x);
        let cost = self.cost_of_hypothesis(h.clone(), y.clone(), weight_decay);
        let layers = self.gradients_from_forward(h, caches, y, weight_decay);
        Ok(Gradients {
            cost: tensor::scalar(cost)?,
            layers,
        })
    }

    /// The gradients of [`Network::gradients`] without the cost.
    ///
    /// Nothing is read back from the device: on an asynchronous device (a GPU)
    /// the whole step stays queued, so a training loop can run many steps and
    /// synchronise once per epoch.
    pub fn parameter_gradients(
        &self,
        x: Tensor<2>,
        y: Tensor<2>,
        weight_decay: f64,
    ) -> Result<Vec<DenseGrads>> {
        self.check_batch(&x, &y, weight_decay)?;
        let (h, caches) = Layer::forward_cached(self, x);
        Ok(self.gradients_from_forward(h, caches, y, weight_decay))
    }

    /// Backpropagation from the output error, plus the decay term: the shared
    /// tail of [`Network::gradients`] and [`Network::parameter_gradients`].
    fn gradients_from_forward(
        &self,
        h: Tensor<2>,
        caches: Vec<DenseCache>,
        y: Tensor<2>,
        weight_decay: f64,
    ) -> Vec<DenseGrads> {
        let layers = self.backward_params(caches, cost::squared_error_grad(h, y));
        self.add_weight_decay(layers, weight_decay)
    }

    /// The same cost and gradients by the reference's literal loop over examples
    /// (docs/maths.md § 7, steps 1–2): ΔW, Δb accumulate the
    /// per-example gradients of J(x^(i), y^(i)) = ½‖h(x^(i)) − y^(i)‖², then
    /// ∂J/∂W = (1/m) ΔW + λW and ∂J/∂b = (1/m) Δb.
    ///
    /// m times slower than [`Network::gradients`]; it exists so that tests can
    /// show the batched matrix form computes the same numbers.
    pub fn gradients_per_example(
        &self,
        x: Tensor<2>,
        y: Tensor<2>,
        weight_decay: f64,
    ) -> Result<Gradients> {
        self.check_batch(&x, &y, weight_decay)?;
        let [m, n_in] = x.dims();
        let n_out = y.dims()[1];
        let mut data_cost = 0.0;
        let mut per_example = Vec::with_capacity(m);
        for i in 0..m {
            let x_i = x.clone().slice([i..i + 1, 0..n_in]);
            let y_i = y.clone().slice([i..i + 1, 0..n_out]);
            let (h_i, caches) = Layer::forward_cached(self, x_i);
            data_cost += tensor::scalar(cost::squared_error(h_i.clone(), y_i.clone()))?;
            // With a batch of one, squared_error_grad is ∇_h ½‖h − y‖² = h − y.
            per_example.push(self.backward_params(caches, cost::squared_error_grad(h_i, y_i)));
        }
        let inv_m = 1.0 / m as f64;
        let mean = DenseGrads::sum_layers(per_example)
            .into_iter()
            .map(|sum| sum.mul_scalar(inv_m))
            .collect();
        Ok(Gradients {
            cost: data_cost * inv_m + tensor::scalar(self.weight_decay_term(weight_decay))?,
            layers: self.add_weight_decay(mean, weight_decay),
        })
    }

    /// Adds λW to each weight gradient; biases are never decayed.
    pub(crate) fn add_weight_decay(
        &self,
        grads: Vec<DenseGrads>,
        weight_decay: f64,
    ) -> Vec<DenseGrads> {
        grads
            .into_iter()
            .zip(&self.layers)
            .map(|(g, layer)| DenseGrads {
                weight: cost::add_weight_decay_grad(g.weight, layer.weight.val(), weight_decay),
                bias: g.bias,
            })
            .collect()
    }

    /// The gradients as burn's [`GradientsParams`], keyed by this network's
    /// parameter ids, ready for a burn optimizer or a key-by-key comparison with
    /// `GradientsParams::from_grads` of an autodiff run.
    pub fn to_gradients_params(&self, grads: &Gradients) -> GradientsParams {
        let mut params = GradientsParams::new();
        self.register_grads(grads.layers.clone(), &mut params);
        params
    }

    /// Checks that `x` and `y` are a batch this network can take, and that λ is sane.
    pub fn check_batch(&self, x: &Tensor<2>, y: &Tensor<2>, weight_decay: f64) -> Result<()> {
        let sizes = self.sizes();
        let (n_in, n_out) = (sizes[0], sizes[sizes.len() - 1]);
        let [m, x_cols] = x.dims();
        let [y_rows, y_cols] = y.dims();
        if m == 0 {
            return Err(Error::Shape {
                what: "x".into(),
                expected: "at least one example (row)".into(),
                got: "0 rows".into(),
            });
        }
        if x_cols != n_in {
            return Err(Error::Shape {
                what: "x".into(),
                expected: format!("[m, {n_in}] (the network's input layer has {n_in} units)"),
                got: format!("[{m}, {x_cols}]"),
            });
        }
        if [y_rows, y_cols] != [m, n_out] {
            return Err(Error::Shape {
                what: "y".into(),
                expected: format!(
                    "[{m}, {n_out}] (one row per example of x, one column per output unit)"
                ),
                got: format!("[{y_rows}, {y_cols}]"),
            });
        }
        let precision = self.precision()?;
        for (what, t) in [("x", x.dtype()), ("y", y.dtype())] {
            if Precision::from_dtype(t) != Some(precision) {
                return Err(Error::InvalidParameter {
                    name: "dtype",
                    value: format!("{t:?}"),
                    reason: format!("{what} must have the network's precision, {precision}"),
                });
            }
        }
        check_weight_decay(weight_decay)
    }
}

/// λ must be a finite, non-negative number.
pub fn check_weight_decay(weight_decay: f64) -> Result<()> {
    crate::error::require_non_negative("weight_decay", weight_decay, "λ", "0 disables weight decay")
}

impl Network {
    /// docs/maths.md § 5 step 3, from the output layer down: each layer
    /// turns the gradient of its output into that of its input. The first
    /// layer's input delta is computed only if `input_grad` asks for it.
    /// `observe` sees each layer's δ as it is formed (layer index, δ); the
    /// gradients never wait for it.
    fn backpropagate(
        &self,
        caches: Vec<DenseCache>,
        grad_output: Tensor<2>,
        input_grad: bool,
        observe: &mut dyn FnMut(usize, &Tensor<2>),
    ) -> (Option<Tensor<2>>, Vec<DenseGrads>) {
        let mut caches = caches.into_iter();
        let first = caches.next().expect("a network has at least one layer");
        let mut grads = Vec::with_capacity(self.layers.len());
        let mut grad = grad_output;
        let upper = (1..self.layers.len()).zip(self.layers[1..].iter().zip(caches));
        for (l, (layer, cache)) in upper.rev() {
            let (delta, layer_grads) = layer.delta_and_grads(cache, grad);
            observe(l, &delta);
            grads.push(layer_grads);
            grad = layer.grad_input(delta);
        }
        // The first layer's input delta is computed only if asked for: nothing
        // in a network consumes ∂J/∂x.
        let (delta, layer_grads) = self.layers[0].delta_and_grads(first, grad);
        observe(0, &delta);
        grads.push(layer_grads);
        let grad_input = input_grad.then(|| self.layers[0].grad_input(delta));
        grads.reverse();
        (grad_input, grads)
    }

    /// Backpropagation of one batch with every intermediate quantity kept:
    /// the activations a^(l), each layer's δ and the gradients — the very
    /// numbers [`Network::gradients`] computes, for showing the δ recursion
    /// (`backprop explain`).
    pub fn trace(&self, x: Tensor<2>, y: Tensor<2>, weight_decay: f64) -> Result<Trace> {
        self.check_batch(&x, &y, weight_decay)?;
        let (h, caches) = Layer::forward_cached(self, x.clone());
        let activations = std::iter::once(x)
            .chain(caches.iter().map(|c| c.output.clone()))
            .collect();
        let cost = self.cost_of_hypothesis(h.clone(), y.clone(), weight_decay);
        let mut deltas: Vec<Option<Tensor<2>>> = vec![None; self.layers.len()];
        let (_, layers) = self.backpropagate(
            caches,
            cost::squared_error_grad(h, y),
            false,
            &mut |l, delta| deltas[l] = Some(delta.clone()),
        );
        Ok(Trace {
            activations,
            deltas: deltas
                .into_iter()
                .map(|d| d.expect("every layer observed"))
                .collect(),
            data_gradients: layers.clone(),
            gradients: Gradients {
                cost: tensor::scalar(cost)?,
                layers: self.add_weight_decay(layers, weight_decay),
            },
        })
    }
}

/// What [`Network::trace`] keeps of one batch's backpropagation.
#[derive(Debug, Clone)]
pub struct Trace {
    /// a^(1) = x, then each layer's activation a^(2) … a^(n_l), `[m, s_l]`.
    pub activations: Vec<Tensor<2>>,
    /// δ of each layer's units, `deltas[l]` for `layers[l]` (the reference's
    /// δ^(l+2)); batched, so Δ/m (for m = 1 the reference's δ itself).
    pub deltas: Vec<Tensor<2>>,
    /// The gradients of the data term alone, before λW is added: the batch's
    /// mean of δ^(l+1) (a^(l))ᵀ and δ^(l+1).
    pub data_gradients: Vec<DenseGrads>,
    /// J and ∂J/∂θ, decay included: equal to [`Network::gradients`]'.
    pub gradients: Gradients,
}

/// The network is itself a layer: its backward is backpropagation through the
/// stack, docs/maths.md § 5 step 3, from the output layer down.
impl Layer for Network {
    type Cache = Vec<DenseCache>;
    type Grads = Vec<DenseGrads>;

    fn forward_cached(&self, input: Tensor<2>) -> (Tensor<2>, Vec<DenseCache>) {
        let mut caches = Vec::with_capacity(self.layers.len());
        let mut a = input;
        for layer in &self.layers {
            let (next, cache) = Layer::forward_cached(layer, a);
            caches.push(cache);
            a = next;
        }
        (a, caches)
    }

    fn backward(
        &self,
        caches: Vec<DenseCache>,
        grad_output: Tensor<2>,
    ) -> (Tensor<2>, Vec<DenseGrads>) {
        let (grad_input, grads) = self.backpropagate(caches, grad_output, true, &mut |_, _| {});
        (grad_input.expect("requested"), grads)
    }

    /// Backpropagation without ∂J/∂x: the first layer skips its input delta.
    fn backward_params(&self, caches: Vec<DenseCache>, grad_output: Tensor<2>) -> Vec<DenseGrads> {
        self.backpropagate(caches, grad_output, false, &mut |_, _| {})
            .1
    }

    fn register_grads(&self, grads: Vec<DenseGrads>, into: &mut GradientsParams) {
        for (layer, g) in self.layers.iter().zip(grads) {
            layer.register_grads(g, into);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Network, NetworkConfig};
    use crate::Precision;
    use crate::activation::Activation;
    use crate::error::Error;
    use crate::layer::Dense;
    use burn::tensor::Device;

    /// The parameter a rejected config names, or `None` when it is accepted.
    fn rejected(config: &NetworkConfig) -> Option<&'static str> {
        match config.validate() {
            Ok(()) => None,
            Err(Error::InvalidParameter { name, .. }) => Some(name),
            Err(e) => panic!("not an InvalidParameter: {e}"),
        }
    }

    #[test]
    fn validation_accepts_every_network_and_names_what_is_wrong_otherwise() {
        // The smallest network, input → output with no hidden layer, is valid;
        // one layer alone is not a network.
        assert_eq!(rejected(&NetworkConfig::new(vec![3, 1])), None);
        assert_eq!(rejected(&NetworkConfig::new(vec![3, 4, 5, 1])), None);
        assert_eq!(rejected(&NetworkConfig::new(vec![3])), Some("sizes"));
        assert_eq!(rejected(&NetworkConfig::new(vec![])), Some("sizes"));
        assert_eq!(rejected(&NetworkConfig::new(vec![3, 0, 1])), Some("sizes"));

        let mixed = |n| {
            NetworkConfig::new(vec![3, 4, 1])
                .with_layer_activations(Some(vec![Activation::Tanh; n]))
        };
        assert_eq!(rejected(&mixed(2)), None);
        assert_eq!(rejected(&mixed(1)), Some("layer_activations"));
        assert_eq!(rejected(&mixed(3)), Some("layer_activations"));

        for std in [1e-300, 0.5] {
            let config = NetworkConfig::new(vec![3, 1]).with_init_std(std);
            assert_eq!(rejected(&config), None, "ε = {std}");
        }
        for std in [0.0, -0.1, f64::NAN, f64::INFINITY] {
            let config = NetworkConfig::new(vec![3, 1]).with_init_std(std);
            assert_eq!(rejected(&config), Some("init_std"), "ε = {std}");
        }
    }

    #[test]
    fn a_network_too_large_for_memory_is_refused_with_its_estimate() {
        // 100,000 → 1,000,000 → 10 has 1.00011e11 parameters. They are drawn
        // in f64 on the host (8 bytes each) and then stored on the device in
        // the network's precision: 16 or 12 bytes a parameter, 1.6 or 1.2 TB —
        // refused before a byte is allocated, whatever the machine.
        let config = NetworkConfig::new(vec![100_000, 1_000_000, 10]);
        for (precision, expected) in [(Precision::F64, "1.6 TB"), (Precision::F32, "1.2 TB")] {
            match config.init(&Device::flex(), precision) {
                Err(Error::Memory { needed, .. }) => assert_eq!(needed, expected, "{precision}"),
                Err(e) => panic!("{precision}: not a memory error: {e}"),
                Ok(_) => panic!("{precision}: a 1.6 TB network was allocated"),
            }
        }
    }

    /// An empty network, or layers that do not chain, are errors when the
    /// network is built, never a panic in a method later.
    #[test]
    fn a_network_needs_layers_that_chain() {
        let device = Device::flex();
        let dense = |d: [usize; 2]| {
            Dense::from_values(
                vec![0.0; d[0] * d[1]],
                vec![0.0; d[1]],
                d,
                Activation::Sigmoid,
                &device,
                Precision::F64,
            )
        };
        assert!(matches!(
            Network::new(vec![]),
            Err(Error::InvalidParameter { name: "layers", .. })
        ));
        match Network::new(vec![dense([2, 3]), dense([4, 1])]) {
            Err(Error::Shape { what, .. }) => assert_eq!(what, "layers.1.weight"),
            other => panic!("{other:?}"),
        }
        let net = Network::new(vec![dense([2, 3]), dense([3, 1])]).unwrap();
        assert_eq!(net.sizes(), [2, 3, 1]);
        assert_eq!(net.layers().len(), 2);
    }

    #[test]
    fn units_with_the_same_incoming_weights_and_bias_count_once() {
        // Units are columns of the stored weight (its transpose is W): here
        // units 0 and 2 receive (1, 2) with bias 0.5, unit 1 receives (5, 7).
        let layer = |w: Vec<f64>, b: Vec<f64>| Network {
            layers: vec![Dense::from_values(
                w,
                b,
                [2, 3],
                Activation::Sigmoid,
                &Device::flex(),
                Precision::F64,
            )],
        };
        let net = layer(vec![1.0, 5.0, 1.0, 2.0, 7.0, 2.0], vec![0.5, 0.5, 0.5]);
        assert_eq!(net.distinct_units(0, 1e-9).unwrap(), 2);
        // A difference within the tolerance (relative to the largest |value|, 7) merges;
        // one beyond it does not, whether in a weight or in the bias.
        let nudged = layer(
            vec![1.0, 5.0, 1.0 + 1e-9, 2.0, 7.0, 2.0],
            vec![0.5, 0.5, 0.5],
        );
        assert_eq!(nudged.distinct_units(0, 1e-9).unwrap(), 2);
        assert_eq!(nudged.distinct_units(0, 1e-12).unwrap(), 3);
        // Units 0 and 2 agree on their first input's weight only.
        let second_input = layer(vec![1.0, 5.0, 1.0, 2.0, 7.0, 3.0], vec![0.5, 0.5, 0.5]);
        assert_eq!(second_input.distinct_units(0, 1e-9).unwrap(), 3);
        let biased = layer(vec![1.0, 5.0, 1.0, 2.0, 7.0, 2.0], vec![0.5, 0.5, 0.6]);
        assert_eq!(biased.distinct_units(0, 1e-9).unwrap(), 3);
        assert!(matches!(
            net.distinct_units(1, 1e-9),
            Err(Error::InvalidParameter { name: "layer", .. })
        ));
    }

    #[test]
    fn a_batch_the_network_cannot_take_is_an_error_before_any_arithmetic() {
        use crate::tensor::matrix;
        let device = Device::flex();
        let net = NetworkConfig::new(vec![3, 4, 2])
            .init(&device, Precision::F64)
            .unwrap();
        let m = |rows: usize, cols: usize, precision| {
            matrix(
                "t",
                vec![0.5; rows * cols],
                [rows, cols],
                &device,
                precision,
            )
            .unwrap()
        };
        let f64 = Precision::F64;
        assert!(net.check_batch(&m(5, 3, f64), &m(5, 2, f64), 0.1).is_ok());
        let shape_of = |x, y, decay| match net.gradients(x, y, decay) {
            Err(Error::Shape { what, .. }) => what,
            Err(e) => panic!("not a shape error: {e}"),
            Ok(_) => panic!("accepted"),
        };
        assert_eq!(
            shape_of(m(0, 3, f64), m(0, 2, f64), 0.1),
            "x",
            "no examples"
        );
        assert_eq!(shape_of(m(5, 4, f64), m(5, 2, f64), 0.1), "x", "x columns");
        assert_eq!(shape_of(m(5, 3, f64), m(4, 2, f64), 0.1), "y", "y rows");
        assert_eq!(shape_of(m(5, 3, f64), m(5, 3, f64), 0.1), "y", "y columns");
        let parameter_of = |x, y, decay| match net.cost(x, y, decay) {
            Err(Error::InvalidParameter { name, .. }) => name,
            Err(e) => panic!("not a parameter error: {e}"),
            Ok(_) => panic!("accepted"),
        };
        let f32 = Precision::F32;
        assert_eq!(parameter_of(m(5, 3, f32), m(5, 2, f64), 0.1), "dtype");
        assert_eq!(parameter_of(m(5, 3, f64), m(5, 2, f32), 0.1), "dtype");
        for decay in [-1e-3, f64::NAN, f64::INFINITY] {
            assert_eq!(
                parameter_of(m(5, 3, f64), m(5, 2, f64), decay),
                "weight_decay"
            );
        }
    }

    #[test]
    fn each_layer_takes_its_own_activation_or_the_shared_one() {
        let shared = NetworkConfig::new(vec![3, 4, 5, 1]).with_activation(Activation::Tanh);
        assert!((0..3).all(|l| shared.activation_of(l) == Activation::Tanh));
        let mixed = shared.with_layer_activations(Some(vec![
            Activation::Sigmoid,
            Activation::Tanh,
            Activation::Sigmoid,
        ]));
        let acts: Vec<_> = (0..3).map(|l| mixed.activation_of(l)).collect();
        assert_eq!(
            acts,
            [Activation::Sigmoid, Activation::Tanh, Activation::Sigmoid]
        );
    }
}
