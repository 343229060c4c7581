//! The JSON API under `/api/v1/`: the table of routes with the permission
//! each declares, the one middleware that authenticates and authorises
//! every request against that table, and the JSON extractor with its
//! limits.

pub(crate) mod alerts;
pub(crate) mod dicom;
pub(crate) mod dicomweb;
pub(crate) mod fhir;
pub(crate) mod governance;
pub(crate) mod hazards;
pub(crate) mod monitoring;
pub(crate) mod pack;
pub(crate) mod procurement;
pub(crate) mod productivity;
pub(crate) mod registry;
pub(crate) mod report_times;
pub(crate) mod session;
pub(crate) mod views;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use serde::de::DeserializeOwned;
use vigil_api_types::ErrorCode;
use vigil_domain::{Code, NonEmptyText, OrganisationTree, Role};
use vigil_store::{Actor, ChangeContext, Store, StoreError};

use crate::AppState;
use crate::access::{Permission, Scope};
use crate::auth::{self, Credential, Principal};
use crate::error::ApiError;

/// A route of the API and the permission it declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub permission: Permission,
}

const fn route(method: &'static str, path: &'static str, permission: Permission) -> RouteSpec {
    RouteSpec {
        method,
        path,
        permission,
    }
}

/// Every route of the API with its permission: the one table the
/// `authorise` middleware enforces. A route that is served but missing here
/// is refused (deny by default); a test checks the table against the
/// router and the API description.
pub const ROUTES: &[RouteSpec] = &[
    route("GET", "/api/v1/openapi.json", Permission::Public),
    route("POST", "/api/v1/session", Permission::Public),
    route("GET", "/api/v1/session", Permission::SignedIn),
    route("DELETE", "/api/v1/session", Permission::SignedIn),
    route("PUT", "/api/v1/session/password", Permission::SignedIn),
    route("GET", "/api/v1/organisations", Permission::ReadRegistry),
    route(
        "POST",
        "/api/v1/organisations",
        Permission::ManageOrganisations,
    ),
    route("GET", "/api/v1/users", Permission::ManageUsers),
    route("POST", "/api/v1/users", Permission::ManageUsers),
    route("PATCH", "/api/v1/users/{id}", Permission::ManageUsers),
    route(
        "PUT",
        "/api/v1/users/{id}/password",
        Permission::ManageUsers,
    ),
    route("GET", "/api/v1/tokens", Permission::ManageTokens),
    route("POST", "/api/v1/tokens", Permission::ManageTokens),
    route("DELETE", "/api/v1/tokens/{id}", Permission::ManageTokens),
    route("GET", "/api/v1/products", Permission::ReadRegistry),
    route("POST", "/api/v1/products", Permission::RegisterProducts),
    route("GET", "/api/v1/products/{id}", Permission::ReadRegistry),
    route(
        "POST",
        "/api/v1/products/{id}/versions",
        Permission::RegisterProducts,
    ),
    route("GET", "/api/v1/deployments", Permission::ReadRegistry),
    route("POST", "/api/v1/deployments", Permission::ManageDeployments),
    route("GET", "/api/v1/deployments/{id}", Permission::ReadRegistry),
    route(
        "POST",
        "/api/v1/deployments/{id}/upgrade",
        Permission::ManageDeployments,
    ),
    route(
        "GET",
        "/api/v1/deployments/{id}/sign-offs",
        Permission::ReadRegistry,
    ),
    route(
        "POST",
        "/api/v1/deployments/{id}/sign-offs",
        Permission::SignOff,
    ),
    route(
        "POST",
        "/api/v1/deployments/{id}/transitions",
        Permission::RecordDecisions,
    ),
    route(
        "GET",
        "/api/v1/deployments/{id}/evaluations",
        Permission::ReadRegistry,
    ),
    route(
        "POST",
        "/api/v1/deployments/{id}/evaluations",
        Permission::RunEvaluations,
    ),
    route(
        "POST",
        "/api/v1/deployments/{id}/events",
        Permission::IngestEvents,
    ),
    route(
        "POST",
        "/api/v1/deployments/{id}/outcomes",
        Permission::IngestEvents,
    ),
    route(
        "GET",
        "/api/v1/deployments/{id}/aggregates",
        Permission::ReadRegistry,
    ),
    route(
        "GET",
        "/api/v1/deployments/{id}/rules",
        Permission::ReadRegistry,
    ),
    route(
        "PUT",
        "/api/v1/deployments/{id}/rules",
        Permission::ManageMonitoring,
    ),
    route(
        "GET",
        "/api/v1/deployments/{id}/rules/history",
        Permission::ReadRegistry,
    ),
    route(
        "GET",
        "/api/v1/procurement/template",
        Permission::ReadRegistry,
    ),
    route("GET", "/api/v1/assessments", Permission::ReadRegistry),
    route("POST", "/api/v1/assessments", Permission::AssessProcurement),
    route(
        "GET",
        "/api/v1/assessments/comparison",
        Permission::ReadRegistry,
    ),
    route("GET", "/api/v1/assessments/{id}", Permission::ReadRegistry),
    route(
        "PUT",
        "/api/v1/assessments/{id}/answers",
        Permission::AssessProcurement,
    ),
    route(
        "POST",
        "/api/v1/assessments/{id}/complete",
        Permission::AssessProcurement,
    ),
    route("POST", "/api/v1/attachments", Permission::AssessProcurement),
    route(
        "GET",
        "/api/v1/attachments/{sha256}",
        Permission::ReadRegistry,
    ),
    route(
        "GET",
        "/api/v1/deployments/{id}/hazards",
        Permission::ReadRegistry,
    ),
    route(
        "POST",
        "/api/v1/deployments/{id}/hazards",
        Permission::ManageHazards,
    ),
    route("GET", "/api/v1/hazards/{id}", Permission::ReadRegistry),
    route("PUT", "/api/v1/hazards/{id}", Permission::ManageHazards),
    route(
        "GET",
        "/api/v1/hazards/{id}/history",
        Permission::ReadRegistry,
    ),
    route(
        "POST",
        "/api/v1/alerts/{id}/hazards",
        Permission::ManageHazards,
    ),
    route(
        "GET",
        "/api/v1/deployments/{id}/governance-pack",
        Permission::ReadRegistry,
    ),
    route(
        "GET",
        "/api/v1/deployments/{id}/safety-case",
        Permission::ReadRegistry,
    ),
    route(
        "GET",
        "/api/v1/deployments/{id}/safety-case/signatures",
        Permission::ReadRegistry,
    ),
    route(
        "POST",
        "/api/v1/deployments/{id}/safety-case/signatures",
        Permission::SignSafetyCase,
    ),
    route(
        "GET",
        "/api/v1/deployments/{id}/success-criteria",
        Permission::ReadRegistry,
    ),
    route(
        "PUT",
        "/api/v1/deployments/{id}/success-criteria",
        Permission::ManageMonitoring,
    ),
    route(
        "GET",
        "/api/v1/deployments/{id}/productivity",
        Permission::ReadRegistry,
    ),
    route(
        "GET",
        "/api/v1/deployments/{id}/assessment",
        Permission::ReadRegistry,
    ),
    route(
        "POST",
        "/api/v1/deployments/{id}/assessment",
        Permission::ManageMonitoring,
    ),
    route(
        "GET",
        "/api/v1/deployments/{id}/alerts",
        Permission::ReadRegistry,
    ),
    route("GET", "/api/v1/alerts/{id}", Permission::ReadRegistry),
    route(
        "POST",
        "/api/v1/alerts/{id}/acknowledge",
        Permission::RespondToAlerts,
    ),
    route(
        "POST",
        "/api/v1/alerts/{id}/resolve",
        Permission::RespondToAlerts,
    ),
    route("GET", "/api/v1/webhooks", Permission::ManageMonitoring),
    route("GET", "/api/v1/dicom/instances", Permission::ReadIntake),
    route("GET", "/api/v1/report-times", Permission::ReadIntake),
    route("POST", "/dicomweb/studies", Permission::IngestEvents),
    route(
        "POST",
        "/dicomweb/studies/{study}",
        Permission::IngestEvents,
    ),
    route("GET", "/dicomweb/studies", Permission::ReadIntake),
    route("GET", "/dicomweb/instances", Permission::ReadIntake),
    route("POST", "/fhir", Permission::IngestEvents),
    route("POST", "/api/v1/webhooks", Permission::ManageMonitoring),
    route(
        "GET",
        "/api/v1/products/{id}/funnel",
        Permission::ReadRegistry,
    ),
    route(
        "GET",
        "/api/v1/organisations/{code}/aggregates",
        Permission::ReadRegistry,
    ),
    route("GET", "/api/v1/evaluations/{id}", Permission::ReadRegistry),
    route(
        "GET",
        "/api/v1/evaluations/{id}/report",
        Permission::ReadRegistry,
    ),
    route("GET", "/api/v1/policy", Permission::ReadRegistry),
    route("GET", "/api/v1/audit", Permission::ReadAudit),
    route("GET", "/api/v1/audit/verify", Permission::ReadAudit),
];

