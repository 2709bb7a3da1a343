//! I3D feature datasets for weakly-supervised temporal action localization (WTAL).
//!
//! TODO: full docs.

pub mod batch;
pub mod error;
pub mod fixtures;
pub mod layout;
pub mod loader;
pub mod npy;
pub mod sampling;
pub mod synth;
pub mod timing;

pub use batch::{stack, train_loader, video_batch, Batch, TrainDataset, TrainItem, WtalBatcher};
pub use error::{DatasetError, Problem, Severity};
pub use layout::{detect_layout, DatasetKind, Layout, Split, ACTIVITYNET_JSON};
pub use loader::{inspect, InspectReport, LengthStats, LoadOptions, Video, WtalDataset};
pub use npy::{read_features, write_features, FeatureArray, NpyDtype};
pub use timing::SnippetTiming;

#[cfg(test)]
pub(crate) type TestBackend = burn::backend::NdArray;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use burn::data::dataset::Dataset;

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

    #[test]
    fn batch_shapes_and_padding() {
        let dev = Default::default();
        let a = TrainItem::whole(&video("a", 4, vec![1]));
        let b = TrainItem::whole(&video("b", 2, vec![0, 4]));
        let batch: Batch<TestBackend> = stack(&[a, b], &dev);
        assert_eq!(batch.rgb.dims(), [2, 4, 3]);
        assert_eq!(batch.flow.dims(), [2, 4, 2]);
        assert_eq!(batch.mask.dims(), [2, 4]);
        assert_eq!(batch.labels.dims(), [2, 5]);
        assert_eq!(batch.ids, vec!["a", "b"]);
        let mask: Vec<bool> = batch.mask.into_data().to_vec().unwrap();
        assert_eq!(mask, vec![true, true, true, true, true, true, false, false]);
        let labels: Vec<f32> = batch.labels.into_data().to_vec().unwrap();
        assert_eq!(labels, vec![0., 1., 0., 0., 0., 1., 0., 0., 0., 1.]);
        let rgb: Vec<f32> = batch.rgb.into_data().to_vec().unwrap();
        assert_eq!(
            &rgb[..12],
            &(0..12).map(|i| i as f32).collect::<Vec<_>>()[..]
        );
        assert_eq!(&rgb[12..18], &[0., 1., 2., 3., 4., 5.]);
        assert_eq!(&rgb[18..], &[0.0; 6]); // padding
        let flow: Vec<f32> = batch.flow.into_data().to_vec().unwrap();
        assert_eq!(&flow[8..12], &[0., -1., -2., -3.]);
    }

    #[test]
    fn video_batch_is_whole_video() {
        let v = video("a", 7, vec![2]);
        let b: Batch<TestBackend> = video_batch(&v, &Default::default());
        assert_eq!(b.rgb.dims(), [1, 7, 3]);
        assert_eq!(b.flow.dims(), [1, 7, 2]);
        let mask: Vec<bool> = b.mask.into_data().to_vec().unwrap();
        assert!(mask.iter().all(|&m| m));
    }

    #[test]
    fn single_stream_flow_equals_rgb() {
        let mut v = (*video("a", 3, vec![])).clone();
        v.flow = None;
        v.flow_dim = 0;
        let b: Batch<TestBackend> = video_batch(&v, &Default::default());
        assert_eq!(b.flow.dims(), [1, 3, 3]);
        let (r, f): (Vec<f32>, Vec<f32>) = (
            b.rgb.into_data().to_vec().unwrap(),
            b.flow.into_data().to_vec().unwrap(),
        );
        assert_eq!(r, f);
    }

    #[test]
    fn train_dataset_epochs_are_deterministic() {
        let videos = vec![video("a", 100, vec![1]), video("b", 7, vec![2])];
        let d1 = TrainDataset::new(videos.clone(), 20, 42);
        let d2 = TrainDataset::new(videos, 20, 42);
        let e0 = d1.get(0).unwrap();
        let e1 = d1.get(0).unwrap();
        assert_eq!(e0, d2.sample(0, 0).unwrap());
        assert_eq!(e1, d2.sample(0, 1).unwrap());
        assert_ne!(e0.indices, e1.indices);
        assert_eq!(e0.len, 20);
        assert_eq!(e0.rgb.len(), 60);
        // Rows are the sampled snippets.
        let t = e0.indices[5];
        assert_eq!(
            &e0.rgb[15..18],
            &[(3 * t) as f32, (3 * t + 1) as f32, (3 * t + 2) as f32]
        );
        // Short video: 20 indices with repeats, all < 7.
        let s = d1.get(1).unwrap();
        assert_eq!(s.len, 20);
        assert!(s.indices.iter().all(|&i| i < 7));
        assert!(d1.get(2).is_none());
        assert_eq!(d1.len(), 2);
    }

    #[test]
    fn loader_yields_every_video_once_per_epoch() {
        let videos: Vec<_> = (0..10)
            .map(|i| video(&format!("v{i}"), 30 + i, vec![i % 5]))
            .collect();
        for workers in [0, 2] {
            let loader = train_loader::<TestBackend>(videos.clone(), 20, 4, 7, workers);
            for _epoch in 0..2 {
                let mut ids = Vec::new();
                for b in loader.iter() {
                    assert_eq!(b.rgb.dims()[1..], [20, 3]);
                    assert_eq!(b.flow.dims()[1..], [20, 2]);
                    let m: Vec<bool> = b.mask.into_data().to_vec().unwrap();
                    assert!(m.iter().all(|&x| x));
                    ids.extend(b.ids);
                }
                ids.sort();
                let mut expect: Vec<String> = (0..10).map(|i| format!("v{i}")).collect();
                expect.sort();
                assert_eq!(ids, expect);
            }
        }
        // Same seed, same batches (single thread).
        let collect = || -> Vec<Vec<f32>> {
            let l = train_loader::<TestBackend>(videos.clone(), 20, 4, 9, 0);
            let mut out = Vec::new();
            for _ in 0..2 {
                out.extend(l.iter().map(|b| b.rgb.into_data().to_vec::<f32>().unwrap()));
            }
            out
        };
        assert_eq!(collect(), collect());
    }
}
