//! Bad input gets a clear error, never a panic: a corpus of malformed files
//! fed to the `backprop` binary, and fuzz-style property tests of the parsers.

mod common;

use common::backprop;
use manual_backprop::data::csv::{CsvOptions, parse as parse_csv};
use manual_backprop::data::{digits, idx};
use manual_backprop::interchange::{DataJson, ModelJson};
use manual_backprop::io::parse_json;
use manual_backprop::run::TrainOptions;
use proptest::prelude::*;
use std::path::PathBuf;

fn scratch(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mb-robust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// Runs the binary; asserts exit status 2, a message naming `needle`, no panic.
fn rejects(args: &[&str], needle: &str) {
    let out = backprop().args(args).output().expect("run backprop");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?}: status {:?}, stderr {stderr}",
        out.status
    );
    assert!(
        stderr.contains(needle),
        "{args:?}: {stderr:?} should mention {needle:?}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{args:?}: {stderr}"
    );
    assert_eq!(
        stderr.trim().lines().count(),
        1,
        "one readable line: {stderr}"
    );
}

#[test]
fn the_binary_rejects_malformed_input_with_status_2_and_a_named_problem() {
    let p = |name: &str, text: &str| scratch(name, text.as_bytes()).display().to_string();
    let model = p(
        "m.json",
        r#"{"activation": "sigmoid", "layers": [{"weight": [[1, 2], [3, 4]], "bias": [0, 0]}]}"#,
    );
    let ragged = p(
        "ragged.json",
        r#"{"activation": "sigmoid", "layers": [{"weight": [[1, 2], [3]], "bias": [0, 0]}]}"#,
    );
    let unchained = p(
        "unchained.json",
        r#"{"activation": "tanh", "layers": [{"weight": [[1, 2]], "bias": [0, 0]}, {"weight": [[1]], "bias": [0]}]}"#,
    );
    let wide_y = p("wide_y.json", r#"{"x": [[1, 2]], "y": [[1, 2, 3]]}"#);
    let empty = p("empty.json", r#"{"x": [], "y": []}"#);
    let truncated = p("trunc.json", r#"{"x": [[1, 2]], "y": [[1"#);
    let csv_text = p("bad.csv", "a,b,y\n1,2,3\n4,oops,6\n");
    let csv_ragged = p("ragged.csv", "a,b,y\n1,2,3\n4,5\n");
    let csv_nan = p("nan.csv", "a,b,y\n1,inf,3\n");
    let config = p("config.json", r#"{"alpha": 0.1, "hiden": [3]}"#);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["grads", "--model", &ragged, "--data", &wide_y],
            "layers[0].weight[1]",
        ),
        (
            vec!["grads", "--model", &unchained, "--data", &wide_y],
            "layers[1].weight",
        ),
        (vec!["grads", "--model", &model, "--data", &wide_y], "y[0]"),
        (
            vec!["grads", "--model", &model, "--data", &empty],
            "at least one row",
        ),
        (
            vec!["grads", "--model", &model, "--data", &truncated],
            "line 1",
        ),
        (
            vec!["grads", "--model", "/nonexistent/m.json", "--data", &empty],
            "/nonexistent/m.json",
        ),
        (vec!["check", "--model", &model, "--data", &wide_y], "y[0]"),
        (
            vec![
                "train",
                "--dataset",
                "csv",
                "--data",
                &csv_text,
                "--target-columns",
                "y",
            ],
            "line 3, field 2",
        ),
        (
            vec![
                "train",
                "--dataset",
                "csv",
                "--data",
                &csv_ragged,
                "--target-columns",
                "y",
            ],
            "line 3",
        ),
        (
            vec![
                "train",
                "--dataset",
                "csv",
                "--data",
                &csv_nan,
                "--target-columns",
                "y",
            ],
            "not a finite number",
        ),
        (
            vec![
                "train",
                "--dataset",
                "csv",
                "--data",
                &csv_text,
                "--target-columns",
                "q",
            ],
            "target column \"q\"",
        ),
        (
            vec!["train", "--dataset", "csv"],
            "needs --data (a CSV file) and --target-columns",
        ),
        (vec!["train", "--config", &config], "hiden"),
        (vec!["train", "--alpha", "0"], "α"),
        (vec!["train", "--lambda=-1"], "λ"),
        // The hidden layer is named as the user wrote it, not by a network of
        // stand-in sizes ("[1, 0, 1]") built before the data is loaded.
        (
            vec!["train", "--hidden", "0"],
            "hidden = 0: hidden layer 1 has zero units",
        ),
        (
            vec!["train", "--hidden", "30,0"],
            "hidden layer 2 has zero units",
        ),
        (vec!["explain", "--units", "0"], "units are numbered from 1"),
        (
            vec!["explain", "--units", "2,4"],
            "the widest layer of this 3-3-1 network has 3",
        ),
        (vec!["train", "--epochs", "0"], "at least one epoch"),
        (vec!["train", "--init-std", "0"], "init_std"),
        (vec!["train", "--batch-size", "0"], "batch_size"),
        (
            vec!["train", "--dataset", "mnist", "--mnist-dir", "/nonexistent"],
            "fetch-mnist.sh",
        ),
        (vec!["predict", "--model", "/nonexistent/run"], "model.json"),
    ];
    for (args, needle) in cases {
        rejects(&args, needle);
    }
}

#[test]
fn check_exits_0_on_pass() {
    let out = backprop()
        .args(["check", "--examples", "5", "--hidden", "3"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("PASS"));
}

#[test]
fn networks_too_large_for_memory_are_refused_before_allocating() {
    // 64-1e8-10 is 7.5e9 parameters, 30 GB in f32; 64-3e6-10 fits as
    // parameters (0.9 GB) but its full-batch activations do not (tens of GB).
    // Both used to be an abort or the kernel's OOM killer.
    // (The second under a 24G limit, the CI machine's memory, so that the
    // test means the same on a larger machine.)
    rejects(
        &["train", "--hidden", "100000000", "--quiet"],
        "needs about",
    );
    rejects(
        &[
            "train",
            "--hidden",
            "3000000",
            "--max-memory",
            "24G",
            "--quiet",
        ],
        "GB of memory, more than 25.8 GB (the --max-memory limit)",
    );
    rejects(
        &["train", "--max-memory", "1M", "--epochs", "1", "--quiet"],
        "the --max-memory limit",
    );
    rejects(&["check", "--hidden", "100000000"], "needs about");
    rejects(&["train", "--max-memory", "lots"], "max_memory");
    // The same network passes under a limit it fits in.
    let out = backprop()
        .args([
            "check",
            "--examples",
            "5",
            "--hidden",
            "3",
            "--max-memory",
            "1G",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_large_check_samples_by_default_and_says_so() {
    // 64-2000-10: 150,010 parameters, 7 minutes when every entry is checked.
    let out = backprop()
        .args(["check", "--hidden", "2000", "--examples", "10", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let sampled: Vec<u64> = report["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["differenced"].as_u64().unwrap())
        .collect();
    // 1,000 of each tensor's entries, all 10 of the last bias.
    assert_eq!(sampled, [1000, 1000, 1000, 10]);
    assert!(
        report["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("--full")),
        "{report}"
    );
}

proptest! {
    // Fuzzing by property: arbitrary bytes and mutated valid files must give
    // Ok or Err, never a panic. Counts per parser are in ProptestConfig.
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn idx_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64), magic in 0u8..5) {
        let mut file = vec![0, 0, 8, magic];
        file.extend(&bytes);
        let _ = idx::parse(&file, "fuzz");
        let _ = idx::parse(&bytes, "fuzz");
    }

    #[test]
    fn csv_parser_never_panics(text in "[0-9a-z,.\\-\\n ]{0,80}", target in "[0-9a-z]{1,2}", classify: bool) {
        let options = CsvOptions { target_columns: vec![target], classification: classify };
        if let Ok(d) = parse_csv(&text, "fuzz.csv", "fuzz", &options) {
            prop_assert!(d.validate().is_ok());
        }
    }

    #[test]
    fn digits_parser_never_panics(text in "[0-9,.\\n]{0,200}") {
        let _ = digits::parse(&text, "fuzz");
    }

    #[test]
    fn json_readers_never_panic(text in "[\\[\\]{}:,\"0-9.e\\-a-z ]{0,120}") {
        let _ = parse_json::<ModelJson>(&text, "fuzz");
        let _ = parse_json::<DataJson>(&text, "fuzz");
        let _ = parse_json::<TrainOptions>(&text, "fuzz");
    }

    #[test]
    fn mutated_model_json_is_ok_or_a_clean_error(
        w in prop::collection::vec(prop::collection::vec(-1e3f64..1e3, 0..4), 0..4),
        b in prop::collection::vec(-1e3f64..1e3, 0..4),
        w2 in prop::collection::vec(prop::collection::vec(-1e3f64..1e3, 0..4), 0..4),
    ) {
        let model = serde_json::json!({"activation": "tanh", "layers": [{"weight": w, "bias": b}, {"weight": w2, "bias": [0.0]}]});
        let device = manual_backprop::Backend::Flex.device().unwrap();
        if let Ok(m) = parse_json::<ModelJson>(&model.to_string(), "fuzz") {
            let _ = m.to_network(&device, manual_backprop::Precision::F64);
        }
    }
}

#[test]
fn conformance_prints_one_row_per_case_and_exits_0_when_all_pass() {
    let out = backprop()
        .args([
            "conformance",
            "--op",
            "matmul aᵀb",
            "--backend",
            "flex",
            "--dtype",
            "f64",
            "--quick",
            "--json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let rows: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let rows = rows.as_array().unwrap();
    // aᵀb and aᵀbᵀ, each at its six quick samples (burn#5304's shape first).
    assert_eq!(rows.len(), 12, "{stdout}");
    for row in rows {
        assert_eq!(row["verdict"], "pass", "{stdout}");
        assert_eq!(row["reference"], "ndarray", "{stdout}");
        assert!(row["worst_relative"].as_f64().unwrap() < 1e-6, "{stdout}");
    }
    let listed = backprop().args(["conformance", "--list"]).output().unwrap();
    let listing = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listing.contains("burn#5304") && listing.contains("avg_pool2d"),
        "{listing}"
    );
    rejects(&["conformance", "--op", "no such op"], "no case matches");
}

/// A backend that cannot be opened is a failing row (exit 1, `refused` in
/// the JSON), never "skipped" with exit 0.
#[test]
fn conformance_fails_on_a_backend_it_cannot_trust() {
    let out = backprop()
        .args([
            "conformance",
            "--op",
            "exp",
            "--backend",
            "ws://127.0.0.1:9",
            "--dtype",
            "f64",
            "--json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let rows: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{stdout}");
    assert_eq!(rows[0]["verdict"], "refused", "{stdout}");
}

/// `--coverage` lists burn's differentiable operations with the families
/// that reach each, and the count.
#[test]
fn conformance_lists_its_coverage() {
    let out = backprop()
        .args(["conformance", "--coverage"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("float_matmul") && stdout.contains("not swept:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("differentiable operations, layers and losses swept"),
        "{stdout}"
    );
}
