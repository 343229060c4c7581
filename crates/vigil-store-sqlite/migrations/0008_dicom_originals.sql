-- The SHA-256 of a received instance's original file, when the server keeps
-- originals (a content-addressed store on disk, named by this digest).
ALTER TABLE dicom_instances ADD COLUMN original_sha256 TEXT;

-- A result's metadata comes from the latest image of its study: found
-- without reading the study's other instances, however many there are.
CREATE INDEX dicom_instances_by_study_disposition ON dicom_instances (trust, study, disposition, id);
