//! Deployments: a product version at a site, with its operating thresholds,
//! owning team and change-control plan, and the rule for what state a new
//! vendor version starts in.

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::lifecycle::LifecycleState;
use crate::product::{ChangeControlPlan, ChangeKind};
use crate::text::{Code, NonEmptyText};

/// A score cut-off at which a tool's output becomes a positive decision.
/// Any finite number: scores are not always probabilities.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct OperatingThreshold(f64);

impl OperatingThreshold {
    /// Reads a threshold, rejecting NaN and infinities.
    pub fn parse(value: f64) -> Result<Self, DomainError> {
        if value.is_finite() {
            Ok(Self(value))
        } else {
            Err(DomainError::NonFiniteThreshold { value })
        }
    }

    /// The threshold.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for OperatingThreshold {
    type Error = DomainError;

    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<OperatingThreshold> for f64 {
    fn from(threshold: OperatingThreshold) -> Self {
        threshold.0
    }
}

/// A product version deployed at a site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// The site (or Trust) where it runs.
    pub site: Code,
    /// The team that owns it, for example "Radiology AI team".
    pub owning_team: NonEmptyText,
    /// Named operating thresholds, for example ("default", 0.5).
    pub thresholds: Vec<(NonEmptyText, OperatingThreshold)>,
    /// What a vendor may change without re-validation.
    pub change_control: ChangeControlPlan,
}

impl Deployment {
    /// The first threshold with this name, if any.
    pub fn threshold(&self, name: &str) -> Option<OperatingThreshold> {
        self.thresholds
            .iter()
            .find(|(threshold_name, _)| threshold_name.as_str() == name)
            .map(|&(_, threshold)| threshold)
    }
}

/// The state a deployment of a new product version starts in, given the
/// state of the deployment of the version it replaces.
///
/// A new version never inherits live or shadow unless the change-control
/// plan covers its change kind:
///
/// | current state | plan covers the change | otherwise |
/// | --- | --- | --- |
/// | proposed, procurement, validation | unchanged | unchanged |
/// | shadow, live | unchanged | validation |
/// | suspended | validation | validation |
/// | retired | retired | retired |
///
/// A suspended deployment always goes back to validation: the new version is
/// the fix, and it must be shown to work before it runs again. A retired
/// deployment stays retired: retirement is final, and bringing the product
/// back is a new deployment that starts at proposed.
///
/// This is the starting state of the new version's record, not a lifecycle
/// transition of the old one, so it may go from live to validation even
/// though that is not an allowed transition.
pub fn state_for_new_version(
    current: LifecycleState,
    plan: &ChangeControlPlan,
    change: ChangeKind,
) -> LifecycleState {
    use LifecycleState::*;
    match current {
        Proposed | Procurement | Validation | Retired => current,
        Shadow | Live if plan.covers(change) => current,
        Shadow | Live | Suspended => Validation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_must_be_finite() {
        assert_eq!(OperatingThreshold::parse(0.25).unwrap().get(), 0.25);
        assert_eq!(OperatingThreshold::parse(-3.0).unwrap().get(), -3.0);
        assert!(OperatingThreshold::parse(f64::NAN).is_err());
        assert_eq!(
            OperatingThreshold::parse(f64::INFINITY)
                .unwrap_err()
                .to_string(),
            "operating threshold inf is not a finite number"
        );
        assert!(OperatingThreshold::try_from(f64::NEG_INFINITY).is_err());
    }

    #[test]
    fn deployments_find_thresholds_by_name() {
        let deployment = Deployment {
            site: Code::parse("rw3-a").unwrap(),
            owning_team: NonEmptyText::parse("Radiology AI team").unwrap(),
            thresholds: vec![
                (
                    NonEmptyText::parse("default").unwrap(),
                    OperatingThreshold::parse(0.5).unwrap(),
                ),
                (
                    NonEmptyText::parse("high sensitivity").unwrap(),
                    OperatingThreshold::parse(0.2).unwrap(),
                ),
            ],
            change_control: ChangeControlPlan::none(),
        };
        assert_eq!(deployment.threshold("high sensitivity").unwrap().get(), 0.2);
        assert!(deployment.threshold("missing").is_none());
    }

    #[test]
    fn a_new_version_keeps_live_only_when_the_plan_covers_it() {
        use LifecycleState::*;
        let plan = ChangeControlPlan::new([ChangeKind::BugFix]).unwrap();
        assert_eq!(state_for_new_version(Live, &plan, ChangeKind::BugFix), Live);
        assert_eq!(
            state_for_new_version(Shadow, &plan, ChangeKind::BugFix),
            Shadow
        );
        assert_eq!(
            state_for_new_version(Live, &plan, ChangeKind::PerformanceUpdate),
            Validation
        );
        assert_eq!(
            state_for_new_version(Live, &ChangeControlPlan::none(), ChangeKind::BugFix),
            Validation
        );
        assert_eq!(
            state_for_new_version(Live, &plan, ChangeKind::NewIndication),
            Validation
        );
    }

    #[test]
    fn early_retired_and_suspended_states_follow_their_own_rules() {
        use LifecycleState::*;
        let plan = ChangeControlPlan::new([ChangeKind::BugFix]).unwrap();
        for change in ChangeKind::ALL {
            assert_eq!(state_for_new_version(Proposed, &plan, change), Proposed);
            assert_eq!(
                state_for_new_version(Procurement, &plan, change),
                Procurement
            );
            assert_eq!(state_for_new_version(Validation, &plan, change), Validation);
            assert_eq!(state_for_new_version(Retired, &plan, change), Retired);
            assert_eq!(state_for_new_version(Suspended, &plan, change), Validation);
        }
    }

    #[test]
    fn live_is_never_inherited_for_a_change_of_intended_use() {
        // Whatever plan can be built, a new indication never keeps live.
        let everything = ChangeControlPlan::new(
            ChangeKind::ALL
                .into_iter()
                .filter(|kind| kind.never_coverable_reason().is_none()),
        )
        .unwrap();
        for change in [
            ChangeKind::NewIndication,
            ChangeKind::NewModalityOrBodyPart,
            ChangeKind::Initial,
        ] {
            for state in [LifecycleState::Shadow, LifecycleState::Live] {
                assert_eq!(
                    state_for_new_version(state, &everything, change),
                    LifecycleState::Validation
                );
            }
        }
    }
}
