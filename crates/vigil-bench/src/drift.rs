//! The `drift` and `cbpe` workloads: a reference period against an analysis
//! period, on the inputs that `bench/make_drift_data.py` writes.
//!
//! `drift` runs, for every numeric column, the two-sample Kolmogorov–Smirnov
//! test (statistic and p-value), the first Wasserstein distance and the
//! population stability index (10 reference-quantile bins, ε = 10⁻⁴), and for
//! every categorical column the chi-square test of homogeneity on the
//! 2 × k table of category counts and the base-2 Jensen–Shannon distance
//! between the two category distributions. Counting the categories is part of
//! the timed work. The columns are processed by one worker thread per core,
//! each taking the next column not yet started; inside a column, each sample
//! is sorted once (a radix sort) and the three numeric tests share it.
//!
//! `cbpe` estimates performance at threshold 0.5 from the calibrated
//! probabilities of the reference period and of the analysis period.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use vigil_stats::cbpe::{CbpeEstimate, estimate_performance};
use vigil_stats::drift::{
    KsMethod, SortedSample, chi_square_from_counts, jensen_shannon_distance,
    kolmogorov_smirnov_sorted, population_stability_index_sorted, wasserstein_distance_sorted,
};

use crate::{read_f64, report};

/// Number of population stability index bins.
const PSI_BINS: usize = 10;
/// The proportion that replaces an empty bin's in the stability index.
const PSI_EPSILON: f64 = 1e-4;
/// A test with a p-value below this counts as a drifted column.
const ALPHA: f64 = 0.05;
/// A case is predicted positive when its probability is at least this.
const CBPE_THRESHOLD: f64 = 0.5;

/// One feature column of both periods.
enum Column {
    /// Numeric values of the reference and the analysis period.
    Numeric {
        name: String,
        reference: Vec<f64>,
        analysis: Vec<f64>,
    },
    /// Category codes (indices into `categories` names) of both periods.
    Categorical {
        name: String,
        categories: usize,
        reference: Vec<u8>,
        analysis: Vec<u8>,
    },
}

/// The drift statistics of one column.
struct ColumnDrift {
    /// The column's statistics as one JSON object member.
    member: String,
    /// Whether the column's test rejected "no drift" at level `ALPHA`.
    rejected: bool,
}

/// A column's outcome, filled in by whichever worker processed it.
type Slot = Option<Result<ColumnDrift>>;

/// Checks that a column name can be written into JSON without escaping.
fn plain_name(name: &str) -> Result<String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        bail!("column name {name:?} must be ASCII letters, digits, '_' or '-'");
    }
    Ok(name.to_owned())
}

fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Reads `columns.tsv` and every column file it names.
fn load_columns(directory: &Path) -> Result<Vec<Column>> {
    let listing = directory.join("columns.tsv");
    let text = std::fs::read_to_string(&listing)
        .with_context(|| format!("cannot read {}", listing.display()))?;
    let mut columns = Vec::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [kind, name, categories] = fields.as_slice() else {
            bail!(
                "{}: expected three tab-separated fields in {line:?}",
                listing.display()
            );
        };
        let name = plain_name(name)?;
        match *kind {
            "numeric" => columns.push(Column::Numeric {
                reference: read_f64(&directory.join(format!("reference.{name}.f64")))?,
                analysis: read_f64(&directory.join(format!("analysis.{name}.f64")))?,
                name,
            }),
            "categorical" => columns.push(Column::Categorical {
                categories: categories.split(',').count(),
                reference: read_bytes(&directory.join(format!("reference.{name}.u8")))?,
                analysis: read_bytes(&directory.join(format!("analysis.{name}.u8")))?,
                name,
            }),
            other => bail!("{}: unknown column kind {other:?}", listing.display()),
        }
    }
    if columns.is_empty() {
        bail!("{} lists no columns", listing.display());
    }
    Ok(columns)
}

/// Counts each category code; a code outside the listed categories is an
/// error.
fn count_codes(codes: &[u8], categories: usize, name: &str) -> Result<Vec<u64>> {
    let mut counts = vec![0_u64; 256];
    for &code in codes {
        counts[usize::from(code)] += 1;
    }
    if counts[categories..].iter().any(|&count| count > 0) {
        bail!("column {name}: a category code is not below {categories}");
    }
    counts.truncate(categories);
    Ok(counts)
}

