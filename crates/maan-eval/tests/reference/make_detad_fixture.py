#!/usr/bin/env python3
"""Makes the DETAD reference fixture of maan-eval's `diagnose` module by running DETAD's own
code (Alwassel et al., ECCV 2018, github.com/HumamAlwassel/DETAD) on two small synthetic
cases, and writes what it computes:

    detad/thumos14_gt.json, detad/thumos14_detections.json        THUMOS14-style case
    detad/activitynet_gt.json, detad/activitynet_detections.json  ActivityNet-style case
    detad/expected.json                                           DETAD's numbers for both

usage: make_detad_fixture.py DETAD_DIR [OUT_DIR]

DETAD_DIR is a checkout of DETAD (its `src/` is imported; nothing of it is copied here).
OUT_DIR defaults to `detad/` beside this script. Tested with DETAD at commit
24f7d9509214d08989efaa0276b91e85fb9591cb on Python 3.11 with numpy 1.23.5, pandas 1.5.3,
joblib 1.6.0 and matplotlib 3.7.5 (imported by DETAD's scripts, never drawn with):

    python3 -m venv /tmp/detad-venv
    /tmp/detad-venv/bin/pip install numpy==1.23.5 pandas==1.5.3 joblib matplotlib==3.7.5
    /tmp/detad-venv/bin/python make_detad_fixture.py /path/to/DETAD

DETAD's code runs unmodified (numpy 1.23 still has `np.int` / `np.float`; pandas 1.5 groups a
categorical by every category, as the pandas DETAD was written for does, so an empty bucket
gives NaN, written as null).

The data are synthetic but shaped like each benchmark, with a fixed seed (the files are the
same on every run): THUMOS14-like videos of 40 s to 15 min with 1 to 90 short instances, and
ActivityNet-like videos with 1 to 10 long instances; detections are jittered copies of the
instances (true positives and localization errors), second copies (double detections), copies
with another label (wrong label and confusion), and detections on background, with continuous
scores. Every score is distinct, so DETAD's unstable sorts (numpy quicksort by score) give one
order; the Rust code breaks ties its own way (documented in `diagnose`).

The characteristics DETAD reads from its annotation files are computed here as the Rust code
computes them from a plain ground truth: length = end - start (seconds), coverage = length /
video duration, num-instances = the number of instances in the video (every class), the
definitions of DETAD's own data files (data/thumos14_test_extra_characteristics.json).

The cases also hold the inputs DETAD treats specially: a zero-length instance (dropped), an
instance longer than its video (coverage > 1, dropped), one detection in a video without
ground truth (a background error; a second one there would meet DETAD's stale-ground-truth
bug, see the Rust docs), a class with more than 10G detections (the 10G limit), and 30
confident false alarms of one class ahead of its true positives (the normalized precision of
its first true positives is below 0.05: the false-negative analysis unmatches them).
"""
import json
import os
import sys

import numpy as np

THUMOS_CLASSES = ["BaseballPitch", "CliffDiving", "HammerThrow", "LongJump", "PoleVault", "Shotput"]
ANET_CLASSES = ["Archery", "Bathing dog", "Cleaning windows", "Doing karate", "Ice fishing",
                "Making a sandwich", "Playing drums", "Rafting"]

# DETAD's settings, as its three scripts set them (false_positive_analysis.py,
# sensitivity_analysis.py, false_negative_analysis.py, `main`).
THUMOS_BINS = {
    "coverage": (np.array([0, 0.02, 0.04, 0.06, 0.08, 1]), ["XS", "S", "M", "L", "XL"]),
    "length": (np.array([0, 3, 6, 12, 18, np.inf]), ["XS", "S", "M", "L", "XL"]),
    "num-instances": (np.array([-1, 1, 40, 80, np.inf]), ["XS", "S", "M", "L"]),
}
ANET_BINS = {
    "coverage": (np.linspace(0, 1.0, 6), ["XS", "S", "M", "L", "XL"]),
    "length": (np.array([0, 30, 60, 120, 180, np.inf]), ["XS", "S", "M", "L", "XL"]),
    "num-instances": (np.array([-1, 1, 4, 8, np.inf]), ["XS", "S", "M", "L"]),
}


def r2(x):
    return float(round(float(x), 2))


