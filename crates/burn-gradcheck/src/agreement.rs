//! When two estimates of a derivative agree: the one tolerance every check
//! states ([`Tolerance`]), the difference it allows an entry ([`Allowance`]),
//! and the entry-by-entry tally of a comparison that names its worst entry
//! ([`Agreement`]). The network checks, the comparison of two gradient sets
//! and [`GradCheck`](crate::GradCheck) all judge through these.

use crate::precision::Precision;
use serde::{Deserialize, Serialize};

/// When two derivative entries a, b count as equal:
///
/// ```text
/// |a − b| ≤ relative · max(|a|, |b|)  +  floor · scale
/// ```
///
/// where `scale` is the largest magnitude of the whole derivative compared
/// (every parameter and input). The floor admits entries that are tiny
/// compared with the rest — saturated units, near-cancelling sums — whose
/// rounding error is set by the size of the terms that were summed, not by
/// the result. It is the whole derivative's scale, not the tensor's, because
/// a tensor can be tiny throughout: when every unit of a layer saturates,
/// σ′ = a(1 − a) computed from a rounded a ≈ 1 is off by ≈ u absolutely, not
/// relatively, so that layer's entries carry errors of u times the gradient
/// flowing into it (tests/harness.rs,
/// `a_saturated_layer_whose_whole_gradient_is_tiny_passes`: entries of 1.9e-12
/// differing by 5e-18, with 2 the largest entry elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    /// Allowed relative difference of an entry.
    pub relative: f64,
    /// Allowed absolute difference, as a fraction of the derivative's largest entry.
    pub floor: f64,
}

impl Tolerance {
    /// The tolerance for comparing two exact-derivative computations (say,
    /// hand-written vs autodiff) carried out in `precision`.
    ///
    /// Both sides compute the same derivative with the same forward values; they
    /// differ only in the order and grouping of the backward arithmetic. For the
    /// networks tested here each entry is a sum of at most a few hundred rounded
    /// products, so its error is bounded by about n·u·Σ|terms| with unit
    /// roundoff u (f64: 1.1e-16, f32: 6.0e-8). Taking n·u ≤ 1e3·u gives the f64
    /// bound 1e-13 relative, which the 1e-10 used here covers a thousandfold —
    /// any real mistake in a backward pass (a wrong factor, a missing term) is
    /// off by O(1), so the margin costs no power. For f32 the same argument
    /// gives 1e3·u = 6e-5; we use 1e-4, again with the floor set equal, since
    /// f32 cancellation makes small entries lose relative precision quickly.
    pub fn exact(precision: Precision) -> Tolerance {
        match precision {
            Precision::F64 => Tolerance {
                relative: 1e-10,
                floor: 1e-10,
            },
            Precision::F32 => Tolerance {
                relative: 1e-4,
                floor: 1e-4,
            },
        }
    }
}

/// The comparison of two estimates of one variable's block of the Jacobian
/// ∂f/∂x (output entries × the variable's entries), entry by entry:
///
/// ```text
/// |a − b| ≤ relative · max(|a|, |b|) + floor · scale + absolute
/// ```
///
/// `scale` is the largest |entry| of the whole Jacobian (every variable), and
/// `absolute` an error bound that does not shrink with the entries (the
/// rounding of finite differences); see [`super::GradCheck`] for each
/// comparison's terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// How many entries were compared.
    pub compared: usize,
    /// max |a − b|.
    pub max_abs_diff: f64,
    /// max |a − b| / max(|a|, |b|) over entries where either is non-zero.
    pub max_rel_diff: f64,
    /// The output entry of the worst violation, as a multi-index of the output.
    pub worst_output: Vec<usize>,
    /// The variable's entry there, as a multi-index of the variable.
    pub worst_input: Vec<usize>,
    /// The two estimates there.
    pub values: (f64, f64),
    /// The worst |a − b| divided by the difference allowed there: ≤ 1 passes.
    pub violation: f64,
    /// The scale the tolerance's floor was taken of.
    pub scale: f64,
    /// ‖a − b‖ over the compared entries.
    pub diff_norm: f64,
    /// ‖a + b‖ over the compared entries.
    pub sum_norm: f64,
    /// Whether every entry is within the tolerance.
    pub passed: bool,
}

impl Agreement {
    /// The worst entry's share of the difference allowed there: ≤ 1 passes,
    /// 0.01 is a hundredfold margin.
    pub fn share_of_allowed(&self) -> f64 {
        self.violation
    }

