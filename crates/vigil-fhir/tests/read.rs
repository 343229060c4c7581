//! Reading the FHIR bodies of `tests/data` (written by `generate.py` and
//! validated there with fhir.resources) into outcomes.

use std::path::PathBuf;

use jiff::Timestamp;
use vigil_domain::{IdentifierKind, PseudonymKey, pseudonymise};
use vigil_fhir::{FhirError, Reading, Routes, read_outcomes};
use vigil_monitor::OutcomeSource;

const ROUTES: &str = r#"
[[route]]
deployment = 1
codes = ["LN:30799-1", "SCT:50960005"]
positive = ["SCT:50960005"]
negative = ["SCT:281900007"]
source = "report"
"#;

fn key() -> PseudonymKey {
    PseudonymKey::from_bytes([5; 32])
}

fn check(name: &str) -> Vec<Reading> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let body = std::fs::read(&path).expect("file");
    let routes = Routes::from_toml(ROUTES).expect("routes");
    let received_at: Timestamp = "2026-12-01T12:00:00Z".parse().expect("time");
    read_outcomes(&body, &routes, &key(), received_at)
        .unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// A reading's outcomes as (deployment, accession, label, time), or why it
/// gave none.
type Summary = Result<Vec<(i64, String, bool, String)>, String>;

/// The summary of a reading.
fn summary(reading: &Reading) -> Summary {
    reading.result.clone().map(|outcomes| {
        outcomes
            .into_iter()
            .map(|(deployment, outcome)| {
                assert_eq!(outcome.source, OutcomeSource::Report);
                let accession = ["ACC-1001", "ACC-1002", "ACC-1003", "ACC-1004"]
                    .into_iter()
                    .find(|raw| {
                        pseudonymise(&key(), IdentifierKind::Accession, raw).expect("pseudonym")
                            == outcome.case
                    })
                    .unwrap_or("another case");
                (
                    deployment,
                    accession.to_owned(),
                    outcome.label,
                    outcome.recorded_at.to_string(),
                )
            })
            .collect()
    })
}

#[test]
fn single_resources_become_outcomes() {
    let cases = [
        (
            "report_positive.json",
            (1, "ACC-1001", true, "2026-11-30T10:05:00Z"),
        ),
        // The accession number of the contained order; the offset applied.
        (
            "report_contained_order.json",
            (1, "ACC-1002", false, "2026-11-30T10:00:00Z"),
        ),
        // A boolean observation of the condition; a date alone is midnight UTC.
        (
            "observation_boolean.json",
            (1, "ACC-1003", true, "2026-11-29T00:00:00Z"),
        ),
    ];
    for (name, (deployment, accession, label, time)) in cases {
        let readings = check(name);
        assert_eq!(readings.len(), 1, "{name}");
        assert_eq!(readings[0].entry, 0);
        assert_eq!(
            summary(&readings[0]),
            Ok(vec![(
                deployment,
                accession.to_owned(),
                label,
                time.to_owned()
            )]),
            "{name}"
        );
    }
}

#[test]
fn a_bundle_is_read_entry_by_entry_with_reasons() {
    let readings = check("bundle.json");
    let entries: Vec<(usize, Summary)> = readings
        .iter()
        .map(|reading| (reading.entry, summary(reading)))
        .collect();
    assert_eq!(
        entries,
        [
            (1, Ok(vec![(1, "ACC-1001".to_owned(), true, "2026-11-30T10:05:00Z".to_owned())])),
            (
                2,
                Err("its status is \"preliminary\"; only final, amended or corrected results are outcomes".to_owned())
            ),
            (3, Err("deployment 1: none of its codes is listed as positive or negative".to_owned())),
            // The request it is based on is another entry of the Bundle.
            (5, Ok(vec![(1, "ACC-1004".to_owned(), true, "2026-11-30T12:00:00Z".to_owned())])),
            (
                6,
                Err("it carries no accession number (an identifier of type ACSN), on itself or the request it is based on".to_owned())
            ),
        ]
    );
}

#[test]
fn bodies_that_are_not_reports_are_refused_whole() {
    let routes = Routes::default();
    let at: Timestamp = "2026-12-01T12:00:00Z".parse().expect("time");
    let cases: [(&[u8], FhirError); 3] = [
        (
            b"{\"resourceType\": \"Patient\"}",
            FhirError::UnsupportedResource("Patient".to_owned()),
        ),
        (b"{\"status\": \"final\"}", FhirError::NoResourceType),
        (
            b"[1, 2",
            FhirError::NotJson("EOF while parsing a list at line 1 column 5".to_owned()),
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(read_outcomes(body, &routes, &key(), at), Err(expected));
    }
    // Deep nesting is an error, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(
        read_outcomes(deep.as_bytes(), &routes, &key(), at),
        Err(FhirError::NotJson(_))
    ));
}

#[test]
fn invalid_routes_are_refused_with_their_number() {
    let cases = [
        (
            "[[route]]\ndeployment = 1\nsource = \"report\"\n",
            "route 1: positive: list the codes that mean the condition is present",
        ),
        (
            "[[route]]\ndeployment = 1\npositive = [\"SCT:1\"]\nsource = \"gossip\"\n",
            "route 1: source: \"gossip\" is not report, pathology, follow_up or reader",
        ),
        (
            "[[route]]\ndeployment = 1\npositive = [\"SCT:1\"]\nnegative = [\"SCT:1\"]\nsource = \"report\"\n",
            "route 1: http://snomed.info/sct:1 is both positive and negative",
        ),
        (
            "[[route]]\ndeployment = 1\npositive = [\"50960005\"]\nsource = \"report\"\n",
            "route 1: positive: \"50960005\" is not a code written SYSTEM:CODE (for example SCT:50960005)",
        ),
    ];
    for (text, message) in cases {
        assert_eq!(
            Routes::from_toml(text).expect_err(text).to_string(),
            message
        );
    }
}
