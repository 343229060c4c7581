//! Computing every validation metric of a case table, and judging the
//! protocol's acceptance criteria against them.
//!
//! [`Evaluation`] serialises to the public JSON contract of
//! `vigil evaluate --json` and `result.json`; its key names are stable.
//!
//! Degenerate results are flagged, never silently numbers: an AUC interval
//! whose DeLong variance is undefined or zero is null with a `note`, as are
//! the test and interval of a comparison; a subgroup metric below the
//! subgroup's size or class guard is null with the guard named in `notes`;
//! and a criterion on any null value is "not evaluable", which fails.

use std::borrow::Cow;

use serde::Serialize;
use vigil_stats::calibration::{
    ReliabilityBin, brier_score, calibration_in_the_large, expected_calibration_error,
    logistic_recalibration, reliability_bins,
};
use vigil_stats::confusion::{ConfusionMatrix, IntervalMethod, RateEstimate};
use vigil_stats::operating_point::OperatingPointRule;
use vigil_stats::precision_recall::PrecisionRecallCurve;
use vigil_stats::roc::{RocCurve, SortedByClass, delong, paired_auc_difference};
use vigil_stats::subgroup::{Guarded, partition};
use vigil_stats::{BinarySample, ConfidenceLevel, StatsError};

use crate::cases::{CaseTable, MISSING_CATEGORY};
use crate::protocol::{
    Comparison, Criterion, IntervalField, IntervalMetric, MetricPath, Protocol, ProtocolMetadata,
    ScalarMetric, SubgroupSelector,
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
    /// A subgroup metric that depends on a class (sensitivity on the
    /// positives, specificity on the negatives, the others on both) needs at
    /// least this many cases of that class.
    pub minimum_class_size: usize,
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
            minimum_class_size: 5,
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

/// An estimate with its confidence interval; the interval is null, with a
/// note saying why, where it is undefined.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalEstimate {
    pub estimate: f64,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl From<vigil_stats::Interval> for IntervalEstimate {
    fn from(interval: vigil_stats::Interval) -> Self {
        IntervalEstimate {
            estimate: interval.estimate,
            ci_low: Some(interval.low),
            ci_high: Some(interval.high),
            note: None,
        }
    }
}

/// AUC with its DeLong interval; the standard error and interval are null,
/// with a note, when the DeLong variance is undefined (fewer than two cases
/// in a class) or zero (perfect separation or constant scores).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AucResult {
    pub estimate: f64,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub standard_error: Option<f64>,
    pub method: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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

/// Paired DeLong comparison with a second score, on the cases where both
/// scores are present.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComparisonResult {
    pub column: String,
    /// Cases in the comparison: those of the primary analysis whose
    /// comparison score is present.
    pub n: usize,
    /// Cases of the primary analysis left out of the comparison because
    /// their comparison score is missing (only with `--drop-missing`).
    pub dropped_missing: usize,
    /// AUC of the comparison score on the compared cases.
    pub auc: f64,
    /// AUC of the main score minus AUC of the comparison score, on the
    /// compared cases.
    pub auc_difference: f64,
    /// Test statistic and p-value; null (with a note) when the DeLong
    /// variance is undefined, or zero while the AUCs differ.
    pub z: Option<f64>,
    pub p_value: Option<f64>,
    /// Interval of the difference; null (with a note) when the DeLong
    /// variance is undefined or zero.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Metrics of one subgroup.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubgroupResult {
    pub column: String,
    /// The value, or `(missing)` for the group of missing values.
    pub value: String,
    /// True for the group of rows whose value is missing. It is reported
    /// but not judged by `*` criteria, and never merges with a real value
    /// spelled `(missing)`.
    pub missing: bool,
    pub n: usize,
    pub n_positive: usize,
    pub n_negative: usize,
    /// `ok` when every metric passed the guards, `insufficient_data` when
    /// none did, and `partial` when the class guard withheld some; the
    /// withheld metrics are null and `notes` says which guard applied.
    pub status: &'static str,
    /// Minimum subgroup size.
    pub minimum: usize,
    /// Minimum number of cases of a class for a metric depending on it.
    pub minimum_per_class: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub auc: Option<IntervalEstimate>,
    pub sensitivity: Option<IntervalEstimate>,
    pub specificity: Option<IntervalEstimate>,
    pub ppv: Option<IntervalEstimate>,
    pub npv: Option<IntervalEstimate>,
    pub accuracy: Option<IntervalEstimate>,
}

