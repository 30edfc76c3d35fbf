//! Element-by-element comparison of two sets of gradients, keyed by
//! parameter: the check of two exact computations of one gradient (the
//! hand-written backward against autodiff's), with no finite differences.

use crate::error::Result;
use crate::gradients::autodiff_gradients;
use crate::network::{Gradients, Network};
use crate::tensor;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use burn_gradcheck::params::ParamValues;
use burn_gradcheck::{Agreement, Tolerance};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The comparison of one parameter tensor: its path and shape, and how far
/// the two sides agree entry by entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorReport {
    /// Module path, e.g. `layers.1.weight`.
    pub path: String,
    /// The tensor's shape.
    pub shape: Vec<usize>,
    /// The comparison, its worst entry named in the tensor's shape
    /// (`worst_input`; `values` are side a's and side b's there).
    pub agreement: Agreement,
}

/// The comparison of two complete sets of gradients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Names of the two sides, e.g. `("manual", "autodiff")`.
    pub labels: (String, String),
    /// The tolerance every entry was held to.
    pub tolerance: Tolerance,
    /// One report per parameter tensor, in module order.
    pub tensors: Vec<TensorReport>,
    /// Parameters that one side had no gradient for.
    pub missing: Vec<String>,
    /// Whether everything matched: no missing gradient and every tensor passed.
    pub passed: bool,
}

impl Comparison {
    /// The report of the tensor with the largest violation, if any tensor was compared.
    pub fn worst(&self) -> Option<&TensorReport> {
        self.tensors
            .iter()
            .max_by(|p, q| p.agreement.violation.total_cmp(&q.agreement.violation))
    }

    /// The largest element-wise relative difference over all tensors.
    pub fn max_rel_diff(&self) -> f64 {
        self.tensors
            .iter()
            .map(|t| t.agreement.max_rel_diff)
            .fold(0.0, f64::max)
    }

    /// The largest ‖a − b‖ / ‖a + b‖ over all tensors.
    pub fn max_relative_difference(&self) -> f64 {
        self.tensors
            .iter()
            .map(|t| t.agreement.relative_difference())
            .fold(0.0, f64::max)
    }
}

/// Compares two gradient sets for every float parameter of `module`, keyed by
/// `ParamId` (as burn optimizers and `GradientsParams::from_grads` key them).
pub fn compare<M: Module>(
    module: &M,
    labels: (&str, &str),
    a: &GradientsParams,
    b: &GradientsParams,
    tolerance: Tolerance,
) -> Result<Comparison> {
    let mut both = Vec::new();
    let mut missing = Vec::new();
    for entry in ParamValues::of(module)?.entries {
        match (entry.gradient(a)?, entry.gradient(b)?) {
            (Some(a), Some(b)) => both.push((entry, a, b)),
            _ => missing.push(entry.path),
        }
    }
    let scale = tensor::max_abs(both.iter().flat_map(|(_, a, b)| a.iter().chain(b)));
    let tensors: Vec<TensorReport> = both
        .iter()
        .map(|(e, a, b)| compare_values_at_scale(&e.path, &e.shape, a, b, tolerance, scale))
        .collect();
    let passed = missing.is_empty() && tensors.iter().all(|t| t.agreement.passed);
    Ok(Comparison {
        labels: (labels.0.to_string(), labels.1.to_string()),
        tolerance,
        tensors,
        missing,
        passed,
    })
}

/// Compares two sets of `network`'s gradients (say, hand-written and
/// autodiff's) parameter by parameter, with the tolerance of two exact
/// computations in the network's own precision ([`Tolerance::exact`]).
pub fn compare_gradients(
    network: &Network,
    labels: (&str, &str),
    a: &Gradients,
    b: &Gradients,
) -> Result<Comparison> {
    compare(
        network,
        labels,
        &network.to_gradients_params(a),
        &network.to_gradients_params(b),
        Tolerance::exact(network.precision()?),
    )
}

