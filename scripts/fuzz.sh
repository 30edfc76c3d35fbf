#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of untrusted input (cargo fuzz,
# libFuzzer, on the nightly toolchain): CSV data, IDX files (raw and gzip),
# the JSON interchange files, options and grid files, saved models.
#
#   bash scripts/fuzz.sh [target …]        # default: every target
#   FUZZ_RUNS=1000000 bash scripts/fuzz.sh  # executions per target (default 10^6)
#
# Each target starts from the committed seeds (fuzz/seeds/<target>) and keeps
# its growing corpus in fuzz/corpus/<target> (not committed). An allocation
# above 512 MiB counts as a crash: the parsers must not allocate for sizes an
# input merely claims. A crashing input lands in fuzz/artifacts/<target>/;
# copy it to fuzz/regressions/<target>/ so that `cargo test --release`
# (tests/fuzz_regressions.rs) replays it from then on. CI does not fuzz.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
runs="${FUZZ_RUNS:-1000000}"
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(csv idx interchange options burnpack gate)
cargo +nightly fuzz build
status=0
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  log="corpus/$target.log"
  start=$(date +%s)
  if cargo +nightly fuzz run "$target" "corpus/$target" "seeds/$target" -- \
      -runs="$runs" -malloc_limit_mb=512 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 >"$log" 2>&1; then
    verdict="no crash"
  else
    verdict="CRASH: see $log and fuzz/artifacts/$target/"
    status=1
  fi
  executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  printf '%-12s %10s executions in %4d s, corpus %4d inputs: %s\n' \
    "$target" "${executed:-?}" "$(( $(date +%s) - start ))" \
    "$(find "corpus/$target" -type f | wc -l)" "$verdict"
done
exit $status
