//! Unit tests of the model, the training loop and the checkpoints.

use std::sync::{Mutex, MutexGuard};

mod model_tests;
mod train_tests;

/// The ndarray backend's RNG is one process-wide generator: tests that must be reproducible
/// (resume) cannot share it with tests running in parallel, so every test that draws from it
/// holds this lock.
static BACKEND_RNG: Mutex<()> = Mutex::new(());

pub(crate) fn rng_lock() -> MutexGuard<'static, ()> {
    BACKEND_RNG.lock().unwrap_or_else(|e| e.into_inner())
}
