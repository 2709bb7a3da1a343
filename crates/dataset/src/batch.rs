//! Training items, batching, and Burn data loaders.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::data::dataset::Dataset;
use burn::prelude::*;
use burn::tensor::{Bool, TensorData};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::loader::Video;
use crate::sampling::random_perturb;

/// A batch of videos, padded to the longest with `mask = false`.
///
/// When the videos have no flow stream (`flow_dim == 0`), `flow` is a copy of `rgb`, so two-stream
/// code runs unchanged; check [`Video::flow_dim`] to tell.
///
/// # Shapes
/// - `rgb`: `[batch, time, rgb_dim]`
/// - `flow`: `[batch, time, flow_dim]`
/// - `mask`: `[batch, time]`, `true` on real snippets, `false` on padding (padded features are 0)
/// - `labels`: `[batch, num_classes]`, multi-hot 0/1
#[derive(Debug, Clone)]
pub struct Batch<B: Backend> {
    /// RGB features `[batch, time, rgb_dim]`.
    pub rgb: Tensor<B, 3>,
    /// Flow features `[batch, time, flow_dim]`.
    pub flow: Tensor<B, 3>,
    /// Valid snippets `[batch, time]`.
    pub mask: Tensor<B, 2, Bool>,
    /// Multi-hot labels `[batch, num_classes]`.
    pub labels: Tensor<B, 2>,
    /// Video ids, one per row.
    pub ids: Vec<String>,
}

/// One sampled video, on the CPU.
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

/// A Burn [`Dataset`] of training items: each access samples `t` snippets of a video with
/// [`random_perturb`], from an RNG seeded by `(seed, epoch, index)`.
///
/// The epoch of an index is the number of times it was accessed before: a data loader reads
/// every index once per pass, so pass `k` sees epoch `k` whatever the thread order, and two runs
/// with the same seed see the same snippets. [`TrainDataset::sample`] gives an item for an
/// explicit epoch.
#[derive(Debug)]
pub struct TrainDataset {
    videos: Vec<Arc<Video>>,
    t: usize,
    seed: u64,
    epochs: Vec<AtomicU32>,
}

impl TrainDataset {
    /// A dataset sampling `t` snippets per video (the paper's T = 20).
    pub fn new(videos: Vec<Arc<Video>>, t: usize, seed: u64) -> Self {
        let epochs = videos.iter().map(|_| AtomicU32::new(0)).collect();
        TrainDataset {
            videos,
            t,
            seed,
            epochs,
        }
    }

    /// The videos.
    pub fn videos(&self) -> &[Arc<Video>] {
        &self.videos
    }

    /// The item of video `index` at `epoch` (a pure function of seed, epoch and index).
    pub fn sample(&self, index: usize, epoch: u64) -> Option<TrainItem> {
        let video = self.videos.get(index)?;
        let mut rng =
            StdRng::seed_from_u64(crate::sampling::mix_seed(self.seed, epoch, index as u64));
        let indices = random_perturb(video.len, self.t, &mut rng);
        Some(TrainItem::from_indices(video, indices))
    }
}

impl Dataset<TrainItem> for TrainDataset {
    fn get(&self, index: usize) -> Option<TrainItem> {
        let epoch = self.epochs.get(index)?.fetch_add(1, Ordering::Relaxed);
        self.sample(index, epoch as u64)
    }

    fn len(&self) -> usize {
        self.videos.len()
    }
}

/// Stacks [`TrainItem`]s into a [`Batch`], zero-padding to the longest item with `mask = false`.
#[derive(Debug, Clone, Copy, Default)]
pub struct WtalBatcher;

impl<B: Backend> Batcher<B, TrainItem, Batch<B>> for WtalBatcher {
    fn batch(&self, items: Vec<TrainItem>, device: &B::Device) -> Batch<B> {
        stack(&items, device)
    }
}

/// Builds a batch from items (see [`WtalBatcher`]). Items must share their dimensions and class
/// count (the loader guarantees it).
pub fn stack<B: Backend>(items: &[TrainItem], device: &B::Device) -> Batch<B> {
    let b = items.len();
    let t = items.iter().map(|i| i.len).max().unwrap_or(0);
    let rd = items.first().map_or(0, |i| i.rgb_dim);
    let fd = items.first().map_or(0, |i| i.flow_dim);
    let c = items.first().map_or(0, |i| i.labels.len());
    let mut rgb = vec![0.0f32; b * t * rd];
    let mut flow = vec![0.0f32; b * t * fd];
    let mut mask = vec![false; b * t];
    let mut labels = vec![0.0f32; b * c];
    for (k, item) in items.iter().enumerate() {
        rgb[k * t * rd..k * t * rd + item.rgb.len()].copy_from_slice(&item.rgb);
        flow[k * t * fd..k * t * fd + item.flow.len()].copy_from_slice(&item.flow);
        mask[k * t..k * t + item.len]
            .iter_mut()
            .for_each(|m| *m = true);
        labels[k * c..(k + 1) * c].copy_from_slice(&item.labels[..c]);
    }
    let rgb = Tensor::<B, 3>::from_data(TensorData::new(rgb, [b, t, rd]), device);
    let flow = if fd == 0 {
        rgb.clone()
    } else {
        Tensor::<B, 3>::from_data(TensorData::new(flow, [b, t, fd]), device)
    };
    Batch {
        rgb,
        flow,
        mask: Tensor::<B, 2, Bool>::from_data(TensorData::new(mask, [b, t]), device),
        labels: Tensor::<B, 2>::from_data(TensorData::new(labels, [b, c]), device),
        ids: items.iter().map(|i| i.id.clone()).collect(),
    }
}

/// A shuffling training loader: every pass visits each video once, sampling `t` snippets
/// ([`TrainDataset`]), in batches of `batch_size` (the last one may be smaller), shuffled with
/// `seed`, read by `num_workers` threads (0: in the calling thread).
///
/// Batches are built on the backend's default device; call `.to_device(&device)` on the result
/// for another. With `num_workers <= 1` the order of batches is deterministic for a seed; with
/// more, the content of each batch is, but the order in which threads deliver them is not.
pub fn train_loader<B: Backend>(
    videos: Vec<Arc<Video>>,
    t: usize,
    batch_size: usize,
    seed: u64,
    num_workers: usize,
) -> Arc<dyn DataLoader<B, Batch<B>>> {
    let mut builder = DataLoaderBuilder::new(WtalBatcher)
        .batch_size(batch_size.max(1))
        .shuffle(seed);
    if num_workers > 0 {
        builder = builder.num_workers(num_workers);
    }
    builder.build(TrainDataset::new(videos, t, seed))
}

/// A whole video at test time: batch 1, every snippet, mask all true.
///
/// # Shapes
/// `rgb` `[1, len, rgb_dim]`, `flow` `[1, len, flow_dim]`, `mask` `[1, len]`, `labels`
/// `[1, num_classes]`.
pub fn video_batch<B: Backend>(video: &Video, device: &B::Device) -> Batch<B> {
    stack(&[TrainItem::whole(video)], device)
}
