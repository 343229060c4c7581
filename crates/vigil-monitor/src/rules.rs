//! Monitoring rules: what a deployment is watched for, written as TOML or
//! JSON, parsed whole into typed rules (an unknown or misspelt field is an
//! error, every number is checked), and the defaults made at go-live from
//! the validation result and the shadow period.
//!
//! ```toml
//! [baseline]
//! source = "validation 12 and shadow 2026-01-05..2026-03-01"
//! sensitivity = 0.91
//! specificity = 0.85
//! threshold = 0.35
//! positive_rate = 0.22
//! score_histogram = [120, 80, …]          # 20 bins over [0, 1]
//! reference_from = 2026-01-05             # input drift is judged against
//! reference_to = 2026-03-01               # these days' aggregates
//!
//! [[rules]]
//! id = "sensitivity"
//! window_days = 30
//! minimum_cases = 50                      # positives, for sensitivity
//! propose_suspension = true
//! test = { kind = "performance", metric = "sensitivity", tolerance = 0.05, confidence = 0.95 }
//! ```
//!
//! The tests (`kind`):
//!
//! | kind | signals when |
//! | --- | --- |
//! | `performance` (`metric`: sensitivity, specificity, ppv, auc) | the window's estimate is at least `tolerance` below the baseline **and** the upper end of its confidence interval is below the baseline |
//! | `positive_rate` | the rate of positive decisions differs from the baseline by at least `tolerance` **and** the baseline is outside the interval |
//! | `score_drift` | the score histogram's PSI against the baseline histogram is at least `psi_threshold` **and** the binned Kolmogorov–Smirnov p-value is below `alpha` |
//! | `input_drift` (`field`) | against the reference days: for a categorical field the chi-square p-value is below `alpha` **and** Cramér's V is at least `minimum_effect`; for `slice_thickness_mm` and `kvp` the Kolmogorov–Smirnov p-value is below `alpha` **and** the Wasserstein distance divided by the reference standard deviation is at least `minimum_effect` |
//! | `cusum` (`signal`: positive_rate, discordance, reader_disagreement) | a Bernoulli CUSUM from `p0` to `p1`, designed for an in-control average run length of `in_control_arl` cases, crosses its decision interval in the window |
//! | `ewma` (`signal` as for `cusum`) | the EWMA of the daily proportions leaves its limits (`lambda`, `width` L) around `p0` |
//! | `cbpe` (`metric`: sensitivity, specificity, ppv) | the performance estimated from the scores alone (calibration assumed) is at least `tolerance` below the baseline |
//!
//! Every rule has a window of `window_days` days ending on the day judged,
//! and a minimum number of cases below which it answers "not enough data"
//! rather than a verdict: the minimum-n guard. The effect-size conditions
//! (`tolerance`, `psi_threshold`, `minimum_effect`) keep a huge sample from
//! alarming on a trivial shift.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::aggregate::SCORE_BINS;

/// The most rules a deployment may have.
pub const MAXIMUM_RULES: usize = 100;
/// The longest window, in days.
pub const MAXIMUM_WINDOW_DAYS: u32 = 366;

/// The rules of one deployment and the baseline they compare against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub baseline: Baseline,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// What the deployment was validated to do, and what it looked like in
/// shadow running.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Where the baseline came from, in words.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specificity: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppv: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auc: Option<f64>,
    /// The operating threshold: a score at or above it is a positive call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// The proportion of positive decisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive_rate: Option<f64>,
    /// Scores in 20 equal bins over [0, 1], as the day aggregates count them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_histogram: Option<Vec<u64>>,
    /// The first and last day (UTC) of the reference for input drift.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "day"
    )]
    pub reference_from: Option<Date>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "day"
    )]
    pub reference_to: Option<Date>,
}

/// A day written as text (`"2026-01-05"`, JSON or TOML) or as a TOML
/// local date (`2026-01-05`, unquoted).
fn day<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Date>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Text(String),
        Toml(toml::value::Datetime),
    }
    let text = match Written::deserialize(deserializer)? {
        Written::Text(text) => text,
        Written::Toml(datetime) if datetime.time.is_none() && datetime.offset.is_none() => {
            datetime.to_string()
        }
        Written::Toml(_) => {
            return Err(serde::de::Error::custom(
                "a day is a date such as 2026-01-05, without a time",
            ));
        }
    };
    text.parse::<Date>()
        .map(Some)
        .map_err(|_| serde::de::Error::custom(format!("{text:?} is not a date such as 2026-01-05")))
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique within the deployment: lower-case letters, digits and `-`.
    pub id: String,
    pub window_days: u32,
    /// Below this many cases (of the kind the test counts) the rule gives
    /// no verdict.
    pub minimum_cases: u64,
    /// A signal proposes suspending the deployment (a person with the
    /// right role decides).
    #[serde(default)]
    pub propose_suspension: bool,
    pub test: Test,
}

