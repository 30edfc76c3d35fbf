//! Finite differences: a derivative estimated from evaluations alone, the
//! independent truth autodiff is certified against.

use crate::error::{Error, Result, require_positive};
use serde::{Deserialize, Serialize};

/// How finite differences estimate a derivative.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Stencil {
    /// The centred difference of docs/maths.md § 10, D(ε) = (J(θ + ε e_i) − J(θ − ε e_i)) / (2ε):
    /// two evaluations, truncation error O(ε²).
    Central,
    /// Richardson extrapolation of the centred difference, (4 D(ε/2) − D(ε)) / 3:
    /// four evaluations, truncation error O(ε⁴). For costs that curve on a short
    /// scale (inputs of magnitude |x| make J vary on a scale of 1/|x| in the first
    /// layer's weights), where D(ε)'s O(ε²) term is too large at any ε whose
    /// rounding error O(u·|J|/ε) is still small.
    Richardson,
}

/// A finite-difference scheme: the step ε and the stencil.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FiniteDifference {
    /// The step ε. The truncation error grows like ε² (ε⁴ for Richardson) and
    /// the rounding error like u·|J|/ε; in f64 ε ≈ 1e-5 balances the two.
    pub epsilon: f64,
    /// Which formula combines the evaluations.
    pub stencil: Stencil,
}

impl FiniteDifference {
    /// The centred difference of docs/maths.md § 10 with step `epsilon`.
    pub fn central(epsilon: f64) -> FiniteDifference {
        FiniteDifference {
            epsilon,
            stencil: Stencil::Central,
        }
    }

    /// Richardson-extrapolated centred differences with step `epsilon`.
    pub fn richardson(epsilon: f64) -> FiniteDifference {
        FiniteDifference {
            epsilon,
            stencil: Stencil::Richardson,
        }
    }

    /// The derivative at t = 0 of a vector-valued `f(t)`, entry by entry, from
    /// evaluations of `f` alone: D(h) = (f(h) − f(−h)) / 2h with h = ε, or
    /// Richardson's (4 D(ε/2) − D(ε)) / 3. Every finite difference of
    /// the checker (a Jacobian column, a random direction) is this one with
    /// its own `f`, whose errors may be of any type that takes this crate's.
    pub fn derivative_along<F, E>(&self, mut f: F) -> Result<Vec<f64>, E>
    where
        F: FnMut(f64) -> Result<Vec<f64>, E>,
        E: From<Error>,
    {
        require_positive(
            "epsilon",
            self.epsilon,
            "the finite-difference step",
            "1e-6 suits f64",
        )?;
        let mut centred = |h: f64| -> Result<Vec<f64>, E> {
            let (plus, minus) = (f(h)?, f(-h)?);
            Ok(plus
                .iter()
                .zip(&minus)
                .map(|(p, m)| (p - m) / (2.0 * h))
                .collect())
        };
        match self.stencil {
            Stencil::Central => centred(self.epsilon),
            Stencil::Richardson => {
                let (coarse, fine) = (centred(self.epsilon)?, centred(self.epsilon / 2.0)?);
                Ok(coarse
                    .iter()
                    .zip(&fine)
                    .map(|(c, f)| (4.0 * f - c) / 3.0)
                    .collect())
            }
        }
    }
}
