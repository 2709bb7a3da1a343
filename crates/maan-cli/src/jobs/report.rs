//! `maan report`: the self-contained HTML report of a run (and, with `--json`, the JSON of every
//! number it shows), optionally beside a second run (`--compare`). `maan test` (and so `maan
//! demo`) writes `RUN/report.html` with [`write_after_test`], from what it has in memory.
//!
//! The computations and the page are `maan_eval::report`'s; this module only reads the run:
//! `config.json` (protocol, streams, data), `metrics.jsonl` (training curves),
//! `detections.json` and `detections.metrics.json` (what `maan test` wrote), `cas/<video>.npy`
//! and `cas/<video>.attention.npy` (the viewer's CAS and attention, read one video at a time),
//! and the ground truth of the run's test videos, from the run's dataset loaded as `maan test`
//! loads it (so the report scores against exactly what the metrics were scored against).

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use anyhow::{bail, Context, Result};
use dataset::WtalDataset;
use maan_eval::annotations::GroundTruth;
use maan_eval::diagnose::DiagnoseConfig;
use maan_eval::report::{
    build_run, render_html, DatedEvent, Protocol, ReportData, ReportOptions, RunInputs, RunReport,
    Signals,
};
use maan_eval::DetectionFile;
use maan_model::run::{CONFIG_FILE, METRICS_FILE};
use maan_model::{TrainConfig, VideoOutput};

use crate::opts::DataOpts;

/// The report's file name in a run directory.
pub const REPORT_FILE: &str = "report.html";

/// Arguments of `maan report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Run directory, trained by `maan train` and tested by `maan test` (its detections.json,
    /// detections.metrics.json and cas/ are read).
    #[arg(long, value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// Output HTML file [default: RUN/report.html].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also write the JSON of every number the page shows (the page's own data).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// A second run to set beside the first (mAP, diagnosis, the same video's timelines).
    #[arg(long, value_name = "RUN_DIR")]
    pub compare: Option<PathBuf>,
    /// The run's detections [default: RUN/detections.json, what `maan demo` writes].
    #[arg(long, value_name = "FILE")]
    pub detections: Option<PathBuf>,
    /// The run's dataset (default: the folder its config.json records).
    #[command(flatten)]
    pub data: DataOpts,
}

/// Runs `maan report`.
pub fn run(args: ReportArgs) -> Result<()> {
    let start = Instant::now();
    let mut runs = vec![read_run(&args.run, args.detections.as_deref(), &args.data)?];
    if let Some(other) = &args.compare {
        runs.push(read_run(other, None, &DataOpts::default())?);
    }
    let out = args.out.unwrap_or_else(|| args.run.join(REPORT_FILE));
    let data = report_data(runs);
    write(&data, &out, args.json.as_deref())?;
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    println!(
        "report -> {} ({:.2} MB, {} videos, {:.2} s)",
        out.display(),
        size as f64 / 1e6,
        data.runs[0].videos.len(),
        start.elapsed().as_secs_f64()
    );
    if let Some(json) = &args.json {
        println!("report data (JSON) -> {}", json.display());
    }
    Ok(())
}

/// What `maan test` calls once it has scored a run: writes `RUN/report.html` from the test's
/// data, detections and model outputs (in memory) and the run's files, and returns its path.
pub fn write_after_test(
    run: &Path,
    data: &WtalDataset,
    dets: &DetectionFile,
    outputs: &[VideoOutput],
    metrics: Option<&serde_json::Value>,
) -> Result<PathBuf> {
    let config = maan_model::load_config(run)?;
    let ctx = Context_::new(run, &config, data, dets.clone(), metrics.cloned())?;
    let by_id: std::collections::HashMap<&str, &VideoOutput> =
        outputs.iter().map(|o| (o.id.as_str(), o)).collect();
    let source = |id: &str| -> std::result::Result<Option<Signals>, String> {
        Ok(by_id.get(id).map(|o| Signals {
            cas: o.cas.clone(),
            num_snippets: o.num_snippets,
            num_classes: o.num_classes,
            attention: o.attention.clone(),
        }))
    };
    let report = ctx.build(&source)?;
    let out = run.join(REPORT_FILE);
    write(&report_data(vec![report]), &out, None)?;
    Ok(out)
}

