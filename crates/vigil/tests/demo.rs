//! `vigil demo` through the real binary: what it refuses before writing
//! anything, and a quick seeding (story deployments only) into a file that
//! replaces the previous demo database only once seeding has succeeded.

use std::process::{Command, Output};

fn vigil(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(arguments)
        .env_remove("VIGIL_DB")
        .output()
        .expect("the vigil binary runs")
}

#[test]
fn the_demo_refuses_to_overwrite_a_named_database_and_bad_options() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let existing = directory.path().join("trust.db");
    std::fs::write(&existing, b"not to be lost").expect("write");
    let path = existing.to_str().expect("path");
    for (arguments, expected) in [
        (
            vec!["--db", path, "demo", "--no-serve"],
            "exists; the demo writes a new database (pass --replace to overwrite it)",
        ),
        (
            vec!["--db", "postgres://localhost/x", "demo", "--no-serve"],
            "the demo writes a SQLite file",
        ),
        (
            vec![
                "--db",
                path,
                "demo",
                "--replace",
                "--ordinary-volume",
                "2",
                "--no-serve",
            ],
            "--ordinary-volume must lie between 0 and 1",
        ),
    ] {
        let output = vigil(&arguments);
        assert_eq!(output.status.code(), Some(2), "{arguments:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{arguments:?}: {stderr}");
    }
    assert_eq!(
        std::fs::read(&existing).expect("read"),
        b"not to be lost",
        "nothing was written"
    );
}

#[test]
fn the_demo_replaces_its_database_only_after_seeding() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let database = directory.path().join("demo.db");
    std::fs::write(&database, b"an earlier demo").expect("write");
    let path = database.to_str().expect("path");
    let output = vigil(&[
        "--db",
        path,
        "--json",
        "demo",
        "--replace",
        "--no-serve",
        "--ordinary-volume",
        "0",
        "--end",
        "2026-11-30",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("a JSON summary");
    assert_eq!(summary["deployments"], 31);
    assert_eq!(summary["password"], "vigil-demo-password");
    assert!(summary["events"].as_u64().expect("events") > 100_000);
    assert!(
        summary["users"]
            .as_array()
            .expect("users")
            .iter()
            .any(|user| user["user_name"] == "rsg.clinical-safety-officer")
    );
    // The seeded file replaced the old one; nothing is left beside it.
    assert_ne!(std::fs::read(&database).expect("read"), b"an earlier demo");
    let mut left: Vec<String> = std::fs::read_dir(directory.path())
        .expect("list")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".seeding"))
        .collect();
    left.sort();
    assert!(left.is_empty(), "{left:?}");
    // It is a Vigil database whose audit trail verifies.
    let verified = vigil(&["--db", path, "audit", "verify"]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
}
