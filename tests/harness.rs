//! The gradient-verification harness: random architectures, a layer written
//! outside the crate, a subtly wrong layer, and the JSON interchange format.

mod common;

use burn::config::Config;
use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use manual_backprop::gradients::FiniteDifference;
use manual_backprop::interchange::{DataJson, GradientsJson, ModelJson};
use manual_backprop::io::parse_json;
use manual_backprop::verification::{self, GradCheck, NetworkCheck, Tolerance};
use manual_backprop::{Activation, Backend, Layer, NetworkConfig, Precision, tensor};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;

// ---------------------------------------------------------------------------
// A layer defined outside the crate: y = softplus(x · weight + bias), with a
// deliberate bug switch to show the harness catches what it should.

/// Configuration of the [`Softplus`] test layer.
#[derive(Config, Debug)]
struct SoftplusConfig {
    d_input: usize,
    d_output: usize,
    /// Multiply ∂J/∂bias[1] by 1.01 (an off-by-a-little bug in one element).
    #[config(default = false)]
    buggy: bool,
}

#[derive(Module, Debug)]
struct Softplus {
    weight: Param<Tensor<2>>,
    bias: Param<Tensor<1>>,
    #[module(skip)]
    buggy: bool,
}

impl SoftplusConfig {
    fn init(&self, device: &Device, seed: u64) -> Softplus {
        let mut rng = StdRng::seed_from_u64(seed);
        let w = common::uniform(&mut rng, self.d_input * self.d_output, 1.0);
        let b = common::uniform(&mut rng, self.d_output, 1.0);
        let opts = (device, Precision::F64.dtype());
        Softplus {
            weight: Param::from_tensor(Tensor::from_data(
                TensorData::new(w, [self.d_input, self.d_output]),
                opts,
            )),
            bias: Param::from_tensor(Tensor::from_data(TensorData::new(b, [self.d_output]), opts)),
            buggy: self.buggy,
        }
    }
}

impl Layer for Softplus {
    type Cache = (Tensor<2>, Tensor<2>);
    type Grads = (Tensor<2>, Tensor<1>);

    // softplus(z) = ln(1 + e^z), written stably as max(z, 0) + ln(1 + e^−|z|).
    fn forward_cached(&self, input: Tensor<2>) -> (Tensor<2>, Self::Cache) {
        let z = input.clone().matmul(self.weight.val()) + self.bias.val().unsqueeze::<2>();
        let out = z.clone().clamp_min(0.0) + z.clone().abs().neg().exp().add_scalar(1.0).log();
        (out, (input, z))
    }

    // softplus′(z) = σ(z) = ½(1 + tanh(z/2)).
    fn backward(
        &self,
        (input, z): Self::Cache,
        grad_output: Tensor<2>,
    ) -> (Tensor<2>, Self::Grads) {
        let delta = grad_output * z.mul_scalar(0.5).tanh().add_scalar(1.0).mul_scalar(0.5);
        let grad_weight = input.transpose().matmul(delta.clone());
        let mut grad_bias = delta.clone().sum_dim(0).squeeze_dim::<1>(0);
        if self.buggy {
            let n = grad_bias.dims()[0];
            let mut factor = vec![1.0; n];
            factor[1] = 1.01;
            let device = grad_bias.device();
            grad_bias = grad_bias
                * Tensor::from_data(
                    TensorData::new(factor, [n]),
                    (&device, Precision::F64.dtype()),
                );
        }
        (
            delta.matmul(self.weight.val().transpose()),
            (grad_weight, grad_bias),
        )
    }

    fn register_grads(&self, (w, b): Self::Grads, into: &mut GradientsParams) {
        into.register(self.weight.id, w);
        into.register(self.bias.id, b);
    }
}

fn layer_batch(device: &Device, m: usize, d_in: usize, d_out: usize) -> (Tensor<2>, Tensor<2>) {
    let mut rng = StdRng::seed_from_u64(99);
    let p = Precision::F64;
    (
        tensor::matrix(
            "input",
            common::uniform(&mut rng, m * d_in, 2.0),
            [m, d_in],
            device,
            p,
        )
        .unwrap(),
        tensor::matrix(
            "G",
            common::uniform(&mut rng, m * d_out, 1.0),
            [m, d_out],
            device,
            p,
        )
        .unwrap(),
    )
}

