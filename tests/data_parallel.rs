//! Data-parallel gradients: a batch split over several devices gives the
//! gradient of the whole batch, and training on it follows single-device
//! training step for step. Run here on the two CPU backends (tests/remote.rs
//! repeats it with a device behind `backprop serve`).

mod common;

use common::{cases, gradient_values as values, worst_relative};
use manual_backprop::data::DatasetKind;
use manual_backprop::gradients::GradientSource;
use manual_backprop::network::Network;
use manual_backprop::run::{self, TrainOptions};
use manual_backprop::training::{Batch, DataParallel, Objective, OptimizerConfig, OptimizerKind};
use manual_backprop::{Backend, Precision};
use std::ops::ControlFlow;

/// The device lists the tests split over: two backends, and three shards
/// with one device used twice.
fn device_sets() -> Vec<Vec<burn::tensor::Device>> {
    let flex = Backend::Flex.device().unwrap();
    let ndarray = Backend::Ndarray.device().unwrap();
    vec![
        vec![flex.clone(), ndarray.clone()],
        vec![ndarray, flex.clone(), flex],
    ]
}

// Tolerance: the combined gradient sums the same per-example terms as the
// single-device one, grouped by shard and scaled by m_k/m then 1/m_k instead
// of 1/m: a few roundings per element more, so ~10 u ≈ 1e-15 relative to the
// gradient's norm. 1e-12 (the bound) leaves three orders of margin
// while still failing any weighting mistake (a wrong m_k/m is an O(1) error).
const EQUAL: f64 = 1e-12;

#[test]
fn the_combined_gradient_equals_the_single_device_gradient() {
    let mut worst = 0.0_f64;
    for case in cases() {
        let flex = Backend::Flex.device().unwrap();
        let (net, x, y) = case.build(&flex, Precision::F64, 7);
        let whole = Batch {
            x: x.clone(),
            y: y.clone(),
            weight_decay: case.weight_decay,
            source: GradientSource::Manual,
        };
        let single = whole.cost_and_gradients(&net).unwrap();
        for devices in device_sets() {
            let parallel = DataParallel::new(&devices, &x, &y).unwrap();
            let sharded = parallel.full_batch(case.weight_decay, GradientSource::Manual);
            // Every device gets a share (when there are rows enough), even to a row.
            let sizes = sharded.shard_sizes();
            assert_eq!(parallel.len(), devices.len());
            assert_eq!(sizes.len(), devices.len().min(case.m), "{sizes:?}");
            assert_eq!(sizes.iter().sum::<usize>(), case.m);
            assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
            assert_eq!(parallel.devices().count(), devices.len());
            assert!(!parallel.is_empty());
            let combined = sharded.cost_and_gradients(&net).unwrap();
            let rel = worst_relative(&values(&combined.layers), &values(&single.layers));
            let cost_rel = (combined.cost - single.cost).abs() / single.cost.abs();
            // The queued path (no cost) gives the same gradients.
            let queued = sharded.gradients(&net).unwrap();
            let queued_rel = worst_relative(&values(&queued), &values(&single.layers));
            assert!(
                rel <= EQUAL && cost_rel <= EQUAL && queued_rel <= EQUAL,
                "{} over {} devices: gradient {rel:e}, cost {cost_rel:e}, queued {queued_rel:e}",
                case.name,
                devices.len()
            );
            worst = worst.max(rel).max(cost_rel).max(queued_rel);
        }
    }
    println!("worst relative difference, combined vs single-device: {worst:e}");
}

/// `k` steps of `kind`, on the whole batch on one device or split.
fn k_steps(kind: OptimizerKind, split: bool, k: usize) -> Vec<Network> {
    let case = &cases()[3]; // two hidden sigmoid layers, λ = 0.05, m = 37
    let flex = Backend::Flex.device().unwrap();
    let (mut net, x, y) = case.build(&flex, Precision::F64, 23);
    let mut optimizer = OptimizerConfig::of(kind).init().unwrap();
    let rate = match kind {
        OptimizerKind::Adam => 0.01,
        OptimizerKind::Lbfgs => 1.0,
        _ => 0.5,
    };
    let whole = Batch {
        x: x.clone(),
        y: y.clone(),
        weight_decay: case.weight_decay,
        source: GradientSource::Manual,
    };
    let parallel = DataParallel::new(&device_sets()[1], &x, &y).unwrap();
    let sharded = parallel.full_batch(case.weight_decay, GradientSource::Manual);
    let mut path = Vec::new();
    for _ in 0..k {
        net = if split {
            optimizer.step_on(net, &sharded, rate).unwrap().0
        } else {
            optimizer.step_on(net, &whole, rate).unwrap().0
        };
        path.push(net.clone());
    }
    path
}

#[test]
fn data_parallel_training_follows_single_device_training_step_for_step() {
    for kind in [
        OptimizerKind::Gd,
        OptimizerKind::Momentum,
        OptimizerKind::Adam,
        OptimizerKind::Lbfgs,
    ] {
        let single = k_steps(kind, false, 10);
        let split = k_steps(kind, true, 10);
        let mut worst = 0.0_f64;
        for (step, (a, b)) in split.iter().zip(&single).enumerate() {
            let rel = worst_relative(&a.param_values().unwrap(), &b.param_values().unwrap());
            // Parameters move by α·gradient: a 1e-15 gradient difference
            // becomes a far smaller parameter difference, step after step.
            assert!(rel <= EQUAL, "{kind} step {}: {rel:e}", step + 1);
            worst = worst.max(rel);
        }
        println!("{kind}: worst parameter difference over 10 steps {worst:e}");
    }
}

#[test]
fn a_data_parallel_run_matches_the_single_device_run_epoch_by_epoch() {
    let base = TrainOptions {
        dataset: DatasetKind::Digits,
        epochs: 30,
        dtype: Precision::F64,
        ..TrainOptions::default()
    };
    let mini = TrainOptions {
        batch_size: Some(100),
        alpha: Some(0.5),
        ..base.clone()
    };
    for options in [base, mini] {
        let split = options.load_data().unwrap();
        let single = run::train_on(&options, &split, |_| ControlFlow::Continue(())).unwrap();
        let parallel_options = TrainOptions {
            devices: vec![Backend::Flex, Backend::Ndarray, Backend::Flex],
            ..options.clone()
        };
        let parallel =
            run::train_on(&parallel_options, &split, |_| ControlFlow::Continue(())).unwrap();
        for (a, b) in parallel.outcome.history.iter().zip(&single.outcome.history) {
            let rel = (a.train.cost - b.train.cost).abs() / b.train.cost;
            assert!(rel <= EQUAL, "epoch {}: cost {rel:e}", a.epoch);
            assert_eq!(a.train.accuracy, b.train.accuracy, "epoch {}", a.epoch);
        }
        let rel = worst_relative(
            &parallel.best_network().param_values().unwrap(),
            &single.best_network().param_values().unwrap(),
        );
        assert!(rel <= EQUAL, "final parameters {rel:e}");
        assert_eq!(parallel.summary.test.accuracy, single.summary.test.accuracy);
    }
}

#[test]
fn no_devices_is_an_error() {
    let flex = Backend::Flex.device().unwrap();
    let (_, x, y) = cases()[0].build(&flex, Precision::F64, 7);
    assert!(matches!(
        DataParallel::new(&[], &x, &y),
        Err(manual_backprop::Error::InvalidParameter { .. })
    ));
}
