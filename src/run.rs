//! The end-to-end training job behind `backprop train`: data → preprocessing →
//! network → gradient descent → saved model, history and pictures.
//!
//! [`TrainOptions`] is also the schema of `--config FILE.json`.

use crate::Precision;
use crate::activation::Activation;
use crate::backend::Backend;
use crate::data::preprocess::{FeatureScaling, Preprocessing};
use crate::data::{DataSource, Dataset, DatasetKind, Split};
use crate::error::{Error, Result};
use crate::gradients::GradientSource;
use crate::network::NetworkConfig;
use crate::persist::{self, ModelMeta};
use crate::training::{
    self, EpochRecord, Metrics, OptimizerConfig, OptimizerKind, Prepared, TrainConfig, TrainOutcome,
};
use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Every option of a training run, with the defaults of `backprop train`.
///
/// Also the command line of `train` (each flag's default is shown from
/// [`TrainOptions::default`]) and the schema of `--config FILE.json` and of a
/// run's `options.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default, deny_unknown_fields)]
pub struct TrainOptions {
    /// Data set.
    #[arg(long, value_enum, default_value_t = defaults().dataset)]
    pub dataset: DatasetKind,
    /// CSV file for --dataset csv.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// CSV target columns, by name or 0-based index (comma list).
    #[arg(long, value_delimiter = ',')]
    pub target_columns: Vec<String>,
    /// Treat the CSV target column as class labels.
    #[arg(long)]
    pub classify: bool,
    /// Directory with the MNIST IDX files.
    #[arg(long, default_value_os_t = defaults().mnist_dir)]
    pub mnist_dir: PathBuf,
    /// Hidden layer sizes, repeatable or a comma list.
    #[arg(long, value_delimiter = ',', default_values_t = defaults().hidden)]
    pub hidden: Vec<usize>,
    /// Activation of every layer.
    #[arg(long, value_enum, default_value_t = defaults().activation)]
    pub activation: Activation,
    /// Weight decay λ.
    #[arg(long, default_value_t = defaults().lambda)]
    pub lambda: f64,
    /// Step size α; absent for the optimizer's own default
    /// ([`OptimizerKind::default_learning_rate`]). A run's `options.json`
    /// records the value used.
    #[arg(long, help = alpha_help())]
    pub alpha: Option<f64>,
    /// Epochs.
    #[arg(long, default_value_t = defaults().epochs)]
    pub epochs: usize,
    /// Mini-batch size [default: full batch].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// ε of the N(0, ε²) initialisation.
    #[arg(long, default_value_t = defaults().init_std)]
    pub init_std: f64,
    /// Seed of initialisation, split and shuffling.
    #[arg(long, default_value_t = defaults().seed)]
    pub seed: u64,
    /// Compute backend.
    #[arg(long, default_value_t = defaults().backend, help = crate::backend::HELP)]
    pub backend: Backend,
    /// Precision.
    #[arg(long, default_value_t = defaults().dtype)]
    pub dtype: Precision,
    /// Feature scaling [default: max-abs for images, standardize otherwise].
    #[arg(long, value_enum)]
    pub scaling: Option<FeatureScaling>,
    /// Fraction of the data held out for validation.
    #[arg(skip = defaults().validation)]
    pub validation: f64,
    /// Fraction of the data held out for the final test (ignored for MNIST, which has its own).
    #[arg(skip = defaults().test)]
    pub test: f64,
    /// Start from this model in the JSON interchange format (e.g. a run's
    /// network.json); its layer sizes and activations replace --hidden and --activation.
    #[arg(long)]
    pub init_model: Option<PathBuf>,
    /// The update rule and its hyper-parameters.
    #[command(flatten)]
    pub optimizer: OptimizerConfig,
    /// Gradients that drive the optimizer: manual (hand-written), autodiff (a
    /// control), or nodes (burn's autodiff over the hand-written layer nodes).
    #[arg(long, value_enum, default_value_t = defaults().gradients)]
    pub gradients: GradientSource,
    /// Stop after this many epochs without a better validation metric.
    #[arg(long)]
    pub patience: Option<usize>,
    /// Data-parallel training: split every batch over these devices (comma list of
    /// backends or ws:// URLs) and combine their gradients; parameters stay on --backend.
    #[arg(long, value_delimiter = ',')]
    pub devices: Vec<Backend>,
}

