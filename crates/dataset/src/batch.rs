//! The training data path: which videos and snippets each training iteration sees, gathered
//! into host arrays ([`HostBatch`]) that a model crate uploads to its device.
//!
//! Iteration `i` of a run takes positions `i·batch_size .. (i+1)·batch_size` of an endless
//! sequence of epochs, each a permutation of the training videos seeded by `(seed, epoch)`,
//! and samples `T` snippets of each video with [`random_perturb`] seeded by
//! `(seed, epoch, video)`. A batch is therefore a pure function of `(seed, iteration)`: a
//! resumed run sees exactly the batches the uninterrupted run sees, whatever thread gathers
//! them. This crate holds no tensors (it chooses no backend); `maan-model` uploads a
//! [`HostBatch`] in one copy per array.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::loader::Video;
use crate::sampling::{mix_seed, random_perturb};

/// Salt of the erasing RNG's seed, so that its stream differs from the sampling RNG's.
const ERASE_SALT: u64 = 0x4A1D_E5EE_C0FF_EE11;

/// One sampled video, on the host.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainItem {
    /// Video id.
    pub id: String,
    /// Snippets sampled, `time`.
    pub len: usize,
    /// RGB features, row-major `[len, rgb_dim]`.
    pub rgb: Vec<f32>,
    /// Flow features, row-major `[len, flow_dim]` (empty without flow).
    pub flow: Vec<f32>,
    /// RGB dimension.
    pub rgb_dim: usize,
    /// Flow dimension (0 without flow).
    pub flow_dim: usize,
    /// Multi-hot labels `[num_classes]`.
    pub labels: Vec<f32>,
    /// The snippet indices taken from the video, `[len]`.
    pub indices: Vec<usize>,
}

impl TrainItem {
    /// The item made of the given snippets of a video (in the given order).
    pub fn from_indices(video: &Video, indices: Vec<usize>) -> TrainItem {
        let mut rgb = Vec::with_capacity(indices.len() * video.rgb_dim);
        let mut flow = Vec::with_capacity(indices.len() * video.flow_dim);
        for &t in &indices {
            rgb.extend_from_slice(video.rgb_row(t));
            flow.extend_from_slice(video.flow_row(t));
        }
        TrainItem {
            id: video.id.clone(),
            len: indices.len(),
            rgb,
            flow,
            rgb_dim: video.rgb_dim,
            flow_dim: video.flow_dim,
            labels: video.label_vector(),
            indices,
        }
    }

    /// The whole video, every snippet in order.
    pub fn whole(video: &Video) -> TrainItem {
        TrainItem::from_indices(video, (0..video.len).collect())
    }
}

/// A batch gathered on the host (row-major arrays), ready to upload.
///
/// Items are zero-padded to the longest with `mask = false`. Without a flow stream
/// (`flow_dim == 0`) `flow` is empty; code that trains a flow model must check
/// [`HostBatch::flow_dim`].
#[derive(Debug, Clone, PartialEq)]
pub struct HostBatch {
    /// Videos in the batch.
    pub batch: usize,
    /// Snippets per video (padded).
    pub time: usize,
    /// RGB features `[batch, time, rgb_dim]`.
    pub rgb: Vec<f32>,
    /// RGB dimension.
    pub rgb_dim: usize,
    /// Flow features `[batch, time, flow_dim]` (empty without flow).
    pub flow: Vec<f32>,
    /// Flow dimension (0 without flow).
    pub flow_dim: usize,
    /// `true` on real snippets, `[batch, time]`.
    pub mask: Vec<bool>,
    /// Multi-hot labels `[batch, num_classes]`.
    pub labels: Vec<f32>,
    /// Classes.
    pub num_classes: usize,
    /// Video ids, one per row.
    pub ids: Vec<String>,
}

