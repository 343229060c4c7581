//! Surface elements of two masks and the distances between them, following
//! DeepMind's `compute_surface_distances` exactly.
//!
//! Both masks are cropped to the bounding box of their union, padded by one
//! point at the high end of every axis. The 2×2×2 neighbourhood code of
//! every point of that padded box is computed (the point `p` sees the voxels
//! `p − 1` and `p` along each axis; voxels outside the box are outside the
//! structure), so the points sit at the corners between voxels. A point is a
//! surface element ("surfel") when its code is neither 0 nor 255, and its area
//! is the marching-cubes area of the code ([`crate::surfel`]). The distance
//! from a surfel of one mask to the other mask's surface is the Euclidean
//! distance, in millimetres, to the nearest surfel point of the other mask.

use rayon::prelude::*;

use crate::distance::{Envelope, NO_SEED, PlaneScratch, offset_length, plane_offsets};
use crate::surfel::{SPREAD, surface_area_table};
use crate::{ContourError, Mask, Spacing};

/// The padded union bounding box: original voxel `low + p` is crop point `p`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Crop {
    pub(crate) low: [usize; 3],
    pub(crate) high: [usize; 3],
    pub(crate) dims: [usize; 3],
}

impl Crop {
    pub(crate) fn points(&self) -> usize {
        self.dims[0] * self.dims[1] * self.dims[2]
    }
}

/// The bounding box of the voxels inside either mask, padded by one point
/// at the high end; `None` when both masks are empty.
pub(crate) fn union_crop(reference: &Mask, test: &Mask) -> Option<Crop> {
    let [_, ny, nx] = reference.dims();
    let plane = ny * nx;
    let boxes = reference
        .voxels()
        .par_chunks(plane)
        .zip(test.voxels().par_chunks(plane))
        .enumerate()
        .filter_map(|(z, (a, b))| {
            let mut low = [usize::MAX; 3];
            let mut high = [0usize; 3];
            for y in 0..ny {
                let row_a = &a[y * nx..(y + 1) * nx];
                let row_b = &b[y * nx..(y + 1) * nx];
                let first = row_a
                    .iter()
                    .zip(row_b)
                    .position(|(&in_a, &in_b)| in_a || in_b);
                if let Some(first) = first {
                    let last = row_a
                        .iter()
                        .zip(row_b)
                        .rposition(|(&in_a, &in_b)| in_a || in_b)
                        .expect("a row with a first inside voxel has a last one");
                    low = [z, low[1].min(y), low[2].min(first)];
                    high = [z, high[1].max(y), high[2].max(last)];
                }
            }
            (low[0] != usize::MAX).then_some((low, high))
        })
        .reduce_with(|(low_a, high_a), (low_b, high_b)| {
            (
                std::array::from_fn(|axis| low_a[axis].min(low_b[axis])),
                std::array::from_fn(|axis| high_a[axis].max(high_b[axis])),
            )
        })?;
    let (low, high) = boxes;
    Some(Crop {
        low,
        high,
        dims: std::array::from_fn(|axis| high[axis] - low[axis] + 2),
    })
}

/// The surfels of one mask inside the crop: row-major crop indices in
/// increasing order, with their areas in mm².
#[derive(Debug, Default)]
pub(crate) struct Surfels {
    pub(crate) indices: Vec<u32>,
    pub(crate) areas: Vec<f64>,
}

/// The four rows of original voxels that the points of crop row `(z, y)`
/// see, indexed by `2·dz + dy`; `None` outside the bounding box.
fn neighbour_rows<'a>(mask: &'a Mask, crop: &Crop, z: usize, y: usize) -> [Option<&'a [bool]>; 4] {
    let [_, ny, nx] = mask.dims();
    let voxels = mask.voxels();
    std::array::from_fn(|index| {
        let (dz, dy) = (index >> 1, index & 1);
        // The original voxel index is low + p − 1 + d; it must lie in [low, high].
        let oz = (crop.low[0] + z + dz).checked_sub(1)?;
        let oy = (crop.low[1] + y + dy).checked_sub(1)?;
        if oz < crop.low[0] || oz > crop.high[0] || oy < crop.low[1] || oy > crop.high[1] {
            return None;
        }
        let start = (oz * ny + oy) * nx;
        Some(&voxels[start + crop.low[2]..=start + crop.high[2]])
    })
}