/// The permission a route declares, if it is in the table. HEAD is
/// answered by the GET route.
pub fn permission_of(method: &Method, path: &str) -> Option<Permission> {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    ROUTES
        .iter()
        .find(|route| route.method == method && route.path == path)
        .map(|route| route.permission)
}

/// The API routes over a store, each behind the `authorise` middleware.
pub(crate) fn router<S: Store + 'static>(state: Arc<AppState<S>>) -> Router<Arc<AppState<S>>> {
    Router::new()
        .route("/api/v1/openapi.json", get(crate::openapi::document))
        .route(
            "/api/v1/session",
            post(session::sign_in::<S>)
                .get(session::current::<S>)
                .delete(session::sign_out::<S>),
        )
        .route(
            "/api/v1/session/password",
            put(session::change_own_password::<S>),
        )
        .route(
            "/api/v1/organisations",
            get(registry::list_organisations::<S>).post(registry::add_organisation::<S>),
        )
        .route(
            "/api/v1/users",
            get(registry::list_users::<S>).post(registry::add_user::<S>),
        )
        .route("/api/v1/users/{id}", patch(registry::change_user::<S>))
        .route(
            "/api/v1/users/{id}/password",
            put(registry::set_password::<S>),
        )
        .route(
            "/api/v1/tokens",
            get(registry::list_tokens::<S>).post(registry::add_token::<S>),
        )
        .route("/api/v1/tokens/{id}", delete(registry::revoke_token::<S>))
        .route(
            "/api/v1/products",
            get(registry::list_products::<S>).post(registry::add_product::<S>),
        )
        .route("/api/v1/products/{id}", get(registry::get_product::<S>))
        .route(
            "/api/v1/products/{id}/versions",
            post(registry::add_version::<S>),
        )
        .route(
            "/api/v1/deployments",
            get(registry::list_deployments::<S>).post(registry::add_deployment::<S>),
        )
        .route(
            "/api/v1/deployments/{id}",
            get(registry::get_deployment::<S>),
        )
        .route(
            "/api/v1/deployments/{id}/upgrade",
            post(registry::upgrade_deployment::<S>),
        )
        .route(
            "/api/v1/deployments/{id}/sign-offs",
            get(governance::list_sign_offs::<S>).post(governance::sign::<S>),
        )
        .route(
            "/api/v1/deployments/{id}/transitions",
            post(governance::transition::<S>),
        )
        .route(
            "/api/v1/deployments/{id}/evaluations",
            get(governance::list_evaluations::<S>).post(governance::run_evaluation::<S>),
        )
        .route(
            "/api/v1/deployments/{id}/events",
            post(monitoring::ingest_events::<S>),
        )
        .route(
            "/api/v1/deployments/{id}/outcomes",
            post(monitoring::ingest_outcomes::<S>),
        )
        .route(
            "/api/v1/deployments/{id}/rules",
            get(alerts::get_rules::<S>).put(alerts::put_rules::<S>),
        )
        .route(
            "/api/v1/deployments/{id}/rules/history",
            get(alerts::rule_history::<S>),
        )
        .route(
            "/api/v1/procurement/template",
            get(procurement::default_template),
        )
        .route(
            "/api/v1/assessments",
            get(procurement::list_assessments::<S>).post(procurement::create_assessment::<S>),
        )
        .route(
            "/api/v1/assessments/comparison",
            get(procurement::compare_assessments::<S>),
        )
        .route(
            "/api/v1/assessments/{id}",
            get(procurement::get_assessment::<S>),
        )
        .route(
            "/api/v1/assessments/{id}/answers",
            put(procurement::save_answers::<S>),
        )
        .route(
            "/api/v1/assessments/{id}/complete",
            post(procurement::complete_assessment::<S>),
        )
        .route(
            "/api/v1/attachments",
            post(procurement::add_attachment::<S>),
        )
        .route(
            "/api/v1/attachments/{sha256}",
            get(procurement::get_attachment::<S>),
        )
        .route(
            "/api/v1/deployments/{id}/hazards",
            get(hazards::list_hazards::<S>).post(hazards::add_hazard::<S>),
        )
        .route(
            "/api/v1/hazards/{id}",
            get(hazards::get_hazard::<S>).put(hazards::update_hazard::<S>),
        )
        .route(
            "/api/v1/hazards/{id}/history",
            get(hazards::hazard_history::<S>),
        )
        .route(
            "/api/v1/alerts/{id}/hazards",
            post(hazards::link_alert::<S>),
        )
        .route(
            "/api/v1/deployments/{id}/safety-case",
            get(hazards::safety_case_report_page::<S>),
        )
        .route(
            "/api/v1/deployments/{id}/governance-pack",
            get(pack::governance_pack::<S>),
        )
        .route(
            "/api/v1/deployments/{id}/safety-case/signatures",
            get(hazards::safety_case_status::<S>).post(hazards::sign_safety_case::<S>),
        )
        .route(
            "/api/v1/deployments/{id}/success-criteria",
            get(productivity::get_success_criteria::<S>)
                .put(productivity::put_success_criteria::<S>),
        )
        .route(
            "/api/v1/deployments/{id}/productivity",
            get(productivity::productivity::<S>),
        )
        .route(
            "/api/v1/deployments/{id}/assessment",
            get(alerts::get_assessment::<S>).post(alerts::run_assessment::<S>),
        )
        .route(
            "/api/v1/deployments/{id}/alerts",
            get(alerts::list_alerts::<S>),
        )
        .route("/api/v1/alerts/{id}", get(alerts::get_alert::<S>))
        .route(
            "/api/v1/alerts/{id}/acknowledge",
            post(alerts::acknowledge_alert::<S>),
        )
        .route(
            "/api/v1/alerts/{id}/resolve",
            post(alerts::resolve_alert::<S>),
        )
        .route(
            "/api/v1/webhooks",
            get(alerts::list_webhooks::<S>).post(alerts::add_webhook::<S>),
        )
        .route("/api/v1/dicom/instances", get(dicom::list_instances::<S>))
        .route(
            "/api/v1/report-times",
            get(report_times::list_report_times::<S>),
        )
        .route(
            "/dicomweb/studies",
            post(dicomweb::store_instances::<S>).get(dicomweb::search_studies::<S>),
        )
        .route(
            "/dicomweb/studies/{study}",
            post(dicomweb::store_study_instances::<S>),
        )
        .route("/dicomweb/instances", get(dicomweb::search_instances::<S>))
        .route("/fhir", post(fhir::receive::<S>))
        .route("/api/v1/products/{id}/funnel", get(alerts::funnel::<S>))
        .route(
            "/api/v1/organisations/{code}/aggregates",
            get(monitoring::organisation_aggregates::<S>),
        )
        .route(
            "/api/v1/deployments/{id}/aggregates",
            get(monitoring::day_aggregates::<S>),
        )
        .route(
            "/api/v1/evaluations/{id}",
            get(governance::get_evaluation::<S>),
        )
        .route(
            "/api/v1/evaluations/{id}/report",
            get(governance::evaluation_report::<S>),
        )
        .route("/api/v1/policy", get(registry::policy::<S>))
        .route("/api/v1/audit", get(governance::audit_entries::<S>))
        .route("/api/v1/audit/verify", get(governance::verify_audit::<S>))
        .route_layer(middleware::from_fn_with_state(state, authorise::<S>))
}

