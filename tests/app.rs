//! The subcommands are library code: each runs here without the binary.

use manual_backprop::app;
use manual_backprop::data::DatasetKind;
use manual_backprop::gradients::GradientSource;
use manual_backprop::run::TrainOptions;
use manual_backprop::training::{OptimizerConfig, OptimizerKind};
use manual_backprop::{Activation, Backend, Precision};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

#[test]
fn train_then_export_predict_and_check_run_as_library_calls() {
    let dir = std::env::temp_dir().join(format!("mb-app-{}", std::process::id()));
    let options = TrainOptions {
        dataset: DatasetKind::Xor,
        hidden: vec![3],
        epochs: 40,
        alpha: Some(1.0),
        lambda: 0.0,
        init_std: 1.0,
        dtype: Precision::F64,
        optimizer: OptimizerConfig::of(OptimizerKind::Lbfgs),
        ..TrainOptions::default()
    };
    let request = app::train::TrainRequest {
        config: None,
        options,
        out: Some(dir.clone()),
        quiet: true,
        json: true,
    };
    let code = app::train::run(request, &AtomicBool::new(false)).unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    for file in [
        "model.bpk",
        "model.json",
        "network.json",
        "last/model.bpk",
        "summary.json",
    ] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    let exported = dir.join("exported.json");
    let code = app::export::run(app::export::ExportRequest {
        model: dir.clone(),
        out: Some(exported.clone()),
    })
    .unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    assert_eq!(
        std::fs::read_to_string(&exported).unwrap(),
        std::fs::read_to_string(dir.join("network.json")).unwrap(),
        "export-model writes the run's interchange model"
    );
    let predictions = dir.join("predictions.csv");
    let code = app::predict::run(app::predict::PredictRequest {
        model: dir.clone(),
        dataset: None,
        data: None,
        target_columns: Vec::new(),
        classify: false,
        mnist_dir: "data/mnist".into(),
        backend: Backend::Ndarray,
        out: Some(predictions.clone()),
    })
    .unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    let text = std::fs::read_to_string(&predictions).unwrap();
    assert_eq!(
        text, "prediction\n0\n1\n1\n0\n",
        "XOR learned and predicted on the other backend"
    );
    // The three-way check of a random 2-3-1 network on the XOR points.
    let code = app::check::run(app::check::CheckRequest {
        model: None,
        data: None,
        hidden: vec![3],
        dataset: DatasetKind::Xor,
        examples: 4,
        activation: Activation::Sigmoid,
        init_std: 0.5,
        lambda: 1e-3,
        epsilon: None,
        sample: None,
        full: false,
        directions: None,
        params: None,
        backend: Backend::Flex,
        dtype: Precision::F64,
        json: true,
    })
    .unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn flags_given_on_the_command_line_override_the_config_file_and_no_others() {
    let dir = std::env::temp_dir().join(format!("mb-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("options.json");
    std::fs::write(
        &config,
        r#"{"epochs": 5, "alpha": 0.1, "lambda": 0.5, "optimizer": {"kind": "adam", "beta1": 0.8}}"#,
    )
    .unwrap();
    // What clap parsed: the flags given, and defaults for the rest.
    let flags = TrainOptions {
        epochs: 7,
        lambda: 0.25,
        optimizer: OptimizerConfig::of(OptimizerKind::Momentum),
        ..TrainOptions::default()
    };
    let request = |given: &[&str]| {
        app::train::TrainRequest {
            config: Some(config.clone()),
            options: flags.clone(),
            out: None,
            quiet: true,
            json: false,
        }
        .apply_config(given)
        .unwrap()
        .options
    };
    let merged = request(&["epochs", "kind"]);
    assert_eq!(merged.epochs, 7, "given: the flag's");
    assert_eq!(
        merged.optimizer.kind,
        OptimizerKind::Momentum,
        "nested, given"
    );
    assert_eq!(merged.alpha, Some(0.1), "not given: the file's");
    assert_eq!(
        merged.lambda, 0.5,
        "not given: the file's, not the flag's default"
    );
    assert_eq!(merged.optimizer.beta1, 0.8, "nested, not given");
    assert_eq!(merged.hidden, TrainOptions::default().hidden, "in neither");
    let file_only = request(&[]);
    assert_eq!((file_only.epochs, file_only.lambda), (5, 0.5));
    // JSON holds no NaN: a non-finite flag is refused, not dropped.
    let nan = app::train::TrainRequest {
        config: Some(config.clone()),
        options: TrainOptions {
            lambda: f64::NAN,
            ..TrainOptions::default()
        },
        out: None,
        quiet: true,
        json: false,
    }
    .apply_config(&["lambda"]);
    assert!(nan.is_err());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn training_on_the_hand_written_nodes_saves_the_hand_written_runs_network_bit_for_bit() {
    // `--gradients nodes`: burn's autodiff over the layer and cost nodes gives
    // the hand-written gradients bit for bit (tests/autodiff_nodes.rs), so the
    // same run saves the same network.json, byte for byte.
    let base = std::env::temp_dir().join(format!("mb-nodes-{}", std::process::id()));
    let mut saved = Vec::new();
    for gradients in [GradientSource::Manual, GradientSource::Nodes] {
        let dir = base.join(gradients.to_string());
        let options = TrainOptions {
            dataset: DatasetKind::Xor,
            hidden: vec![3],
            epochs: 200,
            alpha: Some(2.0),
            lambda: 1e-3,
            init_std: 1.0,
            dtype: Precision::F64,
            gradients,
            ..TrainOptions::default()
        };
        let request = app::train::TrainRequest {
            config: None,
            options,
            out: Some(dir.clone()),
            quiet: true,
            json: true,
        };
        let code = app::train::run(request, &AtomicBool::new(false)).unwrap();
        assert_eq!(code, ExitCode::SUCCESS);
        saved.push(std::fs::read(dir.join("network.json")).unwrap());
    }
    assert!(
        saved[0] == saved[1],
        "network.json differs between manual and nodes"
    );
    std::fs::remove_dir_all(&base).ok();
}
