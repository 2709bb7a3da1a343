//! The paper's Appendix F (Table 4, Figure 6): weakly-supervised object localization with
//! GAP, weighted-sum and MAA pooling over a 4×4 or 7×7 grid ([`maan_wsol`]).
//!
//! Three poolings × two grid sizes × the preset's seeds, trained from image labels only on the
//! same data with the same settings, scored by top-1 / top-5 localization error at IoU 0.5
//! and top-1 classification error, mean ± standard deviation over seeds ([`markdown`]). The
//! data is the synthetic WSOL set or CUB-200-2011 ([`WsolData`]); on CUB the VGG16 backbone
//! may start from ImageNet-pretrained weights. The sizes and schedule are a [`Preset`].

use std::fmt::Write as _;
use std::path::Path;

use burn::tensor::backend::AutodiffBackend;
use maan_wsol::cub::Cub;
use maan_wsol::{
    load_backbone_weights, synth, BackboneConfig, Evaluation, Example, ImageSet, Pooling,
    WsolError, WsolModelConfig, WsolTrainConfig,
};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::report::mean_std;
use crate::train::{Observer, Session};

/// The grid sizes of the paper's Table 4.
pub const GRIDS: [usize; 2] = [4, 7];

/// Test images per model whose CAM and boxes are kept for Figure 6.
pub const FIGURE_IMAGES: usize = 4;

/// How long a run is: the full experiment, a quick one (one seed, fewer images and
/// iterations), or a tiny one for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// The full experiment.
    Full,
    /// One seed, fewer images and iterations (a few minutes on a CPU).
    Quick,
    /// Tiny sizes, for tests.
    Tiny,
}

/// Sizes and schedule of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Preset {
    /// Image side after resizing.
    pub image_size: usize,
    /// Training images (at most, for CUB).
    pub train_images: Option<usize>,
    /// Test images (at most, for CUB).
    pub test_images: Option<usize>,
    /// Optimisation steps per model.
    pub iterations: usize,
    /// Images per step.
    pub batch_size: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Seeds per model.
    pub seeds: u64,
    /// Backbone layout.
    pub backbone: String,
}

impl Preset {
    /// The preset of a run of `size` with `seeds` seeds (one for quick and tiny runs) on the
    /// synthetic data or on CUB-200-2011 (`cub`), with a pretrained backbone or not.
    pub fn new(size: Size, seeds: u64, cub: bool, pretrained: bool) -> Preset {
        let quick = size == Size::Quick;
        let seeds = if size == Size::Full { seeds } else { 1 };
        if size == Size::Tiny {
            return Preset {
                image_size: 32,
                train_images: Some(16),
                test_images: Some(8),
                iterations: 2,
                batch_size: 8,
                learning_rate: 1e-3,
                seeds,
                backbone: "small".into(),
            };
        }
        if cub {
            return Preset {
                image_size: if pretrained { 224 } else { 112 },
                train_images: quick.then_some(400),
                test_images: quick.then_some(400),
                iterations: if quick { 100 } else { 3000 },
                batch_size: 32,
                learning_rate: if pretrained { 1e-4 } else { 1e-3 },
                seeds,
                backbone: if pretrained { "vgg16" } else { "small" }.into(),
            };
        }
        Preset {
            image_size: 48,
            train_images: Some(if quick { 1000 } else { 2000 }),
            test_images: Some(if quick { 200 } else { 400 }),
            iterations: if quick { 120 } else { 400 },
            batch_size: 32,
            learning_rate: 2e-3,
            seeds,
            backbone: "small".into(),
        }
    }
}

/// The images of a run.
#[derive(Debug, Clone)]
pub struct WsolData {
    /// `synthetic` or the CUB folder.
    pub name: String,
    /// Training images.
    pub train: ImageSet,
    /// Test images.
    pub test: ImageSet,
    /// Number of classes.
    pub num_classes: usize,
    /// Per-channel mean the pixels were normalized with (RGB).
    pub mean: [f32; 3],
    /// Per-channel standard deviation the pixels were normalized with (RGB).
    pub std: [f32; 3],
}

impl WsolData {
    /// The synthetic WSOL data (`maan_wsol::synth`) at the preset's sizes.
    pub fn synthetic(preset: &Preset) -> WsolData {
        let n_train = preset.train_images.unwrap_or(2000);
        let n_test = preset.test_images.unwrap_or(400);
        WsolData {
            name: "synthetic".to_string(),
            train: synth::generate(1, n_train, preset.image_size),
            test: synth::generate(2, n_test, preset.image_size),
            num_classes: synth::NUM_CLASSES,
            mean: [0.5; 3],
            std: [0.25; 3],
        }
    }

    /// CUB-200-2011's training and test images, decoded at the preset's sizes.
    pub fn cub(cub: &Cub, preset: &Preset) -> Result<WsolData, WsolError> {
        Ok(WsolData {
            name: cub.root.display().to_string(),
            train: cub.load_set(true, preset.image_size, preset.train_images)?,
            test: cub.load_set(false, preset.image_size, preset.test_images)?,
            num_classes: cub.num_classes,
            mean: maan_wsol::cub::IMAGENET_MEAN,
            std: maan_wsol::cub::IMAGENET_STD,
        })
    }
}

