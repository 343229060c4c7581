//! End-to-end tests of the registry, lifecycle and audit commands through
//! the real binary, on SQLite and (when `VIGIL_TEST_POSTGRES_URL` is set) on
//! PostgreSQL: the command line, tampering with the stored audit trail using
//! the databases' own command-line clients, signed checkpoints, moving a
//! Trust from SQLite to PostgreSQL, and killing the process mid-write.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

fn examples(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

/// Runs vigil against `db` and returns its output.
fn vigil(db: &str, arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(arguments)
        .env("VIGIL_DB", db)
        .env_remove("VIGIL_ACTOR")
        .output()
        .expect("the vigil binary runs")
}

/// Runs vigil and requires success, returning standard output.
#[track_caller]
fn ok(db: &str, arguments: &[&str]) -> String {
    let output = vigil(db, arguments);
    assert!(
        output.status.success(),
        "vigil {arguments:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A registry with users, a product, a version and a live deployment:
/// 7 organisations + admin + 4 users + product + version + deployment + the
/// procurement decision + a procurement assessment (created, answered,
/// completed) + 3 more decisions + the default rules at go-live + one user of
/// another Trust = 24 audit entries.
fn populate(db: &str) {
    ok(
        db,
        &[
            "init",
            "--organisations",
            examples("organisations.toml").to_str().expect("path"),
            "--admin",
            "admin",
        ],
    );
    for (user, role) in [
        ("ailead", "ai_lead"),
        ("cso", "clinical_safety_officer"),
        ("lead", "clinical_lead"),
        ("buyer", "procurement_lead"),
    ] {
        ok(
            db,
            &[
                "user",
                "add",
                "--actor",
                "admin",
                "--user-name",
                user,
                "--display-name",
                user,
                "--user-role",
                role,
                "--organisation",
                "rw3",
            ],
        );
    }
    ok(
        db,
        &[
            "product",
            "add",
            "--actor",
            "admin",
            "--vendor",
            "Example AI",
            "--name",
            "ChestFlag",
            "--intended-purpose",
            "Triage adult chest radiographs",
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
    );
    ok(
        db,
        &[
            "version",
            "add",
            "--actor",
            "ailead",
            "--product",
            "1",
            "--version",
            "2.3.0",
            "--released",
            "2026-06-01",
            "--notes",
            "first release",
            "--change",
            "initial",
        ],
    );
    ok(
        db,
        &[
            "deployment",
            "add",
            "--actor",
            "ailead",
            "--version",
            "1",
            "--site",
            "rw3-main",
            "--team",
            "Imaging AI",
            "--threshold",
            "default=0.35",
        ],
    );
    ok(
        db,
        &[
            "deployment",
            "transition",
            "1",
            "--actor",
            "buyer",
            "--to",
            "procurement",
            "--reason",
            "business case approved",
        ],
    );
    record_assessment(db, "buyer", "1", 3);
    ok(
        db,
        &[
            "deployment",
            "transition",
            "1",
            "--actor",
            "ailead",
            "--to",
            "validation",
            "--reason",
            "contract signed",
        ],
    );
    ok(
        db,
        &[
            "deployment",
            "transition",
            "1",
            "--actor",
            "ailead",
            "--to",
            "shadow",
            "--reason",
            "local validation passed",
            "--evidence",
            "evaluation:1",
        ],
    );
    ok(
        db,
        &[
            "deployment",
            "transition",
            "1",
            "--actor",
            "cso",
            "--to",
            "live",
            "--reason",
            "shadow agreement acceptable",
            "--sign-off",
            "lead:clinical_lead",
            "--evidence",
            "hazard-log:v3",
        ],
    );
    // An AI lead of another Trust, outside rw3's part of the tree.
    ok(
        db,
        &[
            "user",
            "add",
            "--actor",
            "admin",
            "--user-name",
            "outsider",
            "--display-name",
            "outsider",
            "--user-role",
            "ai_lead",
            "--organisation",
            "rxl",
        ],
    );
}

/// Organisations, users, the product and its deployment, the decisions to
/// go-live with the procurement assessment before validation, and the
/// default rules made at go-live.
const POPULATED_ENTRIES: u64 = 24;

/// Records a procurement assessment of `version` by `actor`'s organisation
/// with every question of the default template scored `score`; answers the
/// command's JSON output.
fn record_assessment(db: &str, actor: &str, version: &str, score: u8) -> serde_json::Value {
    let answers: Vec<serde_json::Value> = vigil_domain::procurement::Template::default_template()
        .question_keys()
        .into_iter()
        .map(|question| serde_json::json!({"question": question, "score": score}))
        .collect();
    let file = tempfile::NamedTempFile::new().expect("answers file");
    std::fs::write(file.path(), serde_json::to_vec(&answers).expect("JSON")).expect("written");
    let output = ok(
        db,
        &[
            "assessment",
            "record",
            "--actor",
            actor,
            "--version",
            version,
            "--answers",
            file.path().to_str().expect("path"),
            "--json",
        ],
    );
    serde_json::from_str(&output).expect("JSON")
}

fn sqlite_database() -> (tempfile::TempDir, String) {
    let directory = tempfile::tempdir().expect("temporary directory");
    let db = directory
        .path()
        .join("vigil.db")
        .to_string_lossy()
        .into_owned();
    (directory, db)
}

fn sqlite3(db: &str, sql: &str) {
    let output = Command::new("sqlite3").arg(db).arg(sql).output().expect(
        "the sqlite3 command-line client is installed (apt-get install sqlite3; .ci/run installs it)",
    );
    assert!(
        output.status.success(),
        "sqlite3 {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Checks `audit verify` on `db` reports exactly `expected` with `code`.
#[track_caller]
fn check_verify(db: &str, expected: &str, code: i32) {
    let output = vigil(db, &["audit", "verify"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(code),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.trim_end(), expected, "the whole verdict line");
}

#[test]
fn the_command_line_walks_a_deployment_to_live() {
    let (_directory, db) = sqlite_database();
    populate(&db);
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&db, &["deployment", "show", "1", "--json"])).expect("JSON");
    assert_eq!(shown["state"], "live");
    assert_eq!(shown["decisions"].as_array().map(Vec::len), Some(4));
    let go_live = &shown["decisions"][3];
    assert_eq!(go_live["sign_offs"].as_array().map(Vec::len), Some(2));
    assert_eq!(go_live["evidence"][0], "hazard-log:v3");
    check_verify(&db, &format!("ok: {POPULATED_ENTRIES} entries"), 0);
}

#[test]
fn refused_commands_say_why_and_write_nothing() {
    let (_directory, db) = sqlite_database();
    populate(&db);
    for (arguments, expected) in [
        (
            vec![
                "deployment",
                "transition",
                "1",
                "--actor",
                "ailead",
                "--to",
                "suspended",
                "--reason",
                "x",
            ],
            "ailead (ai_lead) may not record live → suspended; it is recorded by one of its signers: clinical_safety_officer",
        ),
        (
            vec![
                "deployment",
                "transition",
                "1",
                "--actor",
                "cso",
                "--to",
                "validation",
                "--reason",
                "x",
            ],
            "cannot move from live to validation",
        ),
        (
            vec![
                "deployment",
                "transition",
                "1",
                "--actor",
                "cso",
                "--from",
                "shadow",
                "--to",
                "live",
                "--reason",
                "x",
            ],
            "conflict",
        ),
        (
            vec![
                "deployment",
                "transition",
                "9",
                "--actor",
                "cso",
                "--from",
                "shadow",
                "--to",
                "live",
                "--reason",
                "x",
            ],
            "deployment 9 does not exist",
        ),
        (
            vec![
                "deployment",
                "transition",
                "1",
                "--actor",
                "nobody",
                "--to",
                "suspended",
                "--reason",
                "x",
            ],
            "\"nobody\" is not a registered user",
        ),
        (
            vec![
                "version",
                "add",
                "--actor",
                "ailead",
                "--product",
                "1",
                "--version",
                "2.3.0",
                "--released",
                "2026-06-01",
                "--notes",
                "x",
                "--change",
                "bug_fix",
            ],
            "already exists",
        ),
        (
            vec![
                "version",
                "add",
                "--actor",
                "ailead",
                "--product",
                "1",
                "--version",
                "2.4.0",
                "--released",
                "June",
                "--notes",
                "x",
                "--change",
                "bug_fix",
            ],
            "expected YYYY-MM-DD",
        ),
        (
            vec![
                "deployment",
                "add",
                "--actor",
                "ailead",
                "--version",
                "1",
                "--site",
                "rw3",
                "--team",
                "x",
            ],
            "is a trust",
        ),
        (
            vec![
                "org",
                "add",
                "--actor",
                "admin",
                "--code",
                "rw3-new",
                "--name",
                "x",
                "--kind",
                "site",
                "--parent",
                "north-west-imaging",
            ],
            "region",
        ),
        (
            vec![
                "deployment",
                "transition",
                "1",
                "--actor",
                "ailead",
                "--role",
                "clinical_safety_officer",
                "--to",
                "suspended",
                "--reason",
                "x",
            ],
            "holds the role ai_lead, not clinical_safety_officer",
        ),
        (
            vec![
                "deployment",
                "transition",
                "1",
                "--actor",
                "cso",
                "--to",
                "suspended",
                "--reason",
                "x",
                "--sign-off",
                "Anyone:clinical_lead",
            ],
            "Anyone is not a registered user",
        ),
        (
            vec![
                "deployment",
                "transition",
                "1",
                "--actor",
                "cso",
                "--to",
                "suspended",
                "--reason",
                "x",
                "--sign-off",
                "ailead:clinical_lead",
            ],
            "holds the role ai_lead, not clinical_lead",
        ),
        (
            vec![
                "user",
                "add",
                "--actor",
                "ailead",
                "--user-name",
                "x",
                "--display-name",
                "x",
                "--user-role",
                "national_admin",
                "--organisation",
                "england",
            ],
            "may not add users",
        ),
        (
            vec![
                "deployment",
                "add",
                "--actor",
                "outsider",
                "--version",
                "1",
                "--site",
                "rw3-main",
                "--team",
                "x",
            ],
            "does not include rw3-main",
        ),
    ] {
        let output = vigil(&db, &arguments);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{arguments:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(expected),
            "{arguments:?}: expected {expected:?} in {stderr:?}"
        );
        assert_eq!(stderr.lines().count(), 1, "one clear line: {stderr:?}");
    }
    check_verify(&db, &format!("ok: {POPULATED_ENTRIES} entries"), 0);
}

#[test]
fn a_new_version_reenters_validation_from_the_command_line() {
    let (_directory, db) = sqlite_database();
    populate(&db);
    ok(
        &db,
        &[
            "version",
            "add",
            "--actor",
            "ailead",
            "--product",
            "1",
            "--version",
            "3.0.0",
            "--released",
            "2026-09-01",
            "--notes",
            "retrained",
            "--change",
            "performance_update",
        ],
    );
    let upgraded: serde_json::Value = serde_json::from_str(&ok(
        &db,
        &[
            "deployment",
            "upgrade",
            "1",
            "--actor",
            "ailead",
            "--version",
            "2",
            "--json",
        ],
    ))
    .expect("JSON");
    assert_eq!(upgraded["state"], "validation");
    assert_eq!(upgraded["version"], 2);
}

#[test]
fn validation_waits_for_a_passing_procurement_assessment_from_the_command_line() {
    let (_directory, db) = sqlite_database();
    populate(&db);
    ok(
        &db,
        &[
            "version",
            "add",
            "--actor",
            "ailead",
            "--product",
            "1",
            "--version",
            "3.0.0",
            "--released",
            "2026-09-01",
            "--notes",
            "retrained",
            "--change",
            "performance_update",
        ],
    );
    ok(
        &db,
        &[
            "deployment",
            "add",
            "--actor",
            "ailead",
            "--version",
            "2",
            "--site",
            "rw3-cancer",
            "--team",
            "Imaging AI",
            "--threshold",
            "default=0.35",
        ],
    );
    ok(
        &db,
        &[
            "deployment",
            "transition",
            "2",
            "--actor",
            "buyer",
            "--to",
            "procurement",
            "--reason",
            "a second look",
        ],
    );
    let to_validation = [
        "deployment",
        "transition",
        "2",
        "--actor",
        "ailead",
        "--to",
        "validation",
        "--reason",
        "contract signed",
    ];
    let refused = |expected: &str| {
        let output = vigil(&db, &to_validation);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "validation started without a passing assessment"
        );
        assert!(stderr.contains(expected), "{stderr}");
    };
    refused(
        "needs a completed procurement assessment of version 2 that passes, by rw3-cancer, rw3, north-west-imaging, england; none has been started",
    );
    // Incomplete answers are refused whole: no draft is left behind.
    let partial = tempfile::NamedTempFile::new().expect("answers file");
    std::fs::write(
        partial.path(),
        r#"[{"question": "clinical_need.need", "score": 3}]"#,
    )
    .expect("written");
    let output = vigil(
        &db,
        &[
            "assessment",
            "record",
            "--actor",
            "buyer",
            "--version",
            "2",
            "--answers",
            partial.path().to_str().expect("path"),
        ],
    );
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("unanswered"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let failed = record_assessment(&db, "buyer", "2", 1);
    assert_eq!(failed["outcome"], "fail");
    refused(&format!("assessment {} failed", failed["id"]));
    let passed = record_assessment(&db, "buyer", "2", 3);
    assert_eq!(passed["outcome"], "pass");
    assert_eq!(passed["total_percent"], 75.0);
    ok(&db, &to_validation);
    let listed: serde_json::Value = serde_json::from_str(&ok(
        &db,
        &["assessment", "list", "--version", "2", "--json"],
    ))
    .expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    check_verify(
        &db,
        &format!("ok: {} entries", POPULATED_ENTRIES + 3 + 6 + 1),
        0,
    );
}

/// Tampering with the SQLite file directly: each change is found at the
/// exact entry. The append-only triggers are dropped first, as someone with
/// write access to the file could.
#[test]
fn tampering_with_sqlite_is_detected_at_the_exact_entry() {
    let drop_triggers = "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;";
    for (sql, expected) in [
        (
            "UPDATE audit_log SET payload = replace(payload, 'shadow agreement', 'no agreement') WHERE sequence = 22",
            "broken at entry 22: the stored hash does not match the entry's content, so the content or its hash was edited",
        ),
        (
            "UPDATE audit_log SET actor = 'someone-else' WHERE sequence = 8",
            "broken at entry 8: the stored hash does not match the entry's content, so the content or its hash was edited",
        ),
        (
            "DELETE FROM audit_log WHERE sequence = 5",
            "broken at entry 5: entry 5 is missing and entry 6 comes next, so entries were deleted",
        ),
        (
            "UPDATE audit_log SET sequence = CASE sequence WHEN 10 THEN 11 ELSE 10 END WHERE sequence IN (10, 11)",
            "broken at entry 10: expected entry 10 but found entry 11 in its place, so entries were reordered or duplicated",
        ),
        (
            "DELETE FROM audit_log WHERE sequence > 16",
            "broken at entry 17: the recorded head is entry 24 but the chain ends at entry 16, so the newest entries were deleted",
        ),
        (
            "DROP TRIGGER audit_head_no_delete; DELETE FROM audit_head",
            "broken at entry 24: the recorded head of the chain is missing, so entries removed from the end could not be detected",
        ),
        (
            "UPDATE audit_log SET sequence = 'x' WHERE sequence = 6",
            "broken at entry 6: expected entry 6 but found entry 0 in its place, so entries were reordered or duplicated",
        ),
    ] {
        let (_directory, db) = sqlite_database();
        populate(&db);
        check_verify(&db, &format!("ok: {POPULATED_ENTRIES} entries"), 0);
        sqlite3(&db, &format!("{drop_triggers} {sql};"));
        check_verify(&db, expected, 1);
    }
}

/// Editing the registry tables in place (not the audit log) is detected:
/// replaying the trail gives a different registry.
#[test]
fn editing_the_registry_tables_is_detected() {
    for (sql, expected) in [
        (
            "UPDATE deployments SET state = 'shadow' WHERE id = 1",
            "the registry diverges from the audit trail at entry 22: deployment 1: state is \"shadow\" in the table but \"live\" in the trail",
        ),
        (
            "UPDATE deployments SET change_control = '[\"performance_update\"]' WHERE id = 1",
            "the registry diverges from the audit trail at entry 22: deployment 1: change_control is [\"performance_update\"] in the table but [] in the trail",
        ),
        (
            "UPDATE products SET modality = 'ct' WHERE id = 1",
            "the registry diverges from the audit trail at entry 13: product 1: modality is \"ct\" in the table but \"radiography\" in the trail",
        ),
        (
            "DROP TRIGGER decisions_no_update; UPDATE decisions SET rationale = 'approved by the board' WHERE audit_sequence = 22",
            "the registry diverges from the audit trail at entry 22: decision recorded by entry 22: rationale is \"approved by the board\" in the table but \"shadow agreement acceptable\" in the trail",
        ),
        (
            "INSERT INTO users (user_name, display_name, role, organisation, created_at) VALUES ('ghost', 'ghost', 'clinical_safety_officer', 'rw3', '2026-01-01T00:00:00.000000Z')",
            "the registry diverges from the audit trail: user 7 is in the table but no audit entry created it",
        ),
        (
            "DROP INDEX decisions_by_audit_entry; DROP TRIGGER decisions_no_replace; \
             INSERT INTO decisions (id, deployment_id, from_state, to_state, version_id, sign_offs, rationale, evidence, decided_by, decided_at, audit_sequence) \
             SELECT -1, deployment_id, from_state, to_state, version_id, sign_offs, 'approved', evidence, decided_by, decided_at, audit_sequence FROM decisions WHERE audit_sequence = 22",
            "the registry diverges from the audit trail: decision recorded by entry 22 appears twice in the table",
        ),
        (
            "DROP TRIGGER decisions_no_replace; INSERT OR REPLACE INTO decisions \
             SELECT id, deployment_id, from_state, to_state, version_id, sign_offs, rationale, evidence, 'mallory', decided_at, audit_sequence FROM decisions WHERE audit_sequence = 22",
            "the registry diverges from the audit trail at entry 22: decision recorded by entry 22: recorded_by is \"mallory\" in the table but \"cso\" in the trail",
        ),
    ] {
        let (_directory, db) = sqlite_database();
        populate(&db);
        sqlite3(&db, &format!("{sql};"));
        check_verify(&db, expected, 1);
    }
}

/// Events of deployment 1 in a file, and a pseudonymisation key, for
/// `vigil ingest`.
struct EventsToIngest {
    events: String,
    key: String,
}

impl EventsToIngest {
    fn write(directory: &Path, count: u32) -> EventsToIngest {
        let key = directory.join("pseudonym.key");
        let key = key.to_str().expect("path").to_owned();
        let generated = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(["keygen", "--out", &key])
            .output()
            .expect("vigil keygen");
        assert!(generated.status.success(), "{generated:?}");
        let lines: Vec<String> = (1..=count)
            .map(|id| {
                format!(
                    r#"{{"event_id": "e{id}", "case_id": "ACC{id:05}", "occurred_at": "2026-11-30T10:00:00Z", "model_version": "2.3.0", "score": 0.{id:02}}}"#
                )
            })
            .collect();
        let events = directory.join("events.ndjson");
        std::fs::write(&events, lines.join("\n")).expect("write");
        EventsToIngest {
            events: events.to_str().expect("path").to_owned(),
            key,
        }
    }

    fn arguments(&self) -> [&str; 8] {
        [
            "ingest",
            &self.events,
            "--deployment",
            "1",
            "--actor",
            "ailead",
            "--key",
            &self.key,
        ]
    }
}

/// Events removed, added or moved outside Vigil, or a batch's record
/// edited, are found against the audit entry that recorded the batch.
#[test]
fn editing_the_monitoring_tables_is_detected() {
    let batch_entry = POPULATED_ENTRIES + 1;
    let diverge = format!(
        "the monitoring tables diverge from the audit trail at entry {batch_entry}: event batch 1"
    );
    let columns = "deployment_id, event_id, batch_id, case_pseudonym, occurred_at, day, model_version, content_sha256";
    for (sql, expected) in [
        (
            "DROP TRIGGER inference_events_no_delete; DELETE FROM inference_events WHERE rowid = (SELECT max(rowid) FROM inference_events)".to_owned(),
            format!("{diverge} stored 30 events but the table holds 29 for it"),
        ),
        (
            format!("INSERT INTO inference_events ({columns}) SELECT deployment_id, 'planted', batch_id, case_pseudonym, occurred_at, day, \
             model_version, content_sha256 FROM inference_events LIMIT 1"),
            format!("{diverge} stored 30 events but the table holds 31 for it"),
        ),
        (
            "DROP TRIGGER inference_events_no_update; UPDATE inference_events SET batch_id = 2 WHERE rowid = 1".to_owned(),
            format!("{diverge} stored 30 events but the table holds 29 for it"),
        ),
        (
            "DROP TRIGGER event_batches_no_update; UPDATE event_batches SET rows_stored = 29".to_owned(),
            format!("{diverge}: rows_stored is 29 in the table but 30 in the trail"),
        ),
    ] {
        let (directory, db) = sqlite_database();
        populate(&db);
        ok(&db, &EventsToIngest::write(directory.path(), 30).arguments());
        check_verify(&db, &format!("ok: {batch_entry} entries"), 0);
        sqlite3(&db, &format!("{sql};"));
        check_verify(&db, &expected, 1);
    }
}

/// An export that cannot be written whole leaves no file behind: neither
/// the archive nor the partial file it was being written to. The export
/// runs with a limit on the size of the files it writes (`ulimit -f`), far
/// below the archive's size, and the signal that limit raises ignored, so
/// that the write fails with an error as a full disk would fail it.
#[test]
fn a_failed_export_leaves_no_file_behind() {
    let (directory, db) = sqlite_database();
    populate(&db);
    ok(
        &db,
        &EventsToIngest::write(directory.path(), 3_000).arguments(),
    );
    let out = directory.path().join("trust.jsonl");
    let limited = |kibibytes: u32| {
        Command::new("bash")
            .arg("-c")
            .arg(format!(
                "trap '' XFSZ; ulimit -f {kibibytes}; exec \"$0\" \"$@\""
            ))
            .arg(env!("CARGO_BIN_EXE_vigil"))
            .args(["--db", &db, "export", "--out", out.to_str().expect("path")])
            .output()
            .expect("bash")
    };
    let refused = limited(256);
    let message = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{message}");
    assert!(
        message.contains("cannot write the archive: File too large"),
        "{message}"
    );
    let left: Vec<_> = std::fs::read_dir(directory.path())
        .expect("directory")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.starts_with("trust"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // Nor does one written whole whose name is taken by a folder.
    let folder = directory.path().join("folder.jsonl");
    std::fs::create_dir(&folder).expect("folder");
    let refused = vigil(&db, &["export", "--out", folder.to_str().expect("path")]);
    let message = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{message}");
    assert!(
        message.contains(&format!("cannot write {}", folder.display())),
        "{message}"
    );
    assert!(!directory.path().join("folder.partial").exists());
    // Under a limit the archive fits in, the same export succeeds.
    let exported = limited(64 * 1024);
    assert!(exported.status.success(), "{exported:?}");
    assert!(std::fs::metadata(&out).expect("the archive").len() > 256 * 1024);
}

#[test]
fn the_append_only_triggers_refuse_edits() {
    let (_directory, db) = sqlite_database();
    populate(&db);
    for (sql, refusal) in [
        ("DELETE FROM audit_log WHERE sequence = 3;", "append-only"),
        (
            "UPDATE audit_log SET actor = 'x' WHERE sequence = 3;",
            "append-only",
        ),
        ("DELETE FROM decisions;", "never deleted"),
        ("DELETE FROM audit_head;", "never deleted"),
        (
            "UPDATE audit_head SET sequence = 3, hash = (SELECT hash FROM audit_log WHERE sequence = 3);",
            "only moves forward",
        ),
    ] {
        let output = Command::new("sqlite3")
            .arg(&db)
            .arg(sql)
            .output()
            .expect("sqlite3");
        assert!(!output.status.success(), "{sql} was allowed");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(refusal),
            "{sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    check_verify(&db, &format!("ok: {POPULATED_ENTRIES} entries"), 0);
}

#[test]
fn postgresql_refuses_truncation_of_the_trail() {
    let Some(url) = postgres_url() else { return };
    let schema = PostgresSchema::new(&url);
    populate(&schema.db());
    for table in ["audit_log", "decisions", "audit_head"] {
        let output = Command::new("psql")
            .arg(&url)
            .arg("-v")
            .arg("ON_ERROR_STOP=1")
            .arg("-qc")
            .arg(format!(
                "SET search_path = {}; TRUNCATE {table} CASCADE;",
                schema.name
            ))
            .output()
            .expect("psql");
        assert!(!output.status.success(), "TRUNCATE {table} was allowed");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("append-only"),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    check_verify(&schema.db(), &format!("ok: {POPULATED_ENTRIES} entries"), 0);
}

#[test]
fn a_mistyped_database_path_is_an_error_not_an_empty_trail() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let missing = directory.path().join("typo.db");
    let output = vigil(missing.to_str().expect("path"), &["audit", "verify"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not exist"));
    assert!(!missing.exists(), "no database is created by a read");
}

#[test]
fn a_retired_deployment_can_be_followed_by_a_new_one() {
    let (_directory, db) = sqlite_database();
    populate(&db);
    let again = vigil(
        &db,
        &[
            "deployment",
            "add",
            "--actor",
            "ailead",
            "--version",
            "1",
            "--site",
            "rw3-main",
            "--team",
            "x",
        ],
    );
    assert_eq!(
        again.status.code(),
        Some(2),
        "one active deployment per product and site"
    );
    ok(
        &db,
        &[
            "deployment",
            "transition",
            "1",
            "--actor",
            "cso",
            "--to",
            "retired",
            "--reason",
            "replaced",
        ],
    );
    let created: serde_json::Value = serde_json::from_str(&ok(
        &db,
        &[
            "deployment",
            "add",
            "--actor",
            "ailead",
            "--version",
            "1",
            "--site",
            "rw3-main",
            "--team",
            "x",
            "--json",
        ],
    ))
    .expect("JSON");
    assert_eq!(created["id"], 2);
}

#[test]
fn a_signed_checkpoint_catches_a_consistent_truncation() {
    let (directory, db) = sqlite_database();
    populate(&db);
    let key = directory.path().join("checkpoint.key");
    let checkpoint = directory.path().join("checkpoint.json");
    let keygen: serde_json::Value = serde_json::from_str(&ok(
        &db,
        &[
            "audit",
            "keygen",
            "--out",
            key.to_str().expect("path"),
            "--json",
        ],
    ))
    .expect("JSON");
    let public_key = keygen["public_key"]
        .as_str()
        .expect("public key")
        .to_owned();
    ok(
        &db,
        &[
            "audit",
            "checkpoint",
            "--key",
            key.to_str().expect("path"),
            "--out",
            checkpoint.to_str().expect("path"),
        ],
    );
    let checkpoint_arguments = [
        "audit",
        "verify",
        "--checkpoint",
        checkpoint.to_str().expect("path"),
        "--public-key",
        public_key.as_str(),
    ];
    let proven = ok(&db, &checkpoint_arguments);
    assert_eq!(
        proven.trim_end(),
        format!("ok: {POPULATED_ENTRIES} entries")
    );
    // A checkpoint is no proof without a key to trust.
    let untrusted = vigil(
        &db,
        &[
            "audit",
            "verify",
            "--checkpoint",
            checkpoint.to_str().expect("path"),
        ],
    );
    assert_eq!(untrusted.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&untrusted.stderr).contains("--checkpoint needs --public-key"));
    // A checkpoint signed by another key is refused when the trusted key is given.
    let other_key = directory.path().join("other.key");
    let forged = directory.path().join("forged.json");
    ok(
        &db,
        &[
            "audit",
            "keygen",
            "--out",
            other_key.to_str().expect("path"),
        ],
    );
    ok(
        &db,
        &[
            "audit",
            "checkpoint",
            "--key",
            other_key.to_str().expect("path"),
            "--out",
            forged.to_str().expect("path"),
        ],
    );
    let output = vigil(
        &db,
        &[
            "audit",
            "verify",
            "--checkpoint",
            forged.to_str().expect("path"),
            "--public-key",
            public_key.as_str(),
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("does not hold"));
    // Remove the last three entries and move the recorded head back to match
    // (dropping the triggers that refuse both): the chain alone now looks
    // intact, but the tables still hold what those entries created.
    sqlite3(
        &db,
        "DROP TRIGGER audit_log_no_delete; DROP TRIGGER audit_head_forward_only; \
         DELETE FROM audit_log WHERE sequence > 20; \
         UPDATE audit_head SET sequence = 20, hash = (SELECT hash FROM audit_log WHERE sequence = 20);",
    );
    let output = vigil(&db, &["audit", "verify"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim_end(),
        "the registry diverges from the audit trail: user 6 is in the table but no audit entry created it"
    );
    // Rewriting the tables to match as well leaves the chain and the tables
    // consistent: only the checkpoint shows what was removed.
    sqlite3(
        &db,
        "DROP TRIGGER decisions_no_delete; DELETE FROM decisions WHERE audit_sequence > 20; \
         DELETE FROM users WHERE user_name = 'outsider'; \
         UPDATE deployments SET state = 'validation', revision = 2 WHERE id = 1;",
    );
    check_verify(&db, "ok: 20 entries", 0);
    let output = vigil(&db, &checkpoint_arguments);
    assert_eq!(output.status.code(), Some(1));
    let verdict = String::from_utf8_lossy(&output.stdout);
    assert!(
        verdict.contains("does not hold") && verdict.contains("21"),
        "the checkpoint names the first missing entry: {verdict}"
    );
}

fn postgres_url() -> Option<String> {
    let url = std::env::var("VIGIL_TEST_POSTGRES_URL").ok();
    if url.is_none() {
        println!(
            "skipped: VIGIL_TEST_POSTGRES_URL is not set, so this PostgreSQL test did not run"
        );
    }
    url
}

/// A fresh PostgreSQL schema for one test, dropped at the end.
struct PostgresSchema {
    url: String,
    name: String,
}

impl PostgresSchema {
    fn new(url: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "vigil_cli_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        psql(url, &format!("CREATE SCHEMA {name}"));
        PostgresSchema {
            url: url.to_owned(),
            name,
        }
    }

    /// The connection URL with this schema as the search path.
    fn db(&self) -> String {
        let separator = if self.url.contains('?') { '&' } else { '?' };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.url, self.name
        )
    }
}

impl Drop for PostgresSchema {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .arg(&self.url)
            .arg("-qc")
            .arg(format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
            .output();
    }
}

fn psql(url: &str, sql: &str) {
    let output = Command::new("psql")
        .arg(url)
        .arg("-v")
        .arg("ON_ERROR_STOP=1")
        .arg("-qc")
        .arg(sql)
        .output()
        .expect("psql is installed");
    assert!(
        output.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn tampering_with_postgresql_is_detected_at_the_exact_entry() {
    let Some(url) = postgres_url() else { return };
    for (sql, expected) in [
        (
            "UPDATE audit_log SET payload = replace(payload, 'shadow agreement', 'no agreement') WHERE sequence = 22",
            "broken at entry 22: the stored hash does not match the entry's content, so the content or its hash was edited",
        ),
        (
            "DELETE FROM audit_log WHERE sequence = 5",
            "broken at entry 5: entry 5 is missing and entry 6 comes next, so entries were deleted",
        ),
        (
            "UPDATE audit_log SET sequence = CASE sequence WHEN 10 THEN 11 ELSE 10 END WHERE sequence IN (10, 11)",
            "broken at entry 10: expected entry 10 but found entry 11 in its place, so entries were reordered or duplicated",
        ),
        (
            "DELETE FROM audit_log WHERE sequence > 16",
            "broken at entry 17: the recorded head is entry 24 but the chain ends at entry 16, so the newest entries were deleted",
        ),
    ] {
        let schema = PostgresSchema::new(&url);
        populate(&schema.db());
        check_verify(&schema.db(), &format!("ok: {POPULATED_ENTRIES} entries"), 0);
        psql(
            &url,
            &format!(
                "SET search_path = {}; ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; {sql};",
                schema.name
            ),
        );
        check_verify(&schema.db(), expected, 1);
    }
}

#[test]
fn a_trust_moves_from_sqlite_to_postgresql_with_its_chain_intact() {
    let Some(url) = postgres_url() else { return };
    let (directory, db) = sqlite_database();
    populate(&db);
    // Events travel too: resent to PostgreSQL, every one is known there.
    let ingest = EventsToIngest::write(directory.path(), 30);
    assert_eq!(
        ok(&db, &ingest.arguments()),
        "30 events in 1 batches: 30 stored, 0 already stored\n"
    );
    let archive = directory.path().join("trust.json");
    assert!(
        ok(&db, &["export", "--out", archive.to_str().expect("path")])
            .contains(" audit entries and 34 rows of events,"),
        "30 events, their batch and day, the go-live rules and the procurement assessment"
    );
    let schema = PostgresSchema::new(&url);
    ok(
        &schema.db(),
        &["import", "--in", archive.to_str().expect("path")],
    );
    let entries = POPULATED_ENTRIES + 1;
    check_verify(&schema.db(), &format!("ok: {entries} entries"), 0);
    // PostgreSQL's archive is SQLite's, but for when and from where.
    let again = directory.path().join("again.json");
    ok(
        &schema.db(),
        &["export", "--out", again.to_str().expect("path")],
    );
    let tables = |path: &Path| {
        let text = std::fs::read_to_string(path).expect("read");
        text.lines().skip(1).map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(tables(&again), tables(&archive));
    assert_eq!(
        ok(&schema.db(), &ingest.arguments()),
        "30 events in 1 batches: 0 stored, 30 already stored\n"
    );
    assert_eq!(
        ok(&schema.db(), &["deployment", "show", "1", "--json"]),
        ok(&db, &["deployment", "show", "1", "--json"]),
    );
    // Work continues on PostgreSQL, extending the same chain.
    ok(
        &schema.db(),
        &[
            "deployment",
            "transition",
            "1",
            "--actor",
            "cso",
            "--to",
            "suspended",
            "--reason",
            "drift alert",
        ],
    );
    // The resent batch and the transition each added an entry.
    check_verify(&schema.db(), &format!("ok: {} entries", entries + 2), 0);
    let again = vigil(
        &schema.db(),
        &["import", "--in", archive.to_str().expect("path")],
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
}

/// Starts vigil and kills it `delay` later.
fn run_and_kill(db: &str, arguments: &[&str], delay: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(arguments)
        .env("VIGIL_DB", db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn vigil");
    std::thread::sleep(delay);
    let _ = child.kill();
    child.wait_with_output().expect("wait")
}

/// The arguments of `vigil product add` for a product of this name.
fn product_add(name: &str) -> Vec<&str> {
    vec![
        "product",
        "add",
        "--actor",
        "admin",
        "--vendor",
        "Kill Test Ltd",
        "--name",
        name,
        "--intended-purpose",
        "testing",
        "--modality",
        "ct",
        "--body-part",
        "head",
        "--task",
        "detection",
        "--class",
        "IIa",
        "--marking",
        "UKCA",
    ]
}

/// Kills vigil at a sweep of moments during a stream of governance writes. The
/// file must stay intact, the chain must verify, and every write whose
/// command reported success must be there.
#[test]
fn killing_the_process_mid_write_loses_nothing_acknowledged() {
    let (_directory, db) = sqlite_database();
    populate(&db);
    const ATTEMPTS: u64 = 60;
    // The kill moments sweep from 0 to 1.5 times what one uninterrupted
    // write takes on this machine now (a few milliseconds when idle, more
    // under load): the early attempts die before or during their
    // transaction, the late ones complete.
    let started = std::time::Instant::now();
    let timing = vigil(&db, &product_add("Product timing"));
    assert_eq!(timing.status.code(), Some(0));
    let span = started.elapsed() * 3 / 2;
    let mut acknowledged = Vec::new();
    for attempt in 0..ATTEMPTS {
        let name = format!("Product {attempt}");
        let output = run_and_kill(
            &db,
            &product_add(&name),
            span * attempt as u32 / ATTEMPTS as u32,
        );
        if output.status.success() {
            acknowledged.push(name);
        }
    }
    let integrity = Command::new("sqlite3")
        .arg(&db)
        .arg("PRAGMA integrity_check;")
        .output()
        .expect("sqlite3");
    assert_eq!(String::from_utf8_lossy(&integrity.stdout).trim(), "ok");
    let output = vigil(&db, &["audit", "verify"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let products: serde_json::Value =
        serde_json::from_str(&ok(&db, &["product", "list", "--json"])).expect("JSON");
    let stored: Vec<&str> = products
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for name in &acknowledged {
        assert!(
            stored.contains(&name.as_str()),
            "{name} was acknowledged but is missing"
        );
    }
    assert!(
        !acknowledged.is_empty(),
        "no write completed, so durability was not tested"
    );
    assert!(
        (acknowledged.len() as u64) < ATTEMPTS,
        "no write was interrupted, so crash safety was not tested"
    );
    // Then governance decisions: live ⇄ suspended, each killed at a moment
    // of a sweep over 1.5 times what one uninterrupted decision takes;
    // every decision acknowledged must be recorded.
    let transition = |to: &'static str| {
        [
            "deployment",
            "transition",
            "1",
            "--actor",
            "cso",
            "--to",
            to,
            "--reason",
            "kill test",
            "--json",
        ]
    };
    let next_state = || {
        let shown: serde_json::Value =
            serde_json::from_str(&ok(&db, &["deployment", "show", "1", "--json"])).expect("JSON");
        if shown["state"] == "live" {
            "suspended"
        } else {
            "live"
        }
    };
    let started = std::time::Instant::now();
    let timing = vigil(&db, &transition(next_state()));
    assert_eq!(timing.status.code(), Some(0));
    let span = started.elapsed() * 3 / 2;
    let mut acknowledged_decisions = Vec::new();
    for attempt in 0..ATTEMPTS {
        let output = run_and_kill(
            &db,
            &transition(next_state()),
            span * attempt as u32 / ATTEMPTS as u32,
        );
        if output.status.success() {
            let recorded: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
            acknowledged_decisions.push(recorded["decision"].as_i64().expect("decision id"));
        }
    }
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&db, &["deployment", "show", "1", "--json"])).expect("JSON");
    let recorded: Vec<i64> = shown["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .filter_map(|d| d["id"].as_i64())
        .collect();
    for id in &acknowledged_decisions {
        assert!(
            recorded.contains(id),
            "decision {id} was acknowledged but is missing"
        );
    }
    assert!(!acknowledged_decisions.is_empty(), "no decision completed");
    assert!(
        (acknowledged_decisions.len() as u64) < ATTEMPTS,
        "no decision was interrupted"
    );
    let output = vigil(&db, &["audit", "verify"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let integrity = Command::new("sqlite3")
        .arg(&db)
        .arg("PRAGMA integrity_check; PRAGMA journal_mode;")
        .output()
        .expect("sqlite3");
    assert_eq!(
        String::from_utf8_lossy(&integrity.stdout)
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["ok", "wal"]
    );
    println!(
        "{} of {ATTEMPTS} writes and {} of {ATTEMPTS} decisions were acknowledged before the kill",
        acknowledged.len(),
        acknowledged_decisions.len()
    );
}

fn pseudonymise(key: &Path, kind: &str, input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args([
            "pseudonymise",
            "--key",
            key.to_str().expect("path"),
            "--kind",
            kind,
        ])
        .env_remove("VIGIL_PSEUDONYM_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn vigil");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write");
    child.wait_with_output().expect("wait")
}

#[test]
fn pseudonyms_are_keyed_stable_and_never_echo_the_identifier() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let key_a = directory.path().join("a.key");
    let key_b = directory.path().join("b.key");
    for key in [&key_a, &key_b] {
        let output = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(["keygen", "--out", key.to_str().expect("path")])
            .output()
            .expect("keygen");
        assert!(output.status.success());
    }
    // A key file is never overwritten.
    let again = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["keygen", "--out", key_a.to_str().expect("path")])
        .output()
        .expect("keygen");
    assert_eq!(again.status.code(), Some(2));
    let first = pseudonymise(&key_a, "nhs_number", "943 476 5919\n9434765919\n");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let lines: Vec<String> = String::from_utf8_lossy(&first.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[0], lines[1],
        "the same number, spaced or not, gives the same pseudonym"
    );
    assert!(lines[0].starts_with("psn:") && !lines[0].contains("9434765919"));
    let other_key = pseudonymise(&key_b, "nhs_number", "9434765919\n");
    assert_ne!(
        String::from_utf8_lossy(&other_key.stdout).trim(),
        lines[0],
        "different keys are unlinkable"
    );
    let other_kind = pseudonymise(&key_a, "accession", "9434765919\n");
    assert_ne!(
        String::from_utf8_lossy(&other_kind.stdout).trim(),
        lines[0],
        "the kind is part of the pseudonym"
    );
    let invalid = pseudonymise(&key_a, "nhs_number", "9434765919\n9434765910\n");
    assert_eq!(invalid.status.code(), Some(2));
    let message = String::from_utf8_lossy(&invalid.stderr);
    assert!(message.contains("line 2"), "{message}");
    assert!(
        !message.contains("9434765910") && !message.contains("943476591"),
        "the number is not echoed: {message}"
    );
    assert!(
        invalid.stdout.is_empty(),
        "nothing is printed when any line is invalid"
    );
}

/// Two processes record conflicting decisions at the same moment: exactly
/// one is recorded, the other is refused as a conflict.
#[test]
fn concurrent_processes_record_exactly_one_of_two_conflicting_decisions() {
    let (_directory, db) = sqlite_database();
    populate(&db);
    let mut state = "live";
    for round in 0..6 {
        let to = if state == "live" { "suspended" } else { "live" };
        let racers: Vec<_> = (0..2)
            .map(|racer| {
                Command::new(env!("CARGO_BIN_EXE_vigil"))
                    .args([
                        "deployment",
                        "transition",
                        "1",
                        "--actor",
                        "cso",
                        "--from",
                        state,
                        "--to",
                        to,
                    ])
                    .args(["--reason", &format!("round {round}, racer {racer}")])
                    .env("VIGIL_DB", &db)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn vigil")
            })
            .collect();
        let outcomes: Vec<Output> = racers
            .into_iter()
            .map(|racer| racer.wait_with_output().expect("wait"))
            .collect();
        let winners = outcomes
            .iter()
            .filter(|outcome| outcome.status.success())
            .count();
        assert_eq!(
            winners, 1,
            "round {round}: exactly one decision is recorded"
        );
        let loser = outcomes
            .iter()
            .find(|outcome| !outcome.status.success())
            .expect("a refused decision");
        assert_eq!(loser.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&loser.stderr).contains("conflict"),
            "{}",
            String::from_utf8_lossy(&loser.stderr)
        );
        state = to;
    }
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&db, &["deployment", "show", "1", "--json"])).expect("JSON");
    assert_eq!(shown["decisions"].as_array().map(Vec::len), Some(4 + 6));
    check_verify(&db, &format!("ok: {} entries", POPULATED_ENTRIES + 6), 0);
}

#[test]
fn the_sign_off_policy_is_stored_audited_and_applied() {
    let (directory, db) = sqlite_database();
    populate(&db);
    let policy = directory.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[sign_off]\n\"live->suspended\" = [\"clinical_safety_officer\", \"clinical_lead\"]\n",
    )
    .expect("write policy");
    let refused = vigil(
        &db,
        &[
            "policy",
            "set",
            "--actor",
            "cso",
            "--file",
            policy.to_str().expect("path"),
        ],
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("may not change the sign-off policy")
    );
    let set: serde_json::Value = serde_json::from_str(&ok(
        &db,
        &[
            "policy",
            "set",
            "--actor",
            "admin",
            "--file",
            policy.to_str().expect("path"),
            "--json",
        ],
    ))
    .expect("JSON");
    assert_eq!(set["version"], 1);
    let shown = ok(&db, &["policy", "show"]);
    assert!(
        shown.contains("version 1")
            && shown.contains("live → suspended: clinical_safety_officer, clinical_lead"),
        "{shown}"
    );
    // The default would let the CSO suspend alone; the stored policy does not.
    let alone = vigil(
        &db,
        &[
            "deployment",
            "transition",
            "1",
            "--actor",
            "cso",
            "--to",
            "suspended",
            "--reason",
            "alert",
        ],
    );
    assert_eq!(alone.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&alone.stderr).contains("needs sign-off by: clinical_lead"));
    ok(
        &db,
        &[
            "deployment",
            "transition",
            "1",
            "--actor",
            "cso",
            "--to",
            "suspended",
            "--reason",
            "alert",
            "--sign-off",
            "lead:clinical_lead",
        ],
    );
    check_verify(&db, &format!("ok: {} entries", POPULATED_ENTRIES + 2), 0);
}

#[test]
fn a_decision_on_a_stale_revision_is_refused() {
    let (_directory, db) = sqlite_database();
    populate(&db);
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&db, &["deployment", "show", "1", "--json"])).expect("JSON");
    let seen = shown["revision"].as_i64().expect("revision").to_string();
    // Someone suspends and restores the deployment: the state is live again,
    // but the decision was made on what was seen before.
    ok(
        &db,
        &[
            "deployment",
            "transition",
            "1",
            "--actor",
            "cso",
            "--to",
            "suspended",
            "--reason",
            "alert",
        ],
    );
    ok(
        &db,
        &[
            "deployment",
            "transition",
            "1",
            "--actor",
            "cso",
            "--to",
            "live",
            "--reason",
            "cleared",
        ],
    );
    let stale = vigil(
        &db,
        &[
            "deployment",
            "transition",
            "1",
            "--actor",
            "cso",
            "--to",
            "suspended",
            "--reason",
            "x",
            "--revision",
            &seen,
        ],
    );
    assert_eq!(stale.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&stale.stderr).contains("conflict"));
}
