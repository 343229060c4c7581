//! The dashboard: server-rendered HTML pages for people, over the same
//! sessions, permissions and organisation scope as the API. Pages need no
//! script; the stylesheet is embedded in the binary; every form that
//! changes something carries the session's CSRF token.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;
use vigil_domain::LifecycleState;
use vigil_reports::monitoring::{
    ControlChartPoint, FunnelPoint, Marker, WeeklySeries, control_chart, funnel_chart, rate_chart,
    score_distribution_chart, weekly_series,
};
use vigil_store::{AlertRecord, AlertState, DeploymentId, DeploymentRecord, ProductId, Store};

use crate::AppState;
use crate::access::{Permission, Scope};
use crate::api::session::{SignInFailure, client_address, sign_in_user};
use crate::auth::{self, Principal};

mod admin;
mod governance;

const STYLESHEET: &str = include_str!("style.css");

/// The dashboard's routes. Every refusal they answer is audited.
pub(crate) fn router<S: Store + 'static>(state: Arc<AppState<S>>) -> Router<Arc<AppState<S>>> {
    Router::new()
        .route("/", get(overview::<S>))
        .route("/login", get(login_page::<S>).post(login::<S>))
        .route("/logout", post(logout::<S>))
        .route("/deployments/{id}", get(deployment_page::<S>))
        .route("/products", get(catalogue_page::<S>))
        .route("/products/{id}", get(product_page::<S>))
        .route("/audit", get(audit_page::<S>))
        .route("/deployments/{id}/alerts/{alert}", post(alert_action::<S>))
        .route("/deployments/{id}/decisions", post(decision_action::<S>))
        .route("/deployments/{id}/rules", get(rules_page::<S>))
        .route("/assets/vigil.css", get(stylesheet))
        .merge(admin::routes())
        .merge(governance::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            audit_refusals::<S>,
        ))
}

/// Records in the audit trail each page or form the dashboard refused, as
/// the API records its own: `access.denied` (a role that may not, a form
/// without its token), `access.not_found` (outside the person's
/// organisation, or absent: the two are not told apart) and
/// `access.refused` (a change the rules refused). A wrong password is
/// audited by the sign-in itself; a stale sign-in form here, anonymously.
async fn audit_refusals<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_default();
    let method = request.method().clone();
    let headers = request.headers().clone();
    let response = next.run(request).await;
    let refusal = match response.status() {
        StatusCode::FORBIDDEN => Some(("access.denied", "forbidden")),
        StatusCode::NOT_FOUND => Some(("access.not_found", "not_found")),
        StatusCode::BAD_REQUEST | StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY => {
            Some(("access.refused", "refused"))
        }
        _ => None,
    };
    if let Some((action, reason)) = refusal {
        let principal = crate::api::authenticate(&state, &headers).await.ok();
        crate::api::audit_refusal(&state, principal.as_ref(), action, &method, &route, reason)
            .await;
    }
    response
}

/// An HTML page with the headers every page gets: no caching (pages show
/// data only their reader may see), no framing, no scripts, no referrer.
fn page(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// The frame of every page: skip link, the bar with navigation and the
/// signed-in person, and the main content.
fn layout(title: &str, principal: Option<&Principal>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Vigil" }
                link rel="stylesheet" href="/assets/vigil.css";
            }
            body {
                a.skip href="#content" { "Skip to the content" }
                header.top {
                    a href="/" { "Vigil" }
                    @if let Some(principal) = principal {
                        nav aria-label="Main" {
                            ul {
                                li { a href="/" { "Deployments" } }
                                li { a href="/products" { "Products" } }
                                li { a href="/procurement" { "Procurement" } }
                                @if Permission::ReadAudit.granted_to(principal.actor.role) {
                                    li { a href="/audit" { "Audit trail" } }
                                }
                                @if admin::may_administer(principal.actor.role) {
                                    li { a href="/admin" { "Administration" } }
                                }
                            }
                        }
                        div {
                            span { (principal.actor.name) " · " (principal.actor.role.as_str()) " · " (principal.actor.organisation) }
                            " "
                            form method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(csrf_of(principal));
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main id="content" { (content) }
            }
        }
    }
}

fn csrf_of(principal: &Principal) -> String {
    principal
        .session_token()
        .map(auth::csrf_token)
        .unwrap_or_default()
}

/// A page that says what went wrong.
fn problem(status: StatusCode, principal: Option<&Principal>, message: &str) -> Response {
    page(
        status,
        layout(
            "Problem",
            principal,
            html! {
                h1 { (status.canonical_reason().unwrap_or("Problem")) }
                p.error role="alert" { (message) }
                p { a href="/" { "Back to the deployments" } }
            },
        ),
    )
}

/// The page for a failure of the server: the detail goes to the log only.
fn server_failed(principal: &Principal, what: &str, error: &str) -> Response {
    tracing::error!(%error, "{what} failed");
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        Some(principal),
        "The server failed; see its log.",
    )
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// The signed-in person, or a redirect to the sign-in page. Pages accept
/// session cookies only (API tokens are for programs).
async fn person<S: Store>(state: &AppState<S>, headers: &HeaderMap) -> Result<Principal, Response> {
    match crate::api::authenticate(state, headers).await {
        Ok(principal) if principal.session_token().is_some() => Ok(principal),
        _ => Err(Redirect::to("/login").into_response()),
    }
}

/// The signed-in person of a page request (an extractor): a request
/// without a session is redirected to the sign-in page.
struct Person(Principal);

impl<S: Store + 'static> axum::extract::FromRequestParts<Arc<AppState<S>>> for Person {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &Arc<AppState<S>>,
    ) -> Result<Self, Response> {
        person(state, &parts.headers).await.map(Person)
    }
}

/// The signed-in person who sent a form, if the form carries their
/// session's CSRF token; else a redirect to sign in, or a refusal.
async fn person_with_form<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
    presented_csrf: &str,
) -> Result<Principal, Response> {
    let principal = person(state, headers).await?;
    let genuine = principal
        .session_token()
        .is_some_and(|token| auth::constant_time_equal(presented_csrf, &auth::csrf_token(token)));
    if genuine {
        Ok(principal)
    } else {
        Err(problem(
            StatusCode::FORBIDDEN,
            Some(&principal),
            "This form is stale or came from another site; reload the page and try again.",
        ))
    }
}

fn login_form(error: Option<&str>, sign_in_token: &str) -> Markup {
    layout(
        "Sign in",
        None,
        html! {
            div.login {
                h1 { "Sign in to Vigil" }
                @if let Some(error) = error {
                    p.error role="alert" { (error) }
                }
                form method="post" action="/login" {
                    input type="hidden" name="sign_in_token" value=(sign_in_token);
                    label for="user_name" { "User name" }
                    input type="text" id="user_name" name="user_name" autocomplete="username" required autofocus;
                    label for="password" { "Password" }
                    input type="password" id="password" name="password" autocomplete="current-password" required;
                    button.primary type="submit" { "Sign in" }
                }
            }
        },
    )
}

