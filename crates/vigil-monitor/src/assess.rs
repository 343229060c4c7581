//! Judging a deployment's rules on the day aggregates: each rule gives a
//! verdict (signal, clear, not enough data, or unavailable) with the
//! evidence behind it — the statistic, its interval or p-value, the effect
//! size, the threshold in words, and the sample sizes.
//!
//! Nothing here reads raw events: a window is the merge of its days'
//! aggregates (all model versions), so a year of a deployment holding tens
//! of millions of events is judged from a few hundred rows.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use vigil_stats::ConfidenceLevel;
use vigil_stats::control::{BernoulliCusum, ewma};
use vigil_stats::counts::{
    binned_delong, binned_kolmogorov_smirnov, binned_population_stability_index,
    binned_wasserstein, two_sample_cramers_v,
};
use vigil_stats::drift::chi_square_contingency;
use vigil_stats::interval::Proportion;

use crate::aggregate::{CountedProportion, DayAggregate, DayKey, SCORE_BINS};
use crate::rules::{Baseline, ChartedRate, Metric, NUMERIC_FIELDS, Rule, RuleSet, Test};

/// The empty-bin proportion of the score PSI (as the drift module uses).
const PSI_EPSILON: f64 = 1e-4;

/// What a rule concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The condition holds: an alert is due.
    Signal,
    /// Enough data, and the condition does not hold.
    Clear,
    /// Fewer cases than the rule's minimum.
    NotEnoughData,
    /// The rule cannot be judged (no baseline for it, say).
    Unavailable,
}

/// The evidence behind a verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// What was measured (`sensitivity`, `psi`, `cusum`, …).
    pub statistic: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The confidence interval of `value`, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<(f64, f64)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect_size: Option<f64>,
    /// The rule's condition, in words.
    pub threshold: String,
    /// The cases the minimum-n guard counts, in the window.
    pub cases: u64,
    /// The cases of the reference, for a comparison of two samples.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_cases: Option<u64>,
    /// One sentence a person can read.
    pub explanation: String,
}

/// One rule judged on one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub rule: String,
    pub kind: String,
    /// The window's first and last day (UTC).
    pub window_from: Date,
    pub window_to: Date,
    pub verdict: Verdict,
    pub propose_suspension: bool,
    pub evidence: Evidence,
}

/// The aggregates of a deployment merged across model versions, one a day.
#[derive(Debug, Clone, Default)]
pub struct Days {
    days: BTreeMap<Date, DayAggregate>,
}

impl Days {
    /// Merges stored aggregates (any order) by day.
    pub fn new<'a>(aggregates: impl IntoIterator<Item = (&'a DayKey, &'a DayAggregate)>) -> Days {
        let mut days: BTreeMap<Date, DayAggregate> = BTreeMap::new();
        for (key, aggregate) in aggregates {
            days.entry(key.day)
                .or_insert_with(DayAggregate::empty)
                .merge(aggregate);
        }
        Days { days }
    }

    /// The merge of the days from `from` to `to`, both included.
    pub fn window(&self, from: Date, to: Date) -> DayAggregate {
        let mut total = DayAggregate::empty();
        if from <= to {
            for aggregate in self.days.range(from..=to).map(|(_, aggregate)| aggregate) {
                total.merge(aggregate);
            }
        }
        total
    }

    /// The days from `from` to `to` that have events, in order.
    pub fn each_day(&self, from: Date, to: Date) -> impl Iterator<Item = (&Date, &DayAggregate)> {
        let range = if from <= to {
            Some(self.days.range(from..=to))
        } else {
            None
        };
        range.into_iter().flatten()
    }

    /// The first day with events.
    pub fn first_day(&self) -> Option<Date> {
        self.days.keys().next().copied()
    }

    /// The last day with events.
    pub fn last_day(&self) -> Option<Date> {
        self.days.keys().next_back().copied()
    }
}

/// The first day of a window of `days` days ending on `to`.
pub fn window_start(to: Date, days: u32) -> Date {
    to.checked_sub(jiff::Span::new().days(i64::from(days.saturating_sub(1))))
        .unwrap_or(Date::MIN)
}

/// Judges every rule of `rules` for the window ending on `as_of`.
pub fn assess(rules: &RuleSet, days: &Days, as_of: Date) -> Vec<Assessment> {
    rules
        .rules
        .iter()
        .map(|rule| assess_rule(rule, &rules.baseline, days, as_of))
        .collect()
}

