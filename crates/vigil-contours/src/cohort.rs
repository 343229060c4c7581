//! Cohorts: the agreement of every structure of every patient, summarised
//! per structure (median, quartiles, range) and judged against an
//! acceptance protocol such as "the median surface Dice at 2 mm of every
//! structure is at least 0.90".
//!
//! Quartiles use linear interpolation between order statistics (NumPy's
//! default, `vigil_stats::bootstrap::quantile_of_sorted`). A metric that is
//! undefined for a patient (a distance when one of the two structures is
//! empty, Dice when both are) is left out of that structure's distribution
//! and counted as missing, never taken as zero.

use crate::Agreement;

/// A per-structure metric of a comparison, by the name the command line,
/// the JSON output and acceptance protocols use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContourMetric {
    Dice,
    Jaccard,
    HausdorffMm,
    Hd95Mm,
    /// The symmetric (area-weighted over both surfaces) mean surface distance.
    MsdMm,
    SurfaceDice,
    AddedPathLengthMm,
    VolumeReferenceCc,
    VolumeTestCc,
}

impl ContourMetric {
    /// Every metric, in the order tables list them.
    pub const ALL: [ContourMetric; 9] = [
        ContourMetric::Dice,
        ContourMetric::Jaccard,
        ContourMetric::HausdorffMm,
        ContourMetric::Hd95Mm,
        ContourMetric::MsdMm,
        ContourMetric::SurfaceDice,
        ContourMetric::AddedPathLengthMm,
        ContourMetric::VolumeReferenceCc,
        ContourMetric::VolumeTestCc,
    ];

    /// The metric's name: `dice`, `jaccard`, `hausdorff_mm`, `hd95_mm`,
    /// `msd_mm`, `surface_dice`, `added_path_length_mm`,
    /// `volume_reference_cc`, `volume_test_cc`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContourMetric::Dice => "dice",
            ContourMetric::Jaccard => "jaccard",
            ContourMetric::HausdorffMm => "hausdorff_mm",
            ContourMetric::Hd95Mm => "hd95_mm",
            ContourMetric::MsdMm => "msd_mm",
            ContourMetric::SurfaceDice => "surface_dice",
            ContourMetric::AddedPathLengthMm => "added_path_length_mm",
            ContourMetric::VolumeReferenceCc => "volume_reference_cc",
            ContourMetric::VolumeTestCc => "volume_test_cc",
        }
    }

    /// The metric of a name (see [`ContourMetric::as_str`]).
    pub fn parse(name: &str) -> Option<ContourMetric> {
        ContourMetric::ALL
            .into_iter()
            .find(|metric| metric.as_str() == name)
    }

    /// Whether a larger value is better agreement (Dice, Jaccard, surface
    /// Dice); distances and added path length are better smaller, volumes
    /// neither.
    pub fn larger_is_better(self) -> Option<bool> {
        match self {
            ContourMetric::Dice | ContourMetric::Jaccard | ContourMetric::SurfaceDice => Some(true),
            ContourMetric::HausdorffMm
            | ContourMetric::Hd95Mm
            | ContourMetric::MsdMm
            | ContourMetric::AddedPathLengthMm => Some(false),
            ContourMetric::VolumeReferenceCc | ContourMetric::VolumeTestCc => None,
        }
    }

    /// The metric's value in a comparison; `None` where it is undefined
    /// (a distance or surface Dice when a surface is missing, Dice and
    /// Jaccard when both masks are empty).
    pub fn of(self, agreement: &Agreement) -> Option<f64> {
        let surface = agreement.surface.metrics();
        match self {
            ContourMetric::Dice => agreement.dice,
            ContourMetric::Jaccard => agreement.jaccard,
            ContourMetric::HausdorffMm => surface.map(|metrics| metrics.hausdorff_symmetric_mm()),
            ContourMetric::Hd95Mm => surface.map(|metrics| metrics.hausdorff_95_symmetric_mm()),
            ContourMetric::MsdMm => {
                surface.map(|metrics| metrics.symmetric_mean_surface_distance_mm)
            }
            ContourMetric::SurfaceDice => agreement.surface.surface_dice(),
            // Adding 0 turns a total of −0 (nothing added) into 0.
            ContourMetric::AddedPathLengthMm => Some(agreement.added_path_length.total_mm + 0.0),
            ContourMetric::VolumeReferenceCc => Some(agreement.reference.volume_cc),
            ContourMetric::VolumeTestCc => Some(agreement.test.volume_cc),
        }
    }
}

