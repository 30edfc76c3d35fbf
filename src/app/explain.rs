//! `backprop explain`: the δ recursion of one example, number by number.

use super::{emit, load_model, to_json};
use crate::backend::Backend;
use crate::data::{DataSource, DatasetKind};
use crate::error::Error;
use crate::explain::{Explanation, Units, reference_example, render, to_svg};
use crate::interchange::DataJson;
use crate::io::read_json;
use crate::persist::ModelMeta;
use crate::run::TrainOptions;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What `backprop explain` shows.
#[derive(Debug, Clone, clap::Args)]
pub struct ExplainRequest {
    /// A model: a `train` run directory, or the JSON interchange format (with --data)
    /// [default: the reference's 3-3-1 sigmoid network on a fixed input].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Data in the JSON interchange format, for a JSON model ({"x": [[…]], "y": [[…]]}).
    #[arg(long, requires = "model")]
    pub data: Option<PathBuf>,
    /// Which example (0-based row) of --data, or of the data set a run's model was trained on.
    #[arg(long, default_value_t = 0)]
    pub example: usize,
    /// For a run directory: the data set to take the example from [default: the one
    /// the model was trained on].
    #[arg(long, value_enum, requires = "model")]
    pub dataset: Option<DatasetKind>,
    /// Directory with the MNIST IDX files.
    #[arg(long, default_value = "data/mnist")]
    pub mnist_dir: PathBuf,
    /// Weight decay λ of the cost whose gradients are shown [default: the λ
    /// of the run that trained --model (its options.json), else 0.001].
    #[arg(long)]
    pub lambda: Option<f64>,
    /// Units to show in every layer (1-based comma list) [default: the first 10; at most 10].
    #[arg(long, value_delimiter = ',')]
    pub units: Option<Vec<usize>>,
    /// Print every quantity as JSON instead of the tables.
    #[arg(long)]
    pub json: bool,
    /// Also draw the network, with a and δ on each unit and edges by weight and
    /// by gradient, as SVG into this file.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Backend to compute on.
    #[arg(long, default_value = "flex", help = crate::backend::HELP)]
    pub backend: Backend,
}

/// Prints the explanation of one example (and draws it with `--svg`).
pub fn run(args: ExplainRequest) -> Result<ExitCode, Error> {
    let device = args.backend.device()?;
    let (network, x, y) = match &args.model {
        None if args.example != 0 => {
            return Err(Error::InvalidParameter {
                name: "example",
                value: args.example.to_string(),
                reason: "the default network has one fixed example; --example picks a row of \
                         --data or of a trained model's data set (with --model)"
                    .into(),
            });
        }
        None => reference_example(&device)?,
        Some(model) => {
            let (network, meta) = load_model(model, &device)?;
            let (x, y) = example(&args, meta.as_ref())?;
            (network, x, y)
        }
    };
    check_units(args.units.as_deref(), &network.sizes())?;
    let lambda = match (args.lambda, &args.model) {
        (Some(lambda), _) => lambda,
        (None, Some(model)) => trained_lambda(model)?.unwrap_or(DEFAULT_LAMBDA),
        (None, None) => DEFAULT_LAMBDA,
    };
    let explanation = Explanation::of(&network, &x, &y, lambda)?;
    let units = Units {
        chosen: args.units.clone(),
    };
    if let Some(path) = &args.svg {
        crate::io::write_atomic(path, to_svg(&explanation, &units).as_bytes())?;
    }
    let text = if args.json {
        to_json(&explanation)
    } else {
        render(&explanation, &units)
    };
    emit(None, text.trim_end())?;
    Ok(ExitCode::SUCCESS)
}

/// λ of the reference's example, and of a model whose run recorded none.
const DEFAULT_LAMBDA: f64 = 1e-3;

/// The λ a run directory's model was trained with: its `options.json`, or
/// its parent's for the `last/` model inside a run. `None` for a JSON model
/// or a directory saved without the run's options.
fn trained_lambda(model: &Path) -> Result<Option<f64>, Error> {
    if !model.is_dir() {
        return Ok(None);
    }
    let candidates = [
        Some(model),
        model.parent().filter(|_| model.ends_with("last")),
    ];
    match candidates
        .into_iter()
        .flatten()
        .map(|d| d.join("options.json"))
        .find(|p| p.is_file())
    {
        Some(options) => Ok(Some(read_json::<TrainOptions>(&options)?.lambda)),
        None => Ok(None),
    }
}

/// `--units` names units that exist: 1-based, and within the widest layer
/// (a unit beyond a narrower layer's width is shown only where it exists).
fn check_units(units: Option<&[usize]>, sizes: &[usize]) -> Result<(), Error> {
    let widest = sizes.iter().copied().max().unwrap_or(0);
    match units
        .unwrap_or_default()
        .iter()
        .find(|&&u| u == 0 || u > widest)
    {
        None => Ok(()),
        Some(&unit) => Err(Error::InvalidParameter {
            name: "units",
            value: unit.to_string(),
            reason: format!(
                "units are numbered from 1, and the widest layer of this {} network has {widest}",
                sizes
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join("-")
            ),
        }),
    }
}

/// Row `args.example` of `--data`, or of the data set a run's model was
/// trained on with the run's preprocessing applied (as training saw it).
fn example(args: &ExplainRequest, meta: Option<&ModelMeta>) -> Result<(Vec<f64>, Vec<f64>), Error> {
    let out_of_range = |rows: usize| Error::InvalidParameter {
        name: "example",
        value: args.example.to_string(),
        reason: format!(
            "the data has {rows} examples (rows 0 to {})",
            rows.max(1) - 1
        ),
    };
    let Some(meta) = meta else {
        let data: DataJson = read_json(data_path(args)?)?;
        let rows = data.x.len().min(data.y.len());
        if args.example >= rows {
            return Err(out_of_range(rows));
        }
        return Ok((data.x[args.example].clone(), data.y[args.example].clone()));
    };
    let kind = args
        .dataset
        .or_else(|| DatasetKind::of_trained(&meta.dataset))
        .ok_or_else(|| Error::InvalidParameter {
            name: "dataset",
            value: "(none)".into(),
            reason: format!(
                "the model was trained on {:?}; say which data to take the example from with --dataset",
                meta.dataset
            ),
        })?;
    let data = DataSource {
        mnist_dir: args.mnist_dir.clone(),
        ..DataSource::new(kind)
    }
    .examples()?;
    if args.example >= data.len() {
        return Err(out_of_range(data.len()));
    }
    let one = data.subset(&data.name, &[args.example]);
    Ok((
        meta.preprocessing.inputs(&one)?,
        meta.preprocessing.outputs(&one)?,
    ))
}

fn data_path(args: &ExplainRequest) -> Result<&Path, Error> {
    args.data.as_deref().ok_or_else(|| Error::InvalidParameter {
        name: "data",
        value: "(none)".into(),
        reason: "a JSON model takes its example from --data FILE.json (the interchange format)"
            .into(),
    })
}
