//! maan CLI
fn main() {}
