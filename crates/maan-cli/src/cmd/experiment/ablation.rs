//! `maan experiment ablation`: paper-faithful MAAN against the additions of later WTAL code,
//! each alone and both together, on the regimes of the synthetic benchmark.
//!
//! For every regime (`--regimes`, default all five) the THUMOS14-shaped data is generated at
//! `--dim` (64 by default) and, per seed, two MAAN models are trained (both streams):
//!
//! - without background modelling (the paper's model and loss), and
//! - with BaS-Net's background class and filtering (`--background bas` of `maan train`).
//!
//! Each model is tested twice: with the paper's localization (MAAN section 3.1: one threshold
//! at 0.2 × max, mean score, NMS) and with the localization of later code (the `oic` preset:
//! multi-threshold proposals on the CAS and on the attention, outer-inner-contrastive score;
//! `--localize`, `--suppression`, `--cas-smoothing`, `--proposal-score` change it). That gives
//! four rows: the paper, each addition alone, and both. Every parameter is the papers' value or
//! the project's default; nothing is tuned to these numbers.
//!
//! The table reports, per regime, the average mAP over tIoU 0.1:0.5 (the metric of the issue's
//! goal), mean ± std over the seeds; the JSON and the Markdown also hold the averages over
//! 0.1:0.7 and 0.1:0.9 and every AP. Outputs in `--run` (default `runs/ablation`):
//! `ablation.md`, `ablation.json`.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use burn::tensor::backend::AutodiffBackend;
use dataset::synth::{Regime, SynthConfig};
use dataset::Benchmark;
use maa_core::Aggregator;
use maan_eval::eval::average_map_over;
use maan_eval::{LocalizeConfig, LocalizePreset};
use maan_model::{Background, EvalMetrics, StreamModelConfig};
use serde::Serialize;

use super::regimes::{generate_and_load, DEFAULT_DIM, DEFAULT_ITERATIONS};
use super::{
    mean_std, progress_bar, seed_averages, train_model_and_evaluate, ReportHeader, TrainingArgs,
};
use crate::backend::{BackendArg, BackendJob};
use crate::opts::{describe_localize, LocalizeOpts};

/// Arguments of `maan experiment ablation`.
#[derive(Debug, clap::Args)]
pub struct AblationArgs {
    /// Seeds, iterations, batch, backend, run directory.
    #[command(flatten)]
    pub common: TrainingArgs,
    /// The regimes to run, comma-separated [default: realistic, peaked, uniform, clutter,
    /// legacy].
    #[arg(long, value_delimiter = ',')]
    pub regimes: Vec<Regime>,
    /// Feature dimension of the generated data [default: 64].
    #[arg(long)]
    pub dim: Option<usize>,
    /// Localization options: they change the `oic` preset of the later-code rows.
    #[command(flatten)]
    pub localize: LocalizeOpts,
}

/// One configuration of the ablation: a training option and a localization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Variant {
    /// Background modelling during training.
    pub background: Background,
    /// Whether the later code's localization (`oic`) is used instead of the paper's.
    pub oic: bool,
}

impl Variant {
    /// The four rows, in table order: the paper, each addition alone, both.
    pub const ALL: [Variant; 4] = [
        Variant {
            background: Background::None,
            oic: false,
        },
        Variant {
            background: Background::None,
            oic: true,
        },
        Variant {
            background: Background::Bas,
            oic: false,
        },
        Variant {
            background: Background::Bas,
            oic: true,
        },
    ];

    /// The row's name.
    pub fn name(&self) -> &'static str {
        match (self.background, self.oic) {
            (Background::None, false) => "MAAN (paper)",
            (Background::None, true) => "+ OIC localization",
            (Background::Bas, false) => "+ background class (BaS)",
            (Background::Bas, true) => "+ both",
        }
    }
}

/// One variant's results on one regime.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// The variant.
    pub variant: Variant,
    /// Its name.
    pub name: String,
    /// Localization settings (one line).
    pub localization: String,
    /// tIoU thresholds.
    pub tiou_thresholds: Vec<f64>,
    /// AP (fraction) at each threshold, one vector per seed.
    pub map_per_seed: Vec<Vec<f64>>,
    /// Classification mAP (fraction) per seed.
    pub cls_map_per_seed: Vec<f64>,
    /// The averages papers report (`0.1:0.5`, `0.1:0.7`, `0.1:0.9`): label, mean and standard
    /// deviation over seeds (fractions).
    pub averages: Vec<(String, f64, f64)>,
}

impl Cell {
    fn new(variant: Variant, localization: String, runs: &[EvalMetrics]) -> Cell {
        let tious = runs
            .first()
            .map(|m| m.tiou_thresholds.clone())
            .unwrap_or_default();
        let averages = seed_averages(runs);
        Cell {
            variant,
            name: variant.name().to_string(),
            localization,
            tiou_thresholds: tious,
            map_per_seed: runs.iter().map(|m| m.map.clone()).collect(),
            cls_map_per_seed: runs.iter().map(|m| m.classification_map).collect(),
            averages,
        }
    }

