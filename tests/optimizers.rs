//! burn's optimizers driven by the hand-written gradients: each takes the same
//! steps as when driven by burn-autodiff's gradients, gradient descent is
//! still exactly the reference's update, L-BFGS descends and converges, and
//! the best model by validation metric is the one saved.

mod common;

use common::cases;
use manual_backprop::data::DatasetKind;
use manual_backprop::gradients::GradientSource;
use manual_backprop::run::{self, TrainOptions};
use manual_backprop::training::{
    self, OptimizerConfig, OptimizerKind, Prepared, Stop, TrainConfig,
};
use manual_backprop::verification::{Tolerance, compare::compare_values};
use manual_backprop::{Backend, Network, Precision, persist};
use std::ops::ControlFlow;

const KINDS: [OptimizerKind; 4] = [
    OptimizerKind::Gd,
    OptimizerKind::Momentum,
    OptimizerKind::Adam,
    OptimizerKind::Lbfgs,
];

/// `k` steps of `kind` from the same start, driven by `source`'s gradients.
fn k_steps(
    kind: OptimizerKind,
    source: GradientSource,
    backend: &Backend,
    k: usize,
) -> (Network, Vec<usize>) {
    let case = &cases()[3]; // two hidden sigmoid layers, λ = 0.05, m = 37
    let (mut net, x, y) = case.build(&backend.device().unwrap(), Precision::F64, 23);
    let mut optimizer = OptimizerConfig::of(kind).init().unwrap();
    let learning_rate = match kind {
        OptimizerKind::Adam => 0.01,
        OptimizerKind::Lbfgs => 1.0,
        _ => 0.5,
    };
    let mut evaluations = Vec::new();
    for _ in 0..k {
        let (next, report) = optimizer
            .step(
                net,
                x.clone(),
                y.clone(),
                case.weight_decay,
                learning_rate,
                source,
            )
            .unwrap();
        net = next;
        evaluations.push(report.evaluations);
    }
    (net, evaluations)
}

#[test]
fn every_optimizer_takes_the_same_steps_on_manual_and_autodiff_gradients() {
    // The two gradients agree to ~1e-15 relative (tests/autodiff_agreement.rs);
    // five updates carry that difference along with a few more roundings
    // (Adam divides by √v̂, L-BFGS by sᵀy), so 1e-10 relative per entry, with
    // the same floor relative to the tensor's largest entry, leaves a margin
    // of 10⁴ while any real difference in the steps would be O(1).
    let tolerance = Tolerance {
        relative: 1e-10,
        floor: 1e-10,
    };
    for backend in Backend::ALL {
        for kind in KINDS {
            let (manual, manual_evals) = k_steps(kind, GradientSource::Manual, &backend, 5);
            let (autodiff, autodiff_evals) = k_steps(kind, GradientSource::Autodiff, &backend, 5);
            assert_eq!(
                manual_evals, autodiff_evals,
                "{backend} {kind}: same line searches"
            );
            let start = cases()[3]
                .build(&backend.device().unwrap(), Precision::F64, 23)
                .0
                .param_values()
                .unwrap();
            let (m, a) = (
                manual.param_values().unwrap(),
                autodiff.param_values().unwrap(),
            );
            let mut worst = 0.0_f64;
            for (((path, m), a), s) in manual.param_paths().iter().zip(&m).zip(&a).zip(&start) {
                let report = compare_values(path, &[m.len()], m, a, tolerance);
                assert!(
                    report.agreement.passed,
                    "{backend} {kind} {path}: {report:?}"
                );
                assert_ne!(
                    m, s,
                    "{backend} {kind} {path}: the steps moved the parameter"
                );
                worst = worst.max(report.agreement.max_rel_diff);
            }
            println!(
                "{backend} {kind}: 5 steps, worst element-wise relative difference manual vs autodiff {worst:.2e}, evaluations {manual_evals:?}"
            );
        }
    }
}

#[test]
fn gradient_descent_through_the_optimizer_is_the_reference_update_bit_for_bit() {
    let case = &cases()[6];
    let (net, x, y) = case.build(&Backend::Flex.device().unwrap(), Precision::F64, 5);
    let grads = net
        .gradients(x.clone(), y.clone(), case.weight_decay)
        .unwrap();
    let by_hand = training::gradient_descent_step(net.clone(), grads, 0.3).unwrap();
    let mut optimizer = OptimizerConfig::gd().init().unwrap();
    let (stepped, _) = optimizer
        .step(net, x, y, case.weight_decay, 0.3, GradientSource::Manual)
        .unwrap();
    assert_eq!(
        stepped.param_values().unwrap(),
        by_hand.param_values().unwrap()
    );
}