async fn login_page<S: Store>(State(state): State<Arc<AppState<S>>>) -> Response {
    sign_in_page(&state, StatusCode::OK, None)
}

/// The sign-in form with a new form token, set in its cookie too.
fn sign_in_page<S: Store>(
    state: &AppState<S>,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let token = match auth::random_secret() {
        Ok(token) => token,
        Err(error) => {
            tracing::error!(%error, "no random sign-in form token");
            return page(
                StatusCode::INTERNAL_SERVER_ERROR,
                login_form(Some("The server failed; see its log."), ""),
            );
        }
    };
    let mut response = page(status, login_form(error, &token));
    if let Ok(cookie) =
        HeaderValue::from_str(&auth::sign_in_cookie(&token, state.config.secure_cookies))
    {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    sign_in_token: String,
    user_name: String,
    password: String,
}

async fn login<S: Store>(State(state): State<Arc<AppState<S>>>, request: Request) -> Response {
    let client = client_address(&request, &state.config);
    let previous = crate::api::session_token_of(request.headers()).map(auth::secret_hash);
    let cookie_token = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| auth::cookie_value(cookie, auth::SIGN_IN_COOKIE))
        .unwrap_or_default()
        .to_owned();
    let Ok(Form(form)) = Form::<LoginForm>::from_request(request, &state).await else {
        return sign_in_page(
            &state,
            StatusCode::BAD_REQUEST,
            Some("Give a user name and a password."),
        );
    };
    if cookie_token.is_empty() || !auth::constant_time_equal(&form.sign_in_token, &cookie_token) {
        return sign_in_page(
            &state,
            StatusCode::FORBIDDEN,
            Some("This sign-in form is stale or came from another site; sign in again here."),
        );
    }
    match sign_in_user(&state, &client, previous, &form.user_name, form.password).await {
        Ok(signed_in) => {
            let mut response = Redirect::to("/").into_response();
            *response.status_mut() = StatusCode::SEE_OTHER;
            response
                .headers_mut()
                .insert(header::SET_COOKIE, signed_in.cookie);
            response
        }
        Err(SignInFailure::Throttled { seconds }) => sign_in_page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            Some(&format!(
                "Too many failed sign-ins; try again in {seconds} seconds."
            )),
        ),
        Err(SignInFailure::Refused(error)) => sign_in_page(
            &state,
            StatusCode::UNAUTHORIZED,
            Some(&format!("Not signed in: {}.", error.message())),
        ),
    }
}

/// Fields default to empty, so that a missing one is answered by the
/// page's own checks rather than by the form reader.
#[derive(Deserialize, Default)]
#[serde(default)]
struct CsrfForm {
    csrf: String,
}

async fn logout<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let principal = match person_with_form(&state, &headers, &form.csrf).await {
        Ok(principal) => principal,
        Err(refusal) => return refusal,
    };
    if let Some(token) = principal.session_token() {
        let context = principal.context();
        if let Err(error) = state
            .store
            .end_session(
                Some((&context, "session.logout")),
                &auth::secret_hash(token),
            )
            .await
        {
            return server_failed(&principal, "signing out", &error.to_string());
        }
    }
    let mut response = Redirect::to("/login").into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(cookie) = HeaderValue::from_str(&auth::expired_session_cookie(
        state.config.cookies_are_secure(),
    )) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// Names for the overview: products by id (name, and versions by id) and
/// organisations by code.
struct Names {
    products: HashMap<i64, (String, HashMap<i64, String>)>,
    organisations: HashMap<String, String>,
}

impl Names {
    async fn load<S: Store>(state: &AppState<S>, scope: &Scope) -> Result<Names, String> {
        let products = state
            .store
            .products()
            .await
            .map_err(|error| error.to_string())?
            .into_iter()
            .map(|record| {
                let versions = record
                    .versions
                    .iter()
                    .map(|version| (version.id.0, version.version.version.to_string()))
                    .collect();
                (record.id.0, (record.product.name.to_string(), versions))
            })
            .collect();
        let organisations = scope
            .tree
            .iter()
            .map(|organisation| (organisation.code.to_string(), organisation.name.to_string()))
            .collect();
        Ok(Names {
            products,
            organisations,
        })
    }

    fn product(&self, record: &DeploymentRecord) -> (&str, &str) {
        self.products
            .get(&record.product.0)
            .map_or(("?", "?"), |(name, versions)| {
                (
                    name.as_str(),
                    versions.get(&record.version.0).map_or("?", String::as_str),
                )
            })
    }

    fn organisation<'a>(&'a self, code: &'a str) -> &'a str {
        self.organisations.get(code).map_or(code, String::as_str)
    }
}

fn state_badge(state: LifecycleState) -> Markup {
    html! { span class={ "state state-" (state.as_str()) } { (state.as_str()) } }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OverviewQuery {
    /// An organisation within the person's own, to look at its subtree.
    organisation: Option<String>,
}

async fn overview<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Person(principal): Person,
    axum::extract::Query(query): axum::extract::Query<OverviewQuery>,
) -> Response {
    match overview_markup(&state, &principal, query.organisation.as_deref()).await {
        Ok(Some(markup)) => page(StatusCode::OK, markup),
        Ok(None) => problem(
            StatusCode::NOT_FOUND,
            Some(&principal),
            "That organisation does not exist, or it is not yours to see.",
        ),
        Err(error) => server_failed(&principal, "the overview", &error),
    }
}

