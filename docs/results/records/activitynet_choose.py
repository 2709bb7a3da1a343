#!/usr/bin/env python3
"""How the ActivityNet recipe was chosen and reported (docs/results/activitynet.md, rounds 1-5
and "Reporting").

Remakes the ActivityNet-shaped family of `maan experiment regimes --dataset activitynet` (the
base and one low and one high value of each property), trains the given models on each cell
with the given seeds (runs kept under OUT, a finished one is not trained again), and
evaluates every trained model with every candidate localization by editing the run's
`config.json` (the `localize` field `maan test` uses). One JSON line per model, seed, cell and
localization on stdout, and appended to OUT/grid.jsonl (a rerun evaluates only what is
missing).

    python3 docs/results/records/activitynet_choose.py target/release/maan 0,1,2 out/ \
        [STPN,MAAN-e5s10,...] [paper,L3,L3att5,...] > grid.jsonl

Round 1 was `... 0,1,2 OUT STPN,MAAN,MAAN-e5s10 paper,L1,L2,L3` (its records,
`activitynet-choose-seeds0-2.jsonl`, were written by an earlier version of this script with
one line per trained model and the four localizations as fields).

`ACTIVITYNET_CELLS="context=0,coverage=0.3-0.5"` in the environment restricts a run to those
cells (round 5's screen on seed 0).

Needs only the `maan` binary and Python's standard library.
"""
import copy
import json
import os
import shutil
import subprocess
import sys

BIN, SEEDS, OUT = sys.argv[1], [int(s) for s in sys.argv[2].split(",")], sys.argv[3]
os.makedirs(OUT, exist_ok=True)


def run(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, check=True).stdout


# The family's base: `maan synth --dataset activitynet --dim 64` with 20 classes and the class
# context on half of the shots outside the instances (`activitynet_family` in
# crates/maan-experiments/src/family.rs). Written to `_base`: the base cell is made from it.
if not os.path.exists(f"{OUT}/_base/synth.json"):
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

# Round 3's recipe for MAAN (the paper's flag keeps the rest of the paper's training).
RECIPE3 = ["--aggregator", "maa", "--erase", "0.5", "--segments", "10", "--background", "bas",
           "--paper"]
MODELS = {
    "STPN": ["--aggregator", "stpn"],
    "MAAN-e5s10": ["--aggregator", "maa", "--erase", "0.5", "--segments", "10", "--paper"],
    "MAAN": ["--aggregator", "maa", "--paper"],
    "MAAN-s10": ["--aggregator", "maa", "--segments", "10", "--paper"],
    "MAAN-e3s10": ["--aggregator", "maa", "--erase", "0.3", "--segments", "10", "--paper"],
    "MAAN-e5s20": ["--aggregator", "maa", "--erase", "0.5", "--paper"],
    # Variations of the recipe's training, tried after round 2's choice.
    "STPN-bas": ["--aggregator", "stpn", "--background", "bas"],
    "MAAN-e5s10-bas": ["--aggregator", "maa", "--erase", "0.5", "--segments", "10",
                       "--background", "bas", "--paper"],
    "MAAN-e4s10": ["--aggregator", "maa", "--erase", "0.4", "--segments", "10", "--paper"],
    "MAAN-e6s10": ["--aggregator", "maa", "--erase", "0.6", "--segments", "10", "--paper"],
    "MAAN-e5s8": ["--aggregator", "maa", "--erase", "0.5", "--segments", "8", "--paper"],
    "MAAN-e5s14": ["--aggregator", "maa", "--erase", "0.5", "--segments", "14", "--paper"],
    # Round 4: variations of round 3's recipe (MAAN-e5s10-bas), and STPN's batch size.
    **{f"MAAN-e5s10-bas{suffix}": RECIPE3 + extra for suffix, extra in [
        ("-p50", ["--erase-probability", "0.5"]),
        ("-p75", ["--erase-probability", "0.75"]),
        ("-lr1e3", ["--lr", "1e-3"]),
        ("-lr25e5", ["--lr", "2.5e-4"]),
        ("-b32", ["--batch-size", "32"]),
        ("-b64", ["--batch-size", "64"]),
    ]},
    "MAAN-e7s10-bas-p50": ["--aggregator", "maa", "--erase", "0.7", "--segments", "10",
                           "--background", "bas", "--erase-probability", "0.5", "--paper"],
    "MAAN-e3s10-bas": ["--aggregator", "maa", "--erase", "0.3", "--segments", "10",
                       "--background", "bas", "--paper"],
    "STPN-b32": ["--aggregator", "stpn", "--batch-size", "32"],
    # Round 5: attention-guided erasing (`--attention-erase`) on round 4's recipe (b32), or
    # in place of its random block.
    **{f"MAAN-e5s10-bas-b32-ae{n}": RECIPE3 + ["--batch-size", "32", "--attention-erase", f"0.{n}"]
       for n in (2, 4)},
    **{f"MAAN-s10-bas-b32-ae{n}": ["--aggregator", "maa", "--segments", "10", "--background",
                                   "bas", "--batch-size", "32", "--attention-erase", f"0.{n}",
                                   "--paper"]
       for n in (1, 2, 3, 5)},
    **{f"MAAN-s{t}-bas-b32-ae25": ["--aggregator", "maa", "--segments", str(t), "--background",
                                   "bas", "--batch-size", "32", "--attention-erase", "0.25",
                                   "--paper"]
       for t in (8, 12)},
    "MAAN-s20-bas-b32-ae2": ["--aggregator", "maa", "--background", "bas", "--batch-size", "32",
                             "--attention-erase", "0.2", "--paper"],
    "STPN-b64": ["--aggregator", "stpn", "--batch-size", "64"],
}

