#!/usr/bin/env python3
"""Known-answer test files for the vigil-structures crate.

Writes, next to this file:

- ``ct/``: a synthetic axial CT series (12 slices of 64 x 64, 2.5 mm slices,
  0.9765625 mm pixels, non-zero origin, files in shuffled order, plus a text
  file the reader must ignore);
- ``rtstruct.dcm``: an RTSTRUCT on that CT with (a) a sphere drawn as circles
  per slice, (b) a ring drawn as an outer and an inner polygon (a hole),
  (c) two islands on the same slices, (d) a POINT ROI, (e) a name that needs
  TG-263 normalisation ("LT PAROTID");
- ``seg.dcm``: the same four area structures as a binary DICOM SEG
  (highdicom, every frame kept); ``seg_sparse.dcm`` the same without its
  empty frames (its grid spans the slices from the first to the last
  non-empty frame); ``seg_fractional.dcm`` a FRACTIONAL SEG whose inside
  voxels hold 0.5 to 1 and outside voxels 0 to 0.49, without empty frames;
- ``labels.nii.gz``: the same structures as a NIfTI-1 label map (nibabel);
- ``oblique_ct/`` and ``oblique_rtstruct.dcm``: a second CT whose rows and
  columns are rotated about two axes (an oblique series) and an RTSTRUCT
  drawn in its planes;
- ``hostile/``: files that must be rejected with specific errors;
- ``expected.json``: for each ROI, the voxel count and the sorted flat indices
  ``(k * rows + j) * columns + i`` of the inside voxels.

The expectation is computed independently of the Rust rasteriser: contour
points are projected back to image index coordinates with NumPy, and
``matplotlib.path.Path.contains_points`` decides, per polygon, which voxel
centres (integer index coordinates ``(i, j)``) are inside; the polygons of one
ROI on one slice are combined with exclusive or (the even-odd rule). The
script asserts that no voxel centre lies within 1e-5 pixel of a polygon edge,
so the boundary conventions of the two implementations cannot matter.

Coordinates are written as DICOM decimal strings with 6 decimals, and the
expectation uses the values read back from those strings.

Re-run from the workspace root (never commit the virtual environment):

    python3 -m venv /tmp/structures-venv
    /tmp/structures-venv/bin/pip install -r crates/vigil-structures/tests/data/requirements.txt
    /tmp/structures-venv/bin/python crates/vigil-structures/tests/data/generate.py
"""

from __future__ import annotations

import gzip
import io
import json
import math
import shutil
from pathlib import Path

import highdicom as hd
import nibabel as nib
import numpy as np
import pydicom
from matplotlib.path import Path as PolygonPath
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.sr.codedict import codes
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, RTStructureSetStorage

HERE = Path(__file__).resolve().parent
ROOT = "1.2.826.0.1.3680043.10.1433"  # A fixed UID root for test data only.
STUDY_UID = f"{ROOT}.1"
FRAME_UID = f"{ROOT}.2"
CT_SERIES_UID = f"{ROOT}.3"
RTSTRUCT_SERIES_UID = f"{ROOT}.4"
SEG_SERIES_UID = f"{ROOT}.5"
OBLIQUE_FRAME_UID = f"{ROOT}.6"
OBLIQUE_SERIES_UID = f"{ROOT}.7"
OBLIQUE_RTSTRUCT_SERIES_UID = f"{ROOT}.8"

# The axial CT.
ROWS, COLUMNS, SLICES = 64, 64, 12
PIXEL_MM = 0.9765625
SLICE_MM = 2.5
ORIGIN = (-31.5, -40.25, 12.5)

# The oblique CT: rows of 40, columns of 48, 8 slices of 3 mm; row spacing
# 1.1 mm, column spacing 0.9 mm.
OBLIQUE_ROWS, OBLIQUE_COLUMNS, OBLIQUE_SLICES = 40, 48, 8
OBLIQUE_PIXEL_MM = (1.1, 0.9)
OBLIQUE_SLICE_MM = 3.0
OBLIQUE_ORIGIN = (-20.0, 15.5, -7.25)

