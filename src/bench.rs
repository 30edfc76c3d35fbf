//! Timing one training step — hand-written gradients vs burn-autodiff — on
//! the project's benchmark shapes, for `backprop bench` and `cargo bench`.
//!
//! A step is forward + gradients + the update θ ← θ − α∇J, with the cost read
//! back (as training does) and the device synchronised before the clock stops.

use crate::Precision;
use crate::activation::Activation;
use crate::backend::Backend;
use crate::data::preprocess::{FeatureScaling, Preprocessing};
use crate::data::{Dataset, Targets, idx};
use crate::error::{Error, Result};
use crate::gradients::GradientSource;
use crate::network::{Network, NetworkConfig};
use crate::tensor;
use crate::training::{Prepared, TrainConfig, gradient_descent_step, threads, train};
use burn::tensor::{Device, Tensor};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use std::path::Path;
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
        backend: &Backend,
        precision: Precision,
    ) -> Result<(Network, Tensor<2>, Tensor<2>)> {
        let device = backend.device()?;
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

/// One training step; returns the updated network and the cost.
pub fn step(
    source: GradientSource,
    network: Network,
    x: &Tensor<2>,
    y: &Tensor<2>,
) -> Result<(Network, f64)> {
    let grads = source.gradients(&network, x.clone(), y.clone(), WEIGHT_DECAY)?;
    let cost = grads.cost;
    let network = gradient_descent_step(network, grads, LEARNING_RATE)?;
    synchronise(&network.device())?;
    Ok((network, cost))
}

/// Medians of one benchmark row: the two steps, the shared forward pass, and
/// the step's kernels alone. See [`measure`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// A hand-written step, ms.
    pub manual_ms: f64,
    /// An autodiff step, ms.
    pub autodiff_ms: f64,
    /// Autodiff ms / manual ms of each repetition's back-to-back runs, median.
    pub ratio: f64,
    /// A step by autodiff with the hand-written layer nodes
    /// ([`GradientSource::Nodes`]), ms.
    pub nodes_ms: f64,
    /// Nodes ms / manual ms of each repetition's back-to-back runs, median.
    pub nodes_ratio: f64,
    /// Forward pass and cost alone (read back, as a step does), ms: the part
    /// both methods share.
    pub forward_ms: f64,
    /// The forward products and the sigmoid's `exp` alone, ms.
    pub forward_kernels_ms: f64,
    /// The backward products alone (weight gradients, deltas sent down), ms.
    pub backward_kernels_ms: f64,
}

impl Measurement {
    /// What any step built on this backend's `matmul` and `exp` kernels must
    /// spend, however its element-wise work is arranged.
    pub fn kernel_floor_ms(&self) -> f64 {
        self.forward_kernels_ms + self.backward_kernels_ms
    }

    /// The autodiff/manual ratio a hand-written backward costing only its
    /// matrix products would reach: autodiff ms / (forward ms + backward kernels ms).
    pub fn ratio_bound(&self) -> f64 {
        self.autodiff_ms / (self.forward_ms + self.backward_kernels_ms)
    }
}

/// Times one row: `reps` repetitions (after `warmup` unmeasured ones) of a
/// manual step, an autodiff step, a step of autodiff with the hand-written
/// layer nodes, the forward pass and cost alone, and the step's kernels alone,
/// all six in every repetition, and reports medians.
///
/// The speed of a shared 2-core machine drifts by tens of percent over
/// seconds; timing each quantity in its own block would fold that drift into
/// every comparison. Here each repetition sees the same machine, the three
/// steps run back to back (rotating which goes first), and the
/// median of the per-pair ratios ignores the pairs a hiccup spoiled. Each
/// method trains its own copy of the network, moved into its step so that the
/// update can reuse its buffers.
///
/// The kernels are, per layer (examples as rows): forward, the product
/// `[m, in]·[in, out]` and the `exp` of the sigmoid over `[m, out]`; backward,
/// the weight gradient `[in, m]·[m, out]` (a transposed view, as in `Dense`)
/// and, for every layer but the first, the delta sent down `[m, out]·[out, in]`.
pub fn measure(
    shape: &Shape,
    backend: &Backend,
    precision: Precision,
    warmup: usize,
    reps: usize,
) -> Result<Measurement> {
    let (network, x, y) = shape.setup(backend, precision)?;
    let device = network.device();
    let kernels = Kernels::new(shape, &device, precision)?;
    let forward = || network.cost(x.clone(), y.clone(), WEIGHT_DECAY).map(drop);
    let methods = SOURCES;
    let mut networks = methods.map(|_| Some(network.clone()));
    let mut step_of = |i: usize| -> Result<f64> {
        let current = networks[i].take().expect("put back after every step");
        let start = Instant::now();
        let (next, _) = step(methods[i], current, &x, &y)?;
        let ms = start.elapsed().as_secs_f64() * 1e3;
        networks[i] = Some(next);
        Ok(ms)
    };
    // The step runs as training runs it: on one thread of its own when its
    // products are small (crate::training::threads), and so do its parts.
    let run = || -> Result<[Vec<f64>; 8]> {
        let mut samples: [Vec<f64>; 8] = Default::default();
        for rep in 0..warmup + reps.max(1) {
            let [manual, autodiff, nodes] = back_to_back(rep, &mut step_of)?;
            let row = [
                manual,
                autodiff,
                autodiff / manual,
                nodes,
                nodes / manual,
                timed(&mut || forward())?,
                timed(&mut || kernels.forward(&device))?,
                timed(&mut || kernels.backward(&device))?,
            ];
            if rep >= warmup {
                for (sample, value) in samples.iter_mut().zip(row) {
                    sample.push(value);
                }
            }
        }
        Ok(samples)
    };
    let samples = threads::like_steps(&network, shape.m, &device, run)?;
    let [
        manual,
        autodiff,
        ratio,
        nodes,
        nodes_ratio,
        forward,
        forward_kernels,
        backward_kernels,
    ] = samples.map(median);
    Ok(Measurement {
        manual_ms: manual,
        autodiff_ms: autodiff,
        ratio,
        nodes_ms: nodes,
        nodes_ratio,
        forward_ms: forward,
        forward_kernels_ms: forward_kernels,
        backward_kernels_ms: backward_kernels,
    })
}

