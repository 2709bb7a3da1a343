//! The synthetic benchmark loads through the real loader, is deterministic, and has its signal.

use std::fs;
use std::path::Path;

use dataset::synth::{generate, Regime, Signal, SynthConfig};
use dataset::{Benchmark, Layout, LoadOptions, NpyDtype, WtalDataset};
use maan_eval::annotations::GroundTruth;

fn tiny(like: Benchmark, seed: u64) -> SynthConfig {
    SynthConfig {
        like,
        dim: 8,
        seed,
        num_videos: Some(if like == Benchmark::Thumos14 { 4 } else { 12 }),
        ..Default::default()
    }
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn thumos_like_loads_through_the_real_loader() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(dir.path(), &tiny(Benchmark::Thumos14, 1)).unwrap();
    assert_eq!(summary.videos, (4, 4));
    let ds = WtalDataset::load(dir.path(), &LoadOptions::default()).unwrap();
    assert_eq!(ds.layout, Layout::A);
    assert_eq!(ds.kind, Benchmark::Thumos14);
    assert_eq!((ds.train.len(), ds.test.len()), (4, 4));
    assert!(ds.warnings.is_empty(), "{:?}", ds.warnings);
    assert_eq!(ds.rgb_dim(), 8);
    assert_eq!(ds.flow_dim(), 8);
    // Same videos, durations and instances as the real annotations.
    let real = GroundTruth::from_path(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/thumos14/gt.json"
    )))
    .unwrap();
    let split = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/thumos14/split_train.txt"
    ))
    .unwrap();
    let first: Vec<&str> = split.lines().take(4).collect();
    for (v, name) in ds.train.iter().zip(first) {
        assert_eq!(v.id, name);
        let r = &real.videos[name];
        assert_eq!(v.duration, r.duration.unwrap());
        assert_eq!(v.len, (r.duration.unwrap() * 25.0 / 16.0).floor() as usize);
        assert_eq!(v.segments.len(), r.segments.len());
        for (a, b) in v.segments.iter().zip(&r.segments) {
            assert_eq!((&a.label, a.start, a.end), (&b.label, b.start, b.end));
        }
    }
    assert_eq!(
        summary.snippets,
        ds.train
            .iter()
            .chain(&ds.test)
            .map(|v| v.len)
            .sum::<usize>()
    );
}

#[test]
fn activitynet_like_loads() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(dir.path(), &tiny(Benchmark::ActivityNet13, 2)).unwrap();
    assert_eq!(summary.videos, (8, 4));
    assert_eq!(summary.classes, 200);
    let ds = WtalDataset::load(dir.path(), &LoadOptions::default()).unwrap();
    assert_eq!(ds.kind, Benchmark::ActivityNet13);
    assert_eq!((ds.train.len(), ds.test.len()), (8, 4));
    for v in ds.train.iter().chain(&ds.test) {
        assert!(v.id.starts_with("v_") && v.id.len() == 13);
        assert!(!v.segments.is_empty() && v.segments.len() <= 3);
        assert_eq!(v.labels.len(), 1);
        let covered: f64 = v.segments.iter().map(|s| s.end - s.start).sum();
        assert!(
            covered / v.duration > 0.25,
            "{} covers {}",
            v.id,
            covered / v.duration
        );
    }
}

#[test]
fn deterministic_for_a_seed() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    generate(a.path(), &tiny(Benchmark::Thumos14, 7)).unwrap();
    generate(b.path(), &tiny(Benchmark::Thumos14, 7)).unwrap();
    generate(c.path(), &tiny(Benchmark::Thumos14, 8)).unwrap();
    let (fa, fb, fc) = (files(a.path()), files(b.path()), files(c.path()));
    assert_eq!(fa, fb);
    assert_eq!(fa.len(), fc.len());
    assert_ne!(fa, fc);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    generate(a.path(), &tiny(Benchmark::ActivityNet13, 3)).unwrap();
    generate(b.path(), &tiny(Benchmark::ActivityNet13, 3)).unwrap();
    assert_eq!(files(a.path()), files(b.path()));
}

