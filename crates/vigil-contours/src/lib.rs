//! Contour agreement metrics for commissioning radiotherapy auto-contouring.
//!
//! A medical physicist compares the structures drawn by an auto-contouring
//! tool (the *test*) with clinicians' structures (the *reference*). Published
//! implementations of the "same" metrics disagree by 50–200 % because they
//! place the surface differently, weight surface points differently or take
//! percentiles differently (Taha & Hanbury 2015). This crate states one
//! definition for each metric, follows DeepMind's `surface-distance` package
//! (the implementation behind the surface Dice of Nikolov et al. 2021) to
//! floating-point precision, and is checked against it by the known-answer
//! tests in `tests/reference.rs`, whose expected values come from
//! `tests/reference/generate.py`.
//!
//! Everything here is a function of in-memory masks: no I/O, no async, no
//! serialisation. Reading DICOM RT structures or NIfTI files and rasterising
//! contours onto a grid belong elsewhere.
//!
//! # Input
//!
//! A [`Mask`] is a 3-D binary grid with dimensions `[z, y, x]` (x fastest)
//! and a [`Spacing`] in mm per voxel along each axis, which may differ
//! between axes. [`compare`] needs two masks on the same grid. Axis 0 (z) is
//! the slice axis for the added path length.
//!
//! # Definitions
//!
//! With R the reference voxels, T the test voxels and |·| a voxel count:
//!
//! - **Volume** = |·| × s_z·s_y·s_x / 1000 cc. **Centroid** = mean voxel
//!   centre in mm (voxel `(z, y, x)` at `(z·s_z, y·s_y, x·s_x)`);
//!   **centroid shift** = centroid(T) − centroid(R) and its length.
//! - **Dice** = 2|R∩T| / (|R| + |T|); **Jaccard** = |R∩T| / |R∪T|. Both are
//!   `None` when both masks are empty (DeepMind returns NaN) and 0 when
//!   exactly one is.
//!
//! ## Surfaces (DeepMind `compute_surface_distances`)
//!
//! The surface of a mask is a set of surface elements (*surfels*) at the
//! corner points between voxels. A corner point is a surfel when its eight
//! neighbouring voxels are neither all inside nor all outside; its area `a` is
//! the area, in mm², of the marching-cubes surface inside that 2×2×2
//! neighbourhood with vertices at the edge midpoints (module `surfel`
//! documents the table). Each surfel of one mask has a distance `d` in mm to
//! the other surface: the Euclidean distance (anisotropic) to the nearest
//! surfel point of the other mask, computed with an exact separable distance
//! transform. The surfels of each direction are sorted by (d, a).
//!
//! For one direction, say reference → test, with surfels `(dᵢ, aᵢ)`:
//!
//! - **Directed Hausdorff** = the largest dᵢ. **Hausdorff** = the larger of
//!   the two directions.
//! - **Directed 95th percentile** = the first sorted dₖ whose cumulative area
//!   fraction (a₁ + … + aₖ) / Σa reaches 0.95 (DeepMind
//!   `compute_robust_hausdorff`, one direction). **HD95** = the larger of the
//!   two directed percentiles. This is the definition used everywhere in this
//!   crate; it is area-weighted and takes no interpolation, unlike MedPy's
//!   `hd95` (unweighted voxel-border distances, `numpy.percentile` with linear
//!   interpolation, of the pooled distances of both directions).
//! - **Mean surface distance** (directed) = Σ dᵢ·aᵢ / Σ aᵢ (DeepMind
//!   `compute_average_surface_distance`). The **symmetric mean surface
//!   distance** is area-weighted over both surfaces:
//!   (Σ d·a over both surfaces) / (Σ a over both surfaces). It is not the
//!   average of the two directed means (which weights a small surface as much
//!   as a large one), nor ASSD computed on voxel counts.
//! - **Surface overlap at tolerance τ** (directed) = Σ aᵢ over dᵢ ≤ τ / Σ aᵢ
//!   (DeepMind `compute_surface_overlap_at_tolerance`).
//! - **Surface Dice at tolerance τ** (Nikolov et al. 2021; DeepMind
//!   `compute_surface_dice_at_tolerance`) = (Σ a over reference surfels with
//!   d ≤ τ + Σ a over test surfels with d ≤ τ) / (Σ a over both surfaces).
//!
//! Sums are computed in NumPy's order (pairwise within blocks of 8192), so the
//! cumulative fractions of the 95th percentile agree bit for bit with
//! DeepMind's even when a fraction falls exactly on 0.95.
//!
//! Empty masks follow DeepMind's meaning, with a variant instead of `inf` and
//! `NaN`: see [`SurfaceAgreement`]. [`SurfaceDistances`] exposes the raw sorted
//! distances with DeepMind's `inf` for an empty other surface.
//!
//! ## Added path length (Vaassen et al. 2020)
//!
//! On every axial slice, the length of the reference contour that lies
//! farther than τ (in-plane Euclidean distance) from the test contour of the
//! same slice, summed over slices, in mm. Contours are the 2-D version of the
//! surfel convention above (corner points weighted by their marching-squares
//! segment length: `s_x`, `s_y`, or `½·√(s_y² + s_x²)` per diagonal
//! segment). See [`AddedPathLength`] and module `path_length`.
//!
//! # Speed and memory
//!
//! Work is limited to the union bounding box. The distance transform keeps
//! 16-bit offsets to the nearest surfel (4 bytes per point of the box) instead
//! of a 64-bit distance map, the third pass evaluates only at the other
//! surface's surfels, and rows, columns and planes run in parallel with rayon.
//!
//! # References
//!
//! - Nikolov S, Blackwell S, Zverovitch A, et al. Clinically applicable
//!   segmentation of head and neck anatomy for radiotherapy: deep learning
//!   algorithm development and validation study. J Med Internet Res 2021;
//!   23(7):e26151. (Surface Dice at tolerance.)
//! - DeepMind `surface-distance` (github.com/google-deepmind/surface-distance;
//!   PyPI `surface-distance` 0.1): `compute_surface_distances`,
//!   `compute_average_surface_distance`, `compute_robust_hausdorff`,
//!   `compute_surface_overlap_at_tolerance`, `compute_surface_dice_at_tolerance`.
//! - Vaassen F, Hazelaar C, Vaniqui A, et al. Evaluation of measures for
//!   assessing time-saving of automatic organ-at-risk segmentation in
//!   radiotherapy. Phys Imaging Radiat Oncol 2020;13:1–6. (Added path length.)
//! - Taha AA, Hanbury A. Metrics for evaluating 3D medical image segmentation:
//!   analysis, selection, and tool. BMC Med Imaging 2015;15:29. (The spread of
//!   definitions.)
//! - Felzenszwalb PF, Huttenlocher DP. Distance transforms of sampled
//!   functions. Theory of Computing 2012;8:415–428. (The exact distance
//!   transform.)
//! - Lorensen WE, Cline HE. Marching cubes: a high resolution 3D surface
//!   construction algorithm. SIGGRAPH 1987. (The surfel areas.)

mod agreement;
pub mod cohort;
mod distance;
mod error;
mod grid;
pub mod path_length;
mod surface;
pub mod surfel;

pub use agreement::{
    Agreement, CentroidShift, Directed, StructureSummary, SurfaceAgreement, SurfaceMetrics, compare,
};
pub use error::ContourError;
pub use grid::{Mask, Spacing};
pub use path_length::{AddedPathLength, SliceAddedPathLength};
pub use surface::{DirectedSurfaceDistances, SurfaceDistances};
