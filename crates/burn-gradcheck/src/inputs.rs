//! The inputs of a checked function: named tensors of any rank, and the
//! view through which the function reads them at each evaluation.

use crate::error::{Error, Result};
use crate::place::Place;
use crate::values;
use burn::tensor::{DType, Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// One named input of a checked function: its shape and row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// The name the function reads it by, and the report names it by.
    pub name: String,
    /// Its shape (any rank).
    pub shape: Vec<usize>,
    /// Its values, row-major, in f64 whatever the precision of the check.
    pub values: Vec<f64>,
    /// Whether the function is differentiated in it (a constant is not).
    pub differentiable: bool,
}

/// The inputs of a checked function, by name. Each is kept in f64 and
/// created anew on the device and in the precision of every evaluation, so
/// one set of inputs serves the target, the f64 reference and the finite
/// differences alike.
///
/// ```
/// use burn_gradcheck::Inputs;
/// use burn::tensor::{Device, Tensor};
/// let a = Tensor::<2>::from_data([[1.0, 2.0], [3.0, 4.0]], &Device::flex());
/// let inputs = Inputs::new().with("a", &a)?.constant_values("scale", &[1], vec![0.5])?;
/// assert_eq!(inputs.entries()[0].shape, [2, 2]);
/// # Ok::<(), burn_gradcheck::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    entries: Vec<Input>,
}

impl Inputs {
    /// No inputs (a module checked on its parameters alone).
    pub fn new() -> Inputs {
        Inputs::default()
    }

    /// Adds `tensor` as an input the function is differentiated in.
    pub fn with<const D: usize>(self, name: &str, tensor: &Tensor<D>) -> Result<Inputs> {
        let values = values::to_vec(tensor)?;
        self.push(name, &tensor.dims(), values, true)
    }

    /// Adds `tensor` as a constant: passed to the function, never moved.
    pub fn constant<const D: usize>(self, name: &str, tensor: &Tensor<D>) -> Result<Inputs> {
        let values = values::to_vec(tensor)?;
        self.push(name, &tensor.dims(), values, false)
    }

    /// Adds a differentiated input from its shape and row-major values.
    pub fn values(self, name: &str, shape: &[usize], values: Vec<f64>) -> Result<Inputs> {
        self.push(name, shape, values, true)
    }

    /// Adds a differentiated input of `shape` with values drawn from `seed`:
    /// magnitudes uniform in [0.25, 2] with random signs — away from 0, so
    /// that a function with a kink there (|x|, relu) is not checked across
    /// it, and of the size most code is written for. For sweeps over shapes.
    pub fn random(self, name: &str, shape: &[usize], seed: u64) -> Result<Inputs> {
        let mut rng = StdRng::seed_from_u64(seed);
        let n = shape.iter().product();
        let values = (0..n)
            .map(|_| {
                let magnitude = rng.random_range(0.25..=2.0);
                if rng.random_bool(0.5) {
                    magnitude
                } else {
                    -magnitude
                }
            })
            .collect();
        self.push(name, shape, values, true)
    }

    /// Adds a constant from its shape and row-major values.
    pub fn constant_values(self, name: &str, shape: &[usize], values: Vec<f64>) -> Result<Inputs> {
        self.push(name, shape, values, false)
    }

    /// The inputs, in the order they were added.
    pub fn entries(&self) -> &[Input] {
        &self.entries
    }

    fn push(
        mut self,
        name: &str,
        shape: &[usize],
        values: Vec<f64>,
        differentiable: bool,
    ) -> Result<Inputs> {
        if self.entries.iter().any(|e| e.name == name) {
            return Err(Error::InvalidParameter {
                name: "input name",
                value: name.to_string(),
                reason: "an input of that name is already there; give each input its own name"
                    .into(),
            });
        }
        let expected: usize = shape.iter().product();
        if shape.is_empty() || expected != values.len() {
            return Err(Error::Shape {
                what: format!("input {name}"),
                expected: format!("{expected} values for a shape of rank ≥ 1, {shape:?}"),
                got: format!("{} values", values.len()),
            });
        }
        values::check_finite(&format!("input {name}"), &values)?;
        self.entries.push(Input {
            name: name.to_string(),
            shape: shape.to_vec(),
            values,
            differentiable,
        });
        Ok(self)
    }
}

