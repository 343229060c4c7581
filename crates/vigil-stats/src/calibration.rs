//! Calibration of probability scores: Brier score, expected calibration
//! error, calibration-in-the-large, logistic recalibration and reliability
//! bins.
//!
//! Definitions and how they relate to the peers:
//! - Brier score: mean of (p − y)², as scikit-learn's `brier_score_loss`.
//! - Expected calibration error: M equal-width bins over [0, 1]; bin k
//!   (0-based) holds scores with k/M < p ≤ (k+1)/M, and bin 0 also holds
//!   p = 0 (bins closed on the right, like scikit-learn's
//!   `calibration_curve`; torchmetrics closes them on the left instead).
//!   ECE = Σ over non-empty bins of (n_k/n)·|ȳ_k − p̄_k|.
//! - Calibration-in-the-large: ȳ − p̄, observed minus expected event rate.
//!   This is not the "Intercept" of R rms `val.prob`.
//! - Calibration intercept and slope: the maximum-likelihood fit of
//!   logit P(y = 1) = a + b·logit(p), both fitted jointly (Cox 1958), which is
//!   what rms `val.prob` reports as "Intercept" and "Slope". Fitted by
//!   Newton–Raphson (IRLS) with step halving.

use crate::sample::require_probabilities;
use crate::{BinarySample, StatsError};

/// Mean squared difference between the score and the 0/1 label.
pub fn brier_score(sample: &BinarySample<'_>) -> Result<f64, StatsError> {
    sample.require_probabilities()?;
    let total: f64 = sample
        .scores()
        .iter()
        .zip(sample.labels())
        .map(|(&p, &y)| {
            let residual = p - f64::from(u8::from(y));
            residual * residual
        })
        .sum();
    Ok(total / sample.len() as f64)
}

/// One bin of a reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReliabilityBin {
    /// Lower edge (exclusive, except 0 for the first bin).
    pub lower: f64,
    /// Upper edge (inclusive).
    pub upper: f64,
    pub count: u64,
    pub positives: u64,
    /// Mean score in the bin; `None` for an empty bin.
    pub mean_score: Option<f64>,
    /// Observed fraction of positives; `None` for an empty bin.
    pub observed_fraction: Option<f64>,
}

/// Equal-width reliability bins over [0, 1], closed on the right.
pub fn reliability_bins(
    sample: &BinarySample<'_>,
    bins: usize,
) -> Result<Vec<ReliabilityBin>, StatsError> {
    sample.require_probabilities()?;
    if bins == 0 {
        return Err(StatsError::InvalidParameter {
            name: "number of bins",
            value: 0.0,
            reason: "must be at least 1",
        });
    }
    let edges: Vec<f64> = (0..=bins).map(|k| k as f64 / bins as f64).collect();
    let mut counts = vec![0_u64; bins];
    let mut positives = vec![0_u64; bins];
    let mut score_sums = vec![0.0_f64; bins];
    for (&p, &y) in sample.scores().iter().zip(sample.labels()) {
        // Number of interior edges strictly below p gives the right-closed bin.
        let bin = edges[1..bins].partition_point(|&edge| edge < p);
        counts[bin] += 1;
        positives[bin] += u64::from(y);
        score_sums[bin] += p;
    }
    Ok((0..bins)
        .map(|k| ReliabilityBin {
            lower: edges[k],
            upper: edges[k + 1],
            count: counts[k],
            positives: positives[k],
            mean_score: (counts[k] > 0).then(|| score_sums[k] / counts[k] as f64),
            observed_fraction: (counts[k] > 0).then(|| positives[k] as f64 / counts[k] as f64),
        })
        .collect())
}

/// Expected calibration error with `bins` equal-width, right-closed bins.
pub fn expected_calibration_error(
    sample: &BinarySample<'_>,
    bins: usize,
) -> Result<f64, StatsError> {
    let n = sample.len() as f64;
    Ok(reliability_bins(sample, bins)?
        .iter()
        .filter_map(|bin| {
            let observed = bin.observed_fraction?;
            let predicted = bin.mean_score?;
            Some(bin.count as f64 / n * (observed - predicted).abs())
        })
        .sum())
}

