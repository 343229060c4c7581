//! Monitoring charts for the dashboard: a rate over time (one point a
//! period) with its confidence band, the validated baseline and marks for
//! events such as a model-version change or a governance decision; the
//! score distribution against its baseline; control charts with their
//! limits; funnel plots. Each plotted value carries an SVG `<title>`, which
//! browsers show when the pointer rests on it (no script needed).

use plotters::prelude::*;

use crate::charts::{ACCENT, FONT, GUIDE, MAIN, SvgChart, finish, render};
use crate::html::escape;

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
    let mut spots = Vec::new();
    let svg = render((760, 320), |root| {
        let labels: Vec<&str> = points.iter().map(|point| point.label.as_str()).collect();
        let mut chart = period_axes(&root, title, &labels, "Week starting", rate_name, 0.0..1.0)?;
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
        spots = points
            .iter()
            .enumerate()
            .map(|(index, point)| HoverSpot {
                at: chart.backend_coord(&(index as f64, point.estimate)),
                text: format!(
                    "{}: {rate_name} {:.3} (95% CI {:.3} to {:.3}), {} cases",
                    point.label, point.estimate, point.low, point.high, point.cases
                ),
            })
            .collect();
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
        draw_markers(&mut chart, markers, count, (0.0, 1.0))?;
        finish(&mut chart, &root, SeriesLabelPosition::LowerLeft, 12)
    });
    with_hover(svg, &spots)
}

