//! Known-answer tests of the classification statistics against
//! scikit-learn, SciPy and R (pROC, rms); fixtures from
//! `tests/reference/generate.py`.

mod common;

use common::{check, check_all, fixtures, number, numbers, section};
use serde_json::Value;
use vigil_stats::calibration::{
    brier_score, calibration_in_the_large, expected_calibration_error, logistic_recalibration,
};
use vigil_stats::confusion::{ConfusionMatrix, IntervalMethod};
use vigil_stats::interval::Proportion;
use vigil_stats::operating_point::OperatingPointRule;
use vigil_stats::precision_recall::PrecisionRecallCurve;
use vigil_stats::roc::{RocCurve, SortedByClass, delong, delong_paired};
use vigil_stats::{BinarySample, ConfidenceLevel};

/// Where the definitions are identical the results must agree to 1e-9.
const SAME_DEFINITION: f64 = 1e-9;

struct Dataset {
    scores: Vec<f64>,
    scores_b: Vec<f64>,
    labels: Vec<bool>,
}

fn dataset(fixtures: &Value, name: &str) -> Dataset {
    let case = section(fixtures, "binary_datasets")
        .iter()
        .find(|case| case["name"] == name)
        .unwrap_or_else(|| panic!("no dataset {name}"));
    Dataset {
        scores: numbers(&case["scores"]),
        scores_b: numbers(&case["scores_b"]),
        labels: case["labels"]
            .as_array()
            .expect("labels")
            .iter()
            .map(|label| label.as_u64() == Some(1))
            .collect(),
    }
}

fn cases(name: &str) -> (Value, Vec<(String, Dataset, Value)>) {
    let all = fixtures();
    let list = section(&all, name)
        .iter()
        .map(|case| {
            let label = case["name"].as_str().expect("name").to_owned();
            let data = case["dataset"]
                .as_str()
                .map(|dataset_name| dataset(&all, dataset_name));
            (label, data, case.clone())
        })
        .filter_map(|(label, data, case)| data.map(|data| (label, data, case)))
        .collect();
    (all, list)
}

#[test]
fn proportions_match_scipy() {
    let all = fixtures();
    for case in section(&all, "proportions") {
        let name = case["name"].as_str().expect("name");
        let proportion = Proportion::new(
            case["successes"].as_u64().expect("successes"),
            case["trials"].as_u64().expect("trials"),
        )
        .expect("valid proportion");
        let level = ConfidenceLevel::new(number(case, "level")).expect("level");
        let wilson = proportion.wilson(level);
        check(
            name,
            "wilson low",
            wilson.low,
            number(case, "wilson_low"),
            SAME_DEFINITION,
        );
        check(
            name,
            "wilson high",
            wilson.high,
            number(case, "wilson_high"),
            SAME_DEFINITION,
        );
        let exact = proportion
            .clopper_pearson(level)
            .expect("a proportion and a level give valid beta parameters");
        check(
            name,
            "clopper-pearson low",
            exact.low,
            number(case, "clopper_pearson_low"),
            SAME_DEFINITION,
        );
        check(
            name,
            "clopper-pearson high",
            exact.high,
            number(case, "clopper_pearson_high"),
            SAME_DEFINITION,
        );
    }
}

