#!/usr/bin/env bash
# Runs the tests of burn's remote backend: tests/remote.rs (servers on free
# loopback ports — `backprop serve` processes and in-process ones — so nothing
# beyond this machine is needed; it includes the op sweep on a served device),
# tests/data_parallel.rs and the library's unit tests, all with the cargo
# features of scripts/extra-features.sh (remote and wgpu), linted as they build.
#
#   bash scripts/test-remote.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/extra-features.sh
# The tests start the `backprop` binary, which a filtered `cargo test` does not build.
cargo build --release --features "$EXTRA_FEATURES" --example backprop
cargo test --release --features "$EXTRA_FEATURES" --lib --test remote --test data_parallel "$@"
