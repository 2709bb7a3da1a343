#!/usr/bin/env python3
"""How the ActivityNet recipe was chosen (docs/results/activitynet.md, "Choosing").

Remakes the ActivityNet-shaped family of `maan experiment regimes --dataset activitynet`
(the base and one low and one high value of each property), trains STPN, MAAN, and MAAN
with the recipe's training (`--erase 0.5 --segments 10`) on each cell with the given seeds,
and evaluates every trained model with four candidate localizations by editing the run's
`config.json` (the `localize` field `maan test` uses). One JSON line per trained model.

    python3 docs/results/activitynet_choose.py target/release/maan 0,1,2 out/ > choose.jsonl

Needs only the `maan` binary and Python's standard library.
"""
import copy
import json
import os
import subprocess
import sys

BIN, SEEDS, OUT = sys.argv[1], [int(s) for s in sys.argv[2].split(",")], sys.argv[3]
os.makedirs(OUT, exist_ok=True)


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, check=True).stdout


# The family's base: `maan synth --dataset activitynet --dim 64` with 20 classes and the class
# context on half of the shots outside the instances (cmd/regimes.rs, `activitynet_family`).
# (Written to `_base`, not `base`: the base cell below is made from it with 20 classes, and a
# folder named `base` would be taken for that cell's data.)
run("synth", "--out", f"{OUT}/_base", "--dataset", "activitynet", "--dim", "64")
BASE = json.load(open(f"{OUT}/_base/synth.json"))
BASE["activitynet_classes"] = 20
BASE["signal"]["context_shots"] = 0.5


def cell(edit):
    c = copy.deepcopy(BASE)
    edit(c, c["signal"])
    return c


CELLS = {
    "base": cell(lambda c, s: None),
    "dominance=1": cell(lambda c, s: s.update(peak=1.0 * s["rest"])),
    "dominance=8": cell(lambda c, s: s.update(peak=8.0 * s["rest"])),
    "context=0": cell(lambda c, s: s.update(context=0.0)),
    "context=2.5 everywhere": cell(lambda c, s: s.update(context=2.5, context_shots=1.0)),
    "actionness=0.5": cell(lambda c, s: s.update(actionness=0.5)),
    "actionness=3": cell(lambda c, s: s.update(actionness=3.0)),
    "coverage=0.3-0.5": cell(lambda c, s: c.update(coverage=[0.3, 0.5])),
    "coverage=0.7-0.9": cell(lambda c, s: c.update(coverage=[0.7, 0.9])),
    "noise-correlation=0": cell(lambda c, s: s.update(noise_correlation=0.0)),
    "noise-correlation=0.97": cell(lambda c, s: s.update(noise_correlation=0.97)),
}

PAPER = {"class_threshold": 0.1, "thresholds": {"RelativeToMax": [0.2, 0.15, 0.1, 0.05]},
         "attention_thresholds": None, "smoothing": 1, "relative_smoothing": 0.0, "upsample": 1,
         "score": "Mean", "nms_iou": 0.9, "nms_plus_one": False, "min_length": 1,
         "suppression": "Nms"}
SOFT = {"SoftNms": {"sigma": 0.3}}
LOW = {"RelativeToMax": [0.1, 0.05, 0.02]}
CANDIDATES = {
    "paper": PAPER,
    "L1": {**PAPER, "relative_smoothing": 0.1, "thresholds": LOW},
    "L2": {**PAPER, "relative_smoothing": 0.1, "suppression": SOFT},
    "L3": {**PAPER, "relative_smoothing": 0.1, "thresholds": LOW, "suppression": SOFT},
}
MODELS = {
    "STPN": ["--aggregator", "stpn"],
    "MAAN": ["--aggregator", "maa", "--paper"],
    "MAAN-e5s10": ["--aggregator", "maa", "--erase", "0.5", "--segments", "10", "--paper"],
}

for name, config in CELLS.items():
    data = f"{OUT}/{name.replace(' ', '_')}"
    if not os.path.exists(data):
        json.dump(config, open(f"{data}.json", "w"))
        run("synth", "--out", data, "--config", f"{data}.json")
    for seed in SEEDS:
        for model, flags in MODELS.items():
            out = f"{data}-{model}-{seed}"
            run("train", "--dataset", "activitynet", "--data-dir", data, "--iterations", "3000",
                "--eval-every", "0", "--seed", str(seed), "--output", out, "--quiet", *flags)
            path = f"{out}/config.json"
            saved = json.load(open(path))
            record = {"cell": name, "seed": seed, "model": model}
            for label, localize in CANDIDATES.items():
                json.dump({**saved, "localize": localize}, open(path, "w"))
                text = run("test", "--checkpoint", out, "--detections", f"{out}/{label}.json")
                row = [l for l in text.splitlines() if l.startswith("mAP (%)")][0].split()
                record[label], record["cls"] = float(row[-2]), float(row[-1])
            json.dump(saved, open(path, "w"))
            print(json.dumps(record), flush=True)
