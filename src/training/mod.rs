//! Training on the hand-written gradients: the reference's batch gradient
//! descent (SPEC.md, "Batch gradient descent") or one of burn's optimizers fed
//! by the same gradients, with a per-epoch history, divergence detection,
//! the best model by validation metric, and early stopping.
//!
//! Gradient descent goes through no autodiff: gradients come from
//! [`Network::parameter_gradients`] and the update is plain tensor arithmetic.

mod metrics;
mod objective;
mod optimizer;
mod parallel;
pub mod threads;

pub use metrics::{Metrics, evaluate};
pub use objective::{Batch, Objective};
pub use optimizer::{GradientSource, Optimizer, OptimizerConfig, OptimizerKind, StepReport};
pub use parallel::{DataParallel, ShardedBatch};

use crate::backend::Precision;
use crate::data::Dataset;
use crate::data::preprocess::Preprocessing;
use crate::error::{Error, Result};
use crate::layer::{Dense, DenseGrads};
use crate::network::{Gradients, Network};
use crate::tensor;
use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::ControlFlow;
use std::time::Instant;

/// One update of SPEC.md "Batch gradient descent", step 3:
///
/// ```text
/// W^(l) ← W^(l) − α [ (1/m) ΔW^(l) + λ W^(l) ]
/// b^(l) ← b^(l) − α (1/m) Δb^(l)
/// ```
///
/// The bracketed terms are exactly [`Network::gradients`]' output, so the step
/// is θ ← θ − α ∂J/∂θ. Plain tensor arithmetic on the parameters: nothing here
/// goes through autodiff, and parameter ids are kept.
///
/// `grads` is taken by value so that α ∂J/∂θ is formed in the gradient's own
/// buffer instead of a fresh allocation (a 4 MiB one per layer on the `wide`
/// benchmark shape); clone it first if you still need it.
pub fn gradient_descent_step(
    network: Network,
    grads: Gradients,
    learning_rate: f64,
) -> Result<Network> {
    gradient_descent_update(network, grads.layers, learning_rate)
}

/// [`gradient_descent_step`] from the per-layer gradients alone (as
/// [`Network::parameter_gradients`] gives them, with no cost read back).
pub fn gradient_descent_update(
    network: Network,
    grads: Vec<DenseGrads>,
    learning_rate: f64,
) -> Result<Network> {
    check_learning_rate(learning_rate)?;
    if grads.len() != network.layers.len() {
        return Err(Error::Shape {
            what: "gradients".into(),
            expected: format!("{} layers, like the network", network.layers.len()),
            got: format!("{} layers", grads.len()),
        });
    }
    let layers = network
        .layers
        .into_iter()
        .zip(grads)
        .map(|(layer, g)| Dense {
            weight: layer.weight.map(|w| w - g.weight.mul_scalar(learning_rate)),
            bias: layer.bias.map(|b| b - g.bias.mul_scalar(learning_rate)),
            activation: layer.activation,
        })
        .collect();
    Ok(Network { layers })
}

pub(crate) fn check_learning_rate(learning_rate: f64) -> Result<()> {
    if learning_rate.is_finite() && learning_rate > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "learning_rate",
            value: crate::error::readable(learning_rate),
            reason: "the step size α must be finite and > 0".into(),
        })
    }
}

/// Hyper-parameters of training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Step size α.
    pub learning_rate: f64,
    /// Weight decay λ (0 disables it).
    pub weight_decay: f64,
    /// Passes over the training set.
    pub epochs: usize,
    /// Examples per update; `None` is full-batch gradient descent, as in the reference.
    pub batch_size: Option<usize>,
    /// Seed of the per-epoch shuffle of mini-batches.
    pub seed: u64,
    /// The update rule and its hyper-parameters.
    pub optimizer: OptimizerConfig,
    /// Which gradients drive it: the hand-written ones, or autodiff's as a control.
    pub gradients: GradientSource,
    /// Stop when the validation metric has not improved for this many epochs.
    pub patience: Option<usize>,
}

impl TrainConfig {
    /// Full-batch gradient descent on the hand-written gradients, as in the reference.
    pub fn gradient_descent(learning_rate: f64, weight_decay: f64, epochs: usize) -> TrainConfig {
        TrainConfig {
            learning_rate,
            weight_decay,
            epochs,
            batch_size: None,
            seed: 0,
            optimizer: OptimizerConfig::gd(),
            gradients: GradientSource::Manual,
            patience: None,
        }
    }
}

