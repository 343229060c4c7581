//! Properties that hold for every pair of masks.

use proptest::prelude::*;
use vigil_contours::{ContourError, Mask, Spacing, SurfaceAgreement, compare};

const SPACINGS: [(f64, f64, f64); 4] = [
    (1.0, 1.0, 1.0),
    (2.5, 0.8, 0.8),
    (3.0, 1.2, 0.6),
    (0.7, 2.0, 1.5),
];

fn pair() -> impl Strategy<Value = (Mask, Mask)> {
    (1usize..6, 1usize..7, 1usize..8, 0usize..SPACINGS.len())
        .prop_flat_map(|(nz, ny, nx, spacing)| {
            let n = nz * ny * nx;
            (
                Just([nz, ny, nx]),
                Just(spacing),
                proptest::collection::vec(proptest::bool::weighted(0.4), n),
                proptest::collection::vec(proptest::bool::weighted(0.4), n),
            )
        })
        .prop_map(|(dims, spacing, a, b)| {
            let (z, y, x) = SPACINGS[spacing];
            let spacing = Spacing::new(z, y, x).unwrap();
            (
                Mask::new(dims, spacing, a).unwrap(),
                Mask::new(dims, spacing, b).unwrap(),
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn dice_is_symmetric_and_in_unit_interval((a, b) in pair(), tolerance in 0.0f64..4.0) {
        let forward = compare(&a, &b, tolerance).unwrap();
        let backward = compare(&b, &a, tolerance).unwrap();
        prop_assert_eq!(forward.dice, backward.dice);
        prop_assert_eq!(forward.jaccard, backward.jaccard);
        if let Some(dice) = forward.dice {
            prop_assert!((0.0..=1.0).contains(&dice));
            let jaccard = forward.jaccard.unwrap();
            // Dice = 2J / (1 + J).
            prop_assert!((dice - 2.0 * jaccard / (1.0 + jaccard)).abs() < 1e-12);
        } else {
            prop_assert!(a.is_empty() && b.is_empty());
        }
    }

    #[test]
    fn a_mask_agrees_perfectly_with_itself((a, _) in pair(), tolerance in 0.0f64..4.0) {
        let agreement = compare(&a, &a, tolerance).unwrap();
        prop_assert_eq!(agreement.added_path_length.total_mm, 0.0);
        if a.is_empty() {
            prop_assert_eq!(agreement.surface, SurfaceAgreement::BothEmpty);
            return Ok(());
        }
        prop_assert_eq!(agreement.dice, Some(1.0));
        let metrics = *agreement.surface.metrics().unwrap();
        prop_assert_eq!(metrics.hausdorff_symmetric_mm(), 0.0);
        prop_assert_eq!(metrics.hausdorff_95_symmetric_mm(), 0.0);
        prop_assert_eq!(metrics.symmetric_mean_surface_distance_mm, 0.0);
        prop_assert_eq!(metrics.surface_dice, 1.0);
        prop_assert_eq!(agreement.centroid_shift.unwrap().length_mm, 0.0);
    }

    #[test]
    fn hausdorff_bounds_hd95_and_swapping_swaps_directions((a, b) in pair(), tolerance in 0.0f64..4.0) {
        let forward = compare(&a, &b, tolerance).unwrap();
        let backward = compare(&b, &a, tolerance).unwrap();
        match (forward.surface, backward.surface) {
            (SurfaceAgreement::Both(f), SurfaceAgreement::Both(b)) => {
                prop_assert!(f.hausdorff_symmetric_mm() >= f.hausdorff_95_symmetric_mm());
                prop_assert!(f.hausdorff_95_symmetric_mm() >= 0.0);
                for (high, low) in [
                    (f.hausdorff_mm.reference_to_test, f.hausdorff_95_mm.reference_to_test),
                    (f.hausdorff_mm.test_to_reference, f.hausdorff_95_mm.test_to_reference),
                    (f.hausdorff_mm.reference_to_test, f.mean_surface_distance_mm.reference_to_test),
                ] {
                    prop_assert!(high >= low);
                }
                prop_assert_eq!(f.hausdorff_mm.reference_to_test, b.hausdorff_mm.test_to_reference);
                prop_assert_eq!(f.hausdorff_mm.test_to_reference, b.hausdorff_mm.reference_to_test);
                prop_assert_eq!(f.hausdorff_95_mm.reference_to_test, b.hausdorff_95_mm.test_to_reference);
                prop_assert_eq!(f.mean_surface_distance_mm.reference_to_test, b.mean_surface_distance_mm.test_to_reference);
                prop_assert_eq!(f.surface_overlap.reference_to_test, b.surface_overlap.test_to_reference);
                prop_assert_eq!(f.surface_dice, b.surface_dice);
                prop_assert_eq!(f.symmetric_mean_surface_distance_mm, b.symmetric_mean_surface_distance_mm);
                prop_assert!((0.0..=1.0).contains(&f.surface_dice));
                let shift = forward.centroid_shift.unwrap().vector_mm;
                let back = backward.centroid_shift.unwrap().vector_mm;
                for axis in 0..3 {
                    prop_assert_eq!(shift[axis], -back[axis]);
                }
            }
            (SurfaceAgreement::TestEmpty { .. }, SurfaceAgreement::ReferenceEmpty { .. })
            | (SurfaceAgreement::ReferenceEmpty { .. }, SurfaceAgreement::TestEmpty { .. })
            | (SurfaceAgreement::BothEmpty, SurfaceAgreement::BothEmpty) => {}
            (f, b) => prop_assert!(false, "unswapped empty cases {:?} {:?}", f, b),
        }
    }
}

#[test]
fn invalid_input_is_a_typed_error() {
    assert_eq!(
        Spacing::new(0.0, 1.0, 1.0),
        Err(ContourError::InvalidSpacing {
            axis: "z",
            value: 0.0
        })
    );
    assert!(matches!(
        Spacing::new(1.0, f64::NAN, 1.0),
        Err(ContourError::InvalidSpacing { axis: "y", .. })
    ));
    let spacing = Spacing::isotropic(1.0).unwrap();
    assert_eq!(
        Mask::new([2, 2, 2], spacing, vec![false; 7]),
        Err(ContourError::VoxelCountMismatch {
            dims: [2, 2, 2],
            expected: 8,
            actual: 7
        })
    );
    assert!(matches!(
        Mask::new([0, 2, 2], spacing, Vec::new()),
        Err(ContourError::InvalidDimensions { .. })
    ));
    let a = Mask::new([2, 2, 2], spacing, vec![true; 8]).unwrap();
    let b = Mask::new(
        [2, 2, 2],
        Spacing::new(1.0, 1.0, 2.0).unwrap(),
        vec![true; 8],
    )
    .unwrap();
    assert!(matches!(
        compare(&a, &b, 1.0),
        Err(ContourError::GridMismatch { .. })
    ));
    let c = Mask::new([2, 2, 1], spacing, vec![true; 4]).unwrap();
    assert!(matches!(
        compare(&a, &c, 1.0),
        Err(ContourError::GridMismatch { .. })
    ));
    for tolerance in [-1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            compare(&a, &a, tolerance),
            Err(ContourError::InvalidTolerance { .. })
        ));
    }
}

#[test]
fn volume_and_centroid_of_a_box() {
    let spacing = Spacing::new(2.0, 0.5, 1.5).unwrap();
    // Voxels z ∈ {1, 2}, y ∈ {0..4}, x ∈ {3}: 8 voxels of 1.5 mm³.
    let mask = Mask::from_fn([4, 5, 6], spacing, |z, y, x| {
        (1..=2).contains(&z) && y < 4 && x == 3
    })
    .unwrap();
    assert_eq!(mask.voxel_count(), 8);
    assert!((mask.volume_cc() - 0.012).abs() < 1e-15);
    assert_eq!(mask.centroid_mm(), Some([3.0, 0.75, 4.5]));
    assert_eq!(mask.get(1, 0, 3), Some(true));
    assert_eq!(mask.get(4, 0, 0), None);
}
