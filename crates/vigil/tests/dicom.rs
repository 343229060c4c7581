//! `vigil serve` with its DICOM listener, end to end: dcmtk's storescu
//! sends an image and AI results; the results become events of the
//! deployment (with the image's acquisition metadata), the unroutable one
//! waits in quarantine, a resend changes nothing, a caller of another Trust
//! cannot store into this Trust's deployment, and the database holds no
//! identifier of any object. Skipped with a notice without dcmtk (unless
//! `VIGIL_REQUIRE_DCMTK` is set, as `.ci/run` does not need to: it installs
//! dcmtk).

#[path = "support/server.rs"]
mod server;
mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use server::{Server, free_port, http, wait_for_port};
use support::{set_up_database, vigil};

fn dicom_file(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../vigil-dicom/tests/data")
        .join(name)
        .display()
        .to_string()
}

fn dcmtk_available() -> bool {
    let found = Command::new("storescu").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("VIGIL_REQUIRE_DCMTK").is_none(),
            "VIGIL_REQUIRE_DCMTK is set but dcmtk's storescu is not installed"
        );
        eprintln!(
            "skipping the DICOM listener test: dcmtk is not installed (apt-get install dcmtk)"
        );
    }
    found
}

/// Sends files with storescu as `calling`; returns whether every store
/// succeeded and what storescu printed.
fn store(port: u16, calling: &str, files: &[String]) -> (bool, String) {
    let port = port.to_string();
    // -R proposes exactly the classes of the files sent (dcmtk's default
    // list lacks Comprehensive 3D SR).
    let mut arguments = vec!["-R", "-aet", calling, "-aec", "VIGIL", "127.0.0.1", &port];
    arguments.extend(files.iter().map(String::as_str));
    let output = Command::new("storescu")
        .args(&arguments)
        .output()
        .expect("storescu");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), printed)
}

/// The JSON body of an HTTP answer that must be 200.
fn json_of(answer: &str) -> serde_json::Value {
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let body = answer.split("\r\n\r\n").nth(1).expect("body");
    serde_json::from_str(body).expect("JSON")
}

#[test]
fn results_sent_over_dimse_become_events_and_the_rest_waits_in_quarantine() {
    if !dcmtk_available() {
        return;
    }
    let directory = tempfile::tempdir().expect("temporary directory");
    let database = directory.path().join("vigil.db");
    let key = directory.path().join("pseudonym.key");
    let token = set_up_database(&database, &key);
    let (http_port, dicom_port) = (free_port(), free_port());
    let config = directory.path().join("vigil.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[dicom]
bind = "127.0.0.1:{dicom_port}"
ae_title = "VIGIL"

[[dicom.callers]]
ae_title = "AI_BOX"
hosts = ["127.0.0.1"]
trust = "rw3"

[[dicom.callers]]
ae_title = "RXL_BOX"
hosts = ["127.0.0.1"]
trust = "rxl"

[[dicom.route]]
deployment = 1
manufacturer = "Example AI"
kinds = ["sr"]
score = "DCM:111047"
decision = "DCM:121071"
positive = ["SCT:263654008"]
negative = ["SCT:17621005"]
"#
        ),
    )
    .expect("config");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(["serve", "--config"])
            .arg(&config)
            .args(["--bind", &format!("127.0.0.1:{http_port}")])
            .env("VIGIL_DB", &database)
            .env("VIGIL_PSEUDONYM_KEY_FILE", &key)
            .env("VIGIL_MONITOR_INTERVAL_SECONDS", "0")
            .env("VIGIL_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("vigil serve starts"),
    );
    wait_for_port(http_port);
    wait_for_port(dicom_port);

    // The CT image first, then two reports on it, one from another vendor.
    let files = [
        dicom_file("ct_with_accession.dcm"),
        dicom_file("sr_positive.dcm"),
        dicom_file("sr_negative.dcm"),
        dicom_file("sr_other_vendor.dcm"),
    ];
    let (success, printed) = store(dicom_port, "AI_BOX", &files);
    assert!(success, "{printed}");
    // Sent again: nothing new.
    let (success, printed) = store(dicom_port, "AI_BOX", &files);
    assert!(success, "{printed}");
    // Another Trust's caller cannot store into rw3's deployment.
    let (success, printed) = store(dicom_port, "RXL_BOX", &[dicom_file("sr_positive.dcm")]);
    assert!(success, "{printed}");

    let bearer = format!("Bearer {token}");
    let headers = [("Authorization", bearer.as_str())];
    let page = json_of(&http(
        http_port,
        "GET",
        "/api/v1/dicom/instances",
        &headers,
        "",
    ));
    let seen: Vec<(String, String)> = page["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|instance| {
            (
                instance["kind"].as_str().expect("kind").to_owned(),
                instance["disposition"]
                    .as_str()
                    .expect("disposition")
                    .to_owned(),
            )
        })
        .collect();
    // rw3's token sees rw3's instances only, newest first.
    assert_eq!(
        seen,
        [
            ("sr".to_owned(), "quarantined".to_owned()),
            ("sr".to_owned(), "event".to_owned()),
            ("sr".to_owned(), "event".to_owned()),
            ("image".to_owned(), "acquisition".to_owned()),
        ]
    );
    let quarantine = json_of(&http(
        http_port,
        "GET",
        "/api/v1/dicom/instances?disposition=quarantined",
        &headers,
        "",
    ));
    assert_eq!(
        quarantine["instances"][0]["reason"],
        "no route takes a sr from AI_BOX made by Another Vendor"
    );

    // Two events, scored and decided, with the CT's scanner.
    let days = json_of(&http(
        http_port,
        "GET",
        "/api/v1/deployments/1/aggregates",
        &headers,
        "",
    ));
    let days = days.as_array().expect("days");
    let events: u64 = days
        .iter()
        .map(|day| day["events"].as_u64().expect("events"))
        .sum();
    let positive: u64 = days
        .iter()
        .map(|day| day["positive_decisions"].as_u64().expect("positive"))
        .sum();
    assert_eq!((events, positive), (2, 1), "{days:?}");
    let positive_day = days
        .iter()
        .find(|day| day["day"] == "2026-11-30")
        .expect("the positive report's day");
    assert_eq!(
        positive_day["categories"]["scanner_manufacturer"]["GE MEDICAL SYSTEMS"], 1,
        "{positive_day}"
    );

    // No identifier reached the database: no UID, accession number or
    // patient identifier of any object sent.
    drop(_server);
    let stored = [
        std::fs::read(&database).expect("database"),
        std::fs::read(database.with_extension("db-wal")).unwrap_or_default(),
    ]
    .concat();
    let stored = String::from_utf8_lossy(&stored);
    for identifier in [
        "ACC-1001",
        "ACC-1002",
        "ACC-1003",
        "1.2.826.0.1.3680043.10.1234",
        "1.3.6.1.4.1.5962.1.2.1",
        "1CT1",
    ] {
        assert!(
            !stored.contains(identifier),
            "{identifier} is in the database"
        );
    }
    // The audit trail is intact and holds the quarantine and the events.
    let verified = vigil(&database, &["audit", "verify"]);
    assert!(verified.starts_with("ok"), "{verified}");
}
