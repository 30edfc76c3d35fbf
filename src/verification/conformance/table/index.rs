//! Indexing: gathers, scatters, selections and masks, with repeated indices
//! so that a backward which overwrites instead of accumulating fails
//! (burn#5296). flex splits scatters and gathers over threads above 4 MiB
//! (burn-flex-0.22.1/src/ops/gather_scatter.rs `PARALLEL_THRESHOLD_BYTES`).

use super::super::sample::Values::Unit;
use super::super::views::{indices, mask, operand, repeated};
use super::{elementwise, op};
use crate::verification::conformance::Family;
use burn::tensor::IndexingUpdateOp;

pub(super) fn families() -> Vec<Family> {
    vec![
        Family::function(
            (
                "gather",
                &["float_gather"],
                "burn#5296: dim 1, indices i·7 mod c, repeated",
            ),
            op!(|x, s| {
                let [r, c] = s.rc();
                operand(x, "x", s.rc(), s.layout).gather(1, indices(x, repeated(r * c, c), [r, c]))
            }),
            elementwise(),
            |s| vec![("x", s.stored(), Unit)],
        ),
        Family::function(
            (
                "scatter add",
                &["float_scatter"],
                "repeated indices: the values' gradient gathers, x's passes",
            ),
            op!(|x, s| {
                let [r, c] = s.rc();
                let idx = indices(x, repeated(r * c, c), [r, c]);
                operand(x, "x", s.rc(), s.layout).scatter(
                    1,
                    idx,
                    x.get::<2>("v"),
                    IndexingUpdateOp::Add,
                )
            }),
            elementwise(),
            |s| vec![("x", s.stored(), Unit), ("v", s.dims.clone(), Unit)],
        ),
        Family::function(
            (
                "select",
                &["float_select"],
                "burn#5296: rows i·7 mod r, r + 1 of them: repeats accumulate",
            ),
            op!(|x, s| {
                let r = s.d(0);
                operand(x, "x", s.rc(), s.layout).select(0, indices(x, repeated(r + 1, r), [r + 1]))
            }),
            elementwise(),
            |s| vec![("x", s.stored(), Unit)],
        ),
        Family::function(
            (
                "select_assign add",
                &["float_select_assign"],
                "a scatter-add of rows with repeats",
            ),
            op!(|x, s| {
                let r = s.d(0);
                let idx = indices(x, repeated(r + 1, r), [r + 1]);
                operand(x, "x", s.rc(), s.layout).select_assign(
                    0,
                    idx,
                    x.get::<2>("v"),
                    IndexingUpdateOp::Add,
                )
            }),
            elementwise(),
            |s| {
                vec![
                    ("x", s.stored(), Unit),
                    ("v", vec![s.d(0) + 1, s.d(1)], Unit),
                ]
            },
        ),
        Family::function(
            ("gather_nd", &["float_gather_nd"], "rows by index, repeated"),
            op!(|x, s| {
                let r = s.d(0);
                let idx = indices(x, repeated(r + 1, r), [r + 1, 1]);
                operand(x, "x", s.rc(), s.layout).gather_nd::<2, 2>(idx)
            }),
            elementwise(),
            |s| vec![("x", s.stored(), Unit)],
        ),
        Family::function(
            (
                "scatter_nd add",
                &["float_scatter_nd"],
                "rows added by index, repeated",
            ),
            op!(|x, s| {
                let r = s.d(0);
                let idx = indices(x, repeated(r + 1, r), [r + 1, 1]);
                operand(x, "x", s.rc(), s.layout).scatter_nd(
                    idx,
                    x.get::<2>("v"),
                    IndexingUpdateOp::Add,
                )
            }),
            elementwise(),
            |s| {
                vec![
                    ("x", s.stored(), Unit),
                    ("v", vec![s.d(0) + 1, s.d(1)], Unit),
                ]
            },
        ),
        Family::function(
            (
                "mask_fill",
                &["float_mask_fill"],
                "a third of the entries set to 0.5: their gradient is cut",
            ),
            op!(|x, s| operand(x, "x", s.rc(), s.layout)
                .mask_fill(mask(x, s.rc()), 0.5)
                .exp()),
            elementwise(),
            |s| vec![("x", s.stored(), Unit)],
        ),
    ]
}
