//! `backprop`: train, inspect and verify networks with hand-written gradients.
//!
//! A thin command-line layer over the `manual_backprop` library; run
//! `cargo run --release --example backprop -- --help`.

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use manual_backprop::data::preprocess::{FeatureScaling, Predictions, Preprocessing};
use manual_backprop::interchange::{DataJson, GradientsJson, ModelJson, read_json};
use manual_backprop::run::{self, DatasetKind, Summary, TrainOptions};
use manual_backprop::training::{
    GradientSource as TrainGradients, Metrics, OptimizerKind, Prepared, Stop,
};
use manual_backprop::verification::{self, CheckOptions, FiniteDifference};
use manual_backprop::{Activation, Backend, Error, NetworkConfig, Precision, bench, persist};
use std::ops::ControlFlow;
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
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a network by batch gradient descent on the hand-written gradients.
    Train(TrainArgs),
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
    /// Shapes to run (digits 64-25-10 m=1797, mnist 784-256-256-10 m=128, wide 1024-1024-1024-10 m=256).
    #[arg(long, value_delimiter = ',', default_value = "digits,mnist,wide")]
    shapes: Vec<String>,
    /// Backends.
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
    /// One JSON object per row instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum GradientSource {
    Manual,
    Autodiff,
    Numeric,
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
    /// Backend.
    #[arg(long, value_enum, default_value = "flex")]
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
    /// Finite differences on only this many random entries per tensor.
    #[arg(long)]
    sample: Option<usize>,
    /// Directional mode with this many random directions.
    #[arg(long)]
    directions: Option<usize>,
    /// Only these parameters (comma list of module paths, e.g. layers.0.weight).
    #[arg(long, value_delimiter = ',')]
    params: Option<Vec<String>>,
    /// Backend.
    #[arg(long, value_enum, default_value = "flex")]
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
    /// Weight decay λ [default: 1e-4].
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
    /// Compute backend [default: flex].
    #[arg(long, value_enum)]
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
            dtype
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
    /// Backend to run on.
    #[arg(long, value_enum, default_value = "flex")]
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
    /// Backend.
    #[arg(long, value_enum, default_value = "flex")]
    backend: Backend,
    /// Precision.
    #[arg(long, value_enum, default_value = "f64")]
    dtype: Precision,
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
    let result = match cli.command {
        Command::Train(args) => train(args),
        Command::Predict(args) => predict(args),
        Command::Symmetry(args) => symmetry(args),
        Command::Grads(args) => grads(args),
        Command::Check(args) => check(args),
        Command::ExportModel(args) => export_model(args),
        Command::Bench(args) => bench(args),
        Command::Experiment(args) => experiment(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
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

fn train(args: TrainArgs) -> Result<ExitCode, Error> {
    let options = args.options()?;
    options.validate()?;
    options.backend.device_for(options.dtype)?;
    let quiet = args.quiet || args.json;
    let out = args.out.clone().unwrap_or_else(default_run_dir);
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        // A second Ctrl-C while saving falls through to the default handler.
        let _ = ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
    }
    let split = options.load_data()?;
    if !quiet {
        let sizes = options
            .network_config(split.train.n_features, split.train.targets.width())
            .sizes;
        eprintln!(
            "training {sizes:?} {} on {} ({} train / {} validation / {} test), {} {}, {} on {} gradients, α = {}, λ = {}, {}",
            options.activation,
            split.train.name.trim_end_matches("-train"),
            split.train.len(),
            split.validation.len(),
            split.test.len(),
            options.backend,
            options.dtype,
            options.optimizer.kind,
            match options.gradients {
                TrainGradients::Manual => "hand-written",
                TrainGradients::Autodiff => "autodiff",
            },
            options.alpha,
            options.lambda,
            options
                .batch_size
                .map_or("full batch".into(), |b| format!("batches of {b}")),
        );
    }
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(options.epochs as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} epochs  {msg}  [{elapsed_precise} < {eta}]",
        )
        .expect("valid template"),
    );
    let trained = run::train_on(&options, &split, |record| {
        bar.set_position(record.epoch as u64);
        bar.set_message(format!(
            "cost {:.5}  {}",
            record.train.cost,
            record
                .validation
                .as_ref()
                .map_or(String::new(), |v| format!("validation {}", headline(v)))
        ));
        if interrupted.load(Ordering::SeqCst) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })?;
    bar.finish_and_clear();
    let files = run::save_run(&out, &options, &trained)?;
    if args.json {
        let value = serde_json::json!({ "out": out, "summary": trained.summary, "files": files });
        println!("{value}");
    } else {
        print_summary(&trained.summary);
        println!("saved to {}:", out.display());
        for f in &files {
            println!("  {}", f.display());
        }
    }
    match trained.summary.stop {
        Stop::Diverged { .. } => {
            let e = trained
                .outcome
                .diverged(&options.train_config())
                .expect("diverged");
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
        Stop::Interrupted { epochs } => {
            eprintln!("interrupted after {epochs} epochs; the model and history so far were saved");
            Ok(ExitCode::from(130))
        }
        Stop::EarlyStopped { .. } | Stop::Converged { .. } => {
            eprintln!("{}", trained.summary.stop);
            Ok(ExitCode::SUCCESS)
        }
        Stop::Completed => Ok(ExitCode::SUCCESS),
    }
}