/// One structure of one patient, compared.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortEntry {
    pub patient: String,
    /// The structure's canonical name (after name matching).
    pub structure: String,
    pub agreement: Agreement,
}

/// The distribution of one metric of one structure over the patients.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDistribution {
    pub structure: String,
    pub metric: ContourMetric,
    /// Patients with a value.
    pub patients: usize,
    /// Patients where the metric is undefined (see [`ContourMetric::of`]).
    pub missing: usize,
    /// `None` when no patient has a value.
    pub summary: Option<FiveNumbers>,
}

/// Minimum, quartiles (linear interpolation, NumPy's default) and maximum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FiveNumbers {
    pub minimum: f64,
    pub lower_quartile: f64,
    pub median: f64,
    pub upper_quartile: f64,
    pub maximum: f64,
}

impl FiveNumbers {
    /// The five numbers of finite values (`None` when there are none).
    pub fn of(values: &[f64]) -> Option<FiveNumbers> {
        let mut sorted: Vec<f64> = values
            .iter()
            .copied()
            .filter(|value| value.is_finite())
            .collect();
        sorted.sort_by(f64::total_cmp);
        let quantile = |q: f64| vigil_stats::bootstrap::quantile_of_sorted(&sorted, q).ok();
        Some(FiveNumbers {
            minimum: *sorted.first()?,
            lower_quartile: quantile(0.25)?,
            median: quantile(0.5)?,
            upper_quartile: quantile(0.75)?,
            maximum: *sorted.last()?,
        })
    }

    /// The value of a statistic.
    pub fn get(&self, statistic: SummaryStatistic) -> f64 {
        match statistic {
            SummaryStatistic::Minimum => self.minimum,
            SummaryStatistic::LowerQuartile => self.lower_quartile,
            SummaryStatistic::Median => self.median,
            SummaryStatistic::UpperQuartile => self.upper_quartile,
            SummaryStatistic::Maximum => self.maximum,
        }
    }
}

/// The structures of a cohort in order of first appearance, each with the
/// distribution of every metric.
pub fn summarise(entries: &[CohortEntry]) -> Vec<MetricDistribution> {
    let mut structures: Vec<&str> = Vec::new();
    for entry in entries {
        if !structures.contains(&entry.structure.as_str()) {
            structures.push(&entry.structure);
        }
    }
    let mut distributions = Vec::new();
    for structure in structures {
        let of_structure: Vec<&CohortEntry> = entries
            .iter()
            .filter(|entry| entry.structure == structure)
            .collect();
        for metric in ContourMetric::ALL {
            let values: Vec<f64> = of_structure
                .iter()
                .filter_map(|entry| metric.of(&entry.agreement))
                .filter(|value| value.is_finite())
                .collect();
            distributions.push(MetricDistribution {
                structure: structure.to_owned(),
                metric,
                patients: values.len(),
                missing: of_structure.len() - values.len(),
                summary: FiveNumbers::of(&values),
            });
        }
    }
    distributions
}

/// Which statistic of a distribution a criterion judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryStatistic {
    Minimum,
    LowerQuartile,
    Median,
    UpperQuartile,
    Maximum,
}

impl SummaryStatistic {
    /// `minimum`, `lower_quartile`, `median`, `upper_quartile`, `maximum`.
    pub fn as_str(self) -> &'static str {
        match self {
            SummaryStatistic::Minimum => "minimum",
            SummaryStatistic::LowerQuartile => "lower_quartile",
            SummaryStatistic::Median => "median",
            SummaryStatistic::UpperQuartile => "upper_quartile",
            SummaryStatistic::Maximum => "maximum",
        }
    }

    /// The statistic of a name (see [`SummaryStatistic::as_str`]).
    pub fn parse(name: &str) -> Option<SummaryStatistic> {
        [
            SummaryStatistic::Minimum,
            SummaryStatistic::LowerQuartile,
            SummaryStatistic::Median,
            SummaryStatistic::UpperQuartile,
            SummaryStatistic::Maximum,
        ]
        .into_iter()
        .find(|statistic| statistic.as_str() == name)
    }
}

