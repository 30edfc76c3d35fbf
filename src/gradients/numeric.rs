//! Central finite differences: the derivative estimated from the cost alone.

use crate::error::Result;
use crate::layer::DenseGrads;
use crate::network::{Gradients, Network};
use crate::tensor;
use burn::tensor::Tensor;
use burn_gradcheck::FiniteDifference;
use burn_gradcheck::params::ParamValues;

/// Estimates ∂J/∂θ_i for every i from evaluations of `cost` alone
/// (docs/maths.md § 10); `cost` gets a copy of θ with one entry moved.
pub fn central_differences<F>(
    mut cost: F,
    theta: &[f64],
    scheme: FiniteDifference,
) -> Result<Vec<f64>>
where
    F: FnMut(&[f64]) -> Result<f64>,
{
    let mut shifted = theta.to_vec();
    let mut grad = Vec::with_capacity(theta.len());
    for i in 0..theta.len() {
        let along = scheme.derivative_along(|t| {
            shifted[i] = theta[i] + t;
            let value = cost(&shifted);
            shifted[i] = theta[i];
            Ok::<_, crate::Error>(vec![value?])
        })?;
        grad.push(along[0]);
    }
    Ok(grad)
}

/// ∂J/∂θ of every parameter of `network` by central differences of
/// [`Network::cost`], two cost evaluations per parameter entry.
///
/// Use an f64 network: in f32 the rounding error of J swamps any useful ε.
pub fn numeric_gradients(
    network: &Network,
    x: Tensor<2>,
    y: Tensor<2>,
    weight_decay: f64,
    scheme: FiniteDifference,
) -> Result<Gradients> {
    network.check_batch(&x, &y, weight_decay)?;
    let base = ParamValues::of(network)?;
    let theta: Vec<f64> = base.entries.iter().flat_map(|e| e.values.clone()).collect();
    let with_flat = |flat: &[f64]| {
        let mut params = base.clone();
        let mut rest = flat;
        for entry in &mut params.entries {
            let (head, tail) = rest.split_at(entry.values.len());
            entry.values = head.to_vec();
            rest = tail;
        }
        params
    };
    let cost_at = |flat: &[f64]| {
        with_flat(flat)
            .apply(network)?
            .cost(x.clone(), y.clone(), weight_decay)
    };
    let grad = with_flat(&central_differences(cost_at, &theta, scheme)?);
    let (device, precision) = (network.device(), network.precision()?);
    // A network's parameters are visited as one weight then one bias per layer.
    let layers = grad
        .entries
        .chunks(2)
        .map(|pair| {
            let [weight, bias] = [&pair[0], &pair[1]];
            Ok(DenseGrads {
                weight: tensor::matrix(
                    &weight.path,
                    weight.values.clone(),
                    [weight.shape[0], weight.shape[1]],
                    &device,
                    precision,
                )?,
                bias: tensor::vector(&bias.path, bias.values.clone(), &device, precision)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Gradients {
        cost: network.cost(x, y, weight_decay)?,
        layers,
    })
}

#[cfg(test)]
mod tests {
    use super::{FiniteDifference, central_differences};
    use crate::error::Error;

    /// J(θ) = θ₀³ + 2θ₁, whose gradient at (1, 5) is (3, 2).
    fn cubic(theta: &[f64]) -> crate::error::Result<f64> {
        Ok(theta[0].powi(3) + 2.0 * theta[1])
    }

    #[test]
    fn differences_have_the_truncation_error_their_stencil_promises() {
        // Centred: (J(θ + h) − J(θ − h)) / 2h = 3θ₀² + h² exactly for a cubic;
        // Richardson's (4 D(h/2) − D(h)) / 3 cancels the h² term. h = 0.01
        // makes h² = 1e-4 stand far above the rounding error (~1e-14).
        let central = central_differences(cubic, &[1.0, 5.0], FiniteDifference::central(0.01));
        let central = central.unwrap();
        assert!((central[0] - 3.0001).abs() < 1e-10, "{central:?}");
        assert!((central[1] - 2.0).abs() < 1e-10, "{central:?}");
        let richardson =
            central_differences(cubic, &[1.0, 5.0], FiniteDifference::richardson(0.01)).unwrap();
        assert!((richardson[0] - 3.0).abs() < 1e-10, "{richardson:?}");
        assert!((richardson[1] - 2.0).abs() < 1e-10, "{richardson:?}");
    }

    #[test]
    fn each_evaluation_moves_one_entry_and_puts_it_back() {
        let theta = [1.0, 2.0, 3.0];
        let mut seen = Vec::new();
        central_differences(
            |t: &[f64]| {
                seen.push(t.to_vec());
                Ok(0.0)
            },
            &theta,
            FiniteDifference::central(0.5),
        )
        .unwrap();
        assert_eq!(seen.len(), 6);
        for (k, point) in seen.iter().enumerate() {
            let (i, sign) = (k / 2, if k % 2 == 0 { 1.0 } else { -1.0 });
            let mut expected = theta.to_vec();
            expected[i] += sign * 0.5;
            assert_eq!(point, &expected, "evaluation {k}");
        }
    }

    #[test]
    fn a_step_that_is_not_a_positive_number_is_refused() {
        for epsilon in [0.0, -1e-5, f64::NAN, f64::INFINITY] {
            let result = central_differences(cubic, &[1.0], FiniteDifference::central(epsilon));
            assert!(
                matches!(
                    result,
                    Err(Error::InvalidParameter {
                        name: "epsilon",
                        ..
                    })
                ),
                "ε = {epsilon}: {result:?}"
            );
        }
    }
}
