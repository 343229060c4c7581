//! Hand-computed added path lengths.
//!
//! The reference is a 3×3-pixel square (pixels y, x ∈ {1, 2, 3}) on a slice.
//! Its contour points are the corner points y, x ∈ {1, …, 4} except the four
//! inner ones: four corners, each one diagonal segment of ½·√(s_y² + s_x²),
//! four points on the top and bottom edges of length s_x, and four on the
//! left and right edges of length s_y. Perimeter = 4·s_x + 4·s_y + 4·diagonal.

use vigil_contours::{Mask, Spacing, compare};

fn check(case: &str, what: &str, actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-12 * expected.abs().max(1.0),
        "{case}: {what} is {actual}, expected {expected}"
    );
}

/// A grid of 3 slices of 7×8 pixels; `squares[z]` is the first x of a 3×3
/// square at rows 1..=3 on slice z, or `None`.
fn slices(squares: [Option<usize>; 3], spacing: Spacing) -> Mask {
    Mask::from_fn([3, 7, 8], spacing, |z, y, x| {
        squares[z].is_some_and(|first| (1..=3).contains(&y) && (first..first + 3).contains(&x))
    })
    .unwrap()
}

struct Case {
    name: &'static str,
    spacing: (f64, f64),
    reference: [Option<usize>; 3],
    test: [Option<usize>; 3],
    tolerance_mm: f64,
    expected_total_mm: f64,
    expected_reference_contour_mm: f64,
}

#[test]
fn added_path_length_by_hand() {
    let sqrt2 = 2f64.sqrt();
    let sqrt5 = 5f64.sqrt();
    let cases = [
        Case {
            name: "identical squares",
            spacing: (1.0, 1.0),
            reference: [Some(1), None, None],
            test: [Some(1), None, None],
            tolerance_mm: 0.0,
            expected_total_mm: 0.0,
            expected_reference_contour_mm: 8.0 + 2.0 * sqrt2,
        },
        Case {
            // 4·1 + 4·2 + 4·½√5: the whole anisotropic perimeter is added.
            name: "test empty on the slice, anisotropic",
            spacing: (2.0, 1.0),
            reference: [Some(1), None, None],
            test: [None, None, None],
            tolerance_mm: 3.0,
            expected_total_mm: 12.0 + 2.0 * sqrt5,
            expected_reference_contour_mm: 12.0 + 2.0 * sqrt5,
        },
        Case {
            // Shift by one pixel along x. The test passes through the six
            // reference points on the top and bottom edges at x ∈ {2, 3, 4}:
            // four of length s_x and the two right corners. Added: the four
            // left/right edge points (s_y each) and the two left corners.
            name: "shift by one pixel, tolerance 0",
            spacing: (1.0, 1.0),
            reference: [Some(1), None, None],
            test: [Some(2), None, None],
            tolerance_mm: 0.0,
            expected_total_mm: 4.0 + sqrt2,
            expected_reference_contour_mm: 8.0 + 2.0 * sqrt2,
        },
        Case {
            // Every reference point is 1 mm from the test contour or closer.
            name: "shift by one pixel, tolerance 1 mm",
            spacing: (1.0, 1.0),
            reference: [Some(1), None, None],
            test: [Some(2), None, None],
            tolerance_mm: 1.0,
            expected_total_mm: 0.0,
            expected_reference_contour_mm: 8.0 + 2.0 * sqrt2,
        },
        Case {
            name: "shift by one 2 mm pixel, tolerance 0",
            spacing: (1.0, 2.0),
            reference: [Some(1), None, None],
            test: [Some(2), None, None],
            tolerance_mm: 0.0,
            expected_total_mm: 4.0 + sqrt5,
            expected_reference_contour_mm: 12.0 + 2.0 * sqrt5,
        },
        Case {
            // The left edge (two points of s_y = 1 and two corners of ½√5) is
            // 2 mm from the test; the right edge points are 1 mm (one row)
            // from the test's top and bottom edges.
            name: "shift by one 2 mm pixel, tolerance 1 mm",
            spacing: (1.0, 2.0),
            reference: [Some(1), None, None],
            test: [Some(2), None, None],
            tolerance_mm: 1.0,
            expected_total_mm: 2.0 + sqrt5,
            expected_reference_contour_mm: 12.0 + 2.0 * sqrt5,
        },
        Case {
            // Slice 0 agrees, slice 1 is missing from the test (its whole
            // contour is added), slice 2 exists only in the test (nothing to
            // add: the clinician deletes, and deleting is not drawing).
            name: "three slices",
            spacing: (1.0, 1.0),
            reference: [Some(1), Some(2), None],
            test: [Some(1), None, Some(4)],
            tolerance_mm: 0.5,
            expected_total_mm: 8.0 + 2.0 * sqrt2,
            expected_reference_contour_mm: 2.0 * (8.0 + 2.0 * sqrt2),
        },
    ];
    for case in cases {
        let spacing = Spacing::new(2.5, case.spacing.0, case.spacing.1).unwrap();
        let reference = slices(case.reference, spacing);
        let test = slices(case.test, spacing);
        let apl = compare(&reference, &test, case.tolerance_mm)
            .unwrap()
            .added_path_length;
        check(case.name, "total", apl.total_mm, case.expected_total_mm);
        check(
            case.name,
            "reference contour",
            apl.reference_contour_mm,
            case.expected_reference_contour_mm,
        );
        let per_slice: f64 = apl.slices.iter().map(|slice| slice.added_mm).sum();
        check(case.name, "sum over slices", per_slice, apl.total_mm);
    }
}

#[test]
fn three_slices_are_listed_with_their_own_lengths() {
    let spacing = Spacing::new(2.5, 1.0, 1.0).unwrap();
    let reference = slices([Some(1), Some(2), None], spacing);
    let test = slices([Some(1), None, Some(4)], spacing);
    let apl = compare(&reference, &test, 0.5).unwrap().added_path_length;
    let perimeter = 8.0 + 2.0 * 2f64.sqrt();
    let listed: Vec<(usize, f64, f64, f64)> = apl
        .slices
        .iter()
        .map(|s| (s.z, s.reference_contour_mm, s.test_contour_mm, s.added_mm))
        .collect();
    let expected = [
        (0, perimeter, perimeter, 0.0),
        (1, perimeter, 0.0, perimeter),
        (2, 0.0, perimeter, 0.0),
    ];
    assert_eq!(listed.len(), expected.len());
    for (actual, expected) in listed.iter().zip(expected) {
        assert_eq!(actual.0, expected.0);
        check("three slices", "reference contour", actual.1, expected.1);
        check("three slices", "test contour", actual.2, expected.2);
        check("three slices", "added", actual.3, expected.3);
    }
    check(
        "three slices",
        "fraction",
        apl.added_fraction().unwrap(),
        0.5,
    );
}
