//! The acceptance protocol: written before the data are seen, it fixes the
//! operating point and the criteria a tool must meet to pass local
//! validation.
//!
//! A protocol is TOML:
//!
//! ```toml
//! [protocol]
//! title = "Local acceptance test of ChestFlag CXR triage"
//! tool = "ChestFlag"
//! version = "2.3.0"
//! intended_use = "Flag abnormal adult chest X-rays for prioritised reporting"
//! author = "A. Physicist, Clinical Scientist"
//! date = "2026-11-01"
//!
//! [operating_point]
//! threshold = 0.35          # or: rule = "youden" | "target_sensitivity" | "target_specificity", target = 0.9
//!
//! [analysis]                # optional
//! confidence_level = 0.95
//! subgroups = ["sex", "age_band"]
//! minimum_subgroup_size = 30
//! minimum_class_size = 5
//!
//! [acceptance]
//! criteria = [
//!   "sensitivity.ci_low >= 0.90",
//!   "auc.estimate >= 0.85",
//!   "subgroup.sex.*.sensitivity.estimate >= 0.85",
//!   'subgroup.age_band."<40".sensitivity.estimate >= 0.85',
//! ]
//! ```
//!
//! A criterion is `PATH OP NUMBER` with OP one of `>=`, `>`, `<=`, `<`. PATH
//! names a metric of the result: `auc`, `sensitivity`, `specificity`, `ppv`,
//! `npv` or `accuracy` followed by `.estimate`, `.ci_low` or `.ci_high`;
//! `f1`, `average_precision`, `calibration.brier`, `calibration.ece`,
//! `calibration.intercept`, `calibration.slope`,
//! `calibration.calibration_in_the_large`; `comparison.auc_difference`,
//! `comparison.ci_low`, `comparison.ci_high`, `comparison.p_value`; or
//! `subgroup.COLUMN.VALUE.METRIC.FIELD` where VALUE may be `*` (every
//! subgroup of the column with a value must pass; the group of missing
//! values is reported but not judged) and METRIC is one of the interval
//! metrics.
//!
//! A COLUMN or VALUE containing `.`, `<`, `>`, `=` or spaces is written in
//! double quotes, `subgroup.field."1.5T".auc.ci_low >= 0.8`; the operator is
//! looked for after the path, outside quotes. In TOML the criterion is then
//! most easily a literal string in single quotes, as in the example above
//! (in a double-quoted TOML string the quotes are escaped:
//! `"subgroup.age_band.\"<40\".sensitivity.estimate >= 0.85"`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a protocol could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("{source_name}: {message}")]
    Toml {
        source_name: String,
        message: String,
    },
    #[error("{source_name}: criterion {criterion:?}: {reason}")]
    Criterion {
        source_name: String,
        criterion: String,
        reason: String,
    },
    #[error("{source_name}: [operating_point]: {reason}")]
    OperatingPoint { source_name: String, reason: String },
    #[error("{source_name}: [analysis]: {reason}")]
    Analysis { source_name: String, reason: String },
}

/// Descriptive metadata of the protocol.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolMetadata {
    pub title: Option<String>,
    pub tool: Option<String>,
    pub version: Option<String>,
    pub intended_use: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    pub reference_standard: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOperatingPoint {
    threshold: Option<f64>,
    rule: Option<String>,
    target: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnalysis {
    confidence_level: Option<f64>,
    subgroups: Option<Vec<String>>,
    minimum_subgroup_size: Option<usize>,
    minimum_class_size: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAcceptance {
    #[serde(default)]
    criteria: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProtocol {
    #[serde(default)]
    protocol: ProtocolMetadata,
    operating_point: Option<RawOperatingPoint>,
    #[serde(default)]
    analysis: RawAnalysis,
    #[serde(default)]
    acceptance: RawAcceptance,
}

/// How the protocol fixes the operating point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum OperatingPoint {
    Threshold { threshold: f64 },
    Youden,
    TargetSensitivity { target: f64 },
    TargetSpecificity { target: f64 },
}

/// A metric with a confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalMetric {
    Auc,
    Sensitivity,
    Specificity,
    Ppv,
    Npv,
    Accuracy,
}

impl IntervalMetric {
    pub const ALL: [IntervalMetric; 6] = [
        IntervalMetric::Auc,
        IntervalMetric::Sensitivity,
        IntervalMetric::Specificity,
        IntervalMetric::Ppv,
        IntervalMetric::Npv,
        IntervalMetric::Accuracy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            IntervalMetric::Auc => "auc",
            IntervalMetric::Sensitivity => "sensitivity",
            IntervalMetric::Specificity => "specificity",
            IntervalMetric::Ppv => "ppv",
            IntervalMetric::Npv => "npv",
            IntervalMetric::Accuracy => "accuracy",
        }
    }
}

