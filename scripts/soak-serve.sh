#!/usr/bin/env bash
# A served device under load, faults and hostile input (scripts/soak-serve.py):
# builds `backprop` with the cargo features of scripts/extra-features.sh, then
# drives one `backprop serve` on loopback. The defaults are the full soak
# (8 clients for 10 minutes, 1,000 sessions: about 15 minutes); CI runs
#   bash scripts/soak-serve.sh --clients 4 --duration 30 --sessions 100
# Traffic goes to 127.0.0.1 only; the script stops by itself (exit 1 on any
# mismatch with local flex, a server that stops or panics, or memory past its
# bound).
#
#   bash scripts/soak-serve.sh [--clients N] [--duration S] [--sessions N]
#                              [--json FILE] [--curve FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/extra-features.sh
cargo build --release --features "$EXTRA_FEATURES" --example backprop
python3 scripts/soak-serve.py --backprop "$CARGO_TARGET_DIR/release/examples/backprop" "$@"
