//! `vigil-bench assess --dir DIR`: judging every default rule of a
//! deployment that holds N inference events (10 million by default, or the
//! number in `DIR/assess-events`), from its day aggregates.
//!
//! Not timed: a seeded generator makes N events over 365 days (about 27,000
//! a day at 10 million) with realistic metadata — 3 scanner manufacturers,
//! 6 models, 10 protocols, 8 age bands, 4 sexes, 2 sites, 5 slice
//! thicknesses, 4 kVp values — with a decision at the 0.5 threshold and an
//! outcome for 80% of them (positive with probability equal to the score),
//! a scanner replacement in the last 30 days that shifts the scores; folds
//! them into day aggregates and writes each as the JSON the store keeps.
//!
//! Timed: what an assessment does after the database has returned the
//! stored rows — parse every day's JSON and the stored rules, merge the
//! days, and judge the default rules (performance with intervals, positive rate, score and
//! input drift, CUSUM with its decision interval for the stated ARL, EWMA,
//! CBPE) on the last day. Fetching a year of rows from SQLite adds a few
//! milliseconds.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use vigil_domain::{IdentifierKind, PseudonymKey, pseudonymise};
use vigil_monitor::events::{Event, Metadata, Sex};
use vigil_monitor::{Baseline, CaseTruth, DayAggregate, DayKey, Days, RuleSet, Verdict};

/// SplitMix64: a small, well-mixed, seeded generator for synthetic data.
struct Generator(u64);

impl Generator {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }

    fn pick<'a>(&mut self, choices: &'a [&'a str]) -> &'a str {
        choices[(self.next() % choices.len() as u64) as usize]
    }
}

const MANUFACTURERS: [&str; 3] = ["Siemens", "GE", "Canon"];
const MODELS: [&str; 6] = [
    "Ysio Max",
    "Luminos",
    "Definium",
    "Discovery",
    "Radrex",
    "Aquilion",
];
const PROTOCOLS: [&str; 10] = [
    "CHEST PA",
    "CHEST AP",
    "CHEST LAT",
    "CHEST PA ERECT",
    "CHEST AP SUPINE",
    "CHEST PORTABLE",
    "CHEST PAED",
    "CHEST INSP",
    "CHEST EXP",
    "CHEST DECUB",
];
const AGE_BANDS: [&str; 8] = [
    "0-17", "18-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+",
];
const SITES: [&str; 2] = ["rw3-main", "rw3-north"];
const THICKNESSES: [f64; 5] = [0.625, 1.0, 1.25, 2.5, 5.0];
const KVPS: [f64; 4] = [80.0, 100.0, 120.0, 140.0];

