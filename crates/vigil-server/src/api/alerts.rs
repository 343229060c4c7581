//! Monitoring rules, assessments, alerts, webhooks and the cross-site funnel
//! plot: what the API offers on top of the day aggregates.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use jiff::civil::Date;
use serde::Deserialize;
use vigil_api_types::ErrorCode;
use vigil_api_types::wire::{
    AlertNote, AlertView, AssessmentRequest, AssessmentView, DeploymentAssessmentView,
    EvidenceView, FunnelUnitView, FunnelView, RulesEdit, RulesView, WebhookCreate, WebhookView,
};
use vigil_monitor::{Assessment, RuleSet, Verdict};
use vigil_stats::control::{FUNNEL_LEVELS, LimitPosition, funnel_plot};
use vigil_store::rows::stored_timestamp;
use vigil_store::{
    AlertRecord, AlertState, DeploymentId, ProductId, RulesRecord, Store, StoreError,
};

use super::registry::deployment_in_scope;
use super::{ApiJson, invalid, parse_text, scope_of};
use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

type AppStateOf<S> = State<Arc<AppState<S>>>;

fn not_found(what: &str, id: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::NotFound, format!("{what} {id} does not exist"))
}

fn rules_view(record: &RulesRecord) -> RulesView {
    RulesView {
        deployment: record.deployment.0,
        version: record.version,
        reason: record.reason.clone(),
        created_by: record.created_by.clone(),
        created_at: stored_timestamp(record.created_at),
        rules: serde_json::from_str(&record.rules.to_json()).unwrap_or_default(),
    }
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Signal => "signal",
        Verdict::Clear => "clear",
        Verdict::NotEnoughData => "not_enough_data",
        Verdict::Unavailable => "unavailable",
    }
}

fn assessment_view(assessment: &Assessment) -> AssessmentView {
    let evidence = &assessment.evidence;
    AssessmentView {
        rule: assessment.rule.clone(),
        kind: assessment.kind.clone(),
        window_from: assessment.window_from.to_string(),
        window_to: assessment.window_to.to_string(),
        verdict: verdict_name(assessment.verdict).to_owned(),
        propose_suspension: assessment.propose_suspension,
        evidence: EvidenceView {
            statistic: evidence.statistic.clone(),
            value: evidence.value.filter(|value| value.is_finite()),
            interval: evidence.interval.map(|(low, high)| [low, high]),
            baseline: evidence.baseline,
            p_value: evidence.p_value,
            effect_size: evidence.effect_size.filter(|value| value.is_finite()),
            threshold: evidence.threshold.clone(),
            cases: evidence.cases,
            reference_cases: evidence.reference_cases,
            explanation: evidence.explanation.clone(),
        },
    }
}

fn alert_view(alert: &AlertRecord) -> AlertView {
    AlertView {
        id: alert.id,
        deployment: alert.deployment.0,
        rule: alert.rule.clone(),
        rules_version: alert.rules_version,
        state: alert.state.as_str().to_owned(),
        proposes_suspension: alert.proposes_suspension,
        assessment: assessment_view(&alert.assessment),
        raised_at: stored_timestamp(alert.raised_at),
        raised_by: alert.raised_by.clone(),
        acknowledged_at: alert.acknowledged_at.map(stored_timestamp),
        acknowledged_by: alert.acknowledged_by.clone(),
        acknowledgement: alert.acknowledgement.clone(),
        resolved_at: alert.resolved_at.map(stored_timestamp),
        resolved_by: alert.resolved_by.clone(),
        resolution: alert.resolution.clone(),
    }
}

/// The rules in force for a deployment.
#[utoipa::path(get, path = "/api/v1/deployments/{id}/rules", tag = "monitoring",
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 200, description = "The rules in force", body = RulesView)))]
pub async fn get_rules<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<RulesView>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    deployment_in_scope(&state, &scope, id).await?;
    match state.store.rules(DeploymentId(id)).await? {
        Some(record) => Ok(Json(rules_view(&record))),
        None => Err(ApiError::new(
            ErrorCode::NotFound,
            format!(
                "deployment {id} has no monitoring rules yet (they are made at go-live, or set with PUT)"
            ),
        )),
    }
}

