//! The statistics of monitoring computed from counts over ordered bins
//! rather than from individual values, so that a rule can read a year of a
//! deployment from its day aggregates in microseconds.
//!
//! Every function here takes two histograms over the same ordered support
//! (`reference[i]` and `current[i]` count the values of bin or value `i`)
//! and gives exactly what the sample-based function gives when each value
//! is replaced by its bin: the Kolmogorov–Smirnov statistic of
//! [`crate::drift::kolmogorov_smirnov`], the Wasserstein distance of
//! [`crate::drift::wasserstein_distance`] (with the bins' positions as the
//! values), and the AUC and DeLong variance of [`crate::roc::delong`] (tied
//! bins count one half). The tests check each against its sample-based
//! twin on the expanded samples. Binning can only lose information: the
//! AUC of binned scores falls short of the exact AUC by the pairs that
//! share a bin.

use crate::StatsError;
use crate::distributions::kolmogorov_sf;
use crate::roc::DeLongAuc;

/// Checks two histograms over one support and returns their totals.
fn totals(reference: &[u64], current: &[u64]) -> Result<(u64, u64), StatsError> {
    if reference.len() != current.len() {
        return Err(StatsError::LengthMismatch {
            what: "reference and current bins",
            left: reference.len(),
            right: current.len(),
        });
    }
    let reference_total: u64 = reference.iter().sum();
    let current_total: u64 = current.iter().sum();
    if reference_total == 0 || current_total == 0 {
        return Err(StatsError::Empty);
    }
    Ok((reference_total, current_total))
}

/// A two-sample Kolmogorov–Smirnov test from binned counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinnedKs {
    /// D = max over bin boundaries of |F_reference − F_current|.
    pub statistic: f64,
    /// The asymptotic two-sided p-value Q_KS(D·√(m·n/(m + n))). With tied
    /// (binned) values the test is conservative: the true p-value is no
    /// larger.
    pub p_value: f64,
    pub reference_count: u64,
    pub current_count: u64,
}

/// The Kolmogorov–Smirnov test of two histograms over one ordered support.
pub fn binned_kolmogorov_smirnov(
    reference: &[u64],
    current: &[u64],
) -> Result<BinnedKs, StatsError> {
    let (m, n) = totals(reference, current)?;
    let (mut below_reference, mut below_current) = (0_u64, 0_u64);
    let mut statistic: f64 = 0.0;
    for (reference_count, current_count) in reference.iter().zip(current) {
        below_reference += reference_count;
        below_current += current_count;
        let difference =
            (below_reference as f64 / m as f64 - below_current as f64 / n as f64).abs();
        statistic = statistic.max(difference);
    }
    let (m_f, n_f) = (m as f64, n as f64);
    let effective = (m_f * n_f / (m_f + n_f)).sqrt();
    Ok(BinnedKs {
        statistic,
        p_value: kolmogorov_sf(statistic * effective).clamp(0.0, 1.0),
        reference_count: m,
        current_count: n,
    })
}

/// The first Wasserstein distance between two histograms whose bins sit at
/// `positions` (ascending): Σ |F_reference(xᵢ) − F_current(xᵢ)|·(xᵢ₊₁ − xᵢ).
pub fn binned_wasserstein(
    positions: &[f64],
    reference: &[u64],
    current: &[u64],
) -> Result<f64, StatsError> {
    let (m, n) = totals(reference, current)?;
    if positions.len() != reference.len() {
        return Err(StatsError::LengthMismatch {
            what: "bin positions and bins",
            left: positions.len(),
            right: reference.len(),
        });
    }
    crate::sample::require_finite(positions, "bin position")?;
    if positions.windows(2).any(|pair| pair[1] <= pair[0]) {
        return Err(StatsError::InvalidParameter {
            name: "bin positions",
            value: f64::NAN,
            reason: "must be strictly ascending",
        });
    }
    let (mut below_reference, mut below_current) = (0_u64, 0_u64);
    let mut distance = 0.0;
    for index in 0..positions.len().saturating_sub(1) {
        below_reference += reference[index];
        below_current += current[index];
        let gap = positions[index + 1] - positions[index];
        distance +=
            (below_reference as f64 / m as f64 - below_current as f64 / n as f64).abs() * gap;
    }
    Ok(distance)
}

