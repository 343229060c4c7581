-- Signatures of a deployment's clinical safety case (SQLite): the clinical
-- safety officer signs the report made from the hazard log with digest
-- log_sha256; a change to the log leaves the signature covering the earlier
-- log. Audited (safety_case.sign).
CREATE TABLE safety_case_signatures (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id   INTEGER NOT NULL REFERENCES deployments (id),
    log_sha256      TEXT NOT NULL,
    report_sha256   TEXT NOT NULL,
    statement       TEXT NOT NULL,
    signed_by       TEXT NOT NULL,
    role            TEXT NOT NULL,
    signed_at       TEXT NOT NULL,
    audit_sequence  INTEGER NOT NULL
);
CREATE INDEX safety_case_signatures_by_deployment ON safety_case_signatures (deployment_id, id);
