//! The op sweep: the [`GradCheck`] over the burn operations this crate uses
//! and the usual suspects of backward bugs, on any backend and precision.
//! `backprop conformance` prints it; the wgpu and remote test scripts run it.
//!
//! Every case is small (a full Jacobian in well under a second on a CPU) and
//! its inputs are distinct, evenly spaced values in a shuffled order: no two
//! entries of a max or a pooling window are within 1/n of each other, so a
//! finite difference of step 1e-6 never crosses a kink.

use super::gradcheck::{Args, GradCheck, GradReport, Inputs, Place};
use crate::error::Result;
use crate::precision::Precision;
use burn::tensor::activation::{log_softmax, sigmoid, softmax};
use burn::tensor::module::{avg_pool1d, avg_pool2d, conv1d, conv2d, max_pool1d, max_pool2d};
use burn::tensor::ops::{AvgPoolOptions, ConvOptions, MaxPoolOptions};
use burn::tensor::{Int, Tensor, TensorData};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::time::Instant;

type Check = Box<dyn Fn(GradCheck<'_>, &Inputs) -> Result<GradReport> + Send + Sync>;

/// One operation under test, with its inputs.
pub struct Case {
    /// The operation, e.g. `matmul aᵀb`.
    pub op: &'static str,
    /// Its shapes and options, as the table prints them.
    pub shapes: String,
    /// Why it is in the sweep (the upstream issue it reproduces, if any).
    pub why: &'static str,
    inputs: Inputs,
    check: Check,
}

impl Case {
    /// Runs this case's check on `place`, compared with `reference` if
    /// given, else with the f64 CPU reference when `place` is not f64.
    pub fn check(&self, place: &Place, reference: Option<&Place>) -> Result<GradReport> {
        let check = GradCheck::new().on(place.clone());
        let check = match reference {
            Some(r) => check.reference(r.clone()),
            None => check,
        };
        (self.check)(check, &self.inputs)
    }
}

/// What became of one case on one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Autodiff agrees with finite differences (and with the reference).
    Pass,
    /// It does not.
    Fail,
    /// It does not, and this is a known upstream bug (see [`KNOWN_UPSTREAM`]).
    KnownUpstream,
    /// The check could not run (an error, e.g. a dtype the device lacks).
    Error,
}

/// One row of the sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The operation.
    pub op: String,
    /// Shapes and options.
    pub shapes: String,
    /// Where it ran.
    pub place: String,
    /// The largest relative difference of any comparison.
    pub worst_relative: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// The error or the failing report, for rows that did not pass.
    pub detail: Option<String>,
    /// Wall time of the check, seconds.
    pub seconds: f64,
}

/// A case known to fail on one backend and precision because of a bug in
/// burn, with what reproduces it. The sweep reports it as such, not hidden;
/// once fixed upstream, it shows as a plain pass.
#[derive(Debug, Clone, Copy)]
pub struct KnownFailure {
    /// The case's operation.
    pub op: &'static str,
    /// The backend's name.
    pub backend: &'static str,
    /// The precision it fails in.
    pub precision: Precision,
    /// What is wrong upstream, and a minimal reproduction.
    pub reproduction: &'static str,
}

/// The known upstream failures found by this sweep.
pub const KNOWN_UPSTREAM: &[KnownFailure] = &[KnownFailure {
    op: "sigmoid",
    backend: "ndarray",
    precision: Precision::F64,
    reproduction: "burn-ndarray does not override burn-backend's default \
        `ActivationOps::sigmoid`, which casts to f32 and back \
        (burn-backend-0.22.1/src/backend/ops/activation.rs:139-148), so σ of an f64 \
        tensor is f32-accurate: `sigmoid(Tensor::<1>::from_data([0.5], (&Device::ndarray(), \
        DType::F64)))` differs from 1/(1 + e^−0.5) by ~1e-8 instead of ~1e-16, and \
        central differences of it (ε = 1e-6) are off by up to ~10 %. flex computes in f64.",
}];

/// The known upstream failure of `op` on `backend` in `precision`, if any.
pub fn known_failure(
    op: &str,
    backend: &str,
    precision: Precision,
) -> Option<&'static KnownFailure> {
    KNOWN_UPSTREAM
        .iter()
        .find(|k| k.op == op && k.backend == backend && k.precision == precision)
}

