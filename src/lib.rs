#![doc = include_str!("../README.md")]

pub mod activation;
pub mod app;
pub mod backend;
pub mod bench;
pub mod cost;
pub mod data;
pub mod error;
pub mod experiment;
pub mod interchange;
pub mod layer;
pub mod network;
pub mod persist;
pub mod plot;
pub mod resources;
pub mod run;
pub mod tensor;
pub mod training;
pub mod verification;

pub use activation::Activation;
pub use backend::{Backend, Precision};
pub use error::{Error, Result};
pub use layer::{Dense, DenseConfig, DenseGrads, Layer};
pub use network::{Gradients, Network, NetworkConfig};
