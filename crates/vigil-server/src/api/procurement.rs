//! Procurement assessments of product versions: the template, drafts
//! answered question by question with their evidence files, completion with
//! an outcome, and assessments side by side (JSON or CSV).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use vigil_api_types::ErrorCode;
use vigil_api_types::wire::{
    AssessmentAnswers, AssessmentComparison, AssessmentCompletion, AttachmentView, NewAssessment,
    ProcurementAssessmentView,
};
use vigil_domain::Code;
use vigil_domain::procurement::{Answer, DEFAULT_TEMPLATE, Template, score};
use vigil_store::rows::stored_timestamp;
use vigil_store::{AssessmentRecord, Store, StoreError, VersionId};

use super::{ApiJson, body_error, invalid, scope_of};
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

type AppStateOf<S> = State<Arc<AppState<S>>>;

/// The largest evidence file kept.
pub const MAXIMUM_ATTACHMENT_BYTES: usize = 20 << 20;

/// At most this many assessments side by side.
const MAXIMUM_COMPARED: usize = 12;

fn assessment_view(record: &AssessmentRecord) -> ProcurementAssessmentView {
    ProcurementAssessmentView {
        id: record.id,
        version: record.version.0,
        organisation: record.organisation.clone(),
        state: record.state.clone(),
        revision: record.revision,
        template: serde_json::to_value(&record.template).unwrap_or_default(),
        answers: serde_json::to_value(&record.answers).unwrap_or_default(),
        score: serde_json::to_value(score(&record.template, &record.answers)).unwrap_or_default(),
        outcome: record.outcome.clone(),
        created_by: record.created_by.clone(),
        created_at: stored_timestamp(record.created_at),
        updated_by: record.updated_by.clone(),
        updated_at: stored_timestamp(record.updated_at),
    }
}

/// An assessment of an organisation the caller may see (another Trust's
/// looks missing).
async fn assessment_in_scope<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    id: i64,
) -> Result<AssessmentRecord, ApiError> {
    let missing = || {
        ApiError::new(
            ErrorCode::NotFound,
            format!("assessment {id} does not exist"),
        )
    };
    let record = match state.store.assessment(id).await {
        Ok(record) => record,
        Err(StoreError::NotFound { .. }) => return Err(missing()),
        Err(error) => return Err(error.into()),
    };
    let scope = scope_of(state, principal).await?;
    if scope.includes_text(&record.organisation) {
        Ok(record)
    } else {
        Err(missing())
    }
}

/// The default assessment template, as TOML and as its parsed sections.
#[utoipa::path(get, path = "/api/v1/procurement/template", tag = "procurement",
    responses((status = 200, description = "The default template", body = Object)))]
pub async fn default_template() -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "toml": DEFAULT_TEMPLATE,
        "template": Template::default_template(),
    }))
}

/// Filters of the assessment list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AssessmentsQuery {
    /// Only the assessments of this product version.
    pub version: Option<i64>,
}

/// The assessments of the caller's organisation and those below it, newest
/// first.
#[utoipa::path(get, path = "/api/v1/assessments", tag = "procurement", params(AssessmentsQuery),
    responses((status = 200, description = "Assessments", body = Vec<ProcurementAssessmentView>)))]
pub async fn list_assessments<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<AssessmentsQuery>,
) -> Result<Json<Vec<ProcurementAssessmentView>>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    let records = state
        .store
        .assessments(Some(&scope.codes_within()), query.version.map(VersionId))
        .await?;
    Ok(Json(records.iter().map(assessment_view).collect()))
}

/// Opens a draft assessment of a product version.
#[utoipa::path(post, path = "/api/v1/assessments", tag = "procurement", request_body = NewAssessment,
    responses((status = 201, description = "The draft", body = ProcurementAssessmentView)))]