/// The axes of a chart over periods (0, 1, …, one per label) and a value
/// range, drawn with the title and axis names: every few periods labelled
/// (at most about eight labels), no minor grid.
fn period_axes<'area, 'svg>(
    root: &'area DrawingArea<SVGBackend<'svg>, plotters::coord::Shift>,
    title: &str,
    labels: &[&str],
    x_name: &str,
    y_name: &str,
    y_range: std::ops::Range<f64>,
) -> Result<SvgChart<'area, 'svg>, Box<dyn std::error::Error>> {
    root.fill(&WHITE)?;
    let count = labels.len();
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5..(count as f64 - 0.5), y_range)?;
    let step = count.div_ceil(8).max(1);
    chart
        .configure_mesh()
        .x_labels(count)
        .x_label_formatter(&|x: &f64| {
            let index = x.round();
            if (x - index).abs() < 1e-6 && index >= 0.0 && (index as usize).is_multiple_of(step) {
                labels
                    .get(index as usize)
                    .map(|label| (*label).to_owned())
                    .unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_desc(x_name)
        .y_desc(y_name)
        .axis_desc_style((FONT, 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    Ok(chart)
}

/// Vertical grey lines at the markers' periods, each with its words near
/// the bottom of the value range `(low, high)`.
fn draw_markers(
    chart: &mut SvgChart<'_, '_>,
    markers: &[Marker],
    count: usize,
    (low, high): (f64, f64),
) -> Result<(), Box<dyn std::error::Error>> {
    for marker in markers.iter().filter(|marker| marker.index < count) {
        let x = marker.index as f64;
        chart.draw_series(LineSeries::new([(x, low), (x, high)], GUIDE))?;
        chart.draw_series(std::iter::once(Text::new(
            marker.label.clone(),
            (x + 0.2, low + (high - low) * 0.06),
            (FONT, 11).into_font().color(&GUIDE),
        )))?;
    }
    Ok(())
}

/// A point of a chart with the words shown when the pointer rests on it.
struct HoverSpot {
    /// Its position in the SVG's pixels.
    at: (i32, i32),
    text: String,
}

/// Adds an invisible circle with a `<title>` at each spot, on top of the
/// drawing, so that the browser shows the spot's values on hover. A chart
/// that failed to draw (a note, not an SVG) is left as it is.
fn with_hover(mut svg: String, spots: &[HoverSpot]) -> String {
    let Some(end) = svg.rfind("</svg>") else {
        return svg;
    };
    let mut marks = String::from("<g class=\"hover\" fill=\"transparent\">");
    for spot in spots {
        marks.push_str(&format!(
            "<circle cx=\"{}\" cy=\"{}\" r=\"7\"><title>{}</title></circle>",
            spot.at.0,
            spot.at.1,
            escape(&spot.text)
        ));
    }
    marks.push_str("</g>");
    svg.insert_str(end, &marks);
    svg
}

/// The score distribution of a recent window against the baseline's, as
/// shares of scored cases in equal bins over [0, 1]: bars for the window,
/// a line for the baseline, the population stability index in the title's
/// caller's words. Either histogram empty gives a note.
pub fn score_distribution_chart(
    title: &str,
    recent_label: &str,
    recent: &[u64],
    baseline: Option<&[u64]>,
) -> String {
    let recent_total: u64 = recent.iter().sum();
    if recent.is_empty() || recent_total == 0 {
        return format!("<p class=\"note\">{title}: no scored cases in the window.</p>");
    }
    let bins = recent.len();
    let shares = |counts: &[u64]| -> Vec<f64> {
        let total: u64 = counts.iter().sum();
        counts
            .iter()
            .map(|count| *count as f64 / total.max(1) as f64)
            .collect()
    };
    let recent_shares = shares(recent);
    let baseline_shares = baseline
        .filter(|counts| counts.len() == bins && counts.iter().sum::<u64>() > 0)
        .map(shares);
    let highest = recent_shares
        .iter()
        .chain(baseline_shares.iter().flatten())
        .fold(0.0_f64, |high, share| high.max(*share));
    let top = (highest * 1.15).clamp(0.05, 1.0);
    let width = 1.0 / bins as f64;
    let mut spots = Vec::new();
    let svg = render((760, 320), |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..1.0, 0.0..top)?;
        chart
            .configure_mesh()
            .x_labels(11)
            .x_label_formatter(&|x: &f64| format!("{x:.1}"))
            .y_label_formatter(&|y: &f64| format!("{:.0}%", y * 100.0))
            .x_desc("Score")
            .y_desc("Share of scored cases")
            .axis_desc_style((FONT, 13))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        chart
            .draw_series(recent_shares.iter().enumerate().map(|(bin, share)| {
                let left = bin as f64 * width;
                Rectangle::new(
                    [(left + width * 0.08, 0.0), (left + width * 0.92, *share)],
                    MAIN.mix(0.55).filled(),
                )
            }))?
            .label(recent_label.to_owned())
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 20, y + 5)], MAIN.mix(0.55).filled())
            });
        if let Some(baseline_shares) = &baseline_shares {
            let steps: Vec<(f64, f64)> = baseline_shares
                .iter()
                .enumerate()
                .flat_map(|(bin, share)| {
                    [
                        (bin as f64 * width, *share),
                        ((bin + 1) as f64 * width, *share),
                    ]
                })
                .collect();
            chart
                .draw_series(LineSeries::new(steps, ACCENT.stroke_width(2)))?
                .label("baseline")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], ACCENT.stroke_width(2)));
        }
        spots = recent_shares
            .iter()
            .enumerate()
            .map(|(bin, share)| {
                let low = bin as f64 * width;
                let baseline_words = baseline_shares
                    .as_ref()
                    .map(|shares| format!("; baseline {:.1}%", shares[bin] * 100.0))
                    .unwrap_or_default();
                HoverSpot {
                    at: chart.backend_coord(&(low + width / 2.0, *share)),
                    text: format!(
                        "scores {low:.2} to {:.2}: {:.1}% of the window ({} cases){baseline_words}",
                        low + width,
                        share * 100.0,
                        recent[bin]
                    ),
                }
            })
            .collect();
        finish(&mut chart, &root, SeriesLabelPosition::UpperRight, 12)
    });
    with_hover(svg, &spots)
}

/// One period of a control chart: its label, the chart's statistic and the
/// limits it is judged against (a one-sided chart has no lower limit).
#[derive(Debug, Clone, PartialEq)]
pub struct ControlChartPoint {
    pub label: String,
    pub statistic: f64,
    pub lower_limit: Option<f64>,
    pub upper_limit: f64,
    pub cases: u64,
}

