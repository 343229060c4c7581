//! The report of an auto-contouring commissioning cohort: the acceptance
//! verdict, each criterion judged per structure, per-structure distributions
//! (median, quartiles, range) of every metric, box plots of the main
//! metrics, and every patient's values. Self-contained HTML like the
//! evaluation report.

use std::fmt::Write as _;

use plotters::prelude::*;
use vigil_contours::cohort::{
    AcceptanceVerdict, Bound, CohortEntry, ContourMetric, CriterionOutcome, MetricDistribution,
};

use crate::charts::{FONT, GUIDE, MAIN, render};
use crate::html::{STYLE, escape};

/// What the report says of the cohort besides its numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortDescription {
    pub title: String,
    /// Where the structures were read from, in words.
    pub source: String,
    pub tolerance_mm: f64,
    /// The acceptance protocol's text, if there was one.
    pub protocol: Option<String>,
    /// Structures of either side that matched nothing, by patient.
    pub unmatched: Vec<String>,
}

/// The metrics drawn as box plots.
const PLOTTED: [ContourMetric; 4] = [
    ContourMetric::SurfaceDice,
    ContourMetric::Dice,
    ContourMetric::Hd95Mm,
    ContourMetric::AddedPathLengthMm,
];

fn value_text(value: Option<f64>) -> String {
    match value {
        Some(value) if value.is_finite() => format!("{value:.3}"),
        _ => "—".to_owned(),
    }
}

fn metric_words(metric: ContourMetric, tolerance_mm: f64) -> String {
    match metric {
        ContourMetric::Dice => "Dice".to_owned(),
        ContourMetric::Jaccard => "Jaccard".to_owned(),
        ContourMetric::HausdorffMm => "Hausdorff (mm)".to_owned(),
        ContourMetric::Hd95Mm => "HD95 (mm)".to_owned(),
        ContourMetric::MsdMm => "mean surface distance (mm)".to_owned(),
        ContourMetric::SurfaceDice => format!("surface Dice at {tolerance_mm} mm"),
        ContourMetric::AddedPathLengthMm => format!("added path length at {tolerance_mm} mm (mm)"),
        ContourMetric::VolumeReferenceCc => "reference volume (cc)".to_owned(),
        ContourMetric::VolumeTestCc => "test volume (cc)".to_owned(),
    }
}

/// A box plot of one metric across structures: the box from the lower to
/// the upper quartile with the median, whiskers to the minimum and maximum
/// (every patient's value lies within them), and each structure's number of
/// patients on hover.
pub fn box_plot(title: &str, axis: &str, distributions: &[&MetricDistribution]) -> String {
    let drawn: Vec<&MetricDistribution> = distributions
        .iter()
        .copied()
        .filter(|distribution| distribution.summary.is_some())
        .collect();
    if drawn.is_empty() {
        return format!("<p class=\"note\">{}: no values.</p>", escape(title));
    }
    let (low, high) = drawn
        .iter()
        .filter_map(|distribution| distribution.summary)
        .fold(
            (f64::INFINITY, f64::NEG_INFINITY),
            |(low, high), summary| (low.min(summary.minimum), high.max(summary.maximum)),
        );
    let margin = ((high - low) * 0.08).max(0.01);
    let count = drawn.len();
    let width = (120 + 70 * count).clamp(420, 1000) as u32;
    render((width, 340), |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 16))
            .margin(12)
            .x_label_area_size(60)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5..(count as f64 - 0.5), (low - margin)..(high + margin))?;
        chart
            .configure_mesh()
            .x_labels(count)
            .x_label_formatter(&|x: &f64| {
                let index = x.round();
                if (x - index).abs() < 1e-6 && index >= 0.0 {
                    drawn
                        .get(index as usize)
                        .map(|distribution| distribution.structure.clone())
                        .unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_desc("Structure")
            .y_desc(axis)
            .axis_desc_style((FONT, 13))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        for (index, distribution) in drawn.iter().enumerate() {
            let Some(summary) = distribution.summary else {
                continue;
            };
            let x = index as f64;
            let half = 0.28;
            chart.draw_series(std::iter::once(Rectangle::new(
                [
                    (x - half, summary.lower_quartile),
                    (x + half, summary.upper_quartile),
                ],
                MAIN.mix(0.25).filled(),
            )))?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [
                    (x - half, summary.lower_quartile),
                    (x + half, summary.upper_quartile),
                ],
                MAIN.stroke_width(1),
            )))?;
            chart.draw_series(std::iter::once(PathElement::new(
                [(x - half, summary.median), (x + half, summary.median)],
                MAIN.stroke_width(3),
            )))?;
            for (from, to) in [
                (summary.minimum, summary.lower_quartile),
                (summary.upper_quartile, summary.maximum),
            ] {
                chart.draw_series(std::iter::once(PathElement::new(
                    [(x, from), (x, to)],
                    GUIDE.stroke_width(1),
                )))?;
            }
            for end in [summary.minimum, summary.maximum] {
                chart.draw_series(std::iter::once(PathElement::new(
                    [(x - half / 2.0, end), (x + half / 2.0, end)],
                    GUIDE.stroke_width(1),
                )))?;
            }
        }
        root.present()?;
        Ok(())
    })
}

