#!/usr/bin/env python3
"""Plants realistic upstream bugs into pristine copies of burn-flex and
burn-autodiff 0.22.1 (scripts/plant-upstream.sh calls it).

Every bug is compiled in and switched on at run time by the environment
variable PLANT=<name>, so one build serves them all; with PLANT unset the
patched crates compute what the pristine ones do. Each bug mimics one that
burn's tracker has seen: the sweep must fail on every one of them.

    plant.py REGISTRY DEST   copy the pristine crates from REGISTRY to DEST, bugs
                             planted; a file whose content is unchanged keeps its
                             modification time, so cargo rebuilds only what changed
    plant.py --list      print the bugs' names, one a line
    plant.py --table     print name, crate and what it breaks, tab-separated
"""
import sys
from pathlib import Path

SWITCH = '''//! Planted-bug switch of scripts/plant-upstream.sh: a scratch copy only.
/// Whether the planted bug `name` is on (the environment's PLANT).
pub(crate) fn on(name: &str) -> bool {
    static PLANT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PLANT.get_or_init(|| std::env::var("PLANT").unwrap_or_default()) == name
}
'''

# name, crate, file, anchor (must occur once), replacement, what it mimics.
PLANTS = [
    (
        "matmul-transposed-stride",
        "burn-flex", "src/ops/matmul.rs",
        "    let n = rhs_shape[1];\n\n    let (lhs_row_stride, lhs_col_stride) = get_2d_strides(lhs.layout());\n",
        "    let n = rhs_shape[1];\n\n    let (lhs_row_stride, lhs_col_stride) = get_2d_strides(lhs.layout());\n"
        "    // PLANTED: a transposed left operand read as row-major when k is even.\n"
        "    let (lhs_row_stride, lhs_col_stride) = if crate::plant::on(\"matmul-transposed-stride\")\n"
        "        && lhs_row_stride == 1 && lhs_col_stride == m as isize && m > 1 && k % 2 == 0\n"
        "    {\n        (k as isize, 1)\n    } else {\n        (lhs_row_stride, lhs_col_stride)\n    };\n",
        "a transposed left operand's strides ignored when k is even (burn#5304)",
    ),
    (
        "sum-dim0-chunk",
        "burn-flex", "src/ops/reduce.rs",
        "            inner_size,\n            dim_stride as usize,\n        );\n        aligned::to_vec(result)\n",
        "            inner_size,\n            dim_stride as usize,\n        );\n"
        "        let mut result = aligned::to_vec(result);\n"
        "        // PLANTED: the last row's second 16-lane chunk is skipped.\n"
        "        if crate::plant::on(\"sum-dim0-chunk\") && dim_size > 1 && inner_size > 16 {\n"
        "            let last = start_offset + (dim_size - 1) * dim_stride as usize;\n"
        "            for c in 16..inner_size.min(32) {\n                result[c] -= data[last + c];\n            }\n"
        "        }\n        result\n",
        "an f32 reduction over a non-last axis skips one SIMD chunk of one row",
    ),
    (
        "sum-dim0-chunk",
        "burn-flex", "src/ops/reduce.rs",
        "            kernels::scatter_add_f32(data, &mut result, dim_size, inner_size, inner_size);\n            return aligned::to_vec(result);\n",
        "            kernels::scatter_add_f32(data, &mut result, dim_size, inner_size, inner_size);\n"
        "            let mut result = aligned::to_vec(result);\n"
        "            // PLANTED: the last row's second 16-lane chunk is skipped.\n"
        "            if crate::plant::on(\"sum-dim0-chunk\") && dim_size > 1 && inner_size > 16 {\n"
        "                let last = (dim_size - 1) * inner_size;\n"
        "                for c in 16..inner_size.min(32) {\n                    result[c] -= data[last + c];\n                }\n"
        "            }\n            return result;\n",
        None,
    ),
    (
        "avgpool-divisor",
        "burn-flex", "src/ops/module.rs",
        "        count_include_pad: bool,\n        ceil_mode: bool,\n    ) -> FloatTensor<Flex> {\n        match x.dtype() {\n            DType::F32 => pool::avg_pool2d_f32(\n",
        "        count_include_pad: bool,\n        ceil_mode: bool,\n    ) -> FloatTensor<Flex> {\n"
        "        // PLANTED: count_include_pad dropped (forward).\n"
        "        let count_include_pad = count_include_pad && !crate::plant::on(\"avgpool-divisor\");\n"
        "        match x.dtype() {\n            DType::F32 => pool::avg_pool2d_f32(\n",
        "avg-pool's count_include_pad dropped in forward and backward alike (burn#5604, #5450)",
    ),
    (
        "avgpool-divisor",
        "burn-flex", "src/ops/module.rs",
        "        count_include_pad: bool,\n        _divisor_override: bool,\n    ) -> FloatTensor<Flex> {\n",
        "        count_include_pad: bool,\n        _divisor_override: bool,\n    ) -> FloatTensor<Flex> {\n"
        "        // PLANTED: count_include_pad dropped (backward).\n"
        "        let count_include_pad = count_include_pad && !crate::plant::on(\"avgpool-divisor\");\n",
        None,
    ),
    (
        "select-overwrite",
        "burn-flex", "src/ops/float.rs",
        "        update: burn_backend::tensor::IndexingUpdateOp,\n    ) -> FloatTensor<Flex> {\n        match update {\n            burn_backend::tensor::IndexingUpdateOp::Assign => match tensor.dtype() {\n                DType::F32 => {\n                    crate::ops::gather_scatter::select_assign::<f32>",
        "        update: burn_backend::tensor::IndexingUpdateOp,\n    ) -> FloatTensor<Flex> {\n"
        "        // PLANTED: an add at repeated indices overwrites instead of accumulating.\n"
        "        let update = match crate::plant::on(\"select-overwrite\") {\n"
        "            true => burn_backend::tensor::IndexingUpdateOp::Assign,\n            false => update,\n        };\n"
        "        match update {\n            burn_backend::tensor::IndexingUpdateOp::Assign => match tensor.dtype() {\n                DType::F32 => {\n                    crate::ops::gather_scatter::select_assign::<f32>",
        "select_assign's add overwrites at repeated indices: select's backward loses gradients (burn#5296)",
    ),
    (
        "tanh-f64-via-f32",
        "burn-flex", "src/ops/float.rs",
        "    fn float_tanh(tensor: FloatTensor<Flex>) -> FloatTensor<Flex> {\n        unary::tanh(tensor)\n",
        "    fn float_tanh(tensor: FloatTensor<Flex>) -> FloatTensor<Flex> {\n"
        "        // PLANTED: tanh of an f64 tensor computed in f32.\n"
        "        if crate::plant::on(\"tanh-f64-via-f32\") && tensor.dtype() == DType::F64 {\n"
        "            let low = Self::float_cast(tensor, burn_backend::FloatDType::F32);\n"
        "            return Self::float_cast(unary::tanh(low), burn_backend::FloatDType::F64);\n"
        "        }\n        unary::tanh(tensor)\n",
        "tanh of an f64 tensor computed in f32 (as ndarray's sigmoid is)",
    ),
    (
        "exp-negative",
        "burn-flex", "src/ops/float.rs",
        "    fn float_exp(tensor: FloatTensor<Flex>) -> FloatTensor<Flex> {\n        unary::exp(tensor)\n",
        "    fn float_exp(tensor: FloatTensor<Flex>) -> FloatTensor<Flex> {\n"
        "        // PLANTED: exp 1e-4 too large for negative inputs (forward only).\n"
        "        if crate::plant::on(\"exp-negative\") {\n"
        "            // 1 + 1e-4·(1 − sign x)/2: 1 + 1e-4 below zero, 1 above.\n"
        "            let sign = Self::float_sign(tensor.clone());\n"
        "            let below = Self::float_mul_scalar(Self::float_add_scalar(Self::float_neg(sign), 1.0.into()), 0.5.into());\n"
        "            let factor = Self::float_add_scalar(Self::float_mul_scalar(below, 1e-4.into()), 1.0.into());\n"
        "            return Self::float_mul(unary::exp(tensor), factor);\n"
        "        }\n        unary::exp(tensor)\n",
        "exp off by 1e-4 (relative) for negative inputs, in the forward pass only",
    ),
    (
        "conv-grouped-dilation",
        "burn-autodiff", "src/ops/module.rs",
        "                if let Some(node) = node_weight {\n                    let grad =\n                        B::conv2d_weight_backward(x.clone(), weight.clone(), grad.clone(), options);\n",
        "                if let Some(node) = node_weight {\n"
        "                    // PLANTED: a grouped conv's weight gradient ignores its dilation.\n"
        "                    let options = match crate::plant::on(\"conv-grouped-dilation\") && options.groups > 1 {\n"
        "                        true => ConvOptions { dilation: [1, 1], ..options },\n"
        "                        false => options,\n                    };\n"
        "                    let grad =\n                        B::conv2d_weight_backward(x.clone(), weight.clone(), grad.clone(), options);\n",
        "a grouped, dilated conv2d's weight gradient computed without the dilation (burn-autodiff)",
    ),
]


