-- Live monitoring (SQLite): inference events as received, one row per
-- accepted batch, and per-day aggregates maintained with every batch.

CREATE TABLE event_batches (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id   INTEGER NOT NULL REFERENCES deployments (id),
    received_at     TEXT NOT NULL,
    received_by     TEXT NOT NULL,
    body_sha256     TEXT NOT NULL,
    rows_received   INTEGER NOT NULL,
    rows_stored     INTEGER NOT NULL,
    audit_sequence  INTEGER NOT NULL
);

-- The case is stored only as its keyed pseudonym. `event_id` is the
-- sender's idempotency key: a resent event is not stored twice. `batch_id`
-- names the batch that stored it (its row is written after the events, with
-- their count, in the same transaction). Rows are appended in arrival
-- order (event ids are keyed hashes, so a table ordered by them would take
-- every insert at a random page); per-day questions are answered by the
-- aggregates.
CREATE TABLE inference_events (
    deployment_id         INTEGER NOT NULL REFERENCES deployments (id),
    event_id              TEXT NOT NULL,
    batch_id              INTEGER NOT NULL,
    case_pseudonym        TEXT NOT NULL,
    occurred_at           TEXT NOT NULL,
    day                   TEXT NOT NULL,
    model_version         TEXT NOT NULL,
    score                 REAL,
    decision              INTEGER CHECK (decision IN (0, 1)),
    scanner_manufacturer  TEXT,
    scanner_model         TEXT,
    protocol              TEXT,
    slice_thickness_mm    REAL,
    kvp                   REAL,
    age_band              TEXT,
    sex                   TEXT,
    site                  TEXT,
    -- The SHA-256 of the event as stored: an event resent with other
    -- content is refused rather than taken for a duplicate.
    content_sha256        TEXT NOT NULL,
    PRIMARY KEY (deployment_id, event_id)
);

-- The aggregate of a day's events of one model version, as JSON counts
-- (see vigil_monitor::DayAggregate).
CREATE TABLE daily_aggregates (
    deployment_id  INTEGER NOT NULL REFERENCES deployments (id),
    day            TEXT NOT NULL,
    model_version  TEXT NOT NULL,
    aggregate      TEXT NOT NULL,
    PRIMARY KEY (deployment_id, day, model_version)
);

CREATE TRIGGER event_batches_no_update BEFORE UPDATE ON event_batches
BEGIN SELECT RAISE(ABORT, 'event batches are never edited'); END;
CREATE TRIGGER event_batches_no_delete BEFORE DELETE ON event_batches
BEGIN SELECT RAISE(ABORT, 'event batches are never deleted'); END;
CREATE TRIGGER inference_events_no_update BEFORE UPDATE ON inference_events
BEGIN SELECT RAISE(ABORT, 'inference events are never edited'); END;
CREATE TRIGGER inference_events_no_delete BEFORE DELETE ON inference_events
BEGIN SELECT RAISE(ABORT, 'inference events are never deleted'); END;
