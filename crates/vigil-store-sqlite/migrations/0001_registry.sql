-- Registry, governance lifecycle and the tamper-evident audit trail (SQLite).
-- Timestamps are RFC 3339 UTC text with microseconds; JSON columns hold text.

CREATE TABLE organisations (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('nation', 'region', 'trust', 'site')),
    parent      TEXT REFERENCES organisations (code),
    created_at  TEXT NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_name     TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    organisation  TEXT NOT NULL REFERENCES organisations (code),
    created_at    TEXT NOT NULL
);

CREATE TABLE products (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    vendor            TEXT NOT NULL,
    name              TEXT NOT NULL,
    intended_purpose  TEXT NOT NULL,
    modality          TEXT NOT NULL,
    body_part         TEXT NOT NULL,
    task_type         TEXT NOT NULL,
    regulatory_class  TEXT NOT NULL,
    marking           TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    UNIQUE (vendor, name)
);

CREATE TABLE product_versions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id    INTEGER NOT NULL REFERENCES products (id),
    version       TEXT NOT NULL,
    release_date  TEXT NOT NULL,
    change_notes  TEXT NOT NULL,
    change_kind   TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (product_id, version)
);

CREATE TABLE deployments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id      INTEGER NOT NULL REFERENCES products (id),
    version_id      INTEGER NOT NULL REFERENCES product_versions (id),
    site            TEXT NOT NULL REFERENCES organisations (code),
    owning_team     TEXT NOT NULL,
    thresholds      TEXT NOT NULL,
    change_control  TEXT NOT NULL,
    state           TEXT NOT NULL,
    revision        INTEGER NOT NULL,
    created_at      TEXT NOT NULL
);
-- One active deployment of a product per site; a retired one may be followed
-- by a new deployment.
CREATE UNIQUE INDEX deployments_active_per_site ON deployments (product_id, site) WHERE state <> 'retired';

CREATE TABLE decisions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id  INTEGER NOT NULL REFERENCES deployments (id),
    from_state     TEXT NOT NULL,
    to_state       TEXT NOT NULL,
    version_id     INTEGER NOT NULL REFERENCES product_versions (id),
    sign_offs      TEXT NOT NULL,
    rationale      TEXT NOT NULL,
    evidence       TEXT NOT NULL,
    decided_by     TEXT NOT NULL,
    decided_at     TEXT NOT NULL,
    audit_sequence INTEGER NOT NULL
);
CREATE INDEX decisions_by_deployment ON decisions (deployment_id, id);
-- One decision per audit entry.
CREATE UNIQUE INDEX decisions_by_audit_entry ON decisions (audit_sequence);

-- The sign-off policy in force: each change is a new version, audited; the
-- newest version governs decisions (none stored: the built-in defaults).
CREATE TABLE sign_off_policies (
    version         INTEGER PRIMARY KEY,
    entries         TEXT NOT NULL,
    set_by          TEXT NOT NULL,
    set_at          TEXT NOT NULL,
    audit_sequence  INTEGER NOT NULL
);

-- The audit trail: append-only, hash-chained. `position` is the physical
-- insertion order; `sequence` is part of the hashed content.
CREATE TABLE audit_log (
    position       INTEGER PRIMARY KEY AUTOINCREMENT,
    sequence       INTEGER NOT NULL,
    recorded_at    TEXT NOT NULL,
    actor          TEXT NOT NULL,
    role           TEXT NOT NULL,
    organisation   TEXT NOT NULL,
    action         TEXT NOT NULL,
    subject        TEXT NOT NULL,
    payload        TEXT NOT NULL,
    previous_hash  TEXT NOT NULL,
    hash           TEXT NOT NULL
);

-- The head of the chain, written in the same transaction as each append, so
-- that removing entries from the tail is detected.
CREATE TABLE audit_head (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    sequence   INTEGER NOT NULL,
    hash       TEXT NOT NULL
);

-- Append-only: the application never updates or deletes audit rows or
-- decisions; these triggers make an accidental attempt fail loudly. (Someone
-- with write access to the file can drop them; the hash chain still shows it.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are never edited'); END;
CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are never deleted'); END;
CREATE TRIGGER sign_off_policies_no_update BEFORE UPDATE ON sign_off_policies
BEGIN SELECT RAISE(ABORT, 'policy versions are never edited'); END;
CREATE TRIGGER sign_off_policies_no_delete BEFORE DELETE ON sign_off_policies
BEGIN SELECT RAISE(ABORT, 'policy versions are never deleted'); END;
-- INSERT OR REPLACE deletes without firing delete triggers: refuse an insert
-- that would replace an existing row.
CREATE TRIGGER decisions_no_replace BEFORE INSERT ON decisions
WHEN EXISTS (SELECT 1 FROM decisions WHERE id = NEW.id OR audit_sequence = NEW.audit_sequence)
BEGIN SELECT RAISE(ABORT, 'decisions are never replaced'); END;
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE position = NEW.position)
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER sign_off_policies_no_replace BEFORE INSERT ON sign_off_policies
WHEN EXISTS (SELECT 1 FROM sign_off_policies WHERE version = NEW.version)
BEGIN SELECT RAISE(ABORT, 'policy versions are never replaced'); END;
-- The recorded head only moves forward, to an entry that exists.
CREATE TRIGGER audit_head_no_replace BEFORE INSERT ON audit_head
WHEN EXISTS (SELECT 1 FROM audit_head)
  AND (NEW.sequence <= (SELECT sequence FROM audit_head)
       OR NOT EXISTS (SELECT 1 FROM audit_log WHERE sequence = NEW.sequence AND hash = NEW.hash))
BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward to an existing entry'); END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'the audit head is never deleted'); END;
CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
WHEN NEW.sequence <= OLD.sequence
  OR NOT EXISTS (SELECT 1 FROM audit_log WHERE sequence = NEW.sequence AND hash = NEW.hash)
BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward to an existing entry'); END;
