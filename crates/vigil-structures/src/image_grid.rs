//! The geometry of an image series: where every voxel centre lies in the
//! patient coordinate system, and how it maps to a [`Mask`] index.
//!
//! [`Mask`]: vigil_contours::Mask

use std::collections::BTreeMap;
use std::path::Path;

use dicom_dictionary_std::tags;
use vigil_contours::{Mask, Spacing};

use crate::dicom::{self, Object};
use crate::{MAX_VOXELS, StructuresError};

/// How far from 1 the length of a direction cosine vector, and how far from
/// 0 the dot product of the two, may be.
const ORIENTATION_TOLERANCE: f64 = 1e-3;

/// The largest relative deviation of one slice gap from the mean gap.
const EVEN_SPACING_TOLERANCE: f64 = 0.01;

/// The geometry of a CT or MR series as a voxel grid.
///
/// Voxel `(k, j, i)` of a mask on this grid (mask axes `[z, y, x]`) is the
/// pixel in row `j` and column `i` of the `k`-th slice in order of increasing
/// position along the slice normal. Its centre is at
///
/// `origin + i·Δc·r + j·Δr·c + (s_k − s_0)·n`
///
/// where `r` and `c` are the row and column direction cosines
/// (ImageOrientationPatient), `Δr` and `Δc` the row and column spacing
/// (PixelSpacing), `n = r × c` the slice normal, `s_k` the position of slice
/// `k` along `n`, and `origin` the ImagePositionPatient of slice 0. Any
/// orientation (axial, sagittal, coronal or oblique) is accepted: contours
/// are rasterised in this index space.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageGrid {
    origin_mm: [f64; 3],
    row_direction: [f64; 3],
    column_direction: [f64; 3],
    normal: [f64; 3],
    row_spacing_mm: f64,
    column_spacing_mm: f64,
    rows: usize,
    columns: usize,
    slice_positions_mm: Vec<f64>,
    slice_spacing_mm: f64,
    series_instance_uid: Option<String>,
    frame_of_reference_uid: Option<String>,
}

/// The geometry of one slice as its header states it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SliceGeometry {
    /// ImageOrientationPatient: the row direction cosines, then the column
    /// direction cosines.
    pub orientation: [f64; 6],
    /// PixelSpacing: the spacing between rows, then between columns, in mm.
    pub pixel_spacing_mm: [f64; 2],
    /// Rows.
    pub rows: u64,
    /// Columns.
    pub columns: u64,
}

