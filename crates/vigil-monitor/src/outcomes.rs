//! A batch of outcomes — the ground truth that follows a tool's result,
//! often weeks later — read and validated whole before anything is stored.
//!
//! One outcome is what one source says of one case:
//!
//! | field | type | rule |
//! | --- | --- | --- |
//! | `case_id` | text | required; pseudonymised as for events, so that it meets the case's events |
//! | `label` | positive/negative (true/false, 1/0, yes/no) | required: whether the condition the tool looks for is present |
//! | `source` | `pathology`, `follow_up`, `report` or `reader` | required |
//! | `recorded_at` | RFC 3339 time | required; from 2000 on, not more than 5 minutes after the batch arrived |
//! | `reader_agrees` | yes/no (true/false, 1/0, agree/disagree) | optional, only for `source` = `reader`: whether the reader agreed with the tool's output |
//!
//! A case may have one outcome from each source. Its ground truth is the
//! label of the most authoritative source recorded, in the order pathology,
//! follow-up, report, reader: a later pathology result overrides the
//! report, and the day aggregates of the case's events follow. A reader's
//! agreement with the tool is `reader_agrees` when given, else whether the
//! reader's label equals the tool's decision. The batch rules are those of
//! [`crate::rows`].

use std::collections::HashMap;

use jiff::Timestamp;
use vigil_domain::{Pseudonym, PseudonymKey};

use crate::rows::{BatchError, EventFormat, Problems, Raw, Values};

/// The fields an outcome may have, in the order of the module's table.
pub const OUTCOME_FIELDS: [&str; 5] =
    ["case_id", "label", "source", "recorded_at", "reader_agrees"];

/// Who or what established an outcome, most authoritative first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OutcomeSource {
    Pathology,
    FollowUp,
    Report,
    Reader,
}

impl OutcomeSource {
    /// Every source, most authoritative first.
    pub const ALL: [OutcomeSource; 4] = [
        OutcomeSource::Pathology,
        OutcomeSource::FollowUp,
        OutcomeSource::Report,
        OutcomeSource::Reader,
    ];

    /// Reads the name (`follow-up` is taken for `follow_up`), in any case.
    pub fn parse(raw: &str) -> Option<OutcomeSource> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "pathology" => Some(OutcomeSource::Pathology),
            "follow_up" | "follow-up" => Some(OutcomeSource::FollowUp),
            "report" => Some(OutcomeSource::Report),
            "reader" => Some(OutcomeSource::Reader),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeSource::Pathology => "pathology",
            OutcomeSource::FollowUp => "follow_up",
            OutcomeSource::Report => "report",
            OutcomeSource::Reader => "reader",
        }
    }
}

/// One validated outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The case, pseudonymised: no identifier is kept.
    pub case: Pseudonym,
    /// True when the condition is present.
    pub label: bool,
    pub source: OutcomeSource,
    pub recorded_at: Timestamp,
    /// Only for a reader's outcome.
    pub reader_agrees: Option<bool>,
}

/// A validated batch of outcomes, in the order received.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeBatch {
    pub outcomes: Vec<Outcome>,
}

/// Reads and validates a whole batch of outcomes; `key` and `received_at`
/// as for [`crate::events::parse_batch`].
pub fn parse_outcomes(
    bytes: &[u8],
    format: EventFormat,
    key: Option<&PseudonymKey>,
    received_at: Timestamp,
) -> Result<OutcomeBatch, BatchError> {
    let mut problems = Problems::default();
    let mut outcomes = Vec::new();
    let mut seen: HashMap<(Pseudonym, OutcomeSource), usize> = HashMap::new();
    crate::rows::read_rows(
        bytes,
        format,
        &OUTCOME_FIELDS,
        &mut problems,
        |row, value, problems| {
            let Some(outcome) = validate(row, value, key, received_at, problems) else {
                return;
            };
            let identity = (outcome.case.clone(), outcome.source);
            if let Some(first) = seen.get(&identity) {
                problems.add(
                    row,
                    Some("source"),
                    format!(
                        "repeats the case and source of row {first}; a case has one outcome from each source"
                    ),
                );
            } else {
                seen.insert(identity, row);
                outcomes.push(outcome);
            }
        },
    )?;
    let outcomes = problems.finish(outcomes)?;
    Ok(OutcomeBatch { outcomes })
}

