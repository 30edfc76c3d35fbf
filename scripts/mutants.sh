#!/usr/bin/env bash
# Mutation testing of the numerical core with cargo-mutants: every plausible
# bug cargo-mutants can plant in the activations, the cost, the layers, the
# network (forward, gradients, per-example loop, decay), the training update
# and optimizers, data-parallel gradients, the verification comparison and
# finite differences, and the verdict code of both checkers — does
# `cargo test --release` catch it?
#
#   bash scripts/mutants.sh [file …]      # default: the files below
#   MUTANTS_SHARD=0/4 bash scripts/mutants.sh   # one quarter of the mutants
#   MUTANTS_ITERATE=1 bash scripts/mutants.sh   # only those not caught last time
#
# It builds with the release profile (the one the tests use, so burn is
# optimised as in `cargo test --release`) in its own target directory,
# target-mutants/ (override with CARGO_TARGET_DIR), where this crate alone is
# compiled incrementally at opt-level 1: a mutant then rebuilds in about 7 s
# instead of 30 s. The first run builds burn there once (about 7 minutes on
# 2 cores). It runs the test binaries that check numbers (not the CLI, bench
# or remote ones), and gives each mutant three times the unmutated test time.
# Outcome: mutants.out/ (caught.txt, missed.txt, unviable.txt, timeout.txt,
# outcomes.json) and a summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-mutants >/dev/null || cargo install cargo-mutants --locked
files=("$@")
[[ ${#files[@]} -gt 0 ]] || files=(
  src/activation.rs src/cost.rs src/layer/dense.rs src/layer/mod.rs src/network.rs
  crates/burn-gradcheck/src/params.rs src/gradients/mod.rs src/gradients/numeric.rs
  src/training/executor.rs src/training/config.rs src/training/step.rs
  src/training/optimizer.rs src/training/objective.rs src/training/parallel.rs
  src/verification/compare.rs src/verification/check.rs
  crates/burn-gradcheck/src/agreement.rs crates/burn-gradcheck/src/check.rs
  crates/burn-gradcheck/src/check/full.rs crates/burn-gradcheck/src/check/fast.rs
  crates/burn-gradcheck/src/report.rs crates/burn-gradcheck/src/subject.rs
  crates/burn-gradcheck/src/inputs.rs crates/burn-gradcheck/src/manual.rs
)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target-mutants}"
# Only the workspace's crates' profile changes: burn's artifacts stay those
# of one `incremental = true` release build, shared by every mutant.
args=(-C --config -C profile.release.incremental=true)
for crate in manual-backprop burn-gradcheck; do
  args+=(-C --config -C "profile.release.package.$crate.opt-level=1"
         -C --config -C "profile.release.package.$crate.codegen-units=64")
done
for f in "${files[@]}"; do args+=(--file "$f"); done
[[ -n "${MUTANTS_SHARD:-}" ]] && args+=(--shard "$MUTANTS_SHARD")
[[ -n "${MUTANTS_ITERATE:-}" ]] && args+=(--iterate)
# The test binaries that check numbers, passed to every cargo invocation so
# that each mutant's build links only these (not the CLI, bench, remote ones);
# MUTANTS_TESTS="--lib gradcheck …" narrows them for a run on a few files.
tests=(${MUTANTS_TESTS:---lib autodiff_agreement reference_maths harness negative_controls \
       training optimizers data_parallel gradcheck custom_backward})
for t in "${tests[@]}"; do
  if [[ $t == --lib ]]; then args+=(-C --lib); else args+=(-C --test -C "$t"); fi
done
cargo mutants "${args[@]}" --profile release --gitignore true \
  --timeout-multiplier 3 --minimum-test-timeout 60 --output . \
  || true  # cargo-mutants exits non-zero when a mutant is missed: the summary says
for outcome in caught missed unviable timeout; do
  printf '%s %s  ' "$outcome" "$(wc -l < "mutants.out/$outcome.txt" 2>/dev/null || echo 0)"
done
echo
