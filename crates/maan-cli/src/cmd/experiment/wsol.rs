//! `maan experiment wsol`: the paper's Appendix F (Table 4, Figure 6), weakly-supervised
//! object localization with GAP, weighted-sum and MAA pooling over a 4×4 or 7×7 grid.
//!
//! On the built-in synthetic dataset (`maan_wsol::synth`) by default: three poolings × two
//! grid sizes × `--seeds` seeds, trained from image labels only on the same data with the
//! same settings, scored by top-1 / top-5 localization error at IoU 0.5 and top-1
//! classification error, mean ± standard deviation over seeds. `--quick` runs one seed on
//! fewer images and iterations. With `--data-dir`, CUB-200-2011 in its official format,
//! with the VGG16 backbone initialised from `--backbone-weights` (ImageNet-pretrained, a
//! safetensors file); without weights the small backbone is trained from scratch, which is
//! not a meaningful WSOL result on CUB and is said so.
//!
//! The sizes and schedule are presets (`Preset`, recorded in `wsol.json`); the flags are
//! [`WsolArgs`]'s.
//!
//! Writes `wsol.md`, `wsol.json` and `wsol.png` (Figure 6: heat maps of the predicted class
//! with the ground-truth box in red and the predicted box in green) into `--run`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::backend::AutodiffBackend;
use indicatif::{ProgressBar, ProgressStyle};
use maan_wsol::{
    load_backbone_weights, synth, BackboneConfig, Evaluation, Example, ImageSet, Pooling,
    WsolModelConfig, WsolTrainConfig,
};
use plotters::prelude::*;
use serde::Serialize;

use super::mean_std;
use crate::backend::BackendOpts;
use crate::backend::{BackendArg, BackendJob};

