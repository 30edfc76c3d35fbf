//! The manual gradients equal burn-autodiff's gradients of the same cost, on
//! every CPU backend compiled in, in f64 and in f32.

mod common;

use burn::module::Module;
use common::{Case, cases, uniform};
use manual_backprop::gradients;
use manual_backprop::verification::{self, Comparison, Tolerance};
use manual_backprop::{Activation, Backend, DenseConfig, Precision, tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Manual vs autodiff for one case; returns the comparison and both costs.
fn manual_vs_autodiff(
    case: &Case,
    backend: &Backend,
    precision: Precision,
) -> (Comparison, f64, f64) {
    let device = backend.device().unwrap();
    let (net, x, y) = case.build(&device, precision, 7);
    let manual = net
        .gradients(x.clone(), y.clone(), case.weight_decay)
        .unwrap();
    let autodiff = gradients::autodiff_gradients(&net, x, y, case.weight_decay).unwrap();
    let report = verification::compare(
        &net,
        ("manual", "autodiff"),
        &net.to_gradients_params(&manual),
        &net.to_gradients_params(&autodiff),
        Tolerance::exact(precision),
    )
    .unwrap();
    (report, manual.cost, autodiff.cost)
}

#[test]
fn manual_gradients_equal_autodiff_on_every_backend_and_precision() {
    let mut failures = Vec::new();
    for backend in Backend::ALL {
        for precision in Precision::ALL {
            let mut worst_rel = 0.0_f64;
            let mut worst_norm = 0.0_f64;
            for case in cases() {
                let (report, manual_cost, autodiff_cost) =
                    manual_vs_autodiff(&case, &backend, precision);
                worst_rel = worst_rel.max(report.max_rel_diff());
                worst_norm = worst_norm.max(report.max_relative_difference());
                // The cost is the same function evaluated on the same values in
                // the same order, so it agrees to the last bit.
                if manual_cost != autodiff_cost {
                    failures.push(format!(
                        "{backend}/{precision} {}: cost {manual_cost:e} (manual) vs {autodiff_cost:e} (autodiff)",
                        case.name
                    ));
                }
                if !report.passed {
                    failures.push(format!("{backend}/{precision} {}:\n{report}", case.name));
                }
            }
            println!(
                "{backend:>7} {precision}: worst element-wise relative difference {worst_rel:.3e}, \
                 worst ‖a−b‖/‖a+b‖ {worst_norm:.3e} over {} cases",
                cases().len()
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn manual_gradients_params_match_autodiff_from_grads_key_by_key() {
    // Keyed the way burn's optimizers see them: GradientsParams::from_grads of
    // an autodiff backward on one side, our ParamId-keyed conversion on the other.
    for backend in Backend::ALL {
        let device = backend.device().unwrap();
        let case = &cases()[3];
        let (net, x, y) = case.build(&device, Precision::F64, 11);
        let manual = net.to_gradients_params(
            &net.gradients(x.clone(), y.clone(), case.weight_decay)
                .unwrap(),
        );
        let model = net.clone().train();
        let cost = model.cost_tensor(x.autodiff(), y.autodiff(), case.weight_decay);
        let autodiff = burn::optim::GradientsParams::from_grads(cost.backward(), &model);
        assert_eq!(
            manual.len(),
            autodiff.len(),
            "one gradient per parameter on both sides"
        );
        assert_eq!(manual.len(), 2 * net.layers().len());
        let report = verification::compare(
            &net,
            ("manual", "autodiff"),
            &manual,
            &autodiff,
            Tolerance::exact(Precision::F64),
        )
        .unwrap();
        assert!(
            report.passed && report.missing.is_empty(),
            "{backend}:\n{report}"
        );
        let paths: Vec<_> = report.tensors.iter().map(|t| t.path.clone()).collect();
        assert_eq!(paths, net.param_paths());
    }
}

#[test]
fn dense_backward_alone_equals_autodiff_vector_jacobian_product() {
    // Each layer's backward checked on its own: any upstream gradient G is the
    // derivative of J = Σ(output ∘ G), so autodiff of that J is the truth.
    for backend in Backend::ALL {
        let device = backend.device().unwrap();
        for precision in Precision::ALL {
            for activation in [Activation::Sigmoid, Activation::Tanh] {
                let mut rng = StdRng::seed_from_u64(3);
                let layer = DenseConfig::new(5, 4)
                    .with_activation(activation)
                    .with_init_std(1.0)
                    .init(&device, precision, &mut rng);
                let m = 9;
                let input = tensor::matrix(
                    "input",
                    uniform(&mut rng, m * 5, 2.0),
                    [m, 5],
                    &device,
                    precision,
                )
                .unwrap();
                let upstream = tensor::matrix(
                    "G",
                    uniform(&mut rng, m * 4, 1.0),
                    [m, 4],
                    &device,
                    precision,
                )
                .unwrap();
                let (manual_input, manual) =
                    verification::layer_vjp_manual(&layer, input.clone(), upstream.clone());
                let (autodiff_input, autodiff) =
                    verification::layer_vjp_autodiff(&layer, input, upstream);
                let tolerance = Tolerance::exact(precision);
                let report = verification::compare(
                    &layer,
                    ("manual", "autodiff"),
                    &manual,
                    &autodiff,
                    tolerance,
                )
                .unwrap();
                assert!(
                    report.passed,
                    "{backend}/{precision}/{activation}:\n{report}"
                );
                assert_eq!(report.tensors.len(), 2, "weight and bias both compared");
                let input_report = verification::compare::compare_values(
                    "input",
                    &[m, 5],
                    &tensor::to_vec(&manual_input).unwrap(),
                    &tensor::to_vec(&autodiff_input).unwrap(),
                    tolerance,
                );
                assert!(
                    input_report.agreement.passed,
                    "{backend}/{precision}/{activation}: ∂J/∂input {input_report:?}"
                );
            }
        }
    }
}