/// Calls `visit(x, code)` for every point of crop row `(z, y)` whose 2×2×2
/// code is neither empty nor full.
fn for_each_surfel_in_row(
    rows: &[Option<&[bool]>; 4],
    width: usize,
    mut visit: impl FnMut(usize, usize),
) {
    if rows.iter().all(Option::is_none) {
        return;
    }
    let mut previous = 0u8;
    for x in 0..width {
        // The four voxels at original column low + x, as a nibble with
        // (dz, dy) = (0, 0) in the highest bit.
        let mut current = 0u8;
        if x + 1 < width {
            for (index, row) in rows.iter().enumerate() {
                if matches!(row, Some(row) if row[x]) {
                    current |= 1 << (3 - index);
                }
            }
        }
        let code = (SPREAD[usize::from(previous)] << 1) | SPREAD[usize::from(current)];
        if code != 0 && code != 255 {
            visit(x, usize::from(code));
        }
        previous = current;
    }
}

/// The surfels of `mask` inside `crop`.
pub(crate) fn surfels(mask: &Mask, crop: &Crop, table: &[f64; 256]) -> Surfels {
    let [nz, ny, nx] = crop.dims;
    let parts: Vec<Surfels> = (0..nz)
        .into_par_iter()
        .map(|z| {
            let mut part = Surfels::default();
            for y in 0..ny {
                let rows = neighbour_rows(mask, crop, z, y);
                let row_start = (z * ny + y) * nx;
                for_each_surfel_in_row(&rows, nx, |x, code| {
                    part.indices.push((row_start + x) as u32);
                    part.areas.push(table[code]);
                });
            }
            part
        })
        .collect();
    let total = parts.iter().map(|part| part.indices.len()).sum();
    let mut all = Surfels {
        indices: Vec::with_capacity(total),
        areas: Vec::with_capacity(total),
    };
    for part in parts {
        all.indices.extend_from_slice(&part.indices);
        all.areas.extend_from_slice(&part.areas);
    }
    all
}