def names():
    seen = []
    for name, *_ in PLANTS:
        if name not in seen:
            seen.append(name)
    return seen


def planted(registry: Path):
    """Every file of the patched crates that differs from the pristine one:
    {(crate, relative path): new text}."""
    files = {}
    def text(crate, rel):
        if (crate, rel) not in files:
            files[(crate, rel)] = (registry / f"{crate}-0.22.1" / rel).read_text()
        return files[(crate, rel)]
    for crate in sorted({p[1] for p in PLANTS}):
        files[(crate, "src/plant.rs")] = SWITCH
        lib = text(crate, "src/lib.rs")
        files[(crate, "src/lib.rs")] = lib + "\nmod plant;\n"
    for name, crate, file, anchor, replacement, _ in PLANTS:
        current = text(crate, file)
        count = current.count(anchor)
        if count != 1:
            sys.exit(f"plant {name}: the anchor occurs {count} times in {crate}/{file} (expected once)")
        files[(crate, file)] = current.replace(anchor, replacement)
    return files


def sync(registry: Path, dest: Path):
    for crate in sorted({p[1] for p in PLANTS}):
        source, target = registry / f"{crate}-0.22.1", dest / f"{crate}-0.22.1"
        for path in source.rglob("*"):
            rel = path.relative_to(source)
            out = target / rel
            if path.is_dir():
                out.mkdir(parents=True, exist_ok=True)
            elif not out.exists() or out.read_bytes() != path.read_bytes():
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(path.read_bytes())
    for (crate, rel), content in planted(registry).items():
        out = dest / f"{crate}-0.22.1" / rel
        if not out.exists() or out.read_text() != content:
            out.write_text(content)


def main():
    if sys.argv[1:] == ["--list"]:
        print("\n".join(names()))
    elif sys.argv[1:] == ["--table"]:
        for name, crate, _, _, _, what in PLANTS:
            if what:
                print(f"{name}\t{crate}\t{what}")
    elif len(sys.argv) == 3:
        sync(Path(sys.argv[1]), Path(sys.argv[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