impl TrainConfig {
    /// Rejects nonsense before any work starts; `m` is the training set's size.
    pub fn validate(&self, m: usize) -> Result<()> {
        check_learning_rate(self.learning_rate)?;
        crate::network::check_weight_decay(self.weight_decay)?;
        if self.epochs == 0 {
            return Err(Error::InvalidParameter {
                name: "epochs",
                value: "0".into(),
                reason: "train for at least one epoch".into(),
            });
        }
        if let Some(b) = self.batch_size
            && (b == 0 || b > m)
        {
            return Err(Error::InvalidParameter {
                name: "batch_size",
                value: b.to_string(),
                reason: format!(
                    "must be between 1 and the {m} training examples (omit it for full batch)"
                ),
            });
        }
        if self.optimizer.kind == OptimizerKind::Lbfgs && self.batch_size.is_some() {
            return Err(Error::InvalidParameter {
                name: "batch_size",
                value: self.batch_size.map_or(String::new(), |b| b.to_string()),
                reason: "L-BFGS works on the full batch: its line search and curvature pairs \
                         assume one fixed cost function; omit --batch-size"
                    .into(),
            });
        }
        // Gradient descent scales every weight by (1 − αλ) before the data's
        // pull: at αλ ≥ 2 that factor's magnitude is ≥ 1 and the weights
        // oscillate and grow whatever the data say.
        let decay_factor = self.learning_rate * self.weight_decay;
        if self.optimizer.kind == OptimizerKind::Gd && decay_factor >= 2.0 {
            return Err(Error::InvalidParameter {
                name: "lambda",
                value: crate::error::readable(self.weight_decay),
                reason: format!(
                    "with α = {} the decay step scales the weights by 1 − αλ = {}, so they \
                     grow without bound; αλ must stay below 2 (usually far below: λ ≈ 1e-4)",
                    crate::error::readable(self.learning_rate),
                    crate::error::readable(1.0 - decay_factor)
                ),
            });
        }
        if self.patience == Some(0) {
            return Err(Error::InvalidParameter {
                name: "patience",
                value: "0".into(),
                reason: "wait at least one epoch for an improvement (omit it to train all epochs)"
                    .into(),
            });
        }
        self.optimizer.validate()
    }
}

/// A data set turned into tensors for one network.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The raw data set (labels and targets for metrics).
    pub data: Dataset,
    /// Transformed inputs `[m, s_1]`.
    pub x: Tensor<2>,
    /// Encoded targets `[m, s_{n_l}]`.
    pub y: Tensor<2>,
}

impl Prepared {
    /// Applies `preprocessing` to `data` and moves it to `device` in `precision`.
    pub fn new(
        data: &Dataset,
        preprocessing: &Preprocessing,
        device: &Device,
        precision: Precision,
    ) -> Result<Prepared> {
        data.validate()?;
        let m = data.len();
        let x = preprocessing.inputs(data)?;
        let y = preprocessing.outputs(data)?;
        Ok(Prepared {
            data: data.clone(),
            x: tensor::matrix(
                &format!("{} inputs", data.name),
                x,
                [m, preprocessing.n_features()],
                device,
                precision,
            )?,
            y: tensor::matrix(
                &format!("{} targets", data.name),
                y,
                [m, preprocessing.n_outputs()],
                device,
                precision,
            )?,
        })
    }
}

/// What happened in one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Metrics on the training set after the epoch's updates.
    pub train: Metrics,
    /// Metrics on the validation set, when there is one.
    pub validation: Option<Metrics>,
    /// Wall time of the epoch's updates (evaluation excluded), in milliseconds.
    pub millis: f64,
    /// Optimizer steps that moved the parameters so far (L-BFGS: iterations).
    #[serde(default)]
    pub iterations: usize,
    /// Cost-and-gradient evaluations so far (L-BFGS: with its line searches).
    #[serde(default)]
    pub evaluations: usize,
}

