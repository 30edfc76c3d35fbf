//! The training loop, as small named parts (after argmin's split of a
//! solver's step, its executor and its termination reasons): one epoch of
//! updates ([`Executor::epoch`]), the best model kept ([`Best`]), the host copy
//! of a remote run ([`RemoteMirror`]) and the stop decision ([`stop_after`]).

use super::metrics::{Metrics, evaluate};
use super::objective::Batch;
use super::optimizer::Optimizer;
use super::outcome::{BestModel, EpochRecord, Stop, TrainOutcome};
use super::parallel::DataParallel;
use super::prepared::Prepared;
use super::{TrainConfig, threads};
use crate::data::preprocess::Preprocessing;
use crate::error::{Error, Result};
use crate::network::Network;
use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burn_gradcheck::params::ParamValues;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use std::ops::ControlFlow;
use std::time::Instant;

/// What a run trains on, and with what.
#[derive(Clone, Copy)]
pub(super) struct Setting<'a> {
    pub train_set: &'a Prepared,
    pub parallel: Option<&'a DataParallel>,
    pub validation: Option<&'a Prepared>,
    pub preprocessing: &'a Preprocessing,
    pub config: &'a TrainConfig,
}

/// Runs every epoch of `setting` from `network`, calling `on_epoch` after each.
pub(super) fn run(
    network: Network,
    setting: Setting<'_>,
    mut on_epoch: impl FnMut(&EpochRecord) -> ControlFlow<()>,
) -> Result<TrainOutcome> {
    let config = setting.config;
    config.validate(setting.train_set.data.len())?;
    network.check_batch(
        &setting.train_set.x,
        &setting.train_set.y,
        config.weight_decay,
    )?;
    let mut executor = Executor::new(setting, &network)?;
    let mut mirror = RemoteMirror::new(&network, setting.parallel);
    let (mut network, mut history, mut best) = (network, Vec::new(), Best::default());
    for epoch in 1..=config.epochs {
        let previous = network.clone();
        let done = match mirror.attempt(|| executor.epoch(network, &mirror)) {
            Ok(done) => done,
            Err(e) if mirror.is_active() => {
                return Ok(mirror.lost(epoch, &e, previous, history, best));
            }
            Err(e) => return Err(e),
        };
        network = done.network;
        if !done.train.cost.is_finite() {
            let stop = Stop::Diverged {
                epoch,
                cost: done.train.cost,
            };
            return Ok(best.outcome(previous, history, stop));
        }
        let improved = best.offer(
            epoch,
            &network,
            done.validation.as_ref().unwrap_or(&done.train),
        );
        mirror.keep(done.host, epoch, improved);
        let converged = executor.optimizer.converged(
            done.moved,
            history.last().map(|r| r.train.cost),
            done.train.cost,
        );
        let record = EpochRecord {
            epoch,
            train: done.train,
            validation: done.validation,
            millis: done.millis,
            iterations: executor.optimizer.iterations(),
            evaluations: executor.optimizer.evaluations(),
        };
        let flow = on_epoch(&record);
        history.push(record);
        let best_epoch = best.epoch().unwrap_or(epoch);
        if let Some(stop) = stop_after(epoch, config, converged, best_epoch, flow.is_break()) {
            return Ok(best.outcome(network, history, stop));
        }
    }
    Ok(best.outcome(network, history, Stop::Completed))
}

/// What one epoch produced.
struct EpochDone {
    network: Network,
    /// Whether any step moved the parameters (L-BFGS may not).
    moved: bool,
    /// Wall time of the updates, evaluation excluded.
    millis: f64,
    train: Metrics,
    validation: Option<Metrics>,
    /// The host's copy of the parameters, on a remote run.
    host: Option<Network>,
}

/// The parts of a run that carry over from epoch to epoch.
struct Executor<'a> {
    setting: Setting<'a>,
    optimizer: Optimizer,
    /// Shuffles the mini-batches of every epoch.
    rng: StdRng,
    device: Device,
    /// Small steps run on one CPU thread of their own, where waking rayon's
    /// other threads for every product costs more than they give (threads.rs);
    /// the evaluation after each epoch keeps them all.
    pool: Option<rayon::ThreadPool>,
}

