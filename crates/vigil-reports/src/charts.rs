//! SVG charts drawn with plotters: ROC curve with the pointwise Wilson
//! interval of sensitivity at each threshold, reliability diagram, and
//! subgroup forest plots.

use plotters::prelude::*;
use vigil_evaluation::evaluate::{CalibrationResult, Evaluation, SubgroupResult};
use vigil_evaluation::protocol::IntervalMetric;
use vigil_stats::ConfidenceLevel;
use vigil_stats::interval::Proportion;

pub(crate) const MAIN: RGBColor = RGBColor(0x1f, 0x4e, 0x9a);
pub(crate) const ACCENT: RGBColor = RGBColor(0xb0, 0x3a, 0x2e);
pub(crate) const GUIDE: RGBColor = RGBColor(0x80, 0x80, 0x80);
pub(crate) const FONT: &str = "sans-serif";

pub(crate) type ChartResult = Result<(), Box<dyn std::error::Error>>;

/// Renders into an SVG string; a drawing failure becomes a short note in
/// place of the chart rather than a failed report.
pub(crate) fn render(
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> ChartResult,
) -> String {
    let mut svg = String::new();
    let outcome = {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(root)
    };
    match outcome {
        Ok(()) => svg,
        Err(error) => format!("<p class=\"note\">This chart could not be drawn: {error}</p>"),
    }
}

/// A chart on two real axes, drawn into an SVG string.
pub(crate) type SvgChart<'area, 'svg> = ChartContext<
    'area,
    SVGBackend<'svg>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Draws the legend (boxed, at `position`, in `font_size`) and writes the
/// drawing out: the last step of every chart.
pub(crate) fn finish<'svg: 'area, 'area>(
    chart: &mut SvgChart<'area, 'svg>,
    root: &DrawingArea<SVGBackend<'svg>, plotters::coord::Shift>,
    position: SeriesLabelPosition,
    font_size: u32,
) -> ChartResult {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, font_size))
        .background_style(WHITE.mix(0.9))
        .border_style(GUIDE)
        .draw()?;
    root.present()?;
    Ok(())
}

/// ROC curve, the pointwise Wilson band of sensitivity at each threshold,
/// the chance diagonal and the operating point.
pub fn roc_chart(evaluation: &Evaluation) -> String {
    render((560, 500), |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("ROC curve (AUC {:.3})", evaluation.auc.estimate),
                (FONT, 18),
            )
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(58)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc("1 − specificity (false-positive rate)")
            .y_desc("Sensitivity (true-positive rate)")
            .axis_desc_style((FONT, 14))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        let mut band: Vec<(f64, f64)> = vec![(0.0, 0.0)];
        band.extend(
            evaluation
                .roc_plot
                .iter()
                .map(|p| (p.false_positive_rate, p.true_positive_rate_high)),
        );
        band.extend(
            evaluation
                .roc_plot
                .iter()
                .rev()
                .map(|p| (p.false_positive_rate, p.true_positive_rate_low)),
        );
        chart
            .draw_series(std::iter::once(Polygon::new(band, MAIN.mix(0.18))))?
            .label(format!(
                "{:.0}% pointwise interval of sensitivity",
                evaluation.confidence_level * 100.0
            ))
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 20, y + 5)], MAIN.mix(0.18).filled())
            });
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                GUIDE.stroke_width(1),
            ))?
            .label("chance")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], GUIDE));
        let curve = std::iter::once((0.0, 0.0)).chain(
            evaluation
                .roc_plot
                .iter()
                .map(|p| (p.false_positive_rate, p.true_positive_rate)),
        );
        chart
            .draw_series(LineSeries::new(curve, MAIN.stroke_width(2)))?
            .label(format!("{} (empirical)", evaluation.score_column))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], MAIN.stroke_width(2)));
        if let (Some(sensitivity), Some(specificity)) =
            (&evaluation.sensitivity, &evaluation.specificity)
        {
            chart
                .draw_series(std::iter::once(Circle::new(
                    (1.0 - specificity.estimate, sensitivity.estimate),
                    6,
                    ACCENT.filled(),
                )))?
                .label(format!(
                    "operating point (threshold {})",
                    evaluation.threshold
                ))
                .legend(|(x, y)| Circle::new((x + 10, y), 5, ACCENT.filled()));
        }
        finish(&mut chart, &root, SeriesLabelPosition::LowerRight, 13)
    })
}

