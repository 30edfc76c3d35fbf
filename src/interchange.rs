//! The JSON interchange format, so that any framework can cross-check us.
//!
//! - Model: `{"activation": "sigmoid"|"tanh", "layers": [{"weight": [[…]], "bias": […],
//!   "activation": optional override}, …]}`, `weight[i][j]` joining input unit i to
//!   output unit j (the reference's W transposed), `bias` one entry per output unit.
//! - Data: `{"x": [[…], …], "y": [[…], …]}`, one row per example.
//! - Gradients: `{"cost": J, "layers": [{"weight": [[…]], "bias": […]}, …]}` in the
//!   model's shapes.
//!
//! Every reader validates shapes and values and names the offending field.

use crate::Precision;
use crate::activation::Activation;
use crate::data::preprocess::FeatureTransform;
use crate::error::{Error, Result};
use crate::layer::Dense;
use crate::network::{Gradients, Network};
use crate::tensor;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// One layer of a [`ModelJson`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerJson {
    /// `[inputs][outputs]`.
    pub weight: Vec<Vec<f64>>,
    /// `[outputs]`.
    pub bias: Vec<f64>,
    /// Overrides the model's activation for this layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation: Option<Activation>,
}

/// A network in the interchange format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelJson {
    /// Activation of every layer without an override.
    pub activation: Activation,
    /// The layers, input side first.
    pub layers: Vec<LayerJson>,
}

/// A batch in the interchange format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataJson {
    /// Inputs, one row per example.
    pub x: Vec<Vec<f64>>,
    /// Targets, one row per example.
    pub y: Vec<Vec<f64>>,
}

/// Gradients of one layer, in the model's shapes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerGradientsJson {
    /// ∂J/∂weight, `[inputs][outputs]`.
    pub weight: Vec<Vec<f64>>,
    /// ∂J/∂bias, `[outputs]`.
    pub bias: Vec<f64>,
}

/// A cost and its gradients in the interchange format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientsJson {
    /// J(W, b).
    pub cost: f64,
    /// Per layer.
    pub layers: Vec<LayerGradientsJson>,
}

fn shape_error(what: String, expected: String, got: String) -> Error {
    Error::Shape {
        what,
        expected,
        got,
    }
}

/// Flattens a rectangular `rows × cols` array, naming the first bad row or value.
fn flatten(what: &str, rows: &[Vec<f64>], cols: Option<usize>) -> Result<(Vec<f64>, [usize; 2])> {
    if rows.is_empty() {
        return Err(shape_error(
            what.into(),
            "at least one row".into(),
            "[]".into(),
        ));
    }
    let width = cols.unwrap_or(rows[0].len());
    if width == 0 {
        return Err(shape_error(
            format!("{what}[0]"),
            "at least one column".into(),
            "[]".into(),
        ));
    }
    for (i, row) in rows.iter().enumerate() {
        if row.len() != width {
            return Err(shape_error(
                format!("{what}[{i}]"),
                format!("{width} entries"),
                format!("{}", row.len()),
            ));
        }
        // serde_json refuses NaN and ±inf literals, but ±1e999 parses as ±inf.
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                what: format!("{what}[{i}][{j}]"),
                index: i * width + j,
                value: row[j],
            });
        }
    }
    Ok((rows.concat(), [rows.len(), width]))
}

impl ModelJson {
    /// Builds the network, checking that every layer is rectangular, biases
    /// match, and each layer's inputs equal the previous layer's outputs.
    pub fn to_network(&self, device: &Device, precision: Precision) -> Result<Network> {
        if self.layers.is_empty() {
            return Err(shape_error(
                "layers".into(),
                "at least one layer".into(),
                "[]".into(),
            ));
        }
        crate::backend::verify_precision(device, precision)?;
        let mut layers = Vec::with_capacity(self.layers.len());
        let mut previous: Option<usize> = None;
        for (l, layer) in self.layers.iter().enumerate() {
            let (weight, [d_in, d_out]) =
                flatten(&format!("layers[{l}].weight"), &layer.weight, None)?;
            if let Some(p) = previous
                && p != d_in
            {
                return Err(shape_error(
                    format!("layers[{l}].weight"),
                    format!("{p} rows, one per output unit of layers[{}]", l - 1),
                    format!("{d_in} rows"),
                ));
            }
            if layer.bias.len() != d_out {
                return Err(shape_error(
                    format!("layers[{l}].bias"),
                    format!("{d_out} entries, one per column of the weight"),
                    format!("{}", layer.bias.len()),
                ));
            }
            tensor::check_finite(&format!("layers[{l}].bias"), &layer.bias)?;
            layers.push(Dense::from_values(
                weight,
                layer.bias.clone(),
                [d_in, d_out],
                layer.activation.unwrap_or(self.activation),
                device,
                precision,
            ));
            previous = Some(d_out);
        }
        Ok(Network { layers })
    }

