//! Computing every validation metric of a case table, and judging the
//! protocol's acceptance criteria against them.
//!
//! [`Evaluation`] serialises to the public JSON contract of
//! `vigil evaluate --json` and `result.json`; its key names are stable.

use serde::Serialize;
use vigil_stats::calibration::{
    ReliabilityBin, brier_score, calibration_in_the_large, expected_calibration_error,
    logistic_recalibration, reliability_bins,
};
use vigil_stats::confusion::{ConfusionMatrix, IntervalMethod, RateEstimate};
use vigil_stats::operating_point::OperatingPointRule;
use vigil_stats::precision_recall::PrecisionRecallCurve;
use vigil_stats::roc::{RocCurve, SortedByClass, delong, delong_paired};
use vigil_stats::subgroup::partition;
use vigil_stats::{BinarySample, ConfidenceLevel, StatsError};

use crate::cases::CaseTable;
use crate::protocol::{
    Criterion, IntervalField, IntervalMetric, MetricPath, Protocol, ProtocolMetadata, ScalarMetric,
    SubgroupSelector,
};

/// Where the operating threshold came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdSource {
    CommandLine,
    Protocol,
    /// No threshold was given; Youden's J picked one.
    DefaultYouden,
}

impl ThresholdSource {
    /// A phrase for reports, e.g. "from the protocol".
    pub fn describe(self) -> &'static str {
        match self {
            ThresholdSource::CommandLine => "from --threshold",
            ThresholdSource::Protocol => "from the protocol",
            ThresholdSource::DefaultYouden => "chosen by Youden's J, as none was given",
        }
    }
}

/// How to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationSettings {
    pub level: ConfidenceLevel,
    pub operating_point: OperatingPointRule,
    pub threshold_source: ThresholdSource,
    /// Subgroups with fewer cases report "insufficient data".
    pub minimum_subgroup_size: usize,
    /// Number of equal-width bins for ECE and the reliability diagram.
    pub calibration_bins: usize,
}

impl Default for EvaluationSettings {
    fn default() -> Self {
        EvaluationSettings {
            level: ConfidenceLevel::NINETY_FIVE,
            operating_point: OperatingPointRule::Youden,
            threshold_source: ThresholdSource::DefaultYouden,
            minimum_subgroup_size: 30,
            calibration_bins: 10,
        }
    }
}

/// Why an evaluation could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    #[error("{0}")]
    Statistics(#[from] StatsError),
    #[error("the comparison score {column:?}: {source}")]
    Comparison { column: String, source: StatsError },
}

/// An estimate with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct IntervalEstimate {
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

impl From<vigil_stats::Interval> for IntervalEstimate {
    fn from(interval: vigil_stats::Interval) -> Self {
        IntervalEstimate {
            estimate: interval.estimate,
            ci_low: interval.low,
            ci_high: interval.high,
        }
    }
}

/// AUC with its DeLong interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AucResult {
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub standard_error: f64,
    pub method: &'static str,
}

/// A rate at the operating threshold, with its Wilson interval and the
/// confusion counts it came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateResult {
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub numerator: u64,
    pub denominator: u64,
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    #[serde(rename = "fn")]
    pub false_negatives: u64,
}

fn rate_result(
    rate: Result<RateEstimate, StatsError>,
    matrix: &ConfusionMatrix,
) -> Option<RateResult> {
    let rate = rate.ok()?;
    Some(RateResult {
        estimate: rate.interval.estimate,
        ci_low: rate.interval.low,
        ci_high: rate.interval.high,
        numerator: rate.numerator,
        denominator: rate.denominator,
        tp: matrix.true_positives,
        fp: matrix.false_positives,
        tn: matrix.true_negatives,
        false_negatives: matrix.false_negatives,
    })
}

/// Calibration of scores that are probabilities.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationResult {
    pub brier: f64,
    pub ece: f64,
    pub ece_bins: usize,
    pub calibration_in_the_large: f64,
    /// Joint logistic recalibration; `None` (with a reason) when it cannot
    /// be fitted.
    pub intercept: Option<f64>,
    pub slope: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recalibration_note: Option<String>,
    pub bins: Vec<CalibrationBin>,
}

/// One reliability-diagram bin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CalibrationBin {
    pub lower: f64,
    pub upper: f64,
    pub n: u64,
    pub positives: u64,
    pub mean_score: Option<f64>,
    pub observed_fraction: Option<f64>,
}

