//! Tensors read as f64 values, and the two facts every comparison needs of
//! them: that they are finite, and their scale.

use crate::error::{Error, Result};
use burn::tensor::Tensor;

/// The elements of any float tensor as f64, row-major (exact for f32 and f64).
pub fn to_vec<const D: usize>(tensor: &Tensor<D>) -> Result<Vec<f64>> {
    tensor
        .to_data()
        .try_to_vec_as::<f64>()
        .map_err(|e| Error::TensorRead(format!("{e:?}")))
}

/// Fails with [`Error::NonFinite`] at the first NaN or infinity in `values`.
pub fn check_finite(what: &str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(Error::NonFinite {
            what: what.to_string(),
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// The largest |value| (0 for none): the scale of a gradient, a weight
/// matrix or a feature, wherever one is needed.
pub fn max_abs<'a>(values: impl IntoIterator<Item = &'a f64>) -> f64 {
    values.into_iter().fold(0.0_f64, |m, v| m.max(v.abs()))
}
