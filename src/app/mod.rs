//! The `backprop` command line (feature `cli`): [`Cli`] parses it, one
//! request type per subcommand (one file each, deriving clap's `Args`), and
//! [`main`] runs it — so everything a subcommand does is library code,
//! documented and testable, and the examples binary only installs what only a
//! binary can (signal dispositions, the counting allocator).

pub mod bench;
pub mod check;
pub mod conformance;
pub mod experiment;
pub mod explain;
pub mod export;
pub mod flags;
pub mod grads;
pub mod predict;
pub mod serve;
pub mod symmetry;
pub mod train;

use crate::Precision;
use crate::backend::{Backend, remote};
use crate::error::Error;
use crate::interchange::ModelJson;
use crate::io::read_json;
use crate::network::Network;
use crate::persist::{self, ModelMeta};
use crate::run::Summary;
use crate::training::Metrics;
use burn::tensor::Device;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// `backprop`: train, inspect and verify networks with hand-written gradients.
#[derive(Parser)]
#[command(
    name = "backprop",
    version,
    about = "Neural networks with hand-written, verified backpropagation"
)]
pub struct Cli {
    /// The server of `--backend remote`: ws://HOST:PORT, as `backprop serve` prints it.
    #[arg(long, global = true)]
    pub remote: Option<String>,
    /// File whose first line is the token of the remote server (for `serve`: the token
    /// clients must present). Without it, the BACKPROP_TOKEN environment variable.
    #[arg(long, global = true)]
    pub token_file: Option<PathBuf>,
    /// Refuse work whose estimated memory exceeds this (e.g. 4G, 512M) [default: the
    /// memory available when the work starts].
    #[arg(long, global = true)]
    pub max_memory: Option<String>,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Train a network on the hand-written gradients (gradient descent or one of burn's
    /// optimizers; autodiff's gradients as a control).
    Train(Box<train::TrainRequest>),
    /// Run a saved model on a data set: metrics and, with --out, predictions.
    Predict(predict::PredictRequest),
    /// Show why random initialisation is needed: equal initial weights keep
    /// every hidden unit identical.
    Symmetry(symmetry::SymmetryRequest),
    /// Cost and gradients of a JSON model on JSON data, in the interchange format.
    Grads(grads::GradsRequest),
    /// Three-way gradient check (hand-written vs autodiff vs finite differences).
    /// Exit status 0 on pass, 1 on fail, 2 on bad input.
    Check(check::CheckRequest),
    /// Check burn's own gradients: the gradient checker over matmul, convolutions,
    /// pooling, softmax, indexing and element-wise operations on every backend and
    /// dtype. Exit status 0 when all pass, 1 on a failure, 2 on bad input.
    Conformance(conformance::ConformanceRequest),
    /// Show backpropagation of one example number by number: z, a, each δ of the
    /// recursion and the gradients, under the formulas they evaluate.
    Explain(explain::ExplainRequest),
    /// Write a saved model (a `train` output directory) in the JSON interchange format.
    ExportModel(export::ExportRequest),
    /// Time one training step, hand-written vs autodiff, on the benchmark shapes.
    Bench(bench::BenchRequest),
    /// Run a grid of trainings (backends × dtypes × architectures × λ × α × seeds);
    /// rows already in the output are skipped, so an interrupted grid resumes.
    Experiment(experiment::ExperimentRequest),
    /// Host this machine's devices for `--backend remote` clients (burn's remote
    /// backend over WebSocket; builds with `--features remote`). Stops on Ctrl-C or SIGTERM.
    Serve(serve::ServeRequest),
}

/// Parses the command line and runs it: exit status 2, with the error on one
/// line and no backtrace, on bad input.
pub fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // The flags `train` was given, to lay over its --config file.
    let given: Vec<&str> = matches
        .subcommand_matches("train")
        .map(|m| {
            m.ids()
                .map(|id| id.as_str())
                .filter(|id| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
                .collect()
        })
        .unwrap_or_default();
    let result = run(cli, &given);
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!(
                "error: {}",
                flags::in_flags(&e.to_string(), &Cli::command())
            );
            ExitCode::from(2)
        }
    }
}

