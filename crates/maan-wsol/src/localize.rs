//! From a class activation map to a box, and the localization error of the ILSVRC protocol.

use serde::{Deserialize, Serialize};

/// Fraction of the map's maximum a pixel must reach to belong to the object (the CAM rule).
pub const CAM_THRESHOLD: f32 = 0.2;

/// IoU a box needs with the ground truth to count as a correct localization.
pub const IOU_THRESHOLD: f32 = 0.5;

/// An axis-aligned box in pixel coordinates: `[x0, x1) × [y0, y1)`, so a box covering pixel
/// columns 2..=4 has `x0 = 2`, `x1 = 5`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BBox {
    /// Left edge.
    pub x0: f32,
    /// Top edge.
    pub y0: f32,
    /// Right edge (exclusive).
    pub x1: f32,
    /// Bottom edge (exclusive).
    pub y1: f32,
}

impl BBox {
    /// A box from its edges.
    pub fn new(x0: f32, y0: f32, x1: f32, y1: f32) -> Self {
        BBox { x0, y0, x1, y1 }
    }

    /// Area (0 for an empty box).
    pub fn area(&self) -> f32 {
        (self.x1 - self.x0).max(0.0) * (self.y1 - self.y0).max(0.0)
    }

    /// The box scaled by `sx` horizontally and `sy` vertically (for resized images).
    pub fn scaled(&self, sx: f32, sy: f32) -> Self {
        BBox::new(self.x0 * sx, self.y0 * sy, self.x1 * sx, self.y1 * sy)
    }
}