/// The hand-written gradients of J on the batch (`x`, `y`) with decay λ
/// against burn-autodiff's of the same cost: the project's central claim, in
/// one call.
///
/// ```
/// use manual_backprop::verification::manual_vs_autodiff;
/// use manual_backprop::{NetworkConfig, Precision, tensor};
/// let device = burn::tensor::Device::flex();
/// let net = NetworkConfig::new(vec![2, 3, 1]).with_init_std(0.5).init(&device, Precision::F64)?;
/// let x = tensor::matrix("x", vec![0.1, 0.9, 0.7, 0.3], [2, 2], &device, Precision::F64)?;
/// let y = tensor::matrix("y", vec![1.0, 0.0], [2, 1], &device, Precision::F64)?;
/// let comparison = manual_vs_autodiff(&net, x, y, 1e-3)?;
/// assert!(comparison.passed, "{comparison}");
/// # Ok::<(), manual_backprop::Error>(())
/// ```
pub fn manual_vs_autodiff(
    network: &Network,
    x: Tensor<2>,
    y: Tensor<2>,
    weight_decay: f64,
) -> Result<Comparison> {
    let manual = network.gradients(x.clone(), y.clone(), weight_decay)?;
    let autodiff = autodiff_gradients(network, x, y, weight_decay)?;
    compare_gradients(network, ("manual", "autodiff"), &manual, &autodiff)
}

/// Compares two row-major tensors of the given shape entry by entry, with the
/// floor's scale the tensor's own largest entry: for a tensor compared on its
/// own. Parts of one gradient are compared with [`compare_values_at_scale`]
/// and the whole gradient's scale, as [`compare()`] does.
pub fn compare_values(
    path: &str,
    shape: &[usize],
    a: &[f64],
    b: &[f64],
    tolerance: Tolerance,
) -> TensorReport {
    compare_values_at_scale(path, shape, a, b, tolerance, 0.0)
}

/// [`compare_values`] with the floor's scale at least `min_scale` — for
/// comparisons whose error is set by something larger than the tensor itself:
/// the rest of the gradient (see [`Tolerance`]), or the cost, which sets the
/// error of finite differences.
pub fn compare_values_at_scale(
    path: &str,
    shape: &[usize],
    a: &[f64],
    b: &[f64],
    tolerance: Tolerance,
    min_scale: f64,
) -> TensorReport {
    TensorReport {
        path: path.to_string(),
        shape: shape.to_vec(),
        agreement: Agreement::of_values(a, b, shape, tolerance, min_scale),
    }
}

