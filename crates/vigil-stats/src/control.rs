//! Statistical process control for monitoring a deployed tool: the Shewhart
//! p-chart and the EWMA chart with exact time-varying limits (Montgomery,
//! Introduction to Statistical Quality Control, §7.2 and §9.2), the Bernoulli
//! CUSUM with log-likelihood-ratio weights (Reynolds and Stoumbos 1999;
//! Steiner, Cook, Farewell and Treasure 2000) whose decision interval is set
//! from a target in-control average run length by the Markov-chain method of
//! Brook and Evans (1972), and funnel-plot limits for comparing sites by the
//! exact binomial method with interpolation (Spiegelhalter 2005, Statistics
//! in Medicine 24:1185, appendix A.1.1).

use crate::StatsError;
use crate::distributions::{binomial_cdf, binomial_quantile};

/// Where a plotted value lies relative to its control or funnel limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitPosition {
    /// Between the limits, or exactly on one of them.
    Within,
    /// Strictly above the upper limit.
    Above,
    /// Strictly below the lower limit.
    Below,
}

impl LimitPosition {
    /// Classifies `value` against the closed interval [lower, upper].
    pub fn classify(value: f64, lower: f64, upper: f64) -> Self {
        if value > upper {
            LimitPosition::Above
        } else if value < lower {
            LimitPosition::Below
        } else {
            LimitPosition::Within
        }
    }

    /// True unless the value lies within the limits.
    pub fn is_signal(self) -> bool {
        self != LimitPosition::Within
    }
}