/// Milliseconds `work` takes.
fn timed(work: &mut dyn FnMut() -> Result<()>) -> Result<f64> {
    let start = Instant::now();
    work()?;
    Ok(start.elapsed().as_secs_f64() * 1e3)
}

/// Random operands of a step's products, one (input, weight, delta) per
/// layer: what the step's kernels alone cost, with no network around them.
struct Kernels {
    layers: Vec<(Tensor<2>, Tensor<2>, Tensor<2>)>,
}

impl Kernels {
    fn new(shape: &Shape, device: &Device, precision: Precision) -> Result<Kernels> {
        let mut rng = StdRng::seed_from_u64(1);
        let mut random = |rows: usize, cols: usize| {
            let values = (0..rows * cols)
                .map(|_| rng.random::<f64>() - 0.5)
                .collect();
            tensor::matrix("random", values, [rows, cols], device, precision)
        };
        let mut layers = Vec::new();
        for pair in shape.sizes.windows(2) {
            let (d_in, d_out) = (pair[0], pair[1]);
            layers.push((
                random(shape.m, d_in)?,
                random(d_in, d_out)?,
                random(shape.m, d_out)?,
            ));
        }
        Ok(Kernels { layers })
    }

    /// The forward pass's products and exp.
    fn forward(&self, device: &Device) -> Result<()> {
        for (input, weight, _) in &self.layers {
            drop(input.clone().matmul(weight.clone()).exp());
        }
        synchronise(device)
    }

    /// The backward pass's products (no input delta for the first layer).
    fn backward(&self, device: &Device) -> Result<()> {
        for (l, (input, weight, delta)) in self.layers.iter().enumerate() {
            drop(input.clone().transpose().matmul(delta.clone()));
            if l > 0 {
                drop(delta.clone().matmul(weight.clone().transpose()));
            }
        }
        synchronise(device)
    }
}

/// The best rate, in GFLOP/s, of an `n × n` by `n × n` matrix product on this
/// backend over `reps` tries: the machine's reachable GEMM speed through burn,
/// against which a step's GFLOP/s is judged.
pub fn gemm_gflops(backend: &Backend, precision: Precision, n: usize, reps: usize) -> Result<f64> {
    let device = backend.device()?;
    let mut rng = StdRng::seed_from_u64(2);
    let values = (0..n * n).map(|_| rng.random::<f64>() - 0.5).collect();
    let a = tensor::matrix("a", values, [n, n], &device, precision)?;
    let flops = 2.0 * (n as f64).powi(3);
    let mut best = 0.0_f64;
    for _ in 0..reps.max(1) + 1 {
        let start = Instant::now();
        drop(a.clone().matmul(a.clone()));
        synchronise(&device)?;
        best = best.max(flops / start.elapsed().as_secs_f64() / 1e9);
    }
    Ok(best)
}

/// Layer sizes of the end-to-end row: MNIST's 784 pixels, 300 sigmoid hidden
/// units, 10 classes.
pub const EPOCH_SIZES: [usize; 3] = [784, 300, 10];
/// Examples per step of the end-to-end row.
pub const EPOCH_BATCH: usize = 32;
/// Training examples of the end-to-end row (MNIST's training set).
pub const EPOCH_EXAMPLES: usize = 60_000;

/// The end-to-end row's data: MNIST's 60,000 training images from
/// `mnist_dir` when the files are there, otherwise 60,000 synthetic examples
/// of the same shape (pixels uniform in [0, 1), labels uniform over 10
/// classes), so that the row runs on any machine. Dense products and
/// sigmoids cost the same whatever the values, so the two time alike.
pub fn epoch_data(mnist_dir: &Path) -> Result<Dataset> {
    match idx::load_mnist(mnist_dir) {
        Ok((train, _)) => Ok(train),
        Err(Error::MissingData { .. }) => {
            let mut rng = StdRng::seed_from_u64(3);
            let n = EPOCH_SIZES[0];
            Ok(Dataset {
                name: "synthetic-mnist".into(),
                features: (0..EPOCH_EXAMPLES * n).map(|_| rng.random()).collect(),
                n_features: n,
                targets: Targets::Classes {
                    labels: (0..EPOCH_EXAMPLES)
                        .map(|_| rng.random_range(0..EPOCH_SIZES[2]))
                        .collect(),
                    n_classes: EPOCH_SIZES[2],
                },
                image_shape: Some([28, 28]),
            })
        }
        Err(e) => Err(e),
    }
}

