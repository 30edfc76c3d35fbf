//! A checker that cannot fail is worthless: deliberately wrong backward passes
//! must be caught by the same comparisons that pass the real one.

mod common;

use burn::tensor::Tensor;
use common::Case;
use manual_backprop::gradients::{self, FiniteDifference};
use manual_backprop::verification::{self, Comparison, Tolerance};
use manual_backprop::{
    Activation, Backend, DenseGrads, Gradients, Layer, Network, Precision, cost,
};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Bug {
    /// The correct algorithm, re-implemented here: proves the harness below
    /// differs from the library only by the injected bug.
    None,
    /// λ b added to the bias gradients: biases decayed.
    BiasDecayed,
    /// λ W left out of the weight gradients.
    DecayMissing,
    /// f′ evaluated at z instead of at a = f(z): z(1 − z), 1 − z².
    DerivativeFromZ,
    /// The error sent down through the weight instead of its transpose
    /// (δ · weight instead of δ · weightᵀ), in the square layer.
    TransposedWeight,
}

/// Backpropagation with one bug injected.
fn buggy_gradients(net: &Network, x: Tensor<2>, y: Tensor<2>, lambda: f64, bug: Bug) -> Gradients {
    let (h, caches) = Layer::forward_cached(net, x.clone());
    let mut grad = cost::squared_error_grad(h, y.clone());
    let mut layers = Vec::new();
    for (layer, cache) in net.layers().iter().zip(caches).rev() {
        let f_prime = if bug == Bug::DerivativeFromZ {
            let z =
                cache.input.clone().matmul(layer.weight.val()) + layer.bias.val().unsqueeze::<2>();
            layer.activation.derivative_from_output(z)
        } else {
            layer.activation.derivative_from_output(cache.output)
        };
        let delta = grad * f_prime;
        let mut weight = cache.input.transpose().matmul(delta.clone());
        let mut bias = delta.clone().sum_dim(0).squeeze_dim::<1>(0);
        let [d_in, d_out] = layer.dims();
        grad = if bug == Bug::TransposedWeight && d_in == d_out {
            delta.matmul(layer.weight.val())
        } else {
            delta.matmul(layer.weight.val().transpose())
        };
        if bug != Bug::DecayMissing {
            weight = weight + layer.weight.val().mul_scalar(lambda);
        }
        if bug == Bug::BiasDecayed {
            bias = bias + layer.bias.val().mul_scalar(lambda);
        }
        layers.push(DenseGrads { weight, bias });
    }
    layers.reverse();
    Gradients {
        cost: net.cost(x, y, lambda).unwrap(),
        layers,
    }
}

fn failing_paths(report: &Comparison) -> Vec<String> {
    report
        .tensors
        .iter()
        .filter(|t| !t.agreement.passed)
        .map(|t| t.path.clone())
        .collect()
}

#[test]
fn wrong_backward_passes_are_caught_by_autodiff_and_finite_differences() {
    // Three layers with a square middle one (4 → 4) so a transposed weight
    // still has the right shape and only the numbers betray it.
    let case = Case {
        name: "negative control",
        sizes: vec![3, 4, 4, 2],
        activations: vec![Activation::Tanh, Activation::Sigmoid, Activation::Sigmoid],
        weight_decay: 0.1,
        m: 11,
        input_scale: 1.0,
        init_std: 1.0,
    };
    let weights = ["layers.0.weight", "layers.1.weight", "layers.2.weight"];
    let biases = ["layers.0.bias", "layers.1.bias", "layers.2.bias"];
    for backend in Backend::ALL {
        let device = backend.device().unwrap();
        let (net, x, y) = case.build(&device, Precision::F64, 21);
        let lambda = case.weight_decay;
        let autodiff = gradients::autodiff_gradients(&net, x.clone(), y.clone(), lambda).unwrap();
        let numeric = gradients::numeric_gradients(
            &net,
            x.clone(),
            y.clone(),
            lambda,
            FiniteDifference::central(1e-5),
        )
        .unwrap();
        let truth_params = [
            (
                "autodiff",
                net.to_gradients_params(&autodiff),
                Tolerance::exact(Precision::F64),
            ),
            // Finite differences carry O(ε²) error: relative 1e-6 is still a
            // million times finer than any of these bugs.
            (
                "numeric",
                net.to_gradients_params(&numeric),
                Tolerance {
                    relative: 1e-6,
                    floor: 1e-6,
                },
            ),
        ];
        for bug in [
            Bug::None,
            Bug::BiasDecayed,
            Bug::DecayMissing,
            Bug::DerivativeFromZ,
            Bug::TransposedWeight,
        ] {
            let buggy = buggy_gradients(&net, x.clone(), y.clone(), lambda, bug);
            for (truth, params, tolerance) in &truth_params {
                let report = verification::compare(
                    &net,
                    ("buggy", truth),
                    &net.to_gradients_params(&buggy),
                    params,
                    *tolerance,
                )
                .unwrap();
                let failing = failing_paths(&report);
                let expected: Vec<&str> = match bug {
                    Bug::None => vec![],
                    Bug::BiasDecayed => biases.to_vec(),
                    Bug::DecayMissing => weights.to_vec(),
                    // Every layer's δ is wrong, so every gradient is.
                    Bug::DerivativeFromZ => weights
                        .iter()
                        .zip(&biases)
                        .flat_map(|(w, b)| [*w, *b])
                        .collect(),
                    // Only the error sent below the square layer is wrong.
                    Bug::TransposedWeight => vec!["layers.0.weight", "layers.0.bias"],
                };
                assert_eq!(failing, expected, "{backend} {bug:?} vs {truth}:\n{report}");
                assert_eq!(
                    report.passed,
                    bug == Bug::None,
                    "{backend} {bug:?} vs {truth}"
                );
                if let Some(worst) = report.worst().filter(|_| bug != Bug::None) {
                    // The report names where it is wrong, with both values.
                    assert!(
                        expected.contains(&worst.path.as_str()),
                        "{bug:?}: worst {worst:?}"
                    );
                    assert_ne!(worst.agreement.values.0, worst.agreement.values.1);
                    println!(
                        "{backend} {bug:?} vs {truth}: worst {}{:?} buggy {:.6e} vs {:.6e}",
                        worst.path,
                        worst.agreement.worst_input,
                        worst.agreement.values.0,
                        worst.agreement.values.1
                    );
                }
            }
        }
    }
}

#[test]
fn comparison_fails_on_nan_and_names_the_entry() {
    let a = [1.0, 2.0, 3.0];
    let b = [1.0, f64::NAN, 3.0];
    let report = verification::compare::compare_values(
        "g",
        &[1, 3],
        &a,
        &b,
        Tolerance::exact(Precision::F64),
    );
    assert!(!report.agreement.passed);
    assert_eq!(report.agreement.worst_input, vec![0, 1]);
}