fn lbfgs_options(dataset: DatasetKind, hidden: Vec<usize>, epochs: usize) -> TrainOptions {
    TrainOptions {
        dataset,
        hidden,
        epochs,
        alpha: Some(1.0),
        lambda: 0.0,
        init_std: 1.0,
        dtype: Precision::F64,
        optimizer: OptimizerConfig::of(OptimizerKind::Lbfgs),
        ..TrainOptions::default()
    }
}

#[test]
fn lbfgs_decreases_the_cost_monotonically_and_converges_on_xor() {
    // Strong Wolfe's sufficient-decrease condition makes every accepted
    // iteration lower J: the history must never go up.
    let sine = run::train(&lbfgs_options(DatasetKind::Sine, vec![8], 60), |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    let costs: Vec<f64> = sine.outcome.history.iter().map(|r| r.train.cost).collect();
    for (i, pair) in costs.windows(2).enumerate() {
        assert!(
            pair[1] <= pair[0],
            "epoch {}: J rose from {} to {}",
            i + 2,
            pair[0],
            pair[1]
        );
    }
    assert!(costs[costs.len() - 1] < 0.2 * costs[0], "{costs:?}");
    let last = sine.outcome.history.last().unwrap();
    assert!(
        last.evaluations >= last.iterations && last.iterations > 0,
        "{last:?}"
    );

    let xor = run::train(&lbfgs_options(DatasetKind::Xor, vec![3], 300), |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    let s = &xor.summary;
    println!(
        "XOR with L-BFGS: cost {:.3e} after {} iterations, {} evaluations, stop: {}",
        s.train.cost, s.iterations, s.evaluations, s.stop
    );
    assert_eq!(s.train.accuracy, Some(1.0), "all four points classified");
    assert!(
        s.train.cost < 1e-4,
        "J = {} has not converged",
        s.train.cost
    );
}

#[test]
fn lbfgs_refuses_mini_batches() {
    let mut config = TrainConfig::gradient_descent(1.0, 0.0, 1);
    config.optimizer = OptimizerConfig::of(OptimizerKind::Lbfgs);
    config.batch_size = Some(2);
    let err = config.validate(4).unwrap_err().to_string();
    assert!(err.contains("full batch"), "{err}");
}

#[test]
fn nonsense_optimizer_hyper_parameters_are_refused() {
    for (kind, edit) in [
        (
            OptimizerKind::Momentum,
            (|c: &mut OptimizerConfig| c.momentum = 1.0) as fn(&mut _),
        ),
        (OptimizerKind::Adam, |c| c.beta2 = -0.1),
        (OptimizerKind::Adam, |c| c.adam_epsilon = 0.0),
        (OptimizerKind::Adam, |c| c.adam_epsilon = 1e300),
        (OptimizerKind::Lbfgs, |c| c.lbfgs_history = 0),
    ] {
        let mut config = OptimizerConfig::of(kind);
        edit(&mut config);
        assert!(config.init().is_err(), "{config:?}");
    }
}

/// A wide net, no decay, Adam on mini-batches: it fits the 1257 training
/// digits within a few dozen epochs, after which validation stops improving.
fn overfitting_adam(epochs: usize) -> TrainOptions {
    TrainOptions {
        epochs,
        hidden: vec![100],
        lambda: 0.0,
        alpha: Some(0.01),
        batch_size: Some(32),
        optimizer: OptimizerConfig::of(OptimizerKind::Adam),
        ..TrainOptions::default()
    }
}

#[test]
fn the_saved_model_is_the_best_epoch_and_reproduces_its_validation_metric() {
    // The best validation epoch of this run is not its last one.
    let options = TrainOptions {
        dtype: Precision::F64,
        ..overfitting_adam(40)
    };
    let trained = run::train(&options, |_| ControlFlow::Continue(())).unwrap();
    let s = &trained.summary;
    let history = &trained.outcome.history;
    let recorded = history[s.best_epoch - 1].validation.clone().unwrap();
    // No later or earlier epoch is better.
    for r in history {
        assert!(
            !r.validation.as_ref().unwrap().better_than(&recorded),
            "epoch {}",
            r.epoch
        );
    }
    let dir = std::env::temp_dir().join(format!("mb-best-{}", std::process::id()));
    run::save_run(&dir, &options, &trained).unwrap();
    let device = Backend::Flex.device().unwrap();
    let (loaded, meta) = persist::load(&dir, &device).unwrap();
    let split = options.load_data().unwrap();
    let validation = Prepared::new(
        &split.validation,
        &meta.preprocessing,
        &device,
        meta.precision,
    )
    .unwrap();
    let metrics =
        training::evaluate(&loaded, &validation, &meta.preprocessing, options.lambda).unwrap();
    println!(
        "best epoch {} of {}: validation accuracy {:?}, last epoch {:?}",
        s.best_epoch, s.epochs, recorded.accuracy, s.last.validation.accuracy
    );
    assert!(s.best_epoch < s.epochs, "this run peaks before its end");
    assert_eq!(
        metrics, recorded,
        "the reloaded model gives the recorded metric exactly"
    );
    assert_eq!(s.validation, recorded);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn patience_stops_training_that_no_longer_improves() {
    let options = TrainOptions {
        patience: Some(10),
        ..overfitting_adam(400)
    };
    let trained = run::train(&options, |_| ControlFlow::Continue(())).unwrap();
    let Stop::EarlyStopped { epochs, best_epoch } = trained.summary.stop else {
        panic!("expected an early stop, got {}", trained.summary.stop);
    };
    assert_eq!(epochs - best_epoch, 10);
    assert_eq!(
        trained.summary.stop.to_string(),
        format!("stopped early after {epochs} epochs (best epoch {best_epoch})")
    );
    assert_eq!(trained.outcome.history.len(), epochs);
    assert_eq!(trained.summary.best_epoch, best_epoch);
    // Given exactly those epochs, the same run completes them: patience
    // running out in the last epoch cuts nothing short.
    let exact = TrainOptions { epochs, ..options };
    let trained = run::train(&exact, |_| ControlFlow::Continue(())).unwrap();
    assert_eq!(trained.summary.stop, Stop::Completed);
    assert_eq!(trained.outcome.history.len(), epochs);
}

#[test]
fn lbfgs_stops_when_an_iteration_barely_changes_j_and_says_so() {
    let tolerance = 1e-4;
    let mut options = lbfgs_options(DatasetKind::Sine, vec![8], 200);
    options.optimizer.tolerance_change = tolerance;
    let trained = run::train(&options, |_| ControlFlow::Continue(())).unwrap();
    let Stop::Converged { epochs, reason } = &trained.summary.stop else {
        panic!("expected convergence, got {}", trained.summary.stop);
    };
    assert!(reason.contains("J changed by less than"), "{reason}");
    // It stopped at the first iteration whose change in J fell below the
    // tolerance, not before and not after.
    let costs: Vec<f64> = trained
        .outcome
        .history
        .iter()
        .map(|r| r.train.cost)
        .collect();
    assert_eq!(costs.len(), *epochs);
    let changes: Vec<f64> = costs.windows(2).map(|w| (w[0] - w[1]).abs()).collect();
    let (last, earlier) = changes.split_last().expect("at least two iterations");
    assert!(*last < tolerance, "{changes:?}");
    assert!(earlier.iter().all(|c| *c >= tolerance), "{changes:?}");
    // Converging in the last allowed iteration is completing the run.
    let exact = TrainOptions {
        epochs: *epochs,
        ..options.clone()
    };
    let trained = run::train(&exact, |_| ControlFlow::Continue(())).unwrap();
    assert_eq!(trained.summary.stop, Stop::Completed);
    // The change-in-J test is L-BFGS's own: gradient descent with the same
    // (absurdly large) tolerance runs every epoch.
    let gd = TrainOptions {
        epochs: 20,
        alpha: Some(0.5),
        optimizer: OptimizerConfig {
            tolerance_change: 1e3,
            ..OptimizerConfig::gd()
        },
        ..options
    };
    let trained = run::train(&gd, |_| ControlFlow::Continue(())).unwrap();
    assert_eq!(trained.summary.stop, Stop::Completed);
    assert_eq!(trained.outcome.history.len(), 20);
}

#[test]
fn a_caller_can_stop_training_between_epochs() {
    let options = TrainOptions {
        dataset: DatasetKind::Xor,
        hidden: vec![3],
        epochs: 5,
        ..TrainOptions::default()
    };
    let stop_after = |last: usize| {
        run::train(&options, |r| {
            if r.epoch == last {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap()
    };
    let interrupted = stop_after(2);
    assert_eq!(interrupted.summary.stop, Stop::Interrupted { epochs: 2 });
    assert_eq!(interrupted.outcome.history.len(), 2);
    // A stop asked for after the last epoch interrupts nothing.
    let completed = stop_after(5);
    assert_eq!(completed.summary.stop, Stop::Completed);
    assert_eq!(completed.outcome.history.len(), 5);
}

#[test]
fn the_history_counts_every_step_and_every_evaluation() {
    // Full batch: one step and one evaluation of J and ∂J/∂θ per epoch.
    // Mini-batches: one of each per batch, the same number every epoch.
    for kind in [
        OptimizerKind::Gd,
        OptimizerKind::Momentum,
        OptimizerKind::Adam,
    ] {
        for batch_size in [None, Some(200)] {
            let options = TrainOptions {
                epochs: 3,
                alpha: Some(0.01),
                batch_size,
                optimizer: OptimizerConfig::of(kind),
                ..TrainOptions::default()
            };
            let trained = run::train(&options, |_| ControlFlow::Continue(())).unwrap();
            let counts: Vec<(usize, usize)> = trained
                .outcome
                .history
                .iter()
                .map(|r| (r.iterations, r.evaluations))
                .collect();
            let per_epoch = counts[0].0;
            match batch_size {
                None => assert_eq!(per_epoch, 1, "{kind}"),
                Some(_) => assert!(per_epoch > 1, "{kind}: {counts:?}"),
            }
            let expected: Vec<(usize, usize)> =
                (1..=3).map(|e| (e * per_epoch, e * per_epoch)).collect();
            assert_eq!(counts, expected, "{kind}, batch {batch_size:?}");
        }
    }
    // L-BFGS: one iteration per epoch, and at least one evaluation for each
    // (its line search may evaluate several points).
    let trained = run::train(&lbfgs_options(DatasetKind::Xor, vec![3], 5), |_| {
        ControlFlow::Continue(())
    })
    .unwrap();
    for (e, r) in trained.outcome.history.iter().enumerate() {
        assert_eq!(r.iterations, e + 1, "{r:?}");
        // burn's strong-Wolfe search gives up after 25 evaluations.
        assert!(
            r.evaluations > r.iterations && r.evaluations <= 26 * r.iterations,
            "{r:?}"
        );
    }
}

#[test]
fn lbfgs_that_cannot_move_stops_at_once_and_says_why() {
    // A gradient tolerance above every |∂J/∂θ|: the first evaluation already
    // satisfies it, so burn's L-BFGS takes no step.
    let mut options = lbfgs_options(DatasetKind::Xor, vec![3], 10);
    options.optimizer.tolerance_grad = 1e3;
    let trained = run::train(&options, |_| ControlFlow::Continue(())).unwrap();
    let Stop::Converged { epochs, reason } = &trained.summary.stop else {
        panic!("expected convergence, got {}", trained.summary.stop);
    };
    assert_eq!(*epochs, 1);
    assert!(reason.contains("below tolerance"), "{reason}");
    let record = &trained.outcome.history[0];
    assert_eq!((record.iterations, record.evaluations), (0, 1));
}

#[test]
fn a_failing_objective_inside_the_line_search_is_an_error_not_a_panic() {
    // L-BFGS asks for J and ∂J/∂θ through a closure that cannot return an
    // error; a batch the network cannot take must still come back as one.
    let device = Backend::Flex.device().unwrap();
    let case = &cases()[0];
    let (net, x, _) = case.build(&device, Precision::F64, 1);
    let wrong_y =
        manual_backprop::tensor::matrix("y", vec![0.5; 3], [1, 3], &device, Precision::F64)
            .unwrap();
    let mut optimizer = OptimizerConfig::of(OptimizerKind::Lbfgs).init().unwrap();
    let result = optimizer.step(net, x, wrong_y, 0.0, 1.0, GradientSource::Manual);
    assert!(
        matches!(result, Err(manual_backprop::Error::Shape { .. })),
        "{:?}",
        result.err()
    );
}

#[test]
fn every_optimizer_learns_the_digits_with_no_option_but_its_name() {
    // `backprop train --optimizer adam` (or momentum, lbfgs) and nothing else:
    // the default step must suit the rule. Gradient descent's α = 4 gave Adam
    // chance accuracy (10.74 %); each rule's own default (chosen by
    // validation accuracy, README "Optimizers") reaches 95.9–99.6 % over
    // seeds 1–5, so 95 % fails only if the default no longer suits its rule.
    for kind in [
        OptimizerKind::Momentum,
        OptimizerKind::Adam,
        OptimizerKind::Lbfgs,
    ] {
        let options = TrainOptions {
            optimizer: OptimizerConfig::of(kind),
            ..TrainOptions::default()
        };
        assert_eq!(options.alpha, None);
        assert_eq!(options.learning_rate(), kind.default_learning_rate());
        let trained = run::train(&options, |_| ControlFlow::Continue(())).unwrap();
        let accuracy = trained.summary.test.accuracy.unwrap();
        assert!(accuracy >= 0.95, "{kind}: test accuracy {accuracy}");
    }
}
