//! DICOM Segmentation (SEG) objects as masks.
//!
//! Segments come from SegmentSequence (SegmentNumber, SegmentLabel). Each
//! frame belongs to the segment of its SegmentIdentificationSequence
//! (per-frame, or shared) and lies at the ImagePositionPatient of its
//! PlanePositionSequence; the orientation (PlaneOrientationSequence) and
//! pixel spacing (PixelMeasuresSequence) are shared or per-frame. The grid is
//! built from the frames: their distinct positions along the slice normal,
//! extended to a regular grid with SpacingBetweenSlices when frames are
//! missing (a SEG may leave out empty frames).
//!
//! BINARY segmentations store one bit per pixel: pixel `p` of the whole
//! pixel data (frames one after the other, each row-major, with no padding
//! between frames) is bit `p % 8` of byte `p / 8`, the least significant bit
//! first, as PS3.5 §8.1.1 specifies. FRACTIONAL segmentations (8 bits per
//! pixel) are thresholded: a pixel is inside when its value is at least half
//! of MaximumFractionalValue. Encapsulated (compressed) pixel data is not
//! supported.

use std::collections::HashMap;
use std::path::Path;

use dicom_dictionary_std::{tags, uids};
use vigil_contours::Mask;

use crate::dicom::{self, Object};
use crate::image_grid::{ImageGrid, SliceGeometry, count, dot, sub};
use crate::rtstruct::check_total_voxels;
use crate::{MAX_VOXELS, Structure, StructureSet, StructuresError};

/// Reads a DICOM SEG file into one structure per segment, on the grid the
/// SEG's frames define.
pub fn read_seg(path: impl AsRef<Path>) -> Result<StructureSet, StructuresError> {
    let path = path.as_ref();
    let object = dicom::read_file(path, false)?;
    from_object(&object, &path.display().to_string(), None)
}

/// Reads a DICOM SEG file onto the grid of another series (usually the CT
/// the segmentation was made on), so that it can be compared with an
/// RTSTRUCT rasterised on that grid. The SEG's rows, columns, orientation
/// and pixel spacing must be the grid's, and every frame must lie on one of
/// its slices (within half a slice spacing, with no in-plane shift); slices
/// without a frame stay empty.
pub fn read_seg_on_grid(
    path: impl AsRef<Path>,
    grid: &ImageGrid,
) -> Result<StructureSet, StructuresError> {
    let path = path.as_ref();
    let object = dicom::read_file(path, false)?;
    from_object(&object, &path.display().to_string(), Some(grid))
}

/// [`read_seg`] on bytes held in memory (a DICOM Part 10 file).
pub fn read_seg_from_bytes(bytes: &[u8]) -> Result<StructureSet, StructuresError> {
    let what = "the SEG bytes";
    let object = dicom::parse_bytes(bytes, what, false)?;
    from_object(&object, what, None)
}

/// What one frame says about itself.
#[derive(Debug)]
struct Frame {
    segment: i64,
    position_mm: [f64; 3],
}

fn unsupported(what: &str, reason: String) -> StructuresError {
    StructuresError::UnsupportedSegmentation {
        what: what.to_owned(),
        reason,
    }
}

