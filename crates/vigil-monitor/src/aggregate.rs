//! Per-day, per-model-version aggregates of inference events, which merge
//! by addition.
//!
//! A [`DayAggregate`] counts a day's events, their scores in
//! [`SCORE_BINS`] equal bins over [0, 1] (the last bin is closed: a score
//! of 1 falls in it), their decisions, and the values of each categorical
//! metadata field. Every part is a count, so merging two aggregates adds
//! them: the aggregate of a union of event sets is the merge of their
//! aggregates, in any order and grouping. That is what lets a region sum
//! its Trusts, and a dashboard or rule read a year as 365 rows rather than
//! millions of events. The day is the UTC date of `occurred_at`.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::events::Event;
use crate::outcomes::CaseTruth;

/// The number of equal-width score bins over [0, 1].
pub const SCORE_BINS: usize = 20;

/// The number of equal-width score bins over [0, 1] for events whose case
/// has a ground truth: finer than [`SCORE_BINS`], since the ROC AUC of the
/// binned scores is what a rule reads (and it can only fall short of the
/// AUC of the exact scores by the pairs that fall in one bin).
pub const LABELLED_SCORE_BINS: usize = 100;

/// The most distinct values kept per categorical field and day; further
/// values are counted under [`OTHER_VALUES`], so that a free-text field
/// (a unique study description in `protocol`, say) cannot grow a day's
/// aggregate without bound.
pub const MAXIMUM_CATEGORY_VALUES: usize = 200;

/// Where values beyond [`MAXIMUM_CATEGORY_VALUES`] are counted.
pub const OTHER_VALUES: &str = "(other values)";

/// Adds `count` to `value` of one field, within the cap.
fn count_value(values: &mut BTreeMap<String, u64>, value: &str, count: u64) {
    if let Some(existing) = values.get_mut(value) {
        *existing += count;
    } else if values.len() < MAXIMUM_CATEGORY_VALUES {
        values.insert(value.to_owned(), count);
    } else {
        *values.entry(OTHER_VALUES.to_owned()).or_default() += count;
    }
}

/// Which aggregate an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DayKey {
    /// The UTC date of `occurred_at`.
    pub day: Date,
    pub model_version: String,
}

/// The counts of one day's events of one model version.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DayAggregate {
    pub events: u64,
    /// Events with a score.
    pub scored: u64,
    /// Scores by bin: bin `i` holds scores in [i/20, (i+1)/20), the last
    /// bin also 1.
    pub score_histogram: Vec<u64>,
    /// Events with a decision.
    pub decided: u64,
    pub positive_decisions: u64,
    /// For each categorical field (`scanner_manufacturer`, `scanner_model`,
    /// `protocol`, `age_band`, `sex`, `site`), the count of each value seen.
    pub categories: BTreeMap<String, BTreeMap<String, u64>>,
    /// For each numeric field (`slice_thickness_mm`, `kvp`), the count of
    /// each value seen, the value written to three decimals (within the
    /// same cap as categories).
    #[serde(default)]
    pub measurements: BTreeMap<String, BTreeMap<String, u64>>,
    /// What the outcomes recorded so far say of these events.
    #[serde(default)]
    pub outcomes: OutcomeCounts,
}

/// A numeric value as a key of [`DayAggregate::measurements`]: three
/// decimals, no trailing zeros (`2.5`, `120`).
pub fn measurement_key(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// The day's events counted against the outcomes of their cases. An
/// outcome that arrives late changes the day of the event it concerns,
/// not the day it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OutcomeCounts {
    /// Events whose case has a ground truth.
    pub labelled: u64,
    /// Of those, the events whose case is positive.
    pub positives: u64,
    /// Events with both a decision and a ground truth, by agreement.
    pub true_positives: u64,
    pub false_positives: u64,
    pub true_negatives: u64,
    pub false_negatives: u64,
    /// Scores of events whose case is positive, in
    /// [`LABELLED_SCORE_BINS`] bins.
    pub positive_scores: Vec<u64>,
    /// Scores of events whose case is negative.
    pub negative_scores: Vec<u64>,
    /// Events whose case a reader reviewed with a known agreement, and
    /// those where the reader disagreed with the tool.
    pub reader_reviewed: u64,
    pub reader_disagreed: u64,
}

