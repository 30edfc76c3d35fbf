//! The gradient checker on other people's burn code: modules of burn-nn,
//! tensor functions of any rank, the cross-precision mode, and negative
//! controls — a backward planted 1 % wrong is caught in every mode and named
//! by variable and index.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::optim::GradientsParams;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};
use burn_gradcheck::params::ParamValues;
use burn_gradcheck::values::to_vec;
use burn_gradcheck::{
    Args, CheckProgress, FiniteDifference, GradCheck, Inputs, Manual, Mode, Place, Precision,
    Tolerance, VariableKind,
};
use std::sync::{Arc, Mutex};

/// x², with a backward 1 % short: the forward is exactly x² (x̄ − x is
/// zero), but x̄ is a detached copy, so autodiff sees d/dx [0.02·(x̄ − x)·x̄] =
/// −0.02·x and returns 1.98·x. The subtle bug of a hand-written backward,
/// planted without one.
fn square_wrong_by_a_percent<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let frozen = x.clone().detach();
    x.clone() * x.clone() + (frozen.clone() - x) * frozen * 0.02
}

/// Values given in f64 (a tensor from `from_data` on a default device would
/// have rounded them to f32 already).
fn inputs_ab() -> Inputs {
    Inputs::new()
        .values("a", &[2, 3], vec![0.3, -1.2, 0.7, 2.0, 0.1, -0.4])
        .unwrap()
        .values("b", &[2, 2], vec![0.5, 1.0, -0.2, 0.8])
        .unwrap()
}

fn at_b(x: &Args) -> Tensor<2> {
    x.get::<2>("a").transpose().matmul(x.get::<2>("b"))
}

#[test]
fn a_function_of_two_matrices_passes_with_every_jacobian_entry_compared() {
    let report = GradCheck::new().function(&inputs_ab(), at_b).unwrap();
    report.assert();
    assert_eq!(report.mode, Mode::Full);
    assert_eq!(report.output_shape, [3, 2]);
    let a = report.variable("a").unwrap();
    assert_eq!(a.kind, VariableKind::Input);
    // 6 outputs × 6 entries of a: the whole block.
    assert_eq!((a.differenced, a.autodiff_vs_numeric.compared), (6, 36));
    // f64 on the reference itself: no cross comparison.
    assert!(a.target_vs_reference.is_none() && report.reference.is_none());
    // A bilinear function: central differences are exact up to rounding.
    assert!(a.autodiff_vs_numeric.max_abs_diff < 1e-9, "{report}");
}

/// A function with the planted 1 % error, differentiated in `x` of shape [2, 3].
fn planted() -> (Inputs, fn(&Args) -> Tensor<2>) {
    let x = Tensor::<2>::from_data([[0.5, -1.5, 1.0], [2.0, -0.75, 1.25]], &Device::flex());
    let inputs = Inputs::new().with("x", &x).unwrap();
    (inputs, |x: &Args| {
        square_wrong_by_a_percent(x.get::<2>("x"))
    })
}

#[test]
fn a_backward_one_percent_wrong_fails_the_full_check_naming_the_input_and_index() {
    let (inputs, f) = planted();
    let report = GradCheck::new().function(&inputs, f).unwrap();
    assert!(!report.passed);
    let x = report.variable("x").unwrap();
    assert!(!x.passed);
    let worst = &x.autodiff_vs_numeric;
    // The largest |x| is 2.0 at [1, 0]: the largest absolute error, 0.02·2.
    assert_eq!(
        (worst.worst_output.clone(), worst.worst_input.clone()),
        (vec![1, 0], vec![1, 0])
    );
    assert!((worst.values.0 - 0.99 * 4.0).abs() < 1e-12, "{report}");
    assert!((worst.values.1 - 4.0).abs() < 1e-6, "{report}");
    assert!(
        worst.violation > 1e3,
        "a 1 % error fails by orders of magnitude: {report}"
    );
    let text = report.to_string();
    assert!(
        text.contains("FAIL") && text.contains("∂out[1, 0]/∂x[1, 0]"),
        "{text}"
    );
}

#[test]
fn the_planted_error_fails_every_mode() {
    let (inputs, f) = planted();
    let fast = GradCheck::new().fast(4).function(&inputs, f).unwrap();
    assert!(!fast.passed && fast.directions.len() == 4);
    assert!(fast.directions.iter().all(|d| !d.passed), "{fast}");
    let sampled = GradCheck::new().sample(2).function(&inputs, f).unwrap();
    assert!(!sampled.passed);
    assert_eq!(sampled.variable("x").unwrap().differenced, 2);
    let f32_cross = GradCheck::new()
        .on(Place::new(Device::flex(), Precision::F32))
        .function(&inputs, f)
        .unwrap();
    assert!(!f32_cross.passed, "{f32_cross}");
    let ndarray = GradCheck::new()
        .on(Place::new(ndarray_device(), Precision::F64))
        .function(&inputs, f)
        .unwrap();
    assert!(!ndarray.passed);
}

