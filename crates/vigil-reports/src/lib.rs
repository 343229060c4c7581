//! Human-readable outputs of an evaluation: a self-contained HTML report
//! (inline CSS and SVG charts, no external assets) and a plain-text summary.

mod charts;
mod html;
mod summary;

pub use html::evaluation_report;
pub use summary::evaluation_summary;
