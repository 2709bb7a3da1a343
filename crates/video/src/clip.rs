//! A synthetic clip with motion everywhere, for benchmarks and tests of feature extraction.

use crate::frame::Frame;

/// `seconds` × 25 frames of 320×240: a smooth texture (a sum of sinusoids) panning by (2, 1)
/// px per frame with a bright square crossing it, so that optical flow does its full work
/// everywhere. Write it with [`crate::write_h264_mp4`] at 25 fps.
pub fn panning_clip(seconds: u64) -> Vec<Frame> {
    let (w, h) = (320usize, 240usize);
    let texture = |x: usize, y: usize| -> f32 {
        let (x, y) = (x as f32, y as f32);
        128.0
            + 40.0 * (0.071 * x + 0.013 * y).sin()
            + 30.0 * (0.029 * x - 0.083 * y + 1.0).sin()
            + 20.0 * (0.17 * x + 0.11 * y + 2.0).sin() * (0.05 * y).cos()
    };
    (0..25 * seconds as usize)
        .map(|i| {
            let (ox, oy) = (2 * i, i);
            let mut data = vec![0u8; 3 * w * h];
            for y in 0..h {
                for x in 0..w {
                    let v = texture(x + ox, y + oy);
                    let px = &mut data[3 * (y * w + x)..][..3];
                    px[0] = v.clamp(0.0, 255.0) as u8;
                    px[1] = (v * 0.9).clamp(0.0, 255.0) as u8;
                    px[2] = (255.0 - v).clamp(0.0, 255.0) as u8;
                }
            }
            let x0 = (3 * i) % (w - 40);
            for y in 100..140 {
                for x in x0..x0 + 40 {
                    data[3 * (y * w + x)..][..3].copy_from_slice(&[240, 230, 220]);
                }
            }
            Frame::new(w, h, data)
        })
        .collect()
}