/// Applies every field's rule to one row.
fn validate(
    row: usize,
    value: Values<'_, '_>,
    key: Option<&PseudonymKey>,
    received_at: Timestamp,
    problems: &mut Problems,
) -> Option<Outcome> {
    use crate::rows::{case, flag, time};
    let before = problems.total;
    let case = case(row, value, key, problems);
    let label = flag(row, value, "label", ("positive", "negative"), problems);
    if value("label").is_none() {
        problems.add(row, Some("label"), "is missing");
    }
    let source = match value("source") {
        None => {
            problems.add(row, Some("source"), "is missing");
            None
        }
        Some(Raw::Text(raw)) => {
            let source = OutcomeSource::parse(raw);
            if source.is_none() {
                problems.add(
                    row,
                    Some("source"),
                    "is not pathology, follow_up, report or reader",
                );
            }
            source
        }
        Some(_) => {
            problems.add(row, Some("source"), "is not text");
            None
        }
    };
    let recorded_at = time(row, value, "recorded_at", received_at, problems);
    let reader_agrees = flag(row, value, "reader_agrees", ("agree", "disagree"), problems);
    if reader_agrees.is_some() && source.is_some_and(|source| source != OutcomeSource::Reader) {
        problems.add(
            row,
            Some("reader_agrees"),
            "is only for an outcome whose source is reader",
        );
    }
    if problems.total > before {
        return None;
    }
    Some(Outcome {
        case: case?,
        label: label?,
        source: source?,
        recorded_at: recorded_at?,
        reader_agrees,
    })
}

/// What the recorded outcomes of one case say, as the aggregates need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CaseTruth {
    /// The ground truth: the label of the most authoritative source.
    pub label: Option<bool>,
    /// The reader's own label, if a reader's outcome is recorded.
    pub reader_label: Option<bool>,
    /// Whether the reader said they agreed with the tool, if they said.
    pub reader_agrees: Option<bool>,
}

impl CaseTruth {
    /// The truth of a case from its outcomes: `(source, label,
    /// reader_agrees)`, at most one a source, in any order.
    pub fn from_outcomes(
        outcomes: impl IntoIterator<Item = (OutcomeSource, bool, Option<bool>)>,
    ) -> CaseTruth {
        let mut best: Option<(OutcomeSource, bool)> = None;
        let mut truth = CaseTruth::default();
        for (source, label, reader_agrees) in outcomes {
            if best.is_none_or(|(best_source, _)| source < best_source) {
                best = Some((source, label));
            }
            if source == OutcomeSource::Reader {
                truth.reader_label = Some(label);
                truth.reader_agrees = reader_agrees;
            }
        }
        truth.label = best.map(|(_, label)| label);
        truth
    }

    /// Whether the reader agreed with the tool on this case: as the reader
    /// said, or else whether the reader's label equals the tool's decision.
    /// `None` when no reader reviewed it (or nothing can be compared).
    pub fn reader_agreement(&self, decision: Option<bool>) -> Option<bool> {
        self.reader_agrees
            .or_else(|| Some(self.reader_label? == decision?))
    }
}

#[cfg(test)]
mod tests {
    use vigil_domain::IdentifierKind;

    use super::*;

    fn key() -> PseudonymKey {
        PseudonymKey::from_bytes([7; 32])
    }

    fn arrival() -> Timestamp {
        "2026-12-01T12:00:00Z".parse().expect("time")
    }

    fn ndjson(text: &str) -> Result<OutcomeBatch, BatchError> {
        parse_outcomes(
            text.as_bytes(),
            EventFormat::Ndjson,
            Some(&key()),
            arrival(),
        )
    }

    /// Checks that a batch is refused with exactly these problems.
    fn check_refused(outcome: Result<OutcomeBatch, BatchError>, expected: &[&str]) {
        match outcome {
            Err(BatchError::Rows { errors, total }) => {
                let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
                assert_eq!(shown, expected);
                assert_eq!(total, expected.len());
            }
            other => panic!("expected row errors, got {other:?}"),
        }
    }

