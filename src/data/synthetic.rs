//! Small built-in problems for demos and tests.

use super::{Dataset, Targets};
use std::f64::consts::PI;

/// The four points of XOR, labels as two classes: the smallest problem a
/// network without a hidden layer cannot solve.
pub fn xor() -> Dataset {
    Dataset {
        name: "xor".into(),
        features: vec![0., 0., 0., 1., 1., 0., 1., 1.],
        n_features: 2,
        targets: Targets::Classes {
            labels: vec![0, 1, 1, 0],
            n_classes: 2,
        },
        image_shape: None,
    }
}

/// y = sin(x) on `n` evenly spaced points of [−π, π]: a smooth 1-D regression.
pub fn sine(n: usize) -> Dataset {
    let n = n.max(2);
    let xs: Vec<f64> = (0..n)
        .map(|i| -PI + 2.0 * PI * i as f64 / (n - 1) as f64)
        .collect();
    Dataset {
        name: "sine".into(),
        targets: Targets::Values {
            values: xs.iter().map(|x| x.sin()).collect(),
            n_targets: 1,
        },
        features: xs,
        n_features: 1,
        image_shape: None,
    }
}
