//! Grids of training runs for research experiments: backends × precisions ×
//! architectures × λ × α × seeds on one data set, one result row per run,
//! resumable; and its picture ([`picture`]).

pub mod picture;

use crate::Precision;
use crate::backend::Backend;
use crate::data::Split;
use crate::error::{Error, Result};
use crate::gradients::autodiff_gradients;
use crate::run::{self, TrainOptions};
use crate::training::{Metrics, Prepared};
use crate::verification::{Tolerance, compare};
use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use std::path::Path;

/// The most runs a grid may have.
pub const MAX_RUNS: usize = 100_000;

/// A grid: every combination of the listed values, the rest from `base`
/// (backends × dtypes × hidden × λ × α × seeds × optimizers).
/// An empty list means "the value in `base`".
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GridConfig {
    /// Options shared by every run (data set, epochs, batch size, …).
    pub base: TrainOptions,
    /// Backends to compare.
    pub backends: Vec<Backend>,
    /// Precisions to compare.
    pub dtypes: Vec<Precision>,
    /// Hidden-layer architectures.
    pub hidden: Vec<Vec<usize>>,
    /// Weight decays λ.
    pub lambdas: Vec<f64>,
    /// Step sizes α (none: `base.alpha`, or each optimizer's own default).
    pub alphas: Vec<f64>,
    /// Seeds.
    pub seeds: Vec<u64>,
    /// Update rules, each with `base.optimizer`'s hyper-parameters.
    pub optimizers: Vec<crate::training::OptimizerKind>,
}

/// The outcome of one run of the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    /// Identifies the combination; rows with a key already present are skipped on resume.
    pub key: String,
    /// Backend.
    pub backend: Backend,
    /// Precision.
    pub dtype: Precision,
    /// Update rule.
    #[serde(default = "default_optimizer")]
    pub optimizer: crate::training::OptimizerKind,
    /// Hidden layers.
    pub hidden: Vec<usize>,
    /// λ.
    pub lambda: f64,
    /// α.
    pub alpha: f64,
    /// Seed.
    pub seed: u64,
    /// Epochs completed.
    pub epochs: usize,
    /// Final training cost J.
    pub final_cost: f64,
    /// Test accuracy (classification) or R² (regression).
    pub test_metric: f64,
    /// Validation accuracy or R².
    pub validation_metric: f64,
    /// Mean milliseconds per epoch of updates.
    pub ms_per_epoch: f64,
    /// max |manual − autodiff| / max |gradient| over all parameters, on up to
    /// 256 training examples with the final weights.
    pub gradient_error: f64,
    /// Why training ended ("completed", "diverged at epoch N").
    pub stop: String,
}

impl GridConfig {
    /// The number of runs, refusing grids of more than [`MAX_RUNS`]: the
    /// product of the lists' lengths grows fast, and a small file could
    /// otherwise ask for more runs than memory holds.
    pub fn validate(&self) -> Result<usize> {
        let lengths = [
            self.backends.len(),
            self.dtypes.len(),
            self.hidden.len(),
            self.lambdas.len(),
            self.alphas.len(),
            self.seeds.len(),
            self.optimizers.len(),
        ];
        let count = lengths
            .iter()
            .try_fold(1usize, |n, &len| n.checked_mul(len.max(1)))
            .filter(|&n| n <= MAX_RUNS);
        count.ok_or_else(|| Error::InvalidParameter {
            name: "grid",
            value: format!("{lengths:?} values per dimension"),
            reason: format!(
                "more than {MAX_RUNS} runs; split the grid into several files (rows of \
                 one output directory resume, so they can share it)"
            ),
        })
    }