fn kind_name(test: &Test) -> &'static str {
    match test {
        Test::Performance { .. } => "performance",
        Test::PositiveRate { .. } => "positive_rate",
        Test::ScoreDrift { .. } => "score_drift",
        Test::InputDrift { .. } => "input_drift",
        Test::Cusum { .. } => "cusum",
        Test::Ewma { .. } => "ewma",
        Test::Cbpe { .. } => "cbpe",
    }
}

/// A verdict with its evidence, before the rule's names are attached.
struct Judged {
    verdict: Verdict,
    evidence: Evidence,
}

fn evidence(statistic: &str, threshold: String, cases: u64, explanation: String) -> Evidence {
    Evidence {
        statistic: statistic.to_owned(),
        value: None,
        interval: None,
        baseline: None,
        p_value: None,
        effect_size: None,
        threshold,
        cases,
        reference_cases: None,
        explanation,
    }
}

fn unavailable(statistic: &str, threshold: String, why: String) -> Judged {
    Judged {
        verdict: Verdict::Unavailable,
        evidence: evidence(statistic, threshold, 0, why),
    }
}

fn not_enough(statistic: &str, threshold: String, cases: u64, minimum: u64, what: &str) -> Judged {
    Judged {
        verdict: Verdict::NotEnoughData,
        evidence: evidence(
            statistic,
            threshold,
            cases,
            format!("{cases} {what} in the window; the rule needs at least {minimum}"),
        ),
    }
}

/// Judges one rule.
pub fn assess_rule(rule: &Rule, baseline: &Baseline, days: &Days, as_of: Date) -> Assessment {
    let from = window_start(as_of, rule.window_days);
    let window = days.window(from, as_of);
    let judged = match &rule.test {
        Test::Performance {
            metric,
            tolerance,
            confidence,
        } => performance(rule, baseline, &window, *metric, *tolerance, *confidence),
        Test::PositiveRate {
            tolerance,
            confidence,
        } => positive_rate(rule, baseline, &window, *tolerance, *confidence),
        Test::ScoreDrift {
            psi_threshold,
            alpha,
        } => score_drift(rule, baseline, &window, *psi_threshold, *alpha),
        Test::InputDrift {
            field,
            alpha,
            minimum_effect,
        } => input_drift(
            rule,
            baseline,
            days,
            &window,
            field,
            *alpha,
            *minimum_effect,
        ),
        Test::Cusum {
            signal,
            p0,
            p1,
            in_control_arl,
            decision_interval,
        } => cusum(
            rule,
            baseline,
            days,
            (from, as_of),
            *signal,
            (*p0, *p1),
            *in_control_arl,
            *decision_interval,
        ),
        Test::Ewma {
            signal,
            p0,
            lambda,
            width,
        } => ewma_chart(
            rule, baseline, days, from, as_of, *signal, *p0, *lambda, *width,
        ),
        Test::Cbpe { metric, tolerance } => cbpe(rule, baseline, &window, *metric, *tolerance),
    };
    Assessment {
        rule: rule.id.clone(),
        kind: kind_name(&rule.test).to_owned(),
        window_from: from,
        window_to: as_of,
        verdict: judged.verdict,
        propose_suspension: rule.propose_suspension,
        evidence: judged.evidence,
    }
}

fn baseline_of(baseline: &Baseline, metric: Metric) -> Option<f64> {
    match metric {
        Metric::Sensitivity => baseline.sensitivity,
        Metric::Specificity => baseline.specificity,
        Metric::Ppv => baseline.ppv,
        Metric::Auc => baseline.auc,
    }
}