def place(rng, duration, lengths):
    """Non-overlapping segments of the given lengths in [0, duration], in time order."""
    total = sum(lengths)
    if total > 0.9 * duration:  # several long instances: shrink them to fit
        lengths = [l * 0.9 * duration / total for l in lengths]
        total = sum(lengths)
    free = duration - total
    gaps = rng.dirichlet(np.ones(len(lengths) + 1)) * free
    out, t = [], 0.0
    for g, l in zip(gaps, lengths):
        t += g
        out.append([r2(t), r2(min(t + l, duration))])
        t += l
    return out


def jitter(rng, seg, duration, scale):
    s, e = seg
    l = max(e - s, 0.1)
    ns = s + rng.normal(0, scale) * l
    ne = e + rng.normal(0, scale) * l
    ns, ne = max(ns, 0.0), min(ne, duration)
    if ne <= ns + 0.05:
        ne = min(ns + 0.5, duration)
        ns = max(ne - 0.5, 0.0)
    return [r2(ns), r2(ne)]


def make_case(seed, classes, videos, subset, prefix, length_dist, extras):
    """videos: list of (duration, number of instances). Returns (gt, detections)."""
    rng = np.random.default_rng(seed)
    database, results = {}, {}
    for vi, (duration, n) in enumerate(videos):
        vid = f"{prefix}{vi + 1:07d}"
        main = rng.choice(len(classes), size=1 + (n > 3 and rng.random() < 0.4), replace=False)
        lengths = [length_dist(rng, duration) for _ in range(n)]
        segs = place(rng, duration, lengths)
        anns = [{"segment": s, "label": classes[int(rng.choice(main))]} for s in segs]
        database[vid] = {"subset": subset, "duration": r2(duration), "annotations": anns}
        dets = []
        for a in anns:
            c = a["label"]
            other = classes[(classes.index(c) + 1 + int(rng.integers(len(classes) - 1))) % len(classes)]
            if rng.random() < 0.85:   # a hit, good or loose
                dets.append((c, jitter(rng, a["segment"], duration, rng.choice([0.05, 0.15, 0.4])),
                             rng.beta(5, 2)))
            if rng.random() < 0.35:   # a second copy: double detection or localization error
                dets.append((c, jitter(rng, a["segment"], duration, 0.2), rng.beta(3, 3)))
            if rng.random() < 0.2:    # another label on the instance: wrong label or confusion
                dets.append((other, jitter(rng, a["segment"], duration, rng.choice([0.05, 0.5])),
                             rng.beta(2, 3)))
            if rng.random() < 0.3:    # far off the instance: localization error or background
                s, e = a["segment"]
                shift = (e - s) * rng.uniform(0.6, 3.0) * rng.choice([-1, 1])
                dets.append((c, jitter(rng, [s + shift, e + shift], duration, 0.1), rng.beta(2, 4)))
        for _ in range(int(rng.integers(1, 4 + n))):  # background
            l = length_dist(rng, duration)
            s = rng.uniform(0, max(duration - l, 1.0))
            dets.append((classes[int(rng.integers(len(classes)))], [r2(s), r2(min(s + l, duration))],
                         rng.beta(1.5, 5)))
        results[vid] = [{"label": c, "segment": seg, "score": float(sc)} for c, seg, sc in dets
                        if seg[1] > seg[0]]
    extras(rng, database, results)
    # Distinct scores (6 decimals): DETAD's sorts are not stable.
    seen = set()
    for dets in results.values():
        for d in dets:
            s = round(d["score"], 6)
            while s in seen:
                s = round(s + 1e-6, 6)
            seen.add(s)
            d["score"] = s
    gt = {"version": "synthetic", "taxonomy": [], "database": database}
    det = {"version": "synthetic", "external_data": {}, "results": results}
    return gt, det