    /// Every combination, as training options, in a stable order (call
    /// [`GridConfig::validate`] first: this allocates one entry per run).
    pub fn runs(&self) -> Vec<TrainOptions> {
        fn or<T: Clone>(values: &[T], default: T) -> Vec<T> {
            if values.is_empty() {
                vec![default]
            } else {
                values.to_vec()
            }
        }
        let mut out = Vec::new();
        for backend in or(&self.backends, self.base.backend.clone()) {
            for dtype in or(&self.dtypes, self.base.dtype) {
                for hidden in or(&self.hidden, self.base.hidden.clone()) {
                    for &lambda in &or(&self.lambdas, self.base.lambda) {
                        let alphas: Vec<Option<f64>> =
                            self.alphas.iter().map(|&a| Some(a)).collect();
                        for &alpha in &or(&alphas, self.base.alpha) {
                            for &seed in &or(&self.seeds, self.base.seed) {
                                for &kind in &or(&self.optimizers, self.base.optimizer.kind) {
                                    let mut options = TrainOptions {
                                        backend: backend.clone(),
                                        dtype,
                                        hidden: hidden.clone(),
                                        lambda,
                                        alpha,
                                        seed,
                                        ..self.base.clone()
                                    };
                                    options.optimizer.kind = kind;
                                    out.push(options);
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

/// Rows written before optimizers were a grid dimension were trained with gd.
fn default_optimizer() -> crate::training::OptimizerKind {
    crate::training::OptimizerKind::Gd
}

/// The resume key of a run.
pub fn key(o: &TrainOptions) -> String {
    format!(
        "{}/{}/{}/{:?}/lambda={}/alpha={}/seed={}",
        o.backend,
        o.dtype,
        o.optimizer.kind,
        o.hidden,
        o.lambda,
        o.learning_rate(),
        o.seed
    )
}

fn headline(m: &Metrics) -> f64 {
    m.accuracy.or(m.r2).unwrap_or(f64::NAN)
}

/// Trains one run and measures its final gradient agreement.
pub fn run_one(options: &TrainOptions, split: &Split) -> Result<RunRow> {
    let trained = run::train_on(options, split, |_| ControlFlow::Continue(()))?;
    let network = &trained.outcome.network;
    let device = options.backend.device_for(options.dtype)?;
    let rows: Vec<usize> = (0..split.train.len().min(256)).collect();
    let sample = split.train.subset("gradient-sample", &rows);
    let prepared = Prepared::new(&sample, &trained.meta.preprocessing, &device, options.dtype)?;
    let manual = network.gradients(prepared.x.clone(), prepared.y.clone(), options.lambda)?;
    let autodiff = autodiff_gradients(network, prepared.x, prepared.y, options.lambda)?;
    let report = compare(
        network,
        ("manual", "autodiff"),
        &network.to_gradients_params(&manual),
        &network.to_gradients_params(&autodiff),
        Tolerance::exact(options.dtype),
    )?;
    let scale = report
        .tensors
        .iter()
        .map(|t| t.agreement.scale)
        .fold(0.0, f64::max);
    let max_abs = report
        .tensors
        .iter()
        .map(|t| t.agreement.max_abs_diff)
        .fold(0.0, f64::max);
    let s = &trained.summary;
    Ok(RunRow {
        key: key(options),
        backend: options.backend.clone(),
        dtype: options.dtype,
        optimizer: options.optimizer.kind,
        hidden: options.hidden.clone(),
        lambda: options.lambda,
        alpha: options.learning_rate(),
        seed: options.seed,
        epochs: s.epochs,
        final_cost: s.train.cost,
        test_metric: headline(&s.test),
        validation_metric: headline(&s.validation),
        ms_per_epoch: s.millis_per_epoch,
        gradient_error: if scale > 0.0 { max_abs / scale } else { 0.0 },
        stop: s.stop.to_string(),
    })
}

/// Runs every combination not already in `out/results.json`, saving
/// `results.json`, `results.csv` and `results.svg` after each run, so an
/// interrupted grid resumes where it stopped. `on_row` sees each row and
/// whether it was skipped (already present).
///
/// Runs on different remote servers proceed at the same time, one lane per
/// server (the local backends share one lane, so that their timings are not
/// taken while they compete for this machine's cores): a grid scales with
/// the servers it lists. A failed run ends its lane; the other lanes finish
/// (their rows are saved) and the first error is returned.
pub fn run_grid(
    grid: &GridConfig,
    out: &Path,
    mut on_row: impl FnMut(&RunRow, bool),
) -> Result<Vec<RunRow>> {
    grid.validate()?;
    let runs = grid.runs();
    for o in &runs {
        o.validate()?;
        // Before hours of work: every device of the grid computes its precision.
        o.backend.device_for(o.dtype)?;
    }
    std::fs::create_dir_all(out).map_err(|source| Error::Io {
        action: "create directory",
        path: out.to_path_buf(),
        source,
    })?;
    let results = out.join("results.json");
    let mut rows: Vec<RunRow> = if results.is_file() {
        crate::io::read_json(&results)?
    } else {
        Vec::new()
    };
    let mut pending = Vec::new();
    for options in runs {
        match rows.iter().find(|r| r.key == key(&options)) {
            Some(row) => on_row(row, true),
            None => pending.push(options),
        }
    }
    let (sender, receiver) = std::sync::mpsc::channel::<Result<RunRow>>();
    let mut failure = None;
    std::thread::scope(|scope| {
        for queue in lanes(pending) {
            let sender = sender.clone();
            scope.spawn(move || run_lane(&queue, &sender));
        }
        drop(sender);
        for row in receiver {
            match row {
                Ok(row) => {
                    on_row(&row, false);
                    rows.push(row);
                    if let Err(e) = save(out, &rows) {
                        failure.get_or_insert(e);
                    }
                }
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    save(out, &rows)?;
    Ok(rows)
}

/// The runs grouped into lanes that run side by side: one per remote server,
/// and one for this machine's own backends.
fn lanes(runs: Vec<TrainOptions>) -> Vec<Vec<TrainOptions>> {
    let mut lanes: Vec<(Option<String>, Vec<TrainOptions>)> = Vec::new();
    for options in runs {
        let lane = match &options.backend {
            crate::backend::Backend::Remote(url) => Some(url.clone()),
            _ => None,
        };
        match lanes.iter_mut().find(|(l, _)| *l == lane) {
            Some((_, queue)) => queue.push(options),
            None => lanes.push((lane, vec![options])),
        }
    }
    lanes.into_iter().map(|(_, queue)| queue).collect()
}

/// Runs a lane's runs one after another, sending each row; stops at the
/// first failure (or when nobody listens any more).
fn run_lane(queue: &[TrainOptions], sender: &std::sync::mpsc::Sender<Result<RunRow>>) {
    // The seed draws the split as well as the initial weights, as in
    // `backprop train --seed`: the spread over seeds includes the data's.
    let mut splits: Vec<(u64, Split)> = Vec::new();
    for options in queue {
        let split = match splits.iter().position(|(seed, _)| *seed == options.seed) {
            Some(i) => Ok(&splits[i].1),
            None => options.load_data().map(|split| {
                splits.push((options.seed, split));
                &splits[splits.len() - 1].1
            }),
        };
        let row = split.and_then(|split| run_one(options, split));
        let failed = row.is_err();
        if sender.send(row).is_err() || failed {
            return;
        }
    }
}

fn save(out: &Path, rows: &[RunRow]) -> Result<()> {
    crate::io::write_json(&out.join("results.json"), &rows)?;
    crate::io::write_csv(&out.join("results.csv"), rows.iter().map(CsvRow::from))?;
    picture::draw(&out.join("results.svg"), &configurations(rows))
}

/// A [`RunRow`] as one line of `results.csv` (the hidden sizes joined by `-`).
#[derive(Serialize)]
struct CsvRow<'a> {
    key: &'a str,
    backend: String,
    dtype: Precision,
    optimizer: crate::training::OptimizerKind,
    hidden: String,
    lambda: f64,
    alpha: f64,
    seed: u64,
    epochs: usize,
    final_cost: f64,
    test_metric: f64,
    validation_metric: f64,
    ms_per_epoch: f64,
    gradient_error: f64,
    stop: &'a str,
}

impl<'a> From<&'a RunRow> for CsvRow<'a> {
    fn from(r: &'a RunRow) -> Self {
        let hidden: Vec<String> = r.hidden.iter().map(usize::to_string).collect();
        CsvRow {
            key: &r.key,
            backend: r.backend.to_string(),
            dtype: r.dtype,
            optimizer: r.optimizer,
            hidden: hidden.join("-"),
            lambda: r.lambda,
            alpha: r.alpha,
            seed: r.seed,
            epochs: r.epochs,
            final_cost: r.final_cost,
            test_metric: r.test_metric,
            validation_metric: r.validation_metric,
            ms_per_epoch: r.ms_per_epoch,
            gradient_error: r.gradient_error,
            stop: &r.stop,
        }
    }
}

/// The runs of one configuration (every grid dimension but the seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Configuration {
    /// The dimensions that vary across the grid, e.g. `flex/f32/adam/[30]`.
    pub label: String,
    /// Test metric of each seed.
    pub test: Vec<f64>,
    /// Validation metric of each seed.
    pub validation: Vec<f64>,
    /// Milliseconds per epoch of each seed.
    pub ms_per_epoch: Vec<f64>,
}

impl Configuration {
    /// Mean validation metric over seeds: how configurations are ranked.
    pub fn mean_validation(&self) -> f64 {
        mean(&self.validation)
    }
}

/// Mean of a non-empty list (NaN for an empty one).
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Groups rows by configuration, labelled by the dimensions that vary, best
/// mean validation metric first (choose by validation, report test).
pub fn configurations(rows: &[RunRow]) -> Vec<Configuration> {
    let parts = |r: &RunRow| -> [String; 6] {
        [
            r.backend.to_string(),
            r.dtype.to_string(),
            r.optimizer.to_string(),
            format!("{:?}", r.hidden),
            format!("λ={}", r.lambda),
            format!("α={}", r.alpha),
        ]
    };
    let varying: Vec<bool> = (0..6)
        .map(|i| rows.iter().any(|r| parts(r)[i] != parts(&rows[0])[i]))
        .collect();
    let mut groups: Vec<Configuration> = Vec::new();
    for r in rows {
        let shown: Vec<String> = parts(r)
            .into_iter()
            .zip(&varying)
            .filter(|(_, v)| **v)
            .map(|(p, _)| p)
            .collect();
        let label = if shown.is_empty() {
            "all runs".to_string()
        } else {
            shown.join(" / ")
        };
        let group = match groups.iter_mut().position(|g| g.label == label) {
            Some(i) => &mut groups[i],
            None => {
                groups.push(Configuration {
                    label,
                    test: Vec::new(),
                    validation: Vec::new(),
                    ms_per_epoch: Vec::new(),
                });
                groups.last_mut().expect("just pushed")
            }
        };
        group.test.push(r.test_metric);
        group.validation.push(r.validation_metric);
        group.ms_per_epoch.push(r.ms_per_epoch);
    }
    groups.sort_by(|a, b| b.mean_validation().total_cmp(&a.mean_validation()));
    groups
}