/// One model (pooling and grid) over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct WsolRow {
    /// Name in the paper's style ("MAAN 7×7").
    pub method: String,
    /// Pooling.
    pub pooling: Pooling,
    /// Grid side.
    pub grid: usize,
    /// Top-1 localization error per seed (fraction).
    pub top1_loc_per_seed: Vec<f64>,
    /// Top-5 localization error per seed.
    pub top5_loc_per_seed: Vec<f64>,
    /// Top-1 classification error per seed.
    pub top1_cls_per_seed: Vec<f64>,
    /// Localization accuracy with the true class given, per seed.
    pub gt_known_per_seed: Vec<f64>,
}

/// The whole experiment's results.
#[derive(Debug, Clone, Serialize)]
pub struct WsolTable {
    /// `synthetic` or the CUB folder.
    pub data: String,
    /// Backend used.
    pub backend: String,
    /// The commit of the code that made the table ([`Session::commit`]).
    pub commit: String,
    /// Sizes and schedule.
    pub preset: Preset,
    /// Training and test images actually used.
    pub images: (usize, usize),
    /// One row per pooling and grid, in the order of the paper's Table 4.
    pub rows: Vec<WsolRow>,
    /// Wall time of training and evaluation, seconds.
    pub seconds: f64,
}

/// What [`run`] returns: the table and, per model ([`WsolRow::method`]), the first seed's
/// examples for Figure 6 (at most [`FIGURE_IMAGES`] test images each).
#[derive(Debug, Clone)]
pub struct WsolRun {
    /// The results.
    pub table: WsolTable,
    /// Model name and its first seed's examples, in the table's order.
    pub examples: Vec<(String, Vec<Example>)>,
}

/// Trains and evaluates every pooling at every grid size on `data` with `preset`, the
/// backbone initialised from `weights` (safetensors) when given.
pub fn run<B: AutodiffBackend>(
    data: &WsolData,
    preset: &Preset,
    weights: Option<&Path>,
    session: &Session<B>,
    observer: &mut dyn Observer,
) -> Result<WsolRun> {
    let p = preset;
    let device = &session.device;
    let models = GRIDS.len() * Pooling::ALL.len();
    observer.on_start(models as u64 * p.seeds * p.iterations as u64);
    let start = std::time::Instant::now();
    let backbone = match p.backbone.as_str() {
        "vgg16" => BackboneConfig::vgg16(),
        _ => BackboneConfig::small(),
    };
    let mut rows = Vec::new();
    let mut examples = Vec::new();
    for pooling in Pooling::ALL {
        for grid in GRIDS {
            let method = format!("{} {grid}×{grid}", pooling.paper_name());
            let mut evals: Vec<Evaluation> = Vec::new();
            for seed in 0..p.seeds {
                observer.on_model(&method, &format!("seed {seed}"));
                let model = WsolModelConfig::new(data.num_classes, backbone.clone(), pooling)
                    .with_grid(grid);
                let config = WsolTrainConfig::new(model)
                    .with_iterations(p.iterations)
                    .with_batch_size(p.batch_size)
                    .with_learning_rate(p.learning_rate)
                    .with_seed(seed);
                B::seed(device, seed);
                let mut net = config.model.init::<B>(device);
                if let Some(path) = weights {
                    load_backbone_weights(&mut net.backbone, path)
                        .map_err(Error::BackboneWeights)?;
                }
                let trained =
                    maan_wsol::train_from(&config, net, &data.train, device, false, &mut |_, _| {
                        observer.on_iteration()
                    });
                let eval =
                    maan_wsol::evaluate_trained(&trained, &data.test, device, 64, FIGURE_IMAGES);
                let e = eval.errors;
                observer.on_result(&format!(
                    "{method:>18} seed {seed}: top-1 loc err {:.1}%, top-5 loc err {:.1}%, \
                     cls err {:.1}%, GT-known loc acc {:.1}%",
                    e.top1_loc * 100.0,
                    e.top5_loc * 100.0,
                    e.top1_cls * 100.0,
                    e.gt_known_loc_acc * 100.0
                ));
                evals.push(eval);
            }
            let col = |f: &dyn Fn(&Evaluation) -> f64| evals.iter().map(f).collect();
            rows.push(WsolRow {
                method: method.clone(),
                pooling,
                grid,
                top1_loc_per_seed: col(&|e| e.errors.top1_loc),
                top5_loc_per_seed: col(&|e| e.errors.top5_loc),
                top1_cls_per_seed: col(&|e| e.errors.top1_cls),
                gt_known_per_seed: col(&|e| e.errors.gt_known_loc_acc),
            });
            if let Some(first) = evals.into_iter().next() {
                examples.push((method, first.examples));
            }
        }
    }
    let table = WsolTable {
        data: data.name.clone(),
        backend: session.backend.clone(),
        commit: session.commit.clone(),
        preset: preset.clone(),
        images: (data.train.len(), data.test.len()),
        rows,
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok(WsolRun { table, examples })
}

/// An error rate over seeds in percent: mean ± standard deviation.
fn pct(v: &[f64]) -> String {
    let (m, s) = mean_std(v);
    format!("{:.1} ± {:.1}", m * 100.0, s * 100.0)
}

/// Renders the table as Markdown (errors in %, mean ± std over seeds).
pub fn markdown(table: &WsolTable) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| Method | Top-1 loc err | Top-5 loc err | Top-1 cls err | GT-known loc acc |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    for r in &table.rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            r.method,
            pct(&r.top1_loc_per_seed),
            pct(&r.top5_loc_per_seed),
            pct(&r.top1_cls_per_seed),
            pct(&r.gt_known_per_seed)
        );
    }
    s
}
