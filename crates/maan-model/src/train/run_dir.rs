//! The run directory: its one owner ([`RunDir`]: create, open to continue, lock), its
//! configuration and the models of its checkpoints.
//!
//! A run directory holds `config.json` (the [`TrainConfig`], with concrete values: the
//! localization actually used), `metrics.jsonl` (one JSON record per evaluation),
//! `last/` and `best/` checkpoints (written atomically) and `run.lock`. Only one process
//! writes a run: [`RunDir::create`] and [`RunDir::resume`] take an exclusive lock on
//! `run.lock` for as long as the [`RunDir`] lives (the OS releases it when the process ends,
//! even by a crash, so a lock is never stale) and write the holder's pid into it, which a
//! second process names in its [`ModelError::RunInUse`]. Reading a run ([`load_config`],
//! [`load_models`]) takes no lock.

use std::fs;
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::tensor::backend::Backend;

use super::config::{stream_dim, TrainConfig};
use crate::checkpoint::{
    checkpoint_dir, load_module, read_state, write_atomic, CheckpointState, BEST, CONFIG_FILE, LAST,
};
use crate::error::{ModelError, Result as ModelResult};
use crate::infer::StreamKind;
use crate::model::{StreamModel, StreamModelConfig};

/// The name of the lock file in a run directory.
pub const LOCK_FILE: &str = "run.lock";

/// A run directory held by this process: the only way to write one. Cloning shares the lock;
/// it is released when the last clone is dropped (or the process ends).
#[derive(Debug, Clone)]
pub struct RunDir {
    path: PathBuf,
    _lock: Arc<fs::File>,
}

impl RunDir {
    /// Creates (if needed) the directory of a new run and takes its lock. Errors: another
    /// process holds it ([`ModelError::RunInUse`]), or it already holds a run
    /// ([`ModelError::RunExists`]: continue it with [`RunDir::resume`]).
    pub fn create(path: &Path) -> ModelResult<RunDir> {
        fs::create_dir_all(path).map_err(|e| ModelError::io(path, e))?;
        let run = RunDir::lock(path)?;
        if checkpoint_dir(path, LAST).is_some() {
            return Err(ModelError::RunExists(path.to_path_buf()));
        }
        Ok(run)
    }

    /// Opens an existing run to continue it and takes its lock. Errors: no `last` checkpoint
    /// ([`ModelError::NoRun`]), or another process holds it ([`ModelError::RunInUse`]).
    pub fn resume(path: &Path) -> ModelResult<RunDir> {
        if checkpoint_dir(path, LAST).is_none() {
            return Err(ModelError::NoRun(path.to_path_buf()));
        }
        RunDir::lock(path)
    }

