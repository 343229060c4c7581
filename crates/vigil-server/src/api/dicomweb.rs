//! DICOMweb: STOW-RS to store instances over HTTP (`POST /dicomweb/studies`,
//! `multipart/related; type="application/dicom"`), and QIDO-RS to search
//! what was received (`GET /dicomweb/studies`, `GET /dicomweb/instances`).
//!
//! Stored instances take the path of the DIMSE listener's (read, routed,
//! ingested as events or quarantined, recorded by their pseudonyms), for the
//! Trust of the caller's organisation, with the routes of the `[dicom]`
//! configuration; a route's `calling_ae_titles` match the caller's name in
//! upper case. The STOW answer (PS3.18 10.5.3) lists each instance in
//! ReferencedSOPSequence or FailedSOPSequence with its failure reason;
//! 200 when all were stored, 202 when some were, 409 when none were. QIDO
//! answers carry de-identified UIDs (`2.25.` and the pseudonym as a number),
//! never the original ones; a search by an original UID pseudonymises it
//! first.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use vigil_api_types::ErrorCode;
use vigil_dicom::instance::deidentified_uid;
use vigil_dicom::{Arrival, ReadLimits};
use vigil_domain::{Code, IdentifierKind, pseudonymise};
use vigil_store::{DicomInstanceQuery, DicomInstanceRecord, Store};

use super::{invalid, scope_of};
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

/// Failure reasons of PS3.4 (C.4.2.1.4 and the STOW-RS table).
const PROCESSING_FAILURE: u16 = 0x0110;
const CANNOT_UNDERSTAND: u16 = 0xC000;
const DOES_NOT_MATCH: u16 = 0xA900;

/// The Trust the caller sends for: their organisation's (a Trust, or the
/// Trust of their site).
pub(crate) async fn callers_trust<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
) -> Result<Code, ApiError> {
    let scope = scope_of(state, principal).await?;
    scope.trust_of(&scope.organisation).ok_or_else(|| {
        ApiError::new(
            ErrorCode::Refused,
            "data from a hospital's systems belong to a Trust: use a token or account of a Trust or one of its sites",
        )
    })
}

/// The Trust's pseudonymisation key, without which nothing identifying may
/// be received.
pub(crate) fn trust_key<S: Store>(
    state: &AppState<S>,
) -> Result<crate::config::TrustKey, ApiError> {
    state.config.pseudonym_key.clone().ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unavailable,
            "the Trust's pseudonymisation key is not configured, so identifiers cannot be received",
        )
    })
}

/// The body of a request, or the client's error.
pub(crate) fn body_of(
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| ApiError::new(ErrorCode::InvalidRequest, rejection.body_text()))
}

/// Stores the instances of a multipart/related body (STOW-RS).
#[utoipa::path(post, path = "/dicomweb/studies", tag = "dicom",
    request_body(content((String = "multipart/related")), description = "DICOM Part 10 files, one a part"),
    responses(
        (status = 200, description = "All stored: ReferencedSOPSequence (DICOM JSON)"),
        (status = 202, description = "Some stored; FailedSOPSequence names the others"),
        (status = 409, description = "None stored")))]
pub async fn store_instances<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    stow(&state, &principal, &headers, body, None).await
}

/// Stores the instances of one study (STOW-RS); an instance of another
/// study fails with 0xA900.
#[utoipa::path(post, path = "/dicomweb/studies/{study}", tag = "dicom",
    params(("study" = String, Path, description = "The Study Instance UID every part must have")),
    request_body(content((String = "multipart/related")), description = "DICOM Part 10 files, one a part"),
    responses(
        (status = 200, description = "All stored: ReferencedSOPSequence (DICOM JSON)"),
        (status = 202, description = "Some stored; FailedSOPSequence names the others"),
        (status = 409, description = "None stored")))]
pub async fn store_study_instances<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
    Path(study): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    stow(&state, &principal, &headers, body, Some(study)).await
}

