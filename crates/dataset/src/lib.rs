//! I3D feature datasets for weakly-supervised temporal action localization (WTAL): THUMOS14 and
//! ActivityNet1.3 laid out as the public code lays them out, validation of every file, snippet
//! timing, the paper's training-time sampling and batching, and a synthetic benchmark shaped
//! like the real ones. The crate holds no tensors and chooses no backend: batches are host
//! arrays that a model crate uploads.
//!
//! # Reading a dataset
//!
//! ```no_run
//! use dataset::{LoadOptions, WtalDataset};
//! let ds = WtalDataset::load("data/synthetic/thumos14".as_ref(), &LoadOptions::default())?;
//! println!("{} train / {} test videos, {} classes", ds.train.len(), ds.test.len(), ds.num_classes());
//! # Ok::<(), dataset::DatasetError>(())
//! ```
//!
//! Layouts ([`Layout`], detected by [`detect_layout`] or given):
//!
//! - **A** (BaSNet, UM, CoLA): `gt.json`, `split_train.txt`, `split_test.txt`,
//!   `features/{train,test}/{rgb,flow}/<video>.npy`, each `[T, 1024]`;
//! - **B** (ACM-Net, ASM-Loc; also ACM-Net's ActivityNet13 with subsets `train`/`val`):
//!   `gt.json`, split files, `{train,test}/<video>.npy`, one `[T, 2048]` array, rgb then flow;
//! - **ActivityNet**: the official `activity_net.v1-3.min.json` (subsets `training`,
//!   `validation`, `testing`; keys are YouTube ids) with features `v_<id>.npy` stored as in A or
//!   B. Without split files, training videos are those of the training subsets (`train`,
//!   `training`; for THUMOS14 also `validation`) and test videos those of the test subsets
//!   (`test`; for ActivityNet `val`, `validation`) that have feature files.
//!
//! Feature files are `.npy` of f16, f32 or f64 (either byte order), C order, read once into
//! memory as f32 ([`Video`] holds them in `Arc<[f32]>`; batches copy rows from there, nothing is
//! re-read or re-parsed during training). Annotations are parsed by
//! [`maan_eval::annotations::GroundTruth`] (segments as strings or numbers, `duration`
//! optional: when absent, the duration is `T * seconds_per_snippet`). Labels are mapped by name
//! through the class list: `--classes`, else `classes.txt` in the directory, else the built-in
//! THUMOS14 (20, public-code order) or ActivityNet1.3 (200) list. Videos may have several labels.
//!
//! **One stream.** The loaders always read both streams. A [`Video`] built by hand may have
//! `flow: None` and `flow_dim == 0`; its batches then carry an empty `flow`.
//!
//! # Validation
//!
//! [`WtalDataset::load`] fails on the first error (counting the others);
//! [`inspect`] reads everything and collects every [`Problem`]. Errors, each naming the file and
//! the video: missing feature file; truncated or corrupt npy; wrong dtype or rank; feature
//! dimension differing from the rest of the dataset; rgb and flow of different lengths (unless
//! [`LoadOptions::crop_to_shorter`], then a warning); NaN or infinite values (with the snippet
//! and column); zero-length video; a video in a split file but not in the annotations; a label
//! not in the class list; a segment whose end precedes its start; invalid JSON (with line and
//! column). Warnings: a video annotated in a train/test subset but without features; a segment
//! reaching beyond the video (clipped to `[0, duration]`, dropped if it starts after the end;
//! when the duration is derived from the features, overshoots under one snippet are clipped
//! silently); a video listed twice in a split file.
//!
//! # Timing and sampling
//!
//! [`SnippetTiming`]: 16 frames per snippet at 25 fps (0.64 s) by default;
//! `seconds_to_snippet(s) = round(s * fps / frames)`, `snippet_to_seconds(i) = i * frames / fps`.
//! Training samples `T` snippets per video with [`sampling::random_perturb`] (the paper's
//! "divide the video uniformly into T segments and sample one random snippet from each", with
//! the public code's inclusive bound and repeats for videos shorter than T); test time uses
//! every snippet ([`TrainItem::whole`]).
//!
//! # Batches
//!
//! Training has one data path, [`Sampler`]: iteration `i`'s batch (which videos, in which
//! epoch permutation, which `T` snippets of each) is a pure function of the seed and `i`, so a
//! resumed run sees the batches an uninterrupted one sees. [`Sampler::batch`] gathers it into
//! a [`HostBatch`] `{ rgb: [B, T, D_rgb], flow: [B, T, D_flow], mask: [B, T], labels: [B, C] }`
//! of row-major host arrays (zero-padded, `mask = false` on padding); `maan-model` gathers the
//! next batches on a background thread and uploads them on the training thread.
//!
//! # The synthetic benchmark
//!
//! [`synth::generate`] writes a layout-A dataset that loads through the same code as real data.
//! `DatasetKind::Thumos14` takes the real THUMOS14 annotations (`data/thumos14/gt.json` restricted to
//! the 200 + 210 videos of the split files: 132,887 snippets per stream at 0.64 s, 6,318
//! instances, written verbatim to `gt.json`; 67 of them start after their video's `duration`,
//! carry no signal, and draw a loader warning each, as they would with the real features);
//! `DatasetKind::ActivityNet13` draws videos (default 1000, two thirds train) with durations uniform in
//! 20–220 s, one of the 200 classes each, 1, 2 or 3 instances with probabilities 0.65 / 0.25 /
//! 0.10 (mean 1.45) covering together 30–90 % of the video.
//!
//! **Generative model.** Per stream (rgb, flow) and seed, draw random unit directions in
//! `R^dim`: for each class `c` a core pattern `m_c`, a weak pattern `w_c` with cosine
//! `rho` to `m_c`, and a context pattern `u_c`; one class-agnostic actionness pattern `a`; and
//! `K` class-agnostic distractor patterns `d_j`. Snippet `t` of a video is
//!
//! ```text
//! x_t = sigma * eps_t                 eps_t ~ N(0, I), background (AR(1) in t with `noise_correlation`, default 0: i.i.d.)
//!     + sum_{c in labels}  A_ctx  * u_c                    class context, whole video
//!     + sum_{instances k of class c covering t}
//!           A_act * a + (t in core_k ? A_core * m_c : A_weak * w_c)
//!     + sum_{distractor events e covering t}  A_dis * d_j(e) + A_dis_act * a
//! ```
//!
//! where every amplitude is multiplied by `1 + jitter * N(0,1)` per snippet. The core of an
//! instance of `n` snippets is `max(1, round(core_fraction * n))` consecutive snippets at a
//! uniform position inside it; distractor events (`distractor_rate` per 100 snippets, lengths
//! uniform in `distractor_len`) fall anywhere in the video. Defaults ([`synth::SynthParams`]):
//!
//! | parameter | value | | parameter | rgb | flow |
//! |---|---|---|---|---|---|
//! | `sigma` (`noise_std`) | 1.0 | | `A_core` | 4.0 | 4.0 |
//! | `core_fraction` | 0.25 | | `A_weak` | 1.5 | 1.8 |
//! | `rho` (`weak_core_similarity`) | 0.5 | | `A_act` | 1.0 | 1.8 |
//! | `K` (`num_distractors`) | 4 | | `A_ctx` | 1.0 | 0.3 |
//! | `distractor_rate` | 2.0 | | `A_dis` | 2.5 | 2.0 |
//! | `distractor_len` | 2–12 | | `A_dis_act` | 0.7 | 1.2 |
//! | `amplitude_jitter` | 0.2 | | | | |
//!
//! Amplitudes are in units of the noise's standard deviation along the pattern's direction. The
//! short, strong core is what a weighted-sum aggregator (STPN) can latch onto alone, so its
//! attention covers a fraction of each instance; the weak parts are still class-specific, which
//! a model attending to all of an instance (MAAN) can use; the class context makes background
//! snippets of a video weakly class-like, and the distractors plus actionness make background
//! events look like actions to a class-agnostic attention. Default size: `dim` 256, f32, 272 MB
//! for THUMOS14-like data (0.80 s to generate in the `epoch` benchmark, release, 2 cores; 1.4 s
//! with the dev-profile `maan synth`); ActivityNet-like data at seed 0 has 1,000 videos, 1,443
//! instances, 189,925 snippets per stream, 389 MB (4.1 s, dev-profile `maan synth`).
//!
//! Measured since (the README's "The paper's Table 1 on synthetic data"): with these defaults
//! the paper's ranking is not reproduced (STPN and Dropout beat MAAN from tIoU 0.2 up), while
//! on a held-out dataset made with a different signal model MAAN beats STPN as in the paper.
//! The generator was written before the models existed and lacks properties of real I3D
//! features (its noise is independent from snippet to snippet and zero-mean); the numbers it
//! gives are about this benchmark, not about MAAN. The whole configuration is saved as
//! `synth.json` next to the data.