/// For every surfel of `queries`, its distance to the nearest surfel of
/// `seeds` and its area, in no particular order. All distances are infinite
/// when `seeds` is empty.
pub(crate) fn distances_to(
    seeds: &Surfels,
    queries: &Surfels,
    crop: &Crop,
    spacing: [f64; 3],
) -> Vec<(f64, f64)> {
    if seeds.indices.is_empty() {
        return queries
            .areas
            .iter()
            .map(|&area| (f64::INFINITY, area))
            .collect();
    }
    let [nz, ny, nx] = crop.dims;
    let plane = ny * nx;
    // In-plane offsets to the nearest seed of the same plane.
    let mut offsets = vec![[NO_SEED, NO_SEED]; crop.points()];
    offsets.par_chunks_mut(plane).enumerate().for_each_init(
        PlaneScratch::default,
        |scratch, (z, plane_offsets_out)| {
            let start = seeds
                .indices
                .partition_point(|&index| (index as usize) < z * plane);
            let end = seeds
                .indices
                .partition_point(|&index| (index as usize) < (z + 1) * plane);
            if start == end {
                return;
            }
            let local = seeds.indices[start..end]
                .iter()
                .map(|&index| index as usize - z * plane);
            plane_offsets(
                local,
                ny,
                nx,
                spacing[1],
                spacing[2],
                plane_offsets_out,
                scratch,
            );
        },
    );

    // The queries grouped by column (y, x), increasing z inside a column:
    // a stable counting sort of the z-major query list.
    let mut column_starts = vec![0u32; plane + 1];
    for &index in &queries.indices {
        column_starts[index as usize % plane + 1] += 1;
    }
    for column in 0..plane {
        column_starts[column + 1] += column_starts[column];
    }
    let mut next = column_starts.clone();
    let mut by_column = vec![0u32; queries.indices.len()];
    for (position, &index) in queries.indices.iter().enumerate() {
        let column = index as usize % plane;
        by_column[next[column] as usize] = position as u32;
        next[column] += 1;
    }
    drop(next);

    // Along z, one row of columns at a time so that the reads are contiguous.
    let offsets = &offsets;
    let column_starts = &column_starts;
    let by_column = &by_column;
    (0..ny)
        .into_par_iter()
        .flat_map_iter(|y| {
            let first = column_starts[y * nx] as usize;
            let last = column_starts[(y + 1) * nx] as usize;
            let mut found = Vec::with_capacity(last - first);
            if first == last {
                return found.into_iter();
            }
            // The x range of the columns that have queries.
            let x_low = queries.indices[by_column[first] as usize] as usize % plane - y * nx;
            let x_high = queries.indices[by_column[last - 1] as usize] as usize % plane - y * nx;
            let width = x_high - x_low + 1;
            let mut tile = vec![[NO_SEED, NO_SEED]; nz * width];
            for z in 0..nz {
                let start = z * plane + y * nx + x_low;
                tile[z * width..(z + 1) * width].copy_from_slice(&offsets[start..start + width]);
            }
            let mut values = vec![f64::INFINITY; nz];
            let mut envelope = Envelope::default();
            for x in x_low..=x_high {
                let column = y * nx + x;
                let (begin, end) = (
                    column_starts[column] as usize,
                    column_starts[column + 1] as usize,
                );
                if begin == end {
                    continue;
                }
                for (z, value) in values.iter_mut().enumerate() {
                    let [dy, dx] = tile[z * width + x - x_low];
                    *value = if dy == NO_SEED {
                        f64::INFINITY
                    } else {
                        let y_mm = f64::from(dy) * spacing[1];
                        let x_mm = f64::from(dx) * spacing[2];
                        y_mm * y_mm + x_mm * x_mm
                    };
                }
                envelope.build(&values, spacing[0]);
                for &position in &by_column[begin..end] {
                    let position = position as usize;
                    let z = queries.indices[position] as usize / plane;
                    let nearest = envelope.nearest(z, spacing[0]);
                    let [dy, dx] = tile[nearest * width + x - x_low];
                    let distance = offset_length(
                        nearest as i32 - z as i32,
                        i32::from(dy),
                        i32::from(dx),
                        spacing,
                    );
                    found.push((distance, queries.areas[position]));
                }
            }
            found.into_iter()
        })
        .collect()
}

/// The distances from the surfels of one surface to the other surface, sorted
/// by distance (ties by area), with the surfel areas.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectedSurfaceDistances {
    distances_mm: Vec<f64>,
    areas_mm2: Vec<f64>,
}

impl DirectedSurfaceDistances {
    fn sorted(mut pairs: Vec<(f64, f64)>) -> Self {
        pairs.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let (distances_mm, areas_mm2) = pairs.into_iter().unzip();
        Self {
            distances_mm,
            areas_mm2,
        }
    }

    /// The distances in mm, in non-decreasing order.
    pub fn distances_mm(&self) -> &[f64] {
        &self.distances_mm
    }

    /// The surfel areas in mm², in the order of [`Self::distances_mm`].
    pub fn areas_mm2(&self) -> &[f64] {
        &self.areas_mm2
    }

    /// The number of surfels.
    pub fn len(&self) -> usize {
        self.distances_mm.len()
    }

    /// Whether the surface has no surfel (its mask is empty).
    pub fn is_empty(&self) -> bool {
        self.distances_mm.is_empty()
    }

    /// The total surface area in mm² (NumPy's summation order).
    pub fn total_area_mm2(&self) -> f64 {
        numpy_sum(&self.areas_mm2)
    }

    /// Σ distance·area, the numerator of the mean distance (NumPy's order).
    pub(crate) fn weighted_distance_sum(&self) -> f64 {
        let products: Vec<f64> = self
            .distances_mm
            .iter()
            .zip(&self.areas_mm2)
            .map(|(d, a)| d * a)
            .collect();
        numpy_sum(&products)
    }

    /// The area-weighted mean distance (DeepMind
    /// `compute_average_surface_distance`); `None` without surfels, infinite
    /// when the other surface is empty.
    pub fn mean_mm(&self) -> Option<f64> {
        (!self.is_empty()).then(|| self.weighted_distance_sum() / self.total_area_mm2())
    }

