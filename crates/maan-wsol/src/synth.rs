//! A synthetic weakly-supervised localization dataset that trains on a CPU in seconds.
//!
//! Each image holds one object on clutter. The class is fixed by two things: the object's
//! **body** (one of four shape + texture pairs: striped ellipse, barred rectangle, checkered
//! triangle, diagonally striped diamond, all in the same two tones) and a small coloured
//! **part** on it (red or blue, at a body-specific place), so 8 classes. Two classes with the
//! same body differ only by the part: it is the most discriminative region, the way a bird's
//! head or wing pattern is on CUB, and a model that looks only at it draws boxes that are too
//! small. Objects take 40–75% of the image side with a random aspect ratio, at a random
//! place; the clutter is noise plus random coloured rectangles. The ground-truth box is the
//! bounding box of the object's pixels.
//!
//! Generation is deterministic: image `i` of a set depends only on the set's seed and `i`.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::localize::BBox;
use crate::train::ImageSet;

/// Number of bodies (shape + texture pairs).
pub const BODIES: usize = 4;
/// Number of part colours.
pub const PART_COLOURS: usize = 2;
/// Number of classes: every body with every part colour.
pub const NUM_CLASSES: usize = BODIES * PART_COLOURS;

/// One generated image.
#[derive(Debug, Clone)]
pub struct SynthImage {
    /// RGB pixels in `[0, 1]`, channel-major: `[3, size, size]`.
    pub pixels: Vec<f32>,
    /// Class, `0..NUM_CLASSES`.
    pub label: usize,
    /// Ground-truth box: the bounding box of `mask`.
    pub bbox: BBox,
    /// Object pixels (body and part), row-major `[size, size]`.
    pub mask: Vec<bool>,
    /// Pixels of the discriminative part, row-major `[size, size]`.
    pub part: Vec<bool>,
}

fn mix(seed: u64, i: u64) -> u64 {
    // SplitMix64 of the pair: independent streams per image.
    let mut z = seed
        ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(0x632B_E59B_D9B4_E019);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Whether normalised object coordinates `(u, v) ∈ [0, 1]²` lie in body `body`'s shape.
fn in_shape(body: usize, u: f32, v: f32) -> bool {
    match body {
        0 => (u - 0.5).powi(2) + (v - 0.5).powi(2) <= 0.25,
        1 => (0.05..=0.95).contains(&u) && (0.15..=0.85).contains(&v),
        2 => (u - 0.5).abs() <= 0.5 * v,
        _ => (u - 0.5).abs() + (v - 0.5).abs() <= 0.5,
    }
}

/// Texture of body `body` at object pixel `(x, y)`: true for the dark tone.
fn texture(body: usize, x: usize, y: usize) -> bool {
    const P: usize = 3;
    match body {
        0 => (y / P).is_multiple_of(2),
        1 => (x / P).is_multiple_of(2),
        2 => (x / P + y / P).is_multiple_of(2),
        _ => ((x + y) / P).is_multiple_of(2),
    }
}

/// Centre of body `body`'s part, in normalised object coordinates.
fn part_centre(body: usize) -> (f32, f32) {
    match body {
        0 => (0.3, 0.4),
        1 => (0.75, 0.3),
        2 => (0.5, 0.75),
        _ => (0.5, 0.25),
    }
}

/// Renders one image of class `label` (`size × size`) from `rng`.
pub fn render(label: usize, size: usize, rng: &mut StdRng) -> SynthImage {
    assert!(label < NUM_CLASSES, "class {label} out of range");
    let body = label % BODIES;
    let part_colour = label / BODIES;
    let s = size as f32;
    let mut pixels = vec![0.0f32; 3 * size * size];
    // Clutter: a random background tone with noise, then random rectangles.
    let bg: [f32; 3] = [rng.random(), rng.random(), rng.random()];
    for c in 0..3 {
        for i in 0..size * size {
            pixels[c * size * size + i] = 0.3 + 0.4 * bg[c] + 0.2 * (rng.random::<f32>() - 0.5);
        }
    }
    for _ in 0..6 {
        let w = rng.random_range(2..=size / 4);
        let h = rng.random_range(2..=size / 4);
        let x0 = rng.random_range(0..size - w);
        let y0 = rng.random_range(0..size - h);
        let col: [f32; 3] = [rng.random(), rng.random(), rng.random()];
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                for c in 0..3 {
                    pixels[c * size * size + y * size + x] = col[c];
                }
            }
        }
    }
    // The object.
    let side = rng.random_range(0.4..0.75) * s;
    let aspect: f32 = rng.random_range(0.8..1.25);
    let ow = (side * aspect.sqrt()).min(s - 2.0).max(8.0);
    let oh = (side / aspect.sqrt()).min(s - 2.0).max(8.0);
    let ox = rng.random_range(0.0..(s - ow));
    let oy = rng.random_range(0.0..(s - oh));
    let (pu, pv) = part_centre(body);
    let light = [0.85, 0.75, 0.45];
    let dark = [0.35, 0.25, 0.1];
    let part_rgb = if part_colour == 0 {
        [0.95, 0.1, 0.1]
    } else {
        [0.1, 0.2, 0.95]
    };
    let mut mask = vec![false; size * size];
    let mut part = vec![false; size * size];
    let (mut x0, mut y0, mut x1, mut y1) = (size, size, 0, 0);
    for y in 0..size {
        for x in 0..size {
            let u = (x as f32 + 0.5 - ox) / ow;
            let v = (y as f32 + 0.5 - oy) / oh;
            if !(0.0..=1.0).contains(&u) || !(0.0..=1.0).contains(&v) || !in_shape(body, u, v) {
                continue;
            }
            let i = y * size + x;
            mask[i] = true;
            let is_part = (u - pu).powi(2) + (v - pv).powi(2) <= 0.16f32.powi(2);
            part[i] = is_part;
            let rgb = if is_part {
                part_rgb
            } else if texture(body, x - ox as usize, y - oy as usize) {
                dark
            } else {
                light
            };
            for c in 0..3 {
                pixels[c * size * size + i] = rgb[c];
            }
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
    }
    SynthImage {
        pixels,
        label,
        bbox: BBox::new(x0 as f32, y0 as f32, (x1 + 1) as f32, (y1 + 1) as f32),
        mask,
        part,
    }
}

