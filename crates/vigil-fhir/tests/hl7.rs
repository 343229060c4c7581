//! HL7 v2 ORU^R01 messages read into outcomes, and their acknowledgements.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use vigil_domain::{IdentifierKind, PseudonymKey, pseudonymise};
use vigil_fhir::Routes;
use vigil_fhir::hl7::{AckCode, Hl7Error, Message, ack, read_oru, time_of};

const ROUTES: &str = r#"
[[route]]
deployment = 1
codes = ["LN:30799-1"]
positive = ["SCT:50960005"]
negative = ["SCT:281900007"]
source = "report"
"#;

/// Two results: a final positive report on ACC-1001 and a preliminary one.
const ORU: &str = "MSH|^~\\&|RIS|RW3|VIGIL|RW3|20261130101500||ORU^R01^ORU_R01|MSG0001|P|2.4\r\
PID|1||123456^^^RW3^MR||DOE^JANE\r\
OBR|1|ORD1|ACC-1001|30799-1^CT Head^LN|||20261130090000|||||||||||||||20261130100500|||F\r\
OBX|1|CWE|CONCL^Conclusion^L||50960005^Hemorrhage^SCT||||||F\r\
OBX|2|TX|REPORT^Report text^L||Acute haemorrhage \\T\\ mass effect||||||F\r\
OBR|2|ORD2|ACC-1002|30799-1^CT Head^LN|||20261130091000|||||||||||||||20261130101000|||P\r\
OBX|1|CWE|CONCL^Conclusion^L||281900007^No abnormality^SCT||||||P\r";

fn key() -> PseudonymKey {
    PseudonymKey::from_bytes([9; 32])
}

fn london() -> TimeZone {
    TimeZone::get("Europe/London").expect("zone")
}

#[test]
fn each_result_group_becomes_an_outcome_or_a_reason() {
    let message = Message::parse(ORU.as_bytes()).expect("message");
    assert_eq!(message.message_type(), "ORU^R01");
    assert_eq!(message.control_id(), "MSG0001");
    let routes = Routes::from_toml(ROUTES).expect("routes");
    let received_at: Timestamp = "2026-12-01T12:00:00Z".parse().expect("time");
    let readings = read_oru(&message, &routes, &key(), &london(), received_at).expect("read");
    assert_eq!(readings.len(), 2);
    let outcomes = readings[0]
        .result
        .as_ref()
        .expect("the first group is final");
    assert_eq!(outcomes.len(), 1);
    let (deployment, outcome) = &outcomes[0];
    assert_eq!(*deployment, 1);
    assert!(outcome.label);
    assert_eq!(
        outcome.case,
        pseudonymise(&key(), IdentifierKind::Accession, "ACC-1001").expect("pseudonym")
    );
    // 10:05 in London on 30 November is 10:05 UTC.
    assert_eq!(outcome.recorded_at.to_string(), "2026-11-30T10:05:00Z");
    assert_eq!(readings[1].group, "2");
    assert_eq!(
        readings[1].result,
        Err(
            "its result status (OBR-25) is \"P\"; only F (final) and C (corrected) are outcomes"
                .to_owned()
        )
    );
    // Both reports are timed, the preliminary one too: OBR-7 is the
    // examination, OBR-22 the issue.
    let timed: Vec<(bool, &str, String, String)> = readings
        .iter()
        .map(|reading| {
            let timing = reading
                .timing
                .as_ref()
                .expect("timed")
                .as_ref()
                .expect("valid times");
            (
                timing.case()
                    == &pseudonymise(&key(), IdentifierKind::Accession, "ACC-1001")
                        .expect("pseudonym"),
                timing.status().as_str(),
                timing.examined_at().expect("examined").to_string(),
                timing.issued_at().to_string(),
            )
        })
        .collect();
    assert_eq!(
        timed,
        [
            (
                true,
                "final",
                "2026-11-30T09:00:00Z".to_owned(),
                "2026-11-30T10:05:00Z".to_owned()
            ),
            (
                false,
                "preliminary",
                "2026-11-30T09:10:00Z".to_owned(),
                "2026-11-30T10:10:00Z".to_owned()
            ),
        ]
    );
}

#[test]
fn report_times_that_cannot_be_kept_say_why() {
    let message = "MSH|^~\\&|RIS|RW3|VIGIL|RW3|20261130121500||ORU^R01|MSG0009|P|2.4\r\
OBR|1|ORD1|ACC-1001|30799-1^CT Head^LN|||20261130110000|||||||||||||||20261130100500|||F\r\
OBR|2|ORD2|ACC-1002|30799-1^CT Head^LN|||2026113|||||||||||||||20261130100500|||F\r\
OBR|3|ORD3|ACC-1003|30799-1^CT Head^LN|||20261130090000|||||||||||||||20261130100500|||X\r";
    let message = Message::parse(message.as_bytes()).expect("message");
    let received_at: Timestamp = "2026-12-01T12:00:00Z".parse().expect("time");
    let readings =
        read_oru(&message, &Routes::default(), &key(), &london(), received_at).expect("read");
    let timings: Vec<Option<Result<(), String>>> = readings
        .into_iter()
        .map(|reading| reading.timing.map(|timing| timing.map(|_| ())))
        .collect();
    assert_eq!(
        timings,
        [
            Some(Err("its times: a report's examination (2026-11-30T11:00:00Z) cannot be after its issue (2026-11-30T10:05:00Z)".to_owned())),
            Some(Err("its times: its observation time (OBR-7) is not valid".to_owned())),
            // A status other than P, F or C is not timed.
            None,
        ]
    );
}

