//! maan-eval (work in progress): see the module docs.

pub mod annotations;
pub mod error;

pub use annotations::{ClassList, GroundTruth, GtSegment, GtVideo};
pub use error::{EvalError, Result};