/// Arguments of `maan experiment wsol`.
#[derive(Debug, clap::Args)]
pub struct WsolArgs {
    /// Number of seeds per model (0, 1, ... n-1).
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// CUB-200-2011 in its official format (default: the synthetic WSOL data).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Backend and device.
    #[command(flatten)]
    pub backend: BackendOpts,
    /// Run directory of the experiment: its table, JSON and figure [default: runs/wsol].
    #[arg(long, aliases = ["out", "output"], value_name = "RUN_DIR")]
    pub run: Option<PathBuf>,
    /// One seed, fewer images and iterations (a few minutes on a CPU).
    #[arg(long)]
    pub quick: bool,
    /// ImageNet-pretrained VGG16 backbone weights (safetensors, torchvision names) for
    /// CUB-200-2011 (`--data-dir`).
    #[arg(long)]
    pub backbone_weights: Option<PathBuf>,
    /// Tiny sizes, for tests.
    #[arg(long, hide = true)]
    pub tiny: bool,
    /// Hide the progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// The grid sizes of the paper's Table 4.
pub const GRIDS: [usize; 2] = [4, 7];

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

fn preset(args: &WsolArgs) -> Preset {
    let cub = args.data_dir.is_some();
    let seeds = if args.quick || args.tiny {
        1
    } else {
        args.seeds
    };
    if args.tiny {
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
        let pretrained = args.backbone_weights.is_some();
        return Preset {
            image_size: if pretrained { 224 } else { 112 },
            train_images: args.quick.then_some(400),
            test_images: args.quick.then_some(400),
            iterations: if args.quick { 100 } else { 3000 },
            batch_size: 32,
            learning_rate: if pretrained { 1e-4 } else { 1e-3 },
            seeds,
            backbone: if pretrained { "vgg16" } else { "small" }.into(),
        };
    }
    Preset {
        image_size: 48,
        train_images: Some(if args.quick { 1000 } else { 2000 }),
        test_images: Some(if args.quick { 200 } else { 400 }),
        iterations: if args.quick { 120 } else { 400 },
        batch_size: 32,
        learning_rate: 2e-3,
        seeds,
        backbone: "small".into(),
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
    /// Sizes and schedule.
    pub preset: Preset,
    /// Training and test images actually used.
    pub images: (usize, usize),
    /// One row per pooling and grid, in the order of the paper's Table 4.
    pub rows: Vec<WsolRow>,
    /// Wall time of training and evaluation, seconds.
    pub seconds: f64,
}

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

struct WsolJob {
    preset: Preset,
    num_classes: usize,
    train: ImageSet,
    test: ImageSet,
    weights: Option<PathBuf>,
    quiet: bool,
}

/// What the job returns: the rows and, per (pooling, grid), the first seed's examples.
struct JobOutput {
    rows: Vec<WsolRow>,
    examples: Vec<(String, Vec<Example>)>,
    seconds: f64,
}

const FIGURE_IMAGES: usize = 4;

impl BackendJob for WsolJob {
    type Output = JobOutput;

    fn run<B: AutodiffBackend>(self, device: B::Device, _backend: BackendArg) -> Result<JobOutput> {
        let p = &self.preset;
        let models = GRIDS.len() * Pooling::ALL.len();
        let bar = if self.quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(models as u64 * p.seeds * p.iterations as u64)
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>18} [{bar:30}] {pos}/{len} it ({per_sec}, eta {eta}) {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
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
                    bar.set_prefix(method.clone());
                    bar.set_message(format!("seed {seed}"));
                    let model = WsolModelConfig::new(self.num_classes, backbone.clone(), pooling)
                        .with_grid(grid);
                    let config = WsolTrainConfig::new(model)
                        .with_iterations(p.iterations)
                        .with_batch_size(p.batch_size)
                        .with_learning_rate(p.learning_rate)
                        .with_seed(seed);
                    B::seed(&device, seed);
                    let mut net = config.model.init::<B>(&device);
                    if let Some(path) = &self.weights {
                        load_backbone_weights(&mut net.backbone, path)
                            .context("--backbone-weights")?;
                    }
                    let trained = maan_wsol::train_from(
                        &config,
                        net,
                        &self.train,
                        &device,
                        false,
                        &mut |_, _| bar.inc(1),
                    );
                    let eval = maan_wsol::evaluate_trained(
                        &trained,
                        &self.test,
                        &device,
                        64,
                        FIGURE_IMAGES,
                    );
                    let e = eval.errors;
                    let line = format!(
                        "{method:>18} seed {seed}: top-1 loc err {:.1}%, top-5 loc err {:.1}%, \
                         cls err {:.1}%, GT-known loc acc {:.1}%",
                        e.top1_loc * 100.0,
                        e.top5_loc * 100.0,
                        e.top1_cls * 100.0,
                        e.gt_known_loc_acc * 100.0
                    );
                    // Without a terminal the bar is hidden and drops its lines: print them.
                    if bar.is_hidden() && !self.quiet {
                        eprintln!("{line}");
                    } else {
                        bar.println(line);
                    }
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
        bar.finish_and_clear();
        Ok(JobOutput {
            rows,
            examples,
            seconds: start.elapsed().as_secs_f64(),
        })
    }
}

/// Runs `maan experiment wsol`.
pub fn run(args: WsolArgs) -> Result<()> {
    if args.seeds == 0 {
        anyhow::bail!("--seeds must be at least 1");
    }
    args.backend.check()?;
    let p = preset(&args);
    let out = args
        .run
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs/wsol"));
    let (data_name, train, test, num_classes, mean, std) = match &args.data_dir {
        Some(dir) => {
            if args.backbone_weights.is_none() {
                eprintln!(
                    "warning: no --backbone-weights: training the small backbone from scratch \
                     on CUB, which does not give meaningful localization (the paper starts \
                     from ImageNet-pretrained weights)"
                );
            }
            let cub = maan_wsol::cub::Cub::open(dir)
                .with_context(|| format!("cannot read CUB-200-2011 from {}", dir.display()))?;
            eprintln!(
                "CUB-200-2011: {} images, {} classes; decoding at {}×{} ...",
                cub.images.len(),
                cub.num_classes,
                p.image_size,
                p.image_size
            );
            let train = cub.load_set(true, p.image_size, p.train_images)?;
            let test = cub.load_set(false, p.image_size, p.test_images)?;
            let n = cub.num_classes;
            (
                dir.display().to_string(),
                train,
                test,
                n,
                maan_wsol::cub::IMAGENET_MEAN,
                maan_wsol::cub::IMAGENET_STD,
            )
        }
        None => {
            if args.backbone_weights.is_some() {
                anyhow::bail!(
                    "--backbone-weights needs --data-dir (CUB): the synthetic data trains the \
                     small backbone from scratch"
                );
            }
            let n_train = p.train_images.unwrap_or(2000);
            let n_test = p.test_images.unwrap_or(400);
            (
                "synthetic".to_string(),
                synth::generate(1, n_train, p.image_size),
                synth::generate(2, n_test, p.image_size),
                synth::NUM_CLASSES,
                [0.5; 3],
                [0.25; 3],
            )
        }
    };
    let backend = args.backend.backend;
    eprintln!(
        "WSOL (Appendix F): 3 poolings x {} grids x {} seeds x {} iterations on {data_name} \
         ({} train / {} test images, {}×{}), backend {backend}",
        GRIDS.len(),
        p.seeds,
        p.iterations,
        train.len(),
        test.len(),
        p.image_size,
        p.image_size
    );
    let images = (train.len(), test.len());
    let job = WsolJob {
        preset: p.clone(),
        num_classes,
        train,
        test: test.clone(),
        weights: args.backbone_weights.clone(),
        quiet: args.quiet,
    };
    let output = args.backend.run(job)?;
    let table = WsolTable {
        data: data_name,
        backend: backend.to_string(),
        preset: p,
        images,
        rows: output.rows,
        seconds: output.seconds,
    };
    let md = markdown(&table);
    println!("{md}");
    eprintln!("training and evaluation took {:.0} s", table.seconds);
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let json_path = out.join("wsol.json");
    let md_path = out.join("wsol.md");
    std::fs::write(&json_path, serde_json::to_string_pretty(&table)?)
        .with_context(|| format!("cannot write {}", json_path.display()))?;
    std::fs::write(&md_path, &md).with_context(|| format!("cannot write {}", md_path.display()))?;
    let png = out.join("wsol.png");
    figure(&test, &output.examples, mean, std, &png)?;
    eprintln!(
        "wrote {}, {} and {}",
        md_path.display(),
        json_path.display(),
        png.display()
    );
    Ok(())
}

/// A blue → red heat colour for `v ∈ [0, 1]`.
fn heat(v: f32) -> [f32; 3] {
    let v = v.clamp(0.0, 1.0);
    [
        (1.5 - (4.0 * v - 3.0).abs()).clamp(0.0, 1.0),
        (1.5 - (4.0 * v - 2.0).abs()).clamp(0.0, 1.0),
        (1.5 - (4.0 * v - 1.0).abs()).clamp(0.0, 1.0),
    ]
}

/// Figure 6: one row per test image, one column per model (the 7×7 grids, and the images
/// themselves first): the image blended with the CAM of the predicted class, the
/// ground-truth box in red and the predicted box in green.
fn figure(
    test: &ImageSet,
    examples: &[(String, Vec<Example>)],
    mean: [f32; 3],
    std: [f32; 3],
    path: &Path,
) -> Result<()> {
    crate::figure::register_font();
    let columns: Vec<&(String, Vec<Example>)> = examples
        .iter()
        .filter(|(m, _)| m.ends_with("7×7"))
        .collect();
    let n_rows = columns
        .iter()
        .map(|(_, e)| e.len())
        .min()
        .unwrap_or(0)
        .min(FIGURE_IMAGES);
    let s = test.size;
    let scale = (192 / s).max(1);
    let cell = (s * scale) as i32;
    let pad = 8i32;
    let head = 28i32;
    let width = (columns.len() as i32 + 1) * (cell + pad) + pad;
    let height = head + n_rows as i32 * (cell + pad) + pad;
    let root = BitMapBackend::new(path, (width as u32, height as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let style = TextStyle::from(("sans-serif", 16).into_font()).color(&BLACK);
    let mut titles = vec!["image".to_string()];
    titles.extend(columns.iter().map(|(m, _)| m.clone()));
    for (c, t) in titles.iter().enumerate() {
        root.draw_text(t, &style, (pad + c as i32 * (cell + pad), 6))?;
    }
    for r in 0..n_rows {
        let y0 = head + r as i32 * (cell + pad);
        for c in 0..=columns.len() {
            let x0 = pad + c as i32 * (cell + pad);
            let ex = (c > 0).then(|| &columns[c - 1].1[r]);
            let index = ex.map(|e| e.index).unwrap_or(columns[0].1[r].index);
            let px = test.pixels(index);
            for y in 0..s {
                for x in 0..s {
                    let mut rgb = [0.0f32; 3];
                    for ch in 0..3 {
                        rgb[ch] = (px[ch * s * s + y * s + x] * std[ch] + mean[ch]).clamp(0.0, 1.0);
                    }
                    if let Some(e) = ex {
                        let h = heat(e.cam[y * s + x]);
                        for ch in 0..3 {
                            rgb[ch] = 0.45 * rgb[ch] + 0.55 * h[ch];
                        }
                    }
                    let colour = RGBColor(
                        (rgb[0] * 255.0) as u8,
                        (rgb[1] * 255.0) as u8,
                        (rgb[2] * 255.0) as u8,
                    );
                    let (px0, py0) = (x0 + (x * scale) as i32, y0 + (y * scale) as i32);
                    root.draw(&Rectangle::new(
                        [(px0, py0), (px0 + scale as i32, py0 + scale as i32)],
                        colour.filled(),
                    ))?;
                }
            }
            let rect = |b: &maan_wsol::BBox| {
                [
                    (
                        x0 + (b.x0 * scale as f32) as i32,
                        y0 + (b.y0 * scale as f32) as i32,
                    ),
                    (
                        x0 + (b.x1 * scale as f32) as i32 - 1,
                        y0 + (b.y1 * scale as f32) as i32 - 1,
                    ),
                ]
            };
            root.draw(&Rectangle::new(
                rect(&test.boxes[index]),
                RED.stroke_width(2),
            ))?;
            if let Some(e) = ex {
                root.draw(&Rectangle::new(
                    rect(&e.predicted_box),
                    GREEN.stroke_width(2),
                ))?;
                let label = format!(
                    "IoU {:.2}{}",
                    e.iou,
                    if e.predicted == e.label {
                        ""
                    } else {
                        " (wrong class)"
                    }
                );
                root.draw_text(
                    &label,
                    &TextStyle::from(("sans-serif", 13).into_font()).color(&WHITE),
                    (x0 + 3, y0 + cell - 16),
                )?;
            }
        }
    }
    root.present()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