impl ImageGrid {
    /// A grid from the shared geometry of its slices and the
    /// ImagePositionPatient of each slice, in any order.
    ///
    /// The orientation must be two orthogonal unit vectors (within 1e-3),
    /// the pixel spacing finite and positive, the slices stacked along the
    /// normal (in-plane offsets below 1 % of a pixel), distinct, and evenly
    /// spaced within 1 %. A single slice takes its spacing from
    /// `single_slice_thickness_mm` (SliceThickness). The number of voxels is
    /// at most [`MAX_VOXELS`].
    pub fn new(
        geometry: SliceGeometry,
        positions_mm: &[[f64; 3]],
        single_slice_thickness_mm: Option<f64>,
    ) -> Result<Self, StructuresError> {
        let SliceGeometry {
            orientation,
            pixel_spacing_mm,
            rows,
            columns,
        } = geometry;
        let (row_direction, column_direction) = checked_orientation(orientation)?;
        let normal = cross(row_direction, column_direction);
        let normal = scale(normal, 1.0 / dot(normal, normal).sqrt());
        for (attribute, value) in [
            ("PixelSpacing (row spacing)", pixel_spacing_mm[0]),
            ("PixelSpacing (column spacing)", pixel_spacing_mm[1]),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(dicom::invalid(
                    "the image grid",
                    attribute,
                    format!("is {value} mm; it must be a finite number greater than 0"),
                ));
            }
        }
        if positions_mm.is_empty() {
            return Err(dicom::invalid(
                "the image grid",
                "ImagePositionPatient",
                "is given for no slice".to_owned(),
            ));
        }
        let slices = positions_mm.len() as u64;
        let voxels = slices
            .checked_mul(rows)
            .and_then(|n| n.checked_mul(columns));
        let detail = format!("{slices} slices of {rows} rows × {columns} columns");
        match voxels {
            Some(n) if n <= MAX_VOXELS => {}
            _ => {
                return Err(StructuresError::TooLarge {
                    what: "the image grid",
                    voxels: voxels.unwrap_or(u64::MAX),
                    detail,
                    max: MAX_VOXELS,
                });
            }
        }
        for (attribute, value) in [("Rows", rows), ("Columns", columns), ("slices", slices)] {
            if value == 0 || value > Mask::MAX_DIMENSION as u64 {
                return Err(dicom::invalid(
                    "the image grid",
                    attribute,
                    format!(
                        "is {value}; it must be between 1 and {}",
                        Mask::MAX_DIMENSION
                    ),
                ));
            }
        }
        if positions_mm.iter().flatten().any(|v| !v.is_finite()) {
            return Err(dicom::invalid(
                "the image grid",
                "ImagePositionPatient",
                "holds a value that is not finite".to_owned(),
            ));
        }
        let mut sorted: Vec<([f64; 3], f64)> =
            positions_mm.iter().map(|&p| (p, dot(p, normal))).collect();
        sorted.sort_by(|a, b| a.1.total_cmp(&b.1));
        let origin_mm = sorted[0].0;
        let in_plane_tolerance = 0.01 * pixel_spacing_mm[0].min(pixel_spacing_mm[1]);
        for (index, (position, _)) in sorted.iter().enumerate().skip(1) {
            let offset = sub(*position, origin_mm);
            let along_row = dot(offset, row_direction);
            let along_column = dot(offset, column_direction);
            let offset_mm = along_row.hypot(along_column);
            if offset_mm.is_nan() || offset_mm > in_plane_tolerance {
                return Err(StructuresError::SlicesNotStacked { index, offset_mm });
            }
        }
        let slice_positions_mm: Vec<f64> = sorted.iter().map(|(_, s)| *s).collect();
        for pair in slice_positions_mm.windows(2) {
            if pair[1] - pair[0] < 1e-3 {
                return Err(StructuresError::DuplicateSlice {
                    position_mm: pair[1],
                });
            }
        }
        let slice_spacing_mm = if slice_positions_mm.len() == 1 {
            match single_slice_thickness_mm {
                Some(value) if value.is_finite() && value > 0.0 => value,
                _ => {
                    return Err(dicom::invalid(
                        "the image grid",
                        "SliceThickness",
                        "must be a finite number greater than 0 for a single-slice series"
                            .to_owned(),
                    ));
                }
            }
        } else {
            let count = slice_positions_mm.len();
            let mean_mm =
                (slice_positions_mm[count - 1] - slice_positions_mm[0]) / (count - 1) as f64;
            for (index, pair) in slice_positions_mm.windows(2).enumerate() {
                let gap_mm = pair[1] - pair[0];
                if (gap_mm - mean_mm).abs() > EVEN_SPACING_TOLERANCE * mean_mm {
                    return Err(StructuresError::UnevenSlices {
                        index,
                        next: index + 1,
                        gap_mm,
                        mean_mm,
                    });
                }
            }
            mean_mm
        };
        // Positions near the limits of a double make the spacing overflow
        // to infinity (and the checks above compare NaN, which passes).
        let finite_positions = slice_positions_mm
            .iter()
            .all(|position| position.is_finite());
        if !slice_spacing_mm.is_finite() || slice_spacing_mm <= 0.0 || !finite_positions {
            return Err(dicom::invalid(
                "the image grid",
                "ImagePositionPatient",
                format!(
                    "gives a slice spacing of {slice_spacing_mm} mm, not a finite positive number"
                ),
            ));
        }
        Ok(Self {
            origin_mm,
            row_direction,
            column_direction,
            normal,
            row_spacing_mm: pixel_spacing_mm[0],
            column_spacing_mm: pixel_spacing_mm[1],
            rows: rows as usize,
            columns: columns as usize,
            slice_positions_mm,
            slice_spacing_mm,
            series_instance_uid: None,
            frame_of_reference_uid: None,
        })
    }

    /// The same grid labelled with its series and frame of reference.
    pub fn with_uids(
        mut self,
        series_instance_uid: Option<String>,
        frame_of_reference_uid: Option<String>,
    ) -> Self {
        self.series_instance_uid = series_instance_uid;
        self.frame_of_reference_uid = frame_of_reference_uid;
        self
    }

    /// The grid of the one image series in a directory.
    ///
    /// Every regular file directly in `path` is looked at. Files that are not
    /// DICOM (no `DICM` marker at byte 128) are ignored, and so are DICOM
    /// objects without ImagePositionPatient (structure sets, plans,
    /// segmentations); a file with the marker that cannot be parsed is an
    /// error rather than a silently missing slice. Only headers are parsed: reading stops before the
    /// pixel data. The images must belong to one SeriesInstanceUID (else
    /// [`StructuresError::SeveralSeries`]) and agree on orientation, pixel
    /// spacing, rows, columns and frame of reference.
    pub fn from_series_dir(path: impl AsRef<Path>) -> Result<Self, StructuresError> {
        let path = path.as_ref();
        let io_error = |source| StructuresError::Io {
            path: path.to_owned(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path).map_err(io_error)? {
            let entry = entry.map_err(io_error)?;
            if entry.file_type().map_err(io_error)?.is_file() {
                files.push(entry.path());
            }
        }
        files.sort();
        let mut series: BTreeMap<String, Vec<SliceHeader>> = BTreeMap::new();
        for file in &files {
            let Some(header) = read_slice_header(file)? else {
                continue;
            };
            series
                .entry(header.series_instance_uid.clone())
                .or_default()
                .push(header);
        }
        if series.len() > 1 {
            return Err(StructuresError::SeveralSeries {
                path: path.to_owned(),
                count: series.len(),
                uids: series.keys().cloned().collect::<Vec<_>>().join(", "),
            });
        }
        let Some((series_instance_uid, slices)) = series.into_iter().next() else {
            return Err(StructuresError::NoSeries {
                path: path.to_owned(),
            });
        };
        let first = &slices[0];
        for slice in &slices[1..] {
            let orientation_differs = first
                .geometry
                .orientation
                .iter()
                .zip(slice.geometry.orientation)
                .any(|(a, b)| (a - b).abs() > 1e-4);
            let spacing_differs = first
                .geometry
                .pixel_spacing_mm
                .iter()
                .zip(slice.geometry.pixel_spacing_mm)
                .any(|(a, b)| (a - b).abs() > 1e-6 * a.abs().max(1.0));
            let differences = [
                (
                    "ImageOrientationPatient",
                    orientation_differs,
                    format!("{:?}", first.geometry.orientation),
                    format!("{:?}", slice.geometry.orientation),
                ),
                (
                    "PixelSpacing",
                    spacing_differs,
                    format!("{:?}", first.geometry.pixel_spacing_mm),
                    format!("{:?}", slice.geometry.pixel_spacing_mm),
                ),
                (
                    "Rows",
                    first.geometry.rows != slice.geometry.rows,
                    first.geometry.rows.to_string(),
                    slice.geometry.rows.to_string(),
                ),
                (
                    "Columns",
                    first.geometry.columns != slice.geometry.columns,
                    first.geometry.columns.to_string(),
                    slice.geometry.columns.to_string(),
                ),
                (
                    "FrameOfReferenceUID",
                    first.frame_of_reference_uid != slice.frame_of_reference_uid,
                    format!("{:?}", first.frame_of_reference_uid),
                    format!("{:?}", slice.frame_of_reference_uid),
                ),
            ];
            if let Some((attribute, _, first, other)) =
                differences.into_iter().find(|(_, differs, _, _)| *differs)
            {
                return Err(StructuresError::InconsistentSlices {
                    attribute,
                    first,
                    other,
                });
            }
        }
        let positions: Vec<[f64; 3]> = slices.iter().map(|slice| slice.position_mm).collect();
        let grid = Self::new(first.geometry, &positions, first.slice_thickness_mm)?;
        let frame = first.frame_of_reference_uid.clone();
        Ok(grid.with_uids(Some(series_instance_uid), frame))
    }

    /// ImagePositionPatient of slice 0: the centre of voxel `(0, 0, 0)` in mm.
    pub fn origin_mm(&self) -> [f64; 3] {
        self.origin_mm
    }

    /// The unit vector along a row (direction of increasing column index).
    pub fn row_direction(&self) -> [f64; 3] {
        self.row_direction
    }

    /// The unit vector along a column (direction of increasing row index).
    pub fn column_direction(&self) -> [f64; 3] {
        self.column_direction
    }

    /// The slice normal, row direction × column direction.
    pub fn normal(&self) -> [f64; 3] {
        self.normal
    }

    /// PixelSpacing: the spacing between rows and between columns, in mm.
    pub fn pixel_spacing_mm(&self) -> [f64; 2] {
        [self.row_spacing_mm, self.column_spacing_mm]
    }

    /// The number of rows of a slice.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The number of columns of a slice.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// The number of slices.
    pub fn slices(&self) -> usize {
        self.slice_positions_mm.len()
    }

    /// The position of each slice along the normal (ImagePositionPatient ·
    /// normal), in mm, increasing.
    pub fn slice_positions_mm(&self) -> &[f64] {
        &self.slice_positions_mm
    }

    /// The mean distance between adjacent slices in mm.
    pub fn slice_spacing_mm(&self) -> f64 {
        self.slice_spacing_mm
    }

    /// The Series Instance UID of the images, when known.
    pub fn series_instance_uid(&self) -> Option<&str> {
        self.series_instance_uid.as_deref()
    }

    /// The Frame of Reference UID of the images, when known.
    pub fn frame_of_reference_uid(&self) -> Option<&str> {
        self.frame_of_reference_uid.as_deref()
    }

    /// The mask dimensions `[slices, rows, columns]`.
    pub fn dims(&self) -> [usize; 3] {
        [self.slices(), self.rows, self.columns]
    }

    /// The number of voxels of the grid.
    pub fn voxel_count(&self) -> usize {
        self.slices() * self.rows * self.columns
    }

    /// The mask spacing: slice spacing, row spacing, column spacing.
    pub fn spacing(&self) -> Spacing {
        Spacing::new(
            self.slice_spacing_mm,
            self.row_spacing_mm,
            self.column_spacing_mm,
        )
        .expect("the constructor checked that every spacing is finite and positive")
    }

    /// The centre of voxel `(k, j, i)` in patient coordinates (mm). `k` may
    /// be any slice index; positions between slices are not interpolated.
    pub fn voxel_centre_mm(&self, k: usize, j: usize, i: usize) -> [f64; 3] {
        let along_normal = self
            .slice_positions_mm
            .get(k)
            .map_or(f64::NAN, |s| s - self.slice_positions_mm[0]);
        std::array::from_fn(|axis| {
            self.origin_mm[axis]
                + i as f64 * self.column_spacing_mm * self.row_direction[axis]
                + j as f64 * self.row_spacing_mm * self.column_direction[axis]
                + along_normal * self.normal[axis]
        })
    }

    /// A patient point (mm) in the grid's continuous index space: column
    /// index `i`, row index `j` (voxel centres at whole numbers) and the
    /// position along the slice normal in mm (comparable with
    /// [`ImageGrid::slice_positions_mm`]).
    pub fn index_coordinates(&self, point_mm: [f64; 3]) -> [f64; 3] {
        let relative = sub(point_mm, self.origin_mm);
        [
            dot(relative, self.row_direction) / self.column_spacing_mm,
            dot(relative, self.column_direction) / self.row_spacing_mm,
            dot(point_mm, self.normal),
        ]
    }

    /// The slice nearest to a position along the normal, if it lies within
    /// half the slice spacing of it.
    pub fn slice_at(&self, position_mm: f64) -> Option<usize> {
        if !position_mm.is_finite() {
            return None;
        }
        let positions = &self.slice_positions_mm;
        let after = positions.partition_point(|&s| s < position_mm);
        let candidates = [after.checked_sub(1), Some(after)];
        let nearest = candidates
            .into_iter()
            .flatten()
            .filter(|&k| k < positions.len())
            .min_by(|&a, &b| {
                (positions[a] - position_mm)
                    .abs()
                    .total_cmp(&(positions[b] - position_mm).abs())
            })?;
        ((positions[nearest] - position_mm).abs() <= 0.5 * self.slice_spacing_mm).then_some(nearest)
    }
}