async fn stow<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    headers: &HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
    study: Option<String>,
) -> Result<Response, ApiError> {
    let body = body_of(body)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let boundary = vigil_dicom::multipart::boundary(content_type)
        .map_err(|error| ApiError::new(ErrorCode::UnsupportedMediaType, error.to_string()))?;
    let parts =
        vigil_dicom::multipart::parts(&body, &boundary).map_err(|error| invalid("body", error))?;
    let key = trust_key(state)?;
    let trust = callers_trust(state, principal).await?;
    let routes = state
        .config
        .dicom
        .as_ref()
        .map(|dicom| dicom.routes.clone())
        .unwrap_or_default();
    let zone = state
        .config
        .dicom
        .as_ref()
        .map(|dicom| dicom.time_zone.clone())
        .unwrap_or_else(|| {
            jiff::tz::TimeZone::get("Europe/London").unwrap_or(jiff::tz::TimeZone::UTC)
        });
    let originals = state
        .config
        .dicom
        .as_ref()
        .and_then(|dicom| dicom.originals.clone());
    let calling = principal.actor.name.as_str().to_ascii_uppercase();
    let wanted_study = study
        .map(|raw| pseudonymise(&key.0, IdentifierKind::DicomUid, &raw))
        .transpose()
        .map_err(|error| invalid("study", error))?;
    let mut context = principal.context();
    context.actor.organisation = trust;
    let mut referenced = Vec::new();
    let mut failed = Vec::new();
    for part in parts {
        if part
            .content_type
            .as_deref()
            .is_some_and(|kind| kind != "application/dicom")
        {
            failed.push(sop_item(None, None, Some(CANNOT_UNDERSTAND)));
            continue;
        }
        let received_at = Timestamp::now();
        let bytes = part.body.to_vec();
        let (part_routes, part_key, part_zone, part_calling) =
            (routes.clone(), key.clone(), zone.clone(), calling.clone());
        let (object, received, digest, bytes) = tokio::task::spawn_blocking(move || {
            let arrival = Arrival {
                key: &part_key.0,
                zone: &part_zone,
                calling_ae_title: &part_calling,
                received_at,
                limits: ReadLimits::default(),
            };
            let digest = hex::encode(Sha256::digest(&bytes));
            match vigil_dicom::parse_part10(&bytes, arrival.limits, true) {
                Ok(file) => {
                    let received =
                        vigil_dicom::receive_object(&file.data_set, &part_routes, arrival);
                    (Some(file.data_set), received, digest, bytes)
                }
                Err(error) => (None, Err(error.into()), digest, bytes),
            }
        })
        .await
        .map_err(|error| {
            ApiError::new(ErrorCode::Internal, "an instance could not be read").internal(error)
        })?;
        let text = |tag| {
            object
                .as_ref()
                .and_then(|object| vigil_dicom::attributes::text(object, tag))
        };
        let class = text(dicom_dictionary_std::tags::SOP_CLASS_UID);
        let instance = text(dicom_dictionary_std::tags::SOP_INSTANCE_UID);
        let received = match received {
            Ok(received) => received,
            Err(error) => {
                tracing::warn!(%error, "a STOW-RS part was refused");
                failed.push(sop_item(
                    class.as_deref(),
                    instance.as_deref(),
                    Some(CANNOT_UNDERSTAND),
                ));
                continue;
            }
        };
        if wanted_study
            .as_ref()
            .is_some_and(|wanted| *wanted != received.instance.study)
        {
            failed.push(sop_item(
                class.as_deref(),
                instance.as_deref(),
                Some(DOES_NOT_MATCH),
            ));
            continue;
        }
        // Only what is read and taken is kept.
        let part_originals = originals.clone();
        let original = tokio::task::spawn_blocking(move || {
            crate::intake::keep_original(part_originals.as_deref(), |originals| {
                originals.keep_part10(&bytes)
            })
        })
        .await
        .map_err(|error| {
            ApiError::new(ErrorCode::Internal, "an instance could not be kept").internal(error)
        })?;
        let original = match original {
            Ok(original) => original,
            Err(error) => {
                tracing::error!(%error, "a STOW-RS instance's original could not be kept");
                failed.push(sop_item(
                    class.as_deref(),
                    instance.as_deref(),
                    Some(PROCESSING_FAILURE),
                ));
                continue;
            }
        };
        let mut instance_context = context.clone();
        instance_context.at = vigil_audit::canonical_timestamp(received_at);
        match crate::intake::record_received(
            &state.store,
            instance_context,
            &calling,
            received,
            &digest,
            original,
        )
        .await
        {
            Ok(_) => referenced.push(sop_item(class.as_deref(), instance.as_deref(), None)),
            Err(error) => {
                tracing::error!(%error, "a STOW-RS instance could not be stored");
                failed.push(sop_item(
                    class.as_deref(),
                    instance.as_deref(),
                    Some(PROCESSING_FAILURE),
                ));
            }
        }
    }
    let status = match (referenced.is_empty(), failed.is_empty()) {
        (false, true) => StatusCode::OK,
        (false, false) => StatusCode::ACCEPTED,
        (true, _) => StatusCode::CONFLICT,
    };
    let mut answer = serde_json::Map::new();
    if !failed.is_empty() {
        answer.insert("00081198".to_owned(), json!({"vr": "SQ", "Value": failed}));
    }
    if !referenced.is_empty() {
        answer.insert(
            "00081199".to_owned(),
            json!({"vr": "SQ", "Value": referenced}),
        );
    }
    Ok((
        status,
        [(header::CONTENT_TYPE, "application/dicom+json")],
        Json(Value::Object(answer)),
    )
        .into_response())
}

