//! `backprop check`: the three-way gradient check of a network.

use super::to_json;
use crate::data::preprocess::{FeatureScaling, Preprocessing};
use crate::data::{DataSource, DatasetKind};
use crate::error::Error;
use crate::interchange::{DataJson, ModelJson};
use crate::io::read_json;
use crate::network::Network;
use crate::run::TrainOptions;
use crate::training::Prepared;
use crate::verification::{self, GradCheck, NetworkCheck};
use crate::{Activation, Backend, Precision};
use burn::tensor::{Device, Tensor};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;

/// What `backprop check` verifies.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckRequest {
    /// Model in the JSON interchange format (with --data).
    #[arg(long, requires = "data")]
    pub model: Option<PathBuf>,
    /// Data in the JSON interchange format (with --model).
    #[arg(long, requires = "model")]
    pub data: Option<PathBuf>,
    /// Without --model: hidden layer sizes of a randomly initialised network.
    #[arg(long, value_delimiter = ',', default_value = "5")]
    pub hidden: Vec<usize>,
    /// Without --model: data set whose first --examples rows are used.
    #[arg(long, value_enum, default_value = "digits")]
    pub dataset: DatasetKind,
    /// Without --model: number of examples.
    #[arg(long, default_value_t = 20)]
    pub examples: usize,
    /// Without --model: activation.
    #[arg(long, value_enum, default_value = "sigmoid")]
    pub activation: Activation,
    /// Without --model: ε of the initialisation (large enough to leave the linear regime).
    #[arg(long, default_value_t = 0.5)]
    pub init_std: f64,
    /// Weight decay λ.
    #[arg(long, default_value_t = 1e-3)]
    pub lambda: f64,
    /// Finite-difference step [default: 1e-6, near f64's optimum u^(1/3):
    /// finite differences always run in f64, on the CPU reference when the
    /// network is f32 or on another device; 1e-4 matches the reference course].
    #[arg(long)]
    pub epsilon: Option<f64>,
    /// Finite differences on only this many random entries per tensor [default:
    /// every entry up to [`SAMPLE_ABOVE`] parameters, [`SAMPLE`] per tensor above].
    #[arg(long, conflicts_with = "full", help = format!(
        "Finite differences on only this many random entries per tensor [default: every \
         entry up to {SAMPLE_ABOVE} parameters, {SAMPLE} per tensor above]"
    ))]
    pub sample: Option<usize>,
    /// Finite differences on every entry, however large the network.
    #[arg(long)]
    pub full: bool,
    /// Directional mode with this many random directions.
    #[arg(long)]
    pub directions: Option<usize>,
    /// Only these parameters (comma list of module paths, e.g. layers.0.weight).
    #[arg(long, value_delimiter = ',')]
    pub params: Option<Vec<String>>,
    /// Backend.
    #[arg(long, default_value = "flex", help = crate::backend::HELP)]
    pub backend: Backend,
    /// Precision.
    #[arg(long, value_enum, default_value = "f64")]
    pub dtype: Precision,
    /// Print the report as JSON.
    #[arg(long)]
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
        _ => random_network_on_data(&args, &device)?,
    };
    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "autodiff and finite differences {bar:30} {pos}/{len}  [{elapsed_precise} < {eta}]",
        )
        .expect("valid template"),
    );
    let shown = bar.clone();
    let show = move |p: verification::CheckProgress| {
        shown.set_length(p.total as u64);
        shown.set_position(p.done as u64);
    };
    let sampled_by_default = samples_by_default(&args, &network);
    let mut report = check_from_flags(&args, sampled_by_default)
        .progress(show)
        .network(&network, &x, &y, args.lambda)?;
    bar.finish_and_clear();
    if sampled_by_default {
        report.warnings.push(format!(
            "sampled: finite differences on {SAMPLE} random entries per tensor, as for every \
             network above {SAMPLE_ABOVE} parameters (this one has {}); manual vs autodiff still \
             covers every entry. --full checks every entry by finite differences too",
            parameter_count(&network)
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

fn parameter_count(network: &Network) -> usize {
    crate::resources::parameter_count(&network.sizes()) as usize
}

/// A network of `args.hidden` layers drawn at random, and the first
/// `args.examples` examples of `args.dataset` scaled as `train` would.
fn random_network_on_data(
    args: &CheckRequest,
    device: &Device,
) -> Result<(Network, Tensor<2>, Tensor<2>), Error> {
    let options = TrainOptions {
        dataset: args.dataset,
        hidden: args.hidden.clone(),
        activation: args.activation,
        init_std: args.init_std,
        ..TrainOptions::default()
    };
    options.validate()?;
    let data = DataSource::new(args.dataset)
        .load(0.0, 0.0, options.seed)?
        .train;
    let m = args.examples.clamp(1, data.len());
    let rows: Vec<usize> = (0..m).collect();
    let data = data.subset(&data.name, &rows);
    let scaling = FeatureScaling::default_for(&data);
    let preprocessing = Preprocessing::fit(&data, scaling, args.activation)?;
    let config = options.network_config(preprocessing.n_features(), preprocessing.n_outputs());
    // The check holds the batch's activations for two gradient
    // computations, and three host copies of the parameters.
    let what = format!("checking a network of sizes {:?}", config.sizes);
    let bytes = crate::resources::training_bytes(&config.sizes, args.dtype, m, m, m, 0.0)
        + 24.0 * crate::resources::parameter_count(&config.sizes);
    crate::resources::ensure_fits(&what, bytes)?;
    crate::backend::remote::ensure_fits(device, &what, bytes)?;
    let prepared = Prepared::new(&data, &preprocessing, device, args.dtype)?;
    Ok((config.init(device, args.dtype)?, prepared.x, prepared.y))
}

/// Whether finite differences are sampled only because the network is large.
fn samples_by_default(args: &CheckRequest, network: &Network) -> bool {
    !args.full
        && args.sample.is_none()
        && args.directions.is_none()
        && parameter_count(network) > SAMPLE_ABOVE
}

/// The engine's options from the flags; the engine's defaults where a flag
/// is not given.
fn check_from_flags(args: &CheckRequest, sampled_by_default: bool) -> GradCheck {
    let mut check = GradCheck::new();
    if let Some(epsilon) = args.epsilon {
        check = check.epsilon(epsilon);
    }
    if let Some(k) = args.sample.or(sampled_by_default.then_some(SAMPLE)) {
        check = check.sample(k);
    }
    if let Some(k) = args.directions {
        check = check.fast(k);
    }
    if let Some(paths) = &args.params {
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        check = check.params(&paths);
    }
    check
}