/// A control chart: the statistic day by day, its limits (drawn as a
/// stepped line, as EWMA limits widen over the first days), an optional
/// centre line, the first signal marked, and vertical marks for events.
pub fn control_chart(
    title: &str,
    statistic_name: &str,
    points: &[ControlChartPoint],
    centre: Option<f64>,
    first_signal: Option<usize>,
    markers: &[Marker],
) -> String {
    if points.is_empty() {
        return format!("<p class=\"note\">{title}: no days with cases in the window.</p>");
    }
    let count = points.len();
    let values = points.iter().flat_map(|point| {
        [
            Some(point.statistic),
            point.lower_limit,
            Some(point.upper_limit),
        ]
        .into_iter()
        .flatten()
    });
    let (low, high) = values
        .chain(centre)
        .filter(|value| value.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), value| {
            (low.min(value), high.max(value))
        });
    let margin = ((high - low) * 0.08).max(1e-3);
    let (low, high) = (low - margin, high + margin);
    let mut spots = Vec::new();
    let svg = render((760, 320), |root| {
        let labels: Vec<&str> = points.iter().map(|point| point.label.as_str()).collect();
        let mut chart = period_axes(&root, title, &labels, "Day", statistic_name, low..high)?;
        chart
            .draw_series(DashedLineSeries::new(
                points
                    .iter()
                    .enumerate()
                    .map(|(index, point)| (index as f64, point.upper_limit)),
                6,
                4,
                ACCENT.stroke_width(1),
            ))?
            .label("control limit")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], ACCENT));
        let lower: Vec<(f64, f64)> = points
            .iter()
            .enumerate()
            .filter_map(|(index, point)| point.lower_limit.map(|limit| (index as f64, limit)))
            .collect();
        if !lower.is_empty() {
            chart.draw_series(DashedLineSeries::new(lower, 6, 4, ACCENT.stroke_width(1)))?;
        }
        if let Some(centre) = centre {
            chart
                .draw_series(LineSeries::new(
                    [(-0.5, centre), (count as f64 - 0.5, centre)],
                    GUIDE,
                ))?
                .label(format!("in control {centre:.3}"))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], GUIDE));
        }
        chart
            .draw_series(LineSeries::new(
                points
                    .iter()
                    .enumerate()
                    .map(|(index, point)| (index as f64, point.statistic)),
                MAIN.stroke_width(2),
            ))?
            .label(statistic_name.to_owned())
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], MAIN.stroke_width(2)));
        if let Some(index) = first_signal.filter(|index| *index < count) {
            let point = &points[index];
            chart.draw_series(std::iter::once(Circle::new(
                (index as f64, point.statistic),
                6,
                ACCENT.filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("signal {}", point.label),
                (index as f64, point.statistic),
                (FONT, 12).into_font().color(&ACCENT),
            )))?;
        }
        draw_markers(&mut chart, markers, count, (low, high))?;
        spots = points
            .iter()
            .enumerate()
            .map(|(index, point)| {
                let limits = match point.lower_limit {
                    Some(lower) => format!("limits {lower:.4} to {:.4}", point.upper_limit),
                    None => format!("limit {:.4}", point.upper_limit),
                };
                HoverSpot {
                    at: chart.backend_coord(&(index as f64, point.statistic)),
                    text: format!(
                        "{}: {statistic_name} {:.4}, {limits}, {} cases",
                        point.label, point.statistic, point.cases
                    ),
                }
            })
            .collect();
        finish(&mut chart, &root, SeriesLabelPosition::UpperLeft, 12)
    });
    with_hover(svg, &spots)
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
    let mut spots = Vec::new();
    let svg = render((760, 380), |root| {
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
        spots = points
            .iter()
            .map(|point| HoverSpot {
                at: chart.backend_coord(&(point.cases as f64, point.proportion)),
                text: format!(
                    "{}: {metric} {:.3} over {} cases{}",
                    point.label,
                    point.proportion,
                    point.cases,
                    if point.outside {
                        ", outside the 99.8% limits"
                    } else {
                        ""
                    }
                ),
            })
            .collect();
        finish(&mut chart, &root, SeriesLabelPosition::LowerRight, 12)
    });
    with_hover(svg, &spots)
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
        let drawn_text: Vec<&str> = svg
            .split("<text")
            .skip(1)
            .filter_map(|element| element.split("</text>").next())
            .collect();
        assert!(
            drawn_text
                .iter()
                .any(|text| text.trim_end().ends_with(">\nrcs-main"))
                && !drawn_text.iter().any(|text| text.contains("rmv-main")),
            "only units outside the limits are labelled: {drawn_text:?}"
        );
        assert!(svg.contains("<title>rmv-main: Sensitivity 0.910 over 800 cases</title>"));
        assert!(svg.contains(
            "<title>rcs-main: Sensitivity 0.700 over 600 cases, outside the 99.8% limits</title>"
        ));
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
    fn every_rate_point_has_its_values_on_hover() {
        let svg = rate_chart(
            "Sensitivity by week",
            "Sensitivity",
            &[point("2026-01-05", 0.9), point("2026-01-12", 0.85)],
            None,
            &[],
        );
        assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
        assert!(svg.contains(
            "<title>2026-01-12: Sensitivity 0.850 (95% CI 0.800 to 0.900), 100 cases</title>"
        ));
        let hover_group = svg.find("class=\"hover\"").expect("the hover group");
        assert!(
            hover_group > svg.find("Week starting").expect("the axis"),
            "the hover marks lie on top of the drawing"
        );
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn hover_text_is_escaped() {
        let svg = with_hover(
            "<svg></svg>".to_owned(),
            &[HoverSpot {
                at: (1, 2),
                text: "a <b> & \"c\"".to_owned(),
            }],
        );
        assert!(
            svg.contains("<title>a &lt;b&gt; &amp; &quot;c&quot;</title>"),
            "{svg}"
        );
        assert_eq!(with_hover("<p>note</p>".to_owned(), &[]), "<p>note</p>");
    }

    #[test]
    fn a_score_distribution_shows_the_window_against_the_baseline() {
        let recent = [0, 10, 30, 60];
        let baseline = [10, 20, 30, 40];
        let svg = score_distribution_chart(
            "Scores, last 30 days",
            "last 30 days",
            &recent,
            Some(&baseline),
        );
        for expected in [
            "Scores, last 30 days",
            "Share of scored cases",
            "baseline",
            "<title>scores 0.75 to 1.00: 60.0% of the window (60 cases); baseline 40.0%</title>",
            "<title>scores 0.00 to 0.25: 0.0% of the window (0 cases); baseline 10.0%</title>",
        ] {
            assert!(svg.contains(expected), "{expected}");
        }
        // A baseline of another binning is not drawn against the window.
        let unmatched = score_distribution_chart("t", "w", &recent, Some(&[1, 2]));
        assert!(!unmatched.contains("baseline"));
        assert!(score_distribution_chart("t", "w", &[0, 0], None).contains("no scored cases"));
    }

    #[test]
    fn a_control_chart_draws_limits_and_marks_the_first_signal() {
        let points: Vec<ControlChartPoint> = [0.0, 1.2, 2.9, 4.4]
            .iter()
            .enumerate()
            .map(|(day, statistic)| ControlChartPoint {
                label: format!("2026-03-0{}", day + 1),
                statistic: *statistic,
                lower_limit: None,
                upper_limit: 4.0,
                cases: 50,
            })
            .collect();
        let svg = control_chart("CUSUM of discordance", "CUSUM", &points, None, Some(3), &[]);
        for expected in [
            "CUSUM of discordance",
            "control limit",
            "signal 2026-03-04",
            "<title>2026-03-04: CUSUM 4.4000, limit 4.0000, 50 cases</title>",
        ] {
            assert!(svg.contains(expected), "{expected}");
        }
        let ewma_point = ControlChartPoint {
            label: "2026-03-01".to_owned(),
            statistic: 0.11,
            lower_limit: Some(0.08),
            upper_limit: 0.12,
            cases: 40,
        };
        let ewma = control_chart("EWMA", "EWMA", &[ewma_point], Some(0.1), None, &[]);
        assert!(ewma.contains("in control 0.100"));
        assert!(ewma.contains("limits 0.0800 to 0.1200"));
        assert!(!ewma.contains("signal"));
        assert!(control_chart("t", "s", &[], None, None, &[]).contains("no days with cases"));
    }

    #[test]
    fn no_points_give_a_note() {
        let note = rate_chart("Sensitivity by week", "Sensitivity", &[], None, &[]);
        assert!(note.contains("no periods with cases yet"));
    }
}

