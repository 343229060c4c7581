-- The success criteria of a deployment (PostgreSQL): what its productivity audit
-- must show for it to scale, as JSON (a list of
-- vigil_monitor::productivity::SuccessCriterion). Versions are never edited:
-- a change is a new version, audited; the highest is in force. Only a
-- version registered before go-live decides the audit's recommendation.
CREATE TABLE success_criteria (
    deployment_id   BIGINT NOT NULL REFERENCES deployments (id),
    version         BIGINT NOT NULL,
    criteria        TEXT NOT NULL,
    rationale       TEXT NOT NULL,
    registered_by   TEXT NOT NULL,
    registered_at   TEXT NOT NULL,
    audit_sequence  BIGINT NOT NULL,
    PRIMARY KEY (deployment_id, version)
);
