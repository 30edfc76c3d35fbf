//! Where a network's gradients come from: its hand-written backward passes
//! ([`Network::gradients`]), burn-autodiff of the same forward pass and cost
//! ([`autodiff_gradients`]), burn-autodiff with the hand-written layers as its
//! nodes ([`node_gradients`]), or central finite differences of the cost
//! ([`numeric_gradients`]). Training, benchmarks and the verifier all pick one
//! through [`GradientSource`].

mod autodiff;
mod numeric;

pub use autodiff::{autodiff_gradients, node_gradients};
pub use burn_gradcheck::{FiniteDifference, Stencil};
pub use numeric::{central_differences, numeric_gradients};

use crate::error::Result;
use crate::layer::DenseGrads;
use crate::network::{Gradients, Network};
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which gradients of J(W, b): the project's own, or one of the two
/// independent references they are checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum GradientSource {
    /// The hand-written backward passes ([`Network::gradients`]).
    #[default]
    Manual,
    /// burn-autodiff of the same forward pass and cost: a control.
    Autodiff,
    /// burn-autodiff with each layer one node whose backward is the
    /// hand-written one ([`node_gradients`]): how a burn model using this
    /// crate's layers trains.
    Nodes,
    /// Central finite differences of the cost with ε = 1e-5
    /// ([`GradientSource::NUMERIC_STEP`]): two cost evaluations per parameter.
    Numeric,
}

impl GradientSource {
    /// The finite-difference step of [`GradientSource::Numeric`]: near the f64
    /// optimum u^(1/3) of central differences.
    pub const NUMERIC_STEP: f64 = 1e-5;

    /// J and ∂J/∂θ of the batch (`x`, `y`) with weight decay λ.
    pub fn gradients(
        self,
        network: &Network,
        x: Tensor<2>,
        y: Tensor<2>,
        weight_decay: f64,
    ) -> Result<Gradients> {
        match self {
            GradientSource::Manual => network.gradients(x, y, weight_decay),
            GradientSource::Autodiff => autodiff_gradients(network, x, y, weight_decay),
            GradientSource::Nodes => node_gradients(network, x, y, weight_decay),
            GradientSource::Numeric => numeric_gradients(
                network,
                x,
                y,
                weight_decay,
                FiniteDifference::central(Self::NUMERIC_STEP),
            ),
        }
    }

    /// ∂J/∂θ alone. The hand-written and node sources then read nothing back
    /// from the device, so an asynchronous device keeps queueing a whole epoch.
    pub fn parameter_gradients(
        self,
        network: &Network,
        x: Tensor<2>,
        y: Tensor<2>,
        weight_decay: f64,
    ) -> Result<Vec<DenseGrads>> {
        match self {
            GradientSource::Manual => network.parameter_gradients(x, y, weight_decay),
            GradientSource::Nodes => {
                autodiff::node_parameter_gradients(network, x, y, weight_decay)
            }
            other => Ok(other.gradients(network, x, y, weight_decay)?.layers),
        }
    }

    /// What the source is, in words: "hand-written", "autodiff", "finite differences".
    pub fn describe(self) -> &'static str {
        match self {
            GradientSource::Manual => "hand-written",
            GradientSource::Autodiff => "autodiff",
            GradientSource::Nodes => "autodiff with hand-written nodes",
            GradientSource::Numeric => "finite-difference",
        }
    }
}

impl fmt::Display for GradientSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GradientSource::Manual => "manual",
            GradientSource::Autodiff => "autodiff",
            GradientSource::Nodes => "nodes",
            GradientSource::Numeric => "numeric",
        })
    }
}
