//! Drift between a reference sample and a current sample: population
//! stability index (quantile bins of the reference, NumPy's linear
//! `quantile`), two-sample Kolmogorov–Smirnov test (exact p-value by the
//! lattice-path method of Hodges 1957, or the limiting Kolmogorov
//! distribution), Pearson's chi-square test of homogeneity (SciPy
//! `chi2_contingency(correction=False)`), Jensen–Shannon distance (SciPy
//! `jensenshannon(p, q, base=2)`) and the first Wasserstein distance (SciPy
//! `wasserstein_distance`).
//!
//! Every function sorts each sample at most once (a radix sort, linear in
//! n) and then works in linear time. Checking one column with several tests
//! sorts each sample once: [`SortedSample`] and the `_sorted` forms of the
//! tests share it. Negative zero is treated as zero, so the two form one
//! tie.

use rayon::prelude::*;

use crate::StatsError;
use crate::distributions::{chi_square_sf, kolmogorov_sf};
use crate::sample::require_finite;

/// Samples at least this long are sorted and binned on all cores.
const PARALLEL_FROM: usize = 1 << 16;

/// Checks that a sample is not empty and that every value is finite.
fn require_sample(values: &[f64], what: &'static str) -> Result<(), StatsError> {
    if values.is_empty() {
        return Err(StatsError::Empty);
    }
    require_finite(values, what)
}

/// A sample sorted once, to be shared by the tests that need it sorted
/// (Kolmogorov–Smirnov, Wasserstein, and the reference side of the PSI):
/// non-empty, every value finite, negative zero stored as zero, ascending.
#[derive(Debug, Clone, PartialEq)]
pub struct SortedSample(Vec<f64>);

impl SortedSample {
    /// Checks and sorts a copy of `values` (a radix sort: linear in n).
    pub fn new(values: &[f64]) -> Result<SortedSample, StatsError> {
        require_sample(values, "sample value")?;
        Ok(SortedSample(sorted_ascending(values)))
    }

    /// The values, ascending.
    pub fn values(&self) -> &[f64] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true: a sorted sample holds at least one value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A copy of finite values sorted from lowest to highest, with negative zero
/// stored as zero.
fn sorted_ascending(values: &[f64]) -> Vec<f64> {
    // Adding zero turns -0.0 into +0.0 and leaves every other value unchanged.
    let mut sorted: Vec<f64> = values.iter().map(|&value| value + 0.0).collect();
    // A radix sort over the bits of finite values (total order, with -0.0
    // gone) is linear in n, and faster than a comparison sort on all cores
    // for the sizes monitoring meets.
    radsort::sort(&mut sorted);
    sorted
}

// ---------------------------------------------------------------------------
// Population stability index
// ---------------------------------------------------------------------------

/// One bin of a population stability index table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PsiBin {
    /// Lower edge, excluded from the bin; `None` for the first bin (−∞).
    pub lower: Option<f64>,
    /// Upper edge, included in the bin; `None` for the last bin (+∞).
    pub upper: Option<f64>,
    /// Number of reference values in the bin.
    pub reference_count: u64,
    /// Number of current values in the bin.
    pub current_count: u64,
    /// Reference proportion used in the index (epsilon when the bin is empty).
    pub reference_proportion: f64,
    /// Current proportion used in the index (epsilon when the bin is empty).
    pub current_proportion: f64,
    /// This bin's term (c − r)·ln(c/r), never negative.
    pub contribution: f64,
}

/// The population stability index with its drift table.
#[derive(Debug, Clone, PartialEq)]
pub struct Psi {
    /// PSI = Σ (cᵢ − rᵢ)·ln(cᵢ/rᵢ) over the bins.
    pub value: f64,
    /// The interior bin edges e₁ ≤ … ≤ e_{bins−1} (reference quantiles).
    pub edges: Vec<f64>,
    /// One row per bin, lowest first.
    pub bins: Vec<PsiBin>,
    /// The value that replaced empty proportions.
    pub epsilon: f64,
}

/// The q-quantile of sorted values by NumPy's default (`method="linear"`)
/// rule, reproduced operation for operation so that edges agree bit for bit:
/// h = (n − 1)·q, i = ⌊h⌋, g = h − i, and the value is x₍ᵢ₎ + (x₍ᵢ₊₁₎ − x₍ᵢ₎)·g
/// when g < ½, otherwise x₍ᵢ₊₁₎ − (x₍ᵢ₊₁₎ − x₍ᵢ₎)·(1 − g).
fn numpy_linear_quantile(sorted: &[f64], q: f64) -> f64 {
    let last = sorted.len() - 1;
    let position = last as f64 * q;
    let below = position.floor();
    let fraction = position - below;
    let below = below as usize;
    if below >= last {
        return sorted[last];
    }
    let (low, high) = (sorted[below], sorted[below + 1]);
    let difference = high - low;
    if fraction < 0.5 {
        low + difference * fraction
    } else {
        high - difference * (1.0 - fraction)
    }
}

