//! Option groups shared by several commands, each defined once and mapped onto the libraries'
//! types: data (`--data-dir`, `--dataset`, how to read a dataset), localization (`--localize`
//! and its options, onto `maan_eval::localize::LocalizeOverrides`); the backend group
//! (`--backend`, `--device`) is `crate::backend::BackendOpts`. Each command's `--run RUN_DIR`
//! flag is in its own `XArgs`. Libraries describe values; the remedies naming flags (`hint:`)
//! and the defaults `--help` shows (computed from the libraries) are here too.

mod data;
mod defaults;
mod localize;

pub use data::{builtin_data_dir, ensure_synthetic, hint, load_hint, DataOpts, LoadArgs};
pub use defaults::with_defaults;
pub use localize::{localize_error, LocalizeOpts};
