//! A gradient checker for any burn code: a [`Module`] under a loss, a tensor
//! function of inputs of any rank and output of any shape, or an operation
//! with a hand-written backward — autodiff against central differences in
//! f64, every variable named, the worst entry by output and input index.
//!
//! ```
//! use burn_gradcheck::{GradCheck, Inputs};
//! use burn::tensor::{Device, Tensor};
//! let device = Device::flex();
//! let a = Tensor::<2>::from_data([[0.3, -1.2, 0.7], [2.0, 0.1, -0.4]], &device);
//! let b = Tensor::<2>::from_data([[0.5, 1.0], [-0.2, 0.8]], &device);
//! let inputs = Inputs::new().with("a", &a)?.with("b", &b)?;
//! // aᵀb, the expression of burn#5304: every output entry against every input entry.
//! let report = GradCheck::new().function(&inputs, |x| x.get::<2>("a").transpose().matmul(x.get::<2>("b")))?;
//! report.assert();
//! # Ok::<(), burn_gradcheck::Error>(())
//! ```
//!
//! Where the target is not f64 (an f32 model, a GPU), the same computation
//! runs again in f64 on the CPU ([`Place::reference`]); autodiff there is
//! certified by finite differences, and the target is compared with it under
//! a tolerance derived from its unit roundoff ([`GradCheck::terms`]).

mod fast;
mod full;

use crate::agreement::{Agreement, Allowance, Tally, Tolerance};
use crate::error::{Error, Result, require_non_negative, require_positive};
use crate::finite_difference::{FiniteDifference, Stencil};
use crate::inputs::{Args, Inputs};
use crate::manual::Manual;
use crate::place::Place;
use crate::precision::Precision;
use crate::report::{DirectionCheck, GradReport, Mode, VariableCheck};
use crate::subject::{Subject, Variable};
use crate::values;
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;
use std::sync::Arc;

/// Options of a gradient check, set builder-style; then [`GradCheck::function`]
/// or [`GradCheck::module`] runs it. `GradCheck::new()` gives the defaults:
/// the full Jacobian, central differences with ε = 1e-6, every entry, seed 0.
///
/// # Tolerances, and why
///
/// - **autodiff vs numeric** (both f64): `|a − n| ≤ 1e-6·max(|a|,|n|) +
///   1e-6·scale + r`, scale the largest |entry| of the Jacobian. A central
///   difference errs by ε²·|f‴|/6 (truncation, ~1e-13 relative at ε = 1e-6
///   for functions that curve on a scale of 1) plus r = n·u·max|f|/ε
///   (rounding: f itself is off by about n·u·|f| for sums of n terms; ×3 for
///   Richardson). A wrong backward is off by O(1) of an entry: a millionth
///   leaves the check its power, and a 1 % error fails by four orders.
/// - **target vs reference**: `8·n·u` relative and as a floor of the scale,
///   u the target's unit roundoff — the classic n·u bound of a sum of n
///   rounded terms, ×2 because the target's forward and backward both carry
///   one, ×4 for mild cancellation (the reasoning of `tests/wgpu.rs`).
/// - **manual vs autodiff**: [`Tolerance::exact`] of the target precision;
///   manual vs numeric: the numeric tolerance, plus the cross one when the
///   target is not f64.
#[derive(Clone)]
pub struct GradCheck {
    finite_difference: FiniteDifference,
    numeric_tolerance: Tolerance,
    cross_tolerance: Option<Tolerance>,
    manual_tolerance: Option<Tolerance>,
    terms: Option<usize>,
    sample: Option<usize>,
    directions: Option<usize>,
    full_on_failure: bool,
    seed: u64,
    target: Option<Place>,
    reference: Option<Place>,
    params: Option<Vec<String>>,
    progress: Option<ProgressCallback>,
    /// The relative error a negative control plants in autodiff's derivatives.
    pub(crate) planted: Option<f64>,
}

/// A progress callback, shared by the clones of one set of options.
type ProgressCallback = Arc<dyn Fn(CheckProgress) + Send + Sync>;

