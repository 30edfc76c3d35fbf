//! Shared fixtures for the integration tests: deterministic random batches and
//! the catalogue of network shapes every agreement test runs over.

#![allow(dead_code)] // each test binary uses a different subset

use burn::tensor::{Device, Tensor};
use manual_backprop::{Activation, Network, NetworkConfig, Precision, tensor};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// One network-and-batch configuration of the agreement grid.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: &'static str,
    pub sizes: Vec<usize>,
    pub activations: Vec<Activation>,
    pub weight_decay: f64,
    /// Number of examples m.
    pub m: usize,
    /// Inputs are drawn from U(−input_scale, input_scale).
    pub input_scale: f64,
    /// ε of the N(0, ε²) initialisation.
    pub init_std: f64,
}

use Activation::{Sigmoid, Tanh};

/// The grid of issue #2: depth, several outputs, both activations and a mixed
/// net, λ = 0 and λ > 0, m = 1 and m = 37, and saturated units.
pub fn cases() -> Vec<Case> {
    let case = |name,
                sizes: &[usize],
                activations: &[Activation],
                weight_decay,
                m,
                input_scale,
                init_std| Case {
        name,
        sizes: sizes.to_vec(),
        activations: activations.to_vec(),
        weight_decay,
        m,
        input_scale,
        init_std,
    };
    vec![
        case(
            "one hidden, sigmoid, λ=0, m=37",
            &[4, 5, 1],
            &[Sigmoid, Sigmoid],
            0.0,
            37,
            1.0,
            1.0,
        ),
        case(
            "one hidden, sigmoid, λ=0.1, m=1",
            &[4, 5, 1],
            &[Sigmoid, Sigmoid],
            0.1,
            1,
            1.0,
            1.0,
        ),
        case(
            "one hidden, default ε=0.01, λ=1e-3",
            &[6, 4, 2],
            &[Sigmoid, Sigmoid],
            1e-3,
            37,
            1.0,
            0.01,
        ),
        case(
            "two hidden, sigmoid, λ=0.05",
            &[3, 6, 5, 2],
            &[Sigmoid; 3],
            0.05,
            37,
            1.0,
            1.0,
        ),
        case(
            "several outputs, tanh, λ=0",
            &[5, 7, 4],
            &[Tanh, Tanh],
            0.0,
            37,
            1.0,
            1.0,
        ),
        case(
            "two hidden, tanh, λ=0.3, m=1",
            &[3, 4, 4, 3],
            &[Tanh; 3],
            0.3,
            1,
            1.0,
            1.0,
        ),
        case(
            "mixed tanh→sigmoid→tanh, λ=0.01",
            &[4, 6, 5, 3],
            &[Tanh, Sigmoid, Tanh],
            0.01,
            37,
            1.0,
            1.0,
        ),
        case(
            "saturated sigmoid, |x| ≤ 40",
            &[5, 6, 2],
            &[Sigmoid, Sigmoid],
            0.01,
            37,
            40.0,
            1.0,
        ),
        case(
            "saturated tanh, |x| ≤ 40",
            &[5, 6, 2],
            &[Tanh, Tanh],
            0.01,
            37,
            40.0,
            1.0,
        ),
    ]
}

impl Case {
    pub fn config(&self, seed: u64) -> NetworkConfig {
        NetworkConfig::new(self.sizes.clone())
            .with_layer_activations(Some(self.activations.clone()))
            .with_init_std(self.init_std)
            .with_seed(seed)
    }

    /// The network and a batch (x, y), identical in value on every device and
    /// precision (up to the rounding of f64 draws to f32).
    pub fn build(
        &self,
        device: &Device,
        precision: Precision,
        seed: u64,
    ) -> (Network, Tensor<2>, Tensor<2>) {
        let network = self
            .config(seed)
            .init(device, precision)
            .expect("valid case");
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
        let n_in = self.sizes[0];
        let n_out = *self.sizes.last().unwrap();
        let x = uniform(&mut rng, self.m * n_in, self.input_scale);
        // Targets inside the output activation's range, as the reference requires.
        let (lo, hi) = self.activations.last().unwrap().range();
        let y = (0..self.m * n_out)
            .map(|_| lo + (hi - lo) * rng.random::<f64>())
            .collect();
        (
            network,
            tensor::matrix("x", x, [self.m, n_in], device, precision).unwrap(),
            tensor::matrix("y", y, [self.m, n_out], device, precision).unwrap(),
        )
    }
}

/// `n` values from U(−scale, scale).
pub fn uniform(rng: &mut StdRng, n: usize, scale: f64) -> Vec<f64> {
    (0..n)
        .map(|_| scale * (2.0 * rng.random::<f64>() - 1.0))
        .collect()
}

/// ‖a − b‖ / ‖b‖ of each parameter's values, the worst parameter.
pub fn worst_relative(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(a, b)| {
            let diff: f64 = a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum();
            let norm: f64 = b.iter().map(|q| q * q).sum();
            (diff / norm.max(f64::MIN_POSITIVE)).sqrt()
        })
        .fold(0.0, f64::max)
}

/// Per-layer gradients as host values: weight, bias, weight, bias, …
pub fn gradient_values(grads: &[manual_backprop::DenseGrads]) -> Vec<Vec<f64>> {
    grads
        .iter()
        .flat_map(|g| {
            [
                tensor::to_vec(&g.weight).unwrap(),
                tensor::to_vec(&g.bias).unwrap(),
            ]
        })
        .collect()
}

/// The examples binary, built by `cargo test` next to the test executables.
pub fn backprop() -> std::process::Command {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target profile directory");
    std::process::Command::new(
        dir.join("examples")
            .join(format!("backprop{}", std::env::consts::EXE_SUFFIX)),
    )
}