/// Runs `cases` on `place` of `backend` (its name, for [`KNOWN_UPSTREAM`]),
/// calling `each` after every row. A GPU or remote device is best compared
/// with `reference` = [`Place::reference`] even in f64: its finite
/// differences then run on the CPU, and the cross-backend comparison is what
/// catches a wrong kernel.
pub fn sweep(
    cases: &[Case],
    (backend, place): (&str, &Place),
    reference: Option<&Place>,
    each: &mut dyn FnMut(&Row),
) -> Vec<Row> {
    let mut rows = Vec::with_capacity(cases.len());
    for case in cases {
        let start = Instant::now();
        let outcome = case.check(place, reference);
        let known = known_failure(case.op, backend, place.precision).is_some();
        let (worst_relative, verdict, detail) = match outcome {
            Ok(report) if report.passed => {
                (report.worst_relative_difference(), Verdict::Pass, None)
            }
            Ok(report) => (
                report.worst_relative_difference(),
                if known {
                    Verdict::KnownUpstream
                } else {
                    Verdict::Fail
                },
                Some(report.to_string()),
            ),
            Err(e) => (f64::NAN, Verdict::Error, Some(e.to_string())),
        };
        let row = Row {
            op: case.op.to_string(),
            shapes: case.shapes.clone(),
            place: place.to_string(),
            worst_relative,
            verdict,
            detail,
            seconds: start.elapsed().as_secs_f64(),
        };
        each(&row);
        rows.push(row);
    }
    rows
}

/// The rows that failed or could not run, each with its report or error:
/// what a test of the sweep asserts is empty.
pub fn failures(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Error))
        .map(|r| {
            let detail = r.detail.as_deref().unwrap_or_default();
            format!("{} {} on {}:\n{detail}", r.op, r.shapes, r.place)
        })
        .collect()
}

/// Distinct values evenly spaced over [lo, hi], shuffled: `shape`'s entries.
fn spaced(shape: &[usize], (lo, hi): (f64, f64), rng: &mut StdRng) -> Vec<f64> {
    let n: usize = shape.iter().product();
    let mut values: Vec<f64> = (0..n)
        .map(|i| lo + (hi - lo) * (i as f64 + 0.5) / n as f64)
        .collect();
    values.shuffle(rng);
    values
}

/// A case builder: inputs by name and shape, drawn from one seeded stream.
struct Build {
    rng: StdRng,
    inputs: Inputs,
    shapes: Vec<String>,
}

impl Build {
    fn new(seed: u64) -> Build {
        Build {
            rng: StdRng::seed_from_u64(seed),
            inputs: Inputs::new(),
            shapes: Vec::new(),
        }
    }

    /// An input with values in [-1, 1].
    fn input(self, name: &str, shape: &[usize]) -> Build {
        self.input_in(name, shape, (-1.0, 1.0))
    }

    /// An input with values in `range` (positive ones for log and powf).
    fn input_in(mut self, name: &str, shape: &[usize], range: (f64, f64)) -> Build {
        let values = spaced(shape, range, &mut self.rng);
        self.shapes.push(format!("{name}{shape:?}"));
        self.inputs = self
            .inputs
            .values(name, shape, values)
            .expect("the sweep's own shapes and finite values");
        self
    }

    fn case<F, const O: usize>(self, op: &'static str, extra: &str, why: &'static str, f: F) -> Case
    where
        F: Fn(&Args) -> Tensor<O> + Copy + Send + Sync + 'static,
    {
        let mut shapes = self.shapes.join(" ");
        if !extra.is_empty() {
            shapes = format!("{shapes} {extra}");
        }
        Case {
            op,
            shapes,
            why,
            inputs: self.inputs,
            check: Box::new(move |mut check, inputs| check.function(inputs, f)),
        }
    }
}

/// Integer indices on the evaluation's device.
fn indices<const D: usize>(x: &Args, values: Vec<i64>, shape: [usize; D]) -> Tensor<D, Int> {
    Tensor::from_data(TensorData::new(values, shape), &x.device())
}

/// Every case of the sweep, in a fixed order.
pub fn cases() -> Vec<Case> {
    let mut all = Vec::new();
    all.extend(matmul_cases());
    all.extend(convolution_cases());
    all.extend(pooling_cases());
    all.extend(elementwise_cases());
    all.extend(indexing_cases());
    all
}