/// The population stability index of two histograms over the same bins:
/// Σ (cᵢ − rᵢ)·ln(cᵢ/rᵢ) with proportions, an empty bin's proportion
/// replaced by `epsilon` (as [`crate::drift::population_stability_index`]
/// does).
pub fn binned_population_stability_index(
    reference: &[u64],
    current: &[u64],
    epsilon: f64,
) -> Result<f64, StatsError> {
    let (m, n) = totals(reference, current)?;
    if !(epsilon > 0.0 && epsilon < 1.0) {
        return Err(StatsError::InvalidParameter {
            name: "PSI epsilon",
            value: epsilon,
            reason: "must be in (0, 1)",
        });
    }
    let mut index = 0.0;
    for (reference_count, current_count) in reference.iter().zip(current) {
        if *reference_count == 0 && *current_count == 0 {
            continue;
        }
        let proportion = |count: u64, total: u64| {
            if count == 0 {
                epsilon
            } else {
                count as f64 / total as f64
            }
        };
        let (r, c) = (
            proportion(*reference_count, m),
            proportion(*current_count, n),
        );
        index += (c - r) * (c / r).ln();
    }
    Ok(index)
}

/// The AUC of binned scores and its DeLong variance: `positives[i]` and
/// `negatives[i]` count the cases of each class in score bin `i`
/// (ascending). Cases in one bin are ties and count one half.
pub fn binned_delong(positives: &[u64], negatives: &[u64]) -> Result<DeLongAuc, StatsError> {
    if positives.len() != negatives.len() {
        return Err(StatsError::LengthMismatch {
            what: "positive and negative bins",
            left: positives.len(),
            right: negatives.len(),
        });
    }
    let m_count: u64 = positives.iter().sum();
    let n_count: u64 = negatives.iter().sum();
    if m_count == 0 || n_count == 0 {
        return Err(StatsError::OneClass {
            positives: m_count as usize,
            negatives: n_count as usize,
        });
    }
    let (m, n) = (m_count as f64, n_count as f64);
    // Placement values: a positive in bin i is above the negatives of lower
    // bins and ties with those of bin i; a negative in bin i is below the
    // positives of higher bins.
    let mut negatives_below = 0_u64;
    let mut positives_above: u64 = m_count;
    let (mut positive_sum, mut positive_squares) = (0.0, 0.0);
    let (mut negative_sum, mut negative_squares) = (0.0, 0.0);
    for (positive_count, negative_count) in positives.iter().zip(negatives) {
        positives_above -= positive_count;
        let v10 = (negatives_below as f64 + 0.5 * *negative_count as f64) / n;
        let v01 = (positives_above as f64 + 0.5 * *positive_count as f64) / m;
        positive_sum += v10 * *positive_count as f64;
        positive_squares += v10 * v10 * *positive_count as f64;
        negative_sum += v01 * *negative_count as f64;
        negative_squares += v01 * v01 * *negative_count as f64;
        negatives_below += negative_count;
    }
    let auc = positive_sum / m;
    let variance_of = |sum: f64, squares: f64, count: f64| {
        if count > 1.0 {
            ((squares - sum * sum / count) / (count - 1.0)).max(0.0)
        } else {
            0.0
        }
    };
    let s10 = variance_of(positive_sum, positive_squares, m);
    let s01 = variance_of(negative_sum, negative_squares, n);
    Ok(DeLongAuc {
        auc,
        variance: (s10 / m + s01 / n).max(0.0),
        positives: m_count,
        negatives: n_count,
    })
}