/// Reliability diagram: observed fraction of positives against the mean
/// score in each bin, with Wilson intervals, and the line of perfect
/// calibration.
pub fn calibration_chart(calibration: &CalibrationResult, level: ConfidenceLevel) -> String {
    render((560, 500), |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "Reliability diagram ({} equal-width bins)",
                    calibration.ece_bins
                ),
                (FONT, 18),
            )
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(58)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
        chart
            .configure_mesh()
            .x_desc("Mean predicted probability in bin")
            .y_desc("Observed fraction positive")
            .axis_desc_style((FONT, 14))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], GUIDE))?
            .label("perfect calibration")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], GUIDE));
        let points: Vec<(f64, f64, f64, f64)> = calibration
            .bins
            .iter()
            .filter_map(|bin| {
                let mean = bin.mean_score?;
                let observed = bin.observed_fraction?;
                let interval = Proportion::new(bin.positives, bin.n).ok()?.wilson(level);
                Some((mean, observed, interval.low, interval.high))
            })
            .collect();
        chart.draw_series(points.iter().map(|&(x, _, low, high)| {
            PathElement::new([(x, low), (x, high)], MAIN.stroke_width(1))
        }))?;
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|&(x, y, _, _)| (x, y)),
                MAIN.stroke_width(2),
            ))?
            .label("observed (with Wilson interval)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], MAIN.stroke_width(2)));
        chart.draw_series(
            points
                .iter()
                .map(|&(x, y, _, _)| Circle::new((x, y), 4, MAIN.filled())),
        )?;
        finish(&mut chart, &root, SeriesLabelPosition::UpperLeft, 13)
    })
}

/// Forest plot of one metric across subgroups, with the overall estimate as
/// a vertical reference line. Subgroups whose metric was not reported are
/// listed but not drawn; an estimate without an interval is drawn without
/// whiskers.
pub fn forest_chart(
    title: &str,
    subgroups: &[SubgroupResult],
    metric: IntervalMetric,
    overall: f64,
) -> String {
    let rows = subgroups.len().max(1);
    let height = 90 + 26 * rows as u32;
    let labels: Vec<String> = subgroups
        .iter()
        .map(|group| {
            let base = format!("{} = {} (n={})", group.column, group.value, group.n);
            match group.metric(metric) {
                None => format!("{base}: not reported"),
                Some(estimate) if estimate.ci_low.is_none() || estimate.ci_high.is_none() => {
                    format!("{base}: no interval")
                }
                Some(_) => base,
            }
        })
        .collect();
    // (estimate, interval) of each subgroup, where reported.
    type Drawn = (f64, Option<(f64, f64)>);
    let estimates: Vec<Option<Drawn>> = subgroups
        .iter()
        .map(|group| {
            group
                .metric(metric)
                .map(|e| (e.estimate, e.ci_low.zip(e.ci_high)))
        })
        .collect();
    let low = estimates
        .iter()
        .flatten()
        .map(|&(estimate, interval)| interval.map_or(estimate, |(low, _)| low))
        .fold(overall, f64::min);
    let x_start = ((low - 0.05) * 10.0).floor() / 10.0;
    render((720, height), |root| {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "{title} (squares: estimates; bars: intervals; grey line: overall {overall:.3})"
                ),
                (FONT, 15),
            )
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(300)
            .build_cartesian_2d(x_start.max(0.0)..1.0, -0.5..(rows as f64 - 0.5))?;
        chart
            .configure_mesh()
            .y_labels(rows)
            .y_label_formatter(&|y: &f64| {
                let index = y.round();
                if (y - index).abs() < 1e-6 && index >= 0.0 {
                    labels
                        .get(rows - 1 - index as usize)
                        .cloned()
                        .unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_desc("Estimate with confidence interval")
            .axis_desc_style((FONT, 14))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        let y_of = |index: usize| (rows - 1 - index) as f64;
        chart.draw_series(LineSeries::new(
            [(overall, -0.5), (overall, rows as f64 - 0.5)],
            GUIDE,
        ))?;
        chart.draw_series(
            estimates
                .iter()
                .enumerate()
                .filter_map(|(index, estimate)| {
                    let (_, interval) = (*estimate)?;
                    let (low, high) = interval?;
                    Some(PathElement::new(
                        [(low, y_of(index)), (high, y_of(index))],
                        MAIN.stroke_width(2),
                    ))
                }),
        )?;
        chart.draw_series(
            estimates
                .iter()
                .enumerate()
                .filter_map(|(index, estimate)| {
                    estimate.map(|(estimate, _)| {
                        Rectangle::new(
                            [
                                (estimate - 0.004, y_of(index) - 0.18),
                                (estimate + 0.004, y_of(index) + 0.18),
                            ],
                            MAIN.filled(),
                        )
                    })
                }),
        )?;
        // The caption explains the marks: a legend box would cover the rows.
        root.present()?;
        Ok(())
    })
}
