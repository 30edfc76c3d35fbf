#!/usr/bin/env bash
# Runs the test suite with burn's remote backend built in
# (`cargo test --release --features remote`): tests/remote.rs starts
# `backprop serve` processes and in-process servers on free loopback ports,
# so nothing beyond this machine is needed.
#
#   bash scripts/test-remote.sh [extra cargo test arguments]
#
# It builds in its own target directory (target-remote, or $REMOTE_TARGET_DIR)
# so that switching features never rebuilds the default build.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${REMOTE_TARGET_DIR:-target-remote}"
cargo clippy --release --all-targets --features remote -- -D warnings
cargo test --release --features remote "$@"