fn default_run_dir() -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    PathBuf::from("runs").join(secs.to_string())
}

/// Accuracy for classifiers, R² and MSE for regressors.
fn headline(m: &Metrics) -> String {
    match (m.accuracy, m.r2, m.mse) {
        (Some(a), _, _) => format!("accuracy {:.2}%", 100.0 * a),
        (_, Some(r2), Some(mse)) => format!("R² {r2:.4}  MSE {mse:.3e}"),
        _ => String::new(),
    }
}

fn print_summary(s: &Summary) {
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

fn predict(args: PredictArgs) -> Result<ExitCode, Error> {
    let device = args.backend.device();
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
    let metrics = manual_backprop::training::evaluate(&network, &prepared, &preprocessing, 0.0)?;
    println!(
        "{} examples of {}: {}",
        data.len(),
        data.name,
        headline(&metrics)
    );
    if let Some(out) = &args.out {
        let outputs = manual_backprop::tensor::to_vec(&network.hypothesis(prepared.x))?;
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

fn symmetry(args: SymmetryArgs) -> Result<ExitCode, Error> {
    let base = TrainOptions {
        hidden: vec![args.hidden],
        epochs: args.epochs,
        backend: args.backend,
        dtype: args.dtype,
        ..TrainOptions::default()
    };
    base.validate()?;
    let device = args.backend.device_for(args.dtype)?;
    let split = base.load_data()?;
    println!(
        "digits, 64-{}-10 sigmoid, {} epochs of full-batch gradient descent (α = {}, λ = {}):",
        args.hidden, args.epochs, base.alpha, base.lambda
    );
    for (label, constant) in [
        (format!("all weights = {}", args.value), Some(args.value)),
        ("random N(0, 0.1²)".to_string(), None),
    ] {
        let options = TrainOptions {
            init_std: 0.1,
            ..base.clone()
        };
        let network = |config: &NetworkConfig| match constant {
            Some(v) => config.init_constant(&device, args.dtype, v),
            None => config.init(&device, args.dtype),
        };
        let trained =
            run::train_with_network(&options, &split, network, |_| ControlFlow::Continue(()))?;
        let distinct = trained.outcome.network.distinct_units(0, 1e-9)?;
        println!(
            "  {label:<22} {distinct:>3} distinct hidden units of {}   test {}",
            args.hidden,
            headline(&trained.summary.test)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to `out`, or stdout.
fn emit(out: Option<&PathBuf>, text: &str) -> Result<(), Error> {
    match out {
        Some(path) => persist::write_atomic(path, format!("{text}\n").as_bytes()),
        None => {
            println!("{text}");
            Ok(())
        }
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("plain data serialises")
}

fn grads(args: GradsArgs) -> Result<ExitCode, Error> {
    let device = args.backend.device_for(args.dtype)?;
    let model: ModelJson = read_json(&args.model)?;
    let network = model.to_network(&device, args.dtype)?;
    let data: DataJson = read_json(&args.data)?;
    let (x, y) = data.to_tensors(&network)?;
    let grads = match args.source {
        GradientSource::Manual => network.gradients(x, y, args.lambda)?,
        GradientSource::Autodiff => verification::autodiff_gradients(&network, x, y, args.lambda)?,
        GradientSource::Numeric => verification::numeric_gradients(
            &network,
            x,
            y,
            args.lambda,
            FiniteDifference::central(1e-5),
        )?,
    };
    emit(
        args.out.as_ref(),
        &to_json(&GradientsJson::from_gradients(&network, &grads)?),
    )?;
    Ok(ExitCode::SUCCESS)
}

fn check(args: CheckArgs) -> Result<ExitCode, Error> {
    let device = args.backend.device_for(args.dtype)?;
    let (network, x, y) = match (&args.model, &args.data) {
        (Some(model), Some(data)) => {
            let network = read_json::<ModelJson>(model)?.to_network(&device, args.dtype)?;
            let (x, y) = read_json::<DataJson>(data)?.to_tensors(&network)?;
            (network, x, y)
        }
        _ => {
            let options = TrainOptions {
                dataset: args.dataset,
                hidden: args.hidden.clone(),
                activation: args.activation,
                init_std: args.init_std,
                validation: 0.0,
                test: 0.0,
                ..TrainOptions::default()
            };
            options.validate()?;
            let data = options.load_data()?.train;
            let m = args.examples.clamp(1, data.len());
            let rows: Vec<usize> = (0..m).collect();
            let data = data.subset(&data.name, &rows);
            let scaling = if data.image_shape.is_some() {
                FeatureScaling::MaxAbs
            } else {
                FeatureScaling::Standardize
            };
            let preprocessing = Preprocessing::fit(&data, scaling, args.activation)?;
            let prepared = Prepared::new(&data, &preprocessing, &device, args.dtype)?;
            let config =
                options.network_config(preprocessing.n_features(), preprocessing.n_outputs());
            (config.init(&device, args.dtype)?, prepared.x, prepared.y)
        }
    };
    let options = CheckOptions {
        finite_difference: FiniteDifference::central(args.epsilon.unwrap_or(match args.dtype {
            Precision::F64 => 1e-5,
            Precision::F32 => 4e-3,
        })),
        params: args.params.clone(),
        sample: args.sample,
        directions: args.directions,
        ..CheckOptions::default()
    };
    let report = verification::check_network(&network, x, y, args.lambda, &options)?;
    if args.json {
        println!("{}", to_json(&report));
    } else {
        print!("{report}");
    }
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn export_model(args: ExportArgs) -> Result<ExitCode, Error> {
    let (network, meta) = persist::load(&args.model, &Backend::Flex.device())?;
    let model = ModelJson::from_network_on_raw_features(&network, &meta.preprocessing.features)?;
    emit(args.out.as_ref(), &to_json(&model))?;
    Ok(ExitCode::SUCCESS)
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

fn bench(args: BenchArgs) -> Result<ExitCode, Error> {
    let shapes: Vec<bench::Shape> = args
        .shapes
        .iter()
        .map(|name| {
            bench::shapes()
                .into_iter()
                .find(|s| &s.name == name)
                .ok_or_else(|| Error::InvalidParameter {
                    name: "shapes",
                    value: name.clone(),
                    reason: "known shapes are digits, mnist, wide".into(),
                })
        })
        .collect::<Result<_, _>>()?;
    if !args.json {
        println!(
            "{:<7} {:<8} {:<5} {:>10} {:>12} {:>7} {:>6} {:>7} {:>11} {:>8} {:>6} {:>7} {:>11} {:>13}",
            "shape",
            "backend",
            "dtype",
            "manual ms",
            "autodiff ms",
            "ad/man",
            "bound",
            "fwd ms",
            "kernels ms",
            "GFLOP/s",
            "GEMM",
            "% GEMM",
            "manual MiB",
            "autodiff MiB"
        );
    }
    // Say which device each backend is before any number: a GPU backend on a
    // software adapter (lavapipe) measures CPU emulation, not GPU speed.
    let mut devices = Vec::new();
    for &backend in &args.backends {
        let description = manual_backprop::backend::describe(&backend.device());
        if !args.json {
            println!(
                "# {backend}: {description}{}",
                if description.emulated {
                    " — its timings measure CPU emulation, not GPU speed"
                } else {
                    ""
                }
            );
        }
        devices.push(description);
    }
    for shape in &shapes {
        for (&backend, description) in args.backends.iter().zip(&devices) {
            for &dtype in &args.dtypes {
                if let Err(e) = backend.device_for(dtype) {
                    if !args.json {
                        println!("{:<7} {backend:<8} {dtype:<5} skipped: {e}", shape.name);
                    }
                    continue;
                }
                // Measured next to the row it judges: this machine's speed drifts.
                let gemm_gflops = bench::gemm_gflops(backend, dtype, GEMM_REFERENCE_N, 3)?;
                let row = bench::measure(shape, backend, dtype, args.warmup, args.reps)?;
                // Peak heap is measured on a fresh network, outside the timed loop.
                let (net, x, y) = shape.setup(backend, dtype)?;
                let mib = |method| -> Result<f64, Error> {
                    Ok(step_peak_bytes(method, net.clone(), &x, &y)? as f64 / 1048576.0)
                };
                let (mem_manual, mem_autodiff) =
                    (mib(bench::Method::Manual)?, mib(bench::Method::Autodiff)?);
                let gflops = shape.flops() / (row.manual_ms * 1e-3) / 1e9;
                let of_gemm = 100.0 * gflops / gemm_gflops;
                if args.json {
                    let json = serde_json::json!({
                        "shape": shape.name, "sizes": shape.sizes, "m": shape.m, "backend": backend, "dtype": dtype,
                        "device": description.to_string(), "adapter": description.adapter, "emulated": description.emulated,
                        "manual_ms": row.manual_ms, "autodiff_ms": row.autodiff_ms, "ratio": row.ratio,
                        "ratio_bound": row.ratio_bound(), "forward_ms": row.forward_ms,
                        "kernel_floor_ms": row.kernel_floor_ms(), "forward_kernels_ms": row.forward_kernels_ms,
                        "backward_kernels_ms": row.backward_kernels_ms, "manual_gflops": gflops,
                        "gemm_reference_gflops": gemm_gflops, "percent_of_gemm": of_gemm,
                        "manual_peak_mib": mem_manual, "autodiff_peak_mib": mem_autodiff,
                    });
                    println!("{json}");
                } else {
                    println!(
                        "{:<7} {:<8} {:<5} {:>10.3} {:>12.3} {:>7.2} {:>6.2} {:>7.3} {:>11.3} {:>8.1} {:>6.0} {:>7.0} {:>11.2} {:>13.2}",
                        shape.name,
                        backend,
                        dtype,
                        row.manual_ms,
                        row.autodiff_ms,
                        row.ratio,
                        row.ratio_bound(),
                        row.forward_ms,
                        row.kernel_floor_ms(),
                        gflops,
                        gemm_gflops,
                        of_gemm,
                        mem_manual,
                        mem_autodiff
                    );
                }
            }
        }
    }
    if !args.json {
        println!(
            "ad/man: median of back-to-back pairs. bound: autodiff ms / (fwd ms + the backward's matmuls alone), the \
             ratio a backward costing only its matmuls would reach. fwd: forward + cost alone \
             (shared by both). kernels: the step's matmuls and exp alone. GEMM: GFLOP/s of the best of three \
             {n}x{n} matmuls run just before the row; % GEMM: the step's share of it.",
            n = GEMM_REFERENCE_N
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Side of the square matrix product that measures a backend's reachable GEMM rate.
const GEMM_REFERENCE_N: usize = 2048;

fn experiment(args: ExperimentArgs) -> Result<ExitCode, Error> {
    let grid = manual_backprop::experiment::GridConfig::from_json_file(&args.config)?;
    let total = grid.runs().len();
    println!(
        "{:<46} {:>7} {:>11} {:>10} {:>8} {:>10}  stop",
        "run", "epochs", "final cost", "test", "ms/epoch", "grad err"
    );
    let mut done = 0;
    let rows = manual_backprop::experiment::run_grid(&grid, &args.out, |row, skipped| {
        done += 1;
        println!(
            "{:<46} {:>7} {:>11.5} {:>10.4} {:>8.3} {:>10.2e}  {}{}  [{done}/{total}]",
            row.key,
            row.epochs,
            row.final_cost,
            row.test_metric,
            row.ms_per_epoch,
            row.gradient_error,
            row.stop,
            if skipped { " (already done)" } else { "" }
        );
    })?;
    println!(
        "{} rows in {}/results.json, results.csv and results.svg",
        rows.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
