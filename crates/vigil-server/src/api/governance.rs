//! Sign-offs and lifecycle decisions made by signed-in people, local
//! validations run and stored against a deployment, and the audit trail.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use vigil_api_types::ErrorCode;
use vigil_api_types::wire::{
    AuditEntryView, AuditPage, AuditVerification, DecisionView, EvaluationRequest, EvaluationView,
    PendingSignOffView, SignOffRequest, TransitionRequest as TransitionBody,
};
use vigil_audit::{Verification, verify};
use vigil_domain::{Code, EvidenceReference, LifecycleState, SignOff, TransitionRequest};
use vigil_evaluation::protocol::Protocol;
use vigil_evaluation::run::{NamedProtocol, RunOptions};
use vigil_store::rows::stored_timestamp;
use vigil_store::{DeploymentId, DeploymentRecord, NewEvaluation, Store, governance};

use super::registry::deployment_in_scope;
use super::{ApiJson, invalid, parse_text, scope_of, views};
use crate::AppState;
use crate::access::Scope;
use crate::auth::Principal;
use crate::error::ApiError;

type AppStateOf<S> = State<Arc<AppState<S>>>;

fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::Internal, "the server failed; see its log").internal(error)
}

fn parse_state(field: &str, value: &str) -> Result<LifecycleState, ApiError> {
    LifecycleState::parse(value).map_err(|error| invalid(field, error))
}

/// Checks that a person (not an API token) of the deploying Trust is
/// acting, and returns that Trust.
fn signer_of_the_trust(
    principal: &Principal,
    scope: &Scope,
    deployment: &DeploymentRecord,
) -> Result<Code, ApiError> {
    if principal.user.is_none() {
        return Err(ApiError::new(
            ErrorCode::Refused,
            "sign-offs and decisions are made by people signed in, not by API tokens",
        ));
    }
    let trust =
        governance::deploying_trust(&scope.tree, &deployment.deployment.site).map_err(internal)?;
    governance::check_within_trust(
        &scope.tree,
        &trust,
        principal.actor.name.as_str(),
        &principal.actor.organisation,
    )
    .map_err(refused)?;
    Ok(trust)
}

/// A governance rule refuses the request.
fn refused(error: governance::ParticipationError) -> ApiError {
    ApiError::new(ErrorCode::Refused, error.to_string())
}

/// The roles the policy in force requires for a transition of this
/// deployment.
pub(crate) async fn required_roles<S: Store>(
    state: &AppState<S>,
    deployment: &DeploymentRecord,
    from: LifecycleState,
    to: LifecycleState,
) -> Result<Vec<vigil_domain::Role>, ApiError> {
    let product = state.store.product(deployment.product).await?;
    let policy = state.store.sign_off_policy().await?;
    Ok(policy
        .policy
        .required_roles(from, to, product.product.is_radiotherapy()))
}

/// The signatures given ahead of a decision at the deployment's current
/// revision.
#[utoipa::path(get, path = "/api/v1/deployments/{id}/sign-offs", tag = "deployments",
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 200, description = "Signatures at the current revision", body = Vec<PendingSignOffView>)))]
pub async fn list_sign_offs<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<PendingSignOffView>>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    deployment_in_scope(&state, &scope, id).await?;
    let sign_offs = state.store.pending_sign_offs(DeploymentId(id)).await?;
    Ok(Json(
        sign_offs.iter().map(views::pending_sign_off).collect(),
    ))
}

/// Signs a transition in the caller's own role, ahead of the decision.
/// The signature counts only for the revision named: any change to the
/// deployment first makes it stale.
#[utoipa::path(post, path = "/api/v1/deployments/{id}/sign-offs", tag = "deployments", request_body = SignOffRequest,
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 201, description = "Signed", body = PendingSignOffView)))]
pub async fn sign<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<SignOffRequest>,
) -> Result<(StatusCode, Json<PendingSignOffView>), ApiError> {
    let signed = record_sign_off(&state, &principal, id, body).await?;
    Ok((StatusCode::CREATED, Json(signed)))
}

/// Records a signature given ahead of a decision, for the API and the
/// dashboard alike.
pub(crate) async fn record_sign_off<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    id: i64,
    body: SignOffRequest,
) -> Result<PendingSignOffView, ApiError> {
    let scope = scope_of(state, principal).await?;
    let deployment = deployment_in_scope(state, &scope, id).await?;
    signer_of_the_trust(principal, &scope, &deployment)?;
    let to = parse_state("to", &body.to)?;
    let required = required_roles(state, &deployment, deployment.state, to).await?;
    if !required.contains(&principal.actor.role) {
        let names: Vec<&str> = required.iter().map(|role| role.as_str()).collect();
        return Err(ApiError::new(
            ErrorCode::Refused,
            format!(
                "{} → {to} does not ask for the signature of a {}; it needs: {}",
                deployment.state,
                principal.actor.role,
                names.join(", ")
            ),
        ));
    }
    let signed = state
        .store
        .add_sign_off(&principal.context(), DeploymentId(id), body.revision, to)
        .await?;
    Ok(views::pending_sign_off(&signed))
}

