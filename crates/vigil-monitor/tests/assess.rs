//! Rules judged on day aggregates built by hand: each test kind signals on a
//! planted change, stays clear without one, answers "not enough data" below
//! its minimum, and does not alarm on a trivial shift in a huge sample.

use std::collections::BTreeMap;

use jiff::civil::Date;
use vigil_monitor::aggregate::{DayAggregate, DayKey, LABELLED_SCORE_BINS, SCORE_BINS};
use vigil_monitor::assess::{Days, assess_rule};
use vigil_monitor::rules::{Baseline, ChartedRate, Metric, Rule, Test};
use vigil_monitor::{Assessment, ControlKind, Verdict, control_trace};

fn date(text: &str) -> Date {
    text.parse().expect("date")
}

/// Days of aggregates from `(day, aggregate)`.
fn days(list: Vec<(&str, DayAggregate)>) -> Days {
    let keyed: Vec<(DayKey, DayAggregate)> = list
        .into_iter()
        .map(|(day, aggregate)| {
            (
                DayKey {
                    day: date(day),
                    model_version: "1.0".to_owned(),
                },
                aggregate,
            )
        })
        .collect();
    Days::new(keyed.iter().map(|(key, aggregate)| (key, aggregate)))
}

fn rule(test: Test, window_days: u32, minimum_cases: u64) -> Rule {
    Rule {
        id: "rule".to_owned(),
        window_days,
        minimum_cases,
        propose_suspension: false,
        test,
    }
}

fn baseline() -> Baseline {
    Baseline {
        source: "test".to_owned(),
        sensitivity: Some(0.9),
        specificity: Some(0.8),
        ppv: Some(0.5),
        auc: Some(0.9),
        threshold: Some(0.5),
        positive_rate: Some(0.2),
        score_histogram: Some(vec![50; SCORE_BINS]),
        reference_from: Some(date("2026-01-01")),
        reference_to: Some(date("2026-01-31")),
    }
}

/// Checks one rule's verdict on the given days, judged on `as_of`, and
/// returns the assessment for further checks.
fn check(rule: &Rule, days: &Days, as_of: &str, expected: Verdict) -> Assessment {
    let assessment = assess_rule(rule, &baseline(), days, date(as_of));
    assert_eq!(
        assessment.verdict, expected,
        "{:?}: {}",
        rule.test, assessment.evidence.explanation
    );
    assessment
}

fn with_confusion(
    true_positives: u64,
    false_negatives: u64,
    true_negatives: u64,
    false_positives: u64,
) -> DayAggregate {
    let mut day = DayAggregate::empty();
    let outcomes = &mut day.outcomes;
    outcomes.true_positives = true_positives;
    outcomes.false_negatives = false_negatives;
    outcomes.true_negatives = true_negatives;
    outcomes.false_positives = false_positives;
    outcomes.labelled = true_positives + false_negatives + true_negatives + false_positives;
    outcomes.positives = true_positives + false_negatives;
    day
}

#[test]
fn sensitivity_signals_only_when_worse_by_the_tolerance_beyond_chance() {
    let sensitivity = rule(
        Test::Performance {
            metric: Metric::Sensitivity,
            tolerance: 0.05,
            confidence: 0.95,
        },
        30,
        50,
    );
    // 60 of 100 positives found: far below 0.9.
    let poor = days(vec![("2026-03-10", with_confusion(60, 40, 100, 10))]);
    let assessment = check(&sensitivity, &poor, "2026-03-20", Verdict::Signal);
    let evidence = &assessment.evidence;
    assert_eq!(evidence.value, Some(0.6));
    assert_eq!(evidence.cases, 100);
    let wilson = vigil_stats::interval::Proportion::new(60, 100)
        .expect("proportion")
        .wilson(vigil_stats::ConfidenceLevel::new(0.95).expect("level"));
    assert_eq!(evidence.interval, Some((wilson.low, wilson.high)));
    assert_eq!(assessment.window_from, date("2026-02-19"));
    // Outside the window, the same day does not count.
    check(&sensitivity, &poor, "2026-04-10", Verdict::NotEnoughData);
    // 88 of 100: within tolerance.
    let fine = days(vec![("2026-03-10", with_confusion(88, 12, 100, 10))]);
    check(&sensitivity, &fine, "2026-03-20", Verdict::Clear);
    // Below the minimum of 50 positives, no verdict, however poor.
    let few = days(vec![("2026-03-10", with_confusion(10, 30, 100, 10))]);
    check(&sensitivity, &few, "2026-03-20", Verdict::NotEnoughData);
    // A huge sample 3 points below the baseline is beyond chance but
    // within the tolerance: no alarm.
    let huge = days(vec![(
        "2026-03-10",
        with_confusion(870_000, 130_000, 10, 10),
    )]);
    let assessment = check(&sensitivity, &huge, "2026-03-20", Verdict::Clear);
    assert!(assessment.evidence.interval.expect("interval").1 < 0.9);
}