/// The step ε of central differences: near u^(1/3) ≈ 4.8e-6, where their
/// truncation error ε²|f‴|/6 and rounding error u|f|/ε balance in f64.
pub const DEFAULT_EPSILON: f64 = 1e-6;

/// Autodiff against finite differences, both in f64: a millionth relative
/// and a millionth of the Jacobian's scale. A difference quotient at
/// [`DEFAULT_EPSILON`] errs by about 1e-13 relative for functions that curve
/// on a scale of 1 (rounding is allowed for separately, see [`GradCheck`]);
/// a wrong backward is off by O(1) of an entry, so a 1 % error still fails
/// by four orders of magnitude.
pub const DEFAULT_NUMERIC_TOLERANCE: Tolerance = Tolerance {
    relative: 1e-6,
    floor: 1e-6,
};

impl Default for GradCheck {
    fn default() -> Self {
        GradCheck::new()
    }
}

impl GradCheck {
    /// The defaults: full Jacobian, central differences with ε =
    /// [`DEFAULT_EPSILON`], [`DEFAULT_NUMERIC_TOLERANCE`], all entries, seed 0.
    pub fn new() -> GradCheck {
        GradCheck {
            finite_difference: FiniteDifference::central(DEFAULT_EPSILON),
            numeric_tolerance: DEFAULT_NUMERIC_TOLERANCE,
            cross_tolerance: None,
            manual_tolerance: None,
            terms: None,
            sample: None,
            directions: None,
            full_on_failure: false,
            seed: 0,
            target: None,
            reference: None,
            params: None,
            progress: None,
            planted: None,
        }
    }

    /// Central differences with step `epsilon` (default [`DEFAULT_EPSILON`]).
    pub fn epsilon(mut self, epsilon: f64) -> Self {
        self.finite_difference.epsilon = epsilon;
        self
    }

    /// Another finite-difference scheme (Richardson for sharply curving functions).
    pub fn finite_difference(mut self, scheme: FiniteDifference) -> Self {
        self.finite_difference = scheme;
        self
    }

    /// Autodiff vs finite differences (default [`DEFAULT_NUMERIC_TOLERANCE`]).
    pub fn numeric_tolerance(mut self, tolerance: Tolerance) -> Self {
        self.numeric_tolerance = tolerance;
        self
    }

    /// Target vs reference, instead of the one derived from [`terms`](Self::terms).
    pub fn cross_tolerance(mut self, tolerance: Tolerance) -> Self {
        self.cross_tolerance = Some(tolerance);
        self
    }

    /// Hand-written vs autodiff, instead of [`Tolerance::exact`].
    pub fn manual_tolerance(mut self, tolerance: Tolerance) -> Self {
        self.manual_tolerance = Some(tolerance);
        self
    }

    /// The length n of the longest sum an output entry or a derivative goes
    /// through, which sets the rounding the tolerances allow. By default the
    /// sum of every dimension of every variable and of the output, plus 16:
    /// each contraction sums over one of those dimensions, a chain of them
    /// over each at most once, and 16 covers a few rounded element-wise
    /// operations per entry.
    pub fn terms(mut self, n: usize) -> Self {
        self.terms = Some(n);
        self
    }

    /// These options with `n` as the [`terms`](Self::terms) unless they set
    /// their own: for a kind of subject that knows its longest sum better
    /// than the variables' and output's dimensions do (a cost that also sums
    /// over a batch).
    pub fn with_default_terms(&self, n: usize) -> GradCheck {
        let mut check = self.clone();
        check.terms = check.terms.or(Some(n));
        check
    }

    /// Finite differences on only `k` randomly chosen entries of each
    /// variable (autodiff is still compared everywhere across precisions).
    pub fn sample(mut self, k: usize) -> Self {
        self.sample = Some(k);
        self
    }

    /// Fast mode: `k` random projections uᵀJv instead of the full Jacobian.
    pub fn fast(mut self, k: usize) -> Self {
        self.directions = Some(k);
        self
    }

