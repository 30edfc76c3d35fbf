//! The negative control: the same check, run on a derivative planted wrong,
//! must fail — or the check has no power to tell a wrong gradient from a
//! right one.

use crate::check::GradCheck;
use crate::error::{Error, Result};
use crate::report::GradReport;

/// How wrong the negative control plants every derivative: autodiff's
/// Jacobian scaled by 1 − 1 %. The size of a subtle bug of a hand-written
/// backward (a missing factor close to 1, a term dropped from a sum), and four
/// orders of magnitude above the default tolerances, so a check with its
/// power fails it by far; a check that passes it is too loose to be evidence.
pub const PLANTED_ERROR: f64 = 0.01;

impl GradCheck {
    /// A negative control: runs `check` — the same call a test makes, given
    /// these options — with every derivative autodiff returns planted
    /// [`PLANTED_ERROR`] wrong, and requires it to fail. The planted output
    /// is `(1 − c)·f + c·detach(f)`: the same values, so the finite
    /// differences see the true derivative, while autodiff sees it scaled by
    /// 1 − c. Gives the failing report; an error when the planted error
    /// passed — tolerances too loose for the function's scale, or an output
    /// that autodiff does not connect to the variables.
    ///
    /// ```
    /// use burn::tensor::{Device, Tensor};
    /// use burn_gradcheck::{Args, GradCheck, Inputs};
    /// let x = Tensor::<1>::from_data([0.5, -1.0, 2.0], &Device::flex());
    /// let inputs = Inputs::new().with("x", &x)?;
    /// let f = |a: &Args| a.get::<1>("x").exp();
    /// let check = GradCheck::new();
    /// check.function(&inputs, f)?.assert();
    /// check.negative_control(|c| c.function(&inputs, f))?;
    /// # Ok::<(), burn_gradcheck::Error>(())
    /// ```
    pub fn negative_control<C>(&self, check: C) -> Result<GradReport>
    where
        C: FnOnce(&GradCheck) -> Result<GradReport>,
    {
        let mut planted = self.clone();
        planted.planted = Some(PLANTED_ERROR);
        let report = check(&planted)?;
        if report.passed {
            return Err(Error::Powerless {
                planted: PLANTED_ERROR,
                report: report.to_string(),
            });
        }
        Ok(report)
    }
}
