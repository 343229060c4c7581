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

/// The number of equal-width score bins over [0, 1].
pub const SCORE_BINS: usize = 20;

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
}

/// The day an event belongs to: the UTC date of when it occurred. The
/// aggregates and the stored events use this one definition.
pub fn utc_day(at: jiff::Timestamp) -> Date {
    at.to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// The bin of a score in [0, 1].
pub fn score_bin(score: f64) -> usize {
    let scaled = (score * SCORE_BINS as f64).floor();
    if scaled.is_nan() || scaled < 0.0 {
        0
    } else {
        (scaled as usize).min(SCORE_BINS - 1)
    }
}

impl DayAggregate {
    /// An aggregate of no events.
    pub fn empty() -> Self {
        DayAggregate {
            score_histogram: vec![0; SCORE_BINS],
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
        for (field, values) in &other.categories {
            let mine = self.categories.entry(field.clone()).or_default();
            for (value, count) in values {
                count_value(mine, value, *count);
            }
        }
    }
}

/// The aggregates of a set of events, by day and model version.
pub fn aggregate_by_day<'a>(
    events: impl IntoIterator<Item = &'a Event>,
) -> BTreeMap<DayKey, DayAggregate> {
    let mut aggregates: BTreeMap<DayKey, DayAggregate> = BTreeMap::new();
    for event in events {
        let key = DayKey {
            day: utc_day(event.occurred_at),
            model_version: event.model_version.clone(),
        };
        aggregates
            .entry(key)
            .or_insert_with(DayAggregate::empty)
            .add(event);
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
            model_version: if index % 3 == 0 {
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

    proptest! {
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
