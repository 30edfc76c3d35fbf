//! burn-nn's layers (checked in their parameters and inputs through the
//! module mode, parameters set to the sweep's spaced values) and losses.
//! They are compositions of the operations above; sweeping them checks the
//! compositions burn ships, at the sizes models use.
//!
//! Not here: `BatchNorm` takes its training path only on an autodiff device,
//! so its finite differences (on a plain device) would see the inference
//! path — the functional `batch_norm_train` is swept instead; `Dropout` is
//! random in training and the identity otherwise.

use super::super::sample::{
    Sample,
    Values::{In, TwoSided, Unit},
};
use super::super::views::{indices, repeated};
use super::{module_op, op};
use crate::verification::conformance::Family;
use burn::nn::attention::{MhaInput, MultiHeadAttention, MultiHeadAttentionConfig};
use burn::nn::conv::{Conv1d, Conv1dConfig, Conv2d, Conv2dConfig};
use burn::nn::loss::{
    BinaryCrossEntropyLossConfig, CrossEntropyLossConfig, HuberLossConfig, KLDivLossConfig,
    MseLoss, Reduction, SmoothL1LossConfig,
};
use burn::nn::{
    Embedding, EmbeddingConfig, GroupNorm, GroupNormConfig, Gru, GruConfig, InstanceNorm,
    InstanceNormConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig, Lstm, LstmConfig,
    LstmState, PRelu, PReluConfig, RmsNorm, RmsNormConfig, RotaryEncoding, RotaryEncodingConfig,
    SwiGlu, SwiGluConfig,
};
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Tensor};

/// Where a layer is built before the check moves it: its values are the
/// sweep's own, so the device of construction does not matter.
fn cpu() -> Device {
    Device::flex()
}

/// `[batch, width, hidden]` of a layer on `[batch, width]` inputs.
fn widths() -> Vec<Sample> {
    vec![
        Sample::tiny(&[2, 3, 2]),
        Sample::boundary("f32 lanes ± 1", &[3, 16, 17]),
    ]
}

/// `[batch, sequence, width, hidden]` of a sequence model.
fn sequences() -> Vec<Sample> {
    vec![
        Sample::tiny(&[2, 3, 2, 3]),
        Sample::boundary("f32 lanes + 1 wide", &[2, 4, 5, 17]),
    ]
}

pub(super) fn families() -> Vec<Family> {
    let mut all = layers();
    all.extend(norms());
    all.extend(sequence_models());
    all.extend(losses());
    all
}

