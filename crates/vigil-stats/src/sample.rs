//! A validated sample of scores with binary reference labels.

use crate::StatsError;

/// Scores and binary labels of the same cases, checked once: equal lengths,
/// every score finite, and both classes present. `true` marks a positive case
/// (condition present); a higher score means "more likely positive".
#[derive(Debug, Clone, Copy)]
pub struct BinarySample<'a> {
    scores: &'a [f64],
    labels: &'a [bool],
    positives: usize,
}

impl<'a> BinarySample<'a> {
    /// Checks the invariants and counts the classes.
    pub fn new(scores: &'a [f64], labels: &'a [bool]) -> Result<Self, StatsError> {
        if scores.len() != labels.len() {
            return Err(StatsError::LengthMismatch {
                what: "scores and labels",
                left: scores.len(),
                right: labels.len(),
            });
        }
        if scores.is_empty() {
            return Err(StatsError::Empty);
        }
        if let Some(index) = scores.iter().position(|score| !score.is_finite()) {
            return Err(StatsError::NonFinite {
                what: "score",
                index,
            });
        }
        let positives = labels.iter().filter(|&&label| label).count();
        let negatives = labels.len() - positives;
        if positives == 0 || negatives == 0 {
            return Err(StatsError::OneClass {
                positives,
                negatives,
            });
        }
        Ok(BinarySample {
            scores,
            labels,
            positives,
        })
    }

    pub fn scores(&self) -> &'a [f64] {
        self.scores
    }

    pub fn labels(&self) -> &'a [bool] {
        self.labels
    }

    pub fn len(&self) -> usize {
        self.scores.len()
    }

    /// Always false: a sample holds both classes.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn positives(&self) -> usize {
        self.positives
    }

    pub fn negatives(&self) -> usize {
        self.scores.len() - self.positives
    }

    /// Checks that every score is a probability in [0, 1], as calibration and
    /// confidence-based estimation need.
    pub fn require_probabilities(&self) -> Result<(), StatsError> {
        require_probabilities(self.scores)
    }
}

/// Checks that every value lies in [0, 1].
pub(crate) fn require_probabilities(values: &[f64]) -> Result<(), StatsError> {
    match values.iter().position(|value| !(0.0..=1.0).contains(value)) {
        Some(index) => Err(StatsError::OutsideUnitInterval {
            what: "score",
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Checks that every value is finite.
pub(crate) fn require_finite(values: &[f64], what: &'static str) -> Result<(), StatsError> {
    match values.iter().position(|value| !value.is_finite()) {
        Some(index) => Err(StatsError::NonFinite { what, index }),
        None => Ok(()),
    }
}