    /// Mean and standard deviation of the average over `label` (e.g. `0.1:0.5`).
    pub fn average(&self, label: &str) -> Option<(f64, f64)> {
        self.averages
            .iter()
            .find(|(l, _, _)| l == label)
            .map(|(_, m, s)| (*m, *s))
    }
}

/// One regime's four rows.
#[derive(Debug, Clone, Serialize)]
pub struct AblationRegime {
    /// The regime.
    pub regime: String,
    /// One cell per variant, in [`Variant::ALL`]'s order.
    pub cells: Vec<Cell>,
}

/// Everything `ablation` measured.
#[derive(Debug, Clone, Serialize)]
pub struct AblationReport {
    /// Backend, seeds per variant, iterations per model and stream, batch size.
    #[serde(flatten)]
    pub header: ReportHeader,
    /// Feature dimension of the generated data.
    pub dim: usize,
    /// The paper's localization (one line).
    pub paper_localization: String,
    /// The later code's localization (one line).
    pub oic_localization: String,
    /// One entry per regime.
    pub regimes: Vec<AblationRegime>,
    /// Wall time, seconds.
    pub seconds: f64,
}

struct AblationJob {
    args: AblationArgs,
    regimes: Vec<Regime>,
    dim: usize,
    iterations: usize,
    out: PathBuf,
}

impl AblationJob {
    fn localizations(&self) -> Result<(LocalizeConfig, LocalizeConfig)> {
        let kind = Benchmark::Thumos14;
        let paper = kind.localize(LocalizePreset::Paper);
        let oic = kind.localize(LocalizePreset::Oic);
        let oic = if self.args.localize.is_set() {
            // The options given replace the `oic` preset's where set.
            self.args.localize.apply(&oic, kind)?
        } else {
            oic
        };
        Ok((paper, oic))
    }
}

impl BackendJob for AblationJob {
    type Output = AblationReport;

    fn run<B: AutodiffBackend>(
        self,
        device: B::Device,
        backend: BackendArg,
    ) -> Result<AblationReport> {
        let start = std::time::Instant::now();
        let seeds = self.args.common.seeds;
        let total = self.regimes.len() as u64 * seeds * 2 * self.iterations as u64;
        let bar = progress_bar(total, self.args.common.quiet);
        let (paper, oic) = self.localizations()?;
        let data_root = self.out.join("data");
        let mut regimes = Vec::new();
        for &regime in &self.regimes {
            let cfg = SynthConfig {
                like: Benchmark::Thumos14,
                dim: self.dim,
                ..SynthConfig::default()
            }
            .with_regime(regime);
            let data = generate_and_load(&data_root.join(regime.name()), &cfg)?;
            // runs[variant index] = metrics per seed.
            let mut runs: Vec<Vec<EvalMetrics>> = vec![Vec::new(); Variant::ALL.len()];
            for background in Background::ALL {
                for seed in 0..seeds {
                    bar.set_prefix(format!("{regime}, {}", background.name()));
                    bar.set_message(format!("seed {seed}"));
                    let model = StreamModelConfig::new()
                        .with_aggregator(Aggregator::Maa)
                        .with_background(background);
                    let (trainer, last) = train_model_and_evaluate::<B>(
                        &data,
                        model,
                        seed,
                        self.iterations,
                        self.args.common.batch_size,
                        &device,
                        backend,
                        &bar,
                    )?;
                    for (i, v) in Variant::ALL.iter().enumerate() {
                        if v.background != background {
                            continue;
                        }
                        let loc = if v.oic { &oic } else { &paper };
                        // Training ended with an evaluation under the data's preset; when
                        // that is this variant's localization it is not run again.
                        let m = if *loc == data.kind.paper_localize() {
                            last.clone()
                        } else {
                            trainer.evaluate_with(&data, Some(loc))?
                        };
                        bar.println(format!(
                            "{regime:>10} {:>26} seed {seed}: avg mAP 0.1:0.5 {:.1}%, cls mAP {:.1}%",
                            v.name(),
                            average_map_over(&m.tiou_thresholds, &m.map, 0.1, 0.5).unwrap_or(f64::NAN) * 100.0,
                            m.classification_map * 100.0
                        ));
                        runs[i].push(m);
                    }
                }
            }
            let cells = Variant::ALL
                .iter()
                .zip(&runs)
                .map(|(v, r)| {
                    let loc = if v.oic { &oic } else { &paper };
                    Cell::new(*v, describe_localize(loc), r)
                })
                .collect();
            regimes.push(AblationRegime {
                regime: regime.name().to_string(),
                cells,
            });
        }
        bar.finish_and_clear();
        let _ = std::fs::remove_dir(&data_root);
        Ok(AblationReport {
            header: ReportHeader {
                backend: backend.to_string(),
                seeds,
                iterations: self.iterations,
                batch_size: self.args.common.batch_size,
            },
            dim: self.dim,
            paper_localization: describe_localize(&paper),
            oic_localization: describe_localize(&oic),
            regimes,
            seconds: start.elapsed().as_secs_f64(),
        })
    }
}

