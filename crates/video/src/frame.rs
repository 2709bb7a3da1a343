//! RGB frames, bilinear resizing and centre cropping.

/// An 8-bit RGB image, row-major and interleaved: pixel `(x, y)` is
/// `data[3 * (y * width + x)..][..3]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// `3 * width * height` bytes, R, G, B per pixel, row by row.
    pub data: Vec<u8>,
}

/// How frames are sampled and sized; the defaults are those of the public I3D features
/// (see the [crate] docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameSettings {
    /// Output frame rate (25).
    pub fps: u32,
    /// The shorter side after resizing, aspect ratio kept (256). `0` keeps the decoded size.
    pub short_side: usize,
}

impl Default for FrameSettings {
    fn default() -> Self {
        Self {
            fps: 25,
            short_side: 256,
        }
    }
}

impl Frame {
    /// A frame of `width × height` pixels from interleaved RGB bytes.
    ///
    /// # Panics
    /// If `data.len() != 3 * width * height`.
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Self {
        assert_eq!(
            data.len(),
            3 * width * height,
            "an RGB frame of {width}×{height} needs {} bytes",
            3 * width * height
        );
        Self {
            width,
            height,
            data,
        }
    }

    /// The size after resizing the shorter side to `short_side` (aspect ratio kept, the
    /// longer side rounded to the nearest pixel); the frame's own size for `short_side == 0`.
    pub fn resized_size(width: usize, height: usize, short_side: usize) -> (usize, usize) {
        if short_side == 0 || width == 0 || height == 0 {
            return (width, height);
        }
        if width <= height {
            let h = (height as f64 * short_side as f64 / width as f64).round() as usize;
            (short_side, h.max(1))
        } else {
            let w = (width as f64 * short_side as f64 / height as f64).round() as usize;
            (w.max(1), short_side)
        }
    }

    /// The frame with its shorter side resized to `short_side` ([`Self::resized_size`]),
    /// bilinear ([`Self::resize`]).
    pub fn resize_short_side(&self, short_side: usize) -> Frame {
        let (w, h) = Self::resized_size(self.width, self.height, short_side);
        self.resize(w, h)
    }

    /// Bilinear resize to `width × height` with half-pixel centres and clamped borders, no
    /// antialiasing (OpenCV's `INTER_LINEAR`), rounded to 8 bits.
    pub fn resize(&self, width: usize, height: usize) -> Frame {
        if width == self.width && height == self.height {
            return self.clone();
        }
        // Source coordinate and weight of every output column / row.
        let taps = |out: usize, src: usize| -> Vec<(usize, usize, f32)> {
            let scale = src as f64 / out as f64;
            (0..out)
                .map(|i| {
                    let s = ((i as f64 + 0.5) * scale - 0.5).max(0.0);
                    let i0 = (s.floor() as usize).min(src - 1);
                    let i1 = (i0 + 1).min(src - 1);
                    (i0, i1, (s - i0 as f64).clamp(0.0, 1.0) as f32)
                })
                .collect()
        };
        let xs = taps(width, self.width);
        let ys = taps(height, self.height);
        let mut data = Vec::with_capacity(3 * width * height);
        let px = |x: usize, y: usize, c: usize| self.data[3 * (y * self.width + x) + c] as f32;
        for &(y0, y1, fy) in &ys {
            for &(x0, x1, fx) in &xs {
                for c in 0..3 {
                    let top = px(x0, y0, c) * (1.0 - fx) + px(x1, y0, c) * fx;
                    let bottom = px(x0, y1, c) * (1.0 - fx) + px(x1, y1, c) * fx;
                    let v = top * (1.0 - fy) + bottom * fy;
                    data.push(v.round().clamp(0.0, 255.0) as u8);
                }
            }
        }
        Frame::new(width, height, data)
    }

    /// The `size × size` centre of the frame (offset `(W − size) / 2`, `(H − size) / 2`,
    /// rounded down).
    ///
    /// # Panics
    /// If the frame is smaller than `size` in either dimension.
    pub fn centre_crop(&self, size: usize) -> Frame {
        assert!(
            self.width >= size && self.height >= size,
            "cannot crop {size}×{size} from a {}×{} frame",
            self.width,
            self.height
        );
        let (x0, y0) = ((self.width - size) / 2, (self.height - size) / 2);
        let mut data = Vec::with_capacity(3 * size * size);
        for y in y0..y0 + size {
            let row = 3 * (y * self.width + x0);
            data.extend_from_slice(&self.data[row..row + 3 * size]);
        }
        Frame::new(size, size, data)
    }

    /// Grayscale intensities in `[0, 255]`, row-major, as OpenCV's `COLOR_RGB2GRAY` on 8-bit
    /// images: `0.299 R + 0.587 G + 0.114 B`, rounded to an integer.
    pub fn gray(&self) -> Vec<f32> {
        self.data
            .chunks_exact(3)
            .map(|p| (0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32).round())
            .collect()
    }

    /// The frame as I3D's RGB input: `[3, H, W]` row-major (planar), each value
    /// `x / 255 · 2 − 1` in `[-1, 1]`.
    pub fn to_i3d(&self) -> Vec<f32> {
        let n = self.width * self.height;
        let mut out = vec![0.0; 3 * n];
        for (i, p) in self.data.chunks_exact(3).enumerate() {
            for c in 0..3 {
                out[c * n + i] = p[c] as f32 / 255.0 * 2.0 - 1.0;
            }
        }
        out
    }
}