    /// In fast mode, re-run the full check when a direction fails, so the
    /// report names the variable and entries.
    pub fn full_on_failure(mut self, yes: bool) -> Self {
        self.full_on_failure = yes;
        self
    }

    /// The seed of sampled entries and random directions (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Runs the checked computation on `place` (default: a module's own
    /// device and precision; burn-flex in f64 for a function).
    pub fn on(mut self, place: Place) -> Self {
        self.target = Some(place);
        self
    }

    /// Compares the target with this f64 place instead of
    /// [`Place::reference`]; naming one makes even an f64 target be compared
    /// with it (another backend in f64: the cross-backend mode).
    pub fn reference(mut self, place: Place) -> Self {
        self.reference = Some(place);
        self
    }

    /// Checks only the module parameters at these paths (inputs still all).
    pub fn params(mut self, paths: &[&str]) -> Self {
        self.params = Some(paths.iter().map(|p| p.to_string()).collect());
        self
    }

    /// Called before the work starts and after each autodiff pass or
    /// finite difference (for a progress bar).
    pub fn progress(mut self, report: impl Fn(CheckProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(report));
        self
    }

    /// Checks `f(inputs)`, any output shape, differentiated in every
    /// non-constant input, on [`on`](Self::on)'s place (default flex, f64).
    pub fn function<F, const O: usize>(&self, inputs: &Inputs, f: F) -> Result<GradReport>
    where
        F: Fn(&Args) -> Tensor<O>,
    {
        self.function_with_manual(inputs, f, &Manual::new())
    }

    /// [`function`](Self::function), three ways: the hand-written gradients
    /// in `manual` (of a scalar output) against autodiff and finite differences.
    pub fn function_with_manual<F, const O: usize>(
        &self,
        inputs: &Inputs,
        f: F,
        manual: &Manual,
    ) -> Result<GradReport>
    where
        F: Fn(&Args) -> Tensor<O>,
    {
        // A function is a module with no parameters.
        let nothing: Vec<Param<Tensor<1>>> = Vec::new();
        let subject = Subject::new(&nothing, inputs, None, |_: &Vec<_>, x: &Args| f(x))?
            .planted(self.planted);
        let target = self.target.clone().unwrap_or_else(Place::reference);
        self.run(&subject, target, manual)
    }

    /// Checks `f(module, inputs)` — typically a scalar loss — differentiated
    /// in every float parameter of `module` (or those of
    /// [`params`](Self::params)) and every non-constant input.
    pub fn module<M, F, const O: usize>(
        &self,
        module: &M,
        inputs: &Inputs,
        f: F,
    ) -> Result<GradReport>
    where
        M: Module,
        F: Fn(&M, &Args) -> Tensor<O>,
    {
        self.module_with_manual(module, inputs, f, &Manual::new())
    }

    /// [`module`](Self::module), three ways: the hand-written gradients in
    /// `manual` (of a scalar output) against autodiff and finite differences.
    pub fn module_with_manual<M, F, const O: usize>(
        &self,
        module: &M,
        inputs: &Inputs,
        f: F,
        manual: &Manual,
    ) -> Result<GradReport>
    where
        M: Module,
        F: Fn(&M, &Args) -> Tensor<O>,
    {
        let subject =
            Subject::new(module, inputs, self.params.as_deref(), f)?.planted(self.planted);
        let target = match &self.target {
            Some(place) => place.clone(),
            None => place_of(module)?,
        };
        self.run(&subject, target, manual)
    }

    /// `f(inputs)` on `place`, plainly (no autodiff): the output's shape
    /// and row-major values, as every check evaluates it.
    pub fn evaluate<F, const O: usize>(
        place: &Place,
        inputs: &Inputs,
        f: F,
    ) -> Result<(Vec<usize>, Vec<f64>)>
    where
        F: Fn(&Args) -> Tensor<O>,
    {
        let nothing: Vec<Param<Tensor<1>>> = Vec::new();
        GradCheck::evaluate_module(place, &nothing, inputs, |_: &Vec<_>, x: &Args| f(x))
    }

