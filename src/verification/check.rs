//! The gradient-verification harness: three-way checks of any [`Layer`] or
//! [`Network`] — hand-written backward vs burn-autodiff vs finite differences —
//! with a per-parameter report that names the worst element.

use super::autodiff::{autodiff_gradients, layer_vjp_autodiff, layer_vjp_manual};
use super::compare::{
    TensorReport, Tolerance, compare_values_at_scale, relative_difference, unravel,
};
use super::numeric::{FiniteDifference, central_differences};
use crate::backend::Precision;
use crate::error::{Error, Result};
use crate::layer::Layer;
use crate::network::Network;
use crate::tensor;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use rand::rngs::StdRng;
use rand::seq::index::sample;
use rand::{RngExt, SeedableRng};
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
    /// The three values there.
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
    /// tensors together: SPEC.md's summary of a gradient check.
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

/// Three-way check of a network's cost gradient on a batch.
pub fn check_network(
    network: &Network,
    x: Tensor<2>,
    y: Tensor<2>,
    weight_decay: f64,
    options: &CheckOptions,
) -> Result<CheckReport> {
    check_network_with_progress(network, x, y, weight_decay, options, &mut |_| {})
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

/// [`check_network`], calling `progress` before the finite differences start
/// and after each one (for a progress bar with an ETA).
pub fn check_network_with_progress(
    network: &Network,
    x: Tensor<2>,
    y: Tensor<2>,
    weight_decay: f64,
    options: &CheckOptions,
    progress: &mut dyn FnMut(CheckProgress),
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
        progress,
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
/// use manual_backprop::verification::{FiniteDifference, check_function};
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

/// A float parameter's path, id, shape and values, in visiting order.
struct Entry {
    path: String,
    id: ParamId,
    shape: Vec<usize>,
    values: Vec<f64>,
}

#[derive(Default)]
struct CollectParams {
    stack: Vec<String>,
    entries: Vec<Entry>,
    error: Option<Error>,
}

impl ModuleVisitor for CollectParams {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.stack.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.stack.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        match tensor::to_vec(&value) {
            Ok(values) => self.entries.push(Entry {
                path: self.stack.join("."),
                id: param.id,
                shape: value.dims().to_vec(),
                values,
            }),
            Err(e) => self.error = Some(e),
        }
    }
}

/// Replaces the values of the parameters in `values` (same shape, device, dtype, id).
struct SetParams<'a> {
    values: &'a HashMap<ParamId, Vec<f64>>,
}

impl ModuleMapper for SetParams<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(values) = self.values.get(&param.id) else {
            return param;
        };
        param.map(|t| {
            let (device, dtype, dims) = (t.device(), t.dtype(), t.dims());
            Tensor::from_data(TensorData::new(values.clone(), dims), (&device, dtype))
        })
    }
}

fn with_values<M: Module>(module: &M, values: &HashMap<ParamId, Vec<f64>>) -> M {
    module.clone().map(&mut SetParams { values })
}

/// Reads a gradient from `GradientsParams` as f64 values, whatever its rank.
fn gradient_values(grads: &GradientsParams, id: ParamId, rank: usize) -> Result<Option<Vec<f64>>> {
    macro_rules! get {
        ($d:literal) => {
            grads.get::<$d>(id).map(|t| tensor::to_vec(&t)).transpose()
        };
    }
    match rank {
        1 => get!(1),
        2 => get!(2),
        3 => get!(3),
        4 => get!(4),
        _ => Err(Error::InvalidParameter {
            name: "parameter rank",
            value: rank.to_string(),
            reason: "the harness checks parameters of rank 1 to 4".into(),
        }),
    }
}

