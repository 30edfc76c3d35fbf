//! burn's module operations (`burn::tensor::module`): convolutions and their
//! transposes with strides, padding, dilation and groups; pools with the
//! divisors of burn#5604/#5308 and the dilation of PR #4466; adaptive
//! pools, interpolation, embedding, linear, batch norm, attention, CTC.
//! Channel counts cross flex's small-channel kernels (burn-flex-0.22.1/src/
//! ops/conv.rs: `SMALL_CHANNEL_IN_THRESHOLD` = 4, `SMALL_CHANNEL_OUT_THRESHOLD`
//! = 16) and the f32 lanes; the large planes pass its 8192-pixel outer loop
//! (`CONV_PLANE_OH_OUTER_THRESHOLD`) and attention's 32-key tile (`TILE_KV`).

use super::super::sample::{
    Sample,
    Values::{In, Unit},
};
use super::super::views::{indices, repeated};
use super::op;
use crate::verification::conformance::Family;
use burn::tensor::activation::log_softmax;
use burn::tensor::module::{
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d, attention, avg_pool1d,
    avg_pool2d, batch_norm_train, conv_transpose1d, conv_transpose2d, conv_transpose3d, conv1d,
    conv2d, conv3d, ctc_loss, deform_conv2d, embedding, interpolate, linear, max_pool1d,
    max_pool1d_with_indices, max_pool2d, max_pool2d_with_indices, unfold4d,
};
use burn::tensor::ops::{
    AttentionModuleOptions, AvgPoolOptions, ConvOptions, ConvTransposeOptions, DeformConvOptions,
    InterpolateMode, InterpolateOptions, MaxPoolOptions, UnfoldOptions,
};

pub(super) fn families() -> Vec<Family> {
    let mut all = convolutions();
    all.extend(transposed_convolutions());
    all.extend(pools());
    all.extend(resampling());
    all.extend(layers());
    all
}