/// Every version of a deployment's rules, oldest first.
#[utoipa::path(get, path = "/api/v1/deployments/{id}/rules/history", tag = "monitoring",
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 200, description = "Rule versions", body = Vec<RulesView>)))]
pub async fn rule_history<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<RulesView>>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    deployment_in_scope(&state, &scope, id).await?;
    let history = state.store.rule_history(DeploymentId(id)).await?;
    Ok(Json(history.iter().map(rules_view).collect()))
}

/// Stores a new version of a deployment's rules (JSON in `rules`, or TOML
/// text in `rules_toml`), validated whole; audited with its reason.
#[utoipa::path(put, path = "/api/v1/deployments/{id}/rules", tag = "monitoring", request_body = RulesEdit,
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 201, description = "The new version", body = RulesView)))]
pub async fn put_rules<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<RulesEdit>,
) -> Result<(StatusCode, Json<RulesView>), ApiError> {
    let scope = scope_of(&state, &principal).await?;
    deployment_in_scope(&state, &scope, id).await?;
    let text = match (&body.rules, &body.rules_toml) {
        (Some(json), None) => Ok(json.to_string()),
        (None, Some(toml)) => Err(toml.clone()),
        _ => {
            return Err(invalid(
                "rules",
                "send the rule set either as JSON (rules) or as TOML text (rules_toml), not both",
            ));
        }
    };
    // Designing a CUSUM's decision interval can take a second: off the
    // async threads.
    let rules = tokio::task::spawn_blocking(move || match text {
        Ok(json) => RuleSet::from_json(&json),
        Err(toml) => RuleSet::from_toml(&toml),
    })
    .await
    .map_err(|error| {
        ApiError::new(ErrorCode::Internal, "the server failed; see its log").internal(error)
    })?
    .map_err(|error| invalid("rules", error))?;
    let reason = parse_text("reason", &body.reason)?;
    let record = state
        .store
        .set_rules(
            &principal.context(),
            DeploymentId(id),
            &rules,
            reason.as_str(),
            Some(body.expected_version),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(rules_view(&record))))
}

/// A day given in the field `field` (YYYY-MM-DD, UTC), else today.
fn day_or_today(field: &str, day: Option<&str>) -> Result<Date, ApiError> {
    match day {
        Some(text) => text
            .trim()
            .parse::<Date>()
            .map_err(|_| invalid(field, "is not a date such as 2026-11-30")),
        None => Ok(vigil_monitor::utc_day(jiff::Timestamp::now())),
    }
}

/// The day an assessment is for: `as_of` as given, else today (UTC).
fn as_of_day(as_of: Option<&str>) -> Result<Date, ApiError> {
    day_or_today("as_of", as_of)
}

/// The period of a query's `from` and `to`: `to` defaults to today, `from`
/// to 90 days ending on `to`; `from` after `to` is refused.
pub(super) fn period(from: Option<&str>, to: Option<&str>) -> Result<(Date, Date), ApiError> {
    let to = day_or_today("to", to)?;
    let from = match from {
        Some(_) => day_or_today("from", from)?,
        None => vigil_monitor::assess::window_start(to, 90),
    };
    if from > to {
        return Err(invalid("from", "is after to"));
    }
    Ok((from, to))
}

fn assessment_response(
    assessment: &vigil_store::monitoring::DeploymentAssessment,
) -> DeploymentAssessmentView {
    DeploymentAssessmentView {
        rules_version: assessment.rules_version,
        as_of: assessment.as_of.to_string(),
        assessments: assessment.assessments.iter().map(assessment_view).collect(),
        raised: assessment.raised.iter().map(alert_view).collect(),
    }
}

/// The query of a read-only assessment.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssessmentQuery {
    /// YYYY-MM-DD (UTC); today when absent.
    pub as_of: Option<String>,
}

