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
    let series = |f: &dyn Fn(&EpochRecord) -> Option<f64>| -> Vec<(f64, f64)> {
        history
            .iter()
            .filter_map(|r| f(r).map(|v| (r.epoch as f64, v)))
            .collect()
    };
    let metric = if history.first().is_some_and(|r| r.train.accuracy.is_some()) {
        "accuracy"
    } else {
        "R²"
    };
    let epochs = history.len().max(1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 640)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        let (top, bottom) = root.split_vertically(320);
        let cost = Panel {
            title: "cost J (with decay)",
            train: series(&|r| Some(r.train.cost)),
            validation: series(&|r| r.validation.as_ref().map(|v| v.cost)),
        };
        let score = Panel {
            title: metric,
            train: series(&|r| r.train.accuracy.or(r.train.r2)),
            validation: series(&|r| r.validation.as_ref().and_then(|v| v.accuracy.or(v.r2))),
        };
        cost.draw(&top, epochs).map_err(&fail)?;
        score.draw(&bottom, epochs).map_err(&fail)?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    crate::io::write_atomic(path, svg.as_bytes())
}

/// One chart of the learning curve: a quantity per epoch, training and validation.
struct Panel {
    title: &'static str,
    train: Vec<(f64, f64)>,
    validation: Vec<(f64, f64)>,
}

impl Panel {
    /// The y range: every finite value, padded by 5 %.
    fn range(&self) -> std::ops::Range<f64> {
        let values = self
            .train
            .iter()
            .chain(&self.validation)
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
        (lo - pad)..(hi + pad)
    }

    fn draw(
        self,
        area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
        epochs: f64,
    ) -> std::result::Result<(), String> {
        let mut chart = ChartBuilder::on(area)
            .caption(self.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(1.0..epochs.max(2.0), self.range())
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(self.train, &BLUE))
            .map_err(|e| e.to_string())?
            .label("train")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
        if !self.validation.is_empty() {
            chart
                .draw_series(LineSeries::new(self.validation, &RED))
                .map_err(|e| e.to_string())?
                .label("validation")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()
            .map_err(|e| e.to_string())
    }
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
        let max = crate::tensor::max_abs(&column).max(f64::MIN_POSITIVE);
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
    crate::io::write_atomic(path, &bytes)
}