fn performance(
    rule: &Rule,
    baseline: &Baseline,
    window: &DayAggregate,
    metric: Metric,
    tolerance: f64,
    confidence: f64,
) -> Judged {
    let name = metric.as_str();
    let threshold = format!(
        "{name} at least {tolerance} below the baseline, with the upper {}% confidence limit below the baseline",
        confidence * 100.0
    );
    let Some(expected) = baseline_of(baseline, metric) else {
        return unavailable(name, threshold, format!("the baseline has no {name}"));
    };
    let Ok(level) = ConfidenceLevel::new(confidence) else {
        return unavailable(
            name,
            threshold,
            "the confidence level is invalid".to_owned(),
        );
    };
    let outcomes = &window.outcomes;
    let (estimate, interval, cases, what) = match metric {
        Metric::Auc => {
            let positives: u64 = outcomes.positive_scores.iter().sum();
            let negatives: u64 = outcomes.negative_scores.iter().sum();
            let cases = positives.min(negatives);
            if cases < rule.minimum_cases {
                return not_enough(
                    name,
                    threshold,
                    cases,
                    rule.minimum_cases,
                    "cases of the smaller class",
                );
            }
            match binned_delong(&outcomes.positive_scores, &outcomes.negative_scores) {
                Ok(auc) => {
                    let interval = auc.interval(level);
                    (
                        auc.auc,
                        (interval.low, interval.high),
                        cases,
                        "scored labelled cases",
                    )
                }
                Err(error) => return unavailable(name, threshold, error.to_string()),
            }
        }
        _ => {
            let (counted, what) = match metric {
                Metric::Sensitivity => (
                    CountedProportion::Sensitivity,
                    "positive cases with a decision",
                ),
                Metric::Specificity => (
                    CountedProportion::Specificity,
                    "negative cases with a decision",
                ),
                _ => (CountedProportion::Ppv, "positive calls with an outcome"),
            };
            let (successes, trials) = window.proportion(counted);
            if trials < rule.minimum_cases {
                return not_enough(name, threshold, trials, rule.minimum_cases, what);
            }
            match Proportion::new(successes, trials) {
                Ok(proportion) => {
                    let interval = proportion.wilson(level);
                    (
                        proportion.estimate(),
                        (interval.low, interval.high),
                        trials,
                        what,
                    )
                }
                Err(error) => return unavailable(name, threshold, error.to_string()),
            }
        }
    };
    let shortfall = expected - estimate;
    let signal = shortfall >= tolerance && interval.1 < expected;
    let explanation = format!(
        "{name} {estimate:.3} ({:.3} to {:.3}) over {cases} {what}, against a baseline of {expected:.3}: {}",
        interval.0,
        interval.1,
        if signal {
            "worse than validated by more than the tolerance, beyond chance"
        } else if interval.1 < expected {
            "below the baseline beyond chance, but by less than the tolerance"
        } else {
            "consistent with the baseline"
        }
    );
    Judged {
        verdict: if signal {
            Verdict::Signal
        } else {
            Verdict::Clear
        },
        evidence: Evidence {
            value: Some(estimate),
            interval: Some(interval),
            baseline: Some(expected),
            effect_size: Some(shortfall),
            ..evidence(name, threshold, cases, explanation)
        },
    }
}

fn positive_rate(
    rule: &Rule,
    baseline: &Baseline,
    window: &DayAggregate,
    tolerance: f64,
    confidence: f64,
) -> Judged {
    let threshold = format!(
        "positive rate at least {tolerance} from the baseline, with the baseline outside the {}% interval",
        confidence * 100.0
    );
    let Some(expected) = baseline.positive_rate else {
        return unavailable(
            "positive_rate",
            threshold,
            "the baseline has no positive rate".to_owned(),
        );
    };
    let trials = window.decided;
    if trials < rule.minimum_cases {
        return not_enough(
            "positive_rate",
            threshold,
            trials,
            rule.minimum_cases,
            "decided events",
        );
    }
    let (Ok(level), Ok(proportion)) = (
        ConfidenceLevel::new(confidence),
        Proportion::new(window.positive_decisions, trials),
    ) else {
        return unavailable(
            "positive_rate",
            threshold,
            "the rate cannot be computed".to_owned(),
        );
    };
    let interval = proportion.wilson(level);
    let rate = proportion.estimate();
    let difference = rate - expected;
    let outside = expected < interval.low || expected > interval.high;
    let signal = difference.abs() >= tolerance && outside;
    Judged {
        verdict: if signal {
            Verdict::Signal
        } else {
            Verdict::Clear
        },
        evidence: Evidence {
            value: Some(rate),
            interval: Some((interval.low, interval.high)),
            baseline: Some(expected),
            effect_size: Some(difference),
            ..evidence(
                "positive_rate",
                threshold,
                trials,
                format!(
                    "{} of {trials} decided events positive ({rate:.3}, {:.3} to {:.3}) against a baseline of {expected:.3}",
                    window.positive_decisions, interval.low, interval.high
                ),
            )
        },
    }
}

