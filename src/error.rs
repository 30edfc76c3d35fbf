//! The crate's error type: every fallible library call returns [`Result`].

use thiserror::Error;

/// Everything that can go wrong when building, running or checking a network.
///
/// Each variant says what was wrong and, where there is one, how to fix it, so the
/// examples binary can print the message as-is and exit without a backtrace.
#[derive(Debug, Error)]
pub enum Error {
    /// A tensor or array did not have the shape the network needs.
    #[error("shape mismatch for {what}: expected {expected}, got {got}")]
    Shape {
        /// Which input was wrong (e.g. `"x"`, `"layers.1.weight"`).
        what: String,
        /// The shape that was needed, in words or as `[rows, cols]`.
        expected: String,
        /// The shape that was given.
        got: String,
    },
    /// A hyper-parameter or configuration value is out of its meaningful range.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidParameter {
        /// The parameter's name as the user knows it (e.g. `"weight_decay"`).
        name: &'static str,
        /// The rejected value, formatted.
        value: String,
        /// Why it was rejected and what would be accepted.
        reason: String,
    },
    /// Data contained NaN or infinity where finite numbers are required.
    #[error(
        "{what} contains a non-finite value ({value}) at index {index}; clean or rescale the data"
    )]
    NonFinite {
        /// Which input held the value.
        what: String,
        /// Flat (row-major) index of the first offending element.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// Reading values back from a tensor failed (unexpected dtype or backend error).
    #[error("could not read tensor data: {0}")]
    TensorRead(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
