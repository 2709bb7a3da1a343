//! What `maan test`, `maan predict`, `maan train` and `maan demo` print about a result: the
//! mAP table, and where the detections and CAS went.

use std::path::Path;

use anyhow::{Context, Result};
use maan_model::predict::Prediction;
use maan_model::EvalMetrics;

/// Prints the mAP table of an evaluation ([`EvalMetrics::table`]) and its warnings.
pub fn print_metrics(m: &EvalMetrics) {
    print!("{}", m.table());
    for w in &m.warnings {
        eprintln!("warning: {w}");
    }
}

/// Writes a prediction's detections to `path` and, with `cas_dir`, each video's CAS, saying
/// so on stderr (what `maan test`, `maan predict` and `maan demo` do with their predictions).
pub fn write_prediction(p: &Prediction, path: &Path, cas_dir: Option<&Path>) -> Result<()> {
    eprintln!("localization: {}", p.localize.describe());
    p.write_detections(path)
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!(
        "{} videos: {} detections -> {}",
        p.outputs.len(),
        p.detections.num_detections(),
        path.display()
    );
    if let Some(dir) = cas_dir {
        p.write_cas(dir)?;
        eprintln!("CAS of each video -> {}/<video>.npy", dir.display());
    }
    Ok(())
}
