//! The gradient-verification harness: three-way checks of any [`Layer`] or
//! [`Network`] — hand-written backward vs burn-autodiff vs finite differences —
//! with a per-parameter report that names the worst element.

use super::compare::{
    TensorReport, Tolerance, compare_values_at_scale, relative_difference, unravel,
};
use super::vjp::{layer_vjp_autodiff, layer_vjp_manual};
use crate::error::{Error, Result};
use crate::gradients::{FiniteDifference, autodiff_gradients, central_differences};
use crate::layer::Layer;
use crate::network::Network;
use crate::params::{ParamEntry, ParamValues};
use crate::precision::Precision;
use crate::tensor;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// What to check and how strictly. `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckOptions {
    /// Finite-difference scheme; default central differences with ε = 1e-5
    /// (use `FiniteDifference::central(1e-4)` to match the reference course).
    pub finite_difference: FiniteDifference,
    /// Manual vs autodiff; default [`Tolerance::exact`] of the precision.
    pub tolerance: Option<Tolerance>,
    /// Manual vs finite differences; default relative 1e-6 with a floor of
    /// 1e-6 × the whole gradient's largest entry (f64 central differences with
    /// ε = 1e-5 are accurate to ~1e-10 of the gradient's scale, so this still
    /// catches any error larger than a millionth of it).
    pub numeric_tolerance: Option<Tolerance>,
    /// Module paths to check (e.g. `layers.1.weight`); `None` checks all.
    pub params: Option<Vec<String>>,
    /// Finite differences on only this many randomly chosen entries per tensor
    /// (manual and autodiff are still compared everywhere); `None` for all.
    pub sample: Option<usize>,
    /// Directional mode: compare vᵀ∇J with (J(θ+εv) − J(θ−εv))/2ε for this many
    /// random unit vectors v instead of per-entry differences (two cost
    /// evaluations per direction, whatever the network's size).
    pub directions: Option<usize>,
    /// Seed of the sampled entries and directions.
    pub seed: u64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            finite_difference: FiniteDifference::central(1e-5),
            tolerance: None,
            numeric_tolerance: None,
            params: None,
            sample: None,
            directions: None,
            seed: 0,
        }
    }
}

/// The check of one parameter tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamCheck {
    /// Module path, e.g. `layers.0.weight`.
    pub path: String,
    /// Shape of the tensor.
    pub shape: Vec<usize>,
    /// Hand-written vs autodiff, over every entry.
    pub manual_vs_autodiff: TensorReport,
    /// Hand-written vs finite differences, over the checked entries.
    pub manual_vs_numeric: Option<TensorReport>,
    /// Autodiff vs finite differences, over the checked entries.
    pub autodiff_vs_numeric: Option<TensorReport>,
    /// Index of the worst entry (largest violation against either truth).
    pub worst_index: Vec<usize>,
    /// The hand-written gradient's value there.
    pub manual: f64,
    /// Autodiff's value there.
    pub autodiff: f64,
    /// The finite-difference value there, if that entry was differenced.
    pub numeric: Option<f64>,
    /// How many entries finite differences covered.
    pub numeric_entries: usize,
    /// Whether this tensor passed.
    pub passed: bool,
}

/// One random direction of the directional mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectionalCheck {
    /// vᵀ ∇J with the hand-written gradient.
    pub manual: f64,
    /// vᵀ ∇J with autodiff's gradient.
    pub autodiff: f64,
    /// (J(θ + εv) − J(θ − εv)) / 2ε.
    pub numeric: f64,
    /// |manual − numeric| / max(|manual|, |numeric|).
    pub relative_error: f64,
    /// Whether it is within the numeric tolerance.
    pub passed: bool,
}