#[test]
fn f16_output_loads() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SynthConfig {
        dtype: NpyDtype::F16,
        ..tiny(Benchmark::Thumos14, 1)
    };
    let s = generate(dir.path(), &cfg).unwrap();
    let ds = WtalDataset::load(dir.path(), &LoadOptions::default()).unwrap();
    assert_eq!(ds.train.len(), 4);
    // Half the bytes of f32 (up to headers).
    assert_eq!(s.bytes, (s.snippets * 8 * 2 * 2 + 16 * 128) as u64);
}

#[test]
fn zero_dim_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SynthConfig {
        dim: 0,
        ..tiny(Benchmark::Thumos14, 1)
    };
    assert!(generate(dir.path(), &cfg)
        .unwrap_err()
        .to_string()
        .contains("dimension (dim) must be at least 1"));
}

/// The legacy model's structure is visible in the data: per class, the core snippets are
/// closest to the class's mean core, weak snippets still lean towards it, background does not.
#[test]
fn instances_carry_a_core_and_weaker_parts() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SynthConfig {
        dim: 64,
        num_videos: Some(40),
        ..tiny(Benchmark::Thumos14, 5)
    }
    .with_regime(Regime::Legacy);
    generate(dir.path(), &cfg).unwrap();
    let ds = WtalDataset::load(dir.path(), &LoadOptions::default()).unwrap();
    let spf = ds.timing.seconds_per_snippet();
    let d = 64;
    // Squared norm of flow snippets inside instances vs outside: signal adds energy.
    let (mut inside, mut n_in, mut outside, mut n_out) = (0.0f64, 0usize, 0.0f64, 0usize);
    let mut peak_ratio = Vec::new();
    for v in ds.train.iter() {
        let flow = v.flow.as_ref().unwrap();
        let energy: Vec<f64> = (0..v.len)
            .map(|t| {
                flow[t * d..(t + 1) * d]
                    .iter()
                    .map(|x| (x * x) as f64)
                    .sum()
            })
            .collect();
        let mut is_in = vec![false; v.len];
        for s in &v.segments {
            let a = ((s.start / spf).floor() as usize).min(v.len - 1);
            let b = ((s.end / spf).ceil() as usize).clamp(a + 1, v.len);
            is_in[a..b].iter_mut().for_each(|x| *x = true);
            let seg = &energy[a..b];
            if seg.len() >= 4 {
                let max = seg.iter().cloned().fold(0.0, f64::max);
                let mean = seg.iter().sum::<f64>() / seg.len() as f64;
                peak_ratio.push(max / mean);
            }
        }
        for t in 0..v.len {
            if is_in[t] {
                inside += energy[t];
                n_in += 1;
            } else {
                outside += energy[t];
                n_out += 1;
            }
        }
    }
    let (inside, outside) = (inside / n_in as f64, outside / n_out as f64);
    assert!(inside > outside * 1.1, "inside {inside} outside {outside}");
    // Each long instance has a peak well above its mean (the short core).
    let mean_peak = peak_ratio.iter().sum::<f64>() / peak_ratio.len() as f64;
    assert!(mean_peak > 1.1, "peak/mean {mean_peak}");
}

