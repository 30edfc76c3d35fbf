//! A backend-extension operation with a hand-written `Backward` — the worked
//! example `examples/custom_backward.rs` — verified by the gradient checker
//! in every mode, and its twin with a backward 1 % off caught in every mode.

#[path = "../examples/custom_backward.rs"]
mod example;

use burn::tensor::Device;
use example::{inputs, softplus, softplus_skewed};
use manual_backprop::Precision;
use manual_backprop::verification::{GradCheck, GradReport, Place};

#[allow(deprecated)] // burn-ndarray: one of the two CPU backends this crate compares
fn places() -> [Place; 4] {
    [
        Place::new(Device::flex(), Precision::F64),
        Place::new(Device::ndarray(), Precision::F64),
        Place::new(Device::flex(), Precision::F32),
        Place::new(Device::ndarray(), Precision::F32),
    ]
}

/// The checks of `f`: full on every place, sampled, and fast.
fn every_mode(
    f: fn(&manual_backprop::verification::Args) -> burn::tensor::Tensor<2>,
) -> Vec<GradReport> {
    let inputs = inputs().unwrap();
    let mut reports: Vec<GradReport> = places()
        .into_iter()
        .map(|place| GradCheck::new().on(place).function(&inputs, f).unwrap())
        .collect();
    reports.push(
        GradCheck::new()
            .sample(3)
            .seed(1)
            .function(&inputs, f)
            .unwrap(),
    );
    reports.push(GradCheck::new().fast(4).function(&inputs, f).unwrap());
    reports
}

#[test]
fn the_hand_written_backward_passes_in_every_mode_on_every_backend() {
    for report in every_mode(|x| softplus(x.get::<2>("x"))) {
        report.assert();
    }
}

#[test]
fn its_forward_is_softplus() {
    let inputs = inputs().unwrap();
    let x = inputs.entries()[0].values.clone();
    let device = Device::flex();
    let t = burn::tensor::Tensor::<2>::from_data(
        burn::tensor::TensorData::new(x.clone(), [2, 3]),
        (&device, burn::tensor::DType::F64),
    );
    let y = manual_backprop::tensor::to_vec(&softplus(t)).unwrap();
    for (xi, yi) in x.iter().zip(y) {
        assert!((yi - (1.0 + xi.exp()).ln()).abs() < 1e-15, "{xi}: {yi}");
    }
}

#[test]
fn the_twin_one_percent_off_fails_in_every_mode_naming_the_input_and_index() {
    for report in every_mode(|x| softplus_skewed(x.get::<2>("x"))) {
        assert!(!report.passed, "{report}");
        let Some(x) = report.variable("x") else {
            // Fast mode: every direction fails.
            assert!(report.directions.iter().all(|d| !d.passed), "{report}");
            continue;
        };
        assert!(!x.passed);
        // The error is 0.01·σ(x), largest at the largest x: 3.0 at [1, 2]
        // (on the diagonal of this element-wise Jacobian).
        let worst = &x.autodiff_vs_numeric;
        if x.differenced == 6 {
            assert_eq!(
                (worst.worst_output.as_slice(), worst.worst_input.as_slice()),
                ([1, 2].as_slice(), [1, 2].as_slice()),
                "{report}"
            );
        }
        let sigma = |v: f64| 1.0 / (1.0 + (-v).exp());
        let (i, j) = (worst.worst_input[0], worst.worst_input[1]);
        let xi = inputs().unwrap().entries()[0].values[i * 3 + j];
        assert!(
            (worst.values.0 / worst.values.1 - 1.01).abs() < 1e-6,
            "{report}"
        );
        assert!((worst.values.1 - sigma(xi)).abs() < 1e-8, "{report}");
    }
}
