//! The one error type of the contour metrics crate.

/// Why a mask could not be built or two masks could not be compared.
///
/// Every variant is a property of the input, never of the machine, so callers
/// can show the message to the person who supplied the data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ContourError {
    /// A voxel spacing is zero, negative, NaN or infinite.
    #[error("the spacing along {axis} is {value} mm; it must be a finite number greater than 0")]
    InvalidSpacing { axis: &'static str, value: f64 },
    /// A grid dimension is zero or larger than the crate supports.
    #[error(
        "the grid has {dims:?} voxels along (z, y, x); every dimension must be between 1 and {max}"
    )]
    InvalidDimensions { dims: [usize; 3], max: usize },
    /// The grid has more voxels than the crate indexes with 32-bit offsets.
    #[error("the grid {dims:?} is too large: (z+1)(y+1)(x+1) must not exceed {max} points")]
    GridTooLarge { dims: [usize; 3], max: u64 },
    /// The voxel vector does not have one value per voxel of the grid.
    #[error("the grid {dims:?} has {expected} voxels, but {actual} values were given")]
    VoxelCountMismatch {
        dims: [usize; 3],
        expected: usize,
        actual: usize,
    },
    /// The two masks are not on the same voxel grid.
    #[error(
        "the masks are on different grids: reference {reference_dims:?} voxels at {reference_spacing_mm:?} mm, test {test_dims:?} voxels at {test_spacing_mm:?} mm"
    )]
    GridMismatch {
        reference_dims: [usize; 3],
        reference_spacing_mm: [f64; 3],
        test_dims: [usize; 3],
        test_spacing_mm: [f64; 3],
    },
    /// A tolerance is negative, NaN or infinite.
    #[error("the tolerance is {value} mm; it must be a finite number of at least 0")]
    InvalidTolerance { value: f64 },
    /// A percentile lies outside [0, 100].
    #[error("the percentile is {value}; it must lie in [0, 100]")]
    InvalidPercentile { value: f64 },
}