#[test]
fn confusion_matrices_match_scikit_learn() {
    let (_, list) = cases("confusion");
    let level = ConfidenceLevel::default();
    for (name, data, case) in list {
        let sample = BinarySample::new(&data.scores, &data.labels).expect("valid sample");
        let threshold = number(&case, "threshold");
        let matrix = ConfusionMatrix::at_threshold(&sample, threshold);
        assert_eq!(
            matrix,
            ConfusionMatrix::from_sorted(&SortedByClass::new(&sample), threshold),
            "{name}"
        );
        for (key, count) in [
            ("tp", matrix.true_positives),
            ("fp", matrix.false_positives),
            ("tn", matrix.true_negatives),
            ("fn", matrix.false_negatives),
        ] {
            assert_eq!(Some(count), case[key].as_u64(), "{name}: {key}");
        }
        let method = IntervalMethod::Wilson;
        for (key, value) in [
            (
                "sensitivity",
                matrix
                    .sensitivity(level, method)
                    .ok()
                    .map(|r| r.interval.estimate),
            ),
            (
                "specificity",
                matrix
                    .specificity(level, method)
                    .ok()
                    .map(|r| r.interval.estimate),
            ),
            (
                "ppv",
                matrix.ppv(level, method).ok().map(|r| r.interval.estimate),
            ),
            (
                "npv",
                matrix.npv(level, method).ok().map(|r| r.interval.estimate),
            ),
            (
                "accuracy",
                matrix
                    .accuracy(level, method)
                    .ok()
                    .map(|r| r.interval.estimate),
            ),
            ("f1", matrix.f1().ok()),
        ] {
            match (value, case[key].as_f64()) {
                (Some(actual), Some(expected)) => {
                    check(&name, key, actual, expected, SAME_DEFINITION)
                }
                (None, None) => {}
                (actual, expected) => panic!("{name}: {key} is {actual:?}, reference {expected:?}"),
            }
        }
    }
}

#[test]
fn roc_curves_match_scikit_learn() {
    let (_, list) = cases("roc");
    for (name, data, case) in list {
        let sample = BinarySample::new(&data.scores, &data.labels).expect("valid sample");
        let curve = RocCurve::new(&SortedByClass::new(&sample));
        let fpr: Vec<f64> = curve.points.iter().map(|p| p.false_positive_rate).collect();
        let tpr: Vec<f64> = curve.points.iter().map(|p| p.true_positive_rate).collect();
        let thresholds: Vec<f64> = curve.points.iter().map(|p| p.threshold).collect();
        check_all(&name, "fpr", &fpr, &numbers(&case["fpr"]), SAME_DEFINITION);
        check_all(&name, "tpr", &tpr, &numbers(&case["tpr"]), SAME_DEFINITION);
        check_all(
            &name,
            "thresholds",
            &thresholds,
            &numbers(&case["thresholds"]),
            0.0,
        );
        check(
            &name,
            "trapezoid area",
            curve.area(),
            number(&case, "auc"),
            SAME_DEFINITION,
        );
        check(
            &name,
            "Mann-Whitney AUC",
            vigil_stats::roc::auc(&sample),
            number(&case, "auc"),
            SAME_DEFINITION,
        );
    }
}

#[test]
fn delong_intervals_match_proc() {
    let (_, list) = cases("delong");
    for (name, data, case) in list {
        let sample = BinarySample::new(&data.scores, &data.labels).expect("valid sample");
        let result = delong(&SortedByClass::new(&sample));
        let level = ConfidenceLevel::new(number(&case, "level")).expect("level");
        let interval = result.interval(level);
        check(
            &name,
            "auc",
            result.auc,
            number(&case, "auc"),
            SAME_DEFINITION,
        );
        check(
            &name,
            "variance",
            result.variance,
            number(&case, "variance"),
            SAME_DEFINITION,
        );
        check(
            &name,
            "ci low",
            interval.low,
            number(&case, "ci_low"),
            SAME_DEFINITION,
        );
        check(
            &name,
            "ci high",
            interval.high,
            number(&case, "ci_high"),
            SAME_DEFINITION,
        );
    }
}

#[test]
fn paired_delong_tests_match_proc() {
    let (_, list) = cases("delong_paired");
    for (name, data, case) in list {
        let result =
            delong_paired(&data.scores, &data.scores_b, &data.labels).expect("paired test");
        let level = ConfidenceLevel::new(number(&case, "level")).expect("level");
        let interval = result.interval(level);
        check(
            &name,
            "auc a",
            result.auc_a,
            number(&case, "auc_a"),
            SAME_DEFINITION,
        );
        check(
            &name,
            "auc b",
            result.auc_b,
            number(&case, "auc_b"),
            SAME_DEFINITION,
        );
        check(&name, "z", result.z, number(&case, "z"), SAME_DEFINITION);
        check(
            &name,
            "p value",
            result.p_value,
            number(&case, "p_value"),
            SAME_DEFINITION,
        );
        check(
            &name,
            "ci low",
            interval.low,
            number(&case, "ci_low"),
            SAME_DEFINITION,
        );
        check(
            &name,
            "ci high",
            interval.high,
            number(&case, "ci_high"),
            SAME_DEFINITION,
        );
    }
}