/// Checks one (events, cases) pair of a chart or funnel plot.
fn check_count(events: u64, cases: u64, what: &'static str) -> Result<(), StatsError> {
    if cases == 0 {
        return Err(StatsError::Undefined {
            what,
            reason: "a period or unit has no cases (n = 0); leave it out",
        });
    }
    if events > cases {
        return Err(StatsError::InvalidParameter {
            name: "events in a period or unit",
            value: events as f64,
            reason: "exceeds its number of cases",
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Shewhart p-chart
// ---------------------------------------------------------------------------

/// One period of a p-chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PChartPoint {
    pub events: u64,
    pub cases: u64,
    /// events / cases.
    pub proportion: f64,
    /// max(0, p̄ − 3·√(p̄(1 − p̄)/n)).
    pub lower_limit: f64,
    /// min(1, p̄ + 3·√(p̄(1 − p̄)/n)).
    pub upper_limit: f64,
    pub position: LimitPosition,
}

/// A Shewhart p-chart with limits that vary with each period's size.
#[derive(Debug, Clone, PartialEq)]
pub struct PChart {
    /// The centre line p̄.
    pub centre: f64,
    /// True when p̄ was given rather than pooled from the data.
    pub centre_given: bool,
    pub points: Vec<PChartPoint>,
}

impl PChart {
    /// Indices of the periods outside their limits.
    pub fn signals(&self) -> Vec<usize> {
        (0..self.points.len())
            .filter(|&index| self.points[index].position.is_signal())
            .collect()
    }
}

/// Shewhart p-chart of (events, cases) per period (Montgomery §7.2).
///
/// The centre line p̄ is `centre` when given (for example the rate accepted
/// at validation), otherwise the pooled Σ events / Σ cases. Period i has the
/// 3-sigma limits p̄ ± 3·√(p̄(1 − p̄)/nᵢ), clipped to [0, 1], and is flagged
/// when its proportion lies strictly outside them.
pub fn p_chart(counts: &[(u64, u64)], centre: Option<f64>) -> Result<PChart, StatsError> {
    if counts.is_empty() {
        return Err(StatsError::Empty);
    }
    for &(events, cases) in counts {
        check_count(events, cases, "p-chart proportion")?;
    }
    let centre_given = centre.is_some();
    let centre = match centre {
        Some(value) if value.is_finite() && (0.0..=1.0).contains(&value) => value,
        Some(value) => {
            return Err(StatsError::InvalidParameter {
                name: "p-chart centre line",
                value,
                reason: "must be a proportion in [0, 1]",
            });
        }
        None => {
            let events: u128 = counts.iter().map(|&(events, _)| events as u128).sum();
            let cases: u128 = counts.iter().map(|&(_, cases)| cases as u128).sum();
            events as f64 / cases as f64
        }
    };
    let points = counts
        .iter()
        .map(|&(events, cases)| {
            let proportion = events as f64 / cases as f64;
            let half_width = 3.0 * (centre * (1.0 - centre) / cases as f64).sqrt();
            let lower_limit = (centre - half_width).max(0.0);
            let upper_limit = (centre + half_width).min(1.0);
            PChartPoint {
                events,
                cases,
                proportion,
                lower_limit,
                upper_limit,
                position: LimitPosition::classify(proportion, lower_limit, upper_limit),
            }
        })
        .collect();
    Ok(PChart {
        centre,
        centre_given,
        points,
    })
}

// ---------------------------------------------------------------------------
// EWMA chart
// ---------------------------------------------------------------------------

/// One observation of an EWMA chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EwmaPoint {
    /// The observation x_t.
    pub value: f64,
    /// z_t = λ·x_t + (1 − λ)·z_{t−1}.
    pub statistic: f64,
    pub lower_limit: f64,
    pub upper_limit: f64,
    pub position: LimitPosition,
}

/// An EWMA chart with exact time-varying limits.
#[derive(Debug, Clone, PartialEq)]
pub struct EwmaChart {
    pub target: f64,
    pub sigma: f64,
    pub lambda: f64,
    pub width: f64,
    /// The limits' half-width once (1 − λ)^{2t} has vanished,
    /// L·σ·√(λ/(2 − λ)).
    pub asymptotic_half_width: f64,
    pub points: Vec<EwmaPoint>,
    /// Index of the first observation whose statistic is outside its limits.
    pub first_signal: Option<usize>,
}

/// EWMA chart of a mean or a proportion (Montgomery §9.2).
///
/// With z₀ = `target` and z_t = λ·x_t + (1 − λ)·z_{t−1} for t = 1, 2, …, the
/// limits of observation t are target ± L·σ·√(λ/(2 − λ)·(1 − (1 − λ)^{2t})),
/// where σ is the in-control standard deviation of one observation (for a
/// proportion of n cases, √(p₀(1 − p₀)/n)) and L is `width`. The limits start
/// narrow and widen towards the asymptote L·σ·√(λ/(2 − λ)). λ = 1 gives a
/// Shewhart chart. The chart is not reset after a signal.
pub fn ewma(
    values: &[f64],
    target: f64,
    sigma: f64,
    lambda: f64,
    width: f64,
) -> Result<EwmaChart, StatsError> {
    if values.is_empty() {
        return Err(StatsError::Empty);
    }
    crate::sample::require_finite(values, "EWMA observation")?;
    if !target.is_finite() {
        return Err(StatsError::InvalidParameter {
            name: "EWMA target",
            value: target,
            reason: "must be finite",
        });
    }
    if !(sigma.is_finite() && sigma > 0.0) {
        return Err(StatsError::InvalidParameter {
            name: "EWMA sigma",
            value: sigma,
            reason: "must be positive and finite",
        });
    }
    if !(lambda > 0.0 && lambda <= 1.0) {
        return Err(StatsError::InvalidParameter {
            name: "EWMA lambda",
            value: lambda,
            reason: "must lie in (0, 1]",
        });
    }
    if !(width.is_finite() && width > 0.0) {
        return Err(StatsError::InvalidParameter {
            name: "EWMA limit width L",
            value: width,
            reason: "must be positive and finite",
        });
    }
    let asymptotic_variance_factor = lambda / (2.0 - lambda);
    let asymptotic_half_width = width * sigma * asymptotic_variance_factor.sqrt();
    let decay_squared = (1.0 - lambda) * (1.0 - lambda);
    // (1 − λ)^{2t}, updated by one multiplication per observation; it
    // underflows gracefully to zero.
    let mut decay_power = 1.0;
    let mut statistic = target;
    let mut first_signal = None;
    let mut points = Vec::with_capacity(values.len());
    for (index, &value) in values.iter().enumerate() {
        decay_power *= decay_squared;
        statistic = lambda * value + (1.0 - lambda) * statistic;
        let half_width = width * sigma * (asymptotic_variance_factor * (1.0 - decay_power)).sqrt();
        let lower_limit = target - half_width;
        let upper_limit = target + half_width;
        let position = LimitPosition::classify(statistic, lower_limit, upper_limit);
        if position.is_signal() && first_signal.is_none() {
            first_signal = Some(index);
        }
        points.push(EwmaPoint {
            value,
            statistic,
            lower_limit,
            upper_limit,
            position,
        });
    }
    Ok(EwmaChart {
        target,
        sigma,
        lambda,
        width,
        asymptotic_half_width,
        points,
        first_signal,
    })
}

// ---------------------------------------------------------------------------
// Bernoulli CUSUM
// ---------------------------------------------------------------------------

/// Which change a Bernoulli CUSUM is built to detect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CusumDirection {
    /// p1 > p0: an increase in the event rate (for example more missed
    /// cancers).
    Upper,
    /// p1 < p0: a decrease in the event rate.
    Lower,
}

/// A Bernoulli CUSUM chart (Reynolds and Stoumbos 1999) with the
/// log-likelihood-ratio weights of Steiner et al. (2000).
///
/// Each observation is an event (`true`) or a non-event. An event adds
/// ln(p1/p0) and a non-event adds ln((1 − p1)/(1 − p0)); the statistic is
/// S_t = max(0, S_{t−1} + w_t) with S₀ = 0, and the chart signals when
/// S_t ≥ h, the decision interval, after which it restarts from zero. The same
/// formula gives the upper chart (p1 > p0: events push S up) and the lower
/// chart (p1 < p0: non-events push S up); run both to watch both directions.
///
/// The fields are private so that every chart has 0 < p0, p1 < 1, p0 ≠ p1
/// and h > 0; build one with [`BernoulliCusum::new`] or
/// [`BernoulliCusum::for_target_arl`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BernoulliCusum {
    p0: f64,
    p1: f64,
    decision_interval: f64,
}

/// The path of a Bernoulli CUSUM over a sequence of observations.
#[derive(Debug, Clone, PartialEq)]
pub struct CusumRun {
    /// S_t after each observation, before any restart (so a signalling
    /// observation shows a value ≥ h, and the next starts again from 0).
    pub statistics: Vec<f64>,
    /// Indices of every observation at which the chart signalled.
    pub signals: Vec<usize>,
    /// Index of the first signal.
    pub first_signal: Option<usize>,
}

/// Below this number of grid states the Markov chain is refined.
const CUSUM_MINIMUM_STATES: f64 = 200.0;
/// The Markov chain's larger weight is matched to this relative accuracy when
/// a grid of at most [`CUSUM_PREFERRED_STATES`] states allows it.
const CUSUM_WEIGHT_TOLERANCE: f64 = 1e-6;
/// Grids are refined for accuracy only up to this many states.
const CUSUM_PREFERRED_STATES: f64 = 200_000.0;
/// The weight accuracy of the coarse lattice a decision interval is
/// searched on.
const CUSUM_COARSE_WEIGHT_TOLERANCE: f64 = 1e-3;
/// The coarse lattice is refined only up to this many states.
const CUSUM_COARSE_STATES: f64 = 20_000.0;
/// Beyond this many states (an in-control rate far below 10⁻⁴) the run
/// length is not computed.
const CUSUM_MAXIMUM_STATES: f64 = 2_000_000.0;
/// Target run lengths above this are refused (they exceed any monitoring
/// horizon and only cost computation).
const CUSUM_MAXIMUM_TARGET_ARL: f64 = 1e9;