/// A performance metric measured against outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Sensitivity,
    Specificity,
    Ppv,
    Auc,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Sensitivity => "sensitivity",
            Metric::Specificity => "specificity",
            Metric::Ppv => "ppv",
            Metric::Auc => "auc",
        }
    }
}

/// The proportion a control chart follows, day by day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartedRate {
    /// Positive decisions among decided events.
    PositiveRate,
    /// Decisions that disagree with the ground truth among labelled,
    /// decided events.
    Discordance,
    /// Readers' disagreements with the tool among reviewed events.
    ReaderDisagreement,
}

impl ChartedRate {
    pub fn as_str(self) -> &'static str {
        match self {
            ChartedRate::PositiveRate => "positive_rate",
            ChartedRate::Discordance => "discordance",
            ChartedRate::ReaderDisagreement => "reader_disagreement",
        }
    }
}

/// What a rule tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Test {
    Performance {
        metric: Metric,
        tolerance: f64,
        #[serde(default = "default_confidence")]
        confidence: f64,
    },
    PositiveRate {
        tolerance: f64,
        #[serde(default = "default_confidence")]
        confidence: f64,
    },
    ScoreDrift {
        psi_threshold: f64,
        alpha: f64,
    },
    InputDrift {
        field: String,
        alpha: f64,
        minimum_effect: f64,
    },
    Cusum {
        signal: ChartedRate,
        /// The in-control rate; for `positive_rate` the baseline's when
        /// absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        p0: Option<f64>,
        /// The out-of-control rate the chart is designed to detect.
        p1: f64,
        /// The in-control average run length, in cases.
        in_control_arl: f64,
        /// The decision interval h that gives that run length, computed
        /// when the rules are stored (a Markov-chain design taking up to a
        /// second) so that judging them stays fast; any value sent is
        /// replaced.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decision_interval: Option<f64>,
    },
    Ewma {
        signal: ChartedRate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        p0: Option<f64>,
        lambda: f64,
        width: f64,
    },
    Cbpe {
        metric: Metric,
        tolerance: f64,
    },
}

fn default_confidence() -> f64 {
    0.95
}

/// The categorical metadata fields input drift can watch.
pub const CATEGORICAL_FIELDS: [&str; 6] = [
    "scanner_manufacturer",
    "scanner_model",
    "protocol",
    "age_band",
    "sex",
    "site",
];

/// The numeric metadata fields input drift can watch.
pub const NUMERIC_FIELDS: [&str; 2] = ["slice_thickness_mm", "kvp"];

/// Why a rule set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("the rules cannot be read: {0}")]
    Syntax(String),
    #[error("{} problem{} in the rules: {}", .0.len(), if .0.len() == 1 { "" } else { "s" }, .0.join("; "))]
    Invalid(Vec<String>),
}

impl RuleSet {
    /// Reads rules written as TOML, and designs their control charts.
    pub fn from_toml(text: &str) -> Result<RuleSet, RulesError> {
        let rules: RuleSet =
            toml::from_str(text).map_err(|error| RulesError::Syntax(error.message().to_owned()))?;
        Ok(rules.checked()?.designed())
    }

    /// Reads rules written as JSON, and designs their control charts.
    pub fn from_json(text: &str) -> Result<RuleSet, RulesError> {
        let rules: RuleSet =
            serde_json::from_str(text).map_err(|error| RulesError::Syntax(error.to_string()))?;
        Ok(rules.checked()?.designed())
    }

    /// Reads rules as stored (JSON already designed): checked, their
    /// decision intervals kept.
    pub fn from_stored_json(text: &str) -> Result<RuleSet, RulesError> {
        let rules: RuleSet =
            serde_json::from_str(text).map_err(|error| RulesError::Syntax(error.to_string()))?;
        rules.checked()
    }