#[test]
fn a_failed_fast_check_reruns_the_full_check_on_request() {
    let (inputs, f) = planted();
    let report = GradCheck::new()
        .fast(2)
        .full_on_failure(true)
        .function(&inputs, f)
        .unwrap();
    let full = report.full.as_ref().expect("the full re-run");
    assert_eq!(full.mode, Mode::Full);
    assert!(!full.variable("x").unwrap().passed);
    assert!(
        report
            .to_string()
            .contains("re-run after the failed direction")
    );
    // The report's worst numbers include the re-run's: its summary is never
    // milder than the full check it holds.
    assert!(report.worst_relative_difference() >= full.worst_relative_difference());
    assert!(report.share_of_allowed() >= full.share_of_allowed());
    let x = full.variable("x").unwrap();
    assert!(x.share_of_allowed() > 1.0, "the planted error fails: {x:?}");
    assert!(x.autodiff_vs_numeric.share_of_allowed() > 1.0);
    // A passing fast check does not re-run anything.
    let ok = GradCheck::new()
        .fast(2)
        .full_on_failure(true)
        .function(&inputs_ab(), at_b)
        .unwrap();
    assert!(ok.passed && ok.full.is_none(), "{ok}");
    assert!(ok.share_of_allowed() <= 1.0, "{ok}");
    assert!(ok.directions.iter().all(|d| d.share_of_allowed() <= 1.0));
}

#[allow(deprecated)]
fn ndarray_device() -> Device {
    Device::ndarray()
}

#[test]
fn f32_on_one_backend_is_compared_with_f64_on_the_cpu_within_a_derived_tolerance() {
    let report = GradCheck::new()
        .on(Place::new(Device::flex(), Precision::F32))
        .function(&inputs_ab(), at_b)
        .unwrap();
    report.assert();
    let cross = report.cross_tolerance.unwrap();
    // n = 2+3 + 2+2 + 3+2 + 16 = 30 terms; 8·n·u with u = 2⁻²⁴.
    assert_eq!(report.terms, 30);
    assert!((cross.relative - 8.0 * 30.0 * 2f64.powi(-24)).abs() < 1e-15);
    let a = report.variable("a").unwrap();
    let vs_reference = a.target_vs_reference.as_ref().unwrap();
    // The Jacobian of a bilinear map is its inputs: 0.3 rounded to f32
    // shows, within the bound.
    assert!(
        vs_reference.max_abs_diff > 0.0 && vs_reference.passed,
        "{report}"
    );
    assert!(vs_reference.max_rel_diff < 2f64.powi(-24), "{report}");
    // The cross-backend mode in f64: ndarray against the flex reference.
    let report = GradCheck::new()
        .on(Place::new(ndarray_device(), Precision::F64))
        .reference(Place::reference())
        .function(&inputs_ab(), at_b)
        .unwrap();
    report.assert();
    assert!(report.variable("b").unwrap().target_vs_reference.is_some());
}

/// A module of burn-nn's layers, nested: parameters of rank 1, 2 and 4.
#[derive(Module, Debug)]
struct Small {
    conv: Conv2d,
    head: Linear,
}

fn small(device: &Device) -> Small {
    device.seed(5);
    Small {
        conv: Conv2dConfig::new([1, 2], [2, 2]).init(device),
        head: LinearConfig::new(8, 3).init(device),
    }
}

fn small_loss(model: &Small, x: &Args) -> Tensor<1> {
    let images = x.get::<4>("images");
    let features = sigmoid(model.conv.forward(images)).reshape([2, 8]);
    let out = model.head.forward(features);
    let target = x.get::<2>("target");
    (out - target).powf_scalar(2.0).mean()
}

fn small_inputs(device: &Device) -> Inputs {
    let images: Vec<f64> = (0..18)
        .map(|i| ((i * 7) % 11) as f64 / 11.0 - 0.5)
        .collect();
    let images = Tensor::<4>::from_data(TensorData::new(images, [2, 1, 3, 3]), device);
    let target = Tensor::<2>::from_data([[1.0, 0.0, 0.5], [0.0, 1.0, -0.5]], device);
    Inputs::new()
        .with("images", &images)
        .unwrap()
        .constant("target", &target)
        .unwrap()
}

