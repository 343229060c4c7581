//! What the command-line tests share: running the binary on a database,
//! and a database with a deployment to work on.

use std::path::Path;
use std::process::{Command, Output};

/// Runs a `vigil` command on the database, with no actor or key from the
/// environment, and returns what it did.
pub fn run(database: &Path, arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(arguments)
        .env("VIGIL_DB", database)
        .env_remove("VIGIL_ACTOR")
        .env_remove("VIGIL_PSEUDONYM_KEY")
        .output()
        .expect("the vigil binary runs")
}

/// Runs a `vigil` command on the database and returns its standard output;
/// the test fails with the command's standard error if it fails.
#[track_caller]
pub fn vigil(database: &Path, arguments: &[&str]) -> String {
    let output = run(database, arguments);
    assert!(
        output.status.success(),
        "vigil {arguments:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Makes the database: the example organisations, an AI lead at the Trust
/// rw3, a product, its version, a deployment at rw3's main site, the Trust's
/// pseudonymisation key and an API token with the AI lead's role. Returns
/// the token's secret.
pub fn set_up_database(database: &Path, key_file: &Path) -> String {
    let organisations =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/organisations.toml");
    let organisations = organisations.to_str().expect("the path is UTF-8");
    vigil(
        database,
        &["init", "--organisations", organisations, "--admin", "admin"],
    );
    vigil(
        database,
        &[
            "user",
            "add",
            "--actor",
            "admin",
            "--user-name",
            "ailead",
            "--display-name",
            "AI lead",
            "--user-role",
            "ai_lead",
            "--organisation",
            "rw3",
        ],
    );
    vigil(
        database,
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
    );
    vigil(
        database,
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
            "first",
            "--change",
            "initial",
        ],
    );
    vigil(
        database,
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
    vigil(
        database,
        &[
            "keygen",
            "--out",
            key_file.to_str().expect("the path is UTF-8"),
        ],
    );
    let created = vigil(
        database,
        &[
            "--json",
            "token",
            "create",
            "--actor",
            "admin",
            "--name",
            "feed",
            "--organisation",
            "rw3",
            "--token-role",
            "ai_lead",
        ],
    );
    let created: serde_json::Value =
        serde_json::from_str(&created).expect("token create answers JSON");
    created["secret"]
        .as_str()
        .expect("the new token has a secret")
        .to_owned()
}