/// Observed minus expected event rate, ȳ − p̄.
pub fn calibration_in_the_large(sample: &BinarySample<'_>) -> Result<f64, StatsError> {
    sample.require_probabilities()?;
    let n = sample.len() as f64;
    let mean_score = sample.scores().iter().sum::<f64>() / n;
    Ok(sample.positives() as f64 / n - mean_score)
}

/// Result of logistic recalibration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogisticRecalibration {
    /// a in logit P(y) = a + b·logit(p); 0 for perfect calibration.
    pub intercept: f64,
    /// b; 1 for perfect calibration, below 1 when scores are too extreme.
    pub slope: f64,
    pub iterations: u32,
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn log_likelihood(x: &[f64], labels: &[bool], a: f64, b: f64) -> f64 {
    x.iter()
        .zip(labels)
        .map(|(&xi, &y)| {
            let eta = a + b * xi;
            // log(1 + e^eta) computed stably.
            let softplus = if eta > 0.0 {
                eta + (-eta).exp().ln_1p()
            } else {
                eta.exp().ln_1p()
            };
            if y { eta - softplus } else { -softplus }
        })
        .sum()
}

/// Fits logit P(y = 1) = a + b·logit(p) by Newton–Raphson.
///
/// Scores of exactly 0 or 1 have an infinite logit and are a typed error;
/// perfectly separated data, whose fit does not exist, are
/// [`StatsError::NoConvergence`].
pub fn logistic_recalibration(
    sample: &BinarySample<'_>,
) -> Result<LogisticRecalibration, StatsError> {
    require_probabilities(sample.scores())?;
    if let Some(index) = sample.scores().iter().position(|&p| p == 0.0 || p == 1.0) {
        return Err(StatsError::ProbabilityOnBoundary {
            index,
            value: sample.scores()[index],
        });
    }
    let x: Vec<f64> = sample.scores().iter().map(|&p| logit(p)).collect();
    let labels = sample.labels();
    // With one distinct score the slope is not identified; like rms
    // `val.prob`, report the intercept-only fit a = logit(ȳ) with slope 0.
    if x.iter().all(|&value| value == x[0]) {
        let observed = sample.positives() as f64 / sample.len() as f64;
        return Ok(LogisticRecalibration {
            intercept: logit(observed),
            slope: 0.0,
            iterations: 0,
        });
    }
    let (mut a, mut b) = (0.0_f64, 1.0_f64);
    let mut current = log_likelihood(&x, labels, a, b);
    for iteration in 1..=100 {
        // Gradient and observed information of the log-likelihood.
        let (mut g0, mut g1, mut h00, mut h01, mut h11) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&xi, &y) in x.iter().zip(labels) {
            let mu = 1.0 / (1.0 + (-(a + b * xi)).exp());
            let residual = f64::from(u8::from(y)) - mu;
            let weight = mu * (1.0 - mu);
            g0 += residual;
            g1 += residual * xi;
            h00 += weight;
            h01 += weight * xi;
            h11 += weight * xi * xi;
        }
        let determinant = h00 * h11 - h01 * h01;
        if !(determinant.is_finite() && determinant > 0.0) {
            return Err(StatsError::NoConvergence {
                what: "logistic recalibration",
                reason: "the information matrix is singular (all scores equal, or the classes are separated)",
            });
        }
        let step_a = (h11 * g0 - h01 * g1) / determinant;
        let step_b = (h00 * g1 - h01 * g0) / determinant;
        let mut scale = 1.0;
        let (mut next_a, mut next_b, mut next);
        loop {
            next_a = a + scale * step_a;
            next_b = b + scale * step_b;
            next = log_likelihood(&x, labels, next_a, next_b);
            if next >= current - 1e-12 * current.abs() || scale < 1e-10 {
                break;
            }
            scale /= 2.0;
        }
        let converged = (next_a - a).abs() <= 1e-13 * (1.0 + a.abs())
            && (next_b - b).abs() <= 1e-13 * (1.0 + b.abs());
        a = next_a;
        b = next_b;
        current = next;
        if !(a.is_finite() && b.is_finite()) || a.abs() > 1e6 || b.abs() > 1e6 {
            break;
        }
        if converged {
            return Ok(LogisticRecalibration {
                intercept: a,
                slope: b,
                iterations: iteration,
            });
        }
    }
    Err(StatsError::NoConvergence {
        what: "logistic recalibration",
        reason: "the coefficients did not settle within 100 Newton steps (the classes may be separated)",
    })
}
