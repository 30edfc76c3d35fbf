//! Files in and out, written once: atomic writes (a temporary file in the same
//! directory, synced, then renamed into place, so a failed or interrupted
//! write never replaces a good file with half of a new one) and JSON with
//! line and column on syntax errors.

use crate::error::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` via a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |action, source| Error::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or("file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp).map_err(|e| io("create", e))?;
        file.write_all(bytes).map_err(|e| io("write", e))?;
        file.sync_all().map_err(|e| io("sync", e))?;
        std::fs::rename(&tmp, path).map_err(|e| io("rename into", e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes `value` as pretty JSON to `path`, atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Parse {
        source_name: path.display().to_string(),
        position: "serialisation".into(),
        message: e.to_string(),
    })?;
    write_atomic(path, format!("{text}\n").as_bytes())
}

/// Reads and deserialises a JSON file, with line and column on syntax errors.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    parse_json(&text, &path.display().to_string())
}

/// Deserialises JSON text; `source_name` names it in errors.
pub fn parse_json<T: DeserializeOwned>(text: &str, source_name: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::Parse {
        source_name: source_name.into(),
        position: format!("line {}, column {}", e.line(), e.column()),
        message: e.to_string(),
    })
}

/// Writes `rows` as CSV to `path`, atomically: for struct rows a header from
/// the field names, then one line per row (`None` as an empty cell); rows
/// that are sequences are written as they are.
pub fn write_csv<R: Serialize>(path: &Path, rows: impl IntoIterator<Item = R>) -> Result<()> {
    let fail = |e: csv::Error| Error::Io {
        action: "write CSV",
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.serialize(row).map_err(fail)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| fail(csv::Error::from(e.into_error())))?;
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::{write_atomic, write_csv};

    #[derive(serde::Serialize)]
    struct Row {
        epoch: usize,
        cost: f64,
        accuracy: Option<f64>,
    }

    #[test]
    fn csv_rows_get_a_header_and_empty_cells_for_what_they_lack() {
        let dir = std::env::temp_dir().join(format!("mb-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rows.csv");
        let rows = [
            Row {
                epoch: 1,
                cost: 0.5,
                accuracy: Some(0.25),
            },
            Row {
                epoch: 2,
                cost: 0.125,
                accuracy: None,
            },
        ];
        write_csv(&path, &rows).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "epoch,cost,accuracy\n1,0.5,0.25\n2,0.125,\n");
        // A failed write leaves the old file and no temporary one.
        assert!(write_atomic(&dir.join("missing/x.csv"), b"x").is_err());
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["rows.csv"]);
        std::fs::remove_dir_all(&dir).ok();
    }
}