/// Writes the page (and the JSON).
fn write(data: &ReportData, out: &Path, json: Option<&Path>) -> Result<()> {
    let page = render_html(data)?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the folder {}", parent.display()))?;
    }
    std::fs::write(out, page).with_context(|| format!("writing {}", out.display()))?;
    if let Some(path) = json {
        let text = serde_json::to_string(data)?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn report_data(runs: Vec<RunReport>) -> ReportData {
    ReportData {
        format: ReportData::FORMAT,
        generated: utc_rfc3339(SystemTime::now()),
        generator: format!("maan {}", env!("CARGO_PKG_VERSION")),
        runs,
    }
}

/// Reads a run from its files.
fn read_run(run: &Path, detections: Option<&Path>, data: &DataOpts) -> Result<RunReport> {
    if !run.join(CONFIG_FILE).is_file() {
        bail!(
            "{} is not a run directory (no {CONFIG_FILE}); pass the --run of `maan train`",
            run.display()
        );
    }
    let config = maan_model::load_config(run)?;
    let det_path = detections
        .map(Path::to_path_buf)
        .unwrap_or_else(|| run.join("detections.json"));
    if !det_path.is_file() {
        bail!(
            "{}: no detections; test the run first: maan test --run {} --detections {} --cas-dir {}",
            det_path.display(),
            run.display(),
            det_path.display(),
            run.join("cas").display()
        );
    }
    let dets = DetectionFile::from_path(&det_path)?;
    let metrics_path = det_path.with_extension("metrics.json");
    let metrics = if metrics_path.is_file() {
        let text = std::fs::read_to_string(&metrics_path)
            .with_context(|| format!("reading {}", metrics_path.display()))?;
        Some(
            serde_json::from_str::<serde_json::Value>(&text)
                .with_context(|| format!("{}: not JSON", metrics_path.display()))?,
        )
    } else {
        None
    };
    let loaded = data.load_for_run(&config)?;
    let mut ctx = Context_::new(run, &config, &loaded, dets, metrics)?;
    ctx.dates.push(dated("tested", &det_path));
    let cas_dir = run.join("cas");
    let source = |id: &str| -> std::result::Result<Option<Signals>, String> {
        let path = cas_dir.join(format!("{id}.npy"));
        if !path.is_file() {
            return Ok(None);
        }
        let (shape, cas) = dataset::npy::read_f32(&path).map_err(|e| e.to_string())?;
        let [t, c] = shape[..] else {
            return Err(format!(
                "{}: a CAS of shape {shape:?}, not [T, C]",
                path.display()
            ));
        };
        let att_path = cas_dir.join(format!("{id}.attention.npy"));
        let attention = if att_path.is_file() {
            Some(
                dataset::npy::read_f32(&att_path)
                    .map_err(|e| e.to_string())?
                    .1,
            )
        } else {
            None
        };
        Ok(Some(Signals {
            cas,
            num_snippets: t,
            num_classes: c,
            attention,
        }))
    };
    ctx.build(&source)
}

/// What a run's report is made of, besides its model outputs.
struct Context_ {
    name: String,
    protocol: Protocol,
    dates: Vec<DatedEvent>,
    classes: Vec<String>,
    gt: GroundTruth,
    dets: DetectionFile,
    tious: Vec<f64>,
    recorded_map: Option<Vec<f64>>,
    classification_map: Option<f64>,
    log: Vec<serde_json::Value>,
    loss_names: Vec<String>,
    seconds_per_snippet: f64,
    diagnose: DiagnoseConfig,
}

impl Context_ {
    fn new(
        run: &Path,
        config: &TrainConfig,
        data: &WtalDataset,
        dets: DetectionFile,
        metrics: Option<serde_json::Value>,
    ) -> Result<Context_> {
        // Every test video, as `maan test` scores them (`maan_model::evaluate::score`).
        let gt = data.test_ground_truth();
        let m = metrics.as_ref();
        let field = |k: &str| m.and_then(|m| m.get(k));
        let floats = |v: &serde_json::Value| -> Option<Vec<f64>> {
            v.as_array()
                .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
        };
        let tious = field("tiou_thresholds")
            .and_then(floats)
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| data.kind.tiou_thresholds());
        let localization = field("localization")
            .and_then(|v| serde_json::from_value::<maan_eval::LocalizeConfig>(v.clone()).ok())
            .unwrap_or_else(|| config.localization(data.kind));
        let config_text = std::fs::read_to_string(run.join(CONFIG_FILE))
            .with_context(|| format!("reading {}", run.join(CONFIG_FILE).display()))?;
        let protocol = Protocol {
            commit: field("commit").and_then(|v| v.as_str()).map(String::from),
            benchmark: Some(data.kind.to_string()),
            data: Some(data.dir.display().to_string()),
            backend: field("backend").and_then(|v| v.as_str()).map(String::from),
            localization: Some(localization.describe()),
            seed: Some(config.seed),
            dates: Vec::new(),
            config: serde_json::from_str(&config_text).unwrap_or(serde_json::Value::Null),
        };
        let log_path = run.join(METRICS_FILE);
        let log = match std::fs::read_to_string(&log_path) {
            Ok(text) => text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .enumerate()
                .map(|(i, l)| {
                    serde_json::from_str(l).with_context(|| {
                        format!("{}, line {}: not JSON", log_path.display(), i + 1)
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            Err(_) => Vec::new(),
        };
        let dates = vec![
            dated("training started", &run.join(CONFIG_FILE)),
            dated("last log record", &log_path),
            dated("last checkpoint", &run.join("last").join("state.json")),
        ];
        Ok(Context_ {
            name: run
                .canonicalize()
                .unwrap_or_else(|_| run.to_path_buf())
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| run.display().to_string()),
            protocol,
            dates,
            classes: data.classes.names().to_vec(),
            gt,
            dets,
            tious,
            recorded_map: field("map").and_then(floats),
            classification_map: field("classification_map").and_then(|v| v.as_f64()),
            log,
            loss_names: config
                .streams
                .kinds()
                .iter()
                .map(|k| k.name().to_string())
                .collect(),
            seconds_per_snippet: data.timing.seconds_per_snippet(),
            diagnose: DiagnoseConfig::for_benchmark(data.kind),
        })
    }

    fn build(&self, source: maan_eval::report::SignalSource<'_>) -> Result<RunReport> {
        let mut protocol = self.protocol.clone();
        protocol.dates = self
            .dates
            .iter()
            .filter(|d| !d.when.is_empty())
            .cloned()
            .collect();
        let inputs = RunInputs {
            name: self.name.clone(),
            protocol,
            classes: &self.classes,
            ground_truth: &self.gt,
            detections: &self.dets,
            tiou_thresholds: self.tious.clone(),
            recorded_map: self.recorded_map.clone(),
            classification_map: self.classification_map,
            metrics_log: &self.log,
            loss_names: self.loss_names.clone(),
            extra_videos: Vec::new(),
            signals: source,
            seconds_per_snippet: self.seconds_per_snippet,
            diagnose: Some(self.diagnose.clone()),
        };
        Ok(build_run(&inputs, &ReportOptions::default())?)
    }
}

/// The modification time of a file as an event (`when` empty when the file is missing).
fn dated(what: &str, path: &Path) -> DatedEvent {
    DatedEvent {
        what: what.into(),
        when: std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map(utc_rfc3339)
            .unwrap_or_default(),
    }
}

/// `2025-01-31T12:34:56Z`: a time in UTC, to the second (Howard Hinnant's `civil_from_days`).
fn utc_rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known instants: the epoch, a leap day, the last second of a century year.
    #[test]
    fn utc_dates_are_right() {
        let at = |s: u64| utc_rfc3339(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(978_307_199), "2000-12-31T23:59:59Z");
        assert_eq!(at(1_709_251_199), "2024-02-29T23:59:59Z");
    }
}