/// The overview of `viewed` (the person's own organisation when `None`):
/// the way down to it, its child organisations with their deployments by
/// state and open alerts, and every deployment of its subtree. `None` when
/// `viewed` is outside the person's scope.
async fn overview_markup<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    viewed: Option<&str>,
) -> Result<Option<Markup>, String> {
    let scope = crate::api::scope_of(state, principal)
        .await
        .map_err(|error| format!("{error:?}"))?;
    let viewed = match viewed {
        None => scope.organisation.clone(),
        Some(code) => match vigil_domain::Code::parse(code) {
            Ok(code) if scope.tree.get(&code).is_some() && scope.includes(&code) => code,
            _ => return Ok(None),
        },
    };
    let names = Names::load(state, &scope).await?;
    let mut deployments: Vec<DeploymentRecord> = state
        .store
        .deployments()
        .await
        .map_err(|error| error.to_string())?
        .into_iter()
        .filter(|record| scope.tree.is_within(&record.deployment.site, &viewed))
        .collect();
    deployments.sort_by(|left, right| {
        (left.deployment.site.as_str(), names.product(left).0)
            .cmp(&(right.deployment.site.as_str(), names.product(right).0))
    });
    let mut open_alerts: HashMap<i64, usize> = HashMap::new();
    for record in &deployments {
        let alerts = state
            .store
            .alerts(record.id)
            .await
            .map_err(|error| error.to_string())?;
        open_alerts.insert(
            record.id.0,
            alerts
                .iter()
                .filter(|alert| alert.state != AlertState::Resolved)
                .count(),
        );
    }
    let mut by_state: BTreeMap<u8, (LifecycleState, usize)> = BTreeMap::new();
    for record in &deployments {
        by_state
            .entry(state_order(record.state))
            .or_insert((record.state, 0))
            .1 += 1;
    }
    let organisation = viewed.as_str();
    let total_open: usize = open_alerts.values().sum();
    // The way from the person's organisation down to the one viewed.
    let mut trail = Vec::new();
    let mut step = scope.tree.get(&viewed);
    while let Some(current) = step {
        if current.code == scope.organisation {
            break;
        }
        step = current
            .parent
            .as_ref()
            .and_then(|parent| scope.tree.get(parent));
        if let Some(parent) = step {
            trail.push(parent.code.to_string());
        }
    }
    trail.reverse();
    // Each child organisation: its deployments (live, other) and open alerts.
    let children: Vec<(String, usize, usize, usize)> = scope
        .tree
        .children(&viewed)
        .into_iter()
        .map(|child| {
            let within: Vec<&DeploymentRecord> = deployments
                .iter()
                .filter(|record| scope.tree.is_within(&record.deployment.site, &child.code))
                .collect();
            let live = within
                .iter()
                .filter(|record| record.state == LifecycleState::Live)
                .count();
            let open: usize = within
                .iter()
                .map(|record| open_alerts.get(&record.id.0).copied().unwrap_or(0))
                .sum();
            (child.code.to_string(), live, within.len() - live, open)
        })
        .collect();
    Ok(Some(layout(
        "Deployments",
        Some(principal),
        html! {
            @if !trail.is_empty() {
                nav aria-label="Organisations" {
                    p {
                        @for code in &trail {
                            a href={ "/?organisation=" (code) } { (names.organisation(code)) } " › "
                        }
                        (names.organisation(organisation))
                    }
                }
            }
            h1 { "Deployments at " (names.organisation(organisation)) }
            p.muted { "Every deployment of " (names.organisation(organisation)) " and the organisations below it, with its lifecycle state and open alerts." }
            @if !children.is_empty() {
                table {
                    caption.muted { "Organisations below" }
                    thead { tr { th scope="col" { "Organisation" } th scope="col" { "Live" } th scope="col" { "Other states" } th scope="col" { "Open alerts" } } }
                    tbody {
                        @for (code, live, other, open) in &children {
                            tr {
                                td { a href={ "/?organisation=" (code) } { (names.organisation(code)) } }
                                td { (live) }
                                td { (other) }
                                td { @if *open > 0 { span.alert-open { (open) } } @else { "0" } }
                            }
                        }
                    }
                }
                h2 { "Every deployment" }
            }
            ul.counts aria-label="Deployments by lifecycle state" {
                @for (lifecycle, count) in by_state.values() {
                    li { strong { (count) } (lifecycle.as_str()) }
                }
                li { strong.alert-open { (total_open) } "open alerts" }
            }
            @if deployments.is_empty() {
                p { "No deployments yet." }
            } @else {
                table {
                    caption.muted { (deployments.len()) " deployments" }
                    thead { tr { th scope="col" { "Site" } th scope="col" { "Product" } th scope="col" { "Version" } th scope="col" { "State" } th scope="col" { "Open alerts" } } }
                    tbody {
                        @for record in &deployments {
                            @let (product, version) = names.product(record);
                            @let open = open_alerts.get(&record.id.0).copied().unwrap_or(0);
                            tr {
                                td { (names.organisation(record.deployment.site.as_str())) }
                                td { a href={ "/deployments/" (record.id.0) } { (product) } }
                                td { (version) }
                                td { (state_badge(record.state)) }
                                td { @if open > 0 { span.alert-open { (open) } } @else { "0" } }
                            }
                        }
                    }
                }
            }
        },
    )))
}

fn state_order(state: LifecycleState) -> u8 {
    match state {
        LifecycleState::Live => 0,
        LifecycleState::Shadow => 1,
        LifecycleState::Validation => 2,
        LifecycleState::Procurement => 3,
        LifecycleState::Proposed => 4,
        LifecycleState::Suspended => 5,
        LifecycleState::Retired => 6,
    }
}

/// The deployment with this id, if the caller's scope includes its site.
async fn deployment_in_scope<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    id: i64,
) -> Result<(DeploymentRecord, Scope), Response> {
    // The API's own lookup; a failure of the server is not told as a
    // deployment that does not exist.
    let failed = |error: crate::error::ApiError| {
        if error.code() == vigil_api_types::ErrorCode::NotFound {
            problem(
                StatusCode::NOT_FOUND,
                Some(principal),
                &format!("Deployment {id} does not exist, or it is not yours to see."),
            )
        } else {
            server_failed(principal, "looking up a deployment", error.message())
        }
    };
    let scope = crate::api::scope_of(state, principal)
        .await
        .map_err(failed)?;
    let record = crate::api::registry::deployment_in_scope(state, &scope, id)
        .await
        .map_err(failed)?;
    Ok((record, scope))
}

async fn deployment_page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Person(principal): Person,
    Path(id): Path<i64>,
) -> Response {
    let (record, scope) = match deployment_in_scope(&state, &principal, id).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    match deployment_markup(&state, &principal, &scope, &record).await {
        Ok(markup) => page(StatusCode::OK, markup),
        Err(error) => server_failed(&principal, "the deployment page", &error),
    }
}