#[test]
fn precision_recall_matches_scikit_learn() {
    let (_, list) = cases("precision_recall");
    for (name, data, case) in list {
        let sample = BinarySample::new(&data.scores, &data.labels).expect("valid sample");
        let curve = PrecisionRecallCurve::new(&SortedByClass::new(&sample));
        check(
            &name,
            "average precision",
            curve.average_precision(),
            number(&case, "average_precision"),
            SAME_DEFINITION,
        );
        // scikit-learn lists thresholds ascending and appends the point
        // (recall 0, precision 1); ours run from the highest threshold down.
        let mut precision = numbers(&case["precision"]);
        let mut recall = numbers(&case["recall"]);
        let mut thresholds = numbers(&case["thresholds"]);
        precision.pop();
        recall.pop();
        precision.reverse();
        recall.reverse();
        thresholds.reverse();
        let ours =
            |pick: fn(&vigil_stats::precision_recall::PrecisionRecallPoint) -> f64| -> Vec<f64> {
                curve.points.iter().map(pick).collect()
            };
        check_all(
            &name,
            "precision",
            &ours(|p| p.precision),
            &precision,
            SAME_DEFINITION,
        );
        check_all(
            &name,
            "recall",
            &ours(|p| p.recall),
            &recall,
            SAME_DEFINITION,
        );
        check_all(
            &name,
            "thresholds",
            &ours(|p| p.threshold),
            &thresholds,
            0.0,
        );
    }
}

#[test]
fn calibration_matches_scikit_learn_and_rms() {
    let (_, list) = cases("calibration");
    for (name, data, case) in list {
        let sample = BinarySample::new(&data.scores, &data.labels).expect("valid sample");
        check(
            &name,
            "brier",
            brier_score(&sample).expect("brier"),
            number(&case, "brier"),
            SAME_DEFINITION,
        );
        check(
            &name,
            "calibration-in-the-large",
            calibration_in_the_large(&sample).expect("citl"),
            number(&case, "calibration_in_the_large"),
            SAME_DEFINITION,
        );
        check(
            &name,
            "ece (10 bins)",
            expected_calibration_error(&sample, 10).expect("ece"),
            number(&case, "ece_10"),
            SAME_DEFINITION,
        );
        check(
            &name,
            "ece (15 bins)",
            expected_calibration_error(&sample, 15).expect("ece"),
            number(&case, "ece_15"),
            SAME_DEFINITION,
        );
        let fit = logistic_recalibration(&sample).expect("recalibration converges");
        // Both sides solve the same likelihood equations to convergence; the
        // fixture's rms fit is run with eps = 1e-12 (see README), so 1e-8
        // relative is the agreement two independent Newton solvers reach.
        check(
            &name,
            "calibration intercept",
            fit.intercept,
            number(&case, "intercept"),
            1e-8,
        );
        check(
            &name,
            "calibration slope",
            fit.slope,
            number(&case, "slope"),
            1e-8,
        );
    }
}

#[test]
fn youden_thresholds_match_the_reference() {
    let (_, list) = cases("youden");
    for (name, data, case) in list {
        let sample = BinarySample::new(&data.scores, &data.labels).expect("valid sample");
        let curve = RocCurve::new(&SortedByClass::new(&sample));
        let threshold = OperatingPointRule::Youden
            .threshold(&curve)
            .expect("threshold");
        check(
            &name,
            "threshold",
            threshold,
            number(&case, "threshold"),
            0.0,
        );
    }
}
