//! `backprop explain`: the numbers it prints and writes are the network's own
//! gradients of that one example, and its picture holds what it says.

mod common;

use common::backprop;
use manual_backprop::data::DataSource;
use manual_backprop::data::DatasetKind;
use manual_backprop::explain::{Explanation, Units, reference_example, render, to_svg};
use manual_backprop::run::{self, TrainOptions};
use manual_backprop::{Backend, Network, Precision, persist, tensor};
use std::ops::ControlFlow;
use std::path::Path;

/// J and ∂J/∂θ of one example by `Network::gradients`, the reference for
/// every number `explain` shows; weights in the reference's orientation.
fn gradients_of(
    net: &Network,
    x: &[f64],
    y: &[f64],
    lambda: f64,
) -> (Vec<Vec<Vec<f64>>>, Vec<Vec<f64>>) {
    let (device, p) = (net.device(), net.precision().unwrap());
    let row = |v: &[f64]| tensor::matrix("row", v.to_vec(), [1, v.len()], &device, p).unwrap();
    let grads = net.gradients(row(x), row(y), lambda).unwrap();
    let weights = grads
        .layers
        .iter()
        .map(|g| {
            let [rows, cols] = g.weight.dims();
            let v = tensor::to_vec(&g.weight).unwrap();
            (0..cols)
                .map(|i| (0..rows).map(|j| v[j * cols + i]).collect())
                .collect()
        })
        .collect();
    let biases = grads
        .layers
        .iter()
        .map(|g| tensor::to_vec(&g.bias).unwrap())
        .collect();
    (weights, biases)
}

/// The ∂J/∂W⁽ˡ⁾ tables of the text, top (output side) first: each row's numbers.
fn printed_weight_gradients(text: &str) -> Vec<Vec<Vec<f64>>> {
    let mut tables = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with("∂J/∂W") {
            continue;
        }
        lines.next(); // the column numbers
        let mut rows = Vec::new();
        while let Some(row) = lines
            .peek()
            .filter(|l| l.trim_start().starts_with(char::is_numeric))
        {
            let numbers = row
                .split_whitespace()
                .skip(1)
                .map(|c| c.parse().unwrap())
                .collect();
            rows.push(numbers);
            lines.next();
        }
        tables.push(rows);
    }
    tables
}

/// `printed` is `exact` rounded to three significant digits (`{:.2e}`).
fn agrees_to_print_precision(printed: f64, exact: f64) -> bool {
    let half_digit = 0.5 * 10f64.powi(exact.abs().log10().floor() as i32 - 2);
    (printed - exact).abs() <= half_digit * (1.0 + 1e-9) || exact == 0.0 && printed == 0.0
}