/// One item of ReferencedSOPSequence or FailedSOPSequence, in DICOM JSON.
fn sop_item(class: Option<&str>, instance: Option<&str>, failure: Option<u16>) -> Value {
    let mut item = serde_json::Map::new();
    if let Some(class) = class {
        item.insert("00081150".to_owned(), json!({"vr": "UI", "Value": [class]}));
    }
    if let Some(instance) = instance {
        item.insert(
            "00081155".to_owned(),
            json!({"vr": "UI", "Value": [instance]}),
        );
    }
    if let Some(reason) = failure {
        item.insert(
            "00081197".to_owned(),
            json!({"vr": "US", "Value": [reason]}),
        );
    }
    Value::Object(item)
}

/// QIDO-RS search parameters Vigil answers: attribute matching on the
/// attributes it keeps, and paging.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QidoQuery {
    /// An original Study Instance UID (pseudonymised before matching).
    #[serde(rename = "StudyInstanceUID")]
    pub study_instance_uid: Option<String>,
    #[serde(rename = "SOPClassUID")]
    pub sop_class_uid: Option<String>,
    #[serde(rename = "Modality")]
    pub modality: Option<String>,
    /// At most this many results (1 to 1000; 100 by default).
    pub limit: Option<u32>,
    /// Skip this many results.
    pub offset: Option<u32>,
}

/// The instances received within the caller's organisation (QIDO-RS),
/// newest first, with de-identified UIDs.
#[utoipa::path(get, path = "/dicomweb/instances", tag = "dicom", params(QidoQuery),
    responses(
        (status = 200, description = "DICOM JSON instances", content_type = "application/dicom+json"),
        (status = 204, description = "No instance matches")))]
pub async fn search_instances<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<QidoQuery>,
) -> Result<Response, ApiError> {
    let found = search(&state, &principal, &query).await?;
    let results: Vec<Value> = found.iter().map(instance_json).collect();
    Ok(dicom_json(results))
}

/// The studies received within the caller's organisation (QIDO-RS), with
/// de-identified UIDs and their numbers of instances.
#[utoipa::path(get, path = "/dicomweb/studies", tag = "dicom", params(QidoQuery),
    responses(
        (status = 200, description = "DICOM JSON studies", content_type = "application/dicom+json"),
        (status = 204, description = "No study matches")))]
