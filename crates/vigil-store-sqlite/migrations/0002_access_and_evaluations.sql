-- Sign-in (passwords, sessions, API tokens), authenticated sign-offs and
-- stored evaluations (SQLite). Secrets are stored only as hashes: argon2id
-- for passwords, SHA-256 for random session and API tokens.

-- Pages of the audit trail, newest first, all or by the actors'
-- organisations.
CREATE INDEX audit_log_by_sequence ON audit_log (sequence);
CREATE INDEX audit_log_by_organisation ON audit_log (organisation, sequence);

-- A disabled user cannot sign in; their sessions are ended when disabled.
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1));

CREATE TABLE user_credentials (
    user_id        INTEGER PRIMARY KEY REFERENCES users (id),
    password_hash  TEXT NOT NULL,
    set_at         TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    organisation  TEXT NOT NULL REFERENCES organisations (code),
    role          TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);

-- A signature given by a signed-in user for one transition of one
-- deployment at one revision; the decision that follows collects them.
CREATE TABLE pending_sign_offs (
    deployment_id   INTEGER NOT NULL REFERENCES deployments (id),
    revision        INTEGER NOT NULL,
    to_state        TEXT NOT NULL,
    user_name       TEXT NOT NULL,
    role            TEXT NOT NULL,
    signed_at       TEXT NOT NULL,
    audit_sequence  INTEGER NOT NULL,
    PRIMARY KEY (deployment_id, revision, to_state, user_name, role)
);

CREATE TABLE evaluations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id   INTEGER NOT NULL REFERENCES deployments (id),
    version_id      INTEGER NOT NULL REFERENCES product_versions (id),
    verdict         TEXT NOT NULL,
    protocol        TEXT NOT NULL,
    options         TEXT NOT NULL,
    cases_sha256    TEXT NOT NULL,
    cases_bytes     INTEGER NOT NULL,
    result          TEXT NOT NULL,
    report          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    audit_sequence  INTEGER NOT NULL
);
CREATE INDEX evaluations_by_deployment ON evaluations (deployment_id, id);

CREATE TRIGGER pending_sign_offs_no_update BEFORE UPDATE ON pending_sign_offs
BEGIN SELECT RAISE(ABORT, 'sign-offs are never edited'); END;
CREATE TRIGGER pending_sign_offs_no_delete BEFORE DELETE ON pending_sign_offs
BEGIN SELECT RAISE(ABORT, 'sign-offs are never deleted'); END;
CREATE TRIGGER evaluations_no_update BEFORE UPDATE ON evaluations
BEGIN SELECT RAISE(ABORT, 'evaluations are never edited'); END;
CREATE TRIGGER evaluations_no_delete BEFORE DELETE ON evaluations
BEGIN SELECT RAISE(ABORT, 'evaluations are never deleted'); END;
CREATE TRIGGER evaluations_no_replace BEFORE INSERT ON evaluations
WHEN EXISTS (SELECT 1 FROM evaluations WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'evaluations are never replaced'); END;
