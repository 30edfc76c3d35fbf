//! Pictures of a training run: the learning curve (SVG) and the first layer's
//! weights as a grid of image tiles (PNG), the reference course's
//! "display network" view.

use crate::error::{Error, Result};
use crate::training::EpochRecord;
use plotters::prelude::*;
use std::path::Path;

/// Draws cost and accuracy (or R²) per epoch, training and validation, as SVG.
pub fn learning_curve(path: &Path, history: &[EpochRecord]) -> Result<()> {
    let fail = |e: String| Error::Io {
        action: "draw",
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 640)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        let (top, bottom) = root.split_vertically(320);
        let epochs = history.len().max(1) as f64;
        let series = |f: &dyn Fn(&EpochRecord) -> Option<f64>| -> Vec<(f64, f64)> {
            history
                .iter()
                .filter_map(|r| f(r).map(|v| (r.epoch as f64, v)))
                .collect()
        };
        // (area, title, training series, validation series)
        let panels = [
            (
                &top,
                "cost J (with decay)",
                series(&|r| Some(r.train.cost)),
                series(&|r| r.validation.as_ref().map(|v| v.cost)),
            ),
            (
                &bottom,
                if history.first().is_some_and(|r| r.train.accuracy.is_some()) {
                    "accuracy"
                } else {
                    "R²"
                },
                series(&|r| r.train.accuracy.or(r.train.r2)),
                series(&|r| r.validation.as_ref().and_then(|v| v.accuracy.or(v.r2))),
            ),
        ];
        for (area, title, train, validation) in panels {
            let values = train
                .iter()
                .chain(&validation)
                .map(|p| p.1)
                .filter(|v| v.is_finite());
            let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
            let (lo, hi) = if lo < hi {
                (lo, hi)
            } else {
                (lo - 1.0, lo + 1.0)
            };
            let pad = 0.05 * (hi - lo);
            let mut chart = ChartBuilder::on(area)
                .caption(title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(30)
                .y_label_area_size(60)
                .build_cartesian_2d(1.0..epochs.max(2.0), (lo - pad)..(hi + pad))
                .map_err(|e| fail(e.to_string()))?;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .x_label_formatter(&|x| format!("{x:.0}"))
                .draw()
                .map_err(|e| fail(e.to_string()))?;
            chart
                .draw_series(LineSeries::new(train, &BLUE))
                .map_err(|e| fail(e.to_string()))?
                .label("train")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
            if !validation.is_empty() {
                chart
                    .draw_series(LineSeries::new(validation, &RED))
                    .map_err(|e| fail(e.to_string()))?
                    .label("validation")
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
            }
            chart
                .configure_series_labels()
                .border_style(BLACK)
                .background_style(WHITE.mix(0.8))
                .draw()
                .map_err(|e| fail(e.to_string()))?;
        }
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    crate::persist::write_atomic(path, svg.as_bytes())
}

/// Writes the incoming weights of each first-layer unit as a grayscale tile
/// (`weight` is `[height·width, units]`, row-major), tiles in a square-ish grid.
///
/// Each tile is scaled by its own largest |w|: mid-grey is 0, white positive,
/// black negative, so every unit's preferred pattern is visible.
pub fn weight_tiles(
    path: &Path,
    weight: &[f64],
    units: usize,
    [height, width]: [usize; 2],
) -> Result<()> {
    let pixels = height * width;
    if units == 0 || weight.len() != pixels * units {
        return Err(Error::Shape {
            what: "first-layer weight".into(),
            expected: format!("[{pixels}, units] for {height}×{width} images"),
            got: format!("{} values for {units} units", weight.len()),
        });
    }
    let zoom = (64 / height.max(width)).clamp(1, 8);
    let cols = (units as f64).sqrt().ceil() as usize;
    let rows = units.div_ceil(cols);
    let (tile_h, tile_w) = (height * zoom + 1, width * zoom + 1);
    let (img_w, img_h) = (cols * tile_w + 1, rows * tile_h + 1);
    let mut image = vec![0u8; img_w * img_h];
    for unit in 0..units {
        let column: Vec<f64> = (0..pixels).map(|p| weight[p * units + unit]).collect();
        let max = column
            .iter()
            .fold(0.0_f64, |a, w| a.max(w.abs()))
            .max(f64::MIN_POSITIVE);
        let (top, left) = ((unit / cols) * tile_h + 1, (unit % cols) * tile_w + 1);
        for (p, w) in column.iter().enumerate() {
            let shade = (127.5 + 127.5 * w / max).round().clamp(0.0, 255.0) as u8;
            let (r, c) = (p / width, p % width);
            for dy in 0..zoom {
                let row = top + r * zoom + dy;
                let start = row * img_w + left + c * zoom;
                image[start..start + zoom].fill(shade);
            }
        }
    }
    let io = |source: std::io::Error| Error::Io {
        action: "encode",
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, img_w as u32, img_h as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| io(std::io::Error::other(e)))?;
        writer
            .write_image_data(&image)
            .map_err(|e| io(std::io::Error::other(e)))?;
    }
    crate::persist::write_atomic(path, &bytes)
}

