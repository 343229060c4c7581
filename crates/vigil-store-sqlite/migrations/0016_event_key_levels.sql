-- Events are found by their id and by their case through key tables in two
-- levels, instead of the table's primary key and case index.
--
-- Event ids and case pseudonyms are keyed hashes: an index ordered by
-- either takes every new event at a random place, so a batch of 10,000
-- events changed (and logged, and checkpointed) nearly every page of both
-- indexes, and a batch cost more the more events the deployment held.
-- Now a new event's keys go into two small tables of recent keys; once
-- 100,000 have gathered, the batch that finds them merges them, in key
-- order, into the two large key tables (each of whose pages a merge changes
-- at most once) and empties the recent ones. The table itself keeps an
-- index only by deployment and batch, which new events extend at its end.
--
-- `event_row` names the row for good (a rowid alias, kept by VACUUM). An
-- event is stored only if neither level holds its id (the statement that
-- stores events says so); each level's primary key refuses an id twice, and
-- a merge refuses an id the large level already holds.

DROP TRIGGER inference_events_no_update;
DROP TRIGGER inference_events_no_delete;

CREATE TABLE inference_events_by_row (
    event_row             INTEGER PRIMARY KEY,
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
    content_sha256        TEXT NOT NULL
);
INSERT INTO inference_events_by_row (event_row, deployment_id, event_id, batch_id, case_pseudonym, occurred_at, day,
    model_version, score, decision, scanner_manufacturer, scanner_model, protocol, slice_thickness_mm, kvp, age_band,
    sex, site, content_sha256)
SELECT rowid, deployment_id, event_id, batch_id, case_pseudonym, occurred_at, day, model_version, score, decision,
    scanner_manufacturer, scanner_model, protocol, slice_thickness_mm, kvp, age_band, sex, site, content_sha256
FROM inference_events ORDER BY rowid;
DROP TABLE inference_events;
ALTER TABLE inference_events_by_row RENAME TO inference_events;
CREATE INDEX inference_events_by_batch ON inference_events (deployment_id, batch_id);

CREATE TABLE event_keys (
    deployment_id  INTEGER NOT NULL,
    event_id       TEXT NOT NULL,
    event_row      INTEGER NOT NULL,
    PRIMARY KEY (deployment_id, event_id)
) WITHOUT ROWID;
CREATE TABLE recent_event_keys (
    deployment_id  INTEGER NOT NULL,
    event_id       TEXT NOT NULL,
    event_row      INTEGER NOT NULL,
    PRIMARY KEY (deployment_id, event_id)
) WITHOUT ROWID;
-- A case is keyed by the first eight hexadecimal characters of its
-- pseudonym (as migration 0014's index was): a lookup narrows to the
-- prefix, the event's row decides.
CREATE TABLE case_keys (
    deployment_id  INTEGER NOT NULL,
    case_prefix    TEXT NOT NULL,
    event_row      INTEGER NOT NULL,
    PRIMARY KEY (deployment_id, case_prefix, event_row)
) WITHOUT ROWID;
CREATE TABLE recent_case_keys (
    deployment_id  INTEGER NOT NULL,
    case_prefix    TEXT NOT NULL,
    event_row      INTEGER NOT NULL,
    PRIMARY KEY (deployment_id, case_prefix, event_row)
) WITHOUT ROWID;
INSERT INTO event_keys (deployment_id, event_id, event_row)
SELECT deployment_id, event_id, event_row FROM inference_events ORDER BY deployment_id, event_id;
INSERT INTO case_keys (deployment_id, case_prefix, event_row)
SELECT deployment_id, substr(case_pseudonym, 5, 8), event_row FROM inference_events ORDER BY 1, 2, 3;

CREATE TRIGGER inference_events_no_update BEFORE UPDATE ON inference_events
BEGIN SELECT RAISE(ABORT, 'inference events are never edited'); END;
CREATE TRIGGER inference_events_no_delete BEFORE DELETE ON inference_events
BEGIN SELECT RAISE(ABORT, 'inference events are never deleted'); END;
CREATE TRIGGER event_keys_no_update BEFORE UPDATE ON event_keys
BEGIN SELECT RAISE(ABORT, 'event keys are never edited'); END;
CREATE TRIGGER event_keys_no_delete BEFORE DELETE ON event_keys
BEGIN SELECT RAISE(ABORT, 'event keys are never deleted'); END;
CREATE TRIGGER case_keys_no_update BEFORE UPDATE ON case_keys
BEGIN SELECT RAISE(ABORT, 'case keys are never edited'); END;
CREATE TRIGGER case_keys_no_delete BEFORE DELETE ON case_keys
BEGIN SELECT RAISE(ABORT, 'case keys are never deleted'); END;