fn from_object(
    object: &Object,
    what: &str,
    target: Option<&ImageGrid>,
) -> Result<StructureSet, StructuresError> {
    let sop_class = dicom::text(object, tags::SOP_CLASS_UID, "SOPClassUID", what)?;
    let modality = dicom::text(object, tags::MODALITY, "Modality", what)?;
    if sop_class.as_deref() != Some(uids::SEGMENTATION_STORAGE)
        && modality.as_deref() != Some("SEG")
    {
        return Err(StructuresError::WrongKind {
            what: what.to_owned(),
            found: modality
                .or(sop_class)
                .unwrap_or_else(|| "unknown".to_owned()),
            expected: "a DICOM Segmentation (SEG)",
        });
    }
    let segmentation_type =
        dicom::required_text(object, tags::SEGMENTATION_TYPE, "SegmentationType", what)?;
    let bits = dicom::required_integer(object, tags::BITS_ALLOCATED, "BitsAllocated", what)?;
    let threshold = match (segmentation_type.as_str(), bits) {
        ("BINARY", 1) => None,
        ("FRACTIONAL", 8) => {
            let maximum = dicom::required_integer(
                object,
                tags::MAXIMUM_FRACTIONAL_VALUE,
                "MaximumFractionalValue",
                what,
            )?;
            if !(1..=255).contains(&maximum) {
                return Err(dicom::invalid(
                    what,
                    "MaximumFractionalValue",
                    format!("is {maximum}; it must be between 1 and 255"),
                ));
            }
            Some(maximum as u16)
        }
        (kind, bits) => {
            return Err(unsupported(
                what,
                format!(
                    "SegmentationType {kind} with BitsAllocated {bits} is not supported (BINARY with 1 bit or FRACTIONAL with 8 bits)"
                ),
            ));
        }
    };
    let rows = count(object, tags::ROWS, "Rows", what)?;
    let columns = count(object, tags::COLUMNS, "Columns", what)?;
    let frame_count = count(object, tags::NUMBER_OF_FRAMES, "NumberOfFrames", what)?;
    let pixels_per_frame = rows.checked_mul(columns);
    let total_pixels = pixels_per_frame.and_then(|n| n.checked_mul(frame_count));
    match total_pixels {
        Some(n) if n <= MAX_VOXELS => {}
        _ => {
            return Err(StructuresError::TooLarge {
                what: "the SEG pixel data",
                voxels: total_pixels.unwrap_or(u64::MAX),
                detail: format!("{frame_count} frames of {rows} × {columns}"),
                max: MAX_VOXELS,
            });
        }
    }
    let pixels_per_frame = (rows * columns) as usize;

    let mut segments = Vec::new();
    for (index, item) in dicom::items(object, tags::SEGMENT_SEQUENCE)
        .iter()
        .enumerate()
    {
        let place = format!("{what}, SegmentSequence item {index}");
        let number = dicom::required_integer(item, tags::SEGMENT_NUMBER, "SegmentNumber", &place)?;
        let label = dicom::text(item, tags::SEGMENT_LABEL, "SegmentLabel", &place)?
            .unwrap_or_else(|| format!("segment-{number}"));
        if segments.iter().any(|(n, _)| *n == number) {
            return Err(dicom::invalid(
                &place,
                "SegmentNumber",
                format!("{number} is used by two segments"),
            ));
        }
        segments.push((number, label));
    }
    if segments.is_empty() {
        return Err(dicom::missing(what, "SegmentSequence"));
    }

    let shared = dicom::first_item(object, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE);
    let per_frame = dicom::items(object, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE);
    if per_frame.len() as u64 != frame_count {
        return Err(dicom::invalid(
            what,
            "PerFrameFunctionalGroupsSequence",
            format!(
                "has {} items but NumberOfFrames is {frame_count}",
                per_frame.len()
            ),
        ));
    }
    // A functional group is looked up in the frame's item first, then in the shared item.
    let group = |frame, tag| functional_group(frame, shared, tag);
    let first_frame = &per_frame[0];
    let orientation_item = group(first_frame, tags::PLANE_ORIENTATION_SEQUENCE)
        .ok_or_else(|| dicom::missing(what, "PlaneOrientationSequence"))?;
    let orientation: [f64; 6] = dicom::fixed_numbers(
        orientation_item,
        tags::IMAGE_ORIENTATION_PATIENT,
        "ImageOrientationPatient",
        what,
    )?;
    let measures = group(first_frame, tags::PIXEL_MEASURES_SEQUENCE)
        .ok_or_else(|| dicom::missing(what, "PixelMeasuresSequence"))?;
    let pixel_spacing_mm: [f64; 2] =
        dicom::fixed_numbers(measures, tags::PIXEL_SPACING, "PixelSpacing", what)?;
    let first_number = |tag, attribute| -> Result<Option<f64>, StructuresError> {
        Ok(dicom::numbers(measures, tag, attribute, what)?.and_then(|v| v.first().copied()))
    };
    let between = first_number(tags::SPACING_BETWEEN_SLICES, "SpacingBetweenSlices")?;
    let thickness = first_number(tags::SLICE_THICKNESS, "SliceThickness")?;

    let mut frames = Vec::with_capacity(per_frame.len());
    for (index, frame) in per_frame.iter().enumerate() {
        let place = format!("{what}, frame {}", index + 1);
        let identification = group(frame, tags::SEGMENT_IDENTIFICATION_SEQUENCE)
            .ok_or_else(|| dicom::missing(&place, "SegmentIdentificationSequence"))?;
        let segment = dicom::required_integer(
            identification,
            tags::REFERENCED_SEGMENT_NUMBER,
            "ReferencedSegmentNumber",
            &place,
        )?;
        if !segments.iter().any(|(n, _)| *n == segment) {
            return Err(dicom::invalid(
                &place,
                "ReferencedSegmentNumber",
                format!("is {segment}, which SegmentSequence does not define"),
            ));
        }
        if let Some(item) = dicom::first_item(frame, tags::PLANE_ORIENTATION_SEQUENCE) {
            let own: [f64; 6] = dicom::fixed_numbers(
                item,
                tags::IMAGE_ORIENTATION_PATIENT,
                "ImageOrientationPatient",
                &place,
            )?;
            if own
                .iter()
                .zip(orientation)
                .any(|(a, b)| (a - b).abs() > 1e-4)
            {
                return Err(StructuresError::InconsistentSlices {
                    attribute: "ImageOrientationPatient",
                    first: format!("{orientation:?}"),
                    other: format!("{own:?}"),
                });
            }
        }
        let position_item = group(frame, tags::PLANE_POSITION_SEQUENCE)
            .ok_or_else(|| dicom::missing(&place, "PlanePositionSequence"))?;
        let position_mm = dicom::fixed_numbers(
            position_item,
            tags::IMAGE_POSITION_PATIENT,
            "ImagePositionPatient",
            &place,
        )?;
        frames.push(Frame {
            segment,
            position_mm,
        });
    }

    let geometry = SliceGeometry {
        orientation,
        pixel_spacing_mm,
        rows,
        columns,
    };
    let grid = match target {
        Some(grid) => {
            check_same_geometry(what, geometry, grid, &frames)?;
            grid.clone()
        }
        None => seg_grid(geometry, &frames, between, thickness)?,
    };
    check_total_voxels(segments.len(), &grid)?;

    let pixel_element = object
        .get(tags::PIXEL_DATA)
        .ok_or_else(|| dicom::missing(what, "PixelData"))?;
    if pixel_element.fragments().is_some() {
        return Err(unsupported(
            what,
            "the pixel data is encapsulated (compressed); only native (uncompressed) SEG pixel data is supported".to_owned(),
        ));
    }
    let pixel_data = pixel_element
        .to_bytes()
        .map_err(|error| dicom::invalid(what, "PixelData", format!("cannot be read: {error}")))?;
    let total_pixels = pixels_per_frame * frames.len();
    let needed = match threshold {
        None => total_pixels.div_ceil(8),
        Some(_) => total_pixels,
    };
    if pixel_data.len() < needed {
        return Err(dicom::invalid(
            what,
            "PixelData",
            format!(
                "holds {} bytes but {} frames of {rows} × {columns} need {needed}",
                pixel_data.len(),
                frames.len()
            ),
        ));
    }
    let inside = |pixel: usize| -> bool {
        match threshold {
            None => pixel_data[pixel / 8] >> (pixel % 8) & 1 == 1,
            Some(maximum) => 2 * u16::from(pixel_data[pixel]) >= maximum,
        }
    };

    let plane = pixels_per_frame;
    let index_of: HashMap<i64, usize> = segments
        .iter()
        .enumerate()
        .map(|(index, (number, _))| (*number, index))
        .collect();
    let mut voxels: Vec<Vec<bool>> = segments
        .iter()
        .map(|_| vec![false; grid.voxel_count()])
        .collect();
    for (frame_index, frame) in frames.iter().enumerate() {
        let along = dot(frame.position_mm, grid.normal());
        let slice = grid.slice_at(along).ok_or_else(|| {
            dicom::invalid(
                &format!("{what}, frame {}", frame_index + 1),
                "ImagePositionPatient",
                format!("lies at {along} mm along the normal, on no slice of the grid"),
            )
        })?;
        let target = &mut voxels[index_of[&frame.segment]][slice * plane..(slice + 1) * plane];
        let first = frame_index * plane;
        for (offset, voxel) in target.iter_mut().enumerate() {
            *voxel |= inside(first + offset);
        }
    }
    let mut structures = Vec::new();
    let mut warnings = Vec::new();
    for ((number, label), voxels) in segments.into_iter().zip(voxels) {
        let mask = Mask::new(grid.dims(), grid.spacing(), voxels).map_err(|source| {
            StructuresError::Mask {
                what: format!("segment {number} '{label}'"),
                source: Box::new(source),
            }
        })?;
        if mask.is_empty() {
            warnings.push(format!("segment {number} '{label}' is empty"));
        }
        structures.push(Structure {
            name: label,
            number,
            mask,
        });
    }
    Ok(StructureSet {
        grid: Some(grid),
        structures,
        warnings,
    })
}

