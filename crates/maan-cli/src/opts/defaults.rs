//! The defaults `--help` shows for options whose value is not a clap default (they override a
//! recipe or a run, so an absent flag must stay absent), computed from the libraries' own
//! defaults rather than written by hand: [`with_defaults`] appends `[default: …]` to their
//! help.

use clap::Command;
use maa_core::Aggregator;
use maan_eval::localize::{Suppression, LONG_SOFT_NMS_SIGMA, SOFT_NMS_SIGMA};
use maan_eval::{Benchmark, LocalizePreset};
use maan_model::{Recipe, TrainConfig};

/// A setting's value under the paper's procedure, then where the recommended recipe of a
/// benchmark and aggregator differs: `16; 32 for MAAN and STPN on activitynet13 (their
/// recipe)`.
fn recipe_default(value: impl Fn(&TrainConfig, Benchmark) -> String) -> String {
    let kind = Benchmark::default();
    let paper = value(&Recipe::Paper.config(Aggregator::Maa, kind), kind);
    let mut out = paper.clone();
    for kind in Benchmark::ALL {
        let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
        for agg in Aggregator::ALL {
            let v = value(&Recipe::Recommended.config(agg, kind), kind);
            if v == paper {
                continue;
            }
            match groups.iter_mut().find(|(g, _)| *g == v) {
                Some((_, names)) => names.push(agg.paper_name()),
                None => groups.push((v, vec![agg.paper_name()])),
            }
        }
        for (v, names) in groups {
            out += &format!("; {v} for {} on {kind}", names.join(", "));
        }
    }
    if out != paper {
        out += " (the recommended recipe, docs/recipe.md; --paper: the first value)";
    }
    out
}

/// `help` with ` [default: text]` appended (to the long help too, when there is one).
fn append(arg: clap::Arg, text: &str) -> clap::Arg {
    let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
    let long = arg.get_long_help().map(|h| h.to_string());
    let arg = arg.help(format!("{help} [default: {text}]"));
    match long {
        Some(long) => arg.long_help(format!("{long} [default: {text}]")),
        None => arg,
    }
}

/// `cmd` with `text` appended as the default of the option `id` in every (sub)command that
/// has it without a clap default of its own (clap shows that one).
fn everywhere(cmd: Command, id: &str, text: &str) -> Command {
    let has = cmd
        .get_arguments()
        .any(|a| a.get_id() == id && a.get_default_values().is_empty());
    let mut cmd = match has {
        true => cmd.mut_arg(id, |a| append(a, text)),
        false => cmd,
    };
    for sub in cmd.get_subcommands_mut() {
        *sub = everywhere(std::mem::take(sub), id, text);
    }
    cmd
}

/// `cmd` with `text` appended as the default of the option `id` of the subcommand at `path`
/// (`[]`: `cmd` itself).
fn at(cmd: Command, path: &[&str], id: &str, text: &str) -> Command {
    match path.split_first() {
        None => cmd.mut_arg(id, |a| append(a, text)),
        Some((first, rest)) => cmd.mut_subcommand(*first, |sub| at(sub, rest, id, text)),
    }
}