impl From<&ReliabilityBin> for CalibrationBin {
    fn from(bin: &ReliabilityBin) -> Self {
        CalibrationBin {
            lower: bin.lower,
            upper: bin.upper,
            n: bin.count,
            positives: bin.positives,
            mean_score: bin.mean_score,
            observed_fraction: bin.observed_fraction,
        }
    }
}

/// Paired DeLong comparison with a second score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComparisonResult {
    pub column: String,
    /// AUC of the comparison score.
    pub auc: f64,
    /// AUC of the main score minus AUC of the comparison score.
    pub auc_difference: f64,
    pub z: f64,
    pub p_value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// Metrics of one subgroup.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubgroupResult {
    pub column: String,
    pub value: String,
    pub n: usize,
    pub n_positive: usize,
    pub n_negative: usize,
    /// `ok`, or `insufficient_data` when the subgroup is below the minimum
    /// size or lacks a class; then the metrics are null.
    pub status: &'static str,
    pub minimum: usize,
    pub auc: Option<IntervalEstimate>,
    pub sensitivity: Option<IntervalEstimate>,
    pub specificity: Option<IntervalEstimate>,
    pub ppv: Option<IntervalEstimate>,
    pub npv: Option<IntervalEstimate>,
    pub accuracy: Option<IntervalEstimate>,
}

/// A point of the ROC curve kept for plotting, with the pointwise Wilson
/// interval of the true-positive rate at that threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotRocPoint {
    pub threshold: f64,
    pub false_positive_rate: f64,
    pub true_positive_rate: f64,
    pub true_positive_rate_low: f64,
    pub true_positive_rate_high: f64,
}

/// The outcome of one acceptance criterion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionOutcome {
    pub criterion: String,
    pub passed: bool,
    /// The value compared (the worst one for a `*` subgroup criterion);
    /// null when it could not be evaluated.
    pub actual: Option<f64>,
    pub detail: String,
}

/// Overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    /// No criteria were given, so nothing was judged.
    NotAssessed,
}

/// Everything `vigil evaluate` computes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub source: String,
    pub score_column: String,
    pub label_column: String,
    pub positive_label: String,
    pub n: usize,
    pub n_positive: usize,
    pub n_negative: usize,
    pub dropped_missing: u64,
    pub confidence_level: f64,
    pub threshold: f64,
    pub threshold_rule: String,
    pub threshold_source: ThresholdSource,
    pub auc: AucResult,
    pub sensitivity: Option<RateResult>,
    pub specificity: Option<RateResult>,
    pub ppv: Option<RateResult>,
    pub npv: Option<RateResult>,
    pub accuracy: Option<RateResult>,
    pub f1: Option<f64>,
    pub average_precision: f64,
    pub calibration: Option<CalibrationResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration_note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<ComparisonResult>,
    pub subgroups: Vec<SubgroupResult>,
    pub protocol: Option<ProtocolMetadata>,
    pub criteria: Vec<CriterionOutcome>,
    pub verdict: Verdict,
    /// ROC points for plotting (at most about 1,000, always including the
    /// operating threshold); not part of the JSON contract.
    #[serde(skip)]
    pub roc_plot: Vec<PlotRocPoint>,
}

fn describe_rule(rule: &OperatingPointRule) -> String {
    match rule {
        OperatingPointRule::Fixed(_) => "fixed".to_owned(),
        OperatingPointRule::Youden => "youden".to_owned(),
        OperatingPointRule::TargetSensitivity(target) => format!("target_sensitivity {target}"),
        OperatingPointRule::TargetSpecificity(target) => format!("target_specificity {target}"),
    }
}

fn thin_roc(curve: &RocCurve, threshold: f64, level: ConfidenceLevel) -> Vec<PlotRocPoint> {
    const MAXIMUM_POINTS: usize = 1000;
    let stride = curve.points.len().div_ceil(MAXIMUM_POINTS).max(1);
    let last = curve.points.len().saturating_sub(1);
    curve
        .points
        .iter()
        .enumerate()
        .filter(|(index, point)| {
            index % stride == 0 || *index == last || point.threshold == threshold
        })
        .map(|(_, point)| {
            let wilson =
                vigil_stats::interval::Proportion::new(point.true_positives, curve.positives)
                    .map(|proportion| proportion.wilson(level));
            let (low, high) = wilson
                .map_or((point.true_positive_rate, point.true_positive_rate), |w| {
                    (w.low, w.high)
                });
            PlotRocPoint {
                threshold: point.threshold,
                false_positive_rate: point.false_positive_rate,
                true_positive_rate: point.true_positive_rate,
                true_positive_rate_low: low,
                true_positive_rate_high: high,
            }
        })
        .collect()
}

