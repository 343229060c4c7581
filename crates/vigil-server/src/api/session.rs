//! Signing in and out, and who the caller is.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use vigil_api_types::ErrorCode;
use vigil_api_types::wire::{LoginRequest, OwnPasswordRequest, SessionInfo};
use vigil_store::rows::stored_timestamp;
use vigil_store::{Actor, ChangeContext, Store};

use super::{ApiJson, views};
use crate::AppState;
use crate::access::Permission;
use crate::auth::{self, Credential, Principal};
use crate::error::ApiError;

fn session_info(principal: &Principal, absolute_hours: u64) -> SessionInfo {
    let (authenticated_by, csrf_token, expires_at) = match &principal.credential {
        Credential::Session { token, created_at } => (
            "session",
            Some(auth::csrf_token(token)),
            created_at
                .checked_add(jiff::SignedDuration::from_hours(
                    i64::try_from(absolute_hours).unwrap_or(i64::MAX / 3600),
                ))
                .ok()
                .map(stored_timestamp),
        ),
        Credential::Token { .. } => ("token", None, None),
    };
    SessionInfo {
        user: principal.user.as_ref().map(views::user),
        actor: principal.actor.name.to_string(),
        role: principal.actor.role.as_str().to_owned(),
        organisation: principal.actor.organisation.to_string(),
        authenticated_by: authenticated_by.to_owned(),
        csrf_token,
        expires_at,
        permissions: Permission::of_role(principal.actor.role)
            .into_iter()
            .map(|permission| permission.as_str().to_owned())
            .collect(),
    }
}

/// Signs in with a user name and password.
///
/// Sets the `vigil_session` cookie and answers the CSRF token to send in
/// `x-csrf-token` with every change. Failures are throttled per user name
/// and per client address, and every attempt is audited.
#[utoipa::path(
    post,
    path = "/api/v1/session",
    tag = "session",
    request_body = LoginRequest,
    responses((status = 200, description = "Signed in; the session cookie is set", body = SessionInfo)),
)]
pub async fn sign_in<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    request: Request,
) -> Result<Response, ApiError> {
    let client = client_address(&request, &state.config);
    let previous_session = super::session_token_of(request.headers()).map(auth::secret_hash);
    let ApiJson(login) = ApiJson::<LoginRequest>::from_request(request, &state).await?;
    let signed_in = match sign_in_user(
        &state,
        &client,
        previous_session,
        &login.user_name,
        login.password,
    )
    .await
    {
        Ok(signed_in) => signed_in,
        Err(SignInFailure::Throttled { seconds }) => {
            let mut response = ApiError::new(
                ErrorCode::RateLimited,
                format!("too many failed sign-ins; try again in {seconds} seconds"),
            )
            .into_response();
            if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return Ok(response);
        }
        Err(SignInFailure::Refused(error)) => return Err(error),
    };
    let mut response = Json(session_info(
        &signed_in.principal,
        state.config.session_absolute_hours,
    ))
    .into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, signed_in.cookie);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// A sign-in that succeeded: who signed in, and the session cookie to set.
pub(crate) struct SignedIn {
    pub principal: Principal,
    pub cookie: HeaderValue,
}

/// Why a sign-in failed.
pub(crate) enum SignInFailure {
    /// Too many failures for the user name or the client: wait this long.
    Throttled { seconds: u64 },
    /// Wrong or unusable credentials, input out of bounds, or a failure of
    /// the server; the error's message is written for the client.
    Refused(ApiError),
}

impl From<ApiError> for SignInFailure {
    fn from(error: ApiError) -> Self {
        SignInFailure::Refused(error)
    }
}

impl From<vigil_store::StoreError> for SignInFailure {
    fn from(error: vigil_store::StoreError) -> Self {
        SignInFailure::Refused(error.into())
    }
}