    /// The area-weighted `percent` percentile of the distances, as DeepMind's
    /// `compute_robust_hausdorff` computes one direction: the first sorted
    /// distance whose cumulative area fraction reaches `percent / 100`.
    /// `None` without surfels; infinite when the other surface is empty.
    pub fn percentile_mm(&self, percent: f64) -> Result<Option<f64>, ContourError> {
        if !(0.0..=100.0).contains(&percent) {
            return Err(ContourError::InvalidPercentile { value: percent });
        }
        if self.is_empty() {
            return Ok(None);
        }
        let total = self.total_area_mm2();
        let threshold = percent / 100.0;
        let mut cumulative = 0.0;
        let mut index = self.len() - 1;
        for (position, area) in self.areas_mm2.iter().enumerate() {
            cumulative += area;
            if cumulative / total >= threshold {
                index = position;
                break;
            }
        }
        Ok(Some(self.distances_mm[index]))
    }

    /// The area of the surfels whose distance is at most `tolerance_mm`.
    pub fn area_within_mm2(&self, tolerance_mm: f64) -> f64 {
        let within = self.distances_mm.partition_point(|&d| d <= tolerance_mm);
        numpy_sum(&self.areas_mm2[..within])
    }

    /// The fraction of the surface area within `tolerance_mm` of the other
    /// surface (DeepMind `compute_surface_overlap_at_tolerance`, one
    /// direction); `None` without surfels.
    pub fn overlap_fraction(&self, tolerance_mm: f64) -> Option<f64> {
        (!self.is_empty()).then(|| self.area_within_mm2(tolerance_mm) / self.total_area_mm2())
    }
}

/// The surfel distances in both directions: DeepMind's
/// `compute_surface_distances(reference, test, spacing)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SurfaceDistances {
    /// From every reference surfel to the test surface.
    pub reference_to_test: DirectedSurfaceDistances,
    /// From every test surfel to the reference surface.
    pub test_to_reference: DirectedSurfaceDistances,
}

impl SurfaceDistances {
    /// The surfel distances between two masks on the same grid.
    pub fn between(reference: &Mask, test: &Mask) -> Result<Self, ContourError> {
        reference.same_grid(test)?;
        Ok(Self::between_same_grid(reference, test))
    }

    pub(crate) fn between_same_grid(reference: &Mask, test: &Mask) -> Self {
        Self::in_crop(reference, test, union_crop(reference, test).as_ref())
    }

    /// The distances when the union crop is already known.
    pub(crate) fn in_crop(reference: &Mask, test: &Mask, crop: Option<&Crop>) -> Self {
        let Some(crop) = crop else {
            return Self {
                reference_to_test: DirectedSurfaceDistances::sorted(Vec::new()),
                test_to_reference: DirectedSurfaceDistances::sorted(Vec::new()),
            };
        };
        let spacing: Spacing = reference.spacing();
        let table = surface_area_table(&spacing);
        let (reference_surfels, test_surfels) = rayon::join(
            || surfels(reference, crop, &table),
            || surfels(test, crop, &table),
        );
        let spacing = spacing.as_array();
        // One direction after the other: each distance transform already runs
        // on every core, and two at once would double the peak memory.
        let reference_to_test = distances_to(&test_surfels, &reference_surfels, crop, spacing);
        let test_to_reference = distances_to(&reference_surfels, &test_surfels, crop, spacing);
        let (reference_to_test, test_to_reference) = rayon::join(
            || DirectedSurfaceDistances::sorted(reference_to_test),
            || DirectedSurfaceDistances::sorted(test_to_reference),
        );
        Self {
            reference_to_test,
            test_to_reference,
        }
    }

    /// DeepMind's `compute_surface_dice_at_tolerance`: the surface area of
    /// both surfaces within the tolerance of the other, over the total area.
    /// `None` when both masks are empty; 0 when exactly one is.
    pub fn surface_dice(&self, tolerance_mm: f64) -> Option<f64> {
        let total =
            self.reference_to_test.total_area_mm2() + self.test_to_reference.total_area_mm2();
        (total > 0.0).then(|| {
            (self.reference_to_test.area_within_mm2(tolerance_mm)
                + self.test_to_reference.area_within_mm2(tolerance_mm))
                / total
        })
    }
}