/// A deployment's rules judged on a day, without raising alerts.
#[utoipa::path(get, path = "/api/v1/deployments/{id}/assessment", tag = "monitoring",
    params(("id" = i64, Path, description = "Deployment id"), AssessmentQuery),
    responses((status = 200, description = "Every rule's verdict with its evidence", body = DeploymentAssessmentView)))]
pub async fn get_assessment<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    Query(query): Query<AssessmentQuery>,
) -> Result<Json<DeploymentAssessmentView>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    deployment_in_scope(&state, &scope, id).await?;
    let as_of = as_of_day(query.as_of.as_deref())?;
    let assessment = vigil_store::monitoring::assess_deployment(
        &state.store,
        &principal.context(),
        DeploymentId(id),
        as_of,
        false,
    )
    .await?;
    Ok(Json(assessment_response(&assessment)))
}

/// Judges a deployment's rules now and raises the alerts due (a rule with
/// an open alert raises no second one).
#[utoipa::path(post, path = "/api/v1/deployments/{id}/assessment", tag = "monitoring", request_body = AssessmentRequest,
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 200, description = "Every rule's verdict, and the alerts raised", body = DeploymentAssessmentView)))]
pub async fn run_assessment<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AssessmentRequest>,
) -> Result<Json<DeploymentAssessmentView>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    deployment_in_scope(&state, &scope, id).await?;
    let as_of = as_of_day(body.as_of.as_deref())?;
    let assessment = vigil_store::monitoring::assess_deployment(
        &state.store,
        &principal.context(),
        DeploymentId(id),
        as_of,
        true,
    )
    .await?;
    Ok(Json(assessment_response(&assessment)))
}

/// The alerts of a deployment, newest first.
#[utoipa::path(get, path = "/api/v1/deployments/{id}/alerts", tag = "monitoring",
    params(("id" = i64, Path, description = "Deployment id")),
    responses((status = 200, description = "Alerts", body = Vec<AlertView>)))]
pub async fn list_alerts<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<AlertView>>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    deployment_in_scope(&state, &scope, id).await?;
    let alerts = state.store.alerts(DeploymentId(id)).await?;
    Ok(Json(alerts.iter().map(alert_view).collect()))
}

/// An alert of a deployment within the caller's organisation (the same 404
/// otherwise as for an alert that does not exist).
pub(crate) async fn alert_in_scope<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    id: i64,
) -> Result<AlertRecord, ApiError> {
    let scope = scope_of(state, principal).await?;
    let alert = match state.store.alert(id).await {
        Ok(alert) => alert,
        Err(StoreError::NotFound { .. }) => return Err(not_found("alert", id)),
        Err(error) => return Err(error.into()),
    };
    deployment_in_scope(state, &scope, alert.deployment.0)
        .await
        .map_err(|_| not_found("alert", id))?;
    Ok(alert)
}

/// One alert with its evidence.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "monitoring",
    params(("id" = i64, Path, description = "Alert id")),
    responses((status = 200, description = "The alert", body = AlertView)))]
pub async fn get_alert<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Result<Json<AlertView>, ApiError> {
    let alert = alert_in_scope(&state, &principal, id).await?;
    Ok(Json(alert_view(&alert)))
}

async fn advance<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    id: i64,
    to: AlertState,
    note: &str,
) -> Result<Json<AlertView>, ApiError> {
    alert_in_scope(state, principal, id).await?;
    let note = parse_text("note", note)?;
    let alert = state
        .store
        .advance_alert(&principal.context(), id, to, note.as_str())
        .await?;
    Ok(Json(alert_view(&alert)))
}

/// Acknowledges a raised alert: someone is looking at it.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "monitoring", request_body = AlertNote,
    params(("id" = i64, Path, description = "Alert id")),
    responses((status = 200, description = "Acknowledged", body = AlertView)))]
pub async fn acknowledge_alert<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AlertNote>,
) -> Result<Json<AlertView>, ApiError> {
    advance(&state, &principal, id, AlertState::Acknowledged, &body.note).await
}

