//! The hand-written gradients against truths that share no code with them:
//! finite differences, a network differentiated by hand, the reference's
//! per-example loop, and the symmetry argument for random initialisation.

mod common;

use burn::module::Module;
use burn::optim::SgdConfig;
use common::cases;
use manual_backprop::gradients::{self, FiniteDifference};
use manual_backprop::training::gradient_descent_step;
use manual_backprop::verification::{self, Tolerance};
use manual_backprop::{Activation, Backend, Dense, Network, NetworkConfig, Precision, tensor};

/// All parameters of a network as one flat vector, in `param_paths` order.
fn flat(network: &Network, grads: &manual_backprop::Gradients) -> Vec<f64> {
    let mut out = Vec::new();
    for g in &grads.layers {
        out.extend(tensor::to_vec(&g.weight).unwrap());
        out.extend(tensor::to_vec(&g.bias).unwrap());
    }
    assert_eq!(out.len(), network.param_values().unwrap().concat().len());
    out
}

#[test]
fn finite_differences_agree_with_manual_gradients_in_f64() {
    // docs/maths.md § 10: ‖g_num − g‖ / ‖g_num + g‖ ≈ 1e-9 or below.
    // ε = 1e-5 balances the O(ε²) truncation error against the O(u·J/ε)
    // rounding error of the two cost evaluations in f64. With inputs up to
    // |x| = 40 the cost curves on a scale of 1/40 in the first-layer weights, so
    // the O(ε²) term is ~1600× larger and no ε brings the plain stencil safely
    // under 1e-9 (measured: 1.7e-7 at ε=1e-4, 1.7e-9 at 1e-5, 8.8e-10 at 1e-6,
    // 3.3e-9 at 2.5e-7); there the Richardson-extrapolated stencil, O(ε⁴), is used.
    for backend in Backend::ALL {
        let device = backend.device().unwrap();
        for case in cases() {
            let (net, x, y) = case.build(&device, Precision::F64, 5);
            let manual = net
                .gradients(x.clone(), y.clone(), case.weight_decay)
                .unwrap();
            let scheme = if case.input_scale > 1.0 {
                FiniteDifference::richardson(1e-4)
            } else {
                FiniteDifference::central(1e-5)
            };
            let numeric =
                gradients::numeric_gradients(&net, x, y, case.weight_decay, scheme).unwrap();
            let difference =
                verification::relative_difference(&flat(&net, &numeric), &flat(&net, &manual));
            // tanh's larger third derivative makes the O(ε²) term larger.
            let bound = if case.activations.contains(&Activation::Tanh) {
                1e-8
            } else {
                1e-9
            };
            println!(
                "{backend:>7} {:<36} ‖g_num − g‖/‖g_num + g‖ = {difference:.3e}",
                case.name
            );
            assert!(
                difference <= bound,
                "{backend} {}: relative difference {difference:e} > {bound:e}",
                case.name
            );
        }
    }
}

/// σ(z) = 1 / (1 + e^(−z)), scalar, as written in docs/maths.md § 2.
fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

#[test]
fn sigmoid_is_accurate_to_a_few_ulps_wherever_its_value_is_a_normal_number() {
    // The backend evaluates 1 / (1 + e^(−z)) with three rounded operations
    // (burn's operations, or libtorch's own sigmoid kernel on tch): a
    // relative error δ in e^(−z) reaches σ scaled by e^(−z)/(1 + e^(−z)) ≤ 1, so
    // |σ̂ − σ| / σ ≤ (libm exp's ≤ 1 ulp = 2u) + u (add) + u (recip) = 4u to first
    // order. The reference is the same formula in f64 — for the f32 tensors that
    // is exact to 2^-29 relative, far below 4u of f32. Ranges stop where σ (or
    // e^(−z)) leaves the normal numbers: |z| ≤ 80 in f32, |z| ≤ 700 in f64.
    for backend in Backend::ALL {
        let device = backend.device().unwrap();
        for (precision, limit) in [(Precision::F32, 80.0), (Precision::F64, 700.0)] {
            let z: Vec<f64> = (0..=4000)
                .map(|i| limit * (i as f64 / 2000.0 - 1.0))
                .collect();
            let n = z.len();
            let tensor = tensor::matrix("z", z.clone(), [1, n], &device, precision).unwrap();
            let z = tensor::to_vec(&tensor).unwrap(); // the inputs as rounded to `precision`
            let a = tensor::to_vec(&Activation::Sigmoid.forward(tensor)).unwrap();
            let bound = 4.0 * precision.unit_roundoff();
            for (z, a) in z.iter().zip(&a) {
                let exact = sigmoid(*z);
                let error = (a - exact).abs() / exact;
                assert!(
                    error <= bound,
                    "{backend} {precision}: σ({z}) = {a:e}, expected {exact:e} (relative error {error:e} > {bound:e})"
                );
            }
        }
    }
}

