//! Vigil's HTTP server: the only crate that knows HTTP.
//!
//! [`router`] builds the application over any [`Store`]; [`serve`] binds it
//! according to the [`config::ServerConfig`] and its safety rules. Every
//! response that is an error has the one shape of `vigil-api-types`, with a
//! stable code; internal detail goes to the log under the request id and
//! never to the client. Routes are denied by default: a path that no route
//! declares answers `not_found` in that shape.
//!
//! The operational endpoints are `/healthz` (liveness), `/readyz` (the
//! database answers) and `/metrics` (Prometheus text). The JSON API under
//! `/api/v1/` ([`api`]) authenticates every request (session cookie or API
//! token, [`auth`]) and authorises it against the permission its route
//! declares ([`access`]); its description is at `/api/v1/openapi.json`
//! ([`openapi`]). Under TLS ([`tls`]) the server speaks HTTPS itself.

pub mod access;
pub mod api;
pub mod auth;
pub mod background;
pub mod config;
pub mod dimse;
mod error;
mod intake;
mod metrics;
pub mod mllp;
pub mod openapi;
pub mod tls;
mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use vigil_api_types::{ErrorCode, Health};
use vigil_store::Store;

pub use config::{ConfigError, ServerConfig};
pub use error::ApiError;
use metrics::Metrics;

/// The header that carries the request id, set if the client sent none.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// What every handler can reach.
#[derive(Debug)]
pub(crate) struct AppState<S> {
    store: S,
    metrics: Metrics,
    config: ServerConfig,
    throttle: auth::Throttle,
}

/// How long sign-in failures are remembered by the throttle.
const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The application over `store`, with its middleware: request ids, tracing,
/// request metrics, response compression, request decompression with the
/// body limit applied to the decompressed body, and a timeout.
pub fn router<S: Store + 'static>(store: S, config: &ServerConfig) -> Router {
    let state = Arc::new(AppState {
        store,
        metrics: Metrics::new(env!("CARGO_PKG_VERSION")),
        config: config.clone(),
        throttle: auth::Throttle::new(
            THROTTLE_WINDOW,
            config.login_failures_per_user,
            config.login_failures_per_client,
        ),
    });
    let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
    Router::new()
        .merge(api::router(Arc::clone(&state)))
        .merge(web::router(Arc::clone(&state)))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz::<S>))
        .route("/metrics", get(metrics_text::<S>))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The extractors' own default (2 MiB) gives way to the configured
        // limit, which the layers below enforce.
        .layer(axum::extract::DefaultBodyLimit::max(
            config.request_body_limit_bytes,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            Duration::from_secs(config.request_timeout_seconds),
        ))
        // The limit sees the body after decompression, so that a small
        // compressed body cannot expand past it; the layer outside it
        // bounds the compressed body too.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            config.request_body_limit_bytes,
        ))
        .layer(tower_http::decompression::RequestDecompressionLayer::new())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            config.request_body_limit_bytes,
        ))
        // Outside the limits and the timeout, so that their answers get the
        // one error shape and are counted; inside compression, so that it
        // reads bodies as written.
        .layer(middleware::from_fn(shape_framework_errors))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            count_request::<S>,
        ))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// The span every log line of a request is recorded in: method, path (never
/// the query, which is not logged) and request id.
fn request_span(request: &Request) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id,
    )
}

async fn healthz() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

async fn readyz<S: Store>(
    State(state): State<Arc<AppState<S>>>,
) -> Result<axum::Json<Health>, ApiError> {
    state.store.ping().await.map_err(|error| {
        ApiError::new(ErrorCode::Unavailable, "the database is not answering").internal(error)
    })?;
    Ok(axum::Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }))
}

async fn metrics_text<S: Store>(State(state): State<Arc<AppState<S>>>) -> Response {
    match state.metrics.encode() {
        Ok(text) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(error) => ApiError::new(ErrorCode::Internal, "the metrics could not be encoded")
            .internal(error)
            .into_response(),
    }
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "there is nothing at this path")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this method is not allowed on this path",
    )
}

/// Counts each request by method, matched route and status.
async fn count_request<S: Store>(
    State(state): State<Arc<AppState<S>>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    // Unmatched paths are counted under one label, so that probing many
    // paths cannot grow the metrics without bound.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    state
        .metrics
        .record(&method, &route, response.status().as_u16());
    response
}

