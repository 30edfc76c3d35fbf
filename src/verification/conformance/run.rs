//! Running cases on a target: the rows, their verdicts, and the reference
//! each case is compared with.

use super::Case;
use super::known::known_failure;
use crate::Precision;
use crate::backend::Backend;
use burn_gradcheck::{GradReport, Place};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Where a sweep runs: the target backend and precision, and the
/// independent f64 reference it is compared with.
#[derive(Debug, Clone)]
pub struct Target {
    /// The target backend's name (`flex`, `ndarray`, `tch`, `wgpu`, `remote`).
    pub backend: String,
    /// The backend whose known upstream failures apply: the target's own,
    /// or for a served device the one `backprop serve` hosts by default
    /// (flex).
    pub known_as: String,
    /// Its device and precision.
    pub place: Place,
    /// The reference backend's name.
    pub reference_backend: String,
    /// The reference: another backend, in f64.
    pub reference: Place,
}

/// What became of one case on one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Forward values, Jacobian and the reference's finite differences agree.
    Pass,
    /// They do not.
    Fail,
    /// They do not, and this is a known upstream bug (see [`KNOWN_UPSTREAM`](super::KNOWN_UPSTREAM)).
    KnownUpstream,
    /// The check could not run (an error, a panic inside the backend).
    Error,
    /// The device failed its precision self-check: nothing could run on it.
    Refused,
}

impl Verdict {
    /// Whether the sweep fails because of this row.
    pub fn fails(self) -> bool {
        matches!(self, Verdict::Fail | Verdict::Error | Verdict::Refused)
    }
}

/// One row of the sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The operation.
    pub op: String,
    /// Shapes and sample.
    pub shapes: String,
    /// The sample's kind ([`Sample::what`](super::Sample::what)).
    pub sample: String,
    /// The target backend's name.
    pub backend: String,
    /// The target's precision.
    pub precision: Precision,
    /// Where it ran, and its reference.
    pub place: String,
    /// The reference backend's name.
    pub reference: String,
    /// The largest relative difference of any comparison.
    pub worst_relative: f64,
    /// Which comparison failed: `forward`, `jacobian` or `reference's
    /// finite differences`; empty for a pass.
    pub failed: Vec<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// The side the failure points to, when the comparisons tell
    /// ([`suspects`](super::suspects)).
    pub suspect: Option<String>,
    /// The error or the failing report, for rows that did not pass.
    pub detail: Option<String>,
    /// Wall time of the check, seconds.
    pub seconds: f64,
}

impl Row {
    /// The row of a target that failed its precision self-check.
    pub fn refused(backend: &str, precision: Precision, finding: String) -> Row {
        Row {
            op: "(precision self-check)".into(),
            shapes: String::new(),
            sample: String::new(),
            backend: backend.to_string(),
            precision,
            place: format!("{backend} in {precision}"),
            reference: String::new(),
            worst_relative: f64::NAN,
            failed: vec!["precision self-check".into()],
            verdict: Verdict::Refused,
            suspect: Some(format!("{backend} {precision}")),
            detail: Some(finding),
            seconds: 0.0,
        }
    }
}

/// The reference a case runs against on `target`: the target's reference,
/// unless that backend is known to fail this operation in f64 while the
/// target's backend is not, and the target's device passes its own f64
/// self-check — then the target's own backend in f64, whose finite
/// differences still certify it (its forward values are then not compared
/// with an independent implementation, and the row says so). A device whose
/// f64 is refused (lavapipe's) keeps the known-bad reference: its row is then
/// the reference's known failure, never a comparison with garbage.
fn reference_of(case: &Case, target: &Target) -> (String, String, Place) {
    let reference_bad = known_failure(
        (case.op(), case.sample.what),
        &target.reference_backend,
        Precision::F64,
    )
    .is_some_and(|k| k.backend.is_some());
    let target_bad = known_failure(
        (case.op(), case.sample.what),
        &target.known_as,
        Precision::F64,
    )
    .is_some();
    // The self-check's verdict is cached per device, so this runs it once.
    let own_f64 = || crate::backend::verify_precision(&target.place.device, Precision::F64).is_ok();
    match reference_bad && !target_bad && own_f64() {
        true => (
            target.backend.clone(),
            format!(
                "{} itself ({}'s {} is a known upstream failure)",
                target.backend,
                target.reference_backend,
                case.op()
            ),
            Place::new(target.place.device.clone(), Precision::F64),
        ),
        false => (
            target.reference_backend.clone(),
            target.reference_backend.clone(),
            target.reference.clone(),
        ),
    }
}

/// Whether a failure of `op` on `target` against `reference` is a known
/// upstream one: its own backend and precision is listed, or its f64
/// reference is (a reference known to be wrong fails every row compared
/// with it).
fn is_known(key: (&str, &str), target: &Target, reference: &str) -> bool {
    known_failure(key, &target.known_as, target.place.precision).is_some()
        || known_failure(key, reference, Precision::F64).is_some()
}