fn score_drift(
    rule: &Rule,
    baseline: &Baseline,
    window: &DayAggregate,
    psi_threshold: f64,
    alpha: f64,
) -> Judged {
    let threshold = format!("PSI at least {psi_threshold} and Kolmogorov–Smirnov p below {alpha}");
    let Some(reference) = baseline
        .score_histogram
        .as_ref()
        .filter(|histogram| histogram.iter().sum::<u64>() > 0)
    else {
        return unavailable(
            "psi",
            threshold,
            "the baseline has no score histogram".to_owned(),
        );
    };
    if window.scored < rule.minimum_cases {
        return not_enough(
            "psi",
            threshold,
            window.scored,
            rule.minimum_cases,
            "scored events",
        );
    }
    let mut current = window.score_histogram.clone();
    current.resize(SCORE_BINS, 0);
    let (Ok(psi), Ok(ks)) = (
        binned_population_stability_index(reference, &current, PSI_EPSILON),
        binned_kolmogorov_smirnov(reference, &current),
    ) else {
        return unavailable(
            "psi",
            threshold,
            "the histograms cannot be compared".to_owned(),
        );
    };
    let signal = psi >= psi_threshold && ks.p_value < alpha;
    Judged {
        verdict: if signal {
            Verdict::Signal
        } else {
            Verdict::Clear
        },
        evidence: Evidence {
            value: Some(psi),
            p_value: Some(ks.p_value),
            effect_size: Some(ks.statistic),
            reference_cases: Some(ks.reference_count),
            ..evidence(
                "psi",
                threshold,
                window.scored,
                format!(
                    "score distribution of {} events against the baseline's {}: PSI {psi:.3}, KS D {:.3} (p {:.2e})",
                    window.scored, ks.reference_count, ks.statistic, ks.p_value
                ),
            )
        },
    }
}

