//! The lifecycle state machine of a deployment and the sign-offs each
//! transition needs.
//!
//! The states run `proposed → procurement → validation → shadow → live`, with
//! `live → suspended` and back `suspended → live`. Two transitions lead back
//! to validation after a fix: `shadow → validation` (shadow running showed a
//! problem) and `suspended → validation` (the suspension's cause was fixed,
//! and the fix must be validated before the tool runs again). Any state but
//! retired may move to retired; retired is final. No state moves to itself.
//!
//! Every transition is a governance decision: [`decide`] turns a
//! [`TransitionRequest`] into a [`Decision`] only when the transition is
//! allowed, every role the [`SignOffPolicy`] requires has signed, no one
//! signs twice in the same role, and — for a request raised by a monitoring
//! alert — the transition is a suspension. A decision is recorded once and
//! never edited.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::error::{allowed_phrase, join};
use crate::role::Role;
use crate::text::NonEmptyText;

named_enum! {
    /// Where a deployment is in its life.
    pub enum LifecycleState: "lifecycle state" {
        /// Suggested; nothing done yet.
        Proposed = "proposed",
        /// Being assessed and bought.
        Procurement = "procurement",
        /// Being tested on local data against a protocol.
        Validation = "validation",
        /// Running silently on live cases; results are not shown to clinicians.
        Shadow = "shadow",
        /// In clinical use and monitored.
        Live = "live",
        /// Taken out of clinical use pending investigation.
        Suspended = "suspended",
        /// Permanently withdrawn. Final.
        Retired = "retired",
    }
}

impl LifecycleState {
    /// Whether a deployment may move from this state to `to`.
    pub const fn can_move_to(self, to: LifecycleState) -> bool {
        use LifecycleState::*;
        matches!(
            (self, to),
            (Proposed, Procurement)
                | (Procurement, Validation)
                | (Validation, Shadow)
                | (Shadow, Live)
                | (Shadow, Validation)
                | (Live, Suspended)
                | (Suspended, Live)
                | (Suspended, Validation)
                | (
                    Proposed | Procurement | Validation | Shadow | Live | Suspended,
                    Retired
                )
        )
    }

    /// The states this state may move to, in lifecycle order; empty for
    /// retired.
    pub fn allowed_targets(self) -> Vec<LifecycleState> {
        Self::ALL
            .into_iter()
            .filter(|&to| self.can_move_to(to))
            .collect()
    }

    /// Whether no transition leaves this state (only retired).
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Retired)
    }
}

/// One person's signature on a decision, in one role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SignOff {
    /// Who signs: a user name or a name with their registration.
    pub actor: NonEmptyText,
    /// The role they sign in.
    pub role: Role,
}

/// The roles one transition requires, as [`SignOffPolicy::requirements`]
/// lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionRequirement {
    /// The state moved from.
    pub from: LifecycleState,
    /// The state moved to.
    pub to: LifecycleState,
    /// The roles every deployment needs, in role order.
    pub roles: Vec<Role>,
    /// The roles a radiotherapy deployment needs as well, in role order.
    pub radiotherapy_roles: Vec<Role>,
}

/// The roles required for one transition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Requirement {
    /// Always required.
    roles: BTreeSet<Role>,
    /// Also required when the product is a radiotherapy tool.
    radiotherapy_roles: BTreeSet<Role>,
}

/// Which roles must sign each transition.
///
/// [`SignOffPolicy::default`] is Vigil's default policy:
///
/// | transition | roles |
/// | --- | --- |
/// | proposed → procurement | procurement_lead |
/// | procurement → validation | ai_lead |
/// | validation → shadow | ai_lead |
/// | shadow → live | clinical_safety_officer, clinical_lead, and medical_physics_expert for radiotherapy |
/// | live → suspended | clinical_safety_officer |
/// | suspended → live | clinical_safety_officer |
/// | shadow → validation, suspended → validation | ai_lead |
/// | any → retired | clinical_safety_officer |
///
/// Every allowed transition has at least one required role, and a policy can
/// not be changed to require none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOffPolicy {
    /// The requirement of every allowed transition.
    requirements: BTreeMap<(LifecycleState, LifecycleState), Requirement>,
}

