//! `backprop`: train, inspect and verify networks with hand-written gradients.
//!
//! A thin command-line layer over the `manual_backprop` library; run
//! `cargo run --release --example backprop -- --help`.

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use manual_backprop::data::preprocess::{FeatureScaling, Predictions};
use manual_backprop::run::{self, DatasetKind, Summary, TrainOptions};
use manual_backprop::training::{Metrics, Prepared, Stop};
use manual_backprop::{Activation, Backend, Error, NetworkConfig, Precision, persist};
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
    /// Step size α [default: 2].
    #[arg(long)]
    alpha: Option<f64>,
    /// Epochs [default: 2000].
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
        o.classify |= self.classify;
        Ok(o)
    }
}

#[derive(Args)]
struct PredictArgs {
    /// Model directory written by `train` (model.bpk + model.json).
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => train(args),
        Command::Predict(args) => predict(args),
        Command::Symmetry(args) => symmetry(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn train(args: TrainArgs) -> Result<ExitCode, Error> {
    let options = args.options()?;
    options.validate()?;
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
    if !quiet {
        eprintln!("loading {:?} …", options.dataset);
    }
    let split = options.load_data()?;
    if !quiet {
        let sizes = options
            .network_config(split.train.n_features, split.train.targets.width())
            .sizes;
        eprintln!(
            "training {sizes:?} {} on {} ({} train / {} validation / {} test), {} {}, α = {}, λ = {}, {}",
            options.activation,
            split.train.name.trim_end_matches("-train"),
            split.train.len(),
            split.validation.len(),
            split.test.len(),
            options.backend,
            options.dtype,
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
        "{} epochs in {:.2} s ({:.3} ms per epoch)",
        s.epochs, s.train_seconds, s.millis_per_epoch
    );
}

fn predict(args: PredictArgs) -> Result<ExitCode, Error> {
    let device = args.backend.device();
    let (network, meta) = persist::load(&args.model, &device)?;
    let kind = match args.dataset {
        Some(kind) => kind,
        None => match meta.dataset.trim_end_matches("-train") {
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
    let prepared = Prepared::new(&data, &meta.preprocessing, &device, meta.precision)?;
    let metrics =
        manual_backprop::training::evaluate(&network, &prepared, &meta.preprocessing, 0.0)?;
    println!(
        "{} examples of {}: {}",
        data.len(),
        data.name,
        headline(&metrics)
    );
    if let Some(out) = &args.out {
        let outputs = manual_backprop::tensor::to_vec(&network.hypothesis(prepared.x))?;
        let text = match meta.preprocessing.decode(&outputs) {
            Predictions::Classes(classes) => std::iter::once("prediction".to_string())
                .chain(classes.iter().map(|c| c.to_string()))
                .collect::<Vec<_>>(),
            Predictions::Values(values) => {
                let k = meta.preprocessing.n_outputs();
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
        dtype: Precision::F64,
        ..TrainOptions::default()
    };
    base.validate()?;
    let split = base.load_data()?;
    let device = args.backend.device();
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
            Some(v) => config.init_constant(&device, Precision::F64, v),
            None => config.init(&device, Precision::F64),
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
