//! The defaults `--help` shows for options whose value is not a clap default (they override a
//! recipe or a run, so an absent flag must stay absent), computed from the libraries' own
//! defaults rather than written by hand: [`with_defaults`] appends `[default: …]` to their
//! help. `train`'s come from `maan_model::Recipe::setting_default` (the paper's value and
//! where the recommended recipe departs from it), each under its option's flag
//! (`setting_flag`).

use clap::Command;
use maan_eval::localize::{Suppression, LONG_SOFT_NMS_SIGMA, SOFT_NMS_SIGMA};
use maan_eval::{format_decimal, format_tiou_range, Benchmark, LocalizePreset};
use maan_model::{Recipe, Setting};

use crate::jobs::train::setting_flag;

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

/// Each benchmark's value: `a for thumos14, b for activitynet13`.
fn per_benchmark(value: impl Fn(Benchmark) -> String) -> String {
    Benchmark::ALL
        .iter()
        .map(|&kind| format!("{} for {kind}", value(kind)))
        .collect::<Vec<_>>()
        .join(", ")
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
            .map(|x| format_decimal(f64::from(*x)))
            .collect::<Vec<_>>()
            .join(",")
    };
    let run_or = |v: f64| format!("{}; for an existing run, the run's", format_decimal(v));
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
            format_decimal(f64::from(i3d.noise_correlation)),
            format_decimal(f64::from(SynthParams::default().noise_correlation))
        ),
    );
    let cmd = at(
        cmd,
        &synth,
        "scale",
        &format!("the regime's, {}", format_decimal(f64::from(i3d.scale))),
    );
    let cmd = at(
        cmd,
        &["eval"],
        "subset",
        &per_benchmark(|k| format!("`{}`", k.official_test_subset())),
    );
    let tiou = |k: Benchmark| format_tiou_range(&k.tiou_thresholds());
    let cmd = at(cmd, &["eval"], "tiou", &per_benchmark(tiou));
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
    // `train`'s settings: the paper's value, then the recommended recipe's departures.
    let recipe = " (the recommended recipe, docs/recipe.md; --paper: the first value)";
    cmd.mut_subcommand("train", |mut sub| {
        for setting in Setting::ALL {
            let default = Recipe::setting_default(setting);
            let note = if default.departures.is_empty() {
                ""
            } else {
                recipe
            };
            // The option's id: its (first) flag's name.
            let flag = setting_flag(setting).split(' ').next().unwrap_or_default();
            let id = flag.trim_start_matches("--").replace('-', "_");
            sub = sub.mut_arg(id, |a| append(a, &format!("{default}{note}")));
        }
        sub
    })
}
