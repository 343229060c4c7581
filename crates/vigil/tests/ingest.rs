//! `vigil ingest` through the real binary: batches, resending, a refused
//! batch, and pseudonyms only in the database.

mod support;

use std::process::Command;

use support::{run as vigil, set_up_database, vigil as ok};

fn events(ids: std::ops::Range<u32>, bad: Option<u32>) -> String {
    ids.map(|id| {
        let score = if Some(id) == bad { "1.5".to_owned() } else { format!("0.{id:02}") };
        format!(
            r#"{{"event_id": "e{id}", "case_id": "ACC{id:05}", "occurred_at": "2026-11-30T10:00:00Z", "model_version": "2.3.0", "score": {score}}}"#
        )
    })
    .collect::<Vec<_>>()
    .join("\n")
}

#[test]
fn a_file_of_events_is_stored_in_batches_once() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let db = directory.path().join("vigil.db");
    let db = db.as_path();
    // The example organisations, an AI lead at rw3, ChestFlag 2.3.0 deployed
    // at rw3's main site, and the Trust's pseudonymisation key.
    let key = directory.path().join("pseudonym.key");
    set_up_database(db, &key);
    let file = directory.path().join("events.ndjson");
    std::fs::write(&file, events(1..26, None)).expect("write");
    let arguments = [
        "ingest",
        file.to_str().expect("path"),
        "--deployment",
        "1",
        "--actor",
        "ailead",
        "--key",
        key.to_str().expect("path"),
        "--batch-rows",
        "10",
    ];
    assert_eq!(
        ok(db, &arguments),
        "25 events in 3 batches: 25 stored, 0 already stored\n"
    );
    assert_eq!(
        ok(db, &arguments),
        "25 events in 3 batches: 0 stored, 25 already stored\n"
    );

    // A bad event in the second batch: the first is stored, the rest not,
    // and the message says where and what to do.
    std::fs::write(&file, events(30..55, Some(44))).expect("write");
    let refused = vigil(db, &arguments);
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("batch 2 (rows 11 to 20)"), "{message}");
    assert!(
        message.contains(r#"row 5: "score" 1.5 is outside [0, 1]"#),
        "{message}"
    );
    assert!(!message.contains("ACC"), "{message}");
    std::fs::write(&file, events(30..55, None)).expect("write");
    assert_eq!(
        ok(db, &arguments),
        "25 events in 3 batches: 15 stored, 10 already stored\n"
    );

    // Only an AI lead or a medical physics expert sends events.
    let denied = vigil(
        db,
        &[
            "ingest",
            file.to_str().expect("path"),
            "--deployment",
            "1",
            "--actor",
            "admin",
            "--key",
            key.to_str().expect("path"),
        ],
    );
    assert_eq!(denied.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&denied.stderr).contains("may not send events"));
    // Without a key, identifiers are refused.
    let keyless = vigil(
        db,
        &[
            "ingest",
            file.to_str().expect("path"),
            "--deployment",
            "1",
            "--actor",
            "ailead",
        ],
    );
    assert_eq!(keyless.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&keyless.stderr).contains("is not a pseudonym"));
    // Outcomes for the same cases, from a CSV file, meet their events.
    let outcomes = directory.path().join("outcomes.csv");
    let mut csv = String::from("case_id,label,source,recorded_at\n");
    for id in 1..13 {
        csv.push_str(&format!(
            "ACC{id:05},{},report,2026-11-30T12:00:00Z\n",
            id % 2
        ));
    }
    std::fs::write(&outcomes, csv).expect("write");
    let outcome_arguments = [
        "ingest",
        outcomes.to_str().expect("path"),
        "--outcomes",
        "--deployment",
        "1",
        "--actor",
        "ailead",
        "--key",
        key.to_str().expect("path"),
        "--batch-rows",
        "5",
    ];
    assert_eq!(
        ok(db, &outcome_arguments),
        "12 outcomes in 3 batches: 12 stored, 0 already stored\n"
    );
    let labelled = Command::new("sqlite3")
        .arg(db)
        .arg("SELECT SUM(json_extract(aggregate, '$.outcomes.labelled')) FROM daily_aggregates")
        .output()
        .expect("the sqlite3 client runs (installed by .ci/run)");
    assert_eq!(String::from_utf8_lossy(&labelled.stdout).trim(), "12");
    assert!(ok(db, &["audit", "verify"]).starts_with("ok:"));
    // The database holds pseudonyms, never the accession numbers.
    let counted = Command::new("sqlite3")
        .arg(db)
        .arg("SELECT COUNT(*), SUM(case_pseudonym LIKE 'psn:%'), SUM(instr(case_pseudonym, 'ACC') > 0) FROM inference_events")
        .output()
        .expect("the sqlite3 client runs (installed by .ci/run)");
    assert_eq!(String::from_utf8_lossy(&counted.stdout).trim(), "50|50|0");

    // Monitoring from the command line: rules from a file, an assessment
    // that signals (exit code 1) and raises an alert, which people then
    // acknowledge and resolve.
    let rules = directory.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[baseline]\nsource = \"validation scores\"\nscore_histogram = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 40, 50]\n\n\
         [[rules]]\nid = \"score-drift\"\nwindow_days = 7\nminimum_cases = 20\n\
         test = { kind = \"score_drift\", psi_threshold = 0.2, alpha = 0.01 }\n",
    )
    .expect("write");
    let set_rules = |actor: &str| {
        vigil(
            db,
            &[
                "monitor",
                "set-rules",
                rules.to_str().expect("path"),
                "--deployment",
                "1",
                "--reason",
                "scores from validation",
                "--expected-version",
                "0",
                "--actor",
                actor,
            ],
        )
    };
    let refused = set_rules("admin");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("may not edit monitoring rules"));
    assert_eq!(
        String::from_utf8_lossy(&set_rules("ailead").stdout),
        "stored rules version 1 of deployment 1\n"
    );
    assert!(ok(db, &["monitor", "rules", "--deployment", "1"]).contains("psi_threshold = 0.2"));
    let assess = [
        "monitor",
        "assess",
        "--deployment",
        "1",
        "--as-of",
        "2026-11-30",
        "--raise",
        "--actor",
        "ailead",
    ];
    let signalled = vigil(db, &assess);
    assert_eq!(
        signalled.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&signalled.stderr)
    );
    let report = String::from_utf8_lossy(&signalled.stdout);
    assert!(
        report.contains("score-drift") && report.contains("SIGNAL"),
        "{report}"
    );
    assert!(
        report.contains("raised alert 1 [raised] rule score-drift"),
        "{report}"
    );
    let again = String::from_utf8_lossy(&vigil(db, &assess).stdout).into_owned();
    assert!(
        !again.contains("raised alert"),
        "one open alert a rule: {again}"
    );
    let note = |command: &str, text: &str| {
        vigil(
            db,
            &["monitor", command, "1", "--note", text, "--actor", "ailead"],
        )
    };
    assert_eq!(
        note("resolve", "fixed").status.code(),
        Some(2),
        "acknowledged first"
    );
    assert!(
        String::from_utf8_lossy(&note("acknowledge", "looking").stdout).contains("[acknowledged]")
    );
    assert!(
        String::from_utf8_lossy(&note("resolve", "a new scanner; rules rebased").stdout)
            .contains("[resolved]")
    );
    assert!(ok(db, &["monitor", "alerts", "--deployment", "1"]).contains("alert 1 [resolved]"));
    assert!(ok(db, &["audit", "verify"]).starts_with("ok:"));
}
