//! Training loop: learning happens, checkpoints round-trip, resume is exact.

use std::path::Path;

use burn::module::AutodiffModule;
use maa_core::Aggregator;

use super::model_params;
use super::{TestAutodiffBackend, TestBackend};
use crate::checkpoint::checkpoint_dir;
use crate::infer::{run_videos, StreamKind};
use crate::predict::evaluate;
use crate::run::load_models;
use crate::run::{Which, BEST, LAST, METRICS_FILE};
use crate::toy::{toy_dataset, ToyConfig};
use crate::train::{fit_config, NoObserver, Streams, TrainConfig, TrainObserver, Trainer};
use crate::{ModelError, StreamModelConfig};

type AD = TestAutodiffBackend;

fn small_config(iterations: usize) -> TrainConfig {
    TrainConfig::new(StreamModelConfig::new().with_attention_hidden(16))
        .with_iterations(iterations)
        .with_batch_size(8)
        .with_eval_every(0)
        .with_checkpoint_every(0)
        .with_learning_rate(1e-3)
        .with_seed(5)
}

/// On a tiny synthetic problem the trained model's mAP@0.5 is far above the untrained one's.
#[test]
fn learning_happens_on_a_toy_problem() {
    let _rng = super::rng_lock();
    let data = toy_dataset(&ToyConfig::default());
    let device = Default::default();
    let config = fit_config(&small_config(300), &data).unwrap();
    let mut trainer = Trainer::<AD>::new(config, &data, None, device).unwrap();
    let before = trainer.evaluate(&data).unwrap();
    let summary = trainer.run(&data, &mut NoObserver).unwrap();
    let after = summary.last_eval.expect("evaluated at the end");
    let (b, a) = (before.map_at(0.5).unwrap(), after.map_at(0.5).unwrap());
    assert!(
        a > 0.5 && a > b + 0.25,
        "mAP@0.5 untrained {b:.3}, trained {a:.3}"
    );
    assert!(
        after.classification_map > 0.9,
        "cls mAP {}",
        after.classification_map
    );
    assert!(
        summary.last_losses.iter().all(|l| *l < 0.3),
        "{:?}",
        summary.last_losses
    );
}

/// With no localization in the configuration, `fit_config` records the dataset's `paper`
/// preset, and a run's final evaluation (`last_eval`) and `evaluate` use it: `evaluate_with`
/// that preset gives the same AP
/// at every tIoU and the same classification mAP (`experiment ablation` reuses the final
/// evaluation for its paper rows on this ground).
#[test]
fn final_evaluation_is_the_paper_presets() {
    let _rng = super::rng_lock();
    let data = toy_dataset(&ToyConfig::default());
    let config = fit_config(&small_config(150), &data).unwrap();
    assert_eq!(config.localize, Some(data.kind.paper_localize()));
    let mut trainer = Trainer::<AD>::new(config, &data, None, Default::default()).unwrap();
    let last = trainer
        .run(&data, &mut NoObserver)
        .unwrap()
        .last_eval
        .unwrap();
    let paper = data.kind.localize(maan_eval::LocalizePreset::Paper);
    let oic = data.kind.localize(maan_eval::LocalizePreset::Oic);
    for m in [
        trainer.evaluate(&data).unwrap(),
        trainer.evaluate_with(&data, Some(&paper)).unwrap(),
    ] {
        assert_eq!(m.map, last.map);
        assert_eq!(m.classification_map, last.classification_map);
    }
    // The comparison can tell localizations apart: OIC scores these detections differently.
    let m = trainer.evaluate_with(&data, Some(&oic)).unwrap();
    assert_ne!(m.map, last.map);
}

/// The same for STPN (λ-weighted CAS, sparsity loss) and one stream only.
#[test]
fn stpn_one_stream_learns() {
    let _rng = super::rng_lock();
    let data = toy_dataset(&ToyConfig {
        with_flow: false,
        ..ToyConfig::default()
    });
    let mut config = small_config(200);
    config.model.aggregator = Aggregator::WeightedSum;
    let config = fit_config(&config, &data).unwrap();
    assert_eq!(config.streams, Streams::Rgb, "no flow: one stream");
    let mut trainer = Trainer::<AD>::new(config, &data, None, Default::default()).unwrap();
    let summary = trainer.run(&data, &mut NoObserver).unwrap();
    let m = summary.last_eval.unwrap();
    assert!(m.classification_map > 0.8, "{m:?}");
}