#[test]
fn a_layer_written_outside_the_crate_passes_the_harness() {
    for backend in Backend::ALL {
        let device = backend.device().unwrap();
        let layer = SoftplusConfig::new(4, 3).init(&device, 5);
        let (input, g) = layer_batch(&device, 7, 4, 3);
        let report = GradCheck::new().layer(&layer, &input, &g).unwrap();
        assert!(report.passed, "{backend}:\n{report}");
        assert_eq!(report.names, ["weight", "bias", "input"]);
        assert_eq!(report.variable("weight").unwrap().differenced, 12);
        // The input is differenced too, and carries the hand-written ∂J/∂input.
        let input = report.variable("input").unwrap();
        assert_eq!(input.differenced, 28);
        assert!(input.manual_vs_numeric.as_ref().unwrap().passed, "{report}");
        println!("{backend}:\n{report}");
    }
}

#[test]
fn a_subtly_wrong_layer_fails_with_the_right_tensor_and_index() {
    for backend in Backend::ALL {
        let device = backend.device().unwrap();
        let layer = SoftplusConfig::new(4, 3).with_buggy(true).init(&device, 5);
        let (input, g) = layer_batch(&device, 7, 4, 3);
        let report = GradCheck::new().layer(&layer, &input, &g).unwrap();
        assert!(
            !report.passed,
            "{backend}: a 1% error in one element must fail:\n{report}"
        );
        let failures: Vec<_> = report
            .failures()
            .map(|v| {
                let worst = v.manual_vs_autodiff.as_ref().unwrap();
                (v.name.clone(), worst.worst_input.clone())
            })
            .collect();
        assert_eq!(
            failures,
            vec![("bias".to_string(), vec![1])],
            "{backend}:\n{report}"
        );
        let bias = report.variable("bias").unwrap();
        let (vs_autodiff, vs_numeric) = (
            bias.manual_vs_autodiff.as_ref().unwrap(),
            bias.manual_vs_numeric.as_ref().unwrap(),
        );
        assert!(!vs_autodiff.passed && !vs_numeric.passed);
        assert_eq!(vs_numeric.worst_input, vec![1], "{report}");
        assert!(
            bias.autodiff_vs_numeric.passed,
            "the two truths agree with each other"
        );
        let (manual, autodiff) = vs_autodiff.values;
        assert!(
            (manual / autodiff - 1.01).abs() < 1e-12,
            "the report carries both values at the worst entry: {bias:?}"
        );
    }
}

#[test]
fn sampled_and_directional_modes_and_parameter_selection() {
    let device = Backend::Flex.device().unwrap();
    let case = &common::cases()[3];
    let (net, x, y) = case.build(&device, Precision::F64, 4);
    let report = GradCheck::new()
        .sample(3)
        .params(&["layers.0.weight", "layers.2.bias"])
        .network(&net, &x, &y, case.weight_decay)
        .unwrap();
    assert!(report.passed, "{report}");
    assert_eq!(report.variables.len(), 2);
    assert_eq!(report.variables[0].differenced, 3);
    assert_eq!(
        report.variables[1].differenced, 2,
        "a 2-entry tensor is checked whole"
    );

    let report = GradCheck::new()
        .fast(4)
        .network(&net, &x, &y, case.weight_decay)
        .unwrap();
    assert!(report.passed, "{report}");
    assert_eq!(report.directions.len(), 4);
    for d in &report.directions {
        // A correct backward in f64: manual, autodiff and the difference
        // along the direction agree to the differences' accuracy. A
        // projection can cancel far below the gradient's norm (here to
        // 4e-3), so the difference is judged against ‖∇J‖ as the engine
        // judges it: a hundredth of the allowance is ~1e-8 of ‖∇J‖.
        let manual = d.manual.expect("the hand-written gradient along v");
        assert!(d.violation < 0.01, "{report}");
        assert!(
            (manual - d.target).abs() <= 1e-12 * manual.abs(),
            "{report}"
        );
    }

    let err = GradCheck::new()
        .params(&["layers.9.weight"])
        .network(&net, &x, &y, case.weight_decay)
        .unwrap_err();
    assert!(err.to_string().contains("layers.9.weight"), "{err}");
}

