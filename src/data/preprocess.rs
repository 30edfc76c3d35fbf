//! Mapping raw features and targets into the ranges the network works in,
//! and predictions back. Fitted on the training part only and saved with the
//! model, so prediction applies exactly the transform training saw.

use super::{Dataset, Targets};
use crate::activation::Activation;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// How input features are rescaled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum FeatureScaling {
    /// Leave features as they are.
    None,
    /// Per feature: subtract the mean, divide by the standard deviation.
    Standardize,
    /// Divide every feature by the largest |value| in the training data
    /// (images: pixels to [0, 1], keeping the picture's contrast).
    MaxAbs,
}

impl FeatureScaling {
    /// The natural scaling of `data`: max-abs for images (pixels to [0, 1],
    /// keeping the picture's contrast), standardisation for anything else.
    pub fn default_for(data: &Dataset) -> FeatureScaling {
        if data.image_shape.is_some() {
            FeatureScaling::MaxAbs
        } else {
            FeatureScaling::Standardize
        }
    }
}

/// `x' = (x − offset) / scale`, per feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureTransform {
    /// Subtracted from each feature.
    pub offset: Vec<f64>,
    /// Each feature is divided by this.
    pub scale: Vec<f64>,
}

/// How targets become network outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TargetEncoding {
    /// Class c → a vector with `high` at c and `low` elsewhere: {0, 1} for
    /// sigmoid outputs, {−1, 1} for tanh (docs/maths.md § 2).
    OneHot {
        /// Number of classes.
        n_classes: usize,
        /// Value of the other classes.
        low: f64,
        /// Value of the true class.
        high: f64,
    },
    /// Per column, the training range [min, max] mapped linearly onto [low, high].
    Affine {
        /// Training minimum per column.
        min: Vec<f64>,
        /// Training maximum per column.
        max: Vec<f64>,
        /// Image of `min`.
        low: f64,
        /// Image of `max`.
        high: f64,
    },
}

/// Everything needed to feed a data set to a trained network and read its answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessing {
    /// The input transform.
    pub features: FeatureTransform,
    /// The target encoding.
    pub targets: TargetEncoding,
}

/// What the network's outputs mean.
#[derive(Debug, Clone, PartialEq)]
pub enum Predictions {
    /// The most active output unit per example.
    Classes(Vec<usize>),
    /// Outputs mapped back to target units, row-major `[m, n_targets]`.
    Values(Vec<f64>),
}

impl Preprocessing {
    /// Fits the transforms on `train` for a network whose output layer uses `output`.
    pub fn fit(
        train: &Dataset,
        scaling: FeatureScaling,
        output: Activation,
    ) -> Result<Preprocessing> {
        train.validate()?;
        let n = train.n_features;
        let m = train.len() as f64;
        let column = |j: usize| train.features.iter().skip(j).step_by(n);
        let (offset, scale) = match scaling {
            FeatureScaling::None => (vec![0.0; n], vec![1.0; n]),
            FeatureScaling::Standardize => (0..n)
                .map(|j| {
                    let mean = column(j).sum::<f64>() / m;
                    let var = column(j).map(|v| (v - mean).powi(2)).sum::<f64>() / m;
                    // A constant feature carries no information; dividing by 1
                    // keeps it at 0 instead of dividing by zero.
                    (mean, if var > 0.0 { var.sqrt() } else { 1.0 })
                })
                .unzip(),
            FeatureScaling::MaxAbs => {
                let max = crate::tensor::max_abs(&train.features);
                (vec![0.0; n], vec![if max > 0.0 { max } else { 1.0 }; n])
            }
        };
        let (low, high) = output.range();
        let targets = match &train.targets {
            Targets::Classes { n_classes, .. } => TargetEncoding::OneHot {
                n_classes: *n_classes,
                low,
                high,
            },
            Targets::Values { values, n_targets } => {
                let col = |j: usize| values.iter().skip(j).step_by(*n_targets);
                // Map onto the middle 80% of the activation's range: the ends are
                // asymptotes that f reaches only as z → ±∞.
                let margin = 0.1 * (high - low);
                TargetEncoding::Affine {
                    min: (0..*n_targets)
                        .map(|j| col(j).fold(f64::INFINITY, |a, &v| a.min(v)))
                        .collect(),
                    max: (0..*n_targets)
                        .map(|j| col(j).fold(f64::NEG_INFINITY, |a, &v| a.max(v)))
                        .collect(),
                    low: low + margin,
                    high: high - margin,
                }
            }
        };
        Ok(Preprocessing {
            features: FeatureTransform { offset, scale },
            targets,
        })
    }

