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
    read_with(name, ROUTES)
}

/// Reads a file of `tests/data` with the given routes.
fn read_with(name: &str, routes: &str) -> Vec<Reading> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let body = std::fs::read(&path).expect("file");
    let routes = Routes::from_toml(routes).expect("routes");
    let received_at: Timestamp = "2026-12-01T12:00:00Z".parse().expect("time");
    read_outcomes(&body, &routes, &key(), received_at)
        .unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// A reading's outcomes as (deployment, accession, label, time), or why it
/// gave none.
type Summary = Result<Vec<(i64, String, bool, String)>, String>;

/// The accession number (of those in the files) a pseudonym stands for.
fn accession_of(case: &vigil_domain::Pseudonym) -> String {
    (1001..=1008)
        .map(|number| format!("ACC-{number}"))
        .find(|raw| {
            pseudonymise(&key(), IdentifierKind::Accession, raw).expect("pseudonym") == *case
        })
        .unwrap_or_else(|| "another case".to_owned())
}

/// A reading's report times as (accession, status, examined, issued), or
/// why they cannot be kept; `None` when it is not timed.
type Times = Option<Result<(String, &'static str, Option<String>, String), String>>;

fn times(reading: &Reading) -> Times {
    reading.timing.clone().map(|timing| {
        timing.map(|timing| {
            (
                accession_of(timing.case()),
                timing.status().as_str(),
                timing.examined_at().map(|time| time.to_string()),
                timing.issued_at().to_string(),
            )
        })
    })
}

/// The summary of a reading.
fn summary(reading: &Reading) -> Summary {
    reading.result.clone().map(|outcomes| {
        outcomes
            .into_iter()
            .map(|(deployment, outcome)| {
                assert_eq!(outcome.source, OutcomeSource::Report);
                (
                    deployment,
                    accession_of(&outcome.case),
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
            (7, Ok(vec![(1, "ACC-1008".to_owned(), true, "2026-11-30T10:09:00Z".to_owned())])),
        ]
    );
}

#[test]
fn reports_give_their_times_whatever_the_routes() {
    let owned = |text: &str| text.to_owned();
    // No route at all: times are kept before a tool is monitored too.
    let single = [
        (
            "report_positive.json",
            Some(Ok((
                owned("ACC-1001"),
                "final",
                Some(owned("2026-11-30T09:00:00Z")),
                owned("2026-11-30T10:05:00Z"),
            ))),
        ),
        (
            "report_contained_order.json",
            Some(Ok((
                owned("ACC-1002"),
                "final",
                None,
                owned("2026-11-30T10:00:00Z"),
            ))),
        ),
        // An observation is a result, not a report: it has no report times.
        ("observation_boolean.json", None),
    ];
    for (name, expected) in single {
        let readings = read_with(name, "");
        assert_eq!(times(&readings[0]), expected, "{name}");
    }
    let bundle: Vec<(usize, Times)> = read_with("bundle.json", "")
        .iter()
        .map(|reading| (reading.entry, times(reading)))
        .collect();
    assert_eq!(
        bundle,
        [
            (
                1,
                Some(Ok((
                    owned("ACC-1001"),
                    "final",
                    None,
                    owned("2026-11-30T10:05:00Z")
                )))
            ),
            // A preliminary report is timed (not an outcome); its examination
            // is its effective period's start.
            (
                2,
                Some(Ok((
                    owned("ACC-1005"),
                    "preliminary",
                    Some(owned("2026-11-30T09:30:00Z")),
                    owned("2026-11-30T10:06:00Z")
                )))
            ),
            (
                3,
                Some(Ok((
                    owned("ACC-1006"),
                    "final",
                    None,
                    owned("2026-11-30T10:07:00Z")
                )))
            ),
            (
                5,
                Some(Ok((
                    owned("ACC-1004"),
                    "final",
                    None,
                    owned("2026-11-30T12:00:00Z")
                )))
            ),
            (
                6,
                Some(Err(owned("its times: it carries no accession number")))
            ),
            (
                7,
                Some(Err(owned(
                    "its times: a report's examination (2026-11-30T11:00:00Z) cannot be after its issue (2026-11-30T10:09:00Z)"
                )))
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

#[test]
fn a_reports_interpreter_is_kept_as_a_pseudonym() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/report_positive.json");
    let mut report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("file")).expect("JSON");
    let received_at: Timestamp = "2026-12-01T12:00:00Z".parse().expect("time");
    let routes = Routes::from_toml(ROUTES).expect("routes");
    let reader_of = |report: &serde_json::Value| {
        let body = serde_json::to_vec(report).expect("JSON");
        let readings = read_outcomes(&body, &routes, &key(), received_at).expect("read");
        let timing = readings[0]
            .timing
            .clone()
            .expect("timed")
            .expect("valid times");
        timing.reader().map(|reader| reader.as_str().to_owned())
    };
    assert_eq!(reader_of(&report), None, "the file names no interpreter");
    report["resultsInterpreter"] =
        serde_json::json!([{"reference": "Practitioner/rad-17", "display": "Dr A Reader"}]);
    let expected = pseudonymise(&key(), IdentifierKind::Reader, "Practitioner/rad-17")
        .expect("pseudonym")
        .as_str()
        .to_owned();
    assert_eq!(reader_of(&report), Some(expected));
    // An identifier serves when there is no reference.
    report["resultsInterpreter"] =
        serde_json::json!([{"identifier": {"system": "urn:ris:staff", "value": "C4471"}}]);
    let expected = pseudonymise(&key(), IdentifierKind::Reader, "C4471")
        .expect("pseudonym")
        .as_str()
        .to_owned();
    assert_eq!(reader_of(&report), Some(expected));
}
