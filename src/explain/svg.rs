//! The network drawn like the reference's figure: units as circles labelled
//! with a and δ, bias units marked "+1", and edges whose width and colour
//! give each weight (left panel) and its gradient ∂J/∂W (right panel): blue
//! positive, red negative, width by |value| relative to the panel's largest.

use super::text::{Units, sup};
use super::{Explanation, LayerExplanation};
use std::fmt::Write;

/// Geometry of one panel, in SVG user units.
const COLUMN_GAP: f64 = 190.0;
const ROW_GAP: f64 = 56.0;
const RADIUS: f64 = 14.0;
const MARGIN: f64 = 70.0;
const TOP: f64 = 80.0;

/// Which numbers a panel's edges show.
#[derive(Clone, Copy)]
enum Edges {
    Weights,
    Gradients,
}

/// The explanation's network as a standalone SVG document: the weights panel
/// and the gradients panel side by side. Layers wider than [`Units::MAX`]
/// show the chosen units and say how many more there are.
pub fn to_svg(e: &Explanation, units: &Units) -> String {
    let columns = e.sizes.len();
    let panel_width = 2.0 * MARGIN + COLUMN_GAP * (columns - 1) as f64;
    let rows = e
        .sizes
        .iter()
        .map(|&s| units.shown(s).len())
        .max()
        .unwrap_or(1);
    // Shown units, a "more" line, the bias unit.
    let height = TOP + ROW_GAP * (rows + 2) as f64 + 20.0;
    let width = 2.0 * panel_width;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect x="0" y="0" width="{width:.0}" height="{height:.0}" fill="white"/>"#
    );
    panel(&mut svg, e, units, 0.0, Edges::Weights);
    panel(&mut svg, e, units, panel_width, Edges::Gradients);
    svg.push_str("</svg>\n");
    svg
}

/// Where unit `k` (0-based, among the shown) of layer column `c` sits.
fn position(left: f64, c: usize, k: usize) -> (f64, f64) {
    (
        left + MARGIN + COLUMN_GAP * c as f64,
        TOP + ROW_GAP * k as f64,
    )
}

fn panel(svg: &mut String, e: &Explanation, units: &Units, left: f64, edges: Edges) {
    let title = match edges {
        Edges::Weights => "weights W⁽ˡ⁾ and biases b⁽ˡ⁾ (blue: positive, red: negative)",
        Edges::Gradients => "gradients ∂J/∂W⁽ˡ⁾ and ∂J/∂b⁽ˡ⁾ (blue: positive, red: negative)",
    };
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="24" font-size="14">{title}</text>"#,
        left + 20.0
    );
    let scale = e
        .layers
        .iter()
        .map(|l| largest(edge_values(l, edges)))
        .fold(f64::MIN_POSITIVE, f64::max);
    for (l, layer) in e.layers.iter().enumerate() {
        layer_edges(svg, e, units, left, l, layer, edges, scale);
    }
    for (c, &size) in e.sizes.iter().enumerate() {
        layer_units(svg, e, units, left, c, size);
    }
}

/// The values an edge shows: (W, b) or (∂J/∂W, ∂J/∂b).
fn edge_values(layer: &LayerExplanation, edges: Edges) -> (&Vec<Vec<f64>>, &Vec<f64>) {
    match edges {
        Edges::Weights => (&layer.weight, &layer.bias),
        Edges::Gradients => (&layer.grad_weight, &layer.grad_bias),
    }
}

fn largest((matrix, bias): (&Vec<Vec<f64>>, &Vec<f64>)) -> f64 {
    crate::tensor::max_abs(matrix.iter().flatten().chain(bias))
}

