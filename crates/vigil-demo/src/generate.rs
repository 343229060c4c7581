//! The random draws of the demonstration: a week of one deployment's
//! inference events with the outcomes they will get, and the labelled cases
//! of a local validation.
//!
//! Scores follow the binormal model: a case's latent value is standard
//! normal, plus the product's separation d′ when the condition is present,
//! plus whatever its story adds; the score is a logistic function of it,
//! placed so that the product's threshold falls at its negative cutoff.
//! Each (deployment, week) pair has its own random stream, so the draws do
//! not depend on the order the weeks are written in.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_domain::{Code, IdentifierKind, PseudonymKey, pseudonymise};
use vigil_monitor::{Event, Metadata, Outcome, OutcomeSource, Sex};

use crate::plan::{DeploymentPlan, ProductPlan, Story, first_day_of_week};

/// The random stream of one deployment's week (or, with `week` below the
/// history, of its validation).
pub fn stream(seed: u64, deployment: usize, week: i64) -> ChaCha8Rng {
    let mut random = ChaCha8Rng::seed_from_u64(seed);
    random.set_stream(((deployment as u64) << 32) | (week + 1_000) as u64);
    random
}

/// A standard normal draw (Box–Muller).
fn normal(random: &mut ChaCha8Rng) -> f64 {
    let uniform: f64 = 1.0 - random.random::<f64>();
    let angle: f64 = random.random::<f64>() * std::f64::consts::TAU;
    (-2.0 * uniform.ln()).sqrt() * angle.cos()
}

/// The score of a latent value: the tool's calibrated probability that
/// the condition is present, P(present | latent) under the binormal model
/// at the product's prevalence, rounded to four decimals as feeds do.
pub fn score_of(product: &ProductPlan, latent: f64) -> f64 {
    let prior = (product.prevalence / (1.0 - product.prevalence)).ln();
    let separation = product.separation;
    let logit = prior + separation * latent - 0.5 * separation * separation;
    let score = 1.0 / (1.0 + (-logit).exp());
    (score * 10_000.0).round() / 10_000.0
}

/// What a story does to the cases of one week: a shift of the latent value
/// of negatives and positives, and the acquisition that replaces the usual
/// one.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Effect {
    negative_shift: f64,
    positive_shift: f64,
    /// (manufacturer, model, kVp), replacing every scanner.
    scanner: Option<(&'static str, &'static str, f64)>,
    /// (protocol, slice thickness), replacing the usual one.
    protocol: Option<(&'static str, f64)>,
}

fn effect(plan: &DeploymentPlan, week: i64) -> Effect {
    let none = Effect {
        negative_shift: 0.0,
        positive_shift: 0.0,
        scanner: None,
        protocol: None,
    };
    match plan.story {
        Story::Ordinary => none,
        Story::ScannerReplacement { week: from } if week >= from => Effect {
            negative_shift: 0.55,
            positive_shift: 0.3,
            scanner: Some(("Carestream", "DRX-Evolution Plus", 110.0)),
            ..none
        },
        Story::FunnelOutlier => Effect {
            positive_shift: -1.1,
            ..none
        },
        Story::SuspendedAfterAlert { week: from } if week >= from => Effect {
            negative_shift: -0.4,
            positive_shift: -1.6,
            protocol: Some(("CT head non-contrast thin-slice", 0.625)),
            ..none
        },
        _ => none,
    }
}

const AGE_BANDS: [(&str, f64); 4] = [
    ("18-39", 0.2),
    ("40-59", 0.3),
    ("60-79", 0.35),
    ("80+", 0.15),
];

fn age_band(random: &mut ChaCha8Rng) -> &'static str {
    let mut draw: f64 = random.random();
    for (band, share) in AGE_BANDS {
        if draw < share {
            return band;
        }
        draw -= share;
    }
    AGE_BANDS[AGE_BANDS.len() - 1].0
}

/// A week of one deployment: the events in the order they occurred, and
/// the outcomes they will get (each with the moment it is recorded, which
/// may lie beyond the end of the history).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Week {
    pub events: Vec<Event>,
    pub outcomes: Vec<Outcome>,
}

