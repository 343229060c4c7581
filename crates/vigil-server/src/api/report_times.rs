//! The times of reports the RIS sent (by FHIR or HL7 v2): when each case
//! was examined and its report issued, the raw material of turnaround
//! audits.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::{Extension, Json};
use jiff::Timestamp;
use serde::Deserialize;
use vigil_api_types::wire::{ReportTimePage, ReportTimeView};
use vigil_store::rows::stored_timestamp;
use vigil_store::{ReportTimeQuery, ReportTimeRecord, Store};

use super::{invalid, scope_of};
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

/// Filters and paging of report times.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportTimesQuery {
    /// Only the reports of this case (its pseudonym).
    pub case: Option<String>,
    /// Only reports issued at or after this moment (RFC 3339).
    pub issued_from: Option<String>,
    /// Only reports issued before this moment (RFC 3339).
    pub issued_before: Option<String>,
    /// Only times with an id below this (the next page).
    pub before: Option<i64>,
    /// At most this many (1 to 1000; 100 by default).
    pub limit: Option<u32>,
}

/// The report times of the Trusts within the caller's organisation, newest
/// recorded first.
#[utoipa::path(get, path = "/api/v1/report-times", tag = "intake", params(ReportTimesQuery),
    responses((status = 200, description = "A page of report times", body = ReportTimePage)))]
pub async fn list_report_times<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<ReportTimesQuery>,
) -> Result<Json<ReportTimePage>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(invalid("limit", "must be between 1 and 1000"));
    }
    let moment =
        |field: &'static str, raw: &Option<String>| -> Result<Option<Timestamp>, ApiError> {
            raw.as_deref()
                .map(|text| {
                    text.parse::<Timestamp>()
                        .map_err(|_| invalid(field, "is not an RFC 3339 time"))
                })
                .transpose()
        };
    let issued_from = moment("issued_from", &query.issued_from)?;
    let issued_before = moment("issued_before", &query.issued_before)?;
    if let Some(case) = &query.case
        && !vigil_domain::is_pseudonym(case)
    {
        return Err(invalid(
            "case",
            "is not a pseudonym (psn: and 32 hexadecimal characters)",
        ));
    }
    let scope = scope_of(&state, &principal).await?;
    let mut times = state
        .store
        .report_times(&ReportTimeQuery {
            trusts: Some(scope.codes_within()),
            case: query.case,
            issued_from,
            issued_before,
            before_id: query.before,
            limit: limit + 1,
        })
        .await?;
    let more = times.len() > limit as usize;
    times.truncate(limit as usize);
    Ok(Json(ReportTimePage {
        next_before: more.then(|| times.last().map(|last| last.id)).flatten(),
        times: times.iter().map(time_view).collect(),
    }))
}

fn time_view(record: &ReportTimeRecord) -> ReportTimeView {
    let timing = &record.timing;
    ReportTimeView {
        id: record.id,
        trust: record.trust.to_string(),
        case: timing.case().as_str().to_owned(),
        status: timing.status().as_str().to_owned(),
        examined_at: timing.examined_at().map(stored_timestamp),
        issued_at: stored_timestamp(timing.issued_at()),
        turnaround_minutes: timing
            .turnaround()
            .map(|duration| duration.as_secs_f64() / 60.0),
        channel: record.channel.as_str().to_owned(),
        received_at: stored_timestamp(record.received_at),
        reader: timing.reader().map(|reader| reader.as_str().to_owned()),
    }
}
