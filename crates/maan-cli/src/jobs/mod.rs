//! The commands other commands are made of: training (`maan train`, and step 1 of
//! `maan demo`), testing (`maan test`, step 2 of `maan demo`), the report of a run (`maan
//! report`, written by `maan test` too) and feature extraction (`maan extract`, and `maan
//! predict --video`). Each module owns its flags (`XArgs`) and its entry point `run(args)`;
//! `train` and `test` also take a request of resolved, typed values (`train::Training`,
//! `test::Testing`), which `maan demo` builds; the files of `cmd/` call them, so that no
//! command file imports another.

pub mod extract;
pub mod report;
pub mod test;
pub mod train;