/// Draws one row per configuration of an experiment grid, best mean
/// validation metric at the top: on the left the test metric (accuracy or
/// R²) as the mean over seeds (dot) with its range (bar), on the right the
/// mean milliseconds per epoch — so the best configuration, its spread and
/// its cost can be read at a glance.
pub fn configurations(path: &Path, groups: &[crate::experiment::Configuration]) -> Result<()> {
    use crate::experiment::mean;
    let fail = |e: String| Error::Io {
        action: "draw",
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    };
    let n = groups.len().max(1);
    let label_width = groups
        .iter()
        .map(|g| g.label.chars().count())
        .max()
        .unwrap_or(8) as u32
        * 7
        + 20;
    let height = 110 + 30 * n as u32;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (820 + label_width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        let (left, right) = root.split_horizontally(label_width + 480);
        let finite = |v: &[f64]| {
            v.iter()
                .copied()
                .filter(|x| x.is_finite())
                .collect::<Vec<_>>()
        };
        let all: Vec<f64> = groups.iter().flat_map(|g| finite(&g.test)).collect();
        let (lo, hi) = all
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let (lo, hi) = if lo < hi {
            (lo, hi)
        } else if lo.is_finite() {
            (lo - 0.01, lo + 0.01)
        } else {
            (0.0, 1.0)
        };
        let pad = 0.08 * (hi - lo);
        // Row i of the picture is groups[i]; the best is drawn at the top.
        let row = |i: usize| (n - 1 - i) as f64;
        let label_of = |y: &f64| {
            let i = n as f64 - 1.0 - y.round();
            if (y - y.round()).abs() < 1e-6 && i >= 0.0 && (i as usize) < groups.len() {
                groups[i as usize].label.clone()
            } else {
                String::new()
            }
        };
        let mut chart = ChartBuilder::on(&left)
            .caption(
                "test metric over seeds (dot: mean, bar: min–max), best validation first",
                ("sans-serif", 15),
            )
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(label_width)
            .build_cartesian_2d((lo - pad)..(hi + pad), -0.5..(n as f64 - 0.5))
            .map_err(|e| fail(e.to_string()))?;
        chart
            .configure_mesh()
            .y_labels(n * 2 + 1)
            .y_label_formatter(&label_of)
            .x_desc("test accuracy or R²")
            .draw()
            .map_err(|e| fail(e.to_string()))?;
        for (i, g) in groups.iter().enumerate() {
            let values = finite(&g.test);
            if values.is_empty() {
                continue;
            }
            let (min, max) = values
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                });
            let y = row(i);
            chart
                .draw_series([PathElement::new(
                    vec![(min, y), (max, y)],
                    BLACK.stroke_width(2),
                )])
                .map_err(|e| fail(e.to_string()))?;
            chart
                .draw_series([Circle::new((mean(&values), y), 5, BLUE.filled())])
                .map_err(|e| fail(e.to_string()))?;
        }
        let slowest = groups
            .iter()
            .map(|g| mean(&g.ms_per_epoch))
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max)
            .max(1e-9);
        let mut times = ChartBuilder::on(&right)
            .caption("ms per epoch (mean over seeds)", ("sans-serif", 15))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(10)
            .build_cartesian_2d(0.0..slowest * 1.1, -0.5..(n as f64 - 0.5))
            .map_err(|e| fail(e.to_string()))?;
        times
            .configure_mesh()
            .disable_y_axis()
            .disable_y_mesh()
            .x_desc("milliseconds")
            .draw()
            .map_err(|e| fail(e.to_string()))?;
        times
            .draw_series(groups.iter().enumerate().map(|(i, g)| {
                let y = row(i);
                let ms = mean(&g.ms_per_epoch);
                Rectangle::new([(0.0, y - 0.3), (ms, y + 0.3)], GREEN.mix(0.6).filled())
            }))
            .map_err(|e| fail(e.to_string()))?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    crate::persist::write_atomic(path, svg.as_bytes())
}
