#!/usr/bin/env python3
"""A line-by-line, numpy-free port of ActivityNet's Evaluation/eval_detection.py
(compute_average_precision_detection, segment_iou, interpolated_prec_rec), used as an
independent oracle for maan-eval's detection_map.

usage: anet_eval_port.py GT.json SUBSET DET.json OUT.json

Ground truth: the ActivityNet-style "database" (segments as numbers or strings). Classes are the
labels present in the subset (as ANETdetection._import_ground_truth builds activity_index).
Detections for videos without ground truth of their class are false positives (the KeyError
catch). Thresholds: numpy linspace(0.1, 0.9, 9) computed as numpy does (i*step + start, last =
stop). Ties in score are resolved by Python's stable sort on -score (the Rust code orders ties
by video id, start, end; the fixture has no ties).
"""
import json
import sys


def linspace(start, stop, num):
    step = (stop - start) / (num - 1)
    v = [i * step + start for i in range(num)]
    v[-1] = stop
    return v


def segment_iou(target, candidates):
    out = []
    for (cs, ce) in candidates:
        tt1 = max(target[0], cs)
        tt2 = min(target[1], ce)
        inter = max(tt2 - tt1, 0.0)
        union = (ce - cs) + (target[1] - target[0]) - inter
        out.append(inter / union)
    return out


def interpolated_prec_rec(prec, rec):
    mprec = [0.0] + list(prec) + [0.0]
    mrec = [0.0] + list(rec) + [1.0]
    for i in range(len(mprec) - 1)[::-1]:
        mprec[i] = max(mprec[i], mprec[i + 1])
    idx = [i + 1 for i in range(len(mrec) - 1) if mrec[i + 1] != mrec[i]]
    return sum((mrec[i] - mrec[i - 1]) * mprec[i] for i in idx)


def compute_average_precision_detection(ground_truth, prediction, tiou_thresholds):
    """ground_truth: list of (video, start, end); prediction: list of (video, start, end, score)."""
    ap = [0.0] * len(tiou_thresholds)
    if not prediction:
        return ap
    npos = float(len(ground_truth))
    lock_gt = [[-1] * len(ground_truth) for _ in tiou_thresholds]
    order = sorted(range(len(prediction)), key=lambda i: -prediction[i][3])
    prediction = [prediction[i] for i in order]
    tp = [[0] * len(prediction) for _ in tiou_thresholds]
    fp = [[0] * len(prediction) for _ in tiou_thresholds]
    by_video = {}
    for gidx, (v, s, e) in enumerate(ground_truth):
        by_video.setdefault(v, []).append((gidx, s, e))
    for idx, (video, ps, pe, _score) in enumerate(prediction):
        if video not in by_video:
            for t in range(len(tiou_thresholds)):
                fp[t][idx] = 1
            continue
        this_gt = by_video[video]
        tiou_arr = segment_iou((ps, pe), [(s, e) for (_, s, e) in this_gt])
        # argsort()[::-1]: ascending (stable) then reversed.
        tiou_sorted_idx = sorted(range(len(tiou_arr)), key=lambda j: tiou_arr[j])[::-1]
        for tidx, tiou_thr in enumerate(tiou_thresholds):
            for jdx in tiou_sorted_idx:
                if tiou_arr[jdx] < tiou_thr:
                    fp[tidx][idx] = 1
                    break
                if lock_gt[tidx][this_gt[jdx][0]] >= 0:
                    continue
                tp[tidx][idx] = 1
                lock_gt[tidx][this_gt[jdx][0]] = idx
                break
            if fp[tidx][idx] == 0 and tp[tidx][idx] == 0:
                fp[tidx][idx] = 1
    for tidx in range(len(tiou_thresholds)):
        ctp, cfp, prec, rec = 0.0, 0.0, [], []
        for i in range(len(prediction)):
            ctp += tp[tidx][i]
            cfp += fp[tidx][i]
            rec.append(ctp / npos)
            prec.append(ctp / (ctp + cfp))
        ap[tidx] = interpolated_prec_rec(prec, rec)
    return ap


def main():
    gt_path, subset, det_path, out_path = sys.argv[1:5]
    db = json.load(open(gt_path))["database"]
    gt_by_label = {}
    for vid, v in db.items():
        if v["subset"] != subset:
            continue
        for a in v["annotations"]:
            s, e = float(a["segment"][0]), float(a["segment"][1])
            gt_by_label.setdefault(a["label"], []).append((vid, s, e))
    pred_by_label = {}
    for vid, dets in json.load(open(det_path))["results"].items():
        for d in dets:
            if d["label"] not in gt_by_label:
                raise KeyError(d["label"])
            pred_by_label.setdefault(d["label"], []).append(
                (vid, float(d["segment"][0]), float(d["segment"][1]), float(d["score"])))
    t = linspace(0.1, 0.9, 9)
    per_class = {}
    for label in sorted(gt_by_label):
        per_class[label] = compute_average_precision_detection(
            gt_by_label[label], pred_by_label.get(label, []), t)
    n = len(per_class)
    m = [sum(per_class[c][k] for c in per_class) / n for k in range(len(t))]
    json.dump({"tiou_thresholds": t, "mAP": m, "average_mAP": sum(m) / len(m),
               "per_class_AP": per_class}, open(out_path, "w"), indent=1)


if __name__ == "__main__":
    main()
