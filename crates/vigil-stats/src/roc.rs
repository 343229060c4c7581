//! ROC curve, area under it, and DeLong's variance and paired test.
//!
//! Definitions:
//! - A case is called positive at threshold t when `score >= t`.
//! - AUC is the Mann–Whitney probability P(X > Y) + ½·P(X = Y) for a
//!   positive score X and a negative score Y: tied pairs count one half, as in
//!   scikit-learn's `roc_auc_score` and R's pROC.
//! - DeLong's variance (DeLong, DeLong and Clarke-Pearson 1988) is computed
//!   with the placement values of Sun and Xu (2014, IEEE Signal Processing
//!   Letters 21:1389): after one sort per class, each positive's placement
//!   V10 = (#negatives below + ½·#negatives tied)/n and each negative's
//!   placement V01 = (#positives above + ½·#positives tied)/m come from a single
//!   merged walk over the tie groups, so the whole computation is O(n log n).
//! - The confidence interval is AUC ± z·√var, clipped to [0, 1], as pROC's
//!   `ci.auc(method = "delong")`.
//! - The variance is undefined with fewer than two cases in a class (pROC
//!   gives NA) and zero when every placement of a class is the same (perfect
//!   separation, or constant scores); then no interval can be given, and the
//!   `checked_*` methods say why instead of returning a collapsed interval.

use rayon::prelude::*;

use crate::distributions::normal_two_sided_p;
use crate::{BinarySample, ConfidenceLevel, Interval, StatsError};

/// The scores of each class, sorted from highest to lowest.
///
/// Negative zero is stored as zero so that the two compare as one tie.
#[derive(Debug, Clone)]
pub struct SortedByClass {
    positives: Vec<f64>,
    negatives: Vec<f64>,
}

impl SortedByClass {
    /// Copies and sorts the scores of each class (in parallel for large
    /// samples); memory is one copy of the scores.
    pub fn new(sample: &BinarySample<'_>) -> Self {
        let mut positives = Vec::with_capacity(sample.positives());
        let mut negatives = Vec::with_capacity(sample.negatives());
        for (&score, &label) in sample.scores().iter().zip(sample.labels()) {
            // Adding zero turns -0.0 into +0.0.
            if label {
                positives.push(score + 0.0);
            } else {
                negatives.push(score + 0.0);
            }
        }
        sort_descending(&mut positives);
        sort_descending(&mut negatives);
        SortedByClass {
            positives,
            negatives,
        }
    }

    /// Positive scores, highest first.
    pub fn positives(&self) -> &[f64] {
        &self.positives
    }

    /// Negative scores, highest first.
    pub fn negatives(&self) -> &[f64] {
        &self.negatives
    }

    /// Walks the distinct scores from highest to lowest with the number of
    /// positive and negative cases at each.
    pub fn tie_groups(&self) -> TieGroups<'_> {
        TieGroups {
            positives: &self.positives,
            negatives: &self.negatives,
        }
    }
}

/// Sorts finite values from highest to lowest, in parallel when large.
pub(crate) fn sort_descending(values: &mut [f64]) {
    const PARALLEL_FROM: usize = 1 << 16;
    if values.len() >= PARALLEL_FROM {
        values.par_sort_unstable_by(|a, b| b.total_cmp(a));
    } else {
        values.sort_unstable_by(|a, b| b.total_cmp(a));
    }
}

/// All cases sharing one score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TieGroup {
    pub score: f64,
    pub positives: u64,
    pub negatives: u64,
}

/// Iterator over [`TieGroup`]s in descending score order.
#[derive(Debug, Clone)]
pub struct TieGroups<'a> {
    positives: &'a [f64],
    negatives: &'a [f64],
}

impl Iterator for TieGroups<'_> {
    type Item = TieGroup;

    fn next(&mut self) -> Option<TieGroup> {
        let score = match (self.positives.first(), self.negatives.first()) {
            (None, None) => return None,
            (Some(&p), None) => p,
            (None, Some(&n)) => n,
            (Some(&p), Some(&n)) => p.max(n),
        };
        let positives = self.positives.iter().take_while(|&&s| s == score).count();
        let negatives = self.negatives.iter().take_while(|&&s| s == score).count();
        self.positives = &self.positives[positives..];
        self.negatives = &self.negatives[negatives..];
        Some(TieGroup {
            score,
            positives: positives as u64,
            negatives: negatives as u64,
        })
    }
}