/// Which way a criterion's threshold goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    AtLeast(f64),
    AtMost(f64),
}

/// One acceptance criterion: a statistic of a metric's distribution, for
/// the named structures (every structure of the cohort when none are
/// named), against a bound.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptanceCriterion {
    pub structures: Vec<String>,
    pub metric: ContourMetric,
    pub statistic: SummaryStatistic,
    pub bound: Bound,
    /// Below this many patients with a value the structure is not judged
    /// (a verdict on two patients is not evidence).
    pub minimum_patients: usize,
}

/// What a criterion concluded for one structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CriterionOutcome {
    Met,
    NotMet,
    /// Fewer patients with a value than the criterion's minimum.
    NotEnoughPatients,
    /// The metric is undefined for some patients (a distance to a
    /// structure the tool did not draw): the statistic of the others would
    /// flatter the tool.
    UndefinedForSomePatients,
    /// A named structure that the cohort does not have.
    StructureMissing,
}

impl CriterionOutcome {
    /// `met`, `not_met`, `not_enough_patients`, `structure_missing`.
    pub fn as_str(self) -> &'static str {
        match self {
            CriterionOutcome::Met => "met",
            CriterionOutcome::NotMet => "not_met",
            CriterionOutcome::NotEnoughPatients => "not_enough_patients",
            CriterionOutcome::UndefinedForSomePatients => "undefined_for_some_patients",
            CriterionOutcome::StructureMissing => "structure_missing",
        }
    }
}

/// A criterion judged for one structure.
#[derive(Debug, Clone, PartialEq)]
pub struct CriterionVerdict {
    /// The criterion's index in the protocol.
    pub criterion: usize,
    pub structure: String,
    pub metric: ContourMetric,
    pub statistic: SummaryStatistic,
    pub bound: Bound,
    pub value: Option<f64>,
    pub patients: usize,
    pub outcome: CriterionOutcome,
}

/// The whole protocol's verdict: met only when every criterion is met for
/// every structure it names (a missing structure, too few patients, or a
/// metric undefined for some patients is not a pass).
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptanceVerdict {
    pub verdicts: Vec<CriterionVerdict>,
    pub accepted: bool,
}

/// Judges the criteria on the distributions of [`summarise`].
pub fn judge(
    criteria: &[AcceptanceCriterion],
    distributions: &[MetricDistribution],
) -> AcceptanceVerdict {
    let mut verdicts = Vec::new();
    for (index, criterion) in criteria.iter().enumerate() {
        let structures: Vec<String> = if criterion.structures.is_empty() {
            let mut all: Vec<String> = Vec::new();
            for distribution in distributions {
                if !all.contains(&distribution.structure) {
                    all.push(distribution.structure.clone());
                }
            }
            all
        } else {
            criterion.structures.clone()
        };
        for structure in structures {
            let distribution = distributions.iter().find(|distribution| {
                distribution.structure == structure && distribution.metric == criterion.metric
            });
            let (value, patients, outcome) = match distribution {
                None => (None, 0, CriterionOutcome::StructureMissing),
                Some(distribution) => {
                    let value = distribution
                        .summary
                        .map(|summary| summary.get(criterion.statistic));
                    let outcome = match value {
                        _ if distribution.missing > 0 => CriterionOutcome::UndefinedForSomePatients,
                        Some(value) if distribution.patients >= criterion.minimum_patients => {
                            let met = match criterion.bound {
                                Bound::AtLeast(threshold) => value >= threshold,
                                Bound::AtMost(threshold) => value <= threshold,
                            };
                            if met {
                                CriterionOutcome::Met
                            } else {
                                CriterionOutcome::NotMet
                            }
                        }
                        _ => CriterionOutcome::NotEnoughPatients,
                    };
                    (value, distribution.patients, outcome)
                }
            };
            verdicts.push(CriterionVerdict {
                criterion: index,
                structure,
                metric: criterion.metric,
                statistic: criterion.statistic,
                bound: criterion.bound,
                value,
                patients,
                outcome,
            });
        }
    }
    let accepted = !verdicts.is_empty()
        && verdicts
            .iter()
            .all(|verdict| verdict.outcome == CriterionOutcome::Met);
    AcceptanceVerdict { verdicts, accepted }
}
