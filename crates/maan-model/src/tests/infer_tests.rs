//! Shape-stable batched inference: the batch plan, and batched outputs equal to each video run
//! alone at its exact length.

use std::collections::BTreeSet;

use burn::tensor::{Tensor, TensorData};
use maa_core::Aggregator;

use super::TestBackend;
use super::{rng_lock, SLACK};
use crate::infer::{predict_video, run_videos_with, Batching, StreamKind};
use crate::model::StreamModelConfig;
use crate::toy::{toy_dataset, ToyConfig};

type B = TestBackend;

/// Every video appears in exactly one batch, in a bucket at least its length; batch sizes
/// never exceed the bucket's full size; the shapes used are at most two per bucket.
#[test]
fn plan_covers_every_video_once_with_at_most_two_shapes_per_bucket() {
    let b = Batching {
        buckets: true,
        min_bucket: 4,
        max_bucket: 32,
        max_snippets: 64,
        chunk: 0,
    };
    assert_eq!(b.bucket_len(1), 4);
    assert_eq!(b.bucket_len(4), 4);
    assert_eq!(b.bucket_len(5), 8);
    assert_eq!(b.bucket_len(32), 32);
    assert_eq!(
        b.bucket_len(33),
        64,
        "past the largest bucket: a multiple of it"
    );
    assert_eq!(b.bucket_len(65), 96);
    let lengths: Vec<usize> = (0..200).map(|i| 1 + (i * 37) % 70).collect();
    let plan = b.plan(&lengths);
    let mut seen = vec![0usize; lengths.len()];
    let mut shapes: std::collections::BTreeMap<usize, BTreeSet<usize>> = Default::default();
    for batch in &plan {
        assert!(batch.videos.len() <= batch.size);
        assert!(batch.size <= b.full_batch(batch.len));
        assert!(batch.size == b.full_batch(batch.len) || batch.size.is_power_of_two());
        for &v in &batch.videos {
            seen[v] += 1;
            assert!(lengths[v] <= batch.len);
            assert_eq!(b.bucket_len(lengths[v]), batch.len);
        }
        shapes.entry(batch.len).or_default().insert(batch.size);
    }
    assert!(seen.iter().all(|&n| n == 1), "{seen:?}");
    for (len, sizes) in &shapes {
        assert!(sizes.len() <= 2, "bucket {len}: sizes {sizes:?}");
    }
    // The shape count does not grow with the number of videos.
    let many: Vec<usize> = (0..5000).map(|i| 1 + (i * 37) % 70).collect();
    let distinct: BTreeSet<(usize, usize)> =
        b.plan(&many).iter().map(|p| (p.len, p.size)).collect();
    assert!(distinct.len() <= 2 * shapes.len(), "{distinct:?}");
    // Exact mode: one video a batch at its own length.
    let exact = Batching::exact().plan(&lengths);
    assert_eq!(exact.len(), lengths.len());
    assert!(exact
        .iter()
        .all(|p| p.size == 1 && p.videos.len() == 1 && p.len == lengths[p.videos[0]]));
}