#[test]
fn auc_is_read_from_the_labelled_score_histograms() {
    let auc = rule(
        Test::Performance {
            metric: Metric::Auc,
            tolerance: 0.05,
            confidence: 0.95,
        },
        7,
        50,
    );
    let mut separated = DayAggregate::empty();
    separated.outcomes.positive_scores = vec![0; LABELLED_SCORE_BINS];
    separated.outcomes.negative_scores = vec![0; LABELLED_SCORE_BINS];
    // Scores that do not separate the classes at all: AUC 0.5.
    separated.outcomes.positive_scores[40] = 100;
    separated.outcomes.negative_scores[40] = 100;
    let assessment = check(
        &auc,
        &days(vec![("2026-03-10", separated)]),
        "2026-03-10",
        Verdict::Signal,
    );
    assert_eq!(assessment.evidence.value, Some(0.5));
}

#[test]
fn score_drift_needs_both_a_large_psi_and_a_small_p_value() {
    let drift = rule(
        Test::ScoreDrift {
            psi_threshold: 0.2,
            alpha: 0.01,
        },
        7,
        200,
    );
    let shifted = |high_bins: u64| {
        let mut day = DayAggregate::empty();
        for (bin, count) in day.score_histogram.iter_mut().enumerate() {
            *count = if bin >= 10 { high_bins } else { 10 };
        }
        day.scored = day.score_histogram.iter().sum();
        day
    };
    // The baseline is uniform; scores piled into the upper half drift.
    check(
        &drift,
        &days(vec![("2026-03-10", shifted(90))]),
        "2026-03-10",
        Verdict::Signal,
    );
    check(
        &drift,
        &days(vec![("2026-03-10", shifted(9))]),
        "2026-03-10",
        Verdict::NotEnoughData,
    );
    let assessment = check(
        &drift,
        &days(vec![("2026-03-10", shifted(11))]),
        "2026-03-10",
        Verdict::Clear,
    );
    assert!(assessment.evidence.value.expect("psi") < 0.2);
}

fn with_category(field: &str, counts: &[(&str, u64)]) -> DayAggregate {
    let mut day = DayAggregate::empty();
    let values: BTreeMap<String, u64> = counts
        .iter()
        .map(|(value, count)| ((*value).to_owned(), *count))
        .collect();
    day.events = values.values().sum();
    day.categories.insert(field.to_owned(), values);
    day
}

#[test]
fn input_drift_of_a_category_needs_an_effect_as_well_as_a_p_value() {
    let scanner = rule(
        Test::InputDrift {
            field: "scanner_model".to_owned(),
            alpha: 0.01,
            minimum_effect: 0.1,
        },
        7,
        200,
    );
    let reference = (
        "2026-01-15",
        with_category("scanner_model", &[("Ysio", 1000), ("Aquilion", 1000)]),
    );
    // A scanner replaced: all studies now on a new model.
    let replaced = days(vec![
        reference.clone(),
        (
            "2026-03-10",
            with_category("scanner_model", &[("Ysio", 100), ("Revolution", 400)]),
        ),
    ]);
    let assessment = check(&scanner, &replaced, "2026-03-10", Verdict::Signal);
    assert!(assessment.evidence.effect_size.expect("V") > 0.5);
    assert_eq!(assessment.evidence.reference_cases, Some(2000));
    // Millions of events a point apart: p is tiny, the effect is not.
    let trivial = days(vec![
        (
            "2026-01-15",
            with_category(
                "scanner_model",
                &[("Ysio", 5_000_000), ("Aquilion", 5_000_000)],
            ),
        ),
        (
            "2026-03-10",
            with_category(
                "scanner_model",
                &[("Ysio", 5_100_000), ("Aquilion", 4_900_000)],
            ),
        ),
    ]);
    let assessment = check(&scanner, &trivial, "2026-03-10", Verdict::Clear);
    assert!(assessment.evidence.p_value.expect("p") < 1e-100);
    // No reference data: not enough.
    let no_reference = days(vec![(
        "2026-03-10",
        with_category("scanner_model", &[("Ysio", 500)]),
    )]);
    check(
        &scanner,
        &no_reference,
        "2026-03-10",
        Verdict::NotEnoughData,
    );
}