/// The anonymous actor of audit entries about requests without valid
/// credentials, attributed to the root of the organisation tree.
fn anonymous_context(tree: &OrganisationTree) -> ChangeContext {
    ChangeContext::now(Actor {
        name: NonEmptyText::parse("anonymous").expect("a non-empty literal is valid text"),
        role: Role::Viewer,
        organisation: tree.nation().code.clone(),
    })
}

/// Records a refused request in the audit trail. A failure to record is
/// logged and does not change the answer.
pub(crate) async fn audit_refusal<S: Store>(
    state: &AppState<S>,
    principal: Option<&Principal>,
    action: &str,
    method: &Method,
    route: &str,
    reason: &str,
) {
    let context = match principal {
        Some(principal) => principal.context(),
        None => match state.store.organisations().await.map(OrganisationTree::new) {
            Ok(Ok(tree)) => anonymous_context(&tree),
            _ => {
                tracing::warn!(
                    action,
                    route,
                    "a refused request could not be audited: no organisation tree"
                );
                return;
            }
        },
    };
    let payload = serde_json::json!({"method": method.as_str(), "route": route, "reason": reason});
    if let Err(error) = state
        .store
        .record_event(
            &context,
            action,
            &format!("route:{} {route}", method.as_str()),
            &payload,
        )
        .await
    {
        tracing::error!(%error, action, route, "a refused request could not be audited");
    }
}

