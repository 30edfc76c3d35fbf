#!/usr/bin/env bash
# One sitting of every speed comparison the project reports
# (docs/performance.md): the bench's step rows and end-to-end epoch on
# ndarray and flex, ndarray again built against OpenBLAS (with BENCH_BLAS=1;
# needs libopenblas-dev), then the same step and epoch in numpy and PyTorch
# (when installed). This machine's speed drifts, so compare figures from one run of
# this script, not across runs.
#
#   bash scripts/bench-peers.sh [backprop bench flags; default --reps 15 --warmup 3]
#
# Output: a log per part in runs/bench-peers/ and everything on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
out=runs/bench-peers
mkdir -p "$out"
bench_flags=("$@")
[[ ${#bench_flags[@]} -gt 0 ]] || bench_flags=(--reps 15 --warmup 3)

echo "## backprop bench (default build)"
cargo build --release --example backprop -q
target/release/examples/backprop bench --backends ndarray,flex --dtypes f32,f64 \
  "${bench_flags[@]}" | tee "$out/default.txt"

if [[ -n "${BENCH_BLAS:-}" ]]; then
  # burn-ndarray's products through the system OpenBLAS (Debian's
  # libopenblas-dev), enabled on burn directly: measured and not kept as a
  # feature of this crate, since flex is as fast or faster on every shape
  # (docs/performance.md).
  echo "## backprop bench (ndarray through OpenBLAS: burn/openblas-system)"
  CARGO_TARGET_DIR="${BLAS_TARGET_DIR:-$PWD/target-blas}" \
    cargo build --release --features burn/openblas-system --example backprop -q
  "${BLAS_TARGET_DIR:-$PWD/target-blas}/release/examples/backprop" bench --backends ndarray \
    --dtypes f32,f64 "${bench_flags[@]}" | tee "$out/blas.txt"
fi

if python3 -c 'import numpy' 2>/dev/null; then
  for dtype in float32 float64; do
    echo "## numpy / PyTorch step, $dtype"
    python3 examples/numpy_step.py --reps 15 --warmup 3 --dtype "$dtype" | tee "$out/peers-step-$dtype.txt"
    echo "## numpy / PyTorch epoch, $dtype"
    python3 examples/numpy_step.py --epoch --dtype "$dtype" | tee "$out/peers-epoch-$dtype.txt"
  done
else
  echo "## peers skipped: numpy is not installed (pip install numpy torch)"
fi