/// The result of a check: per-parameter rows, directions, warnings, verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// The device the check ran on ([`crate::backend::describe`]); empty for
    /// [`check_function`], which has no device of its own.
    #[serde(default)]
    pub device: String,
    /// Precision of the checked module.
    pub precision: Precision,
    /// The finite-difference scheme used.
    pub finite_difference: FiniteDifference,
    /// Tolerance of manual vs autodiff.
    pub tolerance: Tolerance,
    /// Tolerance of manual vs finite differences.
    pub numeric_tolerance: Tolerance,
    /// Whether finite differences count toward the verdict (f64 only).
    pub numeric_certifies: bool,
    /// One row per checked parameter (and `input` for a layer check).
    pub params: Vec<ParamCheck>,
    /// Directional-mode results.
    pub directional: Vec<DirectionalCheck>,
    /// Caveats the reader must know.
    pub warnings: Vec<String>,
    /// The verdict.
    pub passed: bool,
}

impl CheckReport {
    /// The row of the parameter at `path`.
    pub fn param(&self, path: &str) -> Option<&ParamCheck> {
        self.params.iter().find(|p| p.path == path)
    }

    /// ‖m − n‖ / ‖m + n‖ over every entry that was finite-differenced, all
    /// tensors together: the summary of a gradient check in docs/maths.md § 10.
    pub fn numeric_relative_difference(&self) -> Option<f64> {
        let reports: Vec<&TensorReport> = self
            .params
            .iter()
            .filter_map(|p| p.manual_vs_numeric.as_ref())
            .collect();
        if reports.is_empty() {
            return None;
        }
        let total =
            |f: fn(&TensorReport) -> f64| reports.iter().map(|r| f(r).powi(2)).sum::<f64>().sqrt();
        Some(super::compare::ratio(
            total(|r| r.diff_norm),
            total(|r| r.sum_norm),
        ))
    }

    /// The failing rows.
    pub fn failures(&self) -> impl Iterator<Item = &ParamCheck> {
        self.params.iter().filter(|p| !p.passed)
    }
}

/// How far a check's finite differences have come: each entry (or direction)
/// costs two evaluations of J, the bulk of a large check's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckProgress {
    /// Finite differences done.
    pub done: usize,
    /// Finite differences the check will take.
    pub total: usize,
}

/// Three-way check of a network's cost gradient on a batch: hand-written vs
/// burn-autodiff vs finite differences, per parameter. `progress`, if given,
/// is called before the finite differences start and after each one (for a
/// progress bar with an ETA).
///
/// ```
/// use manual_backprop::verification::{CheckOptions, check_network};
/// use manual_backprop::{NetworkConfig, Precision, tensor};
/// let device = burn::tensor::Device::flex();
/// let net = NetworkConfig::new(vec![2, 3, 1]).with_init_std(0.5).init(&device, Precision::F64)?;
/// let x = tensor::matrix("x", vec![0.1, 0.9, 0.7, 0.3], [2, 2], &device, Precision::F64)?;
/// let y = tensor::matrix("y", vec![1.0, 0.0], [2, 1], &device, Precision::F64)?;
/// let report = check_network(&net, x, y, 1e-3, &CheckOptions::default(), None)?;
/// assert!(report.passed, "{report}");
/// # Ok::<(), manual_backprop::Error>(())
/// ```
pub fn check_network(
    network: &Network,
    x: Tensor<2>,
    y: Tensor<2>,
    weight_decay: f64,
    options: &CheckOptions,
    progress: Option<&mut dyn FnMut(CheckProgress)>,
) -> Result<CheckReport> {
    let manual = network.gradients(x.clone(), y.clone(), weight_decay)?;
    let autodiff = autodiff_gradients(network, x.clone(), y.clone(), weight_decay)?;
    let objective = |n: &Network| n.cost(x.clone(), y.clone(), weight_decay);
    let mut report = three_way(
        network,
        network.precision()?,
        (
            &network.to_gradients_params(&manual),
            &network.to_gradients_params(&autodiff),
        ),
        objective,
        None,
        options,
        progress.unwrap_or(&mut |_| {}),
    )?;
    report.device = crate::backend::describe(&network.device()).to_string();
    Ok(report)
}