/// The integer lattice on which the Markov chain runs: the statistic is an
/// integer multiple of `step`, each weight is an integer number of steps,
/// and the chart signals at `states` steps or more.
#[derive(Debug, Clone, Copy, PartialEq)]
struct CusumGrid {
    step: f64,
    event_steps: i64,
    non_event_steps: i64,
    states: i64,
}

impl BernoulliCusum {
    /// Checks 0 < p0, p1 < 1, p0 ≠ p1 and a positive finite decision
    /// interval.
    pub fn new(p0: f64, p1: f64, decision_interval: f64) -> Result<Self, StatsError> {
        check_rates(p0, p1)?;
        if !(decision_interval.is_finite() && decision_interval > 0.0) {
            return Err(StatsError::InvalidParameter {
                name: "CUSUM decision interval h",
                value: decision_interval,
                reason: "must be positive and finite",
            });
        }
        Ok(BernoulliCusum {
            p0,
            p1,
            decision_interval,
        })
    }

    /// The chart for p0 and p1 with (nearly) the smallest decision interval
    /// whose in-control average run length (from S₀ = 0) reaches
    /// `target_arl`.
    ///
    /// The search runs on a coarse lattice (the larger weight matched to
    /// 10⁻³, at most 20,000 states), where a run length costs well under a
    /// millisecond and is within about 1% of the precise one: h is
    /// bracketed by doubling and bisected until the bracket is narrower than
    /// half a coarse step. The run length of the answer is then computed on
    /// the precise lattice of [`BernoulliCusum::average_run_length`], and
    /// secant steps on log ARL move h until that run length lies between
    /// the target and 1% above it (the h with the smallest run length that
    /// reaches the target is kept). The ARL of a Bernoulli CUSUM is a step
    /// function of h, so the achieved ARL is at least the target and can
    /// exceed it by a few per cent when the weights are coarse;
    /// [`BernoulliCusum::in_control_arl`] reports it. The target must exceed
    /// 1/P(upward step), the run length of an arbitrarily small h (every
    /// upward step signals), and be at most 10⁹.
    pub fn for_target_arl(p0: f64, p1: f64, target_arl: f64) -> Result<Self, StatsError> {
        check_rates(p0, p1)?;
        let probe = BernoulliCusum {
            p0,
            p1,
            decision_interval: 1.0,
        };
        let upward_probability = if probe.event_weight() > 0.0 {
            p0
        } else {
            1.0 - p0
        };
        let shortest = 1.0 / upward_probability;
        if !(target_arl.is_finite()
            && target_arl > shortest
            && target_arl <= CUSUM_MAXIMUM_TARGET_ARL)
        {
            return Err(StatsError::InvalidParameter {
                name: "target in-control ARL",
                value: target_arl,
                reason: "must exceed 1/P(upward step), the run length of the smallest decision interval, \
                         and be at most 10⁹",
            });
        }
        let coarse_grid = |decision_interval: f64| {
            lattice(
                p0,
                p1,
                decision_interval,
                CUSUM_COARSE_WEIGHT_TOLERANCE,
                CUSUM_COARSE_STATES,
            )
        };
        let coarse_arl =
            |decision_interval: f64| zero_state_arl(&coarse_grid(decision_interval)?, p0);
        let precise_arl = |decision_interval: f64| {
            BernoulliCusum {
                p0,
                p1,
                decision_interval,
            }
            .average_run_length(p0)
        };
        let mut low = 0.0_f64;
        let mut high = probe
            .event_weight()
            .abs()
            .max(probe.non_event_weight().abs());
        let mut doublings = 0;
        while coarse_arl(high)? < target_arl {
            low = high;
            high *= 2.0;
            doublings += 1;
            if doublings > 60 {
                return Err(StatsError::NoConvergence {
                    what: "CUSUM decision interval search",
                    reason: "no decision interval reached the target run length",
                });
            }
        }
        for _ in 0..200 {
            let step = coarse_grid(high)?.step;
            if high - low <= 0.5 * step {
                break;
            }
            let middle = 0.5 * (low + high);
            if coarse_arl(middle)? >= target_arl {
                high = middle;
            } else {
                low = middle;
            }
        }
        // On a lattice every h in ((K − 1)Δ, KΔ] has the same run length;
        // the middle of the coarse cell at the top of the bracket keeps the
        // chart's floating-point sums away from the boundary.
        let grid = coarse_grid(high)?;
        let coarse_step = grid.step;
        let decision_interval =
            ((grid.states as f64 - 0.5) * grid.step).max(low.max(0.0) + 0.5 * (high - low));
        // The local slope of log ARL in h, from the coarse lattice.
        let slope = {
            let span = (16.0 * coarse_step).min(0.25 * decision_interval);
            let upper = coarse_arl(decision_interval + span)?;
            let lower = coarse_arl((decision_interval - span).max(0.5 * decision_interval))?;
            ((upper / lower).ln()
                / (decision_interval + span
                    - (decision_interval - span).max(0.5 * decision_interval)))
            .max(1e-9)
        };
        // Secant steps on log ARL in h towards 0.2% above the target, keeping
        // the h with the smallest run length that reaches the target; done
        // once that run length is within 1% of the target.
        let aim = (target_arl * 1.002).ln();
        let mut best: Option<(f64, f64)> = None;
        let keep = |best: &mut Option<(f64, f64)>, candidate: f64, arl: f64| {
            if arl >= target_arl && best.is_none_or(|(_, kept)| arl < kept) {
                *best = Some((candidate, arl));
            }
        };
        let (mut previous, mut previous_log) =
            (decision_interval, precise_arl(decision_interval)?.ln());
        keep(&mut best, previous, previous_log.exp());
        let mut next = previous + (aim - previous_log) / slope;
        // A nudge that grows while the run length stays on one step of its
        // staircase, so that a flat stretch is crossed in a few evaluations.
        let mut nudge = 0.01 * coarse_step;
        for _ in 0..30 {
            if best.is_some_and(|(_, arl)| arl <= target_arl * 1.01) {
                break;
            }
            let next_log = precise_arl(next)?.ln();
            keep(&mut best, next, next_log.exp());
            let secant = (next_log - previous_log) / (next - previous);
            // A secant across a jump of the staircase is steeper than the
            // curve, and one along a tread is flat: the coarse slope bounds
            // it from below, and a move is at most eight coarse steps.
            let local = if secant.is_finite() && secant > 0.0 {
                secant.max(0.5 * slope)
            } else {
                nudge *= 4.0;
                slope
            };
            previous = next;
            previous_log = next_log;
            let limit = 8.0 * coarse_step;
            next = previous
                + ((aim - previous_log) / local).clamp(-limit, limit)
                + nudge.copysign(aim - previous_log);
        }
        let Some((decision_interval, _)) = best else {
            return Err(StatsError::NoConvergence {
                what: "CUSUM decision interval search",
                reason: "the precise run length did not reach the target",
            });
        };
        Ok(BernoulliCusum {
            p0,
            p1,
            decision_interval,
        })
    }

