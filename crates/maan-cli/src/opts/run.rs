//! The run option group: which checkpoint of a run directory to use.

/// Which checkpoint of the run to test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WhichArg {
    /// The best evaluation so far (falls back to last if the run never evaluated).
    Best,
    /// The latest.
    Last,
}

impl From<WhichArg> for maan_model::Which {
    fn from(w: WhichArg) -> Self {
        match w {
            WhichArg::Best => maan_model::Which::Best,
            WhichArg::Last => maan_model::Which::Last,
        }
    }
}
