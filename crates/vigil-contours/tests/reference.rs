//! Known-answer tests against DeepMind's `surface-distance` package (and
//! NumPy for volumes and centroids); fixtures from `tests/reference/generate.py`.

use serde_json::Value;
use vigil_contours::surfel::{contour_length_table, surface_area_table};
use vigil_contours::{
    DirectedSurfaceDistances, Mask, Spacing, SurfaceAgreement, SurfaceDistances, SurfaceMetrics,
    compare,
};

/// Where the definitions are identical the results must agree to 1e-9.
const SAME_DEFINITION: f64 = 1e-9;

fn fixtures() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/fixtures.json");
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
    serde_json::from_str(&text).expect("fixtures.json is valid JSON")
}

/// A fixture number: `"inf"` is +∞ and `null` is NaN.
fn expected_number(value: &Value) -> f64 {
    match value {
        Value::Null => f64::NAN,
        Value::String(text) if text == "inf" => f64::INFINITY,
        other => other
            .as_f64()
            .unwrap_or_else(|| panic!("not a number: {other}")),
    }
}

/// Asserts `actual` agrees with `expected` to a relative tolerance (absolute
/// below 1); NaN and +∞ must match exactly.
fn check(case: &str, what: &str, actual: f64, expected: f64, tolerance: f64) {
    let agrees = if expected.is_nan() {
        actual.is_nan()
    } else if expected.is_infinite() {
        actual == expected
    } else {
        (actual - expected).abs() <= tolerance * expected.abs().max(1.0)
    };
    assert!(
        agrees,
        "{case}: {what} is {actual:?}, expected {expected:?} (tolerance {tolerance:e})"
    );
}

fn dims(value: &Value) -> [usize; 3] {
    let list: Vec<usize> = value
        .as_array()
        .expect("dims")
        .iter()
        .map(|n| n.as_u64().expect("a dimension") as usize)
        .collect();
    [list[0], list[1], list[2]]
}

fn spacing(value: &Value) -> Spacing {
    let list: Vec<f64> = value
        .as_array()
        .expect("spacing")
        .iter()
        .map(expected_number)
        .collect();
    Spacing::new(list[0], list[1], list[2]).expect("valid spacing")
}

fn decode(runs: &Value, dims: [usize; 3], spacing: Spacing) -> Mask {
    let mut voxels = Vec::with_capacity(dims.iter().product());
    for (index, run) in runs.as_array().expect("runs").iter().enumerate() {
        let length = run.as_u64().expect("a run length") as usize;
        voxels.extend(std::iter::repeat_n(index % 2 == 1, length));
    }
    Mask::new(dims, spacing, voxels).expect("the runs cover the grid")
}

fn masks(case: &Value) -> (Mask, Mask) {
    let dims = dims(&case["dims"]);
    let spacing = spacing(&case["spacing_mm"]);
    (
        decode(&case["reference_rle"], dims, spacing),
        decode(&case["test_rle"], dims, spacing),
    )
}

fn cases(fixtures: &Value) -> &[Value] {
    fixtures["cases"].as_array().expect("cases")
}