/// One point of the ROC curve: the rates when cases with `score >= threshold`
/// are called positive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RocPoint {
    pub threshold: f64,
    pub true_positives: u64,
    pub false_positives: u64,
    pub true_positive_rate: f64,
    pub false_positive_rate: f64,
}

/// The empirical ROC curve, one point per distinct score, thresholds
/// descending. The implicit first point (0, 0) at threshold +∞ is not stored.
/// The points equal scikit-learn's `roc_curve(drop_intermediate=False)` after
/// its first point.
#[derive(Debug, Clone)]
pub struct RocCurve {
    pub points: Vec<RocPoint>,
    pub positives: u64,
    pub negatives: u64,
}

impl RocCurve {
    pub fn new(sorted: &SortedByClass) -> Self {
        let positives = sorted.positives.len() as u64;
        let negatives = sorted.negatives.len() as u64;
        let mut true_positives = 0;
        let mut false_positives = 0;
        let points = sorted
            .tie_groups()
            .map(|group| {
                true_positives += group.positives;
                false_positives += group.negatives;
                RocPoint {
                    threshold: group.score,
                    true_positives,
                    false_positives,
                    true_positive_rate: true_positives as f64 / positives as f64,
                    false_positive_rate: false_positives as f64 / negatives as f64,
                }
            })
            .collect();
        RocCurve {
            points,
            positives,
            negatives,
        }
    }

    /// Trapezoidal area under the curve, from (0, 0); equal to the
    /// Mann–Whitney AUC with ties counted one half.
    pub fn area(&self) -> f64 {
        let mut area = 0.0;
        let (mut previous_fpr, mut previous_tpr) = (0.0, 0.0);
        for point in &self.points {
            area += (point.false_positive_rate - previous_fpr)
                * (point.true_positive_rate + previous_tpr)
                / 2.0;
            previous_fpr = point.false_positive_rate;
            previous_tpr = point.true_positive_rate;
        }
        area
    }
}

/// AUC with its DeLong variance and confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeLongAuc {
    pub auc: f64,
    pub variance: f64,
    pub positives: u64,
    pub negatives: u64,
}

impl DeLongAuc {
    /// Standard error √variance.
    pub fn standard_error(&self) -> f64 {
        self.variance.sqrt()
    }

    /// AUC ± z·SE, clipped to [0, 1] (pROC's convention), even where the
    /// variance is degenerate; see [`DeLongAuc::checked_interval`].
    pub fn interval(&self, level: ConfidenceLevel) -> Interval {
        let half_width = level.z() * self.standard_error();
        Interval {
            estimate: self.auc,
            low: (self.auc - half_width).max(0.0),
            high: (self.auc + half_width).min(1.0),
        }
    }

    /// The interval of [`DeLongAuc::interval`], or `StatsError::Undefined`
    /// when the variance is degenerate: fewer than two cases in a class, or
    /// a variance of zero, which would collapse the interval to a point.
    pub fn checked_interval(&self, level: ConfidenceLevel) -> Result<Interval, StatsError> {
        require_usable_variance(
            "DeLong confidence interval of the AUC",
            self.positives,
            self.negatives,
            self.variance,
            "the variance is zero (perfect separation or constant scores), so no interval can be given",
        )?;
        Ok(self.interval(level))
    }
}

/// Why a DeLong variance cannot support an interval or a test, if it cannot;
/// `zero_reason` says why a zero variance happens for this statistic.
fn require_usable_variance(
    what: &'static str,
    positives: u64,
    negatives: u64,
    variance: f64,
    zero_reason: &'static str,
) -> Result<(), StatsError> {
    if positives < 2 || negatives < 2 {
        return Err(StatsError::Undefined {
            what,
            reason: "it needs at least two cases of each class",
        });
    }
    if variance.is_nan() || variance <= 0.0 {
        return Err(StatsError::Undefined {
            what,
            reason: zero_reason,
        });
    }
    Ok(())
}

