//! Pure statistics for validating and monitoring clinical AI tools.
//!
//! Everything here is a function of in-memory numbers: no I/O, no async, no
//! serialisation. Each module states the published definition it follows and
//! is checked against reference implementations (scikit-learn, SciPy, R's
//! pROC and rms) by the known-answer tests in
//! `tests/reference_classification.rs` and `tests/reference_monitoring.rs`,
//! whose expected values are produced by `tests/reference/generate.py`.
//!
//! Degenerate input (an empty sample, one class only, a non-finite score, a
//! sample below a minimum size, a parameter outside its domain, a variance of
//! zero where an interval needs a positive one) is a typed [`StatsError`] or
//! a flagged result, never a panic and never a silent NaN in a result.

pub mod bootstrap;
pub mod calibration;
pub mod cbpe;
pub mod confusion;
pub mod control;
pub mod counts;
pub mod distributions;
pub mod drift;
mod error;
pub mod interval;
pub mod operating_point;
pub mod precision_recall;
pub mod roc;
pub mod sample;
pub mod subgroup;
pub mod two_sample;

pub use error::StatsError;
pub use interval::{ConfidenceLevel, Interval};
pub use sample::BinarySample;