    /// The rules with every CUSUM's decision interval computed for its
    /// in-control average run length (p0 from the rule, else from the
    /// baseline's positive rate for a positive-rate chart); a chart that
    /// cannot be designed keeps none and is judged "unavailable".
    /// The charts are designed in parallel: each design is a search over
    /// Markov-chain run lengths taking tens of milliseconds.
    pub fn designed(mut self) -> RuleSet {
        use rayon::prelude::*;
        let baseline_rate = self.baseline.positive_rate;
        self.rules.par_iter_mut().for_each(|rule| {
            if let Test::Cusum {
                signal,
                p0,
                p1,
                in_control_arl,
                decision_interval,
            } = &mut rule.test
            {
                let in_control = p0.or(match signal {
                    ChartedRate::PositiveRate => baseline_rate,
                    _ => None,
                });
                *decision_interval = in_control.and_then(|p0| {
                    vigil_stats::control::BernoulliCusum::for_target_arl(p0, *p1, *in_control_arl)
                        .ok()
                        .map(|chart| chart.decision_interval())
                });
            }
        });
        self
    }

    /// The rules as canonical JSON (what is stored and versioned).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The rules as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// Checks every number and name, listing every problem.
    fn checked(self) -> Result<RuleSet, RulesError> {
        let mut problems = Vec::new();
        let baseline = &self.baseline;
        let mut proportion = |name: &str, value: Option<f64>| {
            if let Some(value) = value
                && !(0.0..=1.0).contains(&value)
            {
                problems.push(format!("baseline {name} {value} is outside [0, 1]"));
            }
        };
        proportion("sensitivity", baseline.sensitivity);
        proportion("specificity", baseline.specificity);
        proportion("ppv", baseline.ppv);
        proportion("auc", baseline.auc);
        proportion("threshold", baseline.threshold);
        proportion("positive_rate", baseline.positive_rate);
        if let Some(histogram) = &baseline.score_histogram
            && histogram.len() != SCORE_BINS
        {
            problems.push(format!(
                "baseline score_histogram has {} bins; it needs {SCORE_BINS}",
                histogram.len()
            ));
        }
        match (baseline.reference_from, baseline.reference_to) {
            (Some(from), Some(to)) if from > to => problems.push(format!(
                "baseline reference_from {from} is after reference_to {to}"
            )),
            (Some(_), None) | (None, Some(_)) => {
                problems.push("baseline reference_from and reference_to go together".to_owned())
            }
            _ => {}
        }
        if self.rules.len() > MAXIMUM_RULES {
            problems.push(format!("at most {MAXIMUM_RULES} rules"));
        }
        let mut seen = std::collections::HashSet::new();
        for rule in &self.rules {
            let name = if is_rule_id(&rule.id) {
                format!("rule {:?}", rule.id)
            } else {
                problems.push(
                    "a rule id must be 1 to 64 lower-case letters, digits and hyphens".to_owned(),
                );
                "a rule".to_owned()
            };
            if !seen.insert(rule.id.clone()) {
                problems.push(format!("{name} is given twice"));
            }
            if !(1..=MAXIMUM_WINDOW_DAYS).contains(&rule.window_days) {
                problems.push(format!(
                    "{name}: window_days must be between 1 and {MAXIMUM_WINDOW_DAYS}"
                ));
            }
            if rule.minimum_cases == 0 {
                problems.push(format!("{name}: minimum_cases must be at least 1"));
            }
            check_test(&name, &rule.test, &mut problems);
        }
        if problems.is_empty() {
            Ok(self)
        } else {
            Err(RulesError::Invalid(problems))
        }
    }
}

/// Whether a text is a valid rule id.
fn is_rule_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
}

/// Adds a problem unless `value` is finite and within [low, high] (or
/// (low, high] when `open_low`).
fn within(
    problems: &mut Vec<String>,
    name: &str,
    what: &str,
    value: f64,
    (low, high): (f64, f64),
    open_low: bool,
) {
    let inside =
        value.is_finite() && value <= high && if open_low { value > low } else { value >= low };
    if !inside {
        let bracket = if open_low { "(" } else { "[" };
        problems.push(format!(
            "{name}: {what} {value} is outside {bracket}{low}, {high}]"
        ));
    }
}

