//! The end-to-end training job behind `backprop train`: data → preprocessing →
//! network → gradient descent → saved model, history and pictures.
//!
//! [`TrainOptions`] is also the schema of `--config FILE.json`.

use crate::activation::Activation;
use crate::backend::{Backend, Precision};
use crate::data::preprocess::{FeatureScaling, Preprocessing};
use crate::data::{self, Dataset, Split};
use crate::error::{Error, Result};
use crate::network::NetworkConfig;
use crate::persist::{self, ModelMeta};
use crate::training::{
    self, EpochRecord, GradientSource, Metrics, OptimizerConfig, Prepared, TrainConfig,
    TrainOutcome,
};
use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Which data set to train on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
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

/// Every option of a training run, with the defaults of `backprop train`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainOptions {
    /// The data set.
    pub dataset: DatasetKind,
    /// The CSV file, for `dataset = csv`.
    pub data: Option<PathBuf>,
    /// CSV target columns (names or 0-based indices).
    pub target_columns: Vec<String>,
    /// Treat the CSV target as class labels.
    pub classify: bool,
    /// Where the MNIST IDX files are.
    pub mnist_dir: PathBuf,
    /// Hidden layer sizes.
    pub hidden: Vec<usize>,
    /// Activation of every layer.
    pub activation: Activation,
    /// Weight decay λ.
    pub lambda: f64,
    /// Step size α.
    pub alpha: f64,
    /// Passes over the training set.
    pub epochs: usize,
    /// Mini-batch size; absent for full-batch gradient descent.
    pub batch_size: Option<usize>,
    /// ε of the N(0, ε²) initialisation.
    pub init_std: f64,
    /// Seed of initialisation, split and shuffling.
    pub seed: u64,
    /// Compute backend.
    pub backend: Backend,
    /// Precision.
    pub dtype: Precision,
    /// Feature scaling; absent for the data set's natural choice (images: max-abs, else standardise).
    pub scaling: Option<FeatureScaling>,
    /// Fraction of the data held out for validation.
    pub validation: f64,
    /// Fraction of the data held out for the final test (ignored for MNIST, which has its own).
    pub test: f64,
    /// Start from this model (JSON interchange format) instead of a random
    /// one; its layer sizes and activations replace `hidden` and `activation`.
    pub init_model: Option<PathBuf>,
    /// The update rule (`gd`, `momentum`, `adam`, `lbfgs`) and its hyper-parameters.
    pub optimizer: OptimizerConfig,
    /// The gradients that drive it: `manual` (hand-written) or `autodiff` (a control).
    pub gradients: GradientSource,
    /// Stop after this many epochs without a better validation metric.
    pub patience: Option<usize>,
    /// Data-parallel training: every batch is split over these devices (local
    /// backends or `backprop serve` URLs) and their gradients combined; the
    /// parameters stay on `backend`. Empty: `backend` does all the work.
    pub devices: Vec<Backend>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            dataset: DatasetKind::Digits,
            data: None,
            target_columns: Vec::new(),
            classify: false,
            mnist_dir: PathBuf::from("data/mnist"),
            hidden: vec![30],
            activation: Activation::Sigmoid,
            lambda: 3e-5,
            alpha: 4.0,
            epochs: 8000,
            batch_size: None,
            init_std: 0.01,
            seed: 1,
            backend: Backend::Flex,
            dtype: Precision::F32,
            scaling: None,
            validation: 0.15,
            test: 0.15,
            init_model: None,
            optimizer: OptimizerConfig::gd(),
            gradients: GradientSource::Manual,
            patience: None,
            devices: Vec::new(),
        }
    }
}

