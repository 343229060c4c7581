//! Two independent samples of a continuous measure (report turnaround times
//! before and after go-live): the Mann–Whitney U test and the difference in
//! medians with its bootstrap interval.
//!
//! The U test follows SciPy's `scipy.stats.mannwhitneyu` (two-sided): U of
//! the first sample counts the pairs in which its value is the larger, ties
//! counting one half; the exact p-value comes from the distribution of U
//! without ties (the coefficients of the Gaussian binomial coefficient), the
//! asymptotic one from the normal approximation with the tie correction of
//! the variance and a continuity correction of one half.
//!
//! The difference in medians is `median(second) − median(first)` (the median
//! of an even-sized sample is the mean of its two middle values, as NumPy's),
//! with a percentile interval over replicates that resample each sample with
//! replacement to its own size, from seeded generators that make the interval
//! the same whatever the number of threads.

use rand::RngExt;
use rayon::prelude::*;

use crate::bootstrap::{quantile_of_sorted, replicate_generator};
use crate::distributions::normal_sf;
use crate::{ConfidenceLevel, Interval, StatsError};

/// Samples of at most this many values in all, with no ties, get the exact
/// p-value under [`UTestMethod::Automatic`]; the counts of the null
/// distribution then fit in 64 bits (C(60, 30) < 2⁶⁰).
pub const EXACT_U_TEST_MAXIMUM_VALUES: usize = 60;

/// How the p-value of the U test is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UTestMethod {
    /// Exact when neither sample has ties with any value and the samples
    /// hold at most [`EXACT_U_TEST_MAXIMUM_VALUES`] values together;
    /// asymptotic otherwise.
    Automatic,
    /// From the exact null distribution of U (samples without ties only).
    Exact,
    /// From the normal approximation with tie and continuity corrections.
    Asymptotic,
}

/// The two-sided Mann–Whitney U test of two independent samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UTest {
    /// U of the first sample: the pairs (x from the first, y from the
    /// second) with x > y, plus one half for each tie.
    pub u_first: f64,
    /// U of the second sample; `u_first + u_second = n₁·n₂`.
    pub u_second: f64,
    /// The two-sided p-value.
    pub p_value: f64,
    /// The method that gave the p-value ([`UTestMethod::Exact`] or
    /// [`UTestMethod::Asymptotic`]).
    pub method: UTestMethod,
    /// `u_first / (n₁·n₂)`: the probability that a value of the first
    /// sample exceeds one of the second (ties counting one half).
    pub probability_first_larger: f64,
}

fn check_finite(values: &[f64], what: &'static str) -> Result<(), StatsError> {
    if values.is_empty() {
        return Err(StatsError::Empty);
    }
    match values.iter().position(|value| !value.is_finite()) {
        Some(index) => Err(StatsError::NonFinite { what, index }),
        None => Ok(()),
    }
}

