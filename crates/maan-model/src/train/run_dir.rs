//! Reading a run directory: its configuration and the models of its checkpoints.

use std::fs;
use std::path::Path;

use burn::tensor::backend::Backend;

use super::config::{stream_dim, TrainConfig};
use crate::checkpoint::{checkpoint_dir, load_module, read_state, BEST, CONFIG_FILE, LAST};
use crate::error::{ModelError, Result as ModelResult};
use crate::infer::StreamKind;
use crate::model::{StreamModel, StreamModelConfig};

/// Trained models with their stream, as [`load_models`] returns them.
pub type StreamModels<B> = Vec<(StreamKind, StreamModel<B>)>;

/// Reads `config.json` of a run directory.
pub fn load_config(run_dir: &Path) -> ModelResult<TrainConfig> {
    let path = run_dir.join(CONFIG_FILE);
    let text = fs::read_to_string(&path).map_err(|e| ModelError::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| ModelError::Config(format!("{}: {e}", path.display())))
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
