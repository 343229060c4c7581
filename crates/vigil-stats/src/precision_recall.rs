//! Precision–recall curve and average precision.
//!
//! Average precision follows scikit-learn's `average_precision_score`:
//! AP = Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the distinct thresholds, a step-wise sum with
//! no interpolation.

use crate::roc::SortedByClass;

/// One point of the precision–recall curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrecisionRecallPoint {
    pub threshold: f64,
    pub precision: f64,
    pub recall: f64,
}

/// The curve with thresholds descending, one point per distinct score
/// (scikit-learn's `precision_recall_curve` read from the highest threshold
/// down, without its final point of recall 0 and precision 1).
#[derive(Debug, Clone)]
pub struct PrecisionRecallCurve {
    pub points: Vec<PrecisionRecallPoint>,
}

impl PrecisionRecallCurve {
    pub fn new(sorted: &SortedByClass) -> Self {
        let positives = sorted.positives().len() as f64;
        let mut true_positives = 0_u64;
        let mut called_positive = 0_u64;
        let mut points = Vec::new();
        for group in sorted.tie_groups() {
            true_positives += group.positives;
            called_positive += group.positives + group.negatives;
            points.push(PrecisionRecallPoint {
                threshold: group.score,
                precision: true_positives as f64 / called_positive as f64,
                recall: true_positives as f64 / positives,
            });
        }
        PrecisionRecallCurve { points }
    }

    /// Average precision, Σ (Rₙ − Rₙ₋₁)·Pₙ.
    pub fn average_precision(&self) -> f64 {
        let mut previous_recall = 0.0;
        let mut sum = 0.0;
        for point in &self.points {
            sum += (point.recall - previous_recall) * point.precision;
            previous_recall = point.recall;
        }
        sum
    }
}