/// Checks a user name and password and starts a session, for the API and
/// the dashboard's sign-in form alike: failures are throttled per user
/// name and per client address, every attempt is audited, and the session
/// the request came with (`previous_session`, the hash of its token) ends.
pub(crate) async fn sign_in_user<S: Store>(
    state: &AppState<S>,
    client: &str,
    previous_session: Option<String>,
    user_name: &str,
    password: String,
) -> Result<SignedIn, SignInFailure> {
    // Bounded before anything is looked up, counted or hashed.
    if user_name.chars().count() > MAXIMUM_USER_NAME_LENGTH {
        return Err(super::invalid(
            "user_name",
            format!("longer than {MAXIMUM_USER_NAME_LENGTH} characters"),
        )
        .into());
    }
    if password.chars().count() > auth::MAXIMUM_PASSWORD_LENGTH {
        return Err(super::invalid(
            "password",
            format!("longer than {} characters", auth::MAXIMUM_PASSWORD_LENGTH),
        )
        .into());
    }
    let record = state.store.login_record(user_name).await?;
    if let Err(wait) = state.throttle.begin(user_name, client, Instant::now()) {
        let principal_context = record
            .as_ref()
            .map(|record| ChangeContext::now(actor_of(&record.user)));
        record_failure(state, principal_context.as_ref(), "throttled", client).await;
        return Err(SignInFailure::Throttled {
            seconds: wait.as_secs().max(1),
        });
    }
    let stored_hash = record
        .as_ref()
        .and_then(|record| record.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || {
        auth::verify_password(stored_hash.as_deref(), &password)
    })
    .await
    .map_err(|error| {
        ApiError::new(ErrorCode::Internal, "the server failed; see its log").internal(error)
    })?;
    let refusal = match &record {
        None => Some("unknown user"),
        Some(record) if record.password_hash.is_none() => Some("no password set"),
        Some(_) if !matches => Some("wrong password"),
        Some(record) if record.user.disabled => Some("account disabled"),
        Some(_) => None,
    };
    if let Some(reason) = refusal {
        let context = record
            .as_ref()
            .map(|record| ChangeContext::now(actor_of(&record.user)));
        record_failure(state, context.as_ref(), reason, client).await;
        return Err(ApiError::new(
            ErrorCode::Unauthenticated,
            "the user name or password is wrong, or the account is disabled",
        )
        .into());
    }
    let record = record.ok_or_else(|| {
        ApiError::new(ErrorCode::Internal, "the server failed; see its log")
            .internal("a sign-in passed without a user")
    })?;
    state.throttle.succeeded(user_name, client);
    // Rotation: the session the request came with, if any, ends.
    if let Some(previous) = previous_session {
        let context = ChangeContext::now(actor_of(&record.user));
        state
            .store
            .end_session(Some((&context, "session.rotated")), &previous)
            .await?;
    }
    let token = auth::random_secret().map_err(|error| {
        ApiError::new(ErrorCode::Internal, "the server failed; see its log").internal(error)
    })?;
    let context = ChangeContext::now(actor_of(&record.user));
    state
        .store
        .create_session(&context, record.user.id, &auth::secret_hash(&token))
        .await?;
    let principal = Principal {
        actor: actor_of(&record.user),
        user: Some(record.user),
        credential: Credential::Session {
            token: token.clone(),
            created_at: context.at,
        },
    };
    let cookie = HeaderValue::from_str(&auth::session_cookie(
        &token,
        state.config.session_absolute_hours.saturating_mul(3600),
        state.config.cookies_are_secure(),
    ))
    .map_err(|error| {
        ApiError::new(ErrorCode::Internal, "the server failed; see its log").internal(error)
    })?;
    Ok(SignedIn { principal, cookie })
}

/// The longest user name a sign-in may give.
const MAXIMUM_USER_NAME_LENGTH: usize = 256;

/// The client's address: the TCP peer, or, when the peer is a configured
/// trusted proxy, the last address that proxy added to `X-Forwarded-For`.
pub(crate) fn client_address(request: &Request, config: &crate::ServerConfig) -> String {
    let Some(peer) = request
        .extensions()
        .get::<ConnectInfo<crate::tls::ClientAddress>>()
        .map(|info| info.0.0.ip())
    else {
        return "unknown".to_owned();
    };
    if !config.trusted_proxies.contains(&peer) {
        return peer.to_string();
    }
    request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|address| address.trim().parse::<std::net::IpAddr>().ok())
        .next_back()
        .map_or_else(|| peer.to_string(), |address| address.to_string())
}

fn actor_of(user: &vigil_store::UserRecord) -> Actor {
    Actor {
        name: user.user_name.clone(),
        role: user.role,
        organisation: user.organisation.clone(),
    }
}

/// Audits a failed sign-in: as the user when the name is known, else as
/// the anonymous actor. The attempted name of an unknown user is not
/// recorded (it may be a mistyped password).
async fn record_failure<S: Store>(
    state: &AppState<S>,
    context: Option<&ChangeContext>,
    reason: &str,
    client: &str,
) {
    let payload = serde_json::json!({"reason": reason, "client": client});
    let context = match context {
        Some(context) => context.clone(),
        None => match state
            .store
            .organisations()
            .await
            .map(vigil_domain::OrganisationTree::new)
        {
            Ok(Ok(tree)) => super::anonymous_context(&tree),
            _ => return,
        },
    };
    if let Err(error) = state
        .store
        .record_event(&context, "session.login_failed", "session", &payload)
        .await
    {
        tracing::error!(%error, "a failed sign-in could not be audited");
    }
}