/// Authenticates the caller (bearer token, else session cookie), checks the
/// CSRF token of cookie-authenticated writes and the permission the route
/// declares, audits every refusal, and hands the `Principal` to the handler.
async fn authorise<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    mut request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_default();
    let method = request.method().clone();
    let Some(permission) = permission_of(&method, &route) else {
        tracing::error!(%method, route, "a route declares no permission; refused");
        return ApiError::new(ErrorCode::Forbidden, "this route is not open to anyone")
            .into_response();
    };
    if permission == Permission::Public {
        return next.run(request).await;
    }
    let principal = match authenticate(&state, request.headers()).await {
        Ok(principal) => principal,
        Err(Refusal { error, reason }) => {
            if error.code() == ErrorCode::Unauthenticated {
                audit_refusal(
                    &state,
                    None,
                    "access.unauthenticated",
                    &method,
                    &route,
                    reason,
                )
                .await;
            }
            return error.into_response();
        }
    };
    let changes_something = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    if let (true, Some(token)) = (changes_something, principal.session_token()) {
        let presented = request
            .headers()
            .get(auth::CSRF_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if !auth::constant_time_equal(presented, &auth::csrf_token(token)) {
            audit_refusal(
                &state,
                Some(&principal),
                "access.denied",
                &method,
                &route,
                "missing or wrong CSRF token",
            )
            .await;
            return ApiError::new(
                ErrorCode::Forbidden,
                "a change made with a session cookie needs the x-csrf-token header given at sign-in",
            )
            .into_response();
        }
    }
    if !permission.granted_to(principal.actor.role) {
        audit_refusal(
            &state,
            Some(&principal),
            "access.denied",
            &method,
            &route,
            permission.as_str(),
        )
        .await;
        return ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "the role {} may not do this; it needs the permission {}",
                principal.actor.role,
                permission.as_str()
            ),
        )
        .into_response();
    }
    request.extensions_mut().insert(principal.clone());
    let response = next.run(request).await;
    // A request refused further in is a denied request too: an object not
    // found (or outside the caller's organisation: the two are not told
    // apart here either) or a governance rule that refused it.
    let refusal = match response.status() {
        axum::http::StatusCode::NOT_FOUND => Some(("access.not_found", "not_found")),
        axum::http::StatusCode::UNPROCESSABLE_ENTITY => Some(("access.refused", "refused")),
        _ => None,
    };
    if let Some((action, reason)) = refusal {
        audit_refusal(&state, Some(&principal), action, &method, &route, reason).await;
    }
    response
}

