//! The failures of burn that the sweep has found and knows: each one's
//! operation, where it fails, and what is wrong upstream.

use crate::Precision;

/// A case known to fail because of a bug in burn, with what reproduces
/// it. The sweep reports it as such, not hidden; once fixed upstream, it
/// shows as a plain pass (and a test of its reproduction fails, asking for
/// the entry to be removed).
#[derive(Debug, Clone, Copy)]
pub struct KnownFailure {
    /// The family's operation.
    pub op: &'static str,
    /// The backend it fails on; `None` on every backend (a bug of
    /// burn-autodiff, burn-nn or a default of burn-backend).
    pub backend: Option<&'static str>,
    /// The precision it fails in; `None` in every precision.
    pub precision: Option<Precision>,
    /// The samples it fails at (a [`Sample::what`](super::Sample::what), e.g. `transposed view`);
    /// `None` at every sample.
    pub sample: Option<&'static str>,
    /// What is wrong upstream, where, and what reproduces it.
    pub reproduction: &'static str,
}

/// The known upstream failures found by this sweep; docs/upstream-findings.md
/// has each one's standalone reproduction.
pub const KNOWN_UPSTREAM: &[KnownFailure] = &[
    KnownFailure {
        op: "sigmoid",
        backend: Some("ndarray"),
        precision: Some(Precision::F64),
        sample: None,
        reproduction: "burn-ndarray does not override burn-backend's default \
            `ActivationOps::sigmoid`, which casts to f32 and back \
            (burn-backend-0.22.1/src/backend/ops/activation.rs:139-148), so σ of an f64 \
            tensor is f32-accurate: `sigmoid` of 0.5 in f64 on ndarray differs from \
            1/(1 + e^−0.5) by ~1e-8 instead of ~1e-16.",
    },
    KnownFailure {
        op: "silu",
        backend: Some("ndarray"),
        precision: Some(Precision::F64),
        sample: None,
        reproduction: "x·σ(x) through ndarray's f32-accurate sigmoid (see `sigmoid`).",
    },
    KnownFailure {
        op: "nn::SwiGlu",
        backend: Some("ndarray"),
        precision: Some(Precision::F64),
        sample: None,
        reproduction: "silu through ndarray's f32-accurate sigmoid (see `sigmoid`).",
    },
    KnownFailure {
        op: "gelu",
        backend: Some("ndarray"),
        precision: None,
        sample: None,
        reproduction: "burn-backend's default `ActivationOps::gelu_backward` \
            (burn-backend-0.22.1/src/backend/ops/activation.rs:98-130) differentiates the tanh \
            approximation of gelu, while the forward is the exact erf form: the gradient is \
            off by up to ~1 % (at x = −1.8: −0.0380 instead of −0.0376) in f32 and f64. \
            burn-ndarray keeps the default; burn-flex overrides it.",
    },
    KnownFailure {
        op: "interpolate bilinear",
        backend: Some("ndarray"),
        precision: None,
        sample: None,
        reproduction: "burn-ndarray has no backward for bilinear interpolation: it panics with \
            \"bilinear interpolation backward is not supported for ndarray backend\" \
            (burn-ndarray-0.22.1/src/ops/module.rs:356).",
    },
    KnownFailure {
        op: "interpolate bicubic",
        backend: Some("ndarray"),
        precision: None,
        sample: None,
        reproduction: "burn-ndarray has no backward for bicubic interpolation: it panics \
            (burn-ndarray-0.22.1/src/ops/module.rs, `interpolate_backward`).",
    },
    KnownFailure {
        op: "nn::RmsNorm",
        backend: None,
        precision: None,
        sample: None,
        reproduction: "burn-nn's RmsNorm computes the root mean square in f32 whatever the \
            input's dtype (`x.cast(DType::F32).square().mean_dim(..)`, \
            burn-nn-0.22.1/src/modules/norm/rms.rs:81), so an f64 RmsNorm is f32-accurate \
            and its finite differences (step 1e-6) are off by up to 25 %; f32 rows fail \
            because their f64 reference is f32-accurate.",
    },
    KnownFailure {
        op: "nn::BinaryCrossEntropyLoss",
        backend: None,
        precision: None,
        sample: None,
        reproduction: "burn-nn's BinaryCrossEntropyLoss turns its integer targets into floats \
            of the device's default dtype (`targets.clone().float()`, \
            burn-nn-0.22.1/src/loss/binary_cross_entropy.rs:103): with f64 logits on a device \
            left at its default f32 it panics with \"Data type mismatch (lhs: F64, rhs: F32)\"; \
            f32 rows fail because their f64 reference does.",
    },
    KnownFailure {
        op: "nn::RotaryEncoding",
        backend: None,
        precision: None,
        sample: None,
        reproduction: "burn-nn's RotaryEncoding builds its frequency table in the device's \
            default float dtype at `init` (burn-nn-0.22.1/src/modules/rope_encoding.rs:78) and \
            never casts it: an f64 input on a device left at its default f32 panics with \
            \"Data type mismatch\"; f32 rows fail because their f64 reference does.",
    },
    KnownFailure {
        op: "deform_conv2d",
        backend: Some("flex"),
        precision: Some(Precision::F64),
        sample: None,
        reproduction: "burn-flex computes deform_conv2d's backward of an f64 tensor in f32 \
            (burn-flex-0.22.1/src/ops/module.rs:216-241, commented \"f64 backward computed via \
            f32: precision loss\"): its f64 gradients are f32-accurate, off by ~5e-7 relative.",
    },
    KnownFailure {
        op: "deform_conv2d",
        backend: Some("ndarray"),
        precision: Some(Precision::F64),
        sample: None,
        reproduction: "burn-ndarray's deform_conv2d samples the input at f32 coordinates with \
            f32 bilinear weights whatever the dtype (`bilinear_interpolate`, \
            burn-ndarray-0.22.1/src/ops/deform_conv.rs:62-99): its f64 forward values are \
            f32-accurate (2e-6 relative from flex's), and finite differences of it are noise.",
    },
    KnownFailure {
        op: "nn::Lstm",
        backend: None,
        precision: None,
        sample: None,
        reproduction: "burn-nn's Lstm allocates its output buffer in the device's default float \
            dtype (`Tensor::empty([batch, seq, hidden], device)`, \
            burn-nn-0.22.1/src/modules/rnn/lstm/lstm_module.rs:231), so an f64 Lstm on a device \
            left at its default f32 panics with \"Data type mismatch (lhs: F32, rhs: F64)\", even \
            with an f64 initial state; f32 rows fail because their f64 reference does.",
    },
    KnownFailure {
        op: "nn::Gru",
        backend: None,
        precision: None,
        sample: None,
        reproduction: "burn-nn's Gru allocates its output buffer in the device's default float \
            dtype (`Tensor::empty([batch, seq, hidden], device)`, burn-nn-0.22.1/src/modules/rnn/gru.rs:187), so an f64 Gru on a device \
            left at its default f32 panics with \"Data type mismatch (lhs: F32, rhs: F64)\"; \
            f32 rows fail because their f64 reference does.",
    },
    KnownFailure {
        op: "gather_nd",
        backend: Some("ndarray"),
        precision: None,
        sample: Some("transposed view"),
        reproduction: "burn-ndarray's gather_nd panics on a non-contiguous tensor with \
            \"ndarray gather_nd requires contiguous data\" \
            (burn-ndarray-0.22.1/src/ops/base.rs:506) instead of copying it: \
            `x.transpose().gather_nd::<2, 2>(indices)` fails where `x.gather_nd` works.",
    },
    KnownFailure {
        op: "scatter_nd add",
        backend: Some("ndarray"),
        precision: None,
        sample: Some("transposed view"),
        reproduction: "burn-ndarray's scatter_nd panics on a non-contiguous tensor with \
            \"ndarray scatter_nd requires contiguous data\" \
            (burn-ndarray-0.22.1/src/ops/base.rs:414).",
    },
    // burn's CubeCL backends (wgpu, cuda), met on Mesa's lavapipe in CI
    // (tests/wgpu.rs asserts each is still met there).
    KnownFailure {
        op: "scatter_nd add",
        backend: Some("wgpu"),
        precision: None,
        sample: None,
        reproduction: "burn-cubecl's scatter_nd kernel updates `data[i] = op(data[i], value)` \
            with a plain read and write, one thread per update \
            (burn-cubecl-0.22.1/src/kernel/index/scatter_nd.rs:80-85): with repeated indices \
            the threads race and updates are lost, so `IndexingUpdateOp::Add` does not \
            accumulate (on lavapipe: 0.389 where the sum is −0.278).",
    },
    KnownFailure {
        op: "gather_nd",
        backend: Some("wgpu"),
        precision: None,
        sample: None,
        reproduction: "gather_nd's backward scatters the output gradient with scatter_nd add, \
            which loses updates at repeated indices on burn-cubecl (see `scatter_nd add`): \
            a row gathered twice gets one gradient (0 where 1 is right).",
    },
    KnownFailure {
        op: "gelu",
        backend: Some("wgpu"),
        precision: None,
        sample: None,
        reproduction: "burn-cubecl keeps burn-backend's default `ActivationOps` \
            (burn-cubecl-0.22.1/src/ops/activation.rs), whose gelu_backward differentiates \
            the tanh approximation (see ndarray's `gelu`).",
    },
    KnownFailure {
        op: "interpolate bilinear",
        backend: Some("wgpu"),
        precision: None,
        sample: None,
        reproduction: "cubek-interpolate 0.3.1 has no bilinear backward: burn-cubecl's \
            interpolate_backward panics with \"Bilinear interpolation backward is not \
            supported by JIT backend\" (cubek-interpolate-0.3.1/src/lib.rs:74).",
    },
    KnownFailure {
        op: "interpolate bicubic",
        backend: Some("wgpu"),
        precision: None,
        sample: None,
        reproduction: "cubek-interpolate 0.3.1 has no bicubic backward: it panics with \
            \"Bicubic interpolation backward is not supported by JIT backend\" \
            (cubek-interpolate-0.3.1/src/lib.rs:74).",
    },
    KnownFailure {
        op: "cast",
        backend: Some("wgpu"),
        precision: None,
        sample: None,
        reproduction: "the case computes exp in f64 between its casts; cubecl's SPIR-V \
            compiler emits GLSL.std.450 `Exp` for f64 (cubecl-spirv-0.11.3/src/ops/math.rs), \
            which SPIR-V defines for 16- and 32-bit floats only, and lavapipe returns \
            garbage for it — the fault the precision self-check refuses wgpu's f64 for.",
    },
    KnownFailure {
        op: "acos",
        backend: Some("wgpu"),
        precision: Some(Precision::F32),
        sample: None,
        reproduction: "not burn's: lavapipe's f32 acos is ~900 ulps off (1.10393 for \
            1.10403); Vulkan allows acos the error of atan2, 4096 ulps, where the sweep \
            derives its tolerance from correctly rounded operations.",
    },
];

/// The known upstream failure of `op` at the sample `sample` (its
/// [`Sample::what`](super::Sample::what)) on `backend` in `precision`, if any.
pub fn known_failure(
    (op, sample): (&str, &str),
    backend: &str,
    precision: Precision,
) -> Option<&'static KnownFailure> {
    KNOWN_UPSTREAM.iter().find(|k| {
        k.op == op
            && k.sample.is_none_or(|s| s == sample)
            && k.backend.is_none_or(|b| b == backend)
            && k.precision.is_none_or(|p| p == precision)
    })
}