/// `numpy.sum` of a contiguous float64 array, reproduced operation for
/// operation so that sums (and the HD95 threshold that depends on them) are
/// bit-identical to DeepMind's: blocks of 8192 values added in order, each
/// block summed pairwise with an eight-way unrolled base case of 128.
pub(crate) fn numpy_sum(values: &[f64]) -> f64 {
    let mut blocks = values.chunks(8192);
    let Some(first) = blocks.next() else {
        return 0.0;
    };
    blocks.fold(pairwise_sum(first), |sum, block| sum + pairwise_sum(block))
}

fn pairwise_sum(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 8 {
        values.iter().fold(0.0, |sum, value| sum + value)
    } else if n <= 128 {
        let mut partial: [f64; 8] = std::array::from_fn(|j| values[j]);
        let whole = n - n % 8;
        let mut i = 8;
        while i < whole {
            for (j, slot) in partial.iter_mut().enumerate() {
                *slot += values[i + j];
            }
            i += 8;
        }
        let mut sum = ((partial[0] + partial[1]) + (partial[2] + partial[3]))
            + ((partial[4] + partial[5]) + (partial[6] + partial[7]));
        for value in &values[whole..] {
            sum += value;
        }
        sum
    } else {
        let mut half = n / 2;
        half -= half % 8;
        pairwise_sum(&values[..half]) + pairwise_sum(&values[half..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The distance transform against a brute-force search over all seeds.
    #[test]
    fn distances_match_brute_force() {
        let mut state = 99u64;
        let mut random = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f64 / (1u64 << 31) as f64
        };
        for round in 0..30 {
            let dims = [
                1 + (random() * 6.0) as usize,
                1 + (random() * 9.0) as usize,
                1 + (random() * 9.0) as usize,
            ];
            let spacing = Spacing::new(
                0.5 + random() * 3.0,
                0.5 + random() * 2.0,
                0.5 + random() * 2.0,
            )
            .unwrap();
            let density = 0.1 + 0.5 * random();
            let count = dims.iter().product();
            let a: Vec<bool> = (0..count).map(|_| random() < density).collect();
            let b: Vec<bool> = (0..count).map(|_| random() < density * 0.5).collect();
            let a = Mask::new(dims, spacing, a).unwrap();
            let b = Mask::new(dims, spacing, b).unwrap();
            let Some(crop) = union_crop(&a, &b) else {
                continue;
            };
            let table = surface_area_table(&spacing);
            let seeds = surfels(&a, &crop, &table);
            let queries = surfels(&b, &crop, &table);
            let mut fast: Vec<f64> = distances_to(&seeds, &queries, &crop, spacing.as_array())
                .into_iter()
                .map(|(distance, _)| distance)
                .collect();
            let [_, ny, nx] = crop.dims;
            let position = |index: u32| {
                let index = index as usize;
                [index / (ny * nx), index / nx % ny, index % nx].map(|n| n as i32)
            };
            let mut slow: Vec<f64> = queries
                .indices
                .iter()
                .map(|&query| {
                    let q = position(query);
                    seeds
                        .indices
                        .iter()
                        .map(|&seed| {
                            let s = position(seed);
                            offset_length(s[0] - q[0], s[1] - q[1], s[2] - q[2], spacing.as_array())
                        })
                        .fold(f64::INFINITY, f64::min)
                })
                .collect();
            fast.sort_by(f64::total_cmp);
            slow.sort_by(f64::total_cmp);
            assert_eq!(fast.len(), slow.len());
            for (f, s) in fast.iter().zip(&slow) {
                assert!(
                    f == s || (f - s).abs() <= 1e-12 * s,
                    "round {round}: {f} vs {s}"
                );
            }
        }
    }

    #[test]
    fn numpy_sum_follows_the_block_structure() {
        // Small integers sum exactly in any order.
        let values: Vec<f64> = (0..20_000).map(|n| (n % 7) as f64).collect();
        let exact: f64 = values.iter().sum();
        assert_eq!(numpy_sum(&values), exact);
        assert_eq!(numpy_sum(&[]), 0.0);
    }
}