/// A number as the help writes it: at most three decimals, no trailing zeros.
fn short(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Each benchmark's value: `a for thumos14, b for activitynet13`.
fn per_benchmark(value: impl Fn(Benchmark) -> String) -> String {
    Benchmark::ALL
        .iter()
        .map(|&kind| format!("{} for {kind}", value(kind)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A benchmark's tIoU thresholds as `start:stop:step`.
fn tiou_range(kind: Benchmark) -> String {
    let t = kind.tiou_thresholds();
    match t.as_slice() {
        [first, second, .., last] => {
            format!(
                "{}:{}:{}",
                short(*first),
                short(*last),
                short(second - first)
            )
        }
        _ => t.iter().map(|x| short(*x)).collect::<Vec<_>>().join(","),
    }
}

/// The defaults of the commands other than `train`: data, synthetic data, evaluation and the
/// experiments.
fn other_defaults(cmd: Command) -> Command {
    use dataset::synth::{I3dParams, SynthParams, DEFAULT_ACTIVITYNET_VIDEOS};
    use maan_experiments::regimes::{
        DEFAULT_DIM, DEFAULT_DOMINANCE, DEFAULT_GRID_SEEDS, DEFAULT_ITERATIONS, DEFAULT_SPECIFICITY,
    };
    use maan_experiments::table1::TABLE1_ITERATIONS;
    let timing = maan_eval::SnippetTiming::default();
    let list = |v: &[f32]| {
        v.iter()
            .map(|x| short(f64::from(*x)))
            .collect::<Vec<_>>()
            .join(",")
    };
    let run_or = |v: f64| format!("{}; for an existing run, the run's", short(v));
    let cmd = everywhere(
        cmd,
        "frames_per_snippet",
        &run_or(timing.frames_per_snippet),
    );
    let cmd = everywhere(cmd, "fps", &run_or(timing.fps));
    let synth = ["synth"];
    let cmd = at(
        cmd,
        &synth,
        "videos",
        &format!("activitynet {DEFAULT_ACTIVITYNET_VIDEOS}, thumos14 all of each split"),
    );
    let i3d = I3dParams::default();
    let cmd = at(
        cmd,
        &synth,
        "noise_correlation",
        &format!(
            "the regime's: {} within a shot for the I3D-like regimes, {} for legacy",
            short(f64::from(i3d.noise_correlation)),
            short(f64::from(SynthParams::default().noise_correlation))
        ),
    );
    let cmd = at(
        cmd,
        &synth,
        "scale",
        &format!("the regime's, {}", short(f64::from(i3d.scale))),
    );
    let cmd = at(
        cmd,
        &["eval"],
        "subset",
        &per_benchmark(|k| format!("`{}`", k.official_test_subset())),
    );
    let cmd = at(cmd, &["eval"], "tiou", &per_benchmark(tiou_range));
    let table1 = ["experiment", "table1"];
    let regimes = ["experiment", "regimes"];
    let ablation = ["experiment", "ablation"];
    let cmd = at(cmd, &table1, "iterations", &TABLE1_ITERATIONS.to_string());
    let cmd = at(cmd, &regimes, "iterations", &DEFAULT_ITERATIONS.to_string());
    let cmd = at(
        cmd,
        &ablation,
        "iterations",
        &DEFAULT_ITERATIONS.to_string(),
    );
    let cmd = at(cmd, &regimes, "dim", &DEFAULT_DIM.to_string());
    let cmd = at(cmd, &ablation, "dim", &DEFAULT_DIM.to_string());
    let cmd = at(cmd, &regimes, "dominance", &list(&DEFAULT_DOMINANCE));
    let cmd = at(cmd, &regimes, "specificity", &list(&DEFAULT_SPECIFICITY));
    at(cmd, &regimes, "grid_seeds", &DEFAULT_GRID_SEEDS.to_string())
}

/// The NMS tIoU of every preset that uses greedy NMS, per benchmark.
fn nms_iou_default() -> String {
    let per_benchmark: Vec<String> = Benchmark::ALL
        .iter()
        .map(|&kind| {
            let presets: Vec<String> = LocalizePreset::ALL
                .iter()
                .map(|&p| (p, kind.localize(p)))
                .filter(|(_, c)| c.suppression == Suppression::Nms)
                .map(|(p, c)| format!("{p} {}", c.nms_iou))
                .collect();
            format!("{kind} {}", presets.join(", "))
        })
        .collect();
    format!("the preset's: {}", per_benchmark.join("; "))
}

/// `maan`'s command with the computed defaults in the help: `train`'s options (the recipe's
/// values) and the localization options of every command.
pub fn with_defaults(cmd: Command) -> Command {
    let sigma = format!(
        "the settings' own when they use soft-NMS (the long preset: {LONG_SOFT_NMS_SIGMA}), \
         else {SOFT_NMS_SIGMA}"
    );
    let cmd = other_defaults(cmd);
    let cmd = everywhere(cmd, "nms_iou", &nms_iou_default());
    let cmd = everywhere(cmd, "soft_nms_sigma", &sigma);
    let train: Vec<(&str, String)> = vec![
        (
            "aggregator",
            maan_model::StreamModelConfig::new().aggregator.to_string(),
        ),
        ("streams", recipe_default(|c, _| c.streams.to_string())),
        (
            "iterations",
            recipe_default(|c, _| c.iterations.to_string()),
        ),
        (
            "batch_size",
            recipe_default(|c, _| c.batch_size.to_string()),
        ),
        (
            "segments",
            recipe_default(|c, _| c.num_segments.to_string()),
        ),
        ("lr", recipe_default(|c, _| c.learning_rate.to_string())),
        ("seed", recipe_default(|c, _| c.seed.to_string())),
        (
            "sparsity",
            recipe_default(|c, _| c.model.sparsity_weight.to_string()),
        ),
        (
            "background",
            recipe_default(|c, _| c.model.background.to_string()),
        ),
        ("erase", recipe_default(|c, _| c.erase.0.to_string())),
        (
            "erase_probability",
            recipe_default(|c, _| c.erase_probability.0.to_string()),
        ),
        (
            "attention_erase",
            recipe_default(|c, _| c.attention_erase.0.to_string()),
        ),
        (
            "eval_every",
            recipe_default(|c, _| c.eval_every.to_string()),
        ),
        (
            "checkpoint_every",
            recipe_default(|c, _| c.checkpoint_every.to_string()),
        ),
        (
            "localize",
            recipe_default(|c, kind| LocalizePreset::name_of(&c.localization(kind), kind).into()),
        ),
    ];
    cmd.mut_subcommand("train", |mut sub| {
        for (id, text) in &train {
            sub = sub.mut_arg(*id, |a| append(a, text));
        }
        sub
    })
}