/// The run's sampler takes its batch size, T and seed from the configuration (the sampling
/// itself is tested in `dataset`).
#[test]
fn config_sampler_uses_the_runs_batch_size_t_and_seed() {
    let data = toy_dataset(&ToyConfig {
        train_videos: 10,
        ..ToyConfig::default()
    });
    let config = small_config(10)
        .with_batch_size(4)
        .with_num_segments(7)
        .with_seed(3);
    let batch = config.sampler(data.train.clone()).batch(2);
    assert_eq!((batch.batch, batch.time), (4, 7));
    assert_eq!(
        batch,
        dataset::Sampler::new(data.train.clone(), 4, 7, 3).batch(2)
    );
    assert_ne!(
        batch,
        dataset::Sampler::new(data.train.clone(), 4, 7, 4).batch(2)
    );
}

struct StopAt(usize, usize);
impl TrainObserver for StopAt {
    fn on_iteration(&mut self, it: usize, _: &[f32]) {
        self.1 = it;
    }
    fn should_stop(&mut self) -> bool {
        self.1 >= self.0
    }
}

/// A run killed after its last checkpoint leaves metrics records of iterations that the
/// resumed run trains again (and maybe a line cut short); resuming drops them, so
/// `metrics.jsonl` holds each iteration's loss once, as an uninterrupted run's does.
#[test]
#[allow(clippy::clone_on_copy)] // the device is not Copy on wgpu
fn resume_drops_metrics_logged_after_the_checkpoint() {
    let _rng = super::rng_lock();
    let data = toy_dataset(&ToyConfig {
        train_videos: 8,
        test_videos: 2,
        ..ToyConfig::default()
    });
    let device: burn::tensor::Device<AD> = Default::default();
    let mut config = fit_config(&small_config(6), &data).unwrap();
    config.log_every = 1;
    config.eval_every = 3;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let mut t = Trainer::<AD>::new(
        config,
        &data,
        Some(crate::RunDir::create(&dir).unwrap()),
        device.clone(),
    )
    .unwrap();
    assert!(t.run(&data, &mut StopAt(4, 0)).unwrap().stopped);
    drop(t);
    // What a process killed during iteration 6, after the checkpoint of iteration 4, leaves.
    let path = dir.join(METRICS_FILE);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"iteration\":5,\"loss\":[9.0,9.0]}\n{\"iteration\":6,\"lo");
    std::fs::write(&path, text).unwrap();
    let mut t =
        Trainer::<AD>::resume(crate::RunDir::resume(&dir).unwrap(), &data, None, device).unwrap();
    t.run(&data, &mut NoObserver).unwrap();
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let losses: Vec<u64> = records
        .iter()
        .filter(|r| r.get("loss").is_some())
        .map(|r| r["iteration"].as_u64().unwrap())
        .collect();
    assert_eq!(losses, [1, 2, 3, 4, 5, 6]);
    assert!(records
        .iter()
        .all(|r| r.get("loss") != Some(&serde_json::json!([9.0, 9.0]))));
}

/// A run stopped (as by Ctrl-C) and resumed ends bit-for-bit where the uninterrupted run does;
/// checkpoints load back to identical outputs.
#[test]
fn interrupted_and_resumed_equals_uninterrupted() {
    // The Dropout aggregator exercises the backend RNG too.
    check_resume(|c| c.model.aggregator = Aggregator::Dropout);
}

/// The same with attention-guided erasing, whose masks depend on the weights: the resumed
/// run hides the same snippets and ends where the uninterrupted run does.
#[test]
fn interrupted_and_resumed_equals_uninterrupted_with_attention_erasing() {
    check_resume(|c| c.attention_erase = crate::EraseFraction(0.3));
}

