//! Gradient descent, data loading, preprocessing and saved models.

mod common;

use manual_backprop::data::DatasetKind;
use manual_backprop::data::csv::{CsvOptions, parse as parse_csv};
use manual_backprop::data::preprocess::{FeatureScaling, Predictions, Preprocessing};
use manual_backprop::data::{Targets, digits, idx, synthetic};
use manual_backprop::gradients::GradientSource;
use manual_backprop::run::{self, TrainOptions};
use manual_backprop::training::{self, Prepared, Stop, TrainConfig, gradient_descent_step};
use manual_backprop::{Activation, Backend, Error, NetworkConfig, Precision, persist, tensor};
use std::ops::ControlFlow;

fn keep_going(_: &training::EpochRecord) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

#[test]
fn small_steps_decrease_the_cost_monotonically_on_a_fixed_batch() {
    // For α below 2/L (L the Lipschitz constant of ∇J) every step of gradient
    // descent lowers J; α = 0.05 is far below that for this small net.
    let case = &common::cases()[3];
    for backend in Backend::ALL {
        let (mut net, x, y) = case.build(&backend.device().unwrap(), Precision::F64, 17);
        let mut previous = f64::INFINITY;
        for step in 0..200 {
            let grads = net
                .gradients(x.clone(), y.clone(), case.weight_decay)
                .unwrap();
            assert!(
                grads.cost < previous,
                "{backend}: step {step} raised J from {previous} to {}",
                grads.cost
            );
            previous = grads.cost;
            net = gradient_descent_step(net, grads, 0.05).unwrap();
        }
    }
}

#[test]
fn xor_is_learned() {
    let options = TrainOptions {
        dataset: DatasetKind::Xor,
        hidden: vec![4],
        alpha: Some(5.0),
        lambda: 0.0,
        epochs: 3000,
        init_std: 1.0,
        dtype: Precision::F64,
        ..TrainOptions::default()
    };
    let trained = run::train(&options, keep_going).unwrap();
    assert_eq!(trained.summary.stop, Stop::Completed);
    assert_eq!(trained.summary.stop.to_string(), "completed");
    assert_eq!(
        trained.summary.train.accuracy,
        Some(1.0),
        "{:?}",
        trained.summary.train
    );
    assert!(
        trained.summary.train.data_cost < 0.01,
        "{:?}",
        trained.summary.train
    );
}

#[test]
fn sine_regression_fits_and_predictions_come_back_in_target_units() {
    let options = TrainOptions {
        dataset: DatasetKind::Sine,
        hidden: vec![10],
        activation: Activation::Tanh,
        alpha: Some(0.5),
        lambda: 0.0,
        epochs: 2000,
        init_std: 0.5,
        batch_size: Some(16),
        dtype: Precision::F64,
        ..TrainOptions::default()
    };
    let trained = run::train(&options, keep_going).unwrap();
    let test = &trained.summary.test;
    assert!(test.r2.unwrap() > 0.99, "{test:?}");
    assert!(test.mse.unwrap() < 0.01, "{test:?}");
}

#[test]
fn divergence_stops_training_and_keeps_the_last_finite_model() {
    let options = TrainOptions {
        dataset: DatasetKind::Xor,
        hidden: vec![4],
        // αλ = 1 passes validation (below 2); the first step throws the
        // weights to ~1e299, whose squares overflow the decay term.
        alpha: Some(1e300),
        lambda: 1e-300,
        epochs: 50,
        init_std: 1.0,
        ..TrainOptions::default()
    };
    let trained = run::train(&options, keep_going).unwrap();
    let Stop::Diverged { epoch, cost } = trained.summary.stop else {
        panic!("expected divergence, got {:?}", trained.summary.stop)
    };
    assert!(!cost.is_finite());
    assert_eq!(trained.outcome.history.len(), epoch - 1);
    // What the summary prints as the reason training ended.
    assert_eq!(
        trained.summary.stop.to_string(),
        format!("diverged at epoch {epoch}")
    );
    let values = trained.outcome.network.param_values().unwrap().concat();
    assert!(
        values.iter().all(|v| v.is_finite()),
        "the kept model must be finite"
    );
    let message = trained
        .outcome
        .diverged(&options.train_config())
        .unwrap()
        .to_string();
    assert!(
        message.contains(&format!("epoch {epoch}")) && message.contains("α"),
        "{message}"
    );
}