/// Why a request was not authenticated: the answer, and a reason for the
/// audit trail (never a secret).
pub(crate) struct Refusal {
    error: ApiError,
    reason: &'static str,
}

fn unauthenticated(reason: &'static str) -> Refusal {
    Refusal {
        error: ApiError::new(
            ErrorCode::Unauthenticated,
            "sign in (POST /api/v1/session) or send an API token as Authorization: Bearer TOKEN",
        ),
        reason,
    }
}

fn internal(error: impl std::fmt::Display) -> Refusal {
    Refusal {
        error: ApiError::new(ErrorCode::Internal, "the server failed; see its log").internal(error),
        reason: "internal error",
    }
}

/// The session token of a request's cookie, if any.
pub(crate) fn session_token_of(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| auth::cookie_value(cookie, auth::SESSION_COOKIE))
        .filter(|token| !token.is_empty())
}

/// Authenticates a request by its bearer token or its session cookie. A
/// request presenting both is refused: which one counts would otherwise be
/// a guess, and a stale cookie must not ride along with a valid token.
/// Whether any `Cookie` header names the session cookie, whatever its
/// value (even one that is not valid text).
fn presents_session_cookie(headers: &HeaderMap) -> bool {
    let name = format!("{}=", auth::SESSION_COOKIE);
    headers.get_all(header::COOKIE).iter().any(|value| {
        value
            .as_bytes()
            .windows(name.len())
            .any(|window| window == name.as_bytes())
    })
}

