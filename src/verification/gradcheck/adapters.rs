//! The crate's own subjects as checks of the one engine: a [`Network`]'s
//! cost and a [`Layer`]'s vector–Jacobian product, each with its
//! hand-written gradients — three ways, like any module given
//! [`GradCheck::manual`].

use super::super::vjp::layer_vjp_manual;
use super::{GradCheck, GradReport, Inputs};
use crate::error::{Error, Result};
use crate::layer::Layer;
use crate::network::Network;
use crate::tensor;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

impl<'p> GradCheck<'p> {
    /// Three-way check of a network's cost J(W, b) on the batch `x`, `y`:
    /// the hand-written backpropagation ([`Network::gradients`]) against
    /// burn-autodiff of the same cost ([`Network::cost_tensor`], recorded
    /// operation by operation) and against central differences, parameter
    /// by parameter. The hand-written gradients are this call's own: any
    /// given with [`manual`](Self::manual) are set aside for it.
    ///
    /// ```
    /// use manual_backprop::verification::GradCheck;
    /// use manual_backprop::{NetworkConfig, Precision, tensor};
    /// let device = burn::tensor::Device::flex();
    /// let net = NetworkConfig::new(vec![2, 3, 1]).with_init_std(0.5).init(&device, Precision::F64)?;
    /// let x = tensor::matrix("x", vec![0.1, 0.9, 0.7, 0.3], [2, 2], &device, Precision::F64)?;
    /// let y = tensor::matrix("y", vec![1.0, 0.0], [2, 1], &device, Precision::F64)?;
    /// let report = GradCheck::new().network(&net, &x, &y, 1e-3)?;
    /// assert!(report.passed, "{report}");
    /// assert!(report.variable("layers.0.weight").is_some());
    /// # Ok::<(), manual_backprop::Error>(())
    /// ```
    pub fn network(
        &mut self,
        network: &Network,
        x: &Tensor<2>,
        y: &Tensor<2>,
        weight_decay: f64,
    ) -> Result<GradReport> {
        network.check_batch(x, y, weight_decay)?;
        let manual = network.gradients(x.clone(), y.clone(), weight_decay)?;
        let inputs = Inputs::new().constant("x", x)?.constant("y", y)?;
        // J sums over the m examples as well as over each layer's units,
        // which the engine's default (the variables' dimensions) leaves out.
        let m = x.dims()[0];
        let terms = self.terms.unwrap_or_else(|| network_terms(network, m));
        self.with_manual(
            network.to_gradients_params(&manual),
            Vec::new(),
            Some(terms),
        )
        .module(network, &inputs, |net: &Network, args| {
            net.cost_tensor(args.get::<2>("x"), args.get::<2>("y"), weight_decay)
        })
    }

    /// Three-way check of a layer's backward pass on its own: for the
    /// objective J = Σ (layer(input) ∘ grad_output), whose gradient is the
    /// layer's vector–Jacobian product with any upstream gradient, the
    /// hand-written [`Layer::backward`] against burn-autodiff of
    /// [`Layer::forward_cached`] and against central differences — in every
    /// parameter and in the input. Works for any [`Layer`], including ones
    /// defined outside this crate.
    pub fn layer<L: Layer>(
        &mut self,
        layer: &L,
        input: &Tensor<2>,
        grad_output: &Tensor<2>,
    ) -> Result<GradReport> {
        let precision = tensor::precision_of("the layer input", input)?;
        let upstream = tensor::precision_of("the upstream gradient", grad_output)?;
        if upstream != precision {
            return Err(Error::InvalidParameter {
                name: "dtype",
                value: format!("{upstream}"),
                reason: format!(
                    "the upstream gradient must have the input's precision, {precision}"
                ),
            });
        }
        let (output, _) = Layer::forward_cached(layer, input.clone());
        if output.dims() != grad_output.dims() {
            return Err(Error::Shape {
                what: "the upstream gradient".into(),
                expected: format!("{:?}, the layer's output for this input", output.dims()),
                got: format!("{:?}", grad_output.dims()),
            });
        }
        let (grad_input, grads) = layer_vjp_manual(layer, input.clone(), grad_output.clone());
        let grad_input = vec![("input".to_string(), tensor::to_vec(&grad_input)?)];
        let inputs = Inputs::new()
            .with("input", input)?
            .constant("grad_output", grad_output)?;
        let terms = self.terms;
        self.with_manual(grads, grad_input, terms)
            .module(layer, &inputs, |l: &L, args| {
                let (output, _) = Layer::forward_cached(l, args.get::<2>("input"));
                (output * args.get::<2>("grad_output")).sum()
            })
    }

    /// These options with the given hand-written gradients and `terms`, for
    /// one adapter call; the caller's own are back when the guard drops.
    fn with_manual(
        &mut self,
        params: GradientsParams,
        inputs: Vec<(String, Vec<f64>)>,
        terms: Option<usize>,
    ) -> ManualGuard<'_, 'p> {
        let saved = (
            self.manual.replace(params),
            std::mem::replace(&mut self.manual_inputs, inputs),
            std::mem::replace(&mut self.terms, terms),
        );
        ManualGuard {
            check: self,
            saved: Some(saved),
        }
    }
}

/// Options lent to one adapter call; restores the caller's hand-written
/// gradients and terms on drop, even when the check returns an error.
struct ManualGuard<'a, 'p> {
    check: &'a mut GradCheck<'p>,
    saved: Option<Saved>,
}

type Saved = (
    Option<GradientsParams>,
    Vec<(String, Vec<f64>)>,
    Option<usize>,
);

impl<'p> std::ops::Deref for ManualGuard<'_, 'p> {
    type Target = GradCheck<'p>;
    fn deref(&self) -> &GradCheck<'p> {
        self.check
    }
}

impl<'p> std::ops::DerefMut for ManualGuard<'_, 'p> {
    fn deref_mut(&mut self) -> &mut GradCheck<'p> {
        self.check
    }
}

impl Drop for ManualGuard<'_, '_> {
    fn drop(&mut self) {
        if let Some((manual, inputs, terms)) = self.saved.take() {
            self.check.manual = manual;
            self.check.manual_inputs = inputs;
            self.check.terms = terms;
        }
    }
}

/// The longest sum an entry of ∂J/∂θ goes through: each layer's inputs and
/// units (its forward sums over n_in, its backward over n_out, the bias
/// adds n_out more), the m examples, the one output, and 16 for a few
/// rounded element-wise operations per entry.
fn network_terms(network: &Network, m: usize) -> usize {
    let layers: usize = network
        .layers()
        .iter()
        .map(|layer| {
            let [n_in, n_out] = layer.dims();
            n_in + 2 * n_out
        })
        .sum();
    layers + m + 1 + 16
}