MARGIN_PIXELS = 1e-5


def ds_text(value: float) -> str:
    """A decimal string with 6 decimals (at most 16 characters)."""
    text = f"{value:.6f}"
    assert len(text) <= 16, text
    return text


def ds_round(value: float) -> float:
    return float(ds_text(value))


def base_dataset(sop_class: str, sop_instance: str, series_uid: str, modality: str) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = f"{ROOT}.99"
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance
    ds.PatientName = "Phantom^Structures"
    ds.PatientID = "VIGIL-STRUCTURES"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyInstanceUID = STUDY_UID
    ds.StudyID = "1"
    ds.StudyDate = "20260101"
    ds.StudyTime = "120000"
    ds.AccessionNumber = "1"
    ds.ReferringPhysicianName = ""
    ds.SeriesInstanceUID = series_uid
    ds.Modality = modality
    ds.Manufacturer = "Vigil"
    return ds


def rotation(a_degrees: float, b_degrees: float) -> np.ndarray:
    a, b = math.radians(a_degrees), math.radians(b_degrees)
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    return rz @ rx


class Grid:
    """The geometry of one series, with directions as read back from text."""

    def __init__(self, rows, columns, slices, pixel_mm, slice_mm, origin, row_dir, column_dir):
        self.rows, self.columns, self.slices = rows, columns, slices
        self.row_spacing, self.column_spacing = pixel_mm
        self.slice_mm = slice_mm
        self.orientation = [ds_text(v) for v in list(row_dir) + list(column_dir)]
        values = [float(v) for v in self.orientation]
        self.row_dir = np.array(values[:3])
        self.column_dir = np.array(values[3:])
        self.normal = np.cross(self.row_dir, self.column_dir)
        self.origin = np.array(origin, dtype=float)
        self.positions = [
            [ds_text(v) for v in self.origin + k * slice_mm * self.normal] for k in range(slices)
        ]

    def patient(self, i: float, j: float, k: float) -> np.ndarray:
        return (
            self.origin
            + i * self.column_spacing * self.row_dir
            + j * self.row_spacing * self.column_dir
            + k * self.slice_mm * self.normal
        )

    def index(self, points: np.ndarray) -> np.ndarray:
        """Patient points (n, 3) to index coordinates (n, 3) = (i, j, k)."""
        relative = points - self.origin
        return np.stack(
            [
                relative @ self.row_dir / self.column_spacing,
                relative @ self.column_dir / self.row_spacing,
                relative @ self.normal / self.slice_mm,
            ],
            axis=1,
        )


def write_ct(directory: Path, grid: Grid, series_uid: str, frame_uid: str, first_instance: int, order):
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir()
    datasets = []
    for k in range(grid.slices):
        uid = f"{series_uid}.{k + 1}"
        ds = base_dataset(CTImageStorage, uid, series_uid, "CT")
        ds.SeriesNumber = first_instance
        ds.InstanceNumber = k + 1
        ds.FrameOfReferenceUID = frame_uid
        ds.PositionReferenceIndicator = ""
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.ImagePositionPatient = grid.positions[k]
        ds.ImageOrientationPatient = grid.orientation
        ds.PixelSpacing = [repr(grid.row_spacing), repr(grid.column_spacing)]
        ds.SliceThickness = ds_text(grid.slice_mm)
        ds.Rows = grid.rows
        ds.Columns = grid.columns
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1
        ds.RescaleIntercept = "0"
        ds.RescaleSlope = "1"
        ds.PixelData = np.zeros((grid.rows, grid.columns), dtype=np.int16).tobytes()
        datasets.append(ds)
    for position, k in enumerate(order):
        datasets[k].save_as(directory / f"image{position:02d}.dcm", enforce_file_format=True)
    return datasets


def circle(ci, cj, radius, count=48, phase=0.1):
    return [
        (ci + radius * math.cos(phase + 2 * math.pi * n / count), cj + radius * math.sin(phase + 2 * math.pi * n / count))
        for n in range(count)
    ]


