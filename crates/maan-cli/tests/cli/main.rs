//! The `maan` command line end to end: the built binary on tiny synthetic data, fixtures in the
//! real formats and bad input. One integration-test binary (`cargo test -p maan-cli --test
//! cli`), one module per area; the helpers they share are in `common`.

mod common;

mod backends;
mod dataset;
mod eval;
mod experiments;
mod extract;
mod localize;
mod options;
mod predict;
mod report;
mod resume;
mod train;