/// What an aggregate needs of a stored event to count it against its
/// case's outcomes.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSummary {
    pub key: DayKey,
    pub score: Option<f64>,
    pub decision: Option<bool>,
}

/// Stored aggregates that cannot hold the events they are said to count:
/// taking an event's outcome away would make a count negative.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the day aggregate of {day} ({model_version}) does not hold the outcome counts it is asked to give back"
)]
pub struct InconsistentAggregate {
    pub day: Date,
    pub model_version: String,
}

/// The day an event belongs to: the UTC date of when it occurred. The
/// aggregates and the stored events use this one definition.
pub fn utc_day(at: jiff::Timestamp) -> Date {
    at.to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// The bin of a score in [0, 1] among [`SCORE_BINS`].
pub fn score_bin(score: f64) -> usize {
    bin_of(score, SCORE_BINS)
}

/// The bin of a score in [0, 1] among `bins` equal bins, the last closed.
pub fn bin_of(score: f64, bins: usize) -> usize {
    let scaled = (score * bins as f64).floor();
    if scaled.is_nan() || scaled < 0.0 {
        0
    } else {
        (scaled as usize).min(bins - 1)
    }
}

impl OutcomeCounts {
    /// No outcome counted, with both score histograms at their full length.
    pub fn empty() -> Self {
        OutcomeCounts {
            positive_scores: vec![0; LABELLED_SCORE_BINS],
            negative_scores: vec![0; LABELLED_SCORE_BINS],
            ..OutcomeCounts::default()
        }
    }

    /// Both score histograms at (at least) their full length.
    fn size_histograms(&mut self) {
        for histogram in [&mut self.positive_scores, &mut self.negative_scores] {
            if histogram.len() < LABELLED_SCORE_BINS {
                histogram.resize(LABELLED_SCORE_BINS, 0);
            }
        }
    }

    /// Adds (`sign` = 1) or takes away (`sign` = -1) one event of the given
    /// score and decision counted against its case's truth. Returns false,
    /// changing nothing, when taking away would make a count negative.
    fn count(
        &mut self,
        score: Option<f64>,
        decision: Option<bool>,
        truth: &CaseTruth,
        add: bool,
    ) -> bool {
        let mut changed = self.clone();
        changed.size_histograms();
        let step = |count: &mut u64| -> bool {
            if add {
                *count += 1;
                true
            } else if let Some(less) = count.checked_sub(1) {
                *count = less;
                true
            } else {
                false
            }
        };
        let mut fine = true;
        if let Some(label) = truth.label {
            fine &= step(&mut changed.labelled);
            if label {
                fine &= step(&mut changed.positives);
            }
            if let Some(decision) = decision {
                fine &= step(match (decision, label) {
                    (true, true) => &mut changed.true_positives,
                    (true, false) => &mut changed.false_positives,
                    (false, false) => &mut changed.true_negatives,
                    (false, true) => &mut changed.false_negatives,
                });
            }
            if let Some(score) = score {
                let histogram = if label {
                    &mut changed.positive_scores
                } else {
                    &mut changed.negative_scores
                };
                fine &= step(&mut histogram[bin_of(score, LABELLED_SCORE_BINS)]);
            }
        }
        if let Some(agrees) = truth.reader_agreement(decision) {
            fine &= step(&mut changed.reader_reviewed);
            if !agrees {
                fine &= step(&mut changed.reader_disagreed);
            }
        }
        if fine {
            *self = changed;
        }
        fine
    }

    /// Adds another day's outcome counts to these.
    pub fn merge(&mut self, other: &OutcomeCounts) {
        self.labelled += other.labelled;
        self.positives += other.positives;
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.true_negatives += other.true_negatives;
        self.false_negatives += other.false_negatives;
        self.size_histograms();
        for (mine, theirs) in [
            (&mut self.positive_scores, &other.positive_scores),
            (&mut self.negative_scores, &other.negative_scores),
        ] {
            if mine.len() < theirs.len() {
                mine.resize(theirs.len(), 0);
            }
            for (mine, theirs) in mine.iter_mut().zip(theirs) {
                *mine += theirs;
            }
        }
        self.reader_reviewed += other.reader_reviewed;
        self.reader_disagreed += other.reader_disagreed;
    }
}

impl DayAggregate {
    /// An aggregate of no events.
    pub fn empty() -> Self {
        DayAggregate {
            score_histogram: vec![0; SCORE_BINS],
            outcomes: OutcomeCounts::empty(),
            ..DayAggregate::default()
        }
    }

    /// Counts one event.
    pub fn add(&mut self, event: &Event) {
        if self.score_histogram.len() != SCORE_BINS {
            self.score_histogram.resize(SCORE_BINS, 0);
        }
        self.events += 1;
        if let Some(score) = event.score {
            self.scored += 1;
            self.score_histogram[score_bin(score)] += 1;
        }
        if let Some(decision) = event.decision {
            self.decided += 1;
            self.positive_decisions += u64::from(decision);
        }
        let metadata = &event.metadata;
        let categorical = [
            (
                "scanner_manufacturer",
                metadata.scanner_manufacturer.as_deref(),
            ),
            ("scanner_model", metadata.scanner_model.as_deref()),
            ("protocol", metadata.protocol.as_deref()),
            ("age_band", metadata.age_band.as_deref()),
            ("sex", metadata.sex.map(|sex| sex.as_str())),
            ("site", metadata.site.as_ref().map(|site| site.as_str())),
        ];
        for (field, value) in categorical {
            if let Some(value) = value {
                let values = match self.categories.get_mut(field) {
                    Some(values) => values,
                    None => self.categories.entry(field.to_owned()).or_default(),
                };
                count_value(values, value, 1);
            }
        }
        let numeric = [
            ("slice_thickness_mm", metadata.slice_thickness_mm),
            ("kvp", metadata.kvp),
        ];
        for (field, value) in numeric {
            if let Some(value) = value {
                let values = self.measurements.entry(field.to_owned()).or_default();
                count_value(values, &measurement_key(value), 1);
            }
        }
    }

    /// Counts one event against its case's outcomes.
    pub fn add_outcome(&mut self, score: Option<f64>, decision: Option<bool>, truth: &CaseTruth) {
        self.outcomes.count(score, decision, truth, true);
    }

    /// Adds another aggregate's counts to this one.
    pub fn merge(&mut self, other: &DayAggregate) {
        self.events += other.events;
        self.scored += other.scored;
        let bins = self
            .score_histogram
            .len()
            .max(other.score_histogram.len())
            .max(SCORE_BINS);
        self.score_histogram.resize(bins, 0);
        for (mine, theirs) in self.score_histogram.iter_mut().zip(&other.score_histogram) {
            *mine += theirs;
        }
        self.decided += other.decided;
        self.positive_decisions += other.positive_decisions;
        for (mine, theirs) in [
            (&mut self.categories, &other.categories),
            (&mut self.measurements, &other.measurements),
        ] {
            for (field, values) in theirs {
                let mine = mine.entry(field.clone()).or_default();
                for (value, count) in values {
                    count_value(mine, value, *count);
                }
            }
        }
        self.outcomes.merge(&other.outcomes);
    }
}

/// Applies a change in what the outcomes say of a case (`before` →
/// `after`) to the aggregates of the days of its `events`, which must all
/// be present in `aggregates`: each event is taken away as counted under
/// `before` and counted again under `after`. All or nothing: on an
/// [`InconsistentAggregate`] the aggregates may be partly changed and must
/// be discarded (the store's transaction is rolled back).
pub fn apply_outcome_change(
    aggregates: &mut BTreeMap<DayKey, DayAggregate>,
    events: &[EventSummary],
    before: &CaseTruth,
    after: &CaseTruth,
) -> Result<(), InconsistentAggregate> {
    if before == after {
        return Ok(());
    }
    for event in events {
        let inconsistent = || InconsistentAggregate {
            day: event.key.day,
            model_version: event.key.model_version.clone(),
        };
        let aggregate = aggregates.get_mut(&event.key).ok_or_else(inconsistent)?;
        if !aggregate
            .outcomes
            .count(event.score, event.decision, before, false)
        {
            return Err(inconsistent());
        }
        aggregate
            .outcomes
            .count(event.score, event.decision, after, true);
    }
    Ok(())
}

/// A proportion read from an aggregate as (events, cases): the one
/// definition rules, charts and funnel plots share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountedProportion {
    /// Positive decisions among decided events.
    PositiveRate,
    /// True positives among events whose case is positive, with a decision.
    Sensitivity,
    /// True negatives among events whose case is negative, with a decision.
    Specificity,
    /// True positives among positive decisions with an outcome.
    Ppv,
    /// Decisions that disagree with the ground truth among labelled,
    /// decided events.
    Discordance,
    /// Readers' disagreements with the tool among reviewed events.
    ReaderDisagreement,
}

