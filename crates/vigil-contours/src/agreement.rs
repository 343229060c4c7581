//! `compare`: every agreement metric between a reference and a test structure.

use rayon::prelude::*;

use crate::path_length::{AddedPathLength, added_path_length};
use crate::surface::{SurfaceDistances, union_crop};
use crate::{ContourError, Mask};

/// A value measured in both directions between the two surfaces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Directed {
    /// From the reference surface to the test surface.
    pub reference_to_test: f64,
    /// From the test surface to the reference surface.
    pub test_to_reference: f64,
}

impl Directed {
    /// The larger of the two directions (the symmetric Hausdorff and HD95).
    pub fn max(&self) -> f64 {
        self.reference_to_test.max(self.test_to_reference)
    }
}

/// The surface metrics when both masks have a surface. Every value is finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurfaceMetrics {
    /// The tolerance used for the overlaps and the surface Dice, in mm.
    pub tolerance_mm: f64,
    /// The surface area of the reference, in mm².
    pub reference_area_mm2: f64,
    /// The surface area of the test, in mm².
    pub test_area_mm2: f64,
    /// Directed Hausdorff distances in mm: the largest surfel distance in each
    /// direction. [`Directed::max`] is the Hausdorff distance.
    pub hausdorff_mm: Directed,
    /// Directed 95th percentiles in mm (area-weighted, DeepMind's
    /// `compute_robust_hausdorff` for one direction). [`Directed::max`] is HD95.
    pub hausdorff_95_mm: Directed,
    /// Directed area-weighted mean surface distances in mm (DeepMind's
    /// `compute_average_surface_distance`).
    pub mean_surface_distance_mm: Directed,
    /// The area-weighted mean over both surfaces:
    /// (Σ d·a over both surfaces) / (Σ a over both surfaces), in mm.
    pub symmetric_mean_surface_distance_mm: f64,
    /// The fraction of each surface's area within the tolerance of the other
    /// (DeepMind's `compute_surface_overlap_at_tolerance`).
    pub surface_overlap: Directed,
    /// The surface Dice at the tolerance (Nikolov et al. 2021).
    pub surface_dice: f64,
}

impl SurfaceMetrics {
    /// The symmetric Hausdorff distance in mm.
    pub fn hausdorff_symmetric_mm(&self) -> f64 {
        self.hausdorff_mm.max()
    }

    /// HD95 in mm: the larger of the two directed 95th percentiles.
    pub fn hausdorff_95_symmetric_mm(&self) -> f64 {
        self.hausdorff_95_mm.max()
    }
}

/// The surface comparison, with the empty cases spelled out.
///
/// DeepMind's functions return `inf` or `NaN` when a mask is empty; the
/// variants say which case it is instead. For reference, DeepMind gives:
///
/// | case | mean distance (ref→test, test→ref) | HD, HD95 | overlap (ref, test) | surface Dice |
/// | --- | --- | --- | --- | --- |
/// | `TestEmpty` | (inf, NaN) | inf | (0, NaN) | 0 |
/// | `ReferenceEmpty` | (NaN, inf) | inf | (NaN, 0) | 0 |
/// | `BothEmpty` | (NaN, NaN) | inf | (NaN, NaN) | NaN |
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SurfaceAgreement {
    /// Both masks have voxels.
    Both(SurfaceMetrics),
    /// The reference has voxels, the test none.
    TestEmpty { reference_area_mm2: f64 },
    /// The test has voxels, the reference none.
    ReferenceEmpty { test_area_mm2: f64 },
    /// Neither mask has a voxel.
    BothEmpty,
}

impl SurfaceAgreement {
    /// The metrics when both surfaces exist.
    pub fn metrics(&self) -> Option<&SurfaceMetrics> {
        match self {
            Self::Both(metrics) => Some(metrics),
            _ => None,
        }
    }

    /// The surface Dice: 0 when exactly one mask is empty (no surface area
    /// agrees), `None` when both are (DeepMind: NaN).
    pub fn surface_dice(&self) -> Option<f64> {
        match self {
            Self::Both(metrics) => Some(metrics.surface_dice),
            Self::TestEmpty { .. } | Self::ReferenceEmpty { .. } => Some(0.0),
            Self::BothEmpty => None,
        }
    }
}

/// The displacement of the test centroid from the reference centroid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CentroidShift {
    /// Test centroid minus reference centroid, `[z, y, x]` in mm.
    pub vector_mm: [f64; 3],
    /// The Euclidean length of the vector in mm.
    pub length_mm: f64,
}

/// Volume, centroid and voxel count of one structure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StructureSummary {
    pub voxel_count: usize,
    pub volume_cc: f64,
    /// `None` for an empty mask.
    pub centroid_mm: Option<[f64; 3]>,
}

impl StructureSummary {
    fn of(mask: &Mask) -> Self {
        Self {
            voxel_count: mask.voxel_count(),
            volume_cc: mask.volume_cc(),
            centroid_mm: mask.centroid_mm(),
        }
    }
}

