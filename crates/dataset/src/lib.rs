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
//! `Benchmark::Thumos14` takes the real THUMOS14 annotations (`data/thumos14/gt.json`
//! restricted to the 200 + 210 videos of the split files: 132,887 snippets per stream at
//! 0.64 s, 6,318 instances, written verbatim to `gt.json`; 67 of them start after their
//! video's `duration`, carry no signal, and draw a loader warning each, as they would with the
//! real features); `Benchmark::ActivityNet13` draws videos (default 1000, two thirds train)
//! with durations uniform in 20–220 s, one of the 200 classes each, 1, 2 or 3 instances with
//! probabilities 0.65 / 0.25 / 0.10 (mean 1.45) covering together a share of the video drawn
//! uniformly in `SynthConfig::coverage` (default 30–90 %). The
//! whole configuration (benchmark, regime, every parameter) is saved as `synth.json` next to
//! the data.
//!
//! ## What the features must look like
//!
//! A real I3D snippet feature is the spatio-temporal average of the last ReLU layer of a 3-D
//! CNN over 16 frames (0.64 s at 25 fps). The properties that follow from that, and that the
//! I3D-like model ([`synth::I3dParams`]) has, each with its parameter and the unit test in
//! `synth/i3d.rs` that measures it on generated videos:
//!
//! | property of real features | how the generator has it (parameter, default) | test |
//! |---|---|---|
//! | non-negative (averages of ReLU outputs): many coordinates near zero (units that are off), the others roughly linear in the evidence | `x = softplus(β z) / β`, a smooth ReLU (`sharpness` β = 3), per-dimension latent bias `bias_mean` −0.5 ± `bias_std` 0.5 | `features_are_non_negative` |
//! | consecutive snippets of one shot are nearly the same; a shot cut changes them | AR(1) noise within a shot (`noise_correlation` 0.9, `noise_std` 0.5), shots of `mean_shot_len` 10 snippets with a new shot appearance (`shot` 0.5) and fresh noise at each cut | `snippets_of_a_shot_are_similar_and_cuts_break_it` |
//! | each video has its own look (place, lighting, camera) | a per-video scene vector (`scene` 1.0), mostly in RGB (`rgb.appearance` 1.0, `flow.appearance` 0.4) | `videos_have_their_own_appearance` |
//! | an action's evidence rises and falls smoothly, has a most discriminative moment (the paper's Figure 1 premise), and the rest of it is weaker but still says which action it is | per instance a Gaussian bump of the class pattern (`peak` 4.5, `peak_fraction` 0.25 of the instance) over a remainder pattern on the whole instance (`rest` 1.5) with trapezoid onset/offset (`ramp_fraction` 0.15); the remainder is `s · r_c + √(1−s²) · a` with specificity `rest_specificity` 0.6 | `instances_have_a_dominant_part_and_a_class_specific_rest` |
//! | a video's background is weakly related to its action (a pool for diving) | class context on every instance snippet of a video with the class (`context` 1.0) and, outside the instances, on a share `context_shots` of the shots (default 1: every snippet; the ActivityNet family uses 0.5, so that some of the video is plain background) | `snippet_roles_follow_the_annotations_and_the_context_shots` (tests/synth.rs) |
//! | camera motion and people moving look like action to a class-agnostic detector | background-motion events (`distractor_rate` 2 per 100 snippets, 3–15 snippets) with their own pattern (`distractor` 2.0) and the actionness of actions (`distractor_actionness` 1.8, mostly in flow: `rgb.motion` 0.6, `flow.motion` 1.0) | `background_motion_looks_like_action_to_actionness` |
//! | a magnitude of their own (see "Feature magnitude" below) | the output multiplied by `scale` 10: at dim 64 a mean value of about 1.5 and a snippet norm of about 22 | `default_magnitude_is_the_documented_one`, `scale_multiplies_the_features_and_nothing_else` |
//!
//! Amplitudes are norms of the added vectors in the latent space, where the noise has
//! standard deviation `noise_std` per coordinate; per instance and event they are jittered by
//! `amplitude_jitter` (20 %).
//!
//! ## Feature magnitude
//!
//! Models whose video feature is a weighted *sum* of snippet features (STPN, Dropout) are not
//! invariant to the features' magnitude when trained with Adam, whose step per parameter does
//! not depend on the gradient's size: how fast a snippet's logit can move per step grows with
//! the feature values, while the attention, which multiplies the whole sum, moves at the same
//! rate whatever they are. On small features the cheapest way to raise a video's score is to
//! raise every snippet's attention, which then saturates at 1 everywhere (its gradient
//! vanishes) and the class activation sequence is flat. On larger features the classifier's
//! own per-snippet logits grow fast enough to carry the classification and the attention
//! separates actions from background. Normalised aggregators (Norm, SoftMaxNorm, MAAN) do not
//! have this shortcut (raising every attention together leaves a normalised average
//! unchanged), though they too train better on larger features.
//!
//! `scale` multiplies the output of the smooth ReLU (alone it gives a mean value of about 0.15
//! at dim 64, a snippet norm of about 2.2). Its value cannot be derived from I3D's architecture
//! alone (BatchNorm followed by ReLU gives per-unit values of order 0.1–1, but how that
//! carries to a 64-dimensional stand-in for a 1024-dimensional feature is a question of the
//! training dynamics), so the default 10 is calibrated against the one real measurement of
//! the model that depends on it: with it STPN, with the paper's settings, reaches the paper's
//! own real-THUMOS14 numbers. The measurement and the sweep of Table 1's five models over the
//! scale are in `docs/results/synthetic-regimes.md` ("Feature magnitude: how it was found").
//! Datasets whose `synth.json` predates the parameter load with scale 1 and are remade bit for
//! bit.
//!
//! ## Regimes
//!
//! [`synth::Regime`] names a signal model with its parameters:
//!
//! - `realistic` (the default of `maan synth`, the demo and `experiment table1`): the table
//!   above. Why these values (three of them, the scene, the output's sharpness and `scale`,
//!   were changed after models were first trained on it; `docs/results/synthetic-regimes.md`
//!   says why): a distinctive moment (the release of a hammer throw, the take-off of a jump)
//!   is clearly but not overwhelmingly stronger than the rest of the action (3×); the rest of
//!   an action is partly class-specific and partly generic motion (0.6); background motion is
//!   as action-like, to a class-agnostic detector, as the motion of the actions themselves.
//! - `peaked`: the premise pronounced: the most discriminative part 6× the rest, the rest
//!   almost entirely class-specific (0.9).
//! - `uniform`: no most discriminative part (`peak` 0, `rest` 2.5, specificity 0.9): the
//!   premise absent.
//! - `clutter`: `realistic` with 4× the background motion, with the actionness of an action
//!   and its rest together.
//! - `legacy`: the first generator, kept bit for bit so that the numbers measured with it stay
//!   reproducible: Gaussian, zero-mean features, independent from snippet to snippet (unless
//!   `noise_correlation` is set), a short strong core and a weak rest per instance
//!   ([`synth::SynthParams`]). It has none of the properties above; what was measured on it
//!   is in `docs/results/table1-legacy.md`.
//!
//! Every parameter, not only the regime's name, is recorded in the dataset's `synth.json`
//! (a serialised [`synth::SynthConfig`]); reading one back (`maan synth --config FILE`)
//! remakes the dataset byte for byte, and editing a value in it changes only that parameter.
//! Unknown field names are rejected, so that a misspelt parameter is an error rather than
//! silently the default.
//!
//! `maan experiment regimes` trains Table 1's models on every regime and draws MAAN minus
//! STPN over the two knobs the paper's argument turns on (`dominance` = `peak / rest`, and
//! `rest_specificity`); `docs/results/synthetic-regimes.md` reports what it found. With
//! `--dataset activitynet` it maps a family of ActivityNet-shaped datasets instead: a base
//! (`realistic` with the class context on half of the shots outside the instances) and, one at
//! a time, a low and a high value of the dominance, the class context outside the instances,
//! the actionness inside them, the instances' coverage and the noise correlation (results in
//! `docs/results/activitynet.md`).
//!
//! [`synth::snippet_roles`] recomputes, from a configuration alone, what each snippet of each
//! generated video shows ([`synth::SnippetRole`]: the core or a flank of an instance, class
//! context or plain background), so that a model's attention and CAS can be measured per role.
//!
//! Default size: `dim` 256, f32, 272 MB for THUMOS14-like data; ActivityNet-like data at seed
//! 0 has 1,000 videos, 1,443 instances, 189,925 snippets per stream, 389 MB.

