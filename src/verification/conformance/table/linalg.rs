//! Products: the matrix product with every combination of transposed
//! operands (burn#5304), batched and broadcast, at the register-tile and
//! cache-block boundaries of flex's GEMM and above its threading threshold
//! (burn-flex-0.22.1/src/ops/matmul.rs: `PARALLEL_THRESHOLD` = 192³
//! multiply-adds, `BATCH_PARALLEL_THRESHOLD` = 128³); the cross product.

use super::super::sample::{Sample, Values::Unit};
use super::super::views::{Layout, operand};
use super::op;
use crate::verification::conformance::Family;

/// `[m, k, n]` of a product `a[m, k] · b[k, n]`.
fn products() -> Vec<Sample> {
    vec![
        Sample::tiny(&[3, 2, 2]),
        Sample::boundary("small, all distinct", &[3, 4, 5]),
        Sample::boundary("f64 lanes ± 1", &[7, 8, 9]),
        Sample::boundary("f32 lanes ± 1", &[15, 16, 17]),
        Sample::boundary("size-1 axes", &[1, 8, 1]),
        Sample::boundary("cache block ± 1", &[63, 64, 65]),
        Sample::threaded("above 192³ multiply-adds", &[193, 193, 193]),
    ]
}

/// A product `a · b` with `a` read as `lhs` and `b` as `rhs` lays them out.
macro_rules! product {
    ($op:literal, $why:literal, $lhs:expr, $rhs:expr, $samples:expr) => {
        Family::function(
            ($op, &["float_matmul"], $why),
            op!(|x, s| {
                let a = operand(x, "a", [s.d(0), s.d(1)], $lhs);
                let b = operand(x, "b", [s.d(1), s.d(2)], $rhs);
                a.matmul(b)
            }),
            $samples,
            |s| {
                vec![
                    ("a", $lhs.stored([s.d(0), s.d(1)]).to_vec(), Unit),
                    ("b", $rhs.stored([s.d(1), s.d(2)]).to_vec(), Unit),
                ]
            },
        )
    };
}

pub(super) fn families() -> Vec<Family> {
    vec![
        product!(
            "matmul ab",
            "the layers' forward and backward",
            Layout::Contiguous,
            Layout::Contiguous,
            products()
        ),
        product!(
            "matmul aᵀb",
            "burn#5304: a transposed left operand; autodiff's dW = xᵀδ",
            Layout::Transposed,
            Layout::Contiguous,
            products()
        ),
        product!(
            "matmul abᵀ",
            "autodiff's δWᵀ",
            Layout::Contiguous,
            Layout::Transposed,
            products()
        ),
        product!(
            "matmul aᵀbᵀ",
            "both operands transposed views",
            Layout::Transposed,
            Layout::Transposed,
            products()
        ),
        product!(
            "matmul, stepped operands",
            "a row stride of 2k and an element stride of 2",
            Layout::Stepped,
            Layout::Stepped,
            vec![
                Sample::tiny(&[3, 2, 2]),
                Sample::boundary("f32 lanes ± 1", &[15, 16, 17])
            ]
        ),
        Family::function(
            (
                "batched matmul",
                &["float_matmul"],
                "a batch of products, split over threads above 128³",
            ),
            op!(|x, s| x.get::<3>("a").matmul(x.get::<3>("b"))),
            batches(),
            |s| {
                vec![
                    ("a", vec![s.d(0), s.d(1), s.d(2)], Unit),
                    ("b", vec![s.d(0), s.d(2), s.d(3)], Unit),
                ]
            },
        ),
        Family::function(
            (
                "batched matmul, broadcast",
                &["float_matmul"],
                "b [1, k, n]: its gradient sums over the batch",
            ),
            op!(|x, s| x.get::<3>("a").matmul(x.get::<3>("b"))),
            batches(),
            |s| {
                vec![
                    ("a", vec![s.d(0), s.d(1), s.d(2)], Unit),
                    ("b", vec![1, s.d(2), s.d(3)], Unit),
                ]
            },
        ),
        Family::function(
            (
                "cross",
                &["float_cross"],
                "a × b along the last axis of [r, 3]",
            ),
            op!(|x, s| x.get::<2>("a").cross(x.get::<2>("b"), 1)),
            vec![
                Sample::tiny(&[2, 3]),
                Sample::boundary("f32 lanes + 1 rows", &[17, 3]),
                Sample::threaded("above the 256 Ki-element split", &[87382, 3]),
            ],
            |s| vec![("a", s.dims.clone(), Unit), ("b", s.dims.clone(), Unit)],
        ),
    ]
}

/// `[batch, m, k, n]`.
fn batches() -> Vec<Sample> {
    vec![
        Sample::tiny(&[2, 3, 4, 2]),
        Sample::boundary("f32 lanes ± 1", &[3, 9, 16, 17]),
        Sample::threaded("above 128³ multiply-adds", &[2, 128, 128, 129]),
    ]
}
