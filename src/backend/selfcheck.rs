//! Does a device really compute in the precision it accepts?
//!
//! A device that *accepts* f64 tensors may still compute them wrongly: Mesa's
//! lavapipe advertises `shaderFloat64`, burn's wgpu backend then compiles f64
//! kernels for it, and training runs to the end with garbage numbers (bias
//! gradients of 0 and 1e-315, chance accuracy). A project whose point is
//! trustworthy gradients must refuse such a device up front, so before any
//! network or data is placed on a device in a precision, [`verify_precision`]
//! runs a tiny probe of every kind of kernel the library uses and compares it
//! with the same arithmetic done on the host in f64.

use super::{Precision, describe};
use crate::activation::Activation;
use crate::error::{Error, Result};
use burn::tensor::{Device, Int, Tensor, TensorData};
use std::sync::Mutex;

/// Verdicts already reached, per device and precision: the probe costs a few
/// kernel launches (a few compilations on a GPU), so it runs once per process.
static VERDICTS: Mutex<Vec<Verdict>> = Mutex::new(Vec::new());

/// A device, a precision, and whether the device computes it (else why not).
type Verdict = (Device, Precision, std::result::Result<(), String>);

/// Fails with [`Error::UnsupportedPrecision`] unless `device` computes in
/// `precision` correctly.
///
/// "Correctly" means: the device says it supports the dtype, and a probe made
/// of the operations the library relies on — a matrix product with a
/// broadcast bias, `exp`, the activations and the sigmoid's derivative as
/// [`Activation`] evaluates them (`neg`, `clamp_max`, `exp`, `add_scalar`,
/// `recip`, `tanh`, `mul`), element-wise
/// products, a transposed product, column and full sums, row selection by
/// index, slicing, scaling — reproduces the host's f64 values within
/// 1000 unit roundoffs of `precision` (1.1e-13 in f64, 6e-5 in f32), relative
/// to max(|value|, 1). Each probe value is a chain of at most a dozen
/// operations on a few terms, so a correct implementation is off by a few
/// units of roundoff; a device that silently computes f64 in f32 is off by
/// ~1e-8, and a broken one by O(1). A panic inside the backend during the
/// probe is turned into the same error.
///
/// The verdict is cached per device (autodiff or not) and precision.
pub fn verify_precision(device: &Device, precision: Precision) -> Result<()> {
    let cached = {
        let verdicts = VERDICTS.lock().unwrap_or_else(|e| e.into_inner());
        verdicts
            .iter()
            .find(|(d, p, _)| d == device && *p == precision)
            .map(|(_, _, verdict)| verdict.clone())
    };
    let verdict = match cached {
        Some(verdict) => verdict,
        None => {
            let plain = device.clone().inner();
            let verdict = if !plain.supports_dtype(precision.dtype()) {
                Err(format!("the device does not support {precision} tensors"))
            } else {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| probe(&plain, precision)))
                    .unwrap_or_else(|panic| {
                        let message = panic
                            .downcast_ref::<String>()
                            .map(String::as_str)
                            .or_else(|| panic.downcast_ref::<&str>().copied())
                            .unwrap_or("(no message)");
                        Err(format!(
                            "the backend failed while computing in {precision}: {message}"
                        ))
                    })
            };
            VERDICTS.lock().unwrap_or_else(|e| e.into_inner()).push((
                device.clone(),
                precision,
                verdict.clone(),
            ));
            verdict
        }
    };
    verdict.map_err(|reason| Error::UnsupportedPrecision {
        device: describe(device).to_string(),
        precision,
        reason,
    })
}

/// The probe's inputs: 3 examples × 4 features, a 4 × 2 weight, 2 biases.
/// Thirds, sevenths and tenths are not representable in binary, so an f64
/// value squeezed through f32 anywhere on the way differs from the host's by
/// ~1e-8, far outside the f64 bound.
const X: [f64; 12] = [
    1.0 / 3.0,
    -2.0 / 7.0,
    0.1,
    1.5,
    -1.25,
    2.0 / 3.0,
    0.7,
    -0.3,
    0.9,
    -1.1,
    1.0 / 7.0,
    0.45,
];
const W: [f64; 8] = [0.2, -0.6, 1.3, 0.4, -0.8, 0.05, 0.6, -1.7];
const B: [f64; 2] = [0.3, -0.2];

/// What the probe computes, in the order of the computation, so that the
/// first failure names the operation that went wrong rather than one
/// downstream of it.
const QUANTITIES: [&str; 9] = [
    "x·W + b",
    "exp(−z)",
    "sigmoid",
    "tanh",
    "a(1 − a)",
    "column sums",
    "xᵀ·t / 2",
    "row selection",
    "Σ(a − t)²",
];

