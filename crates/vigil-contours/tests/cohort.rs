//! Cohort summaries and acceptance protocols on masks whose agreement is
//! known in closed form: an n³ cube against the same cube shifted by one
//! voxel along x has Dice (n − 1)/n.

use vigil_contours::cohort::{
    AcceptanceCriterion, Bound, CohortEntry, ContourMetric, CriterionOutcome, FiveNumbers,
    SummaryStatistic, judge, summarise,
};
use vigil_contours::{Mask, Spacing, compare};

/// A cube of side `side` voxels at `(2, 2, 2 + shift)` in a grid with a
/// margin of two voxels.
fn cube(side: usize, shift: usize) -> Mask {
    let extent = side + 5;
    Mask::from_fn(
        [extent, extent, extent],
        Spacing::isotropic(1.0).expect("spacing"),
        |z, y, x| {
            (2..2 + side).contains(&z)
                && (2..2 + side).contains(&y)
                && (2 + shift..2 + shift + side).contains(&x)
        },
    )
    .expect("mask")
}

fn entry(patient: &str, structure: &str, reference: &Mask, test: &Mask) -> CohortEntry {
    CohortEntry {
        patient: patient.to_owned(),
        structure: structure.to_owned(),
        agreement: compare(reference, test, 2.0).expect("same grid"),
    }
}

fn check(what: &str, actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-12,
        "{what}: {actual} against {expected}"
    );
}

fn cohort() -> Vec<CohortEntry> {
    let mut entries = Vec::new();
    for (patient, side) in [("p1", 4), ("p2", 5), ("p3", 10)] {
        entries.push(entry(patient, "Parotid_L", &cube(side, 0), &cube(side, 1)));
        entries.push(entry(patient, "SpinalCord", &cube(side, 0), &cube(side, 0)));
    }
    // A fourth patient whose tool drew no spinal cord.
    let empty = Mask::from_fn(
        [9, 9, 9],
        Spacing::isotropic(1.0).expect("spacing"),
        |_, _, _| false,
    )
    .expect("mask");
    entries.push(entry("p4", "SpinalCord", &cube(4, 0), &empty));
    entries
}

#[test]
fn distributions_are_quartiles_of_the_patients_values_with_undefined_ones_counted_apart() {
    let distributions = summarise(&cohort());
    let find = |structure: &str, metric: ContourMetric| {
        distributions
            .iter()
            .find(|distribution| {
                distribution.structure == structure && distribution.metric == metric
            })
            .expect("distribution")
    };
    // Dice (n − 1)/n for n = 4, 5, 10: 0.75, 0.8, 0.9; NumPy's linear
    // quartiles are 0.775 and 0.85.
    let dice = find("Parotid_L", ContourMetric::Dice);
    assert_eq!((dice.patients, dice.missing), (3, 0));
    let summary = dice.summary.expect("values");
    check("minimum", summary.minimum, 0.75);
    check("lower quartile", summary.lower_quartile, 0.775);
    check("median", summary.median, 0.8);
    check("upper quartile", summary.upper_quartile, 0.85);
    check("maximum", summary.maximum, 0.9);
    // Identical structures: Dice 1 and distance 0 for three patients; the
    // fourth has no test surface, so its distance is missing (not 0) and
    // its Dice is 0.
    let cord_dice = find("SpinalCord", ContourMetric::Dice);
    assert_eq!((cord_dice.patients, cord_dice.missing), (4, 0));
    check(
        "cord Dice minimum",
        cord_dice.summary.expect("values").minimum,
        0.0,
    );
    let cord_hd95 = find("SpinalCord", ContourMetric::Hd95Mm);
    assert_eq!((cord_hd95.patients, cord_hd95.missing), (3, 1));
    check(
        "cord HD95 maximum",
        cord_hd95.summary.expect("values").maximum,
        0.0,
    );
    // Structures keep the order of first appearance, each with every metric.
    let order: Vec<&str> = distributions
        .iter()
        .map(|distribution| distribution.structure.as_str())
        .collect();
    assert_eq!(order.len(), 2 * ContourMetric::ALL.len());
    assert_eq!(order[0], "Parotid_L");
    assert_eq!(order[ContourMetric::ALL.len()], "SpinalCord");
    assert_eq!(FiveNumbers::of(&[]), None);
    assert_eq!(FiveNumbers::of(&[f64::NAN]), None);
}