    /// ‖a − b‖ / ‖a + b‖ (0 when both are zero): the reference course's
    /// summary of a gradient check.
    pub fn relative_difference(&self) -> f64 {
        ratio(self.diff_norm, self.sum_norm)
    }

    /// Two estimates `a` and `b` of one tensor of `shape`, row-major, entry
    /// by entry, the floor's scale the largest |entry| of either or
    /// `min_scale` if that is larger — for comparisons whose error is set by
    /// something larger than the tensor itself (the rest of the gradient,
    /// see [`Tolerance`]). Entries one side lacks differ from anything: the
    /// comparison fails.
    pub fn of_values(
        a: &[f64],
        b: &[f64],
        shape: &[usize],
        tolerance: Tolerance,
        min_scale: f64,
    ) -> Agreement {
        let scale = crate::values::max_abs(a.iter().chain(b)).max(min_scale);
        let mut tally = Tally::new(Allowance {
            tolerance,
            scale,
            absolute: 0.0,
        });
        for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
            tally.see(0, i, x, y);
        }
        if a.len() != b.len() {
            tally.see(0, a.len().min(b.len()), f64::NAN, 0.0);
        }
        tally.finish(&[], shape)
    }
}

/// diff / sum, with 0 / 0 = 0.
pub(crate) fn ratio(diff: f64, sum: f64) -> f64 {
    if diff == 0.0 { 0.0 } else { diff / sum }
}

/// What an entry is allowed to differ by.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Allowance {
    pub tolerance: Tolerance,
    pub scale: f64,
    pub absolute: f64,
}

impl Allowance {
    /// The allowed |a − b|.
    pub fn at(&self, a: f64, b: f64) -> f64 {
        self.tolerance.relative * a.abs().max(b.abs())
            + self.tolerance.floor * self.scale
            + self.absolute
    }

    /// |a − b| over the allowed difference: ≤ 1 passes; a non-finite
    /// difference, or any difference where none is allowed, is infinite.
    pub fn violation(&self, a: f64, b: f64) -> f64 {
        let diff = (a - b).abs();
        match self.at(a, b) {
            _ if diff == 0.0 => 0.0,
            allowed if allowed > 0.0 && diff.is_finite() => diff / allowed,
            _ => f64::INFINITY,
        }
    }
}

/// Gathers a comparison entry by entry.
pub(crate) struct Tally {
    allowance: Allowance,
    compared: usize,
    max_abs: f64,
    max_rel: f64,
    worst: Option<(usize, usize, f64, f64)>,
    violation: f64,
    diff_squares: f64,
    sum_squares: f64,
}

impl Tally {
    pub fn new(allowance: Allowance) -> Tally {
        Tally {
            allowance,
            compared: 0,
            max_abs: 0.0,
            max_rel: 0.0,
            worst: None,
            violation: 0.0,
            diff_squares: 0.0,
            sum_squares: 0.0,
        }
    }

    /// Output entry `j`, variable entry `i`: `a` against `b`.
    pub fn see(&mut self, j: usize, i: usize, a: f64, b: f64) {
        self.compared += 1;
        let diff = (a - b).abs();
        let violation = self.allowance.violation(a, b);
        self.max_abs = self.max_abs.max(diff);
        self.diff_squares += diff * diff;
        self.sum_squares += (a + b) * (a + b);
        let magnitude = a.abs().max(b.abs());
        if magnitude > 0.0 {
            self.max_rel = self.max_rel.max(diff / magnitude);
        }
        // The first entry stands as the worst until another violates more,
        // so a report names an entry even when all agree exactly.
        if self.worst.is_none() || violation > self.violation {
            self.worst = Some((j, i, a, b));
            self.violation = violation;
        }
    }

    /// The comparison, indices unravelled in the output's and variable's shapes.
    pub fn finish(self, output_shape: &[usize], shape: &[usize]) -> Agreement {
        let (j, i, a, b) = self.worst.unwrap_or((0, 0, 0.0, 0.0));
        Agreement {
            compared: self.compared,
            max_abs_diff: self.max_abs,
            max_rel_diff: self.max_rel,
            worst_output: unravel(j, output_shape),
            worst_input: unravel(i, shape),
            values: (a, b),
            violation: self.violation,
            scale: self.allowance.scale,
            diff_norm: self.diff_squares.sqrt(),
            sum_norm: self.sum_squares.sqrt(),
            passed: self.violation <= 1.0,
        }
    }
}

