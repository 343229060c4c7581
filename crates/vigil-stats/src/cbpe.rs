//! Confidence-based performance estimation (CBPE, as in NannyML): expected
//! confusion counts, sensitivity, specificity, PPV and ROC AUC of a tool
//! estimated from its calibrated probabilities alone, while the reference
//! labels are not yet available.
//!
//! If the scores are calibrated on the monitored population — P(condition
//! present | score = p) = p — then case i is a positive with probability pᵢ,
//! and each expected count is a sum of probabilities. The estimates are only
//! as good as that assumption: a shift in the population or in the disease
//! prevalence that breaks calibration biases them, so CBPE complements, and
//! never replaces, performance measured against outcomes once they arrive.

use rayon::prelude::*;

use crate::StatsError;
use crate::sample::{require_finite, require_probabilities};

/// Samples at least this long are sorted on all cores.
const PARALLEL_FROM: usize = 1 << 16;

/// Performance estimated from calibrated probabilities at one threshold.
///
/// A rate is `None` when its expected denominator is zero (for example PPV
/// when no case is predicted positive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CbpeEstimate {
    /// A case is predicted positive when its probability is ≥ threshold.
    pub threshold: f64,
    /// Number of cases.
    pub cases: usize,
    /// E\[TP\] = Σ_{predicted positive} pᵢ.
    pub expected_true_positives: f64,
    /// E\[FP\] = Σ_{predicted positive} (1 − pᵢ).
    pub expected_false_positives: f64,
    /// E\[TN\] = Σ_{predicted negative} (1 − pᵢ).
    pub expected_true_negatives: f64,
    /// E\[FN\] = Σ_{predicted negative} pᵢ.
    pub expected_false_negatives: f64,
    /// E\[TP\] / (E\[TP\] + E\[FN\]).
    pub sensitivity: Option<f64>,
    /// E\[TN\] / (E\[TN\] + E\[FP\]).
    pub specificity: Option<f64>,
    /// E\[TP\] / (E\[TP\] + E\[FP\]).
    pub ppv: Option<f64>,
    /// The AUC when each case counts as a positive with weight pᵢ and as a
    /// negative with weight 1 − pᵢ, ties one half; `None` when every
    /// probability is 0 or every probability is 1.
    pub auc: Option<f64>,
}

/// numerator / denominator, or `None` when the denominator is zero.
fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (denominator > 0.0).then(|| numerator / denominator)
}

/// Estimates performance at `threshold` from calibrated probabilities
/// `probabilities` (each in \[0, 1\]) without labels.
///
/// The expected confusion counts are E\[TP\] = Σ_{pos} pᵢ, E\[FP\] = Σ_{pos}
/// (1 − pᵢ), E\[FN\] = Σ_{neg} pᵢ and E\[TN\] = Σ_{neg} (1 − pᵢ), where "pos" are
/// the cases with pᵢ ≥ threshold; the rates are ratios of these expectations
/// (NannyML's CBPE), not expectations of ratios.
///
/// The estimated AUC is the ROC AUC of the data set in which every case
/// appears twice at the same score, once as a positive with weight pᵢ and once
/// as a negative with weight 1 − pᵢ (scikit-learn's `roc_auc_score` with
/// sample weights on that duplicated data). Equivalently,
/// AUC = Σᵢⱼ pᵢ(1 − pⱼ)(\[sᵢ > sⱼ\] + ½\[sᵢ = sⱼ\]) / (Σ p · Σ (1 − p)) over all
/// ordered pairs, including i = j, which counts ½·pᵢ(1 − pᵢ). It is computed
/// with one sort and a walk over the tie groups, O(n log n).
pub fn estimate_performance(
    probabilities: &[f64],
    threshold: f64,
) -> Result<CbpeEstimate, StatsError> {
    if probabilities.is_empty() {
        return Err(StatsError::Empty);
    }
    require_finite(probabilities, "probability")?;
    require_probabilities(probabilities)?;
    if !threshold.is_finite() {
        return Err(StatsError::InvalidParameter {
            name: "CBPE threshold",
            value: threshold,
            reason: "must be finite",
        });
    }

    // Sort once (highest first, negative zero as zero); the predicted
    // positives are then a prefix, and the ties form runs.
    let mut sorted: Vec<f64> = probabilities.iter().map(|&value| value + 0.0).collect();
    if sorted.len() >= PARALLEL_FROM {
        sorted.par_sort_unstable_by(|a, b| b.total_cmp(a));
    } else {
        sorted.sort_unstable_by(|a, b| b.total_cmp(a));
    }
    let predicted_positive = sorted.partition_point(|&value| value >= threshold);
    let (positive_part, negative_part) = sorted.split_at(predicted_positive);
    let expected_true_positives: f64 = positive_part.iter().sum();
    let expected_false_positives: f64 = positive_part.iter().map(|&value| 1.0 - value).sum();
    let expected_false_negatives: f64 = negative_part.iter().sum();
    let expected_true_negatives: f64 = negative_part.iter().map(|&value| 1.0 - value).sum();

    Ok(CbpeEstimate {
        threshold,
        cases: probabilities.len(),
        expected_true_positives,
        expected_false_positives,
        expected_true_negatives,
        expected_false_negatives,
        sensitivity: ratio(
            expected_true_positives,
            expected_true_positives + expected_false_negatives,
        ),
        specificity: ratio(
            expected_true_negatives,
            expected_true_negatives + expected_false_positives,
        ),
        ppv: ratio(
            expected_true_positives,
            expected_true_positives + expected_false_positives,
        ),
        auc: weighted_auc_of_sorted(&sorted),
    })
}