/// Which number of an interval metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalField {
    Estimate,
    CiLow,
    CiHigh,
}

impl IntervalField {
    pub fn name(self) -> &'static str {
        match self {
            IntervalField::Estimate => "estimate",
            IntervalField::CiLow => "ci_low",
            IntervalField::CiHigh => "ci_high",
        }
    }
}

/// A single number of the result that is not an interval field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScalarMetric {
    F1,
    AveragePrecision,
    Brier,
    ExpectedCalibrationError,
    CalibrationIntercept,
    CalibrationSlope,
    CalibrationInTheLarge,
    ComparisonAucDifference,
    ComparisonCiLow,
    ComparisonCiHigh,
    ComparisonPValue,
}

const SCALAR_PATHS: [(&str, ScalarMetric); 11] = [
    ("f1", ScalarMetric::F1),
    ("average_precision", ScalarMetric::AveragePrecision),
    ("calibration.brier", ScalarMetric::Brier),
    ("calibration.ece", ScalarMetric::ExpectedCalibrationError),
    ("calibration.intercept", ScalarMetric::CalibrationIntercept),
    ("calibration.slope", ScalarMetric::CalibrationSlope),
    (
        "calibration.calibration_in_the_large",
        ScalarMetric::CalibrationInTheLarge,
    ),
    (
        "comparison.auc_difference",
        ScalarMetric::ComparisonAucDifference,
    ),
    ("comparison.ci_low", ScalarMetric::ComparisonCiLow),
    ("comparison.ci_high", ScalarMetric::ComparisonCiHigh),
    ("comparison.p_value", ScalarMetric::ComparisonPValue),
];

impl ScalarMetric {
    /// True for the metrics of the paired comparison, which need a
    /// comparison score (`--compare`).
    pub fn needs_comparison(self) -> bool {
        matches!(
            self,
            ScalarMetric::ComparisonAucDifference
                | ScalarMetric::ComparisonCiLow
                | ScalarMetric::ComparisonCiHigh
                | ScalarMetric::ComparisonPValue
        )
    }
}

/// Which subgroups of a column a criterion applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubgroupSelector {
    Every,
    Value(String),
}

/// What a criterion measures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricPath {
    Interval {
        metric: IntervalMetric,
        field: IntervalField,
    },
    Scalar(ScalarMetric),
    Subgroup {
        column: String,
        selector: SubgroupSelector,
        metric: IntervalMetric,
        field: IntervalField,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Comparison {
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = ">")]
    Above,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = "<")]
    Below,
}

impl Comparison {
    pub fn holds(self, actual: f64, bound: f64) -> bool {
        match self {
            Comparison::AtLeast => actual >= bound,
            Comparison::Above => actual > bound,
            Comparison::AtMost => actual <= bound,
            Comparison::Below => actual < bound,
        }
    }

    /// `actual` as text to print beside a pass or fail against `bound`:
    /// four decimals, or more when four would put the printed number on the
    /// other side of the bound (0.94996 printed as 0.9500 would seem to meet
    /// `>= 0.95`). Up to 17 decimals are tried, and failing those the
    /// shortest text that reads back as exactly `actual`.
    pub fn display_value(self, actual: f64, bound: f64) -> String {
        let outcome = self.holds(actual, bound);
        for decimals in 4..=17 {
            let text = format!("{actual:.decimals$}");
            let shown_outcome = text.parse::<f64>().map(|shown| self.holds(shown, bound));
            if shown_outcome == Ok(outcome) {
                return text;
            }
        }
        // Rust prints the shortest decimal that reads back as the same
        // number, so this text always sits on the right side.
        format!("{actual}")
    }

