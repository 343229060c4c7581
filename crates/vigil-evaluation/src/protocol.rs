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
//!
//! [acceptance]
//! criteria = [
//!   "sensitivity.ci_low >= 0.90",
//!   "auc.estimate >= 0.85",
//!   "subgroup.sex.*.sensitivity.estimate >= 0.85",
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
//! subgroup of the column must pass) and METRIC is one of the interval
//! metrics.

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

fn parse_path(path: &str) -> Result<MetricPath, String> {
    if let Some((_, scalar)) = SCALAR_PATHS.iter().find(|(name, _)| *name == path) {
        return Ok(MetricPath::Scalar(*scalar));
    }
    let parts: Vec<&str> = path.split('.').collect();
    match parts.as_slice() {
        [metric, field] => {
            let (metric, field) = parse_interval_metric(metric, field)?;
            Ok(MetricPath::Interval { metric, field })
        }
        ["subgroup", column, value, metric, field] if !column.is_empty() && !value.is_empty() => {
            let (metric, field) = parse_interval_metric(metric, field)?;
            Ok(MetricPath::Subgroup {
                column: (*column).to_owned(),
                selector: if *value == "*" {
                    SubgroupSelector::Every
                } else {
                    SubgroupSelector::Value((*value).to_owned())
                },
                metric,
                field,
            })
        }
        _ => Err(format!(
            "unknown metric path {path:?}; expected METRIC.FIELD (e.g. sensitivity.ci_low), one of {}, or subgroup.COLUMN.VALUE.METRIC.FIELD",
            SCALAR_PATHS.map(|(name, _)| name).join(", ")
        )),
    }
}

impl Criterion {
    /// Parses `PATH OP NUMBER`.
    pub fn parse(text: &str) -> Result<Criterion, String> {
        let operators = [
            (">=", Comparison::AtLeast),
            ("<=", Comparison::AtMost),
            (">", Comparison::Above),
            ("<", Comparison::Below),
        ];
        let (position, symbol, comparison) = operators
            .iter()
            .filter_map(|(symbol, comparison)| {
                text.find(symbol)
                    .map(|position| (position, *symbol, *comparison))
            })
            .min_by_key(|(position, symbol, _)| (*position, std::cmp::Reverse(symbol.len())))
            .ok_or("expected PATH OP NUMBER with OP one of >=, >, <=, <")?;
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
        if let Some(level) = raw.analysis.confidence_level {
            if !(level > 0.0 && level < 1.0) {
                return Err(ProtocolError::Analysis {
                    source_name: source.to_owned(),
                    reason: format!("confidence_level = {level} must lie strictly between 0 and 1"),
                });
            }
        }
        if raw.analysis.minimum_subgroup_size == Some(0) {
            return Err(ProtocolError::Analysis {
                source_name: source.to_owned(),
                reason: "minimum_subgroup_size must be at least 1".to_owned(),
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
            criteria,
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
