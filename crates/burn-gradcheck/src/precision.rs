//! The floating-point precision of a network, its data and its gradients: a
//! leaf that every other module may name.

use burn::tensor::DType;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Floating-point precision of a network's parameters and data.
///
/// The precision is carried by each tensor (not configured on the device), so f32
/// and f64 networks can live side by side in one process on the same device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// IEEE single precision.
    F32,
    /// IEEE double precision; use it whenever gradients are being verified.
    F64,
}

impl Precision {
    /// Both precisions, in a stable order.
    pub const ALL: [Precision; 2] = [Precision::F32, Precision::F64];

    /// The burn dtype of tensors in this precision.
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::F64 => DType::F64,
        }
    }

    /// Unit roundoff u = 2^-p (half the machine epsilon): the relative error of one
    /// correctly rounded operation. Tolerances in the verification module are
    /// multiples of it.
    pub fn unit_roundoff(self) -> f64 {
        match self {
            Precision::F32 => f64::from(f32::EPSILON) / 2.0,
            Precision::F64 => f64::EPSILON / 2.0,
        }
    }

    /// The precision of a burn dtype, if it is one this crate supports.
    pub fn from_dtype(dtype: DType) -> Option<Precision> {
        match dtype {
            DType::F32 => Some(Precision::F32),
            DType::F64 => Some(Precision::F64),
            _ => None,
        }
    }

    /// The lower-case name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    }
}

impl FromStr for Precision {
    type Err = String;

    /// `f32` or `f64`, as [`Precision::name`] writes them.
    fn from_str(text: &str) -> Result<Precision, String> {
        Precision::ALL
            .into_iter()
            .find(|p| p.name() == text)
            .ok_or_else(|| format!("unknown precision `{text}`: expected f32 or f64"))
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