pub async fn create_assessment<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    ApiJson(body): ApiJson<NewAssessment>,
) -> Result<(StatusCode, Json<ProcurementAssessmentView>), ApiError> {
    let scope = scope_of(&state, &principal).await?;
    let organisation = match &body.organisation {
        Some(text) => Code::parse(text).map_err(|error| invalid("organisation", error))?,
        None => principal.actor.organisation.clone(),
    };
    if !scope.includes(&organisation) {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("organisation {organisation} does not exist"),
        ));
    }
    let template = body.template_toml.as_deref().unwrap_or(DEFAULT_TEMPLATE);
    Template::from_toml(template).map_err(|error| invalid("template_toml", error))?;
    let record = match state
        .store
        .create_assessment(
            &principal.context(),
            VersionId(body.version),
            &organisation,
            template,
        )
        .await
    {
        Err(StoreError::NotFound {
            what: "product version",
            ..
        }) => {
            return Err(invalid(
                "version",
                format!("product version {} does not exist", body.version),
            ));
        }
        other => other?,
    };
    Ok((StatusCode::CREATED, Json(assessment_view(&record))))
}

/// One assessment with its score.
#[utoipa::path(get, path = "/api/v1/assessments/{id}", tag = "procurement",
    params(("id" = i64, Path, description = "Assessment id")),
    responses((status = 200, description = "The assessment", body = ProcurementAssessmentView)))]
pub async fn get_assessment<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<ProcurementAssessmentView>, ApiError> {
    let record = assessment_in_scope(&state, &principal, id).await?;
    Ok(Json(assessment_view(&record)))
}

/// Replaces a draft's answers, checked whole against its template (every
/// problem listed; nothing stored when one is found).
#[utoipa::path(put, path = "/api/v1/assessments/{id}/answers", tag = "procurement",
    request_body = AssessmentAnswers,
    params(("id" = i64, Path, description = "Assessment id")),
    responses((status = 200, description = "The draft", body = ProcurementAssessmentView)))]
pub async fn save_answers<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AssessmentAnswers>,
) -> Result<Json<ProcurementAssessmentView>, ApiError> {
    let record = assessment_in_scope(&state, &principal, id).await?;
    let answers: Vec<Answer> = serde_json::from_value(body.answers)
        .map_err(|error| invalid("answers", format!("are not a list of answers: {error}")))?;
    vigil_domain::procurement::check_answers(&record.template, &answers)
        .map_err(|error| invalid("answers", error))?;
    // Evidence must be a file the assessing organisation keeps.
    for answer in &answers {
        for sha256 in &answer.attachments {
            let kept = state
                .store
                .attachment(
                    std::slice::from_ref(&record.organisation),
                    &sha256.to_ascii_lowercase(),
                )
                .await?;
            if kept.is_none() {
                return Err(invalid(
                    "answers",
                    format!(
                        "{} cites attachment {sha256}, which {} does not keep",
                        answer.question, record.organisation
                    ),
                ));
            }
        }
    }
    let record = state
        .store
        .save_answers(&principal.context(), id, &answers, body.expected_revision)
        .await?;
    Ok(Json(assessment_view(&record)))
}

/// Completes a draft whose every question is answered; its outcome (pass
/// or fail) is fixed from then on.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/complete", tag = "procurement",
    request_body = AssessmentCompletion,
    params(("id" = i64, Path, description = "Assessment id")),
    responses((status = 200, description = "The completed assessment", body = ProcurementAssessmentView)))]
pub async fn complete_assessment<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AssessmentCompletion>,
) -> Result<Json<ProcurementAssessmentView>, ApiError> {
    assessment_in_scope(&state, &principal, id).await?;
    let record = state
        .store
        .complete_assessment(&principal.context(), id, body.expected_revision)
        .await?;
    Ok(Json(assessment_view(&record)))
}

/// Which assessments to compare, and how.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ComparisonQuery {
    /// Assessment ids, comma-separated (at most 12).
    pub ids: String,
    /// `json` (the default) or `csv`.
    pub format: Option<String>,
}

/// Assessments side by side, section by section (JSON, or CSV to export).
#[utoipa::path(get, path = "/api/v1/assessments/comparison", tag = "procurement", params(ComparisonQuery),
    responses((status = 200, description = "The comparison (JSON, or CSV with format=csv)", content(
        (AssessmentComparison = "application/json"),
        (String = "text/csv"),
    ))))]
