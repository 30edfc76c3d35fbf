//! The wgpu backend verified like the CPU backends: manual == autodiff over the
//! same grid of networks, the harness passes and a wrong backward fails, a
//! short training matches flex, a wgpu model loads on flex, and f64 is either
//! verified or refused with a typed error — never silently wrong.
//!
//! Built only with `--features wgpu`; `scripts/test-wgpu.sh` installs a Vulkan
//! driver where there is no GPU (Mesa's lavapipe) and runs these tests.

#![cfg(feature = "wgpu")]

mod common;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use common::{Case, cases, uniform};
use manual_backprop::gradients;
use manual_backprop::run::{self, TrainOptions};
use manual_backprop::training::{self, Prepared};
use manual_backprop::verification::{self, GradCheck, NetworkCheck, Tolerance};
use manual_backprop::{
    Activation, Backend, Dense, DenseConfig, DenseGrads, Error, Layer, Network, NetworkConfig,
    Precision, backend, persist, tensor,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::ops::ControlFlow;

/// The tolerance of manual vs autodiff for one grid case on a GPU backend.
///
/// Both sides run the same forward kernels, then differ in the order and
/// grouping of the backward arithmetic — and on a GPU the grouping of a
/// product or a sum is the kernel's own (tiled matmuls, tree reductions,
/// fused element-wise chains, contractions into FMA), not ours. An entry of a
/// weight gradient is a sum over the m examples of a product whose factors
/// went through, per layer below the output, a sum over that layer's width
/// and about four rounded element-wise operations (f′, the product with δ,
/// the decay term); the activation itself is allowed a few ulps more on a GPU
/// (Vulkan bounds `exp` by 3 + 2|x| ulp), which the margin of 16 covers.
/// The classic bound for such a computation is n·u·Σ|terms| with
///
/// ```text
/// n = m + Σ_layers (width + 4) + 16
/// ```
///
/// and u the unit roundoff. We allow 8·n·u, relative per entry and as a floor
/// relative to the tensor's largest entry (whose terms set the rounding of
/// entries that cancel): a factor 2 because both sides carry such an error,
/// and a factor 4 for Σ|terms| exceeding |sum| — mild cancellation. A real
/// backward bug is off by O(1): for these cases 8·n·u is at most ~7e-5.
fn gpu_tolerance(case: &Case, precision: Precision) -> Tolerance {
    let widths: usize = case.sizes.iter().map(|w| w + 4).sum();
    let n = (case.m + widths + 16) as f64;
    let bound = 8.0 * n * precision.unit_roundoff();
    Tolerance {
        relative: bound,
        floor: bound,
    }
}

fn wgpu_f32() -> burn::tensor::Device {
    Backend::Wgpu.device_for(Precision::F32).expect(
        "wgpu computes f32 correctly (a Vulkan driver must be installed: scripts/test-wgpu.sh)",
    )
}

/// Manual and autodiff gradients of one case on `device`, compared.
fn agreement(
    case: &Case,
    device: &burn::tensor::Device,
    precision: Precision,
    tolerance: Tolerance,
) -> verification::Comparison {
    let (net, x, y) = case.build(device, precision, 7);
    let manual = net
        .gradients(x.clone(), y.clone(), case.weight_decay)
        .unwrap();
    let autodiff = gradients::autodiff_gradients(&net, x, y, case.weight_decay).unwrap();
    verification::compare(
        &net,
        ("manual", "autodiff"),
        &net.to_gradients_params(&manual),
        &net.to_gradients_params(&autodiff),
        tolerance,
    )
    .unwrap()
}

#[test]
fn manual_gradients_equal_autodiff_on_wgpu_in_f32() {
    let device = wgpu_f32();
    println!("device: {}", backend::describe(&device));
    let (mut worst_rel, mut worst_norm) = (0.0_f64, 0.0_f64);
    let mut failures = Vec::new();
    for case in cases() {
        let tolerance = gpu_tolerance(&case, Precision::F32);
        let report = agreement(&case, &device, Precision::F32, tolerance);
        worst_rel = worst_rel.max(report.max_rel_diff());
        worst_norm = worst_norm.max(report.max_relative_difference());
        println!(
            "{:<36} tolerance {:.1e}: worst element-wise relative {:.2e}, ‖m−a‖/‖m+a‖ {:.2e}",
            case.name,
            tolerance.relative,
            report.max_rel_diff(),
            report.max_relative_difference()
        );
        if !report.passed {
            failures.push(format!("{}:\n{report}", case.name));
        }
    }
    println!(
        "wgpu f32 over {} cases: worst element-wise relative {worst_rel:.3e}, worst ‖m−a‖/‖m+a‖ {worst_norm:.3e}",
        cases().len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn f64_on_wgpu_is_verified_like_the_cpu_or_refused_with_a_typed_error() {
    match Backend::Wgpu.device_for(Precision::F64) {
        // A device that passes the self-check is held to the CPU backends' f64 standard.
        Ok(device) => {
            for case in cases() {
                let report = agreement(
                    &case,
                    &device,
                    Precision::F64,
                    Tolerance::exact(Precision::F64),
                );
                assert!(report.passed, "{}:\n{report}", case.name);
            }
        }
        Err(Error::UnsupportedPrecision {
            device,
            precision,
            reason,
        }) => {
            println!("refused: {device}: {reason}");
            assert_eq!(precision, Precision::F64);
            let adapter = backend::describe(&Backend::Wgpu.device().unwrap())
                .adapter
                .expect("a wgpu device names its adapter");
            assert!(device.contains(&adapter), "{device} names {adapter}");
            let message = Error::UnsupportedPrecision {
                device: device.clone(),
                precision,
                reason: reason.clone(),
            }
            .to_string();
            assert!(message.contains("`dtype` f32"), "{message}");

            // Every way of starting work on the device refuses, before any tensor exists.
            let raw = Backend::Wgpu.device().unwrap();
            let refused = |r: Result<(), Error>| {
                assert!(
                    matches!(r, Err(Error::UnsupportedPrecision { .. })),
                    "{r:?}"
                )
            };
            refused(
                NetworkConfig::new(vec![2, 3, 1])
                    .init(&raw, Precision::F64)
                    .map(drop),
            );
            refused(tensor::matrix("x", vec![1.0; 4], [2, 2], &raw, Precision::F64).map(drop));
            let options = TrainOptions {
                backend: Backend::Wgpu,
                dtype: Precision::F64,
                epochs: 1,
                ..TrainOptions::default()
            };
            refused(run::train(&options, |_| ControlFlow::Continue(())).map(drop));

            // The refusal is not a false alarm: built around the check, the
            // same network's hand-written gradients on this device disagree
            // with flex's f64 gradients of the same numbers.
            let case = &cases()[0];
            let flex = Backend::Flex.device().unwrap();
            let (net, x, y) = case.build(&flex, Precision::F64, 7);
            let on_raw = |t: &Tensor<2>| {
                Tensor::<2>::from_data(
                    TensorData::new(tensor::to_vec(t).unwrap(), t.dims()),
                    (&raw, burn::tensor::DType::F64),
                )
            };
            let raw_net = Network::new(
                net.layers()
                    .iter()
                    .map(|l| {
                        let [d_in, d_out] = l.dims();
                        Dense::from_values(
                            tensor::to_vec(&l.weight.val()).unwrap(),
                            tensor::to_vec(&l.bias.val()).unwrap(),
                            [d_in, d_out],
                            l.activation,
                            &raw,
                            Precision::F64,
                        )
                    })
                    .collect(),
            )
            .unwrap();
            let wrong = raw_net
                .gradients(on_raw(&x), on_raw(&y), case.weight_decay)
                .unwrap();
            let right = net.gradients(x, y, case.weight_decay).unwrap();
            let values = |n: &Network, g: &manual_backprop::Gradients| -> Vec<f64> {
                let params = n.to_gradients_params(g);
                n.layers()
                    .iter()
                    .flat_map(|l| {
                        let w = params.get::<2>(l.weight.id).unwrap();
                        let b = params.get::<1>(l.bias.id).unwrap();
                        [tensor::to_vec(&w).unwrap(), tensor::to_vec(&b).unwrap()]
                    })
                    .flatten()
                    .collect()
            };
            let difference =
                verification::relative_difference(&values(&raw_net, &wrong), &values(&net, &right));
            println!(
                "unchecked f64 on {device}: ‖wrong − right‖/‖wrong + right‖ = {difference:.2e}"
            );
            assert!(
                difference > 1e-6,
                "the device refused f64 yet computed these gradients to {difference:e}"
            );
        }
        Err(other) => panic!("expected a typed precision error, got {other}"),
    }
}

#[test]
fn the_harness_on_wgpu_in_f32_is_certified_by_the_f64_reference() {
    let device = wgpu_f32();
    let case = &cases()[3];
    let (net, x, y) = case.build(&device, Precision::F32, 5);
    let report = GradCheck::new()
        .manual_tolerance(gpu_tolerance(case, Precision::F32))
        .network(&net, &x, &y, case.weight_decay)
        .unwrap();
    print!("{report}");
    assert!(report.passed, "{report}");
    assert!(report.target.starts_with("wgpu"), "{}", report.target);
    // The same check in f64 on flex: its autodiff certified by finite
    // differences, the wgpu run compared with it entry by entry.
    let reference = report.reference.as_deref().unwrap_or_default();
    assert!(
        reference.starts_with("flex") && reference.ends_with("f64"),
        "{report}"
    );
    for v in &report.variables {
        assert!(v.target_vs_reference.is_some(), "{report}");
        assert!(v.manual_vs_numeric.is_some(), "{report}");
    }
    assert!(
        report.output_vs_reference.as_ref().unwrap().passed,
        "{report}"
    );
}

/// A dense layer whose backward forgets the activation's derivative f′: the
/// most common hand-written-backprop bug.
#[derive(Module, Debug)]
struct ForgetsDerivative {
    dense: Dense,
}

impl Layer for ForgetsDerivative {
    type Cache = manual_backprop::layer::DenseCache;
    type Grads = DenseGrads;

    fn forward_cached(&self, input: Tensor<2>) -> (Tensor<2>, Self::Cache) {
        Layer::forward_cached(&self.dense, input)
    }

    fn backward(&self, cache: Self::Cache, grad_output: Tensor<2>) -> (Tensor<2>, DenseGrads) {
        let delta = grad_output; // should be grad_output ∘ f′(output)
        let weight = cache.input.transpose().matmul(delta.clone());
        let bias = delta.clone().sum_dim(0).squeeze_dim::<1>(0);
        let grad_input = delta.matmul(self.dense.weight.val().transpose());
        (grad_input, DenseGrads { weight, bias })
    }

    fn register_grads(&self, grads: DenseGrads, into: &mut GradientsParams) {
        self.dense.register_grads(grads, into);
    }
}

#[test]
fn a_wrong_backward_fails_on_wgpu_where_the_right_one_passes() {
    let device = wgpu_f32();
    let mut rng = StdRng::seed_from_u64(3);
    let dense = DenseConfig::new(5, 4)
        .with_activation(Activation::Sigmoid)
        .with_init_std(1.0)
        .init(&device, Precision::F32, &mut rng);
    let m = 9;
    let input = tensor::matrix(
        "input",
        uniform(&mut rng, m * 5, 2.0),
        [m, 5],
        &device,
        Precision::F32,
    )
    .unwrap();
    let upstream = tensor::matrix(
        "G",
        uniform(&mut rng, m * 4, 1.0),
        [m, 4],
        &device,
        Precision::F32,
    )
    .unwrap();
    let right = GradCheck::new().layer(&dense, &input, &upstream).unwrap();
    assert!(right.passed, "{right}");
    let wrong = ForgetsDerivative { dense };
    let report = GradCheck::new().layer(&wrong, &input, &upstream).unwrap();
    print!("{report}");
    assert!(!report.passed, "a backward without f′ must fail:\n{report}");
    let failing: Vec<&str> = report.failures().map(|v| v.name.as_str()).collect();
    assert_eq!(failing, ["dense.weight", "dense.bias", "input"], "{report}");
}

/// Short digits training runs: `epochs` of full-batch gradient descent.
fn digits_options(backend: Backend, epochs: usize) -> TrainOptions {
    TrainOptions {
        backend,
        epochs,
        ..TrainOptions::default()
    }
}

#[test]
fn digits_training_on_wgpu_matches_flex_within_f32_reordering() {
    let epochs = 800;
    let flex = run::train(&digits_options(Backend::Flex, epochs), |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    let wgpu = run::train(&digits_options(Backend::Wgpu, epochs), |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    // The last epoch's models: the best-validation epoch could differ by a tie.
    let (a_flex, a_wgpu) = (
        flex.summary.last.test.accuracy.unwrap(),
        wgpu.summary.last.test.accuracy.unwrap(),
    );
    println!(
        "{epochs} epochs: test accuracy flex {:.2}% vs wgpu {:.2}%, cost {:.6} vs {:.6}, {:.2} vs {:.2} ms/epoch",
        100.0 * a_flex,
        100.0 * a_wgpu,
        flex.summary.last.train.cost,
        wgpu.summary.last.train.cost,
        flex.summary.millis_per_epoch,
        wgpu.summary.millis_per_epoch
    );
    assert!(a_flex > 0.9, "flex trained: {a_flex}");
    // The two runs start from the same numbers and differ only by the rounding
    // of reordered f32 arithmetic, which gradient descent carries along: the
    // networks' outputs on the test set differ by at most `d`. A class can
    // differ only where flex's two largest outputs are within 2d of each
    // other; every disagreement must be such an example.
    let split = digits_options(Backend::Flex, epochs).load_data().unwrap();
    let outputs = |t: &run::Trained, backend: Backend| -> Vec<f64> {
        let device = backend.device().unwrap();
        let p = Prepared::new(&split.test, &t.meta.preprocessing, &device, Precision::F32).unwrap();
        tensor::to_vec(&t.outcome.network.forward(p.x)).unwrap()
    };
    let (h_flex, h_wgpu) = (outputs(&flex, Backend::Flex), outputs(&wgpu, Backend::Wgpu));
    let d = h_flex
        .iter()
        .zip(&h_wgpu)
        .fold(0.0_f64, |d, (a, b)| d.max((a - b).abs()));
    println!("max |h_flex − h_wgpu| on the test set: {d:.2e}");
    assert!(d < 1e-2, "outputs drifted apart by {d}: not rounding");
    let classes = 10;
    let argmax = |row: &[f64]| {
        (0..row.len())
            .max_by(|&i, &j| row[i].total_cmp(&row[j]))
            .unwrap()
    };
    for (i, (f, w)) in h_flex
        .chunks(classes)
        .zip(h_wgpu.chunks(classes))
        .enumerate()
    {
        if argmax(f) != argmax(w) {
            let mut sorted = f.to_vec();
            sorted.sort_by(|a, b| b.total_cmp(a));
            let margin = sorted[0] - sorted[1];
            assert!(
                margin <= 2.0 * d,
                "example {i}: classes differ with margin {margin} > 2·{d}"
            );
        }
    }
    let tolerance = 1.0 / split.test.len() as f64;
    let disagreements = h_flex
        .chunks(classes)
        .zip(h_wgpu.chunks(classes))
        .filter(|(f, w)| argmax(f) != argmax(w))
        .count() as f64;
    assert!(
        (a_flex - a_wgpu).abs() <= disagreements * tolerance + 1e-12,
        "accuracies differ by more than the disagreeing examples"
    );
}

#[test]
fn a_model_trained_on_wgpu_loads_on_flex_and_predicts_the_same_classes() {
    let options = digits_options(Backend::Wgpu, 60);
    let trained = run::train(&options, |_| ControlFlow::Continue(())).unwrap();
    let dir = std::env::temp_dir().join(format!("backprop-wgpu-model-{}", std::process::id()));
    run::save_run(&dir, &options, &trained).unwrap();
    let flex = Backend::Flex.device().unwrap();
    let (loaded, meta) = persist::load(&dir, &flex).unwrap();
    // The saved model (the best validation epoch's) survives the trip bit for bit.
    assert_eq!(
        loaded.param_values().unwrap(),
        trained.best_network().param_values().unwrap()
    );
    let split = options.load_data().unwrap();
    let classes = |network: &Network, device: &burn::tensor::Device| {
        let p = Prepared::new(&split.test, &meta.preprocessing, device, meta.precision).unwrap();
        let h = tensor::to_vec(&network.forward(p.x)).unwrap();
        match meta.preprocessing.decode(&h) {
            manual_backprop::data::preprocess::Predictions::Classes(c) => c,
            other => panic!("digits are classes, got {other:?}"),
        }
    };
    let on_wgpu = classes(trained.best_network(), &Backend::Wgpu.device().unwrap());
    let on_flex = classes(&loaded, &flex);
    assert_eq!(on_wgpu, on_flex);
    let metrics = training::evaluate(
        &loaded,
        &Prepared::new(&split.test, &meta.preprocessing, &flex, meta.precision).unwrap(),
        &meta.preprocessing,
        options.lambda,
    )
    .unwrap();
    assert_eq!(metrics.accuracy, trained.summary.test.accuracy);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bench_runs_on_wgpu_and_names_its_adapter() {
    let description = backend::describe(&Backend::Wgpu.device().unwrap());
    println!("{description}");
    let adapter = description.adapter.as_deref().expect("an adapter name");
    if adapter.contains("llvmpipe") {
        assert!(description.emulated, "lavapipe is CPU emulation");
        assert!(description.to_string().contains("CPU-emulated"));
    }
    let shape = &manual_backprop::bench::shapes()[0];
    let row = manual_backprop::bench::measure(shape, &Backend::Wgpu, Precision::F32, 1, 2).unwrap();
    assert!(row.manual_ms > 0.0 && row.autodiff_ms > 0.0, "{row:?}");
}

#[test]
fn grid_files_and_the_cli_name_wgpu() {
    assert!(Backend::compiled().contains(&Backend::Wgpu));
    let backend: Backend = serde_json::from_str("\"wgpu\"").unwrap();
    assert_eq!(backend, Backend::Wgpu);
    let grid: manual_backprop::experiment::GridConfig =
        serde_json::from_str(r#"{"backends": ["flex", "wgpu"], "dtypes": ["f32"]}"#).unwrap();
    assert_eq!(grid.runs().len(), 2);
}

/// The op sweep of `backprop conformance` on the GPU in f32, the tiny sample
/// of every family (each new kernel is a compilation on lavapipe), each
/// compared with flex in f64 — forward values, Jacobian, and flex's finite
/// differences — under the tolerance derived from f32's unit roundoff.
#[test]
fn the_op_sweep_passes_on_wgpu_against_the_f64_cpu_reference() {
    use manual_backprop::backend::Backend;
    use manual_backprop::verification::conformance::{self, Scope};
    let families = conformance::families();
    let cases = conformance::cases(&families, Scope::Tiny, None).unwrap();
    let target = conformance::target(&Backend::Wgpu, Precision::F32).unwrap();
    let rows = conformance::sweep(&cases, &target, &mut |row| {
        println!(
            "{:<32} {:<58} {:.2e} {:?}",
            row.op, row.shapes, row.worst_relative, row.verdict
        )
    });
    let failed = conformance::failures(&rows);
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    // wgpu's known upstream failures are still met: a fix upstream fails
    // here and asks for the entry's removal.
    for known in conformance::KNOWN_UPSTREAM {
        if known.backend != Some("wgpu") {
            continue;
        }
        let met = rows
            .iter()
            .any(|r| r.op == known.op && r.verdict == conformance::Verdict::KnownUpstream);
        assert!(met, "{} on wgpu is never met: fixed upstream?", known.op);
    }
}

#[test]
fn the_hand_written_nodes_run_on_wgpu_and_give_the_hand_written_gradients() {
    // The nodes' forward on the Cube backend, their backward under
    // Autodiff<Cube>: the same kernels in the same order as the hand-written
    // pass on the same device, so the gradients agree bit for bit.
    let device = wgpu_f32();
    for case in cases() {
        let (net, x, y) = case.build(&device, Precision::F32, 7);
        let manual = net
            .gradients(x.clone(), y.clone(), case.weight_decay)
            .unwrap();
        let nodes = gradients::node_gradients(&net, x, y, case.weight_decay).unwrap();
        assert_eq!(manual.cost.to_bits(), nodes.cost.to_bits(), "{}", case.name);
        for (a, b) in manual.layers.iter().zip(&nodes.layers) {
            assert_eq!(
                tensor::to_vec(&a.weight).unwrap(),
                tensor::to_vec(&b.weight).unwrap(),
                "{}",
                case.name
            );
            assert_eq!(
                tensor::to_vec(&a.bias).unwrap(),
                tensor::to_vec(&b.bias).unwrap(),
                "{}",
                case.name
            );
        }
    }
}
