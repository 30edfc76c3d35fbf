//! Any numeric CSV table: some columns are features, the named ones targets.

use super::{Dataset, Targets};
use crate::error::{Error, Result};
use std::path::Path;

/// How to read a CSV table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CsvOptions {
    /// Target columns, by header name or 0-based index; every other column is a feature.
    pub target_columns: Vec<String>,
    /// Treat the (single) target column as class labels 0, 1, … instead of real values.
    pub classification: bool,
}

/// Reads a CSV file; see [`parse`].
pub fn load(path: &Path, options: &CsvOptions) -> Result<Dataset> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    let name = path
        .file_stem()
        .map_or("csv".into(), |s| s.to_string_lossy().into_owned());
    parse(&text, &path.display().to_string(), &name, options)
}

/// Parses CSV text. A first row with any non-numeric cell is taken as a header.
pub fn parse(text: &str, source_name: &str, name: &str, options: &CsvOptions) -> Result<Dataset> {
    let table = Table::read(text, source_name)?;
    let targets = table.target_indices(options)?;
    let (features, values) = table.numbers(&targets)?;
    let target_values = if options.classification {
        let labels = table.labels(&values, targets[0])?;
        let n_classes = labels.iter().max().map_or(0, |&l| l + 1);
        Targets::Classes { labels, n_classes }
    } else {
        Targets::Values {
            values,
            n_targets: targets.len(),
        }
    };
    let dataset = Dataset {
        name: name.into(),
        features,
        n_features: table.width - targets.len(),
        targets: target_values,
        image_shape: None,
    };
    dataset.validate()?;
    Ok(dataset)
}

/// The rows of a CSV text, its header if any, and where each row came from.
struct Table<'a> {
    source_name: &'a str,
    header: Vec<String>,
    rows: Vec<::csv::StringRecord>,
    has_header: bool,
    /// Fields per row, as the first row has them.
    width: usize,
}

impl<'a> Table<'a> {
    fn read(text: &str, source_name: &'a str) -> Result<Table<'a>> {
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(::csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut rows: Vec<::csv::StringRecord> = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let record = record.map_err(|e| Error::Parse {
                source_name: source_name.into(),
                position: format!("record {}", i + 1),
                message: e.to_string(),
            })?;
            rows.push(record);
        }
        let has_header = rows
            .first()
            .is_some_and(|r| r.iter().any(|cell| cell.parse::<f64>().is_err()));
        let header: Vec<String> = if has_header {
            rows.remove(0).iter().map(str::to_string).collect()
        } else {
            Vec::new()
        };
        let width = rows.first().map(|r| r.len()).unwrap_or(header.len());
        let table = Table {
            source_name,
            header,
            rows,
            has_header,
            width,
        };
        if table.rows.is_empty() {
            return Err(table.error("line 1".into(), "no data rows".into()));
        }
        Ok(table)
    }

    fn error(&self, position: String, message: String) -> Error {
        Error::Parse {
            source_name: self.source_name.into(),
            position,
            message,
        }
    }

    /// The file's line of data row `row`.
    fn line_of(&self, row: usize) -> usize {
        row + 1 + usize::from(self.has_header)
    }

    /// The columns `options` names as targets, by header name or index.
    fn target_indices(&self, options: &CsvOptions) -> Result<Vec<usize>> {
        let width = self.width;
        if options.target_columns.is_empty() {
            return Err(self.error(
                "header".into(),
                "no target column given (set `target_columns` to a NAME or INDEX)".into(),
            ));
        }
        let mut targets = Vec::new();
        for column in &options.target_columns {
            let index = self
                .header
                .iter()
                .position(|h| h == column)
                .or_else(|| column.parse::<usize>().ok().filter(|&i| i < width))
                .ok_or_else(|| {
                    self.error(
                        "header".into(),
                        format!("target column {column:?} is neither a header name nor an index below {width}"),
                    )
                })?;
            targets.push(index);
        }
        if targets.len() >= width {
            return Err(self.error(
                "header".into(),
                format!("all {width} columns are targets; no features left"),
            ));
        }
        if options.classification && targets.len() != 1 {
            return Err(self.error(
                "header".into(),
                "class labels need exactly one target column".into(),
            ));
        }
        Ok(targets)
    }

    /// Every cell as a finite number: features row-major, and target values.
    fn numbers(&self, targets: &[usize]) -> Result<(Vec<f64>, Vec<f64>)> {
        let (mut features, mut values) = (Vec::new(), Vec::new());
        for (r, row) in self.rows.iter().enumerate() {
            if row.len() != self.width {
                return Err(self.error(
                    format!("line {}", self.line_of(r)),
                    format!(
                        "{} fields, expected {} like the first row",
                        row.len(),
                        self.width
                    ),
                ));
            }
            for (c, cell) in row.iter().enumerate() {
                let at = || format!("line {}, field {}", self.line_of(r), c + 1);
                let v: f64 = cell
                    .parse()
                    .map_err(|_| self.error(at(), format!("{cell:?} is not a number")))?;
                if !v.is_finite() {
                    return Err(self.error(at(), format!("{cell} is not a finite number")));
                }
                if targets.contains(&c) {
                    values.push(v);
                } else {
                    features.push(v);
                }
            }
        }
        Ok((features, values))
    }

    /// The target column `column`'s values as class labels.
    fn labels(&self, values: &[f64], column: usize) -> Result<Vec<usize>> {
        let mut labels = Vec::with_capacity(values.len());
        for (r, v) in values.iter().enumerate() {
            if v.fract() != 0.0 || *v < 0.0 || *v > 1e6 {
                return Err(self.error(
                    format!("line {}, field {}", self.line_of(r), column + 1),
                    format!("class label {v} is not a non-negative integer"),
                ));
            }
            labels.push(*v as usize);
        }
        Ok(labels)
    }
}
