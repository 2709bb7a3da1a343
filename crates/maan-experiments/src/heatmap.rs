//! What a labelled heat map shows (the values and their labels); the command line draws it.

/// A heat map: a grid of values with a label per row and column, the value printed in every
/// cell.
#[derive(Debug, Clone)]
pub struct HeatMap {
    /// Title, above the grid.
    pub title: String,
    /// Name of the horizontal axis.
    pub x_label: String,
    /// Name of the vertical axis.
    pub y_label: String,
    /// Column labels, left to right.
    pub x_ticks: Vec<String>,
    /// Row labels, bottom to top.
    pub y_ticks: Vec<String>,
    /// `values[row][col]`, row 0 at the bottom; NaN cells are drawn grey.
    pub values: Vec<Vec<f64>>,
    /// How each value is printed in its cell.
    pub format: fn(f64) -> String,
}