fn layers() -> Vec<Family> {
    vec![
        Family::module(
            ("nn::Linear", &["nn::Linear"], "x·W + b on [batch, in]"),
            module_op!(Linear, |m, x, s| m.forward(x.get::<2>("x"))),
            widths(),
            |s: &Sample| LinearConfig::new(s.d(1), s.d(2)).init(&cpu()),
            |s| vec![("x", vec![s.d(0), s.d(1)], Unit)],
        ),
        Family::module(
            (
                "nn::Conv1d",
                &["nn::Conv1d"],
                "kernel 3, [batch, channels, length]",
            ),
            module_op!(Conv1d, |m, x, s| m.forward(x.get("x"))),
            vec![
                Sample::tiny(&[1, 2, 6, 2]),
                Sample::boundary("channels above 4 in, 16 out", &[1, 5, 9, 17]),
            ],
            |s: &Sample| Conv1dConfig::new(s.d(1), s.d(3), 3).init(&cpu()),
            |s| vec![("x", vec![s.d(0), s.d(1), s.d(2)], Unit)],
        ),
        Family::module(
            ("nn::Conv2d", &["nn::Conv2d"], "kernel 3 × 3"),
            module_op!(Conv2d, |m, x, s| m.forward(x.get("x"))),
            vec![
                Sample::tiny(&[1, 2, 4, 4, 2]),
                Sample::boundary("channels above 4 in, 16 out", &[1, 5, 5, 5, 17]),
            ],
            |s: &Sample| Conv2dConfig::new([s.d(1), s.d(4)], [3, 3]).init(&cpu()),
            |s| vec![("x", vec![s.d(0), s.d(1), s.d(2), s.d(3)], Unit)],
        ),
        Family::module(
            ("nn::Embedding", &["nn::Embedding"], "repeated tokens"),
            module_op!(Embedding, |m, x, s| {
                let n = s.d(0) + 1;
                m.forward(indices(x, repeated(2 * n, s.d(0)), [2, n]))
            }),
            vec![
                Sample::tiny(&[4, 3]),
                Sample::boundary("f32 lanes + 1 wide", &[9, 17]),
            ],
            |s: &Sample| EmbeddingConfig::new(s.d(0), s.d(1)).init(&cpu()),
            // The module's table is its one variable; the input is a dummy scale.
            |_| vec![("scale", vec![1], In(1.0, 1.0))],
        ),
        Family::module(
            (
                "nn::PRelu",
                &["nn::PRelu"],
                "one slope; |x| ≥ 0.1, away from the kink",
            ),
            module_op!(PRelu, |m, x, s| m.forward(x.get::<2>("x"))),
            vec![
                Sample::tiny(&[2, 3]),
                Sample::boundary("f32 lanes + 1", &[1, 17]),
            ],
            |_: &Sample| PReluConfig::new().init(&cpu()),
            |s| vec![("x", s.dims.clone(), TwoSided(0.1, 1.0))],
        ),
        Family::module(
            ("nn::SwiGlu", &["nn::SwiGlu"], "silu(xW₁)·(xW₂)"),
            module_op!(SwiGlu, |m, x, s| m.forward(x.get::<2>("x"))),
            widths(),
            |s: &Sample| SwiGluConfig::new(s.d(1), s.d(2)).init(&cpu()),
            |s| vec![("x", vec![s.d(0), s.d(1)], Unit)],
        ),
        Family::module(
            (
                "nn::RotaryEncoding",
                &["nn::RotaryEncoding"],
                "[batch, sequence, width]: no parameters, the input rotated",
            ),
            module_op!(RotaryEncoding, |m, x, s| m.forward(x.get::<3>("x"))),
            vec![
                Sample::tiny(&[1, 3, 4]),
                Sample::boundary("f32 lanes wide", &[2, 5, 16]),
            ],
            |s: &Sample| RotaryEncodingConfig::new(16, s.d(2)).init(&cpu()),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
    ]
}

fn norms() -> Vec<Family> {
    // dims [batch, channels, length].
    let planes = || {
        vec![
            Sample::tiny(&[2, 4, 3]),
            Sample::boundary("f32 lanes + 1 long", &[2, 4, 17]),
        ]
    };
    vec![
        Family::module(
            ("nn::LayerNorm", &["nn::LayerNorm"], "over the last axis"),
            module_op!(LayerNorm, |m, x, s| m.forward(x.get::<3>("x"))),
            planes(),
            |s: &Sample| LayerNormConfig::new(s.d(2)).init(&cpu()),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
        Family::module(
            ("nn::RmsNorm", &["nn::RmsNorm"], "over the last axis"),
            module_op!(RmsNorm, |m, x, s| m.forward(x.get::<3>("x"))),
            planes(),
            |s: &Sample| RmsNormConfig::new(s.d(2)).init(&cpu()),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
        Family::module(
            (
                "nn::GroupNorm",
                &["nn::GroupNorm"],
                "two groups of channels",
            ),
            module_op!(GroupNorm, |m, x, s| m.forward(x.get::<3>("x"))),
            planes(),
            |s: &Sample| GroupNormConfig::new(2, 2 * s.d(1).div_ceil(2)).init(&cpu()),
            |s| vec![("x", vec![s.d(0), 2 * s.d(1).div_ceil(2), s.d(2)], Unit)],
        ),
        Family::module(
            (
                "nn::InstanceNorm",
                &["nn::InstanceNorm"],
                "affine, per channel and example",
            ),
            module_op!(InstanceNorm, |m, x, s| m.forward(x.get::<3>("x"))),
            planes(),
            |s: &Sample| {
                InstanceNormConfig::new(s.d(1))
                    .with_affine(true)
                    .init(&cpu())
            },
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
    ]
}

fn sequence_models() -> Vec<Family> {
    vec![
        Family::module(
            (
                "nn::Lstm",
                &["nn::Lstm"],
                "every hidden state of the sequence",
            ),
            module_op!(Lstm, |m, x, s| {
                // An explicit zero state in the input's dtype: burn-nn's
                // default state takes the device's default float dtype.
                let zeros = Tensor::<2>::zeros([s.d(0), s.d(3)], (&x.device(), x.dtype()));
                m.forward(x.get::<3>("x"), Some(LstmState::new(zeros.clone(), zeros)))
                    .0
            }),
            sequences(),
            |s: &Sample| LstmConfig::new(s.d(2), s.d(3), true).init(&cpu()),
            |s| vec![("x", vec![s.d(0), s.d(1), s.d(2)], Unit)],
        ),
        Family::module(
            (
                "nn::Gru",
                &["nn::Gru"],
                "every hidden state of the sequence",
            ),
            module_op!(Gru, |m, x, s| {
                let zeros = Tensor::<2>::zeros([s.d(0), s.d(3)], (&x.device(), x.dtype()));
                m.forward(x.get::<3>("x"), Some(zeros))
            }),
            sequences(),
            |s: &Sample| GruConfig::new(s.d(2), s.d(3), true).init(&cpu()),
            |s| vec![("x", vec![s.d(0), s.d(1), s.d(2)], Unit)],
        ),
        Family::module(
            (
                "nn::MultiHeadAttention",
                &["nn::MultiHeadAttention"],
                "self-attention, two heads",
            ),
            module_op!(MultiHeadAttention, |m, x, s| m
                .forward(MhaInput::self_attn(x.get::<3>("x")))
                .context),
            vec![
                Sample::tiny(&[1, 3, 4]),
                Sample::boundary("f32 lanes wide", &[2, 5, 16]),
            ],
            |s: &Sample| {
                MultiHeadAttentionConfig::new(s.d(2), 2)
                    .with_dropout(0.0)
                    .init(&cpu())
            },
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
    ]
}

/// `[batch, classes]` of a loss's predictions.
fn predictions() -> Vec<Sample> {
    vec![
        Sample::tiny(&[2, 3]),
        Sample::boundary("f32 lanes + 1 classes", &[5, 17]),
        Sample::threaded("a large batch", &[1024, 300]),
    ]
}

fn losses() -> Vec<Family> {
    vec![
        Family::function(
            (
                "nn::CrossEntropyLoss",
                &["nn::CrossEntropyLoss"],
                "logits and class indices",
            ),
            op!(|x, s| {
                let [n, c] = s.rc();
                let loss = CrossEntropyLossConfig::new().init(&x.device());
                loss.forward(x.get::<2>("logits"), indices(x, repeated(n, c), [n]))
            }),
            predictions(),
            |s| vec![("logits", s.dims.clone(), Unit)],
        ),
        Family::function(
            (
                "nn::BinaryCrossEntropyLoss",
                &["nn::BinaryCrossEntropyLoss"],
                "with logits",
            ),
            op!(|x, s| {
                let [n, c] = s.rc();
                let targets = indices(x, (0..n * c).map(|i| (i % 2) as i64).collect(), [n, c]);
                let loss = BinaryCrossEntropyLossConfig::new()
                    .with_logits(true)
                    .init(&x.device());
                loss.forward(x.get::<2>("logits"), targets)
            }),
            predictions(),
            |s| vec![("logits", s.dims.clone(), Unit)],
        ),
        Family::function(
            ("nn::MseLoss", &["nn::MseLoss"], "mean of squares"),
            op!(|x, s| MseLoss::new().forward(x.get::<2>("p"), x.get::<2>("y"), Reduction::Mean)),
            predictions(),
            |s| vec![("p", s.dims.clone(), Unit), ("y", s.dims.clone(), Unit)],
        ),
        Family::function(
            (
                "nn::HuberLoss",
                &["nn::HuberLoss"],
                "δ = 0.5; |p − y| spread across both branches",
            ),
            op!(|x, s| {
                let p = x.get::<2>("p");
                HuberLossConfig::new(0.5)
                    .init()
                    .forward(p.clone(), p.zeros_like(), Reduction::Mean)
            }),
            predictions(),
            |s| vec![("p", s.dims.clone(), TwoSided(0.05, 1.0))],
        ),
        Family::function(
            (
                "nn::SmoothL1Loss",
                &["nn::SmoothL1Loss"],
                "β = 1 (default); |p| in [0.05, 2], both branches",
            ),
            op!(|x, s| {
                let p = x.get::<2>("p");
                SmoothL1LossConfig::new().init().forward_with_reduction(
                    p.clone(),
                    p.zeros_like(),
                    Reduction::Mean,
                )
            }),
            predictions(),
            |s| vec![("p", s.dims.clone(), TwoSided(0.05, 2.0))],
        ),
        Family::function(
            (
                "nn::KLDivLoss",
                &["nn::KLDivLoss"],
                "log-probabilities against probabilities",
            ),
            op!(|x, s| {
                let predictions = log_softmax(x.get::<2>("p"), 1);
                let targets = softmax(x.get::<2>("y"), 1);
                KLDivLossConfig::new()
                    .init()
                    .forward(predictions, targets, Reduction::Mean)
            }),
            predictions(),
            |s| vec![("p", s.dims.clone(), Unit), ("y", s.dims.clone(), Unit)],
        ),
    ]
}
