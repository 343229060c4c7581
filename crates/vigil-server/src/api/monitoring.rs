//! Live monitoring: batches of inference events from the hospital's systems,
//! and the day aggregates dashboards and rules read.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::{Extension, Json};
use vigil_api_types::ErrorCode;
use vigil_api_types::wire::{
    DayAggregateView, IngestResult, OutcomeCountsView, OutcomeIngestResult,
};
use vigil_monitor::{BatchError, EventFormat, parse_batch, parse_outcomes};
use vigil_store::{DeploymentId, Store};

use super::registry::deployment_in_scope;
use super::scope_of;
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

/// Stores a batch of inference events (NDJSON, `application/x-ndjson`, or
/// CSV, `text/csv`; gzip welcome) for a deployment. The batch is validated
/// whole first: any problem refuses all of it, naming rows and fields, and
/// stores nothing. Case identifiers are pseudonymised on arrival with the
/// Trust's key. Events already stored (same `event_id`) are not stored
/// again, so a batch may be resent safely. A 2xx answer means the events are
/// on disk.
#[utoipa::path(post, path = "/api/v1/deployments/{id}/events", tag = "monitoring",
    params(("id" = i64, Path, description = "Deployment id")),
    request_body(content(
        (String = "application/x-ndjson"),
        (String = "text/csv"),
    ), description = "At most 100,000 events"),
    responses((status = 200, description = "Stored", body = IngestResult)))]
pub async fn ingest_events<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<IngestResult>, ApiError> {
    let (batch, body_sha256) = read_batch(
        &state,
        &principal,
        id,
        &headers,
        body,
        "events",
        parse_batch,
    )
    .await?;
    let summary = state
        .store
        .ingest_events(
            &principal.context(),
            DeploymentId(id),
            &batch.events,
            &body_sha256,
        )
        .await?;
    Ok(Json(IngestResult {
        batch: summary.batch,
        received: summary.received,
        stored: summary.stored,
        duplicates: summary.duplicates,
    }))
}

/// A reader of a whole batch: bytes, format, the Trust's key, arrival time.
type BatchParser<T> = fn(
    &[u8],
    EventFormat,
    Option<&vigil_domain::PseudonymKey>,
    jiff::Timestamp,
) -> Result<T, BatchError>;

/// A batch for a deployment in the caller's scope, read and validated whole
/// by `parse` off the async threads, with the SHA-256 of its body.
async fn read_batch<S: Store, T: Send + 'static>(
    state: &AppState<S>,
    principal: &Principal,
    id: i64,
    headers: &HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
    what: &str,
    parse: BatchParser<T>,
) -> Result<(T, String), ApiError> {
    let scope = scope_of(state, principal).await?;
    deployment_in_scope(state, &scope, id).await?;
    let body = body.map_err(super::body_error)?;
    let format = batch_format(headers, what)?;
    let key = state.config.pseudonym_key.clone();
    let received_at = jiff::Timestamp::now();
    let body_sha256 = vigil_store::rows::sha256_hex_bytes(&body);
    let batch = tokio::task::spawn_blocking(move || {
        parse(&body, format, key.as_ref().map(|key| &key.0), received_at)
    })
    .await
    .map_err(|error| {
        ApiError::new(ErrorCode::Internal, "the server failed; see its log").internal(error)
    })?
    .map_err(batch_error)?;
    Ok((batch, body_sha256))
}

/// The format a batch's `Content-Type` names.
fn batch_format(headers: &HeaderMap, what: &str) -> Result<EventFormat, ApiError> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(EventFormat::from_content_type)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::UnsupportedMediaType,
                format!(
                    "send {what} as NDJSON (Content-Type: application/x-ndjson) or CSV (text/csv)"
                ),
            )
        })
}

/// Records a batch of outcomes (NDJSON or CSV; gzip welcome) for a
/// deployment's cases: `case_id`, `label`, `source` (pathology, follow_up,
/// report or reader), `recorded_at`, and for a reader optionally
/// `reader_agrees`. Validated whole first, all or nothing, case identifiers
/// pseudonymised as for events. The day aggregates of the cases' events
/// change at once, whenever the events arrived; a resent outcome is not
/// stored twice, and one resent with other content is refused.
#[utoipa::path(post, path = "/api/v1/deployments/{id}/outcomes", tag = "monitoring",
    params(("id" = i64, Path, description = "Deployment id")),
    request_body(content(
        (String = "application/x-ndjson"),
        (String = "text/csv"),
    ), description = "At most 100,000 outcomes"),
    responses((status = 200, description = "Stored", body = OutcomeIngestResult)))]
pub async fn ingest_outcomes<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<OutcomeIngestResult>, ApiError> {
    let (batch, body_sha256) = read_batch(
        &state,
        &principal,
        id,
        &headers,
        body,
        "outcomes",
        parse_outcomes,
    )
    .await?;
    let summary = state
        .store
        .ingest_outcomes(
            &principal.context(),
            DeploymentId(id),
            &batch.outcomes,
            &body_sha256,
        )
        .await?;
    Ok(Json(OutcomeIngestResult {
        batch: summary.batch,
        received: summary.received,
        stored: summary.stored,
        duplicates: summary.duplicates,
        events_updated: summary.events_updated,
    }))
}

