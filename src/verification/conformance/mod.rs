//! The op sweep: every differentiable operation of burn 0.22.1, at the shapes
//! where kernels change paths, against an independent backend.
//! `backprop conformance` prints it; `cargo test` runs its quick part, CI
//! the whole of it on flex and ndarray, the wgpu, tch and remote scripts on
//! their devices.
//!
//! Each [`Family`] is one operation written once (its code is kept as text
//! for reproductions) with the [`Sample`]s it runs at: a tiny one, the
//! SIMD-width, tile and unroll boundaries, a size above the backend's
//! threading threshold, and non-contiguous operands (transposed, stepped,
//! broadcast). A [`Case`] is a family at one sample; on a [`Target`] it runs
//! the [`GradCheck`] against the target's reference — another backend in
//! f64 — so that the target's forward values, its Jacobian and the
//! reference's own finite differences are all compared, and a forward
//! kernel that its own finite differences reproduce is still caught.
//!
//! Inputs are distinct values, evenly spaced over a range chosen per
//! operation, in a shuffled order (deterministic per family and sample):
//! no two entries of a max, a sort or a pooling window are within 1/n of
//! each other, and the non-smooth operations (abs, relu, round, remainder…)
//! take ranges that keep every entry away from their kinks, so a finite
//! difference of step 1e-6 never crosses one.

mod blame;
pub mod coverage;
pub mod findings;
mod sample;
mod table;
pub mod views;

pub use blame::suspects;
pub use sample::{Sample, Values};

use super::gradcheck::{Args, GradCheck, GradReport, Inputs, Place};
use crate::backend::Backend;
use crate::error::Result;
use crate::precision::Precision;
use burn::module::Module;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

