#!/usr/bin/env bash
# The sweep's own power: plants realistic upstream bugs into scratch copies
# of burn-flex and burn-autodiff 0.22.1 (pristine, from the cargo registry),
# builds `backprop` against them through [patch.crates-io], and runs
# `backprop conformance --backend flex` once per bug (PLANT=<name> switches
# it on; scripts/plant.py has the bugs) and once with none. Every bug must
# make the sweep fail, and the clean run must pass; the table says which
# operations failed for each. Exit status 1 otherwise.
#
#   bash scripts/plant-upstream.sh            # the quick sweep (seconds per bug)
#   PLANT_SCOPE=full bash scripts/plant-upstream.sh
#
# Everything goes under target-plant/ (PLANT_DIR): a copy of the project,
# so its Cargo.lock is the one patched, and a target directory seeded from
# target/ when that exists, so only the patched crates and what depends on
# them are compiled again.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
dir="${PLANT_DIR:-$root/target-plant}"
scope="${PLANT_SCOPE:-quick}"
registry="$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -maxdepth 1 -mindepth 1 -type d | head -1)"
for crate in burn-flex-0.22.1 burn-autodiff-0.22.1; do
  if [[ ! -d "$registry/$crate" ]]; then
    echo "no pristine $crate under $registry: run \`cargo fetch\` first" >&2
    exit 1
  fi
done

rm -rf "$dir/project"
mkdir -p "$dir/src" "$dir/project"
python3 scripts/plant.py "$registry" "$dir/src"
# The committed project and the working tree's changes to it (not ignored
# files): what a clone would build.
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$dir/project"
if [[ ! -d "$dir/target" && -d target/release ]]; then
  echo "seeding $dir/target from target/ (only the patched crates rebuild)"
  cp -a target "$dir/target"
fi

export CARGO_TARGET_DIR="$dir/target"
(
  cd "$dir/project"
  cargo build --release --example backprop \
    --config "patch.crates-io.burn-flex.path='$dir/src/burn-flex-0.22.1'" \
    --config "patch.crates-io.burn-autodiff.path='$dir/src/burn-autodiff-0.22.1'"
)
bin="$CARGO_TARGET_DIR/release/examples/backprop"
flags=(conformance --backend flex)
[[ "$scope" == quick ]] && flags+=(--quick)

# One sweep; prints "rc failing-ops" for the JSON rows it wrote.
sweep() {
  local name="$1" out="$dir/rows-$1.json" rc=0
  PLANT="$name" "$bin" "${flags[@]}" --json --out "$out" >/dev/null 2>&1 || rc=$?
  python3 - "$out" "$rc" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1])) if sys.argv[2] in ("0", "1") else []
bad = [r for r in rows if r["verdict"] in ("fail", "error", "refused")]
ops = sorted({f'{r["op"]} ({r["precision"]})' for r in bad})
print(sys.argv[2], len(bad), "; ".join(ops) if ops else "-")
EOF
}

status=0
echo
echo "| planted bug | crate | what it breaks | exit | failing rows | operations that failed |"
echo "|---|---|---|---|---|---|"
read -r rc count ops < <(sweep none)
echo "| (none) | | the pristine behaviour | $rc | $count | $ops |"
[[ "$rc" == 0 ]] || { echo "the sweep fails with no bug planted" >&2; status=1; }
while IFS=$'\t' read -r name crate what; do
  read -r rc count ops < <(sweep "$name")
  echo "| $name | $crate | $what | $rc | $count | $ops |"
  if [[ "$rc" != 1 || "$count" == 0 ]]; then
    echo "planted bug $name was NOT caught" >&2
    status=1
  fi
done < <(python3 scripts/plant.py --table)
exit "$status"