fn input_drift(
    rule: &Rule,
    baseline: &Baseline,
    days: &Days,
    window: &DayAggregate,
    field: &str,
    alpha: f64,
    minimum_effect: f64,
) -> Judged {
    let numeric = NUMERIC_FIELDS.contains(&field);
    let statistic = if numeric { "wasserstein" } else { "chi_square" };
    let threshold = if numeric {
        format!(
            "{field}: Kolmogorov–Smirnov p below {alpha} and Wasserstein distance / reference SD at least {minimum_effect}"
        )
    } else {
        format!("{field}: chi-square p below {alpha} and Cramér's V at least {minimum_effect}")
    };
    let (Some(reference_from), Some(reference_to)) =
        (baseline.reference_from, baseline.reference_to)
    else {
        return unavailable(
            statistic,
            threshold,
            "the baseline names no reference days".to_owned(),
        );
    };
    let reference = days.window(reference_from, reference_to);
    let pick = |aggregate: &DayAggregate| -> BTreeMap<String, u64> {
        let source = if numeric {
            &aggregate.measurements
        } else {
            &aggregate.categories
        };
        source.get(field).cloned().unwrap_or_default()
    };
    let (reference_counts, current_counts) = (pick(&reference), pick(window));
    let current_total: u64 = current_counts.values().sum();
    let reference_total: u64 = reference_counts.values().sum();
    if current_total < rule.minimum_cases {
        return not_enough(
            statistic,
            threshold,
            current_total,
            rule.minimum_cases,
            &format!("events with {field}"),
        );
    }
    if reference_total < rule.minimum_cases {
        return Judged {
            verdict: Verdict::NotEnoughData,
            evidence: Evidence {
                reference_cases: Some(reference_total),
                ..evidence(
                    statistic,
                    threshold,
                    current_total,
                    format!(
                        "{reference_total} reference events with {field} ({reference_from} to {reference_to}); the rule needs at least {}",
                        rule.minimum_cases
                    ),
                )
            },
        };
    }
    let values: BTreeSet<&String> = reference_counts
        .keys()
        .chain(current_counts.keys())
        .collect();
    if numeric {
        let mut support: Vec<(f64, u64, u64)> = values
            .iter()
            .filter_map(|value| {
                let position = value.parse::<f64>().ok()?;
                Some((
                    position,
                    reference_counts.get(*value).copied().unwrap_or(0),
                    current_counts.get(*value).copied().unwrap_or(0),
                ))
            })
            .collect();
        support.sort_by(|left, right| left.0.total_cmp(&right.0));
        let positions: Vec<f64> = support.iter().map(|(position, _, _)| *position).collect();
        let reference_bins: Vec<u64> = support.iter().map(|(_, count, _)| *count).collect();
        let current_bins: Vec<u64> = support.iter().map(|(_, _, count)| *count).collect();
        let (Ok(ks), Ok(distance)) = (
            binned_kolmogorov_smirnov(&reference_bins, &current_bins),
            binned_wasserstein(&positions, &reference_bins, &current_bins),
        ) else {
            return unavailable(
                statistic,
                threshold,
                "the distributions cannot be compared".to_owned(),
            );
        };
        let n = reference_bins.iter().sum::<u64>() as f64;
        let mean = positions
            .iter()
            .zip(&reference_bins)
            .map(|(x, c)| x * *c as f64)
            .sum::<f64>()
            / n;
        let variance = positions
            .iter()
            .zip(&reference_bins)
            .map(|(x, c)| (x - mean).powi(2) * *c as f64)
            .sum::<f64>()
            / n;
        let spread = variance.sqrt();
        // A constant reference: any change is a whole shift.
        let effect = if spread > 0.0 {
            distance / spread
        } else if distance > 0.0 {
            f64::INFINITY
        } else {
            0.0
        };
        let signal = ks.p_value < alpha && effect >= minimum_effect;
        return Judged {
            verdict: if signal {
                Verdict::Signal
            } else {
                Verdict::Clear
            },
            evidence: Evidence {
                value: Some(distance),
                p_value: Some(ks.p_value),
                effect_size: Some(effect),
                reference_cases: Some(ks.reference_count),
                ..evidence(
                    statistic,
                    threshold,
                    ks.current_count,
                    format!(
                        "{field} of {} events against {} reference events: Wasserstein {distance:.3} ({effect:.2} reference SD), KS D {:.3} (p {:.2e})",
                        ks.current_count, ks.reference_count, ks.statistic, ks.p_value
                    ),
                )
            },
        };
    }
    let table: Vec<Vec<u64>> = vec![
        values
            .iter()
            .map(|value| reference_counts.get(*value).copied().unwrap_or(0))
            .collect(),
        values
            .iter()
            .map(|value| current_counts.get(*value).copied().unwrap_or(0))
            .collect(),
    ];
    if values.len() < 2 {
        return Judged {
            verdict: Verdict::Clear,
            evidence: Evidence {
                reference_cases: Some(reference_total),
                effect_size: Some(0.0),
                ..evidence(
                    statistic,
                    threshold,
                    current_total,
                    format!("{field} has one value in both periods"),
                )
            },
        };
    }
    let Ok(test) = chi_square_contingency(&table) else {
        return unavailable(
            statistic,
            threshold,
            "the table cannot be tested".to_owned(),
        );
    };
    let effect = two_sample_cramers_v(test.statistic, reference_total + current_total);
    let signal = test.p_value < alpha && effect >= minimum_effect;
    Judged {
        verdict: if signal {
            Verdict::Signal
        } else {
            Verdict::Clear
        },
        evidence: Evidence {
            value: Some(test.statistic),
            p_value: Some(test.p_value),
            effect_size: Some(effect),
            reference_cases: Some(reference_total),
            ..evidence(
                statistic,
                threshold,
                current_total,
                format!(
                    "{field} over {} values, {current_total} events against {reference_total} reference events: chi-square {:.1}, p {:.2e}, Cramér's V {effect:.3}",
                    values.len(),
                    test.statistic,
                    test.p_value
                ),
            )
        },
    }
}

/// The days of a window with cases of the charted rate: (day, events,
/// cases).
fn daily_counts(days: &Days, from: Date, to: Date, rate: ChartedRate) -> Vec<(Date, u64, u64)> {
    days.each_day(from, to)
        .filter_map(|(day, aggregate)| {
            let (events, trials) = charted(aggregate, rate);
            (trials > 0).then_some((*day, events, trials))
        })
        .collect()
}

