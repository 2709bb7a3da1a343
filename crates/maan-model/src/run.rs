//! The run directory and its one owner: layout, names, the lock, reading and writing.
//!
//! ```text
//! RUN_DIR/
//!   config.json          the TrainConfig, with concrete values (the localization used)
//!   metrics.jsonl        one JSON record per logged iteration and per evaluation
//!   last/, best/         checkpoints (crate::checkpoint: written atomically)
//!   run.lock             the writer's lock, holding its pid
//!   detections.json      artifacts of `maan demo` (and of `maan test` when asked for here):
//!   cas/<video>.npy      each video's CAS ([T, C] f32) and attention
//!   plots/               figures
//!   <report>.json, .md   an experiment's reports (an experiment's run directory)
//! ```
//!
//! Only one process writes a run: [`RunDir::create`], [`RunDir::resume`] and [`RunDir::open`]
//! take an exclusive lock on `run.lock` for as long as the [`RunDir`] lives (the OS releases
//! it when the process ends, even by a crash, so a lock is never stale) and write the holder's
//! pid into it, which a second process names in its [`ModelError::RunInUse`]. Every write into
//! a run goes through a [`RunDir`]: its configuration, metrics, checkpoints
//! ([`crate::Trainer`] holds one) and artifacts ([`RunDir::artifact`], [`RunDir::write_file`]).
//! Reading a run ([`load_config`], [`checkpoint`], [`last_iteration`], [`load_models`],
//! [`read_metrics`]) takes no lock. [`default_run_path`] names new runs.

use std::fs;
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::tensor::backend::Backend;

use crate::checkpoint::{checkpoint_dir, load_module, read_state, write_atomic, CheckpointState};
use crate::error::{ModelError, Result as ModelResult};
use crate::infer::StreamKind;
use crate::model::{StreamModel, StreamModelConfig};
use crate::train::config::{stream_dim, TrainConfig};

/// Name of the latest checkpoint directory inside a run directory.
pub const LAST: &str = "last";
/// Name of the best checkpoint directory inside a run directory.
pub const BEST: &str = "best";
/// Name of the configuration file inside a run directory.
pub const CONFIG_FILE: &str = "config.json";
/// Name of the metrics file inside a run directory.
pub const METRICS_FILE: &str = "metrics.jsonl";
/// Name of the folder of each video's CAS inside a run directory.
pub const CAS_DIR: &str = "cas";
/// Name of the folder of figures inside a run directory.
pub const PLOTS_DIR: &str = "plots";
/// Name of the detections file `maan demo` writes inside a run directory.
pub const DETECTIONS_FILE: &str = "detections.json";

/// Which checkpoint of a run to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Which {
    /// The best evaluation so far (model selection); the latest when the run never evaluated.
    #[default]
    Best,
    /// The latest.
    Last,
}

impl Which {
    /// The checkpoint's folder name: `best` or `last`.
    pub fn name(self) -> &'static str {
        match self {
            Which::Best => BEST,
            Which::Last => LAST,
        }
    }
}

impl std::fmt::Display for Which {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Which {
    type Err = String;
    /// `best` or `last`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "best" => Ok(Which::Best),
            "last" => Ok(Which::Last),
            other => Err(format!(
                "unknown checkpoint {other:?} (expected best or last)"
            )),
        }
    }
}

/// The CAS file of `video` in the run (or prediction folder) `run_dir`:
/// `cas/<video>.npy` ([`crate::predict::write_cas_npy`] writes them).
pub fn cas_file(run_dir: &Path, video: &str) -> PathBuf {
    run_dir.join(CAS_DIR).join(format!("{video}.npy"))
}

/// The path, without extension, of the figure of `video` and `class` in the run (or
/// prediction folder) `run_dir`: `plots/<video>_<class>`.
pub fn plot_stem(run_dir: &Path, video: &str, class: &str) -> PathBuf {
    run_dir.join(PLOTS_DIR).join(format!("{video}_{class}"))
}

/// The path of a new run named after `prefix` (an aggregator, `demo`): `runs/<prefix>-<unix
/// time in seconds>`.
pub fn default_run_path(prefix: &str) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    PathBuf::from(format!("runs/{prefix}-{secs}"))
}

/// The checkpoint folder of a run for `which`: `best/`, falling back to `last/` when the run
/// never evaluated; `None` when there is none (see [`checkpoint_dir`] for the `.old` copies).
pub fn checkpoint(run_dir: &Path, which: Which) -> Option<PathBuf> {
    checkpoint_dir(run_dir, which.name()).or_else(|| match which {
        Which::Best => checkpoint_dir(run_dir, LAST),
        Which::Last => None,
    })
}

/// The iteration of a run's `last` checkpoint.
///
/// # Errors
/// [`ModelError::NoRun`] without one.
pub fn last_iteration(run_dir: &Path) -> ModelResult<usize> {
    last_state(run_dir).map(|s| s.iteration)
}

/// The state of a run's `last` checkpoint (iteration, streams, best metric).
fn last_state(run_dir: &Path) -> ModelResult<CheckpointState> {
    let dir =
        checkpoint_dir(run_dir, LAST).ok_or_else(|| ModelError::NoRun(run_dir.to_path_buf()))?;
    read_state(&dir)
}