/// Three-way check of a single layer's backward pass: for the objective
/// J = Σ (layer(input) ∘ grad_output), the hand-written vector–Jacobian product
/// against autodiff's and against finite differences of J. Works for any
/// [`Layer`], including ones defined outside this crate.
pub fn check_layer<L: Layer>(
    layer: &L,
    input: Tensor<2>,
    grad_output: Tensor<2>,
    options: &CheckOptions,
) -> Result<CheckReport> {
    let precision = tensor::precision_of("the layer input", &input)?;
    let (manual_input, manual) = layer_vjp_manual(layer, input.clone(), grad_output.clone());
    let (autodiff_input, autodiff) = layer_vjp_autodiff(layer, input.clone(), grad_output.clone());
    let objective =
        |l: &L| tensor::scalar((l.forward(input.clone()).0 * grad_output.clone()).sum());
    let input_pair = (
        tensor::to_vec(&manual_input)?,
        tensor::to_vec(&autodiff_input)?,
        input.dims().to_vec(),
    );
    let device = input.device();
    let mut report = three_way(
        layer,
        precision,
        (&manual, &autodiff),
        objective,
        Some(input_pair),
        options,
        &mut |_| {},
    )?;
    report.device = crate::backend::describe(&device).to_string();
    Ok(report)
}

/// The summary of a function-level check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCheck {
    /// The finite-difference estimate.
    pub numeric: Vec<f64>,
    /// ‖numeric − grad‖ / ‖numeric + grad‖.
    pub relative_difference: f64,
    /// max |numeric − grad|.
    pub max_abs_diff: f64,
    /// Index of that maximum.
    pub worst_index: usize,
}

/// Checks a gradient `grad` of any function θ ↦ J(θ) at `theta` by finite
/// differences — the reference course's `checkNumericalGradient`.
///
/// ```
/// use manual_backprop::gradients::FiniteDifference;
/// use manual_backprop::verification::check_function;
/// // h(x) = x₁² + 3 x₁ x₂ has gradient (2x₁ + 3x₂, 3x₁).
/// let h = |x: &[f64]| Ok(x[0] * x[0] + 3.0 * x[0] * x[1]);
/// let x = [4.0, 10.0];
/// let report = check_function(h, &x, &[2.0 * 4.0 + 3.0 * 10.0, 3.0 * 4.0], FiniteDifference::central(1e-4))?;
/// // The course reports 2.1e-12: a correct gradient, up to rounding. The same
/// // IEEE arithmetic gives the same number here (2.145e-12).
/// assert!((report.relative_difference - 2.1e-12).abs() < 0.1e-12, "{report:?}");
/// # Ok::<(), manual_backprop::Error>(())
/// ```
pub fn check_function<F>(
    cost: F,
    theta: &[f64],
    grad: &[f64],
    scheme: FiniteDifference,
) -> Result<FunctionCheck>
where
    F: FnMut(&[f64]) -> Result<f64>,
{
    if grad.len() != theta.len() {
        return Err(Error::Shape {
            what: "gradient".into(),
            expected: format!("{} entries, like θ", theta.len()),
            got: grad.len().to_string(),
        });
    }
    let numeric = central_differences(cost, theta, scheme)?;
    let (worst_index, max_abs_diff) = numeric
        .iter()
        .zip(grad)
        .map(|(n, g)| (n - g).abs())
        .enumerate()
        .fold(
            (0, 0.0),
            |best, (i, d)| if d > best.1 { (i, d) } else { best },
        );
    Ok(FunctionCheck {
        relative_difference: relative_difference(&numeric, grad),
        numeric,
        max_abs_diff,
        worst_index,
    })
}

/// The settings every part of a check shares.
struct Judge {
    precision: Precision,
    tolerance: Tolerance,
    numeric_tolerance: Tolerance,
    scheme: FiniteDifference,
    /// Whether finite differences count toward the verdict (f64 only).
    numeric_certifies: bool,
    /// The largest |entry| of the whole hand-written gradient. Both
    /// comparisons judge an entry's absolute error against it ([`Tolerance`]):
    /// finite-difference error follows the cost's scale, and a saturated
    /// layer's rounding error follows the gradient flowing into it, not its
    /// own tiny entries.
    global_scale: f64,
}