/// The SEG's frames fit `grid`: same rows, columns, orientation and pixel
/// spacing, and no frame shifted in-plane from the grid's origin.
fn check_same_geometry(
    what: &str,
    geometry: SliceGeometry,
    grid: &ImageGrid,
    frames: &[Frame],
) -> Result<(), StructuresError> {
    let mismatch = |attribute: &'static str, seg: String, grid: String| {
        dicom::invalid(
            what,
            attribute,
            format!("is {seg} in the SEG but {grid} in the image grid"),
        )
    };
    if geometry.rows != grid.rows() as u64 {
        return Err(mismatch(
            "Rows",
            geometry.rows.to_string(),
            grid.rows().to_string(),
        ));
    }
    if geometry.columns != grid.columns() as u64 {
        return Err(mismatch(
            "Columns",
            geometry.columns.to_string(),
            grid.columns().to_string(),
        ));
    }
    let [row, column] = [grid.row_direction(), grid.column_direction()];
    let orientation = [row[0], row[1], row[2], column[0], column[1], column[2]];
    if geometry
        .orientation
        .iter()
        .zip(orientation)
        .any(|(a, b)| (a - b).abs() > 1e-4)
    {
        return Err(mismatch(
            "ImageOrientationPatient",
            format!("{:?}", geometry.orientation),
            format!("{orientation:?}"),
        ));
    }
    let spacing = grid.pixel_spacing_mm();
    if geometry
        .pixel_spacing_mm
        .iter()
        .zip(spacing)
        .any(|(a, b)| (a - b).abs() > 1e-6 * b.max(1.0))
    {
        return Err(mismatch(
            "PixelSpacing",
            format!("{:?}", geometry.pixel_spacing_mm),
            format!("{spacing:?}"),
        ));
    }
    let tolerance = 0.01 * spacing[0].min(spacing[1]);
    for (index, frame) in frames.iter().enumerate() {
        let offset = sub(frame.position_mm, grid.origin_mm());
        let shift = dot(offset, row).hypot(dot(offset, column));
        if shift > tolerance {
            return Err(StructuresError::SlicesNotStacked {
                index,
                offset_mm: shift,
            });
        }
    }
    Ok(())
}