    /// The in-control event rate.
    pub fn p0(&self) -> f64 {
        self.p0
    }

    /// The out-of-control event rate the chart is tuned to detect.
    pub fn p1(&self) -> f64 {
        self.p1
    }

    /// The decision interval h.
    pub fn decision_interval(&self) -> f64 {
        self.decision_interval
    }

    /// Upper when p1 > p0, lower when p1 < p0.
    pub fn direction(&self) -> CusumDirection {
        if self.p1 > self.p0 {
            CusumDirection::Upper
        } else {
            CusumDirection::Lower
        }
    }

    /// ln(p1/p0), added for an event.
    pub fn event_weight(&self) -> f64 {
        (self.p1 / self.p0).ln()
    }

    /// ln((1 − p1)/(1 − p0)), added for a non-event.
    pub fn non_event_weight(&self) -> f64 {
        ((1.0 - self.p1) / (1.0 - self.p0)).ln()
    }

    /// Runs the chart over `outcomes` (`true` = event), restarting from zero
    /// after each signal.
    pub fn run(&self, outcomes: &[bool]) -> CusumRun {
        let event_weight = self.event_weight();
        let non_event_weight = self.non_event_weight();
        let mut statistic = 0.0_f64;
        let mut statistics = Vec::with_capacity(outcomes.len());
        let mut signals = Vec::new();
        for (index, &event) in outcomes.iter().enumerate() {
            let weight = if event {
                event_weight
            } else {
                non_event_weight
            };
            statistic = (statistic + weight).max(0.0);
            statistics.push(statistic);
            if statistic >= self.decision_interval {
                signals.push(index);
                statistic = 0.0;
            }
        }
        CusumRun {
            statistics,
            first_signal: signals.first().copied(),
            signals,
        }
    }

    /// The in-control zero-state average run length, at event rate p0.
    pub fn in_control_arl(&self) -> Result<f64, StatsError> {
        self.average_run_length(self.p0)
    }

    /// Zero-state average run length (expected number of observations up to
    /// and including the first signal, from S₀ = 0) when events occur
    /// independently with probability `event_rate`: p0 gives the in-control
    /// ARL, p1 the out-of-control ARL (the expected detection delay).
    ///
    /// Method (Brook and Evans 1972): the statistic is put on a lattice of
    /// step Δ. Δ is the smaller weight's magnitude divided by an integer q,
    /// so that weight is exact; q (at least large enough for 200 states below
    /// h) is chosen so that the larger weight is a whole number of steps to a
    /// relative error of at most 10⁻⁶ when a grid of at most 200,000 states
    /// allows it, otherwise as closely as that grid allows (the error is
    /// typically below 10⁻⁵). On this lattice the chart is a finite Markov
    /// chain with states 0, …, K − 1 (K = ⌈h/Δ⌉, signal at K or more) and the
    /// ARL solves (I − Q)·ARL = 1 exactly, up to rounding; the only
    /// approximation is the rounding of the larger weight, which changes the
    /// ARL by roughly ten times that relative error.
    ///
    /// The linear system is solved by regeneration at state 0: for the
    /// states 1, …, K − 1 of the chain stopped on returning to 0 or signalling,
    /// the expected stopping time A and the probability G of signalling first
    /// are found by Gauss–Seidel sweeps in the direction of the non-event step
    /// (so the frequent small step is solved exactly within a sweep), iterated
    /// until the estimated remaining error is below 10⁻¹²; then
    /// ARL₀ = (1 + Σ P(w)·A(w)) / Σ P(w)·G(w) over the two first steps w,
    /// a ratio of positive sums that keeps full precision for large ARLs.
    pub fn average_run_length(&self, event_rate: f64) -> Result<f64, StatsError> {
        if !(event_rate > 0.0 && event_rate < 1.0) {
            return Err(StatsError::InvalidParameter {
                name: "event rate",
                value: event_rate,
                reason: "must lie strictly between 0 and 1",
            });
        }
        let grid = probe_grid(self.p0, self.p1, self.decision_interval)?;
        zero_state_arl(&grid, event_rate)
    }
}

fn check_rates(p0: f64, p1: f64) -> Result<(), StatsError> {
    for (name, value) in [
        ("CUSUM in-control rate p0", p0),
        ("CUSUM out-of-control rate p1", p1),
    ] {
        if !(value > 0.0 && value < 1.0) {
            return Err(StatsError::InvalidParameter {
                name,
                value,
                reason: "must lie strictly between 0 and 1",
            });
        }
    }
    if p0 == p1 {
        return Err(StatsError::InvalidParameter {
            name: "CUSUM out-of-control rate p1",
            value: p1,
            reason: "must differ from p0",
        });
    }
    Ok(())
}

