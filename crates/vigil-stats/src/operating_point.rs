//! Choosing the operating threshold of a tool.

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
    /// The lowest threshold whose specificity is at least the target.
    TargetSpecificity(f64),
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

impl OperatingPointRule {
    /// The threshold this rule picks on the given ROC curve.
    pub fn threshold(&self, curve: &RocCurve) -> Result<f64, StatsError> {
        match *self {
            OperatingPointRule::Fixed(threshold) => {
                if threshold.is_finite() {
                    Ok(threshold)
                } else {
                    Err(StatsError::InvalidParameter {
                        name: "threshold",
                        value: threshold,
                        reason: "must be a finite number",
                    })
                }
            }
            OperatingPointRule::Youden => {
                let mut best: Option<(f64, f64)> = None;
                for point in &curve.points {
                    let j = point.true_positive_rate - point.false_positive_rate;
                    if best.is_none_or(|(best_j, _)| j > best_j) {
                        best = Some((j, point.threshold));
                    }
                }
                best.map(|(_, threshold)| threshold)
                    .ok_or(StatsError::Empty)
            }
            OperatingPointRule::TargetSensitivity(target) => {
                check_target("target sensitivity", target)?;
                curve
                    .points
                    .iter()
                    .find(|point| point.true_positive_rate >= target)
                    .map(|point| point.threshold)
                    .ok_or(StatsError::Empty)
            }
            OperatingPointRule::TargetSpecificity(target) => {
                check_target("target specificity", target)?;
                curve
                    .points
                    .iter()
                    .take_while(|point| 1.0 - point.false_positive_rate >= target)
                    .last()
                    .map(|point| point.threshold)
                    .ok_or(StatsError::Undefined {
                        what: "threshold for the target specificity",
                        reason: "even the highest score is above the target's false-positive allowance",
                    })
            }
        }
    }
}
