//! # maan-plot
//!
//! The figures of maan-rs, drawn with `plotters` as SVG and PNG with a bundled font (DejaVu
//! Sans, `assets/`), so that they look the same on every machine:
//!
//! - [`cas`]: the paper's Figure 5, ground-truth segments above the class activation sequence
//!   of one class in one video, one row per model ([`plot_video`], from CAS files);
//! - [`heatmap`]: a labelled heat map with the value in every cell
//!   ([`maan_experiments::HeatMap`], drawn by [`render_heatmap`]);
//! - [`wsol`]: the paper's Figure 6, class activation maps and boxes on test images.
//!
//! The library draws files and never prints; its errors name the file.

pub mod cas;
pub mod heatmap;
pub mod wsol;

pub use cas::{plot_video, read_cas, render_cas, CasRow, Figure};
pub use heatmap::render_heatmap;

/// An error drawing or writing a figure, or reading its data (the message names the file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PlotError(pub String);

/// Result with [`PlotError`].
pub type Result<T> = std::result::Result<T, PlotError>;

impl<E: std::error::Error + Send + Sync> From<plotters::drawing::DrawingAreaErrorKind<E>>
    for PlotError
{
    fn from(e: plotters::drawing::DrawingAreaErrorKind<E>) -> Self {
        PlotError(format!("{e:?}"))
    }
}

/// Returns early with a [`PlotError`] of the formatted message.
macro_rules! bail {
    ($($t:tt)*) => {
        return Err($crate::PlotError(format!($($t)*)))
    };
}
pub(crate) use bail;

/// Adds what was being done to an error's message.
pub(crate) trait Context<T> {
    /// `"<context>: <error>"`.
    fn with_context<F: FnOnce() -> String>(self, f: F) -> Result<T>;
    /// `"<msg>: <error>"`.
    fn context(self, msg: &str) -> Result<T>;
}

impl<T, E: std::fmt::Display> Context<T> for std::result::Result<T, E> {
    fn with_context<F: FnOnce() -> String>(self, f: F) -> Result<T> {
        self.map_err(|e| PlotError(format!("{}: {e}", f())))
    }

    fn context(self, msg: &str) -> Result<T> {
        self.map_err(|e| PlotError(format!("{msg}: {e}")))
    }
}

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Registers the bundled font as `sans-serif` for plotters (once).
pub(crate) fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font shipped with the crate.
        let _ =
            plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, FONT);
    });
}
