//! Saving and loading trained models: burnpack weights plus a JSON description.
//!
//! A model directory holds `model.bpk` (the parameters, burn's record format)
//! and `model.json` ([`ModelMeta`]: architecture, precision, preprocessing).
//! Every file is written through [`crate::io::write_atomic`], so a failed or
//! interrupted save never replaces a good file with half of a new one.

use crate::Precision;
use crate::data::preprocess::Preprocessing;
use crate::error::{Error, Result};
use crate::network::{Network, NetworkConfig};
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// File name of the parameters inside a model directory.
pub const WEIGHTS_FILE: &str = "model.bpk";
/// File name of the description inside a model directory.
pub const META_FILE: &str = "model.json";

/// Everything besides the parameter values that is needed to use a model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelMeta {
    /// The architecture (sizes, activations); `init_std` and `seed` record how it started.
    pub network: NetworkConfig,
    /// The precision the parameters are stored in.
    pub precision: Precision,
    /// The input and target transforms fitted on the training data.
    pub preprocessing: Preprocessing,
    /// Name of the data set it was trained on.
    pub dataset: String,
    /// `[height, width]` of image inputs, if any.
    pub image_shape: Option<[usize; 2]>,
}

/// Saves `network` and `meta` into `dir` (created if needed).
pub fn save(dir: &Path, network: &Network, meta: &ModelMeta) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        action: "create directory",
        path: dir.to_path_buf(),
        source,
    })?;
    let weights = dir.join(WEIGHTS_FILE);
    let bytes = network
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| Error::Record {
            path: weights.clone(),
            message: e.to_string(),
        })?;
    crate::io::write_atomic(&weights, &bytes)?;
    crate::io::write_json(&dir.join(META_FILE), meta)
}

/// Loads a model saved by [`save`] onto `device`.
pub fn load(dir: &Path, device: &Device) -> Result<(Network, ModelMeta)> {
    let read = |name: &str| -> Result<(PathBuf, Vec<u8>)> {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            action: "read",
            path: path.clone(),
            source,
        })?;
        Ok((path, bytes))
    };
    let (meta_path, meta_bytes) = read(META_FILE)?;
    let (weights_path, weights) = read(WEIGHTS_FILE)?;
    decode(&meta_bytes, &meta_path, weights, &weights_path, device)
}

/// [`load`] from the two files' bytes (`meta_path` and `weights_path` name
/// them in errors). Nothing is allocated for the parameters before the
/// weights are known to hold as many bytes as the description claims.
pub fn decode(
    meta_bytes: &[u8],
    meta_path: &Path,
    weights: Vec<u8>,
    weights_path: &Path,
    device: &Device,
) -> Result<(Network, ModelMeta)> {
    let meta: ModelMeta = serde_json::from_slice(meta_bytes).map_err(|e| Error::Parse {
        source_name: meta_path.display().to_string(),
        position: format!("line {}, column {}", e.line(), e.column()),
        message: e.to_string(),
    })?;
    meta.network.validate()?;
    let sizes = &meta.network.sizes;
    if sizes[0] != meta.preprocessing.n_features()
        || sizes[sizes.len() - 1] != meta.preprocessing.n_outputs()
    {
        return Err(Error::Parse {
            source_name: meta_path.display().to_string(),
            position: "network.sizes".into(),
            message: format!(
                "sizes {sizes:?} do not match the preprocessing ({} features, {} outputs)",
                meta.preprocessing.n_features(),
                meta.preprocessing.n_outputs()
            ),
        });
    }
    let record_error = |message: String| Error::Record {
        path: weights_path.to_path_buf(),
        message,
    };
    let claimed = crate::resources::network_bytes(sizes, meta.precision);
    if (weights.len() as f64) < claimed {
        return Err(record_error(format!(
            "{} bytes cannot hold the {} bytes of parameters that {} describes",
            weights.len(),
            claimed,
            meta_path.display()
        )));
    }
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights))
        .map_err(|e| record_error(e.to_string()))?;
    let skeleton = meta.network.init_constant(device, meta.precision, 0.0)?;
    let network = skeleton
        .try_load_record(record)
        .map_err(|e| record_error(e.to_string()))?;
    Ok((network, meta))
}