/// Image `index` of the set with seed `seed`: class `index % NUM_CLASSES` (balanced sets).
pub fn image(seed: u64, index: usize, size: usize) -> SynthImage {
    let mut rng = StdRng::seed_from_u64(mix(seed, index as u64));
    render(index % NUM_CLASSES, size, &mut rng)
}

/// A set of `n` images of side `size`, normalised for the model (`(x - 0.5) / 0.25`).
pub fn generate(seed: u64, n: usize, size: usize) -> ImageSet {
    let mut set = ImageSet::new(size, NUM_CLASSES);
    for i in 0..n {
        let img = image(seed, i, size);
        set.push(
            img.pixels.iter().map(|v| (v - 0.5) / 0.25).collect(),
            img.label,
            img.bbox,
        );
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_boxes_are_tight_around_the_object() {
        let a = generate(3, 16, 32);
        let b = generate(3, 16, 32);
        assert_eq!(a.images, b.images);
        assert_eq!(a.labels, b.labels);
        assert_ne!(generate(4, 16, 32).images, a.images);
        for i in 0..16 {
            let img = image(3, i, 32);
            assert_eq!(img.label, i % NUM_CLASSES);
            assert_eq!(img.bbox, a.boxes[i]);
            let bx = img.bbox;
            let mut touches = [false; 4];
            let mut parts = 0;
            for y in 0..32 {
                for x in 0..32 {
                    if img.part[y * 32 + x] {
                        parts += 1;
                        assert!(img.mask[y * 32 + x], "the part lies on the object");
                    }
                    if !img.mask[y * 32 + x] {
                        continue;
                    }
                    let (xf, yf) = (x as f32, y as f32);
                    assert!(xf >= bx.x0 && xf < bx.x1 && yf >= bx.y0 && yf < bx.y1);
                    touches[0] |= xf == bx.x0;
                    touches[1] |= xf + 1.0 == bx.x1;
                    touches[2] |= yf == bx.y0;
                    touches[3] |= yf + 1.0 == bx.y1;
                }
            }
            assert!(touches.iter().all(|&t| t), "box is tight: {touches:?}");
            assert!(parts > 0 && bx.area() >= 64.0, "image {i}: part {parts}");
        }
    }
}
