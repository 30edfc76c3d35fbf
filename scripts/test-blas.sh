#!/usr/bin/env bash
# Builds and tests the `blas` feature: burn-ndarray's matrix products through
# the system OpenBLAS.
#
#   bash scripts/test-blas.sh [extra cargo test arguments]
#
# Installs Debian's libopenblas-dev with apt when the library is missing (as
# root, or through sudo), then runs the numeric test suites in their own
# target directory (target-blas, or $BLAS_TARGET_DIR) so that switching
# features never rebuilds the default build. The speed of that build is
# measured by `backprop bench` run from it:
#
#   CARGO_TARGET_DIR=target-blas cargo run --release --features blas \
#     --example backprop -- bench --backends ndarray,flex
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

if ! ldconfig -p | grep -q 'libopenblas\.so '; then
  echo "no OpenBLAS found: installing libopenblas-dev with apt" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev >/dev/null
fi
export CARGO_TARGET_DIR="${BLAS_TARGET_DIR:-$PWD/target-blas}"
# The suites that compare numbers: with BLAS the products are summed in
# another order, and every tolerance must still hold.
cargo test --release --features blas --lib --test autodiff_agreement --test reference_maths \
  --test harness --test negative_controls --test training --test optimizers "$@"