pub async fn search_studies<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<QidoQuery>,
) -> Result<Response, ApiError> {
    // A study matches when any of its instances does (ModalitiesInStudy,
    // SOPClassesInStudy); its count is of all its instances.
    let wanted_modality = query.modality.clone();
    let wanted_class = query.sop_class_uid.clone();
    let (limit, offset) = (query.limit.unwrap_or(100), query.offset.unwrap_or(0));
    if !(1..=1000).contains(&limit) {
        return Err(invalid("limit", "must be between 1 and 1000"));
    }
    let everything = QidoQuery {
        study_instance_uid: query.study_instance_uid,
        sop_class_uid: None,
        modality: None,
        limit: Some(1000),
        offset: None,
    };
    let found = search(&state, &principal, &everything).await?;
    let mut studies: Vec<(String, Vec<&DicomInstanceRecord>)> = Vec::new();
    for record in &found {
        let uid = deidentified_uid(&record.study);
        match studies.iter_mut().find(|(study, _)| *study == uid) {
            Some((_, records)) => records.push(record),
            None => studies.push((uid, vec![record])),
        }
    }
    let results: Vec<Value> = studies
        .iter()
        .filter(|(_, records)| {
            records.iter().any(|record| {
                wanted_class
                    .as_ref()
                    .is_none_or(|class| *class == record.sop_class_uid)
                    && wanted_modality.as_ref().is_none_or(|modality| {
                        record
                            .modality
                            .as_deref()
                            .is_some_and(|found| found.eq_ignore_ascii_case(modality))
                    })
            })
        })
        .skip(offset as usize)
        .take(limit as usize)
        .map(|(uid, records)| {
            let mut modalities: Vec<&str> = records
                .iter()
                .filter_map(|record| record.modality.as_deref())
                .collect();
            modalities.sort_unstable();
            modalities.dedup();
            json!({
                "0020000D": {"vr": "UI", "Value": [uid]},
                "00080061": {"vr": "CS", "Value": modalities},
                "00201208": {"vr": "IS", "Value": [records.len()]},
            })
        })
        .collect();
    Ok(dicom_json(results))
}

fn dicom_json(results: Vec<Value>) -> Response {
    if results.is_empty() {
        // PS3.18: no match is 204 No Content.
        return StatusCode::NO_CONTENT.into_response();
    }
    (
        [(header::CONTENT_TYPE, "application/dicom+json")],
        Json(Value::Array(results)),
    )
        .into_response()
}

async fn search<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    query: &QidoQuery,
) -> Result<Vec<DicomInstanceRecord>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(invalid("limit", "must be between 1 and 1000"));
    }
    let offset = query.offset.unwrap_or(0).min(100_000);
    let scope = scope_of(state, principal).await?;
    let trusts = scope.codes_within();
    let study = match &query.study_instance_uid {
        None => None,
        Some(raw) => {
            let Some(key) = &state.config.pseudonym_key else {
                return Ok(Vec::new());
            };
            Some(
                pseudonymise(&key.0, IdentifierKind::DicomUid, raw)
                    .map_err(|error| invalid("StudyInstanceUID", error))?
                    .as_str()
                    .to_owned(),
            )
        }
    };
    // Matching on the class and modality is done here, page by page.
    let mut matched = Vec::new();
    let mut skipped = 0;
    let mut before = None;
    loop {
        let page = state
            .store
            .dicom_instances(&DicomInstanceQuery {
                trusts: Some(trusts.clone()),
                disposition: None,
                study: study.clone(),
                before_id: before,
                limit: 1000,
            })
            .await?;
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        for record in page {
            let wanted = query
                .sop_class_uid
                .as_ref()
                .is_none_or(|class| *class == record.sop_class_uid)
                && query.modality.as_ref().is_none_or(|modality| {
                    record
                        .modality
                        .as_deref()
                        .is_some_and(|found| found.eq_ignore_ascii_case(modality))
                });
            if !wanted {
                continue;
            }
            if skipped < offset {
                skipped += 1;
                continue;
            }
            matched.push(record);
            if matched.len() == limit as usize {
                return Ok(matched);
            }
        }
    }
    Ok(matched)
}

fn instance_json(record: &DicomInstanceRecord) -> Value {
    let mut item = serde_json::Map::new();
    item.insert(
        "00080016".to_owned(),
        json!({"vr": "UI", "Value": [record.sop_class_uid]}),
    );
    item.insert(
        "00080018".to_owned(),
        json!({"vr": "UI", "Value": [deidentified_uid(&record.sop_instance)]}),
    );
    if let Some(modality) = &record.modality {
        item.insert(
            "00080060".to_owned(),
            json!({"vr": "CS", "Value": [modality]}),
        );
    }
    item.insert(
        "0020000D".to_owned(),
        json!({"vr": "UI", "Value": [deidentified_uid(&record.study)]}),
    );
    if let Some(series) = &record.series {
        item.insert(
            "0020000E".to_owned(),
            json!({"vr": "UI", "Value": [deidentified_uid(series)]}),
        );
    }
    Value::Object(item)
}