#[test]
fn times_follow_the_zone_unless_they_state_an_offset() {
    let cases = [
        ("20260715143000", Some("2026-07-15T13:30:00Z")),
        ("20260715143000+0000", Some("2026-07-15T14:30:00Z")),
        ("20260715143000-0500", Some("2026-07-15T19:30:00Z")),
        ("202607151430", Some("2026-07-15T13:30:00Z")),
        ("20260715", Some("2026-07-14T23:00:00Z")),
        ("2026071", None),
        ("20261345", None),
        ("20260715143000+05", None),
        // Five bytes that are not ±HHMM: a multi-byte character (found by
        // fuzzing, where slicing it panicked) and letters.
        ("202611301000-\u{fffd}0", None),
        ("20261130100000+05é", None),
        ("20260715143000+0a00", None),
    ];
    for (raw, expected) in cases {
        assert_eq!(
            time_of(raw, &london()).map(|time| time.to_string()),
            expected.map(str::to_owned),
            "{raw}"
        );
    }
}

#[test]
fn other_messages_are_refused_and_acknowledged() {
    let admission =
        "MSH|^~\\&|PAS|RW3|VIGIL|RW3|20261130101500||ADT^A01|MSG0002|P|2.4\rPID|1||123\r";
    let message = Message::parse(admission.as_bytes()).expect("message");
    let routes = Routes::default();
    let at: Timestamp = "2026-12-01T12:00:00Z".parse().expect("time");
    assert_eq!(
        read_oru(&message, &routes, &key(), &london(), at),
        Err(Hl7Error::NotOru("ADT^A01".to_owned()))
    );
    let answer = ack(
        Some(&message),
        AckCode::Reject,
        "not an ORU^R01 | sorry",
        at,
    );
    assert_eq!(
        String::from_utf8(answer).expect("text"),
        // The delimiters of the free text are blanked.
        "MSH|^~\\&|VIGIL|RW3|PAS|RW3|20261201120000+0000||ACK^R01^ACK|ACKMSG0002|P|2.4\rMSA|AR|MSG0002|not an ORU R01   sorry\r"
    );
    for (bytes, expected) in [
        (&b"PID|1||123\r"[..], Hl7Error::NoHeader),
        (&b"MSH|^~"[..], Hl7Error::BadEncodingCharacters),
    ] {
        assert_eq!(Message::parse(bytes), Err(expected));
    }
    assert_eq!(Message::parse(&vec![b'M'; 2 << 20]), Err(Hl7Error::TooLong));
}

#[test]
fn the_reader_of_a_report_is_kept_as_a_pseudonym_of_obr_32() {
    // OBR-32 (principal result interpreter): an identifier, a name only, or
    // nothing.
    let message = "MSH|^~\\&|RIS|RW3|VIGIL|RW3|20261130121500||ORU^R01|MSG0010|P|2.4\r\
OBR|1|ORD1|ACC-1001|30799-1^CT Head^LN|||20261130090000|||||||||||||||20261130100500|||F|||||||C4471&SMITH&JANE\r\
OBR|2|ORD2|ACC-1002|30799-1^CT Head^LN|||20261130090000|||||||||||||||20261130100500|||F|||||||&JONES&AMY\r\
OBR|3|ORD3|ACC-1003|30799-1^CT Head^LN|||20261130090000|||||||||||||||20261130100500|||F\r";
    let message = Message::parse(message.as_bytes()).expect("message");
    let received_at: Timestamp = "2026-12-01T12:00:00Z".parse().expect("time");
    let readings =
        read_oru(&message, &Routes::default(), &key(), &london(), received_at).expect("read");
    let readers: Vec<Option<String>> = readings
        .iter()
        .map(|reading| {
            let timing = reading
                .timing
                .as_ref()
                .expect("timed")
                .as_ref()
                .expect("valid");
            timing.reader().map(|reader| reader.as_str().to_owned())
        })
        .collect();
    let pseudonym = |raw: &str| {
        Some(
            pseudonymise(&key(), IdentifierKind::Reader, raw)
                .expect("pseudonym")
                .as_str()
                .to_owned(),
        )
    };
    assert_eq!(readers, [pseudonym("C4471"), pseudonym("JONES&AMY"), None]);
    assert!(
        readers
            .iter()
            .flatten()
            .all(|reader| !reader.contains("C4471") && !reader.contains("JONES")),
        "never the identifier itself"
    );
}
