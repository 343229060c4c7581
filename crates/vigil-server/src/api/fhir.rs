//! FHIR R4 intake: `POST /fhir` with a Bundle, a DiagnosticReport or an
//! Observation (`application/fhir+json`) from the RIS or EPR. Reports and
//! observations are read by `vigil-fhir` with the routes of the `[reports]`
//! configuration into outcomes, which are stored per deployment, all or
//! nothing, as `POST …/outcomes` stores them; a route's deployment must be
//! the caller's Trust's. Every DiagnosticReport's times (examination and
//! issue) are kept for turnaround audits, whether or not a route takes it.
//! The answer is an OperationOutcome with an issue a resource (and one more
//! a timed report): information for what was stored, an error or warning
//! with the reason for the rest; 200 when anything was stored, 422 when
//! nothing was.

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
use vigil_domain::ReportChannel;
use vigil_store::Store;

use super::dicomweb::{body_of, callers_trust, trust_key};
use super::invalid;
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

/// What became of one resource: its outcome, or its report times.
enum Issue {
    Outcome(Result<(), String>),
    Times(Result<(), String>),
}

/// Records the outcomes of FHIR reports and observations, and the times of
/// reports.
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
    context.actor.organisation = trust.clone();
    let mut timings = Vec::new();
    let mut timing_issues = Vec::new();
    let named = readings
        .into_iter()
        .map(|reading| {
            let place = if reading.entry == 0 {
                "the resource".to_owned()
            } else {
                format!("entry {}", reading.entry)
            };
            match reading.timing {
                Some(Ok(timing)) => {
                    timings.push(timing);
                    timing_issues.push((place.clone(), Ok(())));
                }
                Some(Err(reason)) => timing_issues.push((place.clone(), Err(reason))),
                None => {}
            }
            (place, reading.result)
        })
        .collect();
    state
        .store
        .record_report_times(&trust, ReportChannel::Fhir, received_at, &timings)
        .await?;
    let issues = crate::intake::store_outcomes(&state.store, &context, named, &digest).await?;
    let stored = issues.iter().any(|(_, outcome)| outcome.is_ok()) || !timings.is_empty();
    let mut issues: Vec<(String, Issue)> = issues
        .into_iter()
        .map(|(place, outcome)| (place, Issue::Outcome(outcome)))
        .chain(
            timing_issues
                .into_iter()
                .map(|(place, times)| (place, Issue::Times(times))),
        )
        .collect();
    // Entries in the order sent ("the resource" stands alone), each
    // entry's outcome before its times.
    issues.sort_by_key(|(place, _)| {
        place
            .strip_prefix("entry ")
            .and_then(|number| number.parse::<usize>().ok())
            .unwrap_or(0)
    });
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
                Issue::Outcome(Ok(())) => json!({"severity": "information", "code": "informational",
                    "diagnostics": format!("{place}: outcome recorded"), "expression": expression}),
                Issue::Outcome(Err(reason)) => json!({"severity": "error", "code": "processing",
                    "diagnostics": format!("{place}: {reason}"), "expression": expression}),
                Issue::Times(Ok(())) => json!({"severity": "information", "code": "informational",
                    "diagnostics": format!("{place}: report times recorded"), "expression": expression}),
                Issue::Times(Err(reason)) => json!({"severity": "warning", "code": "processing",
                    "diagnostics": format!("{place}: {reason}"), "expression": expression}),
            }
        })
        .collect();
    let status = if stored {
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
