//! Data sets: loaders for real and synthetic data, splits, and the
//! preprocessing that maps raw features and labels into the network's ranges.
//!
//! - [`digits`]: the UCI handwritten digits (1797 8×8 images), embedded in the binary.
//! - [`idx`]: MNIST's IDX files (raw or gzipped), fetched by `scripts/fetch-mnist.sh`.
//! - [`csv`]: any numeric table.
//! - [`synthetic`]: XOR and a sine curve, for demos and tests.

pub mod csv;
pub mod digits;
pub mod idx;
pub mod preprocess;
mod source;
pub mod synthetic;

pub use source::{DataSource, DatasetKind};

use crate::error::{Error, Result};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

/// What is to be predicted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Targets {
    /// One class label per example, in `0..n_classes`.
    Classes {
        /// The labels.
        labels: Vec<usize>,
        /// Number of classes (output units).
        n_classes: usize,
    },
    /// Real-valued targets, row-major `[len, n_targets]`.
    Values {
        /// The targets.
        values: Vec<f64>,
        /// Number of target columns (output units).
        n_targets: usize,
    },
}

impl Targets {
    /// Number of output units a network needs for these targets.
    pub fn width(&self) -> usize {
        match self {
            Targets::Classes { n_classes, .. } => *n_classes,
            Targets::Values { n_targets, .. } => *n_targets,
        }
    }

    /// Whether these are class labels.
    pub fn is_classification(&self) -> bool {
        matches!(self, Targets::Classes { .. })
    }
}

/// A table of examples: features (row-major) and targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// A short name for reports (`digits`, `mnist-train`, a file name).
    pub name: String,
    /// Row-major `[len, n_features]`.
    pub features: Vec<f64>,
    /// Number of features per example (input units).
    pub n_features: usize,
    /// The targets, one row per example.
    pub targets: Targets,
    /// `[height, width]` when each example is an image (for weight pictures).
    pub image_shape: Option<[usize; 2]>,
}

/// A data set cut into training, validation and test parts.
#[derive(Debug, Clone)]
pub struct Split {
    /// Used to compute gradients.
    pub train: Dataset,
    /// Watched during training (model selection, early warning of over-fitting).
    pub validation: Dataset,
    /// Touched only for the final report.
    pub test: Dataset,
}

impl Dataset {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.features
            .len()
            .checked_div(self.n_features)
            .unwrap_or(0)
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks internal consistency: sizes agree, values finite, labels in range.
    pub fn validate(&self) -> Result<()> {
        let bad = |message: String| Error::Parse {
            source_name: self.name.clone(),
            position: "data set".into(),
            message,
        };
        if self.n_features == 0 || self.features.is_empty() {
            return Err(bad("no examples or no features".into()));
        }
        if !self.features.len().is_multiple_of(self.n_features) {
            return Err(bad(format!(
                "{} feature values do not divide into rows of {}",
                self.features.len(),
                self.n_features
            )));
        }
        crate::tensor::check_finite(&format!("{} features", self.name), &self.features)?;
        let m = self.len();
        match &self.targets {
            Targets::Classes { labels, n_classes } => {
                if labels.len() != m {
                    return Err(bad(format!("{} labels for {m} examples", labels.len())));
                }
                if let Some((i, l)) = labels.iter().enumerate().find(|(_, l)| **l >= *n_classes) {
                    return Err(bad(format!(
                        "label {l} of example {i} is not below the {n_classes} classes"
                    )));
                }
            }
            Targets::Values { values, n_targets } => {
                if *n_targets == 0 || values.len() != m * n_targets {
                    return Err(bad(format!(
                        "{} target values for {m} examples × {n_targets}",
                        values.len()
                    )));
                }
                crate::tensor::check_finite(&format!("{} targets", self.name), values)?;
            }
        }
        Ok(())
    }

    /// The examples at `indices`, in that order.
    pub fn subset(&self, name: &str, indices: &[usize]) -> Dataset {
        let n = self.n_features;
        let features = indices
            .iter()
            .flat_map(|&i| self.features[i * n..(i + 1) * n].iter().copied())
            .collect();
        let targets = match &self.targets {
            Targets::Classes { labels, n_classes } => Targets::Classes {
                labels: indices.iter().map(|&i| labels[i]).collect(),
                n_classes: *n_classes,
            },
            Targets::Values { values, n_targets } => Targets::Values {
                values: indices
                    .iter()
                    .flat_map(|&i| values[i * n_targets..(i + 1) * n_targets].iter().copied())
                    .collect(),
                n_targets: *n_targets,
            },
        };
        Dataset {
            name: name.to_string(),
            features,
            n_features: n,
            targets,
            image_shape: self.image_shape,
        }
    }

    /// A deterministic shuffle-and-cut into train / validation / test by `seed`.
    ///
    /// `validation` and `test` are fractions of the whole in [0, 1); each
    /// non-zero part gets at least one example, and train keeps the rest.
    pub fn split(&self, validation: f64, test: f64, seed: u64) -> Result<Split> {
        for (name, f) in [("validation fraction", validation), ("test fraction", test)] {
            if !(0.0..1.0).contains(&f) {
                return Err(Error::InvalidParameter {
                    name: if name.starts_with('v') {
                        "validation"
                    } else {
                        "test"
                    },
                    value: crate::error::readable(f),
                    reason: format!("the {name} must be in [0, 1)"),
                });
            }
        }
        let m = self.len();
        let count = |f: f64| {
            if f > 0.0 {
                ((f * m as f64).round() as usize).max(1)
            } else {
                0
            }
        };
        let (n_val, n_test) = (count(validation), count(test));
        if n_val + n_test >= m {
            return Err(Error::InvalidParameter {
                name: "validation",
                value: format!("{validation} (+ test {test})"),
                reason: format!("{m} examples leave none for training; use smaller fractions"),
            });
        }
        let mut order: Vec<usize> = (0..m).collect();
        order.shuffle(&mut StdRng::seed_from_u64(seed));
        let (test_idx, rest) = order.split_at(n_test);
        let (val_idx, train_idx) = rest.split_at(n_val);
        Ok(Split {
            train: self.subset(&format!("{}-train", self.name), train_idx),
            validation: self.subset(&format!("{}-validation", self.name), val_idx),
            test: self.subset(&format!("{}-test", self.name), test_idx),
        })
    }
}