/// ‖a − b‖ / ‖a + b‖, the reference course's gradient-check summary (0 when both are 0).
pub fn relative_difference(a: &[f64], b: &[f64]) -> f64 {
    Agreement::of_values(
        a,
        b,
        &[a.len()],
        Tolerance::exact(crate::Precision::F64),
        0.0,
    )
    .relative_difference()
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (la, lb) = (&self.labels.0, &self.labels.1);
        writeln!(
            f,
            "{la} vs {lb}: {} (|a−b| ≤ {:.0e}·max(|a|,|b|) + {:.0e}·scale)",
            if self.passed { "PASS" } else { "FAIL" },
            self.tolerance.relative,
            self.tolerance.floor
        )?;
        writeln!(
            f,
            "{:<18} {:>10} {:>10} {:>10} {:>10}  {:<10} {:>24} {:>24}  ok",
            "parameter", "max|a−b|", "max rel", "‖a−b‖/‖a+b‖", "scale", "worst at", la, lb
        )?;
        for TensorReport {
            path, agreement: t, ..
        } in &self.tensors
        {
            writeln!(
                f,
                "{:<18} {:>10.3e} {:>10.3e} {:>10.3e} {:>10.3e}  {:<10} {:>24.16e} {:>24.16e}  {}",
                path,
                t.max_abs_diff,
                t.max_rel_diff,
                t.relative_difference(),
                t.scale,
                format!("{:?}", t.worst_input),
                t.values.0,
                t.values.1,
                if t.passed { "yes" } else { "NO" }
            )?;
        }
        for path in &self.missing {
            writeln!(f, "{path:<18} missing on one side")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! Hand-computed comparisons: every number below follows from the
    //! formula |a − b| ≤ relative · max(|a|, |b|) + floor · scale.
    use super::*;
    use crate::network::Network;
    use crate::{Activation, Dense};
    use burn::tensor::Device;

    fn report(a: &[f64], b: &[f64], relative: f64, floor: f64) -> TensorReport {
        compare_values("t", &[a.len()], a, b, Tolerance { relative, floor })
    }

    #[test]
    fn the_relative_term_scales_with_the_entry_and_the_floor_with_the_scale() {
        // Relative only: |1000 − 1000.5| = 0.5 ≤ 1e-3 · 1000.5 passes; 0.5 ≤
        // 1e-3 · 400.5 does not.
        assert!(report(&[1000.0], &[1000.5], 1e-3, 0.0).agreement.passed);
        assert!(!report(&[400.0], &[400.5], 1e-3, 0.0).agreement.passed);
        // Floor only: the scale is the largest |entry| of either side (1000),
        // so 0.5 ≤ 1e-3 · 1000 passes for the small entry, 0.5 ≤ 1e-4 · 1000 not.
        let r = report(&[1.0, 1000.0], &[1.5, 1000.0], 0.0, 1e-3);
        assert!(r.agreement.passed);
        assert_eq!(r.agreement.scale, 1000.0);
        assert!(
            !report(&[1.0, 1000.0], &[1.5, 1000.0], 0.0, 1e-4)
                .agreement
                .passed
        );
        // A lower bound for the scale, as the whole gradient supplies it.
        let at_scale = |min_scale| {
            compare_values_at_scale(
                "t",
                &[1],
                &[1.0],
                &[1.5],
                Tolerance {
                    relative: 0.0,
                    floor: 1e-3,
                },
                min_scale,
            )
        };
        assert!(at_scale(1000.0).agreement.passed);
        assert!(!at_scale(100.0).agreement.passed);
        // Nothing allowed: equal entries pass, any difference fails.
        assert!(report(&[3.0, 0.0], &[3.0, 0.0], 0.0, 0.0).agreement.passed);
        assert!(!report(&[3.0], &[3.0 + 1e-15], 0.0, 0.0).agreement.passed);
    }

    #[test]
    fn the_report_names_the_worst_entry_and_its_sizes() {
        // Violations: entry 0 none; entry 1: 2e-3 / (1e-3·2.002 + 1e-3·10) ≈ 0.17;
        // entry 2: 1e-3 / (1e-3·10.001 + 1e-2) ≈ 0.05; entry 3: two zeros.
        let r = report(
            &[1.0, 2.0, 10.0, 0.0],
            &[1.0, 2.002, 10.001, 0.0],
            1e-3,
            1e-3,
        );
        assert!(r.agreement.passed);
        assert_eq!(r.agreement.worst_input, vec![1]);
        assert_eq!(r.agreement.values, (2.0, 2.002));
        assert!(
            (r.agreement.max_abs_diff - 2e-3).abs() < 1e-15,
            "{}",
            r.agreement.max_abs_diff
        );
        assert!(
            (r.agreement.max_rel_diff - 2e-3 / 2.002).abs() < 1e-15,
            "{}",
            r.agreement.max_rel_diff
        );
        // ‖a − b‖ = √(4e-6 + 1e-6), ‖a + b‖ = √(2² + 4.002² + 20.001²). 2.002 and
        // 10.001 are not exact in binary, so their differences from 2 and 10
        // carry ~1e-13 relative error: 1e-12 is the check's precision.
        let expected = 5e-6_f64.sqrt() / (4.0 + 4.002_f64.powi(2) + 20.001_f64.powi(2)).sqrt();
        assert!((r.agreement.relative_difference() - expected).abs() < 1e-12 * expected);
        // The worst entry of a failing tensor, in the tensor's own shape.
        let r = compare_values(
            "t",
            &[2, 2],
            &[1.0, 2.0, 3.0, 4.0],
            &[1.0, 2.0, 3.3, 4.1],
            Tolerance {
                relative: 1e-2,
                floor: 0.0,
            },
        );
        assert!(!r.agreement.passed);
        assert_eq!(r.agreement.worst_input, vec![1, 0]);
        // A NaN is the worst entry and fails, wherever it is.
        let r = report(&[1.0, f64::NAN, 5.0], &[1.0, 1.0, 5.5], 1e-1, 0.0);
        assert!(!r.agreement.passed);
        assert_eq!(r.agreement.worst_input, vec![1]);
        let r = report(&[1.0, 2.0], &[1.0, f64::NAN], 1.0, 1.0);
        assert!(!r.agreement.passed);
        assert_eq!(r.agreement.worst_input, vec![1]);
        // Empty tensors compare equal, whatever their shape.
        let r = compare_values(
            "t",
            &[0, 3],
            &[],
            &[],
            Tolerance::exact(crate::Precision::F64),
        );
        assert!(r.agreement.passed);
        assert_eq!(r.agreement.worst_input, vec![0, 0]);
        // A multi-index counts the last dimension fastest: flat 5 of [2, 3] is [1, 2].
        let mut b = vec![0.0; 6];
        b[5] = 1.0;
        let r = compare_values(
            "t",
            &[2, 3],
            &[0.0; 6],
            &b,
            Tolerance::exact(crate::Precision::F64),
        );
        assert_eq!(r.agreement.worst_input, vec![1, 2]);
    }

    #[test]
    fn a_comparison_of_two_gradient_sets_summarises_every_tensor() {
        let device = Device::flex();
        let net = Network {
            layers: vec![Dense::from_values(
                vec![0.0; 2],
                vec![0.0],
                [2, 1],
                Activation::Sigmoid,
                &device,
                crate::Precision::F64,
            )],
        };
        let layer = &net.layers[0];
        let set = |w: [f64; 2], b: f64| {
            let mut params = GradientsParams::new();
            let w = crate::tensor::matrix("w", w.to_vec(), [2, 1], &device, crate::Precision::F64)
                .unwrap();
            let b = crate::tensor::vector("b", vec![b], &device, crate::Precision::F64).unwrap();
            params.register(layer.weight.id, w);
            params.register(layer.bias.id, b);
            params
        };
        // weight: [3, 4] vs [3, 4.004]; bias: 2 vs 2.1. Scale 4.004 for both.
        let c = compare(
            &net,
            ("a", "b"),
            &set([3.0, 4.0], 2.0),
            &set([3.0, 4.004], 2.1),
            Tolerance {
                relative: 1e-2,
                floor: 1e-3,
            },
        )
        .unwrap();
        assert!(c.missing.is_empty());
        // What `grads` and the tests print: the verdict, and each tensor's row.
        let printed = c.to_string();
        assert!(printed.starts_with("a vs b: FAIL"), "{printed}");
        assert!(printed.contains("layers.0.weight") && printed.contains("layers.0.bias"));
        let (weight, bias) = (&c.tensors[0], &c.tensors[1]);
        assert_eq!(
            (weight.path.as_str(), bias.path.as_str()),
            ("layers.0.weight", "layers.0.bias")
        );
        assert!(weight.agreement.passed && !bias.agreement.passed && !c.passed);
        assert_eq!(
            (weight.agreement.scale, bias.agreement.scale),
            (4.004, 4.004)
        );
        assert_eq!(c.worst().unwrap().path, "layers.0.bias");
        assert!((c.max_rel_diff() - 0.1 / 2.1).abs() < 1e-15);
        let bias_summary = 0.1 / 4.1;
        assert!((c.max_relative_difference() - bias_summary).abs() < 1e-15);
        // A side without a gradient for a parameter fails the comparison and names it.
        let mut partial = GradientsParams::new();
        partial.register(
            layer.weight.id,
            crate::tensor::matrix("w", vec![3.0, 4.0], [2, 1], &device, crate::Precision::F64)
                .unwrap(),
        );
        let c = compare(
            &net,
            ("a", "b"),
            &set([3.0, 4.0], 2.0),
            &partial,
            Tolerance::exact(crate::Precision::F64),
        )
        .unwrap();
        assert_eq!(c.missing, vec!["layers.0.bias".to_string()]);
        assert!(!c.passed);
    }
}
