//! Element-wise operations: unary maths, scalar arithmetic, binary
//! operations with their broadcasts, the activations. Every family runs at
//! [`elementwise`]'s samples: the SIMD lanes and unrolled blocks with their
//! tails, above flex's threading split, and on transposed, stepped and
//! broadcast views.

use super::super::sample::Values::{self, AwayFromHalves, In, TwoSided, Unit};
use super::super::views::operand;
use super::{contiguous, elementwise, elementwise_small, op};
use crate::verification::conformance::Family;
use burn::tensor::DType;
use burn::tensor::activation::{
    gelu, leaky_relu, log_sigmoid, log_softmax, mish, relu, sigmoid, silu, softmax, softplus,
};

/// A unary operation on the operand `t` (input `x` read through the sample's layout).
macro_rules! unary {
    ($op:literal, [$($cov:literal),*], $why:literal, $values:expr, |$t:ident| $body:expr) => {
        Family::function(
            ($op, &[$($cov),*], $why),
            op!(|x, s| {
                let $t = operand(x, "x", s.rc(), s.layout);
                $body
            }),
            elementwise(),
            move |s| vec![("x", s.stored(), $values)],
        )
    };
}

/// A binary operation on the operands `a` and `b`, both read through the layout.
macro_rules! binary {
    ($op:literal, [$($cov:literal),*], $why:literal, ($va:expr, $vb:expr), |$a:ident, $b:ident| $body:expr) => {
        Family::function(
            ($op, &[$($cov),*], $why),
            op!(|x, s| {
                let $a = operand(x, "a", s.rc(), s.layout);
                let $b = operand(x, "b", s.rc(), s.layout);
                $body
            }),
            elementwise(),
            move |s| vec![("a", s.stored(), $va), ("b", s.stored(), $vb)],
        )
    };
}

pub(super) fn families() -> Vec<Family> {
    let mut all = maths();
    all.extend(rounding());
    all.extend(binary());
    all.extend(activations());
    all
}