impl Default for SignOffPolicy {
    fn default() -> Self {
        use LifecycleState::*;
        use Role::*;
        let mut requirements = BTreeMap::new();
        let mut require = |from, to, roles: &[Role], radiotherapy_roles: &[Role]| {
            requirements.insert(
                (from, to),
                Requirement {
                    roles: roles.iter().copied().collect(),
                    radiotherapy_roles: radiotherapy_roles.iter().copied().collect(),
                },
            );
        };
        require(Proposed, Procurement, &[ProcurementLead], &[]);
        require(Procurement, Validation, &[AiLead], &[]);
        require(Validation, Shadow, &[AiLead], &[]);
        require(
            Shadow,
            Live,
            &[ClinicalSafetyOfficer, ClinicalLead],
            &[MedicalPhysicsExpert],
        );
        require(Live, Suspended, &[ClinicalSafetyOfficer], &[]);
        require(Suspended, Live, &[ClinicalSafetyOfficer], &[]);
        require(Shadow, Validation, &[AiLead], &[]);
        require(Suspended, Validation, &[AiLead], &[]);
        for from in LifecycleState::ALL {
            if from.can_move_to(Retired) {
                require(from, Retired, &[ClinicalSafetyOfficer], &[]);
            }
        }
        Self { requirements }
    }
}

impl SignOffPolicy {
    /// The roles that must sign `from → to`, in role order: the transition's
    /// roles, plus its radiotherapy roles when `radiotherapy` is true. Empty
    /// for a pair that is not an allowed transition.
    pub fn required_roles(
        &self,
        from: LifecycleState,
        to: LifecycleState,
        radiotherapy: bool,
    ) -> Vec<Role> {
        let Some(requirement) = self.requirements.get(&(from, to)) else {
            return Vec::new();
        };
        let mut roles = requirement.roles.clone();
        if radiotherapy {
            roles.extend(requirement.radiotherapy_roles.iter().copied());
        }
        roles.into_iter().collect()
    }

    /// The policy with `from → to` requiring exactly `roles` (repeats count
    /// once). Radiotherapy roles for the transition are kept; change them with
    /// [`SignOffPolicy::with_radiotherapy_requirement`]. Rejects a pair that
    /// is not an allowed transition, and an empty list of roles.
    pub fn with_requirement(
        mut self,
        from: LifecycleState,
        to: LifecycleState,
        roles: Vec<Role>,
    ) -> Result<Self, DomainError> {
        check_allowed(from, to)?;
        if roles.is_empty() {
            return Err(DomainError::EmptyRoleRequirement { from, to });
        }
        self.requirements.entry((from, to)).or_default().roles = roles.into_iter().collect();
        Ok(self)
    }

    /// The policy with `from → to` requiring exactly `roles` in addition when
    /// the product is a radiotherapy tool. An empty list removes the
    /// radiotherapy addition. Rejects a pair that is not an allowed
    /// transition.
    pub fn with_radiotherapy_requirement(
        mut self,
        from: LifecycleState,
        to: LifecycleState,
        roles: Vec<Role>,
    ) -> Result<Self, DomainError> {
        check_allowed(from, to)?;
        self.requirements
            .entry((from, to))
            .or_default()
            .radiotherapy_roles = roles.into_iter().collect();
        Ok(self)
    }

