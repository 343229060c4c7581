//! `vigil contours` end to end on the structures of
//! `crates/vigil-structures/tests/data` (a synthetic CT, an RTSTRUCT drawn
//! on it, the same structures as a DICOM SEG and a NIfTI label map):
//! identical structures agree perfectly whatever the file kind, names are
//! matched through TG-263 and a user map, unmatched structures are reported,
//! a cohort is judged against its protocol, and its result is stored as a
//! deployment's validation.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vigil-structures/tests/data")
        .join(name)
}

fn contours(arguments: &[&str], database: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vigil"));
    command
        .arg("contours")
        .args(arguments)
        .env_remove("VIGIL_ACTOR");
    match database {
        Some(database) => command.env("VIGIL_DB", database),
        None => command.env_remove("VIGIL_DB"),
    };
    command.output().expect("the vigil binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path_text(path: &Path) -> &str {
    path.to_str().expect("the path is UTF-8")
}

/// Copies the synthetic CT series into `folder/images`.
fn copy_images(folder: &Path) {
    let images = folder.join("images");
    std::fs::create_dir_all(&images).expect("images folder");
    for entry in std::fs::read_dir(data("ct")).expect("the CT") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|extension| extension == "dcm") {
            std::fs::copy(&path, images.join(path.file_name().expect("name"))).expect("copy");
        }
    }
}

#[test]
fn identical_structures_agree_perfectly_whatever_the_file_kind() {
    let images = data("ct");
    let output = contours(
        &[
            "compare",
            "--reference",
            path_text(&data("rtstruct.dcm")),
            "--test",
            path_text(&data("seg.dcm")),
            "--images",
            path_text(&images),
            "--json",
        ],
        None,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let list: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let list = list.as_array().expect("a list");
    assert_eq!(list.len(), 4, "{list:?}");
    let names: Vec<&str> = list
        .iter()
        .map(|entry| entry["structure"].as_str().expect("structure"))
        .collect();
    // "LT PAROTID" in the RTSTRUCT is matched to the SEG's name through
    // the TG-263 table.
    assert!(names.contains(&"Parotid_L"), "{names:?}");
    for entry in list {
        for (field, expected) in [
            ("dice", 1.0),
            ("jaccard", 1.0),
            ("hausdorff_mm", 0.0),
            ("hd95_mm", 0.0),
            ("msd_mm", 0.0),
            ("surface_dice", 1.0),
            ("added_path_length_mm", 0.0),
        ] {
            assert_eq!(entry[field].as_f64(), Some(expected), "{field}: {entry}");
        }
        assert_eq!(entry["volume_reference_cc"], entry["volume_test_cc"]);
        assert!(entry["volume_reference_cc"].as_f64().expect("volume") > 0.0);
    }
    // What the RTSTRUCT holds but cannot compare is said, not dropped.
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("'Isocenter' has no CLOSED_PLANAR contour"),
        "{stderr}"
    );
}