/// The stored day aggregates (as JSON texts) of `events` synthetic events.
fn stored_aggregates(events: u64) -> Result<Vec<(DayKey, String)>> {
    let mut generator = Generator(20_261_202);
    let key = PseudonymKey::from_bytes([7; 32]);
    let case =
        pseudonymise(&key, IdentifierKind::Accession, "synthetic case").context("pseudonym")?;
    let first: jiff::civil::Date = "2025-12-01".parse()?;
    let days = 365_u64;
    let mut aggregates = Vec::with_capacity(days as usize);
    for day_index in 0..days {
        let day = first
            .checked_add(jiff::Span::new().days(day_index as i64))
            .context("day")?;
        let replaced = day_index >= days - 30;
        let count = events / days + u64::from(day_index < events % days);
        let mut aggregate = DayAggregate::empty();
        let occurred_at = day.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp();
        for _ in 0..count {
            let positive = generator.unit() < 0.2;
            let base = if positive {
                0.55 + 0.4 * generator.unit()
            } else {
                0.45 * generator.unit()
            };
            let score: f64 = if replaced {
                (base + 0.15).min(1.0)
            } else {
                base
            };
            let model = if replaced {
                "Revolution"
            } else {
                generator.pick(&MODELS)
            };
            let event = Event {
                event_id: String::new(),
                case: case.clone(),
                occurred_at,
                model_version: "2.3.0".to_owned(),
                score: Some(score),
                decision: Some(score >= 0.5),
                metadata: Metadata {
                    scanner_manufacturer: Some(generator.pick(&MANUFACTURERS).to_owned()),
                    scanner_model: Some(model.to_owned()),
                    protocol: Some(generator.pick(&PROTOCOLS).to_owned()),
                    slice_thickness_mm: Some(THICKNESSES[(generator.next() % 5) as usize]),
                    kvp: Some(KVPS[(generator.next() % 4) as usize]),
                    age_band: Some(generator.pick(&AGE_BANDS).to_owned()),
                    sex: Some(
                        [Sex::Female, Sex::Male, Sex::Other, Sex::Unknown]
                            [(generator.next() % 4) as usize],
                    ),
                    site: Some(vigil_domain::Code::parse(generator.pick(&SITES))?),
                },
            };
            aggregate.add(&event);
            if generator.unit() < 0.8 {
                let truth = CaseTruth {
                    label: Some(generator.unit() < score),
                    ..CaseTruth::default()
                };
                aggregate.add_outcome(event.score, event.decision, &truth);
            }
        }
        let key = DayKey {
            day,
            model_version: "2.3.0".to_owned(),
        };
        aggregates.push((key, serde_json::to_string(&aggregate)?));
    }
    Ok(aggregates)
}

/// Runs the workload and prints its line.
pub fn run(directory: &Path) -> Result<()> {
    let events = std::fs::read_to_string(directory.join("assess-events"))
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok())
        .unwrap_or(10_000_000);
    let stored = stored_aggregates(events)?;
    let last_day = stored.last().map(|(key, _)| key.day).context("no day")?;
    let baseline_from = stored.first().map(|(key, _)| key.day).context("no day")?;
    let baseline_to = baseline_from.checked_add(jiff::Span::new().days(59))?;
    // The baseline (stored with the rules in practice) from the first 60
    // days, outside the timing.
    let parse = |stored: &[(DayKey, String)]| -> Result<Vec<(DayKey, DayAggregate)>> {
        stored
            .iter()
            .map(|(key, text)| Ok((key.clone(), serde_json::from_str(text)?)))
            .collect()
    };
    let early = parse(&stored[..60.min(stored.len())])?;
    let reference = Days::new(early.iter().map(|(key, aggregate)| (key, aggregate)))
        .window(baseline_from, baseline_to);
    let baseline = Baseline {
        source: "synthetic validation and shadow running".to_owned(),
        sensitivity: Some(0.9),
        specificity: Some(0.85),
        ppv: Some(0.55),
        auc: Some(0.93),
        threshold: Some(0.5),
        positive_rate: Some(reference.positive_decisions as f64 / reference.decided.max(1) as f64),
        score_histogram: Some(reference.score_histogram.clone()),
        reference_from: Some(baseline_from),
        reference_to: Some(baseline_to),
    };
    // The rules as stored: designed (each CUSUM's decision interval
    // computed) when they were made, outside the timing.
    let stored_rules = RuleSet::defaults(baseline).to_json();
    let started = Instant::now();
    let aggregates = parse(&stored)?;
    let days = Days::new(aggregates.iter().map(|(key, aggregate)| (key, aggregate)));
    let rules = RuleSet::from_stored_json(&stored_rules)?;
    let assessments = vigil_monitor::assess(&rules, &days, last_day);
    let seconds = started.elapsed().as_secs_f64();
    let signals: Vec<String> = assessments
        .iter()
        .filter(|assessment| assessment.verdict == Verdict::Signal)
        .map(|assessment| format!("\"{}\"", assessment.rule))
        .collect();
    crate::report(
        seconds,
        format!(
            "\"events\": {events}, \"days\": {}, \"rules\": {}, \"signals\": [{}]",
            stored.len(),
            assessments.len(),
            signals.join(", ")
        ),
    );
    Ok(())
}
