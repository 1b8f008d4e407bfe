-- aidlc metadata schema, version 3 (PostgreSQL): the validation report of each dataset version.
ALTER TABLE dataset_versions ADD COLUMN validation_json TEXT NOT NULL DEFAULT 'null';
