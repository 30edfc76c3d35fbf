//! The checker's error type: every fallible call returns [`Result`].

use thiserror::Error;

/// What can stop a check before it reaches a verdict. A failed check is not
/// an error: it is a [`GradReport`](crate::GradReport) whose `passed` is false.
///
/// Each variant says what was wrong and how to fix it; options are named as
/// the builder's methods name them (`epsilon`, `sample`).
#[derive(Debug, Error)]
pub enum Error {
    /// A tensor or a list of values did not have the shape needed.
    #[error("shape mismatch for {what}: expected {expected}, got {got}")]
    Shape {
        /// Which value was wrong (e.g. `"input a"`).
        what: String,
        /// The shape that was needed, in words or as `[rows, cols]`.
        expected: String,
        /// The shape that was given.
        got: String,
    },
    /// An option or argument is out of its meaningful range.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidParameter {
        /// The option's name (e.g. `"epsilon"`).
        name: &'static str,
        /// The rejected value, formatted.
        value: String,
        /// Why it was rejected and what would be accepted.
        reason: String,
    },
    /// An input or an output held NaN or infinity where finite numbers are needed.
    #[error(
        "{what} contains a non-finite value ({value}) at index {index}; clean or rescale the data"
    )]
    NonFinite {
        /// Which value held it.
        what: String,
        /// Flat (row-major) index of the first offending element.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A negative control's planted error passed the check: the check cannot
    /// tell a wrong gradient from a right one on this subject.
    #[error(
        "the check passed a derivative planted {planted} wrong (relative): it has no power here; \
         tighten the tolerances, or make sure the output depends on the variables through \
         autodiff. The planted check:\n{report}"
    )]
    Powerless {
        /// The relative error planted.
        planted: f64,
        /// The planted check's report.
        report: String,
    },
    /// Reading values back from a tensor failed (unexpected dtype or backend error).
    #[error("could not read tensor data: {0}")]
    TensorRead(String),
}

/// The checker's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A number as a person reads it: plain between 1e-4 and 1e6, in exponent
/// notation otherwise (`1e300`, not three hundred digits).
pub fn readable(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 || !value.is_finite() || (1e-4..1e6).contains(&magnitude) {
        value.to_string()
    } else {
        format!("{value:e}")
    }
}

/// The rule "finite and > 0" of every step size, ε and scale, written once:
/// `what` names the quantity in the message, `hint` (may be empty) how to choose it.
pub fn require_positive(name: &'static str, value: f64, what: &str, hint: &str) -> Result<()> {
    require(name, value, value > 0.0, what, "> 0", hint)
}

/// The rule "finite and ≥ 0" of every tolerance, weight decay and spread, written once.
pub fn require_non_negative(name: &'static str, value: f64, what: &str, hint: &str) -> Result<()> {
    require(name, value, value >= 0.0, what, "≥ 0", hint)
}

fn require(
    name: &'static str,
    value: f64,
    holds: bool,
    what: &str,
    bound: &str,
    hint: &str,
) -> Result<()> {
    if value.is_finite() && holds {
        return Ok(());
    }
    let hint = if hint.is_empty() {
        String::new()
    } else {
        format!(" ({hint})")
    };
    Err(Error::InvalidParameter {
        name,
        value: readable(value),
        reason: format!("{what} must be finite and {bound}{hint}"),
    })
}
