-- Procurement assessments of product versions (SQLite): the template used
-- (TOML, kept whole so that the score can be recomputed), the answers (JSON,
-- vigil_domain::procurement::Answer), a draft until completed with its
-- outcome. Attachments are evidence files, content-addressed by SHA-256 and
-- kept per organisation (a Trust reads only its own and those below it).
CREATE TABLE procurement_assessments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    version_id      INTEGER NOT NULL REFERENCES product_versions (id),
    organisation    TEXT NOT NULL REFERENCES organisations (code),
    template        TEXT NOT NULL,
    answers         TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('draft', 'completed')),
    outcome         TEXT CHECK (outcome IN ('pass', 'fail')),
    total_percent   REAL,
    revision        INTEGER NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_by      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    audit_sequence  INTEGER NOT NULL
);
CREATE INDEX procurement_assessments_by_version ON procurement_assessments (version_id, id);

CREATE TABLE attachments (
    organisation    TEXT NOT NULL REFERENCES organisations (code),
    sha256          TEXT NOT NULL,
    media_type      TEXT NOT NULL,
    size_bytes      INTEGER NOT NULL,
    content         BLOB NOT NULL,
    uploaded_by     TEXT NOT NULL,
    uploaded_at     TEXT NOT NULL,
    PRIMARY KEY (organisation, sha256)
);
