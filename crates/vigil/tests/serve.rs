//! `vigil serve` end to end through the real binary: a password and an API
//! token made on the command line, then used over a loopback socket.

#[path = "support/server.rs"]
mod server;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use server::{Server, free_port, http, wait_for_port};

fn vigil(db: &str, arguments: &[&str], input: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(arguments)
        .env("VIGIL_DB", db)
        .env_remove("VIGIL_ACTOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the vigil binary runs");
    if let Some(input) = input {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("vigil finishes")
}

#[track_caller]
fn ok(db: &str, arguments: &[&str], input: Option<&str>) -> String {
    let output = vigil(db, arguments, input);
    assert!(
        output.status.success(),
        "vigil {arguments:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn passwords_and_tokens_made_on_the_command_line_open_the_api() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let db = directory.path().join("vigil.db");
    let db = db.to_str().expect("path");
    let organisations =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/organisations.toml");
    ok(
        db,
        &[
            "init",
            "--organisations",
            organisations.to_str().expect("path"),
            "--admin",
            "admin",
        ],
        None,
    );
    let short = vigil(
        db,
        &[
            "user",
            "password",
            "--actor",
            "admin",
            "--user-name",
            "admin",
        ],
        Some("short\n"),
    );
    assert_eq!(short.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12"));
    ok(
        db,
        &[
            "user",
            "password",
            "--actor",
            "admin",
            "--user-name",
            "admin",
        ],
        Some("a long enough password\n"),
    );
    let created = ok(
        db,
        &[
            "--json",
            "token",
            "create",
            "--actor",
            "admin",
            "--name",
            "ci",
            "--organisation",
            "rw3",
            "--token-role",
            "viewer",
        ],
        None,
    );
    let created: serde_json::Value = serde_json::from_str(&created).expect("JSON");
    let secret = created["secret"].as_str().expect("secret").to_owned();
    let misplaced = vigil(
        db,
        &[
            "token",
            "create",
            "--actor",
            "admin",
            "--name",
            "x",
            "--organisation",
            "rw3",
            "--token-role",
            "national_admin",
        ],
        None,
    );
    assert_eq!(misplaced.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&misplaced.stderr).contains("belongs to the nation"));
    let listed = ok(db, &["token", "list"], None);
    assert!(listed.contains("ci (viewer, rw3)"), "{listed}");
    assert!(!listed.contains(&secret));

    let key = directory.path().join("pseudonym.key");
    let key = key.to_str().expect("path");
    ok(db, &["keygen", "--out", key], None);
    let port = free_port();
    let address = format!("127.0.0.1:{port}");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(["serve", "--bind", &address])
            .env("VIGIL_DB", db)
            .env("VIGIL_PSEUDONYM_KEY_FILE", key)
            .env("VIGIL_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("vigil serve starts"),
    );
    wait_for_port(port);
    let login = r#"{"user_name": "admin", "password": "a long enough password"}"#;
    let answer = http(
        port,
        "POST",
        "/api/v1/session",
        &[("Content-Type", "application/json")],
        login,
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"role\":\"national_admin\""), "{answer}");
    let bearer = format!("Bearer {secret}");
    let me = http(
        port,
        "GET",
        "/api/v1/session",
        &[("Authorization", &bearer)],
        "",
    );
    assert!(me.starts_with("HTTP/1.1 200"), "{me}");
    assert!(me.contains("\"organisation\":\"rw3\""), "{me}");

    // Revoked on the command line, refused by the running server at once.
    ok(
        db,
        &[
            "token",
            "revoke",
            "--actor",
            "admin",
            &created["id"].to_string(),
        ],
        None,
    );
    let refused = http(
        port,
        "GET",
        "/api/v1/session",
        &[("Authorization", &bearer)],
        "",
    );
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    // A disabled administrator can no longer sign in.
    ok(
        db,
        &[
            "user",
            "add",
            "--actor",
            "admin",
            "--user-name",
            "second",
            "--display-name",
            "Second",
            "--user-role",
            "national_admin",
            "--organisation",
            "england",
        ],
        None,
    );
    ok(
        db,
        &[
            "user",
            "disable",
            "--actor",
            "second",
            "--user-name",
            "admin",
        ],
        None,
    );
    let disabled = http(
        port,
        "POST",
        "/api/v1/session",
        &[("Content-Type", "application/json")],
        login,
    );
    assert!(disabled.starts_with("HTTP/1.1 401"), "{disabled}");

    // A file of events sent over the API by `vigil ingest --server`, with a
    // data feed's token; the server pseudonymises with its key.
    let registrar = ["--actor", "second"];
    ok(
        db,
        &[
            &["product", "add"],
            &registrar[..],
            &[
                "--vendor",
                "Acme",
                "--name",
                "Triage",
                "--intended-purpose",
                "Triage",
                "--modality",
                "radiography",
                "--body-part",
                "chest",
                "--task",
                "triage",
                "--class",
                "IIa",
                "--marking",
                "UKCA",
            ],
        ]
        .concat(),
        None,
    );
    ok(
        db,
        &[
            &["version", "add"],
            &registrar[..],
            &[
                "--product",
                "1",
                "--version",
                "1.0",
                "--released",
                "2026-06-01",
                "--notes",
                "first",
                "--change",
                "initial",
            ],
        ]
        .concat(),
        None,
    );
    ok(
        db,
        &[
            &["deployment", "add"],
            &registrar[..],
            &[
                "--version",
                "1",
                "--site",
                "rw3-main",
                "--team",
                "Imaging AI",
                "--threshold",
                "default=0.5",
            ],
        ]
        .concat(),
        None,
    );
    let feed = ok(
        db,
        &[
            "--json",
            "token",
            "create",
            "--actor",
            "second",
            "--name",
            "pacs feed",
            "--organisation",
            "rw3",
            "--token-role",
            "ai_lead",
        ],
        None,
    );
    let feed: serde_json::Value = serde_json::from_str(&feed).expect("JSON");
    let feed = feed["secret"].as_str().expect("secret").to_owned();
    let events = directory.path().join("events.ndjson");
    let lines: Vec<String> = (0..25)
        .map(|id| format!(r#"{{"event_id": "e{id}", "case_id": "ACC{id}", "occurred_at": "2026-11-30T10:00:00Z", "model_version": "1.0", "score": 0.{id:02}}}"#))
        .collect();
    std::fs::write(&events, lines.join("\n")).expect("write");
    let server_url = format!("http://127.0.0.1:{port}");
    let send = |token: &str| {
        Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args([
                "ingest",
                events.to_str().expect("path"),
                "--deployment",
                "1",
                "--server",
                &server_url,
                "--batch-rows",
                "10",
            ])
            .env("VIGIL_TOKEN", token)
            .env_remove("VIGIL_ACTOR")
            .output()
            .expect("vigil runs")
    };
    let sent = send(&feed);
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&sent.stdout),
        "25 events in 3 batches: 25 stored, 0 already stored\n"
    );
    let again = send(&feed);
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        "25 events in 3 batches: 0 stored, 25 already stored\n"
    );
    let refused = send("vigil_not-a-token");
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("the server refused it (HTTP 401)"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