fn maths() -> Vec<Family> {
    vec![
        unary!("exp", ["float_exp"], "", Unit, |t| t.exp()),
        unary!("log", ["float_log"], "x in [0.5, 2]", In(0.5, 2.0), |t| t
            .log()),
        unary!(
            "log1p",
            ["float_log1p"],
            "x in [−0.5, 2]",
            In(-0.5, 2.0),
            |t| t.log1p()
        ),
        unary!(
            "sqrt",
            ["float_sqrt"],
            "x in [0.25, 4]",
            In(0.25, 4.0),
            |t| t.sqrt()
        ),
        unary!(
            "abs",
            ["float_abs"],
            "|x| ≥ 0.1: away from the kink",
            TwoSided(0.1, 1.0),
            |t| t.abs()
        ),
        unary!("neg", ["float_neg"], "", Unit, |t| t.neg()),
        unary!(
            "recip",
            ["float_recip"],
            "|x| in [0.5, 2]",
            TwoSided(0.5, 2.0),
            |t| t.recip()
        ),
        unary!("sin", ["float_sin"], "", In(-3.0, 3.0), |t| t.sin()),
        unary!("cos", ["float_cos"], "", In(-3.0, 3.0), |t| t.cos()),
        unary!(
            "tan",
            ["float_tan"],
            "x in [−1.2, 1.2]",
            In(-1.2, 1.2),
            |t| t.tan()
        ),
        unary!("sinh", ["float_sinh"], "", In(-2.0, 2.0), |t| t.sinh()),
        unary!("cosh", ["float_cosh"], "", In(-2.0, 2.0), |t| t.cosh()),
        unary!(
            "tanh",
            ["float_tanh"],
            "the tanh activation",
            In(-2.0, 2.0),
            |t| t.tanh()
        ),
        unary!(
            "asin",
            ["float_asin"],
            "x in [−0.9, 0.9]",
            In(-0.9, 0.9),
            |t| t.asin()
        ),
        unary!(
            "acos",
            ["float_acos"],
            "x in [−0.9, 0.9]",
            In(-0.9, 0.9),
            |t| t.acos()
        ),
        unary!("atan", ["float_atan"], "", In(-3.0, 3.0), |t| t.atan()),
        unary!("asinh", ["float_asinh"], "", In(-3.0, 3.0), |t| t.asinh()),
        unary!(
            "acosh",
            ["float_acosh"],
            "x in [1.2, 3]",
            In(1.2, 3.0),
            |t| t.acosh()
        ),
        unary!(
            "atanh",
            ["float_atanh"],
            "x in [−0.9, 0.9]",
            In(-0.9, 0.9),
            |t| t.atanh()
        ),
        unary!("erf", ["float_erf"], "", In(-2.0, 2.0), |t| t.erf()),
        unary!(
            "powf_scalar",
            ["float_powf_scalar_impl"],
            "the cost's square, at a fractional exponent",
            In(0.5, 2.0),
            |t| t.powf_scalar(2.5)
        ),
        unary!("powi_scalar", ["float_powi_scalar"], "", Unit, |t| {
            t.powi_scalar(3)
        }),
        unary!(
            "scalar arithmetic",
            [
                "float_add_scalar",
                "float_sub_scalar",
                "float_mul_scalar",
                "float_div_scalar"
            ],
            "(x + 0.5)·1.5 − 0.25, / 0.75",
            Unit,
            |t| t
                .add_scalar(0.5)
                .mul_scalar(1.5)
                .sub_scalar(0.25)
                .div_scalar(0.75)
        ),
        unary!(
            "remainder_scalar",
            ["float_remainder_scalar"],
            "x mod 1 on [−2.4, 2.4] away from the jumps",
            AwayFromHalves,
            |t| t.remainder_scalar(1.0)
        ),
        unary!(
            "cast",
            ["float_cast"],
            "f32 → f64 → the target's dtype; exp in f64 between",
            Unit,
            |t| {
                let dtype = t.dtype();
                t.cast(DType::F64).exp().cast(dtype)
            }
        ),
        unary!(
            "detach",
            ["float_detach"],
            "x · sign(detach(x)) = |x|: the cut path is piecewise constant",
            TwoSided(0.1, 1.0),
            |t| t.clone() * t.detach().sign()
        ),
        unary!(
            "to_device",
            ["float_to_device"],
            "a move to the same device: the gradient passes through",
            Unit,
            |t| {
                let device = t.device();
                t.to_device(&device).exp()
            }
        ),
        unary!(
            "clamp",
            ["float_mask_where"],
            "clamp(x, −0.5, 0.5): burn writes it as masks; x away from ±0.5",
            AwayFromHalves,
            |t| t.clamp(-0.5, 0.5)
        ),
    ]
}

/// Operations whose derivative is zero wherever it exists; the samples keep
/// away from their jumps, so the forward values are what is compared.
fn rounding() -> Vec<Family> {
    vec![
        unary!(
            "round",
            ["float_round"],
            "zero gradient; away from the half-integers",
            AwayFromHalves,
            |t| t.round()
        ),
        unary!(
            "floor",
            ["float_floor"],
            "zero gradient; away from the integers",
            AwayFromHalves,
            |t| t.floor()
        ),
        unary!(
            "ceil",
            ["float_ceil"],
            "zero gradient; away from the integers",
            AwayFromHalves,
            |t| t.ceil()
        ),
        unary!(
            "trunc",
            ["float_trunc"],
            "zero gradient; away from the integers",
            AwayFromHalves,
            |t| t.trunc()
        ),
        unary!(
            "sign",
            ["float_sign"],
            "zero gradient; away from 0",
            TwoSided(0.1, 1.0),
            |t| t.sign()
        ),
    ]
}

