//! DETAD's `evaluate`: the instances and their characteristics, every detection matched per
//! class and tIoU threshold (ActivityNet's greedy matching in score order), and the normalized
//! AP.

use std::collections::HashMap;

use crate::annotations::GroundTruth;
use crate::detections::DetectionFile;
use crate::error::{EvalError, Result};
use crate::eval::{interpolated_ap, temporal_iou};

/// "Matched to no instance".
pub(crate) const NONE: u32 = u32::MAX;

/// One ground-truth instance that the analyses keep.
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    /// Index of its video among the ground truth's videos.
    pub video: u32,
    /// Index of its class in [`Matched::classes`].
    pub class: u32,
    pub start: f64,
    pub end: f64,
    /// `end − start`, seconds.
    pub length: f64,
    /// `length / duration`, when the video's duration is known.
    pub coverage: Option<f64>,
    /// Instances in its video (every class, before any is dropped).
    pub num_instances: f64,
}

/// One detection, in its class's ranking.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pred {
    /// Index of its video among the ground truth's videos, [`NONE`] when not there.
    pub video: u32,
    pub start: f64,
    pub end: f64,
}

/// Everything the three analyses read.
pub(crate) struct Matched {
    /// The ground truth's labels, sorted.
    pub classes: Vec<String>,
    /// The instances kept; an instance's id is its index.
    pub instances: Vec<Instance>,
    /// Instances dropped (zero length, coverage above 1).
    pub dropped: usize,
    /// Per video of the ground truth: its kept instances, in file order.
    pub video_instances: Vec<Vec<u32>>,
    /// Kept instances per class.
    pub class_npos: Vec<usize>,
    /// DETAD's `average_num_instance_per_class`: kept instances / classes.
    pub avg_per_class: f64,
    /// tIoU thresholds.
    pub tious: Vec<f64>,
    /// Per class, its detections by descending score.
    pub preds: Vec<Vec<Pred>>,
    /// `matched[t][c][rank]`: the instance the detection of that rank matches at threshold
    /// `t`, or [`NONE`].
    pub matched: Vec<Vec<Vec<u32>>>,
    /// What was dropped.
    pub warnings: Vec<String>,
}