/// The drift statistics of one column.
fn column_drift(column: &Column) -> Result<ColumnDrift> {
    match column {
        Column::Numeric {
            name,
            reference,
            analysis,
        } => {
            // Each sample is sorted once, and the three tests share it.
            let sorted_reference = SortedSample::new(reference)?;
            let sorted_analysis = SortedSample::new(analysis)?;
            let ks =
                kolmogorov_smirnov_sorted(&sorted_reference, &sorted_analysis, KsMethod::Auto)?;
            let wasserstein = wasserstein_distance_sorted(&sorted_reference, &sorted_analysis);
            let psi = population_stability_index_sorted(
                &sorted_reference,
                &sorted_analysis,
                PSI_BINS,
                PSI_EPSILON,
            )?;
            Ok(ColumnDrift {
                member: format!(
                    "\"{name}\": {{\"ks_statistic\": {}, \"ks_p_value\": {}, \"wasserstein\": {}, \"psi\": {}}}",
                    ks.statistic, ks.p_value, wasserstein, psi.value
                ),
                rejected: ks.p_value < ALPHA,
            })
        }
        Column::Categorical {
            name,
            categories,
            reference,
            analysis,
        } => {
            let reference_counts = count_codes(reference, *categories, name)?;
            let analysis_counts = count_codes(analysis, *categories, name)?;
            let chi_square = chi_square_from_counts(&reference_counts, &analysis_counts)?;
            let as_weights =
                |counts: &[u64]| -> Vec<f64> { counts.iter().map(|&count| count as f64).collect() };
            let jensen_shannon = jensen_shannon_distance(
                &as_weights(&reference_counts),
                &as_weights(&analysis_counts),
            )?;
            Ok(ColumnDrift {
                member: format!(
                    "\"{name}\": {{\"chi2_statistic\": {}, \"chi2_p_value\": {}, \"chi2_dof\": {}, \"jensen_shannon\": {}}}",
                    chi_square.statistic,
                    chi_square.p_value,
                    chi_square.degrees_of_freedom,
                    jensen_shannon
                ),
                rejected: chi_square.p_value < ALPHA,
            })
        }
    }
}

/// `vigil-bench drift`: every column's drift statistics, columns in parallel.
pub(crate) fn drift(directory: &Path) -> Result<()> {
    let columns = load_columns(directory)?;
    let workers = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .min(columns.len());
    let start = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Slot>> = Mutex::new((0..columns.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(column) = columns.get(index) else {
                        break;
                    };
                    let outcome = column_drift(column);
                    if let Ok(mut slots) = results.lock() {
                        slots[index] = Some(outcome);
                    }
                }
            });
        }
    });
    let seconds = start.elapsed().as_secs_f64();

    let slots = results
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a drift worker panicked"))?;
    let mut members = Vec::with_capacity(slots.len());
    let mut drifted = 0_usize;
    for slot in slots {
        let outcome = slot.context("a column was not processed")??;
        members.push(outcome.member);
        drifted += usize::from(outcome.rejected);
    }
    let rows = match &columns[0] {
        Column::Numeric { reference, .. } => reference.len(),
        Column::Categorical { reference, .. } => reference.len(),
    };
    report(
        seconds,
        format!(
            "{}, \"drifted_columns\": {drifted}, \"columns\": {}, \"reference_rows\": {rows}, \"workers\": {workers}",
            members.join(", "),
            columns.len()
        ),
    );
    Ok(())
}

fn optional(value: Option<f64>) -> String {
    value.map_or_else(|| "null".to_owned(), |value| value.to_string())
}

/// One CBPE estimate as a JSON object.
fn estimate_json(estimate: &CbpeEstimate) -> String {
    let mut out = String::from("{");
    let _ = write!(
        out,
        "\"cases\": {}, \"expected_true_positives\": {}, \"expected_false_positives\": {}, \
         \"expected_true_negatives\": {}, \"expected_false_negatives\": {}, \"sensitivity\": {}, \
         \"specificity\": {}, \"ppv\": {}, \"auc\": {}",
        estimate.cases,
        estimate.expected_true_positives,
        estimate.expected_false_positives,
        estimate.expected_true_negatives,
        estimate.expected_false_negatives,
        optional(estimate.sensitivity),
        optional(estimate.specificity),
        optional(estimate.ppv),
        optional(estimate.auc)
    );
    out.push('}');
    out
}

/// `vigil-bench cbpe`: estimated performance of the reference and the
/// analysis period.
pub(crate) fn cbpe(directory: &Path) -> Result<()> {
    let reference = read_f64(&directory.join("cbpe_reference_scores.f64"))?;
    let analysis = read_f64(&directory.join("cbpe_analysis_scores.f64"))?;
    let start = Instant::now();
    let reference_estimate = estimate_performance(&reference, CBPE_THRESHOLD)?;
    let analysis_estimate = estimate_performance(&analysis, CBPE_THRESHOLD)?;
    let seconds = start.elapsed().as_secs_f64();
    report(
        seconds,
        format!(
            "\"threshold\": {CBPE_THRESHOLD}, \"reference\": {}, \"analysis\": {}",
            estimate_json(&reference_estimate),
            estimate_json(&analysis_estimate)
        ),
    );
    Ok(())
}
