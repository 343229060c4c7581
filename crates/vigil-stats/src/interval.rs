//! Confidence levels, intervals, and binomial proportions with Wilson and
//! Clopper–Pearson intervals.

use crate::StatsError;
use crate::distributions::{beta_quantile, normal_quantile};

/// A two-sided confidence level strictly between 0 and 1, such as 0.95.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct ConfidenceLevel(f64);

impl ConfidenceLevel {
    /// The conventional 95% level.
    pub const NINETY_FIVE: ConfidenceLevel = ConfidenceLevel(0.95);

    /// Accepts a level in the open interval (0, 1).
    pub fn new(level: f64) -> Result<Self, StatsError> {
        if level.is_finite() && level > 0.0 && level < 1.0 {
            Ok(ConfidenceLevel(level))
        } else {
            Err(StatsError::InvalidParameter {
                name: "confidence level",
                value: level,
                reason: "must lie strictly between 0 and 1",
            })
        }
    }

    /// The level as a fraction, e.g. 0.95.
    pub fn get(self) -> f64 {
        self.0
    }

    /// The total two-sided tail probability, 1 − level.
    pub fn alpha(self) -> f64 {
        1.0 - self.0
    }

    /// The standard normal quantile z such that P(|Z| ≤ z) = level.
    pub fn z(self) -> f64 {
        normal_quantile(1.0 - self.alpha() / 2.0)
    }
}

impl Default for ConfidenceLevel {
    fn default() -> Self {
        ConfidenceLevel::NINETY_FIVE
    }
}

/// A point estimate with a two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// True when `low ≤ estimate ≤ high`.
    pub fn contains_estimate(&self) -> bool {
        self.low <= self.estimate && self.estimate <= self.high
    }
}

/// A count of successes out of a number of trials, with `successes ≤ trials`
/// and at least one trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proportion {
    successes: u64,
    trials: u64,
}

impl Proportion {
    /// Accepts `successes` out of `trials`; zero trials make the proportion
    /// undefined.
    pub fn new(successes: u64, trials: u64) -> Result<Self, StatsError> {
        if trials == 0 {
            return Err(StatsError::Undefined {
                what: "proportion",
                reason: "there are no trials (the denominator is zero)",
            });
        }
        if successes > trials {
            return Err(StatsError::InvalidParameter {
                name: "successes",
                value: successes as f64,
                reason: "exceeds the number of trials",
            });
        }
        Ok(Proportion { successes, trials })
    }

    pub fn successes(self) -> u64 {
        self.successes
    }

    pub fn trials(self) -> u64 {
        self.trials
    }

    /// The observed proportion successes / trials.
    pub fn estimate(self) -> f64 {
        self.successes as f64 / self.trials as f64
    }

    /// Wilson score interval without continuity correction (Wilson 1927;
    /// Newcombe 1998, method 3).
    pub fn wilson(self, level: ConfidenceLevel) -> Interval {
        let n = self.trials as f64;
        let p = self.estimate();
        let z = level.z();
        let z2 = z * z;
        let denominator = 1.0 + z2 / n;
        let centre = (p + z2 / (2.0 * n)) / denominator;
        let half_width = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
        Interval {
            estimate: p,
            low: if self.successes == 0 {
                0.0
            } else {
                (centre - half_width).max(0.0)
            },
            high: if self.successes == self.trials {
                1.0
            } else {
                (centre + half_width).min(1.0)
            },
        }
    }

    /// Clopper–Pearson "exact" interval from beta quantiles (Clopper and
    /// Pearson 1934): low = B(α/2; x, n − x + 1), high = B(1 − α/2; x + 1, n − x),
    /// with low = 0 when x = 0 and high = 1 when x = n.
    ///
    /// A proportion and a confidence level always give valid beta
    /// parameters (both shapes at least 1, the tail inside (0, 1)); the
    /// error is the beta quantile's, passed on rather than hidden.
    pub fn clopper_pearson(self, level: ConfidenceLevel) -> Result<Interval, StatsError> {
        let x = self.successes as f64;
        let n = self.trials as f64;
        let tail = level.alpha() / 2.0;
        let low = if self.successes == 0 {
            0.0
        } else {
            beta_quantile(tail, x, n - x + 1.0)?
        };
        let high = if self.successes == self.trials {
            1.0
        } else {
            beta_quantile(1.0 - tail, x + 1.0, n - x)?
        };
        Ok(Interval {
            estimate: self.estimate(),
            low,
            high,
        })
    }
}
