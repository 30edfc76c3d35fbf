//! The full mode: every row of the Jacobian by autodiff (Jᵀeⱼ for each
//! output entry j), every (sampled) column by central differences, and the
//! comparisons of one variable's block.

use super::{Args, GradCheck, GradReport, Mode, Place, Progress, Setting, VariableCheck, widened};
use crate::agreement::{Allowance, Tally};
use crate::error::Result;
use crate::subject::{Subject, Variable};
use crate::values;
use burn::module::Module;
use burn::tensor::Tensor;
use rand::SeedableRng;
use rand::rngs::StdRng;

impl GradCheck {
    /// Every output entry × every (sampled) variable entry.
    pub(super) fn full<M, F, const O: usize>(
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
        let n_out: usize = setting.output_shape.iter().product();
        let mut rng = StdRng::seed_from_u64(self.seed);
        let columns: Vec<Vec<usize>> = variables
            .iter()
            .map(|v| entries_to_difference(v.values.len(), self.sample, &mut rng))
            .collect();
        let passes = n_out * (1 + usize::from(setting.reference.is_some()));
        let mut progress = Progress::start(
            self.progress.clone(),
            passes + columns.iter().map(Vec::len).sum::<usize>(),
        );
        let target_rows = jacobian_rows(subject, &setting.target, base, n_out, &mut progress)?;
        let reference_rows = match &setting.reference {
            Some(r) => Some(jacobian_rows(subject, r, base, n_out, &mut progress)?),
            None => None,
        };
        let exact_rows = reference_rows.as_ref().unwrap_or(&target_rows);
        let scale = values::max_abs(exact_rows.iter().flatten().flatten());
        let target_scale = values::max_abs(target_rows.iter().flatten().flatten());
        let mut checks = Vec::with_capacity(variables.len());
        for (k, variable) in variables.iter().enumerate() {
            let numeric = self.columns(subject, setting, base, k, &columns[k], &mut progress)?;
            let blocks = Blocks {
                k,
                n_out,
                target: &target_rows,
                exact: exact_rows,
                reference: reference_rows.as_ref(),
                columns: &columns[k],
                numeric: &numeric,
            };
            checks.push(self.variable_check(setting, variable, &blocks, (scale, target_scale)));
        }
        let passed = checks.iter().all(|c| c.passed);
        Ok(self.report(setting, Mode::Full, checks, Vec::new(), passed))
    }

    /// Finite-difference columns ∂f/∂x_k[i] for each i of `indices`, in f64.
    fn columns<M, F, const O: usize>(
        &self,
        subject: &Subject<'_, M, F>,
        setting: &Setting,
        base: &[Vec<f64>],
        k: usize,
        indices: &[usize],
        progress: &mut Progress,
    ) -> Result<Vec<Vec<f64>>>
    where
        M: Module,
        F: Fn(&M, &Args) -> Tensor<O>,
    {
        let mut values = base.to_vec();
        let mut columns = Vec::with_capacity(indices.len());
        for &i in indices {
            let column = self.finite_difference.derivative_along(|t| {
                values[k][i] = base[k][i] + t;
                let out = subject.output(&setting.exact, &values);
                values[k][i] = base[k][i];
                Ok(out?.1)
            })?;
            columns.push(column);
            progress.step();
        }
        Ok(columns)
    }