/// Clipping bound for scores of exactly 0 or 1 in the logistic
/// recalibration (only there).
pub const RECALIBRATION_CLIP: f64 = 1e-6;

fn calibration(sample: &BinarySample<'_>, bins: usize) -> Result<CalibrationResult, StatsError> {
    let brier = brier_score(sample)?;
    // Tools often print probabilities rounded so that some read exactly 0
    // or 1, whose logit is infinite. Those are clipped to
    // [RECALIBRATION_CLIP, 1 − RECALIBRATION_CLIP] for the logistic fit
    // only, and the report says how many were.
    let on_boundary = sample
        .scores()
        .iter()
        .filter(|&&p| p == 0.0 || p == 1.0)
        .count();
    let clipped: Vec<f64>;
    let fit_sample = if on_boundary > 0 {
        clipped = sample
            .scores()
            .iter()
            .map(|&p| p.clamp(RECALIBRATION_CLIP, 1.0 - RECALIBRATION_CLIP))
            .collect();
        BinarySample::new(&clipped, sample.labels())?
    } else {
        *sample
    };
    let clip_note = (on_boundary > 0).then(|| {
        format!(
            "{on_boundary} score(s) equal to 0 or 1 were clipped to [{RECALIBRATION_CLIP}, {}] for the logistic recalibration",
            1.0 - RECALIBRATION_CLIP
        )
    });
    let (intercept, slope, recalibration_note) = match logistic_recalibration(&fit_sample) {
        Ok(fit) => (Some(fit.intercept), Some(fit.slope), clip_note),
        Err(error) => (None, None, Some(error.to_string())),
    };
    Ok(CalibrationResult {
        brier,
        ece: expected_calibration_error(sample, bins)?,
        ece_bins: bins,
        calibration_in_the_large: calibration_in_the_large(sample)?,
        intercept,
        slope,
        recalibration_note,
        bins: reliability_bins(sample, bins)?
            .iter()
            .map(CalibrationBin::from)
            .collect(),
    })
}

fn interval_estimate(rate: Result<RateEstimate, StatsError>) -> Option<IntervalEstimate> {
    rate.ok().map(|rate| rate.interval.into())
}

fn subgroup_results(
    table: &CaseTable,
    threshold: f64,
    settings: &EvaluationSettings,
) -> Vec<SubgroupResult> {
    let level = settings.level;
    let method = IntervalMethod::Wilson;
    let mut results = Vec::new();
    for column in &table.subgroups {
        let names: Vec<&str> = column
            .codes
            .iter()
            .map(|&code| column.categories[code as usize].as_str())
            .collect();
        for (value, rows) in partition(names) {
            let scores: Vec<f64> = rows.iter().map(|&row| table.scores[row]).collect();
            let labels: Vec<bool> = rows.iter().map(|&row| table.labels[row]).collect();
            let n_positive = labels.iter().filter(|&&label| label).count();
            let n = rows.len();
            let mut result = SubgroupResult {
                column: column.name.clone(),
                value: value.to_owned(),
                n,
                n_positive,
                n_negative: n - n_positive,
                status: "insufficient_data",
                minimum: settings.minimum_subgroup_size,
                auc: None,
                sensitivity: None,
                specificity: None,
                ppv: None,
                npv: None,
                accuracy: None,
            };
            if n >= settings.minimum_subgroup_size {
                if let Ok(sample) = BinarySample::new(&scores, &labels) {
                    let sorted = SortedByClass::new(&sample);
                    let matrix = ConfusionMatrix::from_sorted(&sorted, threshold);
                    result.status = "ok";
                    result.auc = Some(delong(&sorted).interval(level).into());
                    result.sensitivity = interval_estimate(matrix.sensitivity(level, method));
                    result.specificity = interval_estimate(matrix.specificity(level, method));
                    result.ppv = interval_estimate(matrix.ppv(level, method));
                    result.npv = interval_estimate(matrix.npv(level, method));
                    result.accuracy = interval_estimate(matrix.accuracy(level, method));
                }
            }
            results.push(result);
        }
    }
    results
}