async fn deployment_markup<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    scope: &Scope,
    record: &DeploymentRecord,
) -> Result<Markup, String> {
    let names = Names::load(state, scope).await?;
    let (product, version) = names.product(record);
    let aggregates = state
        .store
        .daily_aggregates(record.id)
        .await
        .map_err(|error| error.to_string())?;
    let rules = state
        .store
        .rules(record.id)
        .await
        .map_err(|error| error.to_string())?;
    let baseline = rules.as_ref().map(|rules| &rules.rules.baseline);
    let WeeklySeries {
        positive_rate,
        sensitivity,
        specificity,
        ppv,
        markers,
        ..
    } = weekly_series(&aggregates, &record.decisions);
    let today = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::UTC)
        .date();
    let days = vigil_monitor::Days::new(aggregates.iter().map(|(key, day)| (key, day)));
    let recent_from = vigil_monitor::assess::window_start(today, RECENT_SCORE_DAYS);
    let recent_scores = days.window(recent_from, today).score_histogram;
    let score_chart = score_distribution_chart(
        &format!("Scores from {recent_from} to {today} against the baseline"),
        &format!("last {RECENT_SCORE_DAYS} days"),
        &recent_scores,
        baseline.and_then(|baseline| baseline.score_histogram.as_deref()),
    );
    let mut control_charts = Vec::new();
    let mut drift = Vec::new();
    if let Some(rules) = &rules {
        for rule in &rules.rules.rules {
            match &rule.test {
                vigil_monitor::rules::Test::Cusum { .. }
                | vigil_monitor::rules::Test::Ewma { .. } => {
                    if let Some(trace) =
                        vigil_monitor::control_trace(rule, &rules.rules.baseline, &days, today)
                    {
                        control_charts.push(drawn_control_chart(&trace, &record.decisions));
                    }
                }
                vigil_monitor::rules::Test::ScoreDrift { .. }
                | vigil_monitor::rules::Test::InputDrift { .. } => drift.push(
                    vigil_monitor::assess::assess_rule(rule, &rules.rules.baseline, &days, today),
                ),
                _ => {}
            }
        }
    }
    let alerts = state
        .store
        .alerts(record.id)
        .await
        .map_err(|error| error.to_string())?;
    let evaluations = state
        .store
        .evaluations(Some(record.id))
        .await
        .map_err(|error| error.to_string())?;
    let hazards = state
        .store
        .hazards(record.id)
        .await
        .map_err(|error| error.to_string())?;
    let log_sha256 = vigil_store::hazard_log_sha256(&hazards);
    let latest_signature = state
        .store
        .safety_case_signatures(record.id)
        .await
        .map_err(|error| error.to_string())?
        .into_iter()
        .next();
    let may_respond = Permission::RespondToAlerts.granted_to(principal.actor.role);
    let csrf = csrf_of(principal);
    let moves = possible_moves(state, record).await?;
    let open_suspension_alert = alerts
        .iter()
        .find(|alert| alert.proposes_suspension && alert.state != AlertState::Resolved)
        .map(|alert| alert.id);
    let site = names.organisation(record.deployment.site.as_str());
    Ok(layout(
        &format!("{product} at {site}"),
        Some(principal),
        html! {
            p { a href="/" { "← All deployments" } }
            h1 { (product) " " (version) " at " (site) " " (state_badge(record.state)) }
            section.card aria-labelledby="facts" {
                h2 id="facts" { "The deployment" }
                dl.facts {
                    dt { "Product" } dd { a href={ "/products/" (record.product.0) } { (product) } " " (version) }
                    dt { "Site" } dd { (site) " (" (record.deployment.site) ")" }
                    dt { "Owning team" } dd { (record.deployment.owning_team) }
                    dt { "Operating thresholds" } dd {
                        @for (name, threshold) in &record.deployment.thresholds {
                            (name) " " (threshold.get()) " "
                        }
                    }
                    dt { "State" } dd { (state_badge(record.state)) }
                    @if let Some(baseline) = baseline {
                        dt { "Monitoring baseline" } dd { (baseline.source) }
                    }
                }
            }
            section.card aria-labelledby="validation" {
                h2 id="validation" { "Local validation" }
                @if evaluations.is_empty() {
                    p { "No evaluation stored yet." }
                } @else {
                    table {
                        thead { tr { th scope="col" { "Evaluation" } th scope="col" { "Stored" } th scope="col" { "By" } th scope="col" { "Verdict" } th scope="col" { "Report" } } }
                        tbody {
                            @for evaluation in &evaluations {
                                tr {
                                    td { "evaluation:" (evaluation.id) }
                                    td { (when(evaluation.created_at)) }
                                    td { (evaluation.created_by) }
                                    td { @if evaluation.verdict == "pass" { span.state.state-live { "pass" } } @else { span.alert-open { (evaluation.verdict) } } }
                                    td { a href={ "/api/v1/evaluations/" (evaluation.id) "/report" } { "Open the report" } }
                                }
                            }
                        }
                    }
                }
            }
            section.card aria-labelledby="safety" {
                h2 id="safety" { "Clinical safety" }
                p {
                    a href={ "/api/v1/deployments/" (record.id.0) "/safety-case" } { "The clinical safety case" }
                    " (made now from the hazard log) · "
                    @match &latest_signature {
                        Some(signature) if signature.log_sha256 == log_sha256 => {
                            span.state.state-live { "signed" } " by " (signature.signed_by) " " (when(signature.signed_at))
                        }
                        Some(signature) => {
                            span.alert-open { "not signed since the log changed" } " (last signed by " (signature.signed_by) " " (when(signature.signed_at)) ")"
                        }
                        None => { span.alert-open { "not yet signed" } }
                    }
                }
                @if hazards.is_empty() {
                    p { "No hazard recorded." }
                } @else {
                    table {
                        caption.muted { "Risk ratings on the 5×5 matrix of DCB0129/DCB0160: 1 acceptable to 5 unacceptable." }
                        thead { tr { th scope="col" { "Hazard" } th scope="col" { "Initial risk" } th scope="col" { "Residual risk" } th scope="col" { "Status" } th scope="col" { "Linked alerts" } } }
                        tbody {
                            @for hazard in &hazards {
                                tr {
                                    td { "H" (hazard.id) " " (hazard.hazard.fields().title.as_str()) }
                                    td { (hazard.hazard.fields().initial.rating().get()) }
                                    td title=(hazard.hazard.fields().residual.rating().acceptability()) { (hazard.hazard.fields().residual.rating().get()) }
                                    td { @if hazard.hazard.status() == vigil_domain::HazardStatus::UnderReview { span.alert-open { "under review" } } @else { (hazard.hazard.status().as_str()) } }
                                    td { @for alert in &hazard.alerts { "alert " (alert) " " } }
                                }
                            }
                        }
                    }
                }
                p {
                    a href={ "/deployments/" (record.id.0) "/hazards" } { "The hazard log" }
                    " · "
                    a href={ "/deployments/" (record.id.0) "/productivity" } { "Productivity audit" }
                    " · Governance pack: "
                    a href={ "/api/v1/deployments/" (record.id.0) "/governance-pack" } { "PDF" }
                    ", "
                    a href={ "/api/v1/deployments/" (record.id.0) "/governance-pack?format=html" } { "HTML" }
                }
            }
            section.card aria-labelledby="monitoring" {
                h2 id="monitoring" { "Monitoring by week" }
                p.muted { "Each point is a week's rate with its 95% Wilson interval; the dashed line is the baseline the rules judge against; grey lines mark model versions and decisions." }
                div.chart { (PreEscaped(rate_chart("Positive rate (share of cases the tool flags)", "Positive rate", &positive_rate, baseline.and_then(|baseline| baseline.positive_rate), &markers))) }
                div.chart { (PreEscaped(rate_chart("Sensitivity (cases with an outcome)", "Sensitivity", &sensitivity, baseline.and_then(|baseline| baseline.sensitivity), &markers))) }
                div.chart { (PreEscaped(rate_chart("Specificity (cases with an outcome)", "Specificity", &specificity, baseline.and_then(|baseline| baseline.specificity), &markers))) }
                div.chart { (PreEscaped(rate_chart("Positive predictive value (flagged cases with an outcome)", "PPV", &ppv, baseline.and_then(|baseline| baseline.ppv), &markers))) }
            }
            section.card aria-labelledby="drift" {
                h2 id="drift" { "Drift" }
                p.muted { "The tool's scores over the last " (RECENT_SCORE_DAYS) " days against the baseline, and the drift rules judged today (output drift of the scores, input drift of the acquisition and patient metadata)." }
                div.chart { (PreEscaped(score_chart)) }
                @if drift.is_empty() {
                    p { "No drift rules." }
                } @else {
                    table {
                        thead { tr { th scope="col" { "Rule" } th scope="col" { "Window" } th scope="col" { "Verdict" } th scope="col" { "Statistic" } th scope="col" { "p-value" } th scope="col" { "Cases (reference)" } th scope="col" { "Explanation" } } }
                        tbody {
                            @for assessment in &drift {
                                tr {
                                    td { (assessment.rule) }
                                    td { (assessment.window_from) " to " (assessment.window_to) }
                                    td { (verdict_badge(assessment.verdict)) }
                                    td { (assessment.evidence.statistic) @if let Some(value) = assessment.evidence.value { " " (format!("{value:.3}")) } }
                                    td { @if let Some(p_value) = assessment.evidence.p_value { (p_value_text(p_value)) } }
                                    td { (assessment.evidence.cases) @if let Some(reference) = assessment.evidence.reference_cases { " (" (reference) ")" } }
                                    td { (assessment.evidence.explanation) }
                                }
                            }
                        }
                    }
                }
            }
            section.card aria-labelledby="control" {
                h2 id="control" { "Control charts" }
                @if control_charts.is_empty() {
                    p { "No control-chart rules, or no days with cases in their windows." }
                } @else {
                    p.muted { "Each chart follows its rule's statistic day by day over the rule's window; the dashed red line is the control limit it signals at; grey lines mark decisions." }
                    @for chart in &control_charts {
                        div.chart { (PreEscaped(chart)) }
                    }
                }
            }
            section.card aria-labelledby="rules" {
                h2 id="rules" { "Rules" }
                p { a href={ "/deployments/" (record.id.0) "/rules" } { "Every monitoring rule judged today" } " (performance, output and input drift, control charts, estimates while labels lag)." }
            }
            section.card aria-labelledby="alerts" id="alert-list" {
                h2 id="alerts" { "Alerts" }
                @if alerts.is_empty() {
                    p { "No alerts." }
                } @else {
                    table {
                        thead { tr { th scope="col" { "Rule" } th scope="col" { "Raised" } th scope="col" { "State" } th scope="col" { "Evidence" } th scope="col" { "Response" } } }
                        tbody {
                            @for alert in &alerts {
                                (alert_row(record.id, alert, may_respond, &csrf))
                            }
                        }
                    }
                }
            }
            section.card aria-labelledby="decide" id="decide-section" {
                h2 id="decide" { "Next decisions" }
                @if moves.is_empty() {
                    p { "None: " (record.state.as_str()) " is final." }
                }
                @for next in &moves {
                    (move_card(record, next, principal, &csrf, open_suspension_alert))
                }
            }
            section.card aria-labelledby="timeline" {
                h2 id="timeline" { "Lifecycle decisions" }
                table {
                    thead { tr { th scope="col" { "Decided" } th scope="col" { "Move" } th scope="col" { "Recorded by" } th scope="col" { "Sign-offs" } th scope="col" { "Rationale and evidence" } } }
                    tbody {
                        @for decision in &record.decisions {
                            tr {
                                td { (when(decision.decision.decided_at)) }
                                td { (decision.decision.from.as_str()) " → " (decision.decision.to.as_str()) }
                                td { (decision.recorded_by) }
                                td { @for sign_off in &decision.decision.sign_offs { (sign_off.actor) " (" (sign_off.role.as_str()) ")" br; } }
                                td { (decision.decision.rationale) @for evidence in &decision.decision.evidence { br; span.muted { (evidence.as_str()) } } }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// A p-value as a person reads it: three decimals, or a power of ten when
/// small, and "< 1e-300" for one that underflowed to zero.
fn p_value_text(p_value: f64) -> String {
    if p_value <= 0.0 {
        "< 1e-300".to_owned()
    } else if p_value < 0.001 {
        format!("{p_value:.1e}")
    } else {
        format!("{p_value:.3}")
    }
}

/// The days of recent scores drawn against the baseline's distribution.
const RECENT_SCORE_DAYS: u32 = 30;

/// A CUSUM or EWMA rule's path drawn with its limits and the decisions
/// taken within its window.
fn drawn_control_chart(
    trace: &vigil_monitor::ControlTrace,
    decisions: &[vigil_store::DecisionRecord],
) -> String {
    let rate = trace.signal.as_str().replace('_', " ");
    let (title, statistic) = match trace.kind {
        vigil_monitor::ControlKind::Cusum => (
            format!(
                "Rule {}: Bernoulli CUSUM of the {rate} (p0 {:.3} to p1 {:.3})",
                trace.rule,
                trace.in_control,
                trace.out_of_control.unwrap_or(f64::NAN)
            ),
            "CUSUM statistic",
        ),
        vigil_monitor::ControlKind::Ewma => (
            format!("Rule {}: EWMA of the daily {rate}", trace.rule),
            "EWMA of the rate",
        ),
    };
    let points: Vec<ControlChartPoint> = trace
        .points
        .iter()
        .map(|point| ControlChartPoint {
            label: point.day.to_string(),
            statistic: point.statistic,
            lower_limit: point.lower_limit,
            upper_limit: point.upper_limit,
            cases: point.cases,
        })
        .collect();
    let markers: Vec<Marker> = decisions
        .iter()
        .filter_map(|decision| {
            let day = decision
                .decision
                .decided_at
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date();
            let first = trace.points.first()?.day;
            let index = trace.points.iter().position(|point| point.day >= day)?;
            (day >= first).then(|| Marker {
                index,
                label: decision.decision.to.as_str().to_owned(),
            })
        })
        .collect();
    let centre = match trace.kind {
        vigil_monitor::ControlKind::Ewma => Some(trace.in_control),
        vigil_monitor::ControlKind::Cusum => None,
    };
    control_chart(
        &title,
        statistic,
        &points,
        centre,
        trace.first_signal,
        &markers,
    )
}

fn verdict_badge(verdict: vigil_monitor::Verdict) -> Markup {
    match verdict {
        vigil_monitor::Verdict::Signal => html! { span.alert-open { "signal" } },
        vigil_monitor::Verdict::Clear => html! { span.state.state-live { "clear" } },
        vigil_monitor::Verdict::NotEnoughData => html! { span.muted { "not enough data" } },
        vigil_monitor::Verdict::Unavailable => html! { span.muted { "unavailable" } },
    }
}

fn when(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

fn alert_row(
    deployment: DeploymentId,
    alert: &AlertRecord,
    may_respond: bool,
    csrf: &str,
) -> Markup {
    let next = match alert.state {
        AlertState::Raised => Some(("acknowledge", "Acknowledge")),
        AlertState::Acknowledged => Some(("resolve", "Resolve")),
        AlertState::Resolved => None,
    };
    html! {
        tr {
            td { (alert.rule) @if alert.proposes_suspension { br; span.alert-open { "proposes suspension" } } }
            td { (when(alert.raised_at)) }
            td { @if alert.state == AlertState::Resolved { (alert.state.as_str()) } @else { span.alert-open { (alert.state.as_str()) } } }
            td {
                (alert.assessment.evidence.explanation)
                br;
                span.muted { (alert.assessment.window_from) " to " (alert.assessment.window_to) ", " (alert.assessment.evidence.cases) " cases" }
                @if let Some(note) = &alert.acknowledgement { br; "Acknowledged: " (note) }
                @if let Some(note) = &alert.resolution { br; "Resolved: " (note) }
            }
            td {
                @if let (true, Some((action, label))) = (may_respond, next) {
                    form.inline method="post" action={ "/deployments/" (deployment.0) "/alerts/" (alert.id) } {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="action" value=(action);
                        label.muted for={ "note-" (alert.id) } { "Note" }
                        textarea id={ "note-" (alert.id) } name="note" required {}
                        button.primary type="submit" { (label) }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AlertForm {
    csrf: String,
    action: String,
    note: String,
}

async fn alert_action<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path((id, alert_id)): Path<(i64, i64)>,
    Form(form): Form<AlertForm>,
) -> Response {
    let principal = match person_with_form(&state, &headers, &form.csrf).await {
        Ok(principal) => principal,
        Err(refusal) => return refusal,
    };
    if !Permission::RespondToAlerts.granted_to(principal.actor.role) {
        return problem(
            StatusCode::FORBIDDEN,
            Some(&principal),
            &format!(
                "The role {} may not respond to alerts.",
                principal.actor.role.as_str()
            ),
        );
    }
    if let Err(refusal) = deployment_in_scope(&state, &principal, id).await {
        return refusal;
    }
    let to = match form.action.as_str() {
        "acknowledge" => AlertState::Acknowledged,
        "resolve" => AlertState::Resolved,
        _ => {
            return problem(
                StatusCode::BAD_REQUEST,
                Some(&principal),
                "The action must be acknowledge or resolve.",
            );
        }
    };
    let note = form.note.trim();
    if note.is_empty() || note.chars().count() > 4_000 {
        return problem(
            StatusCode::BAD_REQUEST,
            Some(&principal),
            "Write a note of at most 4,000 characters saying what was done.",
        );
    }
    match state.store.alert(alert_id).await {
        Ok(alert) if alert.deployment == DeploymentId(id) => {}
        _ => {
            return problem(
                StatusCode::NOT_FOUND,
                Some(&principal),
                &format!("Alert {alert_id} is not an alert of deployment {id}."),
            );
        }
    }
    match state
        .store
        .advance_alert(&principal.context(), alert_id, to, note)
        .await
    {
        Ok(_) => {
            let mut response =
                Redirect::to(&format!("/deployments/{id}#alert-list")).into_response();
            *response.status_mut() = StatusCode::SEE_OTHER;
            response
        }
        Err(error) => {
            let error = crate::error::ApiError::from(error);
            problem(
                StatusCode::CONFLICT,
                Some(&principal),
                &format!("The alert was not changed: {}.", error.message()),
            )
        }
    }
}

async fn product_page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Person(principal): Person,
    Path(id): Path<i64>,
) -> Response {
    match product_markup(&state, &principal, id).await {
        Ok(Some(markup)) => page(StatusCode::OK, markup),
        Ok(None) => problem(
            StatusCode::NOT_FOUND,
            Some(&principal),
            &format!("Product {id} does not exist."),
        ),
        Err(error) => server_failed(&principal, "the product page", &error),
    }
}

/// The product's catalogue entry, its versions, the deployments the
/// person may see, and funnel plots of their last 90 days.
async fn product_markup<S: Store>(
    state: &AppState<S>,
    principal: &Principal,
    id: i64,
) -> Result<Option<Markup>, String> {
    let record = match state.store.product(ProductId(id)).await {
        Ok(record) => record,
        Err(vigil_store::StoreError::NotFound { .. }) => return Ok(None),
        Err(error) => return Err(error.to_string()),
    };
    let scope = crate::api::scope_of(state, principal)
        .await
        .map_err(|error| format!("{error:?}"))?;
    let names = Names::load(state, &scope).await?;
    let deployments: Vec<DeploymentRecord> = state
        .store
        .deployments()
        .await
        .map_err(|error| error.to_string())?
        .into_iter()
        .filter(|deployment| {
            deployment.product == record.id && scope.includes(&deployment.deployment.site)
        })
        .collect();
    let to = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::UTC)
        .date();
    let from = to
        .checked_sub(jiff::Span::new().days(89))
        .map_err(|error| error.to_string())?;
    let mut funnels = Vec::new();
    for (counted, metric, title) in [
        (
            vigil_monitor::CountedProportion::Sensitivity,
            "sensitivity",
            "Sensitivity",
        ),
        (
            vigil_monitor::CountedProportion::PositiveRate,
            "positive_rate",
            "Positive rate",
        ),
    ] {
        let view =
            crate::api::alerts::funnel_view(state, &scope, record.id, counted, metric, (from, to))
                .await
                .map_err(|error| error.message().to_owned())?;
        let points: Vec<FunnelPoint> = view
            .units
            .iter()
            .map(|unit| FunnelPoint {
                label: unit.site.clone(),
                cases: unit.cases,
                proportion: unit.proportion,
                outside: unit.position_998 != "within",
            })
            .collect();
        let outliers: Vec<String> = view
            .units
            .iter()
            .filter(|unit| unit.position_998 != "within")
            .map(|unit| {
                format!(
                    "{} ({:.3}, {} the 99.8% limits)",
                    names.organisation(&unit.site),
                    unit.proportion,
                    unit.position_998
                )
            })
            .collect();
        funnels.push((
            funnel_chart(
                &format!("{title} by deployment, {from} to {to}"),
                title,
                view.target.unwrap_or(0.0),
                &points,
            ),
            title,
            outliers,
        ));
    }
    let product = &record.product;
    Ok(Some(layout(
        product.name.as_str(),
        Some(principal),
        html! {
            p { a href="/" { "← All deployments" } }
            h1 { (product.name) " " span.muted { "by " (product.vendor) } }
            section.card aria-labelledby="catalogue" {
                h2 id="catalogue" { "Catalogue entry" }
                dl.facts {
                    dt { "Intended purpose" } dd { (product.intended_purpose) }
                    dt { "Modality" } dd { (product.modality.as_str()) }
                    dt { "Body part" } dd { (product.body_part) }
                    dt { "Task" } dd { (product.task_type.as_str()) }
                    dt { "Regulatory class" } dd { (product.regulatory_class.as_str()) " (" (product.marking) ")" }
                }
                h2 { "Versions" }
                table {
                    thead { tr { th scope="col" { "Version" } th scope="col" { "Released" } th scope="col" { "Change" } th scope="col" { "Notes" } } }
                    tbody {
                        @for version in &record.versions {
                            tr {
                                td { (version.version.version) }
                                td { (version.version.release_date) }
                                td { (version.version.change_kind.as_str()) }
                                td { (version.version.change_notes) }
                            }
                        }
                    }
                }
            }
            section.card aria-labelledby="sites" {
                h2 id="sites" { "Deployments you can see" }
                @if deployments.is_empty() {
                    p { "None in your organisation." }
                } @else {
                    table {
                        thead { tr { th scope="col" { "Site" } th scope="col" { "Version" } th scope="col" { "State" } } }
                        tbody {
                            @for deployment in &deployments {
                                tr {
                                    td { a href={ "/deployments/" (deployment.id.0) } { (names.organisation(deployment.deployment.site.as_str())) } }
                                    td { (names.product(deployment).1) }
                                    td { (state_badge(deployment.state)) }
                                }
                            }
                        }
                    }
                }
            }
            section.card aria-labelledby="funnels" {
                h2 id="funnels" { "Across sites: funnel plots" }
                p.muted { "Each deployment's proportion over the last 90 days against the pooled proportion of the deployments you can see, with exact binomial limits at 95% (dashed) and 99.8% (solid). A point outside the 99.8% limits is unlikely to be chance." }
                @for (chart, title, outliers) in &funnels {
                    div.chart { (PreEscaped(chart)) }
                    @if outliers.is_empty() {
                        p { (title) ": every deployment lies within the 99.8% limits." }
                    } @else {
                        p.alert-open { (title) " outside the 99.8% limits: " (outliers.join("; ")) }
                    }
                }
            }
        },
    )))
}

/// A move the deployment may make next: the roles that must sign it and
/// the signatures already given at the current revision.
struct PossibleMove {
    to: LifecycleState,
    required: Vec<vigil_domain::Role>,
    signed: Vec<(String, vigil_domain::Role)>,
}

async fn possible_moves<S: Store>(
    state: &AppState<S>,
    record: &DeploymentRecord,
) -> Result<Vec<PossibleMove>, String> {
    let pending = state
        .store
        .pending_sign_offs(record.id)
        .await
        .map_err(|error| error.to_string())?;
    let mut moves = Vec::new();
    for to in LifecycleState::ALL {
        if !record.state.can_move_to(to) {
            continue;
        }
        let required = crate::api::governance::required_roles(state, record, record.state, to)
            .await
            .map_err(|error| error.message().to_owned())?;
        let signed = pending
            .iter()
            .filter(|sign_off| sign_off.to == to && sign_off.revision == record.revision)
            .map(|sign_off| (sign_off.user_name.to_string(), sign_off.role))
            .collect();
        moves.push(PossibleMove {
            to,
            required,
            signed,
        });
    }
    Ok(moves)
}

fn move_card(
    record: &DeploymentRecord,
    next: &PossibleMove,
    principal: &Principal,
    csrf: &str,
    open_suspension_alert: Option<i64>,
) -> Markup {
    let role = principal.actor.role;
    let may_act = next.required.contains(&role)
        && (Permission::SignOff.granted_to(role) || Permission::RecordDecisions.granted_to(role));
    let target = next.to.as_str();
    html! {
        div.card {
            h3 { (record.state.as_str()) " → " (target) }
            p {
                "Signatures needed: "
                @for (index, required) in next.required.iter().enumerate() {
                    @if index > 0 { ", " }
                    (required.as_str())
                    @if let Some((user, _)) = next.signed.iter().find(|(_, signed)| signed == required) {
                        " (signed by " (user) ")"
                    }
                }
            }
            @if may_act {
                form method="post" action={ "/deployments/" (record.id.0) "/decisions" } {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="from" value=(record.state.as_str());
                    input type="hidden" name="to" value=(target);
                    input type="hidden" name="revision" value=(record.revision);
                    @if next.to == LifecycleState::Suspended {
                        @if let Some(alert) = open_suspension_alert {
                            input type="hidden" name="alert" value=(alert);
                            p.muted { "This suspension follows alert " (alert) ", which proposes it; the alert is cited as evidence." }
                        }
                    }
                    label for={ "rationale-" (target) } { "Rationale (for recording the decision)" }
                    textarea id={ "rationale-" (target) } name="rationale" {}
                    label for={ "evidence-" (target) } { "Evidence (references such as evaluation:12, separated by commas)" }
                    input type="text" id={ "evidence-" (target) } name="evidence";
                    button.primary type="submit" name="action" value="sign" { "Sign " (target) " as " (role.as_str()) }
                    " "
                    button.primary type="submit" name="action" value="record" { "Record the move to " (target) }
                }
            } @else {
                p.muted { "Your role (" (role.as_str()) ") does not sign this move." }
            }
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DecisionForm {
    csrf: String,
    action: String,
    from: String,
    to: String,
    revision: i64,
    rationale: String,
    evidence: String,
    alert: Option<i64>,
}

async fn decision_action<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let principal = match person_with_form(&state, &headers, &form.csrf).await {
        Ok(principal) => principal,
        Err(refusal) => return refusal,
    };
    let permission = match form.action.as_str() {
        "sign" => Permission::SignOff,
        "record" => Permission::RecordDecisions,
        _ => {
            return problem(
                StatusCode::BAD_REQUEST,
                Some(&principal),
                "The action must be sign or record.",
            );
        }
    };
    if !permission.granted_to(principal.actor.role) {
        return problem(
            StatusCode::FORBIDDEN,
            Some(&principal),
            &format!(
                "The role {} may not {} decisions.",
                principal.actor.role.as_str(),
                form.action
            ),
        );
    }
    let outcome = if form.action == "sign" {
        crate::api::governance::record_sign_off(
            &state,
            &principal,
            id,
            vigil_api_types::wire::SignOffRequest {
                to: form.to,
                revision: form.revision,
            },
        )
        .await
        .map(|_| ())
    } else {
        crate::api::governance::record_transition(
            &state,
            &principal,
            id,
            vigil_api_types::wire::TransitionRequest {
                from: form.from,
                to: form.to,
                revision: form.revision,
                rationale: form.rationale.trim().to_owned(),
                evidence: form
                    .evidence
                    .split(',')
                    .map(str::trim)
                    .filter(|reference| !reference.is_empty())
                    .map(str::to_owned)
                    .collect(),
                alert: form.alert,
            },
        )
        .await
        .map(|_| ())
    };
    match outcome {
        Ok(()) => {
            let mut response =
                Redirect::to(&format!("/deployments/{id}#decide-section")).into_response();
            *response.status_mut() = StatusCode::SEE_OTHER;
            response
        }
        Err(error) if error.code() == vigil_api_types::ErrorCode::NotFound => problem(
            StatusCode::NOT_FOUND,
            Some(&principal),
            &format!("Deployment {id} does not exist, or it is not yours to see."),
        ),
        Err(error) => problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&principal),
            &format!("Nothing was recorded: {}.", error.message()),
        ),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AuditPageQuery {
    before: Option<u64>,
}

/// The audit trail as the person may see it, newest first, a hundred
/// entries a page, under the verdict of verifying the whole chain.
async fn audit_page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Person(principal): Person,
    axum::extract::Query(query): axum::extract::Query<AuditPageQuery>,
) -> Response {
    if !Permission::ReadAudit.granted_to(principal.actor.role) {
        return problem(
            StatusCode::FORBIDDEN,
            Some(&principal),
            &format!(
                "The role {} may not read the audit trail.",
                principal.actor.role.as_str()
            ),
        );
    }
    let entries = crate::api::governance::audit_page_of(
        &state,
        &principal,
        crate::api::governance::AuditQuery {
            before: query.before,
            limit: Some(100),
        },
    )
    .await;
    let verification = crate::api::governance::audit_verification(&state, &principal).await;
    let (entries, verification) = match (entries, verification) {
        (Ok(entries), Ok(verification)) => (entries, verification),
        (Err(error), _) | (_, Err(error)) => {
            return server_failed(&principal, "the audit page", error.message());
        }
    };
    let intact = verification.status == "intact";
    page(
        StatusCode::OK,
        layout(
            "Audit trail",
            Some(&principal),
            html! {
                h1 { "Audit trail" }
                @if intact {
                    p { strong.state.state-live { "intact" } " The hash chain verifies from the first entry to the recorded head, and every stored record matches the entry that made it." }
                } @else {
                    p.error role="alert" { "Broken: the chain or the records it describes have been altered. "
                        @if let Some(problem) = &verification.problem { (problem) } }
                }
                @if let (Some(count), Some(head)) = (verification.entries, &verification.head_hash) {
                    p.muted { (count) " entries; head " code { (head) } }
                }
                p.muted { "Entries made by people of your organisation and those below it, newest first." }
                table {
                    thead { tr { th scope="col" { "#" } th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Action" } th scope="col" { "Subject" } } }
                    tbody {
                        @for entry in &entries.entries {
                            tr {
                                td { (entry.sequence) }
                                td { (entry.recorded_at) }
                                td { (entry.actor) br; span.muted { (entry.role) " · " (entry.organisation) } }
                                td { (entry.action) }
                                td { (entry.subject) }
                            }
                        }
                    }
                }
                @if let Some(before) = entries.next_before {
                    p { a href={ "/audit?before=" (before) } { "Older entries" } }
                }
            },
        ),
    )
}

/// The shared catalogue: every product, with how many of its deployments
/// the person may see and how many of those are live.
async fn catalogue_page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Person(principal): Person,
) -> Response {
    let loaded = async {
        let scope = crate::api::scope_of(&state, &principal)
            .await
            .map_err(|error| error.message().to_owned())?;
        let products = state
            .store
            .products()
            .await
            .map_err(|error| error.to_string())?;
        let deployments = state
            .store
            .deployments()
            .await
            .map_err(|error| error.to_string())?;
        Ok::<_, String>((scope, products, deployments))
    }
    .await;
    let (scope, products, deployments) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return server_failed(&principal, "the catalogue", &error),
    };
    page(
        StatusCode::OK,
        layout(
            "Products",
            Some(&principal),
            html! {
                h1 { "Products" }
                p.muted { "The national catalogue of AI tools, with the deployments of each that your organisation may see." }
                table {
                    thead { tr { th scope="col" { "Product" } th scope="col" { "Vendor" } th scope="col" { "Modality" } th scope="col" { "Task" } th scope="col" { "Latest version" } th scope="col" { "Your deployments" } th scope="col" { "Live" } } }
                    tbody {
                        @for record in &products {
                            @let visible: Vec<&DeploymentRecord> = deployments.iter().filter(|deployment| deployment.product == record.id && scope.includes(&deployment.deployment.site)).collect();
                            tr {
                                td { a href={ "/products/" (record.id.0) } { (record.product.name) } }
                                td { (record.product.vendor) }
                                td { (record.product.modality.as_str()) }
                                td { (record.product.task_type.as_str()) }
                                td { @if let Some(version) = record.versions.last() { (version.version.version) } }
                                td { (visible.len()) }
                                td { (visible.iter().filter(|deployment| deployment.state == LifecycleState::Live).count()) }
                            }
                        }
                    }
                }
            },
        ),
    )
}

/// Every monitoring rule of a deployment judged today, without raising
/// anything: the drift table and the rest of the monitoring at a glance.
async fn rules_page<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Person(principal): Person,
    Path(id): Path<i64>,
) -> Response {
    let (record, scope) = match deployment_in_scope(&state, &principal, id).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let today = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::UTC)
        .date();
    let loaded = async {
        let names = Names::load(&state, &scope).await?;
        let rules = state
            .store
            .rules(record.id)
            .await
            .map_err(|error| error.to_string())?;
        let aggregates = state
            .store
            .daily_aggregates(record.id)
            .await
            .map_err(|error| error.to_string())?;
        Ok::<_, String>((names, rules, aggregates))
    }
    .await;
    let (names, rules, aggregates) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return server_failed(&principal, "the rules page", &error),
    };
    let judged: Vec<vigil_monitor::Assessment> = match &rules {
        Some(rules) => {
            let days = vigil_monitor::Days::new(
                aggregates.iter().map(|(key, aggregate)| (key, aggregate)),
            );
            vigil_monitor::assess(&rules.rules, &days, today)
        }
        None => Vec::new(),
    };
    let (product, version) = names.product(&record);
    let site = names.organisation(record.deployment.site.as_str());
    page(
        StatusCode::OK,
        layout(
            &format!("Rules of {product} at {site}"),
            Some(&principal),
            html! {
                p { a href={ "/deployments/" (record.id.0) } { "← " (product) " " (version) " at " (site) } }
                h1 { "Monitoring rules of " (product) " at " (site) }
                section.card aria-labelledby="rules" {
                    h2 id="rules" { "Rules judged today" }
                    @if judged.is_empty() {
                        p { "No monitoring rules yet: they are made at go-live." }
                    } @else {
                        p.muted { "Each rule of version " (rules.as_ref().map_or(0, |rules| rules.version)) " on its window ending " (today) ": performance against the validated baseline, output and input drift, control charts and estimates while labels lag." }
                        table {
                            thead { tr { th scope="col" { "Rule" } th scope="col" { "Verdict" } th scope="col" { "Value" } th scope="col" { "Baseline" } th scope="col" { "Cases" } th scope="col" { "Explanation" } } }
                            tbody {
                                @for assessment in &judged {
                                    tr {
                                        td { (assessment.rule) }
                                        td { (verdict_badge(assessment.verdict)) }
                                        td { @if let Some(value) = assessment.evidence.value { (format!("{value:.3}")) } }
                                        td { @if let Some(baseline) = assessment.evidence.baseline { (format!("{baseline:.3}")) } }
                                        td { (assessment.evidence.cases) }
                                        td { (assessment.evidence.explanation) }
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