    #[test]
    fn a_good_outcome_is_read_with_its_case_pseudonymised_as_events_are() {
        let batch = ndjson(
            r#"{"case_id":"ACC1","label":"positive","source":"pathology","recorded_at":"2026-11-30T10:00:00Z"}
{"case_id":"ACC1","label":0,"source":"reader","recorded_at":"2026-11-29T10:00:00Z","reader_agrees":"disagree"}"#,
        )
        .expect("batch");
        let expected_case = vigil_domain::pseudonymise(&key(), IdentifierKind::Accession, "ACC1")
            .expect("pseudonym");
        assert_eq!(batch.outcomes.len(), 2);
        assert_eq!(batch.outcomes[0].case, expected_case);
        assert!(batch.outcomes[0].label);
        assert_eq!(batch.outcomes[0].source, OutcomeSource::Pathology);
        assert_eq!(batch.outcomes[1].reader_agrees, Some(false));
        assert!(!batch.outcomes[1].label);
    }

    #[test]
    fn csv_outcomes_read_the_same() {
        let csv = parse_outcomes(
            b"case_id,label,source,recorded_at,reader_agrees\nACC1,1,follow-up,2026-11-30T10:00:00Z,\n",
            EventFormat::Csv,
            Some(&key()),
            arrival(),
        )
        .expect("batch");
        assert_eq!(csv.outcomes[0].source, OutcomeSource::FollowUp);
        assert_eq!(csv.outcomes[0].reader_agrees, None);
    }

    #[test]
    fn every_bad_value_is_named_by_row_and_field() {
        check_refused(
            ndjson(
                r#"{"case_id":"A","label":"maybe","source":"gossip","recorded_at":"yesterday"}
{"case_id":"B","source":"report","recorded_at":"2027-01-01T00:00:00Z","reader_agrees":true}
{"case_id":"C","label":true,"source":"report","recorded_at":"2026-11-01T00:00:00Z"}
{"case_id":"C","label":false,"source":"report","recorded_at":"2026-11-02T00:00:00Z"}"#,
            ),
            &[
                r#"row 1: "label" is not positive or negative (or true/false, 1/0, yes/no)"#,
                r#"row 1: "source" is not pathology, follow_up, report or reader"#,
                r#"row 1: "recorded_at" is not an RFC 3339 time such as 2026-11-30T09:15:00Z"#,
                r#"row 2: "label" is missing"#,
                r#"row 2: "recorded_at" 2027-01-01T00:00:00Z is after the batch arrived (2026-12-01T12:00:00Z)"#,
                r#"row 2: "reader_agrees" is only for an outcome whose source is reader"#,
                r#"row 4: "source" repeats the case and source of row 3; a case has one outcome from each source"#,
            ],
        );
    }

    #[test]
    fn the_most_authoritative_source_gives_the_truth() {
        use OutcomeSource::*;
        /// Outcomes, the truth they give, and whether the reader agreed
        /// with a positive call.
        type Case = (
            &'static [(OutcomeSource, bool, Option<bool>)],
            Option<bool>,
            Option<bool>,
        );
        let cases: [Case; 5] = [
            (&[], None, None),
            (&[(Reader, true, None)], Some(true), Some(true)),
            (
                &[(Report, true, None), (Pathology, false, None)],
                Some(false),
                None,
            ),
            (
                &[
                    (FollowUp, true, None),
                    (Report, false, None),
                    (Reader, false, Some(false)),
                ],
                Some(true),
                Some(false),
            ),
            (
                &[(Reader, false, None), (Report, true, None)],
                Some(true),
                Some(false),
            ),
        ];
        for (outcomes, label, reader_agreement_with_a_positive_call) in cases {
            let truth = CaseTruth::from_outcomes(outcomes.iter().copied());
            assert_eq!(truth.label, label, "{outcomes:?}");
            assert_eq!(
                truth.reader_agreement(Some(true)),
                reader_agreement_with_a_positive_call,
                "{outcomes:?}"
            );
        }
    }
}
