//! The server over real loopback sockets: HTTPS with rustls, the client
//! address recorded for failed sign-ins, and canary secrets and identifiers
//! that must appear in no log line and no error body.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use support::{Auth, Harness, PASSWORD, user_name};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vigil_domain::Role;
use vigil_server::ServerConfig;
use vigil_server::config::TlsFiles;
use vigil_store::Store;

/// Serves the harness's store on a loopback port; abort the task to stop.
async fn serve(
    harness: &Harness,
    config: ServerConfig,
) -> (
    std::net::SocketAddr,
    tokio::task::JoinHandle<Result<(), vigil_server::ServeError>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let server = tokio::spawn(vigil_server::serve_on(
        listener,
        harness.store.clone(),
        config,
    ));
    (address, server)
}

/// Sends one HTTP/1.1 request over any stream and reads the whole answer.
async fn exchange<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> String {
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    // A TLS peer may close without close_notify once it has answered.
    let _ = stream.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_is_served_with_the_configured_certificate_and_secure_cookies() {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let directory = tempfile::tempdir().expect("temporary directory");
    let certificate = directory.path().join("cert.pem");
    let private_key = directory.path().join("key.pem");
    std::fs::write(&certificate, certified.cert.pem()).expect("write certificate");
    std::fs::write(&private_key, certified.signing_key.serialize_pem()).expect("write key");
    let config = ServerConfig {
        tls: Some(TlsFiles {
            certificate,
            private_key,
        }),
        ..ServerConfig::default()
    };
    let harness = Harness::with_config(config.clone()).await;
    harness.set_password(&user_name("a", Role::Viewer)).await;
    let (address, server) = serve(&harness, config).await;

    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots
        .add(certified.cert.der().clone())
        .expect("trust the certificate");
    let client = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocols")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let connect = || async {
        let tcp = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
        connector.connect(name, tcp).await.expect("handshake")
    };
    let mut stream = connect().await;
    let health = exchange(&mut stream, "GET", "/healthz", None).await;
    assert!(health.starts_with("HTTP/1.1 200 OK"), "{health}");
    let mut stream = connect().await;
    let login =
        json!({"user_name": user_name("a", Role::Viewer), "password": PASSWORD}).to_string();
    let signed_in = exchange(&mut stream, "POST", "/api/v1/session", Some(&login)).await;
    assert!(signed_in.starts_with("HTTP/1.1 200 OK"), "{signed_in}");
    let cookie = signed_in
        .lines()
        .find(|line| line.to_ascii_lowercase().starts_with("set-cookie:"))
        .expect("a session cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");

    // Plain HTTP to the HTTPS port gets no HTTP answer.
    let mut plain = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let answer = exchange(&mut plain, "GET", "/healthz", None).await;
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sign_in_records_the_client_address() {
    let harness = Harness::new().await;
    let (address, server) = serve(&harness, ServerConfig::default()).await;
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let login = json!({"user_name": "nobody", "password": "not a password"}).to_string();
    let answer = exchange(&mut stream, "POST", "/api/v1/session", Some(&login)).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let trail = harness.store.audit_trail().await.expect("trail");
    let failure = trail
        .entries
        .iter()
        .find(|entry| entry.record.action == "session.login_failed")
        .expect("audited");
    assert_eq!(failure.record.actor, "anonymous");
    let payload: serde_json::Value =
        serde_json::from_str(&failure.record.payload).expect("payload");
    assert_eq!(payload["client"], "127.0.0.1");
    assert_eq!(payload["reason"], "unknown user");
    assert!(
        !failure.record.payload.contains("nobody"),
        "an unknown name may be a mistyped password"
    );
    server.abort();
}

/// Collects every log line written while it is the default subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn canary_secrets_and_identifiers_reach_no_log_line_and_no_error_body() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let harness = Harness::new().await;
    let password = "CANARY-PASSWORD-correct-horse";
    let wrong_password = "CANARY-WRONG-PASSWORD-battery";
    let patient = "CANARY-PATIENT-9434765919";
    let viewer = user_name("a", Role::Viewer);
    let admin = harness.bearer(Role::OrganisationAdmin);
    let token_secret = match &admin {
        Auth::Bearer(secret) => secret.clone(),
        _ => unreachable!("a bearer token"),
    };
    let mut errors = Vec::new();
    // A password set, used, and mistyped.
    let set = harness
        .call(
            "PUT",
            &format!("/api/v1/users/{}/password", harness.user_a),
            &admin,
            Some(json!({"password": password})),
        )
        .await;
    assert_eq!(
        set.status,
        axum::http::StatusCode::NO_CONTENT,
        "{}",
        set.text
    );
    let short = harness
        .call(
            "PUT",
            &format!("/api/v1/users/{}/password", harness.user_a),
            &admin,
            Some(json!({"password": "CANARY-x"})),
        )
        .await;
    assert_eq!(
        short.status,
        axum::http::StatusCode::BAD_REQUEST,
        "{}",
        short.text
    );
    errors.push(short.text);
    let good = harness
        .call(
            "POST",
            "/api/v1/session",
            &Auth::None,
            Some(json!({"user_name": viewer, "password": password})),
        )
        .await;
    assert_eq!(good.status, axum::http::StatusCode::OK, "{}", good.text);
    for user in [viewer.as_str(), "nobody", wrong_password] {
        let bad = harness
            .call(
                "POST",
                "/api/v1/session",
                &Auth::None,
                Some(json!({"user_name": user, "password": wrong_password})),
            )
            .await;
        errors.push(bad.text);
    }
    // Tokens, good and bad.
    let bad_token = Auth::Bearer("vigil_CANARY-TOKEN-0123456789".to_owned());
    errors.push(
        harness
            .call("GET", "/api/v1/users", &bad_token, None)
            .await
            .text,
    );
    errors.push(
        harness
            .call("GET", "/api/v1/audit", &harness.bearer(Role::Viewer), None)
            .await
            .text,
    );
    let created = harness
        .call(
            "POST",
            "/api/v1/tokens",
            &admin,
            Some(json!({"name": "ingest", "organisation": "trust-a", "role": "viewer"})),
        )
        .await;
    let created_secret = created.json["secret"].as_str().expect("secret").to_owned();
    // Patient identifiers in case tables that fail: a bad score, an unknown
    // column.
    let mut failing = format!("patient_id,label,score\n{patient}-1,1,0.9\n");
    for row in 0..40 {
        failing.push_str(&format!("{patient}-{row},{},0.{}\n", row % 2, row % 9 + 1));
    }
    failing.push_str(&format!("{patient}-x,1,not-a-score\n"));
    let path = format!("/api/v1/deployments/{}/evaluations", harness.deployment_a);
    let refused = harness
        .call(
            "POST",
            &path,
            &harness.bearer(Role::AiLead),
            Some(json!({"cases_csv": failing})),
        )
        .await;
    assert_eq!(
        refused.status,
        axum::http::StatusCode::BAD_REQUEST,
        "{}",
        refused.text
    );
    errors.push(refused.text);
    let unknown_column = harness
        .call(
            "POST",
            &path,
            &harness.bearer(Role::AiLead),
            Some(json!({"cases_csv": failing, "score_column": "nothing"})),
        )
        .await;
    errors.push(unknown_column.text);

    let logged = String::from_utf8(logs.0.lock().expect("log buffer").clone()).expect("text");
    assert!(
        logged.contains("/api/v1/session"),
        "the requests were logged: {logged}"
    );
    assert!(
        logged.contains("request_id="),
        "log lines carry the request id: {logged}"
    );
    for canary in [
        password,
        wrong_password,
        patient,
        "CANARY-TOKEN",
        "CANARY-x",
        token_secret.as_str(),
        &token_secret[6..],
        created_secret.as_str(),
    ] {
        assert!(!logged.contains(canary), "{canary} is in the log");
        for error in &errors {
            assert!(
                !error.contains(canary),
                "{canary} is in an error body: {error}"
            );
        }
        let trail = harness.store.audit_trail().await.expect("trail");
        for entry in trail.entries {
            assert!(
                !entry.record.payload.contains(canary),
                "{canary} is in the audit trail"
            );
            assert!(
                !entry.record.actor.contains(canary),
                "{canary} is in the audit trail"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_stalls_times_out_in_the_error_shape() {
    let config = ServerConfig {
        request_timeout_seconds: 1,
        ..ServerConfig::default()
    };
    let harness = Harness::with_config(config.clone()).await;
    let (address, server) = serve(&harness, config).await;
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    // A body announced but never sent.
    stream
        .write_all(b"POST /api/v1/session HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .await
        .expect("write");
    let mut response = vec![0u8; 4096];
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read(&mut response),
    )
    .await
    .expect("an answer within the timeout")
    .expect("read");
    let response = String::from_utf8_lossy(&response[..read]).into_owned();
    assert!(response.starts_with("HTTP/1.1 504"), "{response}");
    assert!(response.contains(r#""code":"timeout""#), "{response}");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxy_names_the_client_and_an_untrusted_one_does_not() {
    for (trusted, expected) in [(true, "198.51.100.7"), (false, "127.0.0.1")] {
        let config = ServerConfig {
            trusted_proxies: if trusted {
                vec!["127.0.0.1".parse().expect("address")]
            } else {
                Vec::new()
            },
            ..ServerConfig::default()
        };
        let harness = Harness::with_config(config.clone()).await;
        let (address, server) = serve(&harness, config).await;
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        let body = json!({"user_name": "nobody", "password": "not a password"}).to_string();
        let request = format!(
            "POST /api/v1/session HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\n\
             X-Forwarded-For: 203.0.113.9, 198.51.100.7\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response).await;
        assert!(response.starts_with("HTTP/1.1 401"), "{response}");
        let trail = harness.store.audit_trail().await.expect("trail");
        let failure = trail
            .entries
            .iter()
            .find(|entry| entry.record.action == "session.login_failed")
            .expect("audited");
        let payload: serde_json::Value =
            serde_json::from_str(&failure.record.payload).expect("payload");
        assert_eq!(payload["client"], expected, "trusted: {trusted}");
        server.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hl7_listener_answers_only_its_allowed_addresses() {
    let harness = Harness::new().await;
    let listen = |hosts: Vec<std::net::IpAddr>| {
        let store = harness.store.clone();
        async move {
            let config = vigil_server::config::Hl7Config {
                bind: "127.0.0.1:0".parse().expect("address"),
                hosts,
                trust: vigil_domain::Code::parse("trust-a").expect("code"),
                time_zone: jiff::tz::TimeZone::UTC,
            };
            let key =
                vigil_server::config::TrustKey(vigil_domain::PseudonymKey::from_bytes([2; 32]));
            vigil_server::mllp::start(store, &config, key, vigil_fhir::Routes::default())
                .await
                .expect("listen")
        }
    };
    let message = b"\x0bMSH|^~\\&|PAS|A|VIGIL|A|20261130101500||ADT^A01|M1|P|2.4\rPID|1\r\x1c\r";
    let exchange = |address: std::net::SocketAddr| async move {
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        stream.write_all(message).await.expect("write");
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            stream.read_to_end(&mut answer),
        )
        .await;
        String::from_utf8_lossy(&answer).into_owned()
    };
    // Loopback allowed: the admission message is rejected by its ACK.
    let allowed = listen(vec!["127.0.0.1".parse().expect("ip")]).await;
    let answer = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut stream = tokio::net::TcpStream::connect(allowed)
            .await
            .expect("connect");
        stream.write_all(message).await.expect("write");
        let mut answer = vec![0u8; 512];
        let read = stream.read(&mut answer).await.expect("read");
        String::from_utf8_lossy(&answer[..read]).into_owned()
    })
    .await
    .expect("an answer");
    assert!(answer.contains("MSA|AR|M1|"), "{answer}");
    // Only another address allowed: the connection is closed unanswered.
    let elsewhere = listen(vec!["10.0.0.9".parse().expect("ip")]).await;
    assert_eq!(exchange(elsewhere).await, "");
}