/// Gives responses produced by the framework's layers (body too large,
/// timeout) the one error shape.
async fn shape_framework_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    // JSON errors of the API and the dashboard's own HTML pages are shaped
    // already.
    let shaped = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|value| {
            value.as_bytes().starts_with(b"application/json")
                || value.as_bytes().starts_with(b"text/html")
        });
    if shaped || !(response.status().is_client_error() || response.status().is_server_error()) {
        return response;
    }
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            ErrorCode::PayloadTooLarge,
            "the request body is larger than the server accepts",
        )
        .into_response(),
        StatusCode::GATEWAY_TIMEOUT | StatusCode::REQUEST_TIMEOUT => ApiError::new(
            ErrorCode::Timeout,
            "the request took longer than the server allows",
        )
        .into_response(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "the request's content encoding or type is not accepted (gzip and JSON are)",
        )
        .into_response(),
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
            // The framework's rejection text names the bad path segment or
            // query parameter; it holds no server detail.
            let text = axum::body::to_bytes(response.into_body(), 4096)
                .await
                .ok()
                .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
                .filter(|text| !text.is_empty())
                .unwrap_or_else(|| "the request could not be read".to_owned());
            ApiError::new(ErrorCode::InvalidRequest, text).into_response()
        }
        _ => response,
    }
}

/// Why the server stopped or could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
}

/// Binds and serves until Ctrl-C or SIGTERM, refusing an unsafe bind
/// address first (see [`ServerConfig::check_bind`]).
pub async fn serve<S: Store + Clone + 'static>(
    store: S,
    config: ServerConfig,
) -> Result<(), ServeError> {
    config.check_bind()?;
    if config.insecure_http_behind_proxy && !config.bind.ip().is_loopback() {
        tracing::warn!(
            bind = %config.bind,
            "serving plain HTTP on a non-loopback address because --insecure-http-behind-proxy was given: \
             only do this behind a TLS-terminating proxy on a trusted network"
        );
    }
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| ServeError::Bind {
            address: config.bind,
            source,
        })?;
    serve_on(listener, store, config).await
}

/// Serves on a listener already bound (HTTPS when TLS is configured) until
/// Ctrl-C or SIGTERM.
pub async fn serve_on<S: Store + Clone + 'static>(
    listener: tokio::net::TcpListener,
    store: S,
    config: ServerConfig,
) -> Result<(), ServeError> {
    let address = listener.local_addr()?;
    if let Some(dicom) = &config.dicom {
        // Checked when the configuration was loaded.
        let Some(key) = config.pseudonym_key.clone() else {
            return Err(ServeError::Io(std::io::Error::other(
                "the DICOM listener needs the Trust's pseudonymisation key",
            )));
        };
        dimse::start(store.clone(), dicom, key).map_err(|source| ServeError::Bind {
            address: dicom.bind,
            source,
        })?;
    }
    if let Some(hl7) = &config.hl7 {
        let Some(key) = config.pseudonym_key.clone() else {
            return Err(ServeError::Io(std::io::Error::other(
                "the HL7 listener needs the Trust's pseudonymisation key",
            )));
        };
        mllp::start(store.clone(), hl7, key, config.report_routes.clone())
            .await
            .map_err(|source| ServeError::Bind {
                address: hl7.bind,
                source,
            })?;
    }
    // The background work stops with the runtime when serving ends.
    tokio::spawn(background::delivery_loop(
        store.clone(),
        Duration::from_secs(2),
        Duration::from_secs(config.webhook_retry_seconds.max(1)),
    ));
    if config.monitor_interval_seconds > 0 {
        tokio::spawn(background::monitor_loop(
            store.clone(),
            Duration::from_secs(config.monitor_interval_seconds),
        ));
    }
    let application =
        router(store, &config).into_make_service_with_connect_info::<tls::ClientAddress>();
    match &config.tls {
        Some(files) => {
            let acceptor = tls::acceptor(files)?;
            tracing::info!(%address, "vigil is listening (HTTPS)");
            axum::serve(tls::TlsListener::new(listener, acceptor), application)
                .with_graceful_shutdown(shutdown_signal())
                .await?;
        }
        None => {
            tracing::info!(%address, "vigil is listening (HTTP)");
            axum::serve(listener, application)
                .with_graceful_shutdown(shutdown_signal())
                .await?;
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