fn case<'a>(fixtures: &'a Value, name: &str) -> &'a Value {
    cases(fixtures)
        .iter()
        .find(|case| case["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

fn or_nan(value: Option<f64>) -> f64 {
    value.unwrap_or(f64::NAN)
}

#[test]
fn surfel_area_and_contour_length_tables_match_deepmind() {
    let fixtures = fixtures();
    for table in fixtures["tables"].as_array().expect("tables") {
        let spacing = spacing(&table["spacing_mm"]);
        let label = format!("spacing {:?}", spacing.as_array());
        let areas = surface_area_table(&spacing);
        for (code, expected) in table["surface_area"]
            .as_array()
            .expect("areas")
            .iter()
            .enumerate()
        {
            check(
                &label,
                &format!("area of code {code}"),
                areas[code],
                expected_number(expected),
                1e-14,
            );
        }
        let lengths = contour_length_table(spacing.y_mm(), spacing.x_mm());
        for (code, expected) in table["contour_length"]
            .as_array()
            .expect("lengths")
            .iter()
            .enumerate()
        {
            check(
                &label,
                &format!("length of code {code}"),
                lengths[code],
                expected_number(expected),
                1e-14,
            );
        }
    }
}

/// DeepMind's `surface_distance_test.py` states these values (to three
/// decimals for the cubes); the fixtures hold the package's exact values.
#[test]
fn deepmind_test_suite_expectations() {
    let fixtures = fixtures();
    let stated = 5e-4;
    let cubes = case(&fixtures, "deepmind_cubes_shifted_by_one");
    let (name, metrics) = check_stated_expectations(
        cubes,
        "cubes shifted by one voxel",
        [0.322, 0.339, 2.0, 2.0, 0.842, 0.830, 0.836, 0.990],
        stated,
    );
    // And the package's exact values.
    let exact = &cubes["at_tolerance"][1];
    check(
        name,
        "exact surface Dice",
        metrics.surface_dice,
        expected_number(&exact["surface_dice"]),
        SAME_DEFINITION,
    );
    check(
        name,
        "exact mean ref→test",
        metrics.mean_surface_distance_mm.reference_to_test,
        expected_number(&cubes["average_surface_distance"][0]),
        SAME_DEFINITION,
    );

    check_stated_expectations(
        case(&fixtures, "deepmind_two_voxels_2mm_apart"),
        "two voxels 2 mm apart",
        [1.5, 1.5, 2.0, 2.0, 0.5, 0.5, 0.5, 0.0],
        1e-12,
    );

    // Empty masks: DeepMind gives inf/NaN; the crate names the case.
    let one = case(&fixtures, "deepmind_empty_test");
    let (reference, test) = masks(one);
    let agreement = compare(&reference, &test, 1.0).unwrap();
    assert!(matches!(
        agreement.surface,
        SurfaceAgreement::TestEmpty { .. }
    ));
    assert_eq!(agreement.surface.surface_dice(), Some(0.0));
    assert_eq!(agreement.dice, Some(0.0));
    let other = case(&fixtures, "deepmind_empty_reference");
    let (reference, test) = masks(other);
    let agreement = compare(&reference, &test, 1.0).unwrap();
    assert!(matches!(
        agreement.surface,
        SurfaceAgreement::ReferenceEmpty { .. }
    ));
    assert_eq!(agreement.surface.surface_dice(), Some(0.0));
    let both = case(&fixtures, "deepmind_both_empty");
    let (reference, test) = masks(both);
    let agreement = compare(&reference, &test, 1.0).unwrap();
    assert_eq!(agreement.surface, SurfaceAgreement::BothEmpty);
    assert_eq!(agreement.surface.surface_dice(), None);
    assert_eq!(agreement.dice, None);
    assert_eq!(agreement.jaccard, None);
    assert_eq!(agreement.added_path_length.total_mm, 0.0);
}

fn check_direction(name: &str, label: &str, actual: &DirectedSurfaceDistances, expected: &Value) {
    assert_eq!(
        actual.len() as u64,
        expected["surfels"].as_u64().expect("surfels"),
        "{name}: {label} surfel count"
    );
    check(
        name,
        &format!("{label} total area"),
        actual.total_area_mm2(),
        expected_number(&expected["total_area_mm2"]),
        SAME_DEFINITION,
    );
    for entry in expected["percentiles"].as_array().expect("percentiles") {
        let percent = expected_number(&entry["percent"]);
        let value = actual.percentile_mm(percent).expect("a valid percentile");
        // DeepMind returns inf for an empty direction; the crate returns None.
        let value = value.unwrap_or(f64::INFINITY);
        check(
            name,
            &format!("{label} percentile {percent}"),
            value,
            expected_number(&entry["value"]),
            SAME_DEFINITION,
        );
    }
    if let Some(distances) = expected["distances_mm"].as_array() {
        let areas = expected["areas_mm2"]
            .as_array()
            .expect("areas with distances");
        for (index, (distance, area)) in distances.iter().zip(areas).enumerate() {
            check(
                name,
                &format!("{label} distance {index}"),
                actual.distances_mm()[index],
                expected_number(distance),
                SAME_DEFINITION,
            );
            check(
                name,
                &format!("{label} area {index}"),
                actual.areas_mm2()[index],
                expected_number(area),
                SAME_DEFINITION,
            );
        }
    }
}

/// MONAI's sub-voxel surface Dice (`tests/reference/monai.json`, from
/// `monai_agreement.py`) follows DeepMind's definition; MONAI computes in
/// float32, so the agreement is to 1e-6.
#[test]
fn surface_dice_agrees_with_monai_sub_voxel_surface_dice() {
    let fixtures = fixtures();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/monai.json");
    let monai: Value = serde_json::from_str(
        &std::fs::read_to_string(path)
            .unwrap_or_else(|error| panic!("cannot read {path}: {error}")),
    )
    .expect("monai.json is valid JSON");
    let values = monai["cases"].as_array().expect("cases");
    assert!(values.len() >= 40, "{} values", values.len());
    for value in values {
        let name = value["name"].as_str().expect("name");
        let tolerance = expected_number(&value["tolerance_mm"]);
        let (reference, test) = masks(case(&fixtures, name));
        let agreement = compare(&reference, &test, tolerance).unwrap();
        let ours = agreement.surface.surface_dice().expect("both surfaces");
        let theirs = expected_number(&value["surface_dice"]);
        assert!(
            (ours - theirs).abs() <= 1e-6,
            "{name} at {tolerance} mm: {ours} against MONAI's {theirs}"
        );
    }
}

#[test]
fn every_case_matches_surface_distance() {
    let fixtures = fixtures();
    for case in cases(&fixtures) {
        let name = case["name"].as_str().expect("name");
        let (reference, test) = masks(case);

        // Volumes, centroids, Dice, Jaccard (NumPy).
        for (label, mask) in [("reference", &reference), ("test", &test)] {
            let expected = &case[label];
            assert_eq!(
                mask.voxel_count() as u64,
                expected["voxel_count"].as_u64().unwrap(),
                "{name}: {label} voxels"
            );
            check(
                name,
                &format!("{label} volume"),
                mask.volume_cc(),
                expected_number(&expected["volume_cc"]),
                1e-12,
            );
            match (mask.centroid_mm(), expected["centroid_mm"].as_array()) {
                (Some(actual), Some(expected)) => {
                    for axis in 0..3 {
                        check(
                            name,
                            &format!("{label} centroid {axis}"),
                            actual[axis],
                            expected_number(&expected[axis]),
                            1e-12,
                        );
                    }
                }
                (None, None) => {}
                (actual, _) => panic!(
                    "{name}: {label} centroid {actual:?}, expected {}",
                    expected["centroid_mm"]
                ),
            }
        }

        // Raw surfel distances, both directions.
        let distances = SurfaceDistances::between(&reference, &test).unwrap();
        let directions = &case["directions"];
        check_direction(
            name,
            "ref→test",
            &distances.reference_to_test,
            &directions["reference_to_test"],
        );
        check_direction(
            name,
            "test→ref",
            &distances.test_to_reference,
            &directions["test_to_reference"],
        );
        let average = case["average_surface_distance"].as_array().unwrap();
        check(
            name,
            "mean ref→test",
            or_nan(distances.reference_to_test.mean_mm()),
            expected_number(&average[0]),
            SAME_DEFINITION,
        );
        check(
            name,
            "mean test→ref",
            or_nan(distances.test_to_reference.mean_mm()),
            expected_number(&average[1]),
            SAME_DEFINITION,
        );

        for at in case["at_tolerance"].as_array().unwrap() {
            let tolerance = expected_number(&at["tolerance_mm"]);
            let label = format!("τ = {tolerance}");
            let agreement = compare(&reference, &test, tolerance).unwrap();
            assert_eq!(
                agreement.intersection_voxels as u64,
                case["intersection_voxels"].as_u64().unwrap(),
                "{name}"
            );
            assert_eq!(
                agreement.union_voxels as u64,
                case["union_voxels"].as_u64().unwrap(),
                "{name}"
            );
            check(
                name,
                "Dice",
                or_nan(agreement.dice),
                expected_number(&case["volumetric_dice"]),
                1e-15,
            );
            check(
                name,
                "Jaccard",
                or_nan(agreement.jaccard),
                expected_number(&case["jaccard"]),
                1e-15,
            );
            let overlap = at["surface_overlap"].as_array().unwrap();
            check(
                name,
                &format!("{label} overlap ref"),
                or_nan(distances.reference_to_test.overlap_fraction(tolerance)),
                expected_number(&overlap[0]),
                SAME_DEFINITION,
            );
            check(
                name,
                &format!("{label} overlap test"),
                or_nan(distances.test_to_reference.overlap_fraction(tolerance)),
                expected_number(&overlap[1]),
                SAME_DEFINITION,
            );
            check(
                name,
                &format!("{label} raw surface Dice"),
                or_nan(distances.surface_dice(tolerance)),
                expected_number(&at["surface_dice"]),
                SAME_DEFINITION,
            );
            check(
                name,
                &format!("{label} surface Dice"),
                or_nan(agreement.surface.surface_dice()),
                expected_number(&at["surface_dice"]),
                SAME_DEFINITION,
            );
            match &agreement.surface {
                SurfaceAgreement::Both(metrics) => {
                    check(
                        name,
                        "Hausdorff",
                        metrics.hausdorff_symmetric_mm(),
                        expected_number(&case["hausdorff_100"]),
                        SAME_DEFINITION,
                    );
                    check(
                        name,
                        "HD95",
                        metrics.hausdorff_95_symmetric_mm(),
                        expected_number(&case["hausdorff_95"]),
                        SAME_DEFINITION,
                    );
                    check(
                        name,
                        "mean ref→test",
                        metrics.mean_surface_distance_mm.reference_to_test,
                        expected_number(&average[0]),
                        SAME_DEFINITION,
                    );
                    check(
                        name,
                        "mean test→ref",
                        metrics.mean_surface_distance_mm.test_to_reference,
                        expected_number(&average[1]),
                        SAME_DEFINITION,
                    );
                    check(
                        name,
                        "symmetric mean",
                        metrics.symmetric_mean_surface_distance_mm,
                        expected_number(&case["symmetric_mean_surface_distance"]),
                        SAME_DEFINITION,
                    );
                    check(
                        name,
                        &format!("{label} overlap ref"),
                        metrics.surface_overlap.reference_to_test,
                        expected_number(&overlap[0]),
                        SAME_DEFINITION,
                    );
                    check(
                        name,
                        &format!("{label} overlap test"),
                        metrics.surface_overlap.test_to_reference,
                        expected_number(&overlap[1]),
                        SAME_DEFINITION,
                    );
                }
                _ => {
                    // DeepMind's Hausdorff is inf whenever a surface is missing.
                    assert_eq!(
                        expected_number(&case["hausdorff_100"]),
                        f64::INFINITY,
                        "{name}"
                    );
                    assert_eq!(
                        expected_number(&case["hausdorff_95"]),
                        f64::INFINITY,
                        "{name}"
                    );
                    assert!(reference.is_empty() || test.is_empty(), "{name}");
                }
            }
            // Added path length, slice by slice (DeepMind 2-D per slice).
            let expected_apl = &at["added_path_length"];
            let apl = &agreement.added_path_length;
            let slices = expected_apl["slices"].as_array().unwrap();
            assert_eq!(
                apl.slices.len(),
                slices.len(),
                "{name}: {label} APL slice count"
            );
            for (actual, expected) in apl.slices.iter().zip(slices) {
                assert_eq!(
                    actual.z as u64,
                    expected["z"].as_u64().unwrap(),
                    "{name}: APL slice"
                );
                let slice = format!("{label} slice {}", actual.z);
                check(
                    name,
                    &format!("{slice} reference contour"),
                    actual.reference_contour_mm,
                    expected_number(&expected["reference_contour_mm"]),
                    SAME_DEFINITION,
                );
                check(
                    name,
                    &format!("{slice} test contour"),
                    actual.test_contour_mm,
                    expected_number(&expected["test_contour_mm"]),
                    SAME_DEFINITION,
                );
                check(
                    name,
                    &format!("{slice} added"),
                    actual.added_mm,
                    expected_number(&expected["added_mm"]),
                    SAME_DEFINITION,
                );
            }
            check(
                name,
                &format!("{label} APL total"),
                apl.total_mm,
                expected_number(&expected_apl["total_mm"]),
                SAME_DEFINITION,
            );
        }
    }
}

/// Compares a case's metrics at 1 mm with the values DeepMind's test suite
/// states: mean distances (reference to test, test to reference),
/// Hausdorff, HD95, surface overlaps (reference, test), surface Dice and
/// volumetric Dice. Answers the case's name and its surface metrics.
fn check_stated_expectations(
    fixture: &Value,
    name: &'static str,
    expected: [f64; 8],
    tolerance: f64,
) -> (&'static str, SurfaceMetrics) {
    let (reference, test) = masks(fixture);
    let agreement = compare(&reference, &test, 1.0).unwrap();
    let metrics = agreement
        .surface
        .metrics()
        .expect("both surfaces")
        .to_owned();
    let actual = [
        metrics.mean_surface_distance_mm.reference_to_test,
        metrics.mean_surface_distance_mm.test_to_reference,
        metrics.hausdorff_symmetric_mm(),
        metrics.hausdorff_95_symmetric_mm(),
        metrics.surface_overlap.reference_to_test,
        metrics.surface_overlap.test_to_reference,
        metrics.surface_dice,
        agreement.dice.unwrap(),
    ];
    let what = [
        "mean ref→test",
        "mean test→ref",
        "Hausdorff",
        "HD95",
        "overlap ref",
        "overlap test",
        "surface Dice",
        "volumetric Dice",
    ];
    for index in 0..8 {
        check(name, what[index], actual[index], expected[index], tolerance);
    }
    (name, metrics)
}
