//! A run's report from its files: what `maan report` and `maan test` hand to
//! [`maan_eval::report`], which computes the analyses and draws the page.
//!
//! A run's report reads `config.json` (protocol, streams), `metrics.jsonl` (training curves),
//! the detections and their result record (`<detections>.metrics.json`, what `maan test`
//! wrote), the model outputs (from memory after a test, or `cas/<video>.npy` and
//! `cas/<video>.attention.npy`, read one video at a time), and the ground truth of the run's
//! test videos from its dataset loaded as `maan test` loads it, so that the report scores
//! against exactly what the metrics were scored against. The page is written into the run
//! through its lock ([`RunDir::write_file`]).

use std::collections::HashMap;
use std::path::Path;
use std::time::SystemTime;

use dataset::WtalDataset;
use maan_eval::annotations::GroundTruth;
use maan_eval::diagnose::DiagnoseConfig;
use maan_eval::report::{
    build_run, utc_rfc3339, DatedEvent, Protocol, ReportData, ReportOptions, RunInputs, RunReport,
    Signals,
};
use maan_eval::DetectionFile;

use crate::error::{ModelError, Result};
use crate::infer::VideoOutput;
use crate::run::{load_config, read_metrics, RunDir, CAS_DIR, CONFIG_FILE, LAST, METRICS_FILE};

/// The report's file name in a run directory.
pub const REPORT_FILE: &str = "report.html";

/// The report of the run in `run` from its files: its detections at `detections` (with the
/// result record beside them, if there is one) and the CAS in `run/cas/`, scored against the
/// test split of `data` (the run's dataset).
///
/// # Errors
/// No `config.json` or detections in the run, a damaged file, a CAS that is not `[T, C]`.
pub fn read_run(run: &Path, detections: &Path, data: &WtalDataset) -> Result<RunReport> {
    if !detections.is_file() {
        return Err(ModelError::Config(format!(
            "{}: no detections; test the run first: maan test --run {} --detections {} \
             --cas-dir {}",
            detections.display(),
            run.display(),
            detections.display(),
            run.join(CAS_DIR).display()
        )));
    }
    let dets = DetectionFile::from_path(detections)?;
    let metrics_path = detections.with_extension("metrics.json");
    let metrics = if metrics_path.is_file() {
        let text =
            std::fs::read_to_string(&metrics_path).map_err(|e| ModelError::io(&metrics_path, e))?;
        Some(serde_json::from_str(&text).map_err(|e| {
            ModelError::Record(format!("{}: not JSON: {e}", metrics_path.display()))
        })?)
    } else {
        None
    };
    let mut sources = Sources::new(run, data, dets, metrics)?;
    sources.dates.push(dated("tested", detections));
    let cas_dir = run.join(CAS_DIR);
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
        let attention = match att_path.is_file() {
            true => Some(
                dataset::npy::read_f32(&att_path)
                    .map_err(|e| e.to_string())?
                    .1,
            ),
            false => None,
        };
        Ok(Some(Signals {
            cas,
            num_snippets: t,
            num_classes: c,
            attention,
        }))
    };
    sources.build(&source)
}

/// The report of a run just tested: its detections, model outputs and result record (as JSON)
/// from memory, the rest from the run's files.
///
/// # Errors
/// As [`read_run`].
pub fn after_test(
    run: &Path,
    data: &WtalDataset,
    detections: &DetectionFile,
    outputs: &[VideoOutput],
    record: Option<serde_json::Value>,
) -> Result<RunReport> {
    let sources = Sources::new(run, data, detections.clone(), record)?;
    let by_id: HashMap<&str, &VideoOutput> = outputs.iter().map(|o| (o.id.as_str(), o)).collect();
    let source = |id: &str| -> std::result::Result<Option<Signals>, String> {
        Ok(by_id.get(id).map(|o| Signals {
            cas: o.cas.clone(),
            num_snippets: o.num_snippets,
            num_classes: o.num_classes,
            attention: o.attention.clone(),
        }))
    };
    sources.build(&source)
}

/// The page's data for `runs` (the first is the report's run, a second is compared with it).
pub fn report_data(runs: Vec<RunReport>) -> ReportData {
    ReportData {
        format: ReportData::FORMAT,
        generated: utc_rfc3339(SystemTime::now()),
        generator: format!("maan {}", env!("CARGO_PKG_VERSION")),
        runs,
    }
}

/// Writes the page of `data` into the run held by `run` as [`REPORT_FILE`] (atomically);
/// returns its path.
///
/// # Errors
/// A failure to render or write.
pub fn write_into_run(run: &RunDir, data: &ReportData) -> Result<std::path::PathBuf> {
    let page = maan_eval::report::render_html(data)?;
    run.write_file(REPORT_FILE, page.as_bytes())
}

/// Writes the page of `data` to `out` (atomically, creating its folder).
///
/// # Errors
/// A failure to render or write.
pub fn write_to(data: &ReportData, out: &Path) -> Result<()> {
    let page = maan_eval::report::render_html(data)?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| ModelError::io(parent, e))?;
    }
    crate::checkpoint::write_atomic(out, page.as_bytes())
}

/// Writes `data`, every number the page shows, as JSON to `path` (atomically).
///
/// # Errors
/// A failure to write.
pub fn write_json(data: &ReportData, path: &Path) -> Result<()> {
    let text = serde_json::to_string(data).map_err(|e| ModelError::Record(e.to_string()))?;
    crate::checkpoint::write_atomic(path, text.as_bytes())
}

/// What a run's report is made of, besides its model outputs.
struct Sources {
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

impl Sources {
    fn new(
        run: &Path,
        data: &WtalDataset,
        dets: DetectionFile,
        metrics: Option<serde_json::Value>,
    ) -> Result<Sources> {
        let config = load_config(run)?;
        // Every test video, as `maan test` scores them (`crate::evaluate::score`).
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
        let config_path = run.join(CONFIG_FILE);
        let config_text =
            std::fs::read_to_string(&config_path).map_err(|e| ModelError::io(&config_path, e))?;
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
        let dates = vec![
            dated("training started", &config_path),
            dated("last log record", &run.join(METRICS_FILE)),
            dated("last checkpoint", &run.join(LAST).join("state.json")),
        ];
        let name = run.canonicalize().unwrap_or_else(|_| run.to_path_buf());
        Ok(Sources {
            name: name
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
            log: read_metrics(run)?,
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
