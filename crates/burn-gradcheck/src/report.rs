//! The outcome of a [`GradCheck`](crate::GradCheck): one row per variable (or per random
//! direction), the tolerances used, the verdict, and a readable table.

use crate::agreement::{Agreement, Tolerance, ratio};
use crate::finite_difference::FiniteDifference;
use crate::precision::Precision;
use crate::subject::VariableKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Whether the whole Jacobian or random projections of it were checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Every output entry × every (sampled) variable entry, like
    /// `torch.autograd.gradcheck`'s default.
    Full,
    /// uᵀJv for random unit vectors u (outputs) and v (all variables), like
    /// torch's `fast_mode` and JAX's `check_grads`: one autodiff pass and two
    /// evaluations per direction, whatever the sizes.
    Fast,
}

/// The check of one variable's block of the Jacobian.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariableCheck {
    /// The parameter's module path or the input's name.
    pub name: String,
    /// Parameter or input.
    pub kind: VariableKind,
    /// Its shape.
    pub shape: Vec<usize>,
    /// How many of its entries finite differences moved (all unless sampled).
    pub differenced: usize,
    /// Autodiff against central differences, both in f64 (on the reference
    /// when the target is not f64): the certificate.
    pub autodiff_vs_numeric: Agreement,
    /// Autodiff on the target against autodiff on the f64 reference, over
    /// the whole block; `None` when the target is the reference.
    pub target_vs_reference: Option<Agreement>,
    /// Hand-written gradients against the target's autodiff, if given.
    pub manual_vs_autodiff: Option<Agreement>,
    /// Hand-written gradients against central differences, if given.
    pub manual_vs_numeric: Option<Agreement>,
    /// Whether every comparison of this variable passed.
    pub passed: bool,
}

impl VariableCheck {
    /// The comparisons made, with their labels.
    pub fn agreements(&self) -> Vec<(&'static str, &Agreement)> {
        [
            ("autodiff vs numeric", Some(&self.autodiff_vs_numeric)),
            ("target vs reference", self.target_vs_reference.as_ref()),
            ("manual vs autodiff", self.manual_vs_autodiff.as_ref()),
            ("manual vs numeric", self.manual_vs_numeric.as_ref()),
        ]
        .into_iter()
        .filter_map(|(label, a)| a.map(|a| (label, a)))
        .collect()
    }

    /// The largest share of the allowed difference among its comparisons:
    /// ≤ 1 passes.
    pub fn share_of_allowed(&self) -> f64 {
        self.agreements()
            .iter()
            .map(|(_, a)| a.share_of_allowed())
            .fold(0.0, f64::max)
    }
}

impl DirectionCheck {
    /// The largest share of the allowed difference among its comparisons:
    /// ≤ 1 passes.
    pub fn share_of_allowed(&self) -> f64 {
        self.violation
    }
}

/// One random direction of the fast mode: uᵀJv by each source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectionCheck {
    /// Which direction (0, 1, …); with the report's seed it is reproducible.
    pub index: usize,
    /// uᵀJv by autodiff on the target.
    pub target: f64,
    /// uᵀJv by autodiff on the f64 reference, when the target is not it.
    pub reference: Option<f64>,
    /// uᵀ (f(x + εv) − f(x − εv)) / 2ε, in f64.
    pub numeric: f64,
    /// (∇ᵀv) by the hand-written gradients, if given.
    pub manual: Option<f64>,
    /// The exact side's uᵀJv (the reference's, or the f64 target's) against
    /// finite differences: |difference| / allowed difference.
    pub numeric_violation: f64,
    /// The target's uᵀJv against the reference's, when there is one.
    pub reference_violation: Option<f64>,
    /// The worst |difference| / allowed difference among the comparisons.
    pub violation: f64,
    /// Whether all comparisons passed.
    pub passed: bool,
}