/// The CUSUM's path over the days. Days are added whole: with the clamp at
/// zero applied once a day rather than once a case, the statistic never
/// exceeds the per-case chart's at the end of the day, so the stated
/// in-control ARL is a lower bound.
fn cusum_points(daily: &[(Date, u64, u64)], chart: &BernoulliCusum) -> Vec<ControlPoint> {
    let (event_weight, non_event_weight) = (chart.event_weight(), chart.non_event_weight());
    let mut statistic = 0.0_f64;
    daily
        .iter()
        .map(|&(day, events, trials)| {
            statistic = (statistic
                + events as f64 * event_weight
                + (trials - events) as f64 * non_event_weight)
                .max(0.0);
            ControlPoint {
                day,
                observed: events as f64 / trials as f64,
                statistic,
                lower_limit: None,
                upper_limit: chart.decision_interval(),
                cases: trials,
            }
        })
        .collect()
}

/// The EWMA chart of the daily rates, with one sigma for the chart: that of
/// a day of average size.
fn ewma_of(
    daily: &[(Date, u64, u64)],
    p0: f64,
    lambda: f64,
    width: f64,
) -> Result<(vigil_stats::control::EwmaChart, f64), vigil_stats::StatsError> {
    let cases: u64 = daily.iter().map(|(_, _, trials)| trials).sum();
    let values: Vec<f64> = daily
        .iter()
        .map(|(_, events, trials)| *events as f64 / *trials as f64)
        .collect();
    let average_day = cases as f64 / daily.len().max(1) as f64;
    let sigma = (p0 * (1.0 - p0) / average_day).sqrt();
    ewma(&values, p0, sigma, lambda, width).map(|chart| (chart, sigma))
}

/// One day of a control chart as its rule judges it.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlPoint {
    pub day: Date,
    /// The day's charted rate (events over cases).
    pub observed: f64,
    /// The chart's statistic at the end of the day.
    pub statistic: f64,
    /// The EWMA's lower limit; a CUSUM (one-sided) has none.
    pub lower_limit: Option<f64>,
    /// The EWMA's upper limit or the CUSUM's decision interval h.
    pub upper_limit: f64,
    pub cases: u64,
}

/// Which control chart a trace is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlKind {
    Cusum,
    Ewma,
}

/// A control chart's path over its rule's window, day by day: the same
/// numbers the rule's verdict comes from, for drawing.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlTrace {
    pub rule: String,
    pub kind: ControlKind,
    pub signal: ChartedRate,
    /// The in-control rate p0 (the EWMA's centre line).
    pub in_control: f64,
    /// The CUSUM's out-of-control rate p1.
    pub out_of_control: Option<f64>,
    pub points: Vec<ControlPoint>,
    /// The first day whose statistic is beyond its limits.
    pub first_signal: Option<usize>,
}

/// The path of a CUSUM or EWMA rule over its window ending `as_of`; none
/// for other rules, or when the chart cannot be drawn (no in-control rate,
/// no days with cases, a chart that cannot be designed).
pub fn control_trace(
    rule: &Rule,
    baseline: &Baseline,
    days: &Days,
    as_of: Date,
) -> Option<ControlTrace> {
    let from = window_start(as_of, rule.window_days);
    match &rule.test {
        Test::Cusum {
            signal,
            p0,
            p1,
            in_control_arl,
            decision_interval,
        } => {
            let p0 = in_control_rate(baseline, *signal, *p0).filter(|p0| *p0 > 0.0 && *p0 < 1.0)?;
            let chart = match decision_interval {
                Some(h) => BernoulliCusum::new(p0, *p1, *h),
                None => BernoulliCusum::for_target_arl(p0, *p1, *in_control_arl),
            }
            .ok()?;
            let points = cusum_points(&daily_counts(days, from, as_of, *signal), &chart);
            if points.is_empty() {
                return None;
            }
            let first_signal = points
                .iter()
                .position(|point| point.statistic >= point.upper_limit);
            Some(ControlTrace {
                rule: rule.id.clone(),
                kind: ControlKind::Cusum,
                signal: *signal,
                in_control: p0,
                out_of_control: Some(*p1),
                points,
                first_signal,
            })
        }
        Test::Ewma {
            signal,
            p0,
            lambda,
            width,
        } => {
            let p0 = in_control_rate(baseline, *signal, *p0).filter(|p0| *p0 > 0.0 && *p0 < 1.0)?;
            let daily = daily_counts(days, from, as_of, *signal);
            let (chart, _) = ewma_of(&daily, p0, *lambda, *width).ok()?;
            let points = daily
                .iter()
                .zip(&chart.points)
                .map(|(&(day, _, trials), point)| ControlPoint {
                    day,
                    observed: point.value,
                    statistic: point.statistic,
                    lower_limit: Some(point.lower_limit),
                    upper_limit: point.upper_limit,
                    cases: trials,
                })
                .collect();
            Some(ControlTrace {
                rule: rule.id.clone(),
                kind: ControlKind::Ewma,
                signal: *signal,
                in_control: p0,
                out_of_control: None,
                points,
                first_signal: chart.first_signal,
            })
        }
        _ => None,
    }
}

