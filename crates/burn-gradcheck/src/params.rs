//! Parameters ↔ plain values, for any burn [`Module`]: the one mechanism that
//! reads every float parameter out as f64 values (named by its module path) and
//! builds the same module with new values. Finite differences, the gradient
//! harness and the host copy of a remote run all go through it.

use crate::error::{Error, Result};
use crate::precision::Precision;
use crate::values;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{DType, Device, Tensor, TensorData};

/// One float parameter: its module path, id, shape and row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamEntry {
    /// Module path, e.g. `layers.0.weight`: the name burn's records use.
    pub path: String,
    /// The parameter's id, the key of burn's `GradientsParams`.
    pub id: ParamId,
    /// The tensor's shape.
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub values: Vec<f64>,
}

impl ParamEntry {
    /// This parameter's gradient in `grads` (keyed by its id) as f64
    /// values, whatever its rank; `None` when `grads` has none for it.
    pub fn gradient(&self, grads: &GradientsParams) -> Result<Option<Vec<f64>>> {
        macro_rules! get {
            ($d:literal) => {
                grads
                    .get::<$d>(self.id)
                    .map(|t| values::to_vec(&t))
                    .transpose()
            };
        }
        match self.shape.len() {
            1 => get!(1),
            2 => get!(2),
            3 => get!(3),
            4 => get!(4),
            5 => get!(5),
            6 => get!(6),
            rank => Err(Error::InvalidParameter {
                name: "parameter rank",
                value: rank.to_string(),
                reason: format!(
                    "{} has rank {rank}; gradients of rank 1 to 6 are read",
                    self.path
                ),
            }),
        }
    }
}

/// Every float parameter of a module, in burn's visiting order (struct field
/// order, so `layers.0.weight`, `layers.0.bias`, … for a network).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamValues {
    /// The parameters.
    pub entries: Vec<ParamEntry>,
}

impl ParamValues {
    /// Reads every float parameter of `module` (a device read-back per tensor).
    pub fn of<M: Module>(module: &M) -> Result<ParamValues> {
        let mut collect = Collect::default();
        module.visit(&mut collect);
        match collect.error {
            Some(e) => Err(e),
            None => Ok(ParamValues {
                entries: collect.entries,
            }),
        }
    }

    /// The entry at module path `path`.
    pub fn get(&self, path: &str) -> Option<&ParamEntry> {
        self.entries.iter().find(|e| e.path == path)
    }

    /// The module paths, in order.
    pub fn paths(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.path.as_str()).collect()
    }

    /// The indices of the entries at `paths` (every entry when `None`), in
    /// visiting order; an error naming the module's paths when one of
    /// `paths` is not among them.
    pub fn select(&self, paths: Option<&[String]>) -> Result<Vec<usize>> {
        let Some(paths) = paths else {
            return Ok((0..self.entries.len()).collect());
        };
        if let Some(unknown) = paths.iter().find(|p| self.get(p).is_none()) {
            return Err(Error::InvalidParameter {
                name: "params",
                value: unknown.clone(),
                reason: format!(
                    "no such parameter; the module has {}",
                    self.paths().join(", ")
                ),
            });
        }
        Ok((0..self.entries.len())
            .filter(|&k| paths.contains(&self.entries[k].path))
            .collect())
    }

    /// `module` with these values in place of its parameters' (same ids,
    /// devices and dtypes); parameters not listed keep theirs. Fails on a
    /// non-finite value or on a length that does not match the tensor's shape.
    pub fn apply<M: Module>(&self, module: &M) -> Result<M> {
        self.validate()?;
        Ok(module.clone().map(&mut Assign {
            values: self,
            target: None,
        }))
    }

    /// [`apply`](Self::apply), every parameter created on `device` in
    /// `precision` instead: the same module, moved and cast, under the same
    /// ids (a check's reference copy in f64 on the CPU). Other tensors the
    /// module holds (constants) are moved with [`Module::to_device`] and keep
    /// their dtype.
    ///
    /// On an autodiff device the copy is trainable — its parameters track
    /// gradients as the original's were configured to ([`Module::train`]),
    /// so `backward()` through it works; on a plain device it is a
    /// validation snapshot ([`Module::valid`]). Call `valid()` or `train()`
    /// on the result for the other.
    pub fn apply_on<M: Module>(
        &self,
        module: &M,
        device: &Device,
        precision: Precision,
    ) -> Result<M> {
        self.validate()?;
        // `valid()` first, so that an autodiff module's graph is not moved
        // along; the configured gradient state it retains is what `train()`
        // restores.
        let copy = module.valid().to_device(device).map(&mut Assign {
            values: self,
            target: Some((device.clone(), precision.dtype())),
        });
        Ok(match device.is_autodiff() {
            true => copy.train(),
            false => copy,
        })
    }

    /// Lengths that match the shapes, and finite values.
    fn validate(&self) -> Result<()> {
        for entry in &self.entries {
            let expected: usize = entry.shape.iter().product();
            if entry.values.len() != expected {
                return Err(Error::Shape {
                    what: entry.path.clone(),
                    expected: format!("{expected} values for shape {:?}", entry.shape),
                    got: format!("{} values", entry.values.len()),
                });
            }
            values::check_finite(&entry.path, &entry.values)?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Collect {
    stack: Vec<String>,
    entries: Vec<ParamEntry>,
    error: Option<Error>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.stack.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.stack.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        match values::to_vec(&value) {
            Ok(values) => self.entries.push(ParamEntry {
                path: self.stack.join("."),
                id: param.id,
                shape: value.dims().to_vec(),
                values,
            }),
            Err(e) => self.error = Some(e),
        }
    }
}

struct Assign<'a> {
    values: &'a ParamValues,
    /// Where to create the tensors; `None` keeps each one's device and dtype.
    target: Option<(Device, DType)>,
}

