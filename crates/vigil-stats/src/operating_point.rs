//! Choosing the operating threshold of a tool.
//!
//! Every comparison of rates here is exact: Youden's J is compared as the
//! integer J·P·N = tp·N − fp·P, and a target rate as the count ratio
//! tp/P or (N − fp)/N, whose division is correctly rounded, so that a
//! mathematical tie or a rate exactly on the target is never split by the
//! rounding of a subtraction.

use crate::StatsError;
use crate::roc::RocCurve;

/// How the operating threshold is chosen. A case is called positive when
/// `score >= threshold`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OperatingPointRule {
    /// A threshold fixed in advance (for example by the vendor or protocol).
    Fixed(f64),
    /// The threshold maximising Youden's J = sensitivity + specificity − 1
    /// over the observed scores; ties go to the highest threshold.
    Youden,
    /// The highest threshold whose sensitivity is at least the target.
    TargetSensitivity(f64),
    /// The lowest threshold whose specificity is at least the target. When
    /// no observed score reaches the target, the threshold just above the
    /// highest score (sensitivity 0, specificity 1).
    TargetSpecificity(f64),
}

/// The threshold a rule picked, and whether the rule's target could not be
/// reached at any observed score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChosenThreshold {
    pub threshold: f64,
    /// True when the target specificity is higher than the specificity at
    /// every observed score, so the threshold lies just above the highest
    /// score and no case is called positive.
    pub target_unreachable: bool,
}

fn check_target(name: &'static str, target: f64) -> Result<(), StatsError> {
    if (0.0..=1.0).contains(&target) {
        Ok(())
    } else {
        Err(StatsError::InvalidParameter {
            name,
            value: target,
            reason: "must lie in [0, 1]",
        })
    }
}

/// The smallest number above `value`, for a finite `value` below the
/// largest finite number (the same as `f64::next_up`, which is newer than
/// this crate's minimum Rust version).
fn next_above(value: f64) -> Result<f64, StatsError> {
    if !value.is_finite() || value == f64::MAX {
        return Err(StatsError::Undefined {
            what: "threshold above the highest score",
            reason: "the highest score is the largest finite number, so no finite threshold lies above it",
        });
    }
    if value == 0.0 {
        // Both zeros step to the smallest positive subnormal number.
        return Ok(f64::from_bits(1));
    }
    let bits = value.to_bits();
    Ok(if value > 0.0 {
        f64::from_bits(bits + 1)
    } else {
        f64::from_bits(bits - 1)
    })
}

impl OperatingPointRule {
    /// The threshold this rule picks on the given ROC curve.
    pub fn threshold(&self, curve: &RocCurve) -> Result<f64, StatsError> {
        self.choose(curve).map(|chosen| chosen.threshold)
    }

