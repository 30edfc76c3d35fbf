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
//! [`compare()`] matches two sets of gradients parameter by parameter, keyed by
//! burn's `ParamId`, and reports each tensor's worst element.

mod check;
pub mod compare;
pub mod conformance;
pub mod gradcheck;
mod vjp;

pub use check::{
    CheckOptions, CheckProgress, CheckReport, DirectionalCheck, FunctionCheck, ParamCheck,
    check_function, check_layer, check_network,
};
pub use compare::{
    Comparison, TensorReport, Tolerance, compare, compare_gradients, manual_vs_autodiff,
    relative_difference,
};
pub use gradcheck::{Args, GradCheck, GradReport, Inputs, Place};
pub use vjp::{layer_vjp_autodiff, layer_vjp_manual};