/// Everything a gradient check found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradReport {
    /// Full Jacobian or random projections.
    pub mode: Mode,
    /// Where the checked computation ran (device and precision).
    pub target: String,
    /// Its precision.
    pub precision: Precision,
    /// The f64 reference it was compared with, when it is not itself f64.
    pub reference: Option<String>,
    /// The variables differentiated in, in order (module paths, then inputs).
    pub names: Vec<String>,
    /// The shape of the function's output.
    pub output_shape: Vec<usize>,
    /// The finite-difference scheme.
    pub finite_difference: FiniteDifference,
    /// Autodiff vs finite differences (plus a rounding term, see [`GradCheck`](crate::GradCheck)).
    pub numeric_tolerance: Tolerance,
    /// Target vs reference, derived from the target's unit roundoff.
    pub cross_tolerance: Option<Tolerance>,
    /// Hand-written vs autodiff.
    pub manual_tolerance: Option<Tolerance>,
    /// The length of the longest sum an entry goes through, as the
    /// tolerances assumed it.
    pub terms: usize,
    /// The seed of the sampled entries and directions.
    pub seed: u64,
    /// One row per variable (full mode).
    pub variables: Vec<VariableCheck>,
    /// One row per direction (fast mode).
    pub directions: Vec<DirectionCheck>,
    /// After a failed fast check, the full check it was asked to re-run.
    pub full: Option<Box<GradReport>>,
    /// The target's forward values against the reference's, entry by entry
    /// (`worst_output` names the entry); `None` without a reference.
    pub output_vs_reference: Option<Agreement>,
    /// Caveats the reader must know (a step far from its sweet spot, entries
    /// sampled by default).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The verdict.
    pub passed: bool,
}

impl GradReport {
    /// Panics with the whole report as its message unless the check passed:
    /// the assertion for `cargo test`.
    ///
    /// # Panics
    /// When the check failed.
    #[track_caller]
    pub fn assert(&self) -> &GradReport {
        assert!(self.passed, "gradient check failed:\n{self}");
        self
    }

    /// The row of the variable `name`.
    pub fn variable(&self, name: &str) -> Option<&VariableCheck> {
        self.variables.iter().find(|v| v.name == name)
    }

    /// The failing rows.
    pub fn failures(&self) -> impl Iterator<Item = &VariableCheck> {
        self.variables.iter().filter(|v| !v.passed)
    }