/// A functional group item from the frame's item, else from the shared item.
fn functional_group<'a>(
    frame: &'a Object,
    shared: Option<&'a Object>,
    tag: dicom_core::Tag,
) -> Option<&'a Object> {
    dicom::first_item(frame, tag).or_else(|| shared.and_then(|s| dicom::first_item(s, tag)))
}

/// The grid of the frames' distinct positions; with SpacingBetweenSlices,
/// every slice from the first to the last frame at that spacing.
fn seg_grid(
    geometry: SliceGeometry,
    frames: &[Frame],
    between: Option<f64>,
    thickness: Option<f64>,
) -> Result<ImageGrid, StructuresError> {
    // A grid of the distinct positions validates the orientation and sorts them.
    let mut distinct: Vec<[f64; 3]> = Vec::new();
    for frame in frames {
        if !distinct
            .iter()
            .any(|p| sub(*p, frame.position_mm).iter().all(|d| d.abs() < 1e-4))
        {
            distinct.push(frame.position_mm);
        }
    }
    let Some(spacing) = between.filter(|s| s.is_finite() && *s > 0.0) else {
        return ImageGrid::new(geometry, &distinct, thickness);
    };
    let probe = ImageGrid::new(geometry, &distinct[..1], Some(spacing))?;
    let normal = probe.normal();
    let first = distinct
        .iter()
        .copied()
        .min_by(|a, b| dot(*a, normal).total_cmp(&dot(*b, normal)))
        .unwrap_or(distinct[0]);
    let last = distinct
        .iter()
        .map(|p| dot(*p, normal))
        .fold(f64::NEG_INFINITY, f64::max);
    // Every frame must lie on a slice of the regular grid, in plane with the
    // first: a SpacingBetweenSlices that disagrees with the frames' own
    // positions would merge or shift slices.
    let in_plane_tolerance = 0.01 * geometry.pixel_spacing_mm[0].min(geometry.pixel_spacing_mm[1]);
    for position in &distinct {
        let offset = sub(*position, first);
        let along = dot(offset, normal);
        let steps = along / spacing;
        let in_plane = sub(
            offset,
            [along * normal[0], along * normal[1], along * normal[2]],
        );
        let in_plane_mm = dot(in_plane, in_plane).sqrt();
        if !((steps - steps.round()).abs() <= 0.01 && in_plane_mm <= in_plane_tolerance) {
            return Err(dicom::invalid(
                "the SEG",
                "SpacingBetweenSlices",
                format!(
                    "of {spacing} mm does not match the frames' positions: a frame lies {along} mm along the slice normal from the first (and {in_plane_mm} mm aside), not on a multiple of the spacing"
                ),
            ));
        }
    }
    let steps = ((last - dot(first, normal)) / spacing).round();
    let slices = steps + 1.0;
    // Masks allow at most 32,000 voxels along an axis.
    let cap = (MAX_VOXELS as f64 / (geometry.rows * geometry.columns) as f64).min(32_000.0);
    if !(slices.is_finite() && slices <= cap) {
        return Err(StructuresError::TooLarge {
            what: "the SEG grid",
            voxels: u64::MAX,
            detail: format!(
                "frames spanning {} mm at {spacing} mm between slices",
                last - dot(first, normal)
            ),
            max: MAX_VOXELS,
        });
    }
    let positions: Vec<[f64; 3]> = (0..slices as usize)
        .map(|k| {
            let offset = k as f64 * spacing;
            [
                first[0] + offset * normal[0],
                first[1] + offset * normal[1],
                first[2] + offset * normal[2],
            ]
        })
        .collect();
    ImageGrid::new(geometry, &positions, Some(spacing))
}
