//! `backprop conformance`: the op sweep on every backend and precision asked
//! for, each against an independent backend in f64, one row per case.

use crate::Precision;
use crate::backend::Backend;
use crate::error::Error;
use crate::io::{write_atomic, write_json};
use crate::verification::Place;
use crate::verification::conformance::{
    self, Case, Row, Scope, Verdict, coverage, findings, suspects,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;

/// What `backprop conformance` sweeps.
#[derive(Debug, Clone, clap::Args)]
pub struct ConformanceRequest {
    /// Backends to sweep (repeat the flag) [default: every backend compiled in].
    #[arg(long, help = crate::backend::HELP)]
    pub backend: Vec<Backend>,
    /// Precisions to sweep (repeat the flag) [default: f32 and f64]. Each is
    /// compared with another backend in f64 (flex with ndarray, every other
    /// backend with flex).
    #[arg(long, value_enum)]
    pub dtype: Vec<Precision>,
    /// Only the cases whose operation contains this text (e.g. `matmul`).
    #[arg(long)]
    pub op: Option<String>,
    /// Only the tiny and boundary samples (not those above the threading
    /// thresholds, nor the views).
    #[arg(long)]
    pub quick: bool,
    /// List the cases and why each is there, and stop.
    #[arg(long)]
    pub list: bool,
    /// Print the case table as Markdown (one row per operation: the burn
    /// operations it covers, its samples, what it guards), and stop.
    #[arg(long)]
    pub table: bool,
    /// Print which of burn's differentiable operations the sweep covers,
    /// and why the others are not, and stop.
    #[arg(long)]
    pub coverage: bool,
    /// Print the rows as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also write the rows as JSON to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write every failure, shrunk to its smallest failing sample, with a
    /// standalone reproduction (burn's API only), as Markdown to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// Runs the sweep; exit status 1 when a case fails that is not a known
/// upstream failure, or a device is refused by its precision self-check.
pub fn run(request: ConformanceRequest) -> Result<ExitCode, Error> {
    let families = conformance::families();
    if request.coverage {
        print_coverage(&families);
        return Ok(ExitCode::SUCCESS);
    }
    if request.table {
        print!("{}", conformance::catalogue::markdown(&families));
        return Ok(ExitCode::SUCCESS);
    }
    let scope = match request.quick {
        true => Scope::Quick,
        false => Scope::Full,
    };
    let cases = conformance::cases(&families, scope, request.op.as_deref())?;
    if cases.is_empty() {
        return Err(Error::InvalidParameter {
            name: "op",
            value: request.op.clone().unwrap_or_default(),
            reason: "no case matches; `backprop conformance --list` shows them".into(),
        });
    }
    if request.list {
        for case in &cases {
            let family = case.family();
            println!("{:<32} {:<60} {}", family.op, case.shapes(), family.why);
        }
        return Ok(ExitCode::SUCCESS);
    }
    // A panic inside a backend becomes that case's error row, its message
    // in the row: burn's own panic output (with a backtrace) is noise here.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let (mut rows, places) = sweep_all(&request, &cases);
    suspects(&mut rows, &cases, &places);
    if !request.json {
        print_failures(&rows);
    }
    if request.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
    }
    if let Some(path) = &request.out {
        write_json(path, &rows)?;
    }
    let report = request
        .report
        .as_ref()
        .map(|path| (path, report(&rows, &cases, request.json)));
    std::panic::set_hook(hook);
    if let Some((path, report)) = report {
        write_atomic(path, report.as_bytes())?;
    }
    Ok(match rows.iter().any(|r| r.verdict.fails()) {
        true => ExitCode::FAILURE,
        false => ExitCode::SUCCESS,
    })
}

/// Every case on every backend × dtype asked for, printed as it comes; and
/// the f64 place of every backend that has one, for the blame census.
fn sweep_all(request: &ConformanceRequest, cases: &[Case]) -> (Vec<Row>, Vec<(String, Place)>) {
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
    let mut places: Vec<(String, Place)> = Vec::new();
    for backend in &backends {
        for &precision in &dtypes {
            let target = match conformance::target(backend, precision) {
                Ok(target) => target,
                Err(refused) => {
                    // The refusal fails the sweep; the cases still run on
                    // the device, when it opens, to show what it gets wrong.
                    say(format_row(&refused));
                    rows.push(*refused);
                    match conformance::unverified_target(backend, precision) {
                        Some(target) => target,
                        None => {
                            bar.inc(cases.len() as u64);
                            continue;
                        }
                    }
                }
            };
            for (name, place) in [
                (&target.backend, &target.place),
                (&target.reference_backend, &target.reference),
            ] {
                if place.precision == Precision::F64 && !places.iter().any(|(n, _)| n == name) {
                    places.push((name.clone(), place.clone()));
                }
            }
            let mut each = |row: &Row| {
                say(format_row(row));
                bar.inc(1);
            };
            rows.extend(conformance::sweep(cases, &target, &mut each));
        }
    }
    bar.finish_and_clear();
    (rows, places)
}

/// The findings report: each failing row shrunk and reproduced.
fn report(rows: &[Row], cases: &[Case], quiet: bool) -> String {
    let mut found = Vec::new();
    let mut seen: Vec<(&str, &str, Precision, &str)> = Vec::new();
    for row in rows
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::KnownUpstream))
    {
        // One finding per operation, backend, precision and failed
        // comparison: its other samples shrink to the same reproduction.
        let key = (
            row.op.as_str(),
            row.backend.as_str(),
            row.precision,
            row.failed.first().map_or("", String::as_str),
        );
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let case = cases
            .iter()
            .find(|c| c.op() == row.op && c.shapes() == row.shapes);
        let backend = Backend::compiled()
            .into_iter()
            .find(|b| b.name() == row.backend);
        let (Some(case), Some(backend)) = (case, backend) else {
            continue;
        };
        let Ok(target) = conformance::target(&backend, row.precision) else {
            continue;
        };
        if !quiet {
            eprintln!("shrinking {} {} on {}", row.op, row.shapes, row.place);
        }
        found.push(findings::finding(case, row, &target));
    }
    findings::markdown(&found)
}

