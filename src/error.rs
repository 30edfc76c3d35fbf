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
    /// The gradient checker's own verdicts that are errors (a negative
    /// control whose planted error passed).
    #[error(transparent)]
    Check(burn_gradcheck::Error),
    /// Reading values back from a tensor failed (unexpected dtype or backend error).
    #[error("could not read tensor data: {0}")]
    TensorRead(String),
    /// A file could not be read or written.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done: "read", "write", "create directory", …
        action: &'static str,
        /// The file concerned.
        path: std::path::PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A data, model or config file is malformed.
    #[error("{source_name}: {position}: {message}")]
    Parse {
        /// The file (or built-in data set) being read.
        source_name: String,
        /// Where in it: a line and field, a byte offset, a JSON path.
        position: String,
        /// What was found and what was expected.
        message: String,
    },
    /// Data that must be fetched before use is not there.
    #[error("{what} not found: {hint}")]
    MissingData {
        /// What is missing.
        what: String,
        /// How to obtain it.
        hint: String,
    },
    /// A saved model could not be encoded or decoded.
    #[error("model record {}: {message}", path.display())]
    Record {
        /// The model file.
        path: std::path::PathBuf,
        /// burn's description of the problem.
        message: String,
    },
    /// A device cannot be trusted to compute in the requested precision.
    #[error(
        "{device} does not compute {precision} correctly: {reason}. \
         Use `dtype` f32 on this device, or a CPU backend (`backend` flex) for {precision}"
    )]
    UnsupportedPrecision {
        /// The device and its adapter, as [`crate::backend::describe`] gives them.
        device: String,
        /// The precision that was refused.
        precision: crate::Precision,
        /// What the self-check found.
        reason: String,
    },
    /// A remote server could not be reached, refused this client, or went away.
    #[error("remote server {server}: {message}")]
    Remote {
        /// The server's URL (or listening address).
        server: String,
        /// What happened and what to do about it.
        message: String,
    },
    /// The work would need more memory than this process may use.
    #[error(
        "{what} needs about {needed} of memory, more than {limit}; use a smaller network, \
         fewer examples or mini-batches (`batch_size`), or raise the limit (`max_memory`) if it is wrong"
    )]
    Memory {
        /// What was about to be allocated.
        what: String,
        /// The estimate, readable (`30.0 GB`).
        needed: String,
        /// The limit and where it comes from.
        limit: String,
    },
    /// Training produced a non-finite cost.
    #[error(
        "training diverged at epoch {epoch}: the cost became {cost}; the step size α = {} \
         is probably too large (try α / 10); the model from the last finite epoch was kept",
        readable(*learning_rate)
    )]
    Diverged {
        /// The first epoch whose cost was not finite (1-based).
        epoch: usize,
        /// The non-finite cost.
        cost: f64,
        /// The step size in use.
        learning_rate: f64,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub use burn_gradcheck::error::readable;

/// The rule "finite and > 0" of every step size, ε and scale (the checker's,
/// written once there): `what` names the quantity in the message, `hint`
/// (may be empty) how to choose it.
pub fn require_positive(name: &'static str, value: f64, what: &str, hint: &str) -> Result<()> {
    Ok(burn_gradcheck::error::require_positive(
        name, value, what, hint,
    )?)
}

/// The rule "finite and ≥ 0" of every weight decay and spread.
pub fn require_non_negative(name: &'static str, value: f64, what: &str, hint: &str) -> Result<()> {
    Ok(burn_gradcheck::error::require_non_negative(
        name, value, what, hint,
    )?)
}

/// The checker's errors are this crate's own variants of the same names, so
/// that a caller matches one error type whichever part of the crate failed.
impl From<burn_gradcheck::Error> for Error {
    fn from(error: burn_gradcheck::Error) -> Error {
        use burn_gradcheck::Error as Check;
        match error {
            Check::Shape {
                what,
                expected,
                got,
            } => Error::Shape {
                what,
                expected,
                got,
            },
            Check::InvalidParameter {
                name,
                value,
                reason,
            } => Error::InvalidParameter {
                name,
                value,
                reason,
            },
            Check::NonFinite { what, index, value } => Error::NonFinite { what, index, value },
            other @ Check::Powerless { .. } => Error::Check(other),
            Check::TensorRead(message) => Error::TensorRead(message),
        }
    }
}
