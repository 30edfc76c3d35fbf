//! A sweep: one check of the same code at many shapes (or sizes, or
//! inputs), because a kernel that is right at one shape is no evidence for
//! the next — a stride, a tail of a SIMD loop, a tile boundary.

use crate::check::GradCheck;
use crate::error::Result;
use crate::report::GradReport;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The reports of a [`GradCheck::sweep`], one per case, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// Each case, as its `Debug` form writes it, with its report.
    pub cases: Vec<SweepCase>,
    /// Whether every case passed.
    pub passed: bool,
}

/// One case of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepCase {
    /// The case (a shape, a size), as its `Debug` form writes it.
    pub case: String,
    /// Its check.
    pub report: GradReport,
}

impl GradCheck {
    /// Runs `check` once per case with these options — typically building
    /// inputs of the case's shape and checking one function on them — and
    /// gathers the reports. A case whose check cannot run (an error) stops
    /// the sweep with that error; a failing case does not.
    ///
    /// ```
    /// use burn_gradcheck::{Args, GradCheck, Inputs};
    /// let shapes = [[1, 1], [2, 3], [5, 4], [17, 3]];
    /// let sweep = GradCheck::new().sweep(shapes, |check, &[rows, cols]| {
    ///     let inputs = Inputs::new().random("a", &[rows, cols], 7)?;
    ///     check.function(&inputs, |x: &Args| x.get::<2>("a").transpose().tanh())
    /// })?;
    /// sweep.assert();
    /// assert_eq!(sweep.cases.len(), 4);
    /// # Ok::<(), burn_gradcheck::Error>(())
    /// ```
    pub fn sweep<T, I, C>(&self, cases: I, mut check: C) -> Result<Sweep>
    where
        T: fmt::Debug,
        I: IntoIterator<Item = T>,
        C: FnMut(&GradCheck, &T) -> Result<GradReport>,
    {
        let mut done = Vec::new();
        for case in cases {
            let report = check(self, &case)?;
            done.push(SweepCase {
                case: format!("{case:?}"),
                report,
            });
        }
        let passed = done.iter().all(|c| c.report.passed);
        Ok(Sweep {
            cases: done,
            passed,
        })
    }
}

impl Sweep {
    /// The failing cases.
    pub fn failures(&self) -> impl Iterator<Item = &SweepCase> {
        self.cases.iter().filter(|c| !c.report.passed)
    }

    /// Panics unless every case passed, with the failing cases and the first
    /// one's whole report as its message: the assertion for `cargo test`.
    ///
    /// # Panics
    /// When a case failed.
    #[track_caller]
    pub fn assert(&self) -> &Sweep {
        assert!(self.passed, "gradient check sweep failed:\n{self}");
        self
    }
}

impl fmt::Display for Sweep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failing: Vec<&SweepCase> = self.failures().collect();
        writeln!(
            f,
            "sweep of {} cases: {}",
            self.cases.len(),
            match failing.len() {
                0 => "all pass".to_string(),
                n => format!("{n} fail"),
            }
        )?;
        for case in &self.cases {
            writeln!(
                f,
                "  {:<24} {}  (worst relative difference {:.2e})",
                case.case,
                if case.report.passed { "PASS" } else { "FAIL" },
                case.report.worst_relative_difference()
            )?;
        }
        if let Some(first) = failing.first() {
            write!(
                f,
                "\nthe first failing case, {}:\n{}",
                first.case, first.report
            )?;
        }
        Ok(())
    }
}
