//! The sizes a family runs at, and the values its inputs take.

use super::views::Layout;
use crate::error::Result;
use burn::module::Module;
use burn_gradcheck::Inputs;
use burn_gradcheck::params::ParamValues;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use std::fmt;

/// One size (and layout) a family runs at. What `dims` mean is the
/// family's own (`[rows, cols]` for an element-wise operation, `[m, k, n]`
/// for a product, …); `what` says which kernel path it reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The path it reaches: `tiny`, `SIMD lanes + 1`, `threaded`, ….
    pub what: &'static str,
    /// The family's dimensions.
    pub dims: Vec<usize>,
    /// How the family's operands are laid out.
    pub layout: Layout,
    /// Whether `--quick` runs it (the tiny and boundary samples).
    pub quick: bool,
}

impl Sample {
    /// A tiny sample (quick).
    pub fn tiny(dims: &[usize]) -> Sample {
        Sample::new("tiny", dims, Layout::Contiguous, true)
    }

    /// A sample at a SIMD, tile or unroll boundary (quick).
    pub fn boundary(what: &'static str, dims: &[usize]) -> Sample {
        Sample::new(what, dims, Layout::Contiguous, true)
    }

    /// A sample above a threading threshold (full sweep only).
    pub fn threaded(what: &'static str, dims: &[usize]) -> Sample {
        Sample::new(what, dims, Layout::Contiguous, false)
    }

    /// Non-contiguous operands (full sweep only).
    pub fn view(dims: &[usize], layout: Layout) -> Sample {
        let what = match layout {
            Layout::Contiguous => "contiguous",
            Layout::Transposed => "transposed view",
            Layout::Stepped => "stepped slice",
            Layout::Broadcast => "broadcast view",
        };
        Sample::new(what, dims, layout, false)
    }

    fn new(what: &'static str, dims: &[usize], layout: Layout, quick: bool) -> Sample {
        Sample {
            what,
            dims: dims.to_vec(),
            layout,
            quick,
        }
    }

    /// Dimension `i`.
    pub fn d(&self, i: usize) -> usize {
        self.dims[i]
    }

    /// The first two dimensions, as an operand's logical `[r, c]`.
    pub fn rc(&self) -> [usize; 2] {
        [self.dims[0], self.dims[1]]
    }

    /// The stored shape of the operand `[r, c]` under this sample's layout.
    pub fn stored(&self) -> Vec<usize> {
        self.layout.stored(self.rc()).to_vec()
    }

    /// Smaller samples of the same family and layout, for shrinking a
    /// failure: each dimension halved, and each decremented.
    pub fn smaller(&self) -> Vec<Sample> {
        let mut out = Vec::new();
        for i in 0..self.dims.len() {
            for smaller in [self.dims[i] / 2, self.dims[i].saturating_sub(1)] {
                if smaller >= 1 && smaller < self.dims[i] {
                    let mut dims = self.dims.clone();
                    dims[i] = smaller;
                    let sample = Sample {
                        what: "shrunk",
                        dims,
                        ..self.clone()
                    };
                    if !out.contains(&sample) {
                        out.push(sample);
                    }
                }
            }
        }
        out
    }
}

impl fmt::Display for Sample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}", self.what, self.dims)
    }
}

/// The range an input's values are spread over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Values {
    /// [−1, 1].
    Unit,
    /// [lo, hi].
    In(f64, f64),
    /// Magnitudes in [lo, hi] with both signs (away from a kink at 0: abs,
    /// relu, sign, a divisor, atan2's origin).
    TwoSided(f64, f64),
    /// [−2.4, 2.4] at least 0.1 away from every multiple of 0.5 (round,
    /// floor, ceil, trunc change there).
    AwayFromHalves,
}