    fn symbol(self) -> &'static str {
        match self {
            Comparison::AtLeast => ">=",
            Comparison::Above => ">",
            Comparison::AtMost => "<=",
            Comparison::Below => "<",
        }
    }
}

/// One acceptance criterion, such as `sensitivity.ci_low >= 0.90`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Criterion {
    pub text: String,
    pub path: MetricPath,
    pub comparison: Comparison,
    pub bound: f64,
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn parse_interval_metric(
    metric: &str,
    field: &str,
) -> Result<(IntervalMetric, IntervalField), String> {
    let metric = IntervalMetric::ALL
        .into_iter()
        .find(|candidate| candidate.name() == metric)
        .ok_or_else(|| {
            format!(
                "unknown metric {metric:?}; interval metrics are {}",
                IntervalMetric::ALL.map(IntervalMetric::name).join(", ")
            )
        })?;
    let field = match field {
        "estimate" => IntervalField::Estimate,
        "ci_low" => IntervalField::CiLow,
        "ci_high" => IntervalField::CiHigh,
        other => {
            return Err(format!(
                "unknown field {other:?}; use estimate, ci_low or ci_high"
            ));
        }
    };
    Ok((metric, field))
}

/// One dot-separated part of a metric path, and whether it was written in
/// double quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    text: String,
    quoted: bool,
}

/// Splits a path at the dots outside double quotes. A quoted segment is the
/// whole segment: `"<40"`, not `a"<40"`.
fn split_path(path: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    let mut current = Segment {
        text: String::new(),
        quoted: false,
    };
    let mut in_quotes = false;
    let mut closed = false;
    for character in path.chars() {
        if in_quotes {
            if character == '"' {
                in_quotes = false;
                closed = true;
            } else {
                current.text.push(character);
            }
            continue;
        }
        match character {
            '.' => {
                segments.push(std::mem::replace(
                    &mut current,
                    Segment {
                        text: String::new(),
                        quoted: false,
                    },
                ));
                closed = false;
            }
            '"' if current.text.is_empty() && !current.quoted => {
                in_quotes = true;
                current.quoted = true;
            }
            _ if closed || character == '"' => {
                return Err(
                    "double quotes must enclose a whole part of the path, such as subgroup.age_band.\"<40\".sensitivity.estimate".to_owned(),
                );
            }
            _ => current.text.push(character),
        }
    }
    if in_quotes {
        return Err("a double quote in the path is not closed".to_owned());
    }
    segments.push(current);
    Ok(segments)
}

/// The text of a segment written without quotes.
fn plain(segment: &Segment) -> Option<&str> {
    (!segment.quoted).then_some(segment.text.as_str())
}

fn parse_path(path: &str) -> Result<MetricPath, String> {
    let unknown = || {
        format!(
            "unknown metric path {path:?}; expected METRIC.FIELD (e.g. sensitivity.ci_low), one of {}, or subgroup.COLUMN.VALUE.METRIC.FIELD",
            SCALAR_PATHS.map(|(name, _)| name).join(", ")
        )
    };
    let segments = split_path(path)?;
    if segments.iter().all(|segment| !segment.quoted)
        && let Some((_, scalar)) = SCALAR_PATHS.iter().find(|(name, _)| *name == path)
    {
        return Ok(MetricPath::Scalar(*scalar));
    }
    match segments.as_slice() {
        [metric, field] => {
            let (Some(metric), Some(field)) = (plain(metric), plain(field)) else {
                return Err(format!(
                    "{}; only a subgroup column or value may be quoted",
                    unknown()
                ));
            };
            let (metric, field) = parse_interval_metric(metric, field)?;
            Ok(MetricPath::Interval { metric, field })
        }
        [subgroup, column, value, metric, field] if plain(subgroup) == Some("subgroup") => {
            if column.text.is_empty() || value.text.is_empty() {
                return Err(unknown());
            }
            let (Some(metric), Some(field)) = (plain(metric), plain(field)) else {
                return Err(format!(
                    "{}; only a subgroup column or value may be quoted",
                    unknown()
                ));
            };
            let (metric, field) = parse_interval_metric(metric, field)?;
            Ok(MetricPath::Subgroup {
                column: column.text.clone(),
                selector: if plain(value) == Some("*") {
                    SubgroupSelector::Every
                } else {
                    SubgroupSelector::Value(value.text.clone())
                },
                metric,
                field,
            })
        }
        _ => Err(unknown()),
    }
}