/// Population stability index of `current` against `reference`.
///
/// The interior bin edges are the reference quantiles at k/bins for
/// k = 1, …, bins − 1 (NumPy's default linear `quantile`), and the bins are
/// (−∞, e₁], (e₁, e₂], …, (e_{bins−1}, +∞), closed on the right, so a value
/// equal to an edge belongs to the lower bin. With rᵢ and cᵢ the proportions
/// of the reference and the current sample in bin i, any proportion equal to
/// zero is replaced by `epsilon` (without renormalising), and
/// PSI = Σ (cᵢ − rᵢ)·ln(cᵢ/rᵢ). When the reference has many ties two edges
/// can coincide; the bin between them is then empty in both samples and
/// contributes zero.
///
/// The reference is sorted once; each current value is placed by binary
/// search among the edges, so the cost is O(n log n) for the reference and
/// O(m log bins) for the current sample.
pub fn population_stability_index(
    reference: &[f64],
    current: &[f64],
    bins: usize,
    epsilon: f64,
) -> Result<Psi, StatsError> {
    require_sample(reference, "reference value")?;
    require_sample(current, "current value")?;
    if bins < 2 {
        return Err(StatsError::InvalidParameter {
            name: "number of bins",
            value: bins as f64,
            reason: "at least 2 bins are needed",
        });
    }
    if !(epsilon.is_finite() && epsilon > 0.0 && epsilon < 1.0) {
        return Err(StatsError::InvalidParameter {
            name: "epsilon",
            value: epsilon,
            reason: "must lie strictly between 0 and 1",
        });
    }
    let sorted_reference = SortedSample(sorted_ascending(reference));
    psi_of_sorted_reference(&sorted_reference, Current::Unsorted(current), bins, epsilon)
}

/// The population stability index of a current sample against a
/// reference, both sorted once ([`SortedSample`]); as
/// [`population_stability_index`].
pub fn population_stability_index_sorted(
    reference: &SortedSample,
    current: &SortedSample,
    bins: usize,
    epsilon: f64,
) -> Result<Psi, StatsError> {
    if bins < 2 {
        return Err(StatsError::InvalidParameter {
            name: "number of bins",
            value: bins as f64,
            reason: "at least 2 bins are needed",
        });
    }
    if !(epsilon.is_finite() && epsilon > 0.0 && epsilon < 1.0) {
        return Err(StatsError::InvalidParameter {
            name: "epsilon",
            value: epsilon,
            reason: "must lie strictly between 0 and 1",
        });
    }
    psi_of_sorted_reference(reference, Current::Sorted(current.values()), bins, epsilon)
}

/// The current sample of a PSI, sorted or not.
enum Current<'a> {
    Sorted(&'a [f64]),
    Unsorted(&'a [f64]),
}

impl Current<'_> {
    fn len(&self) -> usize {
        match self {
            Current::Sorted(values) | Current::Unsorted(values) => values.len(),
        }
    }
}

fn psi_of_sorted_reference(
    sorted_reference: &SortedSample,
    current: Current<'_>,
    bins: usize,
    epsilon: f64,
) -> Result<Psi, StatsError> {
    let reference = sorted_reference.values();
    let sorted_reference = reference;
    let edges: Vec<f64> = (1..bins)
        .map(|k| numpy_linear_quantile(sorted_reference, k as f64 / bins as f64))
        .collect();

    // The number of reference values at or below each edge, by binary search.
    let mut reference_counts = Vec::with_capacity(bins);
    let mut counted = 0_usize;
    for &edge in &edges {
        let at_or_below = sorted_reference.partition_point(|&value| value <= edge);
        reference_counts.push((at_or_below - counted) as u64);
        counted = at_or_below;
    }
    reference_counts.push((sorted_reference.len() - counted) as u64);

    let current_counts = match current {
        Current::Sorted(sorted) => {
            // Sorted: a value's bin is the number of edges strictly below
            // it, so each bin is a run found by binary search.
            let mut counts = Vec::with_capacity(bins);
            let mut counted = 0_usize;
            for &edge in &edges {
                let at_or_below = sorted.partition_point(|&value| value <= edge);
                counts.push((at_or_below - counted) as u64);
                counted = at_or_below;
            }
            counts.push((sorted.len() - counted) as u64);
            counts
        }
        Current::Unsorted(current) => {
            // A current value's bin is the number of edges strictly below it.
            let bin_of = |value: f64| edges.partition_point(|&edge| edge < value);
            let count_chunk = |chunk: &[f64]| {
                let mut counts = vec![0_u64; bins];
                for &value in chunk {
                    counts[bin_of(value)] += 1;
                }
                counts
            };
            if current.len() >= PARALLEL_FROM {
                current.par_chunks(PARALLEL_FROM).map(count_chunk).reduce(
                    || vec![0_u64; bins],
                    |mut total, part| {
                        for (sum, count) in total.iter_mut().zip(part) {
                            *sum += count;
                        }
                        total
                    },
                )
            } else {
                count_chunk(current)
            }
        }
    };
    let current_length = current.len();

    let proportion = |count: u64, total: usize| {
        if count == 0 {
            epsilon
        } else {
            count as f64 / total as f64
        }
    };
    let mut value = 0.0;
    let mut table = Vec::with_capacity(bins);
    for bin in 0..bins {
        let reference_proportion = proportion(reference_counts[bin], reference.len());
        let current_proportion = proportion(current_counts[bin], current_length);
        let contribution = (current_proportion - reference_proportion)
            * (current_proportion / reference_proportion).ln();
        value += contribution;
        table.push(PsiBin {
            lower: bin.checked_sub(1).map(|previous| edges[previous]),
            upper: edges.get(bin).copied(),
            reference_count: reference_counts[bin],
            current_count: current_counts[bin],
            reference_proportion,
            current_proportion,
            contribution,
        });
    }
    Ok(Psi {
        value,
        edges,
        bins: table,
        epsilon,
    })
}