/// Records a lifecycle decision. The caller signs in their own role, which
/// must be one the sign-off policy requires; the signatures given ahead for
/// the same transition at the same revision, by people of the deploying
/// Trust who still hold the role they signed in, are collected with it.
#[utoipa::path(post, path = "/api/v1/deployments/{id}/transitions", tag = "deployments", request_body = TransitionBody,
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 201, description = "Recorded", body = DecisionView)))]
pub async fn transition<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<TransitionBody>,
) -> Result<(StatusCode, Json<DecisionView>), ApiError> {
    let decision = record_transition(&state, &principal, id, body).await?;
    Ok((StatusCode::CREATED, Json(decision)))
}

/// Records a decision on a deployment for the API and the dashboard alike:
/// the recorder's own signature, the pending signatures that still count,
/// and an alert cited as the proposal of a suspension.
pub(crate) async fn record_transition<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    id: i64,
    body: TransitionBody,
) -> Result<DecisionView, ApiError> {
    let scope = scope_of(state, principal).await?;
    let deployment = deployment_in_scope(state, &scope, id).await?;
    let trust = signer_of_the_trust(principal, &scope, &deployment)?;
    let from = parse_state("from", &body.from)?;
    let to = parse_state("to", &body.to)?;
    let required = required_roles(state, &deployment, from, to).await?;
    governance::check_recorder(
        principal.actor.name.as_str(),
        principal.actor.role,
        from,
        to,
        &required,
    )
    .map_err(refused)?;
    let users = state.store.users().await?;
    let mut sign_offs = vec![SignOff {
        actor: principal.actor.name.clone(),
        role: principal.actor.role,
    }];
    for pending in state.store.pending_sign_offs(DeploymentId(id)).await? {
        let still_qualified = users.iter().any(|user| {
            user.user_name == pending.user_name
                && user.role == pending.role
                && !user.disabled
                && governance::check_within_trust(
                    &scope.tree,
                    &trust,
                    user.user_name.as_str(),
                    &user.organisation,
                )
                .is_ok()
        });
        let sign_off = SignOff {
            actor: pending.user_name,
            role: pending.role,
        };
        if pending.to == to
            && pending.revision == body.revision
            && still_qualified
            && !sign_offs.contains(&sign_off)
        {
            sign_offs.push(sign_off);
        }
    }
    let mut evidence: Vec<EvidenceReference> = body
        .evidence
        .iter()
        .map(|reference| {
            EvidenceReference::parse(reference).map_err(|error| invalid("evidence", error))
        })
        .collect::<Result<_, _>>()?;
    // A suspension that follows an alert's proposal cites the alert: it
    // must be an open alert of this deployment that proposes suspension.
    let proposed_by_alert = match body.alert {
        None => false,
        Some(alert_id) => {
            let alert = match state.store.alert(alert_id).await {
                Ok(alert) if alert.deployment == DeploymentId(id) => alert,
                Ok(_) | Err(vigil_store::StoreError::NotFound { .. }) => {
                    return Err(invalid(
                        "alert",
                        format!("alert {alert_id} is not an alert of deployment {id}"),
                    ));
                }
                Err(error) => return Err(error.into()),
            };
            if !alert.proposes_suspension || alert.state == vigil_store::AlertState::Resolved {
                return Err(invalid(
                    "alert",
                    format!("alert {alert_id} is resolved or does not propose suspension"),
                ));
            }
            let cited = EvidenceReference::parse(&format!("alert:{alert_id}"))
                .map_err(|error| invalid("alert", error))?;
            if !evidence.contains(&cited) {
                evidence.push(cited);
            }
            true
        }
    };
    let request = TransitionRequest {
        from,
        to,
        sign_offs,
        rationale: parse_text("rationale", &body.rationale)?,
        evidence,
        proposed_by_alert,
    };
    let decision = state
        .store
        .transition(
            &principal.context(),
            DeploymentId(id),
            request,
            Some(body.revision),
        )
        .await?;
    Ok(views::decision(&decision))
}

