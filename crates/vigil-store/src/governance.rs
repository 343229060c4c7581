//! The checks and audit entries of a write, made inside the backend's
//! transaction: the same for every database.

use serde_json::{Value, json};
use vigil_audit::{ChainHash, next_entry};
use vigil_domain::{
    ChangeKind, Code, Decision, LifecycleState, Role, SignOffPolicy, TransitionRequest, decide,
    state_for_new_version,
};

use crate::StoreError;
use crate::records::{ChangeContext, DeploymentId, ProductRecord, VersionId};
use crate::rows::{
    AuditHeadRow, AuditRow, DeploymentRow, OrganisationRow, ProductRow, UserRow, VersionRow,
    evidence_json, sign_offs_json, stored_timestamp,
};

/// Builds the next audit row after `previous` (the recorded head) and the
/// new head. Refuses to extend a chain whose head no longer parses.
pub fn audit_row(
    previous: Option<&AuditHeadRow>,
    context: &ChangeContext,
    action: &str,
    subject: &str,
    payload: &Value,
) -> Result<(AuditRow, AuditHeadRow), StoreError> {
    let previous = match previous {
        Some(head) => Some((
            u64::try_from(head.sequence)
                .map_err(|error| StoreError::corrupt("audit head sequence", error))?,
            ChainHash::from_hex(&head.hash)
                .map_err(|error| StoreError::corrupt("audit head hash", error))?,
        )),
        None => None,
    };
    let previous_hash = previous
        .as_ref()
        .map_or(ChainHash::GENESIS, |(_, hash)| *hash);
    let (record, hash) = next_entry(
        previous.as_ref().map(|(sequence, hash)| (sequence, hash)),
        context.at,
        context.actor.name.as_str().to_owned(),
        context.actor.role.as_str().to_owned(),
        context.actor.organisation.as_str().to_owned(),
        action.to_owned(),
        subject.to_owned(),
        payload.to_string(),
    );
    let sequence = i64::try_from(record.sequence)
        .map_err(|error| StoreError::corrupt("audit sequence", error))?;
    let row = AuditRow {
        sequence,
        recorded_at: stored_timestamp(record.recorded_at),
        actor: record.actor,
        role: record.role,
        organisation: record.organisation,
        action: record.action,
        subject: record.subject,
        payload: record.payload,
        previous_hash: previous_hash.to_hex(),
        hash: hash.to_hex(),
    };
    let head = AuditHeadRow {
        sequence,
        hash: row.hash.clone(),
    };
    Ok((row, head))
}

/// Checks a transition request against the deployment as it is now, inside
/// the write transaction: the state the caller saw must still be current,
/// and the lifecycle policy must allow it. Returns the decision and the roles
/// the policy required, which the audit entry records.
pub fn check_transition(
    current: &DeploymentRow,
    radiotherapy: bool,
    request: TransitionRequest,
    policy: &SignOffPolicy,
    context: &ChangeContext,
) -> Result<(Decision, Vec<Role>), StoreError> {
    let state = current.state()?;
    if state != request.from {
        return Err(StoreError::Conflict(format!(
            "deployment {} is {} now, not {}; another decision was recorded first: reload it and decide again",
            current.id, state, request.from
        )));
    }
    let required = policy.required_roles(request.from, request.to, radiotherapy);
    Ok((decide(request, policy, radiotherapy, context.at)?, required))
}

/// The audit payload of a recorded decision.
pub fn decision_payload(
    deployment: DeploymentId,
    version: i64,
    revision: i64,
    decision: &Decision,
    required_roles: &[Role],
) -> Value {
    json!({
        "required_roles": required_roles.iter().map(|role| role.as_str()).collect::<Vec<_>>(),
        "deployment": deployment.0,
        "version": version,
        "revision": revision,
        "from": decision.from.as_str(),
        "to": decision.to.as_str(),
        "sign_offs": sign_offs_json(&decision.sign_offs),
        "rationale": decision.rationale.as_str(),
        "evidence": evidence_json(&decision.evidence),
        "decided_at": stored_timestamp(decision.decided_at),
    })
}