/// Computes every metric of `table` under `settings`.
pub fn evaluate(
    table: &CaseTable,
    settings: &EvaluationSettings,
) -> Result<Evaluation, EvaluateError> {
    let level = settings.level;
    let sample = BinarySample::new(&table.scores, &table.labels)?;
    let sorted = SortedByClass::new(&sample);
    let curve = RocCurve::new(&sorted);
    let threshold = settings.operating_point.threshold(&curve)?;
    let delong_auc = delong(&sorted);
    let auc_interval = delong_auc.interval(level);
    let matrix = ConfusionMatrix::from_sorted(&sorted, threshold);
    let method = IntervalMethod::Wilson;

    let (calibration, calibration_note) = match calibration(&sample, settings.calibration_bins) {
        Ok(result) => (Some(result), None),
        Err(error) => (
            None,
            Some(format!(
                "calibration was not computed because scores are not probabilities: {error}"
            )),
        ),
    };
    let comparison = match (&table.compare_column, &table.compare_scores) {
        (Some(column), Some(compare)) => {
            let paired =
                delong_paired(&table.scores, compare, &table.labels).map_err(|source| {
                    EvaluateError::Comparison {
                        column: column.clone(),
                        source,
                    }
                })?;
            let interval = paired.interval(level);
            Some(ComparisonResult {
                column: column.clone(),
                auc: paired.auc_b,
                auc_difference: paired.difference,
                z: paired.z,
                p_value: paired.p_value,
                ci_low: interval.low,
                ci_high: interval.high,
            })
        }
        _ => None,
    };

    Ok(Evaluation {
        source: table.source.clone(),
        score_column: table.score_column.clone(),
        label_column: table.label_column.clone(),
        positive_label: table.positive_label.clone(),
        n: sample.len(),
        n_positive: sample.positives(),
        n_negative: sample.negatives(),
        dropped_missing: table.dropped_missing,
        confidence_level: level.get(),
        threshold,
        threshold_rule: describe_rule(&settings.operating_point),
        threshold_source: settings.threshold_source,
        auc: AucResult {
            estimate: auc_interval.estimate,
            ci_low: auc_interval.low,
            ci_high: auc_interval.high,
            standard_error: delong_auc.standard_error(),
            method: "DeLong (Sun and Xu 2014)",
        },
        sensitivity: rate_result(matrix.sensitivity(level, method), &matrix),
        specificity: rate_result(matrix.specificity(level, method), &matrix),
        ppv: rate_result(matrix.ppv(level, method), &matrix),
        npv: rate_result(matrix.npv(level, method), &matrix),
        accuracy: rate_result(matrix.accuracy(level, method), &matrix),
        f1: matrix.f1().ok(),
        average_precision: PrecisionRecallCurve::new(&sorted).average_precision(),
        calibration,
        calibration_note,
        comparison,
        subgroups: subgroup_results(table, threshold, settings),
        protocol: None,
        criteria: Vec::new(),
        verdict: Verdict::NotAssessed,
        roc_plot: thin_roc(&curve, threshold, level),
    })
}

impl Evaluation {
    fn interval_value(&self, metric: IntervalMetric, field: IntervalField) -> Option<f64> {
        let triple = match metric {
            IntervalMetric::Auc => Some((self.auc.estimate, self.auc.ci_low, self.auc.ci_high)),
            IntervalMetric::Sensitivity => {
                self.sensitivity.map(|r| (r.estimate, r.ci_low, r.ci_high))
            }
            IntervalMetric::Specificity => {
                self.specificity.map(|r| (r.estimate, r.ci_low, r.ci_high))
            }
            IntervalMetric::Ppv => self.ppv.map(|r| (r.estimate, r.ci_low, r.ci_high)),
            IntervalMetric::Npv => self.npv.map(|r| (r.estimate, r.ci_low, r.ci_high)),
            IntervalMetric::Accuracy => self.accuracy.map(|r| (r.estimate, r.ci_low, r.ci_high)),
        }?;
        Some(pick(triple, field))
    }

    fn scalar_value(&self, metric: ScalarMetric) -> Result<f64, String> {
        let calibration = || {
            self.calibration.as_ref().ok_or_else(|| {
                self.calibration_note
                    .clone()
                    .unwrap_or_else(|| "calibration is unavailable".to_owned())
            })
        };
        let comparison = || {
            self.comparison
                .as_ref()
                .ok_or_else(|| "no comparison score was given (use --compare COLUMN)".to_owned())
        };
        let unfitted = |calibration: &CalibrationResult| {
            calibration
                .recalibration_note
                .clone()
                .unwrap_or_else(|| "logistic recalibration failed".to_owned())
        };
        match metric {
            ScalarMetric::F1 => self.f1.ok_or_else(|| "F1 is undefined".to_owned()),
            ScalarMetric::AveragePrecision => Ok(self.average_precision),
            ScalarMetric::Brier => Ok(calibration()?.brier),
            ScalarMetric::ExpectedCalibrationError => Ok(calibration()?.ece),
            ScalarMetric::CalibrationInTheLarge => Ok(calibration()?.calibration_in_the_large),
            ScalarMetric::CalibrationIntercept => {
                let c = calibration()?;
                c.intercept.ok_or_else(|| unfitted(c))
            }
            ScalarMetric::CalibrationSlope => {
                let c = calibration()?;
                c.slope.ok_or_else(|| unfitted(c))
            }
            ScalarMetric::ComparisonAucDifference => Ok(comparison()?.auc_difference),
            ScalarMetric::ComparisonCiLow => Ok(comparison()?.ci_low),
            ScalarMetric::ComparisonCiHigh => Ok(comparison()?.ci_high),
            ScalarMetric::ComparisonPValue => Ok(comparison()?.p_value),
        }
    }

