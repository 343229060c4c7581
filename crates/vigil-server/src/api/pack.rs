//! The governance pack of a deployment, as PDF or HTML.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use vigil_api_types::ErrorCode;
use vigil_store::{DeploymentId, Store};

use super::registry::deployment_in_scope;
use super::{invalid, scope_of};
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

/// Options of the governance pack.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PackQuery {
    /// `pdf` (the default) or `html`.
    pub format: Option<String>,
}

/// The governance pack of a deployment: procurement, local validation, the
/// clinical safety case, monitoring with its charts and alerts, the
/// productivity audit, decisions with their sign-offs, and the audit
/// chain's checkpoint. Made from stored data only, so the same database
/// gives the same bytes.
#[utoipa::path(get, path = "/api/v1/deployments/{id}/governance-pack", tag = "safety",
    params(("id" = i64, Path, description = "Deployment id"), PackQuery),
    responses((status = 200, description = "The pack as PDF, or as a self-contained HTML page with format=html", content(
        (String = "application/pdf"),
        (String = "text/html"),
    ))))]
pub async fn governance_pack<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    Query(query): Query<PackQuery>,
) -> Result<Response, ApiError> {
    let as_pdf = match query.format.as_deref().map(str::trim) {
        None | Some("pdf") => true,
        Some("html") => false,
        Some(_) => return Err(invalid("format", "must be pdf or html")),
    };
    let scope = scope_of(&state, &principal).await?;
    deployment_in_scope(&state, &scope, id).await?;
    let pack = vigil_pack::gather(&state.store, DeploymentId(id)).await?;
    let file_name = format!("governance-pack-deployment-{id}");
    if !as_pdf {
        return Ok((
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:".to_owned(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"{file_name}.html\""),
                ),
            ],
            vigil_pack::html(&pack),
        )
            .into_response());
    }
    // Typesetting takes a CPU for a moment: off the async threads.
    let document = tokio::task::spawn_blocking(move || vigil_pack::pdf(&pack))
        .await
        .map_err(|error| {
            ApiError::new(ErrorCode::Internal, "the server failed; see its log")
                .internal(format!("the governance pack's task failed: {error}"))
        })?
        .map_err(|error| {
            ApiError::new(ErrorCode::Internal, "the server failed; see its log")
                .internal(format!("deployment {id}'s governance pack: {error}"))
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{file_name}.pdf\""),
            ),
        ],
        document,
    )
        .into_response())
}