    /// ‖g − n‖ / ‖g + n‖ over every finite-differenced entry of every
    /// variable, g the hand-written gradient where one was given, else
    /// autodiff's: the one-number summary of a gradient check in
    /// docs/maths.md. `None` in fast mode (no entry was differenced).
    pub fn numeric_relative_difference(&self) -> Option<f64> {
        let against_numeric: Vec<&Agreement> = self
            .variables
            .iter()
            .map(|v| {
                v.manual_vs_numeric
                    .as_ref()
                    .unwrap_or(&v.autodiff_vs_numeric)
            })
            .filter(|a| a.compared > 0)
            .collect();
        if against_numeric.is_empty() {
            return None;
        }
        let total = |f: fn(&Agreement) -> f64| {
            against_numeric
                .iter()
                .map(|a| f(a).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        Some(ratio(total(|a| a.diff_norm), total(|a| a.sum_norm)))
    }

    /// The largest share of the allowed difference of any comparison —
    /// forward values, variables, directions, and the full re-run after a
    /// failed fast check: ≤ 1 passes.
    pub fn share_of_allowed(&self) -> f64 {
        let variables = self.variables.iter().map(VariableCheck::share_of_allowed);
        let directions = self.directions.iter().map(DirectionCheck::share_of_allowed);
        let forward = self
            .output_vs_reference
            .iter()
            .map(Agreement::share_of_allowed);
        let full = self.full.iter().map(|f| f.share_of_allowed());
        variables
            .chain(directions)
            .chain(forward)
            .chain(full)
            .fold(0.0, f64::max)
    }

    /// The largest relative difference of any comparison, the full re-run
    /// after a failed fast check included: the one number of a summary
    /// table.
    pub fn worst_relative_difference(&self) -> f64 {
        let rows = self
            .variables
            .iter()
            .flat_map(|v| v.agreements().into_iter().map(|(_, a)| a.max_rel_diff));
        let directions = self.directions.iter().map(|d| {
            let scale = d.target.abs().max(d.numeric.abs());
            match scale > 0.0 {
                true => (d.target - d.numeric).abs() / scale,
                false => 0.0,
            }
        });
        let forward = self.output_vs_reference.iter().map(|a| a.max_rel_diff);
        let full = self.full.iter().map(|f| f.worst_relative_difference());
        rows.chain(directions)
            .chain(forward)
            .chain(full)
            .fold(0.0, f64::max)
    }
}

impl fmt::Display for GradReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_header(f)?;
        if let Some(a) = &self.output_vs_reference {
            writeln!(
                f,
                "forward values vs reference: max rel {:.2e}, max abs {:.2e}; worst out{:?}: {:.10e} vs {:.10e} ({:.2} of allowed): {}",
                a.max_rel_diff,
                a.max_abs_diff,
                a.worst_output,
                a.values.0,
                a.values.1,
                a.violation,
                if a.passed { "ok" } else { "FAIL" }
            )?;
        }
        for v in &self.variables {
            fmt_variable(f, v)?;
        }
        for d in &self.directions {
            fmt_direction(f, d)?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        if let Some(full) = &self.full {
            writeln!(f, "the full check, re-run after the failed direction:")?;
            write!(f, "{full}")?;
        }
        Ok(())
    }
}

impl GradReport {
    /// The verdict, where it ran and the tolerances.
    fn fmt_header(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fd = self.finite_difference;
        writeln!(
            f,
            "gradient check ({}) of f: {:?} → {:?} on {}{}: {}",
            match self.mode {
                Mode::Full => "full Jacobian",
                Mode::Fast => "random projections",
            },
            self.names,
            self.output_shape,
            self.target,
            self.reference
                .as_ref()
                .map_or(String::new(), |r| format!(", reference {r}")),
            if self.passed { "PASS" } else { "FAIL" }
        )?;
        let t = |t: &Tolerance| format!("{:.1e} rel + {:.1e}·scale", t.relative, t.floor);
        write!(
            f,
            "  {:?} differences ε = {:e}, seed {}; autodiff vs numeric {} + rounding",
            fd.stencil,
            fd.epsilon,
            self.seed,
            t(&self.numeric_tolerance)
        )?;
        if let Some(c) = &self.cross_tolerance {
            write!(
                f,
                "; target vs reference {} (n = {} terms)",
                t(c),
                self.terms
            )?;
        }
        if let Some(m) = &self.manual_tolerance {
            write!(f, "; manual vs autodiff {}", t(m))?;
        }
        writeln!(f)
    }
}

/// A variable's comparisons, one line each, the worst entry named.
fn fmt_variable(f: &mut fmt::Formatter<'_>, v: &VariableCheck) -> fmt::Result {
    writeln!(
        f,
        "{} {} {:?} ({} of {} entries differenced): {}",
        match v.kind {
            VariableKind::Parameter => "parameter",
            VariableKind::Input => "input",
        },
        v.name,
        v.shape,
        v.differenced,
        v.shape.iter().product::<usize>(),
        if v.passed { "ok" } else { "FAIL" }
    )?;
    for (label, a) in v.agreements() {
        writeln!(
            f,
            "    {label:<20} max rel {:.2e}, max abs {:.2e}; worst ∂out{:?}/∂{}{:?}: {:.10e} vs {:.10e} ({:.2} of allowed){}",
            a.max_rel_diff,
            a.max_abs_diff,
            a.worst_output,
            v.name,
            a.worst_input,
            a.values.0,
            a.values.1,
            a.violation,
            if a.passed { "" } else { "  FAIL" }
        )?;
    }
    Ok(())
}

/// One direction's line.
fn fmt_direction(f: &mut fmt::Formatter<'_>, d: &DirectionCheck) -> fmt::Result {
    let opt =
        |label: &str, v: Option<f64>| v.map_or(String::new(), |v| format!(", {label} {v:.10e}"));
    writeln!(
        f,
        "direction {}: uᵀJv target {:.10e}{}, numeric {:.10e}{} ({:.2} of allowed) {}",
        d.index,
        d.target,
        opt("reference", d.reference),
        d.numeric,
        opt("manual", d.manual),
        d.violation,
        if d.passed { "ok" } else { "FAIL" }
    )
}