/// The report as Markdown: the summary table (average mAP over tIoU 0.1:0.5 per variant and
/// regime, and the change from the paper's row), then every regime's averages.
pub fn report_markdown(r: &AblationReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Synthetic THUMOS14-shaped data, dim {}, MAAN, {} iterations per stream, batch {}, {} seed(s) per variant, backend {} ({:.0} s).\n",
        r.dim,
        r.header.iterations,
        r.header.batch_size,
        r.header.seeds,
        r.header.backend,
        r.seconds
    );
    let _ = writeln!(s, "- paper localization: {}", r.paper_localization);
    let _ = writeln!(s, "- OIC localization: {}\n", r.oic_localization);
    let _ = writeln!(
        s,
        "Average mAP over tIoU 0.1:0.5 (%), mean ± std over seeds (change from the paper's row):\n"
    );
    let _ = write!(s, "| Variant |");
    for g in &r.regimes {
        let _ = write!(s, " {} |", g.regime);
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "|---|{}", "---|".repeat(r.regimes.len()));
    for (i, v) in Variant::ALL.iter().enumerate() {
        let _ = write!(s, "| {} |", v.name());
        for g in &r.regimes {
            let base = g.cells[0].average("0.1:0.5").map(|a| a.0);
            match g.cells.get(i).and_then(|c| c.average("0.1:0.5")) {
                Some((m, sd)) if i > 0 => {
                    let d = base.map(|b| (m - b) * 100.0).unwrap_or(f64::NAN);
                    let _ = write!(s, " {:.1} ± {:.1} ({d:+.1}) |", m * 100.0, sd * 100.0);
                }
                Some((m, sd)) => {
                    let _ = write!(s, " {:.1} ± {:.1} |", m * 100.0, sd * 100.0);
                }
                None => s.push_str(" - |"),
            }
        }
        let _ = writeln!(s);
    }
    for g in &r.regimes {
        let _ = writeln!(s, "\n### {}\n", g.regime);
        let labels: Vec<String> = g.cells[0]
            .averages
            .iter()
            .map(|(l, _, _)| l.clone())
            .collect();
        let _ = write!(s, "| Variant |");
        for l in &labels {
            let _ = write!(s, " avg {l} |");
        }
        let _ = writeln!(s, " cls mAP |");
        let _ = writeln!(s, "|---|{}---|", "---|".repeat(labels.len()));
        for c in &g.cells {
            let _ = write!(s, "| {} |", c.name);
            for l in &labels {
                match c.average(l) {
                    Some((m, sd)) => {
                        let _ = write!(s, " {:.1} ± {:.1} |", m * 100.0, sd * 100.0);
                    }
                    None => s.push_str(" - |"),
                }
            }
            let (m, sd) = mean_std(&c.cls_map_per_seed);
            let _ = writeln!(s, " {:.1} ± {:.1} |", m * 100.0, sd * 100.0);
        }
    }
    s
}

/// Runs `maan experiment ablation`.
pub fn run(args: AblationArgs) -> Result<()> {
    args.common.check()?;
    let dim = args.dim.unwrap_or(DEFAULT_DIM);
    if dim == 0 {
        bail!("--dim must be at least 1");
    }
    let regimes = if args.regimes.is_empty() {
        Regime::ALL.to_vec()
    } else {
        args.regimes.clone()
    };
    args.common.backend.check()?;
    let out = args
        .common
        .run
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs/ablation"));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let iterations = args.common.iterations.unwrap_or(DEFAULT_ITERATIONS);
    eprintln!(
        "ablation: {} regime(s) x 2 trainings (background none, bas) x {} seed(s), each tested with the paper's and the OIC localization; {iterations} iterations, dim {dim}, backend {}",
        regimes.len(),
        args.common.seeds,
        args.common.backend.backend
    );
    let opts = args.common.backend;
    let report = opts.run(AblationJob {
        args,
        regimes,
        dim,
        iterations,
        out: out.clone(),
    })?;
    let md = report_markdown(&report);
    println!("{md}");
    let json_path = out.join("ablation.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("cannot write {}", json_path.display()))?;
    let md_path = out.join("ablation.md");
    std::fs::write(&md_path, &md).with_context(|| format!("cannot write {}", md_path.display()))?;
    eprintln!("wrote {} and {}", md_path.display(), json_path.display());
    Ok(())
}
