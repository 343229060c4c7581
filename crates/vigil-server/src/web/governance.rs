//! The governance pages of the dashboard: procurement assessments (open,
//! answer, complete, compare vendors side by side), a deployment's hazard
//! log (add hazards, link alerts, sign the safety case) and its
//! productivity audit. Every change goes through the same checks as the
//! API's and is audited by the store.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Router};
use maud::{Markup, html};
use serde::Deserialize;
use vigil_domain::procurement::{Answer, DEFAULT_TEMPLATE, check_answers, score};
use vigil_domain::{Code, HazardStatus, Likelihood, Severity};
use vigil_store::{AlertState, AssessmentRecord, DeploymentId, Store, StoreError, VersionId};

use super::{
    Names, Person, csrf_of, deployment_in_scope, layout, page, person_with_form, problem,
    server_failed, when,
};
use crate::AppState;
use crate::access::{Permission, Scope};
use crate::auth::Principal;

/// The governance routes.
pub(super) fn routes<S: Store + 'static>() -> Router<Arc<AppState<S>>> {
    use axum::routing::{get, post};
    Router::new()
        .route("/procurement", get(procurement_page::<S>))
        .route("/procurement/compare", get(comparison_page::<S>))
        .route("/procurement/assessments", post(open_assessment::<S>))
        .route("/assessments/{id}", get(assessment_page::<S>))
        .route("/assessments/{id}/answers", post(answers_action::<S>))
        .route("/assessments/{id}/complete", post(complete_action::<S>))
        .route(
            "/deployments/{id}/hazards",
            get(hazards_page::<S>).post(add_hazard_action::<S>),
        )
        .route(
            "/deployments/{id}/hazards/link",
            post(link_alert_action::<S>),
        )
        .route("/deployments/{id}/safety-case/sign", post(sign_action::<S>))
        .route(
            "/deployments/{id}/productivity",
            get(productivity_page::<S>),
        )
}

fn see_other(path: &str) -> Response {
    let mut response = Redirect::to(path).into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    response
}

/// The page for a change the store refused: what to correct, nothing
/// changed. A failure of the server is logged, not shown.
fn refused(principal: &Principal, what: &str, error: StoreError) -> Response {
    if !error.is_user_error() {
        return server_failed(principal, what, &error.to_string());
    }
    let status = match error {
        StoreError::NotFound { .. } => StatusCode::NOT_FOUND,
        StoreError::Conflict(_) => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    problem(
        status,
        Some(principal),
        &format!("Nothing was changed: {error}."),
    )
}

fn unprocessable(principal: &Principal, message: &str) -> Response {
    problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        Some(principal),
        &format!("Nothing was changed: {message}."),
    )
}

fn forbidden(principal: &Principal, permission: Permission, action: &str) -> Option<Response> {
    (!permission.granted_to(principal.actor.role)).then(|| {
        problem(
            StatusCode::FORBIDDEN,
            Some(principal),
            &format!(
                "The role {} may not {action}.",
                principal.actor.role.as_str()
            ),
        )
    })
}

/// The person who sent a form with their session's CSRF token, if their
/// role holds `permission`; else the refusal to show.
async fn person_permitted<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
    presented_csrf: &str,
    permission: Permission,
    action: &str,
) -> Result<Principal, Response> {
    let principal = person_with_form(state, headers, presented_csrf).await?;
    match forbidden(&principal, permission, action) {
        Some(refusal) => Err(refusal),
        None => Ok(principal),
    }
}

async fn scope_or_refusal<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
) -> Result<Scope, Response> {
    crate::api::scope_of(state, principal)
        .await
        .map_err(|error| server_failed(principal, "reading the organisation tree", error.message()))
}

/// An assessment of an organisation the person may see; another Trust's
/// looks missing.
async fn assessment_in_scope<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    id: i64,
) -> Result<(AssessmentRecord, Scope), Response> {
    let scope = scope_or_refusal(state, principal).await?;
    match state.store.assessment(id).await {
        Ok(record) if scope.includes_text(&record.organisation) => Ok((record, scope)),
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(problem(
            StatusCode::NOT_FOUND,
            Some(principal),
            &format!("Assessment {id} does not exist, or it is not yours to see."),
        )),
        Err(error) => Err(server_failed(
            principal,
            "reading an assessment",
            &error.to_string(),
        )),
    }
}

/// "ChestFlag 2.3.0" for a version id.
fn version_name(names: &Names, version: VersionId) -> String {
    names
        .products
        .values()
        .find_map(|(product, versions)| {
            versions
                .get(&version.0)
                .map(|number| format!("{product} {number}"))
        })
        .unwrap_or_else(|| format!("version {version}"))
}

fn percent_text(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |percent| format!("{percent:.1}%"))
}

