-- The SHA-256 of a received instance's original file, when the server keeps
-- originals (a content-addressed store on disk, named by this digest).
ALTER TABLE dicom_instances ADD COLUMN original_sha256 TEXT;
