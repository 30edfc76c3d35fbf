//! The update rules that consume the gradients: the reference's gradient
//! descent, and burn's SGD with momentum, Adam and L-BFGS fed by the same
//! hand-written gradients (or, as a control, by burn-autodiff's).
//!
//! burn's optimizers take a `GradientsParams` keyed by parameter id — exactly
//! what [`Network::register_grads`](crate::Layer::register_grads) fills — so
//! none of the update rules is re-implemented here except the reference's own.
//! The decay term λW is part of J and so of the gradient; no optimizer is given
//! a weight decay of its own, which would count it twice.

use super::objective::{Batch, Objective};
use super::step::{check_learning_rate, gradient_descent_update};
use crate::error::{Error, Result};
use crate::gradients::GradientSource;
use crate::layer::Layer;
use crate::network::Network;
use burn::module::Module;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{
    AdamConfig, GradientsParams, LBFGS, LBFGSConfig, LineSearchFn, ModuleOptimizer, SgdConfig,
};
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which update rule trains the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// θ ← θ − α ∂J/∂θ, the reference's batch gradient descent (docs/maths.md § 7).
    Gd,
    /// burn's SGD with (heavy-ball) momentum: v ← μv + ∂J/∂θ, θ ← θ − αv.
    Momentum,
    /// burn's Adam (Kingma & Ba), step size α.
    Adam,
    /// burn's L-BFGS with a strong-Wolfe line search, full batch, one
    /// iteration per epoch; α is the initial step of each line search (1 is usual).
    Lbfgs,
}

impl OptimizerKind {
    /// Every update rule.
    pub const ALL: [OptimizerKind; 4] = [
        OptimizerKind::Gd,
        OptimizerKind::Momentum,
        OptimizerKind::Adam,
        OptimizerKind::Lbfgs,
    ];

    /// The step size α each rule uses unless told otherwise: gd keeps the
    /// reference's α = 4; the others were chosen by mean validation accuracy
    /// on the digits with every other option at its default (the grid and
    /// its figures: docs/training.md, "Optimizers"). Adam's α bounds each
    /// parameter's own step, so it sits far below gradient descent's;
    /// momentum's effective step is α/(1 − μ), ten times α at μ = 0.9, so
    /// mini-batches or larger inputs want a smaller one than the full batch
    /// it was chosen on; L-BFGS's α is its line search's first trial step.
    pub fn default_learning_rate(self) -> f64 {
        match self {
            OptimizerKind::Gd => 4.0,
            OptimizerKind::Momentum => 8.0,
            OptimizerKind::Adam => 0.03,
            OptimizerKind::Lbfgs => 1.0,
        }
    }
}

impl fmt::Display for OptimizerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OptimizerKind::Gd => "gd",
            OptimizerKind::Momentum => "momentum",
            OptimizerKind::Adam => "adam",
            OptimizerKind::Lbfgs => "lbfgs",
        })
    }
}

/// An optimizer and its hyper-parameters; only the chosen kind's are used.
///
/// With the `cli` feature, also the optimizer flags of `backprop train`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[serde(default, deny_unknown_fields)]
pub struct OptimizerConfig {
    /// Update rule: gd (the reference's gradient descent), momentum, adam, lbfgs.
    #[cfg_attr(
        feature = "cli",
        arg(id = "kind", long = "optimizer", value_enum, default_value_t = OptimizerKind::Gd)
    )]
    pub kind: OptimizerKind,
    /// Momentum μ for --optimizer momentum.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = defaults().momentum))]
    pub momentum: f64,
    /// Nesterov momentum for --optimizer momentum.
    #[cfg_attr(feature = "cli", arg(long))]
    pub nesterov: bool,
    /// Adam's β₁, decay of the first-moment estimate.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = defaults().beta1))]
    pub beta1: f64,
    /// Adam's β₂, decay of the second-moment estimate.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = defaults().beta2))]
    pub beta2: f64,
    /// Adam's ε, added to the root of the second moment.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = defaults().adam_epsilon))]
    pub adam_epsilon: f64,
    /// L-BFGS correction pairs (s, y) kept.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = defaults().lbfgs_history))]
    pub lbfgs_history: usize,
    /// L-BFGS's strong-Wolfe line search; without it (--no-line-search)
    /// L-BFGS takes the fixed step α.
    #[cfg_attr(
        feature = "cli",
        arg(long = "no-line-search", action = clap::ArgAction::SetFalse)
    )]
    pub line_search: bool,
    /// Stop L-BFGS when the largest |∂J/∂θ| falls to this.
    #[cfg_attr(feature = "cli", arg(skip = defaults().tolerance_grad))]
    pub tolerance_grad: f64,
    /// Stop L-BFGS when a step changes J or θ by less than this.
    #[cfg_attr(feature = "cli", arg(skip = defaults().tolerance_change))]
    pub tolerance_change: f64,
}