/// Finds the first comparison operator outside double quotes: its byte
/// position, its text and its meaning.
fn find_operator(text: &str) -> Result<(usize, &'static str, Comparison), String> {
    let bytes = text.as_bytes();
    let mut in_quotes = false;
    for (position, &byte) in bytes.iter().enumerate() {
        match byte {
            b'"' => in_quotes = !in_quotes,
            b'>' | b'<' if !in_quotes => {
                let or_equal = bytes.get(position + 1) == Some(&b'=');
                return Ok(match (byte, or_equal) {
                    (b'>', true) => (position, ">=", Comparison::AtLeast),
                    (b'>', false) => (position, ">", Comparison::Above),
                    (_, true) => (position, "<=", Comparison::AtMost),
                    (_, false) => (position, "<", Comparison::Below),
                });
            }
            _ => {}
        }
    }
    if in_quotes {
        return Err("a double quote in the path is not closed".to_owned());
    }
    Err("expected PATH OP NUMBER with OP one of >=, >, <=, <".to_owned())
}

impl Criterion {
    /// Parses `PATH OP NUMBER`; parts of PATH may be double-quoted, and the
    /// operator is the first `>=`, `>`, `<=` or `<` outside quotes.
    pub fn parse(text: &str) -> Result<Criterion, String> {
        let (position, symbol, comparison) = find_operator(text)?;
        let path = text[..position].trim();
        let number = text[position + symbol.len()..].trim();
        let bound: f64 = number
            .parse()
            .ok()
            .filter(|value: &f64| value.is_finite())
            .ok_or_else(|| format!("{number:?} is not a finite number"))?;
        Ok(Criterion {
            text: format!("{path} {} {number}", comparison.symbol()),
            path: parse_path(path)?,
            comparison,
            bound,
        })
    }
}

/// A parsed, checked protocol.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Protocol {
    pub metadata: ProtocolMetadata,
    pub operating_point: Option<OperatingPoint>,
    pub confidence_level: Option<f64>,
    pub subgroups: Vec<String>,
    pub minimum_subgroup_size: Option<usize>,
    /// The fewest cases of a class a subgroup needs for the metrics that
    /// depend on that class.
    pub minimum_class_size: Option<usize>,
    pub criteria: Vec<Criterion>,
}