/// Weighted running mean and sum of squared deviations (West 1979), so that a
/// group of identical placement values is one update.
#[derive(Debug, Clone, Copy, Default)]
struct WeightedMoments {
    weight: f64,
    mean: f64,
    squared_deviations: f64,
}

impl WeightedMoments {
    fn add(&mut self, value: f64, weight: f64) {
        if weight == 0.0 {
            return;
        }
        self.weight += weight;
        let delta = value - self.mean;
        self.mean += delta * weight / self.weight;
        self.squared_deviations += weight * delta * (value - self.mean);
    }
}

/// AUC and DeLong variance from class-sorted scores in one merged walk.
pub fn delong(sorted: &SortedByClass) -> DeLongAuc {
    let m = sorted.positives.len() as f64;
    let n = sorted.negatives.len() as f64;
    let mut positives_above = 0_u64;
    let mut negatives_above = 0_u64;
    let mut positive_placements = WeightedMoments::default();
    let mut negative_placements = WeightedMoments::default();
    for group in sorted.tie_groups() {
        let negatives_below = n - (negatives_above + group.negatives) as f64;
        let v10 = (negatives_below + 0.5 * group.negatives as f64) / n;
        let v01 = (positives_above as f64 + 0.5 * group.positives as f64) / m;
        positive_placements.add(v10, group.positives as f64);
        negative_placements.add(v01, group.negatives as f64);
        positives_above += group.positives;
        negatives_above += group.negatives;
    }
    let auc = positive_placements.mean;
    let s10 = if m > 1.0 {
        positive_placements.squared_deviations / (m - 1.0)
    } else {
        0.0
    };
    let s01 = if n > 1.0 {
        negative_placements.squared_deviations / (n - 1.0)
    } else {
        0.0
    };
    DeLongAuc {
        auc,
        variance: (s10 / m + s01 / n).max(0.0),
        positives: m as u64,
        negatives: n as u64,
    }
}

/// AUC of a sample (ties count one half).
pub fn auc(sample: &BinarySample<'_>) -> f64 {
    delong(&SortedByClass::new(sample)).auc
}

/// DeLong's test of two correlated AUCs: two scores on the same cases.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedDeLong {
    pub auc_a: f64,
    pub auc_b: f64,
    /// AUC of A minus AUC of B.
    pub difference: f64,
    /// Variance of the difference, var(A) + var(B) − 2·cov(A, B).
    pub variance: f64,
    /// difference / √variance; zero when both the difference and the
    /// variance are zero.
    pub z: f64,
    /// Two-sided p-value from the standard normal.
    pub p_value: f64,
    pub positives: u64,
    pub negatives: u64,
}

impl PairedDeLong {
    /// Confidence interval of the difference, difference ± z·√variance
    /// (not clipped; pROC's `roc.test` convention), even where the variance
    /// is degenerate; see [`PairedDeLong::checked_interval`].
    pub fn interval(&self, level: ConfidenceLevel) -> Interval {
        difference_interval(self.difference, self.variance, level)
    }

    /// The interval of [`PairedDeLong::interval`], or
    /// `StatsError::Undefined` when the variance is degenerate (fewer than
    /// two cases in a class, or zero).
    pub fn checked_interval(&self, level: ConfidenceLevel) -> Result<Interval, StatsError> {
        require_usable_variance(
            PAIRED_INTERVAL,
            self.positives,
            self.negatives,
            self.variance,
            PAIRED_ZERO_VARIANCE,
        )?;
        Ok(self.interval(level))
    }
}

const PAIRED_INTERVAL: &str = "DeLong confidence interval of the AUC difference";
const PAIRED_ZERO_VARIANCE: &str = "the variance of the difference is zero (each score separates the classes perfectly or is constant, or both rank the cases alike), so no interval can be given";

fn difference_interval(difference: f64, variance: f64, level: ConfidenceLevel) -> Interval {
    let half_width = level.z() * variance.sqrt();
    Interval {
        estimate: difference,
        low: difference - half_width,
        high: difference + half_width,
    }
}

/// The AUCs of two scores on the same cases and the DeLong variance of
/// their difference, before any test is made: the part of the paired
/// comparison that is defined for every valid sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedAucDifference {
    pub auc_a: f64,
    pub auc_b: f64,
    /// AUC of A minus AUC of B.
    pub difference: f64,
    /// Variance of the difference, var(A) + var(B) − 2·cov(A, B).
    pub variance: f64,
    pub positives: u64,
    pub negatives: u64,
}

