//! Which side a failure points to.
//!
//! A row compares a target (backend, precision) with a reference backend in
//! f64, whose autodiff its own finite differences certify. What failed says
//! where to look:
//!
//! - only the reference's finite differences: target and reference agree
//!   with each other and not with the derivative of the function — a bug
//!   both share, in burn-autodiff's backward rule itself;
//! - the Jacobian, with the forward values and the certificate fine: the
//!   target's backward kernel;
//! - the Jacobian and the certificate: the reference's backward kernel;
//! - the forward values: one of the two forward kernels. Other rows of the
//!   same case clear a side that agrees with a third place; where that is
//!   not enough and three or more backends are compiled, a census of the
//!   f64 forward values on every backend names the one that disagrees with
//!   all the others.

use super::{Case, Row, Verdict};
use crate::Precision;
use burn_gradcheck::Place;

/// Two f64 forward evaluations of the same case on different backends agree
/// when they differ by at most this fraction of the larger of the entry and
/// the largest |input or output|: n·u for sums of up to 10⁶ rounded terms
/// is 1.1e-10, and the bugs worth naming are off by far more.
const CENSUS_AGREEMENT: f64 = 1e-9;

/// Fills in [`Row::suspect`] for every failed row of `rows`; `cases` are
/// the cases they ran, `places` every backend's f64 place (by name) for the
/// census.
pub fn suspects(rows: &mut [Row], cases: &[Case], places: &[(String, Place)]) {
    let keys: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.op.clone(), r.shapes.clone()))
        .collect();
    let mut groups: Vec<&(String, String)> = Vec::new();
    for key in &keys {
        if !groups.contains(&key) {
            groups.push(key);
        }
    }
    for key in groups {
        let members: Vec<usize> = (0..rows.len()).filter(|&i| &keys[i] == key).collect();
        let case = cases
            .iter()
            .find(|c| c.op() == key.0 && c.shapes() == key.1);
        blame_group(rows, &members, case, places);
    }
}

/// A place's name in the verdicts: backend and precision.
fn node(backend: &str, precision: Precision) -> String {
    format!("{backend} {precision}")
}

fn blame_group(
    rows: &mut [Row],
    members: &[usize],
    case: Option<&Case>,
    places: &[(String, Place)],
) {
    let failing = |r: &Row| matches!(r.verdict, Verdict::Fail | Verdict::KnownUpstream);
    if !members.iter().any(|&i| failing(&rows[i])) {
        return;
    }
    // Places seen to agree in their forward values with another place.
    let mut cleared: Vec<String> = Vec::new();
    for &i in members {
        let r = &rows[i];
        if r.verdict != Verdict::Error && !r.failed.iter().any(|f| f == "forward") {
            cleared.push(node(&r.backend, r.precision));
            cleared.push(node(&r.reference, Precision::F64));
        }
    }
    let forward_failed = members
        .iter()
        .any(|&i| failing(&rows[i]) && rows[i].failed.iter().any(|f| f == "forward"));
    let odd_one = match (forward_failed, case) {
        (true, Some(case)) if places.len() >= 3 => census(case, places),
        _ => None,
    };
    for &i in members {
        if failing(&rows[i]) {
            rows[i].suspect = Some(suspect(&rows[i], &cleared, odd_one.as_deref()));
        }
    }
}

fn suspect(row: &Row, cleared: &[String], odd_one: Option<&str>) -> String {
    let target = node(&row.backend, row.precision);
    let reference = node(&row.reference, Precision::F64);
    let has = |what: &str| row.failed.iter().any(|f| f == what);
    if has("forward") {
        if let Some(odd) = odd_one {
            return format!("{odd}'s forward kernel (the only backend whose f64 values differ)");
        }
        return match (cleared.contains(&target), cleared.contains(&reference)) {
            (false, true) => format!("{target}'s forward kernel"),
            (true, false) => format!("{reference}'s forward kernel"),
            _ => format!(
                "the forward kernel of {target} or of {reference}: compile a third backend \
                 (feature tch) and the census names which"
            ),
        };
    }
    match (has("jacobian"), has("reference's finite differences")) {
        (true, false) => format!("{target}'s backward kernel"),
        (true, true) => format!("{reference}'s backward kernel"),
        (false, true) => format!(
            "burn-autodiff's backward rule: {target} and {reference} agree with each other, \
             not with finite differences"
        ),
        (false, false) => "unknown".into(),
    }
}

/// The one backend whose f64 forward values disagree with every other
/// backend's while those agree among themselves, if there is one.
fn census(case: &Case, places: &[(String, Place)]) -> Option<String> {
    let outputs: Vec<(&str, Vec<f64>)> = places
        .iter()
        .filter_map(|(name, place)| {
            let caught =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case.evaluate(place)));
            match caught {
                Ok(Ok((_, values))) => Some((name.as_str(), values)),
                _ => None,
            }
        })
        .collect();
    let inputs = case.inputs().entries().iter().flat_map(|e| &e.values);
    let scale = crate::tensor::max_abs(inputs.chain(outputs.iter().flat_map(|(_, v)| v)));
    let agree = |a: &[f64], b: &[f64]| {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() <= CENSUS_AGREEMENT * x.abs().max(y.abs()).max(scale))
    };
    let odd: Vec<&str> = outputs
        .iter()
        .enumerate()
        .filter(|(i, (_, a))| {
            outputs
                .iter()
                .enumerate()
                .all(|(j, (_, b))| *i == j || !agree(a, b))
        })
        .map(|(_, (name, _))| *name)
        .collect();
    let rest_agree = outputs.iter().all(|(na, a)| {
        odd.contains(na)
            || outputs
                .iter()
                .all(|(nb, b)| odd.contains(nb) || agree(a, b))
    });
    match (odd.as_slice(), rest_agree, outputs.len() >= 3) {
        ([one], true, true) => Some(node(one, Precision::F64)),
        _ => None,
    }
}
