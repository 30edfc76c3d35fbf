//! The hand-written layers as nodes of burn's autodiff graph
//! (`manual_backprop::layer::node`): through them, `backward()` gives the
//! gradients pure autodiff gives and, bit for bit, those the hand-written
//! backward gives, on the
//! crate's test grid, in f64 and f32, on both CPU backends; the gradient
//! checker passes the operation; a burn model mixing burn-nn's `Linear` with
//! these layers, under burn's cross-entropy, gets pure autodiff's gradients,
//! trains with a burn optimizer, and records and loads like any module.

mod common;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::{Device, Int, Tensor, TensorData};
use burn_gradcheck::params::ParamValues;
use common::cases;
use manual_backprop::gradients::{autodiff_gradients, node_gradients};
use manual_backprop::layer::{Dense, DenseConfig, Layer, node};
use manual_backprop::verification::{
    self, Args, Comparison, GradCheck, Inputs, Manual, Place, Tolerance,
};
use manual_backprop::{Activation, Backend, Precision, tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// f64: the node and pure autodiff compute the same derivative with the same
/// forward values; they differ in how f′ is formed (a(1 − a) or 1 − a² from
/// the output against autodiff's chain through exp and recip, or tanh's own
/// backward) and in the grouping of the sums. Each entry's error is a few
/// hundred rounded operations, n·u ≈ 1e2 · 1.1e-16 ≈ 1e-14, well under the
/// issue's 1e-12 — which still leaves any real mistake (off by O(1)) a factor
/// 1e12 away. The floor, 1e-12 of the whole gradient's largest entry, admits
/// saturated units, where f′ from a rounded a ≈ 1 is accurate only absolutely
/// (see `verification::Tolerance`).
const F64_NODES: Tolerance = Tolerance {
    relative: 1e-12,
    floor: 1e-12,
};

/// Nodes vs `reference` gradients over the grid; the worst relative
/// difference and the failures.
fn grid(
    backend: &Backend,
    precision: Precision,
    reference: &str,
    tolerance: Tolerance,
) -> (f64, Vec<String>) {
    let device = backend.device().unwrap();
    let (mut worst, mut failures) = (0.0_f64, Vec::new());
    for case in cases() {
        let (net, x, y) = case.build(&device, precision, 7);
        let nodes = node_gradients(&net, x.clone(), y.clone(), case.weight_decay).unwrap();
        let other = match reference {
            "autodiff" => autodiff_gradients(&net, x, y, case.weight_decay).unwrap(),
            _ => net.gradients(x, y, case.weight_decay).unwrap(),
        };
        let report = verification::compare(
            &net,
            ("nodes", reference),
            &net.to_gradients_params(&nodes),
            &net.to_gradients_params(&other),
            tolerance,
        )
        .unwrap();
        worst = worst.max(report.max_rel_diff());
        // Against the hand-written backward the nodes run the same functions
        // on the same tensors in the same order, and burn's engine only
        // routes their results: equal to the last bit.
        let max_abs = report
            .tensors
            .iter()
            .map(|t| t.agreement.max_abs_diff)
            .fold(0.0, f64::max);
        if reference == "manual" && max_abs != 0.0 {
            failures.push(format!(
                "{backend}/{precision} {}: not bit-identical:\n{report}",
                case.name
            ));
        }
        if !report.passed {
            failures.push(format!("{backend}/{precision} {}:\n{report}", case.name));
        }
        // The forward values are the same operations on the same numbers,
        // so the cost agrees to the last bit.
        if nodes.cost != other.cost {
            failures.push(format!(
                "{backend}/{precision} {}: cost {:e} (nodes) vs {:e} ({reference})",
                case.name, nodes.cost, other.cost
            ));
        }
    }
    (worst, failures)
}

#[test]
fn through_the_nodes_backward_gives_pure_autodiffs_and_the_hand_written_gradients() {
    let mut failures = Vec::new();
    for backend in Backend::ALL {
        for reference in ["autodiff", "manual"] {
            for (precision, tolerance) in [
                (Precision::F64, F64_NODES),
                // f32: the derivation of Tolerance::exact (n·u with n ≤ 1e3).
                (Precision::F32, Tolerance::exact(Precision::F32)),
            ] {
                let (worst, mut failed) = grid(&backend, precision, reference, tolerance);
                println!(
                    "{backend:>7} {precision} nodes vs {reference:<8}: worst element-wise relative \
                     difference {worst:.3e} over {} cases",
                    cases().len()
                );
                failures.append(&mut failed);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn on_a_device_without_autodiff_the_layer_forward_is_the_hand_written_forward_bit_for_bit() {
    for backend in Backend::ALL {
        let device = backend.device().unwrap();
        for case in cases() {
            let (net, x, _) = case.build(&device, Precision::F64, 3);
            let nodes = tensor::to_vec(&net.forward(x.clone())).unwrap();
            let layers = tensor::to_vec(&Layer::forward_cached(&net, x).0).unwrap();
            assert_eq!(nodes, layers, "{backend} {}", case.name);
        }
    }
}

/// The [3, 4] input of the operand tests.
fn input_values() -> Vec<f64> {
    (0..12).map(|i| ((i * 5) % 12) as f64 / 6.0 - 1.0).collect()
}

/// A [3, 4] → [3, 2] layer's operands in f64, distinct and spread out.
fn operands() -> Inputs {
    let a = input_values();
    let w = (0..8).map(|i| ((i * 3) % 8) as f64 / 4.0 - 0.9).collect();
    Inputs::new()
        .values("a", &[3, 4], a)
        .unwrap()
        .values("w", &[4, 2], w)
        .unwrap()
        .values("b", &[2], vec![0.3, -0.2])
        .unwrap()
}

#[test]
fn the_gradient_checker_passes_the_operation_in_function_mode() {
    for activation in [Activation::Sigmoid, Activation::Tanh] {
        let f = |x: &Args| node::dense(x.get("a"), x.get("w"), x.get("b"), activation);
        let report = GradCheck::new().function(&operands(), f).unwrap();
        report.assert();
        // Every Jacobian entry of all three variables.
        let compared: usize = report
            .variables
            .iter()
            .map(|v| v.autodiff_vs_numeric.compared)
            .sum();
        assert_eq!(compared, 6 * (12 + 8 + 2), "{report}");
        // f32 on ndarray against the f64 reference on flex.
        let ndarray = Backend::ALL.iter().find(|b| b.name() == "ndarray").unwrap();
        let place = Place::new(ndarray.device().unwrap(), Precision::F32);
        GradCheck::new()
            .on(place)
            .function(&operands(), f)
            .unwrap()
            .assert();
    }
}

#[test]
fn the_gradient_checker_passes_the_cost_node_for_both_of_its_inputs() {
    let h = (0..6).map(|i| i as f64 / 5.0 - 0.4).collect();
    let y = vec![1.0, 0.0, 0.5, -0.5, 0.25, 2.0];
    let inputs = Inputs::new()
        .values("h", &[3, 2], h)
        .unwrap()
        .values("y", &[3, 2], y)
        .unwrap();
    let f = |x: &Args| node::squared_error(x.get("h"), x.get("y"));
    let report = GradCheck::new().function(&inputs, f).unwrap();
    report.assert();
    // A quadratic: central differences are exact up to rounding.
    assert!(report.worst_relative_difference() < 1e-9, "{report}");
}

#[test]
fn the_gradient_checker_passes_the_layer_in_module_mode_with_its_hand_written_gradients() {
    let device = Device::flex();
    let mut rng = StdRng::seed_from_u64(3);
    let layer = DenseConfig::new(4, 2)
        .with_activation(Activation::Tanh)
        .with_init_std(0.7)
        .init(&device, Precision::F64, &mut rng);
    let a = tensor::matrix("a", input_values(), [3, 4], &device, Precision::F64).unwrap();
    // The Layer trait's own backward, for the three-way comparison.
    let (out, cache) = Layer::forward_cached(&layer, a.clone());
    let (grad_a, grads) = layer.backward(cache, out.ones_like());
    let mut manual = GradientsParams::new();
    layer.register_grads(grads, &mut manual);
    let inputs = Inputs::new().with("a", &a).unwrap();
    let manual = Manual::new()
        .params(manual)
        .input("a", tensor::to_vec(&grad_a).unwrap());
    let loss = |m: &Dense, x: &Args| m.forward(x.get("a")).sum();
    let report = GradCheck::new()
        .module_with_manual(&layer, &inputs, loss, &manual)
        .unwrap();
    report.assert();
    for name in ["weight", "bias", "a"] {
        let variable = report.variable(name).unwrap();
        assert!(
            variable.manual_vs_autodiff.as_ref().unwrap().passed,
            "{report}"
        );
    }
}

/// A burn model mixing burn-nn's `Linear` with this crate's layers:
/// Linear → tanh → Dense(sigmoid) → Dense(tanh) → Linear, as logits.
#[derive(Module, Debug)]
struct Mixed {
    embed: Linear,
    hidden: Dense,
    deeper: Dense,
    head: Linear,
}

impl Mixed {
    fn new(device: &Device) -> Mixed {
        device.seed(9);
        let mut rng = StdRng::seed_from_u64(9);
        let model = Mixed {
            embed: LinearConfig::new(5, 6).init(device),
            hidden: DenseConfig::new(6, 7).with_init_std(0.8).init(
                device,
                Precision::F64,
                &mut rng,
            ),
            deeper: DenseConfig::new(7, 4)
                .with_activation(Activation::Tanh)
                .with_init_std(0.8)
                .init(device, Precision::F64, &mut rng),
            head: LinearConfig::new(4, 3).init(device),
        };
        // burn-nn initialises in the device's default dtype (f32): the whole
        // model in f64, under the same parameter ids.
        ParamValues::of(&model)
            .unwrap()
            .apply_on(&model, device, Precision::F64)
            .unwrap()
    }

    /// Logits; `nodes` chooses the crate's layers as autodiff nodes or as
    /// burn tensor operations (pure autodiff).
    fn forward(&self, x: Tensor<2>, nodes: bool) -> Tensor<2> {
        let dense = |layer: &Dense, a: Tensor<2>| {
            if nodes {
                layer.forward(a)
            } else {
                Layer::forward_cached(layer, a).0
            }
        };
        let a = self.embed.forward(x).tanh();
        let a = dense(&self.deeper, dense(&self.hidden, a));
        self.head.forward(a)
    }
}

/// Eight examples of five features and their classes.
fn batch(device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
    let x: Vec<f64> = (0..40).map(|i| ((i * 7) % 13) as f64 / 6.5 - 1.0).collect();
    let x = Tensor::from_data(TensorData::new(x, [8, 5]), (device, Precision::F64.dtype()));
    let classes = Tensor::from_data(
        TensorData::new(vec![0i64, 2, 1, 1, 0, 2, 2, 0], [8]),
        device,
    );
    (x, classes)
}

fn cross_entropy(model: &Mixed, x: Tensor<2>, classes: Tensor<1, Int>, nodes: bool) -> Tensor<1> {
    let loss = CrossEntropyLossConfig::new().init(&x.device());
    loss.forward(model.forward(x, nodes), classes)
}

/// The gradients of every parameter of `model` (on an autodiff device) under
/// cross-entropy, the batch on the model's device.
fn mixed_gradients(model: &Mixed, nodes: bool) -> GradientsParams {
    let (x, classes) = batch(&model.embed.weight.device());
    let grads = cross_entropy(model, x, classes, nodes).backward();
    GradientsParams::from_grads(grads, model)
}

fn compare_mixed(model: &Mixed, a: &GradientsParams, b: &GradientsParams) -> Comparison {
    verification::compare(model, ("nodes", "autodiff"), a, b, F64_NODES).unwrap()
}

#[test]
fn a_model_mixing_burn_nn_and_these_layers_under_cross_entropy_gets_pure_autodiffs_gradients() {
    for backend in Backend::ALL {
        let device = backend.device().unwrap();
        let model = Mixed::new(&device).train();
        let nodes = mixed_gradients(&model, true);
        let pure = mixed_gradients(&model, false);
        let report = compare_mixed(&model, &nodes, &pure);
        println!(
            "{backend}: mixed model, cross-entropy, worst relative difference {:.3e}",
            report.max_rel_diff()
        );
        assert!(report.passed, "{report}");
        // All eight parameters, including burn-nn's, got a gradient.
        assert_eq!(report.tensors.len(), 8, "{report}");
    }
}

/// max ‖a − b‖ / ‖a + b‖ over the parameters of two models.
fn max_relative_difference(a: &Mixed, b: &Mixed) -> f64 {
    let (a, b) = (ParamValues::of(a).unwrap(), ParamValues::of(b).unwrap());
    a.paths()
        .into_iter()
        .map(|path| {
            let (a, b) = (&a.get(path).unwrap().values, &b.get(path).unwrap().values);
            verification::relative_difference(a, b)
        })
        .fold(0.0, f64::max)
}

/// Steps of the training test.
const STEPS: usize = 300;
/// Learning rate of the training test: small enough that the loss falls at
/// every step (a larger one oscillates, and amplifies rounding differences).
const RATE: f64 = 0.5;

#[test]
fn the_model_trains_with_a_burn_optimizer_and_records_and_loads_like_any_module() {
    let device = Device::flex();
    let model = Mixed::new(&device).train();
    let (x, classes) = batch(&device);
    let loss_of = |m: &Mixed| {
        let m = m.valid();
        tensor::scalar(cross_entropy(&m, x.clone(), classes.clone(), true))
    };
    let initial = loss_of(&model).unwrap();
    let mut optimizer = SgdConfig::new().init();
    // A control: pure autodiff from one weight moved by a relative 1e-15,
    // a rounding-sized difference that owes nothing to the nodes.
    let mut values = ParamValues::of(&model).unwrap();
    values.entries[0].values[0] *= 1.0 + 1e-15;
    let mut nudged = values.apply(&model).unwrap().train();
    let (mut with_nodes, mut pure) = (model.clone(), model);
    let (mut losses, mut divergence, mut control) = (vec![initial], Vec::new(), Vec::new());
    for _ in 0..STEPS {
        let grads = mixed_gradients(&with_nodes, true);
        with_nodes = optimizer.step(RATE, with_nodes, grads);
        let grads = mixed_gradients(&pure, false);
        pure = optimizer.step(RATE, pure, grads);
        let grads = mixed_gradients(&nudged, false);
        nudged = optimizer.step(RATE, nudged, grads);
        losses.push(loss_of(&with_nodes).unwrap());
        divergence.push(max_relative_difference(&with_nodes, &pure));
        control.push(max_relative_difference(&nudged, &pure));
    }
    println!(
        "cross-entropy every 25 steps: {:?}",
        losses.iter().step_by(25).collect::<Vec<_>>()
    );
    println!(
        "nodes vs pure parameters every 25 steps: {:?}",
        divergence.iter().step_by(25).collect::<Vec<_>>()
    );
    println!(
        "nudged vs pure parameters every 25 steps: {:?}",
        control.iter().step_by(25).collect::<Vec<_>>()
    );
    // Eight examples, 129 parameters: plain gradient descent fits them.
    let trained = losses[STEPS];
    assert!(trained < 0.05, "loss {initial} → {trained}");
    // The same steps by pure autodiff reach the same parameters while the loss
    // falls smoothly (the first 50 steps): each step's gradients differ by
    // rounding only (the test above). Later the trajectory crosses a plateau
    // where gradient descent amplifies any difference: the control, which
    // starts 1e-15 away, drifts as far. So at the end the nodes' run must be
    // no farther from pure autodiff than the control is (a factor 10 for
    // where the two differences happen to fall).
    let early = divergence[..50].iter().copied().fold(0.0, f64::max);
    assert!(
        early < 1e-12,
        "nodes vs pure in the first 50 steps: {early:e}"
    );
    let (end, end_control) = (divergence[STEPS - 1], control[STEPS - 1]);
    assert!(
        end < 10.0 * end_control,
        "after {STEPS} steps: nodes {end:e}, control {end_control:e}"
    );
    let trained = with_nodes.valid();
    let bytes = trained.clone().into_record().into_bytes().unwrap();
    let fresh = Mixed::new(&device);
    let loaded = fresh.load_record(burn::store::ModuleRecord::from_bytes(bytes).unwrap());
    let expected = tensor::to_vec(&trained.forward(x.clone(), true)).unwrap();
    assert_eq!(tensor::to_vec(&loaded.forward(x, true)).unwrap(), expected);
}

#[test]
fn under_gradient_checkpointing_the_nodes_give_the_same_gradients() {
    let model = Mixed::new(&Device::flex()).train();
    let without = mixed_gradients(&model, true);
    let checkpointed = Device::flex().autodiff().gradient_checkpointing();
    let with = mixed_gradients(&model.clone().fork(&checkpointed), true);
    let report = compare_mixed(&model, &with, &without);
    assert!(report.passed, "{report}");
    // The node is compute-bound: nothing is recomputed, the arithmetic is the same.
    assert_eq!(report.max_rel_diff(), 0.0, "{report}");
}
