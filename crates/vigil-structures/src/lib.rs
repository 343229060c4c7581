//! Radiotherapy structures read from files into [`vigil_contours::Mask`]s.
//!
//! The contour agreement metrics of `vigil-contours` work on in-memory masks.
//! This crate gets those masks out of the files a hospital has:
//!
//! - **DICOM RT Structure Sets** ([`read_rtstruct`], [`RtStruct`]): planar
//!   contours in patient coordinates, rasterised onto the grid of the image
//!   series they were drawn on ([`ImageGrid::from_series_dir`]).
//! - **DICOM Segmentations** ([`read_seg`]): binary (or fractional,
//!   thresholded at one half) frames; the grid comes from the SEG itself,
//!   or from the image series it was made on ([`read_seg_on_grid`]).
//! - **NIfTI-1 label maps** ([`read_nifti_labels`]): `.nii` or `.nii.gz`,
//!   one structure per non-zero integer label.
//!
//! Module [`names`] pairs the structures of two sets through a TG-263
//! normalisation table and a user mapping.
//!
//! # Voxel convention
//!
//! A mask voxel `(z, y, x)` is the image pixel in slice `z` (slices in order
//! of increasing position along the slice normal, row × column direction),
//! row `y` and column `x`. A contour fills a voxel when the voxel's **centre**
//! lies inside an odd number of the ROI's polygons on that slice (the
//! even–odd rule, module [`raster`]); partial volumes are not estimated.
//! Contours are projected onto the image's own row, column and normal
//! directions, so oblique, sagittal and coronal series are rasterised in
//! their own index space exactly as axial ones.
//!
//! # Hostile input
//!
//! Every count read from a file (rows × columns × slices, points per
//! contour, frames, NIfTI dimensions) is checked before anything is
//! allocated, with checked arithmetic; no grid or structure set may exceed
//! [`MAX_VOXELS`] voxels. DICOM element lengths are checked against the size
//! of the file before the DICOM parser sees it. Malformed input gives a
//! [`StructuresError`] naming what is wrong, never a panic.

mod dicom;
mod error;
mod image_grid;
pub mod names;
mod nifti;
pub mod raster;
mod rtstruct;
mod seg;

use vigil_contours::Mask;

pub use error::StructuresError;
pub use image_grid::{ImageGrid, SliceGeometry};
pub use names::{Matching, NameMap, match_structures};
pub use nifti::{read_nifti_labels, read_nifti_labels_from_bytes};
pub use rtstruct::{
    Contour, Roi, RoiSummary, RtStruct, RtStructSummary, SkippedContour, read_rtstruct,
};
pub use seg::{read_seg, read_seg_from_bytes, read_seg_on_grid};

/// The largest number of voxels of one grid, and of all the masks of one
/// structure set together (one byte each): 2³¹.
pub const MAX_VOXELS: u64 = 1 << 31;

/// One named structure as a mask.
#[derive(Debug, Clone, PartialEq)]
pub struct Structure {
    /// The name in the file (ROIName, SegmentLabel, or `label-N` for a NIfTI label).
    pub name: String,
    /// The number in the file (ROINumber, SegmentNumber or the NIfTI label).
    pub number: i64,
    /// The voxels inside the structure.
    pub mask: Mask,
}

/// The structures read from one file, all on the same grid.
#[derive(Debug, Clone, PartialEq)]
pub struct StructureSet {
    /// The patient geometry of the grid; `None` for NIfTI label maps, whose
    /// geometry is not read (their masks still carry dimensions and spacing).
    pub grid: Option<ImageGrid>,
    /// The structures, in file order.
    pub structures: Vec<Structure>,
    /// What was read but left out, one sentence each (contours that enclose
    /// no area, ROIs without closed contours, empty segments).
    pub warnings: Vec<String>,
}

impl StructureSet {
    /// The structure with this exact name, if any.
    pub fn get(&self, name: &str) -> Option<&Structure> {
        self.structures
            .iter()
            .find(|structure| structure.name == name)
    }

    /// The names of the structures, in order.
    pub fn names(&self) -> Vec<&str> {
        self.structures
            .iter()
            .map(|structure| structure.name.as_str())
            .collect()
    }
}