/// The audit payload of a new organisation.
pub fn organisation_payload(row: &OrganisationRow) -> Value {
    json!({"code": row.code, "name": row.name, "kind": row.kind, "parent": row.parent})
}

/// The audit payload of a new user.
pub fn user_payload(row: &UserRow) -> Value {
    json!({
        "id": row.id,
        "user_name": row.user_name,
        "display_name": row.display_name,
        "role": row.role,
        "organisation": row.organisation,
    })
}

/// The audit payload of a new product.
pub fn product_payload(row: &ProductRow) -> Value {
    json!({
        "id": row.id,
        "vendor": row.vendor,
        "name": row.name,
        "intended_purpose": row.intended_purpose,
        "modality": row.modality,
        "body_part": row.body_part,
        "task_type": row.task_type,
        "regulatory_class": row.regulatory_class,
        "marking": row.marking,
    })
}

/// The audit payload of a new product version.
pub fn version_payload(row: &VersionRow) -> Value {
    json!({
        "id": row.id,
        "product": row.product_id,
        "version": row.version,
        "release_date": row.release_date,
        "change_kind": row.change_kind,
        "change_notes": row.change_notes,
    })
}

/// The audit payload of a new deployment.
pub fn deployment_payload(row: &DeploymentRow) -> Value {
    json!({
        "id": row.id,
        "product": row.product_id,
        "version": row.version_id,
        "site": row.site,
        "owning_team": row.owning_team,
        "thresholds": serde_json::from_str::<Value>(&row.thresholds).unwrap_or(Value::Null),
        "change_control": serde_json::from_str::<Value>(&row.change_control).unwrap_or(Value::Null),
        "state": row.state,
    })
}

/// Groups version rows under their product rows.
pub fn assemble_products(
    products: &[ProductRow],
    versions: &[VersionRow],
) -> Result<Vec<ProductRecord>, StoreError> {
    products
        .iter()
        .map(|product| {
            let own = versions
                .iter()
                .filter(|version| version.product_id == product.id)
                .map(VersionRow::to_domain)
                .collect::<Result<Vec<_>, _>>()?;
            product.to_domain(own)
        })
        .collect()
}

/// Checks that a deployment's site exists and is a site (not a Trust or
/// region). `kind` is the stored kind of the organisation, if it exists.
pub fn require_site(kind: Option<String>, site: &Code) -> Result<(), StoreError> {
    match kind.as_deref() {
        None => Err(StoreError::InvalidReference(format!(
            "organisation {site} does not exist"
        ))),
        Some("site") => Ok(()),
        Some(other) => Err(StoreError::InvalidReference(format!(
            "a deployment is at a site, but {site} is a {other}"
        ))),
    }
}

/// What upgrading a deployment to a newer version does.
#[derive(Debug, Clone, PartialEq)]
pub struct UpgradePlan {
    pub state_before: LifecycleState,
    pub state_after: LifecycleState,
    pub covered_by_change_control: bool,
    pub payload: Value,
}

