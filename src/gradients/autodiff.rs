//! Gradients by burn-autodiff of the same forward pass and cost the manual path uses.

use crate::error::{Error, Result};
use crate::layer::DenseGrads;
use crate::layer::node;
use crate::network::{Gradients, Network};
use crate::tensor;
use burn::module::Module;
use burn::tensor::Tensor;

/// J(W, b) and ∂J/∂θ of every parameter, by burn-autodiff.
///
/// The network is moved onto autodiff with `network.clone().train()`, the
/// batch with `Tensor::autodiff`, then [`Network::cost_tensor`] — the very
/// function the manual path evaluates — is differentiated by `backward()`.
/// Nothing of the hand-written backward is involved, so agreement is evidence.
pub fn autodiff_gradients(
    network: &Network,
    x: Tensor<2>,
    y: Tensor<2>,
    weight_decay: f64,
) -> Result<Gradients> {
    network.check_batch(&x, &y, weight_decay)?;
    let model = network.clone().train();
    let cost = model.cost_tensor(x.autodiff(), y.autodiff(), weight_decay);
    let grads = cost.backward();
    Ok(Gradients {
        cost: tensor::scalar(cost.inner())?,
        layers: read_gradients(network, &model, &grads)?,
    })
}

/// J(W, b) and ∂J/∂θ by burn-autodiff over the hand-written nodes: each layer
/// ([`Network::forward`]) and the data term ½‖h − y‖²/m
/// ([`node::squared_error`]) is one node whose backward is the crate's own;
/// burn's engine runs the graph (records it, orders the nodes, routes each
/// node's gradients to its inputs).
///
/// The decay term is not a layer's: its gradient λW is added to each weight's
/// after `backward()`, as burn's optimizers add weight decay, by the formula
/// the hand-written path uses ([`crate::cost::weight_decay_grad`]). Recorded
/// in the graph instead, its backward would take five passes over every
/// weight matrix where two do.
pub fn node_gradients(
    network: &Network,
    x: Tensor<2>,
    y: Tensor<2>,
    weight_decay: f64,
) -> Result<Gradients> {
    let (data_cost, layers) = node_backward(network, x, y, weight_decay)?;
    let cost = data_cost + network.weight_decay_term(weight_decay);
    Ok(Gradients {
        cost: tensor::scalar(cost)?,
        layers,
    })
}

/// The parameter gradients of [`node_gradients`] alone: the cost is neither
/// completed nor read back, so an asynchronous device keeps queueing steps.
pub(crate) fn node_parameter_gradients(
    network: &Network,
    x: Tensor<2>,
    y: Tensor<2>,
    weight_decay: f64,
) -> Result<Vec<DenseGrads>> {
    Ok(node_backward(network, x, y, weight_decay)?.1)
}

/// The data term (off the graph) and ∂J/∂θ, through the nodes.
fn node_backward(
    network: &Network,
    x: Tensor<2>,
    y: Tensor<2>,
    weight_decay: f64,
) -> Result<(Tensor<1>, Vec<DenseGrads>)> {
    network.check_batch(&x, &y, weight_decay)?;
    let model = network.clone().train();
    let data_cost = node::squared_error(model.forward(x.autodiff()), y.autodiff());
    let grads = data_cost.backward();
    let layers = read_gradients(network, &model, &grads)?;
    Ok((
        data_cost.inner(),
        network.add_weight_decay(layers, weight_decay),
    ))
}

/// Every parameter's gradient from burn's result of `backward()` on `model`
/// (the autodiff copy of `network`).
fn read_gradients(
    network: &Network,
    model: &Network,
    grads: &burn::tensor::Gradients,
) -> Result<Vec<DenseGrads>> {
    let paths = network.param_paths();
    let mut layers = Vec::with_capacity(model.layers.len());
    for (l, layer) in model.layers.iter().enumerate() {
        let missing =
            |path: &String| Error::TensorRead(format!("autodiff produced no gradient for {path}"));
        layers.push(DenseGrads {
            weight: layer
                .weight
                .grad(grads)
                .ok_or_else(|| missing(&paths[2 * l]))?,
            bias: layer
                .bias
                .grad(grads)
                .ok_or_else(|| missing(&paths[2 * l + 1]))?,
        });
    }
    Ok(layers)
}
