-- aidlc metadata schema, version 4: split manifests with their leakage reports, and labels with
-- the time each became available (late labels).
CREATE TABLE splits (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    source_hash        TEXT NOT NULL,
    dataset_version_id TEXT,
    kind               TEXT NOT NULL,
    manifest           TEXT NOT NULL,
    config_json        TEXT NOT NULL,
    report_json        TEXT NOT NULL,
    train_rows         BIGINT NOT NULL,
    valid_rows         BIGINT NOT NULL,
    test_rows          BIGINT NOT NULL,
    excluded_rows      BIGINT NOT NULL,
    created_by         TEXT NOT NULL,
    created_at_ms      BIGINT NOT NULL,
    UNIQUE (source_hash, manifest)
);
CREATE INDEX splits_name ON splits (name, created_at_ms);

-- One row per (label set, key, availability time): a corrected label arrives as a new row with
-- a later available_at_ms, so "as known at" queries see the value of their time.
CREATE TABLE labels (
    name            TEXT NOT NULL,
    key             TEXT NOT NULL,
    available_at_ms BIGINT NOT NULL,
    value           TEXT,
    event_at_ms     BIGINT,
    source          TEXT NOT NULL,
    ingested_by     TEXT NOT NULL,
    ingested_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (name, key, available_at_ms)
);
