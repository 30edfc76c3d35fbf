//! The picture of an experiment grid (`results.svg`): one row per
//! configuration, best mean validation metric at the top; on the left the test
//! metric (accuracy or R²) as the mean over seeds (dot) with its range (bar),
//! on the right the mean milliseconds per epoch — so the best configuration,
//! its spread and its cost can be read at a glance.

use super::{Configuration, mean};
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Draws `groups` (already ranked, best first) as SVG into `path`.
pub fn draw(path: &Path, groups: &[Configuration]) -> Result<()> {
    let fail = |e: String| Error::Io {
        action: "draw",
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    };
    let rows = groups.len().max(1);
    let label_width = groups
        .iter()
        .map(|g| g.label.chars().count())
        .max()
        .unwrap_or(8) as u32
        * 7
        + 20;
    let height = 110 + 30 * rows as u32;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (820 + label_width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        let (left, right) = root.split_horizontally(label_width + 480);
        metric_panel(&left, groups, label_width).map_err(&fail)?;
        time_panel(&right, groups).map_err(&fail)?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    crate::io::write_atomic(path, svg.as_bytes())
}

/// The finite values of `values`.
fn finite(values: &[f64]) -> Vec<f64> {
    values.iter().copied().filter(|x| x.is_finite()).collect()
}

/// The smallest and largest of `values` (∞, −∞ when empty).
fn range(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        })
}

/// Picture row of `groups[i]`: the best is drawn at the top.
fn row(i: usize, rows: usize) -> f64 {
    (rows - 1 - i) as f64
}

/// The x range of the metric panel: every seed's test metric, padded by 8 %.
fn metric_axis(groups: &[Configuration]) -> std::ops::Range<f64> {
    let all: Vec<f64> = groups.iter().flat_map(|g| finite(&g.test)).collect();
    let (lo, hi) = match range(&all) {
        (lo, hi) if lo < hi => (lo, hi),
        (lo, _) if lo.is_finite() => (lo - 0.01, lo + 0.01),
        _ => (0.0, 1.0),
    };
    let pad = 0.08 * (hi - lo);
    (lo - pad)..(hi + pad)
}

/// Left panel: each configuration's test metric over seeds, labelled rows.
fn metric_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    groups: &[Configuration],
    label_width: u32,
) -> std::result::Result<(), String> {
    let rows = groups.len().max(1);
    let label_of = |y: &f64| {
        let i = rows as f64 - 1.0 - y.round();
        if (y - y.round()).abs() < 1e-6 && i >= 0.0 && (i as usize) < groups.len() {
            groups[i as usize].label.clone()
        } else {
            String::new()
        }
    };
    let mut chart = ChartBuilder::on(area)
        .caption(
            "test metric over seeds (dot: mean, bar: min–max), best validation first",
            ("sans-serif", 15),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(label_width)
        .build_cartesian_2d(metric_axis(groups), -0.5..(rows as f64 - 0.5))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .y_labels(rows * 2 + 1)
        .y_label_formatter(&label_of)
        .x_desc("test accuracy or R²")
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, g) in groups.iter().enumerate() {
        let values = finite(&g.test);
        if values.is_empty() {
            continue;
        }
        let ((min, max), y) = (range(&values), row(i, rows));
        chart
            .draw_series([PathElement::new(
                vec![(min, y), (max, y)],
                BLACK.stroke_width(2),
            )])
            .map_err(|e| e.to_string())?;
        chart
            .draw_series([Circle::new((mean(&values), y), 5, BLUE.filled())])
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Right panel: each configuration's mean milliseconds per epoch, as bars.
fn time_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    groups: &[Configuration],
) -> std::result::Result<(), String> {
    let rows = groups.len().max(1);
    let slowest = groups
        .iter()
        .map(|g| mean(&g.ms_per_epoch))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
        .max(1e-9);
    let mut times = ChartBuilder::on(area)
        .caption("ms per epoch (mean over seeds)", ("sans-serif", 15))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(10)
        .build_cartesian_2d(0.0..slowest * 1.1, -0.5..(rows as f64 - 0.5))
        .map_err(|e| e.to_string())?;
    times
        .configure_mesh()
        .disable_y_axis()
        .disable_y_mesh()
        .x_desc("milliseconds")
        .draw()
        .map_err(|e| e.to_string())?;
    times
        .draw_series(groups.iter().enumerate().map(|(i, g)| {
            let y = row(i, rows);
            let ms = mean(&g.ms_per_epoch);
            Rectangle::new([(0.0, y - 0.3), (ms, y + 0.3)], GREEN.mix(0.6).filled())
        }))
        .map_err(|e| e.to_string())?;
    Ok(())
}