def ellipse(ci, cj, ri, rj, count=40, phase=0.2):
    return [
        (ci + ri * math.cos(phase + 2 * math.pi * n / count), cj + rj * math.sin(phase + 2 * math.pi * n / count))
        for n in range(count)
    ]


def axial_rois():
    """ROIs as (number, name, list of (type, slice k, polygon in index space))."""
    sphere = []
    centre_k, radius_mm = 5.4, 12.0
    for k in range(SLICES):
        dz = (k - centre_k) * SLICE_MM
        if abs(dz) < radius_mm:
            radius_px = math.sqrt(radius_mm**2 - dz**2) / PIXEL_MM
            sphere.append(("CLOSED_PLANAR", k, circle(20.3, 20.7, radius_px)))
    ring = []
    for k in range(2, 9):
        ring.append(("CLOSED_PLANAR", k, circle(45.2, 19.6, 9.23 + 0.31 * (k % 3), count=36)))
        ring.append(("CLOSED_PLANAR", k, circle(45.6, 19.3, 4.1, count=20, phase=0.37)))
    islands = []
    for k in range(3, 10):
        islands.append(("CLOSED_PLANAR", k, ellipse(14.3, 47.6, 6.2, 4.3)))
        islands.append(("CLOSED_PLANAR", k, ellipse(30.8, 48.2, 5.1, 7.4, phase=0.45)))
    point = [("POINT", 6, [(32.15, 32.35)])]
    l_shape = [(40.3, 38.2), (58.7, 38.2), (58.7, 46.4), (48.6, 46.4), (48.6, 59.3), (40.3, 59.3)]
    parotid = [("CLOSED_PLANAR", k, l_shape) for k in range(6, 11)]
    # An OPEN_PLANAR contour in the parotid ROI must be skipped with a warning.
    parotid.append(("OPEN_PLANAR", 7, [(41.0, 40.0), (45.0, 44.0), (47.0, 41.0)]))
    return [
        (1, "GTV", sphere),
        (2, "Esophagus", ring),
        (3, "Lungs", islands),
        (4, "Isocenter", point),
        (5, "LT PAROTID", parotid),
    ]


def oblique_rois():
    shapes = []
    for k in range(2, 6):
        shapes.append(("CLOSED_PLANAR", k, ellipse(22.4, 18.3, 9.1 + k * 0.7, 6.2)))
    for k in range(3, 5):
        shapes.append(("CLOSED_PLANAR", k, circle(22.1, 18.6, 2.7, count=24, phase=0.05)))
    return [(1, "Body", shapes)]


def to_patient(grid: Grid, rois):
    """Contours in patient coordinates, rounded through their text form."""
    out = []
    for number, name, contours in rois:
        converted = []
        for kind, k, polygon in contours:
            text = []
            for i, j in polygon:
                text.extend(ds_text(v) for v in grid.patient(i, j, k))
            converted.append((kind, k, text))
        out.append((number, name, converted))
    return out


