//! maan-eval (work in progress)
