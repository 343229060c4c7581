//! The voxel grid: spacing in millimetres and three-dimensional binary masks.

use rayon::prelude::*;

use crate::ContourError;

/// Millimetres per voxel along z, y and x (axis 0, 1 and 2 of a [`Mask`]).
///
/// Axis 0 is the slice axis: added path length is measured on the planes of
/// constant z.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spacing {
    z_mm: f64,
    y_mm: f64,
    x_mm: f64,
}

impl Spacing {
    /// A spacing whose three values are finite and greater than 0.
    pub fn new(z_mm: f64, y_mm: f64, x_mm: f64) -> Result<Self, ContourError> {
        for (axis, value) in [("z", z_mm), ("y", y_mm), ("x", x_mm)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(ContourError::InvalidSpacing { axis, value });
            }
        }
        Ok(Self { z_mm, y_mm, x_mm })
    }

    /// The same spacing along the three axes.
    pub fn isotropic(mm: f64) -> Result<Self, ContourError> {
        Self::new(mm, mm, mm)
    }

    /// Millimetres between slices (axis 0).
    pub fn z_mm(&self) -> f64 {
        self.z_mm
    }

    /// Millimetres between rows (axis 1).
    pub fn y_mm(&self) -> f64 {
        self.y_mm
    }

    /// Millimetres between columns (axis 2).
    pub fn x_mm(&self) -> f64 {
        self.x_mm
    }

    /// The spacing as `[z, y, x]` in millimetres.
    pub fn as_array(&self) -> [f64; 3] {
        [self.z_mm, self.y_mm, self.x_mm]
    }

    /// The volume of one voxel in cubic millimetres, computed as `(z·y)·x`.
    pub fn voxel_volume_mm3(&self) -> f64 {
        self.z_mm * self.y_mm * self.x_mm
    }
}

/// A binary structure on a voxel grid: `dims` is `[z, y, x]`, the voxels are
/// stored row-major (x fastest), and voxel `(z, y, x)` has its centre at
/// `(z·spacing.z, y·spacing.y, x·spacing.x)` millimetres.
#[derive(Debug, Clone, PartialEq)]
pub struct Mask {
    dims: [usize; 3],
    spacing: Spacing,
    voxels: Vec<bool>,
    inside: usize,
}

impl Mask {
    /// The largest number of voxels along one axis. Offsets inside the
    /// bounding box are stored as 16-bit integers.
    pub const MAX_DIMENSION: usize = 32_000;

    /// The largest number of points `(z+1)(y+1)(x+1)` of the padded grid,
    /// which the surface computation indexes with 32-bit integers.
    pub const MAX_PADDED_POINTS: u64 = u32::MAX as u64;

    /// A mask with one value per voxel of `dims`, in row-major order.
    pub fn new(
        dims: [usize; 3],
        spacing: Spacing,
        voxels: Vec<bool>,
    ) -> Result<Self, ContourError> {
        if dims.iter().any(|&n| n == 0 || n > Self::MAX_DIMENSION) {
            return Err(ContourError::InvalidDimensions {
                dims,
                max: Self::MAX_DIMENSION,
            });
        }
        let padded: u64 = dims.iter().map(|&n| n as u64 + 1).product();
        if padded > Self::MAX_PADDED_POINTS {
            return Err(ContourError::GridTooLarge {
                dims,
                max: Self::MAX_PADDED_POINTS,
            });
        }
        let expected = dims[0] * dims[1] * dims[2];
        if voxels.len() != expected {
            return Err(ContourError::VoxelCountMismatch {
                dims,
                expected,
                actual: voxels.len(),
            });
        }
        let inside = voxels
            .par_chunks(1 << 16)
            .map(|chunk| chunk.iter().filter(|&&inside| inside).count())
            .sum();
        Ok(Self {
            dims,
            spacing,
            voxels,
            inside,
        })
    }

    /// A mask whose voxel `(z, y, x)` is `inside(z, y, x)`.
    pub fn from_fn(
        dims: [usize; 3],
        spacing: Spacing,
        inside: impl Fn(usize, usize, usize) -> bool + Sync,
    ) -> Result<Self, ContourError> {
        let [nz, ny, nx] = dims;
        let plane = ny.saturating_mul(nx);
        let mut voxels = Vec::new();
        if dims.iter().all(|&n| n > 0 && n <= Self::MAX_DIMENSION) {
            voxels = vec![false; nz * plane];
            voxels
                .par_chunks_mut(plane)
                .enumerate()
                .for_each(|(z, slice)| {
                    for (index, voxel) in slice.iter_mut().enumerate() {
                        *voxel = inside(z, index / nx, index % nx);
                    }
                });
        }
        Self::new(dims, spacing, voxels)
    }

    /// The number of voxels along `[z, y, x]`.
    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }

    /// The voxel spacing.
    pub fn spacing(&self) -> Spacing {
        self.spacing
    }

    /// The voxels in row-major order.
    pub fn voxels(&self) -> &[bool] {
        &self.voxels
    }

    /// Whether voxel `(z, y, x)` is inside the structure; `None` outside the grid.
    pub fn get(&self, z: usize, y: usize, x: usize) -> Option<bool> {
        let [nz, ny, nx] = self.dims;
        (z < nz && y < ny && x < nx).then(|| self.voxels[(z * ny + y) * nx + x])
    }

    /// The number of voxels inside the structure.
    pub fn voxel_count(&self) -> usize {
        self.inside
    }

    /// Whether no voxel is inside the structure.
    pub fn is_empty(&self) -> bool {
        self.inside == 0
    }

    /// The volume in cubic centimetres: voxel count × voxel volume / 1000.
    pub fn volume_cc(&self) -> f64 {
        self.inside as f64 * self.spacing.voxel_volume_mm3() / 1000.0
    }

    /// The mean position of the voxel centres in millimetres, `[z, y, x]`,
    /// in the grid's own frame (voxel `(0, 0, 0)` at the origin); `None` for
    /// an empty mask.
    pub fn centroid_mm(&self) -> Option<[f64; 3]> {
        if self.is_empty() {
            return None;
        }
        let [_, ny, nx] = self.dims;
        let plane = ny * nx;
        // Integer sums are exact; one division per axis follows.
        let sums = self
            .voxels
            .par_chunks(plane)
            .enumerate()
            .map(|(z, slice)| {
                let mut sums = [0u64; 3];
                for (index, _) in slice.iter().enumerate().filter(|(_, inside)| **inside) {
                    sums[0] += z as u64;
                    sums[1] += (index / nx) as u64;
                    sums[2] += (index % nx) as u64;
                }
                sums
            })
            .reduce(|| [0u64; 3], |a, b| [a[0] + b[0], a[1] + b[1], a[2] + b[2]]);
        let count = self.inside as f64;
        let spacing = self.spacing.as_array();
        Some(std::array::from_fn(|axis| {
            sums[axis] as f64 / count * spacing[axis]
        }))
    }

    /// Whether `other` is on the same grid: the same dimensions and exactly
    /// the same spacing.
    pub(crate) fn same_grid(&self, other: &Mask) -> Result<(), ContourError> {
        if self.dims == other.dims && self.spacing == other.spacing {
            Ok(())
        } else {
            Err(ContourError::GridMismatch {
                reference_dims: self.dims,
                reference_spacing_mm: self.spacing.as_array(),
                test_dims: other.dims,
                test_spacing_mm: other.spacing.as_array(),
            })
        }
    }
}
