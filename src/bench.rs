//! Timing one training step — hand-written gradients vs burn-autodiff — on
//! the project's benchmark shapes, for `backprop bench` and `cargo bench`.
//!
//! A step is forward + gradients + the update θ ← θ − α∇J, with the cost read
//! back (as training does) and the device synchronised before the clock stops.

use crate::activation::Activation;
use crate::backend::{Backend, Precision};
use crate::error::Result;
use crate::network::{Network, NetworkConfig};
use crate::tensor;
use crate::training::gradient_descent_step;
use crate::verification::autodiff_gradients;
use burn::tensor::Tensor;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// A benchmark shape: layer sizes and batch size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shape {
    /// Short name.
    pub name: String,
    /// Units per layer, input first.
    pub sizes: Vec<usize>,
    /// Examples per step.
    pub m: usize,
}

/// The three shapes of the performance issue: the reference's digits setting
/// (full batch), an MNIST mini-batch, and a wide network where the matrix
/// products dominate.
pub fn shapes() -> Vec<Shape> {
    let shape = |name: &str, sizes: &[usize], m| Shape {
        name: name.into(),
        sizes: sizes.to_vec(),
        m,
    };
    vec![
        shape("digits", &[64, 25, 10], 1797),
        shape("mnist", &[784, 256, 256, 10], 128),
        shape("wide", &[1024, 1024, 1024, 10], 256),
    ]
}

/// Weight decay λ and step size α of every benchmark step.
pub const WEIGHT_DECAY: f64 = 1e-4;
/// Step size α of every benchmark step.
pub const LEARNING_RATE: f64 = 0.1;

impl Shape {
    /// Floating-point operations of one manual step: 2m·Σ in·out for the
    /// forward products, the same for the weight gradients, and 2m·Σ in·out
    /// over all layers but the first for the deltas sent down.
    pub fn flops(&self) -> f64 {
        let products: Vec<f64> = self
            .sizes
            .windows(2)
            .map(|w| (w[0] * w[1]) as f64)
            .collect();
        let m = self.m as f64;
        2.0 * m * products.iter().sum::<f64>() * 2.0 + 2.0 * m * products[1..].iter().sum::<f64>()
    }

    /// A sigmoid network of this shape and a random batch with targets in (0, 1).
    pub fn setup(
        &self,
        backend: Backend,
        precision: Precision,
    ) -> Result<(Network, Tensor<2>, Tensor<2>)> {
        let device = backend.device();
        let net = NetworkConfig::new(self.sizes.clone())
            .with_activation(Activation::Sigmoid)
            .with_init_std(0.1)
            .init(&device, precision)?;
        let mut rng = StdRng::seed_from_u64(0);
        let (n_in, n_out) = (self.sizes[0], self.sizes[self.sizes.len() - 1]);
        let x = (0..self.m * n_in).map(|_| rng.random::<f64>()).collect();
        let y = (0..self.m * n_out).map(|_| rng.random::<f64>()).collect();
        Ok((
            net,
            tensor::matrix("x", x, [self.m, n_in], &device, precision)?,
            tensor::matrix("y", y, [self.m, n_out], &device, precision)?,
        ))
    }
}

/// Which gradient a step uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// The hand-written backward passes.
    Manual,
    /// burn-autodiff of the same forward and cost.
    Autodiff,
}

/// One training step; returns the updated network and the cost.
pub fn step(
    method: Method,
    network: Network,
    x: &Tensor<2>,
    y: &Tensor<2>,
) -> Result<(Network, f64)> {
    let grads = match method {
        Method::Manual => network.gradients(x.clone(), y.clone(), WEIGHT_DECAY)?,
        Method::Autodiff => autodiff_gradients(&network, x.clone(), y.clone(), WEIGHT_DECAY)?,
    };
    let cost = grads.cost;
    let network = gradient_descent_step(network, &grads, LEARNING_RATE)?;
    network
        .device()
        .sync()
        .map_err(|e| crate::Error::TensorRead(format!("{e:?}")))?;
    Ok((network, cost))
}

/// Median wall time of `reps` steps after `warmup` unmeasured ones, in ms.
pub fn time_steps(
    method: Method,
    mut network: Network,
    x: &Tensor<2>,
    y: &Tensor<2>,
    warmup: usize,
    reps: usize,
) -> Result<f64> {
    for _ in 0..warmup {
        network = step(method, network, x, y)?.0;
    }
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps.max(1) {
        let start = Instant::now();
        network = step(method, network, x, y)?.0;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}
