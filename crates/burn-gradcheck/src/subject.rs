//! What a check differentiates: a function of a module's parameters and of
//! named inputs, evaluated at any values of its variables on any [`Place`] —
//! plainly (for finite differences) or under autodiff, giving Jᵀu.

use crate::error::{Error, Result};
use crate::inputs::{Args, Inputs};
use crate::params::ParamValues;
use crate::place::Place;
use crate::values;
use burn::module::{Module, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Whether a checked tensor is a module parameter or a function input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VariableKind {
    /// A float parameter of the module, named by its module path.
    Parameter,
    /// A differentiated input, named as it was added to [`Inputs`].
    Input,
}

/// One tensor the function is differentiated in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Variable {
    pub name: String,
    pub kind: VariableKind,
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
    /// A parameter's id (the key of hand-written `GradientsParams`).
    pub id: Option<ParamId>,
}

/// A function of a module and inputs, `f(module, args) -> Tensor<O>`.
pub(crate) struct Subject<'a, M, F> {
    module: &'a M,
    params: ParamValues,
    /// Indices into `params.entries` of the parameters checked.
    checked: Vec<usize>,
    inputs: &'a Inputs,
    f: F,
    /// A negative control's planted relative error in autodiff's derivatives.
    planted: Option<f64>,
}

impl<'a, M, F, const O: usize> Subject<'a, M, F>
where
    M: Module,
    F: Fn(&M, &Args) -> Tensor<O>,
{
    /// `f` of `module` and `inputs`, differentiated in the parameters at
    /// `paths` (all when `None`) and every non-constant input.
    pub fn new(module: &'a M, inputs: &'a Inputs, paths: Option<&[String]>, f: F) -> Result<Self> {
        let params = ParamValues::of(module)?;
        let checked = params.select(paths)?;
        let subject = Subject {
            module,
            params,
            checked,
            inputs,
            f,
            planted: None,
        };
        if subject.variables().is_empty() {
            return Err(Error::InvalidParameter {
                name: "variables",
                value: "none".into(),
                reason: "the check has nothing to differentiate in: give the module a float \
                         parameter or add an input with Inputs::with"
                    .into(),
            });
        }
        Ok(subject)
    }

    /// The same subject, its derivatives under autodiff scaled by 1 − `c`
    /// (a negative control), its values unchanged.
    pub fn planted(mut self, c: Option<f64>) -> Self {
        self.planted = c;
        self
    }

    /// The variables in order: the checked parameters, then the inputs.
    pub fn variables(&self) -> Vec<Variable> {
        let params = self.checked.iter().map(|&k| {
            let entry = &self.params.entries[k];
            Variable {
                name: entry.path.clone(),
                kind: VariableKind::Parameter,
                shape: entry.shape.clone(),
                values: entry.values.clone(),
                id: Some(entry.id),
            }
        });
        let inputs = self
            .inputs
            .entries()
            .iter()
            .filter(|i| i.differentiable)
            .map(|i| Variable {
                name: i.name.clone(),
                kind: VariableKind::Input,
                shape: i.shape.clone(),
                values: i.values.clone(),
                id: None,
            });
        params.chain(inputs).collect()
    }

    /// The module and inputs with `values` for the variables, on `place`.
    fn instantiate(&self, place: &Place, values: &[Vec<f64>], tracked: bool) -> Result<(M, Args)> {
        let mut params = self.params.clone();
        for (slot, &k) in self.checked.iter().enumerate() {
            params.entries[k].values.clone_from(&values[slot]);
        }
        let module = params.apply_on(self.module, &place.device, place.precision)?;
        let module = if tracked { module.train() } else { module };
        let args = Args::new(self.inputs, &values[self.checked.len()..], place, tracked);
        Ok((module, args))
    }

    /// `f` at `values` on `place`, its shape and its row-major values.
    pub fn output(&self, place: &Place, values: &[Vec<f64>]) -> Result<(Vec<usize>, Vec<f64>)> {
        let (module, args) = self.instantiate(place, values, false)?;
        let out = (self.f)(&module, &args);
        let shape = out.dims().to_vec();
        let values = values::to_vec(&out)?;
        values::check_finite("the checked function's output", &values)?;
        Ok((shape, values))
    }

    /// Jᵀu at `values` on `place` by autodiff: for each variable, the
    /// gradient of Σⱼ uⱼ fⱼ (zeros where f does not depend on it).
    pub fn pullback(&self, place: &Place, values: &[Vec<f64>], u: &[f64]) -> Result<Vec<Vec<f64>>> {
        let (module, args) = self.instantiate(place, values, true)?;
        let out = (self.f)(&module, &args);
        let out = match self.planted {
            Some(c) => out.clone().mul_scalar(1.0 - c) + out.detach().mul_scalar(c),
            None => out,
        };
        let n = out.shape().num_elements();
        if n != u.len() {
            return Err(Error::Shape {
                what: "the checked function's output".into(),
                expected: format!("{} entries, as at the first evaluation", u.len()),
                got: format!("{:?}", out.dims()),
            });
        }
        let u = Tensor::<1>::from_data(
            TensorData::new(u.to_vec(), [n]),
            (&args.device(), args.dtype()),
        );
        let projected = (out.reshape([n]) * u).sum();
        if !projected.is_tracked() {
            return Err(Error::InvalidParameter {
                name: "checked function",
                value: "untracked output".into(),
                reason: "its output does not depend on any variable through autodiff: \
                         build it from the module and from args.get(..)"
                    .into(),
            });
        }
        let grads = projected.backward();
        // The inputs' gradients first: `from_grads` takes the whole set.
        let mut input_grads = Vec::new();
        for (leaf, value) in args
            .leaves(self.inputs)
            .into_iter()
            .zip(&values[self.checked.len()..])
        {
            input_grads.push(match leaf.grad(&grads) {
                Some(g) => values::to_vec(&g)?,
                None => vec![0.0; value.len()],
            });
        }
        let params = GradientsParams::from_grads(grads, &module);
        let mut pulled = Vec::with_capacity(values.len());
        for &k in &self.checked {
            let entry = &self.params.entries[k];
            let g = entry.gradient(&params)?;
            pulled.push(g.unwrap_or_else(|| vec![0.0; entry.values.len()]));
        }
        pulled.extend(input_grads);
        Ok(pulled)
    }
}