/// Intersection over union of two boxes (0 when both are empty).
pub fn iou(a: &BBox, b: &BBox) -> f32 {
    let iw = (a.x1.min(b.x1) - a.x0.max(b.x0)).max(0.0);
    let ih = (a.y1.min(b.y1) - a.y0.max(b.y0)).max(0.0);
    let inter = iw * ih;
    let union = a.area() + b.area() - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// Bilinear resize of a row-major `h × w` map to `out_h × out_w` (pixel centres aligned, as
/// image resizers do).
pub fn resize_bilinear(map: &[f32], h: usize, w: usize, out_h: usize, out_w: usize) -> Vec<f32> {
    assert_eq!(map.len(), h * w, "map is not {h}×{w}");
    let mut out = vec![0.0; out_h * out_w];
    let sy = h as f32 / out_h as f32;
    let sx = w as f32 / out_w as f32;
    for oy in 0..out_h {
        let fy = ((oy as f32 + 0.5) * sy - 0.5).clamp(0.0, (h - 1) as f32);
        let y0 = fy.floor() as usize;
        let y1 = (y0 + 1).min(h - 1);
        let ty = fy - y0 as f32;
        for ox in 0..out_w {
            let fx = ((ox as f32 + 0.5) * sx - 0.5).clamp(0.0, (w - 1) as f32);
            let x0 = fx.floor() as usize;
            let x1 = (x0 + 1).min(w - 1);
            let tx = fx - x0 as f32;
            let top = map[y0 * w + x0] * (1.0 - tx) + map[y0 * w + x1] * tx;
            let bottom = map[y1 * w + x0] * (1.0 - tx) + map[y1 * w + x1] * tx;
            out[oy * out_w + ox] = top * (1.0 - ty) + bottom * ty;
        }
    }
    out
}

/// The CAM rule: the pixels whose value is at least `threshold` (the paper's 0.2,
/// [`CAM_THRESHOLD`]) times the map's maximum are kept, and the box is the bounding box of
/// the largest 8-connected component of them (ties: the first found in row-major order).
/// A map whose maximum is not positive gives the whole image.
///
/// `map` is row-major `h × w`, already at image resolution; the box is in its pixels.
pub fn cam_to_box(map: &[f32], h: usize, w: usize, threshold: f32) -> BBox {
    assert_eq!(map.len(), h * w, "map is not {h}×{w}");
    let hi = map.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if hi.is_nan() || hi <= 0.0 {
        return BBox::new(0.0, 0.0, w as f32, h as f32);
    }
    let cut = threshold * hi;
    let on: Vec<bool> = map.iter().map(|&v| v >= cut).collect();
    let mut label = vec![false; h * w];
    let mut best: Option<(usize, BBox)> = None;
    let mut stack = Vec::new();
    for start in 0..h * w {
        if !on[start] || label[start] {
            continue;
        }
        label[start] = true;
        stack.push(start);
        let (mut count, mut x0, mut y0, mut x1, mut y1) = (0usize, w, h, 0usize, 0usize);
        while let Some(i) = stack.pop() {
            let (y, x) = (i / w, i % w);
            count += 1;
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    let (ny, nx) = (y as i64 + dy, x as i64 + dx);
                    if ny < 0 || nx < 0 || ny >= h as i64 || nx >= w as i64 {
                        continue;
                    }
                    let j = ny as usize * w + nx as usize;
                    if on[j] && !label[j] {
                        label[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        let bbox = BBox::new(x0 as f32, y0 as f32, (x1 + 1) as f32, (y1 + 1) as f32);
        if best.as_ref().is_none_or(|(n, _)| count > *n) {
            best = Some((count, bbox));
        }
    }
    best.map(|(_, b)| b)
        .unwrap_or(BBox::new(0.0, 0.0, w as f32, h as f32))
}

/// One test image's outcome, as the localization error needs it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocRecord {
    /// Ground-truth class.
    pub label: usize,
    /// The five highest-scoring classes, best first (fewer when there are fewer classes).
    pub top5: Vec<usize>,
    /// IoU of the top-1 class's box with the ground truth.
    pub iou_top1: f32,
    /// IoU of the ground-truth class's box with the ground truth (the box a correct top-5
    /// guess would give).
    pub iou_label: f32,
}

/// Localization and classification error rates (fractions in `[0, 1]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LocErrors {
    /// Top-1 localization error: the top class is wrong or its box has IoU < 0.5.
    pub top1_loc: f64,
    /// Top-5 localization error: the true class is not among the top five, or its box has
    /// IoU < 0.5.
    pub top5_loc: f64,
    /// Top-1 classification error.
    pub top1_cls: f64,
    /// Fraction of images whose ground-truth-class box has IoU ≥ 0.5 (localization alone,
    /// "GT-known").
    pub gt_known_loc_acc: f64,
}

/// The ILSVRC localization error of [`LocRecord`]s, at IoU [`IOU_THRESHOLD`].
pub fn localization_errors(records: &[LocRecord]) -> LocErrors {
    let n = records.len().max(1) as f64;
    let count = |f: &dyn Fn(&LocRecord) -> bool| records.iter().filter(|r| f(r)).count() as f64;
    let top1_ok = |r: &LocRecord| r.top5.first() == Some(&r.label);
    LocErrors {
        top1_loc: 1.0 - count(&|r| top1_ok(r) && r.iou_top1 >= IOU_THRESHOLD) / n,
        top5_loc: 1.0
            - count(&|r| {
                r.top5.iter().take(5).any(|&k| k == r.label) && r.iou_label >= IOU_THRESHOLD
            }) / n,
        top1_cls: 1.0 - count(&top1_ok) / n,
        gt_known_loc_acc: count(&|r| r.iou_label >= IOU_THRESHOLD) / n,
    }
}

/// The `k` highest scores' indices, best first (ties: lower index first).
pub fn top_k(scores: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    idx.truncate(k);
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_from(rows: &[&str]) -> (Vec<f32>, usize, usize) {
        let h = rows.len();
        let w = rows[0].len();
        let v = rows
            .iter()
            .flat_map(|r| r.bytes().map(|c| (c - b'0') as f32))
            .collect();
        (v, h, w)
    }

    #[test]
    fn box_of_the_largest_component() {
        // Two blobs: 2 pixels top-left, 6 pixels bottom-right; digits are map values.
        let (m, h, w) = map_from(&[
            "99000000", //
            "00000000", //
            "00000000", //
            "00000550", //
            "00009990", //
            "00000000",
        ]);
        let b = cam_to_box(&m, h, w, CAM_THRESHOLD);
        assert_eq!(b, BBox::new(4.0, 3.0, 7.0, 5.0));
    }

    #[test]
    fn threshold_boundary_is_inclusive_and_diagonals_connect() {
        // Max 5: 20% is exactly 1, so the 1s count; a 0 does not. The 1 at (2, 2) touches
        // the one at (1, 1) only diagonally and joins through 8-connectivity.
        let (m, h, w) = map_from(&[
            "5100", //
            "0100", //
            "0010", //
            "0000",
        ]);
        assert_eq!(cam_to_box(&m, h, w, 0.2), BBox::new(0.0, 0.0, 3.0, 3.0));
        // Just above the boundary the 1s drop out.
        assert_eq!(cam_to_box(&m, h, w, 0.21), BBox::new(0.0, 0.0, 1.0, 1.0));
        // Negative values never pass; a map with no positive value gives the whole image.
        let (m, h, w) = map_from(&["0000", "0500", "0000"]);
        let m: Vec<f32> = m.iter().map(|v| v - 1.0).collect();
        assert_eq!(cam_to_box(&m, h, w, 0.2), BBox::new(1.0, 1.0, 2.0, 2.0));
        assert_eq!(
            cam_to_box(&[-2.0; 6], 2, 3, 0.2),
            BBox::new(0.0, 0.0, 3.0, 2.0)
        );
    }

    #[test]
    fn iou_known_cases() {
        let a = BBox::new(0.0, 0.0, 2.0, 2.0);
        assert_eq!(iou(&a, &a), 1.0);
        assert_eq!(iou(&a, &BBox::new(2.0, 0.0, 4.0, 2.0)), 0.0);
        // Half overlap: 2 / (4 + 4 - 2).
        assert!((iou(&a, &BBox::new(1.0, 0.0, 3.0, 2.0)) - 1.0 / 3.0).abs() < 1e-6);
        // Nested: 1 / 4.
        assert!((iou(&a, &BBox::new(0.0, 0.0, 1.0, 1.0)) - 0.25).abs() < 1e-6);
    }

    #[test]
    fn localization_error_counts_class_and_box() {
        let r = |label, top5: &[usize], iou_top1, iou_label| LocRecord {
            label,
            top5: top5.to_vec(),
            iou_top1,
            iou_label,
        };
        let records = [
            r(0, &[0, 1, 2, 3, 4], 0.7, 0.7), // correct everywhere
            r(1, &[1, 0, 2, 3, 4], 0.3, 0.3), // right class, bad box: error
            r(2, &[0, 2, 1, 3, 4], 0.9, 0.6), // wrong top-1, right top-5 with good box
            r(3, &[0, 1, 2, 4, 5], 0.9, 0.9), // class not in top-5: error for both
        ];
        let e = localization_errors(&records);
        assert_eq!(e.top1_loc, 0.75);
        assert_eq!(e.top5_loc, 0.5);
        assert_eq!(e.top1_cls, 0.5);
        assert_eq!(e.gt_known_loc_acc, 0.75);
        // The boundary IoU 0.5 counts as correct.
        let e = localization_errors(&[r(0, &[0], 0.5, 0.5)]);
        assert_eq!((e.top1_loc, e.top5_loc), (0.0, 0.0));
        assert_eq!(top_k(&[0.1, 0.9, 0.5, 0.9], 3), vec![1, 3, 2]);
    }

    #[test]
    fn bilinear_resize_keeps_constants_and_corners() {
        let out = resize_bilinear(&[1.0; 4], 2, 2, 5, 7);
        assert!(out.iter().all(|&v| (v - 1.0).abs() < 1e-6));
        let out = resize_bilinear(&[0.0, 1.0, 2.0, 3.0], 2, 2, 4, 4);
        assert_eq!(out[0], 0.0);
        assert_eq!(out[15], 3.0);
    }
}
