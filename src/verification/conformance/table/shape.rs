//! Data movement: reshape, permutations, expansion, flips, repeats, slices,
//! concatenation, unfolding. Their Jacobians are 0/1 routing matrices, so a
//! backward that routes a gradient to the wrong entry (or drops the sum of
//! a broadcast, a repeat or an overlapping window) fails entry by entry.
//! On views, flex copies or re-strides (burn-flex-0.22.1/src/layout.rs);
//! above 256 Ki elements its copies split over threads.

use super::super::sample::{Sample, Values::Unit};
use super::super::views::operand;
use super::{elementwise, op};
use crate::verification::conformance::Family;
use burn::tensor::{Tensor, s};

/// A movement of the operand `t` (input `x` read through the layout).
macro_rules! movement {
    ($op:literal, [$($cov:literal),*], $why:literal, |$t:ident, $s:ident| $body:expr) => {
        Family::function(
            ($op, &[$($cov),*], $why),
            op!(|x, $s| {
                let $t = operand(x, "x", $s.rc(), $s.layout);
                $body
            }),
            elementwise(),
            |s| vec![("x", s.stored(), Unit)],
        )
    };
}

/// `[a, b, c]` of a rank-3 operand.
fn rank3() -> Vec<Sample> {
    vec![
        Sample::tiny(&[2, 3, 4]),
        Sample::boundary("f32 lanes + 1 innermost", &[3, 5, 17]),
        Sample::threaded("above the 256 Ki-element split", &[64, 64, 65]),
    ]
}

pub(super) fn families() -> Vec<Family> {
    vec![
        movement!(
            "reshape",
            ["float_reshape"],
            "[r, c] → [c, r]: a copy from a view",
            |t, s| t.reshape([s.d(1), s.d(0)]).exp()
        ),
        movement!("swap_dims", ["float_swap_dims"], "", |t, s| t
            .swap_dims(0, 1)
            .exp()),
        movement!("flip", ["float_flip"], "both axes", |t, s| t.flip([0, 1])),
        movement!(
            "repeat_dim",
            ["float_repeat_dim"],
            "rows three times: gradients sum",
            |t, s| t.repeat_dim(0, 3).exp()
        ),
        movement!(
            "slice",
            ["float_slice"],
            "rows 1.., columns ..c−1",
            |t, s| t.slice([0..s.d(0), 0..s.d(1).max(2) - 1]).exp()
        ),
        movement!(
            "slice, stepped",
            ["float_slice"],
            "every other row, every third column",
            |t, s| t.slice(s![..;2, ..;3]).exp()
        ),
        movement!(
            "unfold",
            ["float_unfold"],
            "windows of 2, step 1: overlapping, gradients sum",
            |t, s| t.unfold::<3, _>(1, 2.min(s.d(1)), 1).exp()
        ),
        Family::function(
            ("permute", &["float_permute"], "[a, b, c] → [c, a, b]"),
            op!(|x, s| x.get::<3>("x").permute([2, 0, 1]).exp()),
            rank3(),
            |s| vec![("x", s.dims.clone(), Unit)],
        ),
        Family::function(
            (
                "expand",
                &["float_expand"],
                "[1, c] → [r, c]: the gradient sums over r",
            ),
            op!(|x, s| x.get::<2>("x").expand([s.d(0), s.d(1)]).exp()),
            elementwise(),
            |s| vec![("x", vec![1, s.d(1)], Unit)],
        ),
        Family::function(
            (
                "slice_assign",
                &["float_slice_assign"],
                "row 0 replaced by v: x's gradient is cut there",
            ),
            op!(|x, s| {
                let t = operand(x, "x", s.rc(), s.layout);
                t.slice_assign([0..1, 0..s.d(1)], x.get::<2>("v")).exp()
            }),
            elementwise(),
            |s| vec![("x", s.stored(), Unit), ("v", vec![1, s.d(1)], Unit)],
        ),
        Family::function(
            (
                "cat",
                &["float_cat"],
                "along columns: each input's gradient is its slice",
            ),
            op!(|x, s| {
                let a = operand(x, "a", s.rc(), s.layout);
                Tensor::cat(vec![a, x.get::<2>("b")], 1).exp()
            }),
            elementwise(),
            |s| vec![("a", s.stored(), Unit), ("b", vec![s.d(0), 3], Unit)],
        ),
    ]
}
