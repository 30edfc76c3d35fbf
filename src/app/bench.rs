//! `backprop bench`: one training step, hand-written vs autodiff, per shape,
//! backend and precision, as a table or JSON lines.

use crate::backend::DeviceDescription;
use crate::bench;
use crate::error::Error;
use crate::gradients::GradientSource;
use crate::heap;
use crate::network::Network;
use crate::training::threads;
use crate::{Backend, Precision};
use burn::tensor::Tensor;
use std::path::PathBuf;
use std::process::ExitCode;

/// Peak heap bytes one step of `source` allocates above what was live before it.
fn step_peak_bytes(
    source: GradientSource,
    network: Network,
    x: &Tensor<2>,
    y: &Tensor<2>,
) -> Result<usize, Error> {
    let before = heap::in_use();
    heap::reset_peak();
    let (network, _) = bench::step(source, network, x, y)?;
    let peak = heap::peak();
    drop(network);
    Ok(peak.saturating_sub(before))
}

/// What `backprop bench` measures.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchRequest {
    /// Shapes to run: the step of digits 64-25-10 m=1797, mnist 784-256-256-10 m=128,
    /// wide 1024-1024-1024-10 m=256; and epoch, one whole epoch of MNIST
    /// 784-300-10 with m=32 (synthetic data of that shape without --mnist-dir files).
    #[arg(long, value_delimiter = ',', default_value = "digits,mnist,wide,epoch")]
    pub shapes: Vec<String>,
    /// Backends: flex, ndarray, wgpu/cuda/tch in builds with those features, remote (with --remote URL) or ws:// URLs.
    #[arg(long, value_delimiter = ',', default_value = "ndarray,flex")]
    pub backends: Vec<Backend>,
    /// Precisions.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "f32,f64")]
    pub dtypes: Vec<Precision>,
    /// Unmeasured repetitions before timing.
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    /// Timed repetitions (each: a manual step, an autodiff step, the forward pass,
    /// the kernels alone); medians are reported.
    #[arg(long, default_value_t = 10)]
    pub reps: usize,
    /// Timed epochs of the end-to-end row (after one unmeasured epoch).
    #[arg(long, default_value_t = 3)]
    pub epoch_reps: usize,
    /// Where the end-to-end row looks for MNIST (synthetic data of its shape otherwise).
    #[arg(long, default_value = "data/mnist")]
    pub mnist_dir: PathBuf,
    /// One JSON object per row instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The name that selects the end-to-end row in [`BenchRequest::shapes`].
pub const EPOCH_ROW: &str = "epoch";