/// Trains the toy run of [`interrupted_and_resumed_equals_uninterrupted`], edited by `edit`,
/// once without a stop and once stopped at iteration 13 and resumed, and compares them.
#[allow(clippy::clone_on_copy)] // the device is not Copy on wgpu
fn check_resume(edit: impl Fn(&mut TrainConfig)) {
    let _rng = super::rng_lock();
    let data = toy_dataset(&ToyConfig {
        train_videos: 12,
        test_videos: 4,
        ..ToyConfig::default()
    });
    let device: burn::tensor::Device<AD> = Default::default();
    let mut config = fit_config(&small_config(24), &data).unwrap();
    edit(&mut config);
    config.eval_every = 10;
    let tmp = tempfile::tempdir().unwrap();
    let (dir_a, dir_b) = (tmp.path().join("a"), tmp.path().join("b"));

    let mut a = Trainer::<AD>::new(
        config.clone(),
        &data,
        Some(crate::RunDir::create(&dir_a).unwrap()),
        device.clone(),
    )
    .unwrap();
    a.run(&data, &mut NoObserver).unwrap();

    let mut b = Trainer::<AD>::new(
        config.clone(),
        &data,
        Some(crate::RunDir::create(&dir_b).unwrap()),
        device.clone(),
    )
    .unwrap();
    let s = b.run(&data, &mut StopAt(13, 0)).unwrap();
    assert!(s.stopped);
    assert_eq!(s.iteration, 13);
    drop(b);
    let mut b = Trainer::<AD>::resume(
        crate::RunDir::resume(&dir_b).unwrap(),
        &data,
        None,
        device.clone(),
    )
    .unwrap();
    assert_eq!(b.iteration(), 13);
    let s = b.run(&data, &mut NoObserver).unwrap();
    assert_eq!(s.iteration, 24);

    for kind in [StreamKind::Rgb, StreamKind::Flow] {
        let (wa, wb) = (
            model_params(a.model(kind).unwrap()),
            model_params(b.model(kind).unwrap()),
        );
        let diff = wa
            .iter()
            .zip(&wb)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(
            // Bitwise with this crate's test build (ndarray without SIMD / threads); when
            // feature unification turns them on (`cargo test --workspace` with maan-cli), the
            // last bit of some reductions may change from run to run, hence the tolerance.
            diff <= 1e-5,
            "{kind:?} weights differ after resume by {diff}"
        );
    }
    assert!(checkpoint_dir(&dir_a, LAST).is_some());
    assert!(checkpoint_dir(&dir_a, BEST).is_some());
    assert!(dir_a.join(METRICS_FILE).is_file());
    check_reload(&dir_a, &a, &data);
}

/// Checks that the checkpoint in `dir` gives the live `trainer`'s outputs on the test videos
/// (save -> load changes nothing) and that the loaded run evaluates.
pub(super) fn check_reload(dir: &Path, trainer: &Trainer<AD>, data: &dataset::WtalDataset) {
    let device = Default::default();
    let (_, models) = load_models::<TestBackend>(dir, Which::Last, None, &device).unwrap();
    let refs: Vec<_> = models.iter().map(|(k, m)| (*k, m)).collect();
    let loaded = run_videos(&refs, &data.test, 0.5, &device).unwrap();
    let valid: Vec<_> = trainer
        .models()
        .into_iter()
        .map(|(k, m)| (k, m.valid()))
        .collect();
    let refs: Vec<_> = valid.iter().map(|(k, m)| (*k, m)).collect();
    let live = run_videos(&refs, &data.test, 0.5, &device).unwrap();
    assert_eq!(loaded, live, "save -> load changed the outputs");
    let (m, dets, _) = evaluate(
        &refs,
        data,
        0.5,
        None,
        &crate::infer::Batching::default(),
        &device,
    )
    .unwrap();
    assert_eq!(m.tiou_thresholds.len(), 9);
    assert_eq!(dets.results.len(), data.test.len());
}

/// A run directory without a `last` checkpoint cannot be continued: [`RunDir::resume`] says
/// so, naming the directory.
#[test]
fn resume_without_checkpoint_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = crate::RunDir::resume(tmp.path()).unwrap_err();
    assert!(matches!(err, ModelError::NoRun(_)), "{err}");
    assert!(err.to_string().contains("last/state.json"), "{err}");
}