/// Every agreement metric between a reference and a test structure.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    pub reference: StructureSummary,
    pub test: StructureSummary,
    /// Voxels inside both masks.
    pub intersection_voxels: usize,
    /// Voxels inside either mask.
    pub union_voxels: usize,
    /// Volumetric Dice 2|R∩T| / (|R| + |T|); `None` when both masks are empty.
    pub dice: Option<f64>,
    /// Jaccard index |R∩T| / |R∪T|; `None` when both masks are empty.
    pub jaccard: Option<f64>,
    /// `None` when either mask is empty.
    pub centroid_shift: Option<CentroidShift>,
    pub surface: SurfaceAgreement,
    pub added_path_length: AddedPathLength,
}

/// Compares `test` with `reference`, which must be on the same grid (the same
/// dimensions and exactly the same spacing), at a surface tolerance of
/// `tolerance_mm` (finite, at least 0) for the surface overlaps, the surface
/// Dice and the added path length.
pub fn compare(
    reference: &Mask,
    test: &Mask,
    tolerance_mm: f64,
) -> Result<Agreement, ContourError> {
    reference.same_grid(test)?;
    if !(tolerance_mm.is_finite() && tolerance_mm >= 0.0) {
        return Err(ContourError::InvalidTolerance {
            value: tolerance_mm,
        });
    }
    let (intersection_voxels, union_voxels) = reference
        .voxels()
        .par_chunks(1 << 16)
        .zip(test.voxels().par_chunks(1 << 16))
        .map(|(a, b)| {
            a.iter()
                .zip(b)
                .fold((0usize, 0usize), |(both, either), (&a, &b)| {
                    (both + usize::from(a && b), either + usize::from(a || b))
                })
        })
        .reduce(|| (0, 0), |x, y| (x.0 + y.0, x.1 + y.1));
    let reference_summary = StructureSummary::of(reference);
    let test_summary = StructureSummary::of(test);
    let volume_sum = reference_summary.voxel_count + test_summary.voxel_count;
    let dice = (volume_sum > 0).then(|| 2.0 * intersection_voxels as f64 / volume_sum as f64);
    let jaccard = (union_voxels > 0).then(|| intersection_voxels as f64 / union_voxels as f64);
    let centroid_shift = match (reference_summary.centroid_mm, test_summary.centroid_mm) {
        (Some(from), Some(to)) => {
            let vector_mm: [f64; 3] = std::array::from_fn(|axis| to[axis] - from[axis]);
            let length_mm = vector_mm.iter().map(|v| v * v).sum::<f64>().sqrt();
            Some(CentroidShift {
                vector_mm,
                length_mm,
            })
        }
        _ => None,
    };

    let crop = union_crop(reference, test);
    let distances = SurfaceDistances::in_crop(reference, test, crop.as_ref());
    let surface = surface_agreement(&distances, tolerance_mm);
    drop(distances);
    let added_path_length = added_path_length(reference, test, crop.as_ref(), tolerance_mm);

    Ok(Agreement {
        reference: reference_summary,
        test: test_summary,
        intersection_voxels,
        union_voxels,
        dice,
        jaccard,
        centroid_shift,
        surface,
        added_path_length,
    })
}

fn surface_agreement(distances: &SurfaceDistances, tolerance_mm: f64) -> SurfaceAgreement {
    let forward = &distances.reference_to_test;
    let backward = &distances.test_to_reference;
    match (forward.is_empty(), backward.is_empty()) {
        (true, true) => SurfaceAgreement::BothEmpty,
        (false, true) => SurfaceAgreement::TestEmpty {
            reference_area_mm2: forward.total_area_mm2(),
        },
        (true, false) => SurfaceAgreement::ReferenceEmpty {
            test_area_mm2: backward.total_area_mm2(),
        },
        (false, false) => {
            let percentile = |side: &crate::DirectedSurfaceDistances, percent: f64| {
                side.percentile_mm(percent)
                    .expect("the percentile is a constant in [0, 100]")
                    .expect("the surface has surfels")
            };
            let reference_area_mm2 = forward.total_area_mm2();
            let test_area_mm2 = backward.total_area_mm2();
            let forward_sum = forward.weighted_distance_sum();
            let backward_sum = backward.weighted_distance_sum();
            let forward_within = forward.area_within_mm2(tolerance_mm);
            let backward_within = backward.area_within_mm2(tolerance_mm);
            SurfaceAgreement::Both(SurfaceMetrics {
                tolerance_mm,
                reference_area_mm2,
                test_area_mm2,
                hausdorff_mm: Directed {
                    reference_to_test: percentile(forward, 100.0),
                    test_to_reference: percentile(backward, 100.0),
                },
                hausdorff_95_mm: Directed {
                    reference_to_test: percentile(forward, 95.0),
                    test_to_reference: percentile(backward, 95.0),
                },
                mean_surface_distance_mm: Directed {
                    reference_to_test: forward_sum / reference_area_mm2,
                    test_to_reference: backward_sum / test_area_mm2,
                },
                symmetric_mean_surface_distance_mm: (forward_sum + backward_sum)
                    / (reference_area_mm2 + test_area_mm2),
                surface_overlap: Directed {
                    reference_to_test: forward_within / reference_area_mm2,
                    test_to_reference: backward_within / test_area_mm2,
                },
                surface_dice: (forward_within + backward_within)
                    / (reference_area_mm2 + test_area_mm2),
            })
        }
    }
}
