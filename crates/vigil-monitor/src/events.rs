//! A batch of inference events, read and validated whole before anything is
//! stored.
//!
//! One event is one result of the tool on one case:
//!
//! | field | type | rule |
//! | --- | --- | --- |
//! | `event_id` | text | required, at most 128 characters; the idempotency key within a deployment, kept as a keyed hash when the Trust's key is configured (feeds often use accession numbers) |
//! | `case_id` | text | required; an accession number, pseudonymised on arrival with the Trust's key, or a pseudonym (`psn:` + 32 hex) made with the same key |
//! | `occurred_at` | RFC 3339 time | required; from 2000 on, and not more than 5 minutes after the batch arrived |
//! | `model_version` | text | required |
//! | `score` | number | in [0, 1]; `score` or `decision` (or both) is required |
//! | `decision` | positive/negative (true/false, 1/0, yes/no) | |
//! | `scanner_manufacturer`, `scanner_model`, `protocol`, `age_band` | text | optional |
//! | `slice_thickness_mm`, `kvp` | number | optional, positive and finite |
//! | `sex` | female/male/other/unknown (F/M/O/U) | optional |
//! | `site` | organisation code | optional |
//!
//! NDJSON is one JSON object a line; CSV has a header row naming these
//! columns. The rules every batch follows (unknown fields refused, rows
//! numbered from 1, problems named by row and field, no text a row sent
//! repeated in a message) are those of [`crate::rows`].

use std::collections::HashMap;

use jiff::Timestamp;
use vigil_domain::{Code, IdentifierKind, Pseudonym, PseudonymKey, pseudonymise};

pub use crate::rows::{
    BatchError, EARLIEST_YEAR, EventFormat, FUTURE_TOLERANCE_SECONDS, LISTED_ERRORS, MAXIMUM_ROWS,
    MAXIMUM_TEXT, RowError,
};
use crate::rows::{Problems, Raw, Values};

/// The longest event id.
pub const MAXIMUM_EVENT_ID: usize = 128;

/// The fields an event may have, in the order of the module's table.
pub const FIELDS: [&str; 14] = [
    "event_id",
    "case_id",
    "occurred_at",
    "model_version",
    "score",
    "decision",
    "scanner_manufacturer",
    "scanner_model",
    "protocol",
    "slice_thickness_mm",
    "kvp",
    "age_band",
    "sex",
    "site",
];

/// The patient's recorded sex, as acquisition metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sex {
    Female,
    Male,
    Other,
    Unknown,
}

impl Sex {
    /// Reads F/M/O/U or the words, in any case.
    pub fn parse(raw: &str) -> Option<Sex> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "f" | "female" => Some(Sex::Female),
            "m" | "male" => Some(Sex::Male),
            "o" | "other" => Some(Sex::Other),
            "u" | "unknown" => Some(Sex::Unknown),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
            Sex::Unknown => "unknown",
        }
    }
}

/// What is known of the acquisition and the patient.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metadata {
    pub scanner_manufacturer: Option<String>,
    pub scanner_model: Option<String>,
    pub protocol: Option<String>,
    pub slice_thickness_mm: Option<f64>,
    pub kvp: Option<f64>,
    pub age_band: Option<String>,
    pub sex: Option<Sex>,
    pub site: Option<Code>,
}

/// One validated inference event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event_id: String,
    /// The case, pseudonymised: no identifier is kept.
    pub case: Pseudonym,
    pub occurred_at: Timestamp,
    pub model_version: String,
    /// In [0, 1].
    pub score: Option<f64>,
    /// True for a positive call.
    pub decision: Option<bool>,
    pub metadata: Metadata,
}

/// A validated batch, in the order received.
#[derive(Debug, Clone, PartialEq)]
pub struct EventBatch {
    pub events: Vec<Event>,
}

/// Reads and validates a whole batch. `key` pseudonymises case
/// identifiers (without one, only pseudonyms are accepted); `received_at`
/// bounds how late `occurred_at` may be.
pub fn parse_batch(
    bytes: &[u8],
    format: EventFormat,
    key: Option<&PseudonymKey>,
    received_at: Timestamp,
) -> Result<EventBatch, BatchError> {
    let mut problems = Problems::default();
    let mut events = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    crate::rows::read_rows(
        bytes,
        format,
        &FIELDS,
        &mut problems,
        |row, value, problems| {
            let Some(event) = validate(row, value, key, received_at, problems) else {
                return;
            };
            if let Some(first) = seen.get(&event.event_id) {
                problems.add(
                    row,
                    Some("event_id"),
                    format!("repeats the event_id of row {first}; each event is sent once a batch"),
                );
            } else {
                seen.insert(event.event_id.clone(), row);
                events.push(event);
            }
        },
    )?;
    let events = problems.finish(events)?;
    Ok(EventBatch { events })
}

