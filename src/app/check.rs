//! `backprop check`: the three-way gradient check of a network.

use super::to_json;
use crate::data::preprocess::{FeatureScaling, Preprocessing};
use crate::error::Error;
use crate::interchange::{DataJson, ModelJson, read_json};
use crate::run::{DatasetKind, TrainOptions};
use crate::training::Prepared;
use crate::verification::{self, CheckOptions, FiniteDifference};
use crate::{Activation, Backend, Precision};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;

/// What `backprop check` verifies.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    /// Model in the JSON interchange format (with --data).
    pub model: Option<PathBuf>,
    /// Data in the JSON interchange format (with --model).
    pub data: Option<PathBuf>,
    /// Without --model: hidden layer sizes of a randomly initialised network.
    pub hidden: Vec<usize>,
    /// Without --model: data set whose first --examples rows are used.
    pub dataset: DatasetKind,
    /// Without --model: number of examples.
    pub examples: usize,
    /// Without --model: activation.
    pub activation: Activation,
    /// Without --model: ε of the initialisation (large enough to leave the linear regime).
    pub init_std: f64,
    /// Weight decay λ.
    pub lambda: f64,
    /// Finite-difference step [default: 1e-5 in f64, 4e-3 in f32, near each
    /// precision's optimum u^(1/3); 1e-4 matches the reference course].
    pub epsilon: Option<f64>,
    /// Finite differences on only this many random entries per tensor
    /// [default: all, or [`SAMPLE`] above [`SAMPLE_ABOVE`] parameters].
    pub sample: Option<usize>,
    /// Finite differences on every entry, however large the network.
    pub full: bool,
    /// Directional mode with this many random directions.
    pub directions: Option<usize>,
    /// Only these parameters (comma list of module paths, e.g. layers.0.weight).
    pub params: Option<Vec<String>>,
    /// Backend.
    pub backend: Backend,
    /// Precision.
    pub dtype: Precision,
    /// Print the report as JSON.
    pub json: bool,
}

/// Above this many parameters, finite differences are sampled unless told
/// otherwise: each entry costs two evaluations of J, and a 64-2000-10 network
/// (150,010 parameters) took 7 minutes in full.
pub const SAMPLE_ABOVE: usize = 20_000;

/// Entries per tensor checked by finite differences when sampling by default.
pub const SAMPLE: usize = 1_000;

/// Checks a JSON model on JSON data, or a random network on the first
/// examples of a data set; exit status 0 on pass, 1 on fail.
pub fn run(args: CheckRequest) -> Result<ExitCode, Error> {
    let device = args.backend.device_for(args.dtype)?;
    let (network, x, y) = match (&args.model, &args.data) {
        (Some(model), Some(data)) => {
            let network = read_json::<ModelJson>(model)?.to_network(&device, args.dtype)?;
            let (x, y) = read_json::<DataJson>(data)?.to_tensors(&network)?;
            (network, x, y)
        }
        _ => {
            let options = TrainOptions {
                dataset: args.dataset,
                hidden: args.hidden.clone(),
                activation: args.activation,
                init_std: args.init_std,
                validation: 0.0,
                test: 0.0,
                ..TrainOptions::default()
            };
            options.validate()?;
            let data = options.load_data()?.train;
            let m = args.examples.clamp(1, data.len());
            let rows: Vec<usize> = (0..m).collect();
            let data = data.subset(&data.name, &rows);
            let scaling = if data.image_shape.is_some() {
                FeatureScaling::MaxAbs
            } else {
                FeatureScaling::Standardize
            };
            let preprocessing = Preprocessing::fit(&data, scaling, args.activation)?;
            let config =
                options.network_config(preprocessing.n_features(), preprocessing.n_outputs());
            // The check holds the batch's activations for two gradient
            // computations, and three host copies of the parameters.
            crate::resources::ensure_fits(
                &format!("checking a network of sizes {:?}", config.sizes),
                crate::resources::training_bytes(
                    &config.sizes,
                    args.dtype,
                    m,
                    m,
                    m,
                    crate::training::OptimizerKind::Gd,
                    0,
                ) + 24.0 * crate::resources::parameter_count(&config.sizes),
            )?;
            let prepared = Prepared::new(&data, &preprocessing, &device, args.dtype)?;
            (config.init(&device, args.dtype)?, prepared.x, prepared.y)
        }
    };
    let mut options = CheckOptions {
        finite_difference: FiniteDifference::central(args.epsilon.unwrap_or(match args.dtype {
            Precision::F64 => 1e-5,
            Precision::F32 => 4e-3,
        })),
        params: args.params.clone(),
        sample: args.sample,
        directions: args.directions,
        ..CheckOptions::default()
    };
    let count = crate::resources::parameter_count(&network.sizes()) as usize;
    let sampled_by_default =
        !args.full && args.sample.is_none() && args.directions.is_none() && count > SAMPLE_ABOVE;
    if sampled_by_default {
        options.sample = Some(SAMPLE);
    }
    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "finite differences {bar:30} {pos}/{len}  [{elapsed_precise} < {eta}]",
        )
        .expect("valid template"),
    );
    let mut report = verification::check_network_with_progress(
        &network,
        x,
        y,
        args.lambda,
        &options,
        &mut |p| {
            bar.set_length(p.total as u64);
            bar.set_position(p.done as u64);
        },
    )?;
    bar.finish_and_clear();
    if sampled_by_default {
        report.warnings.push(format!(
            "sampled: finite differences on {SAMPLE} random entries per tensor, as for every \
             network above {} parameters (this one has {}); manual vs autodiff still covers \
             every entry. --full checks every entry by finite differences too",
            SAMPLE_ABOVE, count
        ));
    }
    if args.json {
        println!("{}", to_json(&report));
    } else {
        print!("{report}");
    }
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