/// The records of a run's `metrics.jsonl`, in order (empty when there is none; a line cut
/// short by a crash is skipped).
pub fn read_metrics(run_dir: &Path) -> ModelResult<Vec<serde_json::Value>> {
    let path = run_dir.join(METRICS_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(ModelError::io(&path, e)),
    }
}

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

    /// Takes the lock of the run directory `path` (created if need be) to add artifacts to
    /// it: an experiment's reports, a trained run's detections, CAS or plots. No check of what
    /// it holds. Errors: another process holds it ([`ModelError::RunInUse`]).
    pub fn open(path: &Path) -> ModelResult<RunDir> {
        fs::create_dir_all(path).map_err(|e| ModelError::io(path, e))?;
        RunDir::lock(path)
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
        last_state(&self.path)
    }

    /// Appends one record to `metrics.jsonl`.
    pub fn append_metrics(&self, value: &serde_json::Value) -> ModelResult<()> {
        let path = self.path.join(METRICS_FILE);
        let mut f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| ModelError::io(&path, e))?;
        writeln!(f, "{value}").map_err(|e| ModelError::io(&path, e))
    }

    /// Rewrites `metrics.jsonl` without the records of iterations after `iteration` (and
    /// without a line cut short), atomically: a process killed after its last checkpoint
    /// logged iterations that the resumed run trains again, and each iteration must appear
    /// once.
    pub fn drop_metrics_after(&self, iteration: usize) -> ModelResult<()> {
        let path = self.path.join(METRICS_FILE);
        let Ok(text) = fs::read_to_string(&path) else {
            return Ok(());
        };
        let mut kept = String::with_capacity(text.len());
        for line in text.lines() {
            let it = serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| v.get("iteration").and_then(serde_json::Value::as_u64));
            if it.is_some_and(|it| it as usize <= iteration) {
                kept.push_str(line);
                kept.push('\n');
            }
        }
        if kept.len() != text.len() {
            write_atomic(&path, kept.as_bytes())?;
        }
        Ok(())
    }

    /// The path of the artifact `name` in the run (a file or folder: [`DETECTIONS_FILE`],
    /// [`CAS_DIR`], [`PLOTS_DIR`], a report), to be written while this lock is held.
    pub fn artifact(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes the file `name` into the run atomically; returns its path.
    pub fn write_file(&self, name: &str, bytes: &[u8]) -> ModelResult<PathBuf> {
        let path = self.artifact(name);
        write_atomic(&path, bytes)?;
        Ok(path)
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

/// Loads the models of a run directory's checkpoint `which` ([`checkpoint`]: `best` falls back
/// to `last`) for inference. The feature dimensions come from
/// the run's [`RunData`](crate::RunData); `data_dims` (rgb, flow) is needed only for runs written before runs
/// recorded it.
pub fn load_models<B: Backend>(
    run_dir: &Path,
    which: Which,
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
    let dir = checkpoint(run_dir, which)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::CheckpointWriter;

    fn state(iteration: usize) -> CheckpointState {
        CheckpointState {
            iteration,
            best_metric: None,
            best_iteration: None,
            best_classification_map: None,
            streams: vec!["rgb".into()],
        }
    }

    /// `best` falls back to `last` while the run has no `best/`; `last` never falls back; the
    /// last iteration is read from `last/`; names parse and print as the folders.
    #[test]
    fn checkpoint_choice_and_last_iteration() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path();
        assert_eq!(checkpoint(run, Which::Best), None);
        assert!(matches!(last_iteration(run), Err(ModelError::NoRun(_))));
        CheckpointWriter::new(run, LAST)
            .unwrap()
            .finish(&state(7))
            .unwrap();
        assert_eq!(checkpoint(run, Which::Best), Some(run.join(LAST)));
        assert_eq!(last_iteration(run).unwrap(), 7);
        CheckpointWriter::new(run, BEST)
            .unwrap()
            .finish(&state(5))
            .unwrap();
        assert_eq!(checkpoint(run, Which::Best), Some(run.join(BEST)));
        assert_eq!(checkpoint(run, Which::Last), Some(run.join(LAST)));
        for w in [Which::Best, Which::Last] {
            assert_eq!(w.to_string().parse::<Which>(), Ok(w));
        }
        assert!("first".parse::<Which>().is_err());
        let p = default_run_path("demo");
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(p.starts_with("runs") && name.starts_with("demo-"), "{p:?}");
        assert!(name["demo-".len()..].parse::<u64>().is_ok(), "{p:?}");
    }

    /// A run held for artifacts is held: a second writer of any kind fails naming the pid;
    /// files are written whole; metrics are appended, read back and cut after an iteration.
    #[test]
    fn artifacts_and_metrics_are_written_under_the_lock() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("run");
        let run = RunDir::open(&path).unwrap();
        for second in [RunDir::open(&path), RunDir::create(&path)] {
            match second {
                Err(ModelError::RunInUse { holder, .. }) => {
                    assert_eq!(holder, std::process::id().to_string())
                }
                other => panic!("{other:?}"),
            }
        }
        let file = run.write_file("report.json", b"{}").unwrap();
        assert_eq!(fs::read(&file).unwrap(), b"{}");
        assert_eq!(run.artifact(CAS_DIR), path.join("cas"));
        assert_eq!(
            read_metrics(&path).unwrap(),
            Vec::<serde_json::Value>::new()
        );
        for it in 1..=3 {
            run.append_metrics(&serde_json::json!({ "iteration": it }))
                .unwrap();
        }
        run.drop_metrics_after(2).unwrap();
        let its: Vec<u64> = read_metrics(&path)
            .unwrap()
            .iter()
            .map(|v| v["iteration"].as_u64().unwrap())
            .collect();
        assert_eq!(its, [1, 2]);
        drop(run);
        RunDir::open(&path).unwrap();
    }
}