impl HostBatch {
    /// Stacks sampled items, zero-padding to the longest. Items must share their dimensions
    /// and class count (the loader guarantees it).
    pub fn stack(items: &[TrainItem]) -> HostBatch {
        let b = items.len();
        let t = items.iter().map(|i| i.len).max().unwrap_or(0);
        let rd = items.first().map_or(0, |i| i.rgb_dim);
        let fd = items.first().map_or(0, |i| i.flow_dim);
        let c = items.first().map_or(0, |i| i.labels.len());
        let mut out = HostBatch {
            batch: b,
            time: t,
            rgb: vec![0.0; b * t * rd],
            rgb_dim: rd,
            flow: vec![0.0; b * t * fd],
            flow_dim: fd,
            mask: vec![false; b * t],
            labels: vec![0.0; b * c],
            num_classes: c,
            ids: items.iter().map(|i| i.id.clone()).collect(),
        };
        for (k, item) in items.iter().enumerate() {
            out.rgb[k * t * rd..k * t * rd + item.rgb.len()].copy_from_slice(&item.rgb);
            out.flow[k * t * fd..k * t * fd + item.flow.len()].copy_from_slice(&item.flow);
            out.mask[k * t..k * t + item.len]
                .iter_mut()
                .for_each(|m| *m = true);
            out.labels[k * c..(k + 1) * c].copy_from_slice(&item.labels[..c]);
        }
        out
    }
}

/// The training sampler: which videos and snippets iteration `i` sees, a pure function of
/// `(seed, i)` (see the module docs).
#[derive(Debug, Clone)]
pub struct Sampler {
    videos: Arc<[Arc<Video>]>,
    seed: u64,
    batch_size: usize,
    num_segments: usize,
    erase: f64,
    erase_probability: f64,
}

impl Sampler {
    /// A sampler over `videos`: `batch_size` videos per iteration, `num_segments` snippets
    /// (the paper's T) per video, seeded by `seed`.
    pub fn new(videos: Vec<Arc<Video>>, batch_size: usize, num_segments: usize, seed: u64) -> Self {
        Sampler {
            videos: videos.into(),
            seed,
            batch_size,
            num_segments,
            erase: 0.0,
            erase_probability: 1.0,
        }
    }

    /// This sampler with temporal erasing (hide-and-seek): each sampled video hides one
    /// contiguous block of `round(fraction · T)` of its `T` snippets (at least one is kept),
    /// at a start drawn from an RNG of its own seeded by `(seed, epoch, video)`, so that the
    /// snippets kept are exactly those sampled without erasing, minus the block. The item is
    /// then shorter than `T` and padded with `mask = false` in the batch, which every
    /// aggregator ignores. Hiding a different part of each video at each visit keeps the
    /// model from relying on the most discriminative part alone (Singh & Lee, ICCV 2017).
    /// `fraction` = 0 (the default) is the plain sampler, bit for bit.
    ///
    /// # Panics
    /// When `fraction` is not in `[0, 1)`.
    pub fn with_erasing(mut self, fraction: f64) -> Self {
        assert!(
            (0.0..1.0).contains(&fraction),
            "the erased fraction must be in [0, 1), got {fraction}"
        );
        self.erase = fraction;
        self
    }

    /// This sampler with each visit of a video erased only with probability `probability`
    /// (drawn from the erasing RNG, before the block's start), so that the other visits show
    /// the whole sample; 1 (the default) erases every visit, bit for bit the sampler of
    /// [`Sampler::with_erasing`] alone. No effect without erasing.
    ///
    /// # Panics
    /// When `probability` is not in `(0, 1]`.
    pub fn with_erase_probability(mut self, probability: f64) -> Self {
        assert!(
            probability > 0.0 && probability <= 1.0,
            "the erasing probability must be in (0, 1], got {probability}"
        );
        self.erase_probability = probability;
        self
    }

    /// The videos sampled from.
    pub fn videos(&self) -> &[Arc<Video>] {
        &self.videos
    }