/// What one image file says about its slice.
#[derive(Debug)]
struct SliceHeader {
    series_instance_uid: String,
    frame_of_reference_uid: Option<String>,
    geometry: SliceGeometry,
    position_mm: [f64; 3],
    slice_thickness_mm: Option<f64>,
}

/// The header of one image file; `None` for files that are not DICOM or
/// not images with a position.
fn read_slice_header(path: &Path) -> Result<Option<SliceHeader>, StructuresError> {
    use std::io::Read;
    let io_error = |source| StructuresError::Io {
        path: path.to_owned(),
        source,
    };
    // Look at the first 132 bytes before reading a whole file, so that large
    // files that are not DICOM cost nothing.
    let mut start = Vec::with_capacity(132);
    std::fs::File::open(path)
        .and_then(|file| file.take(132).read_to_end(&mut start))
        .map_err(io_error)?;
    if !vigil_dicom::read::has_dicom_magic(&start) {
        return Ok(None);
    }
    let bytes = std::fs::read(path).map_err(io_error)?;
    let what = path.display().to_string();
    let object = dicom::parse_bytes(&bytes, &what, true)?;
    if object.get(tags::IMAGE_POSITION_PATIENT).is_none() {
        return Ok(None);
    }
    slice_header(&object, &what).map(Some)
}