def write_rtstruct(path: Path, grid: Grid, rois, series_uid, frame_uid, ct_series_uid, ct_datasets, sop_uid, counts_override=None):
    ds = base_dataset(RTStructureSetStorage, sop_uid, series_uid, "RTSTRUCT")
    ds.SeriesNumber = 10
    ds.InstanceNumber = 1
    ds.StructureSetLabel = "Vigil test"
    ds.StructureSetDate = "20260101"
    ds.StructureSetTime = "120000"
    frame = Dataset()
    frame.FrameOfReferenceUID = frame_uid
    study = Dataset()
    study.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    study.ReferencedSOPInstanceUID = STUDY_UID
    series = Dataset()
    series.SeriesInstanceUID = ct_series_uid
    images = []
    for ct in ct_datasets:
        image = Dataset()
        image.ReferencedSOPClassUID = ct.SOPClassUID
        image.ReferencedSOPInstanceUID = ct.SOPInstanceUID
        images.append(image)
    series.ContourImageSequence = Sequence(images)
    study.RTReferencedSeriesSequence = Sequence([series])
    frame.RTReferencedStudySequence = Sequence([study])
    ds.ReferencedFrameOfReferenceSequence = Sequence([frame])
    roi_items, contour_items, observation_items = [], [], []
    for number, name, contours in rois:
        roi = Dataset()
        roi.ROINumber = number
        roi.ReferencedFrameOfReferenceUID = frame_uid
        roi.ROIName = name
        roi.ROIGenerationAlgorithm = "MANUAL"
        roi_items.append(roi)
        roi_contour = Dataset()
        roi_contour.ROIDisplayColor = [255, 0, 0]
        roi_contour.ReferencedROINumber = number
        items = []
        for kind, k, text in contours:
            contour = Dataset()
            contour.ContourGeometricType = kind
            count = len(text) // 3
            if counts_override is not None:
                count = counts_override
            contour.NumberOfContourPoints = count
            contour.ContourData = text
            items.append(contour)
        roi_contour.ContourSequence = Sequence(items)
        contour_items.append(roi_contour)
        observation = Dataset()
        observation.ObservationNumber = number
        observation.ReferencedROINumber = number
        observation.RTROIInterpretedType = "MARKER" if name == "Isocenter" else "ORGAN"
        observation.ROIInterpreter = ""
        observation_items.append(observation)
    ds.StructureSetROISequence = Sequence(roi_items)
    ds.ROIContourSequence = Sequence(contour_items)
    ds.RTROIObservationsSequence = Sequence(observation_items)
    ds.save_as(path, enforce_file_format=True)


def expected_masks(grid: Grid, patient_rois):
    """Even-odd masks (k, j, i) computed with matplotlib from the rounded points."""
    jj, ii = np.mgrid[0 : grid.rows, 0 : grid.columns]
    centres = np.stack([ii.ravel(), jj.ravel()], axis=1).astype(float)
    result = {}
    for number, name, contours in patient_rois:
        closed = [(k, text) for kind, k, text in contours if kind == "CLOSED_PLANAR"]
        if not closed:
            continue
        mask = np.zeros((grid.slices, grid.rows, grid.columns), dtype=bool)
        for k, text in closed:
            points = np.array([float(v) for v in text]).reshape(-1, 3)
            index = grid.index(points)
            assert np.all(np.abs(index[:, 2] - k) < 1e-4), (name, k)
            polygon = index[:, :2]
            check_margin(polygon, centres, name, k)
            inside = PolygonPath(polygon, closed=False).contains_points(centres)
            mask[k] ^= inside.reshape(grid.rows, grid.columns)
        result[number] = (name, mask)
    return result


def check_margin(polygon: np.ndarray, centres: np.ndarray, name: str, k: int):
    """No voxel centre may lie within MARGIN_PIXELS of an edge of the polygon."""
    start = polygon
    end = np.roll(polygon, -1, axis=0)
    for a, b in zip(start, end):
        edge = b - a
        t = np.clip(((centres - a) @ edge) / (edge @ edge), 0.0, 1.0)
        nearest = a + t[:, None] * edge
        distance = np.linalg.norm(centres - nearest, axis=1)
        assert distance.min() > MARGIN_PIXELS, (name, k, distance.min())


def mask_json(number, name, mask):
    flat = np.flatnonzero(mask.ravel())
    return {
        "number": number,
        "name": name,
        "voxel_count": int(flat.size),
        "inside": [int(v) for v in flat],
    }