/// The evaluations stored against a deployment, oldest first.
#[utoipa::path(get, path = "/api/v1/deployments/{id}/evaluations", tag = "evaluations",
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 200, description = "Evaluations (without their results)", body = Vec<EvaluationView>)))]
pub async fn list_evaluations<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<EvaluationView>>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    deployment_in_scope(&state, &scope, id).await?;
    let evaluations = state.store.evaluations(Some(DeploymentId(id))).await?;
    Ok(Json(
        evaluations
            .iter()
            .map(|record| views::evaluation(record, false))
            .collect(),
    ))
}

/// Runs a local validation (as `vigil evaluate` does) on the case table and
/// protocol sent, and stores it with its result and HTML report against the
/// deployment, audited with the SHA-256 of every input and output.
#[utoipa::path(post, path = "/api/v1/deployments/{id}/evaluations", tag = "evaluations", request_body = EvaluationRequest,
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 201, description = "Evaluated and stored", body = EvaluationView)))]
pub async fn run_evaluation<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<EvaluationRequest>,
) -> Result<(StatusCode, Json<EvaluationView>), ApiError> {
    let scope = scope_of(&state, &principal).await?;
    deployment_in_scope(&state, &scope, id).await?;
    let options = RunOptions {
        label_column: body
            .label_column
            .clone()
            .unwrap_or_else(|| "label".to_owned()),
        score_column: body
            .score_column
            .clone()
            .unwrap_or_else(|| "score".to_owned()),
        positive_label: body.positive_label.clone(),
        compare_column: body.compare_column.clone(),
        threshold: body.threshold,
        subgroup_columns: body.subgroup_columns.clone(),
        drop_missing: body.drop_missing,
    };
    let options_json = serde_json::json!({
        "label_column": options.label_column,
        "score_column": options.score_column,
        "positive_label": options.positive_label,
        "compare_column": options.compare_column,
        "threshold": options.threshold,
        "subgroup_columns": options.subgroup_columns,
        "drop_missing": options.drop_missing,
    })
    .to_string();
    let protocol_text = body.protocol_toml.clone().unwrap_or_default();
    let cases = body.cases_csv;
    let cases_sha256 = vigil_store::rows::sha256_hex(&cases);
    let cases_bytes = i64::try_from(cases.len()).map_err(internal)?;
    let computed =
        tokio::task::spawn_blocking(move || -> Result<(String, String, String), ApiError> {
            let protocol = body
                .protocol_toml
                .as_deref()
                .map(|text| Protocol::parse(text, "protocol_toml"))
                .transpose()
                .map_err(|error| invalid("protocol_toml", error))?;
            let named = protocol.as_ref().map(|protocol| NamedProtocol {
                protocol,
                source_name: "protocol_toml",
            });
            let evaluation = vigil_evaluation::run::run(
                &options,
                named,
                cases.as_bytes(),
                "cases_csv",
                &mut |_| {},
            )
            .map_err(|error| ApiError::new(ErrorCode::InvalidRequest, error.to_string()))?;
            let verdict = serde_json::to_value(evaluation.verdict)
                .map_err(internal)?
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| internal("the verdict is not a name"))?;
            let result = serde_json::to_string_pretty(&evaluation).map_err(internal)?;
            let report = vigil_reports::evaluation_report(&evaluation);
            Ok((verdict, result, report))
        })
        .await
        .map_err(internal)??;
    let (verdict, result, report) = computed;
    let stored = state
        .store
        .add_evaluation(
            &principal.context(),
            &NewEvaluation {
                deployment: DeploymentId(id),
                verdict,
                protocol: protocol_text,
                options: options_json,
                cases_sha256,
                cases_bytes,
                result,
                report,
            },
        )
        .await?;
    let full = state.store.evaluation(stored.id).await?;
    Ok((StatusCode::CREATED, Json(views::evaluation(&full, true))))
}

/// The evaluation with this id, if its deployment is within the caller's
/// organisation.
async fn evaluation_in_scope<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    id: i64,
) -> Result<vigil_store::EvaluationRecord, ApiError> {
    let scope = scope_of(state, principal).await?;
    let not_found = || {
        ApiError::new(
            ErrorCode::NotFound,
            format!("evaluation {id} does not exist"),
        )
    };
    let record = match state.store.evaluation(id).await {
        Ok(record) => record,
        Err(vigil_store::StoreError::NotFound { .. }) => return Err(not_found()),
        Err(error) => return Err(error.into()),
    };
    match deployment_in_scope(state, &scope, record.deployment.0).await {
        Ok(_) => Ok(record),
        Err(error) if error.code() == ErrorCode::NotFound => Err(not_found()),
        Err(error) => Err(error),
    }
}

