//! I3D tests: the key layout of the real checkpoints, parity with pytorch-i3d on a narrow
//! network (fixtures made by `fixtures/make_fixtures.py`), and the importer's errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::backend::NdArray;
use burn::tensor::{Tensor, TensorData};

use crate::model::same_padding;
use crate::{expected_keys, load_weights, ConvEngine, I3d, I3dConfig, I3dError, Stream};

type B = NdArray<f32>;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// `key<TAB>d0,d1,...` lines of a key listing.
fn read_listing(name: &str) -> Vec<(String, Vec<usize>)> {
    std::fs::read_to_string(fixture(name))
        .unwrap()
        .lines()
        .map(|line| {
            let (key, dims) = line.split_once('\t').unwrap();
            // A scalar (`num_batches_tracked`) has no dimensions.
            let dims = dims
                .split(',')
                .filter(|d| !d.is_empty())
                .map(|d| d.parse().unwrap())
                .collect();
            (key.to_string(), dims)
        })
        .collect()
}

#[test]
fn full_size_network_expects_exactly_the_keys_of_the_public_checkpoints() {
    let device = Default::default();
    for (stream, listing) in [
        (Stream::Rgb, "keys_rgb_imagenet.txt"),
        (Stream::Flow, "keys_flow_imagenet.txt"),
    ] {
        let all = read_listing(listing);
        let used: Vec<_> = all
            .iter()
            .filter(|(k, _)| !k.starts_with("logits.") && !k.ends_with(".num_batches_tracked"))
            .cloned()
            .collect();
        // 57 Unit3Ds (3 stem + 9 × 6), each a conv weight and four BatchNorm tensors.
        assert_eq!(used.len(), 57 * 5, "{listing}");
        let model = I3dConfig::new(stream).init::<B>(&device);
        let expected = expected_keys(&model);
        // Same keys in the same order (state-dict order), with the same shapes.
        assert_eq!(expected, used, "{listing}");
        let params: usize = expected
            .iter()
            .filter(|(k, _)| !k.contains("running_"))
            .map(|(_, s)| s.iter().product::<usize>())
            .sum();
        let first = 64 * stream.in_channels() * 343;
        assert_eq!(params - first, 12_287_264 - 64 * 3 * 343, "{listing}");
    }
}

/// The deterministic input of `make_fixtures.py`:
/// `sin(0.19 h + 0.13 w + 0.7 t + 1.3 c + 2.1 n + 0.002 h w)`, in f64 then f32.
fn fixture_input(shape: [usize; 5]) -> Tensor<B, 5> {
    let [n, c, t, h, w] = shape;
    let mut values = Vec::with_capacity(n * c * t * h * w);
    for n in 0..n {
        for c in 0..c {
            for t in 0..t {
                for h in 0..h {
                    for w in 0..w {
                        let (n, c, t, h, w) = (n as f64, c as f64, t as f64, h as f64, w as f64);
                        let v = (0.19 * h + 0.13 * w + 0.7 * t + 1.3 * c + 2.1 * n + 0.002 * h * w)
                            .sin();
                        values.push(v as f32);
                    }
                }
            }
        }
    }
    Tensor::from_data(TensorData::new(values, shape), &Default::default())
}

fn read_expected(name: &str) -> Vec<Vec<f32>> {
    std::fs::read_to_string(fixture(name))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_whitespace().map(|v| v.parse().unwrap()).collect())
        .collect()
}

