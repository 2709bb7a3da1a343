//! dataset (work in progress)