/// The full THUMOS14-like set has exactly the real annotations of the 410 split videos; the 67
/// real instances that start after their video's end are warned about, as with real features.
#[test]
fn full_thumos_like_keeps_every_real_instance() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SynthConfig {
        dim: 1,
        ..Default::default()
    };
    let s = generate(dir.path(), &cfg).unwrap();
    assert_eq!(s.videos, (200, 210));
    assert_eq!(s.snippets, 132_887);
    let synth = GroundTruth::from_path(&dir.path().join("gt.json")).unwrap();
    let real = GroundTruth::from_path(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/thumos14/gt.json"
    )))
    .unwrap();
    assert_eq!(synth.videos.len(), 410);
    for (id, v) in &synth.videos {
        let r = &real.videos[id];
        assert_eq!(v.duration, r.duration);
        assert_eq!(v.segments, r.segments, "{id}");
    }
    assert_eq!(synth.num_segments(), 6318);
    let ds = WtalDataset::load(dir.path(), &LoadOptions::default()).unwrap();
    let dropped = ds
        .warnings
        .iter()
        .filter(|w| w.message.contains("dropped"))
        .count();
    assert_eq!(dropped, 67);
}

/// `synth.json` records the regime and every parameter of the signal: read back, it is the
/// configuration that wrote the data, for every regime; and every regime's data loads.
#[test]
fn synth_json_records_the_regime_and_every_parameter() {
    for regime in Regime::ALL {
        let dir = tempfile::tempdir().unwrap();
        let cfg = tiny(Benchmark::Thumos14, 2).with_regime(regime);
        generate(dir.path(), &cfg).unwrap();
        let text = fs::read_to_string(dir.path().join("synth.json")).unwrap();
        let back: SynthConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(back, cfg);
        assert!(
            text.contains(&format!("\"regime\": \"{regime}\"")),
            "{text}"
        );
        match &back.signal {
            Signal::Legacy(_) => assert_eq!(regime, Regime::Legacy),
            Signal::I3d(p) => {
                assert!(text.contains("\"rest_specificity\""));
                assert!(p.validate().is_ok());
            }
        }
        let ds = WtalDataset::load(dir.path(), &LoadOptions::default()).unwrap();
        assert_eq!(ds.train.len(), 4);
    }
}

/// A `synth.json` written before the feature scale existed (no `scale` field) still loads,
/// with scale 1, so that such datasets are remade as they were; today's files record it.
#[test]
fn synth_json_without_scale_loads_with_scale_one() {
    let cfg = tiny(Benchmark::Thumos14, 2);
    let text = serde_json::to_string_pretty(&cfg).unwrap();
    assert!(text.contains("\"scale\": 10.0"), "{text}");
    let old: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("\"scale\""))
        .collect::<Vec<_>>()
        .join("\n");
    let back: SynthConfig = serde_json::from_str(&old).unwrap();
    match back.signal {
        Signal::I3d(p) => assert_eq!(p.scale, 1.0),
        Signal::Legacy(_) => panic!("the default regime is I3D-like"),
    }
}

/// The regimes differ where they say: uniform has no most discriminative part, peaked a
/// stronger one than realistic, clutter more background motion; names round-trip.
#[test]
fn regimes_are_what_their_names_say() {
    let i3d = |r: Regime| match r.signal() {
        Signal::I3d(p) => p,
        Signal::Legacy(_) => panic!("{r} is I3D-like"),
    };
    let (real, peaked, uniform, clutter) = (
        i3d(Regime::Realistic),
        i3d(Regime::Peaked),
        i3d(Regime::Uniform),
        i3d(Regime::Clutter),
    );
    assert_eq!(uniform.peak, 0.0);
    assert!(peaked.peak / peaked.rest > real.peak / real.rest);
    assert!(peaked.rest_specificity > real.rest_specificity);
    assert!(clutter.distractor_rate > real.distractor_rate);
    assert!(matches!(Regime::Legacy.signal(), Signal::Legacy(_)));
    for r in Regime::ALL {
        assert_eq!(r.name().parse::<Regime>().unwrap(), r);
    }
    assert!("nope".parse::<Regime>().unwrap_err().contains("realistic"));
    assert_eq!(SynthConfig::default().regime, Regime::Realistic);
}