#[test]
fn the_default_network_shows_its_own_gradients_and_the_recursion_holds() {
    let device = Backend::Flex.device().unwrap();
    let (net, x, y) = reference_example(&device).unwrap();
    let lambda = 1e-3;
    let e = Explanation::of(&net, &x, &y, lambda).unwrap();
    let (weights, biases) = gradients_of(&net, &x, &y, lambda);
    // The trace runs the very code of Network::gradients: equal to the bit.
    for (l, layer) in e.layers.iter().enumerate() {
        assert_eq!(layer.grad_weight, weights[l], "∂J/∂W of layer {l}");
        assert_eq!(layer.grad_bias, biases[l], "∂J/∂b of layer {l}");
        // m = 1, by hand: ∇b = δ, ∇W = δ aᵀ + λW, each data entry one product.
        assert_eq!(layer.grad_bias, layer.delta);
        let a_below = if l == 0 { &e.x } else { &e.layers[l - 1].a };
        for (i, row) in layer.grad_weight_data.iter().enumerate() {
            for (j, &g) in row.iter().enumerate() {
                assert_eq!(g, layer.delta[i] * a_below[j], "δaᵀ at ({i}, {j})");
                assert_eq!(layer.weight_decay_term[i][j], lambda * layer.weight[i][j]);
                assert_eq!(layer.grad_weight[i][j], g + layer.weight_decay_term[i][j]);
            }
        }
        // δ = upstream ∘ f′, f′ = a(1 − a) from the cached a.
        for (i, &d) in layer.delta.iter().enumerate() {
            assert_eq!(layer.f_prime[i], layer.a[i] * (1.0 - layer.a[i]));
            assert!(
                (d - layer.upstream[i] * layer.f_prime[i]).abs() <= 1e-15 * d.abs().max(1e-300)
            );
        }
    }
    // The output layer's upstream term is a − y; J by hand.
    let out = e.layers.last().unwrap();
    assert_eq!(out.upstream[0], out.a[0] - y[0]);
    let decay: f64 = e
        .layers
        .iter()
        .flat_map(|l| l.weight.iter().flatten())
        .map(|w| w * w)
        .sum();
    let cost = 0.5 * (out.a[0] - y[0]).powi(2) + 0.5 * lambda * decay;
    assert!((e.cost - cost).abs() <= 1e-15, "{} vs {cost}", e.cost);
    assert!(e.autodiff.passed && e.autodiff.max_relative_difference < 1e-12);

    // What is printed is those numbers, to the digits printed.
    let text = render(&e, &Units::default());
    let printed = printed_weight_gradients(&text);
    assert_eq!(printed.len(), 2);
    for (table, l) in printed.iter().zip([1, 0]) {
        assert_eq!(table.len(), weights[l].len());
        for (i, row) in table.iter().enumerate() {
            for (j, &p) in row.iter().enumerate() {
                assert!(
                    agrees_to_print_precision(p, weights[l][i][j]),
                    "W{l} ({i}, {j}): {p} vs {}",
                    weights[l][i][j]
                );
            }
        }
    }
    assert!(text.contains("δ⁽²⁾ = ((W⁽²⁾)ᵀ δ⁽³⁾) ∘ f′(z⁽²⁾)"), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");

    // JSON keeps every number exactly.
    let json: Explanation = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
    assert_eq!(json, e);

    // One circle per shown unit in each of the two panels, a bias unit per layer below the output.
    let svg = to_svg(&e, &Units::default());
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let circles = |class: &str| {
        doc.descendants()
            .filter(|n| n.has_tag_name("circle") && n.attribute("class") == Some(class))
            .count()
    };
    assert_eq!(circles("unit"), 2 * (3 + 3 + 1));
    assert_eq!(circles("bias"), 2 * 2);
}

fn train_digits(dir: &Path) {
    let options = TrainOptions {
        epochs: 30,
        ..TrainOptions::default()
    };
    let trained = run::train(&options, |_| ControlFlow::Continue(())).unwrap();
    run::save_run(dir, &options, &trained).unwrap();
}

#[test]
fn a_saved_digits_model_is_explained_by_the_binary_with_its_own_gradients() {
    let dir = std::env::temp_dir().join(format!("mb-explain-{}", std::process::id()));
    train_digits(&dir);
    let svg = dir.join("explain.svg");
    let (example, lambda) = (17, 3e-4);
    let run = |extra: &[&str]| {
        let out = backprop()
            .args([
                "explain",
                "--model",
                dir.to_str().unwrap(),
                "--example",
                "17",
            ])
            .args(["--lambda", "3e-4", "--svg", svg.to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let json: Explanation = serde_json::from_str(&run(&["--json"])).unwrap();
    let text = run(&[]);

    // The reference: the saved model's gradients of that example, preprocessed as training saw it.
    let device = Backend::Flex.device().unwrap();
    let (net, meta) = persist::load(&dir, &device).unwrap();
    let data = DataSource::new(DatasetKind::Digits).examples().unwrap();
    let one = data.subset("one", &[example]);
    let (x, y) = (
        meta.preprocessing.inputs(&one).unwrap(),
        meta.preprocessing.outputs(&one).unwrap(),
    );
    let (weights, biases) = gradients_of(&net, &x, &y, lambda);
    assert_eq!(json.x, x);
    assert_eq!(json.precision, Precision::F32);
    for (l, layer) in json.layers.iter().enumerate() {
        assert_eq!(layer.grad_weight, weights[l], "layer {l}");
        assert_eq!(layer.grad_bias, biases[l], "layer {l}");
    }
    // Ten units a layer are printed; each printed gradient is the model's to three digits.
    let printed = printed_weight_gradients(&text);
    for (table, l) in printed.iter().zip([1, 0]) {
        assert_eq!((table.len(), table[0].len()), (10, 10));
        for (i, row) in table.iter().enumerate() {
            for (j, &p) in row.iter().enumerate() {
                assert!(
                    agrees_to_print_precision(p, weights[l][i][j]),
                    "W{l} ({i}, {j})"
                );
            }
        }
    }
    assert!(
        text.contains("the other 54: largest"),
        "the input layer is summarised"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
    // 10 of 64, 10 of 30 and all 10 units in each panel.
    let svg = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let units = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle") && n.attribute("class") == Some("unit"))
        .count();
    assert_eq!(units, 2 * 30);
    assert!(svg.contains("⋮ 54 more") && svg.contains("⋮ 20 more"));
    std::fs::remove_dir_all(&dir).ok();
}

/// Without --lambda, a run's model is explained with the λ it was trained
/// with (its options.json) — the run's own cost — and its `last/` model too;
/// --lambda still overrides it, and the default network keeps 0.001.
#[test]
fn a_runs_model_is_explained_with_the_lambda_it_was_trained_with() {
    let dir = std::env::temp_dir().join(format!("mb-explain-lambda-{}", std::process::id()));
    let options = TrainOptions {
        epochs: 2,
        lambda: 0.25,
        ..TrainOptions::default()
    };
    let trained = run::train(&options, |_| ControlFlow::Continue(())).unwrap();
    run::save_run(&dir, &options, &trained).unwrap();
    let lambda_of = |model: &Path, extra: &[&str]| {
        let out = backprop()
            .args(["explain", "--json", "--model", model.to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        serde_json::from_slice::<Explanation>(&out.stdout)
            .unwrap()
            .weight_decay
    };
    assert_eq!(lambda_of(&dir, &[]), 0.25);
    assert_eq!(lambda_of(&dir.join("last"), &[]), 0.25);
    assert_eq!(lambda_of(&dir, &["--lambda", "0.5"]), 0.5);
    std::fs::remove_dir_all(&dir).ok();
    let out = backprop().args(["explain", "--json"]).output().unwrap();
    let default: Explanation = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(default.weight_decay, 1e-3);
}

#[test]
fn chosen_units_are_shown_in_order_once_and_only_where_they_exist() {
    let units = Units {
        chosen: Some(vec![12, 3, 70, 1, 3]),
    };
    assert_eq!(units.shown(64), vec![0, 2, 11]);
    assert_eq!(units.shown(10), vec![0, 2]);
    assert_eq!(Units::default().shown(64), (0..10).collect::<Vec<_>>());
    assert_eq!(Units::default().shown(3), vec![0, 1, 2]);
}

#[test]
fn an_example_outside_the_data_is_an_error_naming_the_rows() {
    let out = backprop()
        .args(["explain", "--example", "3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--example picks a row"), "{err}");
}

#[test]
fn a_json_model_on_json_data_is_explained_on_the_chosen_row() {
    let device = Backend::Flex.device().unwrap();
    let (net, _, _) = reference_example(&device).unwrap();
    let dir = std::env::temp_dir().join(format!("mb-explain-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (model, data) = (dir.join("net.json"), dir.join("data.json"));
    let json = serde_json::to_string(
        &manual_backprop::interchange::ModelJson::from_network(&net).unwrap(),
    )
    .unwrap();
    std::fs::write(&model, json).unwrap();
    std::fs::write(
        &data,
        r#"{"x": [[0.1, 0.2, 0.3], [0.9, -0.4, 0.25]], "y": [[0.0], [1.0]]}"#,
    )
    .unwrap();
    let explain = |row: &str| {
        backprop()
            .args(["explain", "--model", model.to_str().unwrap()])
            .args([
                "--data",
                data.to_str().unwrap(),
                "--example",
                row,
                "--lambda",
                "0.01",
                "--json",
            ])
            .output()
            .unwrap()
    };
    let out = explain("1");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let e: Explanation = serde_json::from_slice(&out.stdout).unwrap();
    let (x, y) = ([0.9, -0.4, 0.25], [1.0]);
    assert_eq!((e.x.as_slice(), e.y.as_slice()), (&x[..], &y[..]));
    let (weights, biases) = gradients_of(&net, &x, &y, 0.01);
    for (l, layer) in e.layers.iter().enumerate() {
        assert_eq!(layer.grad_weight, weights[l]);
        assert_eq!(layer.grad_bias, biases[l]);
    }
    let out = explain("2");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the data has 2 examples"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