    /// One variable's comparisons.
    fn variable_check(
        &self,
        setting: &Setting,
        variable: &Variable,
        b: &Blocks<'_>,
        (scale, target_scale): (f64, f64),
    ) -> VariableCheck {
        let numeric_allowance = Allowance {
            tolerance: self.numeric_tolerance,
            scale,
            absolute: setting.rounding,
        };
        let finish = |t: Tally| t.finish(&setting.output_shape, &variable.shape);
        let mut exact_vs_numeric = Tally::new(numeric_allowance);
        for (c, &i) in b.columns.iter().enumerate() {
            for j in 0..b.n_out {
                exact_vs_numeric.see(j, i, b.exact[j][b.k][i], b.numeric[c][j]);
            }
        }
        let cross = setting
            .cross
            .zip(b.reference)
            .map(|(tolerance, reference)| {
                let mut tally = Tally::new(Allowance {
                    tolerance,
                    scale,
                    absolute: 0.0,
                });
                for (j, (target_row, reference_row)) in b.target.iter().zip(reference).enumerate() {
                    let pairs = target_row[b.k].iter().zip(&reference_row[b.k]);
                    for (i, (&t, &r)) in pairs.enumerate() {
                        tally.see(j, i, t, r);
                    }
                }
                finish(tally)
            });
        let (manual_vs_autodiff, manual_vs_numeric) = match (&setting.manual_values, setting.manual)
        {
            (Some(manual), Some(tolerance)) => {
                let m = &manual[b.k];
                let mut vs_autodiff = Tally::new(Allowance {
                    tolerance,
                    scale: target_scale,
                    absolute: 0.0,
                });
                for (i, (&mi, &ai)) in m.iter().zip(&b.target[0][b.k]).enumerate() {
                    vs_autodiff.see(0, i, mi, ai);
                }
                let mut vs_numeric = Tally::new(Allowance {
                    tolerance: widened(self.numeric_tolerance, setting.cross),
                    ..numeric_allowance
                });
                for (c, &i) in b.columns.iter().enumerate() {
                    vs_numeric.see(0, i, m[i], b.numeric[c][0]);
                }
                (Some(finish(vs_autodiff)), Some(finish(vs_numeric)))
            }
            _ => (None, None),
        };
        let autodiff_vs_numeric = finish(exact_vs_numeric);
        let passed = autodiff_vs_numeric.passed
            && [&cross, &manual_vs_autodiff, &manual_vs_numeric]
                .iter()
                .all(|a| a.as_ref().is_none_or(|a| a.passed));
        VariableCheck {
            name: variable.name.clone(),
            kind: variable.kind,
            shape: variable.shape.clone(),
            differenced: b.columns.len(),
            autodiff_vs_numeric,
            target_vs_reference: cross,
            manual_vs_autodiff,
            manual_vs_numeric,
            passed,
        }
    }
}

/// The Jacobian blocks of variable `k`, as rows `[output][variable][entry]`
/// and finite-difference columns `[column][output]`.
struct Blocks<'a> {
    k: usize,
    n_out: usize,
    target: &'a [Vec<Vec<f64>>],
    exact: &'a [Vec<Vec<f64>>],
    reference: Option<&'a Vec<Vec<Vec<f64>>>>,
    columns: &'a [usize],
    numeric: &'a [Vec<f64>],
}

/// Every row of the Jacobian by autodiff: Jᵀeⱼ for each output entry j.
pub(super) fn jacobian_rows<M, F, const O: usize>(
    subject: &Subject<'_, M, F>,
    place: &Place,
    base: &[Vec<f64>],
    n_out: usize,
    progress: &mut Progress,
) -> Result<Vec<Vec<Vec<f64>>>>
where
    M: Module,
    F: Fn(&M, &Args) -> Tensor<O>,
{
    let mut rows = Vec::with_capacity(n_out);
    let mut e = vec![0.0; n_out];
    for j in 0..n_out {
        e[j] = 1.0;
        rows.push(subject.pullback(place, base, &e)?);
        e[j] = 0.0;
        progress.step();
    }
    Ok(rows)
}

/// The entries of a variable of `n` that finite differences visit: all, or
/// a sorted random sample of `sample`.
fn entries_to_difference(n: usize, sample: Option<usize>, rng: &mut StdRng) -> Vec<usize> {
    match sample {
        Some(k) if k < n => {
            let mut idx = rand::seq::index::sample(rng, n, k).into_vec();
            idx.sort_unstable();
            idx
        }
        _ => (0..n).collect(),
    }
}
