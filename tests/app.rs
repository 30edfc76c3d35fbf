//! The subcommands are library code: each runs here without the binary.

use manual_backprop::app;
use manual_backprop::run::{DatasetKind, TrainOptions};
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
        alpha: 1.0,
        lambda: 0.0,
        init_std: 1.0,
        dtype: Precision::F64,
        optimizer: OptimizerConfig::of(OptimizerKind::Lbfgs),
        ..TrainOptions::default()
    };
    let request = app::train::TrainRequest {
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