/// Runs a parsed command line; `given` lists the `train` flags that were on it.
pub fn run(cli: Cli, given: &[&str]) -> Result<ExitCode, Error> {
    if let Some(size) = &cli.max_memory {
        crate::resources::set_limit(Some(crate::resources::parse_size(size)?));
    }
    if !matches!(cli.command, Command::Serve(_)) {
        remote::set_token(remote::read_token(cli.token_file.as_deref())?);
    }
    let mut remote = RemoteFill::new(cli.remote.as_deref());
    match cli.command {
        Command::Train(request) => {
            let mut request = request.apply_config(given)?;
            let options = &mut request.options;
            options.backend = remote.fill(options.backend.clone())?;
            options.devices = remote.fill_all(std::mem::take(&mut options.devices))?;
            remote.check_used()?;
            train::run(request, &interrupt_flag())
        }
        Command::Predict(mut r) => {
            r.backend = remote.single(r.backend)?;
            predict::run(r)
        }
        Command::Symmetry(mut r) => {
            r.backend = remote.single(r.backend)?;
            symmetry::run(r)
        }
        Command::Grads(mut r) => {
            r.backend = remote.single(r.backend)?;
            grads::run(r)
        }
        Command::Check(mut r) => {
            r.backend = remote.single(r.backend)?;
            check::run(r)
        }
        Command::Bench(mut r) => {
            r.backends = remote.fill_all(r.backends)?;
            remote.check_used()?;
            bench::run(r)
        }
        Command::Conformance(mut r) => {
            r.backend = remote.fill_all(r.backend)?;
            remote.check_used()?;
            conformance::run(r)
        }
        Command::Explain(mut r) => {
            r.backend = remote.single(r.backend)?;
            explain::run(r)
        }
        Command::ExportModel(r) => export::run(r),
        Command::Experiment(r) => experiment::run(r),
        Command::Serve(mut r) => {
            r.token_file = cli.token_file;
            r.max_memory = cli
                .max_memory
                .as_deref()
                .map(crate::resources::parse_size)
                .transpose()?;
            serve::run(r)
        }
    }
}

/// The global `--remote URL` fills every bare `remote` backend of the subcommand.
struct RemoteFill<'a> {
    url: Option<&'a str>,
    used: bool,
}

impl<'a> RemoteFill<'a> {
    fn new(url: Option<&'a str>) -> Self {
        RemoteFill { url, used: false }
    }

    fn fill(&mut self, backend: Backend) -> Result<Backend, Error> {
        self.used |= backend.is_bare_remote();
        backend.with_remote(self.url)
    }

    /// [`RemoteFill::fill`] for a subcommand with one backend, checked at once.
    fn single(&mut self, backend: Backend) -> Result<Backend, Error> {
        let backend = self.fill(backend)?;
        self.check_used()?;
        Ok(backend)
    }

    fn fill_all(&mut self, backends: Vec<Backend>) -> Result<Vec<Backend>, Error> {
        backends.into_iter().map(|b| self.fill(b)).collect()
    }

    /// `--remote` given alone would silently run locally: it must have a bare
    /// `remote` to fill.
    fn check_used(&self) -> Result<(), Error> {
        match self.url {
            Some(url) if !self.used => Err(Error::InvalidParameter {
                name: "remote",
                value: url.to_string(),
                reason: "--remote names the server of --backend remote (or of `remote` in \
                         --devices); add --backend remote"
                    .into(),
            }),
            _ => Ok(()),
        }
    }
}

/// Set by the first Ctrl-C, which stops training after the current epoch; a
/// second Ctrl-C (while saving, say) exits at once with status 130.
fn interrupt_flag() -> Arc<AtomicBool> {
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    interrupted
}

/// `runs/<unix time>`: where a run goes when no `--out` is given.
pub fn default_run_dir() -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    PathBuf::from("runs").join(secs.to_string())
}

/// Accuracy for classifiers, R² and MSE for regressors.
pub fn headline(m: &Metrics) -> String {
    match (m.accuracy, m.r2, m.mse) {
        (Some(a), _, _) => format!("accuracy {:.2}%", 100.0 * a),
        (_, Some(r2), Some(mse)) => format!("R² {r2:.4}  MSE {mse:.3e}"),
        _ => String::new(),
    }
}

/// Prints the summary table of a run.
pub fn print_summary(s: &Summary) {
    println!();
    println!("{:<11} {:>12} {:>12}  metric", "set", "cost J", "data cost");
    for (name, m) in [
        ("train", &s.train),
        ("validation", &s.validation),
        ("test", &s.test),
    ] {
        println!(
            "{name:<11} {:>12.6} {:>12.6}  {}",
            m.cost,
            m.data_cost,
            headline(m)
        );
    }
    println!(
        "saved model: epoch {} of {} (best validation metric); the last epoch's model gives test {}",
        s.best_epoch,
        s.epochs,
        headline(&s.last.test)
    );
    println!(
        "{} epochs of {} in {:.2} s ({:.3} ms per epoch), {} steps, {} cost-and-gradient evaluations",
        s.epochs, s.optimizer, s.train_seconds, s.millis_per_epoch, s.iterations, s.evaluations
    );
}

/// A `train` run directory, or a model in the JSON interchange format (which
/// has no metadata).
pub fn load_model(path: &Path, device: &Device) -> Result<(Network, Option<ModelMeta>), Error> {
    if path.is_file() && path.extension().is_some_and(|e| e == "json") {
        let network = read_json::<ModelJson>(path)?.to_network(device, Precision::F64)?;
        return Ok((network, None));
    }
    let (network, meta) = persist::load(path, device)?;
    Ok((network, Some(meta)))
}

/// Writes `text` to `out`, or stdout.
pub fn emit(out: Option<&PathBuf>, text: &str) -> Result<(), Error> {
    match out {
        Some(path) => crate::io::write_atomic(path, format!("{text}\n").as_bytes()),
        None => {
            println!("{text}");
            Ok(())
        }
    }
}

/// Pretty JSON of plain data.
pub fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("plain data serialises")
}