    /// `(video index, epoch)` of each element of iteration `iteration`'s batch. Empty when
    /// there are no videos.
    pub fn indices(&self, iteration: usize) -> Vec<(usize, u64)> {
        let n = self.videos.len();
        if n == 0 {
            return Vec::new();
        }
        let mut perm: Option<(u64, Vec<usize>)> = None;
        (0..self.batch_size)
            .map(|j| {
                let pos = (iteration * self.batch_size + j) as u64;
                let epoch = pos / n as u64;
                if perm.as_ref().is_none_or(|p| p.0 != epoch) {
                    let mut v: Vec<usize> = (0..n).collect();
                    v.shuffle(&mut StdRng::seed_from_u64(mix_seed(
                        self.seed, epoch, 0x5EED,
                    )));
                    perm = Some((epoch, v));
                }
                let p = &perm.as_ref().expect("set above").1;
                (p[(pos % n as u64) as usize], epoch)
            })
            .collect()
    }

    /// The item of video `index` in epoch `epoch`: `T` snippets drawn with [`random_perturb`]
    /// from an RNG seeded by `(seed, epoch, index)`. `None` when `index` is out of range.
    pub fn item(&self, index: usize, epoch: u64) -> Option<TrainItem> {
        let video = self.videos.get(index)?;
        Some(TrainItem::from_indices(
            video,
            self.snippets(video, index, epoch),
        ))
    }

    /// The snippet indices [`Sampler::item`] takes from `video` (number `index`) in `epoch`.
    fn snippets(&self, video: &Video, index: usize, epoch: u64) -> Vec<usize> {
        let mut rng = StdRng::seed_from_u64(mix_seed(self.seed, epoch, index as u64));
        let mut indices = random_perturb(video.len, self.num_segments, &mut rng);
        let hide = ((self.erase * indices.len() as f64).round() as usize)
            .min(indices.len().saturating_sub(1));
        if hide > 0 {
            let mut rng =
                StdRng::seed_from_u64(mix_seed(self.seed ^ ERASE_SALT, epoch, index as u64));
            if self.erase_probability >= 1.0 || rng.random_bool(self.erase_probability) {
                let start = rng.random_range(0..=indices.len() - hide);
                indices.drain(start..start + hide);
            }
        }
        indices
    }

    /// The items of iteration `iteration`, in batch order.
    pub fn items(&self, iteration: usize) -> Vec<TrainItem> {
        self.indices(iteration)
            .into_iter()
            .filter_map(|(i, e)| self.item(i, e))
            .collect()
    }

    /// The host batch of iteration `iteration`: `HostBatch::stack(&self.items(iteration))`,
    /// gathered straight from the videos into the batch's arrays (one copy of each row, no
    /// intermediate items).
    pub fn batch(&self, iteration: usize) -> HostBatch {
        let picks: Vec<(&Video, Vec<usize>)> = self
            .indices(iteration)
            .into_iter()
            .filter_map(|(i, e)| {
                let video = self.videos.get(i)?;
                Some((video.as_ref(), self.snippets(video, i, e)))
            })
            .collect();
        let b = picks.len();
        let t = picks.iter().map(|(_, s)| s.len()).max().unwrap_or(0);
        let first = picks.first().map(|(v, _)| *v);
        let rd = first.map_or(0, |v| v.rgb_dim);
        let fd = first.map_or(0, |v| v.flow_dim);
        let c = first.map_or(0, |v| v.num_classes);
        let mut out = HostBatch {
            batch: b,
            time: t,
            rgb: Vec::with_capacity(b * t * rd),
            rgb_dim: rd,
            flow: Vec::with_capacity(b * t * fd),
            flow_dim: fd,
            mask: Vec::with_capacity(b * t),
            labels: Vec::with_capacity(b * c),
            num_classes: c,
            ids: Vec::with_capacity(b),
        };
        for (video, snippets) in &picks {
            for &s in snippets {
                out.rgb.extend_from_slice(video.rgb_row(s));
                out.flow.extend_from_slice(video.flow_row(s));
            }
            let pad = t - snippets.len();
            out.rgb.resize(out.rgb.len() + pad * rd, 0.0);
            out.flow.resize(out.flow.len() + pad * fd, 0.0);
            out.mask.extend((0..t).map(|k| k < snippets.len()));
            out.labels.extend_from_slice(&video.label_vector()[..c]);
            out.ids.push(video.id.clone());
        }
        out
    }
}