/// Loads a narrow (width / 8) network from `weights`, runs `features` on the fixture input
/// with each engine (the host network the CPU backends use, and Burn's operations) and
/// compares with pytorch-i3d's output: `|ours - torch| <= 1e-4 (1 + |torch|)`.
fn check_parity(stream: Stream, weights: &str, shape: [usize; 5], expected: &str) {
    let device = Default::default();
    let config = I3dConfig::new(stream).with_width_div(8);
    let mut model = config.init::<B>(&device);
    let report = load_weights(&mut model, &fixture(weights)).unwrap();
    assert_eq!(report.applied, 57 * 5);
    assert!(report.unused.contains(&"logits.conv3d.weight".to_string()));
    assert!(report
        .unused
        .iter()
        .all(|k| k.starts_with("logits.") || k.ends_with(".num_batches_tracked")));

    let torch: Vec<f32> = read_expected(expected).concat();
    for engine in [ConvEngine::Host, ConvEngine::Burn] {
        let features = model.features_with(fixture_input(shape), engine);
        assert_eq!(features.dims(), [shape[0], config.feature_dim()]);
        let ours = features.into_data().to_vec::<f32>().unwrap();
        assert_eq!(ours.len(), torch.len());
        let mut worst = 0.0f32;
        for (a, b) in ours.iter().zip(&torch) {
            worst = worst.max((a - b).abs() / (1.0 + b.abs()));
        }
        assert!(
            worst <= 1e-4,
            "{stream:?} ({engine:?}): worst relative difference {worst:e} from pytorch-i3d"
        );
    }
    // The fixture is not degenerate: the features vary and mostly are not zero.
    assert!(torch.iter().filter(|v| **v > 0.0).count() > torch.len() / 2);
}

#[test]
fn rgb_features_match_pytorch_i3d_from_a_pt_file() {
    check_parity(
        Stream::Rgb,
        "i3d_rgb_div8.pt",
        [2, 3, 16, 224, 224],
        "expected_rgb_div8.txt",
    );
}

#[test]
fn flow_features_match_pytorch_i3d_from_a_safetensors_file() {
    check_parity(
        Stream::Flow,
        "i3d_flow_div8.safetensors",
        [1, 2, 16, 240, 288],
        "expected_flow_div8.txt",
    );
}

#[test]
fn same_padding_is_pytorch_i3d_compute_pad() {
    // (kernel, stride, size) -> (before, after)
    assert_eq!(same_padding(7, 2, 16), (2, 3));
    assert_eq!(same_padding(7, 2, 224), (2, 3));
    assert_eq!(same_padding(3, 2, 112), (0, 1));
    assert_eq!(same_padding(3, 2, 15), (1, 1));
    assert_eq!(same_padding(2, 2, 15), (0, 1));
    assert_eq!(same_padding(2, 2, 14), (0, 0));
    assert_eq!(same_padding(3, 1, 8), (1, 1));
    assert_eq!(same_padding(1, 1, 8), (0, 0));
}

#[test]
fn small_inputs_give_one_feature_per_clip() {
    let device = Default::default();
    let config = I3dConfig {
        in_channels: 2,
        width_div: 8,
    };
    let model = config.init::<B>(&device);
    let x = Tensor::<B, 5>::zeros([3, 2, 16, 64, 64], &device);
    assert_eq!(model.forward_mixed_5c(x.clone()).dims(), [3, 128, 2, 2, 2]);
    assert_eq!(model.features(x).dims(), [3, 128]);
}