fn outcome_badge(record: &AssessmentRecord) -> Markup {
    html! {
        @match record.outcome.as_deref() {
            Some("pass") => span.state.state-live { "pass" },
            Some(other) => span.alert-open { (other) },
            None => span.state { "draft" },
        }
    }
}

async fn procurement_page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Person(principal): Person,
) -> Response {
    let scope = match scope_or_refusal(&state, &principal).await {
        Ok(scope) => scope,
        Err(refusal) => return refusal,
    };
    let loaded = async {
        let names = Names::load(&state, &scope).await?;
        let assessments = state
            .store
            .assessments(Some(&scope.codes_within()), None)
            .await
            .map_err(|error| error.to_string())?;
        let products = state
            .store
            .products()
            .await
            .map_err(|error| error.to_string())?;
        Ok::<_, String>((names, assessments, products))
    }
    .await;
    let (names, assessments, products) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return server_failed(&principal, "the procurement page", &error),
    };
    let may_assess = Permission::AssessProcurement.granted_to(principal.actor.role);
    let csrf = csrf_of(&principal);
    let mut organisations = vec![principal.actor.organisation.clone()];
    organisations.extend(
        scope
            .tree
            .descendants(&principal.actor.organisation)
            .into_iter()
            .map(|organisation| organisation.code.clone()),
    );
    page(
        StatusCode::OK,
        layout(
            "Procurement",
            Some(&principal),
            html! {
                h1 { "Procurement assessments" }
                p.muted { "Each product version is assessed against a weighted template: clinical need, evidence, the local validation plan, integration, regulatory status, the supplier's safety evidence (DCB0129), information governance (DTAC), commercial terms and environmental impact. A completed, passing assessment by the deploying Trust (or above) is needed before local validation starts." }
                @if may_assess {
                    section.card aria-labelledby="open" {
                        h2 id="open" { "Open an assessment" }
                        form method="post" action="/procurement/assessments" {
                            input type="hidden" name="csrf" value=(csrf);
                            label for="version" { "Product version" }
                            select id="version" name="version" required {
                                @for product in &products {
                                    @for version in &product.versions {
                                        option value=(version.id.0) { (product.product.vendor) " · " (product.product.name) " " (version.version.version) }
                                    }
                                }
                            }
                            label for="organisation" { "Assessed by" }
                            select id="organisation" name="organisation" {
                                @for code in &organisations {
                                    option value=(code) { (names.organisation(code.as_str())) }
                                }
                            }
                            button type="submit" { "Open a draft on the default template" }
                        }
                    }
                }
                section.card aria-labelledby="assessments" {
                    h2 id="assessments" { "Assessments" }
                    @if assessments.is_empty() {
                        p { "No assessment yet." }
                    } @else {
                        form method="get" action="/procurement/compare" {
                            table {
                                thead { tr { th scope="col" { "Compare" } th scope="col" { "Assessment" } th scope="col" { "Product version" } th scope="col" { "Organisation" } th scope="col" { "Outcome" } th scope="col" { "Total" } th scope="col" { "Last change" } } }
                                tbody {
                                    @for assessment in &assessments {
                                        tr {
                                            td { input type="checkbox" name="ids" value=(assessment.id) aria-label={ "Compare assessment " (assessment.id) }; }
                                            td { a href={ "/assessments/" (assessment.id) } { "A" (assessment.id) } }
                                            td { (version_name(&names, assessment.version)) }
                                            td { (names.organisation(&assessment.organisation)) }
                                            td { (outcome_badge(assessment)) }
                                            td { (percent_text(assessment.total_percent)) }
                                            td { (assessment.updated_by) ", " (when(assessment.updated_at)) }
                                        }
                                    }
                                }
                            }
                            button type="submit" { "Compare the ticked assessments side by side" }
                        }
                    }
                }
            },
        ),
    )
}

#[derive(Debug, Deserialize)]
struct OpenAssessmentForm {
    csrf: String,
    version: i64,
    organisation: String,
}

async fn open_assessment<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Form(form): Form<OpenAssessmentForm>,
) -> Response {
    let principal = match person_permitted(
        &state,
        &headers,
        &form.csrf,
        Permission::AssessProcurement,
        "assess procurement",
    )
    .await
    {
        Ok(principal) => principal,
        Err(refusal) => return refusal,
    };
    let scope = match scope_or_refusal(&state, &principal).await {
        Ok(scope) => scope,
        Err(refusal) => return refusal,
    };
    let organisation = match Code::parse(&form.organisation) {
        Ok(code) if scope.includes(&code) => code,
        _ => {
            return unprocessable(
                &principal,
                &format!("organisation {} is not yours", form.organisation),
            );
        }
    };
    match state
        .store
        .create_assessment(
            &principal.context(),
            VersionId(form.version),
            &organisation,
            DEFAULT_TEMPLATE,
        )
        .await
    {
        Ok(record) => see_other(&format!("/assessments/{}", record.id)),
        Err(error) => refused(&principal, "opening an assessment", error),
    }
}

