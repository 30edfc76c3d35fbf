//! The reference course's `checkNumericalGradient`: a gradient of any
//! function of a flat vector against its central differences, summarised by
//! ‖n − g‖ / ‖n + g‖.

use super::compare::relative_difference;
use crate::error::{Error, Result};
use crate::gradients::{FiniteDifference, central_differences};
use serde::{Deserialize, Serialize};

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
