//! The one error type of the statistics crate.

/// Why a statistic could not be computed.
///
/// Every variant is a property of the input, never of the machine, so callers
/// can show the message to the person who supplied the data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// The sample has no observations at all.
    #[error("the sample is empty")]
    Empty,
    /// A binary-outcome statistic needs both classes.
    #[error(
        "both classes are needed, but the sample has {positives} positive and {negatives} negative cases"
    )]
    OneClass { positives: usize, negatives: usize },
    /// A value is NaN or infinite.
    #[error("{what} at position {index} is not a finite number")]
    NonFinite { what: &'static str, index: usize },
    /// Two inputs that must be the same length are not.
    #[error("{what}: lengths differ ({left} and {right})")]
    LengthMismatch {
        what: &'static str,
        left: usize,
        right: usize,
    },
    /// A parameter lies outside its allowed range.
    #[error("{name} = {value} is invalid: {reason}")]
    InvalidParameter {
        name: &'static str,
        value: f64,
        reason: &'static str,
    },
    /// A probability or proportion lies outside [0, 1].
    #[error("{what} at position {index} is {value}, outside [0, 1]")]
    OutsideUnitInterval {
        what: &'static str,
        index: usize,
        value: f64,
    },
    /// A probability of exactly 0 or 1 where a logit is needed.
    #[error("score at position {index} is exactly {value}; logistic recalibration needs 0 < p < 1")]
    ProbabilityOnBoundary { index: usize, value: f64 },
    /// An iterative fit did not converge, typically because the data are
    /// perfectly separated.
    #[error("{what} did not converge: {reason}")]
    NoConvergence {
        what: &'static str,
        reason: &'static str,
    },
    /// The statistic is undefined for this input (for example a rate whose
    /// denominator is zero).
    #[error("{what} is undefined: {reason}")]
    Undefined {
        what: &'static str,
        reason: &'static str,
    },
}