/// Which classes a subgroup metric depends on: (positives, negatives).
fn classes_needed(metric: IntervalMetric) -> (bool, bool) {
    match metric {
        IntervalMetric::Sensitivity => (true, false),
        IntervalMetric::Specificity => (false, true),
        // The AUC compares the classes; PPV, NPV and accuracy mix both
        // classes' rates through the prevalence.
        IntervalMetric::Auc
        | IntervalMetric::Ppv
        | IntervalMetric::Npv
        | IntervalMetric::Accuracy => (true, true),
    }
}

impl SubgroupResult {
    /// The guards a metric of this subgroup must pass: the subgroup size,
    /// then the number of cases of each class the metric depends on. The
    /// result names the first guard that failed, if any.
    pub fn guard(&self, metric: IntervalMetric) -> Guarded<()> {
        let (needs_positives, needs_negatives) = classes_needed(metric);
        let class_guard = |needed: bool, what: &'static str, n: usize| {
            if needed {
                Guarded::when_at_least(what, n, self.minimum_per_class, || ())
            } else {
                Guarded::Estimate(())
            }
        };
        Guarded::when_at_least("cases", self.n, self.minimum, || ())
            .and_then(|()| class_guard(needs_positives, "positive cases", self.n_positive))
            .and_then(|()| class_guard(needs_negatives, "negative cases", self.n_negative))
    }

    /// The metric's estimate, if it was reported.
    pub fn metric(&self, metric: IntervalMetric) -> Option<&IntervalEstimate> {
        match metric {
            IntervalMetric::Auc => self.auc.as_ref(),
            IntervalMetric::Sensitivity => self.sensitivity.as_ref(),
            IntervalMetric::Specificity => self.specificity.as_ref(),
            IntervalMetric::Ppv => self.ppv.as_ref(),
            IntervalMetric::Npv => self.npv.as_ref(),
            IntervalMetric::Accuracy => self.accuracy.as_ref(),
        }
    }

    /// Why the metric is null: the guard that withheld it, or an undefined
    /// rate (a zero denominator at the threshold).
    pub fn why_missing(&self, metric: IntervalMetric) -> String {
        match self.guard(metric) {
            Guarded::InsufficientData { what, n, minimum } => describe_guard(what, n, minimum),
            Guarded::Estimate(()) => format!(
                "{} is undefined at this threshold (its denominator is zero)",
                metric.name()
            ),
        }
    }
}

/// For example "insufficient data: 3 positive cases, below the minimum of 5
/// per class".
fn describe_guard(what: &'static str, n: usize, minimum: usize) -> String {
    if what == "cases" {
        format!("insufficient data: {n} cases, below the minimum subgroup size of {minimum}")
    } else {
        format!("insufficient data: {n} {what}, below the minimum of {minimum} per class")
    }
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
    /// The criterion's operator and bound, so that `actual` can be shown
    /// on the correct side of the bound (see [`Comparison::display_value`]).
    pub operator: Comparison,
    pub bound: f64,
    pub detail: String,
}