fn matmul_cases() -> Vec<Case> {
    vec![
        Build::new(1).input("a", &[3, 4]).input("b", &[4, 5]).case(
            "matmul ab",
            "",
            "the layers' forward and backward",
            |x| x.get::<2>("a").matmul(x.get::<2>("b")),
        ),
        Build::new(2).input("a", &[2, 3]).input("b", &[2, 2]).case(
            "matmul aᵀb",
            "",
            "burn#5304: a transposed left operand, wrong on the cpu backend for these shapes",
            |x| x.get::<2>("a").transpose().matmul(x.get::<2>("b")),
        ),
        Build::new(3).input("a", &[5, 3]).input("b", &[5, 4]).case(
            "matmul aᵀb",
            "",
            "autodiff's dW = xᵀδ",
            |x| x.get::<2>("a").transpose().matmul(x.get::<2>("b")),
        ),
        Build::new(4).input("a", &[3, 4]).input("b", &[5, 4]).case(
            "matmul abᵀ",
            "",
            "autodiff's δWᵀ",
            |x| x.get::<2>("a").matmul(x.get::<2>("b").transpose()),
        ),
        Build::new(5).input("a", &[4, 3]).input("b", &[5, 4]).case(
            "matmul aᵀbᵀ",
            "",
            "both operands transposed views",
            |x| {
                x.get::<2>("a")
                    .transpose()
                    .matmul(x.get::<2>("b").transpose())
            },
        ),
        Build::new(6)
            .input("a", &[2, 3, 4])
            .input("b", &[2, 4, 2])
            .case("batched matmul", "", "a batch of products", |x| {
                x.get::<3>("a").matmul(x.get::<3>("b"))
            }),
        Build::new(7)
            .input("a", &[2, 3, 4])
            .input("b", &[1, 4, 2])
            .case(
                "batched matmul, broadcast",
                "",
                "the gradient of a broadcast operand sums over the batch",
                |x| x.get::<3>("a").matmul(x.get::<3>("b")),
            ),
    ]
}

fn convolution_cases() -> Vec<Case> {
    vec![
        Build::new(11)
            .input("x", &[2, 4, 9])
            .input("w", &[6, 2, 3])
            .input("b", &[6])
            .case(
                "conv1d",
                "stride 2 pad 1 dilation 2 groups 2",
                "strided, dilated, grouped",
                |x| {
                    let options = ConvOptions::new([2], [1], [2], 2);
                    conv1d(x.get("x"), x.get("w"), Some(x.get("b")), options)
                },
            ),
        Build::new(12)
            .input("x", &[2, 3, 5, 5])
            .input("w", &[2, 3, 3, 3])
            .case("conv2d", "plain", "the common case", |x| {
                let options = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
                conv2d(x.get("x"), x.get("w"), None, options)
            }),
        Build::new(13)
            .input("x", &[1, 4, 7, 6])
            .input("w", &[4, 2, 3, 2])
            .input("b", &[4])
            .case(
                "conv2d",
                "stride [2,1] pad 1 dilation [1,2] groups 2",
                "every option at once",
                |x| {
                    let options = ConvOptions::new([2, 1], [1, 1], [1, 2], 2);
                    conv2d(x.get("x"), x.get("w"), Some(x.get("b")), options)
                },
            ),
    ]
}

fn pooling_cases() -> Vec<Case> {
    vec![
        Build::new(21).input("x", &[1, 2, 6, 6]).case(
            "avg_pool2d",
            "kernel 3 stride 2 pad 1 ceil_mode count_include_pad",
            "burn#5604: the backward's divisor under ceil_mode + count_include_pad",
            |x| {
                let options = AvgPoolOptions::new([3, 3])
                    .with_stride([2, 2])
                    .with_padding([1, 1])
                    .with_ceil_mode(true)
                    .with_count_include_pad(true);
                avg_pool2d(x.get("x"), options)
            },
        ),
        Build::new(22).input("x", &[1, 2, 6, 6]).case(
            "avg_pool2d",
            "kernel 3 stride 2 pad 1 ceil_mode, pad not counted",
            "the other divisor",
            |x| {
                let options = AvgPoolOptions::new([3, 3])
                    .with_stride([2, 2])
                    .with_padding([1, 1])
                    .with_ceil_mode(true)
                    .with_count_include_pad(false);
                avg_pool2d(x.get("x"), options)
            },
        ),
        Build::new(23).input("x", &[2, 4, 7]).case(
            "avg_pool1d",
            "kernel 3 stride 2 pad 1 count_include_pad",
            "burn#5308: an even channel count",
            |x| {
                let options = AvgPoolOptions::new([3])
                    .with_stride([2])
                    .with_padding([1])
                    .with_count_include_pad(true);
                avg_pool1d(x.get("x"), options)
            },
        ),
        Build::new(24).input("x", &[1, 2, 7, 7]).case(
            "max_pool2d",
            "kernel 3 stride 2 pad 1 ceil_mode",
            "a partial last window",
            |x| {
                let options = MaxPoolOptions::new([3, 3])
                    .with_stride([2, 2])
                    .with_padding([1, 1])
                    .with_ceil_mode(true);
                max_pool2d(x.get("x"), options)
            },
        ),
        Build::new(25).input("x", &[1, 2, 7, 8]).case(
            "max_pool2d",
            "kernel [2,3] stride 1 dilation [2,1]",
            "burn PR #4466: dilation[0] used for both axes",
            |x| {
                let options = MaxPoolOptions::new([2, 3]).with_dilation([2, 1]);
                max_pool2d(x.get("x"), options)
            },
        ),
        Build::new(26).input("x", &[1, 3, 7]).case(
            "max_pool1d",
            "kernel 2 stride 2 ceil_mode",
            "a window cut by the edge",
            |x| {
                let options = MaxPoolOptions::new([2])
                    .with_stride([2])
                    .with_ceil_mode(true);
                max_pool1d(x.get("x"), options)
            },
        ),
    ]
}