/// The lattice for the chart (p0, p1, h); see
/// [`BernoulliCusum::average_run_length`].
fn probe_grid(p0: f64, p1: f64, decision_interval: f64) -> Result<CusumGrid, StatsError> {
    lattice(
        p0,
        p1,
        decision_interval,
        CUSUM_WEIGHT_TOLERANCE,
        CUSUM_PREFERRED_STATES,
    )
}

/// The lattice for the chart (p0, p1, h) with the larger weight matched to
/// `tolerance` when at most `preferred_states` states allow it.
fn lattice(
    p0: f64,
    p1: f64,
    decision_interval: f64,
    tolerance: f64,
    preferred_states: f64,
) -> Result<CusumGrid, StatsError> {
    let event_weight = (p1 / p0).ln();
    let non_event_weight = ((1.0 - p1) / (1.0 - p0)).ln();
    let small = event_weight.abs().min(non_event_weight.abs());
    let ratio = event_weight.abs().max(non_event_weight.abs()) / small;
    let states_for = |q: f64| decision_interval * q / small;
    let minimum_q = (CUSUM_MINIMUM_STATES * small / decision_interval)
        .ceil()
        .max(1.0);
    if states_for(minimum_q) > CUSUM_MAXIMUM_STATES {
        return Err(StatsError::InvalidParameter {
            name: "CUSUM decision interval h",
            value: decision_interval,
            reason: "h is too large relative to the smaller weight (an in-control rate far below 10⁻⁴ or \
                     an extreme h): the Markov chain would need more than 2·10⁶ states",
        });
    }
    let relative_error = |q: f64| (ratio * q - (ratio * q).round()).abs() / (ratio * q);
    let mut best_q = minimum_q;
    let mut best_error = relative_error(minimum_q);
    let mut q = minimum_q;
    while best_error > tolerance {
        q += 1.0;
        if states_for(q) > preferred_states {
            break;
        }
        let error = relative_error(q);
        if error < best_error {
            best_q = q;
            best_error = error;
        }
    }
    let step = small / best_q;
    let steps_of = |weight: f64| {
        let count = if weight.abs() == small {
            best_q
        } else {
            (ratio * best_q).round()
        };
        (count as i64) * if weight > 0.0 { 1 } else { -1 }
    };
    // A hair of tolerance so that h = K·Δ computed in floating point gives K.
    let states = (decision_interval / step * (1.0 - 1e-12)).ceil().max(1.0) as i64;
    Ok(CusumGrid {
        step,
        event_steps: steps_of(event_weight),
        non_event_steps: steps_of(non_event_weight),
        states,
    })
}

/// Zero-state ARL of the lattice chain with events of probability `rate`;
/// see [`BernoulliCusum::average_run_length`].
fn zero_state_arl(grid: &CusumGrid, rate: f64) -> Result<f64, StatsError> {
    const TOLERANCE: f64 = 1e-12;
    const MAXIMUM_SWEEPS: usize = 100_000;
    let states = grid.states;
    let moves = [(grid.event_steps, rate), (grid.non_event_steps, 1.0 - rate)];
    // Entry k of `time` is the expected number of steps from state k until
    // the chain lands on 0 or signals, and entry k of `signal` is the
    // probability that it signals first; entry 0 of each is unused.
    let mut time = vec![0.0_f64; states as usize];
    let mut signal = vec![0.0_f64; states as usize];
    let interior = states - 1;
    let forward = grid.non_event_steps < 0;
    let mut previous_change = f64::INFINITY;
    let mut settled_sweeps = 0;
    let mut converged = interior == 0;
    let mut sweeps = 0;
    while !converged {
        sweeps += 1;
        if sweeps > MAXIMUM_SWEEPS {
            return Err(StatsError::NoConvergence {
                what: "CUSUM run-length Markov chain",
                reason: "the Gauss–Seidel sweeps did not settle",
            });
        }
        let mut change = 0.0_f64;
        for offset in 0..interior {
            let state = if forward {
                1 + offset
            } else {
                interior - offset
            };
            let mut expected_time = 1.0;
            let mut signal_probability = 0.0;
            for &(steps, probability) in &moves {
                let next = state + steps;
                if next >= states {
                    signal_probability += probability;
                } else if next > 0 {
                    expected_time += probability * time[next as usize];
                    signal_probability += probability * signal[next as usize];
                }
            }
            let index = state as usize;
            change = change.max((expected_time - time[index]).abs() / expected_time);
            if signal_probability > 0.0 {
                change =
                    change.max((signal_probability - signal[index]).abs() / signal_probability);
            }
            time[index] = expected_time;
            signal[index] = signal_probability;
        }
        // The error left is about change·ρ/(1 − ρ), with ρ the contraction
        // per sweep estimated from successive changes. The first sweep gives
        // no estimate of ρ, and the estimate must hold on two sweeps in a
        // row, so that one abrupt drop in the change cannot stop the
        // iteration early.
        let settled = previous_change.is_finite() && {
            let contraction = (change / previous_change).min(0.999_999);
            change * contraction / (1.0 - contraction) <= TOLERANCE
        };
        settled_sweeps = if settled { settled_sweeps + 1 } else { 0 };
        converged = change == 0.0 || settled_sweeps >= 2;
        previous_change = change;
    }
    let mut numerator = 1.0;
    let mut denominator = 0.0;
    for &(steps, probability) in &moves {
        let next = steps;
        if next >= states {
            denominator += probability;
        } else if next > 0 {
            numerator += probability * time[next as usize];
            denominator += probability * signal[next as usize];
        }
    }
    if denominator > 0.0 {
        Ok(numerator / denominator)
    } else {
        Err(StatsError::Undefined {
            what: "CUSUM average run length",
            reason: "the chart can never signal",
        })
    }
}