/// Resolves an acknowledged alert, recording what was found and done.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/resolve", tag = "monitoring", request_body = AlertNote,
    params(("id" = i64, Path, description = "Alert id")),
    responses((status = 200, description = "Resolved", body = AlertView)))]
pub async fn resolve_alert<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AlertNote>,
) -> Result<Json<AlertView>, ApiError> {
    advance(&state, &principal, id, AlertState::Resolved, &body.note).await
}

fn webhook_view(hook: &vigil_store::WebhookRecord) -> WebhookView {
    WebhookView {
        id: hook.id,
        organisation: hook.organisation.to_string(),
        url: hook.url.clone(),
        created_by: hook.created_by.clone(),
        created_at: stored_timestamp(hook.created_at),
        disabled: hook.disabled,
    }
}

/// The webhooks of the caller's organisation and those below it.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "monitoring",
    responses((status = 200, description = "Webhooks (without their secrets)", body = Vec<WebhookView>)))]
pub async fn list_webhooks<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    let hooks = state.store.webhooks(None).await?;
    Ok(Json(
        hooks
            .iter()
            .filter(|hook| scope.includes(&hook.organisation))
            .map(webhook_view)
            .collect(),
    ))
}

/// The shortest webhook secret accepted.
pub const MINIMUM_WEBHOOK_SECRET: usize = 16;

/// Adds a webhook for an organisation within the caller's: its alerts, and
/// those of every site below it, are sent there.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "monitoring", request_body = WebhookCreate,
    responses((status = 201, description = "Added", body = WebhookView)))]
pub async fn add_webhook<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    ApiJson(body): ApiJson<WebhookCreate>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let scope = scope_of(&state, &principal).await?;
    let organisation = super::parse_code("organisation", &body.organisation)?;
    if !scope.includes(&organisation) {
        return Err(not_found("organisation", &organisation));
    }
    let url = reqwest::Url::parse(body.url.trim())
        .map_err(|_| invalid("url", "is not an absolute URL"))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(invalid("url", "must be an http or https URL with a host"));
    }
    if points_at_this_machine(&url) {
        return Err(invalid(
            "url",
            "points at this machine or a link-local address; alerts go to another service",
        ));
    }
    if body.secret.chars().count() < MINIMUM_WEBHOOK_SECRET
        || body.secret.chars().any(char::is_control)
    {
        return Err(invalid(
            "secret",
            format!(
                "must be at least {MINIMUM_WEBHOOK_SECRET} characters without control characters"
            ),
        ));
    }
    let hook = state
        .store
        .add_webhook(
            &principal.context(),
            &organisation,
            url.as_str(),
            &body.secret,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(webhook_view(&hook))))
}

/// Whether a webhook address names this machine (`localhost`, a loopback
/// or unspecified address) or a link-local one (such as a cloud metadata
/// service), which a webhook must not be able to reach on the server's
/// behalf. A name that resolves there is not caught: that is the network's
/// to prevent.
fn points_at_this_machine(url: &reqwest::Url) -> bool {
    use std::net::IpAddr;
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(address)) => {
            address.is_loopback() || address.is_unspecified() || address.is_link_local()
        }
        Ok(IpAddr::V6(address)) => {
            address.is_loopback()
                || address.is_unspecified()
                || (address.segments()[0] & 0xffc0) == 0xfe80
                || address.to_ipv4_mapped().is_some_and(|mapped| {
                    mapped.is_loopback() || mapped.is_unspecified() || mapped.is_link_local()
                })
        }
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    }
}

/// The query of a funnel plot.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FunnelQuery {
    /// positive_rate (default), sensitivity, specificity, ppv or discordance.
    pub metric: Option<String>,
    /// First day (YYYY-MM-DD, UTC); 90 days before `to` when absent.
    pub from: Option<String>,
    /// Last day; today when absent.
    pub to: Option<String>,
}