#[test]
fn an_f32_network_is_certified_by_f64_differences_on_the_reference_and_bad_epsilon_warns() {
    let device = Backend::Flex.device().unwrap();
    let case = &common::cases()[0];
    let (net, x, y) = case.build(&device, Precision::F32, 4);
    let report = GradCheck::new()
        .network(&net, &x, &y, case.weight_decay)
        .unwrap();
    // The f32 target is compared with the same check in f64 on flex, whose
    // autodiff finite differences certify: no smoke test, every row judged.
    assert_eq!(report.precision, Precision::F32);
    assert!(report.reference.is_some(), "{report}");
    for v in &report.variables {
        assert!(v.target_vs_reference.is_some(), "{report}");
        assert!(v.manual_vs_numeric.is_some(), "{report}");
    }
    assert!(report.passed, "{report}");
    assert!(report.warnings.is_empty(), "{report}");

    let (net, x, y) = case.build(&device, Precision::F64, 4);
    let report = GradCheck::new()
        .epsilon(1e-12)
        .network(&net, &x, &y, case.weight_decay)
        .unwrap();
    assert!(
        report.warnings.iter().any(|w| w.contains("rounding")),
        "{report}"
    );
}

#[test]
fn function_check_reproduces_the_reference_course_example() {
    let h = |x: &[f64]| Ok(x[0] * x[0] + 3.0 * x[0] * x[1]);
    let r = verification::check_function(
        h,
        &[4.0, 10.0],
        &[38.0, 12.0],
        FiniteDifference::central(1e-4),
    )
    .unwrap();
    assert!(r.relative_difference < 1e-11, "{r:?}");
    let wrong = verification::check_function(
        h,
        &[4.0, 10.0],
        &[38.0, 13.0],
        FiniteDifference::central(1e-4),
    )
    .unwrap();
    assert!(
        wrong.relative_difference > 1e-2 && wrong.worst_index == 1,
        "{wrong:?}"
    );
}

// ---------------------------------------------------------------------------
// Property tests over random architectures.

fn architecture() -> impl Strategy<Value = (Vec<usize>, Vec<Activation>, f64, usize, f64, u64)> {
    (
        3usize..=6,                                // input units
        prop::collection::vec(1usize..=12, 1..=4), // hidden layers
        1usize..=5,                                // outputs
        0.0f64..=1.0,                              // λ
        1usize..=40,                               // m
        prop_oneof![Just(1.0), Just(20.0)],        // input scale (20 saturates units)
        any::<u64>(),
    )
        .prop_flat_map(|(n_in, hidden, n_out, lambda, m, scale, seed)| {
            let mut sizes = vec![n_in];
            sizes.extend(hidden);
            sizes.push(n_out);
            let layers = sizes.len() - 1;
            (
                Just(sizes),
                prop::collection::vec(
                    prop_oneof![Just(Activation::Sigmoid), Just(Activation::Tanh)],
                    layers,
                ),
                Just(lambda),
                Just(m),
                Just(scale),
                Just(seed),
            )
        })
}

proptest! {
    // Each case builds a net, runs both backward passes and ~4 cost
    // evaluations per parameter; 24 cases keep this under a few seconds.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_networks_manual_equals_autodiff_and_finite_differences(
        (sizes, activations, lambda, m, scale, seed) in architecture()
    ) {
        let device = Backend::Flex.device().unwrap();
        let case = common::Case {
            name: "proptest",
            sizes,
            activations,
            weight_decay: lambda,
            m,
            input_scale: scale,
            init_std: 1.0,
        };
        let (net, x, y) = case.build(&device, Precision::F64, seed);
        // Richardson-extrapolated differences: saturating inputs make the cost
        // curve on a scale of 1/20 in the first layer (see reference_maths.rs).
        let report = GradCheck::new()
            .finite_difference(FiniteDifference::richardson(1e-4))
            .network(&net, &x, &y, lambda)
            .unwrap();
        prop_assert!(report.passed, "{:?}\n{}", case, report);
        let summary = report.numeric_relative_difference().unwrap();
        prop_assert!(summary < 1e-8, "‖m−n‖/‖m+n‖ = {:e}\n{}", summary, report);
    }
}

// ---------------------------------------------------------------------------
// JSON interchange.