/// The multi-index of flat position `flat` in a row-major tensor of `shape`.
pub(crate) fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (slot, &dim) in index.iter_mut().zip(shape).rev() {
        if dim > 0 {
            *slot = flat % dim;
            flat /= dim;
        }
    }
    index
}

#[cfg(test)]
mod tests {
    use super::{Allowance, Tally, Tolerance};

    fn allowance(relative: f64, floor: f64, scale: f64, absolute: f64) -> Allowance {
        Allowance {
            tolerance: Tolerance { relative, floor },
            scale,
            absolute,
        }
    }

    #[test]
    fn the_allowance_is_the_sum_of_its_relative_floor_and_absolute_terms() {
        // 0.25 · max(|−4|, |2|) + 0.125 · 8 + 0.5 = 1 + 1 + 0.5, exact in binary.
        let a = allowance(0.25, 0.125, 8.0, 0.5);
        assert_eq!(a.at(-4.0, 2.0), 2.5);
        assert_eq!(a.at(2.0, -4.0), 2.5);
        // |−4 − 2| / 2.5
        assert_eq!(a.violation(-4.0, 2.0), 2.4);
        // Each term alone.
        assert_eq!(allowance(0.25, 0.0, 8.0, 0.0).at(-4.0, 2.0), 1.0);
        assert_eq!(allowance(0.0, 0.125, 8.0, 0.0).at(-4.0, 2.0), 1.0);
        assert_eq!(allowance(0.0, 0.0, 8.0, 0.5).at(-4.0, 2.0), 0.5);
    }

    #[test]
    fn equal_values_never_violate_and_any_difference_where_none_is_allowed_does() {
        let none = allowance(0.0, 0.0, 0.0, 0.0);
        assert_eq!(none.violation(1.5, 1.5), 0.0);
        assert_eq!(none.violation(0.0, 0.0), 0.0);
        assert_eq!(none.violation(1.5, 1.5 + 1e-15), f64::INFINITY);
        let some = allowance(1e-6, 1e-6, 1.0, 0.0);
        assert_eq!(some.violation(f64::NAN, 1.0), f64::INFINITY);
        assert_eq!(some.violation(f64::INFINITY, 1.0), f64::INFINITY);
    }

    #[test]
    fn a_tally_keeps_the_largest_differences_and_names_the_worst_entry() {
        // Allowed |a − b| = 0.5 everywhere (absolute only).
        let mut tally = Tally::new(allowance(0.0, 0.0, 0.0, 0.5));
        tally.see(0, 0, 0.0, 0.0); // no magnitude: no relative difference
        tally.see(0, 1, 4.0, 3.0); // |d| = 1, relative 1/4, violation 2
        tally.see(1, 2, 1.0, 0.5); // |d| = 0.5, relative 1/2, violation 1
        let agreement = tally.finish(&[2], &[1, 3]);
        assert_eq!(agreement.compared, 3);
        assert_eq!(agreement.max_abs_diff, 1.0);
        assert_eq!(agreement.max_rel_diff, 0.5);
        assert_eq!(agreement.violation, 2.0);
        assert!(!agreement.passed);
        // ‖a − b‖² = 0 + 1 + 0.25 and ‖a + b‖² = 0 + 49 + 2.25, exact in binary.
        assert_eq!(
            (agreement.diff_norm, agreement.sum_norm),
            (1.25_f64.sqrt(), 51.25_f64.sqrt())
        );
        assert_eq!(
            agreement.relative_difference(),
            1.25_f64.sqrt() / 51.25_f64.sqrt()
        );
        assert_eq!(
            (
                agreement.worst_output,
                agreement.worst_input,
                agreement.values
            ),
            (vec![0], vec![0, 1], (4.0, 3.0))
        );
    }

    #[test]
    fn among_equally_bad_entries_the_first_is_named() {
        let mut tally = Tally::new(allowance(0.0, 0.0, 0.0, 1.0));
        tally.see(0, 0, 1.0, 1.0);
        tally.see(0, 1, 2.0, 2.0);
        tally.see(1, 0, 3.0, 2.5); // violation 0.5
        tally.see(1, 1, 4.0, 3.5); // violation 0.5 again
        let agreement = tally.finish(&[2], &[2]);
        assert_eq!(
            (agreement.worst_output, agreement.worst_input),
            (vec![1], vec![0])
        );
        assert_eq!(agreement.values, (3.0, 2.5));
    }
}