fn check_test(name: &str, test: &Test, problems: &mut Vec<String>) {
    match test {
        Test::Performance {
            tolerance,
            confidence,
            ..
        }
        | Test::PositiveRate {
            tolerance,
            confidence,
        } => {
            within(problems, name, "tolerance", *tolerance, (0.0, 1.0), false);
            within(
                problems,
                name,
                "confidence",
                *confidence,
                (0.5, 0.9999),
                false,
            );
        }
        Test::ScoreDrift {
            psi_threshold,
            alpha,
        } => {
            within(
                problems,
                name,
                "psi_threshold",
                *psi_threshold,
                (0.0, 10.0),
                false,
            );
            within(problems, name, "alpha", *alpha, (0.0, 0.5), true);
        }
        Test::InputDrift {
            field,
            alpha,
            minimum_effect,
        } => {
            if !CATEGORICAL_FIELDS.contains(&field.as_str())
                && !NUMERIC_FIELDS.contains(&field.as_str())
            {
                problems.push(format!(
                    "{name}: field must be one of {}, {}",
                    CATEGORICAL_FIELDS.join(", "),
                    NUMERIC_FIELDS.join(", ")
                ));
            }
            within(problems, name, "alpha", *alpha, (0.0, 0.5), true);
            within(
                problems,
                name,
                "minimum_effect",
                *minimum_effect,
                (0.0, 10.0),
                false,
            );
        }
        Test::Cusum {
            p0,
            p1,
            in_control_arl,
            decision_interval: _,
            ..
        } => {
            if let Some(p0) = p0 {
                within(problems, name, "p0", *p0, (0.0, 0.999), true);
            }
            within(problems, name, "p1", *p1, (0.0, 0.999), true);
            if p0.is_some_and(|p0| p0 == *p1) {
                problems.push(format!("{name}: p1 must differ from p0"));
            }
            within(
                problems,
                name,
                "in_control_arl",
                *in_control_arl,
                (1.0, 1e9),
                true,
            );
        }
        Test::Ewma {
            p0, lambda, width, ..
        } => {
            if let Some(p0) = p0 {
                within(problems, name, "p0", *p0, (0.0, 0.999), true);
            }
            within(problems, name, "lambda", *lambda, (0.0, 1.0), true);
            within(problems, name, "width", *width, (0.0, 10.0), true);
        }
        Test::Cbpe { metric, tolerance } => {
            if *metric == Metric::Auc {
                problems.push(format!(
                    "{name}: cbpe estimates sensitivity, specificity or ppv"
                ));
            }
            within(problems, name, "tolerance", *tolerance, (0.0, 1.0), false);
        }
    }
}

impl Baseline {
    /// The baseline of a deployment going live on `go_live`: performance
    /// (sensitivity, specificity, PPV, AUC, the operating threshold) from
    /// its latest validation (`evaluation`: its id and result JSON), and
    /// the score histogram, positive rate and input-drift reference days
    /// from its shadow running (the days with events before `go_live`).
    /// The positive rate is the shadow period's when it had decisions, since
    /// a validation set is often enriched with positives; else the
    /// validation's.
    pub fn at_go_live(
        evaluation: Option<(i64, &serde_json::Value)>,
        days: &crate::assess::Days,
        go_live: Date,
    ) -> Baseline {
        let mut baseline = Baseline::default();
        let mut sources = Vec::new();
        if let Some((id, result)) = evaluation {
            let estimate = |name: &str| result.get(name)?.get("estimate")?.as_f64();
            baseline.sensitivity = estimate("sensitivity");
            baseline.specificity = estimate("specificity");
            baseline.ppv = estimate("ppv");
            baseline.auc = estimate("auc");
            baseline.threshold = result.get("threshold").and_then(serde_json::Value::as_f64);
            if let Some(counts) = result.get("sensitivity") {
                let count = |name: &str| {
                    counts
                        .get(name)
                        .and_then(serde_json::Value::as_u64)
                        .unwrap_or(0)
                };
                let (tp, fp, tn, false_negatives) =
                    (count("tp"), count("fp"), count("tn"), count("fn"));
                let total = tp + fp + tn + false_negatives;
                if total > 0 {
                    baseline.positive_rate = Some((tp + fp) as f64 / total as f64);
                }
            }
            sources.push(format!("validation {id}"));
        }
        let before = go_live
            .checked_sub(jiff::Span::new().days(1))
            .unwrap_or(Date::MIN);
        let first = days.first_day().filter(|first| *first <= before);
        if let Some(first) = first {
            let shadow = days.window(first, before);
            if shadow.scored > 0 {
                let mut histogram = shadow.score_histogram.clone();
                histogram.resize(SCORE_BINS, 0);
                baseline.score_histogram = Some(histogram);
            }
            if shadow.decided > 0 {
                baseline.positive_rate =
                    Some(shadow.positive_decisions as f64 / shadow.decided as f64);
            }
            baseline.reference_from = Some(first);
            baseline.reference_to = Some(before);
            sources.push(format!("shadow running {first} to {before}"));
        }
        baseline.source = if sources.is_empty() {
            "none: no validation and no shadow running before go-live".to_owned()
        } else {
            sources.join(" and ")
        };
        baseline
    }
}