#[test]
fn saturated_sigmoid_units_have_finite_autodiff_gradients_and_nan_propagates() {
    // e^(−z) overflows for z < −88.7 (f32) or −709.8 (f64); autodiff's chain rule
    // through it would give 0 · ∞ = NaN. The capped exponent must prevent that,
    // yet must not turn a NaN input into a number (it would hide divergence).
    for backend in Backend::ALL {
        let device = backend.device().unwrap().autodiff();
        for precision in Precision::ALL {
            let z = vec![-1e4, -800.0, -100.0, -89.0, 0.0, 89.0, 800.0, 1e4, f64::NAN];
            let n = z.len();
            // Built directly: `tensor::matrix` rightly refuses the NaN.
            let data = burn::tensor::TensorData::new(z, [1, n]);
            let z = burn::tensor::Tensor::<2>::from_data(data, (&device, precision.dtype()))
                .require_grad();
            let a = Activation::Sigmoid.forward(z.clone());
            let grads = a.clone().sum().backward();
            let a = tensor::to_vec(&a).unwrap();
            let g = tensor::to_vec(&z.grad(&grads).unwrap()).unwrap();
            for i in 0..n - 1 {
                assert!(
                    (0.0..=1.0).contains(&a[i]) && (0.0..=0.25).contains(&g[i]),
                    "{backend} {precision}: element {i}: σ = {}, σ′ = {}",
                    a[i],
                    g[i]
                );
            }
            assert!(
                a[0] < 1e-37 && a[n - 2] == 1.0,
                "{backend} {precision}: {a:?}"
            );
            assert!(
                a[n - 1].is_nan(),
                "{backend} {precision}: σ(NaN) = {}",
                a[n - 1]
            );
        }
    }
}