fn binary() -> Vec<Family> {
    let divisor = TwoSided(0.5, 2.0);
    vec![
        binary!("add", ["float_add"], "", (Unit, Unit), |a, b| a + b),
        binary!("sub", ["float_sub"], "", (Unit, Unit), |a, b| a - b),
        binary!("mul", ["float_mul"], "", (Unit, Unit), |a, b| a * b),
        binary!(
            "div",
            ["float_div"],
            "|b| in [0.5, 2]",
            (Unit, divisor),
            |a, b| a / b
        ),
        binary!(
            "powf",
            ["float_powf"],
            "a in [0.5, 2]",
            (In(0.5, 2.0), Unit),
            |a, b| a.powf(b)
        ),
        binary!(
            "atan2",
            ["float_atan2"],
            "away from the origin and the branch cut",
            (TwoSided(0.2, 1.0), In(0.2, 1.0)),
            |a, b| a.atan2(b)
        ),
        binary!(
            "hypot",
            ["float_hypot"],
            "",
            (TwoSided(0.2, 1.0), TwoSided(0.2, 1.0)),
            |a, b| a.hypot(b)
        ),
        binary!(
            "remainder",
            ["float_remainder"],
            "|a| < b: both branches of the floored remainder, no jump",
            (TwoSided(0.05, 0.95), In(1.0, 2.0)),
            |a, b| a.remainder(b)
        ),
        binary!(
            "mask_where",
            ["float_mask_where"],
            "a where a > b, else b: the max of two, both gradients routed; b's grid is \
             offset from a's by 0.03, so no entry ties",
            (Unit, In(-0.97, 1.03)),
            |a, b| {
                let mask = a.clone().greater(b.clone());
                b.mask_where(mask, a)
            }
        ),
        Family::function(
            (
                "broadcast add, mul",
                &["float_add", "float_mul"],
                "a [r, 1] and b [1, c]: each gradient sums over its broadcast axis",
            ),
            op!(|x, s| {
                let (a, b) = (x.get::<2>("a"), x.get::<2>("b"));
                (a.clone() + b.clone()) * b + a
            }),
            contiguous(),
            |s| vec![("a", vec![s.d(0), 1], Unit), ("b", vec![1, s.d(1)], Unit)],
        ),
    ]
}

fn activations() -> Vec<Family> {
    vec![
        unary!(
            "sigmoid",
            ["sigmoid"],
            "the sigmoid activation",
            In(-4.0, 4.0),
            |t| sigmoid(t)
        ),
        unary!(
            "relu",
            ["relu"],
            "|x| ≥ 0.1: away from the kink",
            TwoSided(0.1, 1.0),
            |t| relu(t)
        ),
        unary!("gelu", ["gelu"], "", In(-3.0, 3.0), |t| gelu(t)),
        unary!("log_sigmoid", ["log_sigmoid"], "", In(-4.0, 4.0), |t| {
            log_sigmoid(t)
        }),
        unary!("silu", [], "composite: x·σ(x)", In(-3.0, 3.0), |t| silu(
            t
        )),
        unary!("softplus", [], "composite", In(-3.0, 3.0), |t| softplus(
            t, 1.0
        )),
        unary!("mish", [], "composite", In(-3.0, 3.0), |t| mish(t)),
        unary!(
            "leaky_relu",
            [],
            "|x| ≥ 0.1: away from the kink",
            TwoSided(0.1, 1.0),
            |t| leaky_relu(t, 0.1)
        ),
        unary!("softmax", [], "dim 1, composite", Unit, |t| softmax(t, 1)),
        Family::function(
            (
                "softmax dim 0",
                &[],
                "reduced over rows: a strided reduction",
            ),
            op!(|x, s| softmax(operand(x, "x", s.rc(), s.layout), 0)),
            elementwise_small(),
            |s| vec![("x", s.stored(), Values::Unit)],
        ),
        unary!("log_softmax", [], "dim 1, composite", Unit, |t| {
            log_softmax(t, 1)
        }),
    ]
}