    /// `f(module, inputs)` on `place`, plainly: shape and values.
    pub fn evaluate_module<M, F, const O: usize>(
        place: &Place,
        module: &M,
        inputs: &Inputs,
        f: F,
    ) -> Result<(Vec<usize>, Vec<f64>)>
    where
        M: Module,
        F: Fn(&M, &Args) -> Tensor<O>,
    {
        let subject = Subject::new(module, inputs, None, f)?;
        let base: Vec<Vec<f64>> = subject.variables().into_iter().map(|v| v.values).collect();
        subject.output(place, &base)
    }

    /// The options' own rules, before any work.
    fn validate(&self) -> Result<()> {
        require_positive(
            "epsilon",
            self.finite_difference.epsilon,
            "the finite-difference step",
            "1e-6 suits f64",
        )?;
        let tolerances = [
            Some(self.numeric_tolerance),
            self.cross_tolerance,
            self.manual_tolerance,
        ];
        for t in tolerances.into_iter().flatten() {
            for value in [t.relative, t.floor] {
                require_non_negative("tolerance", value, "a tolerance", "e.g. 1e-6")?;
            }
        }
        for (name, value) in [
            ("sample", self.sample),
            ("directions", self.directions),
            ("terms", self.terms),
        ] {
            if value == Some(0) {
                return Err(Error::InvalidParameter {
                    name,
                    value: "0".into(),
                    reason: "must be at least 1".into(),
                });
            }
        }
        Ok(())
    }

    /// The f64 place the target is compared with, if it is not itself one.
    fn reference_for(&self, target: &Place) -> Result<Option<Place>> {
        match &self.reference {
            Some(r) if r.precision != Precision::F64 => Err(Error::InvalidParameter {
                name: "reference",
                value: r.to_string(),
                reason: "the reference must compute in f64: finite differences certify it".into(),
            }),
            Some(r) if r == target => Ok(None),
            Some(r) => Ok(Some(r.clone())),
            None if target.precision == Precision::F64 => Ok(None),
            None => Ok(Some(Place::reference())),
        }
    }

    fn run<M, F, const O: usize>(
        &self,
        subject: &Subject<'_, M, F>,
        target: Place,
        manual: &Manual,
    ) -> Result<GradReport>
    where
        M: Module,
        F: Fn(&M, &Args) -> Tensor<O>,
    {
        self.validate()?;
        let reference = self.reference_for(&target)?;
        let variables = subject.variables();
        let base: Vec<Vec<f64>> = variables.iter().map(|v| v.values.clone()).collect();
        let exact = reference.clone().unwrap_or_else(|| target.clone());
        let (output_shape, output) = subject.output(&exact, &base)?;
        let terms = self
            .terms
            .unwrap_or_else(|| default_terms(&variables, &output_shape));
        let manual = manual.values(&variables, output.len())?;
        let cross = reference.as_ref().map(|_| {
            self.cross_tolerance.unwrap_or_else(|| {
                let bound = 8.0 * terms as f64 * target.precision.unit_roundoff();
                Tolerance {
                    relative: bound,
                    floor: bound,
                }
            })
        });
        let forward = match cross {
            Some(tolerance) => Some(forward_agreement(
                subject,
                &target,
                (&output, &output_shape),
                tolerance,
                &base,
            )?),
            None => None,
        };
        let setting = Setting {
            cross,
            forward,
            manual: manual.as_ref().map(|_| {
                self.manual_tolerance
                    .unwrap_or(Tolerance::exact(target.precision))
            }),
            rounding: self.rounding(terms, &output),
            names: variables.iter().map(|v| v.name.clone()).collect(),
            target,
            reference,
            exact,
            output_shape,
            terms,
            manual_values: manual,
        };
        self.run_mode(subject, &setting, &variables, &base)
    }