#[test]
fn a_nested_burn_nn_module_is_checked_parameter_by_parameter_under_its_own_paths() {
    let device = Device::flex();
    // burn-nn initialises in the device's default dtype (f32); the same
    // module in f64, under the same parameter ids:
    let model = small(&device);
    let model = ParamValues::of(&model)
        .unwrap()
        .apply_on(&model, &device, Precision::F64)
        .unwrap();
    let report = GradCheck::new()
        .module(&model, &small_inputs(&device), small_loss)
        .unwrap();
    report.assert();
    let names: Vec<&str> = report.variables.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "conv.weight",
            "conv.bias",
            "head.weight",
            "head.bias",
            "images"
        ]
    );
    assert_eq!(report.variable("conv.weight").unwrap().shape, [2, 1, 2, 2]);
    assert_eq!(report.precision, Precision::F64);
    // Only some parameters, a sample of their entries.
    let report = GradCheck::new()
        .params(&["head.weight"])
        .sample(5)
        .module(&model, &small_inputs(&device), small_loss)
        .unwrap();
    report.assert();
    assert_eq!(report.variables.len(), 2, "head.weight and the input");
    assert_eq!(report.variable("head.weight").unwrap().differenced, 5);
}

#[test]
fn an_f32_module_is_checked_against_its_f64_copy() {
    let device = Device::flex();
    let model = small(&device);
    let report = GradCheck::new()
        .module(&model, &small_inputs(&device), small_loss)
        .unwrap();
    report.assert();
    assert_eq!(report.precision, Precision::F32);
    assert!(report.reference.is_some());
    assert!(
        report
            .variables
            .iter()
            .all(|v| v.target_vs_reference.is_some())
    );
}

/// J = Σ (x W + b) of a 2 → 3 linear layer on a batch of two, whose
/// gradient is known by hand: ∂J/∂W[i, j] = Σ_r x[r, i], ∂J/∂b[j] = m.
fn linear_sum() -> (Linear, Inputs, Vec<f64>, Vec<f64>) {
    let device = Device::flex();
    let layer = LinearConfig::new(2, 3).init(&device);
    let layer = ParamValues::of(&layer)
        .unwrap()
        .apply_on(&layer, &device, Precision::F64)
        .unwrap();
    let x = [0.1, 0.9, 0.7, 0.3];
    let inputs = Inputs::new()
        .constant_values("x", &[2, 2], x.to_vec())
        .unwrap();
    let column = [x[0] + x[2], x[1] + x[3]];
    let grad_weight = (0..6).map(|k| column[k / 3]).collect();
    (layer, inputs, grad_weight, vec![2.0; 3])
}

/// The hand-written gradients of [`linear_sum`] as burn keys them.
fn linear_grads(layer: &Linear, weight: Vec<f64>, bias: Vec<f64>) -> GradientsParams {
    let device = Device::flex();
    let tensor = |values: Vec<f64>, shape: Vec<usize>| {
        Tensor::<1>::from_data(
            TensorData::new(values, [shape.iter().product::<usize>()]),
            (&device, Precision::F64.dtype()),
        )
    };
    let mut grads = GradientsParams::new();
    grads.register(layer.weight.id, tensor(weight, vec![6]).reshape([2, 3]));
    let b = layer.bias.as_ref().unwrap();
    grads.register(b.id, tensor(bias, vec![3]));
    grads
}

#[test]
fn hand_written_gradients_make_the_check_three_way() {
    let (layer, inputs, grad_weight, grad_bias) = linear_sum();
    let loss = |l: &Linear, a: &Args| l.forward(a.get::<2>("x")).sum();
    let manual = Manual::new().params(linear_grads(&layer, grad_weight.clone(), grad_bias.clone()));
    let report = GradCheck::new()
        .module_with_manual(&layer, &inputs, loss, &manual)
        .unwrap();
    report.assert();
    let w = report.variable("weight").unwrap();
    assert!(w.manual_vs_autodiff.as_ref().unwrap().passed);
    assert!(w.manual_vs_numeric.as_ref().unwrap().passed);
    // One hand-written entry off by 1 %: caught, by name and index.
    let mut wrong = grad_weight;
    wrong[4] *= 1.01;
    let manual = Manual::new().params(linear_grads(&layer, wrong, grad_bias));
    let report = GradCheck::new()
        .module_with_manual(&layer, &inputs, loss, &manual)
        .unwrap();
    assert!(!report.passed);
    let bad: Vec<&str> = report.failures().map(|v| v.name.as_str()).collect();
    assert_eq!(bad, ["weight"]);
    let w = report.variable("weight").unwrap();
    assert_eq!(w.manual_vs_autodiff.as_ref().unwrap().worst_input, [1, 1]);
}