#[cfg(feature = "cli")]
fn defaults() -> OptimizerConfig {
    OptimizerConfig::default()
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig {
            kind: OptimizerKind::Gd,
            momentum: 0.9,
            nesterov: false,
            beta1: 0.9,
            beta2: 0.999,
            adam_epsilon: 1e-8,
            lbfgs_history: 100,
            line_search: true,
            tolerance_grad: 1e-7,
            tolerance_change: 1e-9,
        }
    }
}

impl OptimizerConfig {
    /// Gradient descent, the reference's update.
    pub fn gd() -> OptimizerConfig {
        OptimizerConfig::default()
    }

    /// The default hyper-parameters of `kind`.
    pub fn of(kind: OptimizerKind) -> OptimizerConfig {
        OptimizerConfig {
            kind,
            ..OptimizerConfig::default()
        }
    }

    /// Parameter-sized tensors the optimizer keeps between steps (momentum 1,
    /// Adam 2, L-BFGS 2 per correction pair and 2 more), for memory estimates
    /// (the crate's training-memory estimate).
    pub fn state_copies(&self) -> f64 {
        match self.kind {
            OptimizerKind::Gd => 0.0,
            OptimizerKind::Momentum => 1.0,
            OptimizerKind::Adam => 2.0,
            OptimizerKind::Lbfgs => 2.0 * self.lbfgs_history as f64 + 2.0,
        }
    }

    /// Rejects hyper-parameters outside their meaning before any step.
    pub fn validate(&self) -> Result<()> {
        // Momentum and Adam's decay rates: 0 switches the memory off, 1 or
        // more never forgets (or grows) it.
        let unit = |name: &'static str, value: f64| {
            if (0.0..1.0).contains(&value) {
                Ok(())
            } else {
                Err(Error::InvalidParameter {
                    name,
                    value: crate::error::readable(value),
                    reason: "must lie in [0, 1)".into(),
                })
            }
        };
        match self.kind {
            OptimizerKind::Gd => Ok(()),
            OptimizerKind::Momentum => unit("momentum", self.momentum),
            OptimizerKind::Adam => {
                unit("beta1", self.beta1)?;
                unit("beta2", self.beta2)?;
                crate::error::require_positive("adam_epsilon", self.adam_epsilon, "Adam's ε", "")?;
                // burn keeps Adam's constants in f32: an ε that rounds to 0 or
                // ∞ there would silently stop (or never guard) the update.
                let in_f32 = self.adam_epsilon as f32;
                if in_f32.is_finite() && in_f32 > 0.0 {
                    Ok(())
                } else {
                    Err(Error::InvalidParameter {
                        name: "adam_epsilon",
                        value: crate::error::readable(self.adam_epsilon),
                        reason: "burn's Adam holds ε in f32: it must lie between 1e-45 and 3e38 \
                                 (default 1e-8)"
                            .into(),
                    })
                }
            }
            OptimizerKind::Lbfgs => {
                if self.lbfgs_history == 0 {
                    return Err(Error::InvalidParameter {
                        name: "lbfgs_history",
                        value: "0".into(),
                        reason: "L-BFGS needs at least one correction pair (default 100)".into(),
                    });
                }
                crate::error::require_positive(
                    "tolerance_grad",
                    self.tolerance_grad,
                    "L-BFGS's gradient tolerance",
                    "",
                )?;
                crate::error::require_positive(
                    "tolerance_change",
                    self.tolerance_change,
                    "L-BFGS's change tolerance",
                    "",
                )
            }
        }
    }

    /// A fresh optimizer (no momentum, moments or history yet).
    pub fn init(&self) -> Result<Optimizer> {
        self.validate()?;
        let state = match self.kind {
            OptimizerKind::Gd => State::Gd,
            OptimizerKind::Momentum => State::Burn(
                SgdConfig::new()
                    .with_momentum(Some(
                        MomentumConfig::new()
                            .with_momentum(self.momentum)
                            // Classical heavy ball: the gradient enters v undamped.
                            .with_dampening(0.0)
                            .with_nesterov(self.nesterov),
                    ))
                    .init(),
            ),
            // burn keeps Adam's constants in f32.
            OptimizerKind::Adam => State::Burn(
                AdamConfig::new()
                    .with_beta_1(self.beta1 as f32)
                    .with_beta_2(self.beta2 as f32)
                    .with_epsilon(self.adam_epsilon as f32)
                    .init(),
            ),
            OptimizerKind::Lbfgs => State::Lbfgs(Box::new(
                LBFGSConfig::new()
                    // One iteration per epoch, so the history records each one.
                    .with_max_iter(1)
                    .with_history_size(self.lbfgs_history)
                    .with_tolerance_grad(self.tolerance_grad)
                    .with_tolerance_change(self.tolerance_change)
                    .with_line_search_fn(if self.line_search {
                        LineSearchFn::StrongWolfe
                    } else {
                        LineSearchFn::None
                    })
                    // The line search's budget within the iteration.
                    .with_max_eval(Some(25))
                    .init(),
            )),
        };
        Ok(Optimizer {
            kind: self.kind,
            state,
            tolerance_change: self.tolerance_change,
            evaluations: 0,
            iterations: 0,
        })
    }
}