impl Matched {
    /// Reads the instances and detections and matches them.
    pub fn new(gt: &GroundTruth, dets: &DetectionFile, tious: &[f64]) -> Result<Matched> {
        let classes: Vec<String> = gt.labels().into_iter().collect();
        let class_of: HashMap<&str, u32> = classes
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i as u32))
            .collect();
        let mut instances = Vec::new();
        let mut video_instances = Vec::with_capacity(gt.videos.len());
        let mut dropped = 0;
        let mut video_of = HashMap::with_capacity(gt.videos.len());
        for (vi, (id, v)) in gt.videos.iter().enumerate() {
            video_of.insert(id.as_str(), vi as u32);
            let mut kept = Vec::new();
            let n = v.segments.len() as f64;
            for s in &v.segments {
                let length = s.end - s.start;
                let coverage = v.duration.filter(|d| *d > 0.0).map(|d| length / d);
                if s.start >= s.end || coverage.is_some_and(|c| c > 1.0) {
                    dropped += 1;
                    continue;
                }
                kept.push(instances.len() as u32);
                instances.push(Instance {
                    video: vi as u32,
                    class: class_of[s.label.as_str()],
                    start: s.start,
                    end: s.end,
                    length,
                    coverage,
                    num_instances: n,
                });
            }
            video_instances.push(kept);
        }
        if instances.is_empty() {
            return Err(EvalError::EmptyGroundTruth {
                file: "ground truth".into(),
                hint: format!(
                    " to diagnose ({} videos, {dropped} instances of zero length or longer than their video)",
                    gt.videos.len()
                ),
            });
        }
        let mut class_npos = vec![0usize; classes.len()];
        // Per (class, video): the kept instances in file order.
        let mut class_video: HashMap<(u32, u32), Vec<u32>> = HashMap::new();
        for (id, inst) in instances.iter().enumerate() {
            class_npos[inst.class as usize] += 1;
            class_video
                .entry((inst.class, inst.video))
                .or_default()
                .push(id as u32);
        }
        let avg_per_class = instances.len() as f64 / classes.len() as f64;

        // Detections per class, ranked.
        let mut ranked: Vec<Vec<(f64, u32, Pred)>> = vec![Vec::new(); classes.len()];
        let mut unknown = 0usize;
        let mut unknown_labels = std::collections::BTreeSet::new();
        for (rank, (video, list)) in dets.results.iter().enumerate() {
            let v = video_of.get(video.as_str()).copied().unwrap_or(NONE);
            for d in list {
                let Some(&c) = class_of.get(d.label.as_str()) else {
                    unknown += 1;
                    unknown_labels.insert(d.label.clone());
                    continue;
                };
                ranked[c as usize].push((
                    d.score,
                    rank as u32,
                    Pred {
                        video: v,
                        start: d.segment[0],
                        end: d.segment[1],
                    },
                ));
            }
        }
        let mut warnings = Vec::new();
        if unknown > 0 {
            let names: Vec<String> = unknown_labels.into_iter().take(5).collect();
            warnings.push(format!(
                "{unknown} detections with labels that are not ground-truth classes ({}) were \
                 left out of the diagnosis",
                names.join(", ")
            ));
        }
        let mut preds = Vec::with_capacity(classes.len());
        for mut list in ranked {
            // Descending score; ties by video, start, end (as `eval::detection_map`).
            list.sort_by(|a, b| {
                b.0.total_cmp(&a.0)
                    .then(a.1.cmp(&b.1))
                    .then(a.2.start.total_cmp(&b.2.start))
                    .then(a.2.end.total_cmp(&b.2.end))
            });
            preds.push(list.into_iter().map(|x| x.2).collect::<Vec<Pred>>());
        }

        // Greedy matching (DETAD's compute_average_precision_detection).
        let mut matched = vec![Vec::with_capacity(classes.len()); tious.len()];
        let mut order: Vec<(f64, u32)> = Vec::new();
        for (c, list) in preds.iter().enumerate() {
            let mut m = vec![vec![NONE; list.len()]; tious.len()];
            let mut locked: HashMap<u32, Vec<bool>> = HashMap::new();
            for (r, p) in list.iter().enumerate() {
                if p.video == NONE {
                    continue;
                }
                let Some(cands) = class_video.get(&(c as u32, p.video)) else {
                    continue;
                };
                order.clear();
                order.extend(cands.iter().map(|&g| {
                    let inst = &instances[g as usize];
                    (
                        temporal_iou([p.start, p.end], [inst.start, inst.end], false),
                        g,
                    )
                }));
                // Descending tIoU; ties: the later instance in the file first (eval.rs).
                order.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
                for (t, &thr) in tious.iter().enumerate() {
                    for &(iou, g) in &order {
                        if iou < thr {
                            break;
                        }
                        let l = locked.entry(g).or_insert_with(|| vec![false; tious.len()]);
                        if l[t] {
                            continue;
                        }
                        l[t] = true;
                        m[t][r] = g;
                        break;
                    }
                }
            }
            for (t, row) in m.into_iter().enumerate() {
                matched[t].push(row);
            }
        }
        Ok(Matched {
            classes,
            instances,
            dropped,
            video_instances,
            class_npos,
            avg_per_class,
            tious: tious.to_vec(),
            preds,
            matched,
            warnings,
        })
    }

    /// Total detections analysed.
    pub fn num_predictions(&self) -> usize {
        self.preds.iter().map(Vec::len).sum()
    }

    /// How many of class `c`'s top detections DETAD's `_limit_prediction` keeps:
    /// `G_c × limit_factor`, or all.
    pub fn kept(&self, c: usize, limit_factor: Option<usize>) -> usize {
        let n = self.preds[c].len();
        match limit_factor {
            Some(f) => n.min(self.class_npos[c] * f),
            None => n,
        }
    }

    /// True-positive flags of class `c`'s top `kept` detections at threshold `t`, after
    /// DETAD's removal of the detections whose normalized precision is at most
    /// `min_precision` (none is for 0: the precision is 0 only before the first true positive).
    pub fn true_positives(&self, t: usize, c: usize, kept: usize, min_precision: f64) -> Vec<bool> {
        let mut tp: Vec<bool> = self.matched[t][c][..kept]
            .iter()
            .map(|&g| g != NONE)
            .collect();
        if min_precision > 0.0 {
            let npos = self.class_npos[c] as f64;
            let (mut prec, mut rec) = (Vec::new(), Vec::new());
            curve(&tp, npos, self.avg_per_class, &mut prec, &mut rec);
            for (flag, p) in tp.iter_mut().zip(&prec) {
                if *p <= min_precision {
                    *flag = false;
                }
            }
        }
        tp
    }

    /// Normalized mAP at each threshold of each class's top `limit_factor × G_c` detections
    /// (all with `None`): the mean over the classes with an instance.
    pub fn normalized_map(&self, limit_factor: Option<usize>, min_precision: f64) -> Vec<f64> {
        let counted = self.class_npos.iter().filter(|n| **n > 0).count().max(1) as f64;
        (0..self.tious.len())
            .map(|t| {
                let mut sum = 0.0;
                for c in 0..self.classes.len() {
                    if self.class_npos[c] == 0 {
                        continue;
                    }
                    let tp = self.true_positives(t, c, self.kept(c, limit_factor), min_precision);
                    sum += normalized_ap(&tp, self.class_npos[c] as f64, self.avg_per_class);
                }
                sum / counted
            })
            .collect()
    }
}

/// DETAD's precision-recall curve of a ranking: `rec = cumTP / npos`, `prec = rec·N / (rec·N +
/// cumFP)` with `N` the average instances per class (its `normalize_ap`).
pub(crate) fn curve(tp: &[bool], npos: f64, norm: f64, prec: &mut Vec<f64>, rec: &mut Vec<f64>) {
    prec.clear();
    rec.clear();
    let (mut ctp, mut cfp) = (0.0f64, 0.0f64);
    for &is_tp in tp {
        if is_tp {
            ctp += 1.0;
        } else {
            cfp += 1.0;
        }
        let r = ctp / npos;
        rec.push(r);
        prec.push(r * norm / (r * norm + cfp));
    }
}

/// The normalized AP of a ranking (0 for an empty one).
pub(crate) fn normalized_ap(tp: &[bool], npos: f64, norm: f64) -> f64 {
    let (mut prec, mut rec) = (Vec::with_capacity(tp.len()), Vec::with_capacity(tp.len()));
    curve(tp, npos, norm, &mut prec, &mut rec);
    interpolated_ap(&prec, &rec)
}
