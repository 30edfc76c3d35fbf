//! `backprop predict`: a saved model's metrics and predictions on a data set.

use super::headline;
use crate::data::preprocess::{FeatureScaling, Predictions, Preprocessing};
use crate::data::{DataSource, DatasetKind};
use crate::error::Error;
use crate::persist::ModelMeta;
use crate::run::TrainOptions;
use crate::training::Prepared;
use crate::{Backend, Precision};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What `backprop predict` runs.
#[derive(Debug, Clone, clap::Args)]
pub struct PredictRequest {
    /// Model directory written by `train` (model.bpk + model.json), or a model in
    /// the JSON interchange format (then features are used as they are, and --dataset is needed).
    #[arg(long)]
    pub model: PathBuf,
    /// Data set to predict [default: the one the model was trained on, where built in].
    #[arg(long, value_enum)]
    pub dataset: Option<DatasetKind>,
    /// CSV file for --dataset csv.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// CSV target columns (for metrics).
    #[arg(long, value_delimiter = ',')]
    pub target_columns: Vec<String>,
    /// Treat the CSV target column as class labels.
    #[arg(long)]
    pub classify: bool,
    /// Directory with the MNIST IDX files (the 10k test set is used).
    #[arg(long, default_value = "data/mnist")]
    pub mnist_dir: PathBuf,
    /// Backend to run on.
    #[arg(long, default_value = "flex", help = crate::backend::HELP)]
    pub backend: Backend,
    /// Write predictions here as CSV.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Evaluates the model on the data set and, with `args.out`, writes its predictions.
pub fn run(args: PredictRequest) -> Result<ExitCode, Error> {
    let device = args.backend.device()?;
    let (network, meta) = super::load_model(&args.model, &device)?;
    let data = DataSource {
        dataset: dataset_kind(&args, meta.as_ref())?,
        data: args.data.clone(),
        target_columns: args.target_columns.clone(),
        classify: args.classify,
        mnist_dir: args.mnist_dir.clone(),
    }
    .evaluation_set(TrainOptions::default().seed)?;
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
        let outputs = crate::tensor::to_vec(&network.forward(prepared.x))?;
        write_predictions(out, &preprocessing, &outputs)?;
        println!("predictions written to {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `--dataset`, or the built-in data set the model was trained on.
fn dataset_kind(args: &PredictRequest, meta: Option<&ModelMeta>) -> Result<DatasetKind, Error> {
    if let Some(kind) = args.dataset {
        return Ok(kind);
    }
    let trained_on = meta.map_or("(a JSON model)", |m| m.dataset.as_str());
    DatasetKind::of_trained(trained_on).ok_or_else(|| Error::InvalidParameter {
        name: "dataset",
        value: "(none)".into(),
        reason: format!(
            "the model was trained on {:?}; say which data to predict with --dataset",
            trained_on.trim_end_matches("-train")
        ),
    })
}

/// The decoded outputs as CSV: a class per row, or one column per output.
fn write_predictions(
    out: &Path,
    preprocessing: &Preprocessing,
    outputs: &[f64],
) -> Result<(), Error> {
    let rows: Vec<Vec<String>> = match preprocessing.decode(outputs) {
        Predictions::Classes(classes) => std::iter::once(vec!["prediction".to_string()])
            .chain(classes.iter().map(|c| vec![c.to_string()]))
            .collect(),
        Predictions::Values(values) => {
            let k = preprocessing.n_outputs();
            std::iter::once((0..k).map(|j| format!("prediction_{j}")).collect())
                .chain(
                    values
                        .chunks(k)
                        .map(|row| row.iter().map(f64::to_string).collect()),
                )
                .collect()
        }
    };
    crate::io::write_csv(out, rows)
}