/// The Mann–Whitney U test of `first` against `second` (two-sided).
pub fn mann_whitney_u(
    first: &[f64],
    second: &[f64],
    method: UTestMethod,
) -> Result<UTest, StatsError> {
    check_finite(first, "value of the first sample")?;
    check_finite(second, "value of the second sample")?;
    let (n1, n2) = (first.len(), second.len());
    // Mid-ranks over the pooled sample, and Σ(t³ − t) over tied groups.
    let mut pooled: Vec<(f64, bool)> = first
        .iter()
        .map(|&value| (value, true))
        .chain(second.iter().map(|&value| (value, false)))
        .collect();
    pooled.sort_unstable_by(|left, right| left.0.total_cmp(&right.0));
    let mut rank_sum_first = 0.0_f64;
    let mut tie_term = 0.0_f64;
    let mut start = 0;
    while start < pooled.len() {
        let mut end = start + 1;
        while end < pooled.len() && pooled[end].0 == pooled[start].0 {
            end += 1;
        }
        let tied = (end - start) as f64;
        // Ranks start + 1 … end share their mean.
        let mid_rank = (start + 1 + end) as f64 / 2.0;
        let from_first = pooled[start..end].iter().filter(|item| item.1).count();
        rank_sum_first += mid_rank * from_first as f64;
        tie_term += tied * tied * tied - tied;
        start = end;
    }
    let pairs = n1 as f64 * n2 as f64;
    let u_first = rank_sum_first - (n1 as f64) * (n1 as f64 + 1.0) / 2.0;
    let u_second = pairs - u_first;
    let has_ties = tie_term > 0.0;
    let method = match method {
        UTestMethod::Automatic if !has_ties && n1 + n2 <= EXACT_U_TEST_MAXIMUM_VALUES => {
            UTestMethod::Exact
        }
        UTestMethod::Automatic => UTestMethod::Asymptotic,
        chosen => chosen,
    };
    let larger = u_first.max(u_second);
    let p_value = match method {
        UTestMethod::Exact => {
            if has_ties {
                return Err(StatsError::Undefined {
                    what: "exact Mann–Whitney p-value",
                    reason: "the samples have tied values (use the asymptotic method)",
                });
            }
            if n1 + n2 > EXACT_U_TEST_MAXIMUM_VALUES {
                return Err(StatsError::InvalidParameter {
                    name: "values in the two samples",
                    value: (n1 + n2) as f64,
                    reason: "the exact U distribution is computed for at most 60 values in all",
                });
            }
            // Without ties U is a whole number.
            let counts = u_null_counts(n1, n2);
            let total: u64 = counts.iter().sum();
            let at_least: u64 = counts[larger as usize..].iter().sum();
            (2.0 * at_least as f64 / total as f64).min(1.0)
        }
        _ => {
            let n = (n1 + n2) as f64;
            let mean = pairs / 2.0;
            let variance = pairs / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
            if variance <= 0.0 {
                // Every value is the same: nothing separates the samples.
                1.0
            } else {
                let z = (larger - mean - 0.5) / variance.sqrt();
                (2.0 * normal_sf(z)).min(1.0)
            }
        }
    };
    Ok(UTest {
        u_first,
        u_second,
        p_value,
        method,
        probability_first_larger: u_first / pairs,
    })
}

/// How many of the C(m + n, m) equally likely orderings of two samples of
/// sizes m and n (no ties) give U = 0, 1, …, m·n: the coefficients of the
/// Gaussian binomial coefficient [m + n choose m]_q, built as
/// ∏ᵢ (1 − q^(n+i)) / (1 − q^i) in exact integers.
fn u_null_counts(m: usize, n: usize) -> Vec<u64> {
    let (m, n) = (m.min(n), m.max(n));
    let mut counts = vec![0_i128; m * n + 1];
    counts[0] = 1;
    for i in 1..=m {
        // Multiply by (1 − q^(n+i)), from the top down.
        let shift = n + i;
        for power in (shift..counts.len()).rev() {
            counts[power] -= counts[power - shift];
        }
        // Divide by (1 − q^i): a running sum with stride i.
        for power in i..counts.len() {
            counts[power] += counts[power - i];
        }
    }
    counts
        .into_iter()
        .map(|count| u64::try_from(count).unwrap_or(0))
        .collect()
}