#[test]
fn input_drift_of_a_measurement_uses_ks_and_the_wasserstein_distance() {
    let thickness = rule(
        Test::InputDrift {
            field: "slice_thickness_mm".to_owned(),
            alpha: 0.01,
            minimum_effect: 0.1,
        },
        7,
        200,
    );
    let measured = |counts: &[(&str, u64)]| {
        let mut day = DayAggregate::empty();
        day.measurements.insert(
            "slice_thickness_mm".to_owned(),
            counts
                .iter()
                .map(|(value, count)| ((*value).to_owned(), *count))
                .collect(),
        );
        day
    };
    let reference = ("2026-01-10", measured(&[("1", 500), ("2.5", 500)]));
    let thicker = days(vec![
        reference.clone(),
        ("2026-03-10", measured(&[("2.5", 300), ("5", 300)])),
    ]);
    let assessment = check(&thickness, &thicker, "2026-03-10", Verdict::Signal);
    // Reference {1, 2.5} half each, current {2.5, 5}: W1 = 0.5·1.5 + 0.5·2.5 = 2.
    assert!((assessment.evidence.value.expect("W") - 2.0).abs() < 1e-12);
    let same = days(vec![
        reference,
        ("2026-03-10", measured(&[("1", 300), ("2.5", 300)])),
    ]);
    check(&thickness, &same, "2026-03-10", Verdict::Clear);
}

fn with_decisions(positive: u64, decided: u64) -> DayAggregate {
    let mut day = DayAggregate::empty();
    day.positive_decisions = positive;
    day.decided = decided;
    day.events = decided;
    day
}

