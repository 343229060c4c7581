//! The one error type of the structure readers.

use std::path::PathBuf;

/// Why structures could not be read, rasterised or matched.
///
/// Every variant except [`StructuresError::Io`] is a property of the input,
/// so callers can show the message to the person who supplied the files.
#[derive(Debug, thiserror::Error)]
pub enum StructuresError {
    /// A file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The bytes are not a DICOM file that the reader can parse (truncated,
    /// corrupt, or not DICOM at all).
    #[error("{what} is not a readable DICOM file: {reason}")]
    NotDicom {
        /// The file name, or a description of in-memory bytes.
        what: String,
        /// The parser's message.
        reason: String,
    },
    /// The DICOM file is of another kind than the reader expects.
    #[error("{what} is a {found} object, not {expected}")]
    WrongKind {
        /// The file name, or a description of in-memory bytes.
        what: String,
        /// What was found (the Modality or SOP Class UID).
        found: String,
        /// What the reader reads.
        expected: &'static str,
    },
    /// A required attribute is absent.
    #[error("{what}: the required attribute {attribute} is missing")]
    MissingAttribute {
        /// Where the attribute was looked for.
        what: String,
        /// The attribute's keyword.
        attribute: &'static str,
    },
    /// An attribute is present but its value cannot be used.
    #[error("{what}: {attribute} {reason}")]
    InvalidAttribute {
        /// Where the attribute was found.
        what: String,
        /// The attribute's keyword.
        attribute: &'static str,
        /// What is wrong with the value.
        reason: String,
    },
    /// A directory holds no DICOM image.
    #[error("{path} holds no DICOM image with a position and orientation")]
    NoSeries {
        /// The directory.
        path: PathBuf,
    },
    /// A directory holds images of more than one series.
    #[error("{path} holds images of {count} series ({uids}); put one series in a directory")]
    SeveralSeries {
        /// The directory.
        path: PathBuf,
        /// How many series were found.
        count: usize,
        /// The Series Instance UIDs, comma-separated.
        uids: String,
    },
    /// The slices of a series disagree on a property that must be shared.
    #[error("the slices disagree on {attribute}: {first} and {other}")]
    InconsistentSlices {
        /// The attribute's keyword.
        attribute: &'static str,
        /// The value of the first slice.
        first: String,
        /// A different value of another slice.
        other: String,
    },
    /// The image orientation is not two orthogonal unit vectors.
    #[error(
        "ImageOrientationPatient {values:?} is not two orthogonal unit vectors (|row| = {row_length}, |column| = {column_length}, row·column = {dot})"
    )]
    InvalidOrientation {
        /// The six direction cosines.
        values: [f64; 6],
        /// The length of the row direction.
        row_length: f64,
        /// The length of the column direction.
        column_length: f64,
        /// Their dot product.
        dot: f64,
    },
    /// Two slices share a position along the slice normal.
    #[error("two slices lie at the same position {position_mm} mm along the slice normal")]
    DuplicateSlice {
        /// The position along the normal in mm.
        position_mm: f64,
    },
    /// The slices are not evenly spaced within 1 %.
    #[error(
        "the slices are unevenly spaced: the gap between slice {index} and {next} is {gap_mm} mm but the mean spacing is {mean_mm} mm (allowed: within 1 %); a mask has one slice spacing"
    )]
    UnevenSlices {
        /// The index (in sorted order) of the slice before the gap.
        index: usize,
        /// The index of the slice after the gap.
        next: usize,
        /// The gap in mm.
        gap_mm: f64,
        /// The mean spacing in mm.
        mean_mm: f64,
    },
    /// The slices do not lie on one line along the normal.
    #[error(
        "slice {index} is shifted in-plane by {offset_mm} mm from the first slice; the slices must be stacked along the normal of their orientation"
    )]
    SlicesNotStacked {
        /// The index (in sorted order) of the shifted slice.
        index: usize,
        /// The in-plane distance in mm.
        offset_mm: f64,
    },
    /// The grid is larger than the readers allocate.
    #[error("{what} needs {voxels} voxels ({detail}); at most {max} are allowed")]
    TooLarge {
        /// What would have been allocated.
        what: &'static str,
        /// The number of voxels (saturated at `u64::MAX`).
        voxels: u64,
        /// How the number came about.
        detail: String,
        /// The cap.
        max: u64,
    },
    /// A contour's point count disagrees with its data.
    #[error(
        "ROI {roi_number} '{roi_name}', contour {contour}: NumberOfContourPoints is {declared} but ContourData holds {values} values ({expected} expected)"
    )]
    ContourPointCount {
        /// The ROI number.
        roi_number: i64,
        /// The ROI name.
        roi_name: String,
        /// The contour's index within the ROI's ContourSequence.
        contour: usize,
        /// The declared number of points.
        declared: i64,
        /// The number of values found.
        values: usize,
        /// Three times the declared number of points.
        expected: u64,
    },
    /// A contour point is not a finite number.
    #[error(
        "ROI {roi_number} '{roi_name}', contour {contour}: ContourData holds a value that is not a finite number"
    )]
    NonFiniteContour {
        /// The ROI number.
        roi_number: i64,
        /// The ROI name.
        roi_name: String,
        /// The contour's index.
        contour: usize,
    },
    /// A closed planar contour does not lie on any slice of the image grid.
    #[error(
        "ROI {roi_number} '{roi_name}', contour {contour}: the contour lies at {position_mm} mm along the slice normal, which is not within half a slice spacing of any slice (the slices run from {first_mm} to {last_mm} mm)"
    )]
    ContourOffSlice {
        /// The ROI number.
        roi_number: i64,
        /// The ROI name.
        roi_name: String,
        /// The contour's index.
        contour: usize,
        /// The position of the contour along the slice normal in mm.
        position_mm: f64,
        /// The position of the first slice.
        first_mm: f64,
        /// The position of the last slice.
        last_mm: f64,
    },
    /// A closed planar contour is not parallel to the image planes.
    #[error(
        "ROI {roi_number} '{roi_name}', contour {contour}: its points span {spread_mm} mm along the slice normal; a planar contour must lie within half a slice spacing of one image plane"
    )]
    ContourNotInPlane {
        /// The ROI number.
        roi_number: i64,
        /// The ROI name.
        roi_name: String,
        /// The contour's index.
        contour: usize,
        /// The spread of the points along the normal in mm.
        spread_mm: f64,
    },
    /// An ROI contour refers to an ROI number that the structure set does not define.
    #[error(
        "ROIContourSequence refers to ROI number {roi_number}, which StructureSetROISequence does not define"
    )]
    UnknownRoi {
        /// The referenced ROI number.
        roi_number: i64,
    },
    /// Two ROIs share a number.
    #[error("ROI number {roi_number} is defined twice in StructureSetROISequence")]
    DuplicateRoi {
        /// The ROI number.
        roi_number: i64,
    },
    /// The segmentation cannot be read by this crate.
    #[error("{what}: {reason}")]
    UnsupportedSegmentation {
        /// The file.
        what: String,
        /// What is not supported.
        reason: String,
    },
    /// The NIfTI file is malformed or of an unsupported kind.
    #[error("{what}: {reason}")]
    InvalidNifti {
        /// The file.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// A NIfTI label is not a whole number.
    #[error(
        "{what}: voxel {index} holds the label {value}, which is not a whole number; a label map needs integer labels"
    )]
    NonIntegerLabel {
        /// The file.
        what: String,
        /// The flat voxel index in NIfTI order (i fastest).
        index: usize,
        /// The value found.
        value: f64,
    },
    /// The user's name-mapping file is invalid.
    #[error("the name mapping {what} is invalid: {reason}")]
    InvalidNameMap {
        /// The file name or a description.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// A mask could not be built.
    #[error("{what}: {source}")]
    Mask {
        /// The structure.
        what: String,
        /// The reason.
        source: Box<vigil_contours::ContourError>,
    },
}