// ---------------------------------------------------------------------------
// Funnel plots
// ---------------------------------------------------------------------------

/// Funnel-plot limits at one confidence level for one unit size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FunnelLimits {
    pub level: f64,
    pub low: f64,
    pub high: f64,
}

/// The conventional funnel-plot levels: about 2 and 3 standard deviations.
pub const FUNNEL_LEVELS: [f64; 2] = [0.95, 0.998];

/// One interpolated binomial limit (r − α)/n for tail probability q.
fn funnel_limit(target: f64, cases: u64, tail: f64) -> Result<f64, StatsError> {
    let r = binomial_quantile(tail, cases, target)?;
    let at_r = binomial_cdf(r as i64, cases, target)?;
    let below_r = binomial_cdf(r as i64 - 1, cases, target)?;
    // r is the smallest count with F(r) ≥ q, so F(r − 1) < q ≤ F(r) and the
    // denominator is positive.
    let alpha = (at_r - tail) / (at_r - below_r);
    Ok((r as f64 - alpha) / cases as f64)
}

/// Exact binomial funnel limits with interpolation (Spiegelhalter 2005,
/// appendix A.1.1) for a proportion with in-control value `target` observed
/// on `cases` cases.
///
/// For q = (1 − L)/2 (low) and q = 1 − (1 − L)/2 (high), r is the smallest
/// count with F(r) ≥ q, where F is the Bin(n, target) distribution function,
/// α = (F(r) − q)/(F(r) − F(r − 1)), and the limit is (r − α)/n. The limits
/// are not clipped to [0, 1]: with r = 0 the low limit is negative (for
/// example −0.096 for target 0.05, n = 10), exactly as published.
pub fn funnel_limits(target: f64, cases: u64, level: f64) -> Result<FunnelLimits, StatsError> {
    if !(target > 0.0 && target < 1.0) {
        return Err(StatsError::InvalidParameter {
            name: "funnel target proportion",
            value: target,
            reason: "must lie strictly between 0 and 1",
        });
    }
    if cases == 0 {
        return Err(StatsError::Undefined {
            what: "funnel limits",
            reason: "a unit has no cases (n = 0)",
        });
    }
    if !(level > 0.0 && level < 1.0) {
        return Err(StatsError::InvalidParameter {
            name: "funnel level",
            value: level,
            reason: "must lie strictly between 0 and 1",
        });
    }
    let tail = (1.0 - level) / 2.0;
    Ok(FunnelLimits {
        level,
        low: funnel_limit(target, cases, tail)?,
        high: funnel_limit(target, cases, 1.0 - tail)?,
    })
}

/// One unit (site, Trust, reader) on a funnel plot.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelUnit {
    pub events: u64,
    pub cases: u64,
    /// events / cases.
    pub proportion: f64,
    /// The limits at each requested level, in the order given.
    pub limits: Vec<FunnelLimits>,
    /// The unit's position at each level, in the order given.
    pub positions: Vec<LimitPosition>,
}

/// A funnel plot: every unit against the target at each level.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelPlot {
    pub target: f64,
    pub levels: Vec<f64>,
    pub units: Vec<FunnelUnit>,
}

