//! Human-readable outputs: an evaluation's self-contained HTML report
//! (inline CSS and SVG charts, no external assets) and plain-text summary,
//! the report of a contour-agreement cohort, the monitoring charts of the
//! dashboard, and a deployment's clinical safety case report.

mod charts;
pub mod contours;
mod html;
pub mod monitoring;
pub mod safety_case;
mod summary;

pub use html::{STYLE, escape, evaluation_report};
pub use summary::evaluation_summary;

#[cfg(test)]
mod tests {
    use vigil_evaluation::cases::CaseTable;
    use vigil_evaluation::evaluate::{Evaluation, EvaluationSettings, ThresholdSource, evaluate};
    use vigil_evaluation::protocol::Protocol;
    use vigil_stats::operating_point::OperatingPointRule;

    use super::{evaluation_report, evaluation_summary};

    fn evaluation(scores: Vec<f64>, labels: Vec<bool>) -> Evaluation {
        let table = CaseTable {
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
        };
        let settings = EvaluationSettings {
            operating_point: OperatingPointRule::Fixed(0.5),
            threshold_source: ThresholdSource::CommandLine,
            ..EvaluationSettings::default()
        };
        evaluate(&table, &settings).expect("evaluation")
    }

    fn protocol(criterion: &str) -> Protocol {
        let text = format!(
            "[operating_point]\nthreshold = 0.5\n[acceptance]\ncriteria = ['{criterion}']\n"
        );
        Protocol::parse(&text, "protocol.toml").expect("valid protocol")
    }

    #[test]
    fn a_failing_value_is_never_printed_as_meeting_its_bound() {
        let labels: Vec<bool> = (0..40).map(|i| i % 2 == 0).collect();
        let scores: Vec<f64> = (0..40)
            .map(|i| f64::from((i * 7) % 40) / 40.0 + if i % 2 == 0 { 0.2 } else { 0.0 })
            .collect();
        let mut evaluation = evaluation(scores, labels);
        if let Some(rate) = evaluation.sensitivity.as_mut() {
            rate.estimate = 0.94996;
        }
        evaluation.assess(&protocol("sensitivity.estimate >= 0.95"));
        let summary = evaluation_summary(&evaluation);
        assert!(
            summary.contains("FAIL sensitivity.estimate >= 0.95  (0.94996)"),
            "{summary}"
        );
        let html = evaluation_report(&evaluation);
        assert!(
            html.contains("<td class=\"fail\">fail</td><td class=\"number\">0.94996</td>"),
            "the criteria table shows the value with enough digits"
        );
    }

    #[test]
    fn an_auc_without_an_interval_is_shown_with_its_reason() {
        let evaluation = evaluation(
            vec![0.9, 0.8, 0.7, 0.3, 0.2, 0.1],
            vec![true, true, true, false, false, false],
        );
        let summary = evaluation_summary(&evaluation);
        assert!(
            summary.contains("AUC            1.0000  no interval: DeLong confidence interval of the AUC is undefined: the variance is zero"),
            "{summary}"
        );
        let html = evaluation_report(&evaluation);
        assert!(html.contains("<td class=\"number\">not available</td>"));
        assert!(html.contains("the variance is zero (perfect separation or constant scores)"));
    }
}
