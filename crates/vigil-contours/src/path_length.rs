//! Added path length: the length of the reference contour, slice by slice,
//! that lies farther than a tolerance from the test contour.
//!
//! Vaassen et al. (2020) define the added path length (APL) as the number of
//! reference-contour pixels that are absent from the test contour on the same
//! slice, optionally with a distance tolerance, multiplied by the pixel size;
//! it estimates what a clinician has to draw when correcting the test
//! structure. This module measures the same quantity with the in-plane
//! version of DeepMind's surface convention, which weights every contour
//! element by its actual length instead of counting pixels:
//!
//! - On each plane of constant z, the contour of a mask is made of the points
//!   at the corners between pixels whose 2×2 neighbourhood holds both inside
//!   and outside pixels (codes other than 0 and 15, as in DeepMind's 2-D
//!   `compute_surface_distances`).
//! - Each such point carries the marching-squares length of its code:
//!   `s_x` or `s_y` for a straight segment, `½·√(s_y² + s_x²)` for each
//!   diagonal segment (see [`crate::surfel`]).
//! - A reference contour point is *added* when its in-plane Euclidean
//!   distance to the nearest test contour point of the same slice is greater
//!   than the tolerance (every point is added when the test has no contour on
//!   that slice).
//! - APL of a slice = Σ length over the added reference points; the total is
//!   the sum over slices. With tolerance 0 a point is added exactly when the
//!   test contour does not pass through it, which is Vaassen's pixel
//!   definition on the corner grid.
//!
//! So the APL of a slice equals the reference contour length times one minus
//! DeepMind's 2-D surface overlap of the reference at the tolerance; the
//! known-answer tests check it against that.

use rayon::prelude::*;

use crate::Mask;
use crate::distance::{PlaneScratch, offset_length, plane_offsets};
use crate::surface::Crop;
use crate::surfel::{SPREAD, contour_length_table};

/// The added path length of one axial slice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SliceAddedPathLength {
    /// The slice index along axis 0 of the grid.
    pub z: usize,
    /// The length of the reference contour on this slice, in mm.
    pub reference_contour_mm: f64,
    /// The length of the test contour on this slice, in mm.
    pub test_contour_mm: f64,
    /// The reference contour length farther than the tolerance from the test
    /// contour, in mm.
    pub added_mm: f64,
}

/// The added path length of a whole structure.
#[derive(Debug, Clone, PartialEq)]
pub struct AddedPathLength {
    /// The tolerance in mm.
    pub tolerance_mm: f64,
    /// Σ added length over the slices, in mm.
    pub total_mm: f64,
    /// Σ reference contour length over the slices, in mm.
    pub reference_contour_mm: f64,
    /// Every slice where the reference or the test has a voxel, in increasing z.
    pub slices: Vec<SliceAddedPathLength>,
}

impl AddedPathLength {
    /// The added length as a fraction of the reference contour length;
    /// `None` when the reference has no contour.
    pub fn added_fraction(&self) -> Option<f64> {
        (self.reference_contour_mm > 0.0).then(|| self.total_mm / self.reference_contour_mm)
    }
}

/// The contour points of one slice: row-major indices in the padded in-plane
/// box, increasing, with their lengths.
fn slice_contour(
    mask: &Mask,
    crop: &Crop,
    z: usize,
    lengths: &[f64; 16],
) -> (Vec<usize>, Vec<f64>) {
    let [_, ny, nx] = crop.dims;
    let [_, grid_y, grid_x] = mask.dims();
    let voxels = mask.voxels();
    let mut indices = Vec::new();
    let mut contour = Vec::new();
    for y in 0..ny {
        let rows: [Option<&[bool]>; 2] = std::array::from_fn(|dy| {
            let oy = (crop.low[1] + y + dy).checked_sub(1)?;
            (oy >= crop.low[1] && oy <= crop.high[1]).then(|| {
                let start = (z * grid_y + oy) * grid_x;
                &voxels[start + crop.low[2]..=start + crop.high[2]]
            })
        });
        if rows.iter().all(Option::is_none) {
            continue;
        }
        let mut previous = 0usize;
        for x in 0..nx {
            let mut current = 0usize;
            if x + 1 < nx {
                for (dy, row) in rows.iter().enumerate() {
                    if matches!(row, Some(row) if row[x]) {
                        current |= 1 << (1 - dy);
                    }
                }
            }
            // Bit 3 − (2·dy + dx): dx is the least significant, so the two
            // columns interleave.
            let code = usize::from((SPREAD[previous] << 1) | SPREAD[current]);
            if code != 0 && code != 15 {
                indices.push(y * nx + x);
                contour.push(lengths[code]);
            }
            previous = current;
        }
    }
    (indices, contour)
}

pub(crate) fn added_path_length(
    reference: &Mask,
    test: &Mask,
    crop: Option<&Crop>,
    tolerance_mm: f64,
) -> AddedPathLength {
    let Some(crop) = crop else {
        return AddedPathLength {
            tolerance_mm,
            total_mm: 0.0,
            reference_contour_mm: 0.0,
            slices: Vec::new(),
        };
    };
    let spacing = reference.spacing();
    let lengths = contour_length_table(spacing.y_mm(), spacing.x_mm());
    let [_, ny, nx] = crop.dims;
    let slices: Vec<SliceAddedPathLength> = (crop.low[0]..=crop.high[0])
        .into_par_iter()
        .map_init(
            || (PlaneScratch::default(), Vec::new()),
            |(scratch, offsets), z| {
                let (reference_points, reference_lengths) =
                    slice_contour(reference, crop, z, &lengths);
                let (test_points, test_lengths) = slice_contour(test, crop, z, &lengths);
                let reference_contour_mm = reference_lengths.iter().sum();
                let test_contour_mm = test_lengths.iter().sum();
                let added_mm = if reference_points.is_empty() {
                    0.0
                } else if test_points.is_empty() {
                    reference_contour_mm
                } else {
                    offsets.resize(ny * nx, [0i16; 2]);
                    plane_offsets(
                        test_points.iter().copied(),
                        ny,
                        nx,
                        spacing.y_mm(),
                        spacing.x_mm(),
                        offsets,
                        scratch,
                    );
                    reference_points
                        .iter()
                        .zip(&reference_lengths)
                        .filter(|&(&point, _)| {
                            let [dy, dx] = offsets[point];
                            let distance = offset_length(
                                0,
                                i32::from(dy),
                                i32::from(dx),
                                [1.0, spacing.y_mm(), spacing.x_mm()],
                            );
                            distance > tolerance_mm
                        })
                        .map(|(_, length)| length)
                        .sum()
                };
                SliceAddedPathLength {
                    z,
                    reference_contour_mm,
                    test_contour_mm,
                    added_mm,
                }
            },
        )
        .filter(|slice| slice.reference_contour_mm > 0.0 || slice.test_contour_mm > 0.0)
        .collect();
    AddedPathLength {
        tolerance_mm,
        total_mm: slices.iter().map(|slice| slice.added_mm).sum(),
        reference_contour_mm: slices.iter().map(|slice| slice.reference_contour_mm).sum(),
        slices,
    }
}