#[test]
fn nonsense_hyper_parameters_are_rejected_before_training() {
    let bad = [
        TrainOptions {
            alpha: Some(0.0),
            ..TrainOptions::default()
        },
        TrainOptions {
            alpha: Some(f64::NAN),
            ..TrainOptions::default()
        },
        TrainOptions {
            lambda: -1.0,
            ..TrainOptions::default()
        },
        TrainOptions {
            hidden: vec![0],
            ..TrainOptions::default()
        },
        TrainOptions {
            epochs: 0,
            ..TrainOptions::default()
        },
        TrainOptions {
            init_std: 0.0,
            ..TrainOptions::default()
        },
        TrainOptions {
            batch_size: Some(0),
            ..TrainOptions::default()
        },
        // αλ ≥ 2: the decay step alone makes gradient descent diverge.
        TrainOptions {
            alpha: Some(4.0),
            lambda: 0.5,
            ..TrainOptions::default()
        },
    ];
    for options in bad {
        let err = options.validate().unwrap_err();
        assert!(matches!(err, Error::InvalidParameter { .. }), "{err}");
    }
    let too_big = TrainOptions {
        dataset: DatasetKind::Xor,
        batch_size: Some(5),
        ..TrainOptions::default()
    };
    let err = run::train(&too_big, keep_going)
        .err()
        .expect("batch of 5 from 4 examples");
    assert!(err.to_string().contains("batch_size"), "{err}");
}

