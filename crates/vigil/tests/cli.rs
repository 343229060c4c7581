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
        "label,score\n1,0.9\n0,NaN\n",
        &["--drop-missing"],
        2,
        "{file}:3: column \"score\": \"NaN\" is not a finite number",
    );
    check(
        "label,score\n1,nan\n0,0.2\n",
        &[],
        2,
        "{file}:2: column \"score\": \"nan\" is not a finite number",
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

/// Writes a protocol into `directory` and returns its path.
fn protocol_file(directory: &tempfile::TempDir, text: &str) -> String {
    let path = directory.path().join("protocol.toml");
    std::fs::write(&path, text).expect("write protocol");
    path.to_string_lossy().into_owned()
}

#[test]
fn criteria_need_an_operating_point_fixed_in_the_protocol() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let protocol = protocol_file(
        &directory,
        "[acceptance]\ncriteria = [\"sensitivity.ci_low >= 0.9\"]\n",
    );
    let cases = example("cases.csv");
    for extra in [&[][..], &["--threshold", "0.35"][..]] {
        let mut arguments = vec![
            "evaluate",
            "--cases",
            cases.to_str().expect("path"),
            "--protocol",
            protocol.as_str(),
        ];
        arguments.extend_from_slice(extra);
        let output = vigil(&arguments);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(
            stderr(&output).contains(
                "the protocol has acceptance criteria but no [operating_point]; the threshold must be fixed in the protocol before the data are seen"
            ),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn a_command_line_threshold_cannot_override_the_protocol() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let protocol = protocol_file(&directory, "[operating_point]\nthreshold = 0.35\n");
    let output = vigil(&[
        "evaluate",
        "--cases",
        example("cases.csv").to_str().expect("path"),
        "--protocol",
        &protocol,
        "--threshold",
        "0.5",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "the protocol fixes the operating point; remove --threshold or edit the protocol"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_comparison_criterion_without_compare_is_a_usage_error_before_reading() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let protocol = protocol_file(
        &directory,
        "[operating_point]\nthreshold = 0.35\n[acceptance]\ncriteria = [\"comparison.ci_low > 0\"]\n",
    );
    // The case table does not exist: the usage error must come first.
    let missing = directory.path().join("no-such-cases.csv");
    let output = vigil(&[
        "evaluate",
        "--cases",
        missing.to_str().expect("path"),
        "--protocol",
        &protocol,
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "criterion \"comparison.ci_low > 0\" needs a comparison score; pass --compare COLUMN"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_threshold_chosen_on_the_validation_data_is_flagged_and_warned_about() {
    let cases = example("cases.csv");
    let output = vigil(&[
        "evaluate",
        "--cases",
        cases.to_str().expect("path"),
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["threshold_chosen_on_validation_data"], true);
    let out = tempfile::tempdir().expect("temporary directory");
    let output = vigil(&[
        "evaluate",
        "--cases",
        cases.to_str().expect("path"),
        "--out",
        out.path().to_str().expect("path"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(
        summary.contains("WARNING: the threshold was chosen on these validation data (youden rule), so sensitivity, specificity and the other rates at it are optimistically biased"),
        "{summary}"
    );
    let html = std::fs::read_to_string(out.path().join("report.html")).expect("report.html");
    assert!(html.contains("<p class=\"warning\" role=\"alert\"><strong>Warning:</strong> the threshold was chosen on these validation data"));
    assert!(html.contains("optimistically biased"));
}

#[test]
fn a_missing_comparison_score_leaves_the_primary_analysis_alone() {
    let rows = "label,score,old\n1,0.9,0.8\n0,0.2,0.3\n1,0.7,NA\n0,0.4,0.5\n1,0.6,0.45\n0,0.3,\n1,0.35,0.2\n0,0.5,0.1\n";
    let (_directory, path) = csv_file(rows);
    let plain = vigil(&["evaluate", "--cases", &path, "--threshold", "0.5", "--json"]);
    let compared = vigil(&[
        "evaluate",
        "--cases",
        &path,
        "--threshold",
        "0.5",
        "--compare",
        "old",
        "--drop-missing",
        "--json",
    ]);
    assert_eq!(compared.status.code(), Some(0), "{}", stderr(&compared));
    let plain: serde_json::Value = serde_json::from_slice(&plain.stdout).expect("JSON");
    let compared: serde_json::Value = serde_json::from_slice(&compared.stdout).expect("JSON");
    assert_eq!(compared["n"], 8);
    assert_eq!(compared["dropped_missing"], 0);
    for key in ["auc", "sensitivity", "specificity", "ppv", "npv"] {
        assert_eq!(compared[key], plain[key], "{key}");
    }
    assert_eq!(compared["comparison"]["n"], 6);
    assert_eq!(compared["comparison"]["dropped_missing"], 2);
    check(
        rows,
        &["--compare", "old"],
        2,
        "{file}:4: column \"old\" is missing (pass --drop-missing",
    );
}

#[test]
fn an_unreachable_target_specificity_fails_the_criteria() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let protocol = protocol_file(
        &directory,
        "[operating_point]\nrule = \"target_specificity\"\ntarget = 0.999\n[acceptance]\ncriteria = [\"sensitivity.estimate >= 0.5\"]\n",
    );
    let (_cases_directory, path) =
        csv_file("label,score\n0,0.95\n1,0.9\n1,0.8\n0,0.3\n1,0.7\n0,0.1\n");
    let output = vigil(&[
        "evaluate",
        "--cases",
        &path,
        "--protocol",
        &protocol,
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(json["threshold"].as_f64().expect("threshold") > 0.95);
    assert_eq!(json["sensitivity"]["estimate"], 0.0);
    assert_eq!(json["specificity"]["estimate"], 1.0);
    assert!(
        json["threshold_note"]
            .as_str()
            .expect("a note")
            .contains("no observed score reaches the target specificity")
    );
    assert_eq!(json["criteria"][0]["passed"], false);
}

#[test]
fn quoted_subgroup_values_can_be_named_in_criteria() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let protocol = protocol_file(
        &directory,
        "[operating_point]\nthreshold = 0.5\n[analysis]\nminimum_subgroup_size = 4\nminimum_class_size = 2\n[acceptance]\ncriteria = [\n  'subgroup.age_band.\"<40\".sensitivity.estimate >= 0.5',\n  'subgroup.field.\"1.5T\".specificity.estimate >= 0.5',\n]\n",
    );
    let (_cases_directory, path) = csv_file(
        "label,score,age_band,field\n1,0.9,<40,1.5T\n0,0.2,<40,1.5T\n1,0.7,<40,1.5T\n0,0.4,<40,1.5T\n1,0.6,>=40,3T\n0,0.3,>=40,3T\n1,0.35,>=40,3T\n0,0.55,>=40,3T\n",
    );
    let output = vigil(&[
        "evaluate",
        "--cases",
        &path,
        "--protocol",
        &protocol,
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["verdict"], "pass", "{}", json["criteria"]);
    assert_eq!(json["criteria"][0]["actual"], 1.0);
}
