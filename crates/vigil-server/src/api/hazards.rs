//! The hazard log of a deployment (DCB0160): hazards with their controls and
//! ratings, every revision kept, alerts that put hazards under review, and
//! the clinical safety case made from the log and signed by the clinical
//! safety officer.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use vigil_api_types::ErrorCode;
use vigil_api_types::wire::{
    HazardEdit, HazardLink, HazardRevisionView, HazardView, NewHazard, SafetyCaseSign,
    SafetyCaseSignatureView, SafetyCaseStatusView,
};
use vigil_domain::Hazard;
use vigil_reports::safety_case::{safety_case_report, safety_position};
use vigil_store::rows::stored_timestamp;
use vigil_store::{DeploymentId, HazardRecord, HazardRevision, Store, StoreError};

use super::alerts::alert_in_scope;
use super::registry::deployment_in_scope;
use super::{ApiJson, invalid, parse_text, scope_of};
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

type AppStateOf<S> = State<Arc<AppState<S>>>;

fn hazard_view(record: &HazardRecord) -> HazardView {
    let fields = record.hazard.fields();
    let residual = fields.residual.rating();
    HazardView {
        id: record.id,
        deployment: record.deployment.0,
        revision: record.revision,
        hazard: serde_json::to_value(&record.hazard).unwrap_or_default(),
        status: record.hazard.status().as_str().to_owned(),
        initial_rating: fields.initial.rating().get(),
        residual_rating: residual.get(),
        residual_acceptability: residual.acceptability().to_owned(),
        updated_by: record.updated_by.clone(),
        updated_at: stored_timestamp(record.updated_at),
        alerts: record.alerts.clone(),
    }
}

fn revision_view(revision: &HazardRevision) -> HazardRevisionView {
    HazardRevisionView {
        revision: revision.revision,
        hazard: serde_json::to_value(&revision.hazard).unwrap_or_default(),
        reason: revision.reason.clone(),
        alert: revision.alert,
        recorded_by: revision.recorded_by.clone(),
        recorded_at: stored_timestamp(revision.recorded_at),
    }
}

/// Reads a hazard sent as JSON through every check of `vigil_domain::Hazard`.
fn parse_hazard(value: serde_json::Value) -> Result<Hazard, ApiError> {
    serde_json::from_value(value).map_err(|error| invalid("hazard", error))
}

/// A hazard of a deployment the caller may see (another Trust's looks
/// missing).
async fn hazard_in_scope<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    id: i64,
) -> Result<HazardRecord, ApiError> {
    let missing = || ApiError::new(ErrorCode::NotFound, format!("hazard {id} does not exist"));
    let record = match state.store.hazard(id).await {
        Ok(record) => record,
        Err(StoreError::NotFound { .. }) => return Err(missing()),
        Err(error) => return Err(error.into()),
    };
    let scope = scope_of(state, principal).await?;
    deployment_in_scope(state, &scope, record.deployment.0)
        .await
        .map_err(|_| missing())?;
    Ok(record)
}

/// The hazard log of a deployment, in the order the hazards were added.
#[utoipa::path(get, path = "/api/v1/deployments/{id}/hazards", tag = "safety",
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 200, description = "The hazard log", body = Vec<HazardView>)))]
pub async fn list_hazards<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<HazardView>>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    deployment_in_scope(&state, &scope, id).await?;
    let hazards = state.store.hazards(DeploymentId(id)).await?;
    Ok(Json(hazards.iter().map(hazard_view).collect()))
}

/// Adds a hazard to a deployment's log, checked whole (a residual risk
/// above the initial one, or a hazard marked controlled with no control or
/// an unacceptable residual risk, is refused) and audited.
#[utoipa::path(post, path = "/api/v1/deployments/{id}/hazards", tag = "safety", request_body = NewHazard,
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 201, description = "The hazard at revision 1", body = HazardView)))]
pub async fn add_hazard<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<NewHazard>,
) -> Result<(StatusCode, Json<HazardView>), ApiError> {
    let scope = scope_of(&state, &principal).await?;
    deployment_in_scope(&state, &scope, id).await?;
    let hazard = parse_hazard(body.hazard)?;
    let record = state
        .store
        .add_hazard(&principal.context(), DeploymentId(id), &hazard)
        .await?;
    Ok((StatusCode::CREATED, Json(hazard_view(&record))))
}

/// One hazard at its current revision.
#[utoipa::path(get, path = "/api/v1/hazards/{id}", tag = "safety",
    params(("id" = i64, Path, description = "Hazard id")),
    responses((status = 200, description = "The hazard", body = HazardView)))]
pub async fn get_hazard<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<HazardView>, ApiError> {
    let record = hazard_in_scope(&state, &principal, id).await?;
    Ok(Json(hazard_view(&record)))
}

/// Records a new revision of a hazard with its reason; a revision made
/// since the editor's `expected_revision` is a conflict (409).
#[utoipa::path(put, path = "/api/v1/hazards/{id}", tag = "safety", request_body = HazardEdit,
    params(("id" = i64, Path, description = "Hazard id")),
    responses((status = 200, description = "The new revision", body = HazardView)))]
