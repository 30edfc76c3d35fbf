//! A failure made reproducible: shrunk to the smallest sample of its
//! family that still fails, and written as a standalone program that uses
//! burn's API only (`backprop conformance --report findings.md`).

use super::views::Layout;
use super::{Case, Row, Target, Verdict, known_failure, run_case};
use std::fmt::Write;

/// How many smaller samples shrinking tries at most.
const SHRINK_BUDGET: usize = 40;

/// One failure, shrunk, with its reproduction.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The row as the sweep first found it.
    pub found: Row,
    /// The row of the smallest sample that still fails.
    pub shrunk: Row,
    /// The shrunk sample's dimensions.
    pub dims: Vec<usize>,
    /// A standalone Rust program (burn only) printing the target's and the
    /// reference's forward values and gradients side by side.
    pub program: String,
}

fn fails(row: &Row) -> bool {
    matches!(row.verdict, Verdict::Fail | Verdict::KnownUpstream)
}

/// Shrinks the failing `case` on `target`: first the family's own samples
/// of the same layout that are smaller, then dimensions halved or
/// decremented, keeping each smaller sample that still fails.
pub fn shrink(case: &Case, found: &Row, target: &Target) -> (Case, Row) {
    let entries = |c: &Case| -> usize { c.inputs().entries().iter().map(|e| e.values.len()).sum() };
    let mut best = (case.clone(), found.clone());
    let mut tries = 0;
    let mut own: Vec<Case> = case
        .family()
        .samples
        .iter()
        .filter(|s| s.layout == case.sample.layout && **s != case.sample)
        .filter_map(|s| case.family().case(s.clone()).ok())
        .filter(|c| entries(c) < entries(case))
        .collect();
    own.sort_by_key(entries);
    for candidate in own {
        tries += 1;
        let row = run_case(&candidate, target);
        if fails(&row) {
            best = (candidate, row);
            break;
        }
    }
    'smaller: while tries < SHRINK_BUDGET {
        for sample in best.0.sample.smaller() {
            if tries >= SHRINK_BUDGET {
                break 'smaller;
            }
            tries += 1;
            let Ok(candidate) = best.0.family().case(sample) else {
                continue;
            };
            let row = run_case(&candidate, target);
            if fails(&row) {
                best = (candidate, row);
                continue 'smaller;
            }
        }
        break;
    }
    best
}

/// The finding of `case`'s failure `found` on `target`.
pub fn finding(case: &Case, found: &Row, target: &Target) -> Finding {
    let (shrunk_case, shrunk) = shrink(case, found, target);
    let program = program(&shrunk_case, target);
    Finding {
        found: found.clone(),
        shrunk,
        dims: shrunk_case.sample.dims.clone(),
        program,
    }
}

/// How burn builds the device of a backend, in a reproduction.
fn device_expression(backend: &str) -> String {
    match backend {
        "flex" => "Device::flex()".into(),
        "ndarray" => "Device::ndarray()".into(),
        "tch" => "Device::libtorch()".into(),
        "wgpu" => "Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)".into(),
        other => format!("todo!(\"the device of {other}\")"),
    }
}

