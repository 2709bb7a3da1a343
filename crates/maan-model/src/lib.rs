//! maan-model (work in progress)
