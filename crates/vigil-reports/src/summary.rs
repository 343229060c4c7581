//! The plain-text summary printed by `vigil evaluate` without `--json`.

use std::fmt::Write;

use vigil_evaluation::evaluate::{Evaluation, RateResult, Verdict};

fn rate_line(name: &str, rate: Option<&RateResult>) -> String {
    match rate {
        Some(rate) => format!(
            "{name:<13} {:>7.4}  [{:.4}, {:.4}]  {}/{}\n",
            rate.estimate, rate.ci_low, rate.ci_high, rate.numerator, rate.denominator
        ),
        None => format!("{name:<13} undefined (denominator is zero)\n"),
    }
}

/// A short fixed-width summary of the main results and the verdict.
pub fn evaluation_summary(evaluation: &Evaluation) -> String {
    let mut text = String::new();
    let level = evaluation.confidence_level * 100.0;
    let _ = writeln!(
        text,
        "{}: {} cases ({} positive, {} negative){}",
        evaluation.source,
        evaluation.n,
        evaluation.n_positive,
        evaluation.n_negative,
        if evaluation.dropped_missing > 0 {
            format!(
                "; {} rows dropped for missing values",
                evaluation.dropped_missing
            )
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        text,
        "threshold {} ({} rule, {}); intervals {level}% (Wilson; DeLong for AUC)",
        evaluation.threshold,
        evaluation.threshold_rule,
        evaluation.threshold_source.describe()
    );
    if let Some(warning) = evaluation.threshold_warning() {
        let _ = writeln!(text, "WARNING: {warning}");
    }
    if let Some(note) = &evaluation.threshold_note {
        let _ = writeln!(text, "note: {note}");
    }
    match (evaluation.auc.ci_low, evaluation.auc.ci_high) {
        (Some(low), Some(high)) => {
            let _ = writeln!(
                text,
                "{:<13} {:>7.4}  [{low:.4}, {high:.4}]",
                "AUC", evaluation.auc.estimate
            );
        }
        _ => {
            let _ = writeln!(
                text,
                "{:<13} {:>7.4}  no interval: {}",
                "AUC",
                evaluation.auc.estimate,
                evaluation
                    .auc
                    .note
                    .as_deref()
                    .unwrap_or("the interval is undefined")
            );
        }
    }
    text += &rate_line("sensitivity", evaluation.sensitivity.as_ref());
    text += &rate_line("specificity", evaluation.specificity.as_ref());
    text += &rate_line("PPV", evaluation.ppv.as_ref());
    text += &rate_line("NPV", evaluation.npv.as_ref());
    if let Some(calibration) = &evaluation.calibration {
        let _ = writeln!(
            text,
            "calibration   Brier {:.4}, ECE {:.4}, intercept {}, slope {}",
            calibration.brier,
            calibration.ece,
            calibration
                .intercept
                .map_or("n/a".to_owned(), |v| format!("{v:.4}")),
            calibration
                .slope
                .map_or("n/a".to_owned(), |v| format!("{v:.4}")),
        );
    }
    if let Some(comparison) = &evaluation.comparison {
        let interval = match (comparison.ci_low, comparison.ci_high) {
            (Some(low), Some(high)) => format!("[{low:.4}, {high:.4}]"),
            _ => "(no interval)".to_owned(),
        };
        let test = match (comparison.z, comparison.p_value) {
            (Some(z), Some(p_value)) => format!("z = {z:.3}, p = {p_value:.3e}"),
            _ => "no test".to_owned(),
        };
        let _ = writeln!(
            text,
            "comparison    AUC of {} {:.4}; difference {:+.4} {interval}, {test}",
            comparison.column, comparison.auc, comparison.auc_difference,
        );
        if comparison.dropped_missing > 0 {
            let _ = writeln!(
                text,
                "              on {} cases with both scores ({} left out of the comparison only, for a missing {} score)",
                comparison.n, comparison.dropped_missing, comparison.column
            );
        }
        if let Some(note) = &comparison.note {
            let _ = writeln!(text, "              note: {note}");
        }
    }
    for outcome in &evaluation.criteria {
        let _ = writeln!(
            text,
            "{} {}  ({})",
            if outcome.passed { "PASS" } else { "FAIL" },
            outcome.criterion,
            outcome.detail
        );
    }
    let _ = writeln!(
        text,
        "verdict: {}",
        match evaluation.verdict {
            Verdict::Pass => "PASS — every acceptance criterion is met",
            Verdict::Fail => "FAIL — at least one acceptance criterion is not met",
            Verdict::NotAssessed => "not assessed (no protocol criteria)",
        }
    );
    text
}