pub async fn compare_assessments<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<ComparisonQuery>,
) -> Result<Response, ApiError> {
    let ids: Vec<i64> = query
        .ids
        .split(',')
        .map(|id| id.trim().parse::<i64>())
        .collect::<Result<_, _>>()
        .map_err(|_| invalid("ids", "must be assessment ids separated by commas"))?;
    if ids.is_empty() || ids.len() > MAXIMUM_COMPARED {
        return Err(invalid(
            "ids",
            format!("name between 1 and {MAXIMUM_COMPARED} assessments"),
        ));
    }
    let csv = match query.format.as_deref().map(str::trim) {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(invalid("format", "must be json or csv")),
    };
    let mut records = Vec::with_capacity(ids.len());
    for id in ids {
        records.push(assessment_in_scope(&state, &principal, id).await?);
    }
    let products = state.store.products().await?;
    let mut columns = Vec::with_capacity(records.len());
    for record in &records {
        let described = products
            .iter()
            .find_map(|product| {
                product
                    .versions
                    .iter()
                    .find(|version| version.id == record.version)
                    .map(|version| {
                        format!(
                            "{} {} {}",
                            product.product.vendor.as_str(),
                            product.product.name.as_str(),
                            version.version.version.as_str()
                        )
                    })
            })
            .unwrap_or_else(|| format!("version {}", record.version.0));
        columns.push((record, described, score(&record.template, &record.answers)));
    }
    // Rows: every section key in the order first met, then the total.
    let mut sections: Vec<(String, String)> = Vec::new();
    for (_, _, scored) in &columns {
        for section in &scored.sections {
            if !sections.iter().any(|(key, _)| *key == section.key) {
                sections.push((section.key.clone(), section.title.clone()));
            }
        }
    }
    let mut rows: Vec<(String, String, Vec<Option<f64>>)> = sections
        .iter()
        .map(|(key, title)| {
            let values = columns
                .iter()
                .map(|(_, _, scored)| {
                    scored
                        .sections
                        .iter()
                        .find(|section| section.key == *key)
                        .and_then(|section| section.percent)
                })
                .collect();
            (key.clone(), title.clone(), values)
        })
        .collect();
    rows.push((
        "total".to_owned(),
        "Weighted total".to_owned(),
        columns
            .iter()
            .map(|(_, _, scored)| scored.total_percent)
            .collect(),
    ));
    if csv {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut heading = vec!["section".to_owned(), "title".to_owned()];
        heading.extend(columns.iter().map(|(record, described, _)| {
            format!(
                "assessment {} ({described}, {})",
                record.id, record.organisation
            )
        }));
        let mut lines = vec![heading];
        for (key, title, values) in &rows {
            let mut line = vec![key.clone(), title.clone()];
            line.extend(
                values
                    .iter()
                    .map(|value| value.map(|value| format!("{value:.1}")).unwrap_or_default()),
            );
            lines.push(line);
        }
        let mut outcome = vec!["outcome".to_owned(), "Outcome".to_owned()];
        outcome.extend(
            columns
                .iter()
                .map(|(_, _, scored)| scored.outcome.as_str().to_owned()),
        );
        lines.push(outcome);
        for line in &lines {
            writer.write_record(line).map_err(|error| {
                ApiError::new(ErrorCode::Internal, "the server failed; see its log").internal(error)
            })?;
        }
        let bytes = writer.into_inner().map_err(|error| {
            ApiError::new(ErrorCode::Internal, "the server failed; see its log").internal(error)
        })?;
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"assessment-comparison.csv\"",
                ),
            ],
            bytes,
        )
            .into_response());
    }
    Ok(Json(AssessmentComparison {
        assessments: serde_json::Value::Array(
            columns
                .iter()
                .map(|(record, described, scored)| {
                    serde_json::json!({
                        "id": record.id, "product": described, "organisation": record.organisation,
                        "state": record.state, "outcome": record.outcome, "score_outcome": scored.outcome,
                        "failed_gates": scored.failed_gates,
                    })
                })
                .collect(),
        ),
        rows: serde_json::Value::Array(
            rows.iter()
                .map(|(key, title, values)| {
                    serde_json::json!({"section": key, "title": title, "percent": values})
                })
                .collect(),
        ),
    })
    .into_response())
}

