-- Monitoring rules, alerts and their delivery to webhooks (SQLite).

-- Every version of a deployment's rules, as canonical JSON
-- (vigil_monitor::RuleSet); the highest version is in force. Versions are
-- never edited: a change is a new version, audited.
CREATE TABLE monitoring_rules (
    deployment_id   INTEGER NOT NULL REFERENCES deployments (id),
    version         INTEGER NOT NULL,
    rules           TEXT NOT NULL,
    reason          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    audit_sequence  INTEGER NOT NULL,
    PRIMARY KEY (deployment_id, version)
);

-- An alert raised by a rule, with its evidence (a vigil_monitor::Assessment
-- as JSON). It moves raised -> acknowledged -> resolved; at most one alert
-- of a rule is open at a time.
CREATE TABLE alerts (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id        INTEGER NOT NULL REFERENCES deployments (id),
    rule_id              TEXT NOT NULL,
    rules_version        INTEGER NOT NULL,
    state                TEXT NOT NULL CHECK (state IN ('raised', 'acknowledged', 'resolved')),
    evidence             TEXT NOT NULL,
    proposes_suspension  INTEGER NOT NULL CHECK (proposes_suspension IN (0, 1)),
    raised_at            TEXT NOT NULL,
    raised_by            TEXT NOT NULL,
    acknowledged_at      TEXT,
    acknowledged_by      TEXT,
    acknowledgement      TEXT,
    resolved_at          TEXT,
    resolved_by          TEXT,
    resolution           TEXT
);
CREATE UNIQUE INDEX alerts_one_open_a_rule ON alerts (deployment_id, rule_id) WHERE state <> 'resolved';
CREATE INDEX alerts_by_deployment ON alerts (deployment_id, id);

-- Where an organisation's alerts are sent: the body is signed with
-- HMAC-SHA256 under `secret`, which must therefore be kept as given.
CREATE TABLE webhooks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation  TEXT NOT NULL REFERENCES organisations (code),
    url           TEXT NOT NULL,
    secret        TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
);

-- One message to one webhook, retried with backoff until delivered or
-- given up.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id       INTEGER NOT NULL REFERENCES webhooks (id),
    alert_id         INTEGER NOT NULL REFERENCES alerts (id),
    event            TEXT NOT NULL,
    body             TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT,
    delivered_at     TEXT,
    last_error       TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

CREATE TRIGGER monitoring_rules_no_update BEFORE UPDATE ON monitoring_rules
BEGIN SELECT RAISE(ABORT, 'rule versions are never edited'); END;
CREATE TRIGGER monitoring_rules_no_delete BEFORE DELETE ON monitoring_rules
BEGIN SELECT RAISE(ABORT, 'rule versions are never deleted'); END;
CREATE TRIGGER alerts_no_delete BEFORE DELETE ON alerts
BEGIN SELECT RAISE(ABORT, 'alerts are never deleted'); END;