#[test]
fn unmatched_names_are_reported_and_a_user_map_matches_them() {
    let scratch = tempfile::tempdir().expect("scratch");
    let arguments = |names: Option<&str>| {
        let mut arguments = vec![
            "compare".to_owned(),
            "--reference".to_owned(),
            path_text(&data("rtstruct.dcm")).to_owned(),
            "--test".to_owned(),
            path_text(&data("labels.nii.gz")).to_owned(),
            "--images".to_owned(),
            path_text(&data("ct")).to_owned(),
            "--json".to_owned(),
        ];
        if let Some(names) = names {
            arguments.extend(["--names".to_owned(), names.to_owned()]);
        }
        arguments
    };
    let unmapped = arguments(None);
    let output = contours(
        &unmapped.iter().map(String::as_str).collect::<Vec<_>>(),
        None,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    // Reference structures that match nothing count as not drawn by the
    // tool: Dice and surface Dice 0, distances undefined.
    let unmatched: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let unmatched = unmatched.as_array().expect("a list");
    assert_eq!(unmatched.len(), 4, "{unmatched:?}");
    for entry in unmatched {
        assert_eq!(entry["dice"].as_f64(), Some(0.0), "{entry}");
        assert_eq!(entry["surface_dice"].as_f64(), Some(0.0), "{entry}");
        assert!(entry["hd95_mm"].is_null(), "{entry}");
        assert_eq!(entry["volume_test_cc"].as_f64(), Some(0.0), "{entry}");
    }
    let stderr = text(&output.stderr);
    for expected in [
        "unmatched structure, not compared: patient: reference \"GTV\"",
        "unmatched structure, not compared: patient: test \"label-1\"",
    ] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    // The label map's labels 1, 2, 3 and 5 are the RTSTRUCT's ROIs 1, 2, 3
    // and 5.
    let map = scratch.path().join("names.toml");
    std::fs::write(
        &map,
        "[map]\n\"label-1\" = \"GTV\"\n\"label-2\" = \"Esophagus\"\n\"label-3\" = \"Lungs\"\n\"label-5\" = \"Parotid_L\"\n",
    )
    .expect("map");
    let mapped = arguments(Some(path_text(&map)));
    let output = contours(&mapped.iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let list: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(list.as_array().expect("a list").len(), 4, "{list}");
    assert!(
        list.as_array()
            .expect("a list")
            .iter()
            .all(|entry| entry["dice"].as_f64() == Some(1.0)),
        "{list}"
    );
    assert!(!text(&output.stderr).contains("unmatched"));
}

#[test]
fn structures_on_different_grids_are_not_compared_as_if_aligned() {
    // The sparse SEG holds only the frames with structure, so on its own
    // grid it starts a slice later than the full SEG.
    let arguments = |images: Option<PathBuf>| {
        let mut arguments: Vec<String> = [
            "compare",
            "--reference",
            path_text(&data("seg.dcm")),
            "--test",
            path_text(&data("seg_sparse.dcm")),
            "--json",
        ]
        .map(str::to_owned)
        .to_vec();
        if let Some(images) = images {
            arguments.extend(["--images".to_owned(), path_text(&images).to_owned()]);
        }
        arguments
    };
    let apart = arguments(None);
    let output = contours(&apart.iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("lie on different grids"),
        "{}",
        text(&output.stderr)
    );
    // Placed on the image series, both are the same structures.
    let placed = arguments(Some(data("ct")));
    let output = contours(&placed.iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let list: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(!list.as_array().expect("a list").is_empty());
    assert!(
        list.as_array()
            .expect("a list")
            .iter()
            .all(|entry| entry["dice"].as_f64() == Some(1.0)),
        "{list}"
    );
}

#[test]
fn bad_input_is_a_usage_error_naming_the_problem() {
    let scratch = tempfile::tempdir().expect("scratch");
    let bad_protocol = scratch.path().join("protocol.toml");
    std::fs::write(
        &bad_protocol,
        "[[criterion]]\nmetric = \"hd95\"\nat_most = 3.0\n",
    )
    .expect("protocol");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "compare",
                "--reference",
                path_text(&data("rtstruct.dcm")),
                "--test",
                path_text(&data("seg.dcm")),
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
            "is an RTSTRUCT: give the folder of its image series",
        ),
        (
            vec![
                "compare",
                "--reference",
                path_text(&data("seg.dcm")),
                "--test",
                path_text(&data("seg.dcm")),
                "--tolerance-mm=-1",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
            "--tolerance-mm must be a finite number of mm, at least 0",
        ),
        (
            [
                "compare",
                "--reference",
                path_text(&data("oblique_rtstruct.dcm")),
                "--test",
                path_text(&data("oblique_rtstruct.dcm")),
                "--images",
                path_text(&data("ct")),
            ]
            .map(str::to_owned)
            .to_vec(),
            "is not the image series' frame of reference",
        ),
        (
            vec![
                "compare",
                "--reference",
                path_text(&data("ct/image00.dcm")),
                "--test",
                path_text(&data("seg.dcm")),
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
            "not an RT Structure Set",
        ),
        (
            vec![
                "cohort",
                path_text(scratch.path()),
                "--protocol",
                path_text(&bad_protocol),
            ]
            .into_iter()
            .map(str::to_owned)
            .collect(),
            "unknown metric \"hd95\"; use one of dice, jaccard, hausdorff_mm, hd95_mm",
        ),
        (
            vec!["cohort", path_text(scratch.path())]
                .into_iter()
                .map(str::to_owned)
                .collect(),
            "has no patient folders",
        ),
    ];
    for (arguments, expected) in cases {
        let output = contours(
            &arguments.iter().map(String::as_str).collect::<Vec<_>>(),
            None,
        );
        assert_eq!(output.status.code(), Some(2), "{arguments:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(expected), "{arguments:?}: {stderr}");
    }
}

#[test]
fn a_cohort_is_judged_reported_and_stored_as_a_validation() {
    let scratch = tempfile::tempdir().expect("scratch");
    let cohort = scratch.path().join("cohort");
    // Patient 1: RTSTRUCT on its CT against the SEG; patient 2: the label
    // map against itself (names by the map below).
    let first = cohort.join("patient-01");
    copy_images(&first);
    std::fs::copy(data("rtstruct.dcm"), first.join("reference.dcm")).expect("copy");
    std::fs::copy(data("seg.dcm"), first.join("test.dcm")).expect("copy");
    let second = cohort.join("patient-02");
    std::fs::create_dir_all(&second).expect("folder");
    std::fs::copy(data("labels.nii.gz"), second.join("reference.nii.gz")).expect("copy");
    std::fs::copy(data("labels.nii.gz"), second.join("test.nii.gz")).expect("copy");
    let map = scratch.path().join("names.toml");
    std::fs::write(
        &map,
        "[map]\n\"label-1\" = \"GTV\"\n\"label-2\" = \"Esophagus\"\n\"label-3\" = \"Lungs\"\n\"label-5\" = \"Parotid_L\"\n",
    )
    .expect("map");
    let protocol = scratch.path().join("protocol.toml");
    std::fs::write(
        &protocol,
        "title = \"OAR commissioning\"\nminimum_patients = 2\n\n[[criterion]]\nmetric = \"surface_dice\"\nat_least = 0.9\n\n[[criterion]]\nstructures = [\"Parotid_L\"]\nmetric = \"hd95_mm\"\nstatistic = \"maximum\"\nat_most = 1.0\n",
    )
    .expect("protocol");
    let out = scratch.path().join("out");
    let base = [
        "cohort",
        path_text(&cohort),
        "--names",
        path_text(&map),
        "--json",
        "--out",
        path_text(&out),
    ];
    let mut arguments = base.to_vec();
    arguments.extend(["--protocol", path_text(&protocol)]);
    let output = contours(&arguments, None);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let result: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(result["verdict"], "pass");
    assert_eq!(result["patients"], 2);
    assert_eq!(result["structures"].as_array().expect("entries").len(), 8);
    let criteria = result["criteria"].as_array().expect("criteria");
    assert_eq!(criteria.len(), 5, "four structures, then the parotid");
    assert!(
        criteria
            .iter()
            .all(|criterion| criterion["outcome"] == "met")
    );
    let median = result["distributions"]
        .as_array()
        .expect("distributions")
        .iter()
        .find(|distribution| {
            distribution["structure"] == "GTV" && distribution["metric"] == "surface_dice"
        })
        .expect("the GTV's surface Dice");
    assert_eq!(median["median"].as_f64(), Some(1.0));
    assert_eq!(median["patients"], 2);
    let report = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert!(report.contains("PASS: every acceptance criterion is met"));
    assert!(report.contains("OAR commissioning"));
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("result.json")).expect("result"))
            .expect("JSON");
    assert_eq!(written, result);

    // A structure the cohort lacks fails the protocol: exit 1.
    let failing = scratch.path().join("failing.toml");
    std::fs::write(
        &failing,
        "[[criterion]]\nstructures = [\"Brainstem\"]\nmetric = \"dice\"\nat_least = 0.8\n",
    )
    .expect("protocol");
    let mut arguments = base.to_vec();
    arguments.extend(["--protocol", path_text(&failing)]);
    let output = contours(&arguments, None);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let result: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(result["criteria"][0]["outcome"], "structure_missing");

    // Stored as the validation of a deployment, by a user who may.
    let database = scratch.path().join("vigil.db");
    support::set_up_database(&database, &scratch.path().join("key"));
    let mut arguments = base.to_vec();
    arguments.extend([
        "--protocol",
        path_text(&protocol),
        "--deployment",
        "1",
        "--actor",
        "ailead",
    ]);
    let output = contours(&arguments, Some(&database));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stored = Command::new("sqlite3")
        .arg(&database)
        .arg("SELECT verdict, deployment_id, created_by FROM evaluations")
        .output()
        .expect("sqlite3 (installed by .ci/run)");
    assert_eq!(text(&stored.stdout).trim(), "pass|1|ailead");
    let report = Command::new("sqlite3")
        .arg(&database)
        .arg("SELECT count(*) FROM evaluations WHERE report LIKE '%OAR commissioning%' AND result LIKE '%contour_agreement%'")
        .output()
        .expect("sqlite3");
    assert_eq!(text(&report.stdout).trim(), "1");
    // Someone who may not run evaluations stores nothing.
    let mut arguments = base.to_vec();
    arguments.extend(["--deployment", "1", "--actor", "admin"]);
    let output = contours(&arguments, Some(&database));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("may not store a validation"),
        "{}",
        text(&output.stderr)
    );
    let count = Command::new("sqlite3")
        .arg(&database)
        .arg("SELECT count(*) FROM evaluations")
        .output()
        .expect("sqlite3");
    assert_eq!(text(&count.stdout).trim(), "1");
}
