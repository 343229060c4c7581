"""Writes the FHIR test bodies of vigil-fhir, each validated first with
fhir.resources (the R4B models, which read R4 reports and observations).

Run from this folder with the packages of requirements.txt:

    python generate.py
"""

import json
from pathlib import Path

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.observation import Observation

HERE = Path(__file__).parent
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ACSN = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "ACSN"}]}
CT_HEAD = {"coding": [{"system": LOINC, "code": "30799-1", "display": "CT Head WO contrast"}]}
HAEMORRHAGE = {"system": SNOMED, "code": "50960005", "display": "Hemorrhage"}
NORMAL = {"system": SNOMED, "code": "281900007", "display": "No abnormality detected"}


def report(accession, conclusion, issued, status="final", identifier_on="report", effective=None):
    resource = {
        "resourceType": "DiagnosticReport",
        "status": status,
        "code": CT_HEAD,
        "subject": {"display": "a patient"},
        "issued": issued,
        "conclusionCode": [{"coding": [conclusion]}],
    }
    # When the examination was done: a dateTime, or a period's start.
    if isinstance(effective, str):
        resource["effectiveDateTime"] = effective
    elif effective is not None:
        resource["effectivePeriod"] = effective
    identifier = {"type": ACSN, "system": "urn:oid:1.2.826.0.1.99", "value": accession}
    if identifier_on == "report":
        resource["identifier"] = [identifier]
    elif identifier_on == "contained":
        resource["contained"] = [
            {
                "resourceType": "ServiceRequest",
                "id": "order",
                "status": "completed",
                "intent": "order",
                "subject": {"display": "a patient"},
                "identifier": [identifier],
            }
        ]
        resource["basedOn"] = [{"reference": "#order"}]
    return resource


def write(name, model, body):
    model.parse_obj(body)  # refuses anything that is not valid FHIR
    (HERE / name).write_text(json.dumps(body, indent=2) + "\n")


def main():
    write(
        "report_positive.json",
        DiagnosticReport,
        report("ACC-1001", HAEMORRHAGE, "2026-11-30T10:05:00Z", effective="2026-11-30T09:00:00Z"),
    )
    write(
        "report_contained_order.json",
        DiagnosticReport,
        report("ACC-1002", NORMAL, "2026-11-30T11:00:00+01:00", identifier_on="contained"),
    )
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": SNOMED, "code": "50960005"}]},
        "identifier": [{"type": ACSN, "value": "ACC-1003"}],
        "effectiveDateTime": "2026-11-29",
        "valueBoolean": True,
    }
    write("observation_boolean.json", Observation, observation)
    order = {
        "resourceType": "ServiceRequest",
        "id": "order-4",
        "status": "completed",
        "intent": "order",
        "subject": {"display": "a patient"},
        "identifier": [{"type": ACSN, "value": "ACC-1004"}],
    }
    by_reference = report("ACC-unused", HAEMORRHAGE, "2026-11-30T12:00:00Z", identifier_on="none")
    by_reference["basedOn"] = [{"reference": "ServiceRequest/order-4"}]
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"fullUrl": "urn:uuid:1", "resource": report("ACC-1001", HAEMORRHAGE, "2026-11-30T10:05:00Z")},
            {"fullUrl": "urn:uuid:2", "resource": report(
                "ACC-1005", NORMAL, "2026-11-30T10:06:00Z", status="preliminary",
                effective={"start": "2026-11-30T09:30:00Z", "end": "2026-11-30T09:40:00Z"})},
            {"fullUrl": "urn:uuid:3", "resource": report("ACC-1006", {"system": SNOMED, "code": "1234567"}, "2026-11-30T10:07:00Z")},
            {"fullUrl": "urn:uuid:4", "resource": order},
            {"fullUrl": "urn:uuid:5", "resource": by_reference},
            {"fullUrl": "urn:uuid:6", "resource": report("ACC-1007", NORMAL, "2026-11-30T10:08:00Z", identifier_on="none")},
            # Examined, says the report, after it was issued.
            {"fullUrl": "urn:uuid:7", "resource": report(
                "ACC-1008", HAEMORRHAGE, "2026-11-30T10:09:00Z", effective="2026-11-30T11:00:00Z")},
        ],
    }
    write("bundle.json", Bundle, bundle)


if __name__ == "__main__":
    main()