#[test]
fn saved_model_predicts_identically_and_loads_on_the_other_backend() {
    let options = TrainOptions {
        epochs: 20,
        hidden: vec![12],
        dtype: Precision::F64,
        backend: Backend::Flex,
        ..TrainOptions::default()
    };
    let trained = run::train(&options, keep_going).unwrap();
    let dir = std::env::temp_dir().join(format!("mb-save-{}", std::process::id()));
    let files = run::save_run(&dir, &options, &trained).unwrap();
    for f in &files {
        assert!(f.is_file(), "{} written", f.display());
    }
    // No --alpha was given: options.json records the step the run used, the
    // optimizer's default, so `--config options.json` repeats the run.
    let recorded: TrainOptions = manual_backprop::io::read_json(&dir.join("options.json")).unwrap();
    assert_eq!(options.alpha, None);
    assert_eq!(recorded.alpha, Some(4.0));
    assert_eq!(
        TrainOptions {
            alpha: None,
            ..recorded
        },
        options
    );
    let data = digits::load().unwrap();
    let outputs = |backend: Backend| {
        let device = backend.device().unwrap();
        let (net, meta) = persist::load(&dir, &device).unwrap();
        let prepared = Prepared::new(&data, &meta.preprocessing, &device, meta.precision).unwrap();
        tensor::to_vec(&net.forward(prepared.x)).unwrap()
    };
    let original = {
        let device = Backend::Flex.device().unwrap();
        let prepared =
            Prepared::new(&data, &trained.meta.preprocessing, &device, Precision::F64).unwrap();
        tensor::to_vec(&trained.best_network().forward(prepared.x)).unwrap()
    };
    assert_eq!(
        outputs(Backend::Flex),
        original,
        "save → load → predict is exact on the same backend"
    );
    // The last epoch's model is saved beside the best one.
    let (last, _) = persist::load(&dir.join("last"), &Backend::Flex.device().unwrap()).unwrap();
    assert_eq!(
        last.param_values().unwrap(),
        trained.outcome.network.param_values().unwrap()
    );
    // Another backend runs other kernels (matmul blocking, tanh): equal to f64
    // rounding of a 64-term dot product, far below 1e-12.
    for (a, b) in outputs(Backend::Ndarray).iter().zip(&original) {
        assert!((a - b).abs() <= 1e-12, "ndarray {a} vs flex {b}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn loading_a_damaged_model_is_an_error_and_leaves_files_alone() {
    let dir = std::env::temp_dir().join(format!("mb-damaged-{}", std::process::id()));
    let device = Backend::Flex.device().unwrap();
    let options = TrainOptions {
        epochs: 1,
        dtype: Precision::F64,
        ..TrainOptions::default()
    };
    let trained = run::train(&options, keep_going).unwrap();
    persist::save(&dir, &trained.outcome.network, &trained.meta).unwrap();
    let weights = dir.join(persist::WEIGHTS_FILE);
    let good = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &good[..good.len() / 2]).unwrap();
    let err = persist::load(&dir, &device).expect_err("truncated record");
    assert!(err.to_string().contains("model.bpk"), "{err}");
    std::fs::write(dir.join(persist::META_FILE), "{ not json").unwrap();
    let err = persist::load(&dir, &device).expect_err("broken json");
    assert!(
        err.to_string().contains("model.json") && err.to_string().contains("line 1"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn embedded_digits_are_the_uci_test_part() {
    let d = digits::load().unwrap();
    assert_eq!(
        (d.len(), d.n_features, d.image_shape),
        (1797, 64, Some([8, 8]))
    );
    let Targets::Classes { labels, n_classes } = &d.targets else {
        panic!()
    };
    assert_eq!(*n_classes, 10);
    let mut counts = [0; 10];
    labels.iter().for_each(|&l| counts[l] += 1);
    // The class counts published with the data set.
    assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    assert!(d.features.iter().all(|&p| (0.0..=16.0).contains(&p)));
    let split = d.split(0.15, 0.15, 1).unwrap();
    assert_eq!(
        split.train.len() + split.validation.len() + split.test.len(),
        1797
    );
    assert_eq!(split.test.len(), 270);
    assert_eq!(
        d.split(0.15, 0.15, 1).unwrap().test,
        split.test,
        "the split is deterministic"
    );
}

/// A tiny IDX file: header then bytes.
fn idx_bytes(magic: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, magic];
    for d in dims {
        out.extend(d.to_be_bytes());
    }
    out.extend(data);
    out
}

#[test]
fn idx_files_parse_raw_and_gzipped_and_reject_damage() {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;
    let images = idx_bytes(
        3,
        &[2, 2, 3],
        &[0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255],
    );
    let labels = idx_bytes(1, &[2], &[7, 3]);
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&images).unwrap();
    let gz = gz.finish().unwrap();
    let raw = idx::parse(&images, "images").unwrap();
    assert_eq!(idx::parse(&gz, "images.gz").unwrap(), raw);
    let set = idx::dataset(&raw, &idx::parse(&labels, "labels").unwrap(), "tiny").unwrap();
    assert_eq!(
        (set.len(), set.n_features, set.image_shape),
        (2, 6, Some([2, 3]))
    );
    assert_eq!(set.features[6..], [250., 251., 252., 253., 254., 255.]);

    let expect_err = |bytes: &[u8], needle: &str| {
        let err = idx::parse(bytes, "bad").unwrap_err().to_string();
        assert!(err.contains(needle), "{err:?} should mention {needle:?}");
    };
    expect_err(&images[..images.len() - 1], "need 12 data bytes, found 11");
    expect_err(&[0, 0, 9, 3, 0], "magic");
    expect_err(&[0, 0], "shorter than the 4-byte magic");
    expect_err(&images[..10], "truncated");
    expect_err(&gz[..gz.len() / 2], "gzip");
    let wrong_label = idx::parse(&idx_bytes(1, &[2], &[7, 12]), "labels").unwrap();
    assert!(
        idx::dataset(&raw, &wrong_label, "x")
            .unwrap_err()
            .to_string()
            .contains("label 12")
    );
}

#[test]
fn csv_tables_parse_with_or_without_header_and_report_positions() {
    let options = CsvOptions {
        target_columns: vec!["y".into()],
        classification: false,
    };
    let d = parse_csv("a,b,y\n1,2,3\n4,5,6\n", "t.csv", "t", &options).unwrap();
    assert_eq!((d.len(), d.n_features), (2, 2));
    assert_eq!(d.features, vec![1., 2., 4., 5.]);
    let by_index = CsvOptions {
        target_columns: vec!["0".into()],
        classification: true,
    };
    let d = parse_csv("1,0.5\n0,0.25\n2,1\n", "t.csv", "t", &by_index).unwrap();
    assert_eq!(
        d.targets,
        Targets::Classes {
            labels: vec![1, 0, 2],
            n_classes: 3
        }
    );

    let bad = |text: &str, needle: &str| {
        let err = parse_csv(text, "t.csv", "t", &options)
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{err:?} should mention {needle:?}");
    };
    bad("a,b,y\n1,2,3\n4,x,6\n", "line 3, field 2");
    bad("a,b,y\n1,2,3\n4,5\n", "line 3");
    bad("a,b,y\n1,NaN,3\n", "not a finite number");
    bad("a,b,y\n", "no data rows");
    bad("a,b,z\n1,2,3\n", "target column \"y\"");
}

#[test]
fn preprocessing_encodes_labels_into_the_activation_range_and_decodes_back() {
    let xor = synthetic::xor();
    for (activation, low) in [(Activation::Sigmoid, 0.0), (Activation::Tanh, -1.0)] {
        let p = Preprocessing::fit(&xor, FeatureScaling::None, activation).unwrap();
        let y = p.outputs(&xor).unwrap();
        assert_eq!(y, vec![1.0, low, low, 1.0, low, 1.0, 1.0, low]);
        assert_eq!(p.decode(&y), Predictions::Classes(vec![0, 1, 1, 0]));
    }
    let sine = synthetic::sine(50);
    let p = Preprocessing::fit(&sine, FeatureScaling::Standardize, Activation::Tanh).unwrap();
    let encoded = p.outputs(&sine).unwrap();
    assert!(
        encoded
            .iter()
            .all(|v| (-0.8 - 1e-12..=0.8 + 1e-12).contains(v))
    );
    let Predictions::Values(back) = p.decode(&encoded) else {
        panic!()
    };
    let Targets::Values { values, .. } = &sine.targets else {
        panic!()
    };
    for (a, b) in back.iter().zip(values) {
        assert!((a - b).abs() < 1e-12);
    }
    let inputs = p.inputs(&sine).unwrap();
    let mean = inputs.iter().sum::<f64>() / inputs.len() as f64;
    assert!(mean.abs() < 1e-12, "standardised inputs have mean 0");
}

/// Digits in f64 on flex, scaled for sigmoid, and a 64-10-10 network.
fn digits_f64() -> (Preprocessing, Prepared, manual_backprop::Network) {
    let device = Backend::Flex.device().unwrap();
    let data = digits::load().unwrap().split(0.0, 0.0, 3).unwrap().train;
    let p = Preprocessing::fit(&data, FeatureScaling::MaxAbs, Activation::Sigmoid).unwrap();
    let prepared = Prepared::new(&data, &p, &device, Precision::F64).unwrap();
    let net = NetworkConfig::new(vec![64, 10, 10])
        .with_init_std(0.1)
        .init(&device, Precision::F64)
        .unwrap();
    (p, prepared, net)
}

#[test]
fn one_epoch_of_mini_batches_lowers_the_cost() {
    // 18 shuffled batches of ≤ 100 of the 1797 examples, each a small step downhill on its
    // own batch; together they must lower the full-set cost from the start.
    let (p, prepared, net) = digits_f64();
    let start = net
        .cost(prepared.x.clone(), prepared.y.clone(), 0.0)
        .unwrap();
    let config = TrainConfig {
        batch_size: Some(100),
        seed: 1,
        ..TrainConfig::gradient_descent(1.0, 0.0, 1)
    };
    let outcome = training::train(net, &prepared, None, &p, &config, keep_going).unwrap();
    assert!(outcome.history[0].train.cost < start);
}

#[test]
fn training_on_the_hand_written_nodes_follows_the_hand_written_run() {
    // Two epochs of mini-batches on digits in f64, from the same start, on
    // the hand-written gradients and on burn's autodiff over the hand-written
    // layer and cost nodes: every step's gradients are the same bits
    // (tests/autodiff_nodes.rs), so the runs are the same run.
    let (p, prepared, net) = digits_f64();
    let costs = |gradients| {
        let config = TrainConfig {
            batch_size: Some(100),
            seed: 1,
            gradients,
            ..TrainConfig::gradient_descent(1.0, 1e-3, 2)
        };
        let outcome = training::train(net.clone(), &prepared, None, &p, &config, keep_going);
        let history = outcome.unwrap().history;
        history.iter().map(|r| r.train.cost).collect::<Vec<_>>()
    };
    let (manual, nodes) = (costs(GradientSource::Manual), costs(GradientSource::Nodes));
    assert_eq!(manual.len(), 2);
    assert_eq!(manual, nodes);
    assert!(manual[1] < manual[0]);
}

#[test]
fn experiment_grids_write_one_row_per_run_and_resume() {
    use manual_backprop::experiment::{GridConfig, run_grid};
    let grid = GridConfig {
        base: TrainOptions {
            dataset: DatasetKind::Xor,
            epochs: 20,
            alpha: Some(5.0),
            lambda: 0.0,
            init_std: 1.0,
            ..TrainOptions::default()
        },
        backends: Backend::ALL.to_vec(),
        dtypes: vec![Precision::F64],
        hidden: vec![vec![3], vec![2, 2]],
        ..GridConfig::default()
    };
    let out = std::env::temp_dir().join(format!("mb-grid-{}", std::process::id()));
    let mut fresh = 0;
    let rows = run_grid(&grid, &out, |_, skipped| fresh += usize::from(!skipped)).unwrap();
    // One run per backend and hidden-layer shape.
    let runs = Backend::ALL.len() * 2;
    assert_eq!((rows.len(), fresh), (runs, runs));
    for r in &rows {
        // Manual and autodiff gradients of the trained network agree in f64.
        assert!(r.gradient_error < 1e-12, "{r:?}");
        assert_eq!(r.epochs, 20);
    }
    let mut skipped = 0;
    let again = run_grid(&grid, &out, |_, s| skipped += usize::from(s)).unwrap();
    assert_eq!(
        (again.len(), skipped),
        (runs, runs),
        "a re-run skips the rows already present"
    );
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + runs, "header and one line per run");
    assert!(out.join("results.svg").is_file());
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn hyper_parameter_limits_sit_exactly_where_their_meaning_ends() {
    use manual_backprop::training::{OptimizerConfig, OptimizerKind};
    // The parameter a config is rejected for on a training set of 4, or None.
    let rejected = |config: &TrainConfig| match config.validate(4) {
        Ok(()) => None,
        Err(Error::InvalidParameter { name, .. }) => Some(name),
        Err(e) => panic!("not an InvalidParameter: {e}"),
    };
    let gd = TrainConfig::gradient_descent(1.0, 1e-4, 1);
    assert_eq!(rejected(&gd), None);
    // A mini-batch may be one example or the whole training set, nothing else.
    for (batch, verdict) in [
        (0, Some("batch_size")),
        (1, None),
        (4, None),
        (5, Some("batch_size")),
    ] {
        let config = TrainConfig {
            batch_size: Some(batch),
            ..gd.clone()
        };
        assert_eq!(rejected(&config), verdict, "batch of {batch} from 4");
    }
    // α > 0 and finite; λ ≥ 0 and finite; at least one epoch; patience ≥ 1.
    for alpha in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let config = TrainConfig {
            learning_rate: alpha,
            ..gd.clone()
        };
        assert_eq!(rejected(&config), Some("learning_rate"), "α = {alpha}");
    }
    let at_zero = TrainConfig {
        weight_decay: 0.0,
        ..gd.clone()
    };
    assert_eq!(rejected(&at_zero), None);
    assert_eq!(
        rejected(&TrainConfig {
            epochs: 0,
            ..gd.clone()
        }),
        Some("epochs")
    );
    assert_eq!(
        rejected(&TrainConfig {
            patience: Some(0),
            ..gd.clone()
        }),
        Some("patience")
    );
    assert_eq!(
        rejected(&TrainConfig {
            patience: Some(1),
            ..gd.clone()
        }),
        None
    );
    // gd multiplies every weight by 1 − αλ each step: |1 − αλ| < 1 needs αλ < 2.
    for (lambda, verdict) in [(1.99, None), (2.0, Some("lambda")), (3.0, Some("lambda"))] {
        let config = TrainConfig {
            weight_decay: lambda,
            ..gd.clone()
        };
        assert_eq!(rejected(&config), verdict, "αλ = {lambda}");
    }
    // The other rules have no such factor, and L-BFGS needs the full batch.
    let with = |kind| TrainConfig {
        optimizer: OptimizerConfig::of(kind),
        weight_decay: 2.0,
        ..gd.clone()
    };
    assert_eq!(rejected(&with(OptimizerKind::Adam)), None);
    assert_eq!(rejected(&with(OptimizerKind::Lbfgs)), None);
    let batched = TrainConfig {
        batch_size: Some(2),
        ..with(OptimizerKind::Lbfgs)
    };
    assert_eq!(rejected(&batched), Some("batch_size"));
    // Momentum and β's lie in [0, 1); Adam's ε is positive and survives f32.
    let optimizer = |f: &dyn Fn(&mut OptimizerConfig), kind| {
        let mut o = OptimizerConfig::of(kind);
        f(&mut o);
        match o.validate() {
            Ok(()) => None,
            Err(Error::InvalidParameter { name, .. }) => Some(name),
            Err(e) => panic!("{e}"),
        }
    };
    use OptimizerKind::{Adam, Momentum};
    assert_eq!(optimizer(&|o| o.momentum = 0.0, Momentum), None);
    assert_eq!(optimizer(&|o| o.momentum = 0.99, Momentum), None);
    assert_eq!(optimizer(&|o| o.momentum = 1.0, Momentum), Some("momentum"));
    assert_eq!(
        optimizer(&|o| o.momentum = -0.1, Momentum),
        Some("momentum")
    );
    assert_eq!(
        optimizer(&|o| o.momentum = f64::NAN, Momentum),
        Some("momentum")
    );
    assert_eq!(optimizer(&|o| o.beta1 = 0.0, Adam), None);
    assert_eq!(optimizer(&|o| o.beta1 = 1.0, Adam), Some("beta1"));
    assert_eq!(optimizer(&|o| o.beta2 = 1.0, Adam), Some("beta2"));
    assert_eq!(optimizer(&|o| o.beta2 = -0.5, Adam), Some("beta2"));
    assert_eq!(
        optimizer(&|o| o.adam_epsilon = 0.0, Adam),
        Some("adam_epsilon")
    );
    assert_eq!(
        optimizer(&|o| o.adam_epsilon = 1e-50, Adam),
        Some("adam_epsilon")
    );
    assert_eq!(
        optimizer(&|o| o.adam_epsilon = 1e40, Adam),
        Some("adam_epsilon")
    );
    assert_eq!(optimizer(&|o| o.adam_epsilon = 1e-30, Adam), None);
    use OptimizerKind::Lbfgs;
    assert_eq!(optimizer(&|o| o.lbfgs_history = 1, Lbfgs), None);
    assert_eq!(
        optimizer(&|o| o.lbfgs_history = 0, Lbfgs),
        Some("lbfgs_history")
    );
    assert_eq!(
        optimizer(&|o| o.tolerance_grad = 0.0, Lbfgs),
        Some("tolerance_grad")
    );
    let infinite = |o: &mut OptimizerConfig| o.tolerance_grad = f64::INFINITY;
    assert_eq!(optimizer(&infinite, Lbfgs), Some("tolerance_grad"));
    assert_eq!(
        optimizer(&|o| o.tolerance_change = -1.0, Lbfgs),
        Some("tolerance_change")
    );
    // Gradient descent has no hyper-parameter of its own to get wrong.
    assert_eq!(
        optimizer(&|o| o.momentum = f64::NAN, OptimizerKind::Gd),
        None
    );
}

#[test]
fn epoch_times_are_milliseconds_of_the_updates() {
    // An epoch's `millis` times its updates, not the metrics computed after
    // them: together they fit inside the run's wall time, and they are most
    // of it (full-batch steps cost more than the forward passes of evaluation).
    let options = TrainOptions {
        epochs: 20,
        ..TrainOptions::default()
    };
    let started = std::time::Instant::now();
    let trained = run::train(&options, keep_going).unwrap();
    let wall_ms = started.elapsed().as_secs_f64() * 1e3;
    let updates_ms: f64 = trained.outcome.history.iter().map(|r| r.millis).sum();
    assert!(
        updates_ms > wall_ms / 100.0 && updates_ms < wall_ms,
        "updates {updates_ms} ms of a {wall_ms} ms run"
    );
}