def thumos_extras(rng, database, results):
    vids = sorted(database)
    # A zero-length instance (DETAD drops it).
    database[vids[3]]["annotations"].append({"segment": [10.0, 10.0], "label": THUMOS_CLASSES[0]})
    # One detection in a video without ground truth (a background error).
    results["video_test_9999999"] = [{"label": THUMOS_CLASSES[2], "segment": [3.2, 9.6], "score": 0.61}]
    # A class with few instances and many detections: the 10G limit cuts it.
    v = database[vids[0]]
    v["annotations"].append({"segment": [1.0, 4.5], "label": "SoccerPenalty"})
    results[vids[0]] += [{"label": "SoccerPenalty",
                          "segment": jitter(rng, [1.0, 4.5], v["duration"], 0.3 + 0.05 * k),
                          "score": float(rng.uniform(0.05, 0.9))} for k in range(14)]
    # A burst of confident false alarms of one class: its first true positives come after 30
    # false positives, where the normalized precision is below 0.05, so the false-negative
    # analysis unmatches them.
    v = database[vids[8]]
    burst = THUMOS_CLASSES[3]
    for _ in range(30):
        s = float(rng.uniform(0, v["duration"] - 6))
        results[vids[8]].append({"label": burst, "segment": [r2(s), r2(s + rng.uniform(1, 6))],
                                 "score": float(rng.uniform(0.97, 0.9999))})


def anet_extras(rng, database, results):
    vids = sorted(database)
    # An instance longer than its video (coverage > 1: DETAD drops it).
    d = database[vids[5]]["duration"]
    database[vids[5]]["annotations"].append({"segment": [0.0, r2(d * 1.1)], "label": ANET_CLASSES[1]})


def thumos_length(rng, duration):
    return float(np.clip(rng.lognormal(np.log(5.0), 0.7), 0.8, 60.0))


def anet_length(rng, duration):
    return float(np.clip(duration * rng.beta(1.3, 1.3), 2.0, duration * 0.95))


def add_characteristics(gt):
    """DETAD's extra annotations, computed as maan-eval computes them."""
    out = json.loads(json.dumps(gt))
    for v in out["database"].values():
        n = len(v["annotations"])
        for a in v["annotations"]:
            s, e = a["segment"]
            length = e - s
            a["length"] = length
            a["coverage"] = length / v["duration"]
            a["num-instances"] = n
    return out


def nan_to_none(x):
    x = float(x)
    return None if np.isnan(x) else x