impl Values {
    /// The value at `t` in (0, 1), increasing in `t`.
    fn at(self, t: f64) -> f64 {
        match self {
            Values::Unit => -1.0 + 2.0 * t,
            Values::In(lo, hi) => lo + (hi - lo) * t,
            Values::TwoSided(lo, hi) if t < 0.5 => -(hi - (hi - lo) * 2.0 * t),
            Values::TwoSided(lo, hi) => lo + (hi - lo) * (2.0 * t - 1.0),
            Values::AwayFromHalves => {
                let segment = (t * 10.0).floor().min(9.0);
                let within = t * 10.0 - segment;
                -2.5 + 0.5 * segment + 0.1 + 0.3 * within
            }
        }
    }

    /// `n` distinct values evenly spread over the range, shuffled by `rng`.
    pub fn spread(self, n: usize, rng: &mut StdRng) -> Vec<f64> {
        let mut values: Vec<f64> = (0..n)
            .map(|i| self.at((i as f64 + 0.5) / n as f64))
            .collect();
        values.shuffle(rng);
        values
    }
}

/// A seed from the family and sample: every case's inputs are its own and
/// the same on every run (FNV-1a over the name and the dimensions).
fn seed(op: &str, sample: &Sample) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    let dims = sample.dims.iter().flat_map(|d| d.to_le_bytes());
    for byte in op.bytes().chain(dims).chain([sample.layout as u8]) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The inputs of family `op` at `sample`, from its specification.
pub(super) fn inputs(
    op: &str,
    sample: &Sample,
    specs: Vec<(&'static str, Vec<usize>, Values)>,
) -> Result<Inputs> {
    let mut rng = StdRng::seed_from_u64(seed(op, sample));
    let mut inputs = Inputs::new();
    for (name, shape, values) in specs {
        let n = shape.iter().product();
        inputs = inputs.values(name, &shape, values.spread(n, &mut rng))?;
    }
    Ok(inputs)
}

/// `module` with every float parameter set to distinct values spread over
/// [−0.5, 0.5] (seeded by `op`): initialisers draw from the device's
/// generator, which other threads share, and a case must be the same on
/// every run and every backend.
pub(super) fn seeded<M: Module>(module: M, op: &str) -> Result<M> {
    let mut params = ParamValues::of(&module)?;
    let mut rng = StdRng::seed_from_u64(seed(op, &Sample::tiny(&[])));
    for entry in &mut params.entries {
        entry.values = Values::In(-0.5, 0.5).spread(entry.values.len(), &mut rng);
    }
    Ok(params.apply(&module)?)
}

#[cfg(test)]
mod tests {
    use super::{Sample, Values};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn spread_values_are_distinct_in_range_and_away_from_the_kinks() {
        let mut rng = StdRng::seed_from_u64(1);
        for values in [
            Values::Unit,
            Values::In(0.5, 2.0),
            Values::TwoSided(0.1, 1.0),
            Values::AwayFromHalves,
        ] {
            let mut v = values.spread(1001, &mut rng);
            v.sort_by(f64::total_cmp);
            assert!(v.windows(2).all(|w| w[1] > w[0]), "{values:?}");
            match values {
                Values::TwoSided(lo, hi) => {
                    assert!(v.iter().all(|x| x.abs() >= lo && x.abs() <= hi));
                    assert!(v[0] < 0.0 && v[1000] > 0.0);
                }
                Values::AwayFromHalves => {
                    // Every value is at least 0.1 from the nearest multiple of 0.5.
                    let gap = |x: f64| (x * 2.0 - (x * 2.0).round()).abs() / 2.0;
                    assert!(v.iter().all(|&x| gap(x) >= 0.1 - 1e-12), "{v:?}");
                }
                Values::In(lo, hi) => assert!(v[0] >= lo && v[1000] <= hi),
                Values::Unit => assert!(v[0] >= -1.0 && v[1000] <= 1.0),
            }
        }
    }

    #[test]
    fn a_sample_shrinks_by_halving_and_decrementing_each_dimension() {
        let s = Sample::boundary("lanes", &[4, 1]);
        let dims: Vec<Vec<usize>> = s.smaller().into_iter().map(|s| s.dims).collect();
        assert_eq!(dims, [vec![2, 1], vec![3, 1]]);
    }
}