/// The day's count of the charted rate: (events, cases).
fn charted(aggregate: &DayAggregate, rate: ChartedRate) -> (u64, u64) {
    aggregate.proportion(match rate {
        ChartedRate::PositiveRate => CountedProportion::PositiveRate,
        ChartedRate::Discordance => CountedProportion::Discordance,
        ChartedRate::ReaderDisagreement => CountedProportion::ReaderDisagreement,
    })
}

fn in_control_rate(baseline: &Baseline, rate: ChartedRate, p0: Option<f64>) -> Option<f64> {
    p0.or(match rate {
        ChartedRate::PositiveRate => baseline.positive_rate,
        ChartedRate::Discordance | ChartedRate::ReaderDisagreement => None,
    })
}

#[allow(clippy::too_many_arguments)]
fn cusum(
    rule: &Rule,
    baseline: &Baseline,
    days: &Days,
    (from, to): (Date, Date),
    rate: ChartedRate,
    (p0, p1): (Option<f64>, f64),
    in_control_arl: f64,
    decision_interval: Option<f64>,
) -> Judged {
    let name = rate.as_str();
    let threshold = format!(
        "CUSUM of {name} from p0 to p1 = {p1} crosses the decision interval set for an in-control ARL of {in_control_arl} cases"
    );
    let Some(p0) = in_control_rate(baseline, rate, p0).filter(|p0| *p0 > 0.0 && *p0 < 1.0) else {
        return unavailable(
            "cusum",
            threshold,
            format!("no in-control {name} (p0) is given"),
        );
    };
    // The interval designed when the rules were stored, else designed now.
    let designed = match decision_interval {
        Some(h) => BernoulliCusum::new(p0, p1, h),
        None => BernoulliCusum::for_target_arl(p0, p1, in_control_arl),
    };
    let chart = match designed {
        Ok(chart) => chart,
        Err(error) => return unavailable("cusum", threshold, error.to_string()),
    };
    let points = cusum_points(&daily_counts(days, from, to, rate), &chart);
    let cases: u64 = points.iter().map(|point| point.cases).sum();
    let statistic = points.last().map_or(0.0, |point| point.statistic);
    let peak = points
        .iter()
        .map(|point| point.statistic)
        .fold(0.0_f64, f64::max);
    let first_signal = points
        .iter()
        .find(|point| point.statistic >= chart.decision_interval())
        .map(|point| point.day);
    if cases < rule.minimum_cases {
        return not_enough("cusum", threshold, cases, rule.minimum_cases, "cases");
    }
    let h = chart.decision_interval();
    Judged {
        verdict: if first_signal.is_some() {
            Verdict::Signal
        } else {
            Verdict::Clear
        },
        evidence: Evidence {
            value: Some(statistic),
            baseline: Some(p0),
            effect_size: Some(peak),
            ..evidence(
                "cusum",
                format!("{threshold} (h = {h:.3})"),
                cases,
                match first_signal {
                    Some(day) => format!(
                        "the CUSUM of {name} crossed h = {h:.3} on {day} (p0 {p0:.3}, p1 {p1:.3}); now {statistic:.3}"
                    ),
                    None => format!(
                        "the CUSUM of {name} peaked at {peak:.3}, below h = {h:.3} (p0 {p0:.3}, p1 {p1:.3})"
                    ),
                },
            )
        },
    }
}

