# Sourced by scripts/test-wgpu.sh and scripts/test-remote.sh: the one feature
# set and target directory they share, so burn's GPU and remote stacks are
# compiled once for both (each alone is a 11–18 minute build on 2 cores).
# Override with EXTRA_FEATURES (e.g. `remote` alone) and EXTRA_TARGET_DIR.
export EXTRA_FEATURES="${EXTRA_FEATURES:-wgpu,remote}"
export CARGO_TARGET_DIR="${EXTRA_TARGET_DIR:-target-extra}"

# The lints of the feature-gated code (`clippy -D warnings`) run inside the
# build itself: clippy-driver compiles this crate's targets as rustc would and
# lints them on the way, as `cargo clippy` has it do in check mode. A separate
# `cargo clippy` would first type-check burn's whole GPU and remote stack a
# second time (check artefacts are not build artefacts), minutes on 2 cores.
# Only this crate goes through the wrapper; dependencies build as usual.
if clippy_driver="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)"; then
  export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" # = `-- -D warnings`
else
  echo "clippy-driver not found: the feature-gated code is built but not linted" >&2
fi