#[test]
fn a_seed_fixes_the_result_and_progress_counts_every_pass() {
    let (inputs, f) = planted();
    let run = |seed| {
        GradCheck::new()
            .fast(3)
            .seed(seed)
            .function(&inputs, f)
            .unwrap()
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7).directions[0].numeric, run(8).directions[0].numeric);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = |seen: &Arc<Mutex<Vec<_>>>| {
        let seen = Arc::clone(seen);
        move |p: CheckProgress| seen.lock().unwrap().push((p.done, p.total))
    };
    GradCheck::new()
        .progress(record(&seen))
        .function(&inputs_ab(), at_b)
        .unwrap();
    let steps = |seen: &Arc<Mutex<Vec<(usize, usize)>>>| seen.lock().unwrap().clone();
    let seen_once = steps(&seen);
    // 6 autodiff rows, then 6 + 4 finite-difference columns.
    assert_eq!(seen_once.first(), Some(&(0, 16)));
    assert_eq!(seen_once.last(), Some(&(16, 16)));
    assert!(seen_once.windows(2).all(|w| w[1].0 == w[0].0 + 1));
    // Across precisions the rows are taken twice, on the target and on the
    // f64 reference: 12 + 10.
    let seen = Arc::new(Mutex::new(Vec::new()));
    GradCheck::new()
        .on(Place::new(Device::flex(), Precision::F32))
        .progress(record(&seen))
        .function(&inputs_ab(), at_b)
        .unwrap();
    let seen = steps(&seen);
    assert_eq!(seen.first(), Some(&(0, 22)));
    assert_eq!(seen.last(), Some(&(22, 22)));
}

/// The message of an expected error.
fn err<T>(result: burn_gradcheck::Result<T>) -> String {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn nonsense_options_and_misuse_are_errors_that_say_what_to_do() {
    let inputs = inputs_ab();
    assert!(err(GradCheck::new().epsilon(0.0).function(&inputs, at_b)).contains("epsilon"));
    assert!(err(GradCheck::new().fast(0).function(&inputs, at_b)).contains("directions"));
    let bad = Tolerance {
        relative: f64::NAN,
        floor: 0.0,
    };
    assert!(
        err(GradCheck::new()
            .numeric_tolerance(bad)
            .function(&inputs, at_b))
        .contains("tolerance")
    );
    let f32_reference = Place::new(Device::flex(), Precision::F32);
    assert!(
        err(GradCheck::new()
            .reference(f32_reference)
            .function(&inputs, at_b))
        .contains("f64")
    );
    assert!(
        err(GradCheck::new().function_with_manual(
            &inputs,
            at_b,
            &Manual::new().input("a", vec![0.0; 6])
        ))
        .contains("scalar")
    );
    let device = Device::flex();
    let model = small(&device);
    assert!(
        err(GradCheck::new().params(&["head.wieght"]).module(
            &model,
            &small_inputs(&device),
            small_loss
        ))
        .contains("head.weight")
    );
    assert!(
        err(GradCheck::new().function(&Inputs::new(), |x: &Args| x.constant(vec![1.0], [1])))
            .contains("nothing to differentiate")
    );
    let duplicate =
        Inputs::new()
            .values("a", &[1], vec![1.0])
            .unwrap()
            .values("a", &[1], vec![2.0]);
    assert!(duplicate.is_err());
    assert!(Inputs::new().values("a", &[2], vec![1.0]).is_err());
    assert!(Inputs::new().values("a", &[1], vec![f64::NAN]).is_err());
}

#[test]
fn assert_panics_with_the_report_as_its_message() {
    let (inputs, f) = planted();
    let report = GradCheck::new().function(&inputs, f).unwrap();
    let panic = std::panic::catch_unwind(|| {
        report.assert();
    })
    .unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.starts_with("gradient check failed:"), "{message}");
    assert!(
        message.contains("input x [2, 3]") && message.contains("FAIL"),
        "{message}"
    );
}