#[test]
fn tiny_network_matches_gradients_derived_by_hand() {
    // A 2-2-1 sigmoid network, two examples, λ = 0.1.
    //
    // Parameters (weight[i][j] joins input i to unit j, the reference's W transposed):
    //   w1 = [[0.1, 0.2], [0.3, 0.4]], b1 = [0.1, −0.1], w2 = [[0.5], [−0.6]], b2 = [0.2].
    //
    // For one example (x, y), by the chain rule:
    //   z2_j = Σ_i x_i w1[i][j] + b1_j,   a2_j = σ(z2_j)
    //   z3   = Σ_j a2_j w2[j] + b2,       h = σ(z3)
    //   J(x, y) = ½ (h − y)²
    //   δ3   = ∂J/∂z3   = (h − y) · h (1 − h)              (σ′ = σ(1 − σ))
    //   δ2_j = ∂J/∂z2_j = w2[j] δ3 · a2_j (1 − a2_j)
    //   ∂J/∂w2[j] = δ3 a2_j,  ∂J/∂b2 = δ3,  ∂J/∂w1[i][j] = x_i δ2_j,  ∂J/∂b1_j = δ2_j
    // Over the batch: average the per-example terms, then add λw to weight
    // gradients only; J gains (λ/2) Σ w² = 0.05 · (0.01+0.04+0.09+0.16+0.25+0.36).
    let (w1, b1, w2, b2) = ([[0.1, 0.2], [0.3, 0.4]], [0.1, -0.1], [0.5, -0.6], 0.2);
    let examples = [([1.0, 2.0], 1.0), ([-1.0, 0.5], 0.0)];
    let lambda = 0.1;

    let (mut j, mut g_w1, mut g_b1, mut g_w2, mut g_b2) =
        (0.0, [[0.0; 2]; 2], [0.0; 2], [0.0; 2], 0.0);
    for (x, y) in examples {
        let a2: [f64; 2] =
            std::array::from_fn(|k| sigmoid(x[0] * w1[0][k] + x[1] * w1[1][k] + b1[k]));
        let h = sigmoid(a2[0] * w2[0] + a2[1] * w2[1] + b2);
        j += 0.5 * (h - y) * (h - y);
        let delta3 = (h - y) * h * (1.0 - h);
        g_b2 += delta3;
        for k in 0..2 {
            g_w2[k] += delta3 * a2[k];
            let delta2 = w2[k] * delta3 * a2[k] * (1.0 - a2[k]);
            g_b1[k] += delta2;
            for i in 0..2 {
                g_w1[i][k] += x[i] * delta2;
            }
        }
    }
    let m = examples.len() as f64;
    let sum_sq: f64 = w1.iter().flatten().chain(&w2).map(|w| w * w).sum();
    let expected_cost = j / m + lambda / 2.0 * sum_sq;
    let expected = [
        vec![
            g_w1[0][0] / m + lambda * w1[0][0],
            g_w1[0][1] / m + lambda * w1[0][1],
            g_w1[1][0] / m + lambda * w1[1][0],
            g_w1[1][1] / m + lambda * w1[1][1],
        ],
        vec![g_b1[0] / m, g_b1[1] / m],
        vec![g_w2[0] / m + lambda * w2[0], g_w2[1] / m + lambda * w2[1]],
        vec![g_b2 / m],
    ];

    for backend in Backend::ALL {
        let device = backend.device().unwrap();
        let p = Precision::F64;
        let net = Network::new(vec![
            Dense::from_values(
                vec![0.1, 0.2, 0.3, 0.4],
                b1.to_vec(),
                [2, 2],
                Activation::Sigmoid,
                &device,
                p,
            ),
            Dense::from_values(
                w2.to_vec(),
                vec![b2],
                [2, 1],
                Activation::Sigmoid,
                &device,
                p,
            ),
        ])
        .unwrap();
        let x = tensor::matrix("x", vec![1.0, 2.0, -1.0, 0.5], [2, 2], &device, p).unwrap();
        let y = tensor::matrix("y", vec![1.0, 0.0], [2, 1], &device, p).unwrap();
        let grads = net.gradients(x, y, lambda).unwrap();
        // A few dozen operations per value; the library evaluates σ through
        // tanh, an exact identity that rounds differently, so allow ~100 u.
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-14 * b.abs().max(1e-3);
        assert!(
            close(grads.cost, expected_cost),
            "{backend}: cost {} vs {expected_cost}",
            grads.cost
        );
        let got = [
            tensor::to_vec(&grads.layers[0].weight).unwrap(),
            tensor::to_vec(&grads.layers[0].bias).unwrap(),
            tensor::to_vec(&grads.layers[1].weight).unwrap(),
            tensor::to_vec(&grads.layers[1].bias).unwrap(),
        ];
        for ((path, got), want) in net.param_paths().iter().zip(&got).zip(&expected) {
            for (k, (a, b)) in got.iter().zip(want).enumerate() {
                assert!(
                    close(*a, *b),
                    "{backend} {path}[{k}]: manual {a:e}, by hand {b:e}"
                );
            }
        }
    }
}

#[test]
fn per_example_loop_equals_batched_matrix_form() {
    // Same sums, different association: the batch form sums m products inside
    // one matrix product, the loop adds m per-example matrices. The difference
    // is bounded by ~m·u relative to the summed magnitudes (m ≤ 37, u = 1.1e-16),
    // so 1e-12 of the tensor's scale is a tight but safe bound.
    let tolerance = Tolerance {
        relative: 1e-12,
        floor: 1e-12,
    };
    for backend in Backend::ALL {
        let device = backend.device().unwrap();
        for case in cases() {
            let (net, x, y) = case.build(&device, Precision::F64, 9);
            let batched = net
                .gradients(x.clone(), y.clone(), case.weight_decay)
                .unwrap();
            let looped = net.gradients_per_example(x, y, case.weight_decay).unwrap();
            assert!(
                (batched.cost - looped.cost).abs() <= 1e-13 * batched.cost.abs(),
                "{backend} {}: cost {} vs {}",
                case.name,
                batched.cost,
                looped.cost
            );
            let report = verification::compare(
                &net,
                ("batched", "per-example"),
                &net.to_gradients_params(&batched),
                &net.to_gradients_params(&looped),
                tolerance,
            )
            .unwrap();
            assert!(report.passed, "{backend} {}:\n{report}", case.name);
        }
    }
}