#[test]
fn weight_errors_name_the_file_and_the_key() {
    let device = Default::default();
    let dir = tempfile::tempdir().unwrap();

    let mut flow = I3dConfig::new(Stream::Flow)
        .with_width_div(8)
        .init::<B>(&device);
    let missing = dir.path().join("nope.pt");
    let err = load_weights(&mut flow, &missing).unwrap_err();
    assert!(matches!(err, I3dError::MissingFile { .. }), "{err}");
    assert!(err.to_string().contains("nope.pt"));

    let other = dir.path().join("weights.bin");
    std::fs::write(&other, b"x").unwrap();
    let err = load_weights(&mut flow, &other).unwrap_err();
    assert!(matches!(err, I3dError::UnknownFormat { .. }), "{err}");

    let garbage = dir.path().join("garbage.pt");
    std::fs::write(&garbage, b"not a checkpoint").unwrap();
    let err = load_weights(&mut flow, &garbage).unwrap_err();
    assert!(matches!(err, I3dError::Read { .. }), "{err}");
    assert!(err.to_string().contains("garbage.pt"));

    // The RGB checkpoint into the flow network: the first convolution has 3 input channels.
    let err = load_weights(&mut flow, &fixture("i3d_rgb_div8.pt")).unwrap_err();
    match &err {
        I3dError::ShapeMismatch {
            key,
            expected,
            found,
            ..
        } => {
            assert_eq!(key, "Conv3d_1a_7x7.conv3d.weight");
            assert_eq!(expected, &[8, 2, 7, 7, 7]);
            assert_eq!(found, &[8, 3, 7, 7, 7]);
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("i3d_rgb_div8.pt"));
    assert!(err.to_string().contains("Conv3d_1a_7x7.conv3d.weight"));

    // A safetensors file with one unrelated tensor: the first key is missing.
    let lone = dir.path().join("lone.safetensors");
    let header = br#"{"foo":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&1.0f32.to_le_bytes());
    std::fs::write(&lone, bytes).unwrap();
    let err = load_weights(&mut flow, &lone).unwrap_err();
    match &err {
        I3dError::MissingKey { key, found, .. } => {
            assert_eq!(key, "Conv3d_1a_7x7.conv3d.weight");
            assert_eq!(*found, 1);
        }
        other => panic!("{other}"),
    }
    assert!(err.to_string().contains("lone.safetensors"));
}

#[test]
fn a_failed_load_leaves_the_model_unchanged() {
    let device = Default::default();
    let mut flow = I3dConfig::new(Stream::Flow)
        .with_width_div(8)
        .init::<B>(&device);
    let before: BTreeMap<String, Vec<usize>> = expected_keys(&flow).into_iter().collect();
    let weight = flow.conv3d_1a_7x7.conv3d.weight.val().into_data();
    assert!(load_weights(&mut flow, &fixture("i3d_rgb_div8.pt")).is_err());
    let after: BTreeMap<String, Vec<usize>> = expected_keys(&flow).into_iter().collect();
    assert_eq!(before, after);
    flow.conv3d_1a_7x7
        .conv3d
        .weight
        .val()
        .into_data()
        .assert_eq(&weight, true);
}

#[test]
#[should_panic(expected = "does not divide the width 24")]
fn a_width_divisor_must_divide_every_width() {
    // 16 divides 64 but not Mixed_4c's 24-channel branch.
    I3dConfig::new(Stream::Rgb)
        .with_width_div(16)
        .init::<B>(&Default::default());
}

/// The two streams' networks at width / 8, their weights not yet initialised (Burn draws
/// them on first use).
fn random_div8_networks(device: &burn::backend::ndarray::NdArrayDevice) -> (I3d<B>, I3d<B>) {
    let net = |stream| I3dConfig::new(stream).with_width_div(8).init::<B>(device);
    (net(Stream::Rgb), net(Stream::Flow))
}

/// A dark 64×48 video with a bright square moving right by `dx` px per frame.
fn moving_square_video(path: &Path, frames: usize, dx: usize) {
    let (w, h) = (64, 48);
    let frames: Vec<video::Frame> = (0..frames)
        .map(|i| {
            let mut data = vec![40u8; 3 * w * h];
            let x0 = (4 + dx * i) % (w - 12);
            for y in 18..30 {
                for x in x0..x0 + 12 {
                    data[3 * (y * w + x)..][..3].copy_from_slice(&[220, 200, 180]);
                }
            }
            video::Frame::new(w, h, data)
        })
        .collect();
    video::write_h264_mp4(path, &frames, 25).unwrap();
}

#[test]
fn extract_video_gives_one_feature_per_16_frames() {
    use crate::extract::{extract_video, ExtractConfig, ExtractError};
    let device = Default::default();
    let (rgb, flow) = random_div8_networks(&device);
    let dir = tempfile::tempdir().unwrap();
    // Half-size frames (shorter side 128, crop 112) and a light TV-L1 (one level, one warp;
    // its accuracy is tested in `flow`) keep the test quick.
    let config = ExtractConfig {
        frames: video::FrameSettings {
            fps: 25,
            short_side: 128,
        },
        crop: 112,
        tvl1: crate::flow::TvL1::light(),
        ..ExtractConfig::default()
    };

    // 33 frames: two chunks and a frame after them; 32: two chunks, the last without a next
    // frame (its 16th flow repeats the 15th).
    for n in [33, 32] {
        let path = dir.path().join(format!("v{n}.mp4"));
        moving_square_video(&path, n, 1);
        let mut calls = Vec::new();
        let out = extract_video(&path, &rgb, &flow, &config, &device, |p| calls.push(p)).unwrap();
        assert_eq!((out.snippets, out.dim), (2, 128), "{n} frames");
        assert_eq!(out.rgb.len(), 2 * 128);
        assert_eq!(out.flow.len(), 2 * 128);
        assert_eq!(out.info.frames, n as u64);
        assert_eq!(calls.len(), 2);
        assert_eq!((calls[1].chunks, calls[1].frames), (2, 32));
        assert!(out.rgb.iter().chain(&out.flow).all(|v| v.is_finite()));

        // The RGB feature of the first chunk is the network on its 16 centre crops.
        let (frames, _) = video::read_frames(&path, &config.frames).unwrap();
        let plane = 112 * 112;
        let mut x = vec![0.0f32; 3 * 16 * plane];
        for (t, f) in frames[..16].iter().enumerate() {
            let v = f.centre_crop(112).to_i3d();
            for c in 0..3 {
                x[(c * 16 + t) * plane..][..plane].copy_from_slice(&v[c * plane..][..plane]);
            }
        }
        let x = Tensor::<B, 5>::from_data(TensorData::new(x, [1, 3, 16, 112, 112]), &device);
        let expected = rgb.features(x).into_data().to_vec::<f32>().unwrap();
        for (a, b) in out.rgb[..128].iter().zip(&expected) {
            assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }

    // Shorter than one chunk: an error naming the file.
    let path = dir.path().join("short.mp4");
    moving_square_video(&path, 15, 1);
    let e = extract_video(&path, &rgb, &flow, &config, &device, |_| {}).unwrap_err();
    assert!(
        matches!(e, ExtractError::TooShort { frames: 15, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("short.mp4"), "{e}");
}

/// The overlapped pipeline (decoding, flow and the two networks in their own threads) gives
/// the features of the stages run one after the other, bit for bit, and reports the same
/// progress, with and without a frame after the last chunk.
#[test]
fn overlapped_pipeline_equals_sequential_stages() {
    use crate::extract::{extract_video, ExtractConfig};
    let device = Default::default();
    let (rgb, flow) = random_div8_networks(&device);
    let dir = tempfile::tempdir().unwrap();
    let overlapped = ExtractConfig {
        frames: video::FrameSettings {
            fps: 25,
            short_side: 64,
        },
        crop: 64,
        tvl1: crate::flow::TvL1::light(),
        ..ExtractConfig::default()
    };
    assert!(overlapped.overlap, "overlap is the default");
    let sequential = ExtractConfig {
        overlap: false,
        ..overlapped
    };
    for n in [49, 48] {
        let path = dir.path().join(format!("v{n}.mp4"));
        moving_square_video(&path, n, 2);
        let mut calls = [Vec::new(), Vec::new()];
        let [a, b] = &mut calls;
        let x = extract_video(&path, &rgb, &flow, &overlapped, &device, |p| a.push(p)).unwrap();
        let y = extract_video(&path, &rgb, &flow, &sequential, &device, |p| b.push(p)).unwrap();
        assert_eq!(x.snippets, 3, "{n} frames");
        assert_eq!(x, y, "{n} frames");
        assert_eq!(calls[0], calls[1]);
        assert_eq!(calls[0].len(), 3);
        assert_eq!(calls[0][2].frames, 48);
    }
}

/// A stage that panics (here the flow, on the second chunk) fails the call with its panic
/// once the other stages have stopped, instead of hanging the pipeline.
#[test]
fn a_panicking_stage_fails_the_extraction() {
    use crate::extract::{extract_video_with, ExtractConfig, FlowEngine};
    struct FailsOnSecondChunk(std::sync::atomic::AtomicUsize);
    impl FlowEngine<B> for FailsOnSecondChunk {
        fn flow_input(
            &self,
            frames: &[video::Frame],
            config: &ExtractConfig,
            device: &burn::backend::ndarray::NdArrayDevice,
        ) -> Tensor<B, 5> {
            let calls = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            assert!(calls == 0, "flow stage failed on purpose");
            crate::extract::CpuFlow.flow_input(frames, config, device)
        }
        fn on_device(&self) -> bool {
            false
        }
    }
    let device = Default::default();
    let model = |s| I3dConfig::new(s).with_width_div(8).init::<B>(&device);
    let (rgb, flow) = (model(Stream::Rgb), model(Stream::Flow));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.mp4");
    moving_square_video(&path, 80, 1);
    let config = ExtractConfig {
        frames: video::FrameSettings {
            fps: 25,
            short_side: 64,
        },
        crop: 64,
        tvl1: crate::flow::TvL1::light(),
        ..ExtractConfig::default()
    };
    let engine = FailsOnSecondChunk(Default::default());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        extract_video_with(&path, &rgb, &flow, &engine, &config, &device, |_| {})
    }));
    let panic = result.expect_err("the flow stage's panic");
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(message.contains("failed on purpose"), "{message}");
}

/// The pipeline initialises both networks' parameters before its stages' threads start:
/// Burn initialises parameters lazily, on first use, from the backend's one random generator,
/// so left to the threads the two random networks' weights would depend on how the threads
/// interleave (`maan extract` with random weights wrote different bytes on every run). Checked
/// from the flow stage's first call, which comes before the flow network's first use.
#[test]
fn overlapped_pipeline_initialises_the_networks_before_its_threads() {
    use crate::extract::{extract_video_with, CpuFlow, ExtractConfig, FlowEngine};
    use burn::module::{Module, ModuleVisitor, Param};
    struct Uninitialised(usize);
    impl ModuleVisitor<B> for Uninitialised {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.0 += usize::from(!param.is_initialized());
        }
    }
    fn uninitialised(model: &crate::I3d<B>) -> usize {
        let mut v = Uninitialised(0);
        model.visit(&mut v);
        v.0
    }
    struct Checks<'a>(&'a crate::I3d<B>, std::sync::Mutex<Vec<usize>>);
    impl FlowEngine<B> for Checks<'_> {
        fn flow_input(
            &self,
            frames: &[video::Frame],
            config: &ExtractConfig,
            device: &burn::backend::ndarray::NdArrayDevice,
        ) -> Tensor<B, 5> {
            self.1.lock().unwrap().push(uninitialised(self.0));
            CpuFlow.flow_input(frames, config, device)
        }
        fn on_device(&self) -> bool {
            false
        }
    }
    let device = Default::default();
    let (rgb, flow) = random_div8_networks(&device);
    assert!(uninitialised(&flow) > 0, "Burn initialises lazily");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.mp4");
    moving_square_video(&path, 33, 2);
    let config = ExtractConfig {
        frames: video::FrameSettings {
            fps: 25,
            short_side: 64,
        },
        crop: 64,
        tvl1: crate::flow::TvL1::light(),
        ..ExtractConfig::default()
    };
    let checks = Checks(&flow, Default::default());
    extract_video_with(&path, &rgb, &flow, &checks, &config, &device, |_| {}).unwrap();
    assert_eq!(*checks.1.lock().unwrap(), vec![0, 0]);
    assert_eq!(uninitialised(&rgb), 0);
}