    /// The full or fast check, and the full re-run of a failed fast one.
    fn run_mode<M, F, const O: usize>(
        &self,
        subject: &Subject<'_, M, F>,
        setting: &Setting,
        variables: &[Variable],
        base: &[Vec<f64>],
    ) -> Result<GradReport>
    where
        M: Module,
        F: Fn(&M, &Args) -> Tensor<O>,
    {
        let Some(k) = self.directions else {
            return self.full(subject, setting, variables, base);
        };
        let mut report = self.projections(subject, setting, variables, base, k)?;
        if !report.passed && self.full_on_failure {
            let full = self.full(subject, setting, variables, base)?;
            report.full = Some(Box::new(full));
        }
        Ok(report)
    }

    /// The rounding error of a finite difference of f: n·u·max|f| / ε
    /// (×3 for Richardson, whose combination weighs D(ε/2) by 4/3).
    fn rounding(&self, terms: usize, output: &[f64]) -> f64 {
        let fd = self.finite_difference;
        let stencil = match fd.stencil {
            Stencil::Central => 1.0,
            Stencil::Richardson => 3.0,
        };
        stencil * terms as f64 * Precision::F64.unit_roundoff() * values::max_abs(output)
            / fd.epsilon
    }

    fn report(
        &self,
        setting: &Setting,
        mode: Mode,
        variables: Vec<VariableCheck>,
        directions: Vec<DirectionCheck>,
        passed: bool,
    ) -> GradReport {
        GradReport {
            mode,
            target: setting.target.to_string(),
            precision: setting.target.precision,
            reference: setting.reference.as_ref().map(Place::to_string),
            names: setting.names.clone(),
            output_shape: setting.output_shape.clone(),
            finite_difference: self.finite_difference,
            numeric_tolerance: self.numeric_tolerance,
            cross_tolerance: setting.cross,
            manual_tolerance: setting.manual,
            terms: setting.terms,
            seed: self.seed,
            variables,
            directions,
            full: None,
            output_vs_reference: setting.forward.clone(),
            warnings: step_warnings(self.finite_difference),
            passed: passed && setting.forward.as_ref().is_none_or(|a| a.passed),
        }
    }
}

/// The target's forward values against the reference's, entry by entry.
///
/// A forward kernel that is wrong in the same way for the forward pass and
/// for the finite differences built from it passes a check of autodiff
/// against those differences; only another implementation sees it. The
/// scale of the floor is the largest |entry| of the output *or of the
/// inputs*: an output entry that cancels to near zero (a sum of evenly
/// spread values) still carries rounding of the size of the terms summed,
/// which the inputs bound.
fn forward_agreement<M, F, const O: usize>(
    subject: &Subject<'_, M, F>,
    target: &Place,
    (reference, shape): (&[f64], &[usize]),
    tolerance: Tolerance,
    base: &[Vec<f64>],
) -> Result<Agreement>
where
    M: Module,
    F: Fn(&M, &Args) -> Tensor<O>,
{
    let (target_shape, values) = subject.output(target, base)?;
    if target_shape != shape {
        return Err(Error::Shape {
            what: format!("the checked function's output on {target}"),
            expected: format!("{shape:?}, as on the reference"),
            got: format!("{target_shape:?}"),
        });
    }
    let scale = values::max_abs(reference.iter().chain(base.iter().flatten()));
    let mut tally = Tally::new(Allowance {
        tolerance,
        scale,
        absolute: 0.0,
    });
    for (j, (&t, &r)) in values.iter().zip(reference).enumerate() {
        tally.see(j, 0, t, r);
    }
    Ok(tally.finish(shape, &[]))
}

/// What one run of a check has settled before comparing.
struct Setting {
    names: Vec<String>,
    target: Place,
    reference: Option<Place>,
    /// Where finite differences (and the certified autodiff) run: the
    /// reference, or the target when it is f64.
    exact: Place,
    output_shape: Vec<usize>,
    terms: usize,
    cross: Option<Tolerance>,
    /// The target's forward values against the reference's.
    forward: Option<Agreement>,
    manual: Option<Tolerance>,
    /// The rounding error of a finite difference, absolute.
    rounding: f64,
    manual_values: Option<Vec<Vec<f64>>>,
}