/// One writer per run directory: while a [`RunDir`] holds a directory, a second
/// `RunDir::create` of it fails with [`ModelError::RunInUse`] naming this process's pid (the
/// holder wrote it into `run.lock`); once the holder is dropped the lock is free again;
/// creating a run where a `last` checkpoint exists is [`ModelError::RunExists`], and resuming
/// it takes the lock the same way.
#[test]
fn run_dir_lock_admits_one_writer_and_is_released_on_drop() {
    let _rng = super::rng_lock();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let held = crate::RunDir::create(&dir).unwrap();
    let pid = std::process::id().to_string();
    assert_eq!(
        std::fs::read_to_string(dir.join(crate::run::LOCK_FILE)).unwrap(),
        pid
    );
    match crate::RunDir::create(&dir).unwrap_err() {
        ModelError::RunInUse { run, holder } => {
            assert_eq!(run, dir);
            assert_eq!(holder, pid);
        }
        e => panic!("expected RunInUse, got {e}"),
    }
    drop(held);
    let data = toy_dataset(&ToyConfig {
        train_videos: 4,
        test_videos: 2,
        ..ToyConfig::default()
    });
    let config = fit_config(&small_config(2), &data).unwrap();
    let run = crate::RunDir::create(&dir).unwrap();
    let mut t = Trainer::<AD>::new(config, &data, Some(run), Default::default()).unwrap();
    t.run(&data, &mut NoObserver).unwrap();
    assert!(matches!(
        crate::RunDir::create(&dir).unwrap_err(),
        ModelError::RunInUse { .. }
    ));
    drop(t);
    assert!(matches!(
        crate::RunDir::create(&dir).unwrap_err(),
        ModelError::RunExists(_)
    ));
    let resumed = crate::RunDir::resume(&dir).unwrap();
    assert!(matches!(
        crate::RunDir::resume(&dir).unwrap_err(),
        ModelError::RunInUse { .. }
    ));
    assert_eq!(resumed.last_state().unwrap().iteration, 2);
}

/// Model selection: a higher average mAP wins; on equal average mAP the higher classification
/// mAP wins; on a tie of both the later evaluation wins; NaN counts as lowest.
#[test]
fn best_checkpoint_tie_break_prefers_classification_then_later() {
    use crate::evaluate::{BestMetrics, EvalMetrics};
    let m = |avg: f64, cls: f64, it: usize| EvalMetrics {
        iteration: it,
        tiou_thresholds: vec![0.5],
        map: vec![avg],
        average_map: avg,
        classification_map: cls,
        warnings: vec![],
    };
    let best = |avg: f64, cls: f64, it: usize| BestMetrics {
        average_map: avg,
        classification_map: cls,
        iteration: it,
    };
    assert!(m(0.0, 0.1, 500).improves_on(None));
    // Higher average mAP wins whatever the classification mAP.
    assert!(m(0.2, 0.1, 1000).improves_on(Some(&best(0.1, 0.9, 500))));
    assert!(!m(0.1, 0.9, 1000).improves_on(Some(&best(0.2, 0.1, 500))));
    // Tied average mAP (the all-zero case of an early ActivityNet run): classification decides.
    assert!(m(0.0, 0.88, 4000).improves_on(Some(&best(0.0, 0.04, 500))));
    assert!(!m(0.0, 0.04, 4000).improves_on(Some(&best(0.0, 0.88, 500))));
    // Tied on both: the later evaluation wins.
    assert!(m(0.0, 0.5, 4000).improves_on(Some(&best(0.0, 0.5, 500))));
    // NaN is lowest: a real number beats it, it never beats a real number.
    assert!(m(0.0, 0.1, 1000).improves_on(Some(&best(0.0, f64::NAN, 500))));
    assert!(!m(f64::NAN, 0.9, 1000).improves_on(Some(&best(0.0, 0.0, 500))));
    assert_eq!(m(0.3, 0.4, 7).best_metrics(), best(0.3, 0.4, 7));
}