/// Everything a week's draw needs besides the random stream.
#[derive(Debug, Clone, Copy)]
pub struct WeekContext<'a> {
    pub seed: u64,
    pub end: Date,
    pub index: usize,
    pub plan: &'a DeploymentPlan,
    pub week: i64,
    pub model_version: &'a str,
    /// Added to the separation (a better model version).
    pub separation_bonus: f64,
    /// See [`crate::DemoOptions::ordinary_volume`].
    pub ordinary_volume: f64,
    pub key: &'a PseudonymKey,
}

/// Draws a week of events and their outcomes.
pub fn week(context: &WeekContext<'_>) -> Week {
    let plan = context.plan;
    let product = plan.product();
    let mut random = stream(context.seed, context.index, context.week);
    let effect = effect(plan, context.week);
    let site = Code::parse(plan.site).ok();
    let primary_scanner = context.index % product.scanners.len();
    let mut drawn = Week::default();
    for day_offset in 0..7 {
        let day = first_day_of_week(context.end, context.week).saturating_add(day_offset.days());
        let weekday = i64::from(day.weekday().to_monday_zero_offset());
        let volume = plan.volume_on(weekday, context.ordinary_volume);
        let mut moments: Vec<i64> = (0..volume)
            .map(|_| random.random_range(7 * 3_600..20 * 3_600))
            .collect();
        moments.sort_unstable();
        for (number, second) in moments.into_iter().enumerate() {
            let occurred_at = at(day, second);
            let present = random.random::<f64>() < product.prevalence;
            let latent = normal(&mut random)
                + if present {
                    product.separation + context.separation_bonus + effect.positive_shift
                } else {
                    effect.negative_shift
                };
            let score = score_of(product, latent);
            let scanner_index = if random.random::<f64>() < 0.85 {
                primary_scanner
            } else {
                (primary_scanner + 1) % product.scanners.len()
            };
            let (manufacturer, model, kvp, thickness) = product.scanners[scanner_index];
            let (manufacturer, model, kvp) = match effect.scanner {
                Some((manufacturer, model, kvp)) => (manufacturer, model, Some(kvp)),
                None => (manufacturer, model, kvp),
            };
            let (protocol, thickness) = match effect.protocol {
                Some((protocol, thickness)) => (protocol, Some(thickness)),
                None => (
                    product.protocols[random.random_range(0..product.protocols.len())],
                    thickness,
                ),
            };
            let sex = if product.key == "breast" {
                Sex::Female
            } else if product.key == "prostate" {
                Sex::Male
            } else if random.random::<bool>() {
                Sex::Female
            } else {
                Sex::Male
            };
            let accession = format!(
                "{}-{}-{}-{day_offset}-{number}",
                plan.site, product.key, context.week
            );
            let case = pseudonymise(context.key, IdentifierKind::Accession, &accession)
                .expect("a non-empty accession number");
            let decision = score >= product.threshold();
            if random.random::<f64>() < product.outcome.fraction {
                let (shortest, longest) = product.outcome.delay_days;
                let delay = random.random_range(shortest * 86_400..=longest * 86_400 + 43_200);
                let source =
                    OutcomeSource::parse(product.outcome.source).expect("a known outcome source");
                drawn.outcomes.push(Outcome {
                    case: case.clone(),
                    label: present,
                    source,
                    recorded_at: occurred_at
                        .checked_add(delay.seconds())
                        .expect("a moment within range"),
                    reader_agrees: (source == OutcomeSource::Reader).then_some(decision == present),
                });
            }
            drawn.events.push(Event {
                // As the API keeps it with the Trust's key set: the id names
                // the accession, so only its keyed hash is stored.
                event_id: pseudonymise(
                    context.key,
                    IdentifierKind::EventId,
                    &format!("{}-{}-{accession}", product.key, context.model_version),
                )
                .expect("a non-empty event id")
                .into(),
                case,
                occurred_at,
                model_version: context.model_version.to_owned(),
                score: Some(score),
                decision: Some(decision),
                metadata: Metadata {
                    scanner_manufacturer: Some(manufacturer.to_owned()),
                    scanner_model: Some(model.to_owned()),
                    protocol: Some(protocol.to_owned()),
                    slice_thickness_mm: thickness,
                    kvp,
                    age_band: Some(age_band(&mut random).to_owned()),
                    sex: Some(sex),
                    site: site.clone(),
                },
            });
        }
    }
    drawn
}