/// Places each unit's (events, cases) on a funnel plot around `target`,
/// flagging it as within, above or below the limits of [`funnel_limits`] at
/// each of `levels` (usually [`FUNNEL_LEVELS`], 95% and 99.8%). A proportion
/// exactly on a limit counts as within.
pub fn funnel_plot(
    points: &[(u64, u64)],
    target: f64,
    levels: &[f64],
) -> Result<FunnelPlot, StatsError> {
    if points.is_empty() || levels.is_empty() {
        return Err(StatsError::Empty);
    }
    let mut units = Vec::with_capacity(points.len());
    for &(events, cases) in points {
        check_count(events, cases, "funnel-plot proportion")?;
        let proportion = events as f64 / cases as f64;
        let limits = levels
            .iter()
            .map(|&level| funnel_limits(target, cases, level))
            .collect::<Result<Vec<_>, _>>()?;
        let positions = limits
            .iter()
            .map(|limit| LimitPosition::classify(proportion, limit.low, limit.high))
            .collect();
        units.push(FunnelUnit {
            events,
            cases,
            proportion,
            limits,
            positions,
        });
    }
    Ok(FunnelPlot {
        target,
        levels: levels.to_vec(),
        units,
    })
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn p_chart_pools_the_centre_and_flags_outliers() {
        let counts = [(5, 100), (4, 100), (6, 100), (30, 100), (5, 50)];
        let chart = p_chart(&counts, None).expect("valid");
        assert!((chart.centre - 50.0 / 450.0).abs() < 1e-15);
        assert!(!chart.centre_given);
        assert_eq!(chart.signals(), vec![3]);
        // Smaller periods have wider limits.
        assert!(chart.points[4].upper_limit > chart.points[0].upper_limit);
        for point in &chart.points {
            assert!((0.0..=1.0).contains(&point.lower_limit));
            assert!((0.0..=1.0).contains(&point.upper_limit));
        }
    }

    #[test]
    fn p_chart_with_a_given_centre_clips_limits() {
        let chart = p_chart(&[(0, 10), (2, 10)], Some(0.02)).expect("valid");
        assert_eq!(chart.centre, 0.02);
        assert_eq!(chart.points[0].lower_limit, 0.0);
        assert_eq!(chart.points[0].position, LimitPosition::Within);
        assert_eq!(chart.points[1].position, LimitPosition::Above);
    }

    #[test]
    fn p_chart_rejects_degenerate_input() {
        assert_eq!(p_chart(&[], None), Err(StatsError::Empty));
        assert!(matches!(
            p_chart(&[(1, 0)], None),
            Err(StatsError::Undefined { .. })
        ));
        assert!(matches!(
            p_chart(&[(5, 4)], None),
            Err(StatsError::InvalidParameter { .. })
        ));
        assert!(matches!(
            p_chart(&[(1, 4)], Some(1.5)),
            Err(StatsError::InvalidParameter { .. })
        ));
        assert!(matches!(
            p_chart(&[(1, 4)], Some(f64::NAN)),
            Err(StatsError::InvalidParameter { .. })
        ));
        // No events at all: a zero centre line and zero-width limits, no NaN.
        let chart = p_chart(&[(0, 10), (0, 20)], None).expect("valid");
        assert_eq!(chart.centre, 0.0);
        assert!(chart.signals().is_empty());
    }

    #[test]
    fn ewma_limits_widen_towards_the_asymptote() {
        let values = vec![0.1; 60];
        let chart = ewma(&values, 0.1, 0.02, 0.2, 3.0).expect("valid");
        let widths: Vec<f64> = chart
            .points
            .iter()
            .map(|point| point.upper_limit - chart.target)
            .collect();
        assert!(widths.windows(2).all(|pair| pair[1] >= pair[0]));
        assert!(widths[0] < chart.asymptotic_half_width);
        assert!((widths[59] - chart.asymptotic_half_width).abs() < 1e-12);
        // The first limit is L·σ·λ exactly: √(λ/(2−λ)·(1−(1−λ)²)) = λ.
        assert!((widths[0] - 3.0 * 0.02 * 0.2).abs() < 1e-15);
        assert_eq!(chart.first_signal, None);
    }

    #[test]
    fn ewma_signals_a_sustained_shift_and_equals_shewhart_at_lambda_one() {
        let mut values = vec![0.0; 20];
        values.extend(vec![1.5; 20]);
        let chart = ewma(&values, 0.0, 1.0, 0.1, 2.7).expect("valid");
        let first = chart.first_signal.expect("a signal");
        assert!(first >= 20);
        let shewhart = ewma(&[2.0, 3.5], 0.0, 1.0, 1.0, 3.0).expect("valid");
        assert_eq!(shewhart.points[0].upper_limit, 3.0);
        assert_eq!(shewhart.points[1].statistic, 3.5);
        assert_eq!(shewhart.first_signal, Some(1));
    }

    #[test]
    fn ewma_rejects_degenerate_input() {
        assert_eq!(ewma(&[], 0.0, 1.0, 0.2, 3.0), Err(StatsError::Empty));
        assert!(matches!(
            ewma(&[f64::NAN], 0.0, 1.0, 0.2, 3.0),
            Err(StatsError::NonFinite { .. })
        ));
        assert!(matches!(
            ewma(&[1.0], 0.0, 0.0, 0.2, 3.0),
            Err(StatsError::InvalidParameter { .. })
        ));
        assert!(matches!(
            ewma(&[1.0], 0.0, 1.0, 0.0, 3.0),
            Err(StatsError::InvalidParameter { .. })
        ));
        assert!(matches!(
            ewma(&[1.0], 0.0, 1.0, 1.5, 3.0),
            Err(StatsError::InvalidParameter { .. })
        ));
        assert!(matches!(
            ewma(&[1.0], 0.0, 1.0, 0.2, -1.0),
            Err(StatsError::InvalidParameter { .. })
        ));
    }

    #[test]
    fn cusum_runs_and_restarts_after_a_signal() {
        let chart = BernoulliCusum::new(0.05, 0.10, 1.0).expect("valid");
        assert_eq!(chart.direction(), CusumDirection::Upper);
        // Two events in a row: ln 2 then 2·ln 2 ≥ 1, a signal, then restart.
        let run = chart.run(&[true, true, true, false]);
        assert_eq!(run.first_signal, Some(1));
        assert_eq!(run.signals, vec![1]);
        assert!((run.statistics[0] - std::f64::consts::LN_2).abs() < 1e-15);
        assert!((run.statistics[2] - std::f64::consts::LN_2).abs() < 1e-15);
        assert!(run.statistics[3] < run.statistics[2]);
        assert!(run.statistics.iter().all(|&value| value >= 0.0));

        let lower = BernoulliCusum::new(0.2, 0.1, 0.5).expect("valid");
        assert_eq!(lower.direction(), CusumDirection::Lower);
        let quiet = lower.run(&[false; 10]);
        assert!(quiet.first_signal.is_some());
        assert!(lower.run(&[true; 10]).first_signal.is_none());
    }

    #[test]
    fn cusum_rejects_invalid_parameters() {
        assert!(BernoulliCusum::new(0.0, 0.1, 1.0).is_err());
        assert!(BernoulliCusum::new(0.1, 1.0, 1.0).is_err());
        assert!(BernoulliCusum::new(0.1, 0.1, 1.0).is_err());
        assert!(BernoulliCusum::new(0.1, 0.2, 0.0).is_err());
        assert!(BernoulliCusum::new(0.1, 0.2, f64::NAN).is_err());
        assert!(BernoulliCusum::for_target_arl(0.05, 0.1, 10.0).is_err());
        assert!(BernoulliCusum::for_target_arl(0.05, 0.1, f64::INFINITY).is_err());
        let chart = BernoulliCusum::new(0.05, 0.1, 3.0).expect("valid");
        assert!(chart.average_run_length(1.0).is_err());
    }

    #[test]
    fn cusum_arl_is_exact_when_every_event_signals() {
        // With h ≤ ln(p1/p0) the first event signals, so ARL = 1/p0 exactly.
        let chart = BernoulliCusum::new(0.05, 0.1, 0.5).expect("valid");
        let arl = chart.in_control_arl().expect("computable");
        assert!((arl - 20.0).abs() < 1e-9, "{arl}");
        let out_of_control = chart.average_run_length(0.1).expect("computable");
        assert!((out_of_control - 10.0).abs() < 1e-9, "{out_of_control}");
    }

    #[test]
    fn cusum_chain_solver_matches_exact_rational_solutions() {
        // (event steps, non-event steps, states K, event rate, ARL from 0).
        // The reference ARLs solve (I − Q)·L = 1 in exact rational arithmetic
        // (Python `fractions`, Gauss–Jordan elimination). Dense floating-point
        // elimination loses about ARL·ε of relative precision (2% for the
        // first chain); the regenerative sweeps do not.
        let chains = [
            (3, -1, 40, 0.05, 582_377_578_131_497.4),
            (13, -1, 60, 0.05, 1_518.350_801_048_284),
            (-7, 2, 50, 0.1, 43.252_899_339_955_77),
            (5, -2, 1, 0.2, 5.0),
            (4, -3, 23, 0.3, 364.586_605_662_163_9),
            // A symmetric walk reflected at 0 and stopped at K: ARL = K(K + 1).
            (1, -1, 12, 0.5, 156.0),
            (-1, 1, 12, 0.5, 156.0),
        ];
        for (event_steps, non_event_steps, states, rate, exact) in chains {
            let grid = CusumGrid {
                step: 1.0,
                event_steps,
                non_event_steps,
                states,
            };
            let arl = zero_state_arl(&grid, rate).expect("solvable");
            assert!(
                (arl - exact).abs() <= 1e-10 * exact,
                "{grid:?}: {arl} vs {exact}"
            );
        }
    }

    /// Mean and standard error of the run length of `chart` over `runs`
    /// seeded simulations with events at rate `rate`, restarting from zero.
    fn simulated_run_length(chart: &BernoulliCusum, rate: f64, runs: u32, seed: u64) -> (f64, f64) {
        let (event_weight, non_event_weight) = (chart.event_weight(), chart.non_event_weight());
        let h = chart.decision_interval();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut sum = 0.0;
        let mut sum_of_squares = 0.0;
        for _ in 0..runs {
            let mut statistic = 0.0_f64;
            let mut length = 0_u64;
            loop {
                length += 1;
                let weight = if rng.random::<f64>() < rate {
                    event_weight
                } else {
                    non_event_weight
                };
                statistic = (statistic + weight).max(0.0);
                if statistic >= h {
                    break;
                }
            }
            let length = length as f64;
            sum += length;
            sum_of_squares += length * length;
        }
        let count = f64::from(runs);
        let mean = sum / count;
        let variance = (sum_of_squares - count * mean * mean) / (count - 1.0);
        (mean, (variance / count).sqrt())
    }

    #[test]
    fn cusum_arl_from_the_markov_chain_agrees_with_simulation() {
        // The upper chart for a doubling of a 5% rate, designed for ARL 500,
        // and the lower chart for a halving of a 10% rate, designed for 300.
        for (p0, p1, target, seed) in [
            (0.05, 0.10, 500.0, 20_240_501),
            (0.10, 0.05, 300.0, 20_240_502),
        ] {
            let chart = BernoulliCusum::for_target_arl(p0, p1, target).expect("design");
            let arl = chart.in_control_arl().expect("computable");
            assert!((target..target * 1.03).contains(&arl), "{arl}");
            let (mean, standard_error) = simulated_run_length(&chart, p0, 20_000, seed);
            eprintln!(
                "p0 {p0}, p1 {p1}: h = {h:.6}, Markov-chain ARL {arl:.3}, simulated {mean:.3} ± {standard_error:.3}",
                h = chart.decision_interval()
            );
            assert!(
                (mean - arl).abs() <= 3.0 * standard_error,
                "Markov chain {arl}, simulation {mean} ± {standard_error}"
            );
        }
    }

    #[test]
    fn cusum_lower_chart_design_reaches_its_target() {
        let chart = BernoulliCusum::for_target_arl(0.10, 0.05, 300.0).expect("design");
        assert_eq!(chart.direction(), CusumDirection::Lower);
        let arl = chart.in_control_arl().expect("computable");
        assert!((300.0..300.0 * 1.02).contains(&arl), "{arl}");
        // A drop in the rate is detected much sooner than a false alarm.
        assert!(chart.average_run_length(0.05).expect("computable") < arl / 3.0);
    }

    #[test]
    fn funnel_limits_bracket_the_target_and_narrow_with_n() {
        let mut previous_width = f64::INFINITY;
        for cases in [10, 50, 200, 1000, 20_000] {
            let limits = funnel_limits(0.3, cases, 0.95).expect("valid");
            assert!(limits.low < 0.3 && 0.3 < limits.high, "{limits:?}");
            let width = limits.high - limits.low;
            assert!(width < previous_width);
            previous_width = width;
            let wide = funnel_limits(0.3, cases, 0.998).expect("valid");
            assert!(wide.low < limits.low && limits.high < wide.high);
        }
        // The published example of an unclipped negative limit.
        let small = funnel_limits(0.05, 10, 0.95).expect("valid");
        assert!(small.low < 0.0);
    }

    #[test]
    fn funnel_plot_flags_units() {
        let plot =
            funnel_plot(&[(10, 100), (30, 100), (0, 100)], 0.1, &FUNNEL_LEVELS).expect("valid");
        assert_eq!(
            plot.units[0].positions,
            vec![LimitPosition::Within, LimitPosition::Within]
        );
        assert_eq!(
            plot.units[1].positions,
            vec![LimitPosition::Above, LimitPosition::Above]
        );
        assert_eq!(plot.units[2].positions[0], LimitPosition::Below);
        assert!(funnel_plot(&[(1, 0)], 0.1, &FUNNEL_LEVELS).is_err());
        assert!(funnel_plot(&[], 0.1, &FUNNEL_LEVELS).is_err());
        assert!(funnel_limits(0.0, 10, 0.95).is_err());
        assert!(funnel_limits(0.1, 10, 1.0).is_err());
    }
}