/// The median of values sorted ascending (the mean of the middle two for an
/// even count), for at least one value.
fn median_of_sorted(sorted: &[f64]) -> f64 {
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

/// The median of a replicate: `counts[i]` copies of `sorted[i]`, `total`
/// values in all.
fn median_of_counts(sorted: &[f64], counts: &[u32], total: usize) -> f64 {
    // The values at 0-based positions ⌊(total − 1)/2⌋ and ⌊total/2⌋.
    let (low_position, high_position) = ((total - 1) / 2, total / 2);
    let mut seen = 0_usize;
    let mut low = None;
    for (&value, &count) in sorted.iter().zip(counts) {
        seen += count as usize;
        if low.is_none() && seen > low_position {
            low = Some(value);
        }
        if seen > high_position {
            return (low.unwrap_or(value) + value) / 2.0;
        }
    }
    // Unreachable when the counts add up to `total`; the largest value is
    // the answer the loop would give.
    sorted[sorted.len() - 1]
}

/// The difference in medians (second − first) with its bootstrap interval.
#[derive(Debug, Clone, PartialEq)]
pub struct MedianDifference {
    pub median_first: f64,
    pub median_second: f64,
    /// `median_second − median_first` with the percentile interval.
    pub difference: Interval,
    pub replicates: usize,
    pub seed: u64,
    pub level: ConfidenceLevel,
}

/// `median(second) − median(first)` with a percentile bootstrap interval
/// from `replicates` resamples (each sample resampled to its own size).
pub fn median_difference(
    first: &[f64],
    second: &[f64],
    replicates: usize,
    seed: u64,
    level: ConfidenceLevel,
) -> Result<MedianDifference, StatsError> {
    check_finite(first, "value of the first sample")?;
    check_finite(second, "value of the second sample")?;
    if replicates < 2 {
        return Err(StatsError::InvalidParameter {
            name: "bootstrap replicates",
            value: replicates as f64,
            reason: "at least 2 are needed for an interval",
        });
    }
    for sample in [first, second] {
        if sample.len() > u32::MAX as usize {
            return Err(StatsError::InvalidParameter {
                name: "sample size",
                value: sample.len() as f64,
                reason: "the bootstrap handles at most 2^32 values per sample",
            });
        }
    }
    let sort = |values: &[f64]| {
        let mut sorted = values.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        sorted
    };
    let (first_sorted, second_sorted) = (sort(first), sort(second));
    let median_first = median_of_sorted(&first_sorted);
    let median_second = median_of_sorted(&second_sorted);
    let mut differences: Vec<f64> = (0..replicates)
        .into_par_iter()
        .map_init(
            || (vec![0_u32; first.len()], vec![0_u32; second.len()]),
            |(first_counts, second_counts), replicate| {
                let mut rng = replicate_generator(seed, replicate as u64);
                let mut median_of = |sorted: &[f64], counts: &mut Vec<u32>| {
                    counts.fill(0);
                    let size = sorted.len() as u32;
                    for _ in 0..size {
                        counts[rng.random_range(0..size) as usize] += 1;
                    }
                    median_of_counts(sorted, counts, sorted.len())
                };
                let first_median = median_of(&first_sorted, first_counts);
                median_of(&second_sorted, second_counts) - first_median
            },
        )
        .collect();
    differences.sort_unstable_by(f64::total_cmp);
    let tail = level.alpha() / 2.0;
    Ok(MedianDifference {
        median_first,
        median_second,
        difference: Interval {
            estimate: median_second - median_first,
            low: quantile_of_sorted(&differences, tail)?,
            high: quantile_of_sorted(&differences, 1.0 - tail)?,
        },
        replicates,
        seed,
        level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_counts_are_the_gaussian_binomial_coefficients() {
        // [4 choose 2]_q = 1 + q + 2q² + q³ + q⁴.
        assert_eq!(u_null_counts(2, 2), vec![1, 1, 2, 1, 1]);
        // Symmetric, summing to C(m + n, m), for every size up to 60 values.
        for m in 1..=30 {
            for n in m..=(60 - m) {
                let counts = u_null_counts(m, n);
                let total: u128 = counts.iter().map(|&count| u128::from(count)).sum();
                let binomial = (1..=m as u128).fold(1_u128, |acc, i| acc * (n as u128 + i) / i);
                assert_eq!(total, binomial, "m = {m}, n = {n}");
                let reversed: Vec<u64> = counts.iter().rev().copied().collect();
                assert_eq!(counts, reversed, "m = {m}, n = {n}");
            }
        }
    }

    #[test]
    fn medians_of_counts_match_medians_of_expanded_samples() {
        let sorted = [1.0, 2.0, 5.0, 9.0];
        for counts in [
            [1, 1, 1, 1],
            [4, 0, 0, 0],
            [0, 2, 1, 1],
            [1, 0, 0, 3],
            [2, 2, 0, 0],
        ] {
            let expanded: Vec<f64> = sorted
                .iter()
                .zip(counts)
                .flat_map(|(&value, count)| std::iter::repeat_n(value, count as usize))
                .collect();
            assert_eq!(
                median_of_counts(&sorted, &counts, 4),
                median_of_sorted(&expanded),
                "{counts:?}"
            );
        }
    }

    /// The bootstrap distribution of the difference in medians of two
    /// samples of three, by enumerating all 27 × 27 equally likely ordered
    /// resamples, against the frequencies of 200,000 replicates: each atom
    /// within 4.5 binomial standard errors.
    #[test]
    fn replicates_follow_the_exact_bootstrap_distribution() {
        let first = [10.0, 20.0, 45.0];
        let second = [5.0, 12.0, 30.0];
        let medians = |sample: &[f64; 3]| {
            let mut medians = Vec::new();
            for a in 0..3 {
                for b in 0..3 {
                    for c in 0..3 {
                        let mut drawn = [sample[a], sample[b], sample[c]];
                        drawn.sort_unstable_by(f64::total_cmp);
                        medians.push(drawn[1]);
                    }
                }
            }
            medians
        };
        let mut exact: std::collections::BTreeMap<i64, f64> = Default::default();
        for first_median in medians(&first) {
            for second_median in medians(&second) {
                *exact
                    .entry((second_median - first_median) as i64)
                    .or_default() += 1.0 / 729.0;
            }
        }
        let replicates = 200_000;
        let result =
            median_difference(&first, &second, replicates, 7, ConfidenceLevel::NINETY_FIVE)
                .expect("a difference");
        assert_eq!(result.difference.estimate, 12.0 - 20.0);
        // Recompute the replicate values through the public function's
        // interval: the quantiles of the exact distribution bracket them.
        let mut observed: std::collections::BTreeMap<i64, f64> = Default::default();
        let mut rng_values = Vec::new();
        (0..replicates).for_each(|replicate| {
            let mut rng = replicate_generator(7, replicate as u64);
            let mut draw = |sample: &[f64; 3]| {
                let mut drawn = [0.0; 3];
                for slot in &mut drawn {
                    *slot = sample[rng.random_range(0..3_u32) as usize];
                }
                drawn.sort_unstable_by(f64::total_cmp);
                drawn[1]
            };
            let first_median = draw(&first);
            rng_values.push(draw(&second) - first_median);
        });
        for value in &rng_values {
            *observed.entry(*value as i64).or_default() += 1.0 / replicates as f64;
        }
        for (atom, probability) in &exact {
            let frequency = observed.get(atom).copied().unwrap_or(0.0);
            let standard_error = (probability * (1.0 - probability) / replicates as f64).sqrt();
            assert!(
                (frequency - probability).abs() <= 4.5 * standard_error,
                "atom {atom}: exact {probability}, observed {frequency}"
            );
        }
        assert!(observed.keys().all(|atom| exact.contains_key(atom)));
        // The interval is the linear-interpolation percentile of those
        // replicate values.
        rng_values.sort_unstable_by(f64::total_cmp);
        assert_eq!(
            result.difference.low,
            quantile_of_sorted(&rng_values, 0.025).expect("a quantile")
        );
        assert_eq!(
            result.difference.high,
            quantile_of_sorted(&rng_values, 0.975).expect("a quantile")
        );
    }

    #[test]
    fn degenerate_input_is_a_typed_error() {
        let level = ConfidenceLevel::NINETY_FIVE;
        assert_eq!(
            mann_whitney_u(&[], &[1.0], UTestMethod::Automatic),
            Err(StatsError::Empty)
        );
        assert!(matches!(
            mann_whitney_u(&[1.0, f64::NAN], &[1.0], UTestMethod::Automatic),
            Err(StatsError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            mann_whitney_u(&[1.0, 2.0], &[2.0, 3.0], UTestMethod::Exact),
            Err(StatsError::Undefined { .. })
        ));
        assert_eq!(
            median_difference(&[1.0], &[], 100, 1, level),
            Err(StatsError::Empty)
        );
        assert!(median_difference(&[1.0], &[2.0], 1, 1, level).is_err());
        // All values equal: no evidence of a difference, not a NaN.
        let same = mann_whitney_u(&[3.0; 5], &[3.0; 40], UTestMethod::Automatic)
            .expect("a test of equal values");
        assert_eq!(same.p_value, 1.0);
        assert_eq!(same.probability_first_larger, 0.5);
    }
}