/// A refused batch, with its listed row errors as details.
fn batch_error(error: BatchError) -> ApiError {
    let details = match &error {
        BatchError::Rows { errors, total } => Some(serde_json::json!({
            "total": total,
            "errors": errors
                .iter()
                .map(|error| serde_json::json!({"row": error.row, "field": error.field, "message": error.message}))
                .collect::<Vec<_>>(),
        })),
        _ => None,
    };
    let api_error = ApiError::new(ErrorCode::InvalidRequest, error.to_string());
    match details {
        Some(details) => api_error.details(details),
        None => api_error,
    }
}

/// The day aggregates of a deployment's events, oldest day first.
#[utoipa::path(get, path = "/api/v1/deployments/{id}/aggregates", tag = "monitoring",
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 200, description = "Day aggregates", body = Vec<DayAggregateView>)))]
pub async fn day_aggregates<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Vec<DayAggregateView>>), ApiError> {
    let scope = scope_of(&state, &principal).await?;
    deployment_in_scope(&state, &scope, id).await?;
    let aggregates = state.store.daily_aggregates(DeploymentId(id)).await?;
    Ok((
        StatusCode::OK,
        Json(
            aggregates
                .into_iter()
                .map(|(key, aggregate)| day_view(key.day.to_string(), key.model_version, aggregate))
                .collect(),
        ),
    ))
}

/// A day's aggregate as the API shows it.
fn day_view(
    day: String,
    model_version: String,
    aggregate: vigil_monitor::DayAggregate,
) -> DayAggregateView {
    DayAggregateView {
        day,
        model_version,
        events: aggregate.events,
        scored: aggregate.scored,
        score_histogram: aggregate.score_histogram,
        decided: aggregate.decided,
        positive_decisions: aggregate.positive_decisions,
        categories: aggregate.categories,
        measurements: aggregate.measurements,
        outcomes: OutcomeCountsView {
            labelled: aggregate.outcomes.labelled,
            positives: aggregate.outcomes.positives,
            true_positives: aggregate.outcomes.true_positives,
            false_positives: aggregate.outcomes.false_positives,
            true_negatives: aggregate.outcomes.true_negatives,
            false_negatives: aggregate.outcomes.false_negatives,
            positive_scores: aggregate.outcomes.positive_scores,
            negative_scores: aggregate.outcomes.negative_scores,
            reader_reviewed: aggregate.outcomes.reader_reviewed,
            reader_disagreed: aggregate.outcomes.reader_disagreed,
        },
    }
}

/// The query of an organisation's aggregates.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganisationAggregatesQuery {
    /// The product whose deployments are summed (required).
    pub product: Option<String>,
    /// First day (YYYY-MM-DD, UTC); 90 days before `to` when absent.
    pub from: Option<String>,
    /// Last day; today when absent.
    pub to: Option<String>,
}

/// The day aggregates of a product's deployments at an organisation and
/// every site below it (those the caller may see), summed day by day over
/// sites and model versions (`model_version` is `all`): aggregates merge by
/// addition, so a region's day is the sum of its Trusts'.
#[utoipa::path(get, path = "/api/v1/organisations/{code}/aggregates", tag = "monitoring",
    params(("code" = String, Path, description = "Organisation code"), OrganisationAggregatesQuery),
    responses((status = 200, description = "Summed day aggregates, oldest first", body = Vec<DayAggregateView>)))]
pub async fn organisation_aggregates<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
    Path(code): Path<String>,
    axum::extract::Query(query): axum::extract::Query<OrganisationAggregatesQuery>,
) -> Result<Json<Vec<DayAggregateView>>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    // A code outside the caller's organisation answers as one that does
    // not exist; text that is not a code is not repeated.
    let organisation = match vigil_domain::Code::parse(&code) {
        Ok(organisation) if scope.includes(&organisation) => organisation,
        Ok(organisation) => {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("organisation {organisation} does not exist"),
            ));
        }
        Err(_) => {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                "no organisation has that code",
            ));
        }
    };
    let product: i64 = query
        .product
        .as_deref()
        .and_then(|text| text.trim().parse().ok())
        .ok_or_else(|| super::invalid("product", "must name a product by its id"))?;
    let (from, to) = super::alerts::period(query.from.as_deref(), query.to.as_deref())?;
    let mut summed: std::collections::BTreeMap<jiff::civil::Date, vigil_monitor::DayAggregate> =
        std::collections::BTreeMap::new();
    for deployment in state.store.deployments().await? {
        let site = &deployment.deployment.site;
        if deployment.product.0 != product
            || !scope.includes(site)
            || !scope.tree.is_within(site, &organisation)
        {
            continue;
        }
        for (key, aggregate) in state.store.daily_aggregates(deployment.id).await? {
            if key.day >= from && key.day <= to {
                summed
                    .entry(key.day)
                    .or_insert_with(vigil_monitor::DayAggregate::empty)
                    .merge(&aggregate);
            }
        }
    }
    Ok(Json(
        summed
            .into_iter()
            .map(|(day, aggregate)| day_view(day.to_string(), "all".to_owned(), aggregate))
            .collect(),
    ))
}