/// How far a check has come: each autodiff pass and each finite difference
/// (two evaluations of f, the bulk of a large check's time) is one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckProgress {
    /// Steps done.
    pub done: usize,
    /// Steps the check will take.
    pub total: usize,
}

/// Counts the work done for a progress callback.
struct Progress {
    done: usize,
    total: usize,
    report: Option<ProgressCallback>,
}

impl Progress {
    fn start(report: Option<ProgressCallback>, total: usize) -> Self {
        let mut progress = Progress {
            done: 0,
            total,
            report,
        };
        progress.tell();
        progress
    }

    fn step(&mut self) {
        self.done += 1;
        self.tell();
    }

    fn tell(&mut self) {
        if let Some(report) = &self.report {
            report(CheckProgress {
                done: self.done,
                total: self.total,
            });
        }
    }
}

/// A warning when the step is far from where the scheme's truncation and
/// rounding errors balance in f64, where every finite difference runs:
/// central differences err by ε²|f‴|/6 + u|f|/ε, least near ε ≈ u^(1/3);
/// Richardson's O(ε⁴) truncation moves the balance to u^(1/5).
fn step_warnings(scheme: FiniteDifference) -> Vec<String> {
    let u = Precision::F64.unit_roundoff();
    let sweet = match scheme.stencil {
        Stencil::Central => u.cbrt(),
        Stencil::Richardson => u.powf(0.2),
    };
    let ratio = scheme.epsilon / sweet;
    if (0.01..=100.0).contains(&ratio) {
        return Vec::new();
    }
    vec![format!(
        "ε = {:e} is far from the f64 sweet spot of {:?} differences ≈ {sweet:.0e}; expect \
         finite-difference error from {}",
        scheme.epsilon,
        scheme.stencil,
        if ratio > 1.0 {
            "truncation (ε too large)"
        } else {
            "rounding (ε too small)"
        }
    )]
}

/// The default n of [`GradCheck::terms`].
fn default_terms(variables: &[Variable], output_shape: &[usize]) -> usize {
    let dims: usize = variables.iter().flat_map(|v| &v.shape).sum();
    dims + output_shape.iter().sum::<usize>() + 16
}

/// `tolerance` plus the target's rounding when it is not f64.
fn widened(tolerance: Tolerance, cross: Option<Tolerance>) -> Tolerance {
    let cross = cross.unwrap_or(Tolerance {
        relative: 0.0,
        floor: 0.0,
    });
    Tolerance {
        relative: tolerance.relative + cross.relative,
        floor: tolerance.floor + cross.floor,
    }
}

/// The device and precision of a module's first float parameter (the
/// reference place for a module without any).
fn place_of<M: Module>(module: &M) -> Result<Place> {
    struct First(Option<(burn::tensor::Device, burn::tensor::DType)>);
    impl ModuleVisitor for First {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if self.0.is_none() {
                let value = param.val();
                self.0 = Some((value.device(), value.dtype()));
            }
        }
    }
    let mut first = First(None);
    module.visit(&mut first);
    let Some((device, dtype)) = first.0 else {
        return Ok(Place::reference());
    };
    let precision = Precision::from_dtype(dtype).ok_or_else(|| Error::InvalidParameter {
        name: "dtype",
        value: format!("{dtype:?}"),
        reason: "the checker computes in f32 or f64; cast the module".into(),
    })?;
    Ok(Place::new(device, precision))
}

#[cfg(test)]
mod tests {
    use super::{Tolerance, widened};

    #[test]
    fn a_cross_precision_tolerance_widens_each_term_by_its_own() {
        let numeric = Tolerance {
            relative: 0.5,
            floor: 0.25,
        };
        let cross = Tolerance {
            relative: 2.0,
            floor: 4.0,
        };
        assert_eq!(
            widened(numeric, Some(cross)),
            Tolerance {
                relative: 2.5,
                floor: 4.25,
            }
        );
        assert_eq!(widened(numeric, None), numeric);
    }
}
