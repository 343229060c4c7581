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

/// One unit of a funnel plot: its label, cases and proportion, and whether
/// it lies outside the 99.8% limits.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelPoint {
    pub label: String,
    pub cases: u64,
    pub proportion: f64,
    pub outside: bool,
}

/// A funnel plot: each unit's proportion against its number of cases, the
/// pooled target, and the exact binomial limits at 95% and 99.8%
/// (`vigil_stats::control::funnel_limits`) drawn as curves; units outside
/// the 99.8% limits are drawn in the accent colour and labelled.
pub fn funnel_chart(title: &str, metric: &str, target: f64, points: &[FunnelPoint]) -> String {
    if points.is_empty() || !(target > 0.0 && target < 1.0) {
        return format!("<p class=\"note\">{title}: no deployments with cases in the period.</p>");
    }
    let most = points
        .iter()
        .map(|point| point.cases)
        .max()
        .unwrap_or(1)
        .max(1);
    let fewest = points
        .iter()
        .map(|point| point.cases)
        .min()
        .unwrap_or(1)
        .max(1);
    let first = (fewest / 2).max(1) as f64;
    let last = most as f64 * 1.1;
    let steps = 80;
    let grid: Vec<u64> = (0..=steps)
        .map(|step| {
            (first * (last / first).powf(f64::from(step) / f64::from(steps))).round() as u64
        })
        .collect();
    let curve = |level: f64, high: bool| -> Vec<(f64, f64)> {
        grid.iter()
            .filter_map(|cases| {
                vigil_stats::control::funnel_limits(target, *cases, level)
                    .ok()
                    .map(|limits| (*cases as f64, if high { limits.high } else { limits.low }))
            })
            .collect()
    };
    let outer = [curve(0.998, false), curve(0.998, true)];
    let inner = [curve(0.95, false), curve(0.95, true)];
    let values = points
        .iter()
        .map(|point| point.proportion)
        .chain(outer.iter().flatten().map(|(_, y)| *y));
    let (mut low, mut high) =
        values.fold((target, target), |(low, high), y| (low.min(y), high.max(y)));
    let margin = ((high - low) * 0.08).max(0.01);
    low = (low - margin).max(0.0);
    high = (high + margin).min(1.0);
    render((760, 380), |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..last, low..high)?;
        chart
            .configure_mesh()
            .x_desc("Cases in the period")
            .y_desc(metric)
            .axis_desc_style((FONT, 13))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        chart
            .draw_series(LineSeries::new([(0.0, target), (last, target)], MAIN))?
            .label(format!("pooled {target:.3}"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], MAIN));
        for (index, side) in inner.iter().enumerate() {
            let series = chart.draw_series(DashedLineSeries::new(
                side.clone(),
                5,
                4,
                GUIDE.stroke_width(1),
            ))?;
            if index == 0 {
                series
                    .label("95% limits")
                    .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], GUIDE));
            }
        }
        for (index, side) in outer.iter().enumerate() {
            let series = chart.draw_series(LineSeries::new(side.clone(), GUIDE.stroke_width(1)))?;
            if index == 0 {
                series.label("99.8% limits").legend(|(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], GUIDE.stroke_width(1))
                });
            }
        }
        chart.draw_series(points.iter().map(|point| {
            let colour = if point.outside { ACCENT } else { MAIN };
            Circle::new((point.cases as f64, point.proportion), 5, colour.filled())
        }))?;
        chart.draw_series(points.iter().filter(|point| point.outside).map(|point| {
            Text::new(
                point.label.clone(),
                (point.cases as f64, point.proportion),
                (FONT, 12).into_font().color(&ACCENT),
            )
        }))?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
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
    fn a_funnel_chart_labels_only_the_outliers() {
        let points = [
            FunnelPoint {
                label: "rmv-main".to_owned(),
                cases: 800,
                proportion: 0.91,
                outside: false,
            },
            FunnelPoint {
                label: "rcs-main".to_owned(),
                cases: 600,
                proportion: 0.7,
                outside: true,
            },
        ];
        let svg = funnel_chart("Sensitivity across sites", "Sensitivity", 0.9, &points);
        assert!(svg.starts_with("<svg"));
        for expected in [
            "rcs-main",
            "99.8% limits",
            "95% limits",
            "pooled 0.900",
            "Cases in the period",
        ] {
            assert!(svg.contains(expected), "{expected}");
        }
        assert!(
            !svg.contains("rmv-main"),
            "units within the limits are not labelled"
        );
        assert!(funnel_chart("t", "m", 0.9, &[]).contains("no deployments with cases"));
    }

    #[test]
    fn text_from_the_data_is_escaped_in_the_svg() {
        // Model versions come from event feeds: they must not become markup.
        let svg = rate_chart(
            "Sensitivity by week",
            "Sensitivity",
            &[point("2026-01-05", 0.9), point("2026-01-12", 0.85)],
            None,
            &[Marker {
                index: 1,
                label: "model <img src=x>&".to_owned(),
            }],
        );
        assert!(!svg.contains("<img"), "{svg}");
        assert!(svg.contains("&lt;img"), "{svg}");
    }

    #[test]
    fn no_points_give_a_note() {
        let note = rate_chart("Sensitivity by week", "Sensitivity", &[], None, &[]);
        assert!(note.contains("no periods with cases yet"));
    }
}
