//! What an optimizer minimises: J and ∂J/∂θ at any parameters. A batch on one
//! device is one such objective; a batch split over several devices
//! ([`super::parallel`]) is another, with the same value and gradient.

use crate::error::Result;
use crate::gradients::GradientSource;
use crate::layer::DenseGrads;
use crate::network::{Gradients, Network};
use burn::tensor::Tensor;

/// J(θ) and its gradient, evaluated at the parameters of a network.
pub trait Objective {
    /// The per-layer gradients of J, without reading the cost back (so an
    /// asynchronous device keeps queueing).
    fn gradients(&self, network: &Network) -> Result<Vec<DenseGrads>>;

    /// J and its gradients, as L-BFGS needs them at every point it tries.
    fn cost_and_gradients(&self, network: &Network) -> Result<Gradients>;
}

/// The cost J of one batch (`x`, `y`) with weight decay λ, differentiated by
/// `source`: the hand-written backward passes, or a reference as a control.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Inputs `[m, s_1]`.
    pub x: Tensor<2>,
    /// Targets `[m, s_{n_l}]`.
    pub y: Tensor<2>,
    /// λ.
    pub weight_decay: f64,
    /// Which gradients.
    pub source: GradientSource,
}

impl Objective for Batch {
    fn gradients(&self, network: &Network) -> Result<Vec<DenseGrads>> {
        let (x, y) = (self.x.clone(), self.y.clone());
        self.source
            .parameter_gradients(network, x, y, self.weight_decay)
    }

    fn cost_and_gradients(&self, network: &Network) -> Result<Gradients> {
        let (x, y) = (self.x.clone(), self.y.clone());
        self.source.gradients(network, x, y, self.weight_decay)
    }
}
