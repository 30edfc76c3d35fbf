//! A data set as the tensors a network trains on.

use super::parallel::DataParallel;
use crate::Precision;
use crate::data::Dataset;
use crate::data::preprocess::Preprocessing;
use crate::error::Result;
use crate::tensor;
use burn::tensor::{Device, Tensor};

/// A data set turned into tensors for one network, on one device or spread
/// over several ([`Prepared::spread_over`]) for data-parallel training.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The raw data set (labels and targets for metrics).
    pub data: Dataset,
    /// Transformed inputs `[m, s_1]`.
    pub x: Tensor<2>,
    /// Encoded targets `[m, s_{n_l}]`.
    pub y: Tensor<2>,
    /// The copies on the devices each step's batch is split over, if any.
    shards: Option<DataParallel>,
}

impl Prepared {
    /// Applies `preprocessing` to `data` and moves it to `device` in `precision`.
    pub fn new(
        data: &Dataset,
        preprocessing: &Preprocessing,
        device: &Device,
        precision: Precision,
    ) -> Result<Prepared> {
        data.validate()?;
        let m = data.len();
        let x = preprocessing.inputs(data)?;
        let y = preprocessing.outputs(data)?;
        Ok(Prepared {
            data: data.clone(),
            x: tensor::matrix(
                &format!("{} inputs", data.name),
                x,
                [m, preprocessing.n_features()],
                device,
                precision,
            )?,
            y: tensor::matrix(
                &format!("{} targets", data.name),
                y,
                [m, preprocessing.n_outputs()],
                device,
                precision,
            )?,
            shards: None,
        })
    }

    /// The same set, also copied onto each of `devices` (once), so that
    /// [`train`](super::train) computes every step's gradient data-parallel:
    /// each batch is split over the devices ([`DataParallel`]) and the
    /// combined gradient drives one set of parameters on the network's device.
    pub fn spread_over(self, devices: &[Device]) -> Result<Prepared> {
        let shards = DataParallel::new(devices, &self.x, &self.y)?;
        Ok(Prepared {
            shards: Some(shards),
            ..self
        })
    }

    /// The devices each step's batch is split over, if the set was spread.
    pub fn shards(&self) -> Option<&DataParallel> {
        self.shards.as_ref()
    }
}