#[test]
fn a_protocol_passes_only_when_every_named_structure_meets_every_criterion() {
    let distributions = summarise(&cohort());
    let criterion =
        |structures: &[&str], metric, statistic, bound, minimum_patients| AcceptanceCriterion {
            structures: structures.iter().map(|name| (*name).to_owned()).collect(),
            metric,
            statistic,
            bound,
            minimum_patients,
        };
    let cases: Vec<(&str, Vec<AcceptanceCriterion>, bool, Vec<CriterionOutcome>)> = vec![
        (
            "median Dice of every structure at least 0.8",
            vec![criterion(
                &[],
                ContourMetric::Dice,
                SummaryStatistic::Median,
                Bound::AtLeast(0.8),
                3,
            )],
            true,
            vec![CriterionOutcome::Met, CriterionOutcome::Met],
        ),
        (
            "median Dice of every structure at least 0.81",
            vec![criterion(
                &[],
                ContourMetric::Dice,
                SummaryStatistic::Median,
                Bound::AtLeast(0.81),
                3,
            )],
            false,
            vec![CriterionOutcome::NotMet, CriterionOutcome::Met],
        ),
        (
            "largest HD95 of the parotid at most 1.1 mm",
            vec![criterion(
                &["Parotid_L"],
                ContourMetric::Hd95Mm,
                SummaryStatistic::Maximum,
                Bound::AtMost(1.1),
                3,
            )],
            true,
            vec![CriterionOutcome::Met],
        ),
        (
            "a distance undefined for one patient (no test cord) is not judged on the others",
            vec![criterion(
                &["SpinalCord"],
                ContourMetric::Hd95Mm,
                SummaryStatistic::Maximum,
                Bound::AtMost(1.0),
                3,
            )],
            false,
            vec![CriterionOutcome::UndefinedForSomePatients],
        ),
        (
            "a structure the cohort lacks fails the protocol",
            vec![criterion(
                &["Brainstem"],
                ContourMetric::SurfaceDice,
                SummaryStatistic::Median,
                Bound::AtLeast(0.9),
                1,
            )],
            false,
            vec![CriterionOutcome::StructureMissing],
        ),
        (
            "too few patients is not a pass",
            vec![criterion(
                &["Parotid_L"],
                ContourMetric::Dice,
                SummaryStatistic::Median,
                Bound::AtLeast(0.5),
                10,
            )],
            false,
            vec![CriterionOutcome::NotEnoughPatients],
        ),
    ];
    for (name, criteria, accepted, outcomes) in cases {
        let verdict = judge(&criteria, &distributions);
        assert_eq!(verdict.accepted, accepted, "{name}");
        let actual: Vec<CriterionOutcome> = verdict
            .verdicts
            .iter()
            .map(|verdict| verdict.outcome)
            .collect();
        assert_eq!(actual, outcomes, "{name}");
    }
    assert!(
        !judge(&[], &distributions).accepted,
        "an empty protocol accepts nothing"
    );
}

#[test]
fn metric_and_statistic_names_round_trip() {
    for metric in ContourMetric::ALL {
        assert_eq!(ContourMetric::parse(metric.as_str()), Some(metric));
    }
    assert_eq!(ContourMetric::parse("hd95"), None);
    for name in [
        "minimum",
        "lower_quartile",
        "median",
        "upper_quartile",
        "maximum",
    ] {
        assert_eq!(
            SummaryStatistic::parse(name).map(SummaryStatistic::as_str),
            Some(name)
        );
    }
}
