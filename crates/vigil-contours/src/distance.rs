//! Exact Euclidean distance transform with anisotropic spacing.
//!
//! Separable and exact: first the nearest seed along each row (two sweeps),
//! then the lower envelope of parabolas along y and along z (Felzenszwalb &
//! Huttenlocher, "Distance transforms of sampled functions", Theory of
//! Computing 8, 2012), with positions in millimetres so that each axis has its
//! own spacing. Instead of squared distances the transform keeps the integer
//! offset to the nearest seed (16-bit per axis), which halves the memory of a
//! 64-bit distance map and lets the final distance be computed exactly as
//! SciPy's `distance_transform_edt` does: `√(((Δz·s_z)² + (Δy·s_y)²) + (Δx·s_x)²)`.

/// The offset value meaning "no seed on this line".
pub(crate) const NO_SEED: i16 = i16::MIN;

/// The lower envelope of the parabolas `f(k) + (x − k·w)²` over the finite
/// `f(k)`, reused between lines to avoid allocations.
#[derive(Debug, Default)]
pub(crate) struct Envelope {
    sites: Vec<usize>,
    bounds: Vec<f64>,
    cursor: usize,
}

impl Envelope {
    /// Builds the envelope of `values` sampled every `spacing` mm; `f64::INFINITY`
    /// marks a position without a parabola. Returns false when every value is
    /// infinite.
    pub(crate) fn build(&mut self, values: &[f64], spacing: f64) -> bool {
        self.sites.clear();
        self.bounds.clear();
        self.cursor = 0;
        for (q, &value) in values.iter().enumerate() {
            if value == f64::INFINITY {
                continue;
            }
            let position_q = q as f64 * spacing;
            let height_q = value + position_q * position_q;
            let mut start = f64::NEG_INFINITY;
            while let Some(&p) = self.sites.last() {
                let position_p = p as f64 * spacing;
                let height_p = values[p] + position_p * position_p;
                let crossing = (height_q - height_p) / (2.0 * (position_q - position_p));
                let last_bound = *self.bounds.last().expect("one bound per site");
                if crossing <= last_bound {
                    self.sites.pop();
                    self.bounds.pop();
                } else {
                    start = crossing;
                    break;
                }
            }
            self.sites.push(q);
            self.bounds.push(start);
        }
        !self.sites.is_empty()
    }

    /// The index of the parabola that is lowest at index `q`. Calls must come
    /// in non-decreasing `q` after each `build`.
    pub(crate) fn nearest(&mut self, q: usize, spacing: f64) -> usize {
        let position = q as f64 * spacing;
        while self.cursor + 1 < self.sites.len() && self.bounds[self.cursor + 1] < position {
            self.cursor += 1;
        }
        self.sites[self.cursor]
    }
}

