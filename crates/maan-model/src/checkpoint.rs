//! Checkpoints: model and optimizer records (Burn's named MessagePack recorder, full
//! precision) and a small JSON state, written atomically. A checkpoint directory of a run
//! (`last/`, `best/`: the run's layout is [`crate::run`]'s) holds
//!
//! ```text
//!   state.json         iteration, best metric, streams
//!   rgb.mpk            model record of the RGB stream
//!   rgb-optim.mpk      Adam state of the RGB stream
//!   flow.mpk, flow-optim.mpk
//! ```
//!
//! A checkpoint directory is first written as `NAME.tmp/`, then the old `NAME/` is renamed to
//! `NAME.old/`, `NAME.tmp/` to `NAME/`, and `NAME.old/` is removed, so an interrupted write
//! never leaves a half-written `NAME/`; [`checkpoint_dir`] falls back to `NAME.old/` if the
//! process died between the two renames.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Record, Recorder};
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};

use crate::error::{ModelError, Result};

/// The recorder used for every checkpoint file.
pub type CheckpointRecorder = NamedMpkBytesRecorder<FullPrecisionSettings>;

/// Name of the state file inside a checkpoint directory.
pub const STATE_FILE: &str = "state.json";

/// The JSON state saved with each checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Number of training iterations completed.
    pub iteration: usize,
    /// Best evaluation metric so far (average detection mAP over the tIoU thresholds), if any
    /// evaluation ran.
    pub best_metric: Option<f64>,
    /// Iteration at which `best_metric` was reached.
    pub best_iteration: Option<usize>,
    /// Classification mAP of that evaluation (the tie-break of model selection; absent in
    /// checkpoints written before it existed).
    #[serde(default)]
    pub best_classification_map: Option<f64>,
    /// Names of the streams saved (`rgb`, `flow`).
    pub streams: Vec<String>,
}

/// Serializes a record to bytes with [`CheckpointRecorder`].
pub fn record_to_bytes<B: Backend, R: Record<B>>(record: R) -> Result<Vec<u8>> {
    CheckpointRecorder::default()
        .record(record, ())
        .map_err(|e| ModelError::Record(e.to_string()))
}

/// Deserializes a record written by [`record_to_bytes`].
pub fn record_from_bytes<B: Backend, R: Record<B>>(
    bytes: Vec<u8>,
    device: &B::Device,
) -> Result<R> {
    CheckpointRecorder::default()
        .load(bytes, device)
        .map_err(|e| ModelError::Record(e.to_string()))
}

/// Reads a module file written by [`CheckpointWriter::module`] into `module`.
pub fn load_module<B: Backend, M: Module<B>>(
    module: M,
    path: &Path,
    device: &B::Device,
) -> Result<M> {
    let bytes = fs::read(path).map_err(|e| ModelError::io(path, e))?;
    let record = record_from_bytes::<B, M::Record>(bytes, device)
        .map_err(|e| ModelError::Checkpoint(format!("{}: {e}", path.display())))?;
    Ok(module.load_record(record))
}

/// The checkpoint directory `name` (`last` or `best`) of a run, or its `.old` copy if a write
/// was interrupted between renames; `None` if neither holds a state file.
pub fn checkpoint_dir(run_dir: &Path, name: &str) -> Option<PathBuf> {
    [run_dir.join(name), run_dir.join(format!("{name}.old"))]
        .into_iter()
        .find(|d| d.join(STATE_FILE).is_file())
}

/// Reads the state file of a checkpoint directory.
pub fn read_state(dir: &Path) -> Result<CheckpointState> {
    let path = dir.join(STATE_FILE);
    let text = fs::read_to_string(&path).map_err(|e| ModelError::io(&path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| ModelError::Checkpoint(format!("{}: {e}", path.display())))
}

/// Writes one checkpoint directory atomically (see the module docs).
#[derive(Debug)]
pub struct CheckpointWriter {
    final_dir: PathBuf,
    tmp_dir: PathBuf,
}

impl CheckpointWriter {
    /// Starts writing `run_dir/name/` (into `run_dir/name.tmp/`).
    pub fn new(run_dir: &Path, name: &str) -> Result<Self> {
        let tmp_dir = run_dir.join(format!("{name}.tmp"));
        if tmp_dir.exists() {
            fs::remove_dir_all(&tmp_dir).map_err(|e| ModelError::io(&tmp_dir, e))?;
        }
        fs::create_dir_all(&tmp_dir).map_err(|e| ModelError::io(&tmp_dir, e))?;
        Ok(CheckpointWriter {
            final_dir: run_dir.join(name),
            tmp_dir,
        })
    }

    /// Writes raw bytes as `file` in the checkpoint.
    pub fn bytes(&self, file: &str, bytes: &[u8]) -> Result<()> {
        let path = self.tmp_dir.join(file);
        let mut f = fs::File::create(&path).map_err(|e| ModelError::io(&path, e))?;
        f.write_all(bytes).map_err(|e| ModelError::io(&path, e))?;
        f.sync_all().map_err(|e| ModelError::io(&path, e))
    }

    /// Writes a module's record as `file`.
    pub fn module<B: Backend, M: Module<B>>(&self, file: &str, module: &M) -> Result<()> {
        let bytes = record_to_bytes::<B, M::Record>(module.clone().into_record())?;
        self.bytes(file, &bytes)
    }

    /// Writes the state, then moves the checkpoint into place.
    pub fn finish(self, state: &CheckpointState) -> Result<PathBuf> {
        let json =
            serde_json::to_vec_pretty(state).map_err(|e| ModelError::Checkpoint(e.to_string()))?;
        self.bytes(STATE_FILE, &json)?;
        let old = self.final_dir.with_extension("old");
        // `NAME.old/` is stale only while `NAME/` exists; without `NAME/` (a process killed
        // between the two renames) it is the only complete checkpoint, kept until the new
        // one is in place.
        if self.final_dir.exists() {
            if old.exists() {
                fs::remove_dir_all(&old).map_err(|e| ModelError::io(&old, e))?;
            }
            fs::rename(&self.final_dir, &old).map_err(|e| ModelError::io(&self.final_dir, e))?;
        }
        fs::rename(&self.tmp_dir, &self.final_dir).map_err(|e| ModelError::io(&self.tmp_dir, e))?;
        if old.exists() {
            fs::remove_dir_all(&old).map_err(|e| ModelError::io(&old, e))?;
        }
        Ok(self.final_dir)
    }
}

/// Writes `bytes` to `path` atomically ([`maan_eval::atomic::write_atomic`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    maan_eval::atomic::write_atomic(path, bytes).map_err(|e| ModelError::io(path, e))
}
