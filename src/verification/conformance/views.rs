//! The plain-burn helpers the cases are written with: how an operand is laid
//! out in memory before the operation reads it, and integer index tensors.
//!
//! Everything after the marker line below uses burn's API only: a finding's
//! reproduction ([`super::findings`]) includes that text verbatim, so the
//! standalone program reads exactly as the case that failed.

use burn_gradcheck::Args;

// ---- reproduction prelude: plain burn from here on ----
use burn::tensor::{Int, Tensor, TensorData};

/// How an operand of logical shape `[r, c]` is laid out in memory.
///
/// Kernels take other paths on views than on contiguous buffers: a
/// transposed operand has unit stride on the other axis (burn#5304), a
/// stepped slice has a stride of 2, and an expanded operand a stride of 0
/// whose gradient must sum over the broadcast axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Row-major `[r, c]`.
    Contiguous,
    /// Stored `[c, r]` and read through `transpose()`.
    Transposed,
    /// Stored `[r, 2c]` and read through a slice with step 2 on the last axis.
    Stepped,
    /// Stored `[1, c]` and read through `expand([r, c])`.
    Broadcast,
}

impl Layout {
    /// The stored shape of an operand of logical shape `[r, c]`.
    pub fn stored(self, [r, c]: [usize; 2]) -> [usize; 2] {
        match self {
            Layout::Contiguous => [r, c],
            Layout::Transposed => [c, r],
            Layout::Stepped => [r, 2 * c],
            Layout::Broadcast => [1, c],
        }
    }
}

/// Input `name`, stored as `layout` gives for the logical shape `[r, c]`, read
/// as the logical `[r, c]` operand.
pub fn operand(x: &Args, name: &str, [r, c]: [usize; 2], layout: Layout) -> Tensor<2> {
    let stored = x.get::<2>(name);
    match layout {
        Layout::Contiguous => stored,
        Layout::Transposed => stored.transpose(),
        Layout::Stepped => stored.slice(burn::tensor::s![.., 0..2 * c;2]),
        Layout::Broadcast => stored.expand([r, c]),
    }
}

/// Integer indices on the evaluation's device.
pub fn indices<const D: usize>(x: &Args, values: Vec<i64>, shape: [usize; D]) -> Tensor<D, Int> {
    Tensor::from_data(TensorData::new(values, shape), &x.device())
}

/// `count` indices in `0..bound` with repeats (`i·7 mod bound`, so several
/// entries of a large index tensor land on one position: the accumulation of
/// burn#5296).
pub fn repeated(count: usize, bound: usize) -> Vec<i64> {
    (0..count).map(|i| ((i * 7) % bound) as i64).collect()
}

/// A boolean mask on the evaluation's device: entry `i` is set when
/// `i mod 3 == 1` (a third of the entries, in every row and column).
pub fn mask<const D: usize>(x: &Args, shape: [usize; D]) -> Tensor<D, burn::tensor::Bool> {
    let n: usize = shape.iter().product();
    let values: Vec<bool> = (0..n).map(|i| i % 3 == 1).collect();
    Tensor::from_data(TensorData::new(values, shape), &x.device())
}