#[test]
fn the_positive_rate_cusum_and_ewma_catch_a_sustained_rise() {
    let cusum = rule(
        Test::Cusum {
            signal: ChartedRate::PositiveRate,
            p0: None,
            p1: 0.3,
            in_control_arl: 5000.0,
            decision_interval: None,
        },
        30,
        1,
    );
    let ewma = rule(
        Test::Ewma {
            signal: ChartedRate::PositiveRate,
            p0: None,
            lambda: 0.2,
            width: 3.0,
        },
        30,
        1,
    );
    let rate = |positives: u64| -> Days {
        days(
            (1..=20)
                .map(|day| (format!("2026-03-{day:02}"), with_decisions(positives, 100)))
                .map(|(day, aggregate)| (Box::leak(day.into_boxed_str()) as &str, aggregate))
                .collect(),
        )
    };
    let rising = rate(35);
    let assessment = check(&cusum, &rising, "2026-03-20", Verdict::Signal);
    assert!(
        assessment.evidence.explanation.contains("crossed"),
        "{}",
        assessment.evidence.explanation
    );
    check(&ewma, &rising, "2026-03-20", Verdict::Signal);
    let steady = rate(20);
    check(&cusum, &steady, "2026-03-20", Verdict::Clear);
    check(&ewma, &steady, "2026-03-20", Verdict::Clear);
    // Discordance has no baseline rate: it needs p0 in the rule.
    let discordance = rule(
        Test::Cusum {
            signal: ChartedRate::Discordance,
            p0: None,
            p1: 0.3,
            in_control_arl: 5000.0,
            decision_interval: None,
        },
        30,
        1,
    );
    check(&discordance, &steady, "2026-03-20", Verdict::Unavailable);
    assert_eq!(
        control_trace(&discordance, &baseline(), &steady, date("2026-03-20")),
        None,
        "a chart without its in-control rate is not drawn"
    );

    // The traces drawn on the dashboard are the numbers the verdicts come
    // from: the CUSUM's last value is the evidence's, its first crossing of
    // h the day the explanation names; the EWMA's limits bracket p0 and
    // widen towards their asymptote.
    let as_of = date("2026-03-20");
    let trace = control_trace(&cusum, &baseline(), &rising, as_of).expect("a CUSUM trace");
    assert_eq!(trace.kind, ControlKind::Cusum);
    assert_eq!(trace.points.len(), 20);
    assert!(trace.points.iter().all(|point| point.cases == 100));
    let assessed = check(&cusum, &rising, "2026-03-20", Verdict::Signal);
    assert_eq!(
        trace.points.last().map(|point| point.statistic),
        assessed.evidence.value
    );
    let first = trace.first_signal.expect("a signal");
    let h = trace.points[first].upper_limit;
    assert!(trace.points[first].statistic >= h);
    assert!(first == 0 || trace.points[first - 1].statistic < h);
    assert!(
        assessed
            .evidence
            .explanation
            .contains(&trace.points[first].day.to_string()),
        "{}",
        assessed.evidence.explanation
    );
    let steady_trace = control_trace(&cusum, &baseline(), &steady, as_of).expect("a trace");
    assert_eq!(steady_trace.first_signal, None);
    let ewma_trace = control_trace(&ewma, &baseline(), &rising, as_of).expect("an EWMA trace");
    assert_eq!(ewma_trace.kind, ControlKind::Ewma);
    let p0 = ewma_trace.in_control;
    let widths: Vec<f64> = ewma_trace
        .points
        .iter()
        .map(|point| point.upper_limit - point.lower_limit.expect("two-sided"))
        .collect();
    assert!(widths.windows(2).all(|pair| pair[1] >= pair[0]));
    for point in &ewma_trace.points {
        assert!(point.lower_limit.expect("two-sided") < p0 && p0 < point.upper_limit);
        assert!((point.observed - 0.35).abs() < 1e-12);
    }
    assert!(ewma_trace.first_signal.is_some());
    // Other rules have no trace.
    let drift = rule(
        Test::ScoreDrift {
            psi_threshold: 0.2,
            alpha: 0.01,
        },
        30,
        1,
    );
    assert_eq!(control_trace(&drift, &baseline(), &rising, as_of), None);
}

#[test]
fn cbpe_estimates_from_the_score_histogram() {
    let estimated = rule(
        Test::Cbpe {
            metric: Metric::Sensitivity,
            tolerance: 0.05,
        },
        7,
        100,
    );
    // All scores in bin 9 (midpoint 0.475, below the 0.5 threshold): every
    // expected positive is missed, so sensitivity is estimated at 0.
    let mut day = DayAggregate::empty();
    day.score_histogram[9] = 400;
    day.scored = 400;
    let assessment = check(
        &estimated,
        &days(vec![("2026-03-10", day)]),
        "2026-03-10",
        Verdict::Signal,
    );
    assert_eq!(assessment.evidence.value, Some(0.0));
    // Scores split between 0.025 and 0.975: sensitivity 0.975·200 / (0.975·200 + 0.025·200).
    let mut split = DayAggregate::empty();
    split.score_histogram[0] = 200;
    split.score_histogram[19] = 200;
    split.scored = 400;
    let assessment = check(
        &estimated,
        &days(vec![("2026-03-10", split)]),
        "2026-03-10",
        Verdict::Clear,
    );
    assert!((assessment.evidence.value.expect("estimate") - 0.975).abs() < 1e-12);
}

#[test]
fn rules_without_their_baseline_are_unavailable_not_silent() {
    let mut bare = baseline();
    bare.sensitivity = None;
    let sensitivity = rule(
        Test::Performance {
            metric: Metric::Sensitivity,
            tolerance: 0.05,
            confidence: 0.95,
        },
        7,
        1,
    );
    let assessment = assess_rule(&sensitivity, &bare, &days(vec![]), date("2026-03-10"));
    assert_eq!(assessment.verdict, Verdict::Unavailable);
    assert_eq!(
        assessment.evidence.explanation,
        "the baseline has no sensitivity"
    );
}