#[test]
fn json_model_round_trips_and_gradients_match_the_native_network() {
    let device = Backend::Ndarray.device().unwrap();
    let net = NetworkConfig::new(vec![3, 4, 2])
        .with_layer_activations(Some(vec![Activation::Tanh, Activation::Sigmoid]))
        .with_init_std(0.5)
        .init(&device, Precision::F64)
        .unwrap();
    let json = serde_json::to_string(&ModelJson::from_network(&net).unwrap()).unwrap();
    let model: ModelJson = parse_json(&json, "model").unwrap();
    assert_eq!(model.layers[0].activation, Some(Activation::Tanh));
    assert_eq!(model.layers[0].weight.len(), 3, "one row per input unit");
    assert_eq!(
        model.layers[0].weight[0].len(),
        4,
        "one column per output unit"
    );
    let back = model.to_network(&device, Precision::F64).unwrap();
    assert_eq!(back.param_values().unwrap(), net.param_values().unwrap());

    let data: DataJson = parse_json(
        r#"{"x": [[1, 2, 3], [0.5, -1, 2]], "y": [[0.1, 0.9], [0.8, 0.2]]}"#,
        "data",
    )
    .unwrap();
    let (x, y) = data.to_tensors(&back).unwrap();
    let a = GradientsJson::from_gradients(&net, &net.gradients(x.clone(), y.clone(), 0.1).unwrap())
        .unwrap();
    let b = GradientsJson::from_gradients(&back, &back.gradients(x, y, 0.1).unwrap()).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.layers[1].weight.len(), 4);
}

