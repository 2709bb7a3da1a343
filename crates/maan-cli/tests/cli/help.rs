//! `--help` shows the libraries' defaults for options whose default is not a clap default
//! (`opts::defaults` computes them): checked against the libraries' own values.

use crate::common::{maan_here, text};

/// The long help of `maan ARGS --help`.
fn help(args: &[&str]) -> String {
    let mut args = args.to_vec();
    args.push("--help");
    text(&maan_here(&args))
}

/// The help of `maan train` states the library's defaults: the paper's values, and where the
/// recommended recipe differs, its values with the aggregators and benchmark; and the
/// localization options of every command that has them.
#[test]
fn train_help_shows_the_library_defaults() {
    let paper = maan_model::TrainConfig::new(maan_model::StreamModelConfig::new());
    let train = help(&["train"]);
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
        assert!(train.contains(&want), "{want:?} not in:\n{train}");
    }
    let test = help(&["test"]);
    assert!(
        test.contains("[default: the preset's: thumos14 paper 0.5, oic 0.6; activitynet13"),
        "{test}"
    );
    assert!(test.contains("(the long preset: 0.5), else 0.3]"), "{test}");
}

/// The other commands' computed defaults: each shows the library's value, and an option with
/// a clap default of its own gets no second one.
#[test]
fn other_commands_show_the_library_defaults() {
    use maan_experiments::regimes::{DEFAULT_DIM, DEFAULT_ITERATIONS};
    let eval = help(&["eval"]);
    for want in [
        "[default: `test` for thumos14, `validation` for activitynet13]",
        "[default: 0.1:0.9:0.1 for thumos14, 0.5:0.95:0.05 for activitynet13]",
    ] {
        assert!(eval.contains(want), "{want:?} not in:\n{eval}");
    }
    let regimes = help(&["experiment", "regimes"]);
    for want in [
        format!("[default: {DEFAULT_ITERATIONS}]"),
        format!("[default: {DEFAULT_DIM}]"),
        "[default: 1,2,4,8]".to_string(),
        "[default: 0,0.33,0.67,1]".to_string(),
    ] {
        assert!(regimes.contains(&want), "{want:?} not in:\n{regimes}");
    }
    let test = help(&["test"]);
    assert!(
        test.contains("[default: 16; for an existing run, the run's]"),
        "{test}"
    );
    assert!(
        test.contains("[default: 25; for an existing run, the run's]"),
        "{test}"
    );
    // `maan synth` has clap defaults for these: shown once, by clap.
    let synth = help(&["synth"]);
    assert_eq!(synth.matches("[default: 16]").count(), 1, "{synth}");
    assert!(!synth.contains("for an existing run"), "{synth}");
    assert!(synth.contains("[default: the regime's, 10]"), "{synth}");
}
