//! A data set as the tensors a network trains on.

use crate::data::Dataset;
use crate::data::preprocess::Preprocessing;
use crate::error::Result;
use crate::precision::Precision;
use crate::tensor;
use burn::tensor::{Device, Tensor};

/// A data set turned into tensors for one network.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The raw data set (labels and targets for metrics).
    pub data: Dataset,
    /// Transformed inputs `[m, s_1]`.
    pub x: Tensor<2>,
    /// Encoded targets `[m, s_{n_l}]`.
    pub y: Tensor<2>,
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
        })
    }
}