/// Measures every row of `args` and prints it, as a table or JSON lines.
pub fn run(args: BenchRequest) -> Result<ExitCode, Error> {
    let epoch_row = args.shapes.iter().any(|name| name == EPOCH_ROW);
    let shapes = step_shapes(&args.shapes)?;
    let devices = describe_devices(&args)?;
    if !args.json && !shapes.is_empty() {
        print_header();
    }
    for shape in &shapes {
        for (backend, description) in args.backends.iter().zip(&devices) {
            for &dtype in &args.dtypes {
                match backend.device_for(dtype) {
                    Err(e) => print_skipped(&args, shape, backend, dtype, description, &e),
                    Ok(_) => step_row(&args, shape, backend, dtype, description)?,
                }
            }
        }
    }
    if !args.json && !shapes.is_empty() {
        print_footer(&args);
    }
    if epoch_row {
        run_epoch_row(&args, &devices)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The step shapes named in `names` (the epoch row aside).
fn step_shapes(names: &[String]) -> Result<Vec<bench::Shape>, Error> {
    names
        .iter()
        .filter(|name| *name != EPOCH_ROW)
        .map(|name| {
            bench::shapes()
                .into_iter()
                .find(|s| &s.name == name)
                .ok_or_else(|| Error::InvalidParameter {
                    name: "shapes",
                    value: name.clone(),
                    reason: "known shapes are digits, mnist, wide and epoch (the end-to-end row)"
                        .into(),
                })
        })
        .collect()
}

/// Says which device each backend is before any number: a GPU backend on a
/// software adapter (lavapipe) measures CPU emulation, not GPU speed.
fn describe_devices(args: &BenchRequest) -> Result<Vec<DeviceDescription>, Error> {
    let mut devices = Vec::new();
    for backend in &args.backends {
        let description = crate::backend::describe(&backend.device()?);
        if !args.json {
            println!(
                "# {backend}: {description}{}",
                if description.emulated {
                    " — its timings measure CPU emulation, not GPU speed"
                } else {
                    ""
                }
            );
        }
        devices.push(description);
    }
    Ok(devices)
}

fn print_header() {
    println!(
        "{:<7} {:<8} {:<5} {:>10} {:>12} {:>7} {:>6} {:>9} {:>8} {:>7} {:>11} {:>8} {:>6} {:>7} {:>11} {:>13} {:>10}",
        "shape",
        "backend",
        "dtype",
        "manual ms",
        "autodiff ms",
        "ad/man",
        "bound",
        "nodes ms",
        "nd/man",
        "fwd ms",
        "kernels ms",
        "GFLOP/s",
        "GEMM",
        "% GEMM",
        "manual MiB",
        "autodiff MiB",
        "nodes MiB"
    );
}

/// A row whose device cannot compute `dtype`.
fn print_skipped(
    args: &BenchRequest,
    shape: &bench::Shape,
    backend: &Backend,
    dtype: Precision,
    description: &DeviceDescription,
    e: &Error,
) {
    if args.json {
        let json = serde_json::json!({
            "shape": shape.name, "backend": backend, "dtype": dtype,
            "device": description.to_string(), "skipped": e.to_string(),
        });
        println!("{json}");
    } else {
        println!(
            "{:<7} {:<8} {dtype:<5} skipped: {e}",
            shape.name,
            backend.name()
        );
    }
}

/// Heap peak of one step of `source` in MiB, measured on a fresh network
/// outside the timed loop, on the threads training would use. The first step
/// on a thread also allocates that thread's lasting GEMM packing buffers, as
/// the first step of a run does: the second step is the one reported.
fn step_mib(
    shape: &bench::Shape,
    backend: &Backend,
    dtype: Precision,
    source: GradientSource,
) -> Result<f64, Error> {
    let (net, x, y) = shape.setup(backend, dtype)?;
    let device = net.device();
    let bytes = threads::like_steps(&net, shape.m, &device, || {
        step_peak_bytes(source, net.clone(), &x, &y)?;
        step_peak_bytes(source, net.clone(), &x, &y)
    })?;
    Ok(bytes as f64 / 1048576.0)
}

/// Measures and prints one step row.
fn step_row(
    args: &BenchRequest,
    shape: &bench::Shape,
    backend: &Backend,
    dtype: Precision,
    description: &DeviceDescription,
) -> Result<(), Error> {
    // Measured next to the row it judges: this machine's speed drifts.
    let gemm_gflops = bench::gemm_gflops(backend, dtype, GEMM_REFERENCE_N, 3)?;
    let row = bench::measure(shape, backend, dtype, args.warmup, args.reps)?;
    let mem_manual = step_mib(shape, backend, dtype, GradientSource::Manual)?;
    let mem_autodiff = step_mib(shape, backend, dtype, GradientSource::Autodiff)?;
    let mem_nodes = step_mib(shape, backend, dtype, GradientSource::Nodes)?;
    let gflops = shape.flops() / (row.manual_ms * 1e-3) / 1e9;
    let of_gemm = 100.0 * gflops / gemm_gflops;
    if args.json {
        let json = serde_json::json!({
            "shape": shape.name, "sizes": shape.sizes, "m": shape.m, "backend": backend, "dtype": dtype,
            "device": description.to_string(), "adapter": description.adapter, "emulated": description.emulated,
            "manual_ms": row.manual_ms, "autodiff_ms": row.autodiff_ms, "ratio": row.ratio,
            "ratio_bound": row.ratio_bound(), "nodes_ms": row.nodes_ms, "nodes_ratio": row.nodes_ratio,
            "forward_ms": row.forward_ms,
            "kernel_floor_ms": row.kernel_floor_ms(), "forward_kernels_ms": row.forward_kernels_ms,
            "backward_kernels_ms": row.backward_kernels_ms, "manual_gflops": gflops,
            "gemm_reference_gflops": gemm_gflops, "percent_of_gemm": of_gemm,
            "manual_peak_mib": mem_manual, "autodiff_peak_mib": mem_autodiff, "nodes_peak_mib": mem_nodes,
        });
        println!("{json}");
    } else {
        println!(
            "{:<7} {:<8} {:<5} {:>10.3} {:>12.3} {:>7.2} {:>6.2} {:>9.3} {:>8.2} {:>7.3} {:>11.3} {:>8.1} {:>6.0} {:>7.0} {:>11.2} {:>13.2} {:>10.2}",
            shape.name,
            // A server's URL is in the `#` line above the table.
            backend.name(),
            dtype,
            row.manual_ms,
            row.autodiff_ms,
            row.ratio,
            row.ratio_bound(),
            row.nodes_ms,
            row.nodes_ratio,
            row.forward_ms,
            row.kernel_floor_ms(),
            gflops,
            gemm_gflops,
            of_gemm,
            mem_manual,
            mem_autodiff,
            mem_nodes
        );
    }
    Ok(())
}

fn print_footer(args: &BenchRequest) {
    println!(
        "ad/man, nd/man: medians of back-to-back runs. nodes: burn's autodiff with each layer one node \
         whose backward is the hand-written one. bound: autodiff ms / (fwd ms + the backward's matmuls alone), the \
         ratio a backward costing only its matmuls would reach. fwd: forward + cost alone \
         (shared by both). kernels: the step's matmuls and exp alone. GEMM: GFLOP/s of the best of three \
         {n}x{n} matmuls run just before the row; % GEMM: the step's share of it.",
        n = GEMM_REFERENCE_N
    );
    if args
        .backends
        .iter()
        .any(|b| matches!(b, Backend::Remote(_)))
    {
        println!(
            "remote: every operation is sent to the server and every read-back waits for it; \
             the MiB columns count this process's heap only, not the server's."
        );
    }
    if args.backends.iter().any(|b| b.name() == "tch") {
        println!(
            "tch: libtorch allocates its tensors with its own C++ allocator, which the MiB columns \
             (Rust's heap) do not see: its near-zero figures are not a measurement."
        );
    }
}

/// The end-to-end row: one epoch of mini-batch training per backend and dtype.
fn run_epoch_row(args: &BenchRequest, devices: &[DeviceDescription]) -> Result<(), Error> {
    let data = bench::epoch_data(&args.mnist_dir)?;
    let [_, hidden, _] = bench::EPOCH_SIZES;
    let setting = format!(
        "one epoch of {} {}-{hidden}-{}, m = {}, {} steps",
        data.name,
        data.n_features,
        data.targets.width(),
        bench::EPOCH_BATCH,
        data.len().div_ceil(bench::EPOCH_BATCH),
    );
    if !args.json {
        println!("\nend to end: {setting}");
        println!(
            "{:<8} {:<5} {:>10} {:>12} {:>7} {:>9} {:>8} {:>13}",
            "backend", "dtype", "manual s", "autodiff s", "ad/man", "nodes s", "nd/man", "steps/s"
        );
    }
    for (backend, description) in args.backends.iter().zip(devices) {
        for &dtype in &args.dtypes {
            if let Err(e) = backend.device_for(dtype) {
                if !args.json {
                    println!("{:<8} {dtype:<5} skipped: {e}", backend.name());
                }
                continue;
            }
            let row = bench::measure_epoch(&data, backend, dtype, 1, args.epoch_reps)?;
            let steps_per_s = row.steps as f64 / (row.manual_ms * 1e-3);
            if args.json {
                let json = serde_json::json!({
                    "shape": EPOCH_ROW, "data": data.name, "sizes": [data.n_features, hidden, data.targets.width()],
                    "m": bench::EPOCH_BATCH, "examples": data.len(), "steps": row.steps,
                    "backend": backend, "dtype": dtype, "device": description.to_string(),
                    "manual_epoch_ms": row.manual_ms, "autodiff_epoch_ms": row.autodiff_ms,
                    "ratio": row.ratio, "nodes_epoch_ms": row.nodes_ms, "nodes_ratio": row.nodes_ratio,
                    "manual_steps_per_s": steps_per_s,
                });
                println!("{json}");
            } else {
                println!(
                    "{:<8} {:<5} {:>10.3} {:>12.3} {:>7.2} {:>9.3} {:>8.2} {:>13.0}",
                    backend.name(),
                    dtype,
                    row.manual_ms / 1e3,
                    row.autodiff_ms / 1e3,
                    row.ratio,
                    row.nodes_ms / 1e3,
                    row.nodes_ratio,
                    steps_per_s
                );
            }
        }
    }
    if !args.json {
        println!(
            "epoch: the training loop's updates only (shuffle, batch selection, forward, gradients, \
             update), median of {} epochs after one unmeasured; `python3 examples/numpy_step.py --epoch` \
             times the same epoch in numpy and PyTorch.",
            args.epoch_reps.max(1)
        );
    }
    Ok(())
}

/// Side of the square matrix product that measures a backend's reachable GEMM rate.
const GEMM_REFERENCE_N: usize = 2048;