/// An optimizer with its state (momentum, moments, L-BFGS history).
pub struct Optimizer {
    kind: OptimizerKind,
    state: State,
    /// L-BFGS's convergence test on J between iterations.
    tolerance_change: f64,
    evaluations: usize,
    iterations: usize,
}

enum State {
    Gd,
    Burn(ModuleOptimizer),
    Lbfgs(Box<LBFGS>),
}

/// What one call of [`Optimizer::step`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// Cost and gradient evaluations in this step (1 for first-order rules;
    /// for L-BFGS, the line search's and the one at the starting point).
    pub evaluations: usize,
    /// Whether the parameters moved. L-BFGS does not move when the gradient
    /// or the directional derivative is already below its tolerances.
    pub moved: bool,
}

impl Optimizer {
    /// The update rule.
    pub fn kind(&self) -> OptimizerKind {
        self.kind
    }

    /// Cost-and-gradient evaluations so far.
    pub fn evaluations(&self) -> usize {
        self.evaluations
    }

    /// Steps that moved the parameters so far (for L-BFGS, its iterations).
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// Why the optimizer can go no further, if it cannot, after an epoch
    /// whose steps `moved` the parameters or not and took J from
    /// `previous_cost` (none before the first epoch) to `cost`: no step
    /// moved them (L-BFGS: the gradient or the slope along the search
    /// direction is below tolerance), or, for L-BFGS, J changed by less
    /// than `tolerance_change` in an iteration.
    pub fn converged(&self, moved: bool, previous_cost: Option<f64>, cost: f64) -> Option<String> {
        let tolerance = self.tolerance_change;
        let stalled = self.kind == OptimizerKind::Lbfgs
            && previous_cost.is_some_and(|previous| (previous - cost).abs() < tolerance);
        if !moved {
            Some("the gradient or the slope along the search direction is below tolerance".into())
        } else if stalled {
            Some(format!(
                "J changed by less than {tolerance:e} in an iteration"
            ))
        } else {
            None
        }
    }

    /// One update of `network` on the batch (`x`, `y`), from the gradients of
    /// `source`, with step size `learning_rate`.
    pub fn step(
        &mut self,
        network: Network,
        x: Tensor<2>,
        y: Tensor<2>,
        weight_decay: f64,
        learning_rate: f64,
        source: GradientSource,
    ) -> Result<(Network, StepReport)> {
        let batch = Batch {
            x,
            y,
            weight_decay,
            source,
        };
        self.step_on(network, &batch, learning_rate)
    }

    /// One update of `network` that lowers `objective` (a batch on one device,
    /// or one split over several), with step size `learning_rate`.
    pub fn step_on(
        &mut self,
        network: Network,
        objective: &impl Objective,
        learning_rate: f64,
    ) -> Result<(Network, StepReport)> {
        check_learning_rate(learning_rate)?;
        let (network, report) = match &mut self.state {
            State::Gd => {
                let grads = objective.gradients(&network)?;
                (
                    gradient_descent_update(network, grads, learning_rate)?,
                    moved_once(),
                )
            }
            State::Burn(optimizer) => {
                let grads = objective.gradients(&network)?;
                let mut params = GradientsParams::new();
                network.register_grads(grads, &mut params);
                // burn's optimizers update autodiff-enabled modules; `valid()`
                // turns the result back into a plain one, parameter ids kept.
                let updated = optimizer.step(learning_rate, network.train(), params);
                (updated.valid(), moved_once())
            }
            State::Lbfgs(lbfgs) => lbfgs_step(lbfgs, network, objective, learning_rate)?,
        };
        self.evaluations += report.evaluations;
        self.iterations += usize::from(report.moved);
        Ok((network, report))
    }
}