pub async fn update_hazard<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<HazardEdit>,
) -> Result<Json<HazardView>, ApiError> {
    hazard_in_scope(&state, &principal, id).await?;
    let hazard = parse_hazard(body.hazard)?;
    let reason = parse_text("reason", &body.reason)?;
    let record = state
        .store
        .update_hazard(
            &principal.context(),
            id,
            &hazard,
            reason.as_str(),
            body.expected_revision,
        )
        .await?;
    Ok(Json(hazard_view(&record)))
}

/// Every revision of a hazard, oldest first, with the reason for each.
#[utoipa::path(get, path = "/api/v1/hazards/{id}/history", tag = "safety",
    params(("id" = i64, Path, description = "Hazard id")),
    responses((status = 200, description = "The revisions", body = Vec<HazardRevisionView>)))]
pub async fn hazard_history<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<HazardRevisionView>>, ApiError> {
    hazard_in_scope(&state, &principal, id).await?;
    let history = state.store.hazard_history(id).await?;
    Ok(Json(history.iter().map(revision_view).collect()))
}

/// Links an alert to a hazard of its deployment: the hazard goes under
/// review until the alert is resolved, when the resolution is recorded as
/// its reassessment.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/hazards", tag = "safety", request_body = HazardLink,
    params(("id" = i64, Path, description = "Alert id")),
    responses((status = 200, description = "The hazard, under review", body = HazardView)))]
pub async fn link_alert<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<HazardLink>,
) -> Result<Json<HazardView>, ApiError> {
    alert_in_scope(&state, &principal, id).await?;
    hazard_in_scope(&state, &principal, body.hazard).await?;
    let note = parse_text("note", &body.note)?;
    let record = state
        .store
        .link_alert_to_hazard(&principal.context(), id, body.hazard, note.as_str())
        .await?;
    Ok(Json(hazard_view(&record)))
}

fn signature_view(signature: &vigil_store::SafetyCaseSignature) -> SafetyCaseSignatureView {
    SafetyCaseSignatureView {
        id: signature.id,
        log_sha256: signature.log_sha256.clone(),
        report_sha256: signature.report_sha256.clone(),
        statement: signature.statement.clone(),
        signed_by: signature.signed_by.clone(),
        role: signature.role.clone(),
        signed_at: stored_timestamp(signature.signed_at),
    }
}

/// The clinical safety case report of a deployment, made now from its
/// hazard log and the evidence its controls cite (self-contained HTML).
#[utoipa::path(get, path = "/api/v1/deployments/{id}/safety-case", tag = "safety",
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 200, description = "The HTML report", content_type = "text/html", body = String)))]
pub async fn safety_case_report_page<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    let deployment = deployment_in_scope(&state, &scope, id).await?;
    let inputs = vigil_store::safety::safety_case_inputs(&state.store, &deployment).await?;
    let report = safety_case_report(&inputs);
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
            ),
        ],
        report,
    )
        .into_response())
}

/// Where a deployment's safety case stands, and its signatures.
#[utoipa::path(get, path = "/api/v1/deployments/{id}/safety-case/signatures", tag = "safety",
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 200, description = "The safety case's position and signatures", body = SafetyCaseStatusView)))]
pub async fn safety_case_status<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<SafetyCaseStatusView>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    let deployment = deployment_in_scope(&state, &scope, id).await?;
    let inputs = vigil_store::safety::safety_case_inputs(&state.store, &deployment).await?;
    let (acceptable, concerns) = safety_position(&inputs);
    let signatures = state.store.safety_case_signatures(DeploymentId(id)).await?;
    Ok(Json(SafetyCaseStatusView {
        deployment: id,
        signed: signatures
            .first()
            .is_some_and(|signature| signature.log_sha256 == inputs.log_sha256),
        log_sha256: inputs.log_sha256,
        hazards: inputs.hazards.len(),
        acceptable,
        concerns,
        signatures: signatures.iter().map(signature_view).collect(),
    }))
}

/// The clinical safety officer signs the safety case made from the hazard
/// log with digest `log_sha256`; if the log has changed since (another
/// digest now), the signature is refused (409) so that nobody signs what
/// they did not read. Audited.
#[utoipa::path(post, path = "/api/v1/deployments/{id}/safety-case/signatures", tag = "safety",
    request_body = SafetyCaseSign,
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 201, description = "The signature", body = SafetyCaseSignatureView)))]
pub async fn sign_safety_case<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<SafetyCaseSign>,
) -> Result<(StatusCode, Json<SafetyCaseSignatureView>), ApiError> {
    let scope = scope_of(&state, &principal).await?;
    let deployment = deployment_in_scope(&state, &scope, id).await?;
    let digest = body.log_sha256.trim();
    if digest.len() != 64 || !digest.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(invalid(
            "log_sha256",
            "must be the 64 hexadecimal characters of the hazard log's digest",
        ));
    }
    let statement = parse_text("statement", &body.statement)?;
    let inputs = vigil_store::safety::safety_case_inputs(&state.store, &deployment).await?;
    let report = safety_case_report(&inputs);
    let signature = state
        .store
        .sign_safety_case(
            &principal.context(),
            DeploymentId(id),
            &digest.to_ascii_lowercase(),
            &vigil_store::rows::sha256_hex(&report),
            statement.as_str(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(signature_view(&signature))))
}