impl Judge {
    fn new(precision: Precision, options: &CheckOptions) -> Judge {
        Judge {
            precision,
            tolerance: options.tolerance.unwrap_or(Tolerance::exact(precision)),
            numeric_tolerance: options.numeric_tolerance.unwrap_or(Tolerance {
                relative: 1e-6,
                floor: 1e-6,
            }),
            scheme: options.finite_difference,
            numeric_certifies: precision == Precision::F64,
            global_scale: 0.0,
        }
    }

    /// Caveats about the precision and ε the reader must know.
    fn warnings(&self) -> Vec<String> {
        let (precision, scheme) = (self.precision, self.scheme);
        let mut warnings = Vec::new();
        if !self.numeric_certifies {
            warnings.push(format!(
                "finite differences in {precision} are a smoke test only: the rounding error of J \
                 (u = {:.1e}) divided by ε swamps the derivative; the verdict rests on manual vs autodiff",
                precision.unit_roundoff()
            ));
        }
        // Central differences balance O(ε²) truncation against O(u/ε) rounding at ε ≈ u^(1/3).
        let sweet = precision.unit_roundoff().cbrt();
        let ratio = scheme.epsilon / sweet;
        if !(0.01..=100.0).contains(&ratio) {
            warnings.push(format!(
                "ε = {:e} is far from the {precision} sweet spot ≈ {sweet:.0e}; expect finite-difference error from {}",
                scheme.epsilon,
                if ratio > 1.0 { "truncation (ε too large)" } else { "rounding (ε too small)" }
            ));
        }
        warnings
    }
}

/// Counts finite differences done for a progress callback.
struct Progress<'a> {
    done: usize,
    total: usize,
    report: &'a mut dyn FnMut(CheckProgress),
}

impl Progress<'_> {
    fn start(&mut self) {
        (self.report)(CheckProgress {
            done: 0,
            total: self.total,
        });
    }

    fn step(&mut self) {
        self.done += 1;
        (self.report)(CheckProgress {
            done: self.done,
            total: self.total,
        });
    }
}

/// How many finite differences the check will take: one per direction, or
/// one per (sampled) entry of each selected tensor.
fn differences_to_take(base: &ParamValues, selected: &[usize], options: &CheckOptions) -> usize {
    options.directions.unwrap_or_else(|| {
        selected
            .iter()
            .map(|&k| {
                let n = base.entries[k].values.len();
                options.sample.map_or(n, |s| s.min(n))
            })
            .sum()
    })
}

/// `entry`'s gradient in `grads`, an error naming `side` if it has none.
fn gradient_values(grads: &GradientsParams, entry: &ParamEntry, side: &str) -> Result<Vec<f64>> {
    entry.gradient(grads)?.ok_or_else(|| {
        Error::TensorRead(format!(
            "the {side} gradient has no entry for {}",
            entry.path
        ))
    })
}

/// The entries of a tensor of `n` that finite differences visit: all, or a
/// sorted random sample of `sample`.
pub(super) fn entries_to_difference(
    n: usize,
    sample: Option<usize>,
    rng: &mut StdRng,
) -> Vec<usize> {
    match sample {
        Some(k) if k < n => {
            let mut idx = rand::seq::index::sample(rng, n, k).into_vec();
            idx.sort_unstable();
            idx
        }
        _ => (0..n).collect(),
    }
}

/// Finite differences of `objective` along each of `indices` of parameter
/// `k`, every other parameter held at its base value.
fn difference_entries<M: Module>(
    module: &M,
    base: &ParamValues,
    k: usize,
    indices: &[usize],
    objective: &mut impl FnMut(&M) -> Result<f64>,
    scheme: FiniteDifference,
    progress: &mut Progress<'_>,
) -> Result<Vec<f64>> {
    let mut values = base.clone();
    let mut numeric = Vec::with_capacity(indices.len());
    for &i in indices {
        let cost = |theta: &[f64]| {
            values.entries[k].values[i] = theta[0];
            objective(&values.apply(module)?)
        };
        numeric.push(central_differences(cost, &[base.entries[k].values[i]], scheme)?[0]);
        values.entries[k].values[i] = base.entries[k].values[i];
        progress.step();
    }
    Ok(numeric)
}