    /// The interchange form of `network`.
    pub fn from_network(network: &Network) -> Result<ModelJson> {
        let activation = network
            .layers
            .last()
            .map_or(Activation::Sigmoid, |l| l.activation);
        let mut layers = Vec::with_capacity(network.layers.len());
        for layer in &network.layers {
            let [_, d_out] = layer.dims();
            let w = tensor::to_vec(&layer.weight.val())?;
            layers.push(LayerJson {
                weight: w.chunks(d_out).map(<[f64]>::to_vec).collect(),
                bias: tensor::to_vec(&layer.bias.val())?,
                activation: (layer.activation != activation).then_some(layer.activation),
            });
        }
        Ok(ModelJson { activation, layers })
    }
}

impl ModelJson {
    /// The interchange form of a network trained on transformed features
    /// x' = (x − offset) / scale, with the transform folded into the first
    /// layer so the model takes raw features:
    ///
    /// ```text
    /// x' · W + b = x · W' + b',   W'_ij = W_ij / scale_i,   b'_j = b_j − Σ_i offset_i W'_ij
    /// ```
    pub fn from_network_on_raw_features(
        network: &Network,
        transform: &FeatureTransform,
    ) -> Result<ModelJson> {
        let mut model = ModelJson::from_network(network)?;
        let first = &mut model.layers[0];
        if transform.scale.len() != first.weight.len()
            || transform.offset.len() != first.weight.len()
        {
            return Err(shape_error(
                "feature transform".into(),
                format!("{} features, like the first layer", first.weight.len()),
                format!("{}", transform.scale.len()),
            ));
        }
        for (i, row) in first.weight.iter_mut().enumerate() {
            for (j, w) in row.iter_mut().enumerate() {
                *w /= transform.scale[i];
                first.bias[j] -= transform.offset[i] * *w;
            }
        }
        Ok(model)
    }
}

impl DataJson {
    /// The batch as `(x, y)` tensors for `network`, checking widths against it.
    pub fn to_tensors(&self, network: &Network) -> Result<(Tensor<2>, Tensor<2>)> {
        let sizes = network.sizes();
        let (n_in, n_out) = (sizes[0], sizes[sizes.len() - 1]);
        let (x, [m, _]) =
            flatten("x", &self.x, Some(n_in)).map_err(|e| with_expectation(e, "x", n_in))?;
        let (y, [m_y, _]) =
            flatten("y", &self.y, Some(n_out)).map_err(|e| with_expectation(e, "y", n_out))?;
        if m_y != m {
            return Err(shape_error(
                "y".into(),
                format!("{m} rows, one per row of x"),
                format!("{m_y} rows"),
            ));
        }
        let (device, precision) = (network.device(), network.precision()?);
        Ok((
            tensor::matrix("x", x, [m, n_in], &device, precision)?,
            tensor::matrix("y", y, [m, n_out], &device, precision)?,
        ))
    }
}

/// Adds why a width is expected to a row-length error.
fn with_expectation(e: Error, what: &str, width: usize) -> Error {
    match e {
        Error::Shape { what: w, got, .. } if w.starts_with(&format!("{what}[")) => Error::Shape {
            what: w,
            expected: format!(
                "{width} entries ({})",
                if what == "x" {
                    "the model's input units"
                } else {
                    "the model's output units"
                }
            ),
            got,
        },
        other => other,
    }
}

impl GradientsJson {
    /// The interchange form of `grads` for `network`.
    pub fn from_gradients(network: &Network, grads: &Gradients) -> Result<GradientsJson> {
        let mut layers = Vec::with_capacity(grads.layers.len());
        for (layer, g) in network.layers.iter().zip(&grads.layers) {
            let [_, d_out] = layer.dims();
            let w = tensor::to_vec(&g.weight)?;
            layers.push(LayerGradientsJson {
                weight: w.chunks(d_out).map(<[f64]>::to_vec).collect(),
                bias: tensor::to_vec(&g.bias)?,
            });
        }
        Ok(GradientsJson {
            cost: grads.cost,
            layers,
        })
    }
}
