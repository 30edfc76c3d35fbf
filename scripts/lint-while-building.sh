# Sourced by the scripts that build with extra cargo features
# (scripts/extra-features.sh, scripts/test-tch.sh): the builds that follow
# lint this crate's code as `cargo clippy -- -D warnings` does, as they
# compile it. clippy-driver compiles the crate's targets as rustc would and
# lints them on the way (`cargo clippy` has it do the same in check mode). A
# separate `cargo clippy` would first type-check burn's whole stack for those
# features a second time (check artefacts are not build artefacts): minutes
# on 2 cores. Only this crate goes through the wrapper; dependencies build as
# usual.
if clippy_driver="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)"; then
  export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" # = `-- -D warnings`
else
  echo "clippy-driver not found: the feature-gated code is built but not linted" >&2
fi
