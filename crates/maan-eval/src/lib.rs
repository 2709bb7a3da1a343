//! maan-eval (work in progress): see the module docs.

pub mod annotations;
pub mod detections;
pub mod error;
pub mod eval;

pub use annotations::{ClassList, GroundTruth, GtSegment, GtVideo};
pub use detections::{Detection, DetectionFile};
pub use error::{EvalError, Result};
pub use eval::{classification_map, detection_map, parse_tiou_range, DetectionReport};