/// One stored evaluation with its result (the JSON contract of
/// `vigil evaluate --json`).
#[utoipa::path(get, path = "/api/v1/evaluations/{id}", tag = "evaluations",
    params(("id" = i64, Path, description = "Evaluation id")),
    responses((status = 200, description = "The evaluation", body = EvaluationView)))]
pub async fn get_evaluation<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<EvaluationView>, ApiError> {
    let record = evaluation_in_scope(&state, &principal, id).await?;
    Ok(Json(views::evaluation(&record, true)))
}

/// The stored, self-contained HTML report of an evaluation.
#[utoipa::path(get, path = "/api/v1/evaluations/{id}/report", tag = "evaluations",
    params(("id" = i64, Path, description = "Evaluation id")),
    responses((status = 200, description = "The HTML report", content_type = "text/html", body = String)))]
pub async fn evaluation_report<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let record = evaluation_in_scope(&state, &principal, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The report is self-contained: no script, no outside fetch.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
            ),
        ],
        record.report,
    )
        .into_response())
}

/// Paging of the audit trail.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only entries with a sequence number below this.
    pub before: Option<u64>,
    /// At most this many entries (1 to 1000; 100 by default).
    pub limit: Option<usize>,
}

/// The audit trail's entries made within the caller's organisation (by
/// actors of that organisation or below), newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "A page of entries", body = AuditPage)))]
pub async fn audit_entries<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    Ok(Json(audit_page_of(&state, &principal, query).await?))
}

/// A page of the audit trail as the caller may see it, for the API and the
/// dashboard alike.
pub(crate) async fn audit_page_of<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    query: AuditQuery,
) -> Result<AuditPage, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(invalid("limit", "must be between 1 and 1000"));
    }
    let scope = scope_of(state, principal).await?;
    // The nation sees every entry; anyone else those of actors within
    // their organisation.
    let organisations: Option<Vec<String>> =
        (scope.organisation != scope.tree.nation().code).then(|| {
            scope
                .tree
                .iter()
                .filter(|organisation| scope.includes(&organisation.code))
                .map(|organisation| organisation.code.to_string())
                .collect()
        });
    let fetch = u32::try_from(limit + 1).map_err(internal)?;
    let page = state
        .store
        .audit_page(query.before, fetch, organisations.as_deref())
        .await?;
    let mut entries: Vec<AuditEntryView> = page
        .iter()
        .map(|entry| AuditEntryView {
            sequence: entry.record.sequence,
            recorded_at: stored_timestamp(entry.record.recorded_at),
            actor: entry.record.actor.clone(),
            role: entry.record.role.clone(),
            organisation: entry.record.organisation.clone(),
            action: entry.record.action.clone(),
            subject: entry.record.subject.clone(),
            payload: serde_json::from_str(&entry.record.payload)
                .unwrap_or_else(|_| serde_json::Value::String(entry.record.payload.clone())),
            hash: entry.hash.clone(),
        })
        .collect();
    let next_before = (entries.len() > limit).then(|| {
        entries.truncate(limit);
        entries.last().map(|entry| entry.sequence)
    });
    Ok(AuditPage {
        entries,
        next_before: next_before.flatten(),
    })
}

/// Checks the whole audit trail: the hash chain, its recorded head, and that
/// the registry tables equal what replaying the trail implies. The trail is
/// the whole database's, so only a national administrator is told its size,
/// head and what is wrong; others learn whether it is intact.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, description = "The verdict", body = AuditVerification)))]
pub async fn verify_audit<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<AuditVerification>, ApiError> {
    Ok(Json(audit_verification(&state, &principal).await?))
}

/// Whether the audit chain and the tables it describes agree, for the API
/// and the dashboard alike (the counts and hashes for national
/// administrators only).
pub(crate) async fn audit_verification<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
) -> Result<AuditVerification, ApiError> {
    // One snapshot: the chain and the tables it describes, judged together.
    let archive = state.store.export_archive().await?;
    let (intact, entries, head, problem) = match archive
        .audit_verdict(|entries, head| Ok(verify(entries, head)))
    {
        Ok(Verification::Intact { entries, head }) => (true, entries, Some(head.to_hex()), None),
        Ok(broken) => (
            false,
            archive.audit_log.len() as u64,
            None,
            Some(broken.to_string()),
        ),
        Err(problem) => (false, archive.audit_log.len() as u64, None, Some(problem)),
    };
    let national = principal.actor.role == vigil_domain::Role::NationalAdmin;
    Ok(AuditVerification {
        status: if intact { "intact" } else { "broken" }.to_owned(),
        entries: national.then_some(entries),
        head_hash: head.filter(|_| national),
        problem: problem.filter(|_| national),
    })
}
