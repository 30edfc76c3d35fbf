//! What the sweep covers: every operation burn-autodiff 0.22.1 defines a
//! backward for, and the burn-nn layers and losses, each either reached by
//! a family of the sweep or listed here with the reason it is not.
//!
//! The inventory is read from burn-autodiff-0.22.1/src/ops/{tensor,module,
//! activation}.rs: the functions that register a backward step
//! (`prepare::<…>` with `OpsKind`), one name each as burn spells it.

use super::Family;
use std::sync::Arc;

/// A group of operations in the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// `FloatTensorOps` of burn-autodiff (`float_*`).
    Float,
    /// `ModuleOps` (convolutions, pools, …).
    Module,
    /// `ActivationOps`.
    Activation,
    /// burn-nn's layers and losses.
    Nn,
}

/// Every float tensor operation with a backward in burn-autodiff 0.22.1.
pub const FLOAT_OPS: &[&str] = &[
    "float_to_device",
    "float_add",
    "float_add_scalar",
    "float_sub",
    "float_sub_scalar",
    "float_mul",
    "float_mul_scalar",
    "float_div",
    "float_div_scalar",
    "float_remainder",
    "float_remainder_scalar",
    "float_matmul",
    "float_cross",
    "float_neg",
    "float_recip",
    "float_swap_dims",
    "float_permute",
    "float_flip",
    "float_reshape",
    "float_gather",
    "float_scatter",
    "float_scatter_nd",
    "float_gather_nd",
    "float_select",
    "float_select_assign",
    "float_slice",
    "float_slice_assign",
    "float_mask_where",
    "float_mask_fill",
    "float_mean",
    "float_sum",
    "float_mean_dim",
    "float_sum_dim",
    "float_prod",
    "float_prod_dim",
    "float_cumsum",
    "float_cumprod",
    "float_cummin",
    "float_cummax",
    "float_topk",
    "float_exp",
    "float_log",
    "float_log1p",
    "float_powi_scalar",
    "float_powf_scalar_impl",
    "float_sqrt",
    "float_abs",
    "float_cos",
    "float_sin",
    "float_tanh",
    "float_cosh",
    "float_sinh",
    "float_tan",
    "float_asin",
    "float_acos",
    "float_atan",
    "float_asinh",
    "float_acosh",
    "float_atanh",
    "float_atan2",
    "float_round",
    "float_floor",
    "float_ceil",
    "float_trunc",
    "float_erf",
    "float_max_dim",
    "float_max_dim_with_indices",
    "float_min_dim",
    "float_min_dim_with_indices",
    "float_powf",
    "float_hypot",
    "float_sign",
    "float_expand",
    "float_sort",
    "float_sort_with_indices",
    "float_repeat_dim",
    "float_cast",
    "float_unfold",
    "float_cat",
    "float_detach",
];

/// Every module operation with a backward in burn-autodiff 0.22.1.
pub const MODULE_OPS: &[&str] = &[
    "batch_norm_train",
    "embedding",
    "linear",
    "conv1d",
    "conv_transpose1d",
    "conv2d",
    "deform_conv2d",
    "conv_transpose2d",
    "conv3d",
    "conv_transpose3d",
    "avg_pool1d",
    "avg_pool2d",
    "max_pool1d",
    "max_pool1d_with_indices",
    "max_pool2d",
    "max_pool2d_with_indices",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "interpolate",
    "ctc_loss",
    "batch_norm_train_backward",
    "deform_conv2d_backward",
    "max_pool1d_with_indices_backward",
    "max_pool2d_with_indices_backward",
];

/// Every activation with a backward of its own in burn-autodiff 0.22.1.
pub const ACTIVATION_OPS: &[&str] = &["gelu", "relu", "sigmoid", "log_sigmoid"];

