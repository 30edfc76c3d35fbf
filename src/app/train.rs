//! `backprop train`: the main job — train, show progress, save the run.

use super::{default_run_dir, headline, print_summary};
use crate::data::Split;
use crate::error::Error;
use crate::run::{self, TrainOptions};
use crate::training::Stop;
use indicatif::{ProgressBar, ProgressStyle};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// What `backprop train` does.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainRequest {
    /// JSON file with any of the options below (field names as in options.json of a
    /// run); flags given on the command line override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Every option of the run (written to `options.json`).
    #[command(flatten)]
    pub options: TrainOptions,
    /// Output directory [default: a new directory in runs/, named by the Unix time].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bar; print only the summary.
    #[arg(long)]
    pub quiet: bool,
    /// Print the summary as one JSON object (implies --quiet).
    #[arg(long)]
    pub json: bool,
}

impl TrainRequest {
    /// Reads `config` (if any) and lays over it the options whose flags were
    /// given on the command line: `given` holds their clap ids, which are
    /// the options' field names. Without `config`, `options` stand as they are.
    pub fn apply_config(mut self, given: &[&str]) -> Result<TrainRequest, Error> {
        let Some(path) = self.config.take() else {
            return Ok(self);
        };
        let from_file: TrainOptions = crate::io::read_json(&path)?;
        let mut merged = to_value(&from_file)?;
        let flags = to_value(&self.options)?;
        for &id in given {
            match lookup(&flags, id) {
                // JSON has no NaN or ∞: a flag that serialises to null held one.
                Some(serde_json::Value::Null) => {
                    return Err(Error::InvalidParameter {
                        name: "options",
                        value: format!("--{}", id.replace('_', "-")),
                        reason: "must be a finite number".into(),
                    });
                }
                Some(value) => replace(&mut merged, id, value.clone()),
                None => {}
            }
        }
        self.options = serde_json::from_value(merged).map_err(|e| crate::error::Error::Parse {
            source_name: path.display().to_string(),
            position: "with the command line's flags".into(),
            message: e.to_string(),
        })?;
        Ok(self)
    }
}

fn to_value(options: &TrainOptions) -> Result<serde_json::Value, Error> {
    serde_json::to_value(options).map_err(|e| Error::Parse {
        source_name: "options".into(),
        position: "serialisation".into(),
        message: e.to_string(),
    })
}

/// The value of field `id` in `options` or in one of its nested objects
/// (the optimizer's fields are flags of their own).
fn lookup<'a>(options: &'a serde_json::Value, id: &str) -> Option<&'a serde_json::Value> {
    let object = options.as_object()?;
    object.get(id).or_else(|| {
        object
            .values()
            .find_map(|nested| nested.as_object()?.get(id))
    })
}

/// Sets field `id` where [`lookup`] finds it.
fn replace(options: &mut serde_json::Value, id: &str, value: serde_json::Value) {
    let Some(object) = options.as_object_mut() else {
        return;
    };
    if object.contains_key(id) {
        object.insert(id.to_string(), value);
    } else if let Some(nested) = object
        .values_mut()
        .filter_map(serde_json::Value::as_object_mut)
        .find(|nested| nested.contains_key(id))
    {
        nested.insert(id.to_string(), value);
    }
}

/// Trains as `args.options` say with a progress bar, saves the run, prints
/// the summary. Training stops after the current epoch once `interrupted` is
/// set (the binary sets it on Ctrl-C); what was trained is saved.
///
/// A `config` still set is read here, with nothing of `options` laid over it
/// (the binary applies it first, with the flags given: [`TrainRequest::apply_config`]).
pub fn run(args: TrainRequest, interrupted: &AtomicBool) -> Result<ExitCode, Error> {
    let args = args.apply_config(&[])?;
    let options = &args.options;
    options.validate()?;
    // Every device is connected and verified before the data is loaded.
    for backend in std::iter::once(&options.backend).chain(&options.devices) {
        backend.device_for(options.dtype)?;
    }
    let quiet = args.quiet || args.json;
    let out = args.out.clone().unwrap_or_else(default_run_dir);
    let split = options.load_data()?;
    if !quiet {
        eprintln!("{}", announcement(options, &split));
    }
    let bar = progress_bar(quiet, options.epochs);
    let trained = run::train_on(options, &split, |record| {
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
    let files = run::save_run(&out, options, &trained)?;
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
    Ok(exit_code(&trained, options))
}

/// The line that says what is about to be trained, on what, and how.
fn announcement(options: &TrainOptions, split: &Split) -> String {
    let sizes = options
        .network_config(split.train.n_features, split.train.targets.width())
        .sizes;
    let devices = if options.devices.is_empty() {
        options.backend.to_string()
    } else {
        let devices: Vec<String> = options.devices.iter().map(|d| d.to_string()).collect();
        format!(
            "{} (gradients data-parallel on {})",
            options.backend,
            devices.join(", ")
        )
    };
    format!(
        "training {sizes:?} {} on {} ({} train / {} validation / {} test), {devices} {}, {} on {} gradients, α = {}, λ = {}, {}",
        options.activation,
        split.train.name.trim_end_matches("-train"),
        split.train.len(),
        split.validation.len(),
        split.test.len(),
        options.dtype,
        options.optimizer.kind,
        options.gradients.describe(),
        crate::error::readable(options.learning_rate()),
        crate::error::readable(options.lambda),
        options
            .batch_size
            .map_or("full batch".into(), |b| format!("batches of {b}")),
    )
}

/// An epoch counter with the cost and validation metric, hidden when `quiet`.
fn progress_bar(quiet: bool, epochs: usize) -> ProgressBar {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(epochs as u64)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} epochs  {msg}  [{elapsed_precise} < {eta}]",
        )
        .expect("valid template"),
    );
    bar
}

/// How the run ended, for the shell: 0 done, 1 diverged or failed, 130
/// interrupted (what was trained is saved in every case).
fn exit_code(trained: &run::Trained, options: &TrainOptions) -> ExitCode {
    match &trained.summary.stop {
        Stop::Diverged { .. } => {
            let e = trained
                .outcome
                .diverged(&options.train_config())
                .expect("diverged");
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
        Stop::Failed { epochs, error } => {
            eprintln!(
                "error: {error}\nthe model and history of the {epochs} completed epochs were saved"
            );
            ExitCode::from(1)
        }
        Stop::Interrupted { epochs } => {
            eprintln!("interrupted after {epochs} epochs; the model and history so far were saved");
            ExitCode::from(130)
        }
        Stop::EarlyStopped { .. } | Stop::Converged { .. } => {
            eprintln!("{}", trained.summary.stop);
            ExitCode::SUCCESS
        }
        Stop::Completed => ExitCode::SUCCESS,
    }
}