impl CountedProportion {
    /// Reads a name: positive_rate, sensitivity, specificity, ppv,
    /// discordance or reader_disagreement.
    pub fn parse(name: &str) -> Option<CountedProportion> {
        match name {
            "positive_rate" => Some(CountedProportion::PositiveRate),
            "sensitivity" => Some(CountedProportion::Sensitivity),
            "specificity" => Some(CountedProportion::Specificity),
            "ppv" => Some(CountedProportion::Ppv),
            "discordance" => Some(CountedProportion::Discordance),
            "reader_disagreement" => Some(CountedProportion::ReaderDisagreement),
            _ => None,
        }
    }
}

impl DayAggregate {
    /// The (events, cases) of a proportion in this aggregate.
    pub fn proportion(&self, proportion: CountedProportion) -> (u64, u64) {
        let outcomes = &self.outcomes;
        match proportion {
            CountedProportion::PositiveRate => (self.positive_decisions, self.decided),
            CountedProportion::Sensitivity => (
                outcomes.true_positives,
                outcomes.true_positives + outcomes.false_negatives,
            ),
            CountedProportion::Specificity => (
                outcomes.true_negatives,
                outcomes.true_negatives + outcomes.false_positives,
            ),
            CountedProportion::Ppv => (
                outcomes.true_positives,
                outcomes.true_positives + outcomes.false_positives,
            ),
            CountedProportion::Discordance => (
                outcomes.false_positives + outcomes.false_negatives,
                outcomes.true_positives
                    + outcomes.false_positives
                    + outcomes.true_negatives
                    + outcomes.false_negatives,
            ),
            CountedProportion::ReaderDisagreement => {
                (outcomes.reader_disagreed, outcomes.reader_reviewed)
            }
        }
    }
}