pub(crate) async fn authenticate<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
) -> Result<Principal, Refusal> {
    if headers.contains_key(header::AUTHORIZATION) && presents_session_cookie(headers) {
        return Err(unauthenticated("both a bearer token and a session cookie"));
    }
    if let Some(authorization) = headers.get(header::AUTHORIZATION) {
        let secret = authorization
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| unauthenticated("malformed Authorization header"))?;
        let token = state
            .store
            .api_token_by_hash(&auth::secret_hash(secret))
            .await
            .map_err(internal)?
            .ok_or_else(|| unauthenticated("unknown API token"))?;
        if token.revoked_at.is_some() {
            return Err(unauthenticated("revoked API token"));
        }
        let now = jiff::Timestamp::now();
        if token
            .last_used_at
            .is_none_or(|last| now.duration_since(last).as_secs() >= 60)
        {
            state
                .store
                .touch_api_token(token.id, now)
                .await
                .map_err(internal)?;
        }
        let name = NonEmptyText::parse(&format!("token {} ({})", token.id, token.name))
            .map_err(internal)?;
        return Ok(Principal {
            actor: Actor {
                name,
                role: token.role,
                organisation: token.organisation,
            },
            user: None,
            credential: Credential::Token { id: token.id },
        });
    }
    let token = session_token_of(headers).ok_or_else(|| unauthenticated("no credentials"))?;
    let token_hash = auth::secret_hash(token);
    let session = state
        .store
        .session(&token_hash)
        .await
        .map_err(internal)?
        .ok_or_else(|| unauthenticated("unknown or ended session"))?;
    let now = jiff::Timestamp::now();
    let actor = Actor {
        name: session.user.user_name.clone(),
        role: session.user.role,
        organisation: session.user.organisation.clone(),
    };
    let idle = now.duration_since(session.last_seen_at).as_secs();
    let age = now.duration_since(session.created_at).as_secs();
    let idle_limit =
        i64::try_from(state.config.session_idle_minutes.saturating_mul(60)).unwrap_or(i64::MAX);
    let age_limit =
        i64::try_from(state.config.session_absolute_hours.saturating_mul(3600)).unwrap_or(i64::MAX);
    if session.user.disabled || idle >= idle_limit || age >= age_limit {
        let context = ChangeContext::now(actor);
        state
            .store
            .end_session(Some((&context, "session.expired")), &token_hash)
            .await
            .map_err(internal)?;
        return Err(unauthenticated("expired session"));
    }
    if idle >= 60 {
        state
            .store
            .touch_session(&token_hash, now)
            .await
            .map_err(internal)?;
    }
    Ok(Principal {
        actor,
        credential: Credential::Session {
            token: token.to_owned(),
            created_at: session.created_at,
        },
        user: Some(session.user),
    })
}

/// The caller's scope: their organisation and what lies below it.
pub(crate) async fn scope_of<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
) -> Result<Scope, ApiError> {
    let tree = OrganisationTree::new(state.store.organisations().await?).map_err(|error| {
        ApiError::new(ErrorCode::Internal, "the server failed; see its log").internal(error)
    })?;
    Ok(Scope {
        tree,
        organisation: principal.actor.organisation.clone(),
    })
}

/// Parses a code given in a request, naming the field.
pub(crate) fn parse_code(field: &str, value: &str) -> Result<Code, ApiError> {
    Code::parse(value).map_err(|error| invalid(field, error))
}