fn convolutions() -> Vec<Family> {
    vec![
        // dims [n, c_in, length, c_out], kernel 3.
        Family::function(
            (
                "conv1d",
                &["conv1d"],
                "plain; channels across the small-channel kernels",
            ),
            op!(|x, s| conv1d(
                x.get("x"),
                x.get("w"),
                Some(x.get("b")),
                ConvOptions::new([1], [0], [1], 1)
            )),
            vec![
                Sample::tiny(&[1, 2, 5, 2]),
                Sample::boundary("channels above 4 in, 16 out", &[2, 5, 17, 17]),
                Sample::threaded("a long signal", &[2, 4, 4100, 4]),
            ],
            |s| {
                vec![
                    ("x", vec![s.d(0), s.d(1), s.d(2)], Unit),
                    ("w", vec![s.d(3), s.d(1), 3], Unit),
                    ("b", vec![s.d(3)], Unit),
                ]
            },
        ),
        Family::function(
            (
                "conv1d strided dilated grouped",
                &["conv1d"],
                "stride 2 pad 1 dilation 2 groups 2",
            ),
            op!(|x, s| conv1d(
                x.get("x"),
                x.get("w"),
                Some(x.get("b")),
                ConvOptions::new([2], [1], [2], 2)
            )),
            vec![
                Sample::tiny(&[2, 4, 9, 6]),
                Sample::boundary("channels above 4 in, 16 out", &[2, 6, 17, 18]),
            ],
            |s| {
                vec![
                    ("x", vec![s.d(0), 2 * s.d(1).div_ceil(2), s.d(2)], Unit),
                    (
                        "w",
                        vec![2 * s.d(3).div_ceil(2), s.d(1).div_ceil(2), 3],
                        Unit,
                    ),
                    ("b", vec![2 * s.d(3).div_ceil(2)], Unit),
                ]
            },
        ),
        // dims [n, c_in, h, w, c_out], kernel 3 × 3.
        Family::function(
            ("conv2d", &["conv2d"], "plain"),
            op!(|x, s| conv2d(
                x.get("x"),
                x.get("w"),
                Some(x.get("b")),
                ConvOptions::new([1, 1], [0, 0], [1, 1], 1)
            )),
            vec![
                Sample::tiny(&[2, 3, 5, 5, 2]),
                Sample::boundary("channels above 4 in, 16 out", &[1, 5, 9, 9, 17]),
                Sample::threaded("a plane above 8192 output pixels", &[1, 4, 96, 96, 4]),
            ],
            |s| {
                vec![
                    ("x", vec![s.d(0), s.d(1), s.d(2), s.d(3)], Unit),
                    ("w", vec![s.d(4), s.d(1), 3, 3], Unit),
                    ("b", vec![s.d(4)], Unit),
                ]
            },
        ),
        Family::function(
            (
                "conv2d every option",
                &["conv2d"],
                "kernel [3, 2] stride [2, 1] pad 1 dilation [1, 2] groups 2",
            ),
            op!(|x, s| conv2d(
                x.get("x"),
                x.get("w"),
                Some(x.get("b")),
                ConvOptions::new([2, 1], [1, 1], [1, 2], 2)
            )),
            vec![
                Sample::tiny(&[1, 4, 7, 6, 4]),
                Sample::boundary("channels above 4 in, 16 out", &[2, 6, 9, 10, 18]),
            ],
            |s| {
                vec![
                    (
                        "x",
                        vec![s.d(0), 2 * s.d(1).div_ceil(2), s.d(2).max(3), s.d(3).max(3)],
                        Unit,
                    ),
                    (
                        "w",
                        vec![2 * s.d(4).div_ceil(2), s.d(1).div_ceil(2), 3, 2],
                        Unit,
                    ),
                    ("b", vec![2 * s.d(4).div_ceil(2)], Unit),
                ]
            },
        ),
        // dims [n, c_in, d, h, w, c_out], kernel 2³.
        Family::function(
            ("conv3d", &["conv3d"], "pad 1"),
            op!(|x, s| conv3d(
                x.get("x"),
                x.get("w"),
                Some(x.get("b")),
                ConvOptions::new([1, 1, 1], [1, 1, 1], [1, 1, 1], 1)
            )),
            vec![
                Sample::tiny(&[1, 2, 3, 4, 4, 2]),
                Sample::boundary("channels above 4 in, 16 out", &[1, 5, 4, 5, 6, 17]),
            ],
            |s| {
                vec![
                    ("x", vec![s.d(0), s.d(1), s.d(2), s.d(3), s.d(4)], Unit),
                    ("w", vec![s.d(5), s.d(1), 2, 2, 2], Unit),
                    ("b", vec![s.d(5)], Unit),
                ]
            },
        ),
        // dims [n, c_in, h, w, c_out], kernel 3 × 3, offsets keep every
        // sampling point inside a cell (bilinear weights have kinks at integers).
        Family::function(
            (
                "deform_conv2d",
                &["deform_conv2d"],
                "offsets in (0.1, 0.4), mask and bias",
            ),
            op!(|x, s| deform_conv2d(
                x.get("x"),
                x.get("offset"),
                x.get("w"),
                Some(x.get("mask")),
                Some(x.get("b")),
                DeformConvOptions::new([1, 1], [1, 1], [1, 1], 1, 1)
            )),
            vec![
                Sample::tiny(&[1, 2, 4, 4, 2]),
                Sample::boundary("channels above 4 in", &[1, 5, 6, 6, 3]),
            ],
            |s| {
                vec![
                    ("x", vec![s.d(0), s.d(1), s.d(2), s.d(3)], Unit),
                    ("offset", vec![s.d(0), 18, s.d(2), s.d(3)], In(0.1, 0.4)),
                    ("w", vec![s.d(4), s.d(1), 3, 3], Unit),
                    ("mask", vec![s.d(0), 9, s.d(2), s.d(3)], In(0.2, 1.0)),
                    ("b", vec![s.d(4)], Unit),
                ]
            },
        ),
    ]
}

