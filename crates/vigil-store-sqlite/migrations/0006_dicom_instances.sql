-- Every DICOM instance received over DIMSE or DICOMweb (SQLite), by its
-- pseudonyms only: what it was, which Trust's caller sent it, and what
-- became of it (an inference event of a deployment, an image's acquisition
-- metadata kept for its study, or quarantine with the reason).
CREATE TABLE dicom_instances (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    trust          TEXT NOT NULL REFERENCES organisations (code),
    sop_instance   TEXT NOT NULL,
    sop_class_uid  TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('sr', 'seg', 'rtstruct', 'image', 'other')),
    study          TEXT NOT NULL,
    series         TEXT,
    accession      TEXT,
    modality       TEXT,
    calling_ae     TEXT NOT NULL,
    received_at    TEXT NOT NULL,
    disposition    TEXT NOT NULL CHECK (disposition IN ('event', 'acquisition', 'quarantined')),
    deployment_id  INTEGER REFERENCES deployments (id),
    reason         TEXT,
    acquisition    TEXT,
    UNIQUE (trust, sop_instance)
);
CREATE INDEX dicom_instances_by_study ON dicom_instances (trust, study, id);
CREATE INDEX dicom_instances_by_disposition ON dicom_instances (disposition, id);
