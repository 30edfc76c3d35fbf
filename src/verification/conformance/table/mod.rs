//! The case table: one family per operation, grouped as burn groups them.
//! Each group's file names, beside every family, the kernel paths its
//! samples reach; `docs/conformance.md` is the table as a reader sees it.

mod elementwise;
mod index;
mod linalg;
mod modules;
mod nn;
mod reduce;
mod shape;

use super::Family;
use super::sample::Sample;
use super::views::Layout;

/// `(code, closure)`: the checked expression as text (for reproductions)
/// and as a function of the inputs `x` and the sample `s`.
macro_rules! op {
    (|$x:ident, $s:ident| $body:expr) => {
        (
            stringify!($body),
            |$x: &burn_gradcheck::Args, $s: &$crate::verification::conformance::Sample| {
                let _ = (&$x, &$s);
                $body
            },
        )
    };
}

/// `(code, closure)` of a module `m` of type `$m`, inputs `x`, sample `s`.
macro_rules! module_op {
    ($m:ty, |$mo:ident, $x:ident, $s:ident| $body:expr) => {
        (
            stringify!($body),
            |$mo: &$m,
             $x: &burn_gradcheck::Args,
             $s: &$crate::verification::conformance::Sample| {
                let _ = (&$x, &$s);
                $body
            },
        )
    };
}
pub(crate) use {module_op, op};

/// Every family, in a fixed order.
pub(super) fn all() -> Vec<Family> {
    let mut all = Vec::new();
    all.extend(elementwise::families());
    all.extend(linalg::families());
    all.extend(reduce::families());
    all.extend(shape::families());
    all.extend(index::families());
    all.extend(modules::families());
    all.extend(nn::families());
    all
}

/// The samples of an element-wise operation on `[rows, cols]`: flex and
/// ndarray run contiguous buffers through SIMD loops of 8 (f64) or 16 (f32)
/// lanes on AVX-512, unrolled four times, with a scalar tail, and split a
/// buffer over rayon's threads above 256 Ki elements
/// (burn-flex-0.22.1/src/ops/mod.rs `PARALLEL_THRESHOLD`); views take the
/// strided path (burn-flex-0.22.1/src/strided_index.rs).
pub(super) fn elementwise() -> Vec<Sample> {
    vec![
        Sample::tiny(&[2, 3]),
        Sample::boundary("f64 lanes + 1 per row", &[7, 9]),
        Sample::boundary("f32 lanes + 1", &[1, 17]),
        Sample::boundary("unrolled block + 1", &[1, 65]),
        Sample::threaded("above the 256 Ki-element split", &[513, 512]),
        Sample::view(&[9, 17], Layout::Transposed),
        Sample::view(&[9, 17], Layout::Stepped),
        Sample::view(&[9, 17], Layout::Broadcast),
    ]
}

/// Only the tiny and boundary samples of [`elementwise`]: for operations
/// whose values must stay in a narrow range (a product of many entries).
pub(super) fn elementwise_small() -> Vec<Sample> {
    elementwise()
        .into_iter()
        .filter(|s| s.dims.iter().product::<usize>() <= 300)
        .collect()
}

/// The contiguous samples of [`elementwise`]: for families whose operands'
/// layout is their own.
pub(super) fn contiguous() -> Vec<Sample> {
    elementwise()
        .into_iter()
        .filter(|s| s.layout == Layout::Contiguous)
        .collect()
}
