//! Proving hand-written gradients right: the same gradients from burn's
//! autodiff and from central finite differences, and a comparison that names
//! the worst element.
//!
//! Three independent sources of ∂J/∂θ:
//!
//! - the hand-written backward passes ([`crate::Network::gradients`], any [`crate::Layer`]),
//! - burn-autodiff differentiating the *same* forward and cost
//!   ([`crate::gradients::autodiff_gradients`], [`layer_vjp_autodiff`]),
//! - central finite differences of the cost, in f64
//!   ([`crate::gradients::numeric_gradients`], [`crate::gradients::central_differences`]).
//!
//! One engine judges them all: [`GradCheck`] checks a network
//! ([`GradCheck::network`]), a layer ([`GradCheck::layer`]), any module or
//! function, with one [`Tolerance`] and one [`Agreement`] per comparison.
//! [`compare()`] matches two sets of gradients parameter by parameter, keyed
//! by burn's `ParamId`, through the same [`Agreement`].

mod adapters;
mod check;
pub mod compare;
pub mod conformance;
mod vjp;

pub use adapters::NetworkCheck;
pub use burn_gradcheck::{
    Agreement, Args, CheckProgress, GradCheck, GradReport, Inputs, Manual, Place, Tolerance,
};
pub use check::{FunctionCheck, check_function};
pub use compare::{
    Comparison, TensorReport, compare, compare_gradients, manual_vs_autodiff, relative_difference,
};
pub use vjp::{layer_vjp_autodiff, layer_vjp_manual};
