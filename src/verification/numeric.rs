//! Central finite differences: the derivative estimated from the cost alone.

use crate::error::{Error, Result};
use crate::layer::DenseGrads;
use crate::network::{Gradients, Network};
use crate::tensor;
use burn::tensor::Tensor;

/// g_i ≈ (J(θ + ε e_i) − J(θ − ε e_i)) / (2ε) for every i (SPEC.md, "Gradient checking").
///
/// The truncation error is O(ε²) and the rounding error O(u·|J|/ε); in f64
/// ε ≈ 1e-5 balances the two. `cost` gets a copy of θ with one entry moved.
pub fn central_differences<F>(mut cost: F, theta: &[f64], epsilon: f64) -> Result<Vec<f64>>
where
    F: FnMut(&[f64]) -> Result<f64>,
{
    if !(epsilon.is_finite() && epsilon > 0.0) {
        return Err(Error::InvalidParameter {
            name: "epsilon",
            value: epsilon.to_string(),
            reason: "the finite-difference step must be finite and > 0 (1e-5 suits f64)".into(),
        });
    }
    let mut shifted = theta.to_vec();
    let mut grad = Vec::with_capacity(theta.len());
    for i in 0..theta.len() {
        shifted[i] = theta[i] + epsilon;
        let plus = cost(&shifted)?;
        shifted[i] = theta[i] - epsilon;
        let minus = cost(&shifted)?;
        shifted[i] = theta[i];
        grad.push((plus - minus) / (2.0 * epsilon));
    }
    Ok(grad)
}

/// ∂J/∂θ of every parameter of `network` by central differences of
/// [`Network::cost`], two cost evaluations per parameter entry.
///
/// Use an f64 network: in f32 the rounding error of J swamps any useful ε.
pub fn numeric_gradients(
    network: &Network,
    x: Tensor<2>,
    y: Tensor<2>,
    weight_decay: f64,
    epsilon: f64,
) -> Result<Gradients> {
    network.check_batch(&x, &y, weight_decay)?;
    let values = network.param_values()?;
    let lengths: Vec<usize> = values.iter().map(Vec::len).collect();
    let theta = values.concat();
    let unflatten = |flat: &[f64]| -> Vec<Vec<f64>> {
        let mut rest = flat;
        lengths
            .iter()
            .map(|&n| {
                let (head, tail) = rest.split_at(n);
                rest = tail;
                head.to_vec()
            })
            .collect()
    };
    let cost_at = |flat: &[f64]| {
        network
            .with_param_values(unflatten(flat))?
            .cost(x.clone(), y.clone(), weight_decay)
    };
    let grad = central_differences(cost_at, &theta, epsilon)?;
    let (device, precision) = (network.device(), network.precision()?);
    let tensors = unflatten(&grad);
    let mut layers = Vec::with_capacity(network.layers.len());
    // param_values lists one weight then one bias per layer.
    for (layer, pair) in network.layers.iter().zip(tensors.chunks(2)) {
        let [d_in, d_out] = layer.dims();
        layers.push(DenseGrads {
            weight: tensor::matrix(
                "numeric weight gradient",
                pair[0].clone(),
                [d_in, d_out],
                &device,
                precision,
            )?,
            bias: tensor::vector("numeric bias gradient", pair[1].clone(), &device, precision)?,
        });
    }
    Ok(Gradients {
        cost: network.cost(x, y, weight_decay)?,
        layers,
    })
}
