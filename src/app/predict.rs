//! `backprop predict`: a saved model's metrics and predictions on a data set.

use super::headline;
use crate::data::preprocess::{FeatureScaling, Predictions, Preprocessing};
use crate::error::Error;
use crate::interchange::{ModelJson, read_json};
use crate::run::{DatasetKind, TrainOptions};
use crate::training::Prepared;
use crate::{Backend, Precision, persist};
use std::path::PathBuf;
use std::process::ExitCode;

/// What `backprop predict` runs.
#[derive(Debug, Clone)]
pub struct PredictRequest {
    /// Model directory written by `train` (model.bpk + model.json), or a model in
    /// the JSON interchange format (then features are used as they are, and --dataset is needed).
    pub model: PathBuf,
    /// Data set to predict [default: the one the model was trained on, where built in].
    pub dataset: Option<DatasetKind>,
    /// CSV file for --dataset csv.
    pub data: Option<PathBuf>,
    /// CSV target columns (for metrics).
    pub target_columns: Vec<String>,
    /// Treat the CSV target column as class labels.
    pub classify: bool,
    /// Directory with the MNIST IDX files (the 10k test set is used).
    pub mnist_dir: PathBuf,
    /// Backend to run on.
    pub backend: Backend,
    /// Write predictions here as CSV.
    pub out: Option<PathBuf>,
}

/// Evaluates the model on the data set and, with `args.out`, writes its predictions.
pub fn run(args: PredictRequest) -> Result<ExitCode, Error> {
    let device = args.backend.device()?;
    let interchange = args.model.is_file() && args.model.extension().is_some_and(|e| e == "json");
    let (network, meta) = if interchange {
        (
            read_json::<ModelJson>(&args.model)?.to_network(&device, Precision::F64)?,
            None,
        )
    } else {
        let (network, meta) = persist::load(&args.model, &device)?;
        (network, Some(meta))
    };
    let trained_on = meta
        .as_ref()
        .map_or("(a JSON model)", |m| m.dataset.as_str());
    let kind = match args.dataset {
        Some(kind) => kind,
        None => match trained_on.trim_end_matches("-train") {
            "digits" => DatasetKind::Digits,
            "mnist" => DatasetKind::Mnist,
            "xor" => DatasetKind::Xor,
            "sine" => DatasetKind::Sine,
            other => {
                return Err(Error::InvalidParameter {
                    name: "dataset",
                    value: "(none)".into(),
                    reason: format!(
                        "the model was trained on {other:?}; say which data to predict with --dataset"
                    ),
                });
            }
        },
    };
    let options = TrainOptions {
        dataset: kind,
        data: args.data.clone(),
        target_columns: args.target_columns.clone(),
        classify: args.classify,
        mnist_dir: args.mnist_dir.clone(),
        validation: 0.0,
        test: 0.0,
        ..TrainOptions::default()
    };
    let split = options.load_data()?;
    // MNIST predicts its own test set; the others the whole data set.
    let data = if kind == DatasetKind::Mnist {
        split.test
    } else {
        split.train
    };
    // A JSON model carries no preprocessing: features go in as they are, and
    // labels are encoded for its output activation.
    let (preprocessing, precision) = match meta {
        Some(meta) => (meta.preprocessing, meta.precision),
        None => {
            let output = network.layers[network.layers.len() - 1].activation;
            (
                Preprocessing::fit(&data, FeatureScaling::None, output)?,
                Precision::F64,
            )
        }
    };
    let prepared = Prepared::new(&data, &preprocessing, &device, precision)?;
    let metrics = crate::training::evaluate(&network, &prepared, &preprocessing, 0.0)?;
    println!(
        "{} examples of {}: {}",
        data.len(),
        data.name,
        headline(&metrics)
    );
    if let Some(out) = &args.out {
        let outputs = crate::tensor::to_vec(&network.hypothesis(prepared.x))?;
        let text = match preprocessing.decode(&outputs) {
            Predictions::Classes(classes) => std::iter::once("prediction".to_string())
                .chain(classes.iter().map(|c| c.to_string()))
                .collect::<Vec<_>>(),
            Predictions::Values(values) => {
                let k = preprocessing.n_outputs();
                std::iter::once(
                    (0..k)
                        .map(|j| format!("prediction_{j}"))
                        .collect::<Vec<_>>()
                        .join(","),
                )
                .chain(
                    values
                        .chunks(k)
                        .map(|row| row.iter().map(f64::to_string).collect::<Vec<_>>().join(",")),
                )
                .collect()
            }
        };
        persist::write_atomic(out, format!("{}\n", text.join("\n")).as_bytes())?;
        println!("predictions written to {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}
