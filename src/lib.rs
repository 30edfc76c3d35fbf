#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The layers, from the leaves up: each module uses only those above it.
pub mod error;
pub mod io;
pub mod precision;
pub mod resources;
pub mod tensor;

mod fast_path;

pub mod activation;
pub mod backend;
pub mod cost;
pub mod layer;
pub mod network;
pub mod params;

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
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod plot;
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod run;

pub use activation::Activation;
pub use backend::Backend;
pub use error::{Error, Result};
pub use layer::{Dense, DenseConfig, DenseGrads, Layer};
pub use network::{Gradients, Network, NetworkConfig};
pub use precision::Precision;
