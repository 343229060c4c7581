//! Conversions from the store's records to the API's wire types.

use vigil_api_types::wire::{
    DecisionView, DeploymentView, EvaluationView, OrganisationView, PendingSignOffView,
    ProductView, SignOffView, ThresholdView, TokenView, UserView, VersionView,
};
use vigil_domain::Organisation;
use vigil_store::rows::stored_timestamp;
use vigil_store::{
    ApiTokenRecord, DecisionRecord, DeploymentRecord, EvaluationRecord, PendingSignOff,
    ProductRecord, UserRecord,
};

pub fn organisation(organisation: &Organisation) -> OrganisationView {
    OrganisationView {
        code: organisation.code.to_string(),
        name: organisation.name.to_string(),
        kind: organisation.kind.as_str().to_owned(),
        parent: organisation.parent.as_ref().map(ToString::to_string),
    }
}

pub fn user(user: &UserRecord) -> UserView {
    UserView {
        id: user.id,
        user_name: user.user_name.to_string(),
        display_name: user.display_name.to_string(),
        role: user.role.as_str().to_owned(),
        organisation: user.organisation.to_string(),
        disabled: user.disabled,
        created_at: stored_timestamp(user.created_at),
    }
}

pub fn token(token: &ApiTokenRecord) -> TokenView {
    TokenView {
        id: token.id,
        name: token.name.to_string(),
        organisation: token.organisation.to_string(),
        role: token.role.as_str().to_owned(),
        created_by: token.created_by.clone(),
        created_at: stored_timestamp(token.created_at),
        last_used_at: token.last_used_at.map(stored_timestamp),
        revoked_at: token.revoked_at.map(stored_timestamp),
    }
}

pub fn product(record: &ProductRecord) -> ProductView {
    let product = &record.product;
    ProductView {
        id: record.id.0,
        vendor: product.vendor.to_string(),
        name: product.name.to_string(),
        intended_purpose: product.intended_purpose.to_string(),
        modality: product.modality.as_str().to_owned(),
        body_part: product.body_part.to_string(),
        task_type: product.task_type.as_str().to_owned(),
        regulatory_class: product.regulatory_class.as_str().to_owned(),
        marking: product.marking.to_string(),
        created_at: stored_timestamp(record.created_at),
        versions: record
            .versions
            .iter()
            .map(|version| VersionView {
                id: version.id.0,
                product: version.product.0,
                version: version.version.version.to_string(),
                release_date: version.version.release_date.to_string(),
                change_notes: version.version.change_notes.to_string(),
                change_kind: version.version.change_kind.as_str().to_owned(),
                created_at: stored_timestamp(version.created_at),
            })
            .collect(),
    }
}

pub fn decision(record: &DecisionRecord) -> DecisionView {
    let decision = &record.decision;
    DecisionView {
        id: record.id,
        version: record.version.0,
        from: decision.from.as_str().to_owned(),
        to: decision.to.as_str().to_owned(),
        sign_offs: decision
            .sign_offs
            .iter()
            .map(|sign_off| SignOffView {
                actor: sign_off.actor.to_string(),
                role: sign_off.role.as_str().to_owned(),
            })
            .collect(),
        rationale: decision.rationale.to_string(),
        evidence: decision
            .evidence
            .iter()
            .map(|reference| reference.as_str().to_owned())
            .collect(),
        decided_at: stored_timestamp(decision.decided_at),
        recorded_by: record.recorded_by.clone(),
        audit_sequence: record.audit_sequence,
    }
}

pub fn deployment(record: &DeploymentRecord) -> DeploymentView {
    let deployment = &record.deployment;
    DeploymentView {
        id: record.id.0,
        product: record.product.0,
        version: record.version.0,
        site: deployment.site.to_string(),
        owning_team: deployment.owning_team.to_string(),
        thresholds: deployment
            .thresholds
            .iter()
            .map(|(name, value)| ThresholdView {
                name: name.to_string(),
                value: value.get(),
            })
            .collect(),
        change_control: deployment
            .change_control
            .kinds()
            .map(|kind| kind.as_str().to_owned())
            .collect(),
        state: record.state.as_str().to_owned(),
        revision: record.revision,
        created_at: stored_timestamp(record.created_at),
        decisions: record.decisions.iter().map(decision).collect(),
    }
}

pub fn pending_sign_off(sign_off: &PendingSignOff) -> PendingSignOffView {
    PendingSignOffView {
        user_name: sign_off.user_name.to_string(),
        role: sign_off.role.as_str().to_owned(),
        to: sign_off.to.as_str().to_owned(),
        revision: sign_off.revision,
        signed_at: stored_timestamp(sign_off.signed_at),
    }
}

pub fn evaluation(record: &EvaluationRecord, with_result: bool) -> EvaluationView {
    EvaluationView {
        id: record.id,
        deployment: record.deployment.0,
        version: record.version.0,
        verdict: record.verdict.clone(),
        cases_sha256: record.cases_sha256.clone(),
        cases_bytes: record.cases_bytes,
        created_by: record.created_by.clone(),
        created_at: stored_timestamp(record.created_at),
        audit_sequence: record.audit_sequence,
        result: with_result
            .then(|| serde_json::from_str(&record.result).ok())
            .flatten(),
    }
}
