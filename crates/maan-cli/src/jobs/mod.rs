//! The commands other commands are made of: training (`maan train`, and step 1 of
//! `maan demo`), testing (`maan test`, step 2 of `maan demo`), the report of a run (`maan
//! report`, written by `maan test` too) and feature extraction (`maan extract`, and `maan
//! predict --video`). Each module owns its flags (`XArgs`, which
//! the composite commands fill in with typed values, never re-parsed strings) and its entry
//! point `run(args)`; the files of `cmd/` call them, so that no command file imports another.

pub mod extract;
pub mod report;
pub mod test;
pub mod train;