fn moved_once() -> StepReport {
    StepReport {
        evaluations: 1,
        moved: true,
    }
}

/// One L-BFGS iteration. burn's L-BFGS asks a closure for J and ∂J/∂θ at the
/// points it tries; the closure answers from `objective`.
fn lbfgs_step(
    lbfgs: &mut LBFGS,
    network: Network,
    objective: &impl Objective,
    learning_rate: f64,
) -> Result<(Network, StepReport)> {
    let mut evaluations = 0;
    let mut failure = None;
    // Like burn's other optimizers, L-BFGS rebuilds autodiff-enabled
    // parameters; the gradients themselves are computed on plain ones.
    let (network, _) = lbfgs.step(learning_rate, network.train(), |candidate: Network| {
        let candidate = candidate.valid();
        evaluations += 1;
        match objective.cost_and_gradients(&candidate) {
            Ok(grads) => (grads.cost, candidate.to_gradients_params(&grads)),
            Err(e) => {
                // The closure cannot fail: report a non-finite cost with zero
                // gradients, which ends the line search, and the error after it.
                failure.get_or_insert(e);
                (f64::NAN, zero_gradients(&candidate))
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    Ok((
        network.valid(),
        StepReport {
            evaluations,
            // The first evaluation is at the starting point; any other is a
            // point on the search line, so the iteration moved.
            moved: evaluations > 1,
        },
    ))
}

fn zero_gradients(network: &Network) -> GradientsParams {
    let mut params = GradientsParams::new();
    for layer in &network.layers {
        params.register(layer.weight.id, layer.weight.val().zeros_like());
        params.register(layer.bias.id, layer.bias.val().zeros_like());
    }
    params
}

// The command line's name of each rule is clap's: these tests need `cli`.
#[cfg(all(test, feature = "cli"))]
mod tests {
    use super::OptimizerKind;
    use clap::ValueEnum;

    #[test]
    fn the_printed_name_is_the_one_files_and_the_command_line_accept() {
        // Summaries and charts print the optimizer; grid files (serde) and
        // `--optimizer` (clap) must accept what they print.
        let kinds = OptimizerKind::value_variants();
        for &kind in kinds {
            let printed = kind.to_string();
            let from_json: OptimizerKind = serde_json::from_str(&format!("\"{printed}\"")).unwrap();
            assert_eq!(from_json, kind, "{printed}");
            assert_eq!(OptimizerKind::from_str(&printed, false), Ok(kind));
        }
        assert_eq!(kinds.len(), 4);
    }
}

#[cfg(test)]
mod convergence_tests {
    use super::{OptimizerConfig, OptimizerKind};

    #[test]
    fn convergence_is_no_move_for_every_rule_and_a_stalled_cost_for_lbfgs_only() {
        let gd = OptimizerConfig::gd().init().unwrap();
        let lbfgs = OptimizerConfig::of(OptimizerKind::Lbfgs).init().unwrap();
        let tolerance = OptimizerConfig::default().tolerance_change;
        // A change of J a tenth of the tolerance stalls L-BFGS; gradient
        // descent may legitimately creep and goes on.
        let (before, after) = (1.0, 1.0 + tolerance / 10.0);
        assert_eq!(gd.converged(true, Some(before), after), None);
        assert!(
            lbfgs
                .converged(true, Some(before), after)
                .is_some_and(|reason| reason.starts_with("J changed by less than"))
        );
        // No previous epoch: nothing to compare J with.
        assert_eq!(lbfgs.converged(true, None, after), None);
        // A change of ten tolerances is progress.
        assert_eq!(
            lbfgs.converged(true, Some(before), 1.0 + 10.0 * tolerance),
            None
        );
        for optimizer in [&gd, &lbfgs] {
            assert!(
                optimizer
                    .converged(false, Some(before), before)
                    .is_some_and(|reason| reason.contains("below tolerance"))
            );
        }
    }
}