/// The reproduction of the sweep's one known upstream failure: burn-ndarray's
/// σ of an f64 tensor is only f32-accurate. When this fails, burn has fixed
/// it: remove the entry from `conformance::KNOWN_UPSTREAM` (tests/conformance.rs
/// asserts where each entry is met).
#[test]
fn the_known_upstream_failure_reproduces_ndarray_sigmoid_is_f32_accurate_in_f64() {
    use burn::tensor::DType;
    let exact = |x: f64| 1.0 / (1.0 + (-x).exp());
    let error = |device: Device| {
        let t = Tensor::<1>::from_data(TensorData::new(vec![0.5], [1]), (&device, DType::F64));
        (to_vec(&sigmoid(t)).unwrap()[0] - exact(0.5)).abs()
    };
    let (ndarray, flex) = (error(ndarray_device()), error(Device::flex()));
    assert!(ndarray > 1e-9 && ndarray < 1e-7, "ndarray: {ndarray:e}");
    assert!(flex < 1e-15, "flex: {flex:e}");
}

/// Σ (aᵀb)ᵢⱼ: a scalar output, for the hand-written-gradient checks.
fn sum_at_b(x: &Args) -> Tensor<1> {
    at_b(x).sum()
}

/// ∂ Σ aᵀb / ∂a and ∂b, by hand: a's row k gets Σⱼ b[k, j], b's row k Σᵢ a[k, i].
fn manual_ab() -> (Vec<f64>, Vec<f64>) {
    let (a, b) = ([0.3, -1.2, 0.7, 2.0, 0.1, -0.4], [0.5, 1.0, -0.2, 0.8]);
    let b_rows = [b[0] + b[1], b[2] + b[3]];
    let a_rows = [a[0] + a[1] + a[2], a[3] + a[4] + a[5]];
    let grad_a = (0..6).map(|i| b_rows[i / 3]).collect();
    let grad_b = (0..4).map(|i| a_rows[i / 2]).collect();
    (grad_a, grad_b)
}

#[test]
fn hand_written_input_gradients_are_matched_to_their_inputs_by_name() {
    let (grad_a, grad_b) = manual_ab();
    let manual = Manual::new()
        .input("b", grad_b.clone())
        .input("a", grad_a.clone());
    let report = GradCheck::new()
        .function_with_manual(&inputs_ab(), sum_at_b, &manual)
        .unwrap();
    report.assert();
    // Swapped, each input gets the other's: refused (the lengths differ).
    let swapped = Manual::new().input("a", grad_b).input("b", grad_a);
    let swapped = GradCheck::new().function_with_manual(&inputs_ab(), sum_at_b, &swapped);
    assert!(swapped.is_err(), "{swapped:?}");
}

#[test]
fn each_setting_reaches_the_report_and_governs_its_comparison() {
    let f32_flex = || Place::new(Device::flex(), Precision::F32);
    // cross_tolerance: none allowed, and the f32 target differs from f64.
    let none = Tolerance {
        relative: 0.0,
        floor: 0.0,
    };
    let report = GradCheck::new()
        .on(f32_flex())
        .cross_tolerance(none)
        .function(&inputs_ab(), at_b)
        .unwrap();
    assert_eq!(report.cross_tolerance, Some(none));
    assert!(!report.passed, "{report}");
    // terms: the derived cross tolerance is 8·n·u of f32.
    let report = GradCheck::new()
        .on(f32_flex())
        .terms(3)
        .function(&inputs_ab(), at_b)
        .unwrap();
    assert_eq!(report.terms, 3);
    let derived = 8.0 * 3.0 * Precision::F32.unit_roundoff();
    assert_eq!(report.cross_tolerance.unwrap().relative, derived);
    // finite_difference: the scheme used is the one given.
    let scheme = FiniteDifference::richardson(1e-3);
    let report = GradCheck::new()
        .finite_difference(scheme)
        .function(&inputs_ab(), at_b)
        .unwrap();
    report.assert();
    assert_eq!(report.finite_difference, scheme);
    // manual_tolerance: gradients 1e-9 off fail Tolerance::exact (1e-10) and
    // pass when 1e-8 is allowed.
    let (grad_a, grad_b) = manual_ab();
    let off = |g: &[f64]| g.iter().map(|v| v * (1.0 + 1e-9)).collect::<Vec<_>>();
    let check = |tolerance: Option<Tolerance>| {
        let manual = Manual::new()
            .input("a", off(&grad_a))
            .input("b", off(&grad_b));
        let mut check = GradCheck::new();
        if let Some(t) = tolerance {
            check = check.manual_tolerance(t);
        }
        check
            .function_with_manual(&inputs_ab(), sum_at_b, &manual)
            .unwrap()
    };
    assert!(!check(None).passed);
    let loose = Tolerance {
        relative: 1e-8,
        floor: 1e-8,
    };
    let report = check(Some(loose));
    assert_eq!(report.manual_tolerance, Some(loose));
    report.assert();
}