fn three_way<M: Module>(
    module: &M,
    precision: Precision,
    (manual, autodiff): (&GradientsParams, &GradientsParams),
    mut objective: impl FnMut(&M) -> Result<f64>,
    input: Option<(Vec<f64>, Vec<f64>, Vec<usize>)>,
    options: &CheckOptions,
    progress: &mut dyn FnMut(CheckProgress),
) -> Result<CheckReport> {
    let tolerance = options.tolerance.unwrap_or(Tolerance::exact(precision));
    let numeric_tolerance = options.numeric_tolerance.unwrap_or(Tolerance {
        relative: 1e-6,
        floor: 1e-6,
    });
    let scheme = options.finite_difference;
    let mut warnings = Vec::new();
    let numeric_certifies = precision == Precision::F64;
    if !numeric_certifies {
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

    let mut collect = CollectParams::default();
    module.visit(&mut collect);
    if let Some(e) = collect.error {
        return Err(e);
    }
    let selected: Vec<&Entry> = match &options.params {
        None => collect.entries.iter().collect(),
        Some(paths) => {
            if let Some(unknown) = paths
                .iter()
                .find(|p| !collect.entries.iter().any(|e| &e.path == *p))
            {
                let known: Vec<&str> = collect.entries.iter().map(|e| e.path.as_str()).collect();
                return Err(Error::InvalidParameter {
                    name: "params",
                    value: unknown.clone(),
                    reason: format!("no such parameter; the module has {}", known.join(", ")),
                });
            }
            collect
                .entries
                .iter()
                .filter(|e| paths.contains(&e.path))
                .collect()
        }
    };
    let base: HashMap<ParamId, Vec<f64>> = collect
        .entries
        .iter()
        .map(|e| (e.id, e.values.clone()))
        .collect();
    let mut rng = StdRng::seed_from_u64(options.seed);

    // Both comparisons judge an entry's absolute error against the largest
    // entry of the whole gradient ([`Tolerance`]): finite-difference error
    // follows the cost's scale, and a saturated layer's rounding error follows
    // the gradient flowing into it, not its own tiny entries.
    let mut global_scale = 0.0_f64;
    for entry in &selected {
        if let Some(m) = gradient_values(manual, entry.id, entry.shape.len())? {
            global_scale = m.iter().fold(global_scale, |s, v| s.max(v.abs()));
        }
    }
    let total = match options.directions {
        Some(k) => k,
        None => selected
            .iter()
            .map(|e| {
                options
                    .sample
                    .map_or(e.values.len(), |k| k.min(e.values.len()))
            })
            .sum(),
    };
    let mut done = 0;
    progress(CheckProgress { done, total });
    let mut params = Vec::new();
    let mut grads_m = HashMap::new();
    let mut grads_a = HashMap::new();
    for entry in &selected {
        let missing = |side: &str| {
            Error::TensorRead(format!(
                "the {side} gradient has no entry for {}",
                entry.path
            ))
        };
        let m = gradient_values(manual, entry.id, entry.shape.len())?
            .ok_or_else(|| missing("hand-written"))?;
        let a = gradient_values(autodiff, entry.id, entry.shape.len())?
            .ok_or_else(|| missing("autodiff"))?;
        let m_vs_a =
            compare_values_at_scale(&entry.path, &entry.shape, &m, &a, tolerance, global_scale);

        // Entry-wise finite differences, on all entries or a sample.
        let (mut m_vs_n, mut a_vs_n, mut numeric_at, mut numeric_entries) =
            (None, None, HashMap::new(), 0);
        if options.directions.is_none() {
            let n = entry.values.len();
            let indices: Vec<usize> = match options.sample {
                Some(k) if k < n => {
                    let mut idx = sample(&mut rng, n, k).into_vec();
                    idx.sort_unstable();
                    idx
                }
                _ => (0..n).collect(),
            };
            let mut values = base.clone();
            let mut numeric = Vec::with_capacity(indices.len());
            for &i in &indices {
                let cost = |theta: &[f64]| {
                    values.get_mut(&entry.id).expect("collected")[i] = theta[0];
                    objective(&with_values(module, &values))
                };
                numeric.push(central_differences(cost, &[entry.values[i]], scheme)?[0]);
                values.get_mut(&entry.id).expect("collected")[i] = entry.values[i];
                done += 1;
                progress(CheckProgress { done, total });
            }
            let pick = |g: &[f64]| indices.iter().map(|&i| g[i]).collect::<Vec<f64>>();
            let sub_shape = [indices.len()];
            let compare_numeric = |g: &[f64]| {
                let g = pick(g);
                compare_values_at_scale(
                    &entry.path,
                    &sub_shape,
                    &g,
                    &numeric,
                    numeric_tolerance,
                    global_scale,
                )
            };
            let (mut mn, mut an) = (compare_numeric(&m), compare_numeric(&a));
            // Report indices in the tensor's own shape, not the sample's.
            for r in [&mut mn, &mut an] {
                r.worst_index = unravel(indices[r.worst_index[0]], &entry.shape);
            }
            numeric_at = indices
                .iter()
                .copied()
                .zip(numeric.iter().copied())
                .collect();
            numeric_entries = indices.len();
            m_vs_n = Some(mn);
            a_vs_n = Some(an);
        }
        let numeric_ok = !numeric_certifies || m_vs_n.as_ref().is_none_or(|r| r.passed);
        let passed = m_vs_a.passed && numeric_ok;
        // The worst entry: from the failing comparison if any, else manual vs autodiff.
        let worst = match &m_vs_n {
            Some(r) if !r.passed && numeric_certifies && m_vs_a.passed => r.worst_index.clone(),
            _ => m_vs_a.worst_index.clone(),
        };
        let flat = ravel(&worst, &entry.shape);
        grads_m.insert(entry.id, m.clone());
        grads_a.insert(entry.id, a.clone());
        params.push(ParamCheck {
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
        });
    }

    if let Some((m, a, shape)) = input {
        let report = compare_values_at_scale("input", &shape, &m, &a, tolerance, global_scale);
        let flat = ravel(&report.worst_index, &shape);
        params.push(ParamCheck {
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
        });
    }

    let mut directional = Vec::new();
    for _ in 0..options.directions.unwrap_or(0) {
        // A uniformly random unit vector over the selected parameters.
        let mut v: HashMap<ParamId, Vec<f64>> = selected
            .iter()
            .map(|e| {
                (
                    e.id,
                    (0..e.values.len())
                        .map(|_| rng.random::<f64>() * 2.0 - 1.0)
                        .collect(),
                )
            })
            .collect();
        let norm = v
            .values()
            .flatten()
            .map(|x| x * x)
            .sum::<f64>()
            .sqrt()
            .max(f64::MIN_POSITIVE);
        v.values_mut().flatten().for_each(|x| *x /= norm);
        let dot = |g: &HashMap<ParamId, Vec<f64>>| -> f64 {
            v.iter()
                .map(|(id, vi)| vi.iter().zip(&g[id]).map(|(a, b)| a * b).sum::<f64>())
                .sum()
        };
        let (manual, autodiff) = (dot(&grads_m), dot(&grads_a));
        let cost = |t: &[f64]| {
            let moved: HashMap<ParamId, Vec<f64>> = base
                .iter()
                .map(|(id, vals)| {
                    let vals = match v.get(id) {
                        Some(vi) => vals.iter().zip(vi).map(|(p, d)| p + t[0] * d).collect(),
                        None => vals.clone(),
                    };
                    (*id, vals)
                })
                .collect();
            objective(&with_values(module, &moved))
        };
        let numeric = central_differences(cost, &[0.0], scheme)?[0];
        done += 1;
        progress(CheckProgress { done, total });
        let scale = manual.abs().max(numeric.abs());
        let relative_error = if scale > 0.0 {
            (manual - numeric).abs() / scale
        } else {
            0.0
        };
        directional.push(DirectionalCheck {
            manual,
            autodiff,
            numeric,
            relative_error,
            passed: relative_error <= numeric_tolerance.relative + numeric_tolerance.floor,
        });
    }

    let passed = params.iter().all(|p| p.passed)
        && (!numeric_certifies || directional.iter().all(|d| d.passed));
    Ok(CheckReport {
        device: String::new(),
        precision,
        finite_difference: scheme,
        tolerance,
        numeric_tolerance,
        numeric_certifies,
        params,
        directional,
        warnings,
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
        )?;
        let opt =
            |v: Option<f64>, prec: usize| v.map_or("—".to_string(), |v| format!("{v:.prec$e}"));
        for p in &self.params {
            writeln!(
                f,
                "{:<16} {:<9} {:>10.2e} {:>10.2e} {:>11.2e} {:>10} {:>11} {:>11}  {:<8} {:>14.6e} {:>14.6e} {:>14}  {}",
                p.path,
                format!("{:?}", p.shape),
                p.manual_vs_autodiff.max_abs_diff,
                p.manual_vs_autodiff.max_rel_diff,
                p.manual_vs_autodiff.relative_difference,
                opt(p.manual_vs_numeric.as_ref().map(|r| r.max_abs_diff), 2),
                opt(
                    p.manual_vs_numeric.as_ref().map(|r| r.relative_difference),
                    2
                ),
                opt(
                    p.autodiff_vs_numeric
                        .as_ref()
                        .map(|r| r.relative_difference),
                    2
                ),
                format!("{:?}", p.worst_index),
                p.manual,
                p.autodiff,
                opt(p.numeric, 6),
                if p.passed { "yes" } else { "NO" }
            )?;
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
