//! The benchmark helpers behind `backprop bench`: they run, report sane
//! numbers, and count FLOPs as the performance issue defines them. Timings
//! themselves are never asserted here (speed claims come from the bench).

use manual_backprop::bench::{self, Shape};
use manual_backprop::gradients::GradientSource;
use manual_backprop::{Backend, Precision};

fn tiny() -> Shape {
    Shape {
        name: "tiny".into(),
        sizes: vec![6, 5, 3],
        m: 7,
    }
}

#[test]
fn flops_follow_the_issue_formula() {
    // digits 64-25-10, m = 1797, by hand: forward 2·1797·(64·25 + 25·10)
    // = 6,648,900; weight gradients the same; deltas sent down (all layers but
    // the first) 2·1797·25·10 = 898,500. Total 14,196,300.
    let digits = bench::shapes()
        .into_iter()
        .find(|s| s.name == "digits")
        .unwrap();
    assert_eq!(digits.flops(), 14_196_300.0);
    // tiny 6-5-3, m = 7: 2·7·(30 + 15)·2 + 2·7·15 = 1260 + 210.
    assert_eq!(tiny().flops(), 1470.0);
}

#[test]
fn a_measurement_runs_on_every_backend_and_reports_positive_times() {
    for backend in Backend::ALL {
        for precision in Precision::ALL {
            let row = bench::measure(&tiny(), &backend, precision, 1, 3).unwrap();
            let gemm = bench::gemm_gflops(&backend, precision, 32, 2).unwrap();
            for (what, value) in [
                ("manual", row.manual_ms),
                ("autodiff", row.autodiff_ms),
                ("ratio", row.ratio),
                ("nodes", row.nodes_ms),
                ("nodes ratio", row.nodes_ratio),
                ("forward", row.forward_ms),
                ("forward kernels", row.forward_kernels_ms),
                ("backward kernels", row.backward_kernels_ms),
                ("bound", row.ratio_bound()),
                ("gemm", gemm),
            ] {
                assert!(
                    value.is_finite() && value > 0.0,
                    "{backend} {precision}: {what} = {value}"
                );
            }
        }
    }
}

#[test]
fn a_benchmark_step_lowers_the_cost_with_either_gradient() {
    // The step the bench times is a real descent step: from the same start,
    // manual, autodiff and node steps give the same cost and all lower it.
    let (net, x, y) = tiny().setup(&Backend::Flex, Precision::F64).unwrap();
    let before = net.cost(x.clone(), y.clone(), bench::WEIGHT_DECAY).unwrap();
    let mut after = Vec::new();
    let methods = [
        GradientSource::Manual,
        GradientSource::Autodiff,
        GradientSource::Nodes,
    ];
    for method in methods {
        let (stepped, cost) = bench::step(method, net.clone(), &x, &y).unwrap();
        // `step` reports the cost it differentiated, i.e. at the starting point.
        assert_eq!(cost, before, "{method:?}");
        after.push(
            stepped
                .cost(x.clone(), y.clone(), bench::WEIGHT_DECAY)
                .unwrap(),
        );
    }
    assert!(after[0] < before, "manual step: {before} -> {}", after[0]);
    // Same update from gradients that agree to ~1e-15 relative (f64).
    for other in &after[1..] {
        assert!((after[0] - other).abs() <= 1e-12 * before, "{after:?}");
    }
}

#[test]
fn the_epoch_row_trains_whole_epochs_and_reports_their_times() {
    // A small stand-in for MNIST: the row's network (784 → 300 → classes)
    // on 100 digits-like examples, one unmeasured and one timed epoch of
    // m = 32, i.e. 4 steps (the last one of 4 examples).
    let mut data = bench::epoch_data(std::path::Path::new("no-such-directory")).unwrap();
    assert_eq!(data.name, "synthetic-mnist");
    assert_eq!((data.len(), data.n_features), (bench::EPOCH_EXAMPLES, 784));
    let keep = 100;
    data.features.truncate(keep * data.n_features);
    if let manual_backprop::data::Targets::Classes { labels, .. } = &mut data.targets {
        labels.truncate(keep);
    }
    let row = bench::measure_epoch(&data, &Backend::Flex, Precision::F32, 1, 1).unwrap();
    assert_eq!(row.steps, 4);
    for (what, value) in [
        ("manual", row.manual_ms),
        ("autodiff", row.autodiff_ms),
        ("ratio", row.ratio),
        ("nodes", row.nodes_ms),
        ("nodes ratio", row.nodes_ratio),
    ] {
        assert!(value.is_finite() && value > 0.0, "{what} = {value}");
    }
}