/// Cramér's V of a 2 × k table of two histograms: √(χ² / N), the effect
/// size of a chi-square test of homogeneity with two samples (0 for equal
/// distributions, 1 for disjoint ones). Bins empty in both are ignored.
pub fn two_sample_cramers_v(chi_square: f64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (chi_square / total as f64).sqrt().clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::BinarySample;
    use crate::drift::{KsMethod, kolmogorov_smirnov, wasserstein_distance};
    use crate::roc::{SortedByClass, delong};

    /// The values of a histogram whose bin i sits at `positions[i]`.
    fn expand(positions: &[f64], counts: &[u64]) -> Vec<f64> {
        positions
            .iter()
            .zip(counts)
            .flat_map(|(position, count)| std::iter::repeat_n(*position, *count as usize))
            .collect()
    }

    fn histogram() -> impl Strategy<Value = Vec<u64>> {
        proptest::collection::vec(0u64..6, 8)
    }

    fn positions() -> Vec<f64> {
        (0..8).map(|bin| 0.1 * bin as f64 + 0.05).collect()
    }

    proptest! {
        #[test]
        fn binned_tests_equal_the_sample_tests_on_the_expanded_samples(
            reference in histogram(),
            current in histogram(),
        ) {
            let positions = positions();
            let (a, b) = (expand(&positions, &reference), expand(&positions, &current));
            prop_assume!(!a.is_empty() && !b.is_empty());
            let binned = binned_kolmogorov_smirnov(&reference, &current).expect("ks");
            let sampled = kolmogorov_smirnov(&a, &b, KsMethod::Asymptotic).expect("ks");
            prop_assert!((binned.statistic - sampled.statistic).abs() < 1e-12);
            let wasserstein = binned_wasserstein(&positions, &reference, &current).expect("w");
            prop_assert!((wasserstein - wasserstein_distance(&a, &b).expect("w")).abs() < 1e-12);
        }

        #[test]
        fn binned_delong_equals_delong_on_the_expanded_scores(
            positives in histogram(),
            negatives in histogram(),
        ) {
            let positions = positions();
            let (p, n) = (expand(&positions, &positives), expand(&positions, &negatives));
            prop_assume!(!p.is_empty() && !n.is_empty());
            let scores: Vec<f64> = p.iter().chain(&n).copied().collect();
            let labels: Vec<bool> = p.iter().map(|_| true).chain(n.iter().map(|_| false)).collect();
            let sample = BinarySample::new(&scores, &labels).expect("sample");
            let exact = delong(&SortedByClass::new(&sample));
            let binned = binned_delong(&positives, &negatives).expect("binned");
            prop_assert!((binned.auc - exact.auc).abs() < 1e-12, "{} {}", binned.auc, exact.auc);
            prop_assert!((binned.variance - exact.variance).abs() < 1e-12, "{} {}", binned.variance, exact.variance);
        }
    }

    #[test]
    fn psi_of_fixed_bins_follows_the_definition() {
        // Proportions 0.5/0.5 against 0.25/0.75.
        let value = binned_population_stability_index(&[2, 2], &[1, 3], 1e-4).expect("psi");
        let expected =
            (0.25_f64 - 0.5) * (0.25_f64 / 0.5).ln() + (0.75_f64 - 0.5) * (0.75_f64 / 0.5).ln();
        assert!((value - expected).abs() < 1e-15);
        // An empty current bin uses epsilon.
        let value = binned_population_stability_index(&[1, 1], &[0, 2], 1e-4).expect("psi");
        let expected =
            (1e-4_f64 - 0.5) * (1e-4_f64 / 0.5).ln() + (1.0_f64 - 0.5) * (1.0_f64 / 0.5).ln();
        assert!((value - expected).abs() < 1e-15);
    }

    #[test]
    fn degenerate_histograms_give_typed_errors() {
        assert_eq!(
            binned_kolmogorov_smirnov(&[0, 0], &[1, 1]),
            Err(StatsError::Empty)
        );
        assert!(matches!(
            binned_kolmogorov_smirnov(&[1], &[1, 1]),
            Err(StatsError::LengthMismatch { .. })
        ));
        assert!(matches!(
            binned_delong(&[0, 0], &[1, 1]),
            Err(StatsError::OneClass { .. })
        ));
        assert!(binned_wasserstein(&[1.0, 1.0], &[1, 1], &[1, 1]).is_err());
        assert_eq!(two_sample_cramers_v(0.0, 0), 0.0);
    }
}