fn transposed_convolutions() -> Vec<Family> {
    vec![
        // dims [n, c_in, length, c_out], kernel 3.
        Family::function(
            (
                "conv_transpose1d",
                &["conv_transpose1d"],
                "stride 2 pad 1 output padding 1",
            ),
            op!(|x, s| conv_transpose1d(
                x.get("x"),
                x.get("w"),
                Some(x.get("b")),
                ConvTransposeOptions::new([2], [1], [1], [1], 1)
            )),
            vec![
                Sample::tiny(&[1, 2, 5, 3]),
                Sample::boundary("channels above 4 in, 16 out", &[2, 5, 17, 17]),
            ],
            |s| {
                vec![
                    ("x", vec![s.d(0), s.d(1), s.d(2)], Unit),
                    ("w", vec![s.d(1), s.d(3), 3], Unit),
                    ("b", vec![s.d(3)], Unit),
                ]
            },
        ),
        // dims [n, c_in, h, w, c_out], kernel [3, 2].
        Family::function(
            (
                "conv_transpose2d every option",
                &["conv_transpose2d"],
                "stride [2, 1] pad [1, 0] output padding [1, 0] dilation [1, 2] groups 2",
            ),
            op!(|x, s| conv_transpose2d(
                x.get("x"),
                x.get("w"),
                Some(x.get("b")),
                ConvTransposeOptions::new([2, 1], [1, 0], [1, 0], [1, 2], 2)
            )),
            vec![
                Sample::tiny(&[1, 2, 4, 3, 2]),
                Sample::boundary("channels above 4 in, 16 out", &[1, 6, 9, 9, 18]),
            ],
            |s| {
                vec![
                    (
                        "x",
                        vec![s.d(0), 2 * s.d(1).div_ceil(2), s.d(2), s.d(3)],
                        Unit,
                    ),
                    (
                        "w",
                        vec![2 * s.d(1).div_ceil(2), s.d(4).div_ceil(2), 3, 2],
                        Unit,
                    ),
                    ("b", vec![2 * s.d(4).div_ceil(2)], Unit),
                ]
            },
        ),
        // dims [n, c_in, d, h, w, c_out], kernel 2³.
        Family::function(
            ("conv_transpose3d", &["conv_transpose3d"], "stride 2"),
            op!(|x, s| conv_transpose3d(
                x.get("x"),
                x.get("w"),
                Some(x.get("b")),
                ConvTransposeOptions::new([2, 2, 2], [0, 0, 0], [0, 0, 0], [1, 1, 1], 1)
            )),
            vec![
                Sample::tiny(&[1, 2, 2, 3, 3, 2]),
                Sample::boundary("channels above 4 in, 16 out", &[1, 5, 3, 4, 4, 17]),
            ],
            |s| {
                vec![
                    ("x", vec![s.d(0), s.d(1), s.d(2), s.d(3), s.d(4)], Unit),
                    ("w", vec![s.d(1), s.d(5), 2, 2, 2], Unit),
                    ("b", vec![s.d(5)], Unit),
                ]
            },
        ),
    ]
}

/// `[n, c, h, w]` of a pooled image.
fn images(tiny: &[usize]) -> Vec<Sample> {
    vec![
        Sample::tiny(tiny),
        Sample::boundary("f32 lanes + 1 channels", &[2, 17, 9, 9]),
        Sample::threaded("a large plane", &[1, 4, 130, 130]),
    ]
}

/// `[n, c, length]` of a pooled signal.
fn signals(tiny: &[usize]) -> Vec<Sample> {
    vec![
        Sample::tiny(tiny),
        Sample::boundary("f32 lanes + 1 channels", &[2, 17, 33]),
    ]
}

