//! The server's operational endpoints and error shape, in process
//! (`Router::oneshot`) and over a real socket.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use vigil_server::{ServerConfig, router};
use vigil_store_sqlite::SqliteStore;

async fn store() -> (SqliteStore, tempfile::TempDir) {
    let directory = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(&directory.path().join("vigil.db"))
        .await
        .expect("open");
    (store, directory)
}

/// Sends one request through the router and returns status, headers and body.
async fn check(
    config: &ServerConfig,
    method: &str,
    path: &str,
    body: Vec<u8>,
) -> (StatusCode, axum::http::HeaderMap, serde_json::Value, String) {
    let (store, _directory) = store().await;
    let response = router(store, config)
        .oneshot(
            Request::builder()
                .method(method)
                .uri(path)
                .body(Body::from(body))
                .expect("request"),
        )
        .await
        .expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, headers, json, text)
}

#[tokio::test]
async fn liveness_and_readiness_answer() {
    let config = ServerConfig::default();
    for path in ["/healthz", "/readyz"] {
        let (status, headers, json, _) = check(&config, "GET", path, Vec::new()).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(json["status"], "ok");
        assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
        assert!(
            headers.contains_key("x-request-id"),
            "{path} carries a request id"
        );
    }
}

#[tokio::test]
async fn every_error_has_the_one_shape() {
    let config = ServerConfig {
        request_body_limit_bytes: 16,
        ..ServerConfig::default()
    };
    for (method, path, body, status, code) in [
        (
            "GET",
            "/api/v1/no-such-thing",
            Vec::new(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "GET",
            "/api/v1/deployments",
            Vec::new(),
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            "GET",
            "/api/v1/deployments/not-a-number",
            Vec::new(),
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        ),
        (
            "GET",
            "/nothing-here",
            Vec::new(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "POST",
            "/healthz",
            Vec::new(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ] {
        let (actual, _, json, text) = check(&config, method, path, body).await;
        assert_eq!(actual, status, "{method} {path}: {text}");
        assert_eq!(json["error"]["code"], code, "{method} {path}: {text}");
        assert!(
            json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let (store, _directory) = store().await;
    let app = router(store, &ServerConfig::default());
    for path in ["/healthz", "/healthz", "/missing"] {
        app.clone()
            .oneshot(
                Request::builder()
                    .uri(path)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
    }
    let response = app
        .oneshot(
            Request::builder()
                .uri("/metrics")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let text = String::from_utf8(
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec(),
    )
    .expect("text");
    assert!(
        text.contains(r#"vigil_http_requests_total{method="GET",route="/healthz",status="200"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"vigil_http_requests_total{method="GET",route="unmatched",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            r#"vigil_build_info{{version="{}"}} 1"#,
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let (store, directory) = store().await;
    store.close().await;
    drop(directory);
    let response = router(store, &ServerConfig::default())
        .oneshot(
            Request::builder()
                .uri("/readyz")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let json: serde_json::Value = serde_json::from_slice(
        &axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body"),
    )
    .expect("JSON");
    assert_eq!(json["error"]["code"], "unavailable");
    let message = json["error"]["message"].as_str().expect("message");
    assert!(
        !message.contains("closed") && !message.contains("pool"),
        "no internal detail: {message}"
    );
}

/// A real server on a loopback socket, spoken to with plain HTTP/1.1.
#[tokio::test]
async fn a_real_socket_serves_health() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (store, _directory) = store().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let app = router(store, &ServerConfig::default());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    server.abort();
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.contains("\"status\":\"ok\""), "{response}");
}