/// Manual and autodiff against finite differences on `indices` of a tensor,
/// with the worst entry named in the tensor's own shape.
fn compare_with_numeric(
    judge: &Judge,
    entry: &ParamEntry,
    indices: &[usize],
    numeric: &[f64],
    gradient: &[f64],
) -> TensorReport {
    let picked: Vec<f64> = indices.iter().map(|&i| gradient[i]).collect();
    let mut report = compare_values_at_scale(
        &entry.path,
        &[indices.len()],
        &picked,
        numeric,
        judge.numeric_tolerance,
        judge.global_scale,
    );
    report.worst_index = unravel(indices[report.worst_index[0]], &entry.shape);
    report
}

/// The three-way row of one parameter tensor.
#[allow(clippy::too_many_arguments)]
fn check_param<M: Module>(
    module: &M,
    judge: &Judge,
    base: &ParamValues,
    k: usize,
    (m, a): (&[f64], &[f64]),
    objective: &mut impl FnMut(&M) -> Result<f64>,
    options: &CheckOptions,
    rng: &mut StdRng,
    progress: &mut Progress<'_>,
) -> Result<ParamCheck> {
    let entry = &base.entries[k];
    let m_vs_a = compare_values_at_scale(
        &entry.path,
        &entry.shape,
        m,
        a,
        judge.tolerance,
        judge.global_scale,
    );
    // Entry-wise finite differences, on all entries or a sample (none in
    // directional mode).
    let (mut m_vs_n, mut a_vs_n, mut numeric_at) = (None, None, HashMap::new());
    let mut numeric_entries = 0;
    if options.directions.is_none() {
        let indices = entries_to_difference(entry.values.len(), options.sample, rng);
        let numeric =
            difference_entries(module, base, k, &indices, objective, judge.scheme, progress)?;
        m_vs_n = Some(compare_with_numeric(judge, entry, &indices, &numeric, m));
        a_vs_n = Some(compare_with_numeric(judge, entry, &indices, &numeric, a));
        numeric_at = indices.iter().copied().zip(numeric).collect();
        numeric_entries = indices.len();
    }
    let numeric_ok = !judge.numeric_certifies || m_vs_n.as_ref().is_none_or(|r| r.passed);
    let passed = m_vs_a.passed && numeric_ok;
    // The worst entry: from the failing comparison if any, else manual vs autodiff.
    let worst = match &m_vs_n {
        Some(r) if !r.passed && judge.numeric_certifies && m_vs_a.passed => r.worst_index.clone(),
        _ => m_vs_a.worst_index.clone(),
    };
    let flat = ravel(&worst, &entry.shape);
    Ok(ParamCheck {
        path: entry.path.clone(),
        shape: entry.shape.clone(),
        worst_index: worst,
        manual: m[flat],
        autodiff: a[flat],
        numeric: numeric_at.get(&flat).copied(),
        numeric_entries,
        manual_vs_autodiff: m_vs_a,
        manual_vs_numeric: m_vs_n,
        autodiff_vs_numeric: a_vs_n,
        passed,
    })
}

/// The row of a layer's input gradient: manual vs autodiff only (the input
/// is not a parameter finite differences move).
fn check_input(judge: &Judge, (m, a, shape): (Vec<f64>, Vec<f64>, Vec<usize>)) -> ParamCheck {
    let report =
        compare_values_at_scale("input", &shape, &m, &a, judge.tolerance, judge.global_scale);
    let flat = ravel(&report.worst_index, &shape);
    ParamCheck {
        path: "input".into(),
        shape,
        worst_index: report.worst_index.clone(),
        manual: m[flat],
        autodiff: a[flat],
        numeric: None,
        numeric_entries: 0,
        passed: report.passed,
        manual_vs_autodiff: report,
        manual_vs_numeric: None,
        autodiff_vs_numeric: None,
    }
}

