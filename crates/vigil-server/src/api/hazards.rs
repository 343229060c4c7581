//! The hazard log of a deployment (DCB0160): hazards with their controls and
//! ratings, every revision kept, and alerts that put hazards under review.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use vigil_api_types::ErrorCode;
use vigil_api_types::wire::{HazardEdit, HazardLink, HazardRevisionView, HazardView, NewHazard};
use vigil_domain::Hazard;
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
