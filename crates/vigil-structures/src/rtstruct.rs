//! DICOM RT Structure Set (RTSTRUCT) parsing and rasterisation.
//!
//! Parsing ([`RtStruct::parse`], [`RtStruct::from_bytes`]) joins
//! StructureSetROISequence (ROINumber, ROIName) with ROIContourSequence
//! (ReferencedROINumber, ContourSequence) and checks every contour's
//! NumberOfContourPoints against its ContourData. It needs no image.
//! Rasterising ([`RtStruct::rasterise`]) places each closed planar contour on
//! the slice of an [`ImageGrid`] and fills it with the even–odd rule of
//! module [`raster`](crate::raster).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use dicom_dictionary_std::{tags, uids};
use vigil_contours::Mask;

use crate::dicom::{self, Object};
use crate::image_grid::ImageGrid;
use crate::raster::rasterise_even_odd;
use crate::{MAX_VOXELS, Structure, StructureSet, StructuresError};

/// The ContourGeometricType of a contour that encloses an area.
const CLOSED_PLANAR: &str = "CLOSED_PLANAR";

/// A parsed RT Structure Set: its ROIs and their contours in patient
/// coordinates, not yet placed on any image.
#[derive(Debug, Clone, PartialEq)]
pub struct RtStruct {
    summary: RtStructSummary,
    rois: Vec<Roi>,
}

/// What an RT Structure Set holds, for display and for finding its images.
#[derive(Debug, Clone, PartialEq)]
pub struct RtStructSummary {
    /// StructureSetLabel.
    pub label: Option<String>,
    /// The FrameOfReferenceUID of the first ReferencedFrameOfReferenceSequence item.
    pub frame_of_reference_uid: Option<String>,
    /// The SeriesInstanceUID of the images the contours were drawn on
    /// (ReferencedFrameOfReferenceSequence → RTReferencedStudySequence →
    /// RTReferencedSeriesSequence), when present.
    pub referenced_series_instance_uid: Option<String>,
    /// One entry per ROI of StructureSetROISequence, in file order.
    pub rois: Vec<RoiSummary>,
}

/// The contour counts of one ROI.
#[derive(Debug, Clone, PartialEq)]
pub struct RoiSummary {
    /// ROINumber.
    pub number: i64,
    /// ROIName.
    pub name: String,
    /// The number of CLOSED_PLANAR contours.
    pub closed_contours: usize,
    /// The number of contours of any other type (POINT, OPEN_PLANAR, OPEN_NONPLANAR).
    pub skipped_contours: usize,
    /// The number of points over all closed planar contours.
    pub points: usize,
}

/// One region of interest and its contours.
#[derive(Debug, Clone, PartialEq)]
pub struct Roi {
    /// ROINumber.
    pub number: i64,
    /// ROIName (empty when absent).
    pub name: String,
    /// The CLOSED_PLANAR contours, in file order.
    pub contours: Vec<Contour>,
    /// The contours of other types, which enclose no area and are not rasterised.
    pub skipped: Vec<SkippedContour>,
}

/// One closed planar contour: its points in patient coordinates (mm). The
/// last point joins the first.
#[derive(Debug, Clone, PartialEq)]
pub struct Contour {
    /// The contour's index within the ROI's ContourSequence.
    pub index: usize,
    /// The (x, y, z) points in mm.
    pub points_mm: Vec<[f64; 3]>,
}

/// A contour that is not CLOSED_PLANAR.
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedContour {
    /// The contour's index within the ROI's ContourSequence.
    pub index: usize,
    /// Its ContourGeometricType.
    pub geometric_type: String,
}

impl RtStruct {
    /// Parses an RTSTRUCT file.
    pub fn parse(path: impl AsRef<Path>) -> Result<Self, StructuresError> {
        let path = path.as_ref();
        let object = dicom::read_file(path, false)?;
        Self::from_object(&object, &path.display().to_string())
    }

