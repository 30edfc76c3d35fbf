# Sourced by scripts/test-wgpu.sh and scripts/test-remote.sh: the one feature
# set and target directory they share, so burn's GPU and remote stacks are
# compiled once for both (each alone is a 11–18 minute build on 2 cores).
# Override with EXTRA_FEATURES (e.g. `remote` alone) and EXTRA_TARGET_DIR.
export EXTRA_FEATURES="${EXTRA_FEATURES:-wgpu,remote}"
export CARGO_TARGET_DIR="${EXTRA_TARGET_DIR:-target-extra}"
# The feature-gated code is linted as it builds.
source "$(dirname "${BASH_SOURCE[0]}")/lint-while-building.sh"