impl<'a> Executor<'a> {
    fn new(setting: Setting<'a>, network: &Network) -> Result<Executor<'a>> {
        let config = setting.config;
        let device = network.device();
        let m = setting.train_set.data.len();
        let pool = match setting.parallel {
            None => threads::step_pool(network, config.batch_size.unwrap_or(m), &device),
            Some(_) => None,
        };
        Ok(Executor {
            optimizer: config.optimizer.init()?,
            rng: StdRng::seed_from_u64(config.seed),
            device,
            pool,
            setting,
        })
    }

    /// The epoch's updates, timed, then the metrics it reached.
    fn epoch(&mut self, network: Network, mirror: &RemoteMirror) -> Result<EpochDone> {
        let started = Instant::now();
        let pool = self.pool.take();
        let steps = match &pool {
            Some(pool) => pool.install(|| self.steps(network)),
            None => self.steps(network),
        };
        self.pool = pool;
        let (network, moved) = steps?;
        // Wait for the queued work, so that the clock measures it and not its submission.
        self.device
            .sync()
            .map_err(|e| Error::TensorRead(format!("{e:?}")))?;
        let millis = started.elapsed().as_secs_f64() * 1e3;
        let Setting {
            train_set,
            validation,
            preprocessing,
            config,
            ..
        } = self.setting;
        let train = evaluate(&network, train_set, preprocessing, config.weight_decay)?;
        let validation = validation
            .map(|v| evaluate(&network, v, preprocessing, config.weight_decay))
            .transpose()?;
        let host = mirror.host_copy(&network)?;
        Ok(EpochDone {
            network,
            moved,
            millis,
            train,
            validation,
            host,
        })
    }

    /// One epoch of optimizer steps: the full batch once, or every mini-batch
    /// of a fresh shuffle. The steps read nothing back from the device (no
    /// cost, no shapes from data), so an asynchronous device runs the whole
    /// epoch from one queue; the epoch's metrics are its one read-back.
    /// (L-BFGS reads the cost at every point of its line search: it cannot do
    /// otherwise.)
    fn steps(&mut self, network: Network) -> Result<(Network, bool)> {
        let config = self.setting.config;
        let (decay, rate, source) = (config.weight_decay, config.learning_rate, config.gradients);
        let Some(batch_size) = config.batch_size else {
            let (network, report) = match self.setting.parallel {
                None => {
                    let batch = Batch {
                        x: self.setting.train_set.x.clone(),
                        y: self.setting.train_set.y.clone(),
                        weight_decay: decay,
                        source,
                    };
                    self.optimizer.step_on(network, &batch, rate)?
                }
                Some(parallel) => {
                    let batch = parallel.full_batch(decay, source);
                    self.optimizer.step_on(network, &batch, rate)?
                }
            };
            return Ok((network, report.moved));
        };
        self.mini_batches(network, batch_size)
    }

    /// One upload of the epoch's shuffled order (per device); each step
    /// selects its rows through a slice of it, on the device.
    fn mini_batches(&mut self, mut network: Network, batch_size: usize) -> Result<(Network, bool)> {
        let Setting {
            train_set,
            parallel,
            config,
            ..
        } = self.setting;
        let (decay, rate, source) = (config.weight_decay, config.learning_rate, config.gradients);
        let m = train_set.data.len();
        let mut order: Vec<i64> = (0..m as i64).collect();
        order.shuffle(&mut self.rng);
        let orders = parallel.map(|p| p.upload_order(&order));
        let order = Tensor::<1, Int>::from_data(TensorData::new(order, [m]), &self.device);
        let mut moved = false;
        for start in (0..m).step_by(batch_size) {
            let end = (start + batch_size).min(m);
            let (next, report) = match (parallel, &orders) {
                (Some(p), Some(orders)) => {
                    let batch = p.batch(orders, start..end, decay, source);
                    self.optimizer.step_on(network, &batch, rate)?
                }
                _ => {
                    let rows = order.clone().slice(start..end);
                    let batch = Batch {
                        x: train_set.x.clone().select(0, rows.clone()),
                        y: train_set.y.clone().select(0, rows),
                        weight_decay: decay,
                        source,
                    };
                    self.optimizer.step_on(network, &batch, rate)?
                }
            };
            network = next;
            moved |= report.moved;
        }
        Ok((network, moved))
    }
}

/// Whether the run ends after `epoch`, and why: L-BFGS converged, patience
/// ran out, or the caller asked to stop. Ending at the last epoch is
/// completion, whatever else holds.
pub(super) fn stop_after(
    epoch: usize,
    config: &TrainConfig,
    converged: Option<String>,
    best_epoch: usize,
    interrupted: bool,
) -> Option<Stop> {
    if epoch >= config.epochs {
        return None;
    }
    if let Some(reason) = converged {
        Some(Stop::Converged {
            epochs: epoch,
            reason,
        })
    } else if config.patience.is_some_and(|p| epoch - best_epoch >= p) {
        Some(Stop::EarlyStopped {
            epochs: epoch,
            best_epoch,
        })
    } else if interrupted {
        Some(Stop::Interrupted { epochs: epoch })
    } else {
        None
    }
}

/// The network of the epoch with the best validation metric so far.
#[derive(Default)]
struct Best {
    kept: Option<(BestModel, Metrics)>,
}

impl Best {
    /// Keeps `network` if `judged` beats the best so far ([`Metrics::better_than`]).
    fn offer(&mut self, epoch: usize, network: &Network, judged: &Metrics) -> bool {
        let improved = self
            .kept
            .as_ref()
            .is_none_or(|(_, b)| judged.better_than(b));
        if improved {
            let model = BestModel {
                epoch,
                network: network.clone(),
            };
            self.kept = Some((model, judged.clone()));
        }
        improved
    }

