//! Times the hand-written training step of any layer sizes and batch size on
//! rayon's global pool: how training's one-thread rule for small steps
//! (`manual_backprop::training::threads`) is re-measured on a new machine or
//! after a GEMM change. Run it under `RAYON_NUM_THREADS=1` and `=2`, alternated:
//!
//! ```text
//! cargo build --release --example step_threads
//! for m in 32 64 128 256 512; do for t in 1 2 1 2; do
//!   echo "m=$m threads=$t $(RAYON_NUM_THREADS=$t target/release/examples/step_threads 784-300-10 $m)"
//! done; done
//! ```
//!
//! Arguments: `SIZES M [STEPS] [f32|f64] [BACKEND]`; prints the median ms of
//! `STEPS` (default 300) steps after five unmeasured ones.

use manual_backprop::bench::{Shape, step};
use manual_backprop::gradients::GradientSource;
use manual_backprop::{Backend, Precision};
use std::error::Error;
use std::time::Instant;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: step_threads SIZES M [STEPS] [f32|f64] [BACKEND], e.g. 784-300-10 32";
    let (Some(sizes), Some(m)) = (args.first(), args.get(1)) else {
        return Err(usage.into());
    };
    let sizes = sizes
        .split('-')
        .map(str::parse)
        .collect::<Result<Vec<usize>, _>>()
        .map_err(|e| format!("SIZES {sizes}: {e}; {usage}"))?;
    let shape = Shape {
        name: "custom".into(),
        sizes,
        m: m.parse().map_err(|e| format!("M {m}: {e}; {usage}"))?,
    };
    let steps: usize = args.get(2).map_or(Ok(300), |s| s.parse())?;
    let precision = match args.get(3).map(String::as_str) {
        None | Some("f32") => Precision::F32,
        Some("f64") => Precision::F64,
        Some(other) => return Err(format!("{other}: f32 or f64; {usage}").into()),
    };
    let backend: Backend = args.get(4).map_or(Ok(Backend::Flex), |s| s.parse())?;

    let (mut network, x, y) = shape.setup(&backend, precision)?;
    for _ in 0..5 {
        network = step(GradientSource::Manual, network, &x, &y)?.0;
    }
    let mut ms = Vec::with_capacity(steps);
    for _ in 0..steps.max(1) {
        let start = Instant::now();
        network = step(GradientSource::Manual, network, &x, &y)?.0;
        ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    println!("{:.4}", ms[ms.len() / 2]);
    Ok(())
}