/// A moment `second` seconds into a day, in UTC.
pub fn at(day: Date, second: i64) -> Timestamp {
    day.to_datetime(Time::midnight())
        .to_zoned(TimeZone::UTC)
        .expect("a day within range")
        .timestamp()
        .checked_add(second.seconds())
        .expect("a moment within range")
}

/// The labelled cases of a local validation as CSV (`case_id`, `label`,
/// `score`, `scanner_model`, `age_band`, `sex`): a consecutive series at
/// the product's prevalence, long enough to hold 120 cases with the
/// condition (so that PPV and NPV carry over to the live service).
pub fn validation_cases(seed: u64, index: usize, plan: &DeploymentPlan) -> String {
    let product = plan.product();
    let mut random = stream(seed, index, -1_000);
    let positives = 120_usize;
    let negatives =
        (positives as f64 * (1.0 - product.prevalence) / product.prevalence).round() as usize;
    let mut present_flags: Vec<bool> = (0..positives + negatives)
        .map(|number| number < positives)
        .collect();
    // Shuffled into arrival order (Fisher–Yates).
    for last in (1..present_flags.len()).rev() {
        let other = random.random_range(0..=last);
        present_flags.swap(last, other);
    }
    let mut text = String::from("case_id,label,score,scanner_model,age_band,sex\n");
    for (number, present) in present_flags.into_iter().enumerate() {
        let latent = normal(&mut random) + if present { product.separation } else { 0.0 };
        let (_, model, _, _) = product.scanners[random.random_range(0..product.scanners.len())];
        let sex = match product.key {
            "breast" => "F",
            "prostate" => "M",
            _ if random.random::<bool>() => "F",
            _ => "M",
        };
        text.push_str(&format!(
            "val-{number:05},{},{:.4},{model},{},{sex}\n",
            u8::from(present),
            score_of(product, latent),
            age_band(&mut random),
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::DEPLOYMENTS;

    fn key() -> PseudonymKey {
        PseudonymKey::from_bytes([3; 32])
    }

    fn draw(index: usize, week: i64) -> Week {
        week_of(index, week, "1.0")
    }

    fn week_of(index: usize, week_number: i64, version: &str) -> Week {
        week(&WeekContext {
            seed: 7,
            end: "2026-12-01".parse().unwrap(),
            index,
            plan: &DEPLOYMENTS[index],
            week: week_number,
            model_version: version,
            separation_bonus: 0.0,
            ordinary_volume: 1.0,
            key: &key(),
        })
    }

    #[test]
    fn scores_are_calibrated_probabilities() {
        // Among cases scored near s, a share s has the condition: the
        // expected calibration error over ten bins of 200,000 draws is small.
        let product = &crate::plan::PRODUCTS[0];
        let mut random = stream(1, 0, 0);
        let mut bins = [(0.0_f64, 0.0_f64, 0_u32); 10];
        for _ in 0..200_000 {
            let present = random.random::<f64>() < product.prevalence;
            let score = score_of(
                product,
                normal(&mut random) + if present { product.separation } else { 0.0 },
            );
            let bin = &mut bins[((score * 10.0) as usize).min(9)];
            bin.0 += score;
            bin.1 += f64::from(u8::from(present));
            bin.2 += 1;
        }
        let error: f64 = bins
            .iter()
            .filter(|bin| bin.2 > 0)
            .map(|(scores, positives, _)| (scores - positives).abs() / 200_000.0)
            .sum();
        assert!(error < 0.01, "{error}");
    }

    #[test]
    fn draws_are_deterministic_and_differ_between_weeks() {
        assert_eq!(draw(0, 10), draw(0, 10));
        assert_ne!(draw(0, 10).events, draw(0, 11).events);
        let events = draw(0, 10).events;
        assert_eq!(
            events.len() as u64,
            (0..7)
                .map(|day| u64::from(DEPLOYMENTS[0].volume_on(day, 1.0)))
                .sum::<u64>()
        );
    }

    #[test]
    fn event_ids_are_unique_pseudonyms_across_weeks_and_versions() {
        let mut ids = std::collections::HashSet::new();
        for (week, version) in [(10, "1.0"), (11, "1.0"), (11, "2.0")] {
            for event in week_of(0, week, version).events {
                assert!(
                    vigil_domain::is_pseudonym(&event.event_id),
                    "{}",
                    event.event_id
                );
                assert!(ids.insert(event.event_id), "repeated id");
            }
        }
    }

    #[test]
    fn specificity_and_sensitivity_follow_the_binormal_model() {
        let events = (10..20).flat_map(|week| {
            let drawn = draw(0, week);
            let labels: std::collections::HashMap<_, _> = drawn
                .outcomes
                .iter()
                .map(|outcome| (outcome.case.clone(), outcome.label))
                .collect();
            drawn.events.into_iter().filter_map(move |event| {
                labels
                    .get(&event.case)
                    .map(|label| (*label, event.decision.unwrap()))
            })
        });
        let (mut tp, mut positives, mut tn, mut negatives) = (0, 0, 0, 0);
        for (label, decision) in events {
            if label {
                positives += 1;
                tp += u32::from(decision);
            } else {
                negatives += 1;
                tn += u32::from(!decision);
            }
        }
        let sensitivity = f64::from(tp) / f64::from(positives);
        let specificity = f64::from(tn) / f64::from(negatives);
        // Φ(0.84) = 0.80; 1 − Φ(0.84 − 2.0) = 0.877.
        assert!((specificity - 0.80).abs() < 0.02, "{specificity}");
        assert!((sensitivity - 0.877).abs() < 0.03, "{sensitivity}");
    }

    #[test]
    fn the_scanner_replacement_changes_the_scanner_and_lowers_specificity() {
        let index = DEPLOYMENTS
            .iter()
            .position(|plan| matches!(plan.story, Story::ScannerReplacement { .. }))
            .unwrap();
        let Story::ScannerReplacement { week: from } = DEPLOYMENTS[index].story else {
            unreachable!()
        };
        let before = draw(index, from - 1);
        let after = draw(index, from);
        assert!(
            before
                .events
                .iter()
                .all(|event| event.metadata.scanner_model.as_deref() != Some("DRX-Evolution Plus"))
        );
        assert!(
            after
                .events
                .iter()
                .all(|event| event.metadata.scanner_model.as_deref() == Some("DRX-Evolution Plus"))
        );
        let rate = |week: &Week| {
            week.events
                .iter()
                .filter(|event| event.decision == Some(true))
                .count() as f64
                / week.events.len() as f64
        };
        assert!(rate(&after) > rate(&before) + 0.1);
    }

    #[test]
    fn outcomes_come_later_than_their_events() {
        let drawn = draw(14, 10);
        let occurred: std::collections::HashMap<_, _> = drawn
            .events
            .iter()
            .map(|event| (event.case.clone(), event.occurred_at))
            .collect();
        for outcome in &drawn.outcomes {
            assert!(outcome.recorded_at >= occurred[&outcome.case]);
        }
        assert!(drawn.outcomes.len() as f64 > 0.9 * drawn.events.len() as f64);
    }

    #[test]
    fn validation_cases_are_a_consecutive_series_with_120_positives() {
        let text = validation_cases(7, 0, &DEPLOYMENTS[0]);
        // 120 positives at a prevalence of 30%: 280 negatives.
        assert_eq!(text.lines().count(), 401);
        assert_eq!(
            text.lines().filter(|line| line.contains(",1,")).count(),
            120
        );
    }
}