fn position_name(position: LimitPosition) -> &'static str {
    match position {
        LimitPosition::Within => "within",
        LimitPosition::Above => "above",
        LimitPosition::Below => "below",
    }
}

/// Funnel-plot data for a product: each deployment the caller may see, its
/// proportion over the period against the pooled proportion, with exact
/// binomial limits at 95% and 99.8%. Deployments without cases are left out.
#[utoipa::path(get, path = "/api/v1/products/{id}/funnel", tag = "monitoring",
    params(("id" = i64, Path, description = "Product id"), FunnelQuery),
    responses((status = 200, description = "Funnel-plot data", body = FunnelView)))]
pub async fn funnel<S: Store>(
    State(state): AppStateOf<S>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    Query(query): Query<FunnelQuery>,
) -> Result<Json<FunnelView>, ApiError> {
    let scope = scope_of(&state, &principal).await?;
    match state.store.product(ProductId(id)).await {
        Ok(_) => {}
        Err(StoreError::NotFound { .. }) => return Err(not_found("product", id)),
        Err(error) => return Err(error.into()),
    }
    let metric = query.metric.as_deref().unwrap_or("positive_rate");
    let Some(counted) = vigil_monitor::CountedProportion::parse(metric)
        .filter(|counted| *counted != vigil_monitor::CountedProportion::ReaderDisagreement)
    else {
        return Err(invalid(
            "metric",
            "is not positive_rate, sensitivity, specificity, ppv or discordance",
        ));
    };
    let (from, to) = period(query.from.as_deref(), query.to.as_deref())?;
    let view = funnel_view(&state, &scope, ProductId(id), counted, metric, (from, to)).await?;
    Ok(Json(view))
}

/// The funnel-plot data of a product's deployments within `scope` over the
/// days `from` to `to`, for the API and the dashboard.
pub(crate) async fn funnel_view<S: Store>(
    state: &AppState<S>,
    scope: &crate::access::Scope,
    product: ProductId,
    counted: vigil_monitor::CountedProportion,
    metric: &str,
    (from, to): (Date, Date),
) -> Result<FunnelView, ApiError> {
    let mut units = Vec::new();
    for deployment in state.store.deployments().await? {
        if deployment.product != product || !scope.includes(&deployment.deployment.site) {
            continue;
        }
        let aggregates = state.store.daily_aggregates(deployment.id).await?;
        let days =
            vigil_monitor::Days::new(aggregates.iter().map(|(key, aggregate)| (key, aggregate)));
        let (events, cases) = days.window(from, to).proportion(counted);
        if cases > 0 {
            units.push((
                deployment.id.0,
                deployment.deployment.site.to_string(),
                events,
                cases,
            ));
        }
    }
    let total_events: u64 = units.iter().map(|unit| unit.2).sum();
    let total_cases: u64 = units.iter().map(|unit| unit.3).sum();
    let mut view = FunnelView {
        product: product.0,
        metric: metric.to_owned(),
        from: from.to_string(),
        to: to.to_string(),
        target: None,
        units: Vec::new(),
    };
    if total_cases > 0 {
        let target = total_events as f64 / total_cases as f64;
        let points: Vec<(u64, u64)> = units.iter().map(|unit| (unit.2, unit.3)).collect();
        let plot = funnel_plot(&points, target, &FUNNEL_LEVELS).map_err(|error| {
            ApiError::new(ErrorCode::Internal, "the funnel plot could not be computed")
                .internal(error)
        })?;
        view.target = Some(target);
        for ((deployment, site, events, cases), unit) in units.into_iter().zip(plot.units) {
            view.units.push(FunnelUnitView {
                deployment,
                site,
                events,
                cases,
                proportion: unit.proportion,
                limits_95: [unit.limits[0].low, unit.limits[0].high],
                limits_998: [unit.limits[1].low, unit.limits[1].high],
                position_95: position_name(unit.positions[0]).to_owned(),
                position_998: position_name(unit.positions[1]).to_owned(),
            });
        }
    }
    Ok(view)
}