impl PairedAucDifference {
    /// DeLong's test as [`delong_paired`] makes it: z = difference / √variance,
    /// zero when the difference and the variance are both zero, and an
    /// error when only the variance is.
    pub fn test(&self) -> Result<PairedDeLong, StatsError> {
        let z = if self.variance > 0.0 {
            self.difference / self.variance.sqrt()
        } else if self.difference == 0.0 {
            0.0
        } else {
            return Err(StatsError::Undefined {
                what: "DeLong test statistic",
                reason: "the AUCs differ but the variance of their difference is zero",
            });
        };
        Ok(PairedDeLong {
            auc_a: self.auc_a,
            auc_b: self.auc_b,
            difference: self.difference,
            variance: self.variance,
            z,
            p_value: normal_two_sided_p(z),
            positives: self.positives,
            negatives: self.negatives,
        })
    }

    /// The test of [`PairedAucDifference::test`], and also
    /// `StatsError::Undefined` with fewer than two cases in a class, where
    /// the DeLong variance is undefined (pROC gives NA).
    pub fn checked_test(&self) -> Result<PairedDeLong, StatsError> {
        if self.positives < 2 || self.negatives < 2 {
            return Err(StatsError::Undefined {
                what: "DeLong test statistic",
                reason: "it needs at least two cases of each class",
            });
        }
        self.test()
    }

    /// Confidence interval of the difference (not clipped), or
    /// `StatsError::Undefined` when the variance is degenerate (fewer than
    /// two cases in a class, or zero).
    pub fn checked_interval(&self, level: ConfidenceLevel) -> Result<Interval, StatsError> {
        require_usable_variance(
            PAIRED_INTERVAL,
            self.positives,
            self.negatives,
            self.variance,
            PAIRED_ZERO_VARIANCE,
        )?;
        Ok(difference_interval(self.difference, self.variance, level))
    }
}

/// Cases per block of the paired test: a block's queries are sorted and
/// placed by galloping search, which keeps memory access local.
const PAIRED_BLOCK: usize = 1 << 19;

/// First index in `descending[from..]` (offset by `from`) whose value fails
/// `keep`, where `keep` holds on a prefix: a galloping search that is fast
/// when the answer is near `from`.
fn gallop(descending: &[f64], from: usize, keep: impl Fn(f64) -> bool) -> usize {
    let mut low = from;
    let mut step = 1;
    let mut high = from;
    while high < descending.len() && keep(descending[high]) {
        low = high + 1;
        high += step;
        step *= 2;
    }
    let high = high.min(descending.len());
    low + descending[low..high].partition_point(|&value| keep(value))
}

/// Twice the placement count of each query among `other` (sorted
/// descending): 2·#below + #tied when `count_below`, else 2·#above + #tied.
/// `queries` holds (value, slot) pairs; the result goes to `out[slot]`.
fn placements_of(queries: &mut [(f64, u32)], other: &[f64], count_below: bool, out: &mut [u32]) {
    // An LSD radix sort on the negated value: highest first, and about three
    // times faster than a comparison sort at block sizes.
    radsort::sort_by_key(queries, |query| -query.0);
    let mut above = 0;
    for &(value, slot) in queries.iter() {
        above = gallop(other, above, |s| s > value);
        let through = gallop(other, above, |s| s >= value);
        let tied = through - above;
        let strictly = if count_below {
            other.len() - through
        } else {
            above
        };
        // At most 2·len(other), which `delong_paired` checks fits in u32.
        out[slot as usize] = (2 * strictly + tied) as u32;
    }
}

/// Paired DeLong test of the AUCs of `scores_a` and `scores_b` on the same
/// cases (DeLong et al. 1988): [`paired_auc_difference`] followed by
/// [`PairedAucDifference::test`].
pub fn delong_paired(
    scores_a: &[f64],
    scores_b: &[f64],
    labels: &[bool],
) -> Result<PairedDeLong, StatsError> {
    paired_auc_difference(scores_a, scores_b, labels)?.test()
}