PAPER = {"class_threshold": 0.1, "thresholds": {"RelativeToMax": [0.2, 0.15, 0.1, 0.05]},
         "attention_thresholds": None, "smoothing": 1, "relative_smoothing": 0.0, "upsample": 1,
         "score": "Mean", "nms_iou": 0.9, "nms_plus_one": False, "min_length": 1,
         "suppression": "Nms"}
SOFT = {"SoftNms": {"sigma": 0.3}}
LOW = {"RelativeToMax": [0.1, 0.05, 0.02]}
ATT = {"RelativeToMax": [0.5, 0.3, 0.2, 0.1]}
ATT_WIDE = {"RelativeToMax": [0.7, 0.5, 0.3, 0.2, 0.1, 0.05]}
OI = {"OuterInner": {"lambda": 0.25, "gamma": 0.2}}
S = {**PAPER, "relative_smoothing": 0.1, "suppression": SOFT}
CANDIDATES = {
    "paper": PAPER,  # the paper's procedure
    "L1": {**PAPER, "relative_smoothing": 0.1, "thresholds": LOW},
    "L2": S,  # round 1's STPN default
    "L3": {**S, "thresholds": LOW},  # round 1's `long`
    "W": {**S, "thresholds": {"RelativeToMax": [0.2, 0.15, 0.1, 0.05, 0.02]}},
    "VL": {**S, "thresholds": {"RelativeToMax": [0.05, 0.02, 0.01]}},
    "L3s15": {**S, "thresholds": LOW, "relative_smoothing": 0.15},
    "L3s05": {**S, "thresholds": LOW, "relative_smoothing": 0.05},
    "L3oi": {**S, "thresholds": LOW, "score": OI},
    "L2oi": {**S, "score": OI},
    "L3sig5": {**S, "thresholds": LOW, "suppression": {"SoftNms": {"sigma": 0.5}}},
    "L3sig2": {**S, "thresholds": LOW, "suppression": {"SoftNms": {"sigma": 0.2}}},
    "L3att": {**S, "thresholds": LOW, "attention_thresholds": ATT},
    "L2att": {**S, "attention_thresholds": ATT},
    "L3attW": {**S, "thresholds": LOW, "attention_thresholds": ATT_WIDE},
    "L2attW": {**S, "attention_thresholds": ATT_WIDE},
    "L3attA": {**S, "thresholds": LOW,
               "attention_thresholds": {"Absolute": [round(0.15 + 0.05 * i, 2) for i in range(17)]}},
    # Round 2's `long` (LocalizeConfig::activitynet_long).
    "L3att5": {**S, "thresholds": LOW, "attention_thresholds": ATT,
               "suppression": {"SoftNms": {"sigma": 0.5}}},
}
# Variations of L3att5, tried after it was chosen (a second look at seeds 0-2).
L3ATT5 = CANDIDATES["L3att5"]
CANDIDATES.update({
    "L3att7": {**L3ATT5, "suppression": {"SoftNms": {"sigma": 0.7}}},
    "L3att5hi": {**L3ATT5, "attention_thresholds": {"RelativeToMax": [0.7, 0.5, 0.3, 0.2]}},
    "L1att5": {**L3ATT5, "thresholds": {"RelativeToMax": [0.1]}},
    "L3att5s05": {**L3ATT5, "relative_smoothing": 0.05},
    "L3att5s15": {**L3ATT5, "relative_smoothing": 0.15},
    "L3att5oi": {**L3ATT5, "score": OI},
})
# Round 4: attention thresholds nearer the top (the recipe's attention is about a third of
# its maximum outside the instances), and the class threshold.
CANDIDATES.update({
    "L3att5r": {**L3ATT5, "attention_thresholds": {"RelativeToMax": [0.65, 0.55, 0.45, 0.4]}},
    "L3att5m": {**L3ATT5, "attention_thresholds": {"RelativeToMax": [0.6, 0.5, 0.4]}},
    "L3att5w": {**L3ATT5, "attention_thresholds": {"RelativeToMax": [0.6, 0.5, 0.4, 0.3, 0.2, 0.1]}},
    "L3att5c25": {**L3ATT5, "class_threshold": 0.25},
    "L3att5c50": {**L3ATT5, "class_threshold": 0.5},
})
# Round 5, before the screen: outer-inner proposal scores on L3att5 (seed 0, two cells).
CANDIDATES.update({
    "L3att5oi1": {**L3ATT5, "score": {"OuterInner": {"lambda": 0.25, "gamma": 0.0}}},
    "L3att5oi5": {**L3ATT5, "score": {"OuterInner": {"lambda": 0.5, "gamma": 0.2}}},
})
models = sys.argv[4].split(",") if len(sys.argv) > 4 else list(MODELS)
labels = sys.argv[5].split(",") if len(sys.argv) > 5 else list(CANDIDATES)
for m in models:
    assert m in MODELS, f"unknown model {m}"