/// burn-nn 0.22.1's layers with parameters, and its losses.
pub const NN: &[&str] = &[
    "nn::Linear",
    "nn::Conv1d",
    "nn::Conv2d",
    "nn::Embedding",
    "nn::PRelu",
    "nn::SwiGlu",
    "nn::RotaryEncoding",
    "nn::LayerNorm",
    "nn::RmsNorm",
    "nn::GroupNorm",
    "nn::InstanceNorm",
    "nn::BatchNorm",
    "nn::Lstm",
    "nn::Gru",
    "nn::MultiHeadAttention",
    "nn::CrossEntropyLoss",
    "nn::BinaryCrossEntropyLoss",
    "nn::MseLoss",
    "nn::HuberLoss",
    "nn::SmoothL1Loss",
    "nn::KLDivLoss",
];

/// Why an operation of the inventory has no family.
pub const NOT_SWEPT: &[(&str, &str)] = &[
    (
        "batch_norm_train_backward",
        "a second-order backward (the gradient of batch norm's backward); the sweep checks first derivatives",
    ),
    (
        "deform_conv2d_backward",
        "a second-order backward; the sweep checks first derivatives",
    ),
    (
        "max_pool1d_with_indices_backward",
        "a second-order backward; the sweep checks first derivatives",
    ),
    (
        "max_pool2d_with_indices_backward",
        "a second-order backward; the sweep checks first derivatives",
    ),
    (
        "nn::BatchNorm",
        "takes its training path only on an autodiff device, so finite differences (on a plain \
         device) see its inference path; the functional batch_norm_train it calls is swept",
    ),
];

/// One operation of the inventory and the families that reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its name, as burn spells it.
    pub name: &'static str,
    /// Its group.
    pub group: Group,
    /// The families whose `covers` name it.
    pub families: Vec<&'static str>,
    /// Why it is not swept, when no family reaches it.
    pub reason: Option<&'static str>,
}

/// The inventory against `families`.
pub fn entries(families: &[Arc<Family>]) -> Vec<Entry> {
    let groups = [
        (Group::Float, FLOAT_OPS),
        (Group::Module, MODULE_OPS),
        (Group::Activation, ACTIVATION_OPS),
        (Group::Nn, NN),
    ];
    groups
        .into_iter()
        .flat_map(|(group, names)| names.iter().map(move |&name| (group, name)))
        .map(|(group, name)| Entry {
            name,
            group,
            families: families
                .iter()
                .filter(|f| f.covers.contains(&name))
                .map(|f| f.op)
                .collect(),
            reason: NOT_SWEPT.iter().find(|(n, _)| *n == name).map(|(_, r)| *r),
        })
        .collect()
}

/// (covered, defined) over the whole inventory.
pub fn count(entries: &[Entry]) -> (usize, usize) {
    let covered = entries.iter().filter(|e| !e.families.is_empty()).count();
    (covered, entries.len())
}

#[cfg(test)]
mod tests {
    use super::{Group, count, entries};
    use crate::verification::conformance::families;

    #[test]
    fn every_operation_is_swept_or_has_a_reason_and_nine_in_ten_are_swept() {
        let families = families();
        let entries = entries(&families);
        for e in &entries {
            assert!(
                e.families.is_empty() != e.reason.is_none(),
                "{}: swept by {:?}, reason {:?}: exactly one of the two",
                e.name,
                e.families,
                e.reason
            );
        }
        let (covered, defined) = count(&entries);
        assert!(10 * covered >= 9 * defined, "{covered} of {defined}");
        // burn-autodiff's own operations alone, without burn-nn.
        let ops: Vec<_> = entries.iter().filter(|e| e.group != Group::Nn).collect();
        let swept = ops.iter().filter(|e| !e.families.is_empty()).count();
        assert!(10 * swept >= 9 * ops.len(), "{swept} of {}", ops.len());
    }

    #[test]
    fn every_name_a_family_covers_is_in_the_inventory() {
        let families = families();
        let known: Vec<&str> = entries(&families).iter().map(|e| e.name).collect();
        for f in &families {
            for name in f.covers {
                assert!(known.contains(name), "{}: covers unknown {name}", f.op);
            }
        }
    }
}