fn elementwise_cases() -> Vec<Case> {
    vec![
        Build::new(31)
            .input("x", &[3, 5])
            .case("softmax", "dim 1", "", |x| softmax(x.get::<2>("x"), 1)),
        Build::new(32)
            .input("x", &[2, 3, 4])
            .case("softmax", "dim 0", "", |x| softmax(x.get::<3>("x"), 0)),
        Build::new(33)
            .input("x", &[3, 5])
            .case("log_softmax", "dim 1", "", |x| {
                log_softmax(x.get::<2>("x"), 1)
            }),
        Build::new(34).input("a", &[3, 1]).input("b", &[1, 4]).case(
            "broadcast add, mul",
            "",
            "a broadcast operand's gradient sums over the broadcast axis",
            |x| {
                let (a, b) = (x.get::<2>("a"), x.get::<2>("b"));
                (a.clone() + b.clone()) * b + a
            },
        ),
        Build::new(35)
            .input("x", &[3, 4])
            .case("sum_dim, mean_dim", "dims 1 and 0", "", |x| {
                x.get::<2>("x").sum_dim(1) * x.get::<2>("x").mean_dim(0)
            }),
        Build::new(36)
            .input("x", &[2, 3, 2])
            .case("sum, mean", "", "", |x| {
                x.get::<3>("x").sum() + x.get::<3>("x").mean() * 3.0
            }),
        Build::new(37)
            .input("x", &[3, 4])
            .case("exp", "", "", |x| x.get::<2>("x").exp()),
        Build::new(38)
            .input_in("x", &[3, 4], (0.5, 2.0))
            .case("log", "x in [0.5, 2]", "", |x| x.get::<2>("x").log()),
        Build::new(39)
            .input("x", &[3, 4])
            .case("tanh", "", "the tanh activation", |x| {
                x.get::<2>("x").tanh()
            }),
        Build::new(40)
            .input("x", &[3, 4])
            .case("sigmoid", "", "the sigmoid activation", |x| {
                sigmoid(x.get::<2>("x"))
            }),
        Build::new(41)
            .input_in("a", &[3, 4], (0.5, 2.0))
            .input("b", &[3, 4])
            .case("powf", "a in [0.5, 2]", "", |x| {
                x.get::<2>("a").powf(x.get::<2>("b"))
            }),
        Build::new(42).input_in("x", &[3, 4], (0.5, 2.0)).case(
            "powf_scalar",
            "exponent 2.5",
            "the cost's square",
            |x| x.get::<2>("x").powf_scalar(2.5),
        ),
    ]
}

fn indexing_cases() -> Vec<Case> {
    vec![
        Build::new(51).input("x", &[3, 4]).case(
            "gather",
            "dim 1, repeated indices",
            "burn#5296: gradients accumulated into overlapping positions",
            |x| {
                let idx = indices(x, vec![0, 0, 3, 1, 2, 2, 3, 3, 0], [3, 3]);
                x.get::<2>("x").gather(1, idx)
            },
        ),
        Build::new(52).input("x", &[4, 3]).case(
            "select",
            "dim 0, repeated indices",
            "burn#5296: select's backward accumulates",
            |x| {
                let idx = indices(x, vec![2, 0, 2, 3], [4]);
                x.get::<2>("x").select(0, idx)
            },
        ),
        Build::new(53)
            .input("x", &[4, 5])
            .case("slice", "[1..3, 0..4]", "", |x| {
                x.get::<2>("x").slice([1..3, 0..4])
            }),
        Build::new(54).input("x", &[3, 4]).input("v", &[2, 4]).case(
            "select_assign",
            "dim 0, indices [2, 0]",
            "a scatter-add's backward",
            |x| {
                let idx = indices(x, vec![2, 0], [2]);
                x.get::<2>("x").select_assign(
                    0,
                    idx,
                    x.get::<2>("v"),
                    burn::tensor::IndexingUpdateOp::Add,
                )
            },
        ),
    ]
}

/// The case names, shapes and reasons, for the CLI's listing.
pub fn describe(cases: &[Case]) -> Vec<(&'static str, &str, &'static str)> {
    cases
        .iter()
        .map(|c| (c.op, c.shapes.as_str(), c.why))
        .collect()
}
