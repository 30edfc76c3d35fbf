//! Run-time choice of compute backend and floating-point precision.
//!
//! burn 0.22 erased the backend type parameter: a model runs wherever its tensors
//! live, so swapping backends means passing another [`Device`]. These two enums
//! name the choices the project tests and benchmarks, for CLIs and config files.
//!
//! A device is only trusted with a precision after [`verify_precision`] has
//! seen it compute that precision correctly: [`Backend::device_for`] does that
//! up front, and every constructor of networks and data tensors does it too.

pub mod remote;
mod selfcheck;

pub use selfcheck::verify_precision;

use crate::Precision;
use crate::error::{Error, Result};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A compute backend: one compiled into this build, or a device that
/// `backprop serve` hosts on another machine.
///
/// In JSON a local backend is its name (`"flex"`) and a remote one an object
/// (`{"remote": "ws://gpu-box:3000"}`); on the command line the name, or
/// `remote` with `--remote URL`, or the `ws://` URL itself (its [`FromStr`](std::str::FromStr)).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn-ndarray, the classic CPU backend (deprecated in burn 0.22, kept as a reference).
    Ndarray,
    /// burn-flex, burn 0.22's newer CPU backend.
    Flex,
    /// A GPU through wgpu (Vulkan, Metal, DirectX, WebGPU); cargo feature `wgpu`.
    #[cfg(feature = "wgpu")]
    Wgpu,
    /// An NVIDIA GPU through CUDA; cargo feature `cuda`.
    #[cfg(feature = "cuda")]
    Cuda,
    /// PyTorch's own CPU kernels (libtorch: MKL or OpenBLAS products, ATen
    /// element-wise loops) through burn's LibTorch backend; cargo feature
    /// `tch`, with the libtorch of `scripts/setup-libtorch.sh`.
    #[cfg(feature = "tch")]
    Tch,
    /// The device served at this WebSocket URL (`ws://HOST:PORT`) by
    /// `backprop serve`, through burn's remote backend; cargo feature
    /// `remote`. The name is present in every build so that a grid file that
    /// lists a server gets a clear "rebuild with --features remote" instead of
    /// a parse error.
    Remote(String),
}

/// The command line's help for every `--backend`: what it accepts.
pub const HELP: &str = "Backend: flex, ndarray, wgpu/cuda/tch in builds with those features, \
                        remote (with --remote URL) or a ws:// URL";

/// How many CPU backends this build has: ndarray and flex, and LibTorch's
/// CPU device in builds with the feature `tch`.
const CPU_BACKENDS: usize = if cfg!(feature = "tch") { 3 } else { 2 };

impl Backend {
    /// Every CPU backend compiled into this build, in a stable order (the
    /// backends the test suite runs on: `scripts/test-tch.sh` runs it with
    /// LibTorch's among them).
    pub const ALL: [Backend; CPU_BACKENDS] = [
        Backend::Ndarray,
        Backend::Flex,
        #[cfg(feature = "tch")]
        Backend::Tch,
    ];

    /// Every backend compiled into this build, CPU backends first.
    pub fn compiled() -> Vec<Backend> {
        #[allow(unused_mut)] // a CPU-only build pushes nothing
        let mut all = Backend::ALL.to_vec();
        #[cfg(feature = "wgpu")]
        all.push(Backend::Wgpu);
        #[cfg(feature = "cuda")]
        all.push(Backend::Cuda);
        all
    }

    /// The device, once it has been seen to compute `precision` correctly
    /// ([`verify_precision`]); otherwise [`crate::Error::UnsupportedPrecision`]
    /// naming the adapter. Use this wherever work is about to start.
    pub fn device_for(&self, precision: Precision) -> Result<Device> {
        let device = self.device()?;
        verify_precision(&device, precision)?;
        Ok(device)
    }

    /// The plain (non-autodiff) burn device for this backend. Local devices
    /// always open; a remote one is connected (once per process, within
    /// [`remote::CONNECT_TIMEOUT`]) and may fail with [`Error::Remote`].
    pub fn device(&self) -> Result<Device> {
        Ok(match self {
            // burn-ndarray is deprecated in favour of flex, but it is one of the two
            // backends this project compares, so it stays.
            #[allow(deprecated)]
            Backend::Ndarray => Device::ndarray(),
            Backend::Flex => Device::flex(),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Device::cuda(0),
            // burn-tch is deprecated in 0.22 (CubeCL is burn's way ahead); it is
            // kept as the backend on PyTorch's own kernels, the peer to measure.
            #[cfg(feature = "tch")]
            #[allow(deprecated)]
            Backend::Tch => Device::libtorch(),
            Backend::Remote(url) => remote::connect(url)?,
        })
    }

