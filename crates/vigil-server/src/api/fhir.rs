//! FHIR R4 intake: `POST /fhir` with a Bundle, a DiagnosticReport or an
//! Observation (`application/fhir+json`) from the RIS or EPR. Reports and
//! observations are read by `vigil-fhir` with the routes of the `[reports]`
//! configuration into outcomes, which are stored per deployment, all or
//! nothing, as `POST …/outcomes` stores them; a route's deployment must be
//! the caller's Trust's. The answer is an OperationOutcome with an issue a
//! resource: information for those stored, an error with the reason for
//! the others; 200 when any was stored, 422 when none was.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use jiff::Timestamp;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use vigil_api_types::ErrorCode;
use vigil_store::Store;

use super::dicomweb::{body_of, callers_trust, trust_key};
use super::invalid;
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

/// Records the outcomes of FHIR reports and observations.
#[utoipa::path(post, path = "/fhir", tag = "fhir",
    request_body(content((Object = "application/fhir+json")), description = "A Bundle, DiagnosticReport or Observation (FHIR R4)"),
    responses(
        (status = 200, description = "OperationOutcome: some or all stored", content_type = "application/fhir+json"),
        (status = 422, description = "OperationOutcome: none stored", content_type = "application/fhir+json")))]
pub async fn receive<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_of(body)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if !["application/fhir+json", "application/json"].contains(&media) {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send FHIR as application/fhir+json",
        ));
    }
    let key = trust_key(&state)?;
    let trust = callers_trust(&state, &principal).await?;
    let routes = state.config.report_routes.clone();
    let received_at = Timestamp::now();
    let digest = hex::encode(Sha256::digest(&body));
    let readings = tokio::task::spawn_blocking(move || {
        vigil_fhir::read_outcomes(&body, &routes, &key.0, received_at)
    })
    .await
    .map_err(|error| {
        ApiError::new(ErrorCode::Internal, "the body could not be read").internal(error)
    })?
    .map_err(|error| invalid("body", error))?;

    let mut context = principal.context();
    context.actor.organisation = trust;
    let named = readings
        .into_iter()
        .map(|reading| {
            let place = if reading.entry == 0 {
                "the resource".to_owned()
            } else {
                format!("entry {}", reading.entry)
            };
            (place, reading.result)
        })
        .collect();
    let mut issues = crate::intake::store_outcomes(&state.store, &context, named, &digest).await?;
    // Entries in the order sent ("the resource" stands alone).
    issues.sort_by_key(|(place, _)| {
        place
            .strip_prefix("entry ")
            .and_then(|number| number.parse::<usize>().ok())
            .unwrap_or(0)
    });
    let stored = issues.iter().filter(|(_, outcome)| outcome.is_ok()).count();
    let issue: Vec<Value> = issues
        .iter()
        .map(|(place, outcome)| {
            let expression = match place
                .strip_prefix("entry ")
                .and_then(|n| n.parse::<usize>().ok())
            {
                Some(entry) => json!([format!("Bundle.entry[{}]", entry - 1)]),
                None => json!([]),
            };
            match outcome {
                Ok(()) => json!({"severity": "information", "code": "informational",
                    "diagnostics": format!("{place}: outcome recorded"), "expression": expression}),
                Err(reason) => json!({"severity": "error", "code": "processing",
                    "diagnostics": format!("{place}: {reason}"), "expression": expression}),
            }
        })
        .collect();
    let status = if stored > 0 {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        [(header::CONTENT_TYPE, "application/fhir+json")],
        Json(json!({"resourceType": "OperationOutcome", "issue": issue})),
    )
        .into_response())
}