fn print_coverage(families: &[std::sync::Arc<conformance::Family>]) {
    let entries = coverage::entries(families);
    for e in &entries {
        let how = match (&e.families[..], e.reason) {
            ([], Some(reason)) => format!("not swept: {reason}"),
            ([], None) => "NOT SWEPT".to_string(),
            (families, _) => families.join(", "),
        };
        println!("{:<12} {:<34} {how}", format!("{:?}", e.group), e.name);
    }
    let (covered, defined) = coverage::count(&entries);
    println!(
        "{covered} of {defined} differentiable operations, layers and losses swept ({:.0} %)",
        100.0 * covered as f64 / defined as f64
    );
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
        "{:<32} {:<60} {:<30} {:>10}  verdict",
        "op", "shapes (sample)", "backend, dtype vs reference", "worst rel"
    )
}

fn format_row(row: &Row) -> String {
    format!(
        "{:<32} {:<60} {:<30} {:>10.2e}  {}",
        row.op,
        row.shapes,
        row.place,
        row.worst_relative,
        match row.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::KnownUpstream => "known upstream failure",
            Verdict::Error => "ERROR",
            Verdict::Refused => "REFUSED (precision self-check failed)",
        }
    )
}

/// The full report of every row that did not pass, what it points to, and
/// what reproduces a known upstream failure.
fn print_failures(rows: &[Row]) {
    for row in rows.iter().filter(|r| r.verdict != Verdict::Pass) {
        println!("\n{} {} on {}:", row.op, row.shapes, row.place);
        if !row.failed.is_empty() {
            println!("failed: {}", row.failed.join(", "));
        }
        if let Some(suspect) = &row.suspect {
            println!("suspect: {suspect}");
        }
        if let Some(known) =
            conformance::known_failure((&row.op, &row.sample), &row.backend, row.precision)
        {
            println!("known upstream failure: {}", known.reproduction);
        }
        if let Some(detail) = &row.detail {
            println!("{detail}");
        }
    }
    let count = |v: Verdict| rows.iter().filter(|r| r.verdict == v).count();
    let seconds: f64 = rows.iter().map(|r| r.seconds).sum();
    println!(
        "{} of {} rows pass, {} known upstream, {} fail, {} errors, {} refused ({seconds:.1} s of checks)",
        count(Verdict::Pass),
        rows.len(),
        count(Verdict::KnownUpstream),
        count(Verdict::Fail),
        count(Verdict::Error),
        count(Verdict::Refused),
    );
}