/// Applies every field's rule to one row.
fn validate(
    row: usize,
    value: Values<'_, '_>,
    key: Option<&PseudonymKey>,
    received_at: Timestamp,
    problems: &mut Problems,
) -> Option<Event> {
    use crate::rows::{case, flag, number, text, time};
    let before = problems.total;
    let event_id = text(row, value, "event_id", true, MAXIMUM_EVENT_ID, problems).map(|event_id| {
        match key {
            // A feed's event id may be an accession number: with the
            // Trust's key, only its keyed hash is kept.
            Some(key) => pseudonymise(key, IdentifierKind::EventId, &event_id)
                .map(String::from)
                .unwrap_or(event_id),
            None => event_id,
        }
    });
    let model_version = text(row, value, "model_version", true, MAXIMUM_TEXT, problems);
    let scanner_manufacturer = text(
        row,
        value,
        "scanner_manufacturer",
        false,
        MAXIMUM_TEXT,
        problems,
    );
    let scanner_model = text(row, value, "scanner_model", false, MAXIMUM_TEXT, problems);
    let protocol = text(row, value, "protocol", false, MAXIMUM_TEXT, problems);
    let age_band = text(row, value, "age_band", false, MAXIMUM_TEXT, problems);
    let case = case(row, value, key, problems);
    let occurred_at = time(row, value, "occurred_at", received_at, problems);
    // -0.0 is stored as 0 by one database and as -0 by the other.
    let score = number(row, value, "score", problems).map(|score| score + 0.0);
    let slice_thickness_mm = number(row, value, "slice_thickness_mm", problems);
    let kvp = number(row, value, "kvp", problems);
    if let Some(score) = score
        && !(0.0..=1.0).contains(&score)
    {
        problems.add(row, Some("score"), format!("{score} is outside [0, 1]"));
    }
    for (field, measured) in [("slice_thickness_mm", slice_thickness_mm), ("kvp", kvp)] {
        if measured.is_some_and(|measured| measured <= 0.0) {
            problems.add(row, Some(field), "must be positive");
        }
    }
    let decision = flag(row, value, "decision", ("positive", "negative"), problems);
    if value("score").is_none() && value("decision").is_none() {
        problems.add(row, None, "has neither a score nor a decision");
    }
    let sex = match value("sex") {
        None => None,
        Some(Raw::Text(raw)) => {
            let sex = Sex::parse(raw);
            if sex.is_none() {
                problems.add(
                    row,
                    Some("sex"),
                    "is not female, male, other or unknown (F/M/O/U)",
                );
            }
            sex
        }
        Some(_) => {
            problems.add(row, Some("sex"), "is not text");
            None
        }
    };
    let site = match value("site") {
        None => None,
        Some(Raw::Text(raw)) => match Code::parse(raw) {
            Ok(code) => Some(code),
            Err(_) => {
                problems.add(
                    row,
                    Some("site"),
                    "is not an organisation code (lower-case letters, digits and hyphens)",
                );
                None
            }
        },
        Some(_) => {
            problems.add(row, Some("site"), "is not text");
            None
        }
    };
    if problems.total > before {
        return None;
    }
    Some(Event {
        event_id: event_id?,
        case: case?,
        occurred_at: occurred_at?,
        model_version: model_version?,
        score,
        decision,
        metadata: Metadata {
            scanner_manufacturer,
            scanner_model,
            protocol,
            slice_thickness_mm,
            kvp,
            age_band,
            sex,
            site,
        },
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::Strategy;

    use super::*;

    fn key() -> PseudonymKey {
        PseudonymKey::from_bytes([7; 32])
    }

    fn arrival() -> Timestamp {
        "2026-12-01T12:00:00Z".parse().expect("time")
    }

    fn ndjson(text: &str) -> Result<EventBatch, BatchError> {
        parse_batch(
            text.as_bytes(),
            EventFormat::Ndjson,
            Some(&key()),
            arrival(),
        )
    }

    fn csv(text: &str) -> Result<EventBatch, BatchError> {
        parse_batch(text.as_bytes(), EventFormat::Csv, Some(&key()), arrival())
    }

    const GOOD: &str = r#"{"event_id": "e1", "case_id": "ACC123", "occurred_at": "2026-11-30T09:15:00Z", "model_version": "2.3.0", "score": 0.91, "decision": "positive", "scanner_manufacturer": "Siemens", "scanner_model": "Ysio Max", "protocol": "CXR PA", "kvp": 125, "age_band": "40-59", "sex": "F", "site": "rw3-main"}"#;

    /// Checks that a batch is refused with exactly these messages.
    #[track_caller]
    fn check_refused(outcome: Result<EventBatch, BatchError>, expected: &[&str]) {
        match outcome {
            Err(BatchError::Rows { errors, total }) => {
                let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
                assert_eq!(messages, expected);
                assert_eq!(total, expected.len());
            }
            other => panic!("expected row errors, got {other:?}"),
        }
    }

    #[test]
    fn a_good_row_is_read_with_its_case_pseudonymised() {
        let batch = ndjson(GOOD).expect("valid");
        let event = &batch.events[0];
        assert!(event.event_id.starts_with("psn:"));
        assert_eq!(event.score, Some(0.91));
        assert_eq!(event.decision, Some(true));
        assert_eq!(event.metadata.sex, Some(Sex::Female));
        assert_eq!(event.metadata.kvp, Some(125.0));
        assert_eq!(
            event.metadata.site.as_ref().map(Code::as_str),
            Some("rw3-main")
        );
        assert!(event.case.as_str().starts_with("psn:"));
        assert_eq!(
            event.case,
            pseudonymise(&key(), IdentifierKind::Accession, "ACC123").expect("pseudonym")
        );
        // A pseudonym made upstream with the same key is kept as it is.
        let upstream = GOOD.replace("ACC123", event.case.as_str());
        assert_eq!(ndjson(&upstream).expect("valid").events[0].case, event.case);
        // Without a key, only pseudonyms are accepted.
        let keyless = parse_batch(upstream.as_bytes(), EventFormat::Ndjson, None, arrival());
        assert_eq!(keyless.expect("valid").events[0].case, event.case);
        let refused = parse_batch(GOOD.as_bytes(), EventFormat::Ndjson, None, arrival());
        assert!(
            refused
                .expect_err("no key")
                .to_string()
                .contains(r#"row 1: "case_id" is not a pseudonym"#)
        );
    }

    #[test]
    fn csv_and_ndjson_read_the_same_events() {
        let text = "event_id,case_id,occurred_at,model_version,score,decision,scanner_manufacturer,scanner_model,protocol,kvp,age_band,sex,site\n\
                    e1,ACC123,2026-11-30T09:15:00Z,2.3.0,0.91,positive,Siemens,Ysio Max,CXR PA,125,40-59,F,rw3-main\n";
        assert_eq!(csv(text).expect("valid"), ndjson(GOOD).expect("valid"));
    }

    #[test]
    fn every_bad_value_is_named_by_row_and_field() {
        let rows = [
            r#"{"event_id": "e1", "case_id": "A1", "occurred_at": "2026-11-30T09:15:00Z", "model_version": "2", "score": 1.7}"#,
            r#"{"event_id": "e2", "case_id": "A2", "occurred_at": "yesterday", "model_version": "2", "decision": "maybe"}"#,
            r#"{"event_id": "e3", "case_id": "A3", "occurred_at": "2026-12-02T12:00:00Z", "model_version": "2", "score": "high", "sex": "X"}"#,
            r#"{"event_id": "e4", "case_id": "A4", "occurred_at": "2026-11-30T09:15:00Z", "model_version": "2"}"#,
            r#"{"event_id": "e1", "case_id": "A5", "occurred_at": "2026-11-30T09:15:00Z", "model_version": "2", "score": 0.5, "kvp": -3, "colour": "red"}"#,
            r#"[1, 2]"#,
            r#"{"event_id": "e7", "occurred_at": "2026-11-30T09:15:00Z", "model_version": "2", "score": 0.5, "site": "Not A Code!"}"#,
        ];
        check_refused(
            ndjson(&rows.join("\n")),
            &[
                r#"row 1: "score" 1.7 is outside [0, 1]"#,
                r#"row 2: "occurred_at" is not an RFC 3339 time such as 2026-11-30T09:15:00Z"#,
                r#"row 2: "decision" is not positive or negative (or true/false, 1/0, yes/no)"#,
                r#"row 3: "occurred_at" 2026-12-02T12:00:00Z is after the batch arrived (2026-12-01T12:00:00Z)"#,
                r#"row 3: "score" is not a number"#,
                r#"row 3: "sex" is not female, male, other or unknown (F/M/O/U)"#,
                "row 4: has neither a score nor a decision",
                r#"row 5: names the unknown field "colour"; the fields are: event_id, case_id, occurred_at, model_version, score, decision, scanner_manufacturer, scanner_model, protocol, slice_thickness_mm, kvp, age_band, sex, site"#,
                "row 6: is not a JSON object",
                r#"row 7: "case_id" is missing"#,
                r#"row 7: "site" is not an organisation code (lower-case letters, digits and hyphens)"#,
            ],
        );
    }

    #[test]
    fn repeated_event_ids_and_non_positive_measures_are_refused() {
        let rows = [
            r#"{"event_id": "e1", "case_id": "A1", "occurred_at": "2026-11-30T09:15:00Z", "model_version": "2", "score": 0.5}"#,
            r#"{"event_id": "e1", "case_id": "A2", "occurred_at": "2026-11-30T09:15:00Z", "model_version": "2", "score": 0.5, "kvp": 0}"#,
        ];
        check_refused(
            ndjson(&rows.join("\n")),
            &[r#"row 2: "kvp" must be positive"#],
        );
        check_refused(
            ndjson(&format!("{}\n{}", rows[0], rows[0])),
            &[
                r#"row 2: "event_id" repeats the event_id of row 1; each event is sent once a batch"#,
            ],
        );
    }

    #[test]
    fn a_case_identifier_is_never_repeated_in_a_message() {
        let secret = "ACC-CANARY-0042";
        let line = format!(
            r#"{{"event_id": "e1", "case_id": "{secret}", "occurred_at": "soon", "model_version": "2", "score": 3}}"#
        );
        let message = ndjson(&line).expect_err("refused").to_string();
        assert!(!message.contains(secret), "{message}");
        let numeric = r#"{"event_id": "e1", "case_id": 9434765919, "occurred_at": "2026-11-30T09:15:00Z", "model_version": "2", "score": 0.3}"#;
        let message = ndjson(numeric).expect_err("refused").to_string();
        assert!(!message.contains("9434765919"), "{message}");
    }

    #[test]
    fn no_text_a_row_sent_is_repeated_even_when_columns_are_misplaced() {
        let canary = "ACC-CANARY-0042";
        // A CSV without its header row: the first row is read as the header.
        let headerless =
            csv(&format!("e1,{canary},2026-11-30T09:15:00Z,2,0.5\n")).expect_err("refused");
        // Columns shifted by one: the identifier lands in other fields.
        let shifted = csv(&format!(
            "event_id,occurred_at,case_id,model_version,score,decision,sex,site,scanner_model\n\
             e1,{canary},2026-11-30T09:15:00Z,2,{canary},{canary},{canary},{canary},x\n"
        ))
        .expect_err("refused");
        // An identifier used as a JSON key, and as every kind of value.
        let keyed = ndjson(&format!(
            r#"{{"event_id": "e1", "{canary}": 1, "case_id": "A", "occurred_at": "{canary}", "model_version": "2", "score": "{canary}"}}"#
        ))
        .expect_err("refused");
        for error in [headerless, shifted, keyed] {
            let message = error.to_string();
            assert!(!message.contains("CANARY"), "{message}");
            assert!(!message.is_empty());
        }
    }

    #[test]
    fn event_ids_are_kept_as_keyed_hashes_when_there_is_a_key() {
        let event = &ndjson(GOOD).expect("valid").events[0];
        assert!(event.event_id.starts_with("psn:"), "{}", event.event_id);
        assert_ne!(event.event_id, event.case.as_str());
        let keyless = parse_batch(
            GOOD.replace("ACC123", event.case.as_str()).as_bytes(),
            EventFormat::Ndjson,
            None,
            arrival(),
        )
        .expect("valid");
        assert_eq!(keyless.events[0].event_id, "e1");
    }

    #[test]
    fn a_field_given_twice_is_refused() {
        let twice = GOOD.replace(
            r#""decision": "positive""#,
            r#""decision": "positive", "decision": "negative""#,
        );
        check_refused(
            ndjson(&twice),
            &["row 1: names a field twice; each field is given once"],
        );
        check_refused(
            ndjson("[1, 2]\n\"text\"\n3"),
            &[
                "row 1: is not a JSON object",
                "row 2: is not a JSON object",
                "row 3: is not a JSON object",
            ],
        );
    }

    #[test]
    fn times_before_2000_and_negative_zero_scores_are_handled() {
        let old = GOOD.replace("2026-11-30T09:15:00Z", "0001-01-01T00:00:00Z");
        check_refused(ndjson(&old), &[r#"row 1: "occurred_at" is before 2000"#]);
        let negative_zero = GOOD.replace("0.91", "-0.0");
        let score = ndjson(&negative_zero).expect("valid").events[0]
            .score
            .expect("score");
        assert!(score == 0.0 && score.is_sign_positive());
    }

    #[test]
    fn the_csv_header_must_name_known_columns_once() {
        let unknown = csv("event_id,case,occurred_at\n").expect_err("refused");
        assert!(
            unknown
                .to_string()
                .starts_with(r#"the CSV header names the unknown column "case""#),
            "{unknown}"
        );
        let twice = csv("event_id,event_id\n").expect_err("refused");
        assert_eq!(
            twice.to_string(),
            r#"the CSV header names the column "event_id" twice"#
        );
        assert_eq!(csv("event_id,case_id\n"), Err(BatchError::Empty));
        assert_eq!(ndjson("\n\n"), Err(BatchError::Empty));
    }

    #[test]
    fn only_the_first_errors_are_listed_and_the_rest_counted() {
        let rows: Vec<String> = (0..50)
            .map(|index| format!(r#"{{"event_id": "e{index}", "case_id": "A", "occurred_at": "2026-11-30T09:15:00Z", "model_version": "2", "score": 2}}"#))
            .collect();
        match ndjson(&rows.join("\n")) {
            Err(BatchError::Rows { errors, total }) => {
                assert_eq!(errors.len(), LISTED_ERRORS);
                assert_eq!(total, 50);
                let message = BatchError::Rows { errors, total }.to_string();
                assert!(
                    message.starts_with("50 problems in the batch; nothing was stored. row 1:"),
                    "{message}"
                );
                assert!(message.ends_with("; and 30 more"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_batch_may_not_exceed_the_row_limit() {
        let line = r#"{"event_id": "e", "case_id": "A", "occurred_at": "2026-11-30T09:15:00Z", "model_version": "2", "score": 0.5}"#;
        let text = std::iter::repeat_n(line, MAXIMUM_ROWS + 1)
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(ndjson(&text), Err(BatchError::TooManyRows));
    }

    proptest::proptest! {
        /// Any bytes give a batch or an error, never a panic (the fuzz
        /// target `event_batch` explores further).
        #[test]
        fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            for format in [EventFormat::Ndjson, EventFormat::Csv] {
                if let Ok(batch) = parse_batch(&bytes, format, Some(&key()), arrival()) {
                    proptest::prop_assert!(!batch.events.is_empty());
                }
            }
        }

        /// Lines built from event fields and odd values never panic, and an
        /// accepted score is in [0, 1].
        #[test]
        fn field_soup_is_read_or_refused(
            fields in proptest::collection::vec(
                (
                    proptest::sample::select(FIELDS.to_vec()),
                    proptest::prop_oneof![
                        proptest::prelude::Just("null".to_owned()),
                        proptest::prelude::Just("\"2026-11-30T09:15:00Z\"".to_owned()),
                        proptest::prelude::Just("1e308".to_owned()),
                        proptest::prelude::Just("-0.0".to_owned()),
                        proptest::prelude::Just("[]".to_owned()),
                        "[a-z0-9 ]{0,12}".prop_map(|text| format!("\"{text}\"")),
                        (-2.0f64..2.0).prop_map(|number| number.to_string()),
                    ],
                ),
                0..16,
            )
        ) {
            let body: Vec<String> = fields.iter().map(|(field, value)| format!("\"{field}\": {value}")).collect();
            let line = format!("{{{}}}", body.join(", "));
            if let Ok(batch) = ndjson(&line) {
                for event in batch.events {
                    proptest::prop_assert!(event.score.is_none_or(|score| (0.0..=1.0).contains(&score)));
                }
            }
        }
    }

    #[test]
    fn content_types_name_the_format() {
        assert_eq!(
            EventFormat::from_content_type("application/x-ndjson; charset=utf-8"),
            Some(EventFormat::Ndjson)
        );
        assert_eq!(
            EventFormat::from_content_type("text/csv"),
            Some(EventFormat::Csv)
        );
        assert_eq!(EventFormat::from_content_type("application/json"), None);
    }
}
