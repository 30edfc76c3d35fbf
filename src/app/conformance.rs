//! `backprop conformance`: the gradient checker over burn's operations, on
//! every backend and precision asked for, one row per case.

use crate::backend::Backend;
use crate::error::Error;
use crate::io::write_json;
use crate::precision::Precision;
use crate::verification::Place;
use crate::verification::conformance::{self, Row, Verdict};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;

/// What `backprop conformance` sweeps.
#[derive(Debug, Clone, clap::Args)]
pub struct ConformanceRequest {
    /// Backends to sweep (repeat the flag) [default: every backend compiled in].
    #[arg(long, help = crate::backend::HELP)]
    pub backend: Vec<Backend>,
    /// Precisions to sweep (repeat the flag) [default: f32 and f64]. f32 is
    /// compared with the same case in f64 on flex.
    #[arg(long, value_enum)]
    pub dtype: Vec<Precision>,
    /// Only the cases whose operation contains this text (e.g. `matmul`).
    #[arg(long)]
    pub op: Option<String>,
    /// List the cases and why each is there, and stop.
    #[arg(long)]
    pub list: bool,
    /// Print the rows as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also write the rows as JSON to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs the sweep; exit status 1 when a case fails that is not a known
/// upstream failure.
pub fn run(request: ConformanceRequest) -> Result<ExitCode, Error> {
    let cases = selected_cases(request.op.as_deref())?;
    if request.list {
        for (op, shapes, why) in conformance::describe(&cases) {
            println!("{op:<26} {shapes:<66} {why}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let rows = sweep_all(&request, &cases);
    if !request.json {
        print_failures(&rows);
    }
    let rows: Vec<Row> = rows.into_iter().map(|(_, _, row)| row).collect();
    if request.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
    }
    if let Some(path) = &request.out {
        write_json(path, &rows)?;
    }
    let failed = rows
        .iter()
        .any(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error));
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The cases whose operation contains `op` (all without it).
fn selected_cases(op: Option<&str>) -> Result<Vec<conformance::Case>, Error> {
    let cases: Vec<_> = conformance::cases()
        .into_iter()
        .filter(|c| op.is_none_or(|op| c.op.contains(op)))
        .collect();
    if cases.is_empty() {
        return Err(Error::InvalidParameter {
            name: "op",
            value: op.unwrap_or_default().to_string(),
            reason: "no case matches; `backprop conformance --list` shows them".into(),
        });
    }
    Ok(cases)
}

/// Every case on every backend × dtype asked for, printed as it comes.
fn sweep_all(
    request: &ConformanceRequest,
    cases: &[conformance::Case],
) -> Vec<(&'static str, Precision, Row)> {
    let backends = match request.backend.is_empty() {
        true => Backend::compiled(),
        false => request.backend.clone(),
    };
    let dtypes = match request.dtype.is_empty() {
        true => Precision::ALL.to_vec(),
        false => request.dtype.clone(),
    };
    let bar = progress_bar(backends.len() * dtypes.len() * cases.len(), request.json);
    // `suspend` prints whether or not the bar is drawn (not on a pipe).
    let say = |line: String| {
        if !request.json {
            bar.suspend(|| println!("{line}"));
        }
    };
    say(header());
    let mut rows = Vec::new();
    for backend in &backends {
        for &precision in &dtypes {
            let place = match backend.device_for(precision) {
                Ok(device) => Place::new(device, precision),
                Err(e) => {
                    say(format!("{backend} {precision}: skipped, {e}"));
                    bar.inc(cases.len() as u64);
                    continue;
                }
            };
            // CPU backends are certified by their own finite differences in
            // f64; anything else is compared with flex in f64.
            let reference = match Backend::ALL.contains(backend) {
                true => None,
                false => Some(Place::reference()),
            };
            let mut each = |row: &Row| {
                say(format_row(row));
                bar.inc(1);
            };
            let place = (backend.name(), &place);
            let swept = conformance::sweep(cases, place, reference.as_ref(), &mut each);
            rows.extend(
                swept
                    .into_iter()
                    .map(|row| (backend.name(), precision, row)),
            );
        }
    }
    bar.finish_and_clear();
    rows
}

fn progress_bar(total: usize, hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} cases, {elapsed} elapsed, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn header() -> String {
    format!(
        "{:<26} {:<66} {:<22} {:>10}  verdict",
        "op", "shapes", "backend, dtype", "worst rel"
    )
}

fn format_row(row: &Row) -> String {
    format!(
        "{:<26} {:<66} {:<22} {:>10.2e}  {}",
        row.op,
        row.shapes,
        row.place,
        row.worst_relative,
        match row.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::KnownUpstream => "known upstream failure",
            Verdict::Error => "ERROR",
        }
    )
}

/// The full report of every row that did not pass, and what reproduces a
/// known upstream failure.
fn print_failures(rows: &[(&str, Precision, Row)]) {
    for (backend, precision, row) in rows.iter().filter(|(_, _, r)| r.verdict != Verdict::Pass) {
        println!("\n{} {} on {}:", row.op, row.shapes, row.place);
        if let Some(known) = conformance::known_failure(&row.op, backend, *precision) {
            println!("known upstream failure: {}", known.reproduction);
        }
        if let Some(detail) = &row.detail {
            println!("{detail}");
        }
    }
    let passed = rows
        .iter()
        .filter(|(_, _, r)| r.verdict == Verdict::Pass)
        .count();
    let seconds: f64 = rows.iter().map(|(_, _, r)| r.seconds).sum();
    println!(
        "{passed} of {} cases pass ({seconds:.1} s of checks)",
        rows.len()
    );
}
