//! What the DICOM listener received: the log of instances by their
//! pseudonyms, and the quarantine administrators work through.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::{Extension, Json};
use serde::Deserialize;
use vigil_api_types::wire::{DicomInstancePage, DicomInstanceView};
use vigil_store::rows::stored_timestamp;
use vigil_store::{DicomDisposition, DicomInstanceQuery, DicomInstanceRecord, Store};

use super::{invalid, scope_of};
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

/// Filters and paging of received instances.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DicomInstancesQuery {
    /// Only `event`, `acquisition` or `quarantined` instances.
    pub disposition: Option<String>,
    /// Only instances with an id below this (the next page).
    pub before: Option<i64>,
    /// At most this many (1 to 1000; 100 by default).
    pub limit: Option<u32>,
}

/// The DICOM instances the Trusts within the caller's organisation have
/// sent, newest first; `disposition=quarantined` lists the quarantine.
#[utoipa::path(get, path = "/api/v1/dicom/instances", tag = "dicom", params(DicomInstancesQuery),
    responses((status = 200, description = "A page of received instances", body = DicomInstancePage)))]
pub async fn list_instances<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<DicomInstancesQuery>,
) -> Result<Json<DicomInstancePage>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(invalid("limit", "must be between 1 and 1000"));
    }
    if let Some(disposition) = &query.disposition
        && !["event", "acquisition", "quarantined"].contains(&disposition.as_str())
    {
        return Err(invalid(
            "disposition",
            "is not event, acquisition or quarantined",
        ));
    }
    let scope = scope_of(&state, &principal).await?;
    let trusts = scope.codes_within();
    let mut instances = state
        .store
        .dicom_instances(&DicomInstanceQuery {
            trusts: Some(trusts),
            disposition: query.disposition,
            study: None,
            before_id: query.before,
            limit: limit + 1,
        })
        .await?;
    let more = instances.len() > limit as usize;
    instances.truncate(limit as usize);
    Ok(Json(DicomInstancePage {
        next_before: more.then(|| instances.last().map(|last| last.id)).flatten(),
        instances: instances.iter().map(instance_view).collect(),
    }))
}

fn instance_view(record: &DicomInstanceRecord) -> DicomInstanceView {
    let (deployment, reason) = match &record.disposition {
        DicomDisposition::Event { deployment } => (Some(deployment.0), None),
        DicomDisposition::Acquisition { .. } => (None, None),
        DicomDisposition::Quarantined { reason } => (None, Some(reason.clone())),
    };
    DicomInstanceView {
        id: record.id,
        trust: record.trust.to_string(),
        sop_instance: record.sop_instance.as_str().to_owned(),
        sop_class_uid: record.sop_class_uid.clone(),
        kind: record.kind.clone(),
        study: record.study.as_str().to_owned(),
        modality: record.modality.clone(),
        calling_ae: record.calling_ae.clone(),
        received_at: stored_timestamp(record.received_at),
        disposition: record.disposition.as_str().to_owned(),
        deployment,
        reason,
        original_sha256: record.original_sha256.clone(),
    }
}