/// Fills `offsets` (a plane of `ny × nx`, row-major) with the in-plane offset
/// `(Δy, Δx)` from each point to its nearest seed, or `NO_SEED` when the plane
/// has none. `seeds` are the row-major indices of the seeds inside the plane,
/// in increasing order.
pub(crate) fn plane_offsets(
    seeds: impl Iterator<Item = usize>,
    ny: usize,
    nx: usize,
    y_mm: f64,
    x_mm: f64,
    offsets: &mut [[i16; 2]],
    scratch: &mut PlaneScratch,
) {
    offsets.fill([NO_SEED, NO_SEED]);
    // Pass along x: the nearest seed in the row, from the seeds on both sides.
    let mut row_has_seed = std::mem::take(&mut scratch.row_has_seed);
    row_has_seed.clear();
    row_has_seed.resize(ny, false);
    let mut seeds = seeds.peekable();
    while let Some(first) = seeds.next() {
        let y = first / nx;
        row_has_seed[y] = true;
        let row = &mut offsets[y * nx..(y + 1) * nx];
        let mut previous = first % nx;
        for (x, cell) in row.iter_mut().enumerate().take(previous + 1) {
            cell[1] = (previous - x) as i16;
        }
        while let Some(&next) = seeds.peek() {
            if next / nx != y {
                break;
            }
            seeds.next();
            let next = next % nx;
            for (x, cell) in row.iter_mut().enumerate().take(next + 1).skip(previous + 1) {
                let to_previous = x - previous;
                let to_next = next - x;
                cell[1] = if to_previous <= to_next {
                    -(to_previous as i16)
                } else {
                    to_next as i16
                };
            }
            previous = next;
        }
        for (x, cell) in row.iter_mut().enumerate().skip(previous + 1) {
            cell[1] = -((x - previous) as i16);
        }
    }
    // Pass along y: the lower envelope of (Δx·s_x)² over the rows.
    let values = &mut scratch.values;
    values.clear();
    values.resize(ny, f64::INFINITY);
    let row_dx = &mut scratch.row_dx;
    row_dx.clear();
    row_dx.resize(ny, NO_SEED);
    for x in 0..nx {
        for y in 0..ny {
            let dx = if row_has_seed[y] {
                offsets[y * nx + x][1]
            } else {
                NO_SEED
            };
            row_dx[y] = dx;
            values[y] = if dx == NO_SEED {
                f64::INFINITY
            } else {
                let mm = f64::from(dx) * x_mm;
                mm * mm
            };
        }
        if !scratch.envelope.build(values, y_mm) {
            continue;
        }
        for y in 0..ny {
            let nearest = scratch.envelope.nearest(y, y_mm);
            offsets[y * nx + x] = [(nearest as isize - y as isize) as i16, row_dx[nearest]];
        }
    }
    scratch.row_has_seed = row_has_seed;
}

/// Buffers reused by [`plane_offsets`] on one thread.
#[derive(Debug, Default)]
pub(crate) struct PlaneScratch {
    row_has_seed: Vec<bool>,
    values: Vec<f64>,
    row_dx: Vec<i16>,
    envelope: Envelope,
}

/// The Euclidean length of an offset in voxels, in the order SciPy uses.
pub(crate) fn offset_length(dz: i32, dy: i32, dx: i32, spacing: [f64; 3]) -> f64 {
    let z = f64::from(dz) * spacing[0];
    let y = f64::from(dy) * spacing[1];
    let x = f64::from(dx) * spacing[2];
    ((z * z + y * y) + x * x).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_force(seeds: &[usize], ny: usize, nx: usize, sy: f64, sx: f64) -> Vec<f64> {
        (0..ny * nx)
            .map(|point| {
                seeds
                    .iter()
                    .map(|&seed| {
                        let dy = (seed / nx) as i32 - (point / nx) as i32;
                        let dx = (seed % nx) as i32 - (point % nx) as i32;
                        offset_length(0, dy, dx, [1.0, sy, sx])
                    })
                    .fold(f64::INFINITY, f64::min)
            })
            .collect()
    }

    #[test]
    fn plane_offsets_match_brute_force() {
        let (ny, nx) = (13, 17);
        let mut state = 12345u64;
        let mut scratch = PlaneScratch::default();
        for round in 0..40 {
            let mut seeds = Vec::new();
            for index in 0..ny * nx {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                if (state >> 33).is_multiple_of(3 + round as u64) {
                    seeds.push(index);
                }
            }
            let (sy, sx) = (
                0.5 + (round % 5) as f64 * 0.7,
                1.0 + (round % 3) as f64 * 0.9,
            );
            let mut offsets = vec![[0i16; 2]; ny * nx];
            plane_offsets(
                seeds.iter().copied(),
                ny,
                nx,
                sy,
                sx,
                &mut offsets,
                &mut scratch,
            );
            let expected = brute_force(&seeds, ny, nx, sy, sx);
            for (point, offset) in offsets.iter().enumerate() {
                if seeds.is_empty() {
                    assert_eq!(offset[0], NO_SEED);
                    continue;
                }
                let actual =
                    offset_length(0, i32::from(offset[0]), i32::from(offset[1]), [1.0, sy, sx]);
                assert!(
                    (actual - expected[point]).abs() <= 1e-12 * expected[point].max(1.0),
                    "round {round} point {point}: {actual} vs {}",
                    expected[point]
                );
            }
        }
    }
}