/// On ActivityNet-shaped data each video's instances together cover a share of it inside
/// the configured range (`SynthConfig::coverage`), and a configuration written before the
/// field existed reads as the range used then, 30-90 %.
#[test]
fn activitynet_instances_cover_the_configured_share_of_each_video() {
    for (lo, hi) in [(0.3, 0.5), (0.7, 0.9)] {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SynthConfig {
            num_videos: Some(60),
            coverage: (lo, hi),
            ..tiny(Benchmark::ActivityNet13, 4)
        };
        generate(dir.path(), &cfg).unwrap();
        let gt = GroundTruth::from_path(&dir.path().join("gt.json")).unwrap();
        let mut videos = 0;
        for (video, v) in &gt.videos {
            let covered: f64 = v.segments.iter().map(|a| a.end - a.start).sum();
            let share = covered / v.duration.unwrap();
            // Segment bounds are rounded to 10 ms.
            assert!(
                share > lo - 0.01 && share < hi + 0.01,
                "{video}: instances cover {share:.3} of the video, outside [{lo}, {hi})"
            );
            videos += 1;
        }
        assert_eq!(videos, 60);
    }
    let text = serde_json::to_string(&tiny(Benchmark::ActivityNet13, 1)).unwrap();
    let old = text.replace(",\"coverage\":[0.3,0.9]", "");
    assert_ne!(old, text, "the field is written");
    let back: SynthConfig = serde_json::from_str(&old).unwrap();
    assert_eq!(back.coverage, (0.3, 0.9));
    let bad = SynthConfig {
        coverage: (0.6, 0.2),
        ..tiny(Benchmark::ActivityNet13, 1)
    };
    let err = generate(tempfile::tempdir().unwrap().path(), &bad).unwrap_err();
    assert!(err.to_string().contains("coverage"), "{err}");
}

/// `snippet_roles` recomputes where the generator put things: instance snippets (the
/// annotated segments) are cores or flanks, with a core inside every instance; outside them,
/// every snippet shows the class context when `context_shots` is 1 and about half of them do
/// when it is 0.5; the roles match the videos written, snippet for snippet.
#[test]
fn snippet_roles_follow_the_annotations_and_the_context_shots() {
    use dataset::synth::{snippet_roles, SnippetRole};
    for shots in [1.0, 0.5] {
        let mut cfg = SynthConfig {
            num_videos: Some(30),
            ..tiny(Benchmark::ActivityNet13, 6)
        };
        if let Signal::I3d(p) = &mut cfg.signal {
            p.context_shots = shots;
        }
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), &cfg).unwrap();
        let ds = WtalDataset::load(dir.path(), &LoadOptions::default()).unwrap();
        let roles = snippet_roles(&cfg).unwrap().expect("I3D-like signal");
        assert_eq!(roles.len(), 30);
        let (mut context, mut background) = (0usize, 0usize);
        for v in &roles {
            let video = ds
                .train
                .iter()
                .chain(&ds.test)
                .find(|x| x.id == v.video)
                .unwrap();
            assert_eq!(video.len, v.roles.len(), "{}", v.video);
            let spf = cfg.timing.seconds_per_snippet();
            let inside = |t: usize| {
                let mid = (t as f64 + 0.5) * spf;
                video
                    .segments
                    .iter()
                    .any(|a| a.start <= mid && mid <= a.end)
            };
            for (t, role) in v.roles.iter().enumerate() {
                match role {
                    SnippetRole::Core | SnippetRole::Flank => {}
                    SnippetRole::Context => context += 1,
                    SnippetRole::Background => background += 1,
                }
                if inside(t) {
                    assert!(
                        matches!(role, SnippetRole::Core | SnippetRole::Flank),
                        "{} snippet {t}: {role:?} inside an instance",
                        v.video
                    );
                }
            }
            assert!(v.roles.contains(&SnippetRole::Core), "{}", v.video);
        }
        let share = background as f64 / (context + background) as f64;
        if shots == 1.0 {
            assert_eq!(background, 0);
        } else {
            assert!((0.3..0.7).contains(&share), "background share {share}");
        }
    }
}
