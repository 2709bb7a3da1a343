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
/// has it.
fn everywhere(cmd: Command, id: &str, text: &str) -> Command {
    let has = cmd.get_arguments().any(|a| a.get_id() == id);
    let mut cmd = match has {
        true => cmd.mut_arg(id, |a| append(a, text)),
        false => cmd,
    };
    for sub in cmd.get_subcommands_mut() {
        *sub = everywhere(std::mem::take(sub), id, text);
    }
    cmd
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

#[cfg(test)]
mod tests {
    use super::*;
    use maan_model::StreamModelConfig;

    /// The help of `maan train` states the library's defaults: the paper's values, and where
    /// the recommended recipe differs, its values with the aggregators and benchmark.
    #[test]
    fn train_help_shows_the_library_defaults() {
        let mut cmd = with_defaults(<crate::Cli as clap::CommandFactory>::command());
        let train = cmd.find_subcommand_mut("train").unwrap();
        let help = train.render_long_help().to_string();
        let paper = TrainConfig::new(StreamModelConfig::new());
        for want in [
            format!("[default: {}]", paper.iterations),
            format!("[default: {}]", paper.learning_rate),
            format!(
                "[default: {}; {} for MAAN, STPN on activitynet13",
                paper.batch_size,
                maan_model::ACTIVITYNET_BATCH_SIZE
            ),
            "[default: paper; oic for MAAN, STPN, Dropout on thumos14; long for MAAN, STPN on \
             activitynet13"
                .to_string(),
        ] {
            assert!(help.contains(&want), "{want:?} not in:\n{help}");
        }
        // The localization options of every command that has them.
        let test = cmd.find_subcommand_mut("test").unwrap();
        let help = test.render_long_help().to_string();
        assert!(
            help.contains("[default: the preset's: thumos14 paper 0.5, oic 0.6; activitynet13"),
            "{help}"
        );
        assert!(help.contains("(the long preset: 0.5), else 0.3]"), "{help}");
    }
}