/// Edges from the shown units (and the bias unit) of column `l` to the shown
/// units of column `l + 1`.
#[allow(clippy::too_many_arguments)]
fn layer_edges(
    svg: &mut String,
    e: &Explanation,
    units: &Units,
    left: f64,
    l: usize,
    layer: &LayerExplanation,
    edges: Edges,
    scale: f64,
) {
    let (matrix, bias) = edge_values(layer, edges);
    let from = units.shown(e.sizes[l]);
    let to = units.shown(e.sizes[l + 1]);
    let bias_row = bias_row(&from, e.sizes[l]);
    for (ki, &i) in to.iter().enumerate() {
        let (x2, y2) = position(left, l + 1, ki);
        for (kj, &j) in from.iter().enumerate() {
            let (x1, y1) = position(left, l, kj);
            line(svg, (x1, y1), (x2, y2), matrix[i][j], scale);
        }
        let (x1, y1) = position(left, l, bias_row);
        line(svg, (x1, y1), (x2, y2), bias[i], scale);
    }
}

/// The bias unit's row: below the shown units, and below the "more" note if any.
fn bias_row(shown: &[usize], size: usize) -> usize {
    shown.len() + usize::from(shown.len() < size)
}

fn line(svg: &mut String, (x1, y1): (f64, f64), (x2, y2): (f64, f64), value: f64, scale: f64) {
    let colour = if value >= 0.0 { "#1f77b4" } else { "#d62728" };
    let width = 0.3 + 4.0 * value.abs() / scale;
    let _ = writeln!(
        svg,
        r#"<line x1="{:.1}" y1="{y1:.1}" x2="{:.1}" y2="{y2:.1}" stroke="{colour}" stroke-width="{width:.2}" stroke-opacity="0.7"><title>{value:.4e}</title></line>"#,
        x1 + RADIUS,
        x2 - RADIUS
    );
}

/// The circles of column `c`: its shown units labelled with a and δ, a note
/// of the hidden ones, and (but for the output layer) its bias unit "+1".
fn layer_units(svg: &mut String, e: &Explanation, units: &Units, left: f64, c: usize, size: usize) {
    let shown = units.shown(size);
    let (cx, _) = position(left, c, 0);
    let caption = if c == 0 {
        "layer 1 (input)".to_string()
    } else if c + 1 == e.sizes.len() {
        format!("layer {} (output)", c + 1)
    } else {
        format!("layer {}", c + 1)
    };
    let _ = writeln!(
        svg,
        r#"<text x="{cx:.1}" y="{:.1}" font-size="12" text-anchor="middle">{caption}</text>"#,
        TOP - 34.0
    );
    for (k, &i) in shown.iter().enumerate() {
        let (x, y) = position(left, c, k);
        let (a, delta) = if c == 0 {
            (e.x[i], None)
        } else {
            let layer = &e.layers[c - 1];
            (layer.a[i], Some(layer.delta[i]))
        };
        let _ = writeln!(
            svg,
            r#"<circle class="unit" cx="{x:.1}" cy="{y:.1}" r="{RADIUS}" fill="white" stroke="black"><title>unit {} of layer {}</title></circle>"#,
            i + 1,
            c + 1
        );
        let _ = writeln!(
            svg,
            r#"<text x="{x:.1}" y="{:.1}" font-size="8" text-anchor="middle">{}</text>"#,
            y + 4.0,
            i + 1
        );
        let mut label = format!("a{}={a:.2e}", sup(c + 1));
        if let Some(d) = delta {
            let _ = write!(label, " δ={d:.2e}");
        }
        let _ = writeln!(
            svg,
            r#"<text x="{x:.1}" y="{:.1}" font-size="8" text-anchor="middle">{label}</text>"#,
            y + RADIUS + 10.0
        );
    }
    if shown.len() < size {
        let (x, y) = position(left, c, shown.len());
        let _ = writeln!(
            svg,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="11" text-anchor="middle">⋮ {} more</text>"#,
            size - shown.len()
        );
    }
    if c + 1 < e.sizes.len() {
        let (x, y) = position(left, c, bias_row(&shown, size));
        let _ = writeln!(
            svg,
            r##"<circle class="bias" cx="{x:.1}" cy="{y:.1}" r="{RADIUS}" fill="#eeeeee" stroke="black"/>"##
        );
        let _ = writeln!(
            svg,
            r#"<text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">+1</text>"#,
            y + 4.0
        );
    }
}
