//! Success criteria and the productivity audit: what a deployment must show
//! to scale, registered before go-live, and what its report turnaround has
//! shown since.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;
use vigil_api_types::ErrorCode;
use vigil_api_types::wire::{ProductivityView, SuccessCriteriaEdit, SuccessCriteriaView};
use vigil_monitor::productivity::{Milestone, SuccessCriteria, SuccessCriterion, audit};
use vigil_store::rows::stored_timestamp;
use vigil_store::{DeploymentId, Store, SuccessCriteriaRecord};

use super::registry::deployment_in_scope;
use super::{ApiJson, invalid, parse_text, scope_of};
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

/// At most this many criteria in one registration.
const MAXIMUM_CRITERIA: usize = 20;

fn criteria_view(record: &SuccessCriteriaRecord) -> SuccessCriteriaView {
    SuccessCriteriaView {
        deployment: record.deployment.0,
        version: record.version,
        criteria: serde_json::to_value(&record.criteria).unwrap_or_default(),
        rationale: record.rationale.clone(),
        registered_by: record.registered_by.clone(),
        registered_at: stored_timestamp(record.registered_at),
    }
}

/// The success criteria in force for a deployment.
#[utoipa::path(get, path = "/api/v1/deployments/{id}/success-criteria", tag = "monitoring",
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 200, description = "The criteria in force", body = SuccessCriteriaView)))]
pub async fn get_success_criteria<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<SuccessCriteriaView>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    deployment_in_scope(&state, &scope, id).await?;
    match state.store.success_criteria(DeploymentId(id)).await? {
        Some(record) => Ok(Json(criteria_view(&record))),
        None => Err(ApiError::new(
            ErrorCode::NotFound,
            format!(
                "deployment {id} has no success criteria (register them before go-live with PUT)"
            ),
        )),
    }
}

/// Registers a new version of a deployment's success criteria, checked
/// whole and audited with its rationale; refused once the deployment is
/// live (409), because a bar set after the results are seen proves nothing.
#[utoipa::path(put, path = "/api/v1/deployments/{id}/success-criteria", tag = "monitoring",
    request_body = SuccessCriteriaEdit,
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 201, description = "The new version", body = SuccessCriteriaView)))]
pub async fn put_success_criteria<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<SuccessCriteriaEdit>,
) -> Result<(StatusCode, Json<SuccessCriteriaView>), ApiError> {
    let scope = scope_of(&state, &principal).await?;
    deployment_in_scope(&state, &scope, id).await?;
    let criteria: Vec<SuccessCriterion> =
        serde_json::from_value(body.criteria).map_err(|error| {
            invalid(
                "criteria",
                format!("is not a list of success criteria: {error}"),
            )
        })?;
    if criteria.is_empty() || criteria.len() > MAXIMUM_CRITERIA {
        return Err(invalid(
            "criteria",
            format!("must hold between 1 and {MAXIMUM_CRITERIA} criteria"),
        ));
    }
    let problems: Vec<String> = criteria
        .iter()
        .enumerate()
        .filter_map(|(index, criterion)| {
            criterion
                .check()
                .err()
                .map(|problem| format!("criterion {}: {problem}", index + 1))
        })
        .collect();
    if !problems.is_empty() {
        return Err(invalid("criteria", problems.join("; ")));
    }
    let rationale = parse_text("rationale", &body.rationale)?;
    let record = state
        .store
        .register_success_criteria(
            &principal.context(),
            DeploymentId(id),
            &criteria,
            rationale.as_str(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(criteria_view(&record))))
}

/// Options of the productivity audit.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProductivityQuery {
    /// What turnaround runs to: `verified_report` (the first final, amended
    /// or corrected report; the default) or `first_report` (any status).
    pub milestone: Option<String>,
}

/// The productivity audit of a deployment: turnaround before and after
/// go-live, the cases it prioritised, and the verdicts on its success
/// criteria with a recommendation.
#[utoipa::path(get, path = "/api/v1/deployments/{id}/productivity", tag = "monitoring",
    params(("id" = i64, Path, description = "Deployment id"), ProductivityQuery),
    responses((status = 200, description = "The audit", body = ProductivityView)))]
pub async fn productivity<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    Query(query): Query<ProductivityQuery>,
) -> Result<Json<ProductivityView>, ApiError> {
    let milestone = match query.milestone.as_deref().map(str::trim) {
        None | Some("verified_report") => Milestone::VerifiedReport,
        Some("first_report") => Milestone::FirstReport,
        Some(_) => {
            return Err(invalid(
                "milestone",
                "must be verified_report or first_report",
            ));
        }
    };
    let scope = scope_of(&state, &principal).await?;
    let deployment = deployment_in_scope(&state, &scope, id).await?;
    // Every site lies under a Trust (the organisation tree is checked when
    // it is built), so this is the store's inconsistency, not the caller's.
    let Some(trust) = scope.trust_of(&deployment.deployment.site) else {
        return Err(
            ApiError::new(ErrorCode::Internal, "the server failed; see its log").internal(format!(
                "deployment {id}'s site {} lies under no Trust",
                deployment.deployment.site
            )),
        );
    };
    let inputs = state
        .store
        .productivity_inputs(DeploymentId(id), &trust)
        .await?;
    let criteria = state
        .store
        .success_criteria(DeploymentId(id))
        .await?
        .map(|record| SuccessCriteria {
            registered_at: record.registered_at,
            criteria: record.criteria,
        });
    // The bootstrap of two medians over many thousand cases: off the async
    // threads.
    let result = tokio::task::spawn_blocking(move || {
        audit(
            &inputs.cases,
            inputs.go_live_at,
            criteria.as_ref(),
            milestone,
        )
    })
    .await
    .map_err(|error| {
        ApiError::new(ErrorCode::Internal, "the server failed; see its log").internal(error)
    })?;
    Ok(Json(ProductivityView {
        deployment: id,
        trust: trust.to_string(),
        audit: serde_json::to_value(&result).unwrap_or_default(),
    }))
}