/// Runs the probe on `device` and compares it with the host; `Err` says which
/// quantity was wrong and by how much.
fn probe(device: &Device, precision: Precision) -> std::result::Result<(), String> {
    let tolerance = 1e3 * precision.unit_roundoff();
    let computed = on_device(device, precision)?;
    for ((what, got), expected) in QUANTITIES.iter().zip(computed).zip(on_host()) {
        if got.len() != expected.len() {
            return Err(format!(
                "{what} came back with {} values instead of {}",
                got.len(),
                expected.len()
            ));
        }
        for (g, e) in got.iter().zip(&expected) {
            // Written so that NaN fails too.
            let within = (g - e).abs() <= tolerance * e.abs().max(1.0);
            if !within {
                return Err(format!(
                    "the {precision} self-check computed {what} = {g:e} where the exact value is {e:e} \
                     (allowed error {:.1e})",
                    tolerance * e.abs().max(1.0)
                ));
            }
        }
    }
    Ok(())
}

/// The [`QUANTITIES`] computed on `device` with the library's own formulas,
/// so the probe follows them if they change; `exp` is probed on its own
/// first, to name it when it is the culprit.
fn on_device(device: &Device, precision: Precision) -> std::result::Result<[Vec<f64>; 9], String> {
    let dtype = precision.dtype();
    let (m, n, k) = (3, 4, 2);
    let x: Tensor<2> = Tensor::from_data(TensorData::new(X.to_vec(), [m, n]), (device, dtype));
    let w: Tensor<2> = Tensor::from_data(TensorData::new(W.to_vec(), [n, k]), (device, dtype));
    let b: Tensor<1> = Tensor::from_data(TensorData::new(B.to_vec(), [k]), (device, dtype));
    let z = x.clone().matmul(w) + b.unsqueeze::<2>();
    let exp = z.clone().neg().exp();
    let sigmoid = Activation::Sigmoid.forward(z.clone());
    let tanh = Activation::Tanh.forward(z.clone());
    let derivative = Activation::Sigmoid.derivative_from_output(sigmoid.clone());
    let column_sums = derivative.clone().sum_dim(0).squeeze_dim::<1>(0);
    let weight_grad = x.clone().transpose().matmul(tanh.clone()).mul_scalar(0.5);
    let rows = Tensor::<1, Int>::from_data(TensorData::new(vec![2_i64, 0], [2]), device);
    let selected = x.select(0, rows).slice([0..2, 1..3]);
    let total = (sigmoid.clone() - tanh.clone()).square().sum();
    let read = |t: Tensor<2>| {
        t.to_data()
            .try_to_vec_as::<f64>()
            .map_err(|e| format!("{e:?}"))
    };
    Ok([
        read(z)?,
        read(exp)?,
        read(sigmoid)?,
        read(tanh)?,
        read(derivative)?,
        read(column_sums.unsqueeze())?,
        read(weight_grad)?,
        read(selected)?,
        read(total.unsqueeze())?,
    ])
}

/// The same [`QUANTITIES`] by plain arithmetic on the host, in f64.
fn on_host() -> [Vec<f64>; 9] {
    let (m, n, k) = (3, 4, 2);
    let z: Vec<f64> = (0..m * k)
        .map(|ij| {
            let (i, j) = (ij / k, ij % k);
            (0..n).map(|l| X[i * n + l] * W[l * k + j]).sum::<f64>() + B[j]
        })
        .collect();
    let exp: Vec<f64> = z.iter().map(|z| (-z).exp()).collect();
    let sigmoid: Vec<f64> = exp.iter().map(|e| 1.0 / (1.0 + e)).collect();
    let tanh: Vec<f64> = z.iter().map(|z| z.tanh()).collect();
    let derivative: Vec<f64> = sigmoid.iter().map(|a| a * (1.0 - a)).collect();
    let column_sums: Vec<f64> = (0..k)
        .map(|j| (0..m).map(|i| derivative[i * k + j]).sum())
        .collect();
    let weight_grad: Vec<f64> = (0..n * k)
        .map(|lj| {
            let (l, j) = (lj / k, lj % k);
            0.5 * (0..m).map(|i| X[i * n + l] * tanh[i * k + j]).sum::<f64>()
        })
        .collect();
    let selected = vec![X[2 * n + 1], X[2 * n + 2], X[1], X[2]];
    let total: f64 = sigmoid
        .iter()
        .zip(&tanh)
        .map(|(s, t)| (s - t).powi(2))
        .sum();
    [
        z,
        exp,
        sigmoid,
        tanh,
        derivative,
        column_sums,
        weight_grad,
        selected,
        vec![total],
    ]
}