impl TrainOptions {
    /// Reads options from a JSON file; absent fields keep their defaults.
    pub fn from_json_file(path: &Path) -> Result<TrainOptions> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            action: "read",
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| Error::Parse {
            source_name: path.display().to_string(),
            position: format!("line {}, column {}", e.line(), e.column()),
            message: e.to_string(),
        })
    }

    /// Loads and splits the chosen data set.
    pub fn load_data(&self) -> Result<Split> {
        let seed = self.seed;
        match self.dataset {
            DatasetKind::Digits => data::digits::load()?.split(self.validation, self.test, seed),
            DatasetKind::Mnist => {
                let (train, test) = data::idx::load_mnist(&self.mnist_dir)?;
                let split = train.split(self.validation, 0.0, seed)?;
                Ok(Split {
                    train: split.train,
                    validation: split.validation,
                    test,
                })
            }
            // Four points cannot be split: XOR is learned and judged on all of them.
            DatasetKind::Xor => {
                let xor = data::synthetic::xor();
                Ok(Split {
                    train: xor.clone(),
                    validation: xor.clone(),
                    test: xor,
                })
            }
            DatasetKind::Sine => data::synthetic::sine(200).split(self.validation, self.test, seed),
            DatasetKind::Csv => {
                let path = self.data.as_ref().ok_or_else(|| Error::InvalidParameter {
                    name: "data",
                    value: "(none)".into(),
                    reason: "--dataset csv needs --data FILE.csv and --target-columns".into(),
                })?;
                let options = data::csv::CsvOptions {
                    target_columns: self.target_columns.clone(),
                    classification: self.classify,
                };
                data::csv::load(path, &options)?.split(self.validation, self.test, seed)
            }
        }
    }

    /// The network architecture for data with `n_features` inputs and `n_outputs` outputs.
    pub fn network_config(&self, n_features: usize, n_outputs: usize) -> NetworkConfig {
        let mut sizes = vec![n_features];
        sizes.extend(&self.hidden);
        sizes.push(n_outputs);
        NetworkConfig::new(sizes)
            .with_activation(self.activation)
            .with_init_std(self.init_std)
            .with_seed(self.seed)
    }

    /// The gradient-descent settings.
    pub fn train_config(&self) -> TrainConfig {
        TrainConfig {
            learning_rate: self.alpha,
            weight_decay: self.lambda,
            epochs: self.epochs,
            batch_size: self.batch_size,
            seed: self.seed,
            optimizer: self.optimizer.clone(),
            gradients: self.gradients,
            patience: self.patience,
        }
    }

    /// Checks every option that can be checked before loading data.
    pub fn validate(&self) -> Result<()> {
        if let Some(h) = self.hidden.iter().position(|&h| h == 0) {
            return Err(Error::InvalidParameter {
                name: "hidden",
                value: format!("{:?}", self.hidden),
                reason: format!("hidden layer {h} has zero units"),
            });
        }
        if !(self.init_std.is_finite() && self.init_std > 0.0) {
            return Err(Error::InvalidParameter {
                name: "init_std",
                value: crate::error::readable(self.init_std),
                reason: "ε must be finite and > 0 (0 makes every unit identical; see `backprop symmetry`)".into(),
            });
        }
        self.train_config().validate(usize::MAX)
    }
}

/// Metrics of one model on the three sets.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetMetrics {
    /// Training set.
    pub train: Metrics,
    /// Validation set.
    pub validation: Metrics,
    /// Test set.
    pub test: Metrics,
}

/// Final metrics of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Training set, with the saved model: the one of the best validation metric.
    pub train: Metrics,
    /// Validation set, with the saved model.
    pub validation: Metrics,
    /// Test set, with the saved model.
    pub test: Metrics,
    /// The epoch of the saved model (the best validation metric).
    pub best_epoch: usize,
    /// The three sets with the last model (saved under `last/`).
    pub last: SetMetrics,
    /// The update rule.
    pub optimizer: training::OptimizerKind,
    /// Steps that moved the parameters (L-BFGS: iterations).
    pub iterations: usize,
    /// Cost-and-gradient evaluations (L-BFGS: with its line searches).
    pub evaluations: usize,
    /// Epochs completed.
    pub epochs: usize,
    /// Total wall time of the updates, seconds.
    pub train_seconds: f64,
    /// Mean wall time of one epoch's updates, milliseconds.
    pub millis_per_epoch: f64,
    /// Why training stopped.
    pub stop: training::Stop,
}

/// A finished run: the outcome, the summary and what is needed to save it.
pub struct Trained {
    /// The network and history.
    pub outcome: TrainOutcome,
    /// Final metrics.
    pub summary: Summary,
    /// What to store beside the weights.
    pub meta: ModelMeta,
}

impl Trained {
    /// The network saved as the run's model: the best by validation metric.
    pub fn best_network(&self) -> &crate::network::Network {
        self.outcome
            .best
            .as_ref()
            .map_or(&self.outcome.network, |b| &b.network)
    }
}

/// Trains as `options` say, calling `on_epoch` after every epoch (for progress
/// bars and Ctrl-C).
pub fn train(
    options: &TrainOptions,
    on_epoch: impl FnMut(&EpochRecord) -> ControlFlow<()>,
) -> Result<Trained> {
    options.validate()?;
    let split = options.load_data()?;
    train_on(options, &split, on_epoch)
}