    /// The threshold this rule picks on the given ROC curve, with a flag for
    /// an unreachable target specificity.
    pub fn choose(&self, curve: &RocCurve) -> Result<ChosenThreshold, StatsError> {
        let reached = |threshold: f64| ChosenThreshold {
            threshold,
            target_unreachable: false,
        };
        let positives = curve.positives;
        let negatives = curve.negatives;
        match *self {
            OperatingPointRule::Fixed(threshold) => {
                if threshold.is_finite() {
                    Ok(reached(threshold))
                } else {
                    Err(StatsError::InvalidParameter {
                        name: "threshold",
                        value: threshold,
                        reason: "must be a finite number",
                    })
                }
            }
            OperatingPointRule::Youden => {
                // J·P·N = tp·N − fp·P is an exact integer; the points come
                // in descending threshold order and only a strictly larger
                // J replaces the best, so ties go to the highest threshold.
                let mut best: Option<(i128, f64)> = None;
                for point in &curve.points {
                    let scaled_j = i128::from(point.true_positives) * i128::from(negatives)
                        - i128::from(point.false_positives) * i128::from(positives);
                    if best.is_none_or(|(best_j, _)| scaled_j > best_j) {
                        best = Some((scaled_j, point.threshold));
                    }
                }
                best.map(|(_, threshold)| reached(threshold))
                    .ok_or(StatsError::Empty)
            }
            OperatingPointRule::TargetSensitivity(target) => {
                check_target("target sensitivity", target)?;
                if positives == 0 {
                    return Err(StatsError::OneClass {
                        positives: 0,
                        negatives: negatives as usize,
                    });
                }
                curve
                    .points
                    .iter()
                    .find(|point| point.true_positives as f64 / positives as f64 >= target)
                    .map(|point| reached(point.threshold))
                    .ok_or(StatsError::Empty)
            }
            OperatingPointRule::TargetSpecificity(target) => {
                check_target("target specificity", target)?;
                if negatives == 0 {
                    return Err(StatsError::OneClass {
                        positives: positives as usize,
                        negatives: 0,
                    });
                }
                let specificity =
                    |false_positives: u64| (negatives - false_positives) as f64 / negatives as f64;
                match curve
                    .points
                    .iter()
                    .take_while(|point| specificity(point.false_positives) >= target)
                    .last()
                {
                    Some(point) => Ok(reached(point.threshold)),
                    None => {
                        let highest = curve.points.first().ok_or(StatsError::Empty)?.threshold;
                        Ok(ChosenThreshold {
                            threshold: next_above(highest)?,
                            target_unreachable: true,
                        })
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BinarySample;
    use crate::roc::SortedByClass;

    fn curve(scores: &[f64], labels: &[bool]) -> RocCurve {
        let sample = BinarySample::new(scores, labels).expect("valid sample");
        RocCurve::new(&SortedByClass::new(&sample))
    }

    #[test]
    fn youden_ties_are_exact_and_go_to_the_highest_threshold() {
        // J·P·N = 10·tp − 6·fp is 8 at both threshold 13 (tp 2, fp 2) and
        // threshold 5 (tp 5, fp 7); in floating point 2/6 − 2/10 and
        // 5/6 − 7/10 round differently, which used to pick 5.
        let labels: Vec<bool> = [0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0]
            .iter()
            .map(|&label| label == 1)
            .collect();
        let scores: Vec<f64> = (1..=16).rev().map(f64::from).collect();
        let threshold = OperatingPointRule::Youden
            .threshold(&curve(&scores, &labels))
            .expect("threshold");
        assert_eq!(threshold, 13.0);
    }

    #[test]
    fn target_specificity_accepts_a_rate_exactly_on_the_target() {
        // 100 negatives with scores 100..1 and one positive above them: at
        // threshold 94 there are 7 false positives, specificity 93/100,
        // which meets 0.93 although 1 − 7/100 rounds below it.
        let mut scores: Vec<f64> = (1..=100).map(f64::from).collect();
        let mut labels = vec![false; 100];
        scores.push(1000.0);
        labels.push(true);
        let chosen = OperatingPointRule::TargetSpecificity(0.93)
            .choose(&curve(&scores, &labels))
            .expect("threshold");
        assert_eq!(chosen.threshold, 94.0);
        assert!(!chosen.target_unreachable);
    }

    #[test]
    fn target_sensitivity_accepts_a_rate_exactly_on_the_target() {
        // 100 positives with scores 100..1 and one negative below them: the
        // highest threshold with 93 of 100 positives called is 8.
        let mut scores: Vec<f64> = (1..=100).map(f64::from).collect();
        let mut labels = vec![true; 100];
        scores.push(-5.0);
        labels.push(false);
        let threshold = OperatingPointRule::TargetSensitivity(0.93)
            .threshold(&curve(&scores, &labels))
            .expect("threshold");
        assert_eq!(threshold, 8.0);
        let threshold = OperatingPointRule::TargetSensitivity(0.07)
            .threshold(&curve(&scores, &labels))
            .expect("threshold");
        assert_eq!(threshold, 94.0);
    }

    #[test]
    fn an_unreachable_target_specificity_calls_no_case_positive() {
        // The highest score is a negative, so every observed threshold has
        // specificity at most 2/3.
        let scores = [0.9, 0.8, 0.5, 0.1];
        let labels = [false, true, false, false];
        let chosen = OperatingPointRule::TargetSpecificity(0.95)
            .choose(&curve(&scores, &labels))
            .expect("threshold");
        assert!(chosen.target_unreachable);
        assert!(chosen.threshold > 0.9);
        assert_eq!(chosen.threshold, f64::from_bits(0.9_f64.to_bits() + 1));
    }

    #[test]
    fn the_step_above_a_score_is_the_next_number() {
        assert_eq!(next_above(0.0), Ok(f64::from_bits(1)));
        assert_eq!(next_above(-0.0), Ok(f64::from_bits(1)));
        assert_eq!(next_above(1.0), Ok(1.0 + f64::EPSILON));
        assert_eq!(
            next_above(-1.0),
            Ok(-1.0 + f64::EPSILON / 2.0),
            "below zero the step is towards zero"
        );
        assert!(next_above(f64::MAX).is_err());
    }
}