    fn epoch(&self) -> Option<usize> {
        self.kept.as_ref().map(|(b, _)| b.epoch)
    }

    fn outcome(self, network: Network, history: Vec<EpochRecord>, stop: Stop) -> TrainOutcome {
        TrainOutcome {
            network,
            best: self.kept.map(|(b, _)| b),
            history,
            stop,
        }
    }
}

/// A device behind `backprop serve` can vanish mid-run. Its epoch then ends
/// the run like Ctrl-C would, with the last completed epoch's model — kept on
/// this machine, since the server's copy is gone with it.
struct RemoteMirror {
    /// The servers the run depends on; empty for a local run.
    servers: Vec<String>,
    /// The host's copies of the last and the best network, when the
    /// parameters themselves live on a server.
    host: Option<(Network, Option<BestModel>)>,
}

impl RemoteMirror {
    fn new(network: &Network, parallel: Option<&DataParallel>) -> RemoteMirror {
        let device = network.device();
        let servers = std::iter::once(&device)
            .chain(parallel.iter().flat_map(|p| p.devices()))
            .filter_map(crate::backend::remote::url_of)
            .collect();
        let on_server = crate::backend::remote::url_of(&device).is_some();
        let host = on_server.then(|| (network.clone().to_device(&Device::flex()), None));
        RemoteMirror { servers, host }
    }

    fn is_active(&self) -> bool {
        !self.servers.is_empty()
    }

    /// Runs `work`, turning a panic (burn panics on some failed reads) into
    /// an error when a server is involved.
    fn attempt<T>(&self, work: impl FnOnce() -> Result<T>) -> Result<T> {
        if !self.is_active() {
            return work();
        }
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
            .unwrap_or_else(|panic| Err(Error::TensorRead(panic_message(&panic))))
    }

    /// The host's copy of this epoch's parameters (through our own
    /// read-back, which reports a lost server as an error).
    fn host_copy(&self, network: &Network) -> Result<Option<Network>> {
        match &self.host {
            Some((last, _)) => Ok(Some(ParamValues::of(network)?.apply(last)?)),
            None => Ok(None),
        }
    }

    /// Takes this epoch's host copy as the last network (and the best, if it is).
    fn keep(&mut self, host: Option<Network>, epoch: usize, improved: bool) {
        if let (Some(host), Some((last, best))) = (host, self.host.as_mut()) {
            if improved {
                *best = Some(BestModel {
                    epoch,
                    network: host.clone(),
                });
            }
            *last = host;
        }
    }

    /// The outcome of a run whose server was lost during `epoch`.
    fn lost(
        self,
        epoch: usize,
        error: &Error,
        previous: Network,
        history: Vec<EpochRecord>,
        best: Best,
    ) -> TrainOutcome {
        let error = Error::Remote {
            server: self.servers.join(", "),
            message: format!(
                "lost during epoch {epoch} ({}); the model of epoch {} was kept{}",
                // burn's read errors span lines; one line reads better.
                error
                    .to_string()
                    .lines()
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join(" "),
                epoch - 1,
                self.servers
                    .iter()
                    .find_map(|url| crate::backend::remote::memory_limit_hint(url))
                    .unwrap_or_default()
            ),
        };
        let stop = Stop::Failed {
            epochs: epoch - 1,
            error: error.to_string(),
        };
        match self.host {
            Some((last, best)) => TrainOutcome {
                network: last,
                best,
                history,
                stop,
            },
            None => best.outcome(previous, history, stop),
        }
    }
}

/// The message of a caught panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "the backend panicked".into())
}

#[cfg(test)]
mod tests {
    use super::stop_after;
    use crate::training::{Stop, TrainConfig};

    #[test]
    fn the_stop_decision_names_its_reason_and_never_cuts_the_last_epoch() {
        let config = TrainConfig {
            patience: Some(3),
            ..TrainConfig::gradient_descent(1.0, 0.0, 10)
        };
        let converged = || Some("J stalled".to_string());
        assert_eq!(stop_after(4, &config, None, 4, false), None);
        assert_eq!(
            stop_after(4, &config, converged(), 4, true),
            Some(Stop::Converged {
                epochs: 4,
                reason: "J stalled".into()
            }),
            "convergence first"
        );
        // Three epochs without a better validation metric; two are not enough.
        assert_eq!(
            stop_after(7, &config, None, 4, true),
            Some(Stop::EarlyStopped {
                epochs: 7,
                best_epoch: 4
            })
        );
        assert_eq!(
            stop_after(6, &config, None, 4, true),
            Some(Stop::Interrupted { epochs: 6 })
        );
        // At the last epoch the run is complete, whatever else holds.
        assert_eq!(stop_after(10, &config, converged(), 1, true), None);
    }
}
