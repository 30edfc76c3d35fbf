#!/usr/bin/env bash
# Runs the CPU backends' test suite with burn's LibTorch backend among them
# (cargo feature `tch`: `Backend::ALL` then holds ndarray, flex and tch), in
# its own target directory (target-tch) so that switching features never
# rebuilds the default build: agreement of the hand-written gradients with
# autodiff, the harness and the checker, training, save and load across
# backends, the hand-written autodiff nodes, the op sweep.
#
#   bash scripts/test-tch.sh [extra cargo test arguments]
#
# Installs libtorch first if needed (scripts/setup-libtorch.sh: PyTorch 2.9.0
# from PyPI in .venv-tch, 6.8 GB installed). A cold build adds torch-sys's C++
# wrapper (one 770 kB translation unit against libtorch's headers) to burn's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-libtorch.sh
source scripts/setup-libtorch.sh --env
export CARGO_TARGET_DIR="${TCH_TARGET_DIR:-target-tch}"
source scripts/lint-while-building.sh
# Some tests start the `backprop` binary, which a filtered `cargo test` does not build.
cargo build --release --features tch --example backprop
cargo test --release --features tch "$@"