for l in labels:
    assert l in CANDIDATES, f"unknown localization {l}"

cache = f"{OUT}/grid.jsonl"
seen = set()
if os.path.exists(cache):
    for line in open(cache):
        r = json.loads(line)
        seen.add((r["cell"], r["seed"], r["model"], r["label"]))
log = open(cache, "a")
# ACTIVITYNET_CELLS="context=0,base" restricts a run to those cells (a quick look).
only = os.environ.get("ACTIVITYNET_CELLS")
for name, config in CELLS.items():
    if only and name not in only.split(","):
        continue
    data = f"{OUT}/{name.replace(' ', '_')}"
    if not os.path.exists(data):
        json.dump(config, open(f"{data}.json", "w"))
        run("synth", "--out", data, "--config", f"{data}.json")
    for seed in SEEDS:
        for model in models:
            out = f"{data}-{model}-{seed}"
            if not os.path.exists(f"{out}/done"):
                shutil.rmtree(out, ignore_errors=True)
                run("train", "--dataset", "activitynet", "--data-dir", data, "--iterations",
                    "3000", "--eval-every", "0", "--seed", str(seed), "--run", out, "--quiet",
                    *MODELS[model])
                open(f"{out}/done", "w").close()
            path = f"{out}/config.json"
            saved = json.load(open(path))
            for label in labels:
                if (name, seed, model, label) in seen:
                    continue
                json.dump({**saved, "localize": CANDIDATES[label]}, open(path, "w"))
                try:
                    text = run("test", "--run", out, "--detections", f"{out}/{label}.json")
                finally:
                    json.dump(saved, open(path, "w"))
                row = [l for l in text.splitlines() if l.startswith("mAP (%)")][0].split()
                record = {"cell": name, "seed": seed, "model": model, "label": label,
                          "map": float(row[-2]), "cls": float(row[-1])}
                line = json.dumps(record)
                print(line, flush=True)
                log.write(line + "\n")
                log.flush()
