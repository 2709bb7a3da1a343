//! Paper-faithful MAAN against the additions of later WTAL code, each alone and both
//! together, on the regimes of the synthetic benchmark.
//!
//! For every regime of the plan the THUMOS14-shaped data is generated and, per seed, two MAAN
//! models are trained (both streams):
//!
//! - without background modelling (the paper's model and loss), and
//! - with BaS-Net's background class and filtering ([`Background::Bas`]).
//!
//! Each model is tested twice: with the paper's localization (MAAN section 3.1: one threshold
//! at 0.2 × max, mean score, NMS) and with the localization of later code (the `oic` preset:
//! multi-threshold proposals on the CAS and on the attention, outer-inner-contrastive score;
//! [`AblationPlan::oic`] may change it). That gives four rows ([`Variant::ALL`]): the paper,
//! each addition alone, and both. Every parameter is the papers' value or the project's
//! default; nothing is tuned to these numbers.
//!
//! The report ([`report_markdown`]) gives, per regime, the average mAP over tIoU 0.1:0.5,
//! mean ± std over the seeds; the JSON and the Markdown also hold the averages over 0.1:0.7
//! and 0.1:0.9 and every AP.

use std::fmt::Write as _;
use std::path::Path;

use burn::tensor::backend::AutodiffBackend;
use dataset::synth::{Regime, SynthConfig};
use dataset::Benchmark;
use maa_core::Aggregator;
use maan_eval::eval::average_map_over;
use maan_eval::{LocalizeConfig, LocalizePreset};
use maan_model::{Background, EvalMetrics, StreamModelConfig};
use serde::Serialize;

use crate::error::{PlanError, Result};
pub use crate::report::Variant;
use crate::report::{mean_std, ReportHeader, Row};
use crate::train::{generate_and_load, train_model_and_evaluate, Observer, Schedule, Session};

/// The benchmark the ablation's data imitates: the regimes of the synthetic benchmark are
/// THUMOS14-shaped, and so are its localization presets.
pub const BENCHMARK: Benchmark = Benchmark::Thumos14;

/// What the ablation trains and how it localizes.
#[derive(Debug, Clone)]
pub struct AblationPlan {
    /// The regimes, in table order.
    pub regimes: Vec<Regime>,
    /// Feature dimension of the generated data.
    pub dim: usize,
    /// Seeds per variant, iterations per model and stream, batch size.
    pub schedule: Schedule,
    /// The paper's localization (THUMOS14's `paper` preset).
    pub paper: LocalizeConfig,
    /// The later code's localization (THUMOS14's `oic` preset, unless changed).
    pub oic: LocalizeConfig,
}

impl AblationPlan {
    /// The plan for `regimes` (all five when empty) at feature dimension `dim` with
    /// `schedule`, localizing with THUMOS14's `paper` and `oic` presets; an error for a
    /// dimension of 0.
    pub fn new(
        regimes: &[Regime],
        dim: usize,
        schedule: Schedule,
    ) -> Result<AblationPlan, PlanError> {
        if dim == 0 {
            return Err(PlanError::ZeroDim);
        }
        let kind = BENCHMARK;
        Ok(AblationPlan {
            regimes: if regimes.is_empty() {
                Regime::ALL.to_vec()
            } else {
                regimes.to_vec()
            },
            dim,
            schedule,
            paper: kind.localize(LocalizePreset::Paper),
            oic: kind.localize(LocalizePreset::Oic),
        })
    }
}

/// One regime's four rows.
#[derive(Debug, Clone, Serialize)]
pub struct AblationRegime {
    /// The regime.
    pub regime: String,
    /// One row per variant, in [`Variant::ALL`]'s order ([`Row::of_variant`]).
    pub cells: Vec<Row>,
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

/// Runs `plan`, generating each regime's data under `data_root` (removed once done).
pub fn run<B: AutodiffBackend>(
    plan: &AblationPlan,
    data_root: &Path,
    session: &Session<B>,
    observer: &mut dyn Observer,
) -> Result<AblationReport> {
    let start = std::time::Instant::now();
    let Schedule {
        seeds,
        iterations,
        batch_size,
    } = plan.schedule;
    observer.on_start(plan.regimes.len() as u64 * seeds * 2 * iterations as u64);
    let (paper, oic) = (&plan.paper, &plan.oic);
    let mut regimes = Vec::new();
    for &regime in &plan.regimes {
        let cfg = SynthConfig {
            like: BENCHMARK,
            dim: plan.dim,
            ..SynthConfig::default()
        }
        .with_regime(regime);
        let data = generate_and_load(&data_root.join(regime.name()), &cfg)?;
        // runs[variant index] = metrics per seed.
        let mut runs: Vec<Vec<EvalMetrics>> = vec![Vec::new(); Variant::ALL.len()];
        for background in Background::ALL {
            for seed in 0..seeds {
                observer.on_model(
                    &format!("{regime}, {}", background.name()),
                    &format!("seed {seed}"),
                );
                let model = StreamModelConfig::new()
                    .with_aggregator(Aggregator::Maa)
                    .with_background(background);
                let (trainer, last) = train_model_and_evaluate::<B>(
                    &data, model, seed, iterations, batch_size, session, observer,
                )?;
                for (i, v) in Variant::ALL.iter().enumerate() {
                    if v.background != background {
                        continue;
                    }
                    let loc = if v.oic { oic } else { paper };
                    // Training ended with an evaluation under the data's preset; when
                    // that is this variant's localization it is not run again.
                    let m = if *loc == data.kind.paper_localize() {
                        last.clone()
                    } else {
                        trainer.evaluate_with(&data, Some(loc))?
                    };
                    observer.on_result(&format!(
                        "{regime:>10} {:>26} seed {seed}: avg mAP 0.1:0.5 {:.1}%, cls mAP {:.1}%",
                        v.name(),
                        average_map_over(&m.tiou_thresholds, &m.map, 0.1, 0.5).unwrap_or(f64::NAN)
                            * 100.0,
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
                let loc = if v.oic { oic } else { paper };
                Row::of_variant(*v, loc.describe(), r)
            })
            .collect();
        regimes.push(AblationRegime {
            regime: regime.name().to_string(),
            cells,
        });
    }
    let _ = std::fs::remove_dir(data_root);
    Ok(AblationReport {
        header: ReportHeader::new(session, plan.schedule),
        dim: plan.dim,
        paper_localization: paper.describe(),
        oic_localization: oic.describe(),
        regimes,
        seconds: start.elapsed().as_secs_f64(),
    })
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
            let _ = write!(s, "| {} |", c.name());
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