#[test]
fn a_reference_equal_to_the_target_is_no_second_comparison() {
    let report = GradCheck::new()
        .on(Place::reference())
        .reference(Place::reference())
        .function(&inputs_ab(), at_b)
        .unwrap();
    report.assert();
    assert!(report.reference.is_none(), "{report}");
    assert!(report.variable("a").unwrap().target_vs_reference.is_none());
}

#[test]
fn the_rounding_of_a_difference_quotient_of_large_values_is_allowed_for() {
    // f(x) = 2x + 10⁷: the derivative is exactly 2, but f(x ± ε) are rounded
    // to u·10⁷ ≈ 1e-9, which the quotient divides by 2ε = 2e-6: central
    // differences are off by ~5e-4, far beyond 1e-6 relative. The allowance's
    // rounding term n·u·max|f|/ε (n = 4 + 4 + 16 here: 2.7e-2) covers it; an
    // allowance without it, or one much smaller, would fail a right gradient.
    let x = Tensor::<1>::from_data([0.5, -1.5, 2.25, 3.0], &Device::flex());
    let inputs = Inputs::new().with("x", &x).unwrap();
    let f = |a: &Args| a.get::<1>("x").mul_scalar(2.0).add_scalar(1e7);
    let report = GradCheck::new().function(&inputs, f).unwrap();
    report.assert();
    let x = report.variable("x").unwrap();
    assert!(x.autodiff_vs_numeric.max_abs_diff > 1e-5, "{report}");
    // The rounding allowed is n·u·max|f|/ε, and at most a few times what
    // the quotients actually lost: the term is neither missing nor loose.
    let rounding = 24.0 * Precision::F64.unit_roundoff() * (1e7 + 6.0) / 1e-6;
    let used = x.autodiff_vs_numeric.violation;
    let allowed = 1e-6 * 2.0 + 1e-6 * 2.0 + rounding;
    let lost = x.autodiff_vs_numeric.max_abs_diff;
    // (2.0 stands for max(|a|, |b|) and the scale, which are 2 ± 5e-4.)
    assert!(
        (used - lost / allowed).abs() < 1e-6 * used,
        "{used} vs {}",
        lost / allowed
    );
}

#[test]
fn fast_mode_catches_a_one_percent_error_in_a_tiny_gradient() {
    // The planted 1 % error on a function scaled by 1e-4: every uᵀJv is
    // ~1e-4 and off by ~1e-6. The allowance's floor is relative to the
    // gradient's own norm, so the error is still a thousand times too large.
    let (inputs, _) = planted();
    let tiny = |x: &Args| square_wrong_by_a_percent(x.get::<2>("x")).mul_scalar(1e-4);
    let report = GradCheck::new()
        .fast(4)
        .seed(3)
        .function(&inputs, tiny)
        .unwrap();
    assert!(!report.passed, "{report}");
    assert!(report.directions.iter().all(|d| !d.passed), "{report}");
}

/// A hand-written gradient computed in f32 carries f32's rounding. Against
/// the f64 finite differences its allowance is the numeric one (1e-6, for
/// the differences' own error) widened by the derived cross tolerance
/// (8·n·u = 1.2e-5 here, n = 26): a gradient 1e-5 off — what a sum of a
/// few hundred f32 terms may round to — passes, in full and in fast mode,
/// where the numeric allowance alone (at most 2e-6 of the largest entry, or
/// of the norm along a direction) would fail it; one 1e-3 off fails in both.
/// (Fast mode's half of it found a bug: a scalar output's uᵀJv is u's one
/// entry, ±1, times the gradient along v, and the hand-written side was
/// compared without u — every direction with u = −1 failed a right gradient.)
#[test]
fn an_f32_hand_written_gradient_is_allowed_f32_rounding_against_the_differences() {
    let (grad_a, grad_b) = manual_ab();
    let off = |g: &[f64], by: f64| g.iter().map(|v| v * (1.0 + by)).collect::<Vec<_>>();
    let check = |mode: fn(GradCheck) -> GradCheck, by: f64| {
        let manual = Manual::new()
            .input("a", off(&grad_a, by))
            .input("b", off(&grad_b, by));
        mode(GradCheck::new().on(Place::new(Device::flex(), Precision::F32)))
            .function_with_manual(&inputs_ab(), sum_at_b, &manual)
            .unwrap()
    };
    let full: fn(GradCheck) -> GradCheck = |c| c;
    let fast: fn(GradCheck) -> GradCheck = |c| c.fast(4).seed(1);
    for (name, mode) in [("full", full), ("fast", fast)] {
        let rounded = check(mode, 1e-5);
        assert!(1e-5 > 4.0 * rounded.numeric_tolerance.relative);
        assert!(1e-5 < rounded.cross_tolerance.unwrap().relative);
        assert!(rounded.passed, "{name}: {rounded}");
        let wrong = check(mode, 1e-3);
        assert!(!wrong.passed, "{name}: {wrong}");
    }
}