/// `run_videos_with` gives every video the CAS and video-level probabilities it gets alone at
/// its exact length, with one and with two streams, in both shape-stable modes: buckets
/// (padded, batched, masked) and chunks (snippets of all videos stacked in fixed chunks, with
/// chunks small enough that videos straddle them, and the aggregation on the host); for
/// every aggregator, and for a model with BaS-Net's background class.
#[test]
fn batched_inference_equals_each_video_alone() {
    let _rng = rng_lock();
    let device = Default::default();
    let data = toy_dataset(&ToyConfig {
        dim: 12,
        num_classes: 5,
        train_videos: 1,
        test_videos: 23,
        len_range: (4, 45),
        ..ToyConfig::default()
    });
    // Small buckets so that the test sees several buckets, full and padded batches, and a
    // video longer than the largest bucket.
    let buckets = Batching {
        buckets: true,
        min_bucket: 4,
        max_bucket: 32,
        max_snippets: 48,
        chunk: 0,
    };
    let chunks = |chunk: usize| Batching { chunk, ..buckets };
    let models_to_test: Vec<(Aggregator, crate::Background)> = Aggregator::ALL
        .iter()
        .map(|&a| (a, crate::Background::None))
        .chain([(Aggregator::Maa, crate::Background::Bas)])
        .collect();
    for (agg, background) in models_to_test {
        let cfg = StreamModelConfig::new()
            .with_feature_dim(12)
            .with_num_classes(5)
            .with_attention_hidden(8)
            .with_aggregator(agg)
            .with_background(background);
        let rgb = cfg.init::<B>(&device);
        let flow = cfg.init::<B>(&device);
        let models = [(StreamKind::Rgb, &rgb), (StreamKind::Flow, &flow)];
        for batching in [buckets, chunks(16), chunks(4096)] {
            let outputs = run_videos_with(&models, &data.test, 0.5, &batching, &device).unwrap();
            assert_eq!(outputs.len(), data.test.len());
            for (video, out) in data.test.iter().zip(&outputs) {
                assert_eq!(out.id, video.id);
                assert_eq!(out.num_snippets, video.len);
                let (rf, rd) = StreamKind::Rgb.features(video).unwrap();
                let (ff, fd) = StreamKind::Flow.features(video).unwrap();
                let (rc, rp) = predict_video(&rgb, rf, video.len, rd, &device).unwrap();
                let (fc, fp) = predict_video(&flow, ff, video.len, fd, &device).unwrap();
                let close = |a: &[f32], b: &[f32], what: &str| {
                    assert_eq!(a.len(), b.len(), "{agg} {} {what}", video.id);
                    for (x, y) in a.iter().zip(b) {
                        let tol = 1e-5 * SLACK as f32 * (1.0 + y.abs());
                        assert!(
                            (x - y).abs() <= tol,
                            "{agg} video {} (len {}) {what}: {x} vs {y}",
                            video.id,
                            video.len
                        );
                    }
                };
                let want_cas: Vec<f32> =
                    rc.iter().zip(&fc).map(|(a, b)| 0.5 * a + 0.5 * b).collect();
                let want_p: Vec<f32> = rp.iter().zip(&fp).map(|(a, b)| 0.5 * a + 0.5 * b).collect();
                close(&out.cas, &want_cas, "CAS");
                close(&out.video_probs, &want_p, "video probabilities");
            }
        }
        // Exact lengths (the CPU setting): the same computation as each video alone.
        let exact =
            run_videos_with(&models[..1], &data.test, 0.5, &Batching::exact(), &device).unwrap();
        for (video, out) in data.test.iter().zip(&exact) {
            let (f, d) = StreamKind::Rgb.features(video).unwrap();
            let (c, p) = predict_video(&rgb, f, video.len, d, &device).unwrap();
            assert_eq!(out.cas, c, "{agg} {}", video.id);
            assert_eq!(out.video_probs, p, "{agg} {}", video.id);
        }
        // One stream alone.
        for batching in [buckets, chunks(16)] {
            let single =
                run_videos_with(&models[..1], &data.test, 0.5, &batching, &device).unwrap();
            let v = &data.test[3];
            let (f, d) = StreamKind::Rgb.features(v).unwrap();
            let (c, _) = predict_video(&rgb, f, v.len, d, &device).unwrap();
            for (x, y) in single[3].cas.iter().zip(&c) {
                assert!((x - y).abs() <= 1e-5 * SLACK as f32 * (1.0 + y.abs()));
            }
        }
    }
}

/// Every video's output carries the class-agnostic attention `p_t` `[T]`: with two streams
/// it is `0.3 · p_rgb + 0.7 · p_flow` (the CAS's fusion weights), each stream's `p` being the
/// attention module's output on the video alone, also through padded batches; a model whose
/// aggregator ignores its attention (`Mean`) gives none.
#[test]
fn attention_is_fused_like_the_cas_and_absent_for_mean() {
    let _rng = rng_lock();
    let device = Default::default();
    let data = toy_dataset(&ToyConfig {
        dim: 6,
        num_classes: 3,
        train_videos: 1,
        test_videos: 5,
        len_range: (3, 20),
        ..ToyConfig::default()
    });
    let batching = Batching {
        buckets: true,
        min_bucket: 4,
        max_bucket: 16,
        max_snippets: 32,
        chunk: 0,
    };
    let cfg = StreamModelConfig::new()
        .with_feature_dim(6)
        .with_num_classes(3)
        .with_attention_hidden(4);
    let rgb = cfg.init::<B>(&device);
    let flow = cfg.init::<B>(&device);
    let models = [(StreamKind::Rgb, &rgb), (StreamKind::Flow, &flow)];
    let outputs = run_videos_with(&models, &data.test, 0.3, &batching, &device).unwrap();
    let alone = |m: &crate::StreamModel<B>, f: &[f32], len: usize, d: usize| -> Vec<f32> {
        let x = Tensor::<B, 3>::from_data(TensorData::new(f.to_vec(), [1, len, d]), &device);
        m.attention(x, None).into_data().to_vec::<f32>().unwrap()
    };
    for (video, out) in data.test.iter().zip(&outputs) {
        let att = out.attention.as_ref().expect("MAA has an attention");
        assert_eq!(att.len(), video.len);
        let (rf, rd) = StreamKind::Rgb.features(video).unwrap();
        let (ff, fd) = StreamKind::Flow.features(video).unwrap();
        let (pr, pf) = (
            alone(&rgb, rf, video.len, rd),
            alone(&flow, ff, video.len, fd),
        );
        for t in 0..video.len {
            let want = 0.3 * pr[t] + 0.7 * pf[t];
            assert!(
                (att[t] - want).abs() <= 1e-5 * SLACK as f32,
                "{} t={t}: {} vs {want}",
                video.id,
                att[t]
            );
        }
    }
    let mean = cfg
        .clone()
        .with_aggregator(Aggregator::Mean)
        .init::<B>(&device);
    let outputs = run_videos_with(
        &[(StreamKind::Rgb, &mean)],
        &data.test,
        0.5,
        &Batching::exact(),
        &device,
    )
    .unwrap();
    assert!(outputs.iter().all(|o| o.attention.is_none()));
}
