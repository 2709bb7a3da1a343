//! Synthetic detections against a real ground truth, shared by the bench and the example.

use maan_eval::{ClassList, Detection, DetectionFile, GroundTruth};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// `n` detections spread over the videos of `gt`: half jittered copies of ground-truth
/// instances (label kept 80% of the time), half random segments; scores uniform in [0, 1).
pub fn synthetic_detections(gt: &GroundTruth, n: usize, seed: u64) -> DetectionFile {
    let mut rng = StdRng::seed_from_u64(seed);
    let classes: Vec<String> = ClassList::thumos14().names().to_vec();
    let videos: Vec<(&String, &maan_eval::GtVideo)> = gt.videos.iter().collect();
    let mut f = DetectionFile::new();
    for _ in 0..n {
        let (id, v) = videos[rng.random_range(0..videos.len())];
        let duration = v.duration.unwrap_or(200.0);
        let det = if !v.segments.is_empty() && rng.random_bool(0.5) {
            let g = &v.segments[rng.random_range(0..v.segments.len())];
            let len = (g.end - g.start).max(0.1);
            let s = g.start + len * rng.random_range(-0.4..0.4);
            let e = g.end + len * rng.random_range(-0.4..0.4);
            let label = if rng.random_bool(0.8) {
                g.label.clone()
            } else {
                classes[rng.random_range(0..classes.len())].clone()
            };
            Detection {
                label,
                score: rng.random(),
                segment: [s.min(e), s.max(e)],
            }
        } else {
            let s = rng.random_range(0.0..duration);
            let e = (s + rng.random_range(0.5..15.0)).min(duration.max(s));
            Detection {
                label: classes[rng.random_range(0..classes.len())].clone(),
                score: rng.random(),
                segment: [s, e],
            }
        };
        f.results.entry(id.clone()).or_default().push(det);
    }
    f
}