fn slice_header(object: &Object, what: &str) -> Result<SliceHeader, StructuresError> {
    let series_instance_uid =
        dicom::required_text(object, tags::SERIES_INSTANCE_UID, "SeriesInstanceUID", what)?;
    let frame_of_reference_uid = dicom::text(
        object,
        tags::FRAME_OF_REFERENCE_UID,
        "FrameOfReferenceUID",
        what,
    )?;
    let geometry = SliceGeometry {
        orientation: dicom::fixed_numbers(
            object,
            tags::IMAGE_ORIENTATION_PATIENT,
            "ImageOrientationPatient",
            what,
        )?,
        pixel_spacing_mm: dicom::fixed_numbers(object, tags::PIXEL_SPACING, "PixelSpacing", what)?,
        rows: count(object, tags::ROWS, "Rows", what)?,
        columns: count(object, tags::COLUMNS, "Columns", what)?,
    };
    let position_mm = dicom::fixed_numbers(
        object,
        tags::IMAGE_POSITION_PATIENT,
        "ImagePositionPatient",
        what,
    )?;
    let slice_thickness_mm = dicom::numbers(object, tags::SLICE_THICKNESS, "SliceThickness", what)?
        .and_then(|values| values.first().copied());
    Ok(SliceHeader {
        series_instance_uid,
        frame_of_reference_uid,
        geometry,
        position_mm,
        slice_thickness_mm,
    })
}

