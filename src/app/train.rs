//! `backprop train`: the main job — train, show progress, save the run.

use super::{default_run_dir, headline, print_summary};
use crate::error::Error;
use crate::run::{self, TrainOptions};
use crate::training::{GradientSource, Stop};
use indicatif::{ProgressBar, ProgressStyle};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// What `backprop train` does.
#[derive(Debug, Clone)]
pub struct TrainRequest {
    /// Every option of the run (also written to `options.json`).
    pub options: TrainOptions,
    /// Output directory; `runs/<unix time>` when absent.
    pub out: Option<PathBuf>,
    /// No progress bar; print only the summary.
    pub quiet: bool,
    /// Print the summary as one JSON object (implies `quiet`).
    pub json: bool,
}

/// Trains as `args.options` say with a progress bar, saves the run, prints
/// the summary. Training stops after the current epoch once `interrupted` is
/// set (the binary sets it on Ctrl-C); what was trained is saved.
pub fn run(args: TrainRequest, interrupted: &AtomicBool) -> Result<ExitCode, Error> {
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
            if options.devices.is_empty() {
                options.backend.to_string()
            } else {
                let devices: Vec<String> = options.devices.iter().map(|d| d.to_string()).collect();
                format!(
                    "{} (gradients data-parallel on {})",
                    options.backend,
                    devices.join(", ")
                )
            },
            options.dtype,
            options.optimizer.kind,
            match options.gradients {
                GradientSource::Manual => "hand-written",
                GradientSource::Autodiff => "autodiff",
            },
            crate::error::readable(options.alpha),
            crate::error::readable(options.lambda),
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
    match trained.summary.stop {
        Stop::Diverged { .. } => {
            let e = trained
                .outcome
                .diverged(&options.train_config())
                .expect("diverged");
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
        Stop::Failed { epochs, error } => {
            eprintln!(
                "error: {error}\nthe model and history of the {epochs} completed epochs were saved"
            );
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