def write_seg(path: Path, ct_datasets, grid: Grid, masks, fractional=False, omit_empty_frames=False, series_suffix=""):
    numbers = sorted(masks)
    descriptions = []
    for segment_number, number in enumerate(numbers, start=1):
        name, _ = masks[number]
        descriptions.append(
            hd.seg.SegmentDescription(
                segment_number=segment_number,
                segment_label=name,
                segmented_property_category=codes.SCT.Organ,
                segmented_property_type=codes.SCT.Organ,
                algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
            )
        )
    pixels = np.stack([masks[number][1] for number in numbers], axis=-1).astype(np.uint8)
    kind = hd.seg.SegmentationTypeValues.BINARY
    if fractional:
        # Inside voxels get 0.5 to 1, outside voxels 0 to just under 0.5
        # (highdicom stores round(value * 255) in 8 bits); thresholding at
        # one half gives the binary masks back.
        rng = np.random.default_rng(263)
        noise = rng.random(pixels.shape)
        pixels = np.where(pixels == 1, 0.5 + 0.5 * noise, 0.49 * noise).astype(np.float32)
        kind = hd.seg.SegmentationTypeValues.FRACTIONAL
    series_uid = SEG_SERIES_UID + series_suffix
    seg = hd.seg.Segmentation(
        source_images=ct_datasets,
        pixel_array=pixels,
        segmentation_type=kind,
        segment_descriptions=descriptions,
        series_instance_uid=series_uid,
        series_number=20,
        sop_instance_uid=f"{series_uid}.1",
        instance_number=1,
        manufacturer="Vigil",
        manufacturer_model_name="generate.py",
        software_versions="1",
        device_serial_number="1",
        omit_empty_frames=omit_empty_frames,
    )
    # highdicom stamps the time of creation and a fresh dimension
    # organisation UID; fixed values keep the file deterministic.
    seg.ContentDate = "20260101"
    seg.ContentTime = "120000"
    seg.SeriesDate = "20260101"
    seg.SeriesTime = "120000"
    seg.InstanceCreationDate = "20260101"
    seg.InstanceCreationTime = "120000"
    for item in seg.get("ContributingEquipmentSequence", []):
        item.ContributionDateTime = "20260101120000"
    uid = f"{ROOT}.9"
    for item in seg.DimensionOrganizationSequence:
        item.DimensionOrganizationUID = uid
    for item in seg.DimensionIndexSequence:
        item.DimensionOrganizationUID = uid
    seg.save_as(path, enforce_file_format=True)


def write_nifti(path: Path, grid: Grid, masks):
    labels = np.zeros((grid.slices, grid.rows, grid.columns), dtype=np.uint8)
    for number, (_, mask) in masks.items():
        assert not np.any(labels[mask]), "the label map needs disjoint structures"
        labels[mask] = number
    # NIfTI index (i, j, k) is (x, y, z): the array is (z, y, x) transposed.
    data = np.ascontiguousarray(labels.transpose(2, 1, 0))
    affine = np.diag([grid.column_spacing, grid.row_spacing, grid.slice_mm, 1.0])
    image = nib.Nifti1Image(data, affine)
    image.header.set_xyzt_units("mm")
    raw = image.to_bytes()
    # Gzip with a fixed modification time so the file is deterministic.
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as stream:
        stream.write(raw)
    path.write_bytes(buffer.getvalue())


def write_hostile(directory: Path, grid: Grid, patient_rois, ct_datasets):
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir()
    # NumberOfContourPoints says 5 for every contour whatever ContourData holds.
    sphere = [patient_rois[0]]
    write_rtstruct(directory / "contour_count_mismatch.dcm", grid, sphere, f"{ROOT}.20", FRAME_UID, CT_SERIES_UID, ct_datasets, f"{ROOT}.20.1", counts_override=5)
    # A closed contour 100 mm beyond the last slice.
    number, name, contours = patient_rois[0]
    kind, k, text = contours[0]
    far = [t if index % 3 != 2 else ds_text(float(t) + 100.0) for index, t in enumerate(text)]
    write_rtstruct(directory / "contour_off_slice.dcm", grid, [(number, name, [(kind, k, far)])], f"{ROOT}.21", FRAME_UID, CT_SERIES_UID, ct_datasets, f"{ROOT}.21.1")
    # A CT header claiming 65535 x 65535 pixels (no pixel data: headers only).
    huge = directory / "huge_grid"
    huge.mkdir()
    ds = ct_datasets[0].copy()
    ds.file_meta = ct_datasets[0].file_meta
    ds.Rows = 65535
    ds.Columns = 65535
    del ds.PixelData
    ds.save_as(huge / "ct.dcm", enforce_file_format=True)
    # A float label map whose labels are not integers.
    data = np.zeros((4, 3, 2), dtype=np.float32)
    data[1, 1, 1] = 1.5
    image = nib.Nifti1Image(data, np.eye(4))
    (directory / "float_labels.nii").write_bytes(image.to_bytes())