    /// Number of input units the transform expects.
    pub fn n_features(&self) -> usize {
        self.features.offset.len()
    }

    /// Number of output units the encoding produces.
    pub fn n_outputs(&self) -> usize {
        match &self.targets {
            TargetEncoding::OneHot { n_classes, .. } => *n_classes,
            TargetEncoding::Affine { min, .. } => min.len(),
        }
    }

    /// The transformed features of `data`, row-major.
    pub fn inputs(&self, data: &Dataset) -> Result<Vec<f64>> {
        if data.n_features != self.n_features() {
            return Err(Error::Shape {
                what: format!("{} features", data.name),
                expected: format!("{} features per example, as in training", self.n_features()),
                got: format!("{}", data.n_features),
            });
        }
        let n = self.n_features();
        Ok(data
            .features
            .iter()
            .enumerate()
            .map(|(i, v)| (v - self.features.offset[i % n]) / self.features.scale[i % n])
            .collect())
    }

    /// The encoded targets of `data`, row-major `[m, n_outputs]`.
    pub fn outputs(&self, data: &Dataset) -> Result<Vec<f64>> {
        match (&self.targets, &data.targets) {
            (
                TargetEncoding::OneHot {
                    n_classes,
                    low,
                    high,
                },
                Targets::Classes {
                    labels,
                    n_classes: k,
                },
            ) if k <= n_classes => Ok(labels
                .iter()
                .flat_map(|&l| (0..*n_classes).map(move |c| if c == l { *high } else { *low }))
                .collect()),
            (
                TargetEncoding::Affine {
                    min,
                    max,
                    low,
                    high,
                },
                Targets::Values { values, n_targets },
            ) if *n_targets == min.len() => Ok(values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let j = i % n_targets;
                    let span = max[j] - min[j];
                    if span > 0.0 {
                        low + (high - low) * (v - min[j]) / span
                    } else {
                        (low + high) / 2.0
                    }
                })
                .collect()),
            _ => Err(Error::Shape {
                what: format!("{} targets", data.name),
                expected: format!("{} like the training data", self.describe_targets()),
                got: match &data.targets {
                    Targets::Classes { n_classes, .. } => format!("{n_classes} classes"),
                    Targets::Values { n_targets, .. } => format!("{n_targets} real-valued columns"),
                },
            }),
        }
    }

    /// Reads network outputs (`[m, n_outputs]`, row-major) as predictions.
    pub fn decode(&self, outputs: &[f64]) -> Predictions {
        let k = self.n_outputs();
        match &self.targets {
            TargetEncoding::OneHot { .. } => Predictions::Classes(
                outputs
                    .chunks(k)
                    .map(|row| {
                        row.iter()
                            .enumerate()
                            .max_by(|a, b| a.1.total_cmp(b.1))
                            .map_or(0, |(c, _)| c)
                    })
                    .collect(),
            ),
            TargetEncoding::Affine {
                min,
                max,
                low,
                high,
            } => Predictions::Values(
                outputs
                    .iter()
                    .enumerate()
                    .map(|(i, o)| {
                        let j = i % k;
                        min[j] + (max[j] - min[j]) * (o - low) / (high - low)
                    })
                    .collect(),
            ),
        }
    }

    fn describe_targets(&self) -> String {
        match &self.targets {
            TargetEncoding::OneHot { n_classes, .. } => format!("class labels below {n_classes}"),
            TargetEncoding::Affine { min, .. } => format!("{} real-valued columns", min.len()),
        }
    }
}