/// The inputs as a checked function sees them: tensors on the device and in
/// the precision of this evaluation (tracked by autodiff when the checker
/// differentiates), read by name.
pub struct Args {
    place: Place,
    tracked: bool,
    tensors: Vec<(String, Vec<usize>, Tensor<1>)>,
}

impl Args {
    /// The tensors of `inputs` with `values` in place of the differentiated
    /// ones' (in order), on `place`; with `tracked`, on its autodiff device
    /// and requiring gradients.
    pub(crate) fn new(inputs: &Inputs, values: &[Vec<f64>], place: &Place, tracked: bool) -> Args {
        let device = evaluation_device(place, tracked);
        let mut moved = values.iter();
        let tensors = inputs
            .entries
            .iter()
            .map(|input| {
                let values = match input.differentiable {
                    true => moved.next().unwrap_or(&input.values),
                    false => &input.values,
                };
                let n = values.len();
                let leaf = Tensor::<1>::from_data(
                    TensorData::new(values.clone(), [n]),
                    (&device, place.precision.dtype()),
                );
                let leaf = match tracked && input.differentiable {
                    true => leaf.require_grad(),
                    false => leaf,
                };
                (input.name.clone(), input.shape.clone(), leaf)
            })
            .collect();
        Args {
            place: place.clone(),
            tracked,
            tensors,
        }
    }

    /// The input `name` as a tensor of rank `D`.
    ///
    /// # Panics
    /// When there is no input `name`, or it does not have rank `D`: a mistake
    /// in the checked function's code, reported like an out-of-bounds index,
    /// with the inputs there are.
    pub fn get<const D: usize>(&self, name: &str) -> Tensor<D> {
        let Some((_, shape, leaf)) = self.tensors.iter().find(|(n, _, _)| n == name) else {
            let names: Vec<&str> = self.tensors.iter().map(|(n, _, _)| n.as_str()).collect();
            panic!("the checked function asked for input {name:?}; the inputs are {names:?}");
        };
        let Ok(dims) = <[usize; D]>::try_from(shape.as_slice()) else {
            panic!(
                "the checked function asked for input {name:?} as rank {D}; it has shape {shape:?}"
            );
        };
        // The leaf is flat; reshaping is exact and passes gradients through
        // unchanged, so the check sees the function alone.
        leaf.clone().reshape(dims)
    }

    /// The device to create the function's own tensors on (indices, masks,
    /// targets): the evaluation's, with autodiff when it is tracked.
    pub fn device(&self) -> Device {
        evaluation_device(&self.place, self.tracked)
    }

    /// The float dtype of this evaluation.
    pub fn dtype(&self) -> DType {
        self.place.precision.dtype()
    }

    /// A float constant on this evaluation's device and in its dtype.
    pub fn constant<const D: usize>(&self, values: Vec<f64>, shape: [usize; D]) -> Tensor<D> {
        Tensor::from_data(
            TensorData::new(values, shape),
            (&self.device(), self.dtype()),
        )
    }

    /// The flat leaves of the differentiated inputs, in order.
    pub(crate) fn leaves(&self, inputs: &Inputs) -> Vec<&Tensor<1>> {
        self.tensors
            .iter()
            .zip(&inputs.entries)
            .filter(|(_, input)| input.differentiable)
            .map(|((_, _, leaf), _)| leaf)
            .collect()
    }
}

/// `place`'s device, with autodiff when the evaluation is differentiated.
fn evaluation_device(place: &Place, tracked: bool) -> Device {
    match tracked {
        true => place.device.clone().autodiff(),
        false => place.device.clone(),
    }
}