    /// Parses an RTSTRUCT file held in memory (a DICOM Part 10 file, with or
    /// without its 128-byte preamble). Any bytes give a structure set or an
    /// error, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StructuresError> {
        let what = "the RTSTRUCT bytes";
        let object = dicom::parse_bytes(bytes, what, false)?;
        Self::from_object(&object, what)
    }

    fn from_object(object: &Object, what: &str) -> Result<Self, StructuresError> {
        let sop_class = dicom::text(object, tags::SOP_CLASS_UID, "SOPClassUID", what)?;
        let modality = dicom::text(object, tags::MODALITY, "Modality", what)?;
        let is_rtstruct = sop_class.as_deref() == Some(uids::RT_STRUCTURE_SET_STORAGE)
            || (sop_class.is_none() && modality.as_deref() == Some("RTSTRUCT"));
        if !is_rtstruct {
            return Err(StructuresError::WrongKind {
                what: what.to_owned(),
                found: modality
                    .or(sop_class)
                    .unwrap_or_else(|| "unknown".to_owned()),
                expected: "an RT Structure Set (RTSTRUCT)",
            });
        }
        let label = dicom::text(object, tags::STRUCTURE_SET_LABEL, "StructureSetLabel", what)?;
        let frame = dicom::first_item(object, tags::REFERENCED_FRAME_OF_REFERENCE_SEQUENCE);
        let frame_of_reference_uid = match frame {
            Some(item) => dicom::text(
                item,
                tags::FRAME_OF_REFERENCE_UID,
                "FrameOfReferenceUID",
                what,
            )?,
            None => None,
        };
        let referenced_series_instance_uid = frame
            .and_then(|item| dicom::first_item(item, tags::RT_REFERENCED_STUDY_SEQUENCE))
            .and_then(|item| dicom::first_item(item, tags::RT_REFERENCED_SERIES_SEQUENCE))
            .map(|item| dicom::text(item, tags::SERIES_INSTANCE_UID, "SeriesInstanceUID", what))
            .transpose()?
            .flatten();

        let mut rois = Vec::new();
        let mut by_number = HashMap::new();
        for (index, item) in dicom::items(object, tags::STRUCTURE_SET_ROI_SEQUENCE)
            .iter()
            .enumerate()
        {
            let place = format!("{what}, StructureSetROISequence item {index}");
            let number = dicom::required_integer(item, tags::ROI_NUMBER, "ROINumber", &place)?;
            let name = dicom::text(item, tags::ROI_NAME, "ROIName", &place)?.unwrap_or_default();
            if by_number.insert(number, rois.len()).is_some() {
                return Err(StructuresError::DuplicateRoi { roi_number: number });
            }
            rois.push(Roi {
                number,
                name,
                contours: Vec::new(),
                skipped: Vec::new(),
            });
        }
        for (index, item) in dicom::items(object, tags::ROI_CONTOUR_SEQUENCE)
            .iter()
            .enumerate()
        {
            let place = format!("{what}, ROIContourSequence item {index}");
            let number = dicom::required_integer(
                item,
                tags::REFERENCED_ROI_NUMBER,
                "ReferencedROINumber",
                &place,
            )?;
            let roi_index = *by_number
                .get(&number)
                .ok_or(StructuresError::UnknownRoi { roi_number: number })?;
            let roi = &mut rois[roi_index];
            for (contour_index, contour) in dicom::items(item, tags::CONTOUR_SEQUENCE)
                .iter()
                .enumerate()
            {
                read_contour(roi, contour_index, contour, &place)?;
            }
        }
        let summary = RtStructSummary {
            label,
            frame_of_reference_uid,
            referenced_series_instance_uid,
            rois: rois
                .iter()
                .map(|roi| RoiSummary {
                    number: roi.number,
                    name: roi.name.clone(),
                    closed_contours: roi.contours.len(),
                    skipped_contours: roi.skipped.len(),
                    points: roi.contours.iter().map(|c| c.points_mm.len()).sum(),
                })
                .collect(),
        };
        Ok(Self { summary, rois })
    }

    /// The label, references and contour counts.
    pub fn summary(&self) -> &RtStructSummary {
        &self.summary
    }

    /// The ROIs in the order of StructureSetROISequence.
    pub fn rois(&self) -> &[Roi] {
        &self.rois
    }

    /// Rasterises every ROI that has at least one closed planar contour onto
    /// `grid`.
    ///
    /// Each contour goes to the slice whose position along the slice normal
    /// is within half a slice spacing of the mean position of its points;
    /// every point must lie within half a slice spacing of that slice. The
    /// contours of one ROI on one slice are combined with the even–odd rule:
    /// a voxel is inside when its centre is inside an odd number of them.
    ///
    /// ROIs with no closed planar contour (markers drawn as POINT, open
    /// polylines, ROIs without contours) are left out, and every left-out
    /// ROI and every skipped contour is reported in
    /// [`StructureSet::warnings`].
    ///
    /// All masks together may hold at most [`MAX_VOXELS`] voxels (one byte
    /// each); for many structures on a large grid, rasterise them one at a
    /// time with [`RtStruct::rasterise_roi`].
    pub fn rasterise(&self, grid: &ImageGrid) -> Result<StructureSet, StructuresError> {
        self.check_frame_of_reference(grid)?;
        let mut warnings = Vec::new();
        let with_area: Vec<&Roi> = self
            .rois
            .iter()
            .filter(|roi| !roi.contours.is_empty())
            .collect();
        check_total_voxels(with_area.len(), grid)?;
        let mut structures = Vec::new();
        for roi in &self.rois {
            if !roi.skipped.is_empty() {
                warnings.push(skipped_message(roi));
            }
            if roi.contours.is_empty() {
                warnings.push(format!(
                    "ROI {} '{}' has no CLOSED_PLANAR contour and is left out",
                    roi.number, roi.name
                ));
                continue;
            }
            structures.push(Structure {
                name: roi.name.clone(),
                number: roi.number,
                mask: rasterise_contours(roi, grid)?,
            });
        }
        Ok(StructureSet {
            grid: Some(grid.clone()),
            structures,
            warnings,
        })
    }

    /// Contours drawn in another frame of reference than the images' have
    /// other patient coordinates: they are refused rather than placed by
    /// coincidence (when both name their frame of reference).
    fn check_frame_of_reference(&self, grid: &ImageGrid) -> Result<(), StructuresError> {
        match (
            self.summary.frame_of_reference_uid.as_deref(),
            grid.frame_of_reference_uid(),
        ) {
            (Some(contours), Some(images)) if contours != images => Err(dicom::invalid(
                "the RTSTRUCT",
                "FrameOfReferenceUID",
                format!(
                    "{contours} is not the image series' frame of reference ({images}); give the series the contours were drawn on"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Rasterises the one ROI numbered `roi_number` onto `grid`, by the rules
    /// of [`RtStruct::rasterise`]; `None` when no ROI has that number or it
    /// has no closed planar contour.
    pub fn rasterise_roi(
        &self,
        grid: &ImageGrid,
        roi_number: i64,
    ) -> Result<Option<Structure>, StructuresError> {
        self.check_frame_of_reference(grid)?;
        let Some(roi) = self
            .rois
            .iter()
            .find(|roi| roi.number == roi_number && !roi.contours.is_empty())
        else {
            return Ok(None);
        };
        Ok(Some(Structure {
            name: roi.name.clone(),
            number: roi.number,
            mask: rasterise_contours(roi, grid)?,
        }))
    }
}

/// Reads the structure set at `path` and rasterises it onto `grid`.
pub fn read_rtstruct(
    path: impl AsRef<Path>,
    grid: &ImageGrid,
) -> Result<StructureSet, StructuresError> {
    RtStruct::parse(path)?.rasterise(grid)
}

fn read_contour(
    roi: &mut Roi,
    index: usize,
    item: &Object,
    place: &str,
) -> Result<(), StructuresError> {
    let place = format!("{place}, ContourSequence item {index}");
    let geometric_type = dicom::required_text(
        item,
        tags::CONTOUR_GEOMETRIC_TYPE,
        "ContourGeometricType",
        &place,
    )?;
    if geometric_type != CLOSED_PLANAR {
        roi.skipped.push(SkippedContour {
            index,
            geometric_type,
        });
        return Ok(());
    }
    let declared = dicom::required_integer(
        item,
        tags::NUMBER_OF_CONTOUR_POINTS,
        "NumberOfContourPoints",
        &place,
    )?;
    let values = dicom::any_numbers(item, tags::CONTOUR_DATA, "ContourData", &place)?;
    let values = values.unwrap_or_default();
    let expected = u64::try_from(declared).ok().and_then(|n| n.checked_mul(3));
    if expected != Some(values.len() as u64) || values.is_empty() {
        return Err(StructuresError::ContourPointCount {
            roi_number: roi.number,
            roi_name: roi.name.clone(),
            contour: index,
            declared,
            values: values.len(),
            expected: expected.unwrap_or(u64::MAX),
        });
    }
    if values.iter().any(|value| !value.is_finite()) {
        return Err(StructuresError::NonFiniteContour {
            roi_number: roi.number,
            roi_name: roi.name.clone(),
            contour: index,
        });
    }
    let points_mm = values
        .chunks_exact(3)
        .map(|point| [point[0], point[1], point[2]])
        .collect();
    roi.contours.push(Contour { index, points_mm });
    Ok(())
}

fn skipped_message(roi: &Roi) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for contour in &roi.skipped {
        *counts.entry(contour.geometric_type.as_str()).or_default() += 1;
    }
    let listed: Vec<String> = counts
        .iter()
        .map(|(kind, count)| format!("{count} {kind}"))
        .collect();
    format!(
        "ROI {} '{}': {} contour(s) skipped because they enclose no area ({})",
        roi.number,
        roi.name,
        roi.skipped.len(),
        listed.join(", ")
    )
}

/// The masks of `structures` structures on `grid` must fit the voxel budget.
pub(crate) fn check_total_voxels(
    structures: usize,
    grid: &ImageGrid,
) -> Result<(), StructuresError> {
    let voxels = (grid.voxel_count() as u64).saturating_mul(structures as u64);
    if voxels > MAX_VOXELS {
        return Err(StructuresError::TooLarge {
            what: "the structure set",
            voxels,
            detail: format!(
                "{structures} structures on a grid of {:?} voxels; read fewer at a time",
                grid.dims()
            ),
            max: MAX_VOXELS,
        });
    }
    Ok(())
}

fn rasterise_contours(roi: &Roi, grid: &ImageGrid) -> Result<Mask, StructuresError> {
    let [slices, rows, columns] = grid.dims();
    let half = 0.5 * grid.slice_spacing_mm();
    let positions = grid.slice_positions_mm();
    let mut per_slice: BTreeMap<usize, Vec<Vec<[f64; 2]>>> = BTreeMap::new();
    for contour in &roi.contours {
        let projected: Vec<[f64; 3]> = contour
            .points_mm
            .iter()
            .map(|&point| grid.index_coordinates(point))
            .collect();
        let mean = projected.iter().map(|p| p[2]).sum::<f64>() / projected.len() as f64;
        let Some(slice) = grid.slice_at(mean) else {
            return Err(StructuresError::ContourOffSlice {
                roi_number: roi.number,
                roi_name: roi.name.clone(),
                contour: contour.index,
                position_mm: mean,
                first_mm: positions[0],
                last_mm: positions[slices - 1],
            });
        };
        let (low, high) = projected
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |acc, p| {
                (acc.0.min(p[2]), acc.1.max(p[2]))
            });
        if (low - positions[slice]).abs() > half || (high - positions[slice]).abs() > half {
            return Err(StructuresError::ContourNotInPlane {
                roi_number: roi.number,
                roi_name: roi.name.clone(),
                contour: contour.index,
                spread_mm: high - low,
            });
        }
        per_slice
            .entry(slice)
            .or_default()
            .push(projected.iter().map(|p| [p[0], p[1]]).collect());
    }
    let plane = rows * columns;
    let mut voxels = vec![false; grid.voxel_count()];
    for (slice, polygons) in &per_slice {
        let start = slice * plane;
        rasterise_even_odd(polygons, rows, columns, &mut voxels[start..start + plane]);
    }
    Mask::new(grid.dims(), grid.spacing(), voxels).map_err(|source| StructuresError::Mask {
        what: format!("ROI {} '{}'", roi.number, roi.name),
        source: Box::new(source),
    })
}