/// The shim that hands a case's inputs to its code as the sweep does, the
/// plain-burn helpers, the case's code, and a `main` that runs it on the
/// target and on the reference.
fn program(case: &Case, target: &Target) -> String {
    let family = case.family();
    let prelude = include_str!("views.rs");
    let prelude = prelude
        .split("// ---- reproduction prelude: plain burn from here on ----\n")
        .nth(1)
        .unwrap_or(prelude);
    let mut out = String::new();
    let dtype = |p: crate::Precision| match p {
        crate::Precision::F32 => "DType::F32",
        crate::Precision::F64 => "DType::F64",
    };
    let _ = writeln!(
        out,
        "//! `backprop conformance` finding: `{}` at {:?} on {} {} against {} f64.\n\
         //! Cargo.toml: burn = {{ version = \"=0.22.1\", default-features = false, \
         features = [\"std\", \"autodiff\", \"flex\", \"ndarray\"] }}\n\
         #![allow(deprecated, unused_imports, unused_variables, clippy::all)]\n\
         use burn::tensor::{{DType, Device}};\n\
         use burn::tensor::activation::*;\n\
         use burn::tensor::module::*;\n\
         use burn::tensor::ops::*;\n\
         use burn::tensor::{{IndexingUpdateOp, s}};\n",
        family.op,
        case.sample.dims,
        target.backend,
        target.place.precision,
        target.reference_backend
    );
    if family.is_module {
        let _ = writeln!(
            out,
            "// This case checks a burn-nn module: build it as the sweep does (its\n\
             // parameters are spread over [-0.5, 0.5]) and call `f` with it.\n"
        );
    }
    out.push_str(SHIM);
    out.push_str(prelude);
    let o = family.output_rank;
    let _ = writeln!(
        out,
        "\n/// The case's code, as the sweep runs it.\nfn f(x: &Args, s: &Sample) -> Tensor<{o}> {{\n    {}\n}}\n",
        family.code
    );
    let inputs: Vec<String> = case
        .inputs()
        .entries()
        .iter()
        .map(|e| {
            format!(
                "        (\"{}\", vec!{:?}, vec!{:?}),",
                e.name, e.shape, e.values
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "fn main() {{\n    let s = Sample {{ dims: vec!{:?}, layout: Layout::{} }};\n    let inputs: Vec<(&str, Vec<usize>, Vec<f64>)> = vec![\n{}\n    ];\n    \
         let target = run(&{}, {}, &s, &inputs);\n    \
         let reference = run(&{}, DType::F64, &s, &inputs);\n    \
         report(\"forward values\", &target.0, &reference.0);\n    \
         for (k, (t, r)) in target.1.iter().zip(&reference.1).enumerate() {{\n        \
         report(&format!(\"gradient of Σ wⱼ·outⱼ in {{}}\", inputs[k].0), t, r);\n    }}\n}}\n",
        case.sample.dims,
        layout_name(case.sample.layout),
        inputs.join("\n"),
        device_expression(&target.backend),
        dtype(target.place.precision),
        device_expression(&target.reference_backend),
    );
    let _ = writeln!(out, "{}", RUNNER.replace("RANK", &o.to_string()));
    out
}

fn layout_name(layout: Layout) -> &'static str {
    match layout {
        Layout::Contiguous => "Contiguous",
        Layout::Transposed => "Transposed",
        Layout::Stepped => "Stepped",
        Layout::Broadcast => "Broadcast",
    }
}

/// The inputs by name, as the sweep hands them to a case: flat leaves on
/// the device, reshaped on reading.
const SHIM: &str = r#"
/// The inputs by name: flat leaves, reshaped on reading.
pub struct Args {
    device: Device,
    dtype: DType,
    tensors: Vec<(String, Vec<usize>, Tensor<1>)>,
}

impl Args {
    pub fn get<const D: usize>(&self, name: &str) -> Tensor<D> {
        let (_, shape, leaf) = self.tensors.iter().find(|(n, _, _)| n == name).unwrap();
        leaf.clone().reshape(<[usize; D]>::try_from(shape.as_slice()).unwrap())
    }
    pub fn device(&self) -> Device {
        self.device.clone()
    }
    pub fn dtype(&self) -> DType {
        self.dtype
    }
}

/// The sample: the case's dimensions and its operands' layout.
pub struct Sample {
    pub dims: Vec<usize>,
    pub layout: Layout,
}

impl Sample {
    pub fn d(&self, i: usize) -> usize {
        self.dims[i]
    }
    pub fn rc(&self) -> [usize; 2] {
        [self.dims[0], self.dims[1]]
    }
}
"#;

/// Runs `f` under autodiff on a device and compares two runs.
const RUNNER: &str = r#"/// f's output and the gradient of Σ wⱼ·outⱼ (wⱼ = (j + 1)/n) in each input.
fn run(device: &Device, dtype: DType, s: &Sample, inputs: &[(&str, Vec<usize>, Vec<f64>)]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let device = device.clone().autodiff();
    let tensors = inputs
        .iter()
        .map(|(name, shape, values)| {
            let leaf = Tensor::<1>::from_data(TensorData::new(values.clone(), [values.len()]), (&device, dtype));
            (name.to_string(), shape.clone(), leaf.require_grad())
        })
        .collect();
    let x = Args { device: device.clone(), dtype, tensors };
    let out = f(&x, s);
    let n = out.shape().num_elements();
    let w: Vec<f64> = (0..n).map(|j| (j + 1) as f64 / n as f64).collect();
    let w = Tensor::<1>::from_data(TensorData::new(w, [n]), (&device, dtype));
    let values = out.to_data().convert::<f64>().to_vec::<f64>().unwrap();
    let grads = (out.reshape([n]) * w).sum().backward();
    let gradients = x
        .tensors
        .iter()
        .map(|(_, _, leaf)| match leaf.grad(&grads) {
            Some(g) => g.to_data().convert::<f64>().to_vec::<f64>().unwrap(),
            None => vec![0.0; leaf.shape().num_elements()],
        })
        .collect();
    (values, gradients)
}

/// The worst entry of two runs: target against reference.
fn report(what: &str, target: &[f64], reference: &[f64]) {
    let worst = (0..target.len())
        .max_by(|&i, &j| (target[i] - reference[i]).abs().total_cmp(&(target[j] - reference[j]).abs()))
        .unwrap_or(0);
    println!(
        "{what}: worst entry {worst}: target {:.17e}, reference {:.17e}, |difference| {:.3e}",
        target[worst],
        reference[worst],
        (target[worst] - reference[worst]).abs()
    );
}"#;

/// The findings as a Markdown report: one section per failure.
pub fn markdown(findings: &[Finding]) -> String {
    let mut out = String::from("# `backprop conformance` findings\n\n");
    if findings.is_empty() {
        out.push_str("Every case passed: nothing to reproduce.\n");
    }
    for f in findings {
        let row = &f.shrunk;
        let _ = writeln!(
            out,
            "## {} on {}\n\n- found at: {}\n- smallest failing sample: {:?} ({})\n- failed: {}\n- suspect: {}\n- worst relative difference: {:.3e}",
            row.op,
            row.place,
            f.found.shapes,
            f.dims,
            row.shapes,
            row.failed.join(", "),
            f.found.suspect.as_deref().unwrap_or("unknown"),
            row.worst_relative,
        );
        if let Some(known) = known_failure((&row.op, &row.sample), &row.backend, row.precision) {
            let _ = writeln!(out, "- known upstream: {}", known.reproduction);
        }
        let _ = writeln!(
            out,
            "\nThe check's report (expected = reference, computed = target):\n\n```text\n{}```\n\nStandalone reproduction (burn only):\n\n```rust\n{}```\n",
            row.detail.as_deref().unwrap_or_default(),
            f.program
        );
    }
    out
}
