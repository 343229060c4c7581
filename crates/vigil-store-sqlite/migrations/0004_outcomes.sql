-- Outcomes (SQLite): the ground truth recorded for cases, one row per
-- accepted batch, and the index that lets an outcome find its case's
-- events (and an event its case's outcomes).

CREATE TABLE outcome_batches (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id   INTEGER NOT NULL REFERENCES deployments (id),
    received_at     TEXT NOT NULL,
    received_by     TEXT NOT NULL,
    body_sha256     TEXT NOT NULL,
    rows_received   INTEGER NOT NULL,
    rows_stored     INTEGER NOT NULL,
    audit_sequence  INTEGER NOT NULL
);

-- One outcome a source and case (see vigil_monitor::outcomes); the case is
-- stored only as its keyed pseudonym. A resent outcome is not stored twice,
-- and one resent with other content is refused (`content_sha256`).
CREATE TABLE outcomes (
    deployment_id   INTEGER NOT NULL REFERENCES deployments (id),
    case_pseudonym  TEXT NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('pathology', 'follow_up', 'report', 'reader')),
    label           INTEGER NOT NULL CHECK (label IN (0, 1)),
    recorded_at     TEXT NOT NULL,
    reader_agrees   INTEGER CHECK (reader_agrees IN (0, 1)),
    batch_id        INTEGER NOT NULL,
    content_sha256  TEXT NOT NULL,
    PRIMARY KEY (deployment_id, case_pseudonym, source)
);

CREATE INDEX inference_events_by_case ON inference_events (deployment_id, case_pseudonym);

CREATE TRIGGER outcome_batches_no_update BEFORE UPDATE ON outcome_batches
BEGIN SELECT RAISE(ABORT, 'outcome batches are never edited'); END;
CREATE TRIGGER outcome_batches_no_delete BEFORE DELETE ON outcome_batches
BEGIN SELECT RAISE(ABORT, 'outcome batches are never deleted'); END;
CREATE TRIGGER outcomes_no_update BEFORE UPDATE ON outcomes
BEGIN SELECT RAISE(ABORT, 'outcomes are never edited'); END;
CREATE TRIGGER outcomes_no_delete BEFORE DELETE ON outcomes
BEGIN SELECT RAISE(ABORT, 'outcomes are never deleted'); END;