/// [`train`] on data already loaded.
pub fn train_on(
    options: &TrainOptions,
    split: &Split,
    on_epoch: impl FnMut(&EpochRecord) -> ControlFlow<()>,
) -> Result<Trained> {
    let device = options.backend.device()?;
    let Some(path) = &options.init_model else {
        return train_with_network(
            options,
            split,
            |config| config.init(&device, options.dtype),
            on_epoch,
        );
    };
    let network = crate::interchange::read_json::<crate::interchange::ModelJson>(path)?
        .to_network(&device, options.dtype)?;
    let sizes = network.sizes();
    let (n_in, n_out) = (split.train.n_features, split.train.targets.width());
    if sizes[0] != n_in || sizes[sizes.len() - 1] != n_out {
        return Err(Error::Shape {
            what: path.display().to_string(),
            expected: format!(
                "a model with {n_in} inputs and {n_out} outputs for {}",
                split.train.name
            ),
            got: format!("sizes {sizes:?}"),
        });
    }
    let mut options = options.clone();
    options.hidden = sizes[1..sizes.len() - 1].to_vec();
    options.activation = network.layers[network.layers.len() - 1].activation;
    // An interchange model takes raw features (exports fold the scaling into
    // the first layer), so unless told otherwise it trains on them unscaled.
    options.scaling = options.scaling.or(Some(FeatureScaling::None));
    train_with_network(&options, split, |_| Ok(network), on_epoch)
}

/// [`train_on`] with the initial network made by `init` from the run's
/// architecture (e.g. [`NetworkConfig::init_constant`] to show symmetry).
pub fn train_with_network(
    options: &TrainOptions,
    split: &Split,
    init: impl FnOnce(&NetworkConfig) -> Result<crate::network::Network>,
    on_epoch: impl FnMut(&EpochRecord) -> ControlFlow<()>,
) -> Result<Trained> {
    options.validate()?;
    let device = options.backend.device()?;
    let scaling = options
        .scaling
        .unwrap_or(if split.train.image_shape.is_some() {
            FeatureScaling::MaxAbs
        } else {
            FeatureScaling::Standardize
        });
    let preprocessing = Preprocessing::fit(&split.train, scaling, options.activation)?;
    let sets = [&split.train, &split.validation, &split.test];
    let sizes = options
        .network_config(preprocessing.n_features(), preprocessing.n_outputs())
        .sizes;
    crate::resources::ensure_fits(
        &format!("training a network of sizes {sizes:?}"),
        crate::resources::training_bytes(
            &sizes,
            options.dtype,
            sets.iter().map(|d| d.len()).sum(),
            options.batch_size.unwrap_or(split.train.len()),
            sets.iter().map(|d| d.len()).max().unwrap_or(0),
            options.optimizer.kind,
            options.optimizer.lbfgs_history,
        ),
    )?;
    let prepare = |d: &Dataset| Prepared::new(d, &preprocessing, &device, options.dtype);
    let (train_set, validation, test) = (
        prepare(&split.train)?,
        prepare(&split.validation)?,
        prepare(&split.test)?,
    );
    let config = options.network_config(preprocessing.n_features(), preprocessing.n_outputs());
    let network = init(&config)?;
    // A supplied network keeps its own per-layer activations.
    let config =
        config.with_layer_activations(Some(network.layers.iter().map(|l| l.activation).collect()));
    let train_config = options.train_config();
    let outcome = if options.devices.is_empty() {
        training::train(
            network,
            &train_set,
            Some(&validation),
            &preprocessing,
            &train_config,
            on_epoch,
        )?
    } else {
        let devices = options
            .devices
            .iter()
            .map(|b| b.device_for(options.dtype))
            .collect::<Result<Vec<_>>>()?;
        let parallel = training::DataParallel::new(&devices, &train_set.x, &train_set.y)?;
        training::train_data_parallel(
            network,
            &train_set,
            &parallel,
            Some(&validation),
            &preprocessing,
            &train_config,
            on_epoch,
        )?
    };
    // A run whose server was lost kept its model on this machine: measure it here.
    let kept_on = outcome.network.device();
    let (train_set, validation, test) = if kept_on == device {
        (train_set, validation, test)
    } else {
        let prepare = |d: &Dataset| Prepared::new(d, &preprocessing, &kept_on, options.dtype);
        (
            prepare(&split.train)?,
            prepare(&split.validation)?,
            prepare(&split.test)?,
        )
    };
    let on_sets = |network: &crate::network::Network| -> Result<SetMetrics> {
        let evaluate =
            |p: &Prepared| training::evaluate(network, p, &preprocessing, options.lambda);
        Ok(SetMetrics {
            train: evaluate(&train_set)?,
            validation: evaluate(&validation)?,
            test: evaluate(&test)?,
        })
    };
    let train_seconds = outcome.history.iter().map(|r| r.millis).sum::<f64>() / 1e3;
    let last = on_sets(&outcome.network)?;
    // Usually the best epoch is the last one: evaluate it once.
    let (best_epoch, best) = match &outcome.best {
        Some(b) if b.epoch != outcome.history.len() => (b.epoch, on_sets(&b.network)?),
        _ => (outcome.history.len(), last.clone()),
    };
    let progress = outcome.history.last();
    let summary = Summary {
        train: best.train,
        validation: best.validation,
        test: best.test,
        best_epoch,
        last,
        optimizer: options.optimizer.kind,
        iterations: progress.map_or(0, |r| r.iterations),
        evaluations: progress.map_or(0, |r| r.evaluations),
        epochs: outcome.history.len(),
        train_seconds,
        millis_per_epoch: 1e3 * train_seconds / outcome.history.len().max(1) as f64,
        stop: outcome.stop.clone(),
    };
    let meta = ModelMeta {
        network: config,
        precision: options.dtype,
        preprocessing,
        dataset: split.train.name.clone(),
        image_shape: split.train.image_shape,
    };
    Ok(Trained {
        outcome,
        summary,
        meta,
    })
}

