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
    let network = gradient_descent_step(network, grads, LEARNING_RATE)?;
    network
        .device()
        .sync()
        .map_err(|e| crate::Error::TensorRead(format!("{e:?}")))?;
    Ok((network, cost))
}

/// Median step times of the two methods, measured alternately.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepTimes {
    /// Median ms of a hand-written step.
    pub manual_ms: f64,
    /// Median ms of an autodiff step.
    pub autodiff_ms: f64,
    /// Median over repetitions of autodiff ms / manual ms, each pair timed back to back.
    pub ratio: f64,
}

/// Times `reps` manual and `reps` autodiff steps after `warmup` unmeasured ones
/// of each, alternating the two (and which goes first) every repetition.
///
/// The speed of a shared 2-core machine drifts by tens of percent over seconds;
/// timing all manual steps and then all autodiff steps would fold that drift
/// into the ratio. Back-to-back pairs see the same machine, and the median of
/// the per-pair ratios ignores the pairs a hiccup spoiled.
pub fn time_interleaved(
    network: Network,
    x: &Tensor<2>,
    y: &Tensor<2>,
    warmup: usize,
    reps: usize,
) -> Result<StepTimes> {
    let methods = [Method::Manual, Method::Autodiff];
    // Each method trains its own copy, so both keep stepping from a sane model.
    // A copy is moved into its step (not cloned) so the update can reuse its buffers.
    let mut networks = [Some(network.clone()), Some(network)];
    let timed = |i: usize, networks: &mut [Option<Network>; 2]| -> Result<f64> {
        let network = networks[i].take().expect("put back after every step");
        let start = Instant::now();
        networks[i] = Some(step(methods[i], network, x, y)?.0);
        Ok(start.elapsed().as_secs_f64() * 1e3)
    };
    for _ in 0..warmup {
        timed(0, &mut networks)?;
        timed(1, &mut networks)?;
    }
    let (mut manual, mut autodiff, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for rep in 0..reps.max(1) {
        let (m, a) = if rep % 2 == 0 {
            let m = timed(0, &mut networks)?;
            (m, timed(1, &mut networks)?)
        } else {
            let a = timed(1, &mut networks)?;
            (timed(0, &mut networks)?, a)
        };
        manual.push(m);
        autodiff.push(a);
        ratios.push(a / m);
    }
    Ok(StepTimes {
        manual_ms: median(manual),
        autodiff_ms: median(autodiff),
        ratio: median(ratios),
    })
}

/// Median ms of the forward pass and cost alone (read back, as a step does):
/// the part of a step that the manual and the autodiff method share, so
/// `autodiff ms / forward ms` bounds the ratio any hand-written backward can reach.
pub fn forward_ms(network: &Network, x: &Tensor<2>, y: &Tensor<2>, reps: usize) -> Result<f64> {
    let mut times = Vec::new();
    for rep in 0..reps.max(1) + 2 {
        let start = Instant::now();
        network.cost(x.clone(), y.clone(), WEIGHT_DECAY)?;
        if rep >= 2 {
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    Ok(median(times))
}

/// Median ms of the step's matrix products and `exp` evaluations alone, with
/// nothing else: what any step built on this backend's `matmul` and `exp`
/// kernels must spend, however its element-wise work is arranged.
///
/// Per layer (examples as rows): the forward product `[m, in]·[in, out]`, the
/// `exp` of the sigmoid over `[m, out]`, the weight gradient `[in, m]·[m, out]`
/// (a transposed view, as in `Dense`), and for every layer but the first the
/// delta sent down, `[m, out]·[out, in]` (again a transposed view).
pub fn kernel_floor_ms(
    shape: &Shape,
    backend: Backend,
    precision: Precision,
    reps: usize,
) -> Result<f64> {
    let device = backend.device();
    let mut rng = StdRng::seed_from_u64(1);
    let mut random = |rows: usize, cols: usize| {
        let values = (0..rows * cols)
            .map(|_| rng.random::<f64>() - 0.5)
            .collect();
        tensor::matrix("random", values, [rows, cols], &device, precision)
    };
    let m = shape.m;
    let mut layers = Vec::new();
    for pair in shape.sizes.windows(2) {
        let (d_in, d_out) = (pair[0], pair[1]);
        layers.push((random(m, d_in)?, random(d_in, d_out)?, random(m, d_out)?));
    }
    let run = || {
        for (l, (input, weight, delta)) in layers.iter().enumerate() {
            let z = input.clone().matmul(weight.clone());
            drop(z.exp());
            drop(input.clone().transpose().matmul(delta.clone()));
            if l > 0 {
                drop(delta.clone().matmul(weight.clone().transpose()));
            }
        }
        device.sync()
    };
    let mut times = Vec::new();
    for rep in 0..reps.max(1) + 2 {
        let start = Instant::now();
        run().map_err(|e| crate::Error::TensorRead(format!("{e:?}")))?;
        if rep >= 2 {
            times.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    Ok(median(times))
}

/// The best rate, in GFLOP/s, of an `n × n` by `n × n` matrix product on this
/// backend over `reps` tries: the machine's reachable GEMM speed through burn,
/// against which a step's GFLOP/s is judged.
pub fn gemm_gflops(backend: Backend, precision: Precision, n: usize, reps: usize) -> Result<f64> {
    let device = backend.device();
    let mut rng = StdRng::seed_from_u64(2);
    let values = (0..n * n).map(|_| rng.random::<f64>() - 0.5).collect();
    let a = tensor::matrix("a", values, [n, n], &device, precision)?;
    let flops = 2.0 * (n as f64).powi(3);
    let mut best = 0.0_f64;
    for _ in 0..reps.max(1) + 1 {
        let start = Instant::now();
        drop(a.clone().matmul(a.clone()));
        device
            .sync()
            .map_err(|e| crate::Error::TensorRead(format!("{e:?}")))?;
        best = best.max(flops / start.elapsed().as_secs_f64() / 1e9);
    }
    Ok(best)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