/// Checks a case: the family's operation at one sample, with its inputs.
type Body = Arc<dyn Fn(GradCheck<'_>, &Inputs, &Sample) -> Result<GradReport> + Send + Sync>;
/// Evaluates a case's forward pass on a place: shape and values.
type Eval = Arc<dyn Fn(&Place, &Inputs, &Sample) -> Result<(Vec<usize>, Vec<f64>)> + Send + Sync>;
/// A family's inputs at a sample: (name, stored shape, values drawn from).
type InputSpec = Arc<dyn Fn(&Sample) -> Vec<(&'static str, Vec<usize>, Values)> + Send + Sync>;

/// Random projections per case in the fast mode: each catches a wrong
/// Jacobian entry with probability one, so a few suffice; eight keep a
/// wrong entry's share of uᵀJv away from an unlucky near-zero draw.
const DIRECTIONS: usize = 8;

/// Cases with at most this many input entries, and as many outputs, get the
/// full Jacobian; larger ones random projections, so cost stays bounded.
const FULL_LIMIT: usize = 300;

/// One operation of the sweep: how to build its inputs at a sample, the
/// code that runs it (as text, for reproductions), and the samples.
pub struct Family {
    /// The operation, e.g. `matmul aᵀb`.
    pub op: &'static str,
    /// What it guards (the upstream issue it reproduces, if any).
    pub why: &'static str,
    /// The burn-autodiff operations (`float_*`, module and activation ops)
    /// whose backward it exercises: the coverage table's key.
    pub covers: &'static [&'static str],
    /// The checked expression as written (`x` the inputs, `s` the sample).
    pub code: &'static str,
    /// The samples it runs at.
    pub samples: Vec<Sample>,
    /// The rank of its output (for reproductions).
    pub output_rank: usize,
    /// Whether it checks a module (whose parameters a reproduction would
    /// have to rebuild) rather than a function of its inputs alone.
    pub is_module: bool,
    /// The length of the longest sum an entry goes through, when the
    /// checker's default (the sum of the dimensions) undercounts it.
    terms: Option<fn(&Sample) -> usize>,
    inputs: InputSpec,
    body: Body,
    eval: Eval,
}

impl Family {
    /// A function of the inputs: `f(x, s)` differentiated in every input.
    fn function<F, const O: usize>(
        (op, covers, why): (&'static str, &'static [&'static str], &'static str),
        (code, f): (&'static str, F),
        samples: Vec<Sample>,
        inputs: impl Fn(&Sample) -> Vec<(&'static str, Vec<usize>, Values)> + Send + Sync + 'static,
    ) -> Family
    where
        F: Fn(&Args, &Sample) -> Tensor<O> + Copy + Send + Sync + 'static,
    {
        Family {
            op,
            why,
            covers,
            code,
            samples,
            output_rank: O,
            is_module: false,
            terms: None,
            inputs: Arc::new(inputs),
            body: Arc::new(move |mut check, inputs, s| check.function(inputs, |x| f(x, s))),
            eval: Arc::new(move |place, inputs, s| {
                GradCheck::evaluate(place, inputs, |x: &Args| f(x, s))
            }),
        }
    }

    /// A burn module (burn-nn's layers, losses) built by `build` at each
    /// sample, its parameters set to the sweep's spaced values, checked in
    /// its parameters and inputs through `f(module, x, s)`.
    fn module<M, B, F, const O: usize>(
        (op, covers, why): (&'static str, &'static [&'static str], &'static str),
        (code, f): (&'static str, F),
        samples: Vec<Sample>,
        build: B,
        inputs: impl Fn(&Sample) -> Vec<(&'static str, Vec<usize>, Values)> + Send + Sync + 'static,
    ) -> Family
    where
        M: Module + 'static,
        B: Fn(&Sample) -> M + Copy + Send + Sync + 'static,
        F: Fn(&M, &Args, &Sample) -> Tensor<O> + Copy + Send + Sync + 'static,
    {
        Family {
            op,
            why,
            covers,
            code,
            samples,
            output_rank: O,
            is_module: true,
            terms: None,
            inputs: Arc::new(inputs),
            body: Arc::new(move |mut check, inputs, s| {
                let module = sample::seeded(build(s), op)?;
                check.module(&module, inputs, |m, x| f(m, x, s))
            }),
            eval: Arc::new(move |place, inputs, s| {
                let module = sample::seeded(build(s), op)?;
                GradCheck::evaluate_module(place, &module, inputs, |m: &M, x: &Args| f(m, x, s))
            }),
        }
    }

    /// Sets the length of the longest sum an entry goes through.
    fn terms(mut self, terms: fn(&Sample) -> usize) -> Family {
        self.terms = Some(terms);
        self
    }

    /// This family at `sample` (which need not be one of its own: shrinking
    /// tries smaller ones).
    pub fn case(self: &Arc<Self>, sample: Sample) -> Result<Case> {
        let inputs = sample::inputs(self.op, &sample, (self.inputs)(&sample))?;
        Ok(Case {
            family: Arc::clone(self),
            sample,
            inputs,
        })
    }
}

/// A family at one sample, with its inputs.
#[derive(Clone)]
pub struct Case {
    family: Arc<Family>,
    /// The sample.
    pub sample: Sample,
    inputs: Inputs,
}

impl Case {
    /// The family's operation.
    pub fn op(&self) -> &'static str {
        self.family.op
    }

    /// The family.
    pub fn family(&self) -> &Arc<Family> {
        &self.family
    }

    /// The inputs.
    pub fn inputs(&self) -> &Inputs {
        &self.inputs
    }

    /// The stored shapes and the sample, as the table prints them.
    pub fn shapes(&self) -> String {
        let shapes: Vec<String> = self
            .inputs
            .entries()
            .iter()
            .map(|i| format!("{}{:?}", i.name, i.shape))
            .collect();
        format!("{} ({})", shapes.join(" "), self.sample)
    }

    /// Whether the full Jacobian is affordable (else random projections).
    fn full(&self, outputs: usize) -> bool {
        let entries: usize = self.inputs.entries().iter().map(|i| i.values.len()).sum();
        entries <= FULL_LIMIT && outputs <= FULL_LIMIT
    }

    /// The forward pass on `place`: the output's shape and values.
    pub fn evaluate(&self, place: &Place) -> Result<(Vec<usize>, Vec<f64>)> {
        (self.family.eval)(place, &self.inputs, &self.sample)
    }

    /// Runs the check on `target` against `reference` (an f64 place).
    pub fn check(&self, target: &Place, reference: &Place) -> Result<GradReport> {
        let (shape, _) = self.evaluate(reference)?;
        let mut check = GradCheck::new()
            .on(target.clone())
            .reference(reference.clone());
        if !self.full(shape.iter().product()) {
            check = check.fast(DIRECTIONS);
        }
        if let Some(terms) = self.family.terms {
            check = check.terms(terms(&self.sample));
        }
        (self.family.body)(check, &self.inputs, &self.sample)
    }
}

/// Which samples to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// The tiny sample of each family: every operation once, for devices
    /// where each new kernel costs a compilation (lavapipe, a server).
    Tiny,
    /// The tiny and boundary samples (`--quick`, `cargo test`).
    Quick,
    /// Every sample: also above the threading thresholds and on views.
    Full,
}

/// Every family of the sweep, in a fixed order.
pub fn families() -> Vec<Arc<Family>> {
    table::all().into_iter().map(Arc::new).collect()
}

/// The cases of `families` in `scope`, whose operation contains `op` if
/// given.
pub fn cases(families: &[Arc<Family>], scope: Scope, op: Option<&str>) -> Result<Vec<Case>> {
    let mut cases = Vec::new();
    for family in families
        .iter()
        .filter(|f| op.is_none_or(|op| f.op.contains(op)))
    {
        for sample in &family.samples {
            let wanted = match scope {
                Scope::Tiny => sample.what == "tiny",
                Scope::Quick => sample.quick,
                Scope::Full => true,
            };
            if wanted {
                cases.push(family.case(sample.clone())?);
            }
        }
    }
    Ok(cases)
}

/// Where a sweep runs: the target backend and precision, and the
/// independent f64 reference it is compared with.
#[derive(Debug, Clone)]
pub struct Target {
    /// The target backend's name (`flex`, `ndarray`, `tch`, `wgpu`, `remote`).
    pub backend: String,
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
    /// They do not, and this is a known upstream bug (see [`KNOWN_UPSTREAM`]).
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
    /// The sample's kind ([`Sample::what`]).
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
    /// ([`suspects`]).
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

/// A case known to fail because of a bug in burn, with what reproduces
/// it. The sweep reports it as such, not hidden; once fixed upstream, it
/// shows as a plain pass (and a test of its reproduction fails, asking for
/// the entry to be removed).
#[derive(Debug, Clone, Copy)]
pub struct KnownFailure {
    /// The family's operation.
    pub op: &'static str,
    /// The backend it fails on; `None` on every backend (a bug of
    /// burn-autodiff, burn-nn or a default of burn-backend).
    pub backend: Option<&'static str>,
    /// The precision it fails in; `None` in every precision.
    pub precision: Option<Precision>,
    /// The samples it fails at (a [`Sample::what`], e.g. `transposed view`);
    /// `None` at every sample.
    pub sample: Option<&'static str>,
    /// What is wrong upstream, where, and what reproduces it.
    pub reproduction: &'static str,
}

/// The known upstream failures found by this sweep; docs/upstream-findings.md
/// has each one's standalone reproduction.
pub const KNOWN_UPSTREAM: &[KnownFailure] = &[
    KnownFailure {
        op: "sigmoid",
        backend: Some("ndarray"),
        precision: Some(Precision::F64),
        sample: None,
        reproduction: "burn-ndarray does not override burn-backend's default \
            `ActivationOps::sigmoid`, which casts to f32 and back \
            (burn-backend-0.22.1/src/backend/ops/activation.rs:139-148), so σ of an f64 \
            tensor is f32-accurate: `sigmoid` of 0.5 in f64 on ndarray differs from \
            1/(1 + e^−0.5) by ~1e-8 instead of ~1e-16.",
    },
    KnownFailure {
        op: "silu",
        backend: Some("ndarray"),
        precision: Some(Precision::F64),
        sample: None,
        reproduction: "x·σ(x) through ndarray's f32-accurate sigmoid (see `sigmoid`).",
    },
    KnownFailure {
        op: "nn::SwiGlu",
        backend: Some("ndarray"),
        precision: Some(Precision::F64),
        sample: None,
        reproduction: "silu through ndarray's f32-accurate sigmoid (see `sigmoid`).",
    },
    KnownFailure {
        op: "gelu",
        backend: Some("ndarray"),
        precision: None,
        sample: None,
        reproduction: "burn-backend's default `ActivationOps::gelu_backward` \
            (burn-backend-0.22.1/src/backend/ops/activation.rs:98-130) differentiates the tanh \
            approximation of gelu, while the forward is the exact erf form: the gradient is \
            off by up to ~1 % (at x = −1.8: −0.0380 instead of −0.0376) in f32 and f64. \
            burn-ndarray keeps the default; burn-flex overrides it.",
    },
    KnownFailure {
        op: "interpolate bilinear",
        backend: Some("ndarray"),
        precision: None,
        sample: None,
        reproduction: "burn-ndarray has no backward for bilinear interpolation: it panics with \
            \"bilinear interpolation backward is not supported for ndarray backend\" \
            (burn-ndarray-0.22.1/src/ops/module.rs:356).",
    },
    KnownFailure {
        op: "interpolate bicubic",
        backend: Some("ndarray"),
        precision: None,
        sample: None,
        reproduction: "burn-ndarray has no backward for bicubic interpolation: it panics \
            (burn-ndarray-0.22.1/src/ops/module.rs, `interpolate_backward`).",
    },
    KnownFailure {
        op: "nn::RmsNorm",
        backend: None,
        precision: None,
        sample: None,
        reproduction: "burn-nn's RmsNorm computes the root mean square in f32 whatever the \
            input's dtype (`x.cast(DType::F32).square().mean_dim(..)`, \
            burn-nn-0.22.1/src/modules/norm/rms.rs:81), so an f64 RmsNorm is f32-accurate \
            and its finite differences (step 1e-6) are off by up to 25 %; f32 rows fail \
            because their f64 reference is f32-accurate.",
    },
    KnownFailure {
        op: "nn::BinaryCrossEntropyLoss",
        backend: None,
        precision: None,
        sample: None,
        reproduction: "burn-nn's BinaryCrossEntropyLoss turns its integer targets into floats \
            of the device's default dtype (`targets.clone().float()`, \
            burn-nn-0.22.1/src/loss/binary_cross_entropy.rs:103): with f64 logits on a device \
            left at its default f32 it panics with \"Data type mismatch (lhs: F64, rhs: F32)\"; \
            f32 rows fail because their f64 reference does.",
    },
    KnownFailure {
        op: "nn::RotaryEncoding",
        backend: None,
        precision: None,
        sample: None,
        reproduction: "burn-nn's RotaryEncoding builds its frequency table in the device's \
            default float dtype at `init` (burn-nn-0.22.1/src/modules/rope_encoding.rs:78) and \
            never casts it: an f64 input on a device left at its default f32 panics with \
            \"Data type mismatch\"; f32 rows fail because their f64 reference does.",
    },
    KnownFailure {
        op: "deform_conv2d",
        backend: Some("flex"),
        precision: Some(Precision::F64),
        sample: None,
        reproduction: "burn-flex computes deform_conv2d's backward of an f64 tensor in f32 \
            (burn-flex-0.22.1/src/ops/module.rs:216-241, commented \"f64 backward computed via \
            f32: precision loss\"): its f64 gradients are f32-accurate, off by ~5e-7 relative.",
    },
    KnownFailure {
        op: "deform_conv2d",
        backend: Some("ndarray"),
        precision: Some(Precision::F64),
        sample: None,
        reproduction: "burn-ndarray's deform_conv2d samples the input at f32 coordinates with \
            f32 bilinear weights whatever the dtype (`bilinear_interpolate`, \
            burn-ndarray-0.22.1/src/ops/deform_conv.rs:62-99): its f64 forward values are \
            f32-accurate (2e-6 relative from flex's), and finite differences of it are noise.",
    },
    KnownFailure {
        op: "nn::Lstm",
        backend: None,
        precision: None,
        sample: None,
        reproduction: "burn-nn's Lstm allocates its output buffer in the device's default float \
            dtype (`Tensor::empty([batch, seq, hidden], device)`, \
            burn-nn-0.22.1/src/modules/rnn/lstm/lstm_module.rs:231), so an f64 Lstm on a device \
            left at its default f32 panics with \"Data type mismatch (lhs: F32, rhs: F64)\", even \
            with an f64 initial state; f32 rows fail because their f64 reference does.",
    },
    KnownFailure {
        op: "nn::Gru",
        backend: None,
        precision: None,
        sample: None,
        reproduction: "burn-nn's Gru allocates its output buffer in the device's default float \
            dtype (`Tensor::empty([batch, seq, hidden], device)`, burn-nn-0.22.1/src/modules/rnn/gru.rs:187), so an f64 Gru on a device \
            left at its default f32 panics with \"Data type mismatch (lhs: F32, rhs: F64)\"; \
            f32 rows fail because their f64 reference does.",
    },
    KnownFailure {
        op: "gather_nd",
        backend: Some("ndarray"),
        precision: None,
        sample: Some("transposed view"),
        reproduction: "burn-ndarray's gather_nd panics on a non-contiguous tensor with \
            \"ndarray gather_nd requires contiguous data\" \
            (burn-ndarray-0.22.1/src/ops/base.rs:506) instead of copying it: \
            `x.transpose().gather_nd::<2, 2>(indices)` fails where `x.gather_nd` works.",
    },
    KnownFailure {
        op: "scatter_nd add",
        backend: Some("ndarray"),
        precision: None,
        sample: Some("transposed view"),
        reproduction: "burn-ndarray's scatter_nd panics on a non-contiguous tensor with \
            \"ndarray scatter_nd requires contiguous data\" \
            (burn-ndarray-0.22.1/src/ops/base.rs:414).",
    },
];

/// The known upstream failure of `op` at the sample `sample` (its
/// [`Sample::what`]) on `backend` in `precision`, if any.
pub fn known_failure(
    (op, sample): (&str, &str),
    backend: &str,
    precision: Precision,
) -> Option<&'static KnownFailure> {
    KNOWN_UPSTREAM.iter().find(|k| {
        k.op == op
            && k.sample.is_none_or(|s| s == sample)
            && k.backend.is_none_or(|b| b == backend)
            && k.precision.is_none_or(|p| p == precision)
    })
}

/// The reference a case runs against on `target`: the target's reference,
/// unless that backend is known to fail this operation in f64 while the
/// target's backend is not — then the target's own backend in f64, whose
/// finite differences still certify it (its forward values are then not
/// compared with an independent implementation, and the row says so).
fn reference_of(case: &Case, target: &Target) -> (String, String, Place) {
    let reference_bad = known_failure((case.op(), case.sample.what), &target.reference_backend, Precision::F64)
        .is_some_and(|k| k.backend.is_some());
    let target_bad = known_failure((case.op(), case.sample.what), &target.backend, Precision::F64).is_some();
    match reference_bad && !target_bad {
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
    known_failure(key, &target.backend, target.place.precision).is_some()
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
    if report.output_vs_reference.as_ref().is_some_and(|a| !a.passed) {
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
pub fn target(backend: &Backend, precision: Precision) -> std::result::Result<Target, Row> {
    let refused = |who: &Backend, p: Precision, e: crate::error::Error| {
        let finding = match e {
            crate::error::Error::UnsupportedPrecision { device, reason, .. } => {
                format!("{device} failed the {p} precision self-check: {reason}")
            }
            other => other.to_string(),
        };
        Row::refused(who.name(), p, finding)
    };
    let device = backend
        .device_for(precision)
        .map_err(|e| refused(backend, precision, e))?;
    let reference = reference_backend(backend);
    let reference_device = reference
        .device_for(Precision::F64)
        .map_err(|e| refused(&reference, Precision::F64, e))?;
    Ok(Target {
        backend: backend.name().to_string(),
        place: Place::new(device, precision),
        reference_backend: reference.name().to_string(),
        reference: Place::new(reference_device, Precision::F64),
    })
}