/// A required count (Rows, Columns, NumberOfFrames): a whole number of at
/// least 1.
pub(crate) fn count(
    object: &Object,
    tag: dicom_core::Tag,
    attribute: &'static str,
    what: &str,
) -> Result<u64, StructuresError> {
    let value = dicom::required_integer(object, tag, attribute, what)?;
    u64::try_from(value)
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| {
            dicom::invalid(
                what,
                attribute,
                format!("is {value}; it must be at least 1"),
            )
        })
}

/// The row and column directions, checked and normalised.
fn checked_orientation(values: [f64; 6]) -> Result<([f64; 3], [f64; 3]), StructuresError> {
    let row = [values[0], values[1], values[2]];
    let column = [values[3], values[4], values[5]];
    let row_length = dot(row, row).sqrt();
    let column_length = dot(column, column).sqrt();
    let dot_product = dot(row, column);
    let valid = values.iter().all(|v| v.is_finite())
        && (row_length - 1.0).abs() <= ORIENTATION_TOLERANCE
        && (column_length - 1.0).abs() <= ORIENTATION_TOLERANCE
        && dot_product.abs() <= ORIENTATION_TOLERANCE;
    if !valid {
        return Err(StructuresError::InvalidOrientation {
            values,
            row_length,
            column_length,
            dot: dot_product,
        });
    }
    Ok((
        scale(row, 1.0 / row_length),
        scale(column, 1.0 / column_length),
    ))
}

pub(crate) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

pub(crate) fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

pub(crate) fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn scale(a: [f64; 3], factor: f64) -> [f64; 3] {
    [a[0] * factor, a[1] * factor, a[2] * factor]
}