/// Parses a text given in a request, naming the field.
pub(crate) fn parse_text(field: &str, value: &str) -> Result<NonEmptyText, ApiError> {
    NonEmptyText::parse(value).map_err(|error| invalid(field, error))
}

/// An `invalid_request` naming the field.
pub(crate) fn invalid(field: &str, error: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::InvalidRequest, format!("{field}: {error}"))
        .details(serde_json::json!({"field": field}))
}

/// The deepest nesting of arrays and objects a JSON body may have.
pub const MAXIMUM_JSON_DEPTH: usize = 32;

/// Whether a JSON text nests arrays and objects deeper than `limit`
/// (counted outside strings, before parsing).
pub fn json_depth_exceeds(bytes: &[u8], limit: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &byte in bytes {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// A JSON request body: `Content-Type: application/json`, within the body
/// limit, nested at most [`MAXIMUM_JSON_DEPTH`] deep, and matching the
/// expected shape, or an error in the API's shape saying which.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|media| {
                let media = media.trim().to_ascii_lowercase();
                media == "application/json"
                    || (media.starts_with("application/") && media.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(body_error)?;
        if bytes.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "the JSON body must be an object",
            ));
        }
        if json_depth_exceeds(&bytes, MAXIMUM_JSON_DEPTH) {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("the JSON body nests deeper than {MAXIMUM_JSON_DEPTH} levels"),
            ));
        }
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|error| {
                ApiError::new(
                    ErrorCode::InvalidRequest,
                    format!("the JSON body is not valid: {error}"),
                )
                .details(serde_json::json!({"line": error.line(), "column": error.column()}))
            })
    }
}

/// The answer to a body that could not be read: too large (declared, or
/// found so while reading, after decompression too), or unreadable.
pub(crate) fn body_error(rejection: axum::extract::rejection::BytesRejection) -> ApiError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE
        || exceeds_length_limit(&rejection)
    {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            "the request body is larger than the server accepts",
        )
    } else {
        ApiError::new(
            ErrorCode::InvalidRequest,
            "the request body could not be read",
        )
        .internal(rejection.body_text())
    }
}

/// Whether reading a body failed on the size limit somewhere down the
/// chain of body layers (after decompression, the limit's error arrives
/// wrapped in the decompressor's).
fn exceeds_length_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        current = error.source();
    }
    false
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        let code = match &error {
            StoreError::NotFound { .. } => ErrorCode::NotFound,
            StoreError::AlreadyExists { .. } | StoreError::Conflict(_) => ErrorCode::Conflict,
            StoreError::InvalidReference(_)
            | StoreError::Domain(_)
            | StoreError::ImportRefused(_) => ErrorCode::InvalidRequest,
            StoreError::Transition(_) => ErrorCode::Refused,
            StoreError::Corrupt { .. } | StoreError::Database(_) | StoreError::ArchiveOutput(_) => {
                return ApiError::new(ErrorCode::Internal, "the server failed; see its log")
                    .internal(error);
            }
        };
        ApiError::new(code, error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_is_counted_outside_strings() {
        assert!(!json_depth_exceeds(br#"{"a": [1, {"b": "[[[[["}]}"#, 3));
        assert!(json_depth_exceeds(br#"[[[[1]]]]"#, 3));
        assert!(!json_depth_exceeds(br#"["\"[[[[[[["]"#, 2));
        let deep = "[".repeat(100_000);
        assert!(json_depth_exceeds(deep.as_bytes(), MAXIMUM_JSON_DEPTH));
    }

    #[test]
    fn every_route_is_listed_once() {
        for (index, route) in ROUTES.iter().enumerate() {
            assert!(
                route.path.starts_with("/api/v1/")
                    || route.path.starts_with("/dicomweb/")
                    || route.path == "/fhir",
                "{route:?}"
            );
            assert!(
                !ROUTES[..index]
                    .iter()
                    .any(|other| other.method == route.method && other.path == route.path),
                "{route:?} is listed twice"
            );
        }
        assert_eq!(
            permission_of(&Method::HEAD, "/api/v1/products"),
            Some(Permission::ReadRegistry)
        );
        assert_eq!(permission_of(&Method::PUT, "/api/v1/products"), None);
    }
}