impl Protocol {
    /// Parses and checks a TOML protocol; `source` names it in messages.
    pub fn parse(text: &str, source: &str) -> Result<Protocol, ProtocolError> {
        let raw: RawProtocol = toml::from_str(text).map_err(|error| ProtocolError::Toml {
            source_name: source.to_owned(),
            message: error.to_string(),
        })?;
        let operating_point_error = |reason: &str| ProtocolError::OperatingPoint {
            source_name: source.to_owned(),
            reason: reason.to_owned(),
        };
        let operating_point = match raw.operating_point {
            None => None,
            Some(RawOperatingPoint {
                threshold: Some(threshold),
                rule: None,
                target: None,
            }) => {
                if !threshold.is_finite() {
                    return Err(operating_point_error("threshold must be a finite number"));
                }
                Some(OperatingPoint::Threshold { threshold })
            }
            Some(RawOperatingPoint {
                threshold: None,
                rule: Some(rule),
                target,
            }) => {
                let target_in_range = |target: Option<f64>| match target {
                    Some(t) if (0.0..=1.0).contains(&t) => Ok(t),
                    Some(_) => Err(operating_point_error("target must lie in [0, 1]")),
                    None => Err(operating_point_error(
                        "this rule needs a target, e.g. target = 0.9",
                    )),
                };
                Some(match rule.as_str() {
                    "youden" if target.is_none() => OperatingPoint::Youden,
                    "youden" => {
                        return Err(operating_point_error("the youden rule takes no target"));
                    }
                    "target_sensitivity" => OperatingPoint::TargetSensitivity {
                        target: target_in_range(target)?,
                    },
                    "target_specificity" => OperatingPoint::TargetSpecificity {
                        target: target_in_range(target)?,
                    },
                    other => {
                        return Err(operating_point_error(&format!(
                            "unknown rule {other:?}; use youden, target_sensitivity or target_specificity"
                        )));
                    }
                })
            }
            Some(_) => {
                return Err(operating_point_error(
                    "give either threshold = NUMBER, or rule = \"...\" (with target = NUMBER for the target rules)",
                ));
            }
        };
        if let Some(level) = raw.analysis.confidence_level
            && !(level > 0.0 && level < 1.0)
        {
            return Err(ProtocolError::Analysis {
                source_name: source.to_owned(),
                reason: format!("confidence_level = {level} must lie strictly between 0 and 1"),
            });
        }
        if raw.analysis.minimum_subgroup_size == Some(0) {
            return Err(ProtocolError::Analysis {
                source_name: source.to_owned(),
                reason: "minimum_subgroup_size must be at least 1".to_owned(),
            });
        }
        if raw.analysis.minimum_class_size == Some(0) {
            return Err(ProtocolError::Analysis {
                source_name: source.to_owned(),
                reason: "minimum_class_size must be at least 1".to_owned(),
            });
        }
        let criteria = raw
            .acceptance
            .criteria
            .iter()
            .map(|text| {
                Criterion::parse(text).map_err(|reason| ProtocolError::Criterion {
                    source_name: source.to_owned(),
                    criterion: text.clone(),
                    reason,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Protocol {
            metadata: raw.protocol,
            operating_point,
            confidence_level: raw.analysis.confidence_level,
            subgroups: raw.analysis.subgroups.unwrap_or_default(),
            minimum_subgroup_size: raw.analysis.minimum_subgroup_size,
            minimum_class_size: raw.analysis.minimum_class_size,
            criteria,
        })
    }

    /// The criteria on the paired comparison, which need `--compare`.
    pub fn comparison_criteria(&self) -> impl Iterator<Item = &Criterion> {
        self.criteria.iter().filter(|criterion| {
            matches!(criterion.path, MetricPath::Scalar(metric) if metric.needs_comparison())
        })
    }

    /// Subgroup columns the criteria refer to.
    pub fn criterion_subgroup_columns(&self) -> impl Iterator<Item = &str> {
        self.criteria
            .iter()
            .filter_map(|criterion| match &criterion.path {
                MetricPath::Subgroup { column, .. } => Some(column.as_str()),
                _ => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subgroup_path(
        column: &str,
        value: &str,
        metric: IntervalMetric,
        field: IntervalField,
    ) -> MetricPath {
        MetricPath::Subgroup {
            column: column.to_owned(),
            selector: SubgroupSelector::Value(value.to_owned()),
            metric,
            field,
        }
    }

    #[test]
    fn a_quoted_subgroup_value_may_hold_dots_and_operators() {
        let criterion = Criterion::parse("subgroup.age_band.\"<40\".sensitivity.estimate >= 0.85")
            .expect("valid criterion");
        assert_eq!(
            criterion.path,
            subgroup_path(
                "age_band",
                "<40",
                IntervalMetric::Sensitivity,
                IntervalField::Estimate
            )
        );
        assert_eq!(criterion.comparison, Comparison::AtLeast);
        assert_eq!(criterion.bound, 0.85);

        let criterion =
            Criterion::parse("subgroup.field.\"1.5T\".auc.ci_low >= 0.8").expect("valid criterion");
        assert_eq!(
            criterion.path,
            subgroup_path("field", "1.5T", IntervalMetric::Auc, IntervalField::CiLow)
        );

        let criterion = Criterion::parse("subgroup.\"age.band\".\">=65\".npv.ci_high < 1")
            .expect("valid criterion");
        assert_eq!(
            criterion.path,
            subgroup_path(
                "age.band",
                ">=65",
                IntervalMetric::Npv,
                IntervalField::CiHigh
            )
        );
        assert_eq!(criterion.comparison, Comparison::Below);
    }

    #[test]
    fn a_quoted_star_is_a_value_not_every_subgroup() {
        let criterion =
            Criterion::parse("subgroup.grade.\"*\".auc.estimate > 0.7").expect("valid criterion");
        assert_eq!(
            criterion.path,
            subgroup_path("grade", "*", IntervalMetric::Auc, IntervalField::Estimate)
        );
    }

    #[test]
    fn quoted_values_are_written_in_toml_literal_or_escaped_strings() {
        let literal = "[operating_point]\nthreshold = 0.5\n[acceptance]\ncriteria = ['subgroup.age_band.\"<40\".sensitivity.estimate >= 0.85']\n";
        let escaped = "[operating_point]\nthreshold = 0.5\n[acceptance]\ncriteria = [\"subgroup.age_band.\\\"<40\\\".sensitivity.estimate >= 0.85\"]\n";
        for text in [literal, escaped] {
            let protocol = Protocol::parse(text, "protocol.toml").expect("valid protocol");
            assert_eq!(
                protocol.criteria[0].path,
                subgroup_path(
                    "age_band",
                    "<40",
                    IntervalMetric::Sensitivity,
                    IntervalField::Estimate
                )
            );
            assert_eq!(
                protocol.criterion_subgroup_columns().collect::<Vec<_>>(),
                vec!["age_band"]
            );
        }
    }

    #[test]
    fn badly_quoted_paths_are_rejected() {
        for (text, expected) in [
            (
                "subgroup.age_band.\"<40.sensitivity.estimate >= 0.85",
                "not closed",
            ),
            (
                "subgroup.age_band.a\"<40\".sensitivity.estimate >= 0.85",
                "whole part of the path",
            ),
            (
                "subgroup.age_band.\"<40\"x.sensitivity.estimate >= 0.85",
                "whole part of the path",
            ),
            ("\"sensitivity\".estimate >= 0.85", "only a subgroup"),
            (
                "subgroup.age_band.\"\".auc.estimate >= 0.85",
                "unknown metric path",
            ),
        ] {
            let error = Criterion::parse(text).expect_err(text);
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn values_beside_a_verdict_are_shown_on_the_correct_side_of_the_bound() {
        let at_least = Comparison::AtLeast;
        // Four decimals would print 0.9500, which seems to meet the bound.
        assert_eq!(at_least.display_value(0.94996, 0.95), "0.94996");
        assert_eq!(at_least.display_value(0.95, 0.95), "0.9500");
        assert_eq!(at_least.display_value(0.93, 0.95), "0.9300");
        let just_below = f64::from_bits(0.95_f64.to_bits() - 1);
        let shown = at_least.display_value(just_below, 0.95);
        assert!(shown.parse::<f64>().expect("number") < 0.95, "{shown}");
        // And the other way round: 0.95004 passes `<= 0.95` when printed
        // as 0.9500, but fails exactly.
        assert_eq!(Comparison::AtMost.display_value(0.95004, 0.95), "0.95004");
        assert_eq!(Comparison::Below.display_value(0.94996, 0.95), "0.94996");
        assert_eq!(
            Comparison::Above.display_value(1e-20, 0.0),
            "0.00000000000000000001"
        );
    }

    #[test]
    fn minimum_class_size_is_read_and_checked() {
        let protocol = Protocol::parse("[analysis]\nminimum_class_size = 8\n", "protocol.toml")
            .expect("valid protocol");
        assert_eq!(protocol.minimum_class_size, Some(8));
        let error = Protocol::parse("[analysis]\nminimum_class_size = 0\n", "protocol.toml")
            .expect_err("zero");
        assert!(
            error
                .to_string()
                .contains("minimum_class_size must be at least 1")
        );
    }

    #[test]
    fn comparison_criteria_are_recognised() {
        let protocol = Protocol::parse(
            "[acceptance]\ncriteria = [\"comparison.ci_low > 0\", \"auc.estimate >= 0.8\"]\n",
            "protocol.toml",
        )
        .expect("valid protocol");
        let texts: Vec<&str> = protocol
            .comparison_criteria()
            .map(|criterion| criterion.text.as_str())
            .collect();
        assert_eq!(texts, vec!["comparison.ci_low > 0"]);
    }
}