/// A place prints as its device and precision, the words the report's first
/// line uses for the target and the reference.
#[test]
fn places_are_named_by_device_and_precision_in_the_report() {
    assert_eq!(Place::reference().to_string(), "flex (CPU) in f64");
    let report = GradCheck::new()
        .on(Place::new(Device::flex(), Precision::F32))
        .function(&inputs_ab(), at_b)
        .unwrap();
    let first = report.to_string().lines().next().unwrap().to_string();
    assert!(
        first.contains("on flex (CPU) in f32, reference flex (CPU) in f64"),
        "{first}"
    );
}

/// A constant given by its values reaches the function and is not
/// differentiated: scale · x has the gradient `scale` in x and no variable
/// for the scale.
#[test]
fn a_constant_given_by_values_is_passed_and_never_differentiated() {
    let inputs = Inputs::new()
        .values("x", &[3], vec![0.5, -1.0, 2.0])
        .unwrap()
        .constant_values("scale", &[1], vec![3.0])
        .unwrap();
    let entries = inputs.entries();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (entries[1].name.as_str(), entries[1].differentiable),
        ("scale", false)
    );
    assert_eq!(
        (entries[1].shape.clone(), entries[1].values.clone()),
        (vec![1], vec![3.0])
    );
    let scaled = |x: &Args| (x.get::<1>("x") * x.get::<1>("scale")).sum();
    let report = GradCheck::new()
        .function_with_manual(&inputs, scaled, &Manual::new().input("x", vec![3.0; 3]))
        .unwrap();
    report.assert();
    assert!(report.variable("scale").is_none(), "{report}");
    assert_eq!(report.variable("x").unwrap().differenced, 3);
}

/// The summary number of a report (`backprop conformance`'s column) is the
/// planted error itself: autodiff returns 1.98x for d(x²)/dx, 1 % short of
/// 2x, in every Jacobian entry of the full check and in every uᵀJv of the
/// fast one.
#[test]
fn the_worst_relative_difference_is_the_planted_one_percent_in_every_mode() {
    let (inputs, f) = planted();
    let full = GradCheck::new().function(&inputs, f).unwrap();
    let fast = GradCheck::new()
        .fast(3)
        .seed(2)
        .function(&inputs, f)
        .unwrap();
    for report in [full, fast] {
        let worst = report.worst_relative_difference();
        // Central differences of a quadratic are exact up to rounding (~1e-10).
        assert!((worst - 0.01).abs() < 1e-6, "{worst:e}: {report}");
    }
}

/// A fast check's report prints one line per direction with each source's
/// uᵀJv and its verdict, so a failure shows which direction and by how much.
#[test]
fn a_fast_report_prints_each_direction_with_its_projections() {
    let (inputs, f) = planted();
    let report = GradCheck::new()
        .fast(3)
        .seed(2)
        .function(&inputs, f)
        .unwrap();
    let text = report.to_string();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("direction "))
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    for (i, (line, d)) in lines.iter().zip(&report.directions).enumerate() {
        assert!(
            line.starts_with(&format!("direction {i}: uᵀJv target ")),
            "{line}"
        );
        assert!(line.contains(&format!("{:.10e}", d.numeric)), "{line}");
        assert!(line.ends_with("FAIL"), "{line}");
    }
}

/// A forward kernel wrong in the same way for the forward pass and for the
/// finite differences built from it passes a check against those
/// differences; against another backend its forward values fail. Here the
/// "kernel" adds 1e-4 on flex only, which leaves every derivative as it is.
#[test]
fn a_forward_only_bug_fails_against_another_backend_and_passes_alone() {
    let f = |x: &Args| {
        let y = x.get::<2>("x").exp();
        match x.device().inner() == Device::flex() {
            true => y.add_scalar(1e-4),
            false => y,
        }
    };
    let inputs = Inputs::new()
        .values("x", &[2, 3], vec![0.3, -1.2, 0.7, 2.0, 0.1, -0.4])
        .unwrap();
    let flex = Place::new(Device::flex(), Precision::F64);
    let alone = GradCheck::new()
        .on(flex.clone())
        .function(&inputs, f)
        .unwrap();
    assert!(alone.passed, "{alone}");
    assert!(alone.output_vs_reference.is_none());
    let against = GradCheck::new()
        .on(flex)
        .reference(Place::new(ndarray_device(), Precision::F64))
        .function(&inputs, f)
        .unwrap();
    assert!(!against.passed, "{against}");
    let forward = against.output_vs_reference.as_ref().unwrap();
    assert!(!forward.passed);
    assert!((forward.max_abs_diff - 1e-4).abs() < 1e-12, "{against}");
    // The Jacobian itself agrees: only the forward comparison failed.
    assert!(against.variables.iter().all(|v| v.passed), "{against}");
    assert!(against.to_string().contains("forward values vs reference"));
}