/// Who the caller is, their permissions and, for a session, its CSRF token.
#[utoipa::path(
    get,
    path = "/api/v1/session",
    tag = "session",
    responses((status = 200, description = "The caller", body = SessionInfo)),
)]
pub async fn current<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
) -> Json<SessionInfo> {
    Json(session_info(
        &principal,
        state.config.session_absolute_hours,
    ))
}

/// Signs out: the session ends and the cookie is removed.
#[utoipa::path(
    delete,
    path = "/api/v1/session",
    tag = "session",
    responses((status = 204, description = "Signed out")),
)]
pub async fn sign_out<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
) -> Result<Response, ApiError> {
    let Some(token) = principal.session_token() else {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "an API token does not sign out; revoke it with DELETE /api/v1/tokens/{id}",
        ));
    };
    let context = principal.context();
    state
        .store
        .end_session(
            Some((&context, "session.logout")),
            &auth::secret_hash(token),
        )
        .await?;
    let cookie = HeaderValue::from_str(&auth::expired_session_cookie(
        state.config.cookies_are_secure(),
    ))
    .map_err(|error| {
        ApiError::new(ErrorCode::Internal, "the server failed; see its log").internal(error)
    })?;
    Ok((
        axum::http::StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, cookie)],
    )
        .into_response())
}

/// Changes the signed-in user's own password, given the current one. Every
/// session of the user ends, this one included: sign in again with the new
/// password. Wrong current passwords count against the sign-in throttle.
#[utoipa::path(
    put,
    path = "/api/v1/session/password",
    tag = "session",
    request_body = OwnPasswordRequest,
    responses((status = 204, description = "Changed; signed out everywhere")),
)]
pub async fn change_own_password<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    Extension(principal): Extension<Principal>,
    request: Request,
) -> Result<Response, ApiError> {
    let client = client_address(&request, &state.config);
    let ApiJson(body) = ApiJson::<OwnPasswordRequest>::from_request(request, &state).await?;
    let Some(user) = principal.user.clone() else {
        return Err(ApiError::new(
            ErrorCode::Refused,
            "an API token has no password; sign in as a person to change yours",
        ));
    };
    if body.current_password.chars().count() > auth::MAXIMUM_PASSWORD_LENGTH {
        return Err(super::invalid("current_password", "longer than allowed"));
    }
    auth::check_new_password(&body.new_password)
        .map_err(|error| super::invalid("new_password", error))?;
    if let Err(wait) = state
        .throttle
        .begin(user.user_name.as_str(), &client, Instant::now())
    {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            format!(
                "too many wrong passwords; try again in {} seconds",
                wait.as_secs().max(1)
            ),
        ));
    }
    let stored = state
        .store
        .login_record(user.user_name.as_str())
        .await?
        .and_then(|record| record.password_hash);
    let current = body.current_password;
    let new_password = body.new_password;
    let outcome = tokio::task::spawn_blocking(move || {
        if auth::verify_password(stored.as_deref(), &current) {
            auth::hash_password(&new_password).map(Some)
        } else {
            Ok(None)
        }
    })
    .await
    .map_err(|error| {
        ApiError::new(ErrorCode::Internal, "the server failed; see its log").internal(error)
    })?
    .map_err(|error| {
        ApiError::new(ErrorCode::Internal, "the server failed; see its log").internal(error)
    })?;
    let Some(hash) = outcome else {
        record_failure(
            &state,
            Some(&principal.context()),
            "wrong current password",
            &client,
        )
        .await;
        return Err(ApiError::new(
            ErrorCode::Refused,
            "the current password is wrong",
        ));
    };
    state.throttle.succeeded(user.user_name.as_str(), &client);
    state
        .store
        .set_password_hash(&principal.context(), user.id, &hash)
        .await?;
    let cookie = HeaderValue::from_str(&auth::expired_session_cookie(
        state.config.cookies_are_secure(),
    ))
    .map_err(|error| {
        ApiError::new(ErrorCode::Internal, "the server failed; see its log").internal(error)
    })?;
    Ok((
        axum::http::StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, cookie)],
    )
        .into_response())
}
