//! Stratified, seeded, multi-threaded bootstrap confidence intervals.
//!
//! Each replicate resamples the positive cases with replacement to the same
//! number of positives, and the negatives likewise (stratified by class, so
//! every replicate keeps the observed prevalence and both classes). Replicate
//! r draws from its own xoshiro256++ generator, seeded by SplitMix64 from the
//! pair (seed, r), so the replicates — and the interval — are identical
//! whatever the number of threads.
//!
//! A replicate is represented by how many times each case was drawn, over the
//! class-sorted scores. The AUC of a replicate needs no sorting and no float
//! comparison: each positive's range of lower and tied negatives is found
//! once, and per replicate the AUC is Σᵢ wᵢ·(S[tiedᵢ] + S[belowᵢ]) / (2·W₊·W₋)
//! with S the suffix sums of the negative weights — exact integer arithmetic
//! until the final division. The interval is the percentile interval
//! with linear interpolation between order statistics (NumPy's default
//! `quantile` method).

use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
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
    /// For each sorted positive, the index of the first negative tied with
    /// it and the first negative below it, in the descending negatives.
    placements: &'a [(u32, u32)],
    positive_counts: &'a [u32],
    negative_counts: &'a [u32],
    /// `negative_suffix[k]` = Σ_{j ≥ k} negative_counts[j].
    negative_suffix: &'a [u64],
}

/// For each positive (sorted descending), where its tied and lower negatives
/// start among the descending negatives.
fn negative_placements(sorted: &SortedByClass) -> Vec<(u32, u32)> {
    let negatives = sorted.negatives();
    sorted
        .positives()
        .iter()
        .map(|&score| {
            let tied = negatives.partition_point(|&s| s > score);
            let below = tied + negatives[tied..].partition_point(|&s| s >= score);
            (tied as u32, below as u32)
        })
        .collect()
}

fn fill_suffix_sums(counts: &[u32], suffix: &mut [u64]) {
    let mut running = 0_u64;
    suffix[counts.len()] = 0;
    for (index, &count) in counts.iter().enumerate().rev() {
        running += u64::from(count);
        suffix[index] = running;
    }
}

impl Resample<'_> {
    /// AUC of the replicate, ties counting one half.
    pub fn auc(&self) -> f64 {
        let total_positive: u64 = self.positive_counts.iter().map(|&c| u64::from(c)).sum();
        let total_negative = self.negative_suffix[0];
        let twice_sum: u64 = self
            .positive_counts
            .iter()
            .zip(self.placements)
            .map(|(&weight, &(tied, below))| {
                u64::from(weight)
                    * (self.negative_suffix[tied as usize] + self.negative_suffix[below as usize])
            })
            .sum();
        twice_sum as f64 / (2.0 * total_positive as f64 * total_negative as f64)
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
        let (true_positives, false_negatives) =
            called(self.sorted.positives(), self.positive_counts);
        let (false_positives, true_negatives) =
            called(self.sorted.negatives(), self.negative_counts);
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

/// Linear-interpolation quantile of values sorted in ascending order
/// (NumPy's default method), for q in [0, 1] and at least one value.
pub fn quantile_of_sorted(sorted: &[f64], q: f64) -> Result<f64, StatsError> {
    if sorted.is_empty() {
        return Err(StatsError::Empty);
    }
    if !(0.0..=1.0).contains(&q) {
        return Err(StatsError::InvalidParameter {
            name: "quantile probability",
            value: q,
            reason: "must lie in [0, 1]",
        });
    }
    let last = sorted.len() - 1;
    let position = last as f64 * q;
    // position lies in [0, last], so both indices are in range.
    let below = (position.floor() as usize).min(last);
    let above = (below + 1).min(last);
    let fraction = position - below as f64;
    Ok(sorted[below] + (sorted[above] - sorted[below]) * fraction)
}

/// The generator of one replicate: xoshiro256++ whose state SplitMix64 fills
/// from the seed and the replicate number mixed together.
pub(crate) fn replicate_generator(seed: u64, replicate: u64) -> Xoshiro256PlusPlus {
    // The golden-ratio increment of SplitMix64 keeps nearby replicate
    // numbers far apart before seeding.
    Xoshiro256PlusPlus::seed_from_u64(
        seed ^ replicate
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(17),
    )
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
    let placements = negative_placements(&sorted);
    let m = sorted.positives().len();
    let n = sorted.negatives().len();
    if m > u32::MAX as usize || n > u32::MAX as usize {
        return Err(StatsError::InvalidParameter {
            name: "sample size",
            value: sample.len() as f64,
            reason: "the bootstrap handles at most 2^32 cases per class",
        });
    }
    let ones_positive = vec![1_u32; m];
    let ones_negative = vec![1_u32; n];
    let mut ones_suffix = vec![0_u64; n + 1];
    fill_suffix_sums(&ones_negative, &mut ones_suffix);
    let estimate = statistic(&Resample {
        sorted: &sorted,
        placements: &placements,
        positive_counts: &ones_positive,
        negative_counts: &ones_negative,
        negative_suffix: &ones_suffix,
    })
    .ok_or(StatsError::Undefined {
        what: "bootstrapped statistic",
        reason: "it is undefined on the original sample",
    })?;

    let replicates: Vec<Option<f64>> = (0..config.replicates)
        .into_par_iter()
        .map_init(
            || (vec![0_u32; m], vec![0_u32; n], vec![0_u64; n + 1]),
            |(positive_counts, negative_counts, negative_suffix), replicate| {
                let mut rng = replicate_generator(config.seed, replicate as u64);
                positive_counts.fill(0);
                negative_counts.fill(0);
                for _ in 0..m {
                    positive_counts[rng.random_range(0..m as u32) as usize] += 1;
                }
                for _ in 0..n {
                    negative_counts[rng.random_range(0..n as u32) as usize] += 1;
                }
                fill_suffix_sums(negative_counts, negative_suffix);
                statistic(&Resample {
                    sorted: &sorted,
                    placements: &placements,
                    positive_counts,
                    negative_counts,
                    negative_suffix,
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
            low: quantile_of_sorted(&defined, tail)?,
            high: quantile_of_sorted(&defined, 1.0 - tail)?,
        },
        replicates,
        undefined_replicates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_linearly() {
        let sorted = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(quantile_of_sorted(&sorted, 0.0), Ok(1.0));
        assert_eq!(quantile_of_sorted(&sorted, 0.5), Ok(3.0));
        assert_eq!(quantile_of_sorted(&sorted, 1.0), Ok(8.0));
        assert_eq!(quantile_of_sorted(&[5.0], 0.3), Ok(5.0));
    }

    #[test]
    fn quantiles_of_nothing_or_outside_zero_to_one_are_errors() {
        // These used to index out of bounds.
        assert_eq!(quantile_of_sorted(&[], 0.5), Err(StatsError::Empty));
        for q in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
            assert!(
                matches!(
                    quantile_of_sorted(&[1.0, 2.0], q),
                    Err(StatsError::InvalidParameter { .. })
                ),
                "q = {q}"
            );
        }
    }
}