/// The incoming weights of each unit of the first hidden layer (columns of layers[0].weight).
fn incoming_weights(net: &Network) -> Vec<Vec<f64>> {
    let [d_in, d_out] = net.layers()[0].dims();
    let w = tensor::to_vec(&net.layers()[0].weight.val()).unwrap();
    (0..d_out)
        .map(|j| (0..d_in).map(|i| w[i * d_out + j]).collect())
        .collect()
}

fn train_xor(mut net: Network, steps: usize) -> Network {
    let device = net.device();
    let x = tensor::matrix(
        "x",
        vec![0., 0., 0., 1., 1., 0., 1., 1.],
        [4, 2],
        &device,
        Precision::F64,
    )
    .unwrap();
    let y = tensor::matrix("y", vec![0., 1., 1., 0.], [4, 1], &device, Precision::F64).unwrap();
    for _ in 0..steps {
        let grads = net.gradients(x.clone(), y.clone(), 1e-3).unwrap();
        net = gradient_descent_step(net, grads, 2.0).unwrap();
    }
    net
}

#[test]
fn equal_initial_weights_keep_hidden_units_identical_random_ones_do_not() {
    // docs/maths.md § 8: with all-equal initial values every hidden unit
    // of a layer computes the same function of the input, receives the same
    // gradient, and so stays identical however long we train.
    for backend in Backend::ALL {
        let device = backend.device().unwrap();
        let config = NetworkConfig::new(vec![2, 4, 1]);
        let symmetric = train_xor(
            config.init_constant(&device, Precision::F64, 0.3).unwrap(),
            200,
        );
        let units = incoming_weights(&symmetric);
        let moved = units[0].iter().map(|w| (w - 0.3).abs()).fold(0.0, f64::max);
        assert!(
            moved > 1e-3,
            "{backend}: training must change the weights (moved {moved:e})"
        );
        for unit in &units[1..] {
            for (a, b) in unit.iter().zip(&units[0]) {
                // Identical arithmetic on identical columns: equal up to the
                // rounding a blocked matrix kernel may add on edge columns.
                assert!(
                    (a - b).abs() <= 1e-12,
                    "{backend}: hidden units diverged: {units:?}"
                );
            }
        }

        let random = train_xor(
            config
                .with_init_std(0.5)
                .init(&device, Precision::F64)
                .unwrap(),
            200,
        );
        let units = incoming_weights(&random);
        let spread = units[1..]
            .iter()
            .map(|u| {
                u.iter()
                    .zip(&units[0])
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max)
            })
            .fold(f64::INFINITY, f64::min);
        assert!(
            spread > 1e-2,
            "{backend}: random init must give distinct units: {units:?}"
        );
    }
}

#[test]
fn hand_written_update_equals_burn_sgd_fed_the_manual_gradients() {
    // θ ← θ − α ∂J/∂θ by our step and by burn's SGD optimizer (no momentum, no
    // decay: λW is already inside the manual gradient). Same single operation
    // per element, so the results are bit-identical.
    for backend in Backend::ALL {
        let device = backend.device().unwrap();
        let case = &cases()[3];
        let (net, x, y) = case.build(&device, Precision::F64, 13);
        let grads = net.gradients(x, y, case.weight_decay).unwrap();
        let alpha = 0.25;
        let ours = gradient_descent_step(net.clone(), grads.clone(), alpha).unwrap();
        let mut sgd = SgdConfig::new().init();
        let burns = sgd
            .step(alpha, net.clone().train(), net.to_gradients_params(&grads))
            .valid();
        assert_eq!(
            ours.param_values().unwrap(),
            burns.param_values().unwrap(),
            "{backend}"
        );
    }
}