impl RuleSet {
    /// The rules a deployment gets at go-live, judged against `baseline`:
    /// sensitivity, specificity, PPV and AUC over 30 days (at least 50
    /// cases of the class concerned, 5 points of tolerance; a fall in
    /// sensitivity proposes suspension); the positive rate, the score
    /// distribution and every input field over 7 days (at least 200
    /// events); a CUSUM and an EWMA of the positive rate; and CBPE
    /// estimates of sensitivity and specificity over 7 days. Rules whose
    /// baseline is missing are still made; they answer "unavailable" until
    /// the baseline is edited.
    pub fn defaults(baseline: Baseline) -> RuleSet {
        let mut rules = Vec::new();
        for (metric, propose_suspension) in [
            (Metric::Sensitivity, true),
            (Metric::Specificity, false),
            (Metric::Ppv, false),
            (Metric::Auc, false),
        ] {
            rules.push(Rule {
                id: metric.as_str().to_owned(),
                window_days: 30,
                minimum_cases: 50,
                propose_suspension,
                test: Test::Performance {
                    metric,
                    tolerance: 0.05,
                    confidence: 0.95,
                },
            });
        }
        rules.push(Rule {
            id: "positive-rate".to_owned(),
            window_days: 7,
            minimum_cases: 200,
            propose_suspension: false,
            test: Test::PositiveRate {
                tolerance: 0.05,
                confidence: 0.95,
            },
        });
        rules.push(Rule {
            id: "score-drift".to_owned(),
            window_days: 7,
            minimum_cases: 200,
            propose_suspension: false,
            test: Test::ScoreDrift {
                psi_threshold: 0.2,
                alpha: 0.01,
            },
        });
        for field in CATEGORICAL_FIELDS.iter().chain(&NUMERIC_FIELDS) {
            rules.push(Rule {
                id: format!("input-{}", field.replace('_', "-")),
                window_days: 7,
                minimum_cases: 200,
                propose_suspension: false,
                test: Test::InputDrift {
                    field: (*field).to_owned(),
                    alpha: 0.01,
                    minimum_effect: 0.1,
                },
            });
        }
        if let Some(rate) = baseline
            .positive_rate
            .filter(|rate| *rate > 0.0 && *rate < 0.6)
        {
            rules.push(Rule {
                id: "positive-rate-cusum".to_owned(),
                window_days: 30,
                minimum_cases: 1,
                propose_suspension: false,
                test: Test::Cusum {
                    signal: ChartedRate::PositiveRate,
                    p0: None,
                    p1: (rate * 1.5).min(0.99),
                    in_control_arl: 10_000.0,
                    decision_interval: None,
                },
            });
        }
        rules.push(Rule {
            id: "positive-rate-ewma".to_owned(),
            window_days: 30,
            minimum_cases: 1,
            propose_suspension: false,
            test: Test::Ewma {
                signal: ChartedRate::PositiveRate,
                p0: None,
                lambda: 0.2,
                width: 3.0,
            },
        });
        for metric in [Metric::Sensitivity, Metric::Specificity] {
            rules.push(Rule {
                id: format!("cbpe-{}", metric.as_str()),
                window_days: 7,
                minimum_cases: 200,
                propose_suspension: false,
                test: Test::Cbpe {
                    metric,
                    tolerance: 0.05,
                },
            });
        }
        RuleSet { baseline, rules }.designed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_survive_toml_and_json() {
        let baseline = Baseline {
            source: "validation 1".to_owned(),
            sensitivity: Some(0.9),
            specificity: Some(0.8),
            positive_rate: Some(0.2),
            score_histogram: Some(vec![5; SCORE_BINS]),
            reference_from: Some("2026-01-01".parse().expect("date")),
            reference_to: Some("2026-02-01".parse().expect("date")),
            ..Baseline::default()
        };
        let defaults = RuleSet::defaults(baseline);
        let checked = defaults.clone().checked().expect("valid");
        assert_eq!(RuleSet::from_toml(&checked.to_toml()), Ok(defaults.clone()));
        assert_eq!(RuleSet::from_json(&checked.to_json()), Ok(defaults));
    }

    /// Checks that rules are refused with exactly these problems.
    fn check_refused(toml: &str, expected: &[&str]) {
        match RuleSet::from_toml(toml) {
            Err(RulesError::Invalid(problems)) => assert_eq!(problems, expected),
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn every_problem_is_named() {
        check_refused(
            r#"
[baseline]
source = "hand"
sensitivity = 1.2
score_histogram = [1, 2]
reference_from = 2026-02-01

[[rules]]
id = "Sens"
window_days = 0
minimum_cases = 0
test = { kind = "performance", metric = "sensitivity", tolerance = -0.1 }

[[rules]]
id = "drift"
window_days = 7
minimum_cases = 10
test = { kind = "input_drift", field = "shoe_size", alpha = 0, minimum_effect = 0.1 }

[[rules]]
id = "drift"
window_days = 7
minimum_cases = 10
test = { kind = "cusum", signal = "discordance", p0 = 0.1, p1 = 0.1, in_control_arl = 500 }
"#,
            &[
                "baseline sensitivity 1.2 is outside [0, 1]",
                "baseline score_histogram has 2 bins; it needs 20",
                "baseline reference_from and reference_to go together",
                "a rule id must be 1 to 64 lower-case letters, digits and hyphens",
                "a rule: window_days must be between 1 and 366",
                "a rule: minimum_cases must be at least 1",
                "a rule: tolerance -0.1 is outside [0, 1]",
                "rule \"drift\": field must be one of scanner_manufacturer, scanner_model, protocol, age_band, sex, site, slice_thickness_mm, kvp",
                "rule \"drift\": alpha 0 is outside (0, 0.5]",
                "rule \"drift\" is given twice",
                "rule \"drift\": p1 must differ from p0",
            ],
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_read_or_refused_and_what_is_read_round_trips(text in "\\PC{0,400}") {
            for rules in [RuleSet::from_toml(&text), RuleSet::from_json(&text)].into_iter().flatten() {
                proptest::prop_assert_eq!(RuleSet::from_stored_json(&rules.to_json()), Ok(rules));
            }
        }

        #[test]
        fn edited_numbers_are_checked_not_trusted(
            tolerance in -2.0f64..2.0,
            window in 0u32..400,
            minimum in 0u64..3,
        ) {
            let toml = format!(
                "[baseline]\nsource = \"x\"\n[[rules]]\nid = \"a\"\nwindow_days = {window}\nminimum_cases = {minimum}\n\
                 test = {{ kind = \"positive_rate\", tolerance = {tolerance} }}\n"
            );
            let valid = (0.0..=1.0).contains(&tolerance) && (1..=366).contains(&window) && minimum >= 1;
            proptest::prop_assert_eq!(RuleSet::from_toml(&toml).is_ok(), valid);
        }
    }

    #[test]
    fn unknown_and_misspelt_fields_are_refused() {
        let misspelt = RuleSet::from_toml("[baseline]\nsource = \"x\"\nsensitivty = 0.9\n");
        assert!(
            matches!(&misspelt, Err(RulesError::Syntax(message)) if message.contains("sensitivty")),
            "{misspelt:?}"
        );
        let unknown_kind = RuleSet::from_json(
            r#"{"baseline": {"source": "x"}, "rules": [{"id": "a", "window_days": 1, "minimum_cases": 1, "test": {"kind": "vibes"}}]}"#,
        );
        assert!(
            matches!(unknown_kind, Err(RulesError::Syntax(_))),
            "{unknown_kind:?}"
        );
        let extra = RuleSet::from_json(
            r#"{"baseline": {"source": "x"}, "rules": [{"id": "a", "window_days": 1, "minimum_cases": 1, "test": {"kind": "score_drift", "psi_threshold": 0.2, "alpha": 0.01, "beta": 1}}]}"#,
        );
        assert!(matches!(extra, Err(RulesError::Syntax(_))), "{extra:?}");
    }
}
