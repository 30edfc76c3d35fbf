//! Reductions, cumulative operations and sorting, along each axis: flex
//! reduces a contiguous row with SIMD accumulators (16 f32 lanes) and a
//! tail, a non-last axis by strided sweeps, splits a reduction into 64 Ki
//! chunks over threads (burn-flex-0.22.1/src/ops/reduce.rs `CHUNK_SIZE`),
//! and its max/min switch to SIMD rows above 512 entries and to threads
//! above 32 Ki (`EXTREMUM_SIMD_ROW_THRESHOLD`, `EXTREMUM_PARALLEL_THRESHOLD`).
//! Values are distinct, so a max, a sort or a top-k never meets a tie.

use super::super::sample::{
    Sample,
    Values::{self, In, Unit},
};
use super::super::views::{Layout, operand};
use super::op;
use crate::verification::conformance::Family;

/// `[rows, cols]` of a reduced operand.
fn reductions() -> Vec<Sample> {
    vec![
        Sample::tiny(&[2, 3]),
        Sample::boundary("f32 lanes + 1 per row", &[3, 17]),
        Sample::boundary("f32 lanes + 1 rows", &[17, 3]),
        Sample::boundary("unrolled block + 1 rows", &[65, 17]),
        Sample::boundary("SIMD extremum rows, above 512", &[3, 513]),
        Sample::threaded("above the 64 Ki chunk", &[257, 257]),
        Sample::view(&[9, 17], Layout::Transposed),
        Sample::view(&[9, 17], Layout::Stepped),
    ]
}

/// A reduction of the operand `t` (input `x` read through the layout).
macro_rules! reduction {
    ($op:literal, [$($cov:literal),*], $why:literal, $values:expr, |$t:ident| $body:expr) => {
        Family::function(
            ($op, &[$($cov),*], $why),
            op!(|x, s| {
                let $t = operand(x, "x", s.rc(), s.layout);
                $body
            }),
            reductions(),
            move |s| vec![("x", s.stored(), $values)],
        )
    };
}

/// Every entry summed at once: the sum is as long as the operand.
fn entries(s: &Sample) -> usize {
    s.dims.iter().product::<usize>() + 16
}

/// Near 1, so a product of 66 Ki of them stays near 1/3.
const NEAR_ONE: Values = In(0.99, 1.01);

pub(super) fn families() -> Vec<Family> {
    let mut all = sums();
    all.extend(extrema());
    all.extend(cumulative());
    all.extend(sorting());
    all
}

fn sums() -> Vec<Family> {
    vec![
        reduction!("sum", ["float_sum"], "", Unit, |t| t.sum()).terms(entries),
        reduction!("mean", ["float_mean"], "", Unit, |t| t.mean()).terms(entries),
        reduction!(
            "sum_dim 0",
            ["float_sum_dim"],
            "over rows: strided",
            Unit,
            |t| t.sum_dim(0)
        ),
        reduction!("sum_dim 1", ["float_sum_dim"], "along rows", Unit, |t| {
            t.sum_dim(1)
        }),
        reduction!("mean_dim 0", ["float_mean_dim"], "", Unit, |t| t
            .mean_dim(0)),
        reduction!("mean_dim 1", ["float_mean_dim"], "", Unit, |t| t
            .mean_dim(1)),
        reduction!("prod", ["float_prod"], "x in [0.99, 1.01]", NEAR_ONE, |t| {
            t.prod()
        })
        .terms(entries),
        reduction!(
            "prod_dim 0",
            ["float_prod_dim"],
            "x in [0.99, 1.01]",
            NEAR_ONE,
            |t| t.prod_dim(0)
        ),
        reduction!(
            "prod_dim 1",
            ["float_prod_dim"],
            "x in [0.99, 1.01]",
            NEAR_ONE,
            |t| t.prod_dim(1)
        ),
        reduction!("var", [], "composite: mean, sub, square, mean", Unit, |t| {
            t.var(1)
        }),
    ]
}

fn extrema() -> Vec<Family> {
    vec![
        reduction!("max_dim 0", ["float_max_dim"], "", Unit, |t| t.max_dim(0)),
        reduction!("max_dim 1", ["float_max_dim"], "", Unit, |t| t.max_dim(1)),
        reduction!("min_dim 0", ["float_min_dim"], "", Unit, |t| t.min_dim(0)),
        reduction!("min_dim 1", ["float_min_dim"], "", Unit, |t| t.min_dim(1)),
        reduction!(
            "max_dim_with_indices",
            ["float_max_dim_with_indices"],
            "",
            Unit,
            |t| t.max_dim_with_indices(1).0
        ),
        reduction!(
            "min_dim_with_indices",
            ["float_min_dim_with_indices"],
            "",
            Unit,
            |t| t.min_dim_with_indices(0).0
        ),
        reduction!(
            "max",
            [],
            "every entry: a reshape and a max_dim",
            Unit,
            |t| t.max()
        ),
        reduction!("min", [], "every entry", Unit, |t| t.min()),
    ]
}

fn cumulative() -> Vec<Family> {
    vec![
        reduction!(
            "cumsum 0",
            ["float_cumsum"],
            "down the columns",
            Unit,
            |t| t.cumsum(0)
        ),
        reduction!("cumsum 1", ["float_cumsum"], "along the rows", Unit, |t| {
            t.cumsum(1)
        }),
        reduction!(
            "cumprod 1",
            ["float_cumprod"],
            "x in [0.99, 1.01]",
            NEAR_ONE,
            |t| t.cumprod(1)
        ),
        reduction!(
            "cumprod 0",
            ["float_cumprod"],
            "x in [0.99, 1.01]",
            NEAR_ONE,
            |t| t.cumprod(0)
        ),
        reduction!("cummax 1", ["float_cummax"], "", Unit, |t| t.cummax(1)),
        reduction!("cummin 0", ["float_cummin"], "", Unit, |t| t.cummin(0)),
    ]
}

fn sorting() -> Vec<Family> {
    vec![
        reduction!("sort 1", ["float_sort"], "along the rows", Unit, |t| t
            .sort(1)),
        reduction!("sort 0", ["float_sort"], "down the columns", Unit, |t| t
            .sort(0)),
        reduction!(
            "sort_with_indices",
            ["float_sort_with_indices"],
            "descending: the values' gradient scattered back",
            Unit,
            |t| t.sort_descending_with_indices(1).0
        ),
        Family::function(
            ("topk", &["float_topk"], "the largest ⌈c/2⌉ of each row"),
            op!(|x, s| operand(x, "x", s.rc(), s.layout).topk(s.d(1).div_ceil(2), 1)),
            reductions(),
            |s| vec![("x", s.stored(), Unit)],
        ),
    ]
}