/// Medians of the end-to-end row. See [`measure_epoch`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochMeasurement {
    /// One epoch on the hand-written gradients, ms.
    pub manual_ms: f64,
    /// One epoch on autodiff's gradients, ms.
    pub autodiff_ms: f64,
    /// Autodiff ms / manual ms of each repetition's back-to-back runs, median.
    pub ratio: f64,
    /// One epoch by autodiff with the hand-written layer nodes
    /// ([`GradientSource::Nodes`]), ms.
    pub nodes_ms: f64,
    /// Nodes ms / manual ms of each repetition's back-to-back runs, median.
    pub nodes_ratio: f64,
    /// Optimizer steps per epoch.
    pub steps: usize,
}

/// Times whole epochs of mini-batch gradient descent as `backprop train
/// --batch-size 32` runs them: the library's training loop (per-epoch
/// shuffle, each batch selected on the device, forward, gradients, update) on
/// a 784-300-10 sigmoid network, α and λ as in the step rows, features scaled
/// to [0, 1]. Each of `warmup + reps` repetitions trains one epoch on the
/// hand-written gradients, one on autodiff's and one on autodiff with the
/// hand-written layer nodes, back to back (rotating which goes first, each
/// continuing its own network), and the medians of
/// the timed ones are reported. The time is the epoch's updates
/// ([`crate::training::EpochRecord::millis`]); the metrics computed after
/// each epoch are not part of it.
pub fn measure_epoch(
    data: &Dataset,
    backend: &Backend,
    precision: Precision,
    warmup: usize,
    reps: usize,
) -> Result<EpochMeasurement> {
    let device = backend.device_for(precision)?;
    let preprocessing = Preprocessing::fit(data, FeatureScaling::MaxAbs, Activation::Sigmoid)?;
    let prepared = Prepared::new(data, &preprocessing, &device, precision)?;
    let sizes = [data.n_features, EPOCH_SIZES[1], data.targets.width()];
    let network = NetworkConfig::new(sizes.to_vec())
        .with_activation(Activation::Sigmoid)
        .with_init_std(0.1)
        .init(&device, precision)?;
    let sources = SOURCES;
    let mut networks = sources.map(|_| Some(network.clone()));
    let mut epoch_of = |i: usize, rep: usize| -> Result<f64> {
        let config = TrainConfig {
            batch_size: Some(EPOCH_BATCH),
            seed: rep as u64,
            gradients: sources[i],
            ..TrainConfig::gradient_descent(LEARNING_RATE, WEIGHT_DECAY, 1)
        };
        let current = networks[i].take().expect("put back after every epoch");
        let outcome = train(current, &prepared, None, &preprocessing, &config, |_| {
            ControlFlow::Continue(())
        })?;
        if let Some(e) = outcome.diverged(&config) {
            return Err(e);
        }
        networks[i] = Some(outcome.network);
        Ok(outcome.history.last().map_or(f64::NAN, |r| r.millis))
    };
    let mut samples: [Vec<f64>; 5] = Default::default();
    for rep in 0..warmup + reps.max(1) {
        let [manual, autodiff, nodes] = back_to_back(rep, &mut |i| epoch_of(i, rep))?;
        if rep >= warmup {
            let row = [manual, autodiff, autodiff / manual, nodes, nodes / manual];
            for (sample, value) in samples.iter_mut().zip(row) {
                sample.push(value);
            }
        }
    }
    let [manual_ms, autodiff_ms, ratio, nodes_ms, nodes_ratio] = samples.map(median);
    Ok(EpochMeasurement {
        manual_ms,
        autodiff_ms,
        ratio,
        nodes_ms,
        nodes_ratio,
        steps: data.len().div_ceil(EPOCH_BATCH),
    })
}

/// The gradient sources every row compares, in the order of its columns.
const SOURCES: [GradientSource; 3] = [
    GradientSource::Manual,
    GradientSource::Autodiff,
    GradientSource::Nodes,
];

/// The milliseconds `run(i)` reports for each of the three sources, run back
/// to back; which goes first rotates with `rep`, so that none always runs on
/// a cache another warmed.
fn back_to_back(rep: usize, run: &mut dyn FnMut(usize) -> Result<f64>) -> Result<[f64; 3]> {
    let mut ms = [0.0; 3];
    for k in 0..ms.len() {
        let i = (rep + k) % ms.len();
        ms[i] = run(i)?;
    }
    Ok(ms)
}

/// Waits for the device to finish queued work, so that a clock read after it
/// measures the work and not its submission.
fn synchronise(device: &Device) -> Result<()> {
    device
        .sync()
        .map_err(|e| crate::Error::TensorRead(format!("{e:?}")))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
