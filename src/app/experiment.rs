//! `backprop experiment`: a grid of trainings, one row per run, a table and a
//! chart grouped by configuration.

use crate::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;

/// What `backprop experiment` runs.
#[derive(Debug, Clone, clap::Args)]
pub struct ExperimentRequest {
    /// Grid file (see examples/grid.json).
    #[arg(long)]
    pub config: PathBuf,
    /// Output directory for results.json, results.csv and results.svg.
    #[arg(long, default_value = "runs/experiment")]
    pub out: PathBuf,
}

/// Runs the grid in `args.config` into `args.out`, printing each row as it
/// finishes and a table by configuration at the end.
pub fn run(args: ExperimentRequest) -> Result<ExitCode, Error> {
    let grid = crate::io::read_json::<crate::experiment::GridConfig>(&args.config)?;
    let total = grid.validate()?;
    println!(
        "{:<46} {:>7} {:>11} {:>10} {:>8} {:>10}  stop",
        "run", "epochs", "final cost", "test", "ms/epoch", "grad err"
    );
    let mut done = 0;
    let rows = crate::experiment::run_grid(&grid, &args.out, |row, skipped| {
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
    let groups = crate::experiment::configurations(&rows);
    println!();
    println!(
        "{:<40} {:>5} {:>10} {:>10} {:>19} {:>9}",
        "configuration (best validation first)",
        "seeds",
        "validation",
        "test",
        "test min–max",
        "ms/epoch"
    );
    for g in &groups {
        let (min, max) = g
            .test
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        println!(
            "{:<40} {:>5} {:>10.4} {:>10.4} {:>9.4} – {:<7.4} {:>9.3}",
            g.label,
            g.test.len(),
            g.mean_validation(),
            crate::experiment::mean(&g.test),
            min,
            max,
            crate::experiment::mean(&g.ms_per_epoch)
        );
    }
    println!(
        "{} rows in {}/results.json, results.csv and results.svg",
        rows.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