/// The duplicated-data AUC of probabilities sorted from highest to lowest.
///
/// Walking the tie groups from the lowest score up, each group's positive
/// weight P_g meets the negative weight strictly below it in full and its own
/// negative weight N_g by one half. The weight below is accumulated rather
/// than subtracted from a total, so no precision is lost to cancellation.
fn weighted_auc_of_sorted(descending: &[f64]) -> Option<f64> {
    let mut negative_below = 0.0;
    let mut positive_total = 0.0;
    let mut concordant = 0.0;
    let mut end = descending.len();
    while end > 0 {
        let score = descending[end - 1];
        let start = descending[..end].partition_point(|&value| value > score);
        let group = &descending[start..end];
        let positive_weight: f64 = group.iter().sum();
        let negative_weight: f64 = group.iter().map(|&value| 1.0 - value).sum();
        concordant += positive_weight * (negative_below + 0.5 * negative_weight);
        negative_below += negative_weight;
        positive_total += positive_weight;
        end = start;
    }
    let pairs = positive_total * negative_below;
    if pairs > 0.0 {
        Some((concordant / pairs).clamp(0.0, 1.0))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The O(n²) definition over all ordered pairs, including i = j.
    fn brute_force_auc(probabilities: &[f64]) -> f64 {
        let mut concordant = 0.0;
        for &x in probabilities {
            for &y in probabilities {
                let order = if x > y {
                    1.0
                } else if x == y {
                    0.5
                } else {
                    0.0
                };
                concordant += x * (1.0 - y) * order;
            }
        }
        let positive: f64 = probabilities.iter().sum();
        let negative: f64 = probabilities.iter().map(|&p| 1.0 - p).sum();
        concordant / (positive * negative)
    }

    #[test]
    fn expected_counts_add_up() {
        let probabilities = [0.9, 0.8, 0.6, 0.4, 0.3, 0.1, 0.05];
        let estimate = estimate_performance(&probabilities, 0.5).expect("valid");
        let total = estimate.expected_true_positives
            + estimate.expected_false_positives
            + estimate.expected_true_negatives
            + estimate.expected_false_negatives;
        assert!((total - 7.0).abs() < 1e-12);
        assert!((estimate.expected_true_positives - 2.3).abs() < 1e-12);
        assert!((estimate.expected_false_negatives - 0.85).abs() < 1e-12);
        let sensitivity = estimate.sensitivity.expect("defined");
        assert!((sensitivity - 2.3 / 3.15).abs() < 1e-12);
    }

    #[test]
    fn weighted_auc_matches_the_pairwise_definition() {
        let probabilities = [0.9, 0.8, 0.8, 0.6, 0.4, 0.4, 0.4, 0.1, 0.05, 0.0, 1.0];
        let estimate = estimate_performance(&probabilities, 0.5).expect("valid");
        let auc = estimate.auc.expect("defined");
        assert!((auc - brute_force_auc(&probabilities)).abs() < 1e-14);
    }

    #[test]
    fn a_single_repeated_probability_gives_auc_one_half() {
        let estimate = estimate_performance(&[0.3; 10], 0.5).expect("valid");
        assert!((estimate.auc.expect("defined") - 0.5).abs() < 1e-15);
        // Nothing is predicted positive, so PPV is undefined.
        assert_eq!(estimate.ppv, None);
        assert_eq!(estimate.sensitivity, Some(0.0));
    }

    #[test]
    fn undefined_rates_are_none() {
        let certain_negatives = estimate_performance(&[0.0, 0.0], 0.5).expect("valid");
        assert_eq!(certain_negatives.sensitivity, None);
        assert_eq!(certain_negatives.auc, None);
        assert_eq!(certain_negatives.specificity, Some(1.0));
        let certain_positives = estimate_performance(&[1.0, 1.0], 0.5).expect("valid");
        assert_eq!(certain_positives.specificity, None);
        assert_eq!(certain_positives.sensitivity, Some(1.0));
        assert_eq!(certain_positives.ppv, Some(1.0));
    }

    #[test]
    fn degenerate_input_is_an_error() {
        assert_eq!(estimate_performance(&[], 0.5), Err(StatsError::Empty));
        assert!(matches!(
            estimate_performance(&[0.2, f64::NAN], 0.5),
            Err(StatsError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            estimate_performance(&[0.2, 1.2], 0.5),
            Err(StatsError::OutsideUnitInterval { index: 1, .. })
        ));
        assert!(matches!(
            estimate_performance(&[0.2], f64::NAN),
            Err(StatsError::InvalidParameter { .. })
        ));
    }
}
