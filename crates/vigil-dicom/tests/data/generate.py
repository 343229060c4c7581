"""Generates the DICOM test objects of vigil-dicom and their expected readings.

Run from this folder with the packages of requirements.txt:

    python generate.py

It copies pydicom's bundled test files (CT_small.dcm, MR_small.dcm,
rtstruct.dcm, test-SR.dcm), writes TID 1500 measurement reports and a
segmentation with highdicom on CT_small, a deflated copy of one report, and
expected.json: what each object must read as.
"""

import json
import shutil
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.sr.codedict import codes
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian

HERE = Path(__file__).parent
PROBABILITY = hd.sr.CodedConcept("111047", "DCM", "Probability of cancer")
FINDING = hd.sr.CodedConcept("121071", "DCM", "Finding")
ABNORMAL = hd.sr.CodedConcept("263654008", "SCT", "Abnormal")
NORMAL = hd.sr.CodedConcept("17621005", "SCT", "Normal")


def copy_pydicom_files():
    for name in ["CT_small.dcm", "MR_small.dcm", "rtstruct.dcm", "test-SR.dcm"]:
        shutil.copy(get_testdata_file(name), HERE / name)


def measurement_report(ct, uid_suffix, score, finding, manufacturer, accession, content_time):
    """A TID 1500 report: one measurement group with a probability (NUM) and
    a qualitative finding (CODE)."""
    source = hd.sr.SourceImageForMeasurementGroup.from_source_image(ct)
    tracking = hd.sr.TrackingIdentifier(uid=hd.UID(), identifier="finding 1")
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=tracking,
        source_images=[source],
        measurements=[
            hd.sr.Measurement(
                name=PROBABILITY,
                value=score,
                unit=hd.sr.CodedConcept("1", "UCUM", "no units"),
            )
        ],
        qualitative_evaluations=[hd.sr.QualitativeEvaluation(name=FINDING, value=finding)],
    )
    observation = hd.sr.ObservationContext()
    report = hd.sr.MeasurementReport(
        observation_context=observation,
        procedure_reported=codes.LN.CTUnspecifiedBodyRegion,
        imaging_measurements=[group],
    )
    sr = hd.sr.Comprehensive3DSR(
        evidence=[ct],
        content=report,
        series_number=100,
        series_instance_uid=f"1.2.826.0.1.3680043.10.1234.1.{uid_suffix}",
        sop_instance_uid=f"1.2.826.0.1.3680043.10.1234.2.{uid_suffix}",
        instance_number=1,
        manufacturer=manufacturer,
        is_complete=True,
        is_final=True,
    )
    sr.SoftwareVersions = "2.3.0"
    sr.ManufacturerModelName = "Example Nodule Detector"
    if accession is None:
        if "AccessionNumber" in sr:
            del sr.AccessionNumber
    else:
        sr.AccessionNumber = accession
    sr.ContentDate, sr.ContentTime = content_time
    return sr


def segmentation(ct):
    mask = np.zeros((1, ct.Rows, ct.Columns), dtype=bool)
    mask[0, 40:60, 30:50] = True
    description = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label="Nodule",
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Nodule,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=hd.AlgorithmIdentificationSequence(
            name="Example Nodule Detector", version="2.3.0", family=codes.DCM.ArtificialIntelligence
        ),
    )
    seg = hd.seg.Segmentation(
        source_images=[ct],
        pixel_array=mask,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[description],
        series_instance_uid="1.2.826.0.1.3680043.10.1234.3.1",
        series_number=200,
        sop_instance_uid="1.2.826.0.1.3680043.10.1234.4.1",
        instance_number=1,
        manufacturer="Example AI",
        manufacturer_model_name="Example Nodule Detector",
        software_versions="2.3.0",
        device_serial_number="1",
    )
    seg.AccessionNumber = "ACC-1001"
    seg.ContentDate, seg.ContentTime = "20261130", "100000"
    return seg


def main():
    copy_pydicom_files()
    ct = pydicom.dcmread(HERE / "CT_small.dcm")
    ct.AccessionNumber = "ACC-1001"
    ct.PatientAge = "063Y"
    ct.PatientSex = "F"
    ct.save_as(HERE / "ct_with_accession.dcm")

    positive = measurement_report(
        ct, 1, 0.87, ABNORMAL, "Example AI", "ACC-1001", ("20261130", "091500")
    )
    positive.save_as(HERE / "sr_positive.dcm", enforce_file_format=True)

    negative = measurement_report(
        ct, 2, 0.04, NORMAL, "Example AI", "ACC-1002", ("20260715", "143000")
    )
    negative.TimezoneOffsetFromUTC = "+0000"
    negative.save_as(HERE / "sr_negative.dcm", enforce_file_format=True)

    no_accession = measurement_report(ct, 3, 0.5, NORMAL, "Example AI", None, ("20261130", "091500"))
    no_accession.save_as(HERE / "sr_no_accession.dcm", enforce_file_format=True)

    other_vendor = measurement_report(
        ct, 4, 0.5, NORMAL, "Another Vendor", "ACC-1003", ("20261130", "091500")
    )
    other_vendor.save_as(HERE / "sr_other_vendor.dcm", enforce_file_format=True)

    deflated = pydicom.dcmread(HERE / "sr_positive.dcm")
    deflated.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    deflated.save_as(HERE / "sr_positive_deflated.dcm", enforce_file_format=True)

    seg = segmentation(ct)
    seg.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    seg.save_as(HERE / "seg.dcm", enforce_file_format=True)

    expected = {
        "sr_positive.dcm": {
            "kind": "sr",
            "score": 0.87,
            "decision": True,
            "model_version": "2.3.0",
            # 09:15 in London on 30 November (GMT) is 09:15 UTC.
            "occurred_at": "2026-11-30T09:15:00Z",
        },
        "sr_negative.dcm": {
            "kind": "sr",
            "score": 0.04,
            "decision": False,
            "model_version": "2.3.0",
            # The report states its offset (+0000), so London's summer
            # time does not apply.
            "occurred_at": "2026-07-15T14:30:00Z",
        },
        "sr_positive_deflated.dcm": {
            "kind": "sr",
            "score": 0.87,
            "decision": True,
            "model_version": "2.3.0",
            "occurred_at": "2026-11-30T09:15:00Z",
        },
        "ct_with_accession.dcm": {
            "kind": "image",
            "scanner_manufacturer": str(ct.Manufacturer),
            "slice_thickness_mm": float(ct.SliceThickness),
            "kvp": float(ct.KVP),
            "age_band": "60-79",
            "sex": "female",
        },
    }
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
