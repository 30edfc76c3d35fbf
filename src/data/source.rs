//! Where a command's data comes from: a built-in data set, MNIST's files or a
//! CSV table — the one data-source type of training, prediction and checks.

use super::{Dataset, Split, csv, digits, idx, synthetic};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Which data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum DatasetKind {
    /// UCI handwritten digits, 8×8, 1797 examples (embedded).
    Digits,
    /// MNIST, 28×28, 60k + 10k examples (fetch with scripts/fetch-mnist.sh).
    Mnist,
    /// The four XOR points.
    Xor,
    /// 200 points of sin(x) on [−π, π] (regression).
    Sine,
    /// A CSV file given with `data` and `target_columns`.
    Csv,
}

impl DatasetKind {
    /// The built-in data set a model was trained on, from the data set name
    /// its metadata records (`digits-train`, …); `None` for CSV files.
    pub fn of_trained(name: &str) -> Option<DatasetKind> {
        match name.trim_end_matches("-train") {
            "digits" => Some(DatasetKind::Digits),
            "mnist" => Some(DatasetKind::Mnist),
            "xor" => Some(DatasetKind::Xor),
            "sine" => Some(DatasetKind::Sine),
            _ => None,
        }
    }
}

/// A data set and where its files are.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSource {
    /// The data set.
    pub dataset: DatasetKind,
    /// The CSV file, for [`DatasetKind::Csv`].
    pub data: Option<PathBuf>,
    /// CSV target columns (names or 0-based indices).
    pub target_columns: Vec<String>,
    /// Treat the CSV target as class labels.
    pub classify: bool,
    /// Where the MNIST IDX files are.
    pub mnist_dir: PathBuf,
}

impl DataSource {
    /// A built-in data set, MNIST from `data/mnist`.
    pub fn new(dataset: DatasetKind) -> DataSource {
        DataSource {
            dataset,
            data: None,
            target_columns: Vec::new(),
            classify: false,
            mnist_dir: PathBuf::from("data/mnist"),
        }
    }

    /// Loads the data and splits it: `validation` and `test` are fractions
    /// held out, shuffled by `seed`. MNIST keeps its own 10k test set; XOR's
    /// four points cannot be split and are learned and judged on all of them.
    pub fn load(&self, validation: f64, test: f64, seed: u64) -> Result<Split> {
        match self.dataset {
            DatasetKind::Digits => digits::load()?.split(validation, test, seed),
            DatasetKind::Mnist => {
                let (train, test) = idx::load_mnist(&self.mnist_dir)?;
                let split = train.split(validation, 0.0, seed)?;
                Ok(Split {
                    train: split.train,
                    validation: split.validation,
                    test,
                })
            }
            DatasetKind::Xor => {
                let xor = synthetic::xor();
                Ok(Split {
                    train: xor.clone(),
                    validation: xor.clone(),
                    test: xor,
                })
            }
            DatasetKind::Sine => synthetic::sine(200).split(validation, test, seed),
            DatasetKind::Csv => self.load_csv()?.split(validation, test, seed),
        }
    }

    /// The examples to evaluate a model on: MNIST's test set, or the whole of
    /// any other data set, in the order a split with `seed` shuffles them into.
    pub fn evaluation_set(&self, seed: u64) -> Result<Dataset> {
        let split = self.load(0.0, 0.0, seed)?;
        Ok(match self.dataset {
            DatasetKind::Mnist => split.test,
            _ => split.train,
        })
    }

    /// Every example in the data set's own order (MNIST: its 60k training
    /// images), unsplit.
    pub fn examples(&self) -> Result<Dataset> {
        match self.dataset {
            DatasetKind::Digits => digits::load(),
            DatasetKind::Mnist => Ok(idx::load_mnist(&self.mnist_dir)?.0),
            DatasetKind::Xor => Ok(synthetic::xor()),
            DatasetKind::Sine => Ok(synthetic::sine(200)),
            DatasetKind::Csv => self.load_csv(),
        }
    }

    fn load_csv(&self) -> Result<Dataset> {
        let path = self.data.as_ref().ok_or_else(|| Error::InvalidParameter {
            name: "data",
            value: "(none)".into(),
            reason: "the csv data set needs `data` (a CSV file) and `target_columns`".into(),
        })?;
        let options = csv::CsvOptions {
            target_columns: self.target_columns.clone(),
            classification: self.classify,
        };
        csv::load(path, &options)
    }
}