    /// Takes the exclusive lock on `path/run.lock` and writes this process's pid into it.
    fn lock(path: &Path) -> ModelResult<RunDir> {
        let lock_path = path.join(LOCK_FILE);
        let io = |e| ModelError::io(&lock_path, e);
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(ModelError::RunInUse {
                    run: path.to_path_buf(),
                    holder: if holder.is_empty() {
                        "unknown".into()
                    } else {
                        holder.into()
                    },
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(RunDir {
            path: path.to_path_buf(),
            _lock: Arc::new(file),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The run's configuration (`config.json`).
    pub fn config(&self) -> ModelResult<TrainConfig> {
        load_config(&self.path)
    }

    /// Writes the run's configuration (`config.json`, atomically).
    pub fn write_config(&self, config: &TrainConfig) -> ModelResult<()> {
        let json =
            serde_json::to_vec_pretty(config).map_err(|e| ModelError::Config(e.to_string()))?;
        write_atomic(&self.path.join(CONFIG_FILE), &json)
    }

    /// The state of the `last` checkpoint (iteration, streams, best metric).
    pub fn last_state(&self) -> ModelResult<CheckpointState> {
        let dir =
            checkpoint_dir(&self.path, LAST).ok_or_else(|| ModelError::NoRun(self.path.clone()))?;
        read_state(&dir)
    }
}

/// Trained models with their stream, as [`load_models`] returns them.
pub type StreamModels<B> = Vec<(StreamKind, StreamModel<B>)>;

/// Reads `config.json` of a run directory.
pub fn load_config(run_dir: &Path) -> ModelResult<TrainConfig> {
    TrainConfig::from_file(&run_dir.join(CONFIG_FILE))
}

impl TrainConfig {
    /// Reads a training configuration file (a run's `config.json`); the error names the file
    /// and says what is wrong in it.
    pub fn from_file(path: &Path) -> ModelResult<TrainConfig> {
        let text = fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| {
            ModelError::Config(format!(
                "{}: not a maan training configuration (a run's config.json): {e}",
                path.display()
            ))
        })
    }
}

/// Loads the models of a run directory's checkpoint `name` (`best`, falling back to `last`
/// when `name` is `best` and there is none) for inference. The feature dimensions come from
/// the run's [`RunData`](super::RunData); `data_dims` (rgb, flow) is needed only for runs written before runs
/// recorded it.
pub fn load_models<B: Backend>(
    run_dir: &Path,
    name: &str,
    data_dims: Option<(usize, usize)>,
    device: &B::Device,
) -> ModelResult<(TrainConfig, StreamModels<B>)> {
    let config = load_config(run_dir)?;
    let data_dims = match (&config.data, data_dims) {
        (Some(d), _) => (d.rgb_dim, d.flow_dim),
        (None, Some(dims)) => dims,
        (None, None) => {
            return Err(ModelError::Config(format!(
                "{} does not record its feature dimensions (a run from an older maan): \
                 give its dataset",
                run_dir.display()
            )))
        }
    };
    let dir = checkpoint_dir(run_dir, name)
        .or_else(|| {
            if name == BEST {
                checkpoint_dir(run_dir, LAST)
            } else {
                None
            }
        })
        .ok_or_else(|| ModelError::Checkpoint(format!("no checkpoint in {}", run_dir.display())))?;
    let state = read_state(&dir)?;
    let mut models = Vec::new();
    for kind in config.streams.kinds() {
        if !state.streams.iter().any(|n| n == kind.name()) {
            continue;
        }
        let dim = stream_dim(kind, data_dims.0, data_dims.1);
        let model = config.model.clone().with_feature_dim(dim).init::<B>(device);
        let path = dir.join(format!("{}.mpk", kind.name()));
        let model = load_module(model, &path, device)?;
        check_loaded_shapes(&model, &config.model.clone().with_feature_dim(dim), &path)?;
        models.push((kind, model));
    }
    if models.is_empty() {
        return Err(ModelError::Checkpoint(format!(
            "{} holds no model",
            dir.display()
        )));
    }
    Ok((config, models))
}

/// Checks that a model read from `path` has the layer shapes `config` gives (Burn loads a
/// record of any shape): a checkpoint whose classifier has another number of outputs (a
/// `config.json` edited to another number of classes or another background option) is an
/// error, not a CAS of the wrong width.
pub(crate) fn check_loaded_shapes<B: Backend>(
    model: &StreamModel<B>,
    config: &StreamModelConfig,
    path: &Path,
) -> ModelResult<()> {
    let outputs = config.num_classes + config.background.extra_outputs();
    let expected = [
        (
            "attention FC1",
            [config.feature_dim, config.attention_hidden],
        ),
        ("attention FC2", [config.attention_hidden, 1]),
        ("classifier", [config.feature_dim, outputs]),
    ];
    let layers = [
        &model.attention_fc1,
        &model.attention_fc2,
        &model.classifier,
    ];
    for ((name, want), layer) in expected.into_iter().zip(layers) {
        let got = layer.weight.dims();
        if got != want {
            return Err(ModelError::Checkpoint(format!(
                "{}: the {name} weights are {}×{} where the run's configuration ({} classes, \
                 background {}) needs {}×{}",
                path.display(),
                got[0],
                got[1],
                config.num_classes,
                config.background,
                want[0],
                want[1]
            )));
        }
    }
    Ok(())
}
