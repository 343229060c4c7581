-- When each radiology report on a case was issued (SQLite), read from the
-- RIS's FHIR DiagnosticReports and HL7 v2 ORU^R01 results: the times of
-- turnaround audits. A case is its accession number's pseudonym, never the
-- number. The same report time sent again is kept once.
CREATE TABLE report_times (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    trust          TEXT NOT NULL REFERENCES organisations (code),
    case_pseudonym TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('preliminary', 'final', 'amended', 'corrected')),
    examined_at    TEXT,
    issued_at      TEXT NOT NULL,
    channel        TEXT NOT NULL CHECK (channel IN ('fhir', 'hl7')),
    received_at    TEXT NOT NULL,
    UNIQUE (trust, case_pseudonym, status, issued_at)
);
CREATE INDEX report_times_by_issue ON report_times (trust, issued_at);