impl ModuleMapper for Assign<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(entry) = self.values.entries.iter().find(|e| e.id == param.id) else {
            return param;
        };
        param.map(|t| {
            let (device, dtype) = self.target.clone().unwrap_or((t.device(), t.dtype()));
            Tensor::from_data(
                TensorData::new(entry.values.clone(), t.dims()),
                (&device, dtype),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ParamValues;
    use crate::error::Error;
    use crate::precision::Precision;
    use burn::module::Module;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::GradientsParams;
    use burn::tensor::{Device, Tensor, TensorData};

    /// Dense layers `dims[0] → dims[1] → …`, nested under `layers`.
    #[derive(Module, Debug)]
    struct Stack {
        layers: Vec<Linear>,
    }

    fn stack(dims: &[usize]) -> Stack {
        let device = Device::flex();
        let layers = dims
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(&device))
            .collect();
        Stack { layers }
    }

    fn values_of<M: Module>(module: &M, k: usize) -> Vec<f64> {
        ParamValues::of(module).unwrap().entries[k].values.clone()
    }

    /// A copy made on an autodiff device can be differentiated: the mode
    /// that `valid()` turned off on the way is restored, and the gradient
    /// lands under the original parameter's id.
    #[test]
    fn a_copy_on_an_autodiff_device_tracks_gradients() {
        let net = stack(&[2, 1]);
        let device = Device::flex().autodiff();
        let copy = ParamValues::of(&net)
            .unwrap()
            .apply_on(&net, &device, Precision::F64)
            .unwrap();
        let x = Tensor::<2>::from_data(
            TensorData::new(vec![1.0, 2.0], [1, 2]),
            (&device, Precision::F64.dtype()),
        );
        let grads = copy.layers[0].forward(x).sum().backward();
        let grads = GradientsParams::from_grads(grads, &copy);
        assert_eq!(grads.len(), 2);
        let plain = ParamValues::of(&net)
            .unwrap()
            .apply_on(&net, &Device::flex(), Precision::F64)
            .unwrap();
        assert!(!plain.devices()[0].is_autodiff());
    }

    #[test]
    fn values_read_out_and_put_back_give_the_same_module_under_the_same_ids() {
        let net = stack(&[2, 3, 1]);
        let mut values = ParamValues::of(&net).unwrap();
        assert_eq!(
            values.paths(),
            [
                "layers.0.weight",
                "layers.0.bias",
                "layers.1.weight",
                "layers.1.bias"
            ]
        );
        assert_eq!(values.get("layers.1.weight").unwrap().shape, [3, 1]);
        values.entries[1].values = vec![7.0, 8.0, 9.0];
        let moved = values.apply(&net).unwrap();
        assert_eq!(
            ParamValues::of(&moved).unwrap(),
            values,
            "ids, shapes and values"
        );
        assert_eq!(values_of(&moved, 1), [7.0, 8.0, 9.0]);
        // Untouched parameters keep their values; the original is unchanged.
        assert_eq!(values_of(&moved, 0), values_of(&net, 0));
        assert_ne!(values_of(&net, 1), [7.0, 8.0, 9.0]);
    }

    #[test]
    fn a_wrong_length_or_a_non_finite_value_is_refused() {
        let net = stack(&[2, 1]);
        let mut short = ParamValues::of(&net).unwrap();
        short.entries[0].values.pop();
        assert!(
            matches!(short.apply(&net), Err(Error::Shape { what, .. }) if what == "layers.0.weight")
        );
        let mut nan = ParamValues::of(&net).unwrap();
        nan.entries[1].values[0] = f64::NAN;
        assert!(matches!(
            nan.apply(&net),
            Err(Error::NonFinite { index: 0, .. })
        ));
    }

    #[test]
    fn a_gradient_is_read_by_id_whatever_its_rank_and_none_when_absent() {
        let net = stack(&[2, 1]);
        let values = ParamValues::of(&net).unwrap();
        let bias = net.layers[0].bias.as_ref().unwrap();
        let mut grads = GradientsParams::new();
        grads.register(bias.id, bias.val().ones_like());
        assert_eq!(values.entries[1].gradient(&grads).unwrap(), Some(vec![1.0]));
        assert_eq!(values.entries[0].gradient(&grads).unwrap(), None);
    }
}