impl CriterionOutcome {
    /// `actual` as text that is on the same side of the bound as the exact
    /// value, or `None` when the criterion was not evaluable.
    pub fn actual_text(&self) -> Option<String> {
        self.actual
            .map(|actual| self.operator.display_value(actual, self.bound))
    }
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
    /// True when a rule (Youden's J or a target rate) chose the threshold
    /// on these same data, so the rates at it are optimistically biased.
    pub threshold_chosen_on_validation_data: bool,
    /// Why the threshold is where it is, when that needs saying (a target
    /// specificity no observed score reaches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold_note: Option<String>,
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

impl Evaluation {
    /// The warning to show when the threshold was chosen on the validation
    /// data themselves.
    pub fn threshold_warning(&self) -> Option<String> {
        self.threshold_chosen_on_validation_data.then(|| {
            format!(
                "the threshold was chosen on these validation data ({} rule), so sensitivity, specificity and the other rates at it are optimistically biased; fix the threshold in the protocol before the data are seen",
                self.threshold_rule
            )
        })
    }
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

/// The AUC of a sample with its DeLong interval, or the estimate alone with
/// a note when the variance cannot support an interval.
fn auc_estimate(sorted: &SortedByClass, level: ConfidenceLevel) -> (IntervalEstimate, Option<f64>) {
    let result = delong(sorted);
    match result.checked_interval(level) {
        Ok(interval) => (interval.into(), Some(result.standard_error())),
        Err(error) => (
            IntervalEstimate {
                estimate: result.auc,
                ci_low: None,
                ci_high: None,
                note: Some(error.to_string()),
            },
            None,
        ),
    }
}

fn subgroup_result(
    table: &CaseTable,
    column: &str,
    value: &str,
    missing: bool,
    rows: &[usize],
    threshold: f64,
    settings: &EvaluationSettings,
) -> SubgroupResult {
    let level = settings.level;
    let method = IntervalMethod::Wilson;
    let mut matrix = ConfusionMatrix::default();
    for &row in rows {
        match (table.scores[row] >= threshold, table.labels[row]) {
            (true, true) => matrix.true_positives += 1,
            (true, false) => matrix.false_positives += 1,
            (false, false) => matrix.true_negatives += 1,
            (false, true) => matrix.false_negatives += 1,
        }
    }
    let n_positive = (matrix.true_positives + matrix.false_negatives) as usize;
    let mut result = SubgroupResult {
        column: column.to_owned(),
        value: value.to_owned(),
        missing,
        n: rows.len(),
        n_positive,
        n_negative: rows.len() - n_positive,
        status: "ok",
        minimum: settings.minimum_subgroup_size,
        // A metric always needs at least one case of a class it depends on,
        // whatever the setting.
        minimum_per_class: settings.minimum_class_size.max(1),
        notes: Vec::new(),
        auc: None,
        sensitivity: None,
        specificity: None,
        ppv: None,
        npv: None,
        accuracy: None,
    };
    let rate = |rate: Result<RateEstimate, StatsError>| -> Option<IntervalEstimate> {
        rate.ok().map(|rate| rate.interval.into())
    };
    // Withheld metrics grouped by the guard that withheld them: (what, n,
    // minimum) of the guard, and the metric names.
    type Guard = (&'static str, usize, usize);
    let mut withheld: Vec<(Guard, Vec<&'static str>)> = Vec::new();
    for metric in IntervalMetric::ALL {
        let estimate = match result.guard(metric) {
            Guarded::InsufficientData { what, n, minimum } => {
                match withheld
                    .iter_mut()
                    .find(|(guard, _)| *guard == (what, n, minimum))
                {
                    Some((_, metrics)) => metrics.push(metric.name()),
                    None => withheld.push(((what, n, minimum), vec![metric.name()])),
                }
                None
            }
            Guarded::Estimate(()) => match metric {
                IntervalMetric::Auc => {
                    let scores: Vec<f64> = rows.iter().map(|&row| table.scores[row]).collect();
                    let labels: Vec<bool> = rows.iter().map(|&row| table.labels[row]).collect();
                    // The guard keeps at least one case of each class here
                    // and the case table holds finite scores only, so the
                    // sample is valid; were it not, the AUC would be null
                    // with the reason in the notes.
                    match BinarySample::new(&scores, &labels) {
                        Ok(sample) => Some(auc_estimate(&SortedByClass::new(&sample), level).0),
                        Err(error) => {
                            result.notes.push(format!("auc: {error}"));
                            None
                        }
                    }
                }
                IntervalMetric::Sensitivity => rate(matrix.sensitivity(level, method)),
                IntervalMetric::Specificity => rate(matrix.specificity(level, method)),
                IntervalMetric::Ppv => rate(matrix.ppv(level, method)),
                IntervalMetric::Npv => rate(matrix.npv(level, method)),
                IntervalMetric::Accuracy => rate(matrix.accuracy(level, method)),
            },
        };
        match metric {
            IntervalMetric::Auc => result.auc = estimate,
            IntervalMetric::Sensitivity => result.sensitivity = estimate,
            IntervalMetric::Specificity => result.specificity = estimate,
            IntervalMetric::Ppv => result.ppv = estimate,
            IntervalMetric::Npv => result.npv = estimate,
            IntervalMetric::Accuracy => result.accuracy = estimate,
        }
    }
    let withheld_count: usize = withheld.iter().map(|(_, metrics)| metrics.len()).sum();
    result.status = if withheld_count == 0 {
        "ok"
    } else if withheld_count == IntervalMetric::ALL.len() {
        "insufficient_data"
    } else {
        "partial"
    };
    result
        .notes
        .extend(withheld.into_iter().map(|((what, n, minimum), metrics)| {
            format!(
                "{}; not reported: {}",
                describe_guard(what, n, minimum),
                metrics.join(", ")
            )
        }));
    result
}

fn subgroup_results(
    table: &CaseTable,
    threshold: f64,
    settings: &EvaluationSettings,
) -> Vec<SubgroupResult> {
    let mut results = Vec::new();
    for column in &table.subgroups {
        // Keyed by (missing, value): the missing group sorts last and never
        // merges with a real value spelled "(missing)".
        let keys = column.codes.iter().map(|&code| {
            match column
                .categories
                .get(code as usize)
                .and_then(Option::as_deref)
            {
                Some(value) => (false, value),
                None => (true, MISSING_CATEGORY),
            }
        });
        for ((missing, value), rows) in partition(keys) {
            results.push(subgroup_result(
                table,
                &column.name,
                value,
                missing,
                &rows,
                threshold,
                settings,
            ));
        }
    }
    results
}

/// The paired comparison on the cases whose comparison score is present.
fn comparison_result(
    table: &CaseTable,
    column: &str,
    compare: &[Option<f64>],
    level: ConfidenceLevel,
) -> Result<ComparisonResult, EvaluateError> {
    let scores_b: Vec<f64> = compare.iter().flatten().copied().collect();
    let dropped_missing = compare.len() - scores_b.len();
    let (scores_a, labels): (Cow<'_, [f64]>, Cow<'_, [bool]>) = if dropped_missing == 0 {
        (Cow::Borrowed(&table.scores), Cow::Borrowed(&table.labels))
    } else {
        let complete = || {
            compare
                .iter()
                .enumerate()
                .filter(|(_, score)| score.is_some())
                .map(|(row, _)| row)
        };
        (
            Cow::Owned(complete().map(|row| table.scores[row]).collect()),
            Cow::Owned(complete().map(|row| table.labels[row]).collect()),
        )
    };
    let difference = paired_auc_difference(&scores_a, &scores_b, &labels).map_err(|source| {
        EvaluateError::Comparison {
            column: column.to_owned(),
            source,
        }
    })?;
    let mut notes: Vec<String> = Vec::new();
    let (z, p_value) = match difference.checked_test() {
        Ok(test) => (Some(test.z), Some(test.p_value)),
        Err(error) => {
            notes.push(error.to_string());
            (None, None)
        }
    };
    let (ci_low, ci_high) = match difference.checked_interval(level) {
        Ok(interval) => (Some(interval.low), Some(interval.high)),
        Err(error) => {
            notes.push(error.to_string());
            (None, None)
        }
    };
    Ok(ComparisonResult {
        column: column.to_owned(),
        n: scores_b.len(),
        dropped_missing,
        auc: difference.auc_b,
        auc_difference: difference.difference,
        z,
        p_value,
        ci_low,
        ci_high,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    })
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
    let chosen = settings.operating_point.choose(&curve)?;
    let threshold = chosen.threshold;
    let threshold_note = chosen.target_unreachable.then(|| {
        let highest = curve.points.first().map_or(threshold, |point| point.threshold);
        format!(
            "no observed score reaches the target specificity, so the threshold is just above the highest score ({highest}): no case is called positive (sensitivity 0, specificity 1)"
        )
    });
    let (auc, standard_error) = auc_estimate(&sorted, level);
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
        (Some(column), Some(compare)) => Some(comparison_result(table, column, compare, level)?),
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
        threshold_chosen_on_validation_data: !matches!(
            settings.operating_point,
            OperatingPointRule::Fixed(_)
        ),
        threshold_note,
        auc: AucResult {
            estimate: auc.estimate,
            ci_low: auc.ci_low,
            ci_high: auc.ci_high,
            standard_error,
            method: "DeLong (Sun and Xu 2014)",
            note: auc.note,
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
    fn interval_value(&self, metric: IntervalMetric, field: IntervalField) -> Result<f64, String> {
        let undefined = || format!("{} is undefined at this threshold", metric.name());
        let rate = |rate: Option<RateResult>| {
            rate.map(|r| (r.estimate, Some(r.ci_low), Some(r.ci_high)))
                .ok_or_else(undefined)
        };
        let (estimate, low, high) = match metric {
            IntervalMetric::Auc => (self.auc.estimate, self.auc.ci_low, self.auc.ci_high),
            IntervalMetric::Sensitivity => rate(self.sensitivity)?,
            IntervalMetric::Specificity => rate(self.specificity)?,
            IntervalMetric::Ppv => rate(self.ppv)?,
            IntervalMetric::Npv => rate(self.npv)?,
            IntervalMetric::Accuracy => rate(self.accuracy)?,
        };
        let interval_note = || {
            self.auc
                .note
                .clone()
                .unwrap_or_else(|| "the interval is undefined".to_owned())
        };
        match field {
            IntervalField::Estimate => Ok(estimate),
            IntervalField::CiLow => low.ok_or_else(interval_note),
            IntervalField::CiHigh => high.ok_or_else(interval_note),
        }
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
        let comparison_field = |value: fn(&ComparisonResult) -> Option<f64>| {
            let comparison = comparison()?;
            value(comparison).ok_or_else(|| {
                comparison
                    .note
                    .clone()
                    .unwrap_or_else(|| "the comparison is undefined".to_owned())
            })
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
            ScalarMetric::ComparisonCiLow => comparison_field(|c| c.ci_low),
            ScalarMetric::ComparisonCiHigh => comparison_field(|c| c.ci_high),
            ScalarMetric::ComparisonPValue => comparison_field(|c| c.p_value),
        }
    }

    fn judge(&self, criterion: &Criterion) -> CriterionOutcome {
        let show = |value: f64| criterion.comparison.display_value(value, criterion.bound);
        let outcome = |passed: bool, actual: Option<f64>, detail: String| CriterionOutcome {
            criterion: criterion.text.clone(),
            passed,
            actual,
            operator: criterion.comparison,
            bound: criterion.bound,
            detail,
        };
        let single = |value: Result<f64, String>| match value {
            Ok(actual) => {
                let passed = criterion.comparison.holds(actual, criterion.bound);
                outcome(passed, Some(actual), show(actual))
            }
            Err(reason) => outcome(false, None, format!("not evaluable: {reason}")),
        };
        match &criterion.path {
            MetricPath::Interval { metric, field } => single(self.interval_value(*metric, *field)),
            MetricPath::Scalar(metric) => single(self.scalar_value(*metric)),
            MetricPath::Subgroup {
                column,
                selector,
                metric,
                field,
            } => {
                // The group of missing values is reported but never judged:
                // it is not a subgroup the protocol can have meant.
                let groups: Vec<&SubgroupResult> = self
                    .subgroups
                    .iter()
                    .filter(|group| &group.column == column && !group.missing)
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
                    let value = match group.metric(*metric) {
                        None => Err(group.why_missing(*metric)),
                        Some(estimate) => match field {
                            IntervalField::Estimate => Ok(estimate.estimate),
                            IntervalField::CiLow => {
                                estimate.ci_low.ok_or_else(|| interval_undefined(estimate))
                            }
                            IntervalField::CiHigh => {
                                estimate.ci_high.ok_or_else(|| interval_undefined(estimate))
                            }
                        },
                    };
                    match value {
                        Ok(value) => {
                            if !criterion.comparison.holds(value, criterion.bound) {
                                failures.push(format!(
                                    "{}={}: {}",
                                    group.column,
                                    group.value,
                                    show(value)
                                ));
                            }
                            let is_worse = |current: f64| match criterion.comparison {
                                Comparison::AtLeast | Comparison::Above => value < current,
                                Comparison::AtMost | Comparison::Below => value > current,
                            };
                            if worst.is_none_or(is_worse) {
                                worst = Some(value);
                            }
                        }
                        Err(reason) => failures.push(format!(
                            "{}={}: not evaluable: {reason} (n = {}, {} positive, {} negative)",
                            group.column, group.value, group.n, group.n_positive, group.n_negative
                        )),
                    }
                }
                let passed = failures.is_empty();
                let mut detail = match (passed, worst) {
                    (true, Some(worst)) => {
                        format!("all {} subgroups pass; worst {}", groups.len(), show(worst))
                    }
                    _ => format!("failing: {}", failures.join("; ")),
                };
                let has_missing_group = self
                    .subgroups
                    .iter()
                    .any(|group| &group.column == column && group.missing);
                if matches!(selector, SubgroupSelector::Every) && has_missing_group {
                    detail.push_str(&format!("; the {MISSING_CATEGORY} group is not judged"));
                }
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

fn interval_undefined(estimate: &IntervalEstimate) -> String {
    estimate
        .note
        .clone()
        .unwrap_or_else(|| "the interval is undefined".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::CategoricalColumn;

    fn table(scores: Vec<f64>, labels: Vec<bool>) -> CaseTable {
        CaseTable {
            source: "cases.csv".to_owned(),
            score_column: "score".to_owned(),
            label_column: "label".to_owned(),
            scores,
            labels,
            positive_label: "1".to_owned(),
            negative_label: "0".to_owned(),
            compare_column: None,
            compare_scores: None,
            subgroups: Vec::new(),
            dropped_missing: 0,
        }
    }

    fn fixed(threshold: f64) -> EvaluationSettings {
        EvaluationSettings {
            operating_point: OperatingPointRule::Fixed(threshold),
            threshold_source: ThresholdSource::CommandLine,
            ..EvaluationSettings::default()
        }
    }

    fn protocol(criteria: &[&str]) -> Protocol {
        let quoted: Vec<String> = criteria
            .iter()
            .map(|criterion| format!("'{criterion}'"))
            .collect();
        let text = format!(
            "[operating_point]\nthreshold = 0.5\n[acceptance]\ncriteria = [{}]\n",
            quoted.join(", ")
        );
        Protocol::parse(&text, "protocol.toml").expect("valid protocol")
    }

    /// 40 cases with overlapping scores, so every variance is positive.
    fn overlapping() -> (Vec<f64>, Vec<bool>) {
        let labels: Vec<bool> = (0..40).map(|i| i % 2 == 0).collect();
        let scores: Vec<f64> = (0..40)
            .map(|i| f64::from((i * 7) % 40) / 40.0 + if i % 2 == 0 { 0.2 } else { 0.0 })
            .collect();
        (scores, labels)
    }

    #[test]
    fn perfect_separation_keeps_the_auc_but_gives_no_interval() {
        let table = table(
            vec![0.9, 0.8, 0.7, 0.3, 0.2, 0.1],
            vec![true, true, true, false, false, false],
        );
        let mut evaluation = evaluate(&table, &fixed(0.5)).expect("evaluation");
        assert_eq!(evaluation.auc.estimate, 1.0);
        assert_eq!(
            (evaluation.auc.ci_low, evaluation.auc.ci_high),
            (None, None)
        );
        assert_eq!(evaluation.auc.standard_error, None);
        let note = evaluation.auc.note.clone().expect("a note");
        assert!(note.contains("the variance is zero"), "{note}");
        evaluation.assess(&protocol(&["auc.estimate >= 0.9", "auc.ci_low >= 0.5"]));
        assert!(evaluation.criteria[0].passed);
        assert!(!evaluation.criteria[1].passed);
        assert_eq!(evaluation.criteria[1].actual, None);
        assert!(
            evaluation.criteria[1].detail.starts_with("not evaluable: "),
            "{}",
            evaluation.criteria[1].detail
        );
        assert_eq!(evaluation.verdict, Verdict::Fail);
        let json = serde_json::to_value(&evaluation).expect("JSON");
        assert_eq!(json["auc"]["ci_low"], serde_json::Value::Null);
        assert!(json["auc"]["note"].is_string());
    }

    #[test]
    fn a_degenerate_comparison_keeps_the_primary_result() {
        // The main score separates perfectly and the comparison score is
        // constant: the AUCs differ by one half with a variance of zero.
        let mut table = table(
            vec![0.9, 0.8, 0.7, 0.3, 0.2, 0.1],
            vec![true, true, true, false, false, false],
        );
        table.compare_column = Some("old".to_owned());
        table.compare_scores = Some(vec![Some(0.5); 6]);
        let mut evaluation = evaluate(&table, &fixed(0.5)).expect("evaluation");
        assert_eq!(evaluation.sensitivity.map(|rate| rate.estimate), Some(1.0));
        let comparison = evaluation.comparison.clone().expect("comparison");
        assert_eq!(comparison.auc, 0.5);
        assert_eq!(comparison.auc_difference, 0.5);
        assert_eq!(
            (
                comparison.z,
                comparison.p_value,
                comparison.ci_low,
                comparison.ci_high
            ),
            (None, None, None, None)
        );
        let note = comparison.note.expect("a note");
        assert!(note.contains("variance"), "{note}");
        evaluation.assess(&protocol(&[
            "comparison.ci_low > 0",
            "comparison.auc_difference > 0",
        ]));
        assert!(!evaluation.criteria[0].passed);
        assert!(evaluation.criteria[0].detail.starts_with("not evaluable"));
        assert!(evaluation.criteria[1].passed);
    }

    #[test]
    fn the_comparison_uses_complete_pairs_and_counts_the_rest() {
        let (scores, labels) = overlapping();
        let mut table = table(scores.clone(), labels.clone());
        let compare: Vec<Option<f64>> = scores
            .iter()
            .enumerate()
            .map(|(row, &score)| (row % 10 != 3).then_some(1.0 - score * 0.5 + row as f64 * 0.01))
            .collect();
        table.compare_column = Some("old".to_owned());
        table.compare_scores = Some(compare.clone());
        let evaluation = evaluate(&table, &fixed(0.5)).expect("evaluation");
        // The primary analysis keeps every case.
        assert_eq!(evaluation.n, 40);
        let comparison = evaluation.comparison.expect("comparison");
        assert_eq!((comparison.n, comparison.dropped_missing), (36, 4));
        let rows: Vec<usize> = (0..40).filter(|row| row % 10 != 3).collect();
        let a: Vec<f64> = rows.iter().map(|&row| scores[row]).collect();
        let b: Vec<f64> = rows.iter().filter_map(|&row| compare[row]).collect();
        let l: Vec<bool> = rows.iter().map(|&row| labels[row]).collect();
        let expected = vigil_stats::roc::delong_paired(&a, &b, &l).expect("paired");
        assert_eq!(comparison.auc, expected.auc_b);
        assert_eq!(comparison.auc_difference, expected.difference);
        assert_eq!(comparison.z, Some(expected.z));
    }

    fn with_subgroup(
        mut table: CaseTable,
        categories: Vec<Option<String>>,
        codes: Vec<u32>,
    ) -> CaseTable {
        table.subgroups = vec![CategoricalColumn {
            name: "site".to_owned(),
            categories,
            codes,
        }];
        table
    }

    #[test]
    fn the_class_guard_withholds_only_the_metrics_that_need_the_class() {
        // Subgroup "a": 40 cases of which 3 positive; subgroup "b": 40
        // cases, 20 of each class.
        let mut scores = Vec::new();
        let mut labels = Vec::new();
        let mut codes = Vec::new();
        for i in 0..40 {
            labels.push(i < 3);
            scores.push(if i < 3 { 0.9 } else { f64::from(i) / 100.0 });
            codes.push(0);
        }
        for i in 0..40 {
            labels.push(i % 2 == 0);
            scores.push(f64::from((i * 7) % 40) / 40.0);
            codes.push(1);
        }
        let table = with_subgroup(
            table(scores, labels),
            vec![Some("a".to_owned()), Some("b".to_owned())],
            codes,
        );
        let mut evaluation = evaluate(&table, &fixed(0.5)).expect("evaluation");
        let a = &evaluation.subgroups[0];
        assert_eq!((a.value.as_str(), a.n, a.n_positive), ("a", 40, 3));
        assert_eq!(a.status, "partial");
        assert!(a.specificity.is_some());
        for metric in [
            IntervalMetric::Auc,
            IntervalMetric::Sensitivity,
            IntervalMetric::Ppv,
            IntervalMetric::Npv,
            IntervalMetric::Accuracy,
        ] {
            assert!(a.metric(metric).is_none(), "{}", metric.name());
        }
        assert_eq!(
            a.notes,
            vec![
                "insufficient data: 3 positive cases, below the minimum of 5 per class; not reported: auc, sensitivity, ppv, npv, accuracy"
                    .to_owned()
            ]
        );
        assert_eq!(evaluation.subgroups[1].status, "ok");
        evaluation.assess(&protocol(&[
            "subgroup.site.*.sensitivity.estimate >= 0",
            "subgroup.site.*.specificity.estimate >= 0",
        ]));
        assert!(!evaluation.criteria[0].passed);
        assert!(
            evaluation.criteria[0]
                .detail
                .contains("site=a: not evaluable: insufficient data: 3 positive cases, below the minimum of 5 per class"),
            "{}",
            evaluation.criteria[0].detail
        );
        assert!(
            evaluation.criteria[1].passed,
            "{}",
            evaluation.criteria[1].detail
        );
    }

    #[test]
    fn the_missing_group_is_reported_but_not_judged() {
        // Three groups of 40: the real value "(missing)", a real value "x",
        // and missing cells, whose sensitivity is poor.
        let (scores, labels) = overlapping();
        let mut all_scores = Vec::new();
        let mut all_labels = Vec::new();
        let mut codes = Vec::new();
        for code in 0..3_u32 {
            for (index, (&score, &label)) in scores.iter().zip(&labels).enumerate() {
                all_labels.push(label);
                all_scores.push(if code == 2 && label {
                    0.1 + index as f64 * 0.001
                } else {
                    score
                });
                codes.push(code);
            }
        }
        let table = with_subgroup(
            table(all_scores, all_labels),
            vec![Some("(missing)".to_owned()), Some("x".to_owned()), None],
            codes,
        );
        let mut evaluation = evaluate(&table, &fixed(0.5)).expect("evaluation");
        let groups: Vec<(&str, bool, usize)> = evaluation
            .subgroups
            .iter()
            .map(|group| (group.value.as_str(), group.missing, group.n))
            .collect();
        assert_eq!(
            groups,
            vec![
                ("(missing)", false, 40),
                ("x", false, 40),
                ("(missing)", true, 40)
            ]
        );
        assert_eq!(
            evaluation.subgroups[2]
                .sensitivity
                .as_ref()
                .map(|s| s.estimate),
            Some(0.0)
        );
        evaluation.assess(&protocol(&[
            "subgroup.site.*.sensitivity.estimate >= 0.5",
            "subgroup.site.\"(missing)\".sensitivity.estimate >= 0.5",
        ]));
        assert!(
            evaluation.criteria[0].passed,
            "{}",
            evaluation.criteria[0].detail
        );
        assert!(
            evaluation.criteria[0]
                .detail
                .ends_with("; the (missing) group is not judged"),
            "{}",
            evaluation.criteria[0].detail
        );
        // The quoted value names the real "(missing)" group only.
        assert!(
            evaluation.criteria[1].passed,
            "{}",
            evaluation.criteria[1].detail
        );
    }

    #[test]
    fn an_unreachable_target_specificity_calls_nothing_positive() {
        let table = table(
            vec![0.95, 0.9, 0.8, 0.7, 0.3, 0.2, 0.1],
            vec![false, true, true, true, false, false, false],
        );
        let settings = EvaluationSettings {
            operating_point: OperatingPointRule::TargetSpecificity(0.99),
            threshold_source: ThresholdSource::Protocol,
            ..EvaluationSettings::default()
        };
        let mut evaluation = evaluate(&table, &settings).expect("evaluation");
        assert!(evaluation.threshold > 0.95);
        assert_eq!(evaluation.sensitivity.map(|rate| rate.estimate), Some(0.0));
        assert_eq!(evaluation.specificity.map(|rate| rate.estimate), Some(1.0));
        assert_eq!(evaluation.ppv, None);
        let note = evaluation.threshold_note.clone().expect("a note");
        assert!(
            note.contains("no observed score reaches the target specificity"),
            "{note}"
        );
        assert!(evaluation.threshold_chosen_on_validation_data);
        evaluation.assess(&protocol(&["sensitivity.estimate >= 0.8"]));
        assert_eq!(evaluation.verdict, Verdict::Fail);
    }

    #[test]
    fn a_threshold_chosen_on_the_data_is_flagged() {
        let (scores, labels) = overlapping();
        let table = table(scores, labels);
        let chosen = evaluate(&table, &EvaluationSettings::default()).expect("evaluation");
        assert!(chosen.threshold_chosen_on_validation_data);
        let warning = chosen.threshold_warning().expect("a warning");
        assert!(warning.contains("optimistically biased"), "{warning}");
        let fixed = evaluate(&table, &fixed(0.5)).expect("evaluation");
        assert!(!fixed.threshold_chosen_on_validation_data);
        assert_eq!(fixed.threshold_warning(), None);
    }

    #[test]
    fn a_value_just_below_the_bound_is_not_printed_as_meeting_it() {
        let (scores, labels) = overlapping();
        let mut evaluation = evaluate(&table(scores, labels), &fixed(0.5)).expect("evaluation");
        if let Some(rate) = evaluation.sensitivity.as_mut() {
            rate.estimate = 0.94996;
        }
        evaluation.assess(&protocol(&["sensitivity.estimate >= 0.95"]));
        let outcome = &evaluation.criteria[0];
        assert!(!outcome.passed);
        assert_eq!(outcome.detail, "0.94996");
        assert_eq!(outcome.actual_text().as_deref(), Some("0.94996"));
    }
}