/// A uniformly random unit vector over the selected parameters.
fn random_direction(base: &ParamValues, selected: &[usize], rng: &mut StdRng) -> Vec<Vec<f64>> {
    let sizes: Vec<usize> = selected
        .iter()
        .map(|&k| base.entries[k].values.len())
        .collect();
    super::gradcheck::random_unit(&sizes, rng)
}

/// vᵀ∇J by both gradients against (J(θ + εv) − J(θ − εv)) / 2ε.
#[allow(clippy::too_many_arguments)]
fn check_direction<M: Module>(
    module: &M,
    judge: &Judge,
    base: &ParamValues,
    selected: &[usize],
    (grads_m, grads_a): (&[Vec<f64>], &[Vec<f64>]),
    objective: &mut impl FnMut(&M) -> Result<f64>,
    rng: &mut StdRng,
) -> Result<DirectionalCheck> {
    let v = random_direction(base, selected, rng);
    let dot = |g: &[Vec<f64>]| -> f64 {
        v.iter()
            .zip(g)
            .map(|(vi, gi)| vi.iter().zip(gi).map(|(a, b)| a * b).sum::<f64>())
            .sum()
    };
    let (manual, autodiff) = (dot(grads_m), dot(grads_a));
    let cost = |t: &[f64]| {
        let mut moved = base.clone();
        for (&k, vi) in selected.iter().zip(&v) {
            for (p, d) in moved.entries[k].values.iter_mut().zip(vi) {
                *p += t[0] * d;
            }
        }
        objective(&moved.apply(module)?)
    };
    let numeric = central_differences(cost, &[0.0], judge.scheme)?[0];
    let scale = manual.abs().max(numeric.abs());
    let relative_error = if scale > 0.0 {
        (manual - numeric).abs() / scale
    } else {
        0.0
    };
    let tolerance = judge.numeric_tolerance;
    Ok(DirectionalCheck {
        manual,
        autodiff,
        numeric,
        relative_error,
        passed: relative_error <= tolerance.relative + tolerance.floor,
    })
}

/// The three-way check of `module`'s gradients: `manual` and `autodiff`
/// against each other everywhere, and against finite differences of
/// `objective` entry by entry (or along random directions).
fn three_way<M: Module>(
    module: &M,
    precision: Precision,
    (manual, autodiff): (&GradientsParams, &GradientsParams),
    mut objective: impl FnMut(&M) -> Result<f64>,
    input: Option<(Vec<f64>, Vec<f64>, Vec<usize>)>,
    options: &CheckOptions,
    report_progress: &mut dyn FnMut(CheckProgress),
) -> Result<CheckReport> {
    let mut judge = Judge::new(precision, options);
    let base = ParamValues::of(module)?;
    let selected = base.select(options.params.as_deref())?;
    let mut grads_m = Vec::with_capacity(selected.len());
    let mut grads_a = Vec::with_capacity(selected.len());
    for &k in &selected {
        grads_m.push(gradient_values(manual, &base.entries[k], "hand-written")?);
        grads_a.push(gradient_values(autodiff, &base.entries[k], "autodiff")?);
    }
    judge.global_scale = tensor::max_abs(grads_m.iter().flatten());
    let mut progress = Progress {
        done: 0,
        total: differences_to_take(&base, &selected, options),
        report: report_progress,
    };
    progress.start();
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut params = Vec::with_capacity(selected.len() + 1);
    for (i, &k) in selected.iter().enumerate() {
        let sides = (grads_m[i].as_slice(), grads_a[i].as_slice());
        params.push(check_param(
            module,
            &judge,
            &base,
            k,
            sides,
            &mut objective,
            options,
            &mut rng,
            &mut progress,
        )?);
    }
    params.extend(input.map(|input| check_input(&judge, input)));
    let mut directional = Vec::new();
    for _ in 0..options.directions.unwrap_or(0) {
        let sides = (grads_m.as_slice(), grads_a.as_slice());
        let direction = check_direction(
            module,
            &judge,
            &base,
            &selected,
            sides,
            &mut objective,
            &mut rng,
        )?;
        directional.push(direction);
        progress.step();
    }
    let passed = params.iter().all(|p| p.passed)
        && (!judge.numeric_certifies || directional.iter().all(|d| d.passed));
    Ok(CheckReport {
        device: String::new(),
        precision,
        finite_difference: judge.scheme,
        tolerance: judge.tolerance,
        numeric_tolerance: judge.numeric_tolerance,
        numeric_certifies: judge.numeric_certifies,
        warnings: judge.warnings(),
        params,
        directional,
        passed,
    })
}