/// The negative control plants 1 % in autodiff's derivatives and the same
/// check must reject it, in every mode and across precisions; the planted
/// error is what the report measures.
#[test]
fn the_negative_control_is_rejected_in_every_mode_and_measured_at_its_size() {
    let inputs = inputs_ab();
    let f32_flex = Place::new(Device::flex(), Precision::F32);
    let modes = [
        GradCheck::new(),
        GradCheck::new().fast(4).seed(3),
        GradCheck::new().sample(2),
        GradCheck::new().on(f32_flex),
    ];
    for check in modes {
        check.function(&inputs, at_b).unwrap().assert();
        let planted = check
            .negative_control(|c| c.function(&inputs, at_b))
            .unwrap();
        assert!(!planted.passed);
        let worst = planted.worst_relative_difference();
        assert!(
            (worst - burn_gradcheck::PLANTED_ERROR).abs() < 1e-3,
            "{worst}: {planted}"
        );
    }
    // The options themselves are untouched: the same check passes after.
    let check = GradCheck::new();
    check
        .negative_control(|c| c.function(&inputs, at_b))
        .unwrap();
    check.function(&inputs, at_b).unwrap().assert();
}

/// A tolerance of 5 % cannot see a 1 % error: the control says so instead
/// of passing quietly, and a check that cannot run is its own error.
#[test]
fn a_negative_control_that_passes_is_an_error_that_says_why() {
    let inputs = inputs_ab();
    let loose = GradCheck::new().numeric_tolerance(Tolerance {
        relative: 0.05,
        floor: 0.05,
    });
    loose.function(&inputs, at_b).unwrap().assert();
    let message = err(loose.negative_control(|c| c.function(&inputs, at_b)));
    assert!(
        message.contains("no power") && message.contains("0.01"),
        "{message}"
    );
    let message = err(
        GradCheck::new().negative_control(|c| c.function(&inputs, |x: &Args| at_b(x).detach()))
    );
    assert!(message.contains("untracked"), "{message}");
}

/// tanh of a transposed matrix whose backward is 1 % short only when the
/// matrix has more than four rows: one shape is no evidence.
fn wrong_beyond_four_rows(x: &Args) -> Tensor<2> {
    let a = x.get::<2>("a");
    let [rows, _] = a.dims();
    let a = if rows > 4 {
        let frozen = a.clone().detach();
        a.clone() + (frozen - a) * 0.01
    } else {
        a
    };
    a.transpose().tanh()
}

#[test]
fn a_sweep_over_shapes_finds_the_shapes_where_a_backward_is_wrong() {
    let shapes = [[1, 1], [2, 3], [4, 5], [5, 1], [17, 3]];
    let sweep = GradCheck::new()
        .sweep(shapes, |check, &[rows, cols]| {
            let inputs = Inputs::new().random("a", &[rows, cols], 11)?;
            check.function(&inputs, wrong_beyond_four_rows)
        })
        .unwrap();
    assert!(!sweep.passed);
    let failing: Vec<&str> = sweep.failures().map(|c| c.case.as_str()).collect();
    assert_eq!(failing, ["[5, 1]", "[17, 3]"]);
    let text = sweep.to_string();
    assert!(text.starts_with("sweep of 5 cases: 2 fail"), "{text}");
    assert!(text.contains("the first failing case, [5, 1]"), "{text}");
    let panic = std::panic::catch_unwind(|| {
        sweep.assert();
    });
    assert!(panic.is_err());
}

#[test]
fn random_inputs_are_reproducible_and_keep_away_from_zero() {
    let draw = |seed| Inputs::new().random("a", &[4, 25], seed).unwrap();
    assert_eq!(draw(3), draw(3));
    assert_ne!(draw(3), draw(4));
    let drawn = draw(3);
    let values = &drawn.entries()[0].values;
    assert!(values.iter().all(|v| (0.25..=2.0).contains(&v.abs())));
    assert!(values.iter().any(|v| *v < 0.0) && values.iter().any(|v| *v > 0.0));
}