/// Why training ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Stop {
    /// All epochs ran.
    Completed,
    /// The cost became NaN or infinite in this epoch; the model is from the epoch before.
    Diverged {
        /// The first non-finite epoch (1-based).
        epoch: usize,
        /// The cost it reached.
        cost: f64,
    },
    /// The caller asked to stop (e.g. Ctrl-C) after this many completed epochs.
    Interrupted {
        /// Completed epochs.
        epochs: usize,
    },
    /// The validation metric did not improve for `patience` epochs.
    EarlyStopped {
        /// Completed epochs.
        epochs: usize,
        /// The epoch of the best validation metric.
        best_epoch: usize,
    },
    /// A remote device was lost (its server stopped or the network failed);
    /// the model is from the last completed epoch.
    Failed {
        /// Completed epochs.
        epochs: usize,
        /// What happened, naming the server.
        error: String,
    },
    /// L-BFGS could not move: the gradient or the slope along its search
    /// direction is below tolerance, or a step changed J by less than it.
    Converged {
        /// Completed epochs.
        epochs: usize,
        /// Which test ended it.
        reason: String,
    },
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Completed => f.write_str("completed"),
            Stop::Diverged { epoch, .. } => write!(f, "diverged at epoch {epoch}"),
            Stop::Interrupted { epochs } => write!(f, "interrupted after {epochs} epochs"),
            Stop::EarlyStopped { epochs, best_epoch } => write!(
                f,
                "stopped early after {epochs} epochs (best epoch {best_epoch})"
            ),
            Stop::Converged { epochs, reason } => {
                write!(f, "converged after {epochs} epochs ({reason})")
            }
            Stop::Failed { epochs, error } => write!(f, "failed after {epochs} epochs: {error}"),
        }
    }
}

/// The network of the epoch with the best validation metric.
#[derive(Debug, Clone)]
pub struct BestModel {
    /// Its epoch (1-based).
    pub epoch: usize,
    /// The network after that epoch's updates.
    pub network: Network,
}

/// The trained network, its history and why training stopped.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The last network whose cost was finite.
    pub network: Network,
    /// The network of the epoch with the best validation metric (the last
    /// network's epoch when there is no validation set).
    pub best: Option<BestModel>,
    /// One record per completed epoch.
    pub history: Vec<EpochRecord>,
    /// Why training ended.
    pub stop: Stop,
}

impl TrainOutcome {
    /// The divergence as an error, for callers that treat it as one.
    pub fn diverged(&self, config: &TrainConfig) -> Option<Error> {
        match self.stop {
            Stop::Diverged { epoch, cost } => Some(Error::Diverged {
                epoch,
                cost,
                learning_rate: config.learning_rate,
            }),
            _ => None,
        }
    }
}

/// Trains `network` with `config.optimizer` on the chosen gradients.
///
/// After each epoch the training (and validation) metrics are computed and
/// `on_epoch` is called; returning `ControlFlow::Break` stops training after
/// that epoch. A non-finite cost stops training and keeps the previous epoch's
/// network (see [`TrainOutcome::diverged`]). The network of the epoch with
/// the best validation metric ([`Metrics::better_than`]) is kept beside the
/// last one; with `config.patience`, training stops once that many epochs
/// have passed without an improvement. On a CPU backend, steps whose matrix
/// products are small run on one thread of their own ([`threads`]).
pub fn train(
    network: Network,
    train_set: &Prepared,
    validation: Option<&Prepared>,
    preprocessing: &Preprocessing,
    config: &TrainConfig,
    on_epoch: impl FnMut(&EpochRecord) -> ControlFlow<()>,
) -> Result<TrainOutcome> {
    train_impl(
        network,
        train_set,
        None,
        validation,
        preprocessing,
        config,
        on_epoch,
    )
}

/// [`train`] with every step's gradient computed data-parallel: each batch is
/// split over `parallel`'s devices ([`DataParallel`]), and the combined
/// gradient drives one set of parameters on the network's device.
pub fn train_data_parallel(
    network: Network,
    train_set: &Prepared,
    parallel: &DataParallel,
    validation: Option<&Prepared>,
    preprocessing: &Preprocessing,
    config: &TrainConfig,
    on_epoch: impl FnMut(&EpochRecord) -> ControlFlow<()>,
) -> Result<TrainOutcome> {
    train_impl(
        network,
        train_set,
        Some(parallel),
        validation,
        preprocessing,
        config,
        on_epoch,
    )
}