    fn judge(&self, criterion: &Criterion) -> CriterionOutcome {
        let outcome = |passed: bool, actual: Option<f64>, detail: String| CriterionOutcome {
            criterion: criterion.text.clone(),
            passed,
            actual,
            detail,
        };
        let single = |value: Result<f64, String>| match value {
            Ok(actual) => {
                let passed = criterion.comparison.holds(actual, criterion.bound);
                outcome(passed, Some(actual), format!("{actual:.4}"))
            }
            Err(reason) => outcome(false, None, format!("not evaluable: {reason}")),
        };
        match &criterion.path {
            MetricPath::Interval { metric, field } => single(
                self.interval_value(*metric, *field)
                    .ok_or_else(|| format!("{} is undefined at this threshold", metric.name())),
            ),
            MetricPath::Scalar(metric) => single(self.scalar_value(*metric)),
            MetricPath::Subgroup {
                column,
                selector,
                metric,
                field,
            } => {
                let groups: Vec<&SubgroupResult> = self
                    .subgroups
                    .iter()
                    .filter(|group| &group.column == column)
                    .filter(|group| match selector {
                        SubgroupSelector::Every => true,
                        SubgroupSelector::Value(value) => &group.value == value,
                    })
                    .collect();
                if groups.is_empty() {
                    return outcome(
                        false,
                        None,
                        format!(
                            "not evaluable: no subgroup {column}={} in the data",
                            match selector {
                                SubgroupSelector::Every => "*",
                                SubgroupSelector::Value(value) => value,
                            }
                        ),
                    );
                }
                let mut failures = Vec::new();
                let mut worst: Option<f64> = None;
                for group in &groups {
                    let estimate = match metric {
                        IntervalMetric::Auc => group.auc,
                        IntervalMetric::Sensitivity => group.sensitivity,
                        IntervalMetric::Specificity => group.specificity,
                        IntervalMetric::Ppv => group.ppv,
                        IntervalMetric::Npv => group.npv,
                        IntervalMetric::Accuracy => group.accuracy,
                    };
                    match estimate {
                        Some(estimate) => {
                            let value = pick((estimate.estimate, estimate.ci_low, estimate.ci_high), *field);
                            let holds = criterion.comparison.holds(value, criterion.bound);
                            if !holds {
                                failures.push(format!("{}={}: {value:.4}", group.column, group.value));
                            }
                            let is_worse = |current: f64| match criterion.comparison {
                                crate::protocol::Comparison::AtLeast | crate::protocol::Comparison::Above => {
                                    value < current
                                }
                                _ => value > current,
                            };
                            if worst.is_none_or(is_worse) {
                                worst = Some(value);
                            }
                        }
                        None => failures.push(format!(
                            "{}={}: insufficient data (n = {}, {} positive; minimum {} with both classes)",
                            group.column, group.value, group.n, group.n_positive, group.minimum
                        )),
                    }
                }
                let passed = failures.is_empty();
                let detail = if passed {
                    format!(
                        "all {} subgroups pass; worst {:.4}",
                        groups.len(),
                        worst.unwrap_or(f64::NAN)
                    )
                } else {
                    format!("failing: {}", failures.join("; "))
                };
                outcome(passed, worst, detail)
            }
        }
    }

    /// Judges the protocol's criteria and records the verdict.
    pub fn assess(&mut self, protocol: &Protocol) {
        self.protocol = Some(protocol.metadata.clone());
        self.criteria = protocol
            .criteria
            .iter()
            .map(|criterion| self.judge(criterion))
            .collect();
        self.verdict = if self.criteria.is_empty() {
            Verdict::NotAssessed
        } else if self.criteria.iter().all(|outcome| outcome.passed) {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
    }
}

fn pick((estimate, low, high): (f64, f64, f64), field: IntervalField) -> f64 {
    match field {
        IntervalField::Estimate => estimate,
        IntervalField::CiLow => low,
        IntervalField::CiHigh => high,
    }
}
