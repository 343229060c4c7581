//! Reading and routing the test objects of `tests/data` (made by
//! `generate.py` with pydicom and highdicom) against `expected.json`.

use std::path::PathBuf;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use vigil_dicom::{Arrival, Disposition, InstanceKind, ReadLimits, Routes, receive_part10};
use vigil_domain::{IdentifierKind, PseudonymKey, pseudonymise};

fn data(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn expected() -> serde_json::Value {
    serde_json::from_slice(&data("expected.json")).expect("expected.json")
}

fn key() -> PseudonymKey {
    PseudonymKey::from_bytes([42; 32])
}

const ROUTES: &str = r#"
[[route]]
deployment = 7
calling_ae_titles = ["AI_BOX"]
manufacturer = "example ai"
kinds = ["sr"]
score = "DCM:111047"
decision = "DCM:121071"
positive = ["SCT:263654008"]
negative = ["SCT:17621005"]

[[route]]
deployment = 8
kinds = ["seg"]
model_version = "fixed:seg-1"
positive_when_segments = true
"#;

/// Receives a file from a caller through the test routes.
fn check(name: &str, calling: &str) -> vigil_dicom::Received {
    let routes = Routes::from_toml(ROUTES).expect("routes");
    let zone = TimeZone::get("Europe/London").expect("zone");
    let key = key();
    let arrival = Arrival {
        key: &key,
        zone: &zone,
        calling_ae_title: calling,
        received_at: "2026-12-01T12:00:00Z".parse().expect("time"),
        limits: ReadLimits::default(),
    };
    receive_part10(&data(name), &routes, arrival).unwrap_or_else(|error| panic!("{name}: {error}"))
}

#[test]
fn reports_become_events_as_expected() {
    let expected = expected();
    for name in [
        "sr_positive.dcm",
        "sr_negative.dcm",
        "sr_positive_deflated.dcm",
    ] {
        let want = &expected[name];
        let received = check(name, "AI_BOX");
        assert_eq!(
            received.instance.kind,
            InstanceKind::StructuredReport,
            "{name}"
        );
        let Disposition::Event { deployment, event } = &received.disposition else {
            panic!("{name}: {:?}", received.disposition);
        };
        assert_eq!(*deployment, 7, "{name}");
        assert_eq!(event.score, want["score"].as_f64(), "{name}");
        assert_eq!(event.decision, want["decision"].as_bool(), "{name}");
        assert_eq!(
            event.model_version,
            want["model_version"].as_str().expect("version")
        );
        let occurred: Timestamp = want["occurred_at"]
            .as_str()
            .expect("time")
            .parse()
            .expect("time");
        assert_eq!(event.occurred_at, occurred, "{name}");
        // The case is the accession number pseudonymised as the RIS feeds
        // pseudonymise it, so outcomes find it; the event id is the
        // instance UID's pseudonym.
        let accession = if name == "sr_negative.dcm" {
            "ACC-1002"
        } else {
            "ACC-1001"
        };
        assert_eq!(
            event.case,
            pseudonymise(&key(), IdentifierKind::Accession, accession).expect("pseudonym")
        );
        assert_eq!(event.event_id, received.instance.sop_instance.as_str());
    }
}

#[test]
fn identifiers_are_kept_only_as_pseudonyms() {
    let received = check("sr_positive.dcm", "AI_BOX");
    let instance = &received.instance;
    for pseudonym in [
        Some(&instance.sop_instance),
        Some(&instance.study),
        instance.series.as_ref(),
        instance.accession.as_ref(),
        instance.patient.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(
            vigil_domain::is_pseudonym(pseudonym.as_str()),
            "{pseudonym:?}"
        );
    }
    assert_eq!(
        instance.sop_instance,
        pseudonymise(
            &key(),
            IdentifierKind::DicomUid,
            "1.2.826.0.1.3680043.10.1234.2.1"
        )
        .expect("pseudonym")
    );
    // Nothing else identifying is read: the debug form holds no UID, name
    // or accession number.
    let shown = format!("{instance:?}");
    for raw in ["1.2.826.0.1.3680043", "ACC-1001", "CompressedSamples"] {
        assert!(!shown.contains(raw), "{raw} in {shown}");
    }
}

#[test]
fn images_give_acquisition_metadata() {
    let expected = &expected()["ct_with_accession.dcm"];
    let received = check("ct_with_accession.dcm", "CT_SCANNER");
    assert_eq!(received.instance.kind, InstanceKind::Image);
    assert_eq!(received.disposition, Disposition::Acquisition);
    let metadata = &received.instance.acquisition;
    assert_eq!(
        metadata.scanner_manufacturer.as_deref(),
        expected["scanner_manufacturer"].as_str()
    );
    assert_eq!(
        metadata.slice_thickness_mm,
        expected["slice_thickness_mm"].as_f64()
    );
    assert_eq!(metadata.kvp, expected["kvp"].as_f64());
    assert_eq!(metadata.age_band.as_deref(), expected["age_band"].as_str());
    assert_eq!(
        metadata.sex.map(|sex| sex.as_str()),
        expected["sex"].as_str()
    );
    // pydicom's own files, without accession numbers, read too.
    for name in ["CT_small.dcm", "MR_small.dcm"] {
        assert_eq!(
            check(name, "CT_SCANNER").disposition,
            Disposition::Acquisition
        );
    }
}

#[test]
fn segmentations_route_by_kind() {
    let received = check("seg.dcm", "ANY");
    assert_eq!(received.instance.kind, InstanceKind::Segmentation);
    let Disposition::Event { deployment, event } = &received.disposition else {
        panic!("{:?}", received.disposition);
    };
    assert_eq!(
        (*deployment, event.decision, event.score),
        (8, Some(true), None)
    );
    assert_eq!(event.model_version, "seg-1");
}

#[test]
fn unroutable_results_are_quarantined_with_the_reason() {
    let cases = [
        (
            "sr_other_vendor.dcm",
            "AI_BOX",
            "no route takes a sr from AI_BOX made by Another Vendor",
        ),
        (
            "sr_positive.dcm",
            "OTHER_BOX",
            "no route takes a sr from OTHER_BOX made by Example AI",
        ),
        (
            "sr_no_accession.dcm",
            "AI_BOX",
            "deployment 7: the result has no AccessionNumber, so no outcome could ever be matched to it",
        ),
        (
            "rtstruct.dcm",
            "AI_BOX",
            "no route takes a rtstruct from AI_BOX made by",
        ),
        // pydicom's SR holds no probability item.
        ("test-SR.dcm", "AI_BOX", "no route takes a sr from AI_BOX"),
    ];
    for (name, calling, reason_start) in cases {
        match check(name, calling).disposition {
            Disposition::Quarantine { reason } => {
                assert!(reason.starts_with(reason_start), "{name}: {reason}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn a_route_that_cannot_read_the_report_says_what_is_missing() {
    let routes = r#"
[[route]]
deployment = 3
score = "99VENDOR:SCORE"
"#;
    let routes = Routes::from_toml(routes).expect("routes");
    let zone = TimeZone::UTC;
    let key = key();
    let arrival = Arrival {
        key: &key,
        zone: &zone,
        calling_ae_title: "AI_BOX",
        received_at: "2026-12-01T12:00:00Z".parse().expect("time"),
        limits: ReadLimits::default(),
    };
    let received = receive_part10(&data("sr_positive.dcm"), &routes, arrival).expect("read");
    assert_eq!(
        received.disposition,
        Disposition::Quarantine {
            reason: "deployment 3: the SR has no NUM item 99VENDOR:SCORE for the score".to_owned()
        }
    );
}

#[test]
fn invalid_routes_are_refused_with_their_number() {
    let cases = [
        (
            "[[route]]\ndeployment = 1\n",
            "route 1: the route reads neither a score nor a decision",
        ),
        (
            "[[route]]\ndeployment = 1\nscore = \"DCM\"\n",
            "route 1: score: \"DCM\" is not a code written SCHEME:VALUE (for example DCM:111047)",
        ),
        (
            "[[route]]\ndeployment = 1\nscore = \"DCM:1\"\n[[route]]\ndeployment = 2\nkinds = [\"xray\"]\nscore = \"DCM:1\"\n",
            "route 2: kinds: \"xray\" is not sr, seg or rtstruct",
        ),
        (
            "[[route]]\ndeployment = 1\ndecision = \"DCM:1\"\n",
            "route 1: decision: list the codes that mean positive in positive",
        ),
        (
            "[[route]]\ndeployment = 1\nscore = \"DCM:1\"\npositive_at_score = 1.5\n",
            "route 1: positive_at_score must be in [0, 1]",
        ),
    ];
    for (text, message) in cases {
        let error = Routes::from_toml(text).expect_err(text);
        assert_eq!(error.to_string(), message);
    }
    assert!(
        Routes::from_toml("[[route]]\ndeployment = 1\nscore = \"DCM:1\"\ncolour = 2\n")
            .expect_err("unknown field")
            .to_string()
            .contains("unknown field `colour`")
    );
}
