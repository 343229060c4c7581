//! End-to-end tests of `vigil evaluate`: the JSON contract, the report, exit
//! codes and the messages for bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/chest-xray-triage")
        .join(name)
}

fn vigil(arguments: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(arguments)
        .output()
        .expect("the vigil binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Writes `contents` to a fresh file and returns its directory and path.
fn csv_file(contents: &str) -> (tempfile::TempDir, String) {
    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("cases.csv");
    std::fs::write(&path, contents).expect("write cases");
    let path = path.to_string_lossy().into_owned();
    (directory, path)
}

#[test]
fn json_output_is_the_stable_contract() {
    let cases = data("cases.csv");
    let output = vigil(&[
        "evaluate",
        "--cases",
        cases.to_str().expect("path"),
        "--label",
        "truth",
        "--positive",
        "abnormal",
        "--score",
        "ai_score",
        "--compare",
        "old_score",
        "--threshold",
        "0.5",
        "--subgroup",
        "sex",
        "--subgroup",
        "site",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let mut json: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON document");
    // The source path differs between machines.
    json["source"] = "tests/data/cases.csv".into();
    insta::assert_json_snapshot!("evaluate_contract", json);
}

#[test]
fn the_example_passes_its_protocol_and_writes_a_self_contained_report() {
    let out = tempfile::tempdir().expect("temporary directory");
    let output = vigil(&[
        "evaluate",
        "--cases",
        example("cases.csv").to_str().expect("path"),
        "--protocol",
        example("protocol.toml").to_str().expect("path"),
        "--compare",
        "score_previous_version",
        "--out",
        out.path().to_str().expect("path"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("verdict: PASS"), "{summary}");
    let html = std::fs::read_to_string(out.path().join("report.html")).expect("report.html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(
        html.matches("<svg").count(),
        4,
        "ROC, reliability and two forest plots"
    );
    for external in ["<script", "<link", "src=\"http", "href=\"http", "url(http"] {
        assert!(
            !html.contains(external),
            "the report refers to an external asset: {external}"
        );
    }
    assert!(html.contains("ROC curve (AUC 0.924)"));
    let result: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("result.json")).expect("result.json"),
    )
    .expect("valid JSON");
    assert_eq!(result["verdict"], "pass");
    assert_eq!(result["n"], 5000);
    assert_eq!(result["threshold"], 0.35);
    assert_eq!(result["criteria"].as_array().map(Vec::len), Some(7));
}

#[test]
fn a_failed_criterion_exits_one() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let protocol = directory.path().join("strict.toml");
    std::fs::write(
        &protocol,
        "[operating_point]\nthreshold = 0.35\n[acceptance]\ncriteria = [\"sensitivity.ci_low >= 0.99\"]\n",
    )
    .expect("write protocol");
    let output = vigil(&[
        "evaluate",
        "--cases",
        example("cases.csv").to_str().expect("path"),
        "--protocol",
        protocol.to_str().expect("path"),
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json["criteria"][0]["passed"], false);
}

/// Runs `vigil evaluate` on `csv` with extra arguments and checks the exit
/// code and that standard error contains `expected` (with `{file}` standing
/// for the CSV's path).
#[track_caller]
fn check(csv: &str, extra: &[&str], expected_code: i32, expected: &str) {
    let (_directory, path) = csv_file(csv);
    let mut arguments = vec!["evaluate", "--cases", path.as_str(), "--json"];
    arguments.extend_from_slice(extra);
    let output = vigil(&arguments);
    let message = stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(expected_code),
        "stderr: {message}"
    );
    let expected = expected.replace("{file}", &path);
    assert!(
        message.contains(&expected),
        "expected {expected:?} in {message:?}"
    );
    if expected_code == 2 {
        assert!(
            output.stdout.is_empty(),
            "nothing is printed on an input error"
        );
    }
}

#[test]
fn bad_input_gets_a_specific_error() {
    let good = "label,score\n1,0.9\n0,0.2\n1,0.7\n0,0.4\n";
    check(
        "label,score\n1,0.9\n0,abc\n",
        &[],
        2,
        "{file}:3: column \"score\": \"abc\" is not a number",
    );
    check(
        "label,score\n1,0.9\n0,inf\n",
        &[],
        2,
        "{file}:3: column \"score\": \"inf\" is not a finite number",
    );
    check(
        good,
        &["--score", "probability"],
        2,
        "available columns: label, score",
    );
    check(
        "label,score\n1,0.9\n0,0.2\n2,0.5\n2,0.6\n",
        &[],
        2,
        "more than two values: \"1\" (1 rows), \"0\" (1 rows), \"2\" (2 rows)",
    );
    check(
        "label,score\n1,0.9\n0,\n1,0.3\n0,0.1\n",
        &[],
        2,
        "{file}:3: column \"score\" is missing (pass --drop-missing",
    );
    check(
        "label,score\nyes,0.9\nno,0.2\n",
        &["--positive", "maybe"],
        2,
        "the positive label \"maybe\" does not occur",
    );
    check(
        "label,score\npos,0.9\nneg,0.2\n",
        &[],
        2,
        "name the positive one with --positive",
    );
    check("label,score\n1,0.9\n1,0.2\n", &[], 2, "has only one value");
    check("label,score\n", &[], 2, "has no data rows");
    check(
        "label,score\n1,0.9,7\n",
        &[],
        2,
        "found record with 3 fields",
    );
    check(
        good,
        &["--threshold", "NaN"],
        2,
        "--threshold must be a finite number",
    );
}

#[test]
fn dropped_rows_are_counted_not_hidden() {
    let (_directory, path) = csv_file("label,score\n1,0.9\n0,\n1,NA\n0,0.1\n1,0.6\n0,0.3\n");
    let output = vigil(&["evaluate", "--cases", &path, "--drop-missing", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["dropped_missing"], 2);
    assert_eq!(json["n"], 4);
}

#[test]
fn bad_protocols_are_usage_errors() {
    let cases = example("cases.csv");
    let directory = tempfile::tempdir().expect("temporary directory");
    for (protocol, expected) in [
        (
            "[acceptance]\ncriteria = [\"sensitivity.ci_lo >= 0.9\"]\n",
            "unknown field \"ci_lo\"",
        ),
        (
            "[acceptance]\ncriteria = [\"sensitivity.ci_low = 0.9\"]\n",
            "expected PATH OP NUMBER",
        ),
        (
            "[operating_point]\nrule = \"target_sensitivity\"\n",
            "this rule needs a target",
        ),
        (
            "[analysis]\nconfidence_level = 95\n",
            "confidence_level = 95 must lie strictly between 0 and 1",
        ),
        ("[protocl]\ntitle = \"x\"\n", "unknown field `protocl`"),
    ] {
        let path = directory.path().join("protocol.toml");
        std::fs::write(&path, protocol).expect("write protocol");
        let output = vigil(&[
            "evaluate",
            "--cases",
            cases.to_str().expect("path"),
            "--protocol",
            path.to_str().expect("path"),
        ]);
        assert_eq!(output.status.code(), Some(2), "{protocol}");
        assert!(
            stderr(&output).contains(expected),
            "expected {expected:?} in {}",
            stderr(&output)
        );
    }
}

#[test]
fn the_text_summary_of_the_example() {
    let output = vigil(&[
        "evaluate",
        "--cases",
        example("cases.csv").to_str().expect("path"),
        "--protocol",
        example("protocol.toml").to_str().expect("path"),
        "--compare",
        "score_previous_version",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let summary = String::from_utf8_lossy(&output.stdout).replace(
        example("").to_str().expect("path"),
        "examples/chest-xray-triage/",
    );
    insta::assert_snapshot!("example_summary", summary);
}