    /// Reads a policy from configuration entries, each a key and a list of
    /// role names.
    ///
    /// The policy starts as [`SignOffPolicy::default`], and each entry
    /// replaces the roles of the transitions its key names, so a
    /// configuration only lists what it changes and no transition is ever
    /// left without a signer. A key is:
    ///
    /// - `"FROM->TO"`, for example `"shadow->live"`: the roles every
    ///   deployment needs for that transition; the list may not be empty.
    /// - `"*->TO"`, for example `"*->retired"`: the same for every state that
    ///   may move to TO. A specific `"FROM->TO"` entry wins over a `"*->TO"`
    ///   entry whatever their order.
    /// - `"radiotherapy:FROM->TO"` or `"radiotherapy:*->TO"`: the roles a
    ///   radiotherapy deployment needs as well; an empty list removes them.
    ///
    /// State and role names are read as by [`LifecycleState::parse`] and
    /// [`Role::parse`] (so "cso" and "mpe" work), and spaces around the names
    /// are ignored. As TOML:
    ///
    /// ```toml
    /// [sign_off]
    /// "shadow->live" = ["cso", "clinical_lead"]
    /// "radiotherapy:shadow->live" = ["mpe"]
    /// "*->retired" = ["cso", "clinical_lead"]
    /// ```
    pub fn parse_toml_like(entries: &[(String, Vec<String>)]) -> Result<Self, DomainError> {
        let mut parsed = Vec::with_capacity(entries.len());
        let mut seen = BTreeSet::new();
        for (key, role_names) in entries {
            let policy_key = PolicyKey::parse(key)?;
            if !seen.insert(policy_key) {
                return Err(DomainError::DuplicatePolicyEntry { key: key.clone() });
            }
            let roles = role_names
                .iter()
                .map(|name| Role::parse(name))
                .collect::<Result<Vec<_>, _>>()?;
            parsed.push((policy_key, roles));
        }
        // Wildcards first, so that specific entries override them.
        parsed.sort_by_key(|(policy_key, _)| policy_key.from.is_some());

        let mut policy = Self::default();
        for (policy_key, roles) in parsed {
            let sources = match policy_key.from {
                Some(from) => vec![from],
                None => {
                    let sources: Vec<_> = LifecycleState::ALL
                        .into_iter()
                        .filter(|from| from.can_move_to(policy_key.to))
                        .collect();
                    if sources.is_empty() {
                        return Err(DomainError::WildcardMatchesNothing { to: policy_key.to });
                    }
                    sources
                }
            };
            for from in sources {
                policy = if policy_key.radiotherapy {
                    policy.with_radiotherapy_requirement(from, policy_key.to, roles.clone())?
                } else {
                    policy.with_requirement(from, policy_key.to, roles.clone())?
                };
            }
        }
        Ok(policy)
    }

    /// Every allowed transition with its required roles, in lifecycle order.
    pub fn requirements(&self) -> Vec<TransitionRequirement> {
        self.requirements
            .iter()
            .map(|(&(from, to), requirement)| TransitionRequirement {
                from,
                to,
                roles: requirement.roles.iter().copied().collect(),
                radiotherapy_roles: requirement.radiotherapy_roles.iter().copied().collect(),
            })
            .collect()
    }
}

/// Rejects a pair of states that is not an allowed transition.
fn check_allowed(from: LifecycleState, to: LifecycleState) -> Result<(), DomainError> {
    if from.can_move_to(to) {
        Ok(())
    } else {
        Err(DomainError::PolicyTransitionNotAllowed {
            from,
            to,
            allowed: from.allowed_targets(),
        })
    }
}

/// A parsed sign-off policy key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct PolicyKey {
    /// Whether the entry adds radiotherapy roles.
    radiotherapy: bool,
    /// The source state, or `None` for "*".
    from: Option<LifecycleState>,
    /// The target state.
    to: LifecycleState,
}