    /// The lower-case name used on the command line and in reports
    /// (`remote` for every server; [`Display`](fmt::Display) adds its URL).
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Ndarray => "ndarray",
            Backend::Flex => "flex",
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => "wgpu",
            #[cfg(feature = "cuda")]
            Backend::Cuda => "cuda",
            #[cfg(feature = "tch")]
            Backend::Tch => "tch",
            Backend::Remote(_) => "remote",
        }
    }

    /// `self`, with the URL of `--remote` filled in when `self` is a bare
    /// `remote` (as `--backend remote` parses); an error when a bare `remote`
    /// has no URL to take.
    pub fn with_remote(self, url: Option<&str>) -> Result<Backend> {
        match (self, url) {
            (Backend::Remote(current), Some(url)) if current.is_empty() => {
                remote::check_url(url)?;
                Ok(Backend::Remote(url.to_string()))
            }
            (Backend::Remote(current), None) if current.is_empty() => {
                Err(Error::InvalidParameter {
                    name: "backend",
                    value: "remote".into(),
                    reason: "say which server: --remote ws://HOST:PORT (the address `backprop \
                             serve` prints)"
                        .into(),
                })
            }
            (backend, _) => Ok(backend),
        }
    }

    /// True for the backends that split their work over rayon's threads
    /// (burn's own CPU backends; libtorch has its own thread pool).
    pub fn runs_on_rayon(&self) -> bool {
        matches!(self, Backend::Ndarray | Backend::Flex)
    }

    /// True for `remote` without a URL yet (see [`Backend::with_remote`]).
    pub fn is_bare_remote(&self) -> bool {
        matches!(self, Backend::Remote(url) if url.is_empty())
    }
}

impl std::str::FromStr for Backend {
    type Err = String;

    /// A backend's name, or a remote server: `ws://HOST:PORT`, or `remote`
    /// alone (its URL comes from `--remote`, see [`Backend::with_remote`]).
    fn from_str(text: &str) -> std::result::Result<Backend, String> {
        if text.starts_with("ws://") || text.starts_with("wss://") {
            return Ok(Backend::Remote(text.to_string()));
        }
        if text == "remote" {
            return Ok(Backend::Remote(String::new()));
        }
        Backend::compiled()
            .into_iter()
            .find(|b| b.name() == text)
            .ok_or_else(|| {
                let names: Vec<_> = Backend::compiled().iter().map(|b| b.name()).collect();
                format!(
                    "unknown backend `{text}`: expected {}, remote (with --remote URL) or a ws:// URL{}",
                    names.join(", "),
                    match text {
                        "wgpu" | "cuda" | "tch" => format!("; this build has no {text}: rebuild with --features {text}"),
                        _ => String::new(),
                    }
                )
            })
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Remote(url) if !url.is_empty() => write!(f, "remote {url}"),
            other => f.write_str(other.name()),
        }
    }
}

/// What a device is, for reports and error messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceDescription {
    /// The backend: `flex`, `ndarray`, `wgpu`, `cuda`, or burn's own name for another.
    pub backend: String,
    /// The adapter (GPU) as it names itself, for GPU backends.
    pub adapter: Option<String>,
    /// True when a GPU backend runs on a software implementation on the CPU
    /// (e.g. Mesa's lavapipe): its timings are not GPU speed.
    pub emulated: bool,
}

impl fmt::Display for DeviceDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.adapter {
            None => write!(f, "{} (CPU)", self.backend),
            Some(adapter) if self.emulated => {
                write!(f, "{} on {adapter}, a CPU-emulated GPU", self.backend)
            }
            Some(adapter) => write!(f, "{} on {adapter}", self.backend),
        }
    }
}

/// Describes `device`: its backend and, for GPU backends, the adapter and
/// whether it is emulated on the CPU. Opens the device if it is not yet open.
pub fn describe(device: &Device) -> DeviceDescription {
    let plain = device.clone().inner();
    let backend = Backend::compiled()
        .into_iter()
        .find(|b| b.device().is_ok_and(|d| d == plain))
        .map(|b| b.name().to_string())
        .or_else(|| remote::url_of(&plain).map(|url| format!("remote {url}")))
        .unwrap_or_else(|| format!("{plain:?}"));
    let (adapter, emulated) = adapter(&plain).map_or((None, false), |(a, e)| (Some(a), e));
    DeviceDescription {
        backend,
        adapter,
        emulated,
    }
}

/// The adapter's name and whether it is a software one, for cubecl devices.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn adapter(device: &Device) -> Option<(String, bool)> {
    let identity = device.identity()?;
    // cubecl reports no physical card for a CPU or a software rasteriser.
    Some((identity.name, identity.physical.is_none()))
}

#[cfg(not(any(feature = "wgpu", feature = "cuda")))]
fn adapter(_device: &Device) -> Option<(String, bool)> {
    None
}
