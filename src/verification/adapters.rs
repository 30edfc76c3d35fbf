//! The crate's own subjects as checks of the one engine: a [`Network`]'s
//! cost and a [`Layer`]'s vector–Jacobian product, each with its
//! hand-written gradients — three ways, like any module checked with
//! [`GradCheck::module_with_manual`].

use super::vjp::layer_vjp_manual;
use crate::error::{Error, Result};
use crate::layer::Layer;
use crate::network::Network;
use crate::tensor;
use burn::tensor::Tensor;
use burn_gradcheck::{GradCheck, GradReport, Inputs, Manual};

/// [`GradCheck`]'s checks of this crate's networks and layers: bring the
/// trait into scope (`use manual_backprop::verification::NetworkCheck`) and
/// call them on any set of options.
pub trait NetworkCheck {
    /// Three-way check of a network's cost J(W, b) on the batch `x`, `y`:
    /// the hand-written backpropagation ([`Network::gradients`]) against
    /// burn-autodiff of the same cost ([`Network::cost_tensor`], recorded
    /// operation by operation) and against central differences, parameter
    /// by parameter.
    ///
    /// ```
    /// use manual_backprop::verification::{GradCheck, NetworkCheck};
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
    fn network(
        &self,
        network: &Network,
        x: &Tensor<2>,
        y: &Tensor<2>,
        weight_decay: f64,
    ) -> Result<GradReport>;

    /// Three-way check of a layer's backward pass on its own: for the
    /// objective J = Σ (layer(input) ∘ grad_output), whose gradient is the
    /// layer's vector–Jacobian product with any upstream gradient, the
    /// hand-written [`Layer::backward`] against burn-autodiff of
    /// [`Layer::forward_cached`] and against central differences — in every
    /// parameter and in the input. Works for any [`Layer`], including ones
    /// defined outside this crate.
    fn layer<L: Layer>(
        &self,
        layer: &L,
        input: &Tensor<2>,
        grad_output: &Tensor<2>,
    ) -> Result<GradReport>;
}

impl NetworkCheck for GradCheck {
    fn network(
        &self,
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
        let manual = Manual::new().params(network.to_gradients_params(&manual));
        let cost = |net: &Network, args: &burn_gradcheck::Args| {
            net.cost_tensor(args.get::<2>("x"), args.get::<2>("y"), weight_decay)
        };
        let check = self.with_default_terms(network_terms(network, m));
        Ok(check.module_with_manual(network, &inputs, cost, &manual)?)
    }

    fn layer<L: Layer>(
        &self,
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
        let manual = Manual::new()
            .params(grads)
            .input("input", tensor::to_vec(&grad_input)?);
        let inputs = Inputs::new()
            .with("input", input)?
            .constant("grad_output", grad_output)?;
        let loss = |l: &L, args: &burn_gradcheck::Args| {
            let (output, _) = Layer::forward_cached(l, args.get::<2>("input"));
            (output * args.get::<2>("grad_output")).sum()
        };
        Ok(self.module_with_manual(layer, &inputs, loss, &manual)?)
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