impl PolicyKey {
    /// Reads "[radiotherapy:]FROM->TO".
    fn parse(key: &str) -> Result<Self, DomainError> {
        let malformed = || DomainError::MalformedPolicyKey {
            key: key.to_owned(),
        };
        let trimmed = key.trim();
        let (radiotherapy, transition) = match trimmed.split_once(':') {
            Some((prefix, rest)) if prefix.trim().eq_ignore_ascii_case("radiotherapy") => {
                (true, rest)
            }
            Some(_) => return Err(malformed()),
            None => (false, trimmed),
        };
        let (from, to) = transition.split_once("->").ok_or_else(malformed)?;
        let (from, to) = (from.trim(), to.trim());
        if from.is_empty() || to.is_empty() {
            return Err(malformed());
        }
        let from = if from == "*" {
            None
        } else {
            Some(LifecycleState::parse(from)?)
        };
        Ok(Self {
            radiotherapy,
            from,
            to: LifecycleState::parse(to)?,
        })
    }
}

/// A pointer to the evidence behind a decision: an identifier such as
/// "evaluation:42" or "hazard-log:7", or a document URL. One line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EvidenceReference(NonEmptyText);

impl EvidenceReference {
    /// Reads a reference: non-blank, one line.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        const FIELD: &str = "evidence reference";
        let text = NonEmptyText::parse_field(FIELD, raw)?;
        if text.as_str().contains('\n') {
            return Err(DomainError::LineBreak { field: FIELD });
        }
        Ok(Self(text))
    }

    /// The reference.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl std::fmt::Display for EvidenceReference {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl TryFrom<String> for EvidenceReference {
    type Error = DomainError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<EvidenceReference> for String {
    fn from(reference: EvidenceReference) -> Self {
        reference.0.into()
    }
}

/// A request to move a deployment from one state to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionRequest {
    /// The deployment's current state.
    pub from: LifecycleState,
    /// The state requested.
    pub to: LifecycleState,
    /// Who signs, in which roles.
    pub sign_offs: Vec<SignOff>,
    /// Why.
    pub rationale: NonEmptyText,
    /// What evidence supports it.
    pub evidence: Vec<EvidenceReference>,
    /// Whether a monitoring alert raised the request rather than a person.
    pub proposed_by_alert: bool,
}

/// A recorded governance decision: a transition with its signatures,
/// rationale and evidence. Decisions are never edited or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The state moved from.
    pub from: LifecycleState,
    /// The state moved to.
    pub to: LifecycleState,
    /// The signatures, sorted by role then actor.
    pub sign_offs: Vec<SignOff>,
    /// Why.
    pub rationale: NonEmptyText,
    /// What evidence supports it, in the order given.
    pub evidence: Vec<EvidenceReference>,
    /// When it was decided.
    pub decided_at: jiff::Timestamp,
}

/// Why a transition request cannot become a decision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The lifecycle does not allow the transition.
    #[error("cannot move from {from} to {to}; {}", allowed_phrase(*.from, .allowed))]
    NotAllowed {
        /// The state moved from.
        from: LifecycleState,
        /// The state requested.
        to: LifecycleState,
        /// The states that may follow `from`.
        allowed: Vec<LifecycleState>,
    },

    /// Required roles have not signed.
    #[error("{from} → {to} needs sign-off by: {}", join(.missing))]
    MissingSignOff {
        /// The state moved from.
        from: LifecycleState,
        /// The state requested.
        to: LifecycleState,
        /// The required roles with no signature, in role order.
        missing: Vec<Role>,
    },

    /// The same person signs in the same role twice.
    #[error("{actor} signs as {role} more than once; list each person's sign-off in a role once")]
    DuplicateSignOff {
        /// The person.
        actor: NonEmptyText,
        /// The role.
        role: Role,
    },

    /// The transition needs recorded evidence that does not exist yet (for
    /// example a completed, passing procurement assessment of the version
    /// before local validation starts).
    #[error("{from} → {to} needs {needed}")]
    MissingEvidence {
        /// The state moved from.
        from: LifecycleState,
        /// The state requested.
        to: LifecycleState,
        /// What is missing, as a sentence fragment naming how to provide it.
        needed: String,
    },

    /// A request raised by a monitoring alert asks for more than a suspension.
    #[error(
        "a monitoring alert may only suspend a live deployment (live → suspended); \
         {from} → {to} must be requested by a person"
    )]
    AlertMayOnlyPropose {
        /// The state moved from.
        from: LifecycleState,
        /// The state requested.
        to: LifecycleState,
    },
}