/// Writes a run's artefacts into `dir`: the model of the best validation
/// metric (`model.bpk`, `model.json`, `network.json`), the last model in
/// `last/` (the same three files),
/// `options.json`, `history.csv`, `history.json`, `summary.json`,
/// `learning_curve.svg` and, for image data, `weights.png`.
pub fn save_run(dir: &Path, options: &TrainOptions, trained: &Trained) -> Result<Vec<PathBuf>> {
    let best = trained.best_network();
    // The best model, and the last beside it in the same three files.
    let save_model = |dir: &Path, network| -> Result<()> {
        persist::save(dir, network, &trained.meta)?;
        persist::write_json(
            &dir.join("network.json"),
            &crate::interchange::ModelJson::from_network_on_raw_features(
                network,
                &trained.meta.preprocessing.features,
            )?,
        )
    };
    let last_dir = dir.join("last");
    save_model(&last_dir, &trained.outcome.network)?;
    save_model(dir, best)?;
    let history = &trained.outcome.history;
    persist::write_json(&dir.join("options.json"), options)?;
    persist::write_json(&dir.join("history.json"), history)?;
    persist::write_json(&dir.join("summary.json"), &trained.summary)?;
    let mut csv = String::from(
        "epoch,cost,data_cost,train_accuracy,train_mse,train_r2,validation_cost,validation_accuracy,validation_mse,validation_r2,millis,iterations,evaluations\n",
    );
    let cell = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for r in history {
        let v = r.validation.as_ref();
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            r.epoch,
            r.train.cost,
            r.train.data_cost,
            cell(r.train.accuracy),
            cell(r.train.mse),
            cell(r.train.r2),
            cell(v.map(|v| v.cost)),
            cell(v.and_then(|v| v.accuracy)),
            cell(v.and_then(|v| v.mse)),
            cell(v.and_then(|v| v.r2)),
            r.millis,
            r.iterations,
            r.evaluations
        ));
    }
    persist::write_atomic(&dir.join("history.csv"), csv.as_bytes())?;
    let mut written = vec![
        dir.join("network.json"),
        dir.join(persist::WEIGHTS_FILE),
        dir.join(persist::META_FILE),
        dir.join("options.json"),
        dir.join("history.csv"),
        dir.join("history.json"),
        dir.join("summary.json"),
        last_dir.join(persist::WEIGHTS_FILE),
        last_dir.join(persist::META_FILE),
        last_dir.join("network.json"),
    ];
    if !history.is_empty() {
        let curve = dir.join("learning_curve.svg");
        crate::plot::learning_curve(&curve, history)?;
        written.push(curve);
    }
    if let Some(shape) = trained.meta.image_shape {
        let layer = &best.layers[0];
        let weight = crate::tensor::to_vec(&layer.weight.val())?;
        let tiles = dir.join("weights.png");
        crate::plot::weight_tiles(&tiles, &weight, layer.dims()[1], shape)?;
        written.push(tiles);
    }
    Ok(written)
}
