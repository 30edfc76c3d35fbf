//! Proving hand-written gradients right: the same gradients from burn's
//! autodiff and from central finite differences, and a comparison that names
//! the worst element.
//!
//! Three independent sources of ∂J/∂θ:
//!
//! - the hand-written backward passes ([`crate::Network::gradients`], any [`crate::Layer`]),
//! - burn-autodiff differentiating the *same* forward and cost ([`autodiff_gradients`],
//!   [`layer_vjp_autodiff`]),
//! - central finite differences of the cost, in f64 ([`numeric_gradients`],
//!   [`central_differences`]).
//!
//! [`compare()`] matches two sets of gradients parameter by parameter, keyed by
//! burn's `ParamId`, and reports each tensor's worst element.

mod autodiff;
mod check;
pub mod compare;
mod numeric;

pub use autodiff::{autodiff_gradients, layer_vjp_autodiff, layer_vjp_manual};
pub use check::{
    CheckOptions, CheckProgress, CheckReport, DirectionalCheck, FunctionCheck, ParamCheck,
    check_function, check_layer, check_network, check_network_with_progress,
};
pub use compare::{Comparison, TensorReport, Tolerance, compare, relative_difference};
pub use numeric::{FiniteDifference, Stencil, central_differences, numeric_gradients};