async fn assessment_page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Person(principal): Person,
    Path(id): Path<i64>,
) -> Response {
    let (record, scope) = match assessment_in_scope(&state, &principal, id).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let names = match Names::load(&state, &scope).await {
        Ok(names) => names,
        Err(error) => return server_failed(&principal, "the assessment page", &error),
    };
    let scored = score(&record.template, &record.answers);
    let editable =
        record.state == "draft" && Permission::AssessProcurement.granted_to(principal.actor.role);
    let answers: HashMap<&str, &Answer> = record
        .answers
        .iter()
        .map(|answer| (answer.question.as_str(), answer))
        .collect();
    let csrf = csrf_of(&principal);
    let title = format!(
        "Assessment A{} of {}",
        record.id,
        version_name(&names, record.version)
    );
    page(
        StatusCode::OK,
        layout(
            &title,
            Some(&principal),
            html! {
                p { a href="/procurement" { "← Procurement" } }
                h1 { (title) " " (outcome_badge(&record)) }
                dl.facts {
                    dt { "Assessed by" } dd { (names.organisation(&record.organisation)) }
                    dt { "Template" } dd { (record.template.name) " (version " (record.template.version) "; pass mark " (record.template.pass_mark) "%)" }
                    dt { "Total" } dd { (percent_text(scored.total_percent)) }
                    dt { "Answered" } dd { (record.answers.len()) " of " (record.template.question_keys().len()) }
                    @if !scored.failed_gates.is_empty() {
                        dt { "Failed gates" } dd { (scored.failed_gates.join(", ")) }
                    }
                    dt { "Last change" } dd { (record.updated_by) ", " (when(record.updated_at)) " (revision " (record.revision) ")" }
                }
                form method="post" action={ "/assessments/" (record.id) "/answers" } {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="revision" value=(record.revision);
                    @for (section, section_score) in record.template.sections.iter().zip(&scored.sections) {
                        section.card aria-labelledby={ "section-" (section.key) } {
                            h2 id={ "section-" (section.key) } { (section.title) " " span.muted { "weight " (section.weight) " · " (percent_text(section_score.percent)) } }
                            table {
                                thead { tr { th scope="col" { "Question" } th scope="col" { "Score (0–4)" } th scope="col" { "Note" } } }
                                tbody {
                                    @for question in &section.questions {
                                        @let key = format!("{}.{}", section.key, question.key);
                                        @let answer = answers.get(key.as_str());
                                        tr {
                                            td { label for={ "score-" (key) } { (question.text) } @if question.gate { " " strong { "(gate)" } } }
                                            td {
                                                @if editable {
                                                    select id={ "score-" (key) } name={ "score:" (key) } {
                                                        option value="" selected[answer.is_none()] { "–" }
                                                        @for value in 0..=4u8 {
                                                            option value=(value) selected[answer.is_some_and(|answer| answer.score == value)] { (value) }
                                                        }
                                                    }
                                                } @else {
                                                    (answer.map_or_else(|| "–".to_owned(), |answer| answer.score.to_string()))
                                                }
                                            }
                                            td {
                                                @if editable {
                                                    input type="text" name={ "note:" (key) } aria-label={ "Note on " (key) } value=(answer.and_then(|answer| answer.note.as_deref()).unwrap_or_default());
                                                } @else {
                                                    (answer.and_then(|answer| answer.note.as_deref()).unwrap_or_default())
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if editable {
                        button type="submit" { "Save the answers" }
                    }
                }
                @if editable {
                    form method="post" action={ "/assessments/" (record.id) "/complete" } {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="revision" value=(record.revision);
                        button type="submit" { "Complete the assessment (its outcome is then fixed)" }
                    }
                }
            },
        ),
    )
}

async fn answers_action<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let csrf = form.get("csrf").map(String::as_str).unwrap_or_default();
    let principal = match person_permitted(
        &state,
        &headers,
        csrf,
        Permission::AssessProcurement,
        "assess procurement",
    )
    .await
    {
        Ok(principal) => principal,
        Err(refusal) => return refusal,
    };
    let (record, _) = match assessment_in_scope(&state, &principal, id).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let Some(revision) = form
        .get("revision")
        .and_then(|text| text.parse::<i64>().ok())
    else {
        return unprocessable(&principal, "the form has no revision; reload the page");
    };
    let mut answers = Vec::new();
    for question in record.template.question_keys() {
        let Some(raw) = form
            .get(&format!("score:{question}"))
            .filter(|raw| !raw.is_empty())
        else {
            continue;
        };
        let Ok(value) = raw.parse::<u8>() else {
            return unprocessable(
                &principal,
                &format!("{question}: score {raw:?} is not 0 to 4"),
            );
        };
        let note = form
            .get(&format!("note:{question}"))
            .map(|note| note.trim().to_owned())
            .filter(|note| !note.is_empty());
        // Evidence files cited through the API stay cited.
        let attachments = record
            .answers
            .iter()
            .find(|answer| answer.question == question)
            .map(|answer| answer.attachments.clone())
            .unwrap_or_default();
        answers.push(Answer {
            question,
            score: value,
            note,
            attachments,
        });
    }
    if let Err(error) = check_answers(&record.template, &answers) {
        return unprocessable(&principal, &error.to_string());
    }
    match state
        .store
        .save_answers(&principal.context(), id, &answers, revision)
        .await
    {
        Ok(_) => see_other(&format!("/assessments/{id}")),
        Err(error) => refused(&principal, "saving answers", error),
    }
}

#[derive(Debug, Deserialize)]
struct RevisionForm {
    csrf: String,
    revision: i64,
}

async fn complete_action<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<RevisionForm>,
) -> Response {
    let principal = match person_permitted(
        &state,
        &headers,
        &form.csrf,
        Permission::AssessProcurement,
        "assess procurement",
    )
    .await
    {
        Ok(principal) => principal,
        Err(refusal) => return refusal,
    };
    if let Err(refusal) = assessment_in_scope(&state, &principal, id).await {
        return refusal;
    }
    match state
        .store
        .complete_assessment(&principal.context(), id, form.revision)
        .await
    {
        Ok(_) => see_other(&format!("/assessments/{id}")),
        Err(error) => refused(&principal, "completing an assessment", error),
    }
}

async fn comparison_page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Person(principal): Person,
    RawQuery(query): RawQuery,
) -> Response {
    let mut ids = Vec::new();
    for pair in query.as_deref().unwrap_or_default().split('&') {
        if let Some(value) = pair.strip_prefix("ids=") {
            match value.parse::<i64>() {
                Ok(id) if !ids.contains(&id) => ids.push(id),
                Ok(_) => {}
                Err(_) => {
                    return unprocessable(
                        &principal,
                        &format!("{value:?} is not an assessment number"),
                    );
                }
            }
        }
    }
    if ids.len() < 2 || ids.len() > 12 {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&principal),
            "Tick between two and twelve assessments to compare.",
        );
    }
    let mut records = Vec::new();
    let mut scope = None;
    for id in &ids {
        match assessment_in_scope(&state, &principal, *id).await {
            Ok((record, found)) => {
                records.push(record);
                scope = Some(found);
            }
            Err(refusal) => return refusal,
        }
    }
    let Some(scope) = scope else {
        return server_failed(&principal, "the comparison", "no scope");
    };
    let names = match Names::load(&state, &scope).await {
        Ok(names) => names,
        Err(error) => return server_failed(&principal, "the comparison", &error),
    };
    let scores: Vec<_> = records
        .iter()
        .map(|record| score(&record.template, &record.answers))
        .collect();
    // Sections in the order of the first template; others' sections by key.
    let sections: Vec<(String, String)> = records
        .iter()
        .flat_map(|record| {
            record
                .template
                .sections
                .iter()
                .map(|section| (section.key.clone(), section.title.clone()))
        })
        .fold(Vec::new(), |mut sections, section| {
            if !sections.iter().any(|(key, _)| *key == section.0) {
                sections.push(section);
            }
            sections
        });
    let csv = format!(
        "/api/v1/assessments/comparison?ids={}&format=csv",
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    );
    page(
        StatusCode::OK,
        layout(
            "Vendor comparison",
            Some(&principal),
            html! {
                p { a href="/procurement" { "← Procurement" } }
                h1 { "Assessments side by side" }
                p.muted { "Section scores as percentages of the best possible; the total weighs the sections. " a href=(csv) { "Export as CSV" } }
                table {
                    thead {
                        tr {
                            th scope="col" { "Section" }
                            @for record in &records {
                                th scope="col" { a href={ "/assessments/" (record.id) } { "A" (record.id) } br; (version_name(&names, record.version)) br; span.muted { (names.organisation(&record.organisation)) } }
                            }
                        }
                    }
                    tbody {
                        @for (key, title) in &sections {
                            tr {
                                th scope="row" { (title) }
                                @for scored in &scores {
                                    td.number { (percent_text(scored.sections.iter().find(|section| section.key == *key).and_then(|section| section.percent))) }
                                }
                            }
                        }
                        tr {
                            th scope="row" { "Total" }
                            @for scored in &scores { td.number { strong { (percent_text(scored.total_percent)) } } }
                        }
                        tr {
                            th scope="row" { "Failed gates" }
                            @for scored in &scores { td { (scored.failed_gates.join(", ")) } }
                        }
                        tr {
                            th scope="row" { "Outcome" }
                            @for record in &records { td { (outcome_badge(record)) } }
                        }
                    }
                }
            },
        ),
    )
}

async fn hazards_page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Person(principal): Person,
    Path(id): Path<i64>,
) -> Response {
    let (record, scope) = match deployment_in_scope(&state, &principal, id).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let loaded = async {
        let names = Names::load(&state, &scope).await?;
        let inputs = vigil_store::safety::safety_case_inputs(&state.store, &record)
            .await
            .map_err(|error| error.to_string())?;
        let alerts = state
            .store
            .alerts(record.id)
            .await
            .map_err(|error| error.to_string())?;
        Ok::<_, String>((names, inputs, alerts))
    }
    .await;
    let (names, inputs, alerts) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return server_failed(&principal, "the hazard log", &error),
    };
    let (acceptable, concerns) = vigil_reports::safety_case::safety_position(&inputs);
    let (product, version) = names.product(&record);
    let site = names.organisation(record.deployment.site.as_str());
    let may_manage = Permission::ManageHazards.granted_to(principal.actor.role);
    let may_sign = Permission::SignSafetyCase.granted_to(principal.actor.role);
    let open_alerts: Vec<_> = alerts
        .iter()
        .filter(|alert| alert.state != AlertState::Resolved)
        .collect();
    let csrf = csrf_of(&principal);
    let signed = inputs
        .signature
        .as_ref()
        .is_some_and(|signature| signature.log_sha256 == inputs.log_sha256);
    page(
        StatusCode::OK,
        layout(
            &format!("Hazard log of {product} at {site}"),
            Some(&principal),
            html! {
                p { a href={ "/deployments/" (record.id.0) } { "← " (product) " " (version) " at " (site) } }
                h1 { "Hazard log of " (product) " at " (site) }
                section.card aria-labelledby="position" {
                    h2 id="position" { "The safety case" }
                    @if acceptable {
                        p { span.state.state-live { "acceptable" } " Every hazard is closed or controlled to an acceptable residual risk, with its evidence in place." }
                    } @else {
                        p { span.alert-open { (concerns.len()) " concern(s)" } }
                        ul { @for concern in &concerns { li { (concern) } } }
                    }
                    p {
                        @match &inputs.signature {
                            Some(signature) if signed => { span.state.state-live { "signed" } " by " (signature.signed_by) " on " (signature.signed_at) ": " (signature.statement) }
                            Some(signature) => { span.alert-open { "not signed since the log changed" } " (last signed by " (signature.signed_by) " on " (signature.signed_at) ")" }
                            None => { span.alert-open { "not yet signed" } }
                        }
                    }
                    p {
                        a href={ "/api/v1/deployments/" (record.id.0) "/safety-case" } { "Open the safety case report" }
                        " · "
                        a href={ "/api/v1/deployments/" (record.id.0) "/governance-pack" } { "Governance pack (PDF)" }
                    }
                    @if may_sign && !signed {
                        form method="post" action={ "/deployments/" (record.id.0) "/safety-case/sign" } {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="log_sha256" value=(inputs.log_sha256);
                            label for="statement" { "Your statement as clinical safety officer" }
                            input type="text" id="statement" name="statement" required;
                            button type="submit" { "Sign the safety case as it stands" }
                        }
                    }
                }
                section.card aria-labelledby="log" {
                    h2 id="log" { "Hazards" }
                    @if inputs.hazards.is_empty() {
                        p { "No hazard recorded." }
                    } @else {
                        table {
                            caption.muted { "Risk ratings on the 5×5 matrix of DCB0129/DCB0160: 1 acceptable to 5 unacceptable." }
                            thead { tr { th scope="col" { "Hazard" } th scope="col" { "Cause → effect" } th scope="col" { "Controls and their evidence" } th scope="col" { "Initial" } th scope="col" { "Residual" } th scope="col" { "Status" } th scope="col" { "Owner" } } }
                            tbody {
                                @for case in &inputs.hazards {
                                    @let fields = case.hazard.fields();
                                    tr {
                                        td { "H" (case.id) " " (fields.title) br; span.muted { "revision " (case.revision) } }
                                        td { (fields.cause) " → " (fields.effect) }
                                        td {
                                            ul {
                                                @for (control, evidence) in fields.controls.iter().zip(&case.evidence) {
                                                    li {
                                                        (control.description)
                                                        @for (reference, found) in evidence {
                                                            br;
                                                            @match found {
                                                                vigil_store::safety::EvidenceState::Supports(text) => { span.state.state-live { (reference) } " " (text) }
                                                                vigil_store::safety::EvidenceState::Missing(reason) => { span.alert-open { (reference) } " " (reason) }
                                                                vigil_store::safety::EvidenceState::External => { (reference) " (outside Vigil)" }
                                                            }
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                        td.number { (fields.initial.rating().get()) }
                                        td.number title=(fields.residual.rating().acceptability()) { (fields.residual.rating().get()) }
                                        td { @if case.hazard.status() == HazardStatus::UnderReview { span.alert-open { "under review" } } @else { (case.hazard.status().as_str()) } @for (alert, _, _) in &case.alerts { br; "alert " (alert) } }
                                        td { (fields.owner) }
                                    }
                                }
                            }
                        }
                    }
                }
                @if may_manage && !open_alerts.is_empty() && !inputs.hazards.is_empty() {
                    section.card aria-labelledby="link" {
                        h2 id="link" { "Link an alert to a hazard" }
                        p.muted { "The hazard goes under review; resolving the alert records its reassessment." }
                        form method="post" action={ "/deployments/" (record.id.0) "/hazards/link" } {
                            input type="hidden" name="csrf" value=(csrf);
                            label for="alert" { "Alert" }
                            select id="alert" name="alert" {
                                @for alert in &open_alerts { option value=(alert.id) { "alert " (alert.id) ": " (alert.rule) } }
                            }
                            label for="hazard" { "Hazard" }
                            select id="hazard" name="hazard" {
                                @for case in &inputs.hazards { option value=(case.id) { "H" (case.id) " " (case.hazard.fields().title) } }
                            }
                            label for="note" { "Why" }
                            input type="text" id="note" name="note" required;
                            button type="submit" { "Link and review" }
                        }
                    }
                }
                @if may_manage {
                    section.card aria-labelledby="add" {
                        h2 id="add" { "Add a hazard" }
                        form.stacked method="post" action={ "/deployments/" (record.id.0) "/hazards" } {
                            input type="hidden" name="csrf" value=(csrf);
                            label for="title" { "Title" } input type="text" id="title" name="title" required;
                            label for="cause" { "Cause" } input type="text" id="cause" name="cause" required;
                            label for="effect" { "Effect" } input type="text" id="effect" name="effect" required;
                            label for="control" { "Control (leave empty if none yet)" } input type="text" id="control" name="control";
                            label for="evidence" { "The control's evidence, comma-separated (evaluation:N, rule:ID or a document)" } input type="text" id="evidence" name="evidence";
                            (rating_fields("initial", "Initial"))
                            (rating_fields("residual", "Residual"))
                            label for="owner" { "Owner" } input type="text" id="owner" name="owner" required;
                            label for="status" { "Status" }
                            select id="status" name="status" {
                                @for status in [HazardStatus::Open, HazardStatus::Controlled, HazardStatus::Closed] {
                                    option value=(status.as_str()) { (status.as_str()) }
                                }
                            }
                            button type="submit" { "Add the hazard" }
                        }
                    }
                }
            },
        ),
    )
}

fn rating_fields(prefix: &str, label: &str) -> Markup {
    html! {
        label for={ (prefix) "-severity" } { (label) " severity" }
        select id={ (prefix) "-severity" } name={ (prefix) "_severity" } {
            @for severity in Severity::ALL { option value=(severity.as_str()) { (severity.as_str()) } }
        }
        label for={ (prefix) "-likelihood" } { (label) " likelihood" }
        select id={ (prefix) "-likelihood" } name={ (prefix) "_likelihood" } {
            @for likelihood in Likelihood::ALL { option value=(likelihood.as_str()) { (likelihood.as_str().replace('_', " ")) } }
        }
    }
}

#[derive(Debug, Deserialize)]
struct HazardForm {
    csrf: String,
    title: String,
    cause: String,
    effect: String,
    #[serde(default)]
    control: String,
    #[serde(default)]
    evidence: String,
    initial_severity: String,
    initial_likelihood: String,
    residual_severity: String,
    residual_likelihood: String,
    owner: String,
    status: String,
}

async fn add_hazard_action<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<HazardForm>,
) -> Response {
    let principal = match person_permitted(
        &state,
        &headers,
        &form.csrf,
        Permission::ManageHazards,
        "manage hazards",
    )
    .await
    {
        Ok(principal) => principal,
        Err(refusal) => return refusal,
    };
    if let Err(refusal) = deployment_in_scope(&state, &principal, id).await {
        return refusal;
    }
    let controls = if form.control.trim().is_empty() {
        Vec::new()
    } else {
        let evidence: Vec<&str> = form
            .evidence
            .split(',')
            .map(str::trim)
            .filter(|reference| !reference.is_empty())
            .collect();
        vec![serde_json::json!({"description": form.control.trim(), "evidence": evidence})]
    };
    // The API's JSON form of a hazard, parsed by the same rules.
    let value = serde_json::json!({
        "title": form.title.trim(),
        "cause": form.cause.trim(),
        "effect": form.effect.trim(),
        "controls": controls,
        "initial": {"severity": form.initial_severity, "likelihood": form.initial_likelihood},
        "residual": {"severity": form.residual_severity, "likelihood": form.residual_likelihood},
        "owner": form.owner.trim(),
        "status": form.status,
    });
    let hazard: vigil_domain::Hazard = match serde_json::from_value(value) {
        Ok(hazard) => hazard,
        Err(error) => return unprocessable(&principal, &error.to_string()),
    };
    match state
        .store
        .add_hazard(&principal.context(), DeploymentId(id), &hazard)
        .await
    {
        Ok(_) => see_other(&format!("/deployments/{id}/hazards")),
        Err(error) => refused(&principal, "adding a hazard", error),
    }
}

#[derive(Debug, Deserialize)]
struct LinkForm {
    csrf: String,
    alert: i64,
    hazard: i64,
    note: String,
}

async fn link_alert_action<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<LinkForm>,
) -> Response {
    let principal = match person_permitted(
        &state,
        &headers,
        &form.csrf,
        Permission::ManageHazards,
        "manage hazards",
    )
    .await
    {
        Ok(principal) => principal,
        Err(refusal) => return refusal,
    };
    if let Err(refusal) = deployment_in_scope(&state, &principal, id).await {
        return refusal;
    }
    // Both must belong to this deployment: the store checks the alert and
    // the hazard belong together; this checks they are this deployment's.
    match state.store.alert(form.alert).await {
        Ok(alert) if alert.deployment.0 == id => {}
        _ => {
            return unprocessable(
                &principal,
                &format!("alert {} is not this deployment's", form.alert),
            );
        }
    }
    let note = form.note.trim();
    if note.is_empty() {
        return unprocessable(&principal, "say why the alert bears on the hazard");
    }
    match state
        .store
        .link_alert_to_hazard(&principal.context(), form.alert, form.hazard, note)
        .await
    {
        Ok(_) => see_other(&format!("/deployments/{id}/hazards")),
        Err(error) => refused(&principal, "linking an alert", error),
    }
}

#[derive(Debug, Deserialize)]
struct SignForm {
    csrf: String,
    log_sha256: String,
    statement: String,
}

async fn sign_action<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<SignForm>,
) -> Response {
    let principal = match person_permitted(
        &state,
        &headers,
        &form.csrf,
        Permission::SignSafetyCase,
        "sign the safety case",
    )
    .await
    {
        Ok(principal) => principal,
        Err(refusal) => return refusal,
    };
    let (record, _) = match deployment_in_scope(&state, &principal, id).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let statement = form.statement.trim();
    if statement.is_empty() {
        return unprocessable(&principal, "write the statement you sign");
    }
    let report = match vigil_store::safety::safety_case_inputs(&state.store, &record).await {
        Ok(inputs) => vigil_reports::safety_case::safety_case_report(&inputs),
        Err(error) => return server_failed(&principal, "the safety case", &error.to_string()),
    };
    match state
        .store
        .sign_safety_case(
            &principal.context(),
            record.id,
            &form.log_sha256.trim().to_ascii_lowercase(),
            &vigil_store::rows::sha256_hex(&report),
            statement,
        )
        .await
    {
        Ok(_) => see_other(&format!("/deployments/{id}/hazards")),
        Err(error) => refused(&principal, "signing the safety case", error),
    }
}

async fn productivity_page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Person(principal): Person,
    Path(id): Path<i64>,
) -> Response {
    use vigil_store::vigil_monitor::productivity::{Milestone, SuccessCriteria, audit};
    let (record, scope) = match deployment_in_scope(&state, &principal, id).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let Some(trust) = scope.trust_of(&record.deployment.site) else {
        return server_failed(
            &principal,
            "the productivity audit",
            "the site lies under no Trust",
        );
    };
    let loaded = async {
        let names = Names::load(&state, &scope).await?;
        let criteria = state
            .store
            .success_criteria(record.id)
            .await
            .map_err(|error| error.to_string())?;
        let inputs = state
            .store
            .productivity_inputs(record.id, &trust)
            .await
            .map_err(|error| error.to_string())?;
        Ok::<_, String>((names, criteria, inputs))
    }
    .await;
    let (names, criteria, inputs) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return server_failed(&principal, "the productivity audit", &error),
    };
    let registered = criteria.as_ref().map(|record| SuccessCriteria {
        registered_at: record.registered_at,
        criteria: record.criteria.clone(),
    });
    let result = match tokio::task::spawn_blocking(move || {
        audit(
            &inputs.cases,
            inputs.go_live_at,
            registered.as_ref(),
            Milestone::VerifiedReport,
        )
    })
    .await
    {
        Ok(result) => result,
        Err(error) => {
            return server_failed(&principal, "the productivity audit", &error.to_string());
        }
    };
    let (product, version) = names.product(&record);
    let site = names.organisation(record.deployment.site.as_str());
    let minutes = |value: Option<f64>| {
        value.map_or_else(|| "–".to_owned(), |value| format!("{value:.0} min"))
    };
    let recommendation = serde_json::to_value(result.recommendation)
        .ok()
        .and_then(|value| value.as_str().map(|text| text.replace('_', " ")))
        .unwrap_or_default();
    page(
        StatusCode::OK,
        layout(
            &format!("Productivity audit of {product} at {site}"),
            Some(&principal),
            html! {
                p { a href={ "/deployments/" (record.id.0) } { "← " (product) " " (version) " at " (site) } }
                h1 { "Productivity audit of " (product) " at " (site) }
                section.card aria-labelledby="recommendation" {
                    h2 id="recommendation" { "Recommendation: " (recommendation) }
                    p { (result.summary) }
                    @match &criteria {
                        Some(criteria) => p.muted { "Success criteria version " (criteria.version) ", registered by " (criteria.registered_by) " " (when(criteria.registered_at)) ": " (criteria.rationale) }
                        None => p.muted { "No success criteria were registered before go-live." }
                    }
                    @if !result.verdicts.is_empty() {
                        table {
                            thead { tr { th scope="col" { "Criterion" } th scope="col" { "Outcome" } th scope="col" { "Evidence" } } }
                            tbody {
                                @for verdict in &result.verdicts {
                                    tr {
                                        td { (verdict.description) }
                                        td { (serde_json::to_value(verdict.outcome).ok().and_then(|value| value.as_str().map(|text| text.replace('_', " "))).unwrap_or_default()) }
                                        td { (verdict.evidence) }
                                    }
                                }
                            }
                        }
                    }
                }
                section.card aria-labelledby="turnaround" {
                    h2 id="turnaround" { "Turnaround to the verified report" }
                    p.muted { (result.audited_cases) " cases timed, " (result.cases_without_report) " without a report yet, " (result.cases_prioritised) " prioritised by the tool. Before: shadow running; after: since go-live." }
                    table {
                        thead { tr { th scope="col" { "Cases" } th scope="col" { "Before" } th scope="col" { "Median before" } th scope="col" { "After" } th scope="col" { "Median after" } th scope="col" { "Difference (95% bootstrap)" } th scope="col" { "Mann–Whitney p" } } }
                        tbody {
                            @for comparison in [&result.all_cases, &result.flagged_cases] {
                                tr {
                                    th scope="row" { (serde_json::to_value(comparison.cases).ok().and_then(|value| value.as_str().map(str::to_owned)).unwrap_or_default()) }
                                    td.number { (comparison.before.cases) }
                                    td.number { (minutes(comparison.before.median)) }
                                    td.number { (comparison.after.cases) }
                                    td.number { (minutes(comparison.after.median)) }
                                    @match &comparison.change {
                                        Some(change) => {
                                            td.number { (format!("{:.0} min ({:.0} to {:.0})", change.median_difference, change.low, change.high)) }
                                            td.number { (format!("{:.3}", change.mann_whitney_p)) }
                                        }
                                        None => { td colspan="2" { (comparison.reason.as_deref().unwrap_or("–")) } }
                                    }
                                }
                            }
                        }
                    }
                }
                section.card aria-labelledby="readers" {
                    h2 id="readers" { "Workload per reader" }
                    @if result.readers.is_empty() {
                        p { "No report names its reader (HL7 OBR-32, FHIR resultsInterpreter)." }
                    } @else {
                        p.muted { "Readers by the pseudonym of their RIS identifier (first 12 characters); " (result.reports_without_reader) " timed reports name no reader." }
                        table {
                            thead { tr { th scope="col" { "Reader" } th scope="col" { "Reports before" } th scope="col" { "Median before" } th scope="col" { "Reports after" } th scope="col" { "Median after" } th scope="col" { "Flagged after" } } }
                            tbody {
                                @for workload in &result.readers {
                                    tr {
                                        td { code { (workload.reader.chars().take(12).collect::<String>()) } }
                                        td.number { (workload.before.cases) }
                                        td.number { (minutes(workload.before.median)) }
                                        td.number { (workload.after.cases) }
                                        td.number { (minutes(workload.after.median)) }
                                        td.number { (workload.flagged_after) }
                                    }
                                }
                            }
                        }
                    }
                }
            },
        ),
    )
}