def main():
    axial = Grid(ROWS, COLUMNS, SLICES, (PIXEL_MM, PIXEL_MM), SLICE_MM, ORIGIN, (1, 0, 0), (0, 1, 0))
    order = [7, 2, 11, 0, 5, 9, 1, 4, 10, 3, 8, 6]
    ct = write_ct(HERE / "ct", axial, CT_SERIES_UID, FRAME_UID, 1, order)
    (HERE / "ct" / "README.txt").write_text("Not a DICOM file: the series reader must skip it.\n")
    patient = to_patient(axial, axial_rois())
    write_rtstruct(HERE / "rtstruct.dcm", axial, patient, RTSTRUCT_SERIES_UID, FRAME_UID, CT_SERIES_UID, ct, f"{RTSTRUCT_SERIES_UID}.1")
    masks = expected_masks(axial, patient)

    r = rotation(20.0, 25.0)
    oblique = Grid(
        OBLIQUE_ROWS, OBLIQUE_COLUMNS, OBLIQUE_SLICES, OBLIQUE_PIXEL_MM, OBLIQUE_SLICE_MM,
        OBLIQUE_ORIGIN, r[:, 0], r[:, 1],
    )
    oblique_ct = write_ct(HERE / "oblique_ct", oblique, OBLIQUE_SERIES_UID, OBLIQUE_FRAME_UID, 2, [3, 0, 6, 1, 7, 2, 5, 4])
    oblique_patient = to_patient(oblique, oblique_rois())
    write_rtstruct(HERE / "oblique_rtstruct.dcm", oblique, oblique_patient, OBLIQUE_RTSTRUCT_SERIES_UID, OBLIQUE_FRAME_UID, OBLIQUE_SERIES_UID, oblique_ct, f"{OBLIQUE_RTSTRUCT_SERIES_UID}.1")
    oblique_masks = expected_masks(oblique, oblique_patient)

    write_seg(HERE / "seg.dcm", ct, axial, masks)
    write_seg(HERE / "seg_sparse.dcm", ct, axial, masks, omit_empty_frames=True, series_suffix=".2")
    write_seg(HERE / "seg_fractional.dcm", ct, axial, masks, fractional=True, omit_empty_frames=True, series_suffix=".3")
    write_nifti(HERE / "labels.nii.gz", axial, masks)
    write_hostile(HERE / "hostile", axial, patient, ct)

    expected = {
        "generator": "generate.py",
        "versions": {
            "numpy": np.__version__,
            "pydicom": pydicom.__version__,
            "highdicom": hd.__version__,
            "nibabel": nib.__version__,
            "matplotlib": __import__("matplotlib").__version__,
        },
        "axial": {
            "dims": [SLICES, ROWS, COLUMNS],
            "spacing_mm": [SLICE_MM, PIXEL_MM, PIXEL_MM],
            "origin_mm": [float(v) for v in axial.positions[0]],
            "series_instance_uid": CT_SERIES_UID,
            "structures": [mask_json(n, name, m) for n, (name, m) in sorted(masks.items())],
        },
        "oblique": {
            "dims": [OBLIQUE_SLICES, OBLIQUE_ROWS, OBLIQUE_COLUMNS],
            "spacing_mm": [OBLIQUE_SLICE_MM, OBLIQUE_PIXEL_MM[0], OBLIQUE_PIXEL_MM[1]],
            "origin_mm": [float(v) for v in oblique.positions[0]],
            "series_instance_uid": OBLIQUE_SERIES_UID,
            "structures": [mask_json(n, name, m) for n, (name, m) in sorted(oblique_masks.items())],
        },
    }
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")

    source = Path(pydicom.__file__).parent / "data" / "test_files" / "rtstruct.dcm"
    shutil.copyfile(source, HERE / "pydicom_rtstruct.dcm")


if __name__ == "__main__":
    main()
