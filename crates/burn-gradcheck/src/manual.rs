//! Hand-written gradients, checked beside autodiff: the third way.

use crate::error::{Error, Result};
use crate::params::ParamEntry;
use crate::subject::{Variable, VariableKind};
use burn::optim::GradientsParams;

/// Hand-written gradients of a scalar output (a loss): of the module's
/// parameters, keyed by burn's `ParamId` as autodiff's own are, and of
/// inputs by name. Given to [`GradCheck::module_with_manual`] or
/// [`GradCheck::function_with_manual`], each is compared with autodiff and
/// with finite differences; a variable given none is taken to have zeros.
///
/// [`GradCheck::module_with_manual`]: crate::GradCheck::module_with_manual
/// [`GradCheck::function_with_manual`]: crate::GradCheck::function_with_manual
#[derive(Default)]
pub struct Manual {
    params: Option<GradientsParams>,
    inputs: Vec<(String, Vec<f64>)>,
}

impl Manual {
    /// None yet (a plain two-way check).
    pub fn new() -> Manual {
        Manual::default()
    }

    /// The hand-written gradients of the module's parameters.
    pub fn params(mut self, grads: GradientsParams) -> Manual {
        self.params = Some(grads);
        self
    }

    /// The hand-written gradient of the input `name`, row-major.
    pub fn input(mut self, name: &str, values: Vec<f64>) -> Manual {
        self.inputs.push((name.to_string(), values));
        self
    }

    /// Whether any gradient was given.
    fn is_empty(&self) -> bool {
        self.params.is_none() && self.inputs.is_empty()
    }

    /// One vector per variable (zeros where none was given), or `None` when
    /// none were.
    pub(crate) fn values(
        &self,
        variables: &[Variable],
        outputs: usize,
    ) -> Result<Option<Vec<Vec<f64>>>> {
        if self.is_empty() {
            return Ok(None);
        }
        if outputs != 1 {
            return Err(Error::InvalidParameter {
                name: "manual gradients",
                value: format!("{outputs} outputs"),
                reason: "hand-written gradients are those of a scalar output (a loss)".into(),
            });
        }
        let mut values = Vec::with_capacity(variables.len());
        for v in variables {
            let given = match v.kind {
                VariableKind::Parameter => self.param(v)?,
                VariableKind::Input => self
                    .inputs
                    .iter()
                    .find(|(name, _)| *name == v.name)
                    .map(|(_, g)| g.clone()),
            };
            let given = given.unwrap_or_else(|| vec![0.0; v.values.len()]);
            if given.len() != v.values.len() {
                return Err(Error::Shape {
                    what: format!("the hand-written gradient of {}", v.name),
                    expected: format!("{} values, shape {:?}", v.values.len(), v.shape),
                    got: format!("{} values", given.len()),
                });
            }
            values.push(given);
        }
        Ok(Some(values))
    }

    /// The hand-written gradient of parameter `v`, if one was given.
    fn param(&self, v: &Variable) -> Result<Option<Vec<f64>>> {
        let (Some(grads), Some(id)) = (&self.params, v.id) else {
            return Ok(None);
        };
        let entry = ParamEntry {
            path: v.name.clone(),
            id,
            shape: v.shape.clone(),
            values: Vec::new(),
        };
        entry.gradient(grads)
    }
}