def run_detad(detad_src, gt_path, det_path, subset, tious, bins):
    sys.path.insert(0, detad_src)
    from action_detector_diagnosis import ActionDetectorDiagnosis
    from false_positive_analysis import split_predictions_by_score_ranges
    from sensitivity_analysis import compute_average_mAP_N_for_characteristic
    from false_negative_analysis import fn_distribution_by_characteristic

    def make(limit_factor, min_prec):
        return ActionDetectorDiagnosis(
            ground_truth_filename=gt_path, prediction_filename=det_path,
            tiou_thresholds=tious, limit_factor=limit_factor, min_tiou_thr=0.1, subset=subset,
            verbose=False, load_extra_annotations=True, characteristic_names_to_bins=bins,
            normalize_ap=True, minimum_normalized_precision_threshold_for_detection=min_prec)

    out = {"tiou_thresholds": [float(t) for t in tious]}
    # False positive analysis (false_positive_analysis.py: limit 10G, threshold 0.0).
    fp = make(10, 0.0)
    fp.evaluate()
    fp.diagnose()
    _, _, pct = split_predictions_by_score_ranges(fp, fp.limit_factor)
    names = ["True Positive", "Double Detection Err", "Wrong Label Err", "Localization Err",
             "Confusion Err", "Background Err"]
    out["false_positive"] = {
        "average_mAP_N": float(fp.average_mAP),
        "mAP_N": [float(x) for x in fp.mAP],
        "num_predictions": int(len(fp.prediction)),
        "error_counts_avg": {k: float(fp.fp_error_types_count_df["avg"][k]) for k in names},
        "profile": [{k: nan_to_none(pct[g]["avg"][k]) for k in names} for g in range(10)],
        "average_mAP_gain": {k: float(v) for k, v in fp.average_mAP_gain.items()},
    }
    # Sensitivity analysis (sensitivity_analysis.py: no limit, threshold 0.0).
    sa = make(None, 0.0)
    sa.evaluate()
    out["average_num_instance_per_class"] = float(sa.average_num_instance_per_class)
    out["num_ground_truth"] = int(len(sa.ground_truth))
    out["sensitivity"] = {"base_average_mAP_N": float(sa.average_mAP), "mAP_N": [float(x) for x in sa.mAP]}
    for name in bins:
        vals = compute_average_mAP_N_for_characteristic(sa, name)
        out["sensitivity"][name] = {str(k): nan_to_none(v) for k, v in vals.items()}
    # False negative analysis (false_negative_analysis.py: no limit, threshold 0.05).
    fn = make(None, 0.05)
    fn.evaluate()
    out["false_negative"] = {"average_mAP_N": float(fn.average_mAP)}
    for name in bins:
        dist = fn_distribution_by_characteristic(fn, name)
        out["false_negative"][name] = {str(k): float(v) for k, v in dist["avg"]["unmatched"].items()}
    sys.path.remove(detad_src)
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    detad_src = os.path.join(os.path.abspath(sys.argv[1]), "src")
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "detad")
    os.makedirs(out_dir, exist_ok=True)
    tmp = os.path.join(out_dir, ".tmp")
    os.makedirs(tmp, exist_ok=True)

    # THUMOS14-like: instances per video spread over DETAD's THUMOS14 buckets (1, 2-40,
    # 41-80, 81+).
    thumos_videos = [(r2(d), n) for d, n in [
        (45.3, 1), (62.7, 1), (180.2, 2), (95.4, 3), (240.9, 5), (130.6, 7), (300.1, 12),
        (75.8, 4), (420.4, 20), (210.3, 9), (520.7, 28), (700.2, 45), (860.5, 60),
        (910.9, 90), (150.2, 6), (38.1, 1), (260.4, 15), (333.3, 10)]]
    # ActivityNet-like: 1 to 10 long instances (buckets 1, 2-4, 5-8, 9+).
    anet_videos = [(r2(d), n) for d, n in [
        (30.2, 1), (45.7, 1), (60.3, 1), (90.6, 2), (120.1, 1), (150.8, 3), (180.4, 1),
        (200.9, 2), (236.5, 1), (95.2, 4), (130.3, 5), (210.7, 6), (60.9, 2), (75.1, 1),
        (300.6, 9), (360.2, 10), (110.4, 1), (140.5, 2), (400.3, 1), (520.8, 2), (48.5, 1),
        (88.8, 3), (170.7, 1), (222.2, 8)]]
    cases = {
        "thumos14": dict(seed=14, classes=THUMOS_CLASSES, videos=thumos_videos,
                         subset="test", prefix="video_test_", length=thumos_length,
                         extras=thumos_extras, bins=THUMOS_BINS, tious=[0.5],
                         extra_tious=[0.1, 0.3, 0.5, 0.7]),
        "activitynet": dict(seed=13, classes=ANET_CLASSES, videos=anet_videos,
                            subset="validation", prefix="v_synthetic_", length=anet_length,
                            extras=anet_extras, bins=ANET_BINS,
                            tious=[float(t) for t in np.linspace(0.5, 0.95, 10)], extra_tious=None),
    }
    expected = {
        "detad_commit": "24f7d9509214d08989efaa0276b91e85fb9591cb",
        "note": "made by make_detad_fixture.py: DETAD's own code on the files beside this one",
        "cases": {},
    }
    for name, c in cases.items():
        gt, det = make_case(c["seed"], c["classes"], c["videos"], c["subset"], c["prefix"],
                            c["length"], c["extras"])
        gt_path = os.path.join(out_dir, f"{name}_gt.json")
        det_path = os.path.join(out_dir, f"{name}_detections.json")
        with open(gt_path, "w") as f:
            json.dump(gt, f, separators=(",", ":"))
        with open(det_path, "w") as f:
            json.dump(det, f, separators=(",", ":"))
        detad_gt = os.path.join(tmp, f"{name}_gt_characteristics.json")
        with open(detad_gt, "w") as f:
            json.dump(add_characteristics(gt), f)
        # JSON has no infinity: an unbounded last edge is null.
        bins_json = {k: {"edges": [float(x) if np.isfinite(x) else None for x in b], "labels": l}
                     for k, (b, l) in c["bins"].items()}
        runs = {"detad_settings": run_detad(detad_src, detad_gt, det_path, c["subset"], c["tious"], c["bins"])}
        if c["extra_tious"]:
            runs["several_tious"] = run_detad(detad_src, detad_gt, det_path, c["subset"],
                                              c["extra_tious"], c["bins"])
        expected["cases"][name] = {"subset": c["subset"], "bins": bins_json, "runs": runs}
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    for p in os.listdir(tmp):
        os.remove(os.path.join(tmp, p))
    os.rmdir(tmp)
    print("wrote", out_dir)


if __name__ == "__main__":
    main()