pub mod batch;
pub mod error;
pub mod fixtures;
pub mod layout;
pub mod loader;
pub mod npy;
pub mod sampling;
pub mod synth;
pub mod timing;
pub mod unlabelled;

pub use batch::{HostBatch, Sampler, TrainItem};
pub use error::{DatasetError, Problem, ProblemKind, Severity};
pub use layout::{detect_layout, DatasetKind, Layout, Split, ACTIVITYNET_JSON};
pub use loader::{inspect, InspectReport, LengthStats, LoadOptions, Video, WtalDataset};
pub use npy::{read_features, write_features, FeatureArray, NpyDtype};
pub use timing::SnippetTiming;
pub use unlabelled::{read_unlabelled, StreamDims};

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn video(id: &str, len: usize, labels: Vec<usize>) -> Arc<Video> {
        let rgb: Vec<f32> = (0..len * 3).map(|i| i as f32).collect();
        let flow: Vec<f32> = (0..len * 2).map(|i| -(i as f32)).collect();
        Arc::new(Video {
            id: id.into(),
            len,
            rgb: rgb.into(),
            flow: Some(flow.into()),
            rgb_dim: 3,
            flow_dim: 2,
            labels,
            segments: Vec::new(),
            duration: len as f64 * 0.64,
            num_classes: 5,
        })
    }

    /// Stacking pads shorter items with zeros and `mask = false`, keeps rows in order, and
    /// writes multi-hot labels.
    #[test]
    fn batch_shapes_and_padding() {
        let a = TrainItem::whole(&video("a", 4, vec![1]));
        let b = TrainItem::whole(&video("b", 2, vec![0, 4]));
        let batch = HostBatch::stack(&[a, b]);
        assert_eq!((batch.batch, batch.time), (2, 4));
        assert_eq!(
            (batch.rgb_dim, batch.flow_dim, batch.num_classes),
            (3, 2, 5)
        );
        assert_eq!(batch.rgb.len(), 2 * 4 * 3);
        assert_eq!(batch.flow.len(), 2 * 4 * 2);
        assert_eq!(batch.ids, vec!["a", "b"]);
        assert_eq!(
            batch.mask,
            vec![true, true, true, true, true, true, false, false]
        );
        assert_eq!(batch.labels, vec![0., 1., 0., 0., 0., 1., 0., 0., 0., 1.]);
        assert_eq!(
            &batch.rgb[..12],
            &(0..12).map(|i| i as f32).collect::<Vec<_>>()[..]
        );
        assert_eq!(&batch.rgb[12..18], &[0., 1., 2., 3., 4., 5.]);
        assert_eq!(&batch.rgb[18..], &[0.0; 6]); // padding
        assert_eq!(&batch.flow[8..12], &[0., -1., -2., -3.]);
    }

    /// A video without flow gives items and batches with an empty flow array.
    #[test]
    fn single_stream_batches_have_no_flow() {
        let mut v = (*video("a", 3, vec![])).clone();
        v.flow = None;
        v.flow_dim = 0;
        let b = HostBatch::stack(&[TrainItem::whole(&v)]);
        assert_eq!(b.flow_dim, 0);
        assert!(b.flow.is_empty());
        assert_eq!(b.rgb.len(), 9);
    }

    /// An item is a pure function of (seed, epoch, video): two samplers agree, epochs differ,
    /// rows are the sampled snippets, and short videos repeat snippets to reach T.
    #[test]
    fn items_are_a_function_of_seed_epoch_and_video() {
        let videos = vec![video("a", 100, vec![1]), video("b", 7, vec![2])];
        let s1 = Sampler::new(videos.clone(), 2, 20, 42);
        let s2 = Sampler::new(videos, 2, 20, 42);
        let e0 = s1.item(0, 0).unwrap();
        let e1 = s1.item(0, 1).unwrap();
        assert_eq!(e0, s2.item(0, 0).unwrap());
        assert_eq!(e1, s2.item(0, 1).unwrap());
        assert_ne!(e0.indices, e1.indices);
        assert_eq!(e0.len, 20);
        assert_eq!(e0.rgb.len(), 60);
        let t = e0.indices[5];
        assert_eq!(
            &e0.rgb[15..18],
            &[(3 * t) as f32, (3 * t + 1) as f32, (3 * t + 2) as f32]
        );
        let s = s1.item(1, 0).unwrap();
        assert_eq!(s.len, 20);
        assert!(s.indices.iter().all(|&i| i < 7));
        assert!(s1.item(2, 0).is_none());
        assert_ne!(
            Sampler::new(s1.videos().to_vec(), 2, 20, 43)
                .item(0, 0)
                .unwrap(),
            e0
        );
    }

    /// Consecutive iterations visit every video exactly once per epoch (10 videos, batches of
    /// 4: epochs straddle batches), and the batches are the same on every call.
    #[test]
    fn sampler_visits_every_video_once_per_epoch() {
        let videos: Vec<_> = (0..10)
            .map(|i| video(&format!("v{i}"), 30 + i, vec![i % 5]))
            .collect();
        let sampler = Sampler::new(videos, 4, 20, 7);
        let ids: Vec<String> = (0..5).flat_map(|it| sampler.batch(it).ids).collect();
        for epoch in ids.chunks(10) {
            let mut e = epoch.to_vec();
            e.sort();
            let mut expect: Vec<String> = (0..10).map(|i| format!("v{i}")).collect();
            expect.sort();
            assert_eq!(e, expect);
        }
        assert_ne!(ids[..10], ids[10..]);
        for it in 0..5 {
            let b = sampler.batch(it);
            assert_eq!((b.batch, b.time), (4, 20));
            assert!(b.mask.iter().all(|&m| m));
            assert_eq!(b, sampler.batch(it));
        }
    }
}
