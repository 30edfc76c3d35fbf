#!/usr/bin/env bash
# One sitting of every speed comparison the project reports
# (docs/performance.md): the bench's step rows and end-to-end epoch on
# ndarray and flex, ndarray again built against OpenBLAS (with BENCH_BLAS=1;
# needs libopenblas-dev), burn's LibTorch backend (with BENCH_TCH=1: the
# feature `tch` in target-tch/, libtorch from scripts/setup-libtorch.sh), then
# the same step and epoch in numpy and PyTorch (the Python of .venv-tch when
# scripts/setup-libtorch.sh made it, else python3). This machine's speed
# drifts, so compare figures from one run of this script, not across runs.
#
#   bash scripts/bench-peers.sh [backprop bench flags; default --reps 15 --warmup 3]
#   ROUNDS=3 BENCH_TCH=1 bash scripts/bench-peers.sh   # alternated rounds, medians
#       (BENCH_BACKENDS=flex,tch narrows the crate's rows)
#
# Output: a log per part in runs/bench-peers/ and everything on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
out=runs/bench-peers
mkdir -p "$out"
bench_flags=("$@")
[[ ${#bench_flags[@]} -gt 0 ]] || bench_flags=(--reps 15 --warmup 3)

binary=target/release/examples/backprop
backends=ndarray,flex
if [[ -n "${BENCH_TCH:-}" ]]; then
  # One binary with the three backends, so that their rows share one sitting.
  bash scripts/setup-libtorch.sh >/dev/null
  source scripts/setup-libtorch.sh --env
  export CARGO_TARGET_DIR="${TCH_TARGET_DIR:-$PWD/target-tch}"
  # Built as scripts/test-tch.sh builds it, so the two share one build.
  source scripts/lint-while-building.sh
  binary="$CARGO_TARGET_DIR/release/examples/backprop"
  backends=ndarray,flex,tch
  cargo build --release --features tch --example backprop -q
  unset CARGO_TARGET_DIR RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
else
  cargo build --release --example backprop -q
fi
python=python3
[[ -x .venv-tch/bin/python ]] && python=.venv-tch/bin/python
# The glibc settings for freed memory that the backprop binary makes for
# itself (keep_freed_buffers in examples/backprop.rs), here for the Python
# peers, so that both sides run on the same allocator.
export MALLOC_MMAP_THRESHOLD_=$((32 << 20)) MALLOC_TRIM_THRESHOLD_=$((1 << 30))

if [[ -n "${ROUNDS:-}" ]]; then
  # Rounds that alternate the crate's rows and the peers, then the medians
  # (scripts/peers-summary.py): on a machine whose speed drifts within
  # minutes, one pass of each compares the crate and the peers at different
  # speeds.
  "$python" -c 'import numpy' 2>/dev/null ||
    { echo "ROUNDS needs numpy: bash scripts/setup-libtorch.sh installs numpy and PyTorch" >&2; exit 1; }
  rm -rf "$out"/round-*
  for round in $(seq 1 "$ROUNDS"); do
    dir="$out/round-$round"
    mkdir -p "$dir"
    echo "## round $round of $ROUNDS" >&2
    # Shape by shape, so that a row of the crate and the same row of the
    # peers are seconds apart, not minutes.
    for shape in digits mnist wide epoch; do
      "$binary" bench --backends "${BENCH_BACKENDS:-$backends}" --dtypes f32,f64 --json \
        --shapes "$shape" "${bench_flags[@]}" >> "$dir/crate.jsonl"
      for dtype in float32 float64; do
        if [[ $shape == epoch ]]; then
          "$python" examples/numpy_step.py --epoch --dtype "$dtype" >> "$dir/peers-epoch-$dtype.txt"
        else
          "$python" examples/numpy_step.py --reps 15 --warmup 3 --dtype "$dtype" \
            --shapes "$shape" >> "$dir/peers-step-$dtype.txt"
        fi
      done
    done
  done
  python3 scripts/peers-summary.py "$out" | tee "$out/summary.txt"
  exit 0
fi

echo "## backprop bench ($backends)"
"$binary" bench --backends "$backends" --dtypes f32,f64 \
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

if "$python" -c 'import numpy' 2>/dev/null; then
  for dtype in float32 float64; do
    echo "## numpy / PyTorch step, $dtype"
    "$python" examples/numpy_step.py --reps 15 --warmup 3 --dtype "$dtype" | tee "$out/peers-step-$dtype.txt"
    echo "## numpy / PyTorch epoch, $dtype"
    "$python" examples/numpy_step.py --epoch --dtype "$dtype" | tee "$out/peers-epoch-$dtype.txt"
  done
else
  echo "## peers skipped: numpy is not installed (bash scripts/setup-libtorch.sh installs numpy and PyTorch)"
fi