/// The AUCs of `scores_a` and `scores_b` on the same cases and the DeLong
/// variance of their difference.
///
/// Each case's placement under each score is found among the other class's
/// sorted scores. Cases are taken in blocks of [`PAIRED_BLOCK`]; a block's
/// values are sorted and placed by galloping search, so memory stays at one
/// sorted copy of each score plus a block, and access stays local. Blocks
/// are processed in parallel and their sums added in block order, so the
/// result does not depend on the number of threads.
pub fn paired_auc_difference(
    scores_a: &[f64],
    scores_b: &[f64],
    labels: &[bool],
) -> Result<PairedAucDifference, StatsError> {
    let sample_a = BinarySample::new(scores_a, labels)?;
    let sample_b = BinarySample::new(scores_b, labels)?;
    let sorted_a = SortedByClass::new(&sample_a);
    let sorted_b = SortedByClass::new(&sample_b);
    let auc_a = delong(&sorted_a).auc;
    let auc_b = delong(&sorted_b).auc;
    if labels.len() >= (u32::MAX / 2) as usize {
        return Err(StatsError::InvalidParameter {
            name: "sample size",
            value: labels.len() as f64,
            reason: "the paired DeLong test handles fewer than 2^31 cases",
        });
    }
    let m = sample_a.positives() as f64;
    let n = sample_a.negatives() as f64;

    /// Sums of the centred placements (a, b), their squares and product,
    /// for each class.
    #[derive(Default, Clone, Copy)]
    struct Sums {
        count: f64,
        a: f64,
        b: f64,
        aa: f64,
        bb: f64,
        ab: f64,
    }
    impl Sums {
        fn add(&mut self, other: &Sums) {
            self.count += other.count;
            self.a += other.a;
            self.b += other.b;
            self.aa += other.aa;
            self.bb += other.bb;
            self.ab += other.ab;
        }
    }

    let block_sums: Vec<[Sums; 2]> = (0..labels.len().div_ceil(PAIRED_BLOCK))
        .into_par_iter()
        .map(|block| {
            let start = block * PAIRED_BLOCK;
            let end = (start + PAIRED_BLOCK).min(labels.len());
            let mut sums = [Sums::default(); 2];
            let mut queries: Vec<(f64, u32)> = Vec::with_capacity(end - start);
            let mut placed_a = vec![0_u32; end - start];
            let mut placed_b = vec![0_u32; end - start];
            for (class, is_positive) in [(0, true), (1, false)] {
                let (other_a, other_b, denominator) = if is_positive {
                    (sorted_a.negatives(), sorted_b.negatives(), 2.0 * n)
                } else {
                    (sorted_a.positives(), sorted_b.positives(), 2.0 * m)
                };
                for (scores, other, placed) in [
                    (scores_a, other_a, &mut placed_a),
                    (scores_b, other_b, &mut placed_b),
                ] {
                    queries.clear();
                    for index in start..end {
                        if labels[index] == is_positive {
                            let slot = queries.len() as u32;
                            queries.push((scores[index] + 0.0, slot));
                        }
                    }
                    placements_of(&mut queries, other, is_positive, placed);
                }
                let count = queries.len();
                let sums = &mut sums[class];
                sums.count = count as f64;
                for (&twice_a, &twice_b) in placed_a[..count].iter().zip(&placed_b[..count]) {
                    let va = f64::from(twice_a) / denominator - auc_a;
                    let vb = f64::from(twice_b) / denominator - auc_b;
                    sums.a += va;
                    sums.b += vb;
                    sums.aa += va * va;
                    sums.bb += vb * vb;
                    sums.ab += va * vb;
                }
            }
            sums
        })
        .collect();
    let mut positive_sums = Sums::default();
    let mut negative_sums = Sums::default();
    for [positive, negative] in &block_sums {
        positive_sums.add(positive);
        negative_sums.add(negative);
    }

    // Covariances about the exact AUCs; the residual means correct the
    // rounding of the AUCs themselves.
    let covariance = |sums: Sums| -> [f64; 3] {
        let count = sums.count;
        if count <= 1.0 {
            return [0.0; 3];
        }
        let (mean_a, mean_b) = (sums.a / count, sums.b / count);
        [
            (sums.aa - count * mean_a * mean_a) / (count - 1.0),
            (sums.bb - count * mean_b * mean_b) / (count - 1.0),
            (sums.ab - count * mean_a * mean_b) / (count - 1.0),
        ]
    };
    let s10 = covariance(positive_sums);
    let s01 = covariance(negative_sums);
    let variance_a = s10[0] / m + s01[0] / n;
    let variance_b = s10[1] / m + s01[1] / n;
    let covariance_ab = s10[2] / m + s01[2] / n;
    let variance = (variance_a + variance_b - 2.0 * covariance_ab).max(0.0);
    Ok(PairedAucDifference {
        auc_a,
        auc_b,
        difference: auc_a - auc_b,
        variance,
        positives: sample_a.positives() as u64,
        negatives: sample_a.negatives() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delong_of(scores: &[f64], labels: &[bool]) -> DeLongAuc {
        let sample = BinarySample::new(scores, labels).expect("valid sample");
        delong(&SortedByClass::new(&sample))
    }

    #[test]
    fn one_case_in_a_class_gives_no_auc_interval() {
        let result = delong_of(&[0.9, 0.4, 0.3, 0.1], &[true, false, true, false]);
        // The estimate is still defined; only the variance is not.
        assert_eq!(result.auc, 0.75);
        let error = delong_of(&[0.9, 0.4, 0.3], &[true, false, false])
            .checked_interval(ConfidenceLevel::NINETY_FIVE)
            .expect_err("one positive");
        assert!(
            error
                .to_string()
                .contains("needs at least two cases of each class"),
            "{error}"
        );
    }

    #[test]
    fn zero_variance_gives_no_auc_interval() {
        let level = ConfidenceLevel::NINETY_FIVE;
        for (scores, labels) in [
            // Perfect separation.
            (vec![0.9, 0.8, 0.2, 0.1], vec![true, true, false, false]),
            // Constant scores.
            (vec![0.5; 4], vec![true, false, true, false]),
        ] {
            let result = delong_of(&scores, &labels);
            assert_eq!(result.variance, 0.0);
            let error = result.checked_interval(level).expect_err("zero variance");
            assert!(
                error.to_string().contains("the variance is zero"),
                "{error}"
            );
        }
        let usable = delong_of(&[0.9, 0.3, 0.5, 0.1], &[true, true, false, false]);
        assert_eq!(
            usable.checked_interval(level),
            Ok(usable.interval(level)),
            "a positive variance gives the usual interval"
        );
    }

    #[test]
    fn paired_zero_variance_with_a_difference_keeps_the_aucs() {
        // A separates perfectly, B is constant: the AUCs differ by one half
        // and every placement of a class is the same under each score.
        let labels = [true, true, false, false];
        let a = [0.9, 0.8, 0.2, 0.1];
        let b = [0.5; 4];
        let paired = paired_auc_difference(&a, &b, &labels).expect("valid sample");
        assert_eq!((paired.auc_a, paired.auc_b), (1.0, 0.5));
        assert_eq!(paired.variance, 0.0);
        assert!(paired.checked_test().is_err());
        let error = paired
            .checked_interval(ConfidenceLevel::NINETY_FIVE)
            .expect_err("zero variance");
        assert!(
            error
                .to_string()
                .contains("the variance of the difference is zero"),
            "{error}"
        );
        // The unchecked test keeps its documented error.
        assert!(delong_paired(&a, &b, &labels).is_err());
    }

    #[test]
    fn paired_test_with_one_case_in_a_class_is_undefined() {
        let labels = [true, false, false, false];
        let a = [0.9, 0.8, 0.2, 0.1];
        let b = [0.1, 0.8, 0.2, 0.9];
        let paired = paired_auc_difference(&a, &b, &labels).expect("valid sample");
        let error = paired.checked_test().expect_err("one positive");
        assert!(error.to_string().contains("at least two cases"), "{error}");
        assert!(
            paired
                .checked_interval(ConfidenceLevel::NINETY_FIVE)
                .is_err()
        );
    }

    /// Placement of `value` among `other` (any order, sorted ascending
    /// here): (#below + ½·#tied)/len when `count_below`, else
    /// (#above + ½·#tied)/len, found by binary search.
    fn placement(ascending: &[f64], value: f64, count_below: bool) -> f64 {
        let below = ascending.partition_point(|&s| s < value);
        let through = ascending.partition_point(|&s| s <= value);
        let tied = (through - below) as f64;
        let strictly = if count_below {
            below as f64
        } else {
            (ascending.len() - through) as f64
        };
        (strictly + 0.5 * tied) / ascending.len() as f64
    }

    /// Sample covariance matrix entries (aa, bb, ab) of paired values.
    fn covariances(pairs: &[(f64, f64)]) -> (f64, f64, f64) {
        let count = pairs.len() as f64;
        let mean_a = pairs.iter().map(|p| p.0).sum::<f64>() / count;
        let mean_b = pairs.iter().map(|p| p.1).sum::<f64>() / count;
        let (mut aa, mut bb, mut ab) = (0.0, 0.0, 0.0);
        for &(a, b) in pairs {
            aa += (a - mean_a) * (a - mean_a);
            bb += (b - mean_b) * (b - mean_b);
            ab += (a - mean_a) * (b - mean_b);
        }
        (aa / (count - 1.0), bb / (count - 1.0), ab / (count - 1.0))
    }

    #[test]
    fn paired_test_over_several_blocks_matches_direct_placements() {
        // More than one block of PAIRED_BLOCK cases, with many ties (scores
        // on a grid of 1/200) and a second score correlated with the first.
        let cases = 600_000;
        assert!(cases > PAIRED_BLOCK);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            // xorshift64*, enough for synthetic data.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1_u64 << 53) as f64
        };
        let mut labels = Vec::with_capacity(cases);
        let mut a = Vec::with_capacity(cases);
        let mut b = Vec::with_capacity(cases);
        for _ in 0..cases {
            let label = next() < 0.3;
            let signal = if label { 0.25 } else { 0.0 };
            let common = next();
            labels.push(label);
            a.push(((signal + 0.6 * common + 0.4 * next()) * 200.0).round() / 200.0);
            b.push(((0.5 * signal + 0.6 * common + 0.4 * next()) * 200.0).round() / 200.0);
        }
        let result = delong_paired(&a, &b, &labels).expect("paired test");

        let class = |scores: &[f64], positive: bool| -> Vec<f64> {
            let mut values: Vec<f64> = scores
                .iter()
                .zip(&labels)
                .filter(|&(_, &label)| label == positive)
                .map(|(&score, _)| score)
                .collect();
            values.sort_unstable_by(f64::total_cmp);
            values
        };
        let (negatives_a, negatives_b) = (class(&a, false), class(&b, false));
        let (positives_a, positives_b) = (class(&a, true), class(&b, true));
        let mut positive_placements = Vec::new();
        let mut negative_placements = Vec::new();
        for index in 0..cases {
            if labels[index] {
                positive_placements.push((
                    placement(&negatives_a, a[index], true),
                    placement(&negatives_b, b[index], true),
                ));
            } else {
                negative_placements.push((
                    placement(&positives_a, a[index], false),
                    placement(&positives_b, b[index], false),
                ));
            }
        }
        let m = positive_placements.len() as f64;
        let n = negative_placements.len() as f64;
        let auc_a = positive_placements.iter().map(|p| p.0).sum::<f64>() / m;
        let auc_b = positive_placements.iter().map(|p| p.1).sum::<f64>() / m;
        let s10 = covariances(&positive_placements);
        let s01 = covariances(&negative_placements);
        let variance = (s10.0 + s10.1 - 2.0 * s10.2) / m + (s01.0 + s01.1 - 2.0 * s01.2) / n;

        let relative = |actual: f64, expected: f64| (actual - expected).abs() / expected.abs();
        assert!(
            relative(result.auc_a, auc_a) < 1e-12,
            "{} {auc_a}",
            result.auc_a
        );
        assert!(
            relative(result.auc_b, auc_b) < 1e-12,
            "{} {auc_b}",
            result.auc_b
        );
        assert!(
            relative(result.variance, variance) < 1e-9,
            "{} {variance}",
            result.variance
        );
        let z = (auc_a - auc_b) / variance.sqrt();
        assert!(relative(result.z, z) < 1e-9, "{} {z}", result.z);
    }
}