/// The report of a cohort: verdict, criteria, distributions, box plots and
/// every patient's values.
pub fn cohort_report(
    description: &CohortDescription,
    entries: &[CohortEntry],
    distributions: &[MetricDistribution],
    verdict: Option<&AcceptanceVerdict>,
) -> String {
    let tolerance = description.tolerance_mm;
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n<p class=\"note\">Generated by Vigil {} from {}. Surface metrics follow DeepMind's surface-distance definitions (surfels at voxel corners, area-weighted; HD95 the larger of the two directed 95th percentiles); the tolerance is {tolerance} mm.</p>\n",
        env!("CARGO_PKG_VERSION"),
        escape(&description.source),
        title = escape(&description.title),
    );
    let (class, text) = match verdict {
        Some(verdict) if verdict.accepted => ("pass", "PASS: every acceptance criterion is met"),
        Some(_) => (
            "fail",
            "FAIL: at least one acceptance criterion is not met for a structure",
        ),
        None => ("none", "Not assessed: no acceptance protocol was given"),
    };
    let _ = writeln!(
        html,
        "<p class=\"verdict {class}\" role=\"status\">{text}</p>"
    );
    let patients = {
        let mut names: Vec<&str> = entries.iter().map(|entry| entry.patient.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names.len()
    };
    let _ = writeln!(
        html,
        "<p>{patients} patients, {} structure comparisons.</p>",
        entries.len()
    );
    if !description.unmatched.is_empty() {
        html.push_str("<p class=\"warning\" role=\"alert\"><strong>Unmatched structures</strong> (not compared): ");
        html.push_str(&escape(&description.unmatched.join("; ")));
        html.push_str("</p>\n");
    }
    if let Some(verdict) = verdict {
        html.push_str("<h2>Acceptance criteria</h2>\n<table>\n<thead><tr><th scope=\"col\">Structure</th><th scope=\"col\">Criterion</th><th scope=\"col\">Value</th><th scope=\"col\">Patients</th><th scope=\"col\">Outcome</th></tr></thead>\n<tbody>\n");
        for criterion in &verdict.verdicts {
            let bound = match criterion.bound {
                Bound::AtLeast(threshold) => format!("≥ {threshold}"),
                Bound::AtMost(threshold) => format!("≤ {threshold}"),
            };
            let (class, outcome) = match criterion.outcome {
                CriterionOutcome::Met => ("pass", "met"),
                CriterionOutcome::NotMet => ("fail", "not met"),
                CriterionOutcome::NotEnoughPatients => ("fail", "too few patients"),
                CriterionOutcome::StructureMissing => ("fail", "structure missing"),
                CriterionOutcome::UndefinedForSomePatients => {
                    ("fail", "undefined for some patients")
                }
            };
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td>{} {} {bound}</td><td class=\"number\">{}</td><td class=\"number\">{}</td><td class=\"{class}\">{outcome}</td></tr>",
                escape(&criterion.structure),
                criterion.statistic.as_str().replace('_', " "),
                metric_words(criterion.metric, tolerance),
                value_text(criterion.value),
                criterion.patients
            );
        }
        html.push_str("</tbody>\n</table>\n");
    }
    if let Some(protocol) = &description.protocol {
        let _ = writeln!(
            html,
            "<details><summary>The protocol</summary><pre>{}</pre></details>",
            escape(protocol)
        );
    }
    html.push_str("<h2>Distributions</h2>\n<div class=\"charts\">\n");
    for metric in PLOTTED {
        let of_metric: Vec<&MetricDistribution> = distributions
            .iter()
            .filter(|distribution| distribution.metric == metric)
            .collect();
        let words = metric_words(metric, tolerance);
        let _ = writeln!(
            html,
            "<figure>{}</figure>",
            box_plot(&format!("{words} by structure"), &words, &of_metric)
        );
    }
    html.push_str("</div>\n<p class=\"note\">Boxes run from the lower to the upper quartile (linear interpolation) with the median; whiskers reach the smallest and largest values.</p>\n");
    html.push_str("<table>\n<thead><tr><th scope=\"col\">Structure</th><th scope=\"col\">Metric</th><th scope=\"col\">Patients (missing)</th><th scope=\"col\">Median</th><th scope=\"col\">Quartiles</th><th scope=\"col\">Range</th></tr></thead>\n<tbody>\n");
    for distribution in distributions {
        let (median, quartiles, range) = match distribution.summary {
            Some(summary) => (
                format!("{:.3}", summary.median),
                format!(
                    "{:.3} – {:.3}",
                    summary.lower_quartile, summary.upper_quartile
                ),
                format!("{:.3} – {:.3}", summary.minimum, summary.maximum),
            ),
            None => ("—".to_owned(), "—".to_owned(), "—".to_owned()),
        };
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td class=\"number\">{} ({})</td><td class=\"number\">{median}</td><td class=\"number\">{quartiles}</td><td class=\"number\">{range}</td></tr>",
            escape(&distribution.structure),
            metric_words(distribution.metric, tolerance),
            distribution.patients,
            distribution.missing
        );
    }
    html.push_str("</tbody>\n</table>\n<h2>Every patient</h2>\n<table>\n<thead><tr><th scope=\"col\">Patient</th><th scope=\"col\">Structure</th>");
    for metric in ContourMetric::ALL {
        let _ = write!(
            html,
            "<th scope=\"col\">{}</th>",
            metric_words(metric, tolerance)
        );
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for entry in entries {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td>",
            escape(&entry.patient),
            escape(&entry.structure)
        );
        for metric in ContourMetric::ALL {
            let _ = write!(
                html,
                "<td class=\"number\">{}</td>",
                value_text(metric.of(&entry.agreement))
            );
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table>\n</main>\n</body>\n</html>\n");
    html
}

#[cfg(test)]
mod tests {
    use vigil_contours::cohort::{AcceptanceCriterion, SummaryStatistic, judge, summarise};
    use vigil_contours::{Mask, Spacing, compare};

    use super::*;

    fn slab(width: usize) -> Mask {
        Mask::from_fn(
            [6, 8, 12],
            Spacing::new(2.5, 1.0, 1.0).expect("spacing"),
            |z, y, x| (1..5).contains(&z) && (2..6).contains(&y) && (2..2 + width).contains(&x),
        )
        .expect("mask")
    }

    fn entries() -> Vec<CohortEntry> {
        ["p1", "p2", "p3"]
            .iter()
            .zip([6, 7, 8])
            .map(|(patient, width)| CohortEntry {
                patient: (*patient).to_owned(),
                structure: "Parotid_L <left>".to_owned(),
                agreement: compare(&slab(6), &slab(width), 2.0).expect("same grid"),
            })
            .collect()
    }

    #[test]
    fn the_report_states_the_verdict_criteria_distributions_and_every_patient() {
        let entries = entries();
        let distributions = summarise(&entries);
        let verdict = judge(
            &[AcceptanceCriterion {
                structures: Vec::new(),
                metric: ContourMetric::Dice,
                statistic: SummaryStatistic::Median,
                bound: Bound::AtLeast(0.95),
                minimum_patients: 3,
            }],
            &distributions,
        );
        let description = CohortDescription {
            title: "Parotid commissioning".to_owned(),
            source: "cohort/".to_owned(),
            tolerance_mm: 2.0,
            protocol: Some("[[criterion]]".to_owned()),
            unmatched: vec!["p2: test \"Cord\"".to_owned()],
        };
        let html = cohort_report(&description, &entries, &distributions, Some(&verdict));
        // Dice of a 6-wide slab against 7 and 8: 12/13 and 12/14; the
        // median 12/13 = 0.923 is below 0.95.
        for expected in [
            "FAIL: at least one acceptance criterion is not met",
            "median Dice ≥ 0.95",
            "0.923",
            "3 patients, 3 structure comparisons.",
            "Unmatched structures",
            "p2: test &quot;Cord&quot;",
            "surface Dice at 2 mm by structure",
            "<svg",
            "Parotid_L &lt;left&gt;",
        ] {
            assert!(html.contains(expected), "{expected}");
        }
        assert!(!html.contains("<left>"), "names are escaped");
        let none = cohort_report(&description, &entries, &distributions, None);
        assert!(none.contains("Not assessed"));
        assert!(box_plot("t", "a", &[]).contains("no values"));
    }
}