#[test]
fn malformed_json_is_rejected_naming_the_field() {
    let device = Backend::Flex.device().unwrap();
    let model = |text: &str| {
        parse_json::<ModelJson>(text, "m.json")
            .and_then(|m| m.to_network(&device, Precision::F64))
            .unwrap_err()
            .to_string()
    };
    let cases = [
        (
            r#"{"activation": "sigmoid", "layers": [{"weight": [[1, 2], [3]], "bias": [0, 0]}]}"#,
            "layers[0].weight[1]",
        ),
        (
            r#"{"activation": "sigmoid", "layers": [{"weight": [[1, 2]], "bias": [0, 0]}, {"weight": [[1], [2], [3]], "bias": [0]}]}"#,
            "layers[1].weight",
        ),
        (
            r#"{"activation": "sigmoid", "layers": [{"weight": [[1, 2]], "bias": [0]}]}"#,
            "layers[0].bias",
        ),
        (r#"{"activation": "sigmoid", "layers": []}"#, "layers"),
        (r#"{"activation": "relu", "layers": []}"#, "relu"),
        (
            r#"{"activation": "sigmoid", "layers": [{"weight": [[1e999]], "bias": [0]}]}"#,
            "line 1, column 55: number out of range",
        ),
        (
            r#"{"activation": "sigmoid", "layers": [{"weight": [[NaN]], "bias": [0]}]}"#,
            "line 1",
        ),
        (
            r#"{"activation": "sigmoid", "layers": [{"weight": [[1]], "bias": [0], "bais": 1}]}"#,
            "bais",
        ),
    ];
    for (text, needle) in cases {
        let err = model(text);
        assert!(
            err.contains(needle),
            "{text}\n→ {err}\n(should name {needle})"
        );
    }

    let net = NetworkConfig::new(vec![2, 3, 1])
        .init(&device, Precision::F64)
        .unwrap();
    let data = |text: &str| {
        parse_json::<DataJson>(text, "d.json")
            .and_then(|d| d.to_tensors(&net).map(|_| ()))
            .unwrap_err()
            .to_string()
    };
    for (text, needle) in [
        (r#"{"x": [[1, 2]], "y": [[1, 2]]}"#, "y[0]"),
        (r#"{"x": [[1, 2, 3]], "y": [[1]]}"#, "x[0]"),
        (r#"{"x": [], "y": []}"#, "at least one row"),
        (r#"{"x": [[1, 2], [3, 4]], "y": [[1]]}"#, "one per row of x"),
        (r#"{"x": [[1, 2]]}"#, "missing field `y`"),
    ] {
        let err = data(text);
        assert!(
            err.contains(needle),
            "{text}\n→ {err}\n(should name {needle})"
        );
    }
}

#[test]
fn tolerances_are_what_the_docs_say() {
    assert_eq!(Tolerance::exact(Precision::F64).relative, 1e-10);
    let (net, x, y) = tiny_network();
    let report = GradCheck::new().network(&net, &x, &y, 0.0).unwrap();
    assert_eq!(report.finite_difference, FiniteDifference::central(1e-6));
    assert_eq!(
        report.numeric_tolerance,
        Tolerance {
            relative: 1e-6,
            floor: 1e-6
        }
    );
    assert_eq!(
        report.manual_tolerance,
        Some(Tolerance::exact(Precision::F64))
    );
}

#[test]
fn exported_models_take_raw_features() {
    use manual_backprop::data::preprocess::{FeatureScaling, Preprocessing};
    use manual_backprop::data::synthetic;
    use manual_backprop::training::Prepared;
    // The exported model folds the feature transform into its first layer, so
    // raw features through it equal transformed features through the network.
    let device = Backend::Flex.device().unwrap();
    let data = synthetic::sine(30);
    let pre = Preprocessing::fit(&data, FeatureScaling::Standardize, Activation::Tanh).unwrap();
    let net = NetworkConfig::new(vec![1, 5, 1])
        .with_activation(Activation::Tanh)
        .with_init_std(0.7)
        .init(&device, Precision::F64)
        .unwrap();
    let prepared = Prepared::new(&data, &pre, &device, Precision::F64).unwrap();
    let expected = tensor::to_vec(&net.forward(prepared.x)).unwrap();
    let exported = ModelJson::from_network_on_raw_features(&net, &pre.features)
        .unwrap()
        .to_network(&device, Precision::F64)
        .unwrap();
    let raw = tensor::matrix("x", data.features.clone(), [30, 1], &device, Precision::F64).unwrap();
    let got = tensor::to_vec(&exported.forward(raw)).unwrap();
    for (a, b) in got.iter().zip(&expected) {
        // One re-associated affine map per input: a few ulps.
        assert!((a - b).abs() <= 1e-14, "{a} vs {b}");
    }
}

#[test]
fn a_saturated_layer_whose_whole_gradient_is_tiny_passes() {
    // Found by the proptest above (one run in many): every hidden unit is
    // saturated (inputs scaled by 20, weights ~ N(0, 1)), so layers.0.bias's
    // gradient is ~1.9e-12 while layers.1.weight's is ~2. σ′ = a(1 − a) from a
    // rounded a ≈ 1 is off by ≈ u absolutely, so manual and autodiff differ by
    // 5e-18 there: 3e-6 of the tiny entries, 2.5e-18 of the gradient's scale.
    // The comparison must judge that against the whole gradient, as it does
    // finite differences, or a correct backward pass fails.
    let device = Backend::Flex.device().unwrap();
    let case = common::Case {
        name: "saturated",
        sizes: vec![6, 2, 4],
        activations: vec![Activation::Sigmoid, Activation::Sigmoid],
        weight_decay: 0.8473697217156958,
        m: 6,
        input_scale: 20.0,
        init_std: 1.0,
    };
    let (net, x, y) = case.build(&device, Precision::F64, 18212415168193134534);
    let report = GradCheck::new()
        .finite_difference(FiniteDifference::richardson(1e-4))
        .network(&net, &x, &y, case.weight_decay)
        .unwrap();
    let bias = report.variable("layers.0.bias").unwrap();
    let vs_autodiff = bias.manual_vs_autodiff.as_ref().unwrap();
    assert!(
        vs_autodiff.max_abs_diff > 0.0 && vs_autodiff.max_rel_diff > 1e-7,
        "the case no longer exercises saturation:\n{report}"
    );
    assert!(report.passed, "{report}");
    assert!(
        report.numeric_relative_difference().unwrap() < 1e-8,
        "{report}"
    );
}

/// The operands of the per-feature scale layers below: scale, x and the
/// upstream gradient (times `upstream`), in f64 on flex.
fn scale_operands(upstream: f64) -> (Tensor<1>, Tensor<2>, Tensor<2>) {
    let (device, p) = (Backend::Flex.device().unwrap(), Precision::F64);
    let scale = tensor::vector("scale", vec![0.5, -2.0, 3.0], &device, p).unwrap();
    let x = tensor::matrix("x", vec![1., 2., 3., 4., 5., 6.], [2, 3], &device, p).unwrap();
    let g = [0.1, 0.2, 0.3, -0.4, 0.5, -0.6]
        .map(|v| v * upstream)
        .to_vec();
    let upstream = tensor::matrix("G", g, [2, 3], &device, p).unwrap();
    (scale, x, upstream)
}

/// y = x · diag(scale), with a backward 1 % too large in every gradient.
#[derive(Module, Debug)]
struct SkewedScale {
    scale: Param<Tensor<1>>,
}

impl Layer for SkewedScale {
    type Cache = Tensor<2>;
    type Grads = Tensor<1>;
    fn forward_cached(&self, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        (x.clone() * self.scale.val().unsqueeze::<2>(), x)
    }
    fn backward(&self, x: Tensor<2>, grad_out: Tensor<2>) -> (Tensor<2>, Tensor<1>) {
        let grad_scale = (grad_out.clone() * x).sum_dim(0).squeeze_dim::<1>(0);
        let grad_x = grad_out * self.scale.val().unsqueeze::<2>();
        (grad_x.mul_scalar(1.01), grad_scale.mul_scalar(1.01))
    }
    fn register_grads(&self, grads: Tensor<1>, into: &mut GradientsParams) {
        into.register(self.scale.id, grads);
    }
}

#[test]
fn the_summary_of_a_check_is_the_relative_difference_of_the_whole_gradient() {
    // Every hand-written entry (the scale's and the input's) is 1.01 times
    // the true one, so over all of them ‖m − n‖/‖m + n‖ = 0.01/2.01 exactly,
    // up to the finite differences' error (~1e-10 relative here: J is
    // bilinear in scale and x).
    let (scale, x, upstream) = scale_operands(1.0);
    let layer = SkewedScale {
        scale: Param::from_tensor(scale),
    };
    let report = GradCheck::new().layer(&layer, &x, &upstream).unwrap();
    assert!(!report.passed, "{report}");
    let summary = report.numeric_relative_difference().unwrap();
    assert!(
        (summary - 0.01 / 2.01).abs() < 1e-8,
        "{summary:e}\n{report}"
    );
}

#[test]
fn a_function_check_that_agrees_everywhere_names_the_first_entry() {
    // J ≡ 0 with gradient 0: the differences are exactly 0, every entry ties,
    // and the report names the first.
    let check = verification::check_function(
        |_| Ok(0.0),
        &[1.0, 2.0, 3.0],
        &[0.0, 0.0, 0.0],
        FiniteDifference::central(1e-6),
    )
    .unwrap();
    assert_eq!((check.worst_index, check.max_abs_diff), (0, 0.0));
    assert_eq!(check.relative_difference, 0.0);
}

/// A [2, 3, 1] network and a batch of two, in f64 on flex.
fn tiny_network() -> (manual_backprop::Network, Tensor<2>, Tensor<2>) {
    let device = Backend::Flex.device().unwrap();
    let net = NetworkConfig::new(vec![2, 3, 1])
        .with_init_std(0.5)
        .init(&device, Precision::F64)
        .unwrap();
    let p = Precision::F64;
    let x = tensor::matrix("x", vec![0.1, 0.9, 0.7, 0.3], [2, 2], &device, p).unwrap();
    let y = tensor::matrix("y", vec![1.0, 0.0], [2, 1], &device, p).unwrap();
    (net, x, y)
}

#[test]
fn the_step_warning_fires_only_far_from_the_sweet_spot_and_names_the_side() {
    // Finite differences run in f64, whose central sweet spot u^(1/3) ≈
    // 4.8e-6: the default ε (within a factor 100) draws no warning; 1e-1 is
    // truncation's side, 1e-12 rounding's.
    let (net, x, y) = tiny_network();
    let warnings = |check: GradCheck| check.network(&net, &x, &y, 0.0).unwrap().warnings;
    assert!(warnings(GradCheck::new()).is_empty());
    assert!(
        warnings(GradCheck::new().epsilon(1e-4)).is_empty(),
        "a factor 21 above the sweet spot"
    );
    let large = warnings(GradCheck::new().epsilon(1e-1));
    assert!(
        large.len() == 1 && large[0].contains("truncation"),
        "{large:?}"
    );
    let small = warnings(GradCheck::new().epsilon(1e-12));
    assert!(
        small.len() == 1 && small[0].contains("rounding"),
        "{small:?}"
    );
    // Richardson's O(ε⁴) truncation puts its sweet spot at u^(1/5) ≈ 6e-4:
    // 1e-4 is near it, 1e-8 far on the rounding side.
    let richardson = |e| GradCheck::new().finite_difference(FiniteDifference::richardson(e));
    assert!(warnings(richardson(1e-4)).is_empty());
    let small = warnings(richardson(1e-8));
    assert!(
        small.len() == 1 && small[0].contains("rounding"),
        "{small:?}"
    );
}

#[test]
fn progress_counts_every_autodiff_pass_and_finite_difference_from_zero_to_the_total() {
    // [2, 3, 1]: tensors of 6, 3, 3 and 1 entries and a scalar J, so one
    // autodiff pass; a sample of 2 per tensor is 2 + 2 + 2 + 1 = 7
    // differences, every entry 13; 4 directions are 4 steps.
    let (net, x, y) = tiny_network();
    type Mode = fn(GradCheck) -> GradCheck;
    let modes: [(Mode, usize); 3] = [
        (|c| c.sample(2), 1 + 7),
        (|c| c.fast(4), 4),
        (|c| c, 1 + 13),
    ];
    for (mode, total) in modes {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = std::sync::Arc::clone(&seen);
        let record = move |p: verification::CheckProgress| {
            record.lock().unwrap().push((p.done, p.total));
        };
        mode(GradCheck::new().progress(record))
            .network(&net, &x, &y, 0.0)
            .unwrap();
        let expected: Vec<(usize, usize)> = (0..=total).map(|done| (done, total)).collect();
        assert_eq!(*seen.lock().unwrap(), expected);
    }
}

/// y = x · diag(scale) whose forward hides a term the value lacks but
/// autodiff sees: s + 0.02·(s̄ − s)·s̄ with s̄ = s detached is s in value and
/// has derivative 1 − 0.02·s. The backward below agrees with autodiff, so
/// only finite differences of the value can tell it is wrong.
#[derive(Module, Debug)]
struct Deceptive {
    scale: Param<Tensor<1>>,
}

impl Layer for Deceptive {
    type Cache = Tensor<2>;
    type Grads = Tensor<1>;
    fn forward_cached(&self, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let s = self.scale.val();
        let frozen = s.clone().detach();
        let effective = s.clone() + (frozen.clone() - s) * frozen * 0.02;
        (x.clone() * effective.unsqueeze::<2>(), x)
    }
    fn backward(&self, x: Tensor<2>, grad_out: Tensor<2>) -> (Tensor<2>, Tensor<1>) {
        let s = self.scale.val();
        let along = (grad_out.clone() * x).sum_dim(0).squeeze_dim::<1>(0);
        let grad_scale = along * s.clone().mul_scalar(-0.02).add_scalar(1.0);
        (grad_out * s.unsqueeze::<2>(), grad_scale)
    }
    fn register_grads(&self, grads: Tensor<1>, into: &mut GradientsParams) {
        into.register(self.scale.id, grads);
    }
}

#[test]
fn when_only_finite_differences_disagree_the_check_fails_there_and_names_their_worst_entry() {
    let (scale, x, upstream) = scale_operands(1.0);
    let layer = Deceptive {
        scale: Param::from_tensor(scale),
    };
    let report = GradCheck::new().layer(&layer, &x, &upstream).unwrap();
    let row = report.variable("scale").unwrap();
    assert!(row.manual_vs_autodiff.as_ref().unwrap().passed, "{report}");
    // Autodiff follows the same hidden term, so both disagree with the
    // differences of the value.
    assert!(!row.autodiff_vs_numeric.passed, "{report}");
    let vs_numeric = row.manual_vs_numeric.as_ref().unwrap();
    assert!(
        !vs_numeric.passed && !row.passed && !report.passed,
        "{report}"
    );
    // Σ x·g per column: −1.5, 2.9, −2.7; manual is off by 0.02·s·that:
    // 0.015, 0.116, 0.162 — the worst is entry 2, where numeric is −2.7.
    assert_eq!(vs_numeric.worst_input, vec![2], "{report}");
    let (manual, numeric) = vs_numeric.values;
    assert!((numeric + 2.7).abs() < 1e-8, "{report}");
    assert!((manual - (-2.7 * (1.0 - 0.06))).abs() < 1e-12, "{report}");
}

#[test]
fn the_directional_mode_fails_a_backward_one_percent_wrong() {
    let (scale, x, upstream) = scale_operands(1.0);
    let layer = SkewedScale {
        scale: Param::from_tensor(scale),
    };
    let report = GradCheck::new()
        .fast(4)
        .layer(&layer, &x, &upstream)
        .unwrap();
    assert_eq!(report.directions.len(), 4);
    // Every random direction sees vᵀ(1.01·∇J) against vᵀ∇J.
    for d in &report.directions {
        assert!(!d.passed, "{report}");
        let manual = d.manual.unwrap();
        assert!((manual / d.numeric - 1.01).abs() < 1e-6, "{report}");
        assert!((manual / d.target - 1.01).abs() < 1e-12, "{report}");
        assert!(d.numeric_violation <= 1.0, "autodiff is right: {report}");
    }
    // Four random directions, four different projections.
    let mut seen: Vec<f64> = report.directions.iter().map(|d| d.numeric).collect();
    seen.sort_by(f64::total_cmp);
    seen.dedup();
    assert_eq!(seen.len(), 4, "{report}");
    assert!(!report.passed);
}

#[test]
fn a_flat_objective_passes_the_directional_mode() {
    // Upstream gradient 0: J ≡ 0 along every direction, and so is vᵀ∇J by
    // either gradient — no difference, no failure.
    let (scale, x, upstream) = scale_operands(0.0);
    let layer = SkewedScale {
        scale: Param::from_tensor(scale),
    };
    let report = GradCheck::new()
        .fast(3)
        .layer(&layer, &x, &upstream)
        .unwrap();
    assert_eq!(report.directions.len(), 3);
    for d in &report.directions {
        assert_eq!((d.manual, d.target, d.numeric), (Some(0.0), 0.0, 0.0));
        assert_eq!(d.violation, 0.0);
        assert!(d.passed);
    }
    assert!(report.passed, "{report}");
}

#[test]
fn each_row_reports_the_values_at_its_worst_index() {
    let device = Backend::Flex.device().unwrap();
    let case = common::Case {
        name: "rows",
        sizes: vec![3, 4, 2],
        activations: vec![Activation::Tanh, Activation::Sigmoid],
        weight_decay: 0.1,
        m: 5,
        input_scale: 1.0,
        init_std: 1.0,
    };
    let mut below_the_first_row = 0;
    for seed in 0..8 {
        let (net, x, y) = case.build(&device, Precision::F64, seed);
        let manual = net.gradients(x.clone(), y.clone(), 0.1).unwrap();
        let report = GradCheck::new().network(&net, &x, &y, 0.1).unwrap();
        for (l, layer) in manual.layers.iter().enumerate() {
            let weight = tensor::to_vec(&layer.weight).unwrap();
            let row = report.variable(&format!("layers.{l}.weight")).unwrap();
            for agreement in [
                row.manual_vs_autodiff.as_ref().unwrap(),
                row.manual_vs_numeric.as_ref().unwrap(),
            ] {
                let [i, j] = [agreement.worst_input[0], agreement.worst_input[1]];
                assert_eq!(agreement.values.0, weight[i * row.shape[1] + j], "{report}");
                below_the_first_row += usize::from(i > 0);
            }
        }
    }
    // Some worst entries lie below a weight's first row, where a wrong flat
    // position would read another entry.
    assert!(below_the_first_row > 0);
}

#[test]
fn the_printed_report_has_a_row_per_variable_with_its_verdict() {
    let (scale, x, upstream) = scale_operands(1.0);
    let layer = Deceptive {
        scale: Param::from_tensor(scale),
    };
    let report = GradCheck::new().layer(&layer, &x, &upstream).unwrap();
    let printed = report.to_string();
    let line = |start: &str| {
        printed
            .lines()
            .find(|l| l.trim_start().starts_with(start))
            .map(str::to_owned)
    };
    let scale_row = line("parameter scale").expect("a row for the parameter");
    assert!(
        scale_row.contains("[3]") && scale_row.ends_with("FAIL"),
        "{scale_row}"
    );
    // The failing comparison names the worst entry and both values there.
    let vs_numeric = line("manual vs numeric").expect("manual vs numeric");
    for part in ["∂scale[2]", "-2.5380000000e0 vs ", "FAIL"] {
        assert!(vs_numeric.contains(part), "{part} in {vs_numeric}");
    }
    // The difference there, to its own accuracy (rounding over ε = 1e-6).
    let numeric: f64 = vs_numeric.split("-2.5380000000e0 vs ").nth(1).unwrap()[..15]
        .parse()
        .unwrap();
    assert!((numeric + 2.7).abs() < 1e-8, "{vs_numeric}");
    let input_row = line("input input").expect("a row for the input");
    assert!(input_row.ends_with("ok"), "{input_row}");
}

#[test]
fn in_directional_mode_a_failure_only_finite_differences_see_fails_the_check() {
    let (scale, x, upstream) = scale_operands(1.0);
    let layer = Deceptive {
        scale: Param::from_tensor(scale),
    };
    let report = GradCheck::new()
        .fast(3)
        .layer(&layer, &x, &upstream)
        .unwrap();
    for d in &report.directions {
        // Manual agrees with autodiff along every direction; the differences
        // of the value disagree with both.
        let manual = d.manual.unwrap();
        assert!(
            (manual - d.target).abs() <= 1e-12 * manual.abs(),
            "{report}"
        );
        assert!(d.numeric_violation > 1.0 && !d.passed, "{report}");
    }
    assert!(!report.passed, "{report}");
}