/// The media type of an evidence file, from its `Content-Type` checked
/// against its first bytes: PDF, PNG, JPEG, plain text or CSV (UTF-8), or
/// an Office Open XML document (a ZIP).
fn checked_media_type(headers: &HeaderMap, content: &[u8]) -> Result<&'static str, ApiError> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let (media_type, fits): (&'static str, bool) = match declared.as_str() {
        "application/pdf" => ("application/pdf", content.starts_with(b"%PDF-")),
        "image/png" => ("image/png", content.starts_with(b"\x89PNG\r\n\x1a\n")),
        "image/jpeg" => ("image/jpeg", content.starts_with(b"\xff\xd8\xff")),
        "text/plain" => ("text/plain", std::str::from_utf8(content).is_ok()),
        "text/csv" => ("text/csv", std::str::from_utf8(content).is_ok()),
        media if media == docx => (docx, content.starts_with(b"PK\x03\x04")),
        media if media == xlsx => (xlsx, content.starts_with(b"PK\x03\x04")),
        _ => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send evidence as PDF, PNG, JPEG, plain text, CSV, or a Word or Excel document (Content-Type naming it)",
            ));
        }
    };
    if fits {
        Ok(media_type)
    } else {
        Err(invalid(
            "body",
            format!("the file's content is not {media_type}, as its Content-Type says"),
        ))
    }
}

/// Keeps an evidence file for the caller's organisation under its SHA-256
/// (at most 20 MiB; PDF, PNG, JPEG, text, CSV, Word or Excel, its content
/// checked against its type). The same file sent again is the same
/// attachment.
#[utoipa::path(post, path = "/api/v1/attachments", tag = "procurement",
    request_body(content(
        (Vec<u8> = "application/pdf"),
        (Vec<u8> = "image/png"),
        (Vec<u8> = "image/jpeg"),
        (String = "text/plain"),
        (String = "text/csv"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ), description = "The file, at most 20 MiB"),
    responses(
        (status = 201, description = "Kept", body = AttachmentView),
        (status = 200, description = "The organisation already kept this file", body = AttachmentView),
    ))]
pub async fn add_attachment<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<AttachmentView>), ApiError> {
    let body = body.map_err(body_error)?;
    if body.len() > MAXIMUM_ATTACHMENT_BYTES {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "the file is {} bytes; evidence files are at most {MAXIMUM_ATTACHMENT_BYTES} bytes",
                body.len()
            ),
        ));
    }
    if body.is_empty() {
        return Err(invalid("body", "the file is empty"));
    }
    let media_type = checked_media_type(&headers, &body)?;
    let (record, new) = state
        .store
        .add_attachment(
            &principal.context(),
            &principal.actor.organisation,
            media_type,
            &body,
        )
        .await?;
    Ok((
        if new {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(AttachmentView {
            sha256: record.sha256,
            media_type: record.media_type,
            size_bytes: record.size_bytes,
            organisation: record.organisation,
            new,
        }),
    ))
}

/// An evidence file of the caller's organisation or one below it, as a
/// download.
#[utoipa::path(get, path = "/api/v1/attachments/{sha256}", tag = "procurement",
    params(("sha256" = String, Path, description = "The file's SHA-256, in hexadecimal")),
    responses((status = 200, description = "The file, with the media type it was kept as", content(
        (Vec<u8> = "application/pdf"),
        (Vec<u8> = "image/png"),
        (Vec<u8> = "image/jpeg"),
        (String = "text/plain"),
        (String = "text/csv"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ))))]
pub async fn get_attachment<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    let missing = || ApiError::new(ErrorCode::NotFound, "no such attachment".to_owned());
    if sha256.len() != 64 || !sha256.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(missing());
    }
    let scope = scope_of(&state, &principal).await?;
    let Some((record, content)) = state
        .store
        .attachment(&scope.codes_within(), &sha256.to_ascii_lowercase())
        .await?
    else {
        return Err(missing());
    };
    Ok((
        [
            (header::CONTENT_TYPE, record.media_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", record.sha256),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        content,
    )
        .into_response())
}