// ---------------------------------------------------------------------------
// Two-sample Kolmogorov–Smirnov test
// ---------------------------------------------------------------------------

/// How the Kolmogorov–Smirnov p-value is to be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KsMethod {
    /// Exact when m·n ≤ 10,000,000, otherwise asymptotic.
    #[default]
    Auto,
    /// The exact null distribution by the lattice-path method (Hodges 1957).
    Exact,
    /// The limiting Kolmogorov distribution.
    Asymptotic,
}

/// The method that actually produced a Kolmogorov–Smirnov p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KsPValueMethod {
    Exact,
    Asymptotic,
}

/// The result of a two-sample Kolmogorov–Smirnov test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsTest {
    /// D = sup |F_a − F_b|, in [0, 1].
    pub statistic: f64,
    /// Two-sided p-value P(D ≥ d) under the null hypothesis.
    pub p_value: f64,
    /// Which computation gave the p-value.
    pub method: KsPValueMethod,
    /// Size of the first sample (m).
    pub size_a: usize,
    /// Size of the second sample (n).
    pub size_b: usize,
}

/// Largest m·n for which [`KsMethod::Auto`] uses the exact p-value.
pub const KS_EXACT_AUTO_LIMIT: u128 = 10_000_000;

/// Largest m·n for which an exact p-value is attempted at all (about ten
/// seconds of work); beyond it [`KsMethod::Exact`] is refused.
pub const KS_EXACT_HARD_LIMIT: u128 = 2_000_000_000;

