//! A gradient checker for any burn code: a [`Module`](burn::module::Module)
//! under a loss, a tensor function of named inputs of any rank and output of
//! any shape, or an operation with a hand-written backward — burn-autodiff
//! against central finite differences in f64, every Jacobian entry compared,
//! the worst one named by variable, output index and input index.
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use burn_gradcheck::{GradCheck, Inputs};
//!
//! let device = Device::flex();
//! let a = Tensor::<2>::from_data([[0.3, -1.2, 0.7], [2.0, 0.1, -0.4]], &device);
//! let b = Tensor::<2>::from_data([[0.5, 1.0], [-0.2, 0.8]], &device);
//! let inputs = Inputs::new().with("a", &a)?.with("b", &b)?;
//! // aᵀb: every output entry against every input entry.
//! let report = GradCheck::new().function(&inputs, |x| x.get::<2>("a").transpose().matmul(x.get::<2>("b")))?;
//! assert!(report.passed, "{report}");
//! # Ok::<(), burn_gradcheck::Error>(())
//! ```
//!
//! Where the checked computation is not f64 (an f32 model, a GPU), it runs
//! again in f64 on the CPU ([`Place::reference`]); autodiff there is
//! certified by finite differences, and the target is compared with it —
//! forward values and every derivative — under a tolerance derived from its
//! unit roundoff. The crate's README is the guide.

mod agreement;
mod check;
mod control;
pub mod error;
mod finite_difference;
mod inputs;
mod manual;
pub mod params;
mod place;
mod precision;
mod report;
mod subject;
mod sweep;
pub mod values;

pub use agreement::{Agreement, Tolerance};
pub use check::{CheckProgress, DEFAULT_EPSILON, DEFAULT_NUMERIC_TOLERANCE, GradCheck};
pub use control::PLANTED_ERROR;
pub use error::{Error, Result};
pub use finite_difference::{FiniteDifference, Stencil};
pub use inputs::{Args, Input, Inputs};
pub use manual::Manual;
pub use place::Place;
pub use precision::Precision;
pub use report::{DirectionCheck, GradReport, Mode, VariableCheck};
pub use subject::VariableKind;
pub use sweep::{Sweep, SweepCase};

/// The README, compiled only by `cargo test --doc`, so that its examples run.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}
