#!/usr/bin/env python3
"""Medians over the rounds of `ROUNDS=N bash scripts/bench-peers.sh`.

Reads runs/bench-peers/round-*/ (the JSON rows of `backprop bench --json` and
the tables of examples/numpy_step.py) and prints one table: per shape and
dtype the median ms per step (s per epoch) of each backend and peer over the
rounds, and each backend's speed against the best peer (best peer's time over
ours: 1 or more is at or ahead of it). Rounds alternate the crate and the
peers, so a drift of the machine's speed reaches both alike.
"""
import glob
import json
import os
import statistics
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "runs/bench-peers"
rounds = sorted(glob.glob(os.path.join(out, "round-*")))
if not rounds:
    sys.exit(f"no {out}/round-* directories: run ROUNDS=N bash scripts/bench-peers.sh first")

times = {}  # (shape, dtype) -> {column: [values]}


def add(shape, dtype, column, value):
    times.setdefault((shape, dtype), {}).setdefault(column, []).append(value)


for directory in rounds:
    with open(os.path.join(directory, "crate.jsonl")) as rows:
        for line in rows:
            row = json.loads(line)
            if row["shape"] == "epoch":
                add("epoch", row["dtype"], row["backend"], row["manual_epoch_ms"] / 1e3)
            else:
                add(row["shape"], row["dtype"], row["backend"], row["manual_ms"])
    for dtype, short in (("float32", "f32"), ("float64", "f64")):
        with open(os.path.join(directory, f"peers-step-{dtype}.txt")) as table:
            for line in table:
                cells = line.split()
                if len(cells) == 4 and cells[0] in ("digits", "mnist", "wide"):
                    add(cells[0], short, "numpy", float(cells[1]))
                    add(cells[0], short, "PyTorch", float(cells[3]))
        with open(os.path.join(directory, f"peers-epoch-{dtype}.txt")) as table:
            for line in table:
                if line.startswith("numpy "):
                    add("epoch", short, "numpy", float(line.split()[2]))
                elif line.startswith("PyTorch "):
                    add("epoch", short, "PyTorch", float(line.split()[-2]))

peers = ["numpy", "PyTorch"]
backends = sorted({c for cols in times.values() for c in cols} - set(peers),
                  key=lambda b: ["ndarray", "flex", "tch"].index(b) if b in ("ndarray", "flex", "tch") else 9)
print(f"medians of {len(rounds)} rounds; ms per step, s per epoch")
header = ["shape", "dtype"] + backends + peers + [f"{b} vs best peer" for b in backends]
print(" | ".join(header))
for shape in ("digits", "mnist", "wide", "epoch"):
    for dtype in ("f32", "f64"):
        columns = times.get((shape, dtype))
        if not columns:
            continue
        median = {c: statistics.median(v) for c, v in columns.items()}
        best = min(median[p] for p in peers if p in median)
        cells = [shape, dtype] + [f"{median[c]:.4g}" if c in median else "-" for c in backends + peers]
        cells += [f"{best / median[b]:.2f}x" if b in median else "-" for b in backends]
        print(" | ".join(cells))
