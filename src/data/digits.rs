//! The UCI "Optical Recognition of Handwritten Digits" test part (CC BY 4.0),
//! as shipped in scikit-learn; see `data/NOTICE`.

use super::{Dataset, Targets};
use crate::error::{Error, Result};
use flate2::read::GzDecoder;
use std::io::Read;

/// The gzipped CSV, compiled into the library so the default needs no download.
const DIGITS_CSV_GZ: &[u8] = include_bytes!("../../data/digits.csv.gz");

/// 1797 examples of 8×8 images, pixel values 0–16, labels 0–9.
pub fn load() -> Result<Dataset> {
    let mut text = String::new();
    GzDecoder::new(DIGITS_CSV_GZ)
        .read_to_string(&mut text)
        .map_err(|e| Error::Parse {
            source_name: "digits.csv.gz".into(),
            position: "gzip stream".into(),
            message: e.to_string(),
        })?;
    parse(&text, "digits.csv.gz")
}

/// Parses the digits format: no header, 64 integer pixels then the label per line.
pub fn parse(text: &str, source_name: &str) -> Result<Dataset> {
    let mut features = Vec::new();
    let mut labels = Vec::new();
    for (line_no, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split(',').collect();
        let at = |field: usize| format!("line {}, field {}", line_no + 1, field + 1);
        if fields.len() != 65 {
            return Err(Error::Parse {
                source_name: source_name.into(),
                position: format!("line {}", line_no + 1),
                message: format!(
                    "expected 65 fields (64 pixels and a label), found {}",
                    fields.len()
                ),
            });
        }
        for (i, f) in fields[..64].iter().enumerate() {
            let v: f64 = f.trim().parse().map_err(|_| Error::Parse {
                source_name: source_name.into(),
                position: at(i),
                message: format!("pixel {f:?} is not a number"),
            })?;
            if !(0.0..=16.0).contains(&v) {
                return Err(Error::Parse {
                    source_name: source_name.into(),
                    position: at(i),
                    message: format!("pixel {v} is outside 0–16"),
                });
            }
            features.push(v);
        }
        let label = fields[64].trim();
        let label: usize = label
            .parse::<f64>()
            .ok()
            .filter(|l| l.fract() == 0.0 && (0.0..10.0).contains(l))
            .map(|l| l as usize)
            .ok_or_else(|| Error::Parse {
                source_name: source_name.into(),
                position: at(64),
                message: format!("label {label:?} is not a digit 0–9"),
            })?;
        labels.push(label);
    }
    let dataset = Dataset {
        name: "digits".into(),
        features,
        n_features: 64,
        targets: Targets::Classes {
            labels,
            n_classes: 10,
        },
        image_shape: Some([8, 8]),
    };
    dataset.validate()?;
    Ok(dataset)
}
