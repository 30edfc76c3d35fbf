//! Moving numbers between Rust vectors and burn tensors without losing precision.
//!
//! `Tensor::from_floats` rounds through f32 and `from_data` silently converts to
//! the device's default dtype; these helpers always state the dtype, so an f64
//! network really is f64 end to end.

use crate::Precision;
use crate::error::{Error, Result};
use burn::tensor::{Device, Tensor, TensorData};

/// A `[rows, cols]` matrix from row-major values, in the given precision.
///
/// Fails when `values.len() != rows * cols`, any value is NaN or infinite
/// (`what` names the matrix in the error message), or the device does not
/// compute `precision` correctly ([`crate::backend::verify_precision`]).
pub fn matrix(
    what: &str,
    values: Vec<f64>,
    [rows, cols]: [usize; 2],
    device: &Device,
    precision: Precision,
) -> Result<Tensor<2>> {
    if values.len() != rows * cols {
        return Err(Error::Shape {
            what: what.to_string(),
            expected: format!("{rows} × {cols} = {} values", rows * cols),
            got: format!("{} values", values.len()),
        });
    }
    check_finite(what, &values)?;
    crate::backend::verify_precision(device, precision)?;
    let data = TensorData::new(values, [rows, cols]);
    Ok(Tensor::from_data(data, (device, precision.dtype())))
}

/// A `[rows, cols]` matrix from a slice of equally long rows.
pub fn matrix_from_rows(
    what: &str,
    rows: &[Vec<f64>],
    device: &Device,
    precision: Precision,
) -> Result<Tensor<2>> {
    let cols = rows.first().map_or(0, Vec::len);
    if let Some((i, row)) = rows.iter().enumerate().find(|(_, r)| r.len() != cols) {
        return Err(Error::Shape {
            what: format!("{what}[{i}]"),
            expected: format!("{cols} columns, like row 0"),
            got: format!("{} columns", row.len()),
        });
    }
    matrix(what, rows.concat(), [rows.len(), cols], device, precision)
}

/// A vector of the given values, in the given precision (checked as in [`matrix`]).
pub fn vector(
    what: &str,
    values: Vec<f64>,
    device: &Device,
    precision: Precision,
) -> Result<Tensor<1>> {
    check_finite(what, &values)?;
    crate::backend::verify_precision(device, precision)?;
    let n = values.len();
    Ok(Tensor::from_data(
        TensorData::new(values, [n]),
        (device, precision.dtype()),
    ))
}

/// The elements of any float tensor as f64, row-major (exact for f32 and f64).
pub fn to_vec<const D: usize>(tensor: &Tensor<D>) -> Result<Vec<f64>> {
    tensor
        .to_data()
        .try_to_vec_as::<f64>()
        .map_err(|e| read_failure(&tensor.device(), e))
}

/// The single value of a one-element tensor (a cost, a sum) as f64.
pub fn scalar(tensor: Tensor<1>) -> Result<f64> {
    let device = tensor.device();
    tensor
        .try_into_scalar::<f64>()
        .map_err(|e| read_failure(&device, e))
}

/// A failed read on `device`; on a remote device whose server limits a
/// session's memory, with that likely cause.
fn read_failure(device: &Device, error: impl std::fmt::Debug) -> Error {
    let hint = crate::backend::remote::url_of(device)
        .and_then(|url| crate::backend::remote::memory_limit_hint(&url))
        .unwrap_or_default();
    Error::TensorRead(format!("{error:?}{hint}"))
}

/// The precision of a tensor, or an error for dtypes this crate does not handle.
pub fn precision_of<const D: usize>(what: &str, tensor: &Tensor<D>) -> Result<Precision> {
    Precision::from_dtype(tensor.dtype()).ok_or_else(|| Error::InvalidParameter {
        name: "dtype",
        value: format!("{:?}", tensor.dtype()),
        reason: format!("{what} must be f32 or f64"),
    })
}

pub use burn_gradcheck::values::{check_finite, max_abs};