/// Runs `cases` on `target`, calling `each` after every row.
pub fn sweep(cases: &[Case], target: &Target, each: &mut dyn FnMut(&Row)) -> Vec<Row> {
    let mut rows = Vec::with_capacity(cases.len());
    for case in cases {
        let row = run_case(case, target);
        each(&row);
        rows.push(row);
    }
    rows
}

/// One case on one target; a panic inside the backend is an error row.
pub fn run_case(case: &Case, target: &Target) -> Row {
    let start = Instant::now();
    let (reference_backend, reference_name, reference) = reference_of(case, target);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        case.check(&target.place, &reference)
    }))
    .unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "(no message)".into());
        Err(crate::error::Error::InvalidParameter {
            name: "backend",
            value: target.backend.clone(),
            reason: format!("panicked: {message}"),
        })
    });
    let known = is_known((case.op(), case.sample.what), target, &reference_backend);
    let (worst_relative, failed, verdict, detail) = match outcome {
        Ok(report) if report.passed => (
            report.worst_relative_difference(),
            Vec::new(),
            Verdict::Pass,
            None,
        ),
        Ok(report) => (
            report.worst_relative_difference(),
            failed_comparisons(&report),
            match known {
                true => Verdict::KnownUpstream,
                false => Verdict::Fail,
            },
            Some(report.to_string()),
        ),
        Err(e) => (
            f64::NAN,
            vec!["error".into()],
            match known {
                true => Verdict::KnownUpstream,
                false => Verdict::Error,
            },
            Some(e.to_string()),
        ),
    };
    Row {
        op: case.op().to_string(),
        shapes: case.shapes(),
        sample: case.sample.what.to_string(),
        backend: target.backend.clone(),
        precision: target.place.precision,
        place: format!("{} vs {}", target.place, reference_name),
        reference: reference_backend,
        worst_relative,
        failed,
        verdict,
        suspect: None,
        detail,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// Which of a failed report's comparisons failed.
fn failed_comparisons(report: &GradReport) -> Vec<String> {
    let mut failed = Vec::new();
    if report
        .output_vs_reference
        .as_ref()
        .is_some_and(|a| !a.passed)
    {
        failed.push("forward".to_string());
    }
    let cross = report
        .variables
        .iter()
        .any(|v| v.target_vs_reference.as_ref().is_some_and(|a| !a.passed))
        || report
            .directions
            .iter()
            .any(|d| d.reference_violation.is_some_and(|v| v > 1.0));
    if cross {
        failed.push("jacobian".to_string());
    }
    let numeric = report
        .variables
        .iter()
        .any(|v| !v.autodiff_vs_numeric.passed)
        || report.directions.iter().any(|d| d.numeric_violation > 1.0);
    if numeric {
        failed.push("reference's finite differences".to_string());
    }
    failed
}

/// The rows that fail the sweep, each with its report or error: what a
/// test of the sweep asserts is empty.
pub fn failures(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .filter(|r| r.verdict.fails())
        .map(|r| {
            let detail = r.detail.as_deref().unwrap_or_default();
            format!("{} {} on {}:\n{detail}", r.op, r.shapes, r.place)
        })
        .collect()
}

/// The backend each backend is compared with, in f64: flex and ndarray
/// with each other (two independent CPU implementations), every other
/// backend with flex.
pub fn reference_backend(backend: &Backend) -> Backend {
    match backend {
        Backend::Flex => Backend::Ndarray,
        _ => Backend::Flex,
    }
}

/// The target `backend` in `precision` with its reference, once both have
/// passed the precision self-check; otherwise the refused row, naming what
/// the self-check found (a refused device fails the sweep).
pub fn target(backend: &Backend, precision: Precision) -> std::result::Result<Target, Box<Row>> {
    build_target(backend, precision, true)
}

/// [`target`] without the target's own precision self-check (its reference
/// is still checked): a device that failed it is swept all the same, so the
/// rows show which operations it gets wrong. `None` when the device cannot
/// be opened at all.
pub fn unverified_target(backend: &Backend, precision: Precision) -> Option<Target> {
    build_target(backend, precision, false).ok()
}

fn build_target(
    backend: &Backend,
    precision: Precision,
    verify: bool,
) -> std::result::Result<Target, Box<Row>> {
    let refused = |who: &Backend, p: Precision, e: crate::error::Error| {
        let finding = match e {
            crate::error::Error::UnsupportedPrecision { device, reason, .. } => {
                format!("{device} failed the {p} precision self-check: {reason}")
            }
            other => other.to_string(),
        };
        Box::new(Row::refused(who.name(), p, finding))
    };
    let device = match verify {
        true => backend.device_for(precision),
        false => backend.device(),
    }
    .map_err(|e| refused(backend, precision, e))?;
    let reference = reference_backend(backend);
    let reference_device = reference
        .device_for(Precision::F64)
        .map_err(|e| refused(&reference, Precision::F64, e))?;
    let known_as = match backend {
        Backend::Remote(_) => Backend::Flex.name(),
        other => other.name(),
    };
    Ok(Target {
        backend: backend.name().to_string(),
        known_as: known_as.to_string(),
        place: Place::new(device, precision),
        reference_backend: reference.name().to_string(),
        reference: Place::new(reference_device, Precision::F64),
    })
}
