//! The contracts the fuzz targets check, one function per parser of untrusted
//! input: each must return (`Ok` or a typed error), never panic, and never
//! allocate in proportion to a size that the input merely claims (libFuzzer's
//! `-malloc_limit_mb` turns such an allocation into a crash). Each returns
//! whether the input was accepted all the way through, so that the seed
//! corpus can be shown to reach the deep paths.
//!
//! Shared by the fuzz targets (`fuzz/fuzz_targets/*.rs`) and by the
//! regression tests (`tests/fuzz_regressions.rs`), which replay the seeds and
//! every input the fuzzer ever found crashing.
#![allow(dead_code)] // each fuzz target uses one function

use manual_backprop::data::csv::{CsvOptions, parse};
use manual_backprop::data::idx;
use manual_backprop::experiment::GridConfig;
use manual_backprop::interchange::{DataJson, GradientsJson, ModelJson};
use manual_backprop::io::parse_json;
use manual_backprop::run::TrainOptions;
use manual_backprop::{Backend, Precision, persist};
use std::path::Path;

/// CSV data: `data::csv::parse` returns a data set or a typed error.
pub fn csv(input: &[u8]) -> bool {
    // The first byte picks the options: a target column by index or by
    // header name, and regression or classification.
    let Some((&flags, rest)) = input.split_first() else {
        return false;
    };
    let text = String::from_utf8_lossy(rest);
    let target = match flags & 3 {
        0 => "0".to_string(),
        1 => "2".to_string(),
        2 => "y".to_string(),
        _ => "label".to_string(),
    };
    let options = CsvOptions {
        target_columns: vec![target],
        classification: flags & 4 != 0,
    };
    parse(&text, "fuzz.csv", "fuzz", &options).is_ok_and(|data| data.validate().is_ok())
}

/// IDX files, raw or gzipped: `data::idx::parse` returns an array or a typed
/// error, and never allocates for dimensions the bytes do not hold.
pub fn idx(input: &[u8]) -> bool {
    let Ok(array) = idx::parse(input, "fuzz-idx") else {
        return false;
    };
    {
        // The same array as images and as labels: one of the two shapes is
        // always wrong, which `dataset` must report, not trip over.
        let _ = idx::dataset(&array, &array, "fuzz");
        if array.dims[0] <= 1 << 16 {
            let labels = idx::IdxArray {
                dims: vec![array.dims[0]],
                data: vec![0; array.dims[0]],
            };
            let _ = idx::dataset(&array, &labels, "fuzz");
        }
    }
    true
}

/// The JSON interchange files behind `backprop grads` and `check --model`:
/// a model and a batch (split by a line `---`) become a network, tensors and
/// gradients, or a typed error. A gradients file parses or is an error.
pub fn interchange(input: &[u8]) -> bool {
    let text = String::from_utf8_lossy(input);
    if parse_json::<GradientsJson>(&text, "fuzz-gradients.json").is_ok() {
        return true;
    }
    let (model, data) = text.split_once("\n---\n").unwrap_or((&text, ""));
    let Ok(model) = parse_json::<ModelJson>(model, "fuzz-model.json") else {
        return false;
    };
    let device = Backend::Flex.device().expect("flex is local");
    let Ok(network) = model.to_network(&device, Precision::F64) else {
        return false;
    };
    let Ok(data) = parse_json::<DataJson>(data, "fuzz-data.json") else {
        return false;
    };
    let Ok((x, y)) = data.to_tensors(&network) else {
        return false;
    };
    network
        .gradients(x, y, 1e-3)
        .is_ok_and(|grads| GradientsJson::from_gradients(&network, &grads).is_ok())
}

/// `--config` options and experiment grid files: they parse and validate, or
/// are a typed error; a grid's runs are listed only once it is known to be
/// of a size that memory holds.
pub fn options(input: &[u8]) -> bool {
    let text = String::from_utf8_lossy(input);
    let mut accepted = false;
    if let Ok(options) = parse_json::<TrainOptions>(&text, "fuzz-options.json")
        && options.validate().is_ok()
    {
        let config = options.network_config(64, 10);
        accepted = config.validate().is_ok() && options.train_config().validate(1797).is_ok();
    }
    if let Ok(grid) = parse_json::<GridConfig>(&text, "fuzz-grid.json")
        && grid.validate().is_ok()
    {
        accepted = grid.runs().iter().all(|run| run.validate().is_ok());
    }
    accepted
}

/// A saved model directory: `model.json` (architecture, preprocessing) and
/// `model.bpk` (burnpack parameters). `persist::decode` returns a network or a
/// typed error, and allocates the parameters only once the weights file is
/// known to hold them. Input: a little-endian u32 length, that many bytes of
/// `model.json`, then `model.bpk`.
pub fn burnpack(input: &[u8]) -> bool {
    let Some((length, rest)) = input.split_first_chunk::<4>() else {
        return false;
    };
    let length = (u32::from_le_bytes(*length) as usize).min(rest.len());
    let (meta, weights) = rest.split_at(length);
    let device = Backend::Flex.device().expect("flex is local");
    persist::decode(
        meta,
        Path::new("fuzz/model.json"),
        weights.to_vec(),
        Path::new("fuzz/model.bpk"),
        &device,
    )
    .is_ok()
}