fn pools() -> Vec<Family> {
    vec![
        Family::function(
            (
                "avg_pool2d count_include_pad",
                &["avg_pool2d"],
                "burn#5604: kernel 3 stride 2 pad 1 ceil_mode, the divisor counts the padding",
            ),
            op!(|x, s| avg_pool2d(
                x.get("x"),
                AvgPoolOptions::new([3, 3])
                    .with_stride([2, 2])
                    .with_padding([1, 1])
                    .with_ceil_mode(true)
                    .with_count_include_pad(true)
            )),
            images(&[1, 2, 6, 6]),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
        Family::function(
            (
                "avg_pool2d",
                &["avg_pool2d"],
                "kernel 3 stride 2 pad 1 ceil_mode, padding not counted",
            ),
            op!(|x, s| avg_pool2d(
                x.get("x"),
                AvgPoolOptions::new([3, 3])
                    .with_stride([2, 2])
                    .with_padding([1, 1])
                    .with_ceil_mode(true)
                    .with_count_include_pad(false)
            )),
            images(&[1, 2, 6, 6]),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
        Family::function(
            (
                "avg_pool1d count_include_pad",
                &["avg_pool1d"],
                "burn#5308: kernel 3 stride 2 pad 1, an even channel count",
            ),
            op!(|x, s| avg_pool1d(
                x.get("x"),
                AvgPoolOptions::new([3])
                    .with_stride([2])
                    .with_padding([1])
                    .with_count_include_pad(true)
            )),
            signals(&[2, 4, 7]),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
        Family::function(
            (
                "max_pool2d",
                &["max_pool2d"],
                "kernel 3 stride 2 pad 1 ceil_mode: a partial last window",
            ),
            op!(|x, s| max_pool2d(
                x.get("x"),
                MaxPoolOptions::new([3, 3])
                    .with_stride([2, 2])
                    .with_padding([1, 1])
                    .with_ceil_mode(true)
            )),
            images(&[1, 2, 7, 7]),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
        Family::function(
            (
                "max_pool2d dilated",
                &["max_pool2d"],
                "burn PR #4466: kernel [2, 3] dilation [2, 1], dilation[0] used for both axes",
            ),
            op!(|x, s| max_pool2d(
                x.get("x"),
                MaxPoolOptions::new([2, 3]).with_dilation([2, 1])
            )),
            images(&[1, 2, 7, 8]),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
        Family::function(
            (
                "max_pool2d_with_indices",
                &["max_pool2d_with_indices"],
                "overlapping windows: kernel 3 stride 1",
            ),
            op!(|x, s| max_pool2d_with_indices(x.get("x"), MaxPoolOptions::new([3, 3])).0),
            images(&[1, 2, 5, 5]),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
        Family::function(
            (
                "max_pool1d",
                &["max_pool1d"],
                "kernel 2 stride 2 ceil_mode: a window cut by the edge",
            ),
            op!(|x, s| max_pool1d(
                x.get("x"),
                MaxPoolOptions::new([2])
                    .with_stride([2])
                    .with_ceil_mode(true)
            )),
            signals(&[1, 3, 7]),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
        Family::function(
            (
                "max_pool1d_with_indices",
                &["max_pool1d_with_indices"],
                "overlapping windows: kernel 3 stride 1 pad 1",
            ),
            op!(|x, s| max_pool1d_with_indices(
                x.get("x"),
                MaxPoolOptions::new([3]).with_padding([1])
            )
            .0),
            signals(&[1, 2, 6]),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
        Family::function(
            (
                "adaptive_avg_pool1d",
                &["adaptive_avg_pool1d"],
                "7 → 3: windows of unequal length",
            ),
            op!(|x, s| adaptive_avg_pool1d(x.get("x"), 3)),
            signals(&[1, 2, 7]),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
        Family::function(
            (
                "adaptive_avg_pool2d",
                &["adaptive_avg_pool2d"],
                "→ [3, 2]: overlapping windows",
            ),
            op!(|x, s| adaptive_avg_pool2d(x.get("x"), [3, 2])),
            images(&[1, 2, 7, 5]),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
        Family::function(
            (
                "adaptive_avg_pool3d",
                &["adaptive_avg_pool3d"],
                "→ [2, 2, 3]",
            ),
            op!(|x, s| adaptive_avg_pool3d(x.get("x"), [2, 2, 3])),
            vec![
                Sample::tiny(&[1, 2, 5, 4, 7]),
                Sample::boundary("f32 lanes + 1 channels", &[1, 17, 3, 5, 4]),
            ],
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
        Family::function(
            (
                "unfold4d",
                &[],
                "composite: im2col of kernel [2, 3], stride 1 pad 1",
            ),
            op!(|x, s| unfold4d(
                x.get("x"),
                [2, 3],
                UnfoldOptions::new([1, 1], [1, 1], [1, 1])
            )),
            images(&[1, 2, 4, 5]),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
    ]
}

fn resampling() -> Vec<Family> {
    let interpolated = |tiny: &[usize]| {
        vec![
            Sample::tiny(tiny),
            Sample::boundary("f32 lanes + 1 channels", &[1, 17, 6, 5]),
        ]
    };
    vec![
        Family::function(
            (
                "interpolate bilinear",
                &["interpolate"],
                "align_corners, [h, w] → [7, 3]: up one axis, down the other",
            ),
            op!(|x, s| interpolate(
                x.get("x"),
                InterpolateOptions::new(InterpolateMode::Bilinear).with_output_size([7, 3])
            )),
            interpolated(&[1, 2, 4, 5]),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
        Family::function(
            (
                "interpolate bicubic",
                &["interpolate"],
                "half-pixel centres, → [8, 7]",
            ),
            op!(|x, s| interpolate(
                x.get("x"),
                InterpolateOptions::new(InterpolateMode::Bicubic)
                    .with_align_corners(false)
                    .with_output_size([8, 7])
            )),
            interpolated(&[1, 2, 5, 5]),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
        Family::function(
            (
                "interpolate nearest",
                &["interpolate"],
                "→ [7, 9]: repeated sources accumulate",
            ),
            op!(|x, s| interpolate(
                x.get("x"),
                InterpolateOptions::new(InterpolateMode::Nearest).with_output_size([7, 9])
            )),
            interpolated(&[1, 2, 4, 5]),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
    ]
}

fn layers() -> Vec<Family> {
    vec![
        // dims [vocab, width]: two sequences of vocab + 1 tokens, repeated.
        Family::function(
            (
                "embedding",
                &["embedding"],
                "repeated tokens: their rows' gradients accumulate",
            ),
            op!(|x, s| {
                let n = s.d(0) + 1;
                embedding(x.get("w"), indices(x, repeated(2 * n, s.d(0)), [2, n]))
            }),
            vec![
                Sample::tiny(&[4, 3]),
                Sample::boundary("f32 lanes + 1 wide", &[17, 17]),
                Sample::threaded("a large table", &[1024, 300]),
            ],
            |s| vec![("w", s.dims.clone(), Unit)],
        ),
        // dims [n, in, out].
        Family::function(
            ("linear", &["linear"], "x·W + b"),
            op!(|x, s| linear(x.get::<2>("x"), x.get("w"), Some(x.get("b")))),
            vec![
                Sample::tiny(&[2, 3, 2]),
                Sample::boundary("f32 lanes ± 1", &[7, 16, 17]),
                Sample::threaded("above 192³ multiply-adds", &[193, 193, 193]),
            ],
            |s| {
                vec![
                    ("x", vec![s.d(0), s.d(1)], Unit),
                    ("w", vec![s.d(1), s.d(2)], Unit),
                    ("b", vec![s.d(2)], Unit),
                ]
            },
        ),
        // dims [n, c, length].
        Family::function(
            (
                "batch_norm_train",
                &["batch_norm_train"],
                "batch statistics: every output depends on the whole channel",
            ),
            op!(
                |x, s| batch_norm_train(x.get::<3>("x"), x.get("gamma"), x.get("beta"), 1e-5)
                    .output
            ),
            vec![
                Sample::tiny(&[3, 2, 4]),
                Sample::boundary("f32 lanes + 1 channels", &[4, 17, 9]),
            ],
            |s| {
                vec![
                    ("x", s.dims.clone(), Unit),
                    ("gamma", vec![s.d(1)], In(0.5, 1.5)),
                    ("beta", vec![s.d(1)], Unit),
                ]
            },
        ),
        // dims [batch, heads, sequence, head width].
        Family::function(
            (
                "attention",
                &[],
                "composite in autodiff (attention_fallback): softmax(qkᵀ/√d)·v",
            ),
            op!(|x, s| attention(
                x.get("q"),
                x.get("k"),
                x.get("v"),
                None,
                None,
                AttentionModuleOptions::default()
            )),
            attention_samples(),
            |s| {
                vec![
                    ("q", s.dims.clone(), Unit),
                    ("k", s.dims.clone(), Unit),
                    ("v", s.dims.clone(), Unit),
                ]
            },
        ),
        Family::function(
            (
                "attention causal",
                &[],
                "is_causal: the upper triangle masked",
            ),
            op!(|x, s| attention(
                x.get("q"),
                x.get("k"),
                x.get("v"),
                None,
                None,
                AttentionModuleOptions {
                    is_causal: true,
                    ..Default::default()
                }
            )),
            attention_samples(),
            |s| {
                vec![
                    ("q", s.dims.clone(), Unit),
                    ("k", s.dims.clone(), Unit),
                    ("v", s.dims.clone(), Unit),
                ]
            },
        ),
        // dims [time, batch, classes, target length].
        Family::function(
            (
                "ctc_loss",
                &["ctc_loss"],
                "log-softmaxed scores, blank 0, targets without repeats",
            ),
            op!(|x, s| {
                let [t, n, c, l] = [s.d(0), s.d(1), s.d(2), s.d(3)];
                let targets: Vec<i64> = (0..n * l).map(|i| 1 + (i % (c - 1)) as i64).collect();
                ctc_loss(
                    log_softmax(x.get::<3>("x"), 2),
                    indices(x, targets, [n, l]),
                    indices(x, vec![t as i64; n], [n]),
                    indices(x, vec![l as i64; n], [n]),
                    0,
                )
            }),
            vec![
                Sample::tiny(&[6, 2, 4, 2]),
                Sample::boundary("f32 lanes + 1 frames", &[17, 2, 5, 3]),
            ],
            |s| vec![("x", vec![s.d(0), s.d(1), s.d(2).max(2)], Unit)],
        ),
    ]
}

fn attention_samples() -> Vec<Sample> {
    vec![
        Sample::tiny(&[1, 2, 3, 4]),
        Sample::boundary("the 32-key tile + 1", &[1, 2, 33, 16]),
    ]
}
