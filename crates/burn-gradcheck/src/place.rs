//! Where a computation runs: a burn device and a float precision, and the
//! name reports give it.

use crate::precision::Precision;
use burn::tensor::Device;
use std::fmt;

/// Where a computation runs: a burn device and a float precision.
///
/// Two places are the same place when their devices and precisions are; the
/// name is only how reports print it (`flex (CPU) in f64`).
#[derive(Debug, Clone)]
pub struct Place {
    /// The device (plain; the checker adds autodiff where it needs it).
    pub device: Device,
    /// The float precision of every tensor the checker creates there.
    pub precision: Precision,
    name: String,
}

impl Place {
    /// `device` in `precision`, named after its burn backend.
    pub fn new(device: Device, precision: Precision) -> Place {
        let device = device.inner();
        Place {
            name: backend_name(&device),
            device,
            precision,
        }
    }

    /// The reference of every cross-precision or cross-backend check:
    /// burn-flex in f64 on the CPU.
    pub fn reference() -> Place {
        Place::new(Device::flex(), Precision::F64)
    }

    /// The same place under another name in reports — for a device its
    /// backend alone does not say enough about (which GPU adapter, which server).
    pub fn named(mut self, name: impl Into<String>) -> Place {
        self.name = name.into();
        self
    }
}

impl PartialEq for Place {
    fn eq(&self, other: &Place) -> bool {
        self.device == other.device && self.precision == other.precision
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}", self.name, self.precision)
    }
}

/// A device's backend as burn's own device enumeration names it — `flex`,
/// `ndarray`, `tch`, marked `(CPU)` where it computes on the CPU; a cubecl
/// device by its runtime (`wgpu`, `cuda`); a served one as `remote` and its
/// address — or burn's full description for any other.
fn backend_name(device: &Device) -> String {
    let debug = format!("{device:?}");
    // burn writes a device as `Device<Variant(inner)>`.
    let plain = debug
        .strip_prefix("Device<")
        .and_then(|d| d.strip_suffix('>'))
        .unwrap_or(&debug);
    let (variant, inner) = plain.split_once('(').unwrap_or((plain, ""));
    match variant {
        "Flex" => "flex (CPU)".into(),
        "NdArray" => "ndarray (CPU)".into(),
        "LibTorch" if inner.starts_with("Cpu") => "tch (CPU)".into(),
        "LibTorch" => format!("tch {}", inner.trim_end_matches(')')),
        // A cubecl device: named by its runtime (`Cube(Wgpu(..))` is wgpu).
        "Cube" => inner
            .split(['(', ' ', '{'])
            .next()
            .unwrap_or("cubecl")
            .to_lowercase(),
        "Remote" => format!("remote {}", inner.trim_end_matches(')')),
        _ => plain.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{Place, Precision};
    use burn::tensor::Device;

    #[test]
    fn a_cpu_place_is_named_by_its_backend_and_precision() {
        assert_eq!(Place::reference().to_string(), "flex (CPU) in f64");
        let renamed = Place::new(Device::flex(), Precision::F32).named("my flex");
        assert_eq!(renamed.to_string(), "my flex in f32");
        assert_eq!(renamed, Place::new(Device::flex(), Precision::F32));
        assert_ne!(renamed, Place::new(Device::flex(), Precision::F64));
    }
}