fn greatest_common_divisor(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// D·m·n = max |i·n − j·m| over the merged walk of the two sorted samples,
/// where i and j count the values of each sample at or below the current
/// value. All values equal to the current one are passed in both samples
/// before the difference is taken, so ties between the samples are handled
/// as in SciPy and R.
fn ks_statistic_scaled(a: &[f64], b: &[f64]) -> u128 {
    let (m, n) = (a.len() as i128, b.len() as i128);
    let (mut i, mut j) = (0_usize, 0_usize);
    let mut largest = 0_i128;
    while i < a.len() && j < b.len() {
        let value = a[i].min(b[j]);
        while i < a.len() && a[i] == value {
            i += 1;
        }
        while j < b.len() && b[j] == value {
            j += 1;
        }
        largest = largest.max((i as i128 * n - j as i128 * m).abs());
    }
    // Once one sample is exhausted the difference only shrinks towards zero.
    largest as u128
}

/// Exact P(D ≥ d) for two samples of sizes m and n from the same continuous
/// distribution, where `scaled_statistic` = d·m·n.
///
/// Under the null hypothesis every ordering of the m + n values is equally
/// likely, which is a uniformly random monotone lattice path from (0, 0) to
/// (m, n). The path is generated one step at a time: from (i, j) it goes to
/// (i + 1, j) with probability (m − i)/(m + n − i − j) and to (i, j + 1)
/// otherwise. The probability mass of the paths still strictly inside
/// |i·n − j·m| < d·m·n is carried row by row, and the mass that steps onto or
/// across the boundary is added to the p-value at that moment. The p-value is
/// thus a sum of positive terms and keeps its relative precision when it is
/// tiny (it is never formed as 1 − P(inside)). Integer comparisons avoid any
/// rounding at the boundary. Time is proportional to the number of inside
/// lattice points, at most (m + 1)(n + 1); memory is two rows.
fn ks_exact_p_value(m: usize, n: usize, scaled_statistic: u128) -> f64 {
    if scaled_statistic == 0 {
        return 1.0;
    }
    // The caller guarantees m·n ≤ KS_EXACT_HARD_LIMIT, so these fit in i64.
    let (rows, columns, boundary) = (m as i64, n as i64, scaled_statistic as i64);
    let inside = |i: i64, j: i64| (i * columns - j * rows).abs() < boundary;
    let mut current = vec![0.0_f64; n + 1];
    let mut next = vec![0.0_f64; n + 1];
    current[0] = 1.0;
    let mut outside = 0.0;
    for i in 0..=rows {
        // Inside points of row i satisfy i·n − D < j·m < i·n + D.
        let first = ((i * columns - boundary).div_euclid(rows) + 1).max(0);
        let last = (i * columns + boundary - 1).div_euclid(rows).min(columns);
        for j in first..=last {
            let index = j as usize;
            let mass = current[index];
            if mass == 0.0 {
                continue;
            }
            current[index] = 0.0;
            let remaining = (rows - i + columns - j) as f64;
            if j < columns {
                let step = mass * (columns - j) as f64 / remaining;
                if inside(i, j + 1) {
                    current[index + 1] += step;
                } else {
                    outside += step;
                }
            }
            if i < rows {
                let step = mass * (rows - i) as f64 / remaining;
                if inside(i + 1, j) {
                    next[index] += step;
                } else {
                    outside += step;
                }
            }
        }
        std::mem::swap(&mut current, &mut next);
    }
    outside.min(1.0)
}

/// Two-sample Kolmogorov–Smirnov test of `a` (size m) against `b` (size n).
///
/// The statistic D = sup |F_a − F_b| comes from one merged walk over the two
/// sorted samples (ties advance through equal values in both samples before
/// the comparison).
///
/// - The exact p-value P(D ≥ d) is computed by the lattice-path method
///   (Hodges 1957) in probabilities, as SciPy's `ks_2samp(method="exact")`.
///   Like SciPy's, it assumes continuous data with no ties; with ties it is
///   conservative.
/// - The asymptotic p-value is the limiting Kolmogorov distribution at
///   √(mn/(m+n))·d, as R's `ks.test(exact = FALSE)` and
///   `scipy.special.kolmogorov`. SciPy's `method="asymp"` differs: it
///   evaluates the one-sample finite-n distribution `kstwo` at an effective
///   sample size, so its values are close to, but not equal to, these.
/// - [`KsMethod::Auto`] uses the exact p-value when m·n ≤ 10,000,000 (SciPy's
///   own automatic switch is at max(m, n) ≤ 10,000) and the asymptotic one
///   otherwise. [`KsMethod::Exact`] is refused beyond m·n = 2·10⁹.
///
/// An exact p-value smaller than the smallest positive double is reported as
/// zero.
pub fn kolmogorov_smirnov(a: &[f64], b: &[f64], method: KsMethod) -> Result<KsTest, StatsError> {
    require_sample(a, "first sample value")?;
    require_sample(b, "second sample value")?;
    kolmogorov_smirnov_sorted(
        &SortedSample(sorted_ascending(a)),
        &SortedSample(sorted_ascending(b)),
        method,
    )
}

/// The two-sample Kolmogorov–Smirnov test of two samples sorted once
/// ([`SortedSample`]); as [`kolmogorov_smirnov`].
pub fn kolmogorov_smirnov_sorted(
    a: &SortedSample,
    b: &SortedSample,
    method: KsMethod,
) -> Result<KsTest, StatsError> {
    let (m, n) = (a.len(), b.len());
    let cells = m as u128 * n as u128;
    let used = match method {
        KsMethod::Auto if cells <= KS_EXACT_AUTO_LIMIT => KsPValueMethod::Exact,
        KsMethod::Auto | KsMethod::Asymptotic => KsPValueMethod::Asymptotic,
        KsMethod::Exact if cells <= KS_EXACT_HARD_LIMIT => KsPValueMethod::Exact,
        KsMethod::Exact => {
            return Err(StatsError::InvalidParameter {
                name: "m·n for the exact Kolmogorov–Smirnov p-value",
                value: cells as f64,
                reason: "exceeds 2·10⁹ lattice points; use the asymptotic method",
            });
        }
    };
    let scaled_statistic = ks_statistic_scaled(a.values(), b.values());
    // D = h / lcm(m, n) with integer h, which is how SciPy reports it.
    let divisor = greatest_common_divisor(m as u128, n as u128);
    let statistic = (scaled_statistic / divisor) as f64 / (cells / divisor) as f64;
    let p_value = match used {
        KsPValueMethod::Exact => ks_exact_p_value(m, n, scaled_statistic),
        KsPValueMethod::Asymptotic => {
            kolmogorov_sf((m as f64 * n as f64 / (m as f64 + n as f64)).sqrt() * statistic)
        }
    };
    Ok(KsTest {
        statistic,
        p_value,
        method: used,
        size_a: m,
        size_b: n,
    })
}

// ---------------------------------------------------------------------------
// Chi-square test of homogeneity
// ---------------------------------------------------------------------------

/// Pearson's chi-square test of homogeneity of a contingency table.
#[derive(Debug, Clone, PartialEq)]
pub struct ChiSquareTest {
    /// X² = Σ (O − E)²/E over the cells kept.
    pub statistic: f64,
    /// (r − 1)(c − 1) for the r rows and c columns kept.
    pub degrees_of_freedom: u64,
    /// Upper tail of the chi-square distribution at the statistic.
    pub p_value: f64,
    /// The smallest expected count E = row total · column total / grand total;
    /// the usual rule of thumb asks for at least 5.
    pub minimum_expected: f64,
    /// Indices of rows left out because their total is zero.
    pub dropped_rows: Vec<usize>,
    /// Indices of columns (categories) left out because their total is zero.
    pub dropped_columns: Vec<usize>,
}

/// Chi-square test of homogeneity: rows are samples (for example reference
/// and current period), columns are categories.
///
/// The statistic is Pearson's X² = Σ (O − E)²/E with E = row total · column
/// total / grand total, without Yates' continuity correction (SciPy
/// `chi2_contingency(correction=False)`, R `chisq.test(correct = FALSE)`);
/// dof = (r − 1)(c − 1) and the p-value is the chi-square upper tail.
///
/// Rows and columns whose total is zero are dropped first (a category seen
/// in neither sample carries no information; SciPy would refuse the table
/// because an expected count is zero). At least two rows and two columns must
/// remain, otherwise the test is undefined.
pub fn chi_square_contingency(table: &[Vec<u64>]) -> Result<ChiSquareTest, StatsError> {
    let Some(first_row) = table.first() else {
        return Err(StatsError::Empty);
    };
    let columns = first_row.len();
    if let Some(row) = table.iter().find(|row| row.len() != columns) {
        return Err(StatsError::LengthMismatch {
            what: "contingency table rows",
            left: columns,
            right: row.len(),
        });
    }
    if columns == 0 {
        return Err(StatsError::Empty);
    }
    let row_totals: Vec<u128> = table
        .iter()
        .map(|row| row.iter().map(|&count| count as u128).sum())
        .collect();
    let column_totals: Vec<u128> = (0..columns)
        .map(|column| table.iter().map(|row| row[column] as u128).sum())
        .collect();
    let kept_rows: Vec<usize> = (0..table.len())
        .filter(|&row| row_totals[row] > 0)
        .collect();
    let kept_columns: Vec<usize> = (0..columns)
        .filter(|&column| column_totals[column] > 0)
        .collect();
    if kept_rows.len() < 2 || kept_columns.len() < 2 {
        return Err(StatsError::Undefined {
            what: "chi-square test of homogeneity",
            reason: "fewer than two samples or two categories have any counts",
        });
    }
    let grand_total: u128 = row_totals.iter().sum();
    let grand_total = grand_total as f64;
    let mut statistic = 0.0;
    let mut minimum_expected = f64::INFINITY;
    for &row in &kept_rows {
        for &column in &kept_columns {
            let expected = row_totals[row] as f64 * column_totals[column] as f64 / grand_total;
            let difference = table[row][column] as f64 - expected;
            statistic += difference * difference / expected;
            minimum_expected = minimum_expected.min(expected);
        }
    }
    let degrees_of_freedom = (kept_rows.len() as u64 - 1) * (kept_columns.len() as u64 - 1);
    Ok(ChiSquareTest {
        statistic,
        degrees_of_freedom,
        p_value: chi_square_sf(statistic, degrees_of_freedom as f64)?,
        minimum_expected,
        dropped_rows: (0..table.len())
            .filter(|&row| row_totals[row] == 0)
            .collect(),
        dropped_columns: (0..columns)
            .filter(|&column| column_totals[column] == 0)
            .collect(),
    })
}

/// Chi-square test of homogeneity of two samples given as category counts
/// (the same categories, in the same order, in both).
pub fn chi_square_from_counts(
    reference: &[u64],
    current: &[u64],
) -> Result<ChiSquareTest, StatsError> {
    if reference.len() != current.len() {
        return Err(StatsError::LengthMismatch {
            what: "reference and current category counts",
            left: reference.len(),
            right: current.len(),
        });
    }
    chi_square_contingency(&[reference.to_vec(), current.to_vec()])
}

// ---------------------------------------------------------------------------
// Jensen–Shannon distance
// ---------------------------------------------------------------------------

/// Checks a vector of non-negative finite weights with a positive sum and
/// returns the sum.
fn weights_sum(values: &[f64], what: &'static str) -> Result<f64, StatsError> {
    require_sample(values, what)?;
    if let Some(index) = values.iter().position(|&value| value < 0.0) {
        return Err(StatsError::InvalidParameter {
            name: what,
            value: values[index],
            reason: "a probability or count cannot be negative",
        });
    }
    let sum: f64 = values.iter().sum();
    if !(sum > 0.0 && sum.is_finite()) {
        return Err(StatsError::Undefined {
            what: "distribution",
            reason: "its weights sum to zero (or overflow), so it cannot be normalised",
        });
    }
    Ok(sum)
}

/// x·ln(x/y) with 0·ln(0/y) = 0, as `scipy.special.rel_entr` (y > 0 wherever
/// x > 0 here, because y is the mixture of x and another distribution).
fn relative_entropy_term(x: f64, y: f64) -> f64 {
    if x > 0.0 { x * (x / y).ln() } else { 0.0 }
}

/// Jensen–Shannon distance between two discrete distributions with base-2
/// logarithms, so that it lies in [0, 1].
///
/// p and q (probabilities or counts over the same categories) are first
/// divided by their sums, as SciPy does. With m = (p + q)/2, the divergence is
/// JSD = (KL(p‖m) + KL(q‖m))/2 in bits and the distance is √JSD, exactly
/// SciPy's `jensenshannon(p, q, base=2)`. NannyML reports this base-2
/// distance; Evidently uses natural logarithms, which gives √ln 2 ≈ 0.833
/// times this value.
pub fn jensen_shannon_distance(p: &[f64], q: &[f64]) -> Result<f64, StatsError> {
    if p.len() != q.len() {
        return Err(StatsError::LengthMismatch {
            what: "the two distributions",
            left: p.len(),
            right: q.len(),
        });
    }
    let p_sum = weights_sum(p, "first distribution")?;
    let q_sum = weights_sum(q, "second distribution")?;
    let mut left = 0.0;
    let mut right = 0.0;
    for (&p_value, &q_value) in p.iter().zip(q) {
        let (p_value, q_value) = (p_value / p_sum, q_value / q_sum);
        let mixture = (p_value + q_value) / 2.0;
        left += relative_entropy_term(p_value, mixture);
        right += relative_entropy_term(q_value, mixture);
    }
    // Rounding can make a divergence of zero come out a hair below zero.
    let divergence = ((left + right) / std::f64::consts::LN_2).max(0.0);
    Ok((divergence / 2.0).sqrt().min(1.0))
}

// ---------------------------------------------------------------------------
// Wasserstein distance
// ---------------------------------------------------------------------------

/// First Wasserstein (earth mover's) distance between the empirical
/// distributions of `a` and `b`: W₁ = ∫ |F_a(x) − F_b(x)| dx, in the units of
/// the data, as SciPy's `wasserstein_distance(a, b)`.
///
/// One merged walk over the two sorted samples adds |F_a − F_b| times the gap
/// to the next distinct value. The distance is not normalised: Evidently
/// divides it by the reference sample's standard deviation before comparing
/// it with a threshold.
pub fn wasserstein_distance(a: &[f64], b: &[f64]) -> Result<f64, StatsError> {
    require_sample(a, "first sample value")?;
    require_sample(b, "second sample value")?;
    Ok(wasserstein_distance_sorted(
        &SortedSample(sorted_ascending(a)),
        &SortedSample(sorted_ascending(b)),
    ))
}

/// The first Wasserstein distance between two samples sorted once
/// ([`SortedSample`]); as [`wasserstein_distance`].
pub fn wasserstein_distance_sorted(a: &SortedSample, b: &SortedSample) -> f64 {
    let (sorted_a, sorted_b) = (a.values(), b.values());
    let (m, n) = (sorted_a.len() as f64, sorted_b.len() as f64);
    let (mut i, mut j) = (0_usize, 0_usize);
    let mut distance = 0.0;
    loop {
        let value = match (sorted_a.get(i), sorted_b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        while i < sorted_a.len() && sorted_a[i] == value {
            i += 1;
        }
        while j < sorted_b.len() && sorted_b[j] == value {
            j += 1;
        }
        let next = match (sorted_a.get(i), sorted_b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        distance += (i as f64 / m - j as f64 / n).abs() * (next - value);
    }
    distance
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn tests_on_samples_sorted_once_equal_the_tests_on_raw_samples(
            reference in proptest::collection::vec(-50.0f64..50.0, 1..300),
            current in proptest::collection::vec(-50.0f64..50.0, 1..300),
            rounding in 0u32..3,
        ) {
            // Rounding makes ties, including between the samples.
            let round = |values: &[f64]| -> Vec<f64> {
                let scale = 10f64.powi(rounding as i32);
                values.iter().map(|value| (value * scale).round() / scale).collect()
            };
            let (reference, current) = (round(&reference), round(&current));
            let (sorted_reference, sorted_current) =
                (SortedSample::new(&reference).expect("sample"), SortedSample::new(&current).expect("sample"));
            proptest::prop_assert_eq!(
                population_stability_index(&reference, &current, 10, 1e-4).expect("psi"),
                population_stability_index_sorted(&sorted_reference, &sorted_current, 10, 1e-4).expect("psi")
            );
            proptest::prop_assert_eq!(
                kolmogorov_smirnov(&reference, &current, KsMethod::Asymptotic).expect("ks"),
                kolmogorov_smirnov_sorted(&sorted_reference, &sorted_current, KsMethod::Asymptotic).expect("ks")
            );
            proptest::prop_assert_eq!(
                wasserstein_distance(&reference, &current).expect("w"),
                wasserstein_distance_sorted(&sorted_reference, &sorted_current)
            );
            proptest::prop_assert!(sorted_reference.values().windows(2).all(|pair| pair[0] <= pair[1]));
        }
    }

    /// A deterministic spread of values (a low-discrepancy sequence mapped
    /// through a skewing function) without needing a random generator.
    fn spread(count: usize, shift: f64) -> Vec<f64> {
        (0..count)
            .map(|index| {
                let u = ((index as f64 + 0.5) * 0.618_033_988_749_895).fract();
                shift + u * u * 10.0
            })
            .collect()
    }

    #[test]
    fn psi_of_a_sample_against_itself_is_zero() {
        let sample = spread(1000, 0.0);
        let psi = population_stability_index(&sample, &sample, 10, 1e-4).expect("valid input");
        assert_eq!(psi.value, 0.0);
        assert_eq!(psi.edges.len(), 9);
        assert_eq!(psi.bins.len(), 10);
        assert!(psi.bins.iter().all(|bin| bin.reference_count == 100));
        assert_eq!(psi.bins[0].lower, None);
        assert_eq!(psi.bins[9].upper, None);
        assert_eq!(psi.bins[1].lower, Some(psi.edges[0]));
    }

    #[test]
    fn psi_grows_with_the_shift_and_uses_epsilon_for_empty_bins() {
        let reference = spread(2000, 0.0);
        let small =
            population_stability_index(&reference, &spread(1500, 0.3), 10, 1e-4).expect("valid");
        let large =
            population_stability_index(&reference, &spread(1500, 3.0), 10, 1e-4).expect("valid");
        assert!(small.value > 0.0 && large.value > small.value);
        let empty = large
            .bins
            .iter()
            .find(|bin| bin.current_count == 0)
            .expect("an empty bin");
        assert_eq!(empty.current_proportion, 1e-4);
        let total: f64 = large.bins.iter().map(|bin| bin.contribution).sum();
        assert!((total - large.value).abs() <= 1e-12 * large.value);
    }

    #[test]
    fn psi_puts_a_value_on_an_edge_in_the_lower_bin() {
        let reference = [1.0, 2.0, 3.0, 4.0, 5.0];
        // The median edge is exactly 3.0.
        let psi = population_stability_index(&reference, &[3.0], 2, 1e-4).expect("valid");
        assert_eq!(psi.edges, vec![3.0]);
        assert_eq!(psi.bins[0].current_count, 1);
        assert_eq!(psi.bins[0].reference_count, 3);
    }

    #[test]
    fn psi_rejects_degenerate_input() {
        assert_eq!(
            population_stability_index(&[], &[1.0], 10, 1e-4),
            Err(StatsError::Empty)
        );
        assert_eq!(
            population_stability_index(&[1.0], &[], 10, 1e-4),
            Err(StatsError::Empty)
        );
        assert!(matches!(
            population_stability_index(&[1.0, f64::NAN], &[1.0], 10, 1e-4),
            Err(StatsError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            population_stability_index(&[1.0, 2.0], &[1.0], 1, 1e-4),
            Err(StatsError::InvalidParameter { .. })
        ));
        assert!(matches!(
            population_stability_index(&[1.0, 2.0], &[1.0], 10, 0.0),
            Err(StatsError::InvalidParameter { .. })
        ));
    }

    #[test]
    fn psi_of_a_constant_reference_is_finite() {
        // Every edge equals 5; all reference values fall in the first bin.
        let psi = population_stability_index(&[5.0; 20], &[4.0, 5.0, 6.0], 4, 1e-4).expect("valid");
        assert!(psi.value.is_finite() && psi.value > 0.0);
    }

    #[test]
    fn numpy_quantile_matches_hand_values() {
        let sorted = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(numpy_linear_quantile(&sorted, 0.0), 1.0);
        assert_eq!(numpy_linear_quantile(&sorted, 1.0), 8.0);
        assert_eq!(numpy_linear_quantile(&sorted, 0.5), 3.0);
        assert_eq!(numpy_linear_quantile(&sorted, 0.25), 1.75);
    }

    #[test]
    fn ks_of_identical_samples_has_d_zero_and_p_one() {
        let sample = spread(50, 0.0);
        for method in [KsMethod::Exact, KsMethod::Asymptotic, KsMethod::Auto] {
            let test = kolmogorov_smirnov(&sample, &sample, method).expect("valid");
            assert_eq!(test.statistic, 0.0);
            assert_eq!(test.p_value, 1.0);
        }
    }

    #[test]
    fn ks_exact_p_matches_a_hand_count() {
        // a = {1, 2}, b = {3, 4}: D = 1, and only 2 of the C(4, 2) = 6
        // orderings reach |F_a − F_b| = 1 (a a b b and b b a a).
        let test = kolmogorov_smirnov(&[1.0, 2.0], &[3.0, 4.0], KsMethod::Exact).expect("valid");
        assert_eq!(test.statistic, 1.0);
        assert!((test.p_value - 2.0 / 6.0).abs() < 1e-15);
        assert_eq!(test.method, KsPValueMethod::Exact);
    }

    #[test]
    fn ks_exact_p_matches_brute_force_enumeration() {
        // Enumerate every arrangement of 4 a's and 5 b's and count those whose
        // statistic is at least the observed one.
        let (m, n) = (4_usize, 5_usize);
        let a = [0.1, 0.5, 0.6, 2.0];
        let b = [0.2, 0.3, 0.4, 1.0, 1.5];
        let observed = ks_statistic_scaled(&a, &b);
        let mut at_least = 0_u32;
        let mut total = 0_u32;
        for mask in 0_u32..(1 << (m + n)) {
            if mask.count_ones() as usize != m {
                continue;
            }
            total += 1;
            let (mut i, mut j, mut largest) = (0_i64, 0_i64, 0_i64);
            for position in 0..(m + n) {
                if mask & (1 << position) != 0 {
                    i += 1;
                } else {
                    j += 1;
                }
                largest = largest.max((i * n as i64 - j * m as i64).abs());
            }
            if largest as u128 >= observed {
                at_least += 1;
            }
        }
        let test = kolmogorov_smirnov(&a, &b, KsMethod::Exact).expect("valid");
        assert!((test.p_value - f64::from(at_least) / f64::from(total)).abs() < 1e-14);
    }

    #[test]
    fn ks_handles_ties_between_samples() {
        // F_a and F_b agree after each tied value, so D = 0.
        let test = kolmogorov_smirnov(
            &[1.0, 2.0, 2.0],
            &[1.0, 2.0, 2.0, 1.0, 2.0, 2.0],
            KsMethod::Auto,
        )
        .expect("valid");
        assert_eq!(test.statistic, 0.0);
        let zero = kolmogorov_smirnov(&[-0.0], &[0.0], KsMethod::Auto).expect("valid");
        assert_eq!(zero.statistic, 0.0);
    }

    #[test]
    fn ks_auto_switches_to_asymptotic_for_large_samples() {
        let a = spread(4000, 0.0);
        let b = spread(3000, 0.1);
        let test = kolmogorov_smirnov(&a, &b, KsMethod::Auto).expect("valid");
        assert_eq!(test.method, KsPValueMethod::Asymptotic);
        assert!(test.p_value > 0.0 && test.p_value <= 1.0);
    }

    #[test]
    fn ks_rejects_degenerate_input() {
        assert_eq!(
            kolmogorov_smirnov(&[], &[1.0], KsMethod::Auto),
            Err(StatsError::Empty)
        );
        assert!(matches!(
            kolmogorov_smirnov(&[1.0], &[f64::INFINITY], KsMethod::Auto),
            Err(StatsError::NonFinite { index: 0, .. })
        ));
    }

    #[test]
    fn chi_square_drops_empty_categories_and_rejects_single_columns() {
        let with_empty = chi_square_contingency(&[vec![10, 0, 20], vec![15, 0, 5]]).expect("valid");
        let without = chi_square_contingency(&[vec![10, 20], vec![15, 5]]).expect("valid");
        assert_eq!(with_empty.statistic, without.statistic);
        assert_eq!(with_empty.degrees_of_freedom, 1);
        assert_eq!(with_empty.dropped_columns, vec![1]);
        assert!(matches!(
            chi_square_contingency(&[vec![3, 0], vec![4, 0]]),
            Err(StatsError::Undefined { .. })
        ));
        assert!(matches!(
            chi_square_contingency(&[vec![3, 1], vec![4]]),
            Err(StatsError::LengthMismatch { .. })
        ));
        assert_eq!(chi_square_contingency(&[]), Err(StatsError::Empty));
    }

    #[test]
    fn chi_square_of_proportional_rows_is_zero() {
        let test = chi_square_from_counts(&[10, 20, 30], &[20, 40, 60]).expect("valid");
        assert_eq!(test.statistic, 0.0);
        assert_eq!(test.p_value, 1.0);
        assert_eq!(test.degrees_of_freedom, 2);
    }

    #[test]
    fn jensen_shannon_is_zero_for_equal_and_one_for_disjoint() {
        assert_eq!(
            jensen_shannon_distance(&[0.2, 0.3, 0.5], &[2.0, 3.0, 5.0]),
            Ok(0.0)
        );
        let disjoint = jensen_shannon_distance(&[1.0, 0.0], &[0.0, 1.0]).expect("valid");
        assert!((disjoint - 1.0).abs() < 1e-15);
        let forward = jensen_shannon_distance(&[0.1, 0.9], &[0.6, 0.4]).expect("valid");
        let backward = jensen_shannon_distance(&[0.6, 0.4], &[0.1, 0.9]).expect("valid");
        assert_eq!(forward, backward);
    }

    #[test]
    fn jensen_shannon_rejects_degenerate_input() {
        assert!(matches!(
            jensen_shannon_distance(&[0.5, 0.5], &[1.0]),
            Err(StatsError::LengthMismatch { .. })
        ));
        assert!(matches!(
            jensen_shannon_distance(&[0.0, 0.0], &[0.5, 0.5]),
            Err(StatsError::Undefined { .. })
        ));
        assert!(matches!(
            jensen_shannon_distance(&[-0.5, 1.5], &[0.5, 0.5]),
            Err(StatsError::InvalidParameter { .. })
        ));
        assert_eq!(jensen_shannon_distance(&[], &[]), Err(StatsError::Empty));
    }

    #[test]
    fn wasserstein_matches_hand_values() {
        assert_eq!(wasserstein_distance(&[0.0], &[3.0]), Ok(3.0));
        // Shifting every value by c moves the distribution by exactly c.
        let a = spread(200, 0.0);
        let b: Vec<f64> = a.iter().map(|value| value + 0.25).collect();
        let distance = wasserstein_distance(&a, &b).expect("valid");
        assert!((distance - 0.25).abs() < 1e-12);
        assert_eq!(wasserstein_distance(&a, &a), Ok(0.0));
        assert_eq!(wasserstein_distance(&[], &a), Err(StatsError::Empty));
    }
}