/// The row-major flat position of a multi-index, the inverse of `unravel`.
fn ravel(index: &[usize], shape: &[usize]) -> usize {
    index
        .iter()
        .zip(shape)
        .fold(0, |flat, (&i, &d)| flat * d + i)
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_header(f)?;
        for p in &self.params {
            fmt_row(f, p)?;
        }
        for (i, d) in self.directional.iter().enumerate() {
            writeln!(
                f,
                "direction {i}: vᵀ∇J manual {:.10e}, autodiff {:.10e}, numeric {:.10e}, relative error {:.2e} {}",
                d.manual,
                d.autodiff,
                d.numeric,
                d.relative_error,
                if d.passed { "ok" } else { "FAIL" }
            )?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}

impl CheckReport {
    /// The verdict, the tolerances and the table's column names.
    fn fmt_header(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fd = self.finite_difference;
        writeln!(
            f,
            "gradient check{} ({}, {:?} differences ε = {:e}): {}",
            if self.device.is_empty() {
                String::new()
            } else {
                format!(" on {}", self.device)
            },
            self.precision,
            fd.stencil,
            fd.epsilon,
            if self.passed { "PASS" } else { "FAIL" }
        )?;
        writeln!(
            f,
            "  manual vs autodiff: |m−a| ≤ {:.0e}·max(|m|,|a|) + {:.0e}·scale;  manual vs numeric: {:.0e}, {:.0e}{}",
            self.tolerance.relative,
            self.tolerance.floor,
            self.numeric_tolerance.relative,
            self.numeric_tolerance.floor,
            if self.numeric_certifies {
                ""
            } else {
                " (not part of the verdict)"
            }
        )?;
        writeln!(
            f,
            "{:<16} {:<9} {:>10} {:>10} {:>11} {:>10} {:>11} {:>11}  {:<8} {:>14} {:>14} {:>14}  ok",
            "parameter",
            "shape",
            "max|m−a|",
            "max rel",
            "‖m−a‖/‖m+a‖",
            "max|m−n|",
            "‖m−n‖/‖m+n‖",
            "‖a−n‖/‖a+n‖",
            "worst",
            "manual",
            "autodiff",
            "numeric"
        )
    }
}

/// One parameter's line of the report's table.
fn fmt_row(f: &mut fmt::Formatter<'_>, p: &ParamCheck) -> fmt::Result {
    let opt = |v: Option<f64>, prec: usize| v.map_or("—".to_string(), |v| format!("{v:.prec$e}"));
    let numeric =
        |r: &Option<TensorReport>, pick: fn(&TensorReport) -> f64| opt(r.as_ref().map(pick), 2);
    writeln!(
        f,
        "{:<16} {:<9} {:>10.2e} {:>10.2e} {:>11.2e} {:>10} {:>11} {:>11}  {:<8} {:>14.6e} {:>14.6e} {:>14}  {}",
        p.path,
        format!("{:?}", p.shape),
        p.manual_vs_autodiff.max_abs_diff,
        p.manual_vs_autodiff.max_rel_diff,
        p.manual_vs_autodiff.relative_difference,
        numeric(&p.manual_vs_numeric, |r| r.max_abs_diff),
        numeric(&p.manual_vs_numeric, |r| r.relative_difference),
        numeric(&p.autodiff_vs_numeric, |r| r.relative_difference),
        format!("{:?}", p.worst_index),
        p.manual,
        p.autodiff,
        opt(p.numeric, 6),
        if p.passed { "yes" } else { "NO" }
    )
}