fn defaults() -> TrainOptions {
    TrainOptions::default()
}

/// `--alpha`'s help, with each optimizer's default step from the one place it is set.
fn alpha_help() -> String {
    let per_kind: Vec<String> = OptimizerKind::ALL
        .iter()
        .map(|k| format!("{k} {}", k.default_learning_rate()))
        .collect();
    format!(
        "Step size α [default: the optimizer's own: {}]",
        per_kind.join(", ")
    )
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
            alpha: None,
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
    /// Loads and splits the chosen data set.
    pub fn load_data(&self) -> Result<Split> {
        self.data_source()
            .load(self.validation, self.test, self.seed)
    }

    /// Where the data comes from.
    pub fn data_source(&self) -> DataSource {
        DataSource {
            dataset: self.dataset,
            data: self.data.clone(),
            target_columns: self.target_columns.clone(),
            classify: self.classify,
            mnist_dir: self.mnist_dir.clone(),
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

    /// The step size α used: `alpha`, or the optimizer's default.
    pub fn learning_rate(&self) -> f64 {
        self.alpha
            .unwrap_or_else(|| self.optimizer.kind.default_learning_rate())
    }

    /// The training loop's settings: optimizer, α, λ, epochs, batches, stopping.
    pub fn train_config(&self) -> TrainConfig {
        TrainConfig {
            learning_rate: self.learning_rate(),
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
        // The data's sizes are not known yet, so a hidden layer is checked
        // here by its own name (a network's error would print stand-in sizes);
        // the other rules are NetworkConfig's, with one unit standing in for
        // the input and output layers.
        if let Some(l) = self.hidden.iter().position(|&units| units == 0) {
            return Err(Error::InvalidParameter {
                name: "hidden",
                value: self
                    .hidden
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                reason: format!(
                    "hidden layer {} has zero units; every layer needs at least one",
                    l + 1
                ),
            });
        }
        self.network_config(1, 1).validate()?;
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
    let network = crate::io::read_json::<crate::interchange::ModelJson>(path)?
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
        .unwrap_or_else(|| FeatureScaling::default_for(&split.train));
    let preprocessing = Preprocessing::fit(&split.train, scaling, options.activation)?;
    let config = options.network_config(preprocessing.n_features(), preprocessing.n_outputs());
    ensure_training_fits(options, split, &config.sizes, &device)?;
    let sets = SetTensors::new(split, &preprocessing, &device, options.dtype)?;
    let network = init(&config)?;
    // A supplied network keeps its own per-layer activations.
    let config =
        config.with_layer_activations(Some(network.layers.iter().map(|l| l.activation).collect()));
    let outcome = run_training(options, network, &sets, &preprocessing, on_epoch)?;
    // A run whose server was lost kept its model on this machine: measure it here.
    let kept_on = outcome.network.device();
    let sets = if kept_on == device {
        sets
    } else {
        SetTensors::new(split, &preprocessing, &kept_on, options.dtype)?
    };
    let summary = summarise(options, &outcome, &sets, &preprocessing)?;
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

/// Refuses a run whose estimated memory exceeds what this process may use,
/// or what a session may hold on the server of a remote `device`.
fn ensure_training_fits(
    options: &TrainOptions,
    split: &Split,
    sizes: &[usize],
    device: &burn::tensor::Device,
) -> Result<()> {
    let sets = [&split.train, &split.validation, &split.test];
    let what = format!("training a network of sizes {sizes:?}");
    let bytes = crate::resources::training_bytes(
        sizes,
        options.dtype,
        sets.iter().map(|d| d.len()).sum(),
        options.batch_size.unwrap_or(split.train.len()),
        sets.iter().map(|d| d.len()).max().unwrap_or(0),
        options.optimizer.state_copies(),
    );
    crate::resources::ensure_fits(&what, bytes)?;
    crate::backend::remote::ensure_fits(device, &what, bytes)
}

/// The three sets of a split as tensors on one device.
struct SetTensors {
    train: Prepared,
    validation: Prepared,
    test: Prepared,
}

impl SetTensors {
    fn new(
        split: &Split,
        preprocessing: &Preprocessing,
        device: &burn::tensor::Device,
        precision: Precision,
    ) -> Result<SetTensors> {
        let prepare = |d: &Dataset| Prepared::new(d, preprocessing, device, precision);
        Ok(SetTensors {
            train: prepare(&split.train)?,
            validation: prepare(&split.validation)?,
            test: prepare(&split.test)?,
        })
    }

    /// `network`'s metrics on the three sets.
    fn evaluate(
        &self,
        network: &crate::network::Network,
        preprocessing: &Preprocessing,
        weight_decay: f64,
    ) -> Result<SetMetrics> {
        let evaluate = |p: &Prepared| training::evaluate(network, p, preprocessing, weight_decay);
        Ok(SetMetrics {
            train: evaluate(&self.train)?,
            validation: evaluate(&self.validation)?,
            test: evaluate(&self.test)?,
        })
    }
}

/// The training loop on one device, or data-parallel over `options.devices`.
fn run_training(
    options: &TrainOptions,
    network: crate::network::Network,
    sets: &SetTensors,
    preprocessing: &Preprocessing,
    on_epoch: impl FnMut(&EpochRecord) -> ControlFlow<()>,
) -> Result<TrainOutcome> {
    let config = options.train_config();
    let (train, validation) = (&sets.train, Some(&sets.validation));
    if options.devices.is_empty() {
        return training::train(network, train, validation, preprocessing, &config, on_epoch);
    }
    let devices = options
        .devices
        .iter()
        .map(|b| b.device_for(options.dtype))
        .collect::<Result<Vec<_>>>()?;
    let spread = train.clone().spread_over(&devices)?;
    training::train(
        network,
        &spread,
        validation,
        preprocessing,
        &config,
        on_epoch,
    )
}

/// The final metrics: the saved (best) model's and the last model's on every set.
fn summarise(
    options: &TrainOptions,
    outcome: &TrainOutcome,
    sets: &SetTensors,
    preprocessing: &Preprocessing,
) -> Result<Summary> {
    let train_seconds = outcome.history.iter().map(|r| r.millis).sum::<f64>() / 1e3;
    let last = sets.evaluate(&outcome.network, preprocessing, options.lambda)?;
    // Usually the best epoch is the last one: evaluate it once.
    let (best_epoch, best) = match &outcome.best {
        Some(b) if b.epoch != outcome.history.len() => (
            b.epoch,
            sets.evaluate(&b.network, preprocessing, options.lambda)?,
        ),
        _ => (outcome.history.len(), last.clone()),
    };
    let progress = outcome.history.last();
    Ok(Summary {
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
        crate::io::write_json(
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
    // The options as run: the step size the optimizer's default filled in.
    let used = TrainOptions {
        alpha: Some(options.learning_rate()),
        ..options.clone()
    };
    crate::io::write_json(&dir.join("options.json"), &used)?;
    crate::io::write_json(&dir.join("history.json"), history)?;
    crate::io::write_json(&dir.join("summary.json"), &trained.summary)?;
    crate::io::write_csv(
        &dir.join("history.csv"),
        history.iter().map(HistoryRow::from),
    )?;
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

/// An [`EpochRecord`] as one line of `history.csv`; metrics a data set does
/// not have (accuracy for regression, R² for classification) are empty.
#[derive(Serialize)]
struct HistoryRow {
    epoch: usize,
    cost: f64,
    data_cost: f64,
    train_accuracy: Option<f64>,
    train_mse: Option<f64>,
    train_r2: Option<f64>,
    validation_cost: Option<f64>,
    validation_accuracy: Option<f64>,
    validation_mse: Option<f64>,
    validation_r2: Option<f64>,
    millis: f64,
    iterations: usize,
    evaluations: usize,
}

impl From<&EpochRecord> for HistoryRow {
    fn from(r: &EpochRecord) -> Self {
        let v = r.validation.as_ref();
        HistoryRow {
            epoch: r.epoch,
            cost: r.train.cost,
            data_cost: r.train.data_cost,
            train_accuracy: r.train.accuracy,
            train_mse: r.train.mse,
            train_r2: r.train.r2,
            validation_cost: v.map(|v| v.cost),
            validation_accuracy: v.and_then(|v| v.accuracy),
            validation_mse: v.and_then(|v| v.mse),
            validation_r2: v.and_then(|v| v.r2),
            millis: r.millis,
            iterations: r.iterations,
            evaluations: r.evaluations,
        }
    }
}
