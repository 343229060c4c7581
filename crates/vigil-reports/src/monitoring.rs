//! Monitoring charts for the dashboard: a rate over time (one point a
//! period) with its confidence band, the validated baseline and marks for
//! events such as a model-version change or a governance decision.

use plotters::prelude::*;

use crate::charts::{ACCENT, FONT, GUIDE, MAIN, render};

/// One period of a rate: its label (the period's first day), the estimate,
/// its confidence interval and the number of cases behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct RatePoint {
    pub label: String,
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    pub cases: u64,
}

/// A vertical mark at a period, with what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub index: usize,
    pub label: String,
}

/// A rate per period with its confidence band, the baseline (dashed) and
/// the markers; the y axis runs from 0 to 1. No points gives a note in
/// place of the chart.
pub fn rate_chart(
    title: &str,
    rate_name: &str,
    points: &[RatePoint],
    baseline: Option<f64>,
    markers: &[Marker],
) -> String {
    if points.is_empty() {
        return format!("<p class=\"note\">{title}: no periods with cases yet.</p>");
    }
    let count = points.len();
    render((760, 320), |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(52)
            .build_cartesian_2d(-0.5..(count as f64 - 0.5), 0.0..1.0)?;
        let step = count.div_ceil(8).max(1);
        chart
            .configure_mesh()
            .x_labels(count)
            .x_label_formatter(&|x: &f64| {
                let index = x.round();
                if (x - index).abs() < 1e-6 && index >= 0.0 && (index as usize) % step == 0 {
                    points
                        .get(index as usize)
                        .map(|point| point.label.clone())
                        .unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_desc("Week starting")
            .y_desc(rate_name)
            .axis_desc_style((FONT, 13))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        let mut band: Vec<(f64, f64)> = points
            .iter()
            .enumerate()
            .map(|(index, point)| (index as f64, point.high))
            .collect();
        band.extend(
            points
                .iter()
                .enumerate()
                .rev()
                .map(|(index, point)| (index as f64, point.low)),
        );
        chart
            .draw_series(std::iter::once(Polygon::new(band, MAIN.mix(0.18))))?
            .label("95% Wilson interval")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 20, y + 5)], MAIN.mix(0.18).filled())
            });
        chart
            .draw_series(LineSeries::new(
                points
                    .iter()
                    .enumerate()
                    .map(|(index, point)| (index as f64, point.estimate)),
                MAIN.stroke_width(2),
            ))?
            .label(rate_name.to_owned())
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], MAIN.stroke_width(2)));
        if let Some(baseline) = baseline {
            chart
                .draw_series(DashedLineSeries::new(
                    [(-0.5, baseline), (count as f64 - 0.5, baseline)],
                    6,
                    4,
                    ACCENT.stroke_width(1),
                ))?
                .label(format!("baseline {baseline:.3}"))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], ACCENT));
        }
        for marker in markers.iter().filter(|marker| marker.index < count) {
            let x = marker.index as f64;
            chart.draw_series(LineSeries::new([(x, 0.0), (x, 1.0)], GUIDE))?;
            chart.draw_series(std::iter::once(Text::new(
                marker.label.clone(),
                (x + 0.2, 0.06),
                (FONT, 11).into_font().color(&GUIDE),
            )))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .label_font((FONT, 12))
            .background_style(WHITE.mix(0.9))
            .border_style(GUIDE)
            .draw()?;
        root.present()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(label: &str, estimate: f64) -> RatePoint {
        RatePoint {
            label: label.to_owned(),
            estimate,
            low: estimate - 0.05,
            high: estimate + 0.05,
            cases: 100,
        }
    }

    #[test]
    fn a_rate_chart_is_svg_with_its_labels_and_markers() {
        let svg = rate_chart(
            "Sensitivity by week",
            "Sensitivity",
            &[point("2026-01-05", 0.9), point("2026-01-12", 0.85)],
            Some(0.92),
            &[Marker {
                index: 1,
                label: "2.4.0".to_owned(),
            }],
        );
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        for expected in [
            "Sensitivity by week",
            "2026-01-05",
            "baseline 0.920",
            "2.4.0",
            "Week starting",
        ] {
            assert!(svg.contains(expected), "{expected}");
        }
    }

    #[test]
    fn no_points_give_a_note() {
        let note = rate_chart("Sensitivity by week", "Sensitivity", &[], None, &[]);
        assert!(note.contains("no periods with cases yet"));
    }
}
