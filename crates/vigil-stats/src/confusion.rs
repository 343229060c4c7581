//! Confusion matrix at a threshold and the rates derived from it.

use crate::interval::Proportion;
use crate::roc::SortedByClass;
use crate::{BinarySample, ConfidenceLevel, Interval, StatsError};

/// Counts of a binary decision against the reference labels, where a case is
/// called positive when `score >= threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConfusionMatrix {
    pub true_positives: u64,
    pub false_positives: u64,
    pub true_negatives: u64,
    pub false_negatives: u64,
}

/// Which interval a [`RateEstimate`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IntervalMethod {
    /// Wilson score interval (the default).
    #[default]
    Wilson,
    /// Clopper–Pearson exact interval.
    ClopperPearson,
}

/// A rate such as sensitivity: numerator over denominator with an interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateEstimate {
    pub numerator: u64,
    pub denominator: u64,
    pub interval: Interval,
}

impl ConfusionMatrix {
    /// Counts the decisions of a sample at `threshold`.
    pub fn at_threshold(sample: &BinarySample<'_>, threshold: f64) -> Self {
        let mut matrix = ConfusionMatrix::default();
        for (&score, &label) in sample.scores().iter().zip(sample.labels()) {
            match (score >= threshold, label) {
                (true, true) => matrix.true_positives += 1,
                (true, false) => matrix.false_positives += 1,
                (false, false) => matrix.true_negatives += 1,
                (false, true) => matrix.false_negatives += 1,
            }
        }
        matrix
    }

    /// Counts the decisions from class-sorted scores by binary search.
    pub fn from_sorted(sorted: &SortedByClass, threshold: f64) -> Self {
        let true_positives = sorted.positives().partition_point(|&s| s >= threshold) as u64;
        let false_positives = sorted.negatives().partition_point(|&s| s >= threshold) as u64;
        ConfusionMatrix {
            true_positives,
            false_positives,
            true_negatives: sorted.negatives().len() as u64 - false_positives,
            false_negatives: sorted.positives().len() as u64 - true_positives,
        }
    }

    pub fn total(&self) -> u64 {
        self.true_positives + self.false_positives + self.true_negatives + self.false_negatives
    }

    fn rate(
        numerator: u64,
        denominator: u64,
        level: ConfidenceLevel,
        method: IntervalMethod,
        what: &'static str,
    ) -> Result<RateEstimate, StatsError> {
        let proportion =
            Proportion::new(numerator, denominator).map_err(|_| StatsError::Undefined {
                what,
                reason: "its denominator is zero",
            })?;
        let interval = match method {
            IntervalMethod::Wilson => proportion.wilson(level),
            IntervalMethod::ClopperPearson => proportion.clopper_pearson(level)?,
        };
        Ok(RateEstimate {
            numerator,
            denominator,
            interval,
        })
    }

    /// TP / (TP + FN).
    pub fn sensitivity(
        &self,
        level: ConfidenceLevel,
        method: IntervalMethod,
    ) -> Result<RateEstimate, StatsError> {
        Self::rate(
            self.true_positives,
            self.true_positives + self.false_negatives,
            level,
            method,
            "sensitivity",
        )
    }

    /// TN / (TN + FP).
    pub fn specificity(
        &self,
        level: ConfidenceLevel,
        method: IntervalMethod,
    ) -> Result<RateEstimate, StatsError> {
        Self::rate(
            self.true_negatives,
            self.true_negatives + self.false_positives,
            level,
            method,
            "specificity",
        )
    }

    /// TP / (TP + FP), the positive predictive value (precision).
    pub fn ppv(
        &self,
        level: ConfidenceLevel,
        method: IntervalMethod,
    ) -> Result<RateEstimate, StatsError> {
        Self::rate(
            self.true_positives,
            self.true_positives + self.false_positives,
            level,
            method,
            "positive predictive value",
        )
    }

    /// TN / (TN + FN), the negative predictive value.
    pub fn npv(
        &self,
        level: ConfidenceLevel,
        method: IntervalMethod,
    ) -> Result<RateEstimate, StatsError> {
        Self::rate(
            self.true_negatives,
            self.true_negatives + self.false_negatives,
            level,
            method,
            "negative predictive value",
        )
    }

    /// (TP + TN) / all.
    pub fn accuracy(
        &self,
        level: ConfidenceLevel,
        method: IntervalMethod,
    ) -> Result<RateEstimate, StatsError> {
        Self::rate(
            self.true_positives + self.true_negatives,
            self.total(),
            level,
            method,
            "accuracy",
        )
    }

    /// F1 = 2·TP / (2·TP + FP + FN), the harmonic mean of sensitivity and PPV.
    pub fn f1(&self) -> Result<f64, StatsError> {
        let denominator = 2 * self.true_positives + self.false_positives + self.false_negatives;
        if denominator == 0 {
            return Err(StatsError::Undefined {
                what: "F1 score",
                reason: "there are no true positives, false positives or false negatives",
            });
        }
        Ok(2.0 * self.true_positives as f64 / denominator as f64)
    }
}