/// Turns a transition request into a decision taken at `now`, or says why
/// it cannot be one.
///
/// The checks, in order: the transition is allowed
/// ([`TransitionError::NotAllowed`]); a request raised by an alert asks for
/// live → suspended and nothing else ([`TransitionError::AlertMayOnlyPropose`]);
/// no (actor, role) pair appears twice ([`TransitionError::DuplicateSignOff`]);
/// every role the policy requires (with the radiotherapy roles when
/// `radiotherapy` is true) has at least one signature in that role
/// ([`TransitionError::MissingSignOff`]). One person may sign in several
/// roles they hold, and signatures beyond the required ones are kept. The
/// decision's sign-offs are sorted by role, then actor, so the same request
/// always gives the same decision.
pub fn decide(
    request: TransitionRequest,
    policy: &SignOffPolicy,
    radiotherapy: bool,
    now: jiff::Timestamp,
) -> Result<Decision, TransitionError> {
    let TransitionRequest {
        from,
        to,
        mut sign_offs,
        rationale,
        evidence,
        proposed_by_alert,
    } = request;
    if !from.can_move_to(to) {
        return Err(TransitionError::NotAllowed {
            from,
            to,
            allowed: from.allowed_targets(),
        });
    }
    if proposed_by_alert && (from, to) != (LifecycleState::Live, LifecycleState::Suspended) {
        return Err(TransitionError::AlertMayOnlyPropose { from, to });
    }
    sign_offs.sort_by(|left, right| {
        (left.role, left.actor.as_str()).cmp(&(right.role, right.actor.as_str()))
    });
    if let Some(pair) = sign_offs.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(TransitionError::DuplicateSignOff {
            actor: pair[0].actor.clone(),
            role: pair[0].role,
        });
    }
    let missing: Vec<Role> = policy
        .required_roles(from, to, radiotherapy)
        .into_iter()
        .filter(|&role| !sign_offs.iter().any(|sign_off| sign_off.role == role))
        .collect();
    if !missing.is_empty() {
        return Err(TransitionError::MissingSignOff { from, to, missing });
    }
    Ok(Decision {
        from,
        to,
        sign_offs,
        rationale,
        evidence,
        decided_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::LifecycleState::*;
    use super::*;

    fn text(raw: &str) -> NonEmptyText {
        NonEmptyText::parse(raw).unwrap()
    }

    fn sign(actor: &str, role: Role) -> SignOff {
        SignOff {
            actor: text(actor),
            role,
        }
    }

    fn request(
        from: LifecycleState,
        to: LifecycleState,
        sign_offs: Vec<SignOff>,
    ) -> TransitionRequest {
        TransitionRequest {
            from,
            to,
            sign_offs,
            rationale: text("Shadow agreement met the protocol's criteria."),
            evidence: vec![EvidenceReference::parse("evaluation:42").unwrap()],
            proposed_by_alert: false,
        }
    }

    fn now() -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_767_225_600).unwrap()
    }

    #[test]
    fn states_have_names() {
        assert_eq!(LifecycleState::ALL.len(), 7);
        for state in LifecycleState::ALL {
            assert_eq!(LifecycleState::parse(state.as_str()), Ok(state));
        }
        assert_eq!(Shadow.to_string(), "shadow");
        assert!(Retired.is_final());
        assert!(!Suspended.is_final());
    }

    #[test]
    fn allowed_targets_follow_the_lifecycle() {
        assert_eq!(Proposed.allowed_targets(), [Procurement, Retired]);
        assert_eq!(Procurement.allowed_targets(), [Validation, Retired]);
        assert_eq!(Validation.allowed_targets(), [Shadow, Retired]);
        assert_eq!(Shadow.allowed_targets(), [Validation, Live, Retired]);
        assert_eq!(Live.allowed_targets(), [Suspended, Retired]);
        assert_eq!(Suspended.allowed_targets(), [Validation, Live, Retired]);
        assert!(Retired.allowed_targets().is_empty());
    }

    #[test]
    fn the_default_policy_matches_the_governance_table() {
        let policy = SignOffPolicy::default();
        use Role::*;
        assert_eq!(
            policy.required_roles(Proposed, Procurement, false),
            [ProcurementLead]
        );
        assert_eq!(
            policy.required_roles(Procurement, Validation, false),
            [AiLead]
        );
        assert_eq!(policy.required_roles(Validation, Shadow, true), [AiLead]);
        assert_eq!(
            policy.required_roles(Shadow, Live, false),
            [ClinicalSafetyOfficer, ClinicalLead]
        );
        assert_eq!(
            policy.required_roles(Shadow, Live, true),
            [ClinicalSafetyOfficer, ClinicalLead, MedicalPhysicsExpert]
        );
        assert_eq!(
            policy.required_roles(Live, Suspended, false),
            [ClinicalSafetyOfficer]
        );
        assert_eq!(
            policy.required_roles(Suspended, Live, false),
            [ClinicalSafetyOfficer]
        );
        assert_eq!(policy.required_roles(Shadow, Validation, false), [AiLead]);
        assert_eq!(
            policy.required_roles(Suspended, Validation, false),
            [AiLead]
        );
        for from in [Proposed, Procurement, Validation, Shadow, Live, Suspended] {
            assert_eq!(
                policy.required_roles(from, Retired, true),
                [ClinicalSafetyOfficer]
            );
        }
        assert!(policy.required_roles(Live, Validation, false).is_empty());
        // Every allowed transition, and only those, has a requirement.
        let listed: Vec<_> = policy
            .requirements()
            .into_iter()
            .map(|requirement| (requirement.from, requirement.to))
            .collect();
        let allowed: Vec<_> = LifecycleState::ALL
            .into_iter()
            .flat_map(|from| from.allowed_targets().into_iter().map(move |to| (from, to)))
            .collect();
        assert_eq!(listed, allowed);
    }

    #[test]
    fn with_requirement_only_accepts_allowed_transitions_and_some_role() {
        let policy = SignOffPolicy::default()
            .with_requirement(
                Validation,
                Shadow,
                vec![Role::AiLead, Role::MedicalPhysicsExpert],
            )
            .unwrap();
        assert_eq!(
            policy.required_roles(Validation, Shadow, false),
            [Role::AiLead, Role::MedicalPhysicsExpert]
        );
        assert_eq!(
            SignOffPolicy::default()
                .with_requirement(Live, Validation, vec![Role::AiLead])
                .unwrap_err()
                .to_string(),
            "the sign-off policy names live → validation, which is not an allowed transition; \
             allowed from live: suspended, retired"
        );
        assert_eq!(
            SignOffPolicy::default().with_requirement(Shadow, Live, vec![]),
            Err(DomainError::EmptyRoleRequirement {
                from: Shadow,
                to: Live
            })
        );
        // Replacing the roles keeps the radiotherapy addition.
        let policy = SignOffPolicy::default()
            .with_requirement(Shadow, Live, vec![Role::ClinicalSafetyOfficer])
            .unwrap();
        assert_eq!(
            policy.required_roles(Shadow, Live, true),
            [Role::ClinicalSafetyOfficer, Role::MedicalPhysicsExpert]
        );
        let policy = policy
            .with_radiotherapy_requirement(Shadow, Live, vec![])
            .unwrap();
        assert_eq!(
            policy.required_roles(Shadow, Live, true),
            [Role::ClinicalSafetyOfficer]
        );
    }

    fn entries(pairs: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        pairs
            .iter()
            .map(|(key, roles)| {
                (
                    (*key).to_owned(),
                    roles.iter().map(|role| (*role).to_owned()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn configuration_overrides_the_defaults() {
        let policy = SignOffPolicy::parse_toml_like(&entries(&[
            ("live->retired", &["cso"]),
            ("*->retired", &["cso", "clinical_lead"]),
            (" radiotherapy : validation -> shadow ", &["mpe"]),
            ("suspended->live", &["cso", "clinical_lead"]),
        ]))
        .unwrap();
        assert_eq!(
            policy.required_roles(Proposed, Retired, false),
            [Role::ClinicalSafetyOfficer, Role::ClinicalLead]
        );
        assert_eq!(
            policy.required_roles(Live, Retired, false),
            [Role::ClinicalSafetyOfficer],
            "a specific entry wins over a wildcard even when listed first"
        );
        assert_eq!(
            policy.required_roles(Validation, Shadow, false),
            [Role::AiLead]
        );
        assert_eq!(
            policy.required_roles(Validation, Shadow, true),
            [Role::AiLead, Role::MedicalPhysicsExpert]
        );
        assert_eq!(
            policy.required_roles(Suspended, Live, false),
            [Role::ClinicalSafetyOfficer, Role::ClinicalLead]
        );
        // Untouched transitions keep their defaults.
        assert_eq!(
            policy.required_roles(Shadow, Live, true),
            SignOffPolicy::default().required_roles(Shadow, Live, true)
        );
        assert_eq!(
            SignOffPolicy::parse_toml_like(&[]),
            Ok(SignOffPolicy::default())
        );
    }

    #[test]
    fn configuration_errors_say_what_is_wrong() {
        let error = |pairs: &[(&str, &[&str])]| {
            SignOffPolicy::parse_toml_like(&entries(pairs))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error(&[("shadow-live", &["cso"])]),
            "sign-off policy key \"shadow-live\" is not of the form FROM->TO \
             (for example \"shadow->live\", \"*->retired\" or \"radiotherapy:shadow->live\")"
        );
        assert!(error(&[("->live", &["cso"])]).contains("not of the form"));
        assert!(error(&[("paediatric:shadow->live", &["cso"])]).contains("not of the form"));
        assert_eq!(
            error(&[("shadow->golive", &["cso"])]),
            "\"golive\" is not a known lifecycle state; expected one of: proposed, procurement, \
             validation, shadow, live, suspended, retired"
        );
        assert!(error(&[("shadow->live", &["boss"])]).contains("\"boss\" is not a known role"));
        assert!(error(&[("live->validation", &["cso"])]).contains("not an allowed transition"));
        assert!(error(&[("shadow->live", &[])]).contains("lists no role"));
        assert_eq!(
            error(&[("shadow->live", &["cso"]), ("Shadow -> Live", &["mpe"])]),
            "sign-off policy key \"Shadow -> Live\" appears more than once"
        );
        assert_eq!(
            error(&[("*->proposed", &["cso"])]),
            "sign-off policy key \"*->proposed\" matches no transition: no state may move to proposed"
        );
    }

    #[test]
    fn go_live_with_every_signature_is_decided_with_sorted_sign_offs() {
        let decision = decide(
            request(
                Shadow,
                Live,
                vec![
                    sign("dr.patel", Role::ClinicalLead),
                    sign("j.smith", Role::MedicalPhysicsExpert),
                    sign("a.jones", Role::ClinicalSafetyOfficer),
                ],
            ),
            &SignOffPolicy::default(),
            true,
            now(),
        )
        .unwrap();
        assert_eq!((decision.from, decision.to), (Shadow, Live));
        assert_eq!(
            decision
                .sign_offs
                .iter()
                .map(|sign_off| (sign_off.role, sign_off.actor.as_str()))
                .collect::<Vec<_>>(),
            [
                (Role::ClinicalSafetyOfficer, "a.jones"),
                (Role::ClinicalLead, "dr.patel"),
                (Role::MedicalPhysicsExpert, "j.smith"),
            ]
        );
        assert_eq!(decision.decided_at, now());
        assert_eq!(decision.evidence[0].as_str(), "evaluation:42");
    }

    #[test]
    fn missing_roles_are_named() {
        let error = decide(
            request(Shadow, Live, vec![sign("dr.patel", Role::ClinicalLead)]),
            &SignOffPolicy::default(),
            true,
            now(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "shadow → live needs sign-off by: clinical_safety_officer, medical_physics_expert"
        );
        // The medical physics expert is only needed for radiotherapy.
        let error = decide(
            request(Shadow, Live, vec![sign("dr.patel", Role::ClinicalLead)]),
            &SignOffPolicy::default(),
            false,
            now(),
        )
        .unwrap_err();
        assert_eq!(
            error,
            TransitionError::MissingSignOff {
                from: Shadow,
                to: Live,
                missing: vec![Role::ClinicalSafetyOfficer],
            }
        );
    }

    #[test]
    fn disallowed_transitions_list_what_is_allowed() {
        let error = decide(
            request(Live, Validation, vec![sign("a", Role::AiLead)]),
            &SignOffPolicy::default(),
            false,
            now(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot move from live to validation; allowed from live: suspended, retired"
        );
        let error = decide(
            request(Retired, Live, vec![]),
            &SignOffPolicy::default(),
            false,
            now(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot move from retired to live; retired is final and no transition is allowed from it"
        );
        assert!(matches!(
            decide(
                request(Live, Live, vec![]),
                &SignOffPolicy::default(),
                false,
                now()
            ),
            Err(TransitionError::NotAllowed { .. })
        ));
    }

    #[test]
    fn one_person_may_sign_in_two_roles_but_not_twice_in_one() {
        let both_roles = vec![
            sign("a.jones", Role::ClinicalSafetyOfficer),
            sign("a.jones", Role::ClinicalLead),
        ];
        assert!(
            decide(
                request(Shadow, Live, both_roles),
                &SignOffPolicy::default(),
                false,
                now()
            )
            .is_ok()
        );
        let twice = vec![
            sign("a.jones", Role::ClinicalSafetyOfficer),
            sign("dr.patel", Role::ClinicalLead),
            sign("a.jones", Role::ClinicalSafetyOfficer),
        ];
        let error = decide(
            request(Shadow, Live, twice),
            &SignOffPolicy::default(),
            false,
            now(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "a.jones signs as clinical_safety_officer more than once; \
             list each person's sign-off in a role once"
        );
    }

    #[test]
    fn an_alert_may_only_suspend() {
        let mut suspension = request(
            Live,
            Suspended,
            vec![sign("a.jones", Role::ClinicalSafetyOfficer)],
        );
        suspension.proposed_by_alert = true;
        assert!(decide(suspension.clone(), &SignOffPolicy::default(), false, now()).is_ok());
        // The alert still needs the safety officer's signature.
        suspension.sign_offs.clear();
        assert!(matches!(
            decide(suspension, &SignOffPolicy::default(), false, now()),
            Err(TransitionError::MissingSignOff { .. })
        ));
        let mut retirement = request(
            Live,
            Retired,
            vec![sign("a.jones", Role::ClinicalSafetyOfficer)],
        );
        retirement.proposed_by_alert = true;
        assert_eq!(
            decide(retirement, &SignOffPolicy::default(), false, now())
                .unwrap_err()
                .to_string(),
            "a monitoring alert may only suspend a live deployment (live → suspended); \
             live → retired must be requested by a person"
        );
    }

    #[test]
    fn evidence_references_are_one_line() {
        assert_eq!(
            EvidenceReference::parse(" https://example.nhs.uk/safety-case.pdf ")
                .unwrap()
                .as_str(),
            "https://example.nhs.uk/safety-case.pdf"
        );
        assert_eq!(
            EvidenceReference::parse("evaluation:42\nevaluation:43"),
            Err(DomainError::LineBreak {
                field: "evidence reference"
            })
        );
        assert_eq!(
            EvidenceReference::parse("").unwrap_err().to_string(),
            "evidence reference is empty; a non-blank value is required"
        );
    }
}
