//! Times the report of a synthetic run and measures the page: build (mAP, DETAD's diagnosis,
//! the viewer's data), render and write, for a THUMOS14-sized test set (the real ground truth
//! of `data/thumos14/gt.json`'s 212 test videos, 20 classes) and an ActivityNet-sized one
//! (5,000 synthetic videos of 20 s to 6.7 min, 128 s on average, with 1 to 4 instances, 200
//! classes).
//!
//! `cargo run --release -p maan-eval --example report_scale -- [OUT_DIR] [DETECTIONS_PER_VIDEO]`
//!
//! Detections: jittered copies of the instances and random segments, `DETECTIONS_PER_VIDEO`
//! per video (default 60); CAS `[T, C]` at 0.64 s per snippet, smooth bumps on the instances
//! plus noise, and an attention; both made per video inside the signal source, as
//! `maan report` reads them from disk one video at a time.

use std::time::Instant;

use maan_eval::annotations::{GtSegment, GtVideo};
use maan_eval::report::{
    build_run, render_html, Protocol, ReportData, ReportOptions, RunInputs, Signals,
};
use maan_eval::{ClassList, Detection, DetectionFile, DiagnoseConfig, GroundTruth};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SPS: f64 = 0.64;

fn activitynet_like(n: usize, classes: &[String], rng: &mut StdRng) -> GroundTruth {
    let mut gt = GroundTruth::default();
    for i in 0..n {
        // Log-uniform from 20 s to 6.7 min: a mean of 128 s (ActivityNet1.3's is about 117 s).
        let duration: f64 = rng.random_range(3.0f64..6.0).exp();
        let k = rng.random_range(1..=4usize);
        let mut segments = Vec::new();
        for j in 0..k {
            let slot = duration / k as f64;
            let len = slot * rng.random_range(0.2..0.9);
            let start = slot * j as f64 + rng.random_range(0.0..(slot - len));
            segments.push(GtSegment {
                label: classes[rng.random_range(0..classes.len())].clone(),
                start,
                end: start + len,
            });
        }
        gt.videos.insert(
            format!("v_synthetic_{i:05}"),
            GtVideo {
                subset: "validation".into(),
                duration: Some(duration),
                segments,
            },
        );
    }
    gt
}

fn detections(
    gt: &GroundTruth,
    classes: &[String],
    per_video: usize,
    rng: &mut StdRng,
) -> DetectionFile {
    let mut f = DetectionFile::new();
    for (id, v) in &gt.videos {
        let d = v.duration.unwrap_or(100.0);
        let list = (0..per_video)
            .map(|i| {
                if i % 2 == 0 && !v.segments.is_empty() {
                    let g = &v.segments[rng.random_range(0..v.segments.len())];
                    let l = (g.end - g.start).max(0.5);
                    let s = (g.start + l * rng.random_range(-0.3..0.3)).max(0.0);
                    let e = (g.end + l * rng.random_range(-0.3..0.3))
                        .min(d)
                        .max(s + 0.1);
                    Detection {
                        label: g.label.clone(),
                        score: rng.random(),
                        segment: [s, e],
                    }
                } else {
                    let s = rng.random_range(0.0..d * 0.9);
                    Detection {
                        label: classes[rng.random_range(0..classes.len())].clone(),
                        score: rng.random::<f64>() * 0.5,
                        segment: [s, (s + rng.random_range(1.0..30.0)).min(d)],
                    }
                }
            })
            .collect();
        f.results.insert(id.clone(), list);
    }
    f
}

fn signals(v: &GtVideo, class_of: &dyn Fn(&str) -> usize, c: usize, seed: u64) -> Signals {
    let t = ((v.duration.unwrap_or(100.0) / SPS).floor() as usize).max(1);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut cas: Vec<f32> = (0..t * c).map(|_| rng.random::<f32>() * 0.05).collect();
    let mut attention: Vec<f32> = (0..t).map(|_| rng.random::<f32>() * 0.2).collect();
    for s in &v.segments {
        let k = class_of(&s.label);
        let (a, b) = ((s.start / SPS) as usize, ((s.end / SPS) as usize).min(t));
        for i in a..b {
            let x = 0.6 + 0.4 * (std::f64::consts::PI * (i - a) as f64 / (b - a) as f64).sin();
            cas[i * c + k] = x as f32;
            attention[i] = 0.9;
        }
    }
    Signals {
        cas,
        num_snippets: t,
        num_classes: c,
        attention: Some(attention),
    }
}

fn run(
    name: &str,
    gt: &GroundTruth,
    classes: &[String],
    dets: &DetectionFile,
    diagnose: DiagnoseConfig,
    tious: Vec<f64>,
    out: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let index: std::collections::HashMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let class_of = |l: &str| index[l];
    let c = classes.len();
    let source = |id: &str| -> Result<Option<Signals>, String> {
        let seed = id
            .bytes()
            .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
        Ok(gt.videos.get(id).map(|v| signals(v, &class_of, c, seed)))
    };
    let start = Instant::now();
    let inputs = RunInputs {
        name: name.into(),
        protocol: Protocol::default(),
        classes,
        ground_truth: gt,
        detections: dets,
        tiou_thresholds: tious,
        recorded_map: None,
        classification_map: None,
        metrics_log: &[],
        loss_names: vec!["rgb".into(), "flow".into()],
        extra_videos: Vec::new(),
        signals: &source,
        seconds_per_snippet: SPS,
        diagnose: Some(diagnose),
    };
    let report = build_run(&inputs, &ReportOptions::default())?;
    let built = start.elapsed().as_secs_f64();
    let data = ReportData {
        format: ReportData::FORMAT,
        generated: "now".into(),
        generator: "report_scale".into(),
        runs: vec![report],
    };
    let page = render_html(&data)?;
    let path = out.join(format!("{name}.html"));
    std::fs::write(&path, &page)?;
    let total = start.elapsed().as_secs_f64();
    println!(
        "| {name} | {} | {} | {} | {built:.2} | {total:.2} | {:.1} |",
        gt.videos.len(),
        c,
        dets.num_detections(),
        page.len() as f64 / 1e6
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let out = std::path::PathBuf::from(
        args.get(1)
            .cloned()
            .unwrap_or_else(|| "target/report_scale".into()),
    );
    let per_video: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(60);
    std::fs::create_dir_all(&out)?;
    let mut rng = StdRng::seed_from_u64(36);
    println!("| run | videos | classes | detections | build (s) | build + render + write (s) | page (MB) |");
    println!("|---|---|---|---|---|---|---|");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/thumos14/gt.json");
    let thumos = GroundTruth::from_path(&root)?.subset("test");
    let classes = ClassList::thumos14().names().to_vec();
    let dets = detections(&thumos, &classes, per_video, &mut rng);
    run(
        "thumos14-sized",
        &thumos,
        &classes,
        &dets,
        DiagnoseConfig::thumos14(),
        maan_eval::eval::thumos14_tiou_thresholds(),
        &out,
    )?;
    let classes = ClassList::activitynet13().names().to_vec();
    let anet = activitynet_like(5000, &classes, &mut rng);
    let dets = detections(&anet, &classes, per_video, &mut rng);
    run(
        "activitynet-sized",
        &anet,
        &classes,
        &dets,
        DiagnoseConfig::activitynet(),
        maan_eval::eval::activitynet_tiou_thresholds(),
        &out,
    )?;
    Ok(())
}