/// Plans the upgrade of a deployment to `target`, which must be another
/// version of the same product. `versions` are all the product's versions in
/// the order they were registered. The deployment keeps its state only if its
/// change-control plan covers every kind of change between the deployed
/// version and the target (a version skipped over still changed the model);
/// going back to an earlier version is never covered.
pub fn plan_upgrade(
    current: &DeploymentRow,
    versions: &[VersionRow],
    target: VersionId,
) -> Result<UpgradePlan, StoreError> {
    let position = |id: i64| versions.iter().position(|version| version.id == id);
    let target_position = position(target.0).ok_or(StoreError::NotFound {
        what: "version",
        id: target.to_string(),
    })?;
    let target_row = &versions[target_position];
    if target_row.product_id != current.product_id {
        return Err(StoreError::InvalidReference(format!(
            "version {} belongs to product {}, but deployment {} deploys product {}",
            target_row.id, target_row.product_id, current.id, current.product_id
        )));
    }
    let current_position = position(current.version_id).ok_or_else(|| {
        StoreError::corrupt(
            "deployment version",
            format!(
                "version {} is not a version of its product",
                current.version_id
            ),
        )
    })?;
    if target_position == current_position {
        return Err(StoreError::InvalidReference(format!(
            "deployment {} already runs version {}",
            current.id, target_row.version
        )));
    }
    let state_before = current.state()?;
    if state_before == LifecycleState::Retired {
        return Err(StoreError::InvalidReference(format!(
            "deployment {} is retired and cannot be upgraded",
            current.id
        )));
    }
    let plan = current.change_control()?;
    let (state_after, covered, kinds) = if target_position < current_position {
        // A rollback is treated as an uncovered change: it re-enters
        // validation from shadow, live or suspended.
        let state = state_for_new_version(
            state_before,
            &vigil_domain::ChangeControlPlan::none(),
            ChangeKind::PerformanceUpdate,
        );
        (state, false, vec!["rollback".to_owned()])
    } else {
        let mut state = state_before;
        let mut covered = true;
        let mut kinds = Vec::new();
        for version in &versions[current_position + 1..=target_position] {
            let change = ChangeKind::parse(&version.change_kind)
                .map_err(|error| StoreError::corrupt("version change kind", error))?;
            covered &= plan.covers(change);
            state = state_for_new_version(state, &plan, change);
            kinds.push(change.as_str().to_owned());
        }
        (state, covered, kinds)
    };
    let previous = &versions[current_position];
    let payload = json!({
        "deployment": current.id,
        "from_version": previous.id,
        "from_version_string": previous.version,
        "to_version": target_row.id,
        "to_version_string": target_row.version,
        "change_kinds": kinds,
        "covered_by_change_control": covered,
        "state_before": state_before.as_str(),
        "state_after": state_after.as_str(),
    });
    Ok(UpgradePlan {
        state_before,
        state_after,
        covered_by_change_control: covered,
        payload,
    })
}

/// Why a person may not take part in a decision about a deployment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParticipationError {
    /// The deployment's site has no Trust above it.
    #[error("site {site} is not under a Trust")]
    NoTrust { site: Code },
    /// The person belongs outside the deploying Trust.
    #[error(
        "{who} belongs to {organisation}, outside {trust}, the Trust that runs this deployment"
    )]
    OutsideTrust {
        who: String,
        organisation: Code,
        trust: Code,
    },
    /// The person recording the decision holds none of the required roles.
    #[error("{who} ({role}) may not record {from} → {to}; it is recorded by one of its signers: {}", join_roles(.required))]
    NotASigner {
        who: String,
        role: Role,
        from: LifecycleState,
        to: LifecycleState,
        required: Vec<Role>,
    },
}

fn join_roles(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|role| role.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Trust that runs a deployment at `site` (the site itself when it is a
/// Trust). Decisions about a deployment are that Trust's: whoever records or
/// signs one belongs to it or to one of its sites.
pub fn deploying_trust(
    tree: &vigil_domain::OrganisationTree,
    site: &Code,
) -> Result<Code, ParticipationError> {
    tree.get(site)
        .into_iter()
        .chain(tree.ancestors(site))
        .find(|organisation| organisation.kind == vigil_domain::OrganisationKind::Trust)
        .map(|organisation| organisation.code.clone())
        .ok_or_else(|| ParticipationError::NoTrust { site: site.clone() })
}

/// Refuses a participant who belongs outside the deploying Trust.
pub fn check_within_trust(
    tree: &vigil_domain::OrganisationTree,
    trust: &Code,
    who: &str,
    organisation: &Code,
) -> Result<(), ParticipationError> {
    if tree.is_within(organisation, trust) {
        Ok(())
    } else {
        Err(ParticipationError::OutsideTrust {
            who: who.to_owned(),
            organisation: organisation.clone(),
            trust: trust.clone(),
        })
    }
}

/// Refuses a recorder who holds none of the roles the policy requires for
/// the transition: a decision is recorded by one of its signers.
pub fn check_recorder(
    who: &str,
    role: Role,
    from: LifecycleState,
    to: LifecycleState,
    required: &[Role],
) -> Result<(), ParticipationError> {
    if required.is_empty() || required.contains(&role) {
        Ok(())
    } else {
        Err(ParticipationError::NotASigner {
            who: who.to_owned(),
            role,
            from,
            to,
            required: required.to_vec(),
        })
    }
}
