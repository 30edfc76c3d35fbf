//! The explanation as text: each table under the formula it evaluates, in
//! aligned columns no wider than 100 characters.

use super::{Explanation, LayerExplanation};
use crate::activation::Activation;
use std::fmt::Write;

/// Which units to show of each layer: at most [`Units::MAX`] in full, the
/// rest summarised.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Units {
    /// 1-based unit numbers to show in every layer that has them; `None` for
    /// the first [`Units::MAX`].
    pub chosen: Option<Vec<usize>>,
}

impl Units {
    /// The most units shown of one layer: ten columns of numbers fit in 100
    /// characters.
    pub const MAX: usize = 10;

    /// The 0-based indices shown of a layer of `n` units.
    pub fn shown(&self, n: usize) -> Vec<usize> {
        match &self.chosen {
            None => (0..n.min(Self::MAX)).collect(),
            Some(units) => {
                let mut shown: Vec<usize> = units
                    .iter()
                    .filter(|&&u| (1..=n).contains(&u))
                    .map(|u| u - 1)
                    .collect();
                shown.sort_unstable();
                shown.dedup();
                shown.truncate(Self::MAX);
                shown
            }
        }
    }
}

/// Column width of a number in a row or a matrix: ten of them and a label
/// fit in 100 characters.
const CELL: usize = 9;

/// Column width of a per-unit table, which has at most three columns.
const TABLE_CELL: usize = 14;

/// The explanation as text (see the module docs).
pub fn render(e: &Explanation, units: &Units) -> String {
    let mut out = String::new();
    header(&mut out, e, units);
    out.push_str("\nforward pass\n");
    for (l, layer) in e.layers.iter().enumerate() {
        forward_layer(&mut out, l, layer, units);
    }
    let n_l = e.sizes.len();
    let _ = writeln!(
        out,
        "h(x) = a{}; J = ½‖h(x) − y‖² + (λ/2) Σ W² = {:.6e}",
        sup(n_l),
        e.cost
    );
    out.push_str("\nbackward pass (the crate's hand-written backward)\n");
    for l in (0..e.layers.len()).rev() {
        delta_layer(&mut out, e, l, units);
    }
    out.push_str("\ngradients (one example, m = 1)\n");
    for l in (0..e.layers.len()).rev() {
        gradient_layer(&mut out, e, l, units);
    }
    let _ = writeln!(
        out,
        "\nburn-autodiff's gradients of the same J {}: worst element-wise relative difference {:.1e}",
        if e.autodiff.passed {
            "equal these"
        } else {
            "DIFFER from these"
        },
        e.autodiff.max_relative_difference
    );
    out
}

fn header(out: &mut String, e: &Explanation, units: &Units) {
    let sizes: Vec<String> = e.sizes.iter().map(usize::to_string).collect();
    let activations: Vec<String> = e.layers.iter().map(|l| l.activation.to_string()).collect();
    let mut distinct = activations.clone();
    distinct.dedup();
    let _ = writeln!(
        out,
        "backpropagation of one example through a {} network ({}, {}, λ = {})",
        sizes.join("-"),
        distinct.join("/"),
        e.precision,
        crate::error::readable(e.weight_decay)
    );
    out.push_str(
        "notation of docs/maths.md: layer 1 is the input; W⁽ˡ⁾ maps layer l to l+1 (row i: unit i of\n\
         layer l+1; the code stores its transpose, `weight`); δ⁽ˡ⁾ is the error of layer l's units\n\n",
    );
    vector_line(out, &format!("x = a{}", sup(1)), &e.x, units);
    vector_line(out, "y", &e.y, units);
}

/// A labelled row of the shown entries of `values`, and a summary of the rest.
fn vector_line(out: &mut String, label: &str, values: &[f64], units: &Units) {
    let shown = units.shown(values.len());
    let cells: String = shown.iter().map(|&i| cell(values[i])).collect();
    let _ = writeln!(out, "{label:<10}{cells}");
    if shown.len() < values.len() {
        let _ = writeln!(
            out,
            "{:<10}(units {} of {}; {})",
            "",
            unit_list(&shown),
            values.len(),
            rest_summary(values, &shown, "|value|")
        );
    }
}

fn forward_layer(out: &mut String, l: usize, layer: &LayerExplanation, units: &Units) {
    let (lo, hi) = (l + 1, l + 2);
    let _ = writeln!(
        out,
        "z{h} = W{lo_} a{lo_} + b{lo_},   a{h} = f(z{h}) = {}",
        activation_formula(layer.activation, &sup(hi)),
        h = sup(hi),
        lo_ = sup(lo)
    );
    let columns = [
        (format!("z{}", sup(hi)), &layer.z),
        (format!("a{}", sup(hi)), &layer.a),
    ];
    table(out, &columns, units, "|a|");
}

fn delta_layer(out: &mut String, e: &Explanation, l: usize, units: &Units) {
    let layer = &e.layers[l];
    let (here, above) = (sup(l + 2), sup(l + 3));
    let derivative = match layer.activation {
        Activation::Sigmoid => "a(1 − a)",
        Activation::Tanh => "1 − a²",
    };
    let upstream_label = if l + 1 == e.layers.len() {
        let _ = writeln!(
            out,
            "δ{here} = −(y − a{here}) ∘ f′(z{here}),   f′(z{here}) = {derivative} from the cached a{here}"
        );
        format!("a{here} − y")
    } else {
        let _ = writeln!(
            out,
            "δ{here} = ((W{here})ᵀ δ{above}) ∘ f′(z{here}),   f′(z{here}) = {derivative} from the cached a{here};"
        );
        let _ = writeln!(
            out,
            "      (W{here})ᵀδ{above} is δ{above} · weightᵀ with examples as rows: the stored \
             `layers.{}.weight` is (W{here})ᵀ",
            l + 1
        );
        format!("(W{here})ᵀδ{above}")
    };
    let columns = [
        (upstream_label, &layer.upstream),
        (derivative.to_string(), &layer.f_prime),
        (format!("δ{here}"), &layer.delta),
    ];
    table(out, &columns, units, "|δ|");
}

