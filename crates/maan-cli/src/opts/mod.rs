//! Option groups shared by several commands, each defined once: data (`--data-dir`,
//! `--dataset`, how to read a dataset), localization (`--localize` and its options), run
//! (`--which`); the backend group (`--backend`, `--device`) is `crate::backend::BackendOpts`.
//! Each command's `--run RUN_DIR` flag is in its own `XArgs`. Libraries describe values; the
//! remedies naming flags (`hint:`) are here too.

mod data;
mod defaults;
mod localize;
mod run;

pub use data::{builtin_data_dir, ensure_synthetic, hint, load_hint, DataOpts, LoadArgs};
pub use defaults::with_defaults;
pub use localize::{localize_error, LocalizeOpts};
pub use run::WhichArg;
