//! The fast mode: random projections uᵀJv — one autodiff pass (Jᵀu) and
//! one central difference along v per direction, whatever the sizes.

use super::{Args, DirectionCheck, GradCheck, GradReport, Mode, Progress, Setting, widened};
use crate::agreement::Allowance;
use crate::error::Result;
use crate::subject::{Subject, Variable};
use burn::module::Module;
use burn::tensor::Tensor;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

impl GradCheck {
    /// `k` random projections uᵀJv.
    pub(super) fn projections<M, F, const O: usize>(
        &self,
        subject: &Subject<'_, M, F>,
        setting: &Setting,
        variables: &[Variable],
        base: &[Vec<f64>],
        k: usize,
    ) -> Result<GradReport>
    where
        M: Module,
        F: Fn(&M, &Args) -> Tensor<O>,
    {
        let n_out: usize = setting.output_shape.iter().product();
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut progress = Progress::start(self.progress.clone(), k);
        let sizes: Vec<usize> = variables.iter().map(|v| v.values.len()).collect();
        let mut directions = Vec::with_capacity(k);
        for index in 0..k {
            let u = random_unit(&[n_out], &mut rng).remove(0);
            let v = random_unit(&sizes, &mut rng);
            directions.push(self.direction(subject, setting, base, index, (&u, &v))?);
            progress.step();
        }
        let passed = directions.iter().all(|d| d.passed);
        Ok(self.report(setting, Mode::Fast, Vec::new(), directions, passed))
    }

    /// uᵀJv by each source, and how far they agree.
    fn direction<M, F, const O: usize>(
        &self,
        subject: &Subject<'_, M, F>,
        setting: &Setting,
        base: &[Vec<f64>],
        index: usize,
        (u, v): (&[f64], &[Vec<f64>]),
    ) -> Result<DirectionCheck>
    where
        M: Module,
        F: Fn(&M, &Args) -> Tensor<O>,
    {
        let target_g = subject.pullback(&setting.target, base, u)?;
        let reference_g = match &setting.reference {
            Some(r) => Some(subject.pullback(r, base, u)?),
            None => None,
        };
        let exact_g = reference_g.as_ref().unwrap_or(&target_g);
        let mut moved = base.to_vec();
        let numeric = self.finite_difference.derivative_along(|t| {
            for ((m, b), d) in moved.iter_mut().zip(base).zip(v) {
                for ((mi, bi), di) in m.iter_mut().zip(b).zip(d) {
                    *mi = bi + t * di;
                }
            }
            let (_, out) = subject.output(&setting.exact, &moved)?;
            Ok(vec![dot(u, &out)])
        })?[0];
        // |vᵀg| ≤ ‖g‖ for a unit v: the norm is the scale of the terms summed.
        let norm = |g: &[Vec<f64>]| g.iter().flatten().map(|x| x * x).sum::<f64>().sqrt();
        let numeric_allowance = Allowance {
            tolerance: self.numeric_tolerance,
            scale: norm(exact_g),
            absolute: setting.rounding,
        };
        let along = |g: &[Vec<f64>]| g.iter().zip(v).map(|(gi, vi)| dot(gi, vi)).sum::<f64>();
        let (target, exact) = (along(&target_g), along(exact_g));
        let numeric_violation = numeric_allowance.violation(exact, numeric);
        let mut violations = vec![numeric_violation];
        let reference = reference_g.as_ref().map(|g| along(g));
        let reference_violation = reference.zip(setting.cross).map(|(r, tolerance)| {
            let allowance = Allowance {
                tolerance,
                scale: norm(exact_g),
                absolute: 0.0,
            };
            allowance.violation(target, r)
        });
        violations.extend(reference_violation);
        // Hand-written gradients are those of a scalar output (refused
        // otherwise), whose uᵀJv is u's one entry times the gradient along v.
        let manual = setting.manual_values.as_ref().map(|m| u[0] * along(m));
        if let (Some(m), Some(tolerance)) = (manual, setting.manual) {
            let exact_allowance = Allowance {
                tolerance,
                scale: norm(&target_g),
                absolute: 0.0,
            };
            violations.push(exact_allowance.violation(m, target));
            let numeric_allowance = Allowance {
                tolerance: widened(self.numeric_tolerance, setting.cross),
                ..numeric_allowance
            };
            violations.push(numeric_allowance.violation(m, numeric));
        }
        let worst = violations.into_iter().fold(0.0, f64::max);
        Ok(DirectionCheck {
            index,
            target,
            reference,
            numeric,
            manual,
            numeric_violation,
            reference_violation,
            violation: worst,
            passed: worst <= 1.0,
        })
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A uniformly random unit vector, split into pieces of `sizes`.
fn random_unit(sizes: &[usize], rng: &mut StdRng) -> Vec<Vec<f64>> {
    let mut v: Vec<Vec<f64>> = sizes
        .iter()
        .map(|&n| (0..n).map(|_| rng.random::<f64>() * 2.0 - 1.0).collect())
        .collect();
    let norm = v
        .iter()
        .flatten()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    v.iter_mut().flatten().for_each(|x| *x /= norm);
    v
}

#[cfg(test)]
mod tests {
    use super::random_unit;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn a_random_unit_vector_has_the_pieces_asked_for_norm_one_and_both_signs() {
        let mut rng = StdRng::seed_from_u64(5);
        let (mut positive, mut negative) = (0, 0);
        for _ in 0..50 {
            let v = random_unit(&[3, 2], &mut rng);
            assert_eq!(v.iter().map(Vec::len).collect::<Vec<_>>(), [3, 2]);
            let norm_squared: f64 = v.iter().flatten().map(|x| x * x).sum();
            assert!((norm_squared - 1.0).abs() < 1e-15, "{norm_squared}");
            positive += v.iter().flatten().filter(|&&x| x > 0.0).count();
            negative += v.iter().flatten().filter(|&&x| x < 0.0).count();
        }
        // 250 entries drawn symmetrically about 0: both signs, about evenly.
        assert!(
            positive > 75 && negative > 75,
            "{positive} positive, {negative} negative"
        );
    }
}