#[allow(clippy::too_many_arguments)]
fn ewma_chart(
    rule: &Rule,
    baseline: &Baseline,
    days: &Days,
    from: Date,
    to: Date,
    rate: ChartedRate,
    p0: Option<f64>,
    lambda: f64,
    width: f64,
) -> Judged {
    let name = rate.as_str();
    let threshold =
        format!("EWMA (lambda {lambda}) of the daily {name} outside p0 ± {width} sigma");
    let Some(p0) = in_control_rate(baseline, rate, p0).filter(|p0| *p0 > 0.0 && *p0 < 1.0) else {
        return unavailable(
            "ewma",
            threshold,
            format!("no in-control {name} (p0) is given"),
        );
    };
    let daily = daily_counts(days, from, to, rate);
    let cases: u64 = daily.iter().map(|(_, _, trials)| trials).sum();
    if cases < rule.minimum_cases || daily.is_empty() {
        return not_enough("ewma", threshold, cases, rule.minimum_cases, "cases");
    }
    let labels: Vec<Date> = daily.iter().map(|(day, _, _)| *day).collect();
    let (chart, sigma) = match ewma_of(&daily, p0, lambda, width) {
        Ok(designed) => designed,
        Err(error) => return unavailable("ewma", threshold, error.to_string()),
    };
    let last = chart.points.last().map(|point| point.statistic);
    Judged {
        verdict: if chart.first_signal.is_some() {
            Verdict::Signal
        } else {
            Verdict::Clear
        },
        evidence: Evidence {
            value: last,
            baseline: Some(p0),
            effect_size: last.map(|last| (last - p0) / (sigma * (lambda / (2.0 - lambda)).sqrt())),
            ..evidence(
                "ewma",
                threshold,
                cases,
                match chart.first_signal {
                    Some(index) => format!(
                        "the EWMA of the daily {name} left its limits on {}",
                        labels[index]
                    ),
                    None => format!(
                        "the EWMA of the daily {name} stayed within its limits over {} days",
                        labels.len()
                    ),
                },
            )
        },
    }
}

fn cbpe(
    rule: &Rule,
    baseline: &Baseline,
    window: &DayAggregate,
    metric: Metric,
    tolerance: f64,
) -> Judged {
    let name = metric.as_str();
    let threshold = format!(
        "{name} estimated from the scores at least {tolerance} below the baseline (calibration assumed)"
    );
    let Some(expected) = baseline_of(baseline, metric) else {
        return unavailable("cbpe", threshold, format!("the baseline has no {name}"));
    };
    let Some(cut) = baseline.threshold else {
        return unavailable(
            "cbpe",
            threshold,
            "the baseline has no operating threshold".to_owned(),
        );
    };
    if window.scored < rule.minimum_cases {
        return not_enough(
            "cbpe",
            threshold,
            window.scored,
            rule.minimum_cases,
            "scored events",
        );
    }
    // Each bin's scores are taken at its midpoint; a bin is a positive call
    // when its midpoint is at or above the threshold.
    let (mut true_positives, mut false_positives, mut true_negatives, mut false_negatives) =
        (0.0, 0.0, 0.0, 0.0);
    for (bin, count) in window.score_histogram.iter().enumerate() {
        let probability = (bin as f64 + 0.5) / SCORE_BINS as f64;
        let count = *count as f64;
        if probability >= cut {
            true_positives += probability * count;
            false_positives += (1.0 - probability) * count;
        } else {
            false_negatives += probability * count;
            true_negatives += (1.0 - probability) * count;
        }
    }
    let ratio = |numerator: f64, other: f64| {
        let denominator = numerator + other;
        (denominator > 0.0).then(|| numerator / denominator)
    };
    let estimate = match metric {
        Metric::Sensitivity => ratio(true_positives, false_negatives),
        Metric::Specificity => ratio(true_negatives, false_positives),
        _ => ratio(true_positives, false_positives),
    };
    let Some(estimate) = estimate else {
        return unavailable(
            "cbpe",
            threshold,
            format!("no expected case defines {name}"),
        );
    };
    let shortfall = expected - estimate;
    let signal = shortfall >= tolerance;
    Judged {
        verdict: if signal {
            Verdict::Signal
        } else {
            Verdict::Clear
        },
        evidence: Evidence {
            value: Some(estimate),
            baseline: Some(expected),
            effect_size: Some(shortfall),
            ..evidence(
                "cbpe",
                threshold,
                window.scored,
                format!(
                    "{name} estimated at {estimate:.3} from {} scores (bin midpoints, threshold {cut}), against a baseline of {expected:.3}",
                    window.scored
                ),
            )
        },
    }
}
