//! The examples binary's subcommands, one file each: `backprop` parses the
//! command line into these requests and calls `run`, so everything a
//! subcommand does is library code, documented and testable.

pub mod bench;
pub mod check;
pub mod experiment;
pub mod export;
pub mod grads;
pub mod predict;
pub mod serve;
pub mod symmetry;
pub mod train;

use crate::error::Error;
use crate::persist;
use crate::run::Summary;
use crate::training::Metrics;
use std::path::PathBuf;

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

/// Writes `text` to `out`, or stdout.
pub fn emit(out: Option<&PathBuf>, text: &str) -> Result<(), Error> {
    match out {
        Some(path) => persist::write_atomic(path, format!("{text}\n").as_bytes()),
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