fn train_impl(
    mut network: Network,
    train_set: &Prepared,
    parallel: Option<&DataParallel>,
    validation: Option<&Prepared>,
    preprocessing: &Preprocessing,
    config: &TrainConfig,
    mut on_epoch: impl FnMut(&EpochRecord) -> ControlFlow<()>,
) -> Result<TrainOutcome> {
    let m = train_set.data.len();
    config.validate(m)?;
    network.check_batch(&train_set.x, &train_set.y, config.weight_decay)?;
    let mut optimizer = config.optimizer.init()?;
    let mut history = Vec::with_capacity(config.epochs);
    let mut best: Option<(BestModel, Metrics)> = None;
    let mut rng = StdRng::seed_from_u64(config.seed);
    let device = network.device();
    let (decay, rate, source) = (config.weight_decay, config.learning_rate, config.gradients);
    let outcome = |network, history, best: Option<(BestModel, Metrics)>, stop| TrainOutcome {
        network,
        best: best.map(|(b, _)| b),
        history,
        stop,
    };
    // A device behind `backprop serve` can vanish mid-run. Its epoch then
    // ends the run like Ctrl-C would, with the last completed epoch's model
    // — kept on this machine, since the server's copy is gone with it.
    let servers: Vec<String> = std::iter::once(&device)
        .chain(parallel.iter().flat_map(|p| p.devices()))
        .filter_map(crate::backend::remote::url_of)
        .collect();
    let on_server = crate::backend::remote::url_of(&device).is_some();
    let mut mirror = if on_server {
        let host = Device::flex();
        Some((network.clone().to_device(&host), None::<BestModel>))
    } else {
        None
    };
    // Small steps run on one CPU thread of their own, where waking rayon's
    // other threads for every product costs more than they give (threads.rs);
    // the evaluation after each epoch keeps them all.
    let pool = match parallel {
        None => threads::step_pool(&network, config.batch_size.unwrap_or(m), &device),
        Some(_) => None,
    };
    for epoch in 1..=config.epochs {
        let previous = network.clone();
        let mut run_epoch = |network: Network| -> Result<_> {
            let started = Instant::now();
            // The steps read nothing back from the device (no cost, no shapes from
            // data), so an asynchronous device runs the whole epoch from one queue;
            // the epoch's metrics below are its one read-back. (L-BFGS reads the
            // cost at every point of its line search: it cannot do otherwise.)
            let mut steps = |mut network: Network| -> Result<(Network, bool)> {
                let mut moved = false;
                match (config.batch_size, parallel) {
                    (None, None) => {
                        let batch = Batch {
                            x: train_set.x.clone(),
                            y: train_set.y.clone(),
                            weight_decay: decay,
                            source,
                        };
                        let (next, report) = optimizer.step_on(network, &batch, rate)?;
                        network = next;
                        moved |= report.moved;
                    }
                    (None, Some(parallel)) => {
                        let batch = parallel.full_batch(decay, source);
                        let (next, report) = optimizer.step_on(network, &batch, rate)?;
                        network = next;
                        moved |= report.moved;
                    }
                    (Some(batch_size), parallel) => {
                        // One upload of the epoch's shuffled order (per device); each
                        // step selects its rows through a slice of it, on the device.
                        let mut order: Vec<i64> = (0..m as i64).collect();
                        order.shuffle(&mut rng);
                        let orders = parallel.map(|p| p.upload_order(&order));
                        let order =
                            Tensor::<1, Int>::from_data(TensorData::new(order, [m]), &device);
                        for start in (0..m).step_by(batch_size) {
                            let end = (start + batch_size).min(m);
                            let (next, report) = match (parallel, &orders) {
                                (Some(p), Some(orders)) => optimizer.step_on(
                                    network,
                                    &p.batch(orders, start..end, decay, source),
                                    rate,
                                )?,
                                _ => {
                                    let rows = order.clone().slice(start..end);
                                    let batch = Batch {
                                        x: train_set.x.clone().select(0, rows.clone()),
                                        y: train_set.y.clone().select(0, rows),
                                        weight_decay: decay,
                                        source,
                                    };
                                    optimizer.step_on(network, &batch, rate)?
                                }
                            };
                            network = next;
                            moved |= report.moved;
                        }
                    }
                }
                Ok((network, moved))
            };
            let (network, moved) = match &pool {
                Some(pool) => pool.install(|| steps(network))?,
                None => steps(network)?,
            };
            // Wait for the queued work, so that the clock measures it and not its submission.
            device
                .sync()
                .map_err(|e| Error::TensorRead(format!("{e:?}")))?;
            let millis = started.elapsed().as_secs_f64() * 1e3;
            let train_metrics = evaluate(&network, train_set, preprocessing, decay)?;
            let validation_metrics = validation
                .map(|v| evaluate(&network, v, preprocessing, decay))
                .transpose()?;
            // The host's copy of this epoch's parameters (through our own
            // read-back, which reports a lost server as an error).
            let host = match &mirror {
                Some((last, _)) => Some(last.with_param_values(network.param_values()?)?),
                None => None,
            };
            Ok((
                network,
                moved,
                millis,
                train_metrics,
                validation_metrics,
                host,
            ))
        };
        let attempt = if servers.is_empty() {
            run_epoch(network)
        } else {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_epoch(network)))
                .unwrap_or_else(|panic| Err(Error::TensorRead(panic_message(&panic))))
        };
        let (next, moved, millis, train_metrics, validation_metrics, host) = match attempt {
            Ok(done) => done,
            Err(e) if !servers.is_empty() => {
                let error = Error::Remote {
                    server: servers.join(", "),
                    message: format!(
                        "lost during epoch {epoch} ({}); the model of epoch {} was kept",
                        // burn's read errors span lines; one line reads better.
                        e.to_string()
                            .lines()
                            .map(str::trim)
                            .collect::<Vec<_>>()
                            .join(" "),
                        epoch - 1
                    ),
                };
                let stop = Stop::Failed {
                    epochs: epoch - 1,
                    error: error.to_string(),
                };
                return Ok(match mirror {
                    Some((last, best)) => TrainOutcome {
                        network: last,
                        best,
                        history,
                        stop,
                    },
                    None => outcome(previous, history, best, stop),
                });
            }
            Err(e) => return Err(e),
        };
        network = next;
        if !train_metrics.cost.is_finite() {
            let stop = Stop::Diverged {
                epoch,
                cost: train_metrics.cost,
            };
            return Ok(outcome(previous, history, best, stop));
        }
        let judged = validation_metrics.as_ref().unwrap_or(&train_metrics);
        let improved = best.as_ref().is_none_or(|(_, b)| judged.better_than(b));
        if improved {
            let model = BestModel {
                epoch,
                network: network.clone(),
            };
            best = Some((model, judged.clone()));
        }
        if let (Some(host), Some((last, best_host))) = (host, mirror.as_mut()) {
            if improved {
                *best_host = Some(BestModel {
                    epoch,
                    network: host.clone(),
                });
            }
            *last = host;
        }
        let converged = !moved
            || history.last().is_some_and(|r: &EpochRecord| {
                optimizer.kind() == OptimizerKind::Lbfgs
                    && (r.train.cost - train_metrics.cost).abs() < config.optimizer.tolerance_change
            });
        let record = EpochRecord {
            epoch,
            train: train_metrics,
            validation: validation_metrics,
            millis,
            iterations: optimizer.iterations(),
            evaluations: optimizer.evaluations(),
        };
        let flow = on_epoch(&record);
        history.push(record);
        let best_epoch = best.as_ref().map_or(epoch, |(b, _)| b.epoch);
        let stop = if converged && epoch < config.epochs {
            Some(Stop::Converged {
                epochs: epoch,
                reason: if moved {
                    format!(
                        "J changed by less than {:e} in an iteration",
                        config.optimizer.tolerance_change
                    )
                } else {
                    "the gradient or the slope along the search direction is below tolerance".into()
                },
            })
        } else if config
            .patience
            .is_some_and(|p| epoch - best_epoch >= p && epoch < config.epochs)
        {
            Some(Stop::EarlyStopped {
                epochs: epoch,
                best_epoch,
            })
        } else if flow.is_break() && epoch < config.epochs {
            Some(Stop::Interrupted { epochs: epoch })
        } else {
            None
        };
        if let Some(stop) = stop {
            return Ok(outcome(network, history, best, stop));
        }
    }
    Ok(outcome(network, history, best, Stop::Completed))
}

/// The message of a caught panic (burn panics on some failed reads).
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "the backend panicked".into())
}
