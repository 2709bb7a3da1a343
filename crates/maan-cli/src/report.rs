//! What `maan test`, `maan predict`, `maan train` and the experiments print and write about a
//! result: the mAP table, the protocol fields of a metrics JSON, and the detections and CAS
//! files.

use anyhow::{Context, Result};
use dataset::WtalDataset;
use maan_model::infer::{detections, write_cas_npy};
use maan_model::EvalMetrics;

/// Prints the mAP table of an evaluation: the mAP at each tIoU, the averages papers report
/// that apply to the tIoU set (`maan_eval::eval::reported_averages`: avg 0.1:0.5, 0.1:0.7
/// and 0.1:0.9 on THUMOS14, 0.5:0.95 on ActivityNet1.3; the plain average otherwise) and the
/// classification mAP.
pub fn print_metrics(m: &EvalMetrics) {
    let mut head: Vec<String> = m
        .tiou_thresholds
        .iter()
        .map(|t| format!("{t:>6.2}"))
        .collect();
    let mut vals: Vec<String> = m
        .map
        .iter()
        .map(|v| format!("{:>6.2}", v * 100.0))
        .collect();
    let averages = maan_eval::eval::reported_averages(&m.tiou_thresholds, &m.map);
    if averages.is_empty() {
        head.push(format!("{:>9}", "avg"));
        vals.push(format!("{:>9.2}", m.average_map * 100.0));
    }
    for a in &averages {
        let label = format!("avg{}", a.label());
        let w = label.len().max(6) + 2;
        head.push(format!("{label:>w$}"));
        vals.push(format!("{:>w$.2}", a.map * 100.0));
    }
    println!("tIoU    {}   cls-mAP", head.join(""));
    println!(
        "mAP (%) {}  {:>8.2}",
        vals.join(""),
        m.classification_map * 100.0
    );
    for w in &m.warnings {
        eprintln!("warning: {w}");
    }
}

/// The protocol fields of a metrics JSON (see the module docs): `dataset`, `averages`,
/// `test_videos`, `excluded_videos`, `localization_preset`, `localization`, `seed`, `commit`.
pub fn protocol(
    data: &WtalDataset,
    metrics: &maan_model::EvalMetrics,
    localize: &maan_eval::localize::LocalizeConfig,
    seed: u64,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let mut obj = serde_json::Map::new();
    obj.insert("dataset".into(), data.kind.to_string().into());
    let averages: serde_json::Map<String, serde_json::Value> =
        maan_eval::eval::reported_averages(&metrics.tiou_thresholds, &metrics.map)
            .into_iter()
            .map(|a| (a.label(), a.map.into()))
            .collect();
    obj.insert("averages".into(), averages.into());
    obj.insert("test_videos".into(), data.test.len().into());
    obj.insert("excluded_videos".into(), excluded_test_videos(data).into());
    obj.insert(
        "localization_preset".into(),
        maan_eval::LocalizePreset::name_of(localize, data.kind).into(),
    );
    obj.insert("localization".into(), serde_json::to_value(localize)?);
    obj.insert("seed".into(), seed.into());
    obj.insert("commit".into(), env!("MAAN_GIT_COMMIT").into());
    Ok(obj)
}

/// The videos of the annotation file's test subset (THUMOS14 `test`, ActivityNet1.3
/// `validation`) that are not in the dataset's test split, sorted.
pub fn excluded_test_videos(data: &WtalDataset) -> Vec<String> {
    let tested: std::collections::HashSet<&str> = data.test.iter().map(|v| v.id.as_str()).collect();
    let mut out: Vec<String> = data
        .ground_truth
        .videos
        .iter()
        .filter(|(id, v)| data.kind.is_test_subset(&v.subset) && !tested.contains(id.as_str()))
        .map(|(id, _)| id.clone())
        .collect();
    out.sort();
    out
}

/// Localizes `outputs` with `localize`, writes the detections to `path` (ActivityNet result
/// format) and, with `cas_dir`, each video's CAS as npy, saying so on stderr (what `maan test`
/// and `maan predict` both do with their model outputs).
pub fn write_outputs(
    outputs: &[maan_model::VideoOutput],
    classes: &[String],
    seconds_per_snippet: f64,
    localize: &maan_eval::localize::LocalizeConfig,
    path: &std::path::Path,
    cas_dir: Option<&std::path::Path>,
) -> Result<maan_eval::DetectionFile> {
    eprintln!("localization: {}", localize.describe());
    let dets = detections(outputs, classes, seconds_per_snippet, localize)?;
    dets.to_path(path)
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!(
        "{} videos: {} detections -> {}",
        outputs.len(),
        dets.num_detections(),
        path.display()
    );
    if let Some(dir) = cas_dir {
        write_cas_npy(outputs, dir)?;
        eprintln!("CAS of each video -> {}/<video>.npy", dir.display());
    }
    Ok(dets)
}
