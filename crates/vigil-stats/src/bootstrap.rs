//! Stratified, seeded, multi-threaded bootstrap confidence intervals.
//!
//! Each replicate resamples the positive cases with replacement to the same
//! number of positives, and the negatives likewise (stratified by class, so
//! every replicate keeps the observed prevalence and both classes). Replicate
//! r draws from its own ChaCha8 stream r of the given seed, so the replicates
//! — and the interval — are identical whatever the number of threads.
//!
//! A replicate is represented by how many times each case was drawn, over the
//! class-sorted scores; AUC and confusion counts of a replicate are then one
//! linear pass with no re-sorting. The interval is the percentile interval
//! with linear interpolation between order statistics (NumPy's default
//! `quantile` method).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::confusion::ConfusionMatrix;
use crate::roc::SortedByClass;
use crate::{BinarySample, ConfidenceLevel, Interval, StatsError};

/// How many replicates, from which seed, at which level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapConfig {
    pub replicates: usize,
    pub seed: u64,
    pub level: ConfidenceLevel,
}

impl BootstrapConfig {
    pub fn new(replicates: usize, seed: u64, level: ConfidenceLevel) -> Result<Self, StatsError> {
        if replicates < 2 {
            return Err(StatsError::InvalidParameter {
                name: "bootstrap replicates",
                value: replicates as f64,
                reason: "at least 2 are needed for an interval",
            });
        }
        Ok(BootstrapConfig {
            replicates,
            seed,
            level,
        })
    }
}

/// One bootstrap replicate: how often each class-sorted case was drawn.
#[derive(Debug, Clone, Copy)]
pub struct Resample<'a> {
    sorted: &'a SortedByClass,
    positive_counts: &'a [u32],
    negative_counts: &'a [u32],
}

impl Resample<'_> {
    /// AUC of the replicate, ties counting one half.
    pub fn auc(&self) -> f64 {
        let positives = self.sorted.positives();
        let negatives = self.sorted.negatives();
        let total_positive: f64 = self.positive_counts.iter().map(|&c| f64::from(c)).sum();
        let total_negative: f64 = self.negative_counts.iter().map(|&c| f64::from(c)).sum();
        let (mut i, mut j) = (0, 0);
        let mut negatives_above = 0.0;
        let mut sum = 0.0;
        while i < positives.len() || j < negatives.len() {
            let score = match (positives.get(i), negatives.get(j)) {
                (Some(&p), Some(&n)) => p.max(n),
                (Some(&p), None) => p,
                (None, Some(&n)) => n,
                (None, None) => break,
            };
            let mut positive_weight = 0.0;
            while i < positives.len() && positives[i] == score {
                positive_weight += f64::from(self.positive_counts[i]);
                i += 1;
            }
            let mut negative_weight = 0.0;
            while j < negatives.len() && negatives[j] == score {
                negative_weight += f64::from(self.negative_counts[j]);
                j += 1;
            }
            let negatives_below = total_negative - negatives_above - negative_weight;
            sum += positive_weight * (negatives_below + 0.5 * negative_weight);
            negatives_above += negative_weight;
        }
        sum / (total_positive * total_negative)
    }

    /// Confusion counts of the replicate at `threshold` (`score >= threshold`
    /// is called positive).
    pub fn confusion(&self, threshold: f64) -> ConfusionMatrix {
        let called = |scores: &[f64], counts: &[u32]| -> (u64, u64) {
            let cut = scores.partition_point(|&s| s >= threshold);
            let above: u64 = counts[..cut].iter().map(|&c| u64::from(c)).sum();
            let below: u64 = counts[cut..].iter().map(|&c| u64::from(c)).sum();
            (above, below)
        };
        let (true_positives, false_negatives) = called(self.sorted.positives(), self.positive_counts);
        let (false_positives, true_negatives) = called(self.sorted.negatives(), self.negative_counts);
        ConfusionMatrix {
            true_positives,
            false_positives,
            true_negatives,
            false_negatives,
        }
    }

    /// Expands the replicate into plain scores and labels, for statistics
    /// that have no weighted form.
    pub fn to_scores_and_labels(&self) -> (Vec<f64>, Vec<bool>) {
        let mut scores = Vec::new();
        let mut labels = Vec::new();
        for (values, counts, label) in [
            (self.sorted.positives(), self.positive_counts, true),
            (self.sorted.negatives(), self.negative_counts, false),
        ] {
            for (&score, &count) in values.iter().zip(counts) {
                for _ in 0..count {
                    scores.push(score);
                    labels.push(label);
                }
            }
        }
        (scores, labels)
    }
}

/// A bootstrap interval with the replicates behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapResult {
    /// The statistic on the original sample with its percentile interval.
    pub interval: Interval,
    /// Replicate values in replicate order; `None` where the statistic was
    /// undefined on that replicate.
    pub replicates: Vec<Option<f64>>,
    /// How many replicates gave no value.
    pub undefined_replicates: usize,
}

/// Linear-interpolation quantile of sorted values (NumPy's default method).
pub fn quantile_of_sorted(sorted: &[f64], q: f64) -> f64 {
    let position = (sorted.len() - 1) as f64 * q;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let fraction = position - below as f64;
    sorted[below] + (sorted[above] - sorted[below]) * fraction
}

/// Bootstraps `statistic` over class-stratified resamples of `sample`.
///
/// The statistic returns `None` when it is undefined on a replicate (for
/// example a PPV with no called positives); such replicates are counted and
/// excluded from the interval, never silently turned into numbers.
pub fn bootstrap<F>(
    sample: &BinarySample<'_>,
    config: BootstrapConfig,
    statistic: F,
) -> Result<BootstrapResult, StatsError>
where
    F: Fn(&Resample<'_>) -> Option<f64> + Sync,
{
    let sorted = SortedByClass::new(sample);
    let m = sorted.positives().len();
    let n = sorted.negatives().len();
    let ones_positive = vec![1_u32; m];
    let ones_negative = vec![1_u32; n];
    let estimate = statistic(&Resample {
        sorted: &sorted,
        positive_counts: &ones_positive,
        negative_counts: &ones_negative,
    })
    .ok_or(StatsError::Undefined {
        what: "bootstrapped statistic",
        reason: "it is undefined on the original sample",
    })?;

    let replicates: Vec<Option<f64>> = (0..config.replicates)
        .into_par_iter()
        .map_init(
            || (vec![0_u32; m], vec![0_u32; n]),
            |(positive_counts, negative_counts), replicate| {
                let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
                rng.set_stream(replicate as u64);
                positive_counts.fill(0);
                negative_counts.fill(0);
                for _ in 0..m {
                    positive_counts[rng.random_range(0..m)] += 1;
                }
                for _ in 0..n {
                    negative_counts[rng.random_range(0..n)] += 1;
                }
                statistic(&Resample {
                    sorted: &sorted,
                    positive_counts,
                    negative_counts,
                })
                .filter(|value| value.is_finite())
            },
        )
        .collect();

    let mut defined: Vec<f64> = replicates.iter().flatten().copied().collect();
    let undefined_replicates = replicates.len() - defined.len();
    if defined.len() < 2 {
        return Err(StatsError::Undefined {
            what: "bootstrap interval",
            reason: "fewer than two replicates gave a value",
        });
    }
    defined.sort_unstable_by(f64::total_cmp);
    let tail = config.level.alpha() / 2.0;
    Ok(BootstrapResult {
        interval: Interval {
            estimate,
            low: quantile_of_sorted(&defined, tail),
            high: quantile_of_sorted(&defined, 1.0 - tail),
        },
        replicates,
        undefined_replicates,
    })
}
