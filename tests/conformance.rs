//! The op sweep (`backprop conformance`): its quick part on both CPU
//! backends and precisions, where each known upstream failure is met, and
//! what a failure is reduced to.

use manual_backprop::Precision;
use manual_backprop::backend::Backend;
use manual_backprop::verification::conformance::{
    self, KNOWN_UPSTREAM, Scope, Verdict, coverage, findings,
};

/// Every case of the quick sweep passes on flex and ndarray in f32 and f64
/// (each against the other backend in f64: forward values, Jacobian and
/// the reference's finite differences), or is a listed upstream failure;
/// and every listed upstream failure that the quick sweep reaches on these
/// backends is met — when burn fixes one, this fails and asks for its
/// entry to be removed.
#[test]
fn the_quick_sweep_passes_on_flex_and_ndarray_and_meets_every_known_failure() {
    let families = conformance::families();
    let cases = conformance::cases(&families, Scope::Quick, None).unwrap();
    let mut known_rows = Vec::new();
    for backend in [Backend::Flex, Backend::Ndarray] {
        for precision in Precision::ALL {
            let target = conformance::target(&backend, precision).unwrap();
            let rows = conformance::sweep(&cases, &target, &mut |_| {});
            assert_eq!(rows.len(), cases.len());
            let failed = conformance::failures(&rows);
            assert!(failed.is_empty(), "{}", failed.join("\n"));
            known_rows.extend(
                rows.into_iter()
                    .filter(|r| r.verdict == Verdict::KnownUpstream),
            );
        }
    }
    let quick_samples: Vec<&str> = cases.iter().map(|c| c.sample.what).collect();
    for known in KNOWN_UPSTREAM {
        if known.sample.is_some_and(|s| !quick_samples.contains(&s)) {
            continue;
        }
        // A GPU backend's entries are met where it runs: tests/wgpu.rs.
        if known
            .backend
            .is_some_and(|b| !["flex", "ndarray"].contains(&b))
        {
            continue;
        }
        let met = known_rows.iter().any(|r| {
            r.op == known.op
                && (known
                    .backend
                    .is_none_or(|b| b == r.backend || b == r.reference))
        });
        assert!(
            met,
            "{} on {:?} is never met: fixed upstream?",
            known.op, known.backend
        );
    }
}

/// A device that cannot be opened or fails its precision self-check is a
/// failing row naming what went wrong, never a skip.
#[test]
fn a_backend_that_cannot_be_trusted_is_a_failing_row() {
    let refused = conformance::target(&Backend::Remote("ws://127.0.0.1:9".into()), Precision::F64)
        .expect_err("no server there");
    assert_eq!(refused.verdict, Verdict::Refused);
    assert!(refused.verdict.fails());
    assert!(refused.detail.as_deref().is_some_and(|d| !d.is_empty()));
}

/// The coverage the issue asks for: nine in ten of burn-autodiff's
/// differentiable operations (and of burn-nn's layers and losses), every
/// other one with its reason (the unit tests of `coverage` assert each).
#[test]
fn the_sweep_covers_nine_in_ten_of_burns_differentiable_operations() {
    let families = conformance::families();
    let entries = coverage::entries(&families);
    let (covered, defined) = coverage::count(&entries);
    assert!(10 * covered >= 9 * defined, "{covered} of {defined}");
    let missing: Vec<&str> = entries
        .iter()
        .filter(|e| e.families.is_empty())
        .map(|e| e.name)
        .collect();
    assert!(
        entries
            .iter()
            .filter(|e| e.families.is_empty())
            .all(|e| e.reason.is_some()),
        "{missing:?}"
    );
}

/// docs/conformance.md's case table is the one that runs: it is the
/// generated table, verbatim (regenerate it with
/// `backprop conformance --table`).
#[test]
fn the_documented_case_table_is_the_swept_one() {
    let doc = include_str!("../docs/conformance.md");
    let table = conformance::catalogue::markdown(&conformance::families());
    assert!(
        doc.contains(&table),
        "docs/conformance.md's case table is stale: replace it with the output of \
         `backprop conformance --table`"
    );
}

/// A failure is shrunk to the smallest sample of its family that still
/// fails, and written as a program that names burn's own API only: the
/// known f32-accurate sigmoid of ndarray in f64, found at 7 × 9, fails at
/// two entries (at one, the sample's only value is 0, where σ = ½ exactly
/// even through f32).
#[test]
fn a_failure_shrinks_to_its_smallest_sample_and_reads_as_plain_burn() {
    let families = conformance::families();
    let cases = conformance::cases(&families, Scope::Quick, Some("sigmoid")).unwrap();
    let case = cases
        .iter()
        .find(|c| c.op() == "sigmoid" && c.sample.dims == [7, 9])
        .unwrap();
    let target = conformance::target(&Backend::Ndarray, Precision::F64).unwrap();
    let found = conformance::run_case(case, &target);
    assert_eq!(found.verdict, Verdict::KnownUpstream, "{:?}", found.detail);
    let finding = findings::finding(case, &found, &target);
    assert_eq!(finding.dims, [1, 2], "{:?}", finding.shrunk.shapes);
    assert_eq!(finding.shrunk.verdict, Verdict::KnownUpstream);
    let program = &finding.program;
    for needle in [
        "fn main()",
        "sigmoid(t)",
        "Device::ndarray()",
        "Device::flex()",
        "DType::F64",
    ] {
        assert!(
            program.contains(needle),
            "{needle} missing from:\n{program}"
        );
    }
    assert!(!program.contains("manual_backprop"), "{program}");
    let report = findings::markdown(&[finding]);
    assert!(report.contains("## sigmoid on ndarray"), "{report}");
}
