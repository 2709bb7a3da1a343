#!/usr/bin/env python3
"""The baselines' localization on THUMOS14-shaped data: the paper preset against `oic`
(docs/results/thumos-baselines.md).

Makes the five synthetic THUMOS14 regimes of `maan experiment ablation` (`maan synth --regime R
--dim 64`), trains each aggregator (default: STPN) on each with the given seeds (4,000 iterations per stream, as the
ablation), and tests every trained model with `--localize paper` and `--localize oic`. One JSON
line per aggregator, regime, seed and preset (average mAP over tIoU 0.1:0.5, the
classification mAP).

    python3 docs/results/records/thumos_baselines_localize.py target/release/maan 0,1,2 OUT \
        [stpn,dropout,norm,softmax-norm] > baselines.jsonl

Needs only the `maan` binary and Python's standard library.
"""
import json
import os
import shutil
import subprocess
import sys

BIN, SEEDS, OUT = sys.argv[1], [int(s) for s in sys.argv[2].split(",")], sys.argv[3]
AGGREGATORS = sys.argv[4].split(",") if len(sys.argv) > 4 else ["stpn"]
os.makedirs(OUT, exist_ok=True)


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, check=True).stdout


for regime in ["realistic", "peaked", "uniform", "clutter", "legacy"]:
    data = f"{OUT}/{regime}"
    if not os.path.exists(f"{data}/synth.json"):
        run("synth", "--out", data, "--regime", regime, "--dim", "64")
    for seed in SEEDS:
        for agg in AGGREGATORS:
            out = f"{data}-{agg}-{seed}"
            shutil.rmtree(out, ignore_errors=True)
            run("train", "--data-dir", data, "--aggregator", agg, "--iterations", "4000",
                "--eval-every", "0", "--seed", str(seed), "--run", out, "--quiet")
            for preset in ["paper", "oic"]:
                text = run("test", "--run", out, "--localize", preset,
                           "--detections", f"{out}/{preset}.json")
                head = [l for l in text.splitlines() if l.startswith("tIoU")][0].split()
                row = [l for l in text.splitlines() if l.startswith("mAP (%)")][0].split()[2:]
                values = dict(zip(head[1:], row))
                print(json.dumps({"aggregator": agg, "regime": regime, "seed": seed,
                                  "preset": preset,
                                  "avg0.1:0.5": float(values["avg0.1:0.5"]),
                                  "cls": float(values["cls-mAP"])}), flush=True)
