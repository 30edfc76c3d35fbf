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
pub mod catalogue;
pub mod coverage;
pub mod findings;
mod known;
mod run;
mod sample;
mod table;
pub mod views;

pub use blame::suspects;
pub use known::{KNOWN_UPSTREAM, KnownFailure, known_failure};
pub use run::{
    Row, Target, Verdict, failures, reference_backend, run_case, sweep, target, unverified_target,
};
pub use sample::{Sample, Values};

use crate::error::Result;
use burn::module::Module;
use burn::tensor::Tensor;
use burn_gradcheck::{Args, GradCheck, GradReport, Inputs, Place};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Checks a case: the family's operation at one sample, with its inputs.
type Body = Arc<dyn Fn(GradCheck, &Inputs, &Sample) -> Result<GradReport> + Send + Sync>;
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
            body: Arc::new(move |check, inputs, s| Ok(check.function(inputs, |x| f(x, s))?)),
            eval: Arc::new(move |place, inputs, s| {
                Ok(GradCheck::evaluate(place, inputs, |x: &Args| f(x, s))?)
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
            body: Arc::new(move |check, inputs, s| {
                let module = sample::seeded(build(s), op)?;
                Ok(check.module(&module, inputs, |m, x| f(m, x, s))?)
            }),
            eval: Arc::new(move |place, inputs, s| {
                let module = sample::seeded(build(s), op)?;
                Ok(GradCheck::evaluate_module(
                    place,
                    &module,
                    inputs,
                    |m: &M, x: &Args| f(m, x, s),
                )?)
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
