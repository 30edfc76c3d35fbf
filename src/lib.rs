//! Feed-forward networks whose gradients are written by hand — the classic
//! backpropagation algorithm, vectorised over a batch — and a gradient
//! checker that proves them, and any other burn code, right.
//!
//! The maths the code implements, in its notation, is `docs/maths.md` in the
//! repository; its guides are in `docs/`, starting from `README.md`. Three
//! ways in:
//!
//! - **Train a network** whose backward pass is hand-written:
//!   [`NetworkConfig`] `init`s a [`Network`] on any burn `Device`;
//!   [`Network::gradients`] is J and ∂J/∂θ by backpropagation, and
//!   [`training`] runs batch gradient descent or burn's optimizers on them.
//! - **Check the gradients of any burn code** — a module under a loss, a
//!   function of tensors, an operation with a hand-written `Backward` — against
//!   finite differences in f64 and another backend:
//!   [`verification::GradCheck`], the crate `burn-gradcheck` re-exported;
//!   burn's own operations are swept by [`verification::conformance`].
//! - **Use the hand-written layers inside a burn model**: [`Dense`] is one
//!   node of burn's autodiff graph whose backward is the layer's own
//!   ([`layer::node`]).
//!
//! ```
//! use manual_backprop::{Backend, NetworkConfig, Precision, tensor};
//!
//! let device = Backend::Flex.device()?;
//! let net = NetworkConfig::new(vec![2, 3, 1]).with_init_std(0.5).init(&device, Precision::F64)?;
//! let x = tensor::matrix("x", vec![0., 0., 0., 1., 1., 0., 1., 1.], [4, 2], &device, Precision::F64)?;
//! let y = tensor::matrix("y", vec![0., 1., 1., 0.], [4, 1], &device, Precision::F64)?;
//! let grads = net.gradients(x, y, 1e-3)?; // J and ∂J/∂θ by the hand-written backward
//! assert!(grads.cost > 0.0);
//! # Ok::<(), manual_backprop::Error>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

// The layers, from the leaves up: each module uses only those above it.
pub mod error;
pub mod heap;
pub mod io;
pub(crate) mod resources;

pub mod backend;
pub mod tensor;

mod fast_path;

pub mod activation;
pub mod cost;
pub mod layer;
pub mod network;

pub mod data;
pub mod explain;
pub mod gradients;
pub mod interchange;
pub mod persist;
pub mod training;
pub mod verification;

pub mod bench;

// The command line (feature `cli`): the training job, experiment grids, their
// pictures and the `backprop` subcommands.
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod app;
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod experiment;
#[cfg(feature = "cli")]
pub(crate) mod plot;
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod run;

pub use activation::Activation;
pub use backend::Backend;
pub use burn_gradcheck::Precision;
pub use error::{Error, Result};
pub use layer::{Dense, DenseConfig, DenseGrads, Layer};
pub use network::{Gradients, Network, NetworkConfig};
/// The rand crate (0.10) whose `Rng` [`DenseConfig::init`] takes: seed one
/// with `manual_backprop::rand::rngs::StdRng::seed_from_u64`, without
/// declaring rand yourself or matching its version.
pub use rand;

/// The README and the guides of docs/, compiled only by `cargo test --doc`,
/// so that every Rust block in them runs as a doc test and no guide can rot.
#[cfg(doctest)]
mod guides {
    #[doc = include_str!("../README.md")]
    mod readme {}
    #[doc = include_str!("../docs/maths.md")]
    mod maths {}
    #[doc = include_str!("../docs/checking-gradients.md")]
    mod checking_gradients {}
    #[doc = include_str!("../docs/layers-in-your-model.md")]
    mod layers_in_your_model {}
    #[doc = include_str!("../docs/training.md")]
    mod training {}
    #[doc = include_str!("../docs/experiments.md")]
    mod experiments {}
    #[doc = include_str!("../docs/gpu-and-remote.md")]
    mod gpu_and_remote {}
    #[doc = include_str!("../docs/cross-check.md")]
    mod cross_check {}
    #[doc = include_str!("../docs/testing.md")]
    mod testing {}
}
