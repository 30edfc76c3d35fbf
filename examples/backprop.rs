//! `backprop`: train, inspect and verify networks with hand-written gradients.
//!
//! A thin command-line layer over the `manual_backprop` library: the argument
//! definitions live here and each subcommand's work in `manual_backprop::app`.
//! Run `cargo run --release --example backprop -- --help`.

use clap::{Args, Parser, Subcommand};
use manual_backprop::app::{self, grads::GradientSource};
use manual_backprop::backend::remote;
use manual_backprop::data::preprocess::FeatureScaling;
use manual_backprop::run::{DatasetKind, TrainOptions};
use manual_backprop::training::{GradientSource as TrainGradients, OptimizerKind};
use manual_backprop::{Activation, Backend, Error, Precision, bench};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Parser)]
#[command(
    name = "backprop",
    version,
    about = "Neural networks with hand-written, verified backpropagation"
)]
struct Cli {
    /// The server of `--backend remote`: ws://HOST:PORT, as `backprop serve` prints it.
    #[arg(long, global = true)]
    remote: Option<String>,
    /// File whose first line is the token of the remote server (for `serve`: the token
    /// clients must present). Without it, the BACKPROP_TOKEN environment variable.
    #[arg(long, global = true)]
    token_file: Option<PathBuf>,
    /// Refuse work whose estimated memory exceeds this (e.g. 4G, 512M) [default: the
    /// memory available when the work starts].
    #[arg(long, global = true)]
    max_memory: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a network by batch gradient descent on the hand-written gradients.
    Train(Box<TrainArgs>),
    /// Run a saved model on a data set: metrics and, with --out, predictions.
    Predict(PredictArgs),
    /// Show why random initialisation is needed: equal initial weights keep
    /// every hidden unit identical.
    Symmetry(SymmetryArgs),
    /// Cost and gradients of a JSON model on JSON data, in the interchange format.
    Grads(GradsArgs),
    /// Three-way gradient check (hand-written vs autodiff vs finite differences).
    /// Exit status 0 on pass, 1 on fail, 2 on bad input.
    Check(CheckArgs),
    /// Write a saved model (a `train` output directory) in the JSON interchange format.
    ExportModel(ExportArgs),
    /// Time one training step, hand-written vs autodiff, on the benchmark shapes.
    Bench(BenchArgs),
    /// Run a grid of trainings (backends × dtypes × architectures × λ × α × seeds);
    /// rows already in the output are skipped, so an interrupted grid resumes.
    Experiment(ExperimentArgs),
    /// Host this machine's devices for `--backend remote` clients (burn's remote
    /// backend over WebSocket; builds with `--features remote`). Stops on Ctrl-C or SIGTERM.
    Serve(ServeArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Local backends to host, one port each from --listen's: flex, ndarray, wgpu.
    #[arg(long, value_delimiter = ',', default_value = "flex")]
    backend: Vec<Backend>,
    /// Address and first port to listen on. Anything but a loopback address needs a
    /// token (--token-file or BACKPROP_TOKEN).
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: std::net::SocketAddr,
}

#[derive(Args)]
struct ExperimentArgs {
    /// Grid file (see examples/grid.json).
    #[arg(long)]
    config: PathBuf,
    /// Output directory for results.json, results.csv and results.svg.
    #[arg(long, default_value = "runs/experiment")]
    out: PathBuf,
}

#[derive(Args)]
struct BenchArgs {
    /// Shapes to run: the step of digits 64-25-10 m=1797, mnist 784-256-256-10 m=128,
    /// wide 1024-1024-1024-10 m=256; and epoch, one whole epoch of MNIST
    /// 784-300-10 with m=32 (synthetic data of that shape without --mnist-dir files).
    #[arg(long, value_delimiter = ',', default_value = "digits,mnist,wide,epoch")]
    shapes: Vec<String>,
    /// Backends: flex, ndarray, wgpu/cuda in builds with those features, remote (with --remote URL) or a ws:// URL.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "ndarray,flex"
    )]
    backends: Vec<Backend>,
    /// Precisions.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "f32,f64")]
    dtypes: Vec<Precision>,
    /// Unmeasured repetitions before timing.
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Timed repetitions (each: a manual step, an autodiff step, the forward pass,
    /// the kernels alone); medians are reported.
    #[arg(long, default_value_t = 10)]
    reps: usize,
    /// Timed epochs of the epoch row (after one unmeasured epoch).
    #[arg(long, default_value_t = 3)]
    epoch_reps: usize,
    /// Directory with the MNIST IDX files for the epoch row.
    #[arg(long, default_value = "data/mnist")]
    mnist_dir: PathBuf,
    /// One JSON object per row instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct GradsArgs {
    /// Model in the JSON interchange format.
    #[arg(long)]
    model: PathBuf,
    /// Data in the JSON interchange format ({"x": [[…]], "y": [[…]]}).
    #[arg(long)]
    data: PathBuf,
    /// Weight decay λ.
    #[arg(long, default_value_t = 0.0)]
    lambda: f64,
    /// Which gradient to write.
    #[arg(long, value_enum, default_value = "manual")]
    source: GradientSource,
    /// Backend: flex, ndarray, wgpu/cuda in builds with those features, remote (with --remote URL) or a ws:// URL.
    #[arg(long, default_value = "flex")]
    backend: Backend,
    /// Precision.
    #[arg(long, value_enum, default_value = "f64")]
    dtype: Precision,
    /// Output file (stdout when absent).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct CheckArgs {
    /// Model in the JSON interchange format (with --data).
    #[arg(long, requires = "data")]
    model: Option<PathBuf>,
    /// Data in the JSON interchange format (with --model).
    #[arg(long, requires = "model")]
    data: Option<PathBuf>,
    /// Without --model: hidden layer sizes of a randomly initialised network.
    #[arg(long, value_delimiter = ',', default_value = "5")]
    hidden: Vec<usize>,
    /// Without --model: data set whose first --examples rows are used.
    #[arg(long, value_enum, default_value = "digits")]
    dataset: DatasetKind,
    /// Without --model: number of examples.
    #[arg(long, default_value_t = 20)]
    examples: usize,
    /// Without --model: activation.
    #[arg(long, value_enum, default_value = "sigmoid")]
    activation: Activation,
    /// Without --model: ε of the initialisation (large enough to leave the linear regime).
    #[arg(long, default_value_t = 0.5)]
    init_std: f64,
    /// Weight decay λ.
    #[arg(long, default_value_t = 1e-3)]
    lambda: f64,
    /// Finite-difference step [default: 1e-5 in f64, 4e-3 in f32, near each
    /// precision's optimum u^(1/3); 1e-4 matches the reference course].
    #[arg(long)]
    epsilon: Option<f64>,
    /// Finite differences on only this many random entries per tensor [default: every
    /// entry up to 20,000 parameters, 1,000 per tensor above].
    #[arg(long, conflicts_with = "full")]
    sample: Option<usize>,
    /// Finite differences on every entry, however large the network.
    #[arg(long)]
    full: bool,
    /// Directional mode with this many random directions.
    #[arg(long)]
    directions: Option<usize>,
    /// Only these parameters (comma list of module paths, e.g. layers.0.weight).
    #[arg(long, value_delimiter = ',')]
    params: Option<Vec<String>>,
    /// Backend: flex, ndarray, wgpu/cuda in builds with those features, remote (with --remote URL) or a ws:// URL.
    #[arg(long, default_value = "flex")]
    backend: Backend,
    /// Precision.
    #[arg(long, value_enum, default_value = "f64")]
    dtype: Precision,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ExportArgs {
    /// Model directory written by `train`.
    #[arg(long)]
    model: PathBuf,
    /// Output JSON file (stdout when absent).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Options of `train`; each overrides the same field of `--config`.
#[derive(Args)]
struct TrainArgs {
    /// JSON file with any of these options (field names as in options.json of a run).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data set [default: digits].
    #[arg(long, value_enum)]
    dataset: Option<DatasetKind>,
    /// CSV file for --dataset csv.
    #[arg(long)]
    data: Option<PathBuf>,
    /// CSV target columns, by name or 0-based index (comma list).
    #[arg(long, value_delimiter = ',')]
    target_columns: Option<Vec<String>>,
    /// Treat the CSV target column as class labels.
    #[arg(long)]
    classify: bool,
    /// Directory with the MNIST IDX files [default: data/mnist].
    #[arg(long)]
    mnist_dir: Option<PathBuf>,
    /// Hidden layer sizes, repeatable or a comma list [default: 30].
    #[arg(long, value_delimiter = ',')]
    hidden: Option<Vec<usize>>,
    /// Activation of every layer [default: sigmoid].
    #[arg(long, value_enum)]
    activation: Option<Activation>,
    /// Weight decay λ [default: 3e-5].
    #[arg(long)]
    lambda: Option<f64>,
    /// Step size α [default: 4].
    #[arg(long)]
    alpha: Option<f64>,
    /// Epochs [default: 8000].
    #[arg(long)]
    epochs: Option<usize>,
    /// Mini-batch size [default: full batch].
    #[arg(long)]
    batch_size: Option<usize>,
    /// ε of the N(0, ε²) initialisation [default: 0.01].
    #[arg(long)]
    init_std: Option<f64>,
    /// Seed of initialisation, split and shuffling [default: 1].
    #[arg(long)]
    seed: Option<u64>,
    /// Compute backend: flex, ndarray, wgpu/cuda in builds with those features, remote (with --remote URL) or a ws:// URL [default: flex].
    #[arg(long)]
    backend: Option<Backend>,
    /// Precision [default: f32].
    #[arg(long, value_enum)]
    dtype: Option<Precision>,
    /// Feature scaling [default: max-abs for images, standardize otherwise].
    #[arg(long, value_enum)]
    scaling: Option<FeatureScaling>,
    /// Start from this model in the JSON interchange format (e.g. a run's network.json).
    #[arg(long)]
    init_model: Option<PathBuf>,
    /// Update rule: gd (the reference's gradient descent), momentum, adam, lbfgs [default: gd].
    #[arg(long, value_enum)]
    optimizer: Option<OptimizerKind>,
    /// Momentum μ for --optimizer momentum [default: 0.9].
    #[arg(long)]
    momentum: Option<f64>,
    /// Nesterov momentum for --optimizer momentum.
    #[arg(long)]
    nesterov: bool,
    /// Adam's β₁ [default: 0.9].
    #[arg(long)]
    beta1: Option<f64>,
    /// Adam's β₂ [default: 0.999].
    #[arg(long)]
    beta2: Option<f64>,
    /// Adam's ε [default: 1e-8].
    #[arg(long)]
    adam_epsilon: Option<f64>,
    /// L-BFGS correction pairs kept [default: 100].
    #[arg(long)]
    lbfgs_history: Option<usize>,
    /// L-BFGS without the strong-Wolfe line search (fixed step α).
    #[arg(long)]
    no_line_search: bool,
    /// Gradients that drive the optimizer: manual (hand-written) or autodiff (a control) [default: manual].
    #[arg(long, value_enum)]
    gradients: Option<TrainGradients>,
    /// Stop after this many epochs without a better validation metric.
    #[arg(long)]
    patience: Option<usize>,
    /// Data-parallel training: split every batch over these devices (comma list of
    /// backends or ws:// URLs) and combine their gradients; parameters stay on --backend.
    #[arg(long, value_delimiter = ',')]
    devices: Option<Vec<Backend>>,
    /// Output directory [default: runs/<unix time>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// No progress bar; print only the summary.
    #[arg(long)]
    quiet: bool,
    /// Print the summary as one JSON object (implies --quiet).
    #[arg(long)]
    json: bool,
}

impl TrainArgs {
    fn options(&self) -> Result<TrainOptions, Error> {
        let mut o = match &self.config {
            Some(path) => TrainOptions::from_json_file(path)?,
            None => TrainOptions::default(),
        };
        macro_rules! set {
            ($($field:ident),*) => { $( if let Some(v) = &self.$field { o.$field = v.clone(); } )* };
        }
        set!(
            dataset,
            target_columns,
            mnist_dir,
            hidden,
            activation,
            lambda,
            alpha,
            epochs,
            init_std,
            seed,
            backend,
            dtype,
            devices
        );
        if self.data.is_some() {
            o.data = self.data.clone();
        }
        if self.batch_size.is_some() {
            o.batch_size = self.batch_size;
        }
        if self.scaling.is_some() {
            o.scaling = self.scaling;
        }
        if self.init_model.is_some() {
            o.init_model = self.init_model.clone();
        }
        o.classify |= self.classify;
        if let Some(kind) = self.optimizer {
            o.optimizer.kind = kind;
        }
        let opt = &mut o.optimizer;
        macro_rules! set_opt {
            ($($field:ident),*) => { $( if let Some(v) = self.$field { opt.$field = v; } )* };
        }
        set_opt!(momentum, beta1, beta2, adam_epsilon, lbfgs_history);
        opt.nesterov |= self.nesterov;
        opt.line_search &= !self.no_line_search;
        if let Some(g) = self.gradients {
            o.gradients = g;
        }
        if self.patience.is_some() {
            o.patience = self.patience;
        }
        Ok(o)
    }
}

#[derive(Args)]
struct PredictArgs {
    /// Model directory written by `train` (model.bpk + model.json), or a model in
    /// the JSON interchange format (then features are used as they are, and --dataset is needed).
    #[arg(long)]
    model: PathBuf,
    /// Data set to predict [default: the one the model was trained on, where built in].
    #[arg(long, value_enum)]
    dataset: Option<DatasetKind>,
    /// CSV file for --dataset csv.
    #[arg(long)]
    data: Option<PathBuf>,
    /// CSV target columns (for metrics).
    #[arg(long, value_delimiter = ',')]
    target_columns: Vec<String>,
    /// Treat the CSV target column as class labels.
    #[arg(long)]
    classify: bool,
    /// Directory with the MNIST IDX files (the 10k test set is used).
    #[arg(long, default_value = "data/mnist")]
    mnist_dir: PathBuf,
    /// Backend to run on: flex, ndarray, wgpu/cuda in builds with those features, remote (with --remote URL) or a ws:// URL.
    #[arg(long, default_value = "flex")]
    backend: Backend,
    /// Write predictions here as CSV.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct SymmetryArgs {
    /// Hidden units.
    #[arg(long, default_value_t = 16)]
    hidden: usize,
    /// Epochs of full-batch gradient descent on the digits.
    #[arg(long, default_value_t = 300)]
    epochs: usize,
    /// The value every weight and bias starts at in the symmetric run.
    #[arg(long, default_value_t = 0.05)]
    value: f64,
    /// Backend: flex, ndarray, wgpu/cuda in builds with those features, remote (with --remote URL) or a ws:// URL.
    #[arg(long, default_value = "flex")]
    backend: Backend,
    /// Precision.
    #[arg(long, value_enum, default_value = "f64")]
    dtype: Precision,
}

impl From<ExperimentArgs> for app::experiment::ExperimentRequest {
    fn from(a: ExperimentArgs) -> Self {
        Self {
            config: a.config,
            out: a.out,
        }
    }
}

impl From<BenchArgs> for app::bench::BenchRequest {
    fn from(a: BenchArgs) -> Self {
        Self {
            shapes: a.shapes,
            backends: a.backends,
            dtypes: a.dtypes,
            warmup: a.warmup,
            reps: a.reps,
            epoch_reps: a.epoch_reps,
            mnist_dir: a.mnist_dir,
            json: a.json,
        }
    }
}

impl From<GradsArgs> for app::grads::GradsRequest {
    fn from(a: GradsArgs) -> Self {
        Self {
            model: a.model,
            data: a.data,
            lambda: a.lambda,
            source: a.source,
            backend: a.backend,
            dtype: a.dtype,
            out: a.out,
        }
    }
}

impl From<CheckArgs> for app::check::CheckRequest {
    fn from(a: CheckArgs) -> Self {
        Self {
            model: a.model,
            data: a.data,
            hidden: a.hidden,
            dataset: a.dataset,
            examples: a.examples,
            activation: a.activation,
            init_std: a.init_std,
            lambda: a.lambda,
            epsilon: a.epsilon,
            sample: a.sample,
            full: a.full,
            directions: a.directions,
            params: a.params,
            backend: a.backend,
            dtype: a.dtype,
            json: a.json,
        }
    }
}

impl From<ExportArgs> for app::export::ExportRequest {
    fn from(a: ExportArgs) -> Self {
        Self {
            model: a.model,
            out: a.out,
        }
    }
}

impl From<PredictArgs> for app::predict::PredictRequest {
    fn from(a: PredictArgs) -> Self {
        Self {
            model: a.model,
            dataset: a.dataset,
            data: a.data,
            target_columns: a.target_columns,
            classify: a.classify,
            mnist_dir: a.mnist_dir,
            backend: a.backend,
            out: a.out,
        }
    }
}

impl From<SymmetryArgs> for app::symmetry::SymmetryRequest {
    fn from(a: SymmetryArgs) -> Self {
        Self {
            hidden: a.hidden,
            epochs: a.epochs,
            value: a.value,
            backend: a.backend,
            dtype: a.dtype,
        }
    }
}

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`backprop … | head`), as command-line tools do,
    // instead of panicking inside println!.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    #[cfg(all(unix, feature = "wgpu"))]
    quiet_mesa();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Connects the global `--remote`/`--token-file` options to the subcommand,
/// then runs it.
fn run(cli: Cli) -> Result<ExitCode, Error> {
    let url = cli.remote.as_deref();
    if let Some(size) = &cli.max_memory {
        manual_backprop::resources::set_limit(Some(manual_backprop::resources::parse_size(size)?));
    }
    if !matches!(cli.command, Command::Serve(_)) {
        remote::set_token(remote::read_token(cli.token_file.as_deref())?);
    }
    // `--remote` names the server of `--backend remote`: given alone it would
    // silently run locally, so it must have a bare `remote` to fill.
    let mut used = false;
    let mut on = |backend: Backend| {
        used |= backend.is_bare_remote();
        backend.with_remote(url)
    };
    match cli.command {
        Command::Train(args) => {
            let mut options = args.options()?;
            options.backend = on(options.backend)?;
            options.devices = options
                .devices
                .into_iter()
                .map(&mut on)
                .collect::<Result<_, _>>()?;
            check_remote_used(url, used)?;
            train(*args, options)
        }
        Command::Predict(mut args) => {
            args.backend = on(args.backend)?;
            check_remote_used(url, used)?;
            app::predict::run(args.into())
        }
        Command::Symmetry(mut args) => {
            args.backend = on(args.backend)?;
            check_remote_used(url, used)?;
            app::symmetry::run(args.into())
        }
        Command::Grads(mut args) => {
            args.backend = on(args.backend)?;
            check_remote_used(url, used)?;
            app::grads::run(args.into())
        }
        Command::Check(mut args) => {
            args.backend = on(args.backend)?;
            check_remote_used(url, used)?;
            app::check::run(args.into())
        }
        Command::Bench(mut args) => {
            args.backends = args
                .backends
                .into_iter()
                .map(&mut on)
                .collect::<Result<_, _>>()?;
            check_remote_used(url, used)?;
            app::bench::run(args.into(), &step_peak_bytes)
        }
        Command::ExportModel(args) => app::export::run(args.into()),
        Command::Experiment(args) => app::experiment::run(args.into()),
        Command::Serve(args) => app::serve::run(app::serve::ServeRequest {
            backends: args.backend,
            listen: args.listen,
            token_file: cli.token_file,
        }),
    }
}

/// `--remote` given with no `--backend remote` to use it.
fn check_remote_used(url: Option<&str>, used: bool) -> Result<(), Error> {
    match url {
        Some(url) if !used => Err(Error::InvalidParameter {
            name: "remote",
            value: url.to_string(),
            reason: "--remote names the server of --backend remote (or of `remote` in \
                     --devices); add --backend remote"
                .into(),
        }),
        _ => Ok(()),
    }
}

/// `train`, with Ctrl-C stopping it after the current epoch (and a second
/// Ctrl-C while saving falling through to the default handler).
fn train(args: TrainArgs, options: TrainOptions) -> Result<ExitCode, Error> {
    let request = app::train::TrainRequest {
        options,
        out: args.out.clone(),
        quiet: args.quiet,
        json: args.json,
    };
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    app::train::run(request, &interrupted)
}

/// Mesa's Vulkan drivers print "error: XDG_RUNTIME_DIR is invalid or not set"
/// several times when that variable is unset (under CI, cron, `sudo`), which
/// reads like our own errors; a private directory silences them.
#[cfg(all(unix, feature = "wgpu"))]
fn quiet_mesa() {
    use std::os::unix::fs::DirBuilderExt;
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return;
    }
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let dir = std::env::temp_dir().join(format!("backprop-runtime-{uid}"));
    let made = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    if made.is_ok() || dir.is_dir() {
        // SAFETY: called first thing in main, before any thread is started.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
    }
}

/// Counts heap bytes in use and their peak, to compare the memory a manual
/// step and an autodiff step allocate on top of what is already live.
struct CountingAllocator;

static ALLOCATED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static PEAK: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counters are only bookkeeping.
unsafe impl std::alloc::GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let now = ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: same layout contract as our caller's.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `alloc` above with this layout.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            let now = ALLOCATED.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                - layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        } else {
            ALLOCATED.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Peak heap bytes allocated during one step, above what was live before it.
fn step_peak_bytes(
    method: bench::Method,
    network: manual_backprop::Network,
    x: &burn::tensor::Tensor<2>,
    y: &burn::tensor::Tensor<2>,
) -> Result<usize, Error> {
    let before = ALLOCATED.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let (network, _) = bench::step(method, network, x, y)?;
    let peak = PEAK.load(Ordering::SeqCst);
    drop(network);
    Ok(peak.saturating_sub(before))
}