/// A deployment's monitoring by ISO week (Monday first): the weekly rates
/// with their 95% Wilson intervals, and the marks for a model version seen
/// for the first time and for each decision within the weeks shown.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WeeklySeries {
    /// The Mondays of the weeks with events, oldest first.
    pub weeks: Vec<jiff::civil::Date>,
    /// Cases the tool flagged among those it decided.
    pub positive_rate: Vec<RatePoint>,
    /// Among cases with an outcome.
    pub sensitivity: Vec<RatePoint>,
    pub specificity: Vec<RatePoint>,
    pub ppv: Vec<RatePoint>,
    pub markers: Vec<Marker>,
}

#[derive(Debug, Default)]
struct WeekCounts {
    decided: u64,
    positive_decisions: u64,
    true_positives: u64,
    false_negatives: u64,
    true_negatives: u64,
    false_positives: u64,
    model_versions: Vec<String>,
}

/// The Monday of the ISO week holding `day`.
pub fn monday_of(day: jiff::civil::Date) -> jiff::civil::Date {
    day.checked_sub(jiff::Span::new().days(i64::from(day.weekday().to_monday_zero_offset())))
        .unwrap_or(day)
}

/// Gathers daily aggregates into weeks; each decision marks the week it
/// falls in with the state it moved to.
pub fn weekly_series(
    aggregates: &[(
        vigil_store::vigil_monitor::DayKey,
        vigil_store::vigil_monitor::DayAggregate,
    )],
    decisions: &[vigil_store::DecisionRecord],
) -> WeeklySeries {
    use std::collections::BTreeMap;
    let mut weeks: BTreeMap<jiff::civil::Date, WeekCounts> = BTreeMap::new();
    for (key, day) in aggregates {
        let week = weeks.entry(monday_of(key.day)).or_default();
        week.decided += day.decided;
        week.positive_decisions += day.positive_decisions;
        week.true_positives += day.outcomes.true_positives;
        week.false_negatives += day.outcomes.false_negatives;
        week.true_negatives += day.outcomes.true_negatives;
        week.false_positives += day.outcomes.false_positives;
        if !week.model_versions.contains(&key.model_version) {
            week.model_versions.push(key.model_version.clone());
        }
    }
    let mut markers = Vec::new();
    let mut seen_versions: Vec<&str> = Vec::new();
    for (index, counts) in weeks.values().enumerate() {
        for model_version in &counts.model_versions {
            if !seen_versions.contains(&model_version.as_str()) {
                if !seen_versions.is_empty() {
                    markers.push(Marker {
                        index,
                        label: format!("model {model_version}"),
                    });
                }
                seen_versions.push(model_version);
            }
        }
    }
    for decision in decisions {
        let day = decision
            .decision
            .decided_at
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date();
        if let Some(index) = weeks.keys().position(|monday| *monday == monday_of(day)) {
            markers.push(Marker {
                index,
                label: decision.decision.to.as_str().to_owned(),
            });
        }
    }
    let rate_points = |rate: &dyn Fn(&WeekCounts) -> (u64, u64)| -> Vec<RatePoint> {
        weeks
            .iter()
            .filter_map(|(monday, counts)| {
                let (successes, trials) = rate(counts);
                let proportion = vigil_stats::interval::Proportion::new(successes, trials).ok()?;
                let interval = proportion.wilson(vigil_stats::ConfidenceLevel::NINETY_FIVE);
                Some(RatePoint {
                    label: monday.to_string(),
                    estimate: interval.estimate,
                    low: interval.low,
                    high: interval.high,
                    cases: trials,
                })
            })
            .collect()
    };
    WeeklySeries {
        positive_rate: rate_points(&|week| (week.positive_decisions, week.decided)),
        sensitivity: rate_points(&|week| {
            (
                week.true_positives,
                week.true_positives + week.false_negatives,
            )
        }),
        specificity: rate_points(&|week| {
            (
                week.true_negatives,
                week.true_negatives + week.false_positives,
            )
        }),
        ppv: rate_points(&|week| {
            (
                week.true_positives,
                week.true_positives + week.false_positives,
            )
        }),
        weeks: weeks.keys().copied().collect(),
        markers,
    }
}