fn gradient_layer(out: &mut String, e: &Explanation, l: usize, units: &Units) {
    let layer = &e.layers[l];
    let (w, below, above) = (sup(l + 1), sup(l + 1), sup(l + 2));
    let _ = writeln!(
        out,
        "∂J/∂W{w} = δ{above} (a{below})ᵀ + λ W{w}     row i: unit of layer {}, column j: unit of layer {}",
        l + 2,
        l + 1
    );
    matrix(out, &layer.grad_weight, units);
    let decay: Vec<f64> = layer.weight_decay_term.iter().flatten().copied().collect();
    let (k, largest) = largest_abs(&decay, &[]);
    let columns = layer.weight[0].len();
    let _ = writeln!(
        out,
        "       of which λ W{w} is at most {largest:.3e} (entry ({}, {})); the rest is δ{above} (a{below})ᵀ",
        k / columns + 1,
        k % columns + 1
    );
    let _ = writeln!(out, "∂J/∂b{w} = δ{above}   (no decay on biases)");
    vector_line(out, "", &layer.grad_bias, units);
}

/// Columns of per-unit numbers, one row per shown unit.
fn table(out: &mut String, columns: &[(String, &Vec<f64>)], units: &Units, summarised: &str) {
    let n = columns[0].1.len();
    let shown = units.shown(n);
    let mut line = format!("{:>6}", "unit");
    for (label, _) in columns {
        let _ = write!(line, "{label:>w$}", w = CELL + 3);
    }
    let _ = writeln!(out, "{line}");
    for &i in &shown {
        let mut line = format!("{:>6}", i + 1);
        for (_, values) in columns {
            let _ = write!(line, "{:>w$}", format!("{:.4e}", values[i]), w = TABLE_CELL);
        }
        let _ = writeln!(out, "{line}");
    }
    if shown.len() < n {
        let last = columns[columns.len() - 1].1;
        let _ = writeln!(
            out,
            "{:>6}  {}",
            "…",
            rest_summary(last, &shown, summarised)
        );
    }
}

/// The shown rows and columns of a matrix in the reference's orientation.
fn matrix(out: &mut String, m: &[Vec<f64>], units: &Units) {
    let (rows, cols) = (units.shown(m.len()), units.shown(m[0].len()));
    let mut line = format!("{:>6}", "i\\j");
    for &j in &cols {
        let _ = write!(line, "{:>CELL$}", j + 1);
    }
    let _ = writeln!(out, "{line}");
    for &i in &rows {
        let cells: String = cols.iter().map(|&j| cell(m[i][j])).collect();
        let _ = writeln!(out, "{:>6}{cells}", i + 1);
    }
    if rows.len() < m.len() || cols.len() < m[0].len() {
        let all: Vec<f64> = m.iter().flatten().copied().collect();
        let (k, largest) = largest_abs(&all, &[]);
        let _ = writeln!(
            out,
            "{:>6}  {} of {} × {} entries shown; the largest |entry| is {largest:.4e} at ({}, {})",
            "…",
            rows.len() * cols.len(),
            m.len(),
            m[0].len(),
            k / m[0].len() + 1,
            k % m[0].len() + 1
        );
    }
}

/// A number in a column of [`CELL`] characters.
fn cell(v: f64) -> String {
    format!("{:>w$}", format!("{v:.2e}"), w = CELL)
}

/// "largest |δ| of the other 54 units: 1.2e-3 at unit 17".
fn rest_summary(values: &[f64], shown: &[usize], what: &str) -> String {
    let (k, largest) = largest_abs(values, shown);
    format!(
        "the other {}: largest {what} {largest:.3e} at unit {}",
        values.len() - shown.len(),
        k + 1
    )
}

/// The index and |value| of the largest entry not in `skip`.
fn largest_abs(values: &[f64], skip: &[usize]) -> (usize, f64) {
    values
        .iter()
        .enumerate()
        .filter(|(i, _)| !skip.contains(i))
        .map(|(i, v)| (i, v.abs()))
        .fold(
            (0, 0.0),
            |best, (i, v)| if v > best.1 { (i, v) } else { best },
        )
}

/// "1–10", or "2, 5, 9" when the shown units are not a run.
fn unit_list(shown: &[usize]) -> String {
    let run = shown.windows(2).all(|w| w[1] == w[0] + 1);
    match (shown.first(), shown.last()) {
        (Some(first), Some(last)) if run && shown.len() > 2 => {
            format!("{}–{}", first + 1, last + 1)
        }
        _ => {
            let numbers: Vec<String> = shown.iter().map(|i| (i + 1).to_string()).collect();
            numbers.join(", ")
        }
    }
}

fn activation_formula(activation: Activation, z: &str) -> String {
    match activation {
        Activation::Sigmoid => format!("1 / (1 + exp(−z{z}))"),
        Activation::Tanh => format!("tanh(z{z})"),
    }
}

/// `(n)` as superscript, the reference's layer index: `⁽³⁾`.
pub(super) fn sup(n: usize) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let digits: String = n
        .to_string()
        .chars()
        .map(|c| DIGITS[c.to_digit(10).expect("a digit") as usize])
        .collect();
    format!("⁽{digits}⁾")
}