/// The aggregates of a set of events, by day and model version.
pub fn aggregate_by_day<'a>(
    events: impl IntoIterator<Item = &'a Event>,
) -> BTreeMap<DayKey, DayAggregate> {
    aggregate_with_outcomes(events, |_| None)
}

/// The aggregates of a set of events, each counted against its case's
/// outcomes as `truth_of` gives them.
pub fn aggregate_with_outcomes<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    truth_of: impl Fn(&Event) -> Option<CaseTruth>,
) -> BTreeMap<DayKey, DayAggregate> {
    let mut aggregates: BTreeMap<DayKey, DayAggregate> = BTreeMap::new();
    for event in events {
        let key = DayKey {
            day: utc_day(event.occurred_at),
            model_version: event.model_version.clone(),
        };
        let aggregate = aggregates.entry(key).or_insert_with(DayAggregate::empty);
        aggregate.add(event);
        if let Some(truth) = truth_of(event) {
            aggregate.add_outcome(event.score, event.decision, &truth);
        }
    }
    aggregates
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use vigil_domain::{IdentifierKind, PseudonymKey, pseudonymise};

    use super::*;
    use crate::events::{Metadata, Sex};

    fn event(
        index: u64,
        score: Option<f64>,
        decision: Option<bool>,
        day: u8,
        sex: Option<Sex>,
    ) -> Event {
        Event {
            event_id: format!("e{index}"),
            case: pseudonymise(
                &PseudonymKey::from_bytes([1; 32]),
                IdentifierKind::Accession,
                &format!("A{index}"),
            )
            .expect("pseudonym"),
            occurred_at: format!("2026-11-{:02}T23:59:59Z", day.clamp(1, 28))
                .parse()
                .expect("time"),
            model_version: if index.is_multiple_of(3) {
                "2.0".to_owned()
            } else {
                "1.0".to_owned()
            },
            score,
            decision,
            metadata: Metadata {
                sex,
                ..Metadata::default()
            },
        }
    }

    #[test]
    fn scores_fall_in_half_open_bins_with_the_last_closed() {
        assert_eq!(score_bin(0.0), 0);
        assert_eq!(score_bin(0.049_999), 0);
        assert_eq!(score_bin(0.05), 1);
        assert_eq!(score_bin(0.5), 10);
        assert_eq!(score_bin(0.999), 19);
        assert_eq!(score_bin(1.0), 19);
    }

    #[test]
    fn a_day_counts_events_scores_decisions_and_categories() {
        let events = [
            event(1, Some(0.91), Some(true), 30, Some(Sex::Female)),
            event(2, Some(0.10), Some(false), 30, Some(Sex::Male)),
            event(4, None, Some(true), 30, Some(Sex::Female)),
            event(5, Some(1.0), None, 29, None),
        ];
        let aggregates = aggregate_by_day(&events);
        let day = |text: &str| DayKey {
            day: text.parse().expect("date"),
            model_version: "1.0".to_owned(),
        };
        let thirtieth = &aggregates[&day("2026-11-28")];
        // The 30th is clamped to the 28th by the helper; the 29th is too.
        assert_eq!(thirtieth.events, 4);
        assert_eq!(thirtieth.scored, 3);
        assert_eq!(thirtieth.decided, 3);
        assert_eq!(thirtieth.positive_decisions, 2);
        assert_eq!(thirtieth.score_histogram[18], 1);
        assert_eq!(thirtieth.score_histogram[2], 1);
        assert_eq!(thirtieth.score_histogram[19], 1);
        assert_eq!(thirtieth.categories["sex"]["female"], 2);
        assert_eq!(thirtieth.categories["sex"]["male"], 1);
    }

    #[test]
    fn free_text_fields_are_capped_and_their_total_kept() {
        let mut day = DayAggregate::empty();
        for index in 0..(MAXIMUM_CATEGORY_VALUES as u64 + 50) {
            let mut unique = event(index, Some(0.5), None, 1, None);
            unique.metadata.protocol = Some(format!("study description {index}"));
            day.add(&unique);
        }
        let protocols = &day.categories["protocol"];
        assert_eq!(protocols.len(), MAXIMUM_CATEGORY_VALUES + 1);
        assert_eq!(protocols[OTHER_VALUES], 50);
        assert_eq!(protocols.values().sum::<u64>(), day.events);
    }

    #[test]
    fn taking_away_an_outcome_that_was_never_counted_is_refused() {
        let events = [event(1, Some(0.9), Some(true), 2, None)];
        let mut aggregates = aggregate_by_day(&events);
        let counted_before = aggregates.clone();
        let summary = EventSummary {
            key: aggregates.keys().next().expect("a day").clone(),
            score: Some(0.9),
            decision: Some(true),
        };
        let positive = CaseTruth {
            label: Some(true),
            ..CaseTruth::default()
        };
        let refused = apply_outcome_change(
            &mut aggregates,
            std::slice::from_ref(&summary),
            &positive,
            &CaseTruth::default(),
        );
        assert!(refused.is_err());
        assert_eq!(
            aggregates, counted_before,
            "a refused change changes nothing"
        );
        apply_outcome_change(
            &mut aggregates,
            &[summary],
            &CaseTruth::default(),
            &positive,
        )
        .expect("consistent");
        let outcomes = &aggregates.values().next().expect("a day").outcomes;
        assert_eq!(
            (
                outcomes.labelled,
                outcomes.positives,
                outcomes.true_positives
            ),
            (1, 1, 1)
        );
        assert_eq!(outcomes.positive_scores[90], 1);
    }

    #[test]
    fn the_day_is_the_utc_date() {
        let mut late = event(1, Some(0.5), None, 1, None);
        late.occurred_at = "2026-06-01T00:30:00+01:00".parse().expect("time");
        let aggregates = aggregate_by_day([&late]);
        let key = aggregates.keys().next().expect("a day");
        assert_eq!(key.day.to_string(), "2026-05-31");
    }

    fn arbitrary_events() -> impl Strategy<Value = Vec<Event>> {
        proptest::collection::vec(
            (
                0u64..1000,
                proptest::option::of(0.0f64..=1.0),
                proptest::option::of(any::<bool>()),
                1u8..5,
                proptest::option::of(prop_oneof![
                    Just(Sex::Female),
                    Just(Sex::Male),
                    Just(Sex::Unknown)
                ]),
            ),
            0..60,
        )
        .prop_map(|rows| {
            rows.into_iter()
                .map(|(index, score, decision, day, sex)| event(index, score, decision, day, sex))
                .collect()
        })
    }

    fn merged(parts: &[BTreeMap<DayKey, DayAggregate>]) -> BTreeMap<DayKey, DayAggregate> {
        let mut total: BTreeMap<DayKey, DayAggregate> = BTreeMap::new();
        for part in parts {
            for (key, aggregate) in part {
                total
                    .entry(key.clone())
                    .or_insert_with(DayAggregate::empty)
                    .merge(aggregate);
            }
        }
        total
    }

    fn arbitrary_truth() -> impl Strategy<Value = CaseTruth> {
        (
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
            proptest::option::of(any::<bool>()),
        )
            .prop_map(|(label, reader_label, reader_agrees)| CaseTruth {
                label,
                reader_label,
                reader_agrees,
            })
    }

    proptest! {
        #[test]
        fn late_outcomes_change_the_days_of_their_events_as_if_known_from_the_start(
            events in arbitrary_events(),
            before in proptest::collection::vec(arbitrary_truth(), 7),
            after in proptest::collection::vec(arbitrary_truth(), 7),
        ) {
            // Events share one of seven cases by their index.
            let case_of = |event: &Event| event.event_id[1..].parse::<usize>().expect("index") % 7;
            let mut aggregates = aggregate_with_outcomes(&events, |event| Some(before[case_of(event)]));
            for case in 0..7 {
                let summaries: Vec<EventSummary> = events
                    .iter()
                    .filter(|event| case_of(event) == case)
                    .map(|event| EventSummary {
                        key: DayKey { day: utc_day(event.occurred_at), model_version: event.model_version.clone() },
                        score: event.score,
                        decision: event.decision,
                    })
                    .collect();
                apply_outcome_change(&mut aggregates, &summaries, &before[case], &after[case])
                    .expect("consistent");
            }
            let known_from_the_start = aggregate_with_outcomes(&events, |event| Some(after[case_of(event)]));
            prop_assert_eq!(aggregates, known_from_the_start);
        }

        #[test]
        fn aggregates_of_parts_merge_into_the_aggregate_of_the_whole(
            events in arbitrary_events(),
            split in 0usize..60,
            second_split in 0usize..60,
        ) {
            let first = split.min(events.len());
            let second = second_split.clamp(first, events.len());
            let whole = aggregate_by_day(&events);
            let parts = [
                aggregate_by_day(&events[..first]),
                aggregate_by_day(&events[first..second]),
                aggregate_by_day(&events[second..]),
            ];
            prop_assert_eq!(&merged(&parts), &whole);
            // In any order.
            let reversed = [parts[2].clone(), parts[0].clone(), parts[1].clone()];
            prop_assert_eq!(&merged(&reversed), &whole);
            // Every part's counts are consistent.
            for aggregate in whole.values() {
                prop_assert_eq!(aggregate.score_histogram.iter().sum::<u64>(), aggregate.scored);
                prop_assert!(aggregate.positive_decisions <= aggregate.decided);
                prop_assert!(aggregate.scored <= aggregate.events && aggregate.decided <= aggregate.events);
            }
            prop_assert_eq!(whole.values().map(|a| a.events).sum::<u64>(), events.len() as u64);
        }
    }
}