pub mod batch;
pub mod error;
pub mod fixtures;
pub mod inspect;
pub mod layout;
pub mod loader;
pub mod npy;
pub mod sampling;
pub mod synth;
pub mod unlabelled;

pub use batch::{HostBatch, Sampler, TrainItem};
pub use error::{DatasetError, Problem, ProblemKind, Severity};
pub use inspect::{inspect, InspectReport, LengthStats};
pub use layout::{detect_layout, Layout, Split, ACTIVITYNET_JSON};
pub use loader::{LoadOptions, Video, WtalDataset};
pub use maan_eval::{Benchmark, SnippetTiming};
pub use npy::{read_features, write_features, FeatureArray, NpyDtype};
pub use unlabelled::{
    feature_files, read_unlabelled, write_video_features, FeatureLayout, StreamDims,
};

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

    /// Erasing hides one contiguous block of `round(f · T)` of the snippets the plain sampler
    /// draws, and nothing else: the kept indices are the plain item's minus one run of
    /// consecutive positions, the same on every call; fraction 0 is the plain sampler; batches
    /// pad the hidden positions with `mask = false`; a different epoch hides another block.
    #[test]
    fn erasing_hides_one_contiguous_block_of_the_plain_sample() {
        let videos = vec![video("a", 100, vec![1]), video("b", 60, vec![2])];
        let plain = Sampler::new(videos.clone(), 2, 20, 42);
        assert_eq!(
            Sampler::new(videos.clone(), 2, 20, 42)
                .with_erasing(0.0)
                .batch(3),
            plain.batch(3)
        );
        let erased = Sampler::new(videos, 2, 20, 42).with_erasing(0.3);
        let mut starts = std::collections::BTreeSet::new();
        for epoch in 0..20 {
            let full = plain.item(0, epoch).unwrap().indices;
            let kept = erased.item(0, epoch).unwrap();
            assert_eq!(kept, erased.item(0, epoch).unwrap());
            assert_eq!(kept.len, 14, "20 - round(0.3 * 20)");
            let start = (0..=14)
                .find(|&s| full[..s] == kept.indices[..s] && full[s + 6..] == kept.indices[s..])
                .expect("the kept snippets are the plain ones minus one block of 6");
            starts.insert(start);
        }
        assert!(
            starts.len() > 3,
            "the block moves between epochs: {starts:?}"
        );
        let batch = erased.batch(0);
        assert_eq!(batch.time, 14);
        assert!(batch.mask.iter().all(|&m| m));
    }

    /// With an erasing probability p, a visit is either the plain sample, whole, or the
    /// plain sample minus one block; the share of erased visits over 4,000 visits is within
    /// 0.04 of p; probability 1 is plain erasing, bit for bit.
    #[test]
    fn erase_probability_erases_that_share_of_visits_and_leaves_the_others_whole() {
        let videos = vec![video("a", 100, vec![1])];
        let plain = Sampler::new(videos.clone(), 1, 10, 7);
        let erased = Sampler::new(videos.clone(), 1, 10, 7).with_erasing(0.5);
        assert_eq!(
            Sampler::new(videos.clone(), 1, 10, 7)
                .with_erasing(0.5)
                .with_erase_probability(1.0)
                .batch(5),
            erased.batch(5)
        );
        for p in [0.25, 0.75] {
            let sometimes = Sampler::new(videos.clone(), 1, 10, 7)
                .with_erasing(0.5)
                .with_erase_probability(p);
            let visits = 4000;
            let mut hidden = 0;
            for epoch in 0..visits {
                let full = plain.item(0, epoch).unwrap();
                let item = sometimes.item(0, epoch).unwrap();
                match item.len {
                    10 => assert_eq!(item.indices, full.indices),
                    5 => {
                        hidden += 1;
                        assert!(
                            (0..=5).any(|s| full.indices[..s] == item.indices[..s]
                                && full.indices[s + 5..] == item.indices[s..]),
                            "an erased visit is the plain sample minus one block of 5"
                        );
                    }
                    n => panic!("a visit of {n} snippets"),
                }
            }
            let share = hidden as f64 / visits as f64;
            assert!(
                (share - p).abs() < 0.04,
                "p = {p}: {share} of the visits erased"
            );
        }
    }

    /// Erasing never hides a whole video: at least one snippet is kept.
    /// `Sampler::batch` gathers straight into the batch; it equals stacking the iteration's
    /// items, padding included (erasing only some visits makes items of two lengths), with and
    /// without a flow stream.
    #[test]
    fn batch_equals_the_stacked_items() {
        let mut rgb_only = (*video("c", 9, vec![4])).clone();
        rgb_only.flow = None;
        rgb_only.flow_dim = 0;
        let sets = [
            vec![
                video("a", 100, vec![1]),
                video("b", 7, vec![2, 3]),
                video("d", 20, vec![0]),
            ],
            vec![Arc::new(rgb_only)],
        ];
        for videos in sets {
            let sampler = Sampler::new(videos, 3, 20, 5)
                .with_erasing(0.3)
                .with_erase_probability(0.5);
            let mut padded = 0;
            for it in 0..12 {
                let batch = sampler.batch(it);
                assert_eq!(
                    batch,
                    HostBatch::stack(&sampler.items(it)),
                    "iteration {it}"
                );
                padded += batch.mask.contains(&false) as usize;
            }
            assert!(padded > 0, "some batches mix erased and whole visits");
        }
    }

    #[test]
    fn erasing_keeps_at_least_one_snippet() {
        let s = Sampler::new(vec![video("a", 50, vec![0])], 1, 2, 1).with_erasing(0.9);
        assert_eq!(s.item(0, 0).unwrap().len, 1);
    }
}
