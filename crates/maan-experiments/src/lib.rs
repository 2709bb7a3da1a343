//! The experiments of maan-rs: the paper's tables and this project's studies, as plans,
//! runners and reports, for any Burn backend.
//!
//! - [`table1`]: the paper's Table 1, MAAN against four feature aggregators (STPN, Dropout,
//!   Norm, SoftMaxNorm) on one dataset;
//! - [`regimes`]: Table 1's models on every regime of the synthetic benchmark and a grid of MAAN
//!   minus STPN over its two knobs; on ActivityNet-shaped data, the family of datasets of
//!   [`family`] with MAAN's recipe;
//! - [`ablation`]: paper-faithful MAAN against the localization and background modelling of
//!   later WTAL code, each alone and together;
//! - [`wsol`]: Appendix F, weakly-supervised object localization with MAA as a 2-D pooling
//!   layer (Table 4, the examples of Figure 6).
//!
//! Each experiment has a plan (what to train: models, seeds, iterations, data) and a runner,
//! `run::<B>()`, generic over `B: AutodiffBackend`, that trains every model on a [`Session`]'s
//! device, evaluates it and returns a report: plain data that serializes to the JSON the
//! `maan experiment` command writes, and renders as Markdown. The temporal experiments share
//! one row type, [`Row`] (one model's results over seeds), and the statistics over seeds of
//! [`report`].
//!
//! This crate chooses no backend and prints nothing: a runner tells an [`Observer`] how many
//! iterations it will train, which model it trains, each iteration, and a line of scores per
//! trained model (the command line draws a progress bar with them). Generated data goes to
//! the folder the caller gives and is removed once loaded. Errors are [`Error`]; a plan that
//! cannot be run is a [`PlanError`], in words of values, not of command-line flags.

pub mod ablation;
pub mod error;
pub mod family;
pub mod heatmap;
pub mod regimes;
pub mod report;
pub mod table1;
pub mod train;
pub mod wsol;

pub use error::{Error, PlanError, Result};
pub use heatmap::HeatMap;
pub use report::{mean_std, seed_averages, ReportHeader, Row, RowLabel, SeedSummary};
pub use train::{Observer, Schedule, Session, Silent};
