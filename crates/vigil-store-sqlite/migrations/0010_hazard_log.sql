-- The hazard log of each deployment (SQLite, DCB0160): each hazard as JSON
-- (vigil_domain::Hazard) at its current revision, every revision and
-- review kept in hazard_history, and the alerts that put a hazard under
-- review in hazard_alerts. Every change is audited.
CREATE TABLE hazards (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id   INTEGER NOT NULL REFERENCES deployments (id),
    revision        INTEGER NOT NULL,
    hazard          TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'controlled', 'under_review', 'closed')),
    -- The status before an alert put it under review, restored (and
    -- recorded as the reassessment) when the alert is resolved.
    status_before_review TEXT,
    updated_by      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    audit_sequence  INTEGER NOT NULL
);
CREATE INDEX hazards_by_deployment ON hazards (deployment_id, id);

CREATE TABLE hazard_history (
    hazard_id       INTEGER NOT NULL REFERENCES hazards (id),
    revision        INTEGER NOT NULL,
    hazard          TEXT NOT NULL,
    reason          TEXT NOT NULL,
    alert_id        INTEGER REFERENCES alerts (id),
    recorded_by     TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    audit_sequence  INTEGER NOT NULL,
    PRIMARY KEY (hazard_id, revision)
);

CREATE TABLE hazard_alerts (
    hazard_id       INTEGER NOT NULL REFERENCES hazards (id),
    alert_id        INTEGER NOT NULL REFERENCES alerts (id),
    linked_by       TEXT NOT NULL,
    linked_at       TEXT NOT NULL,
    PRIMARY KEY (hazard_id, alert_id)
);
CREATE INDEX hazard_alerts_by_alert ON hazard_alerts (alert_id);
