-- aidlc metadata schema, version 1 (SQLite).
CREATE TABLE projects (
    name          TEXT PRIMARY KEY,
    spec_toml     TEXT NOT NULL,
    spec_hash     TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

CREATE TABLE dataset_versions (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    version       INTEGER NOT NULL,
    hash          TEXT NOT NULL,
    artifact      TEXT NOT NULL,
    schema_json   TEXT NOT NULL,
    profile_json  TEXT NOT NULL,
    source        TEXT NOT NULL,
    rows          INTEGER NOT NULL,
    valid         INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (name, version),
    UNIQUE (name, hash)
);

CREATE TABLE runs (
    id              TEXT PRIMARY KEY,
    project         TEXT NOT NULL,
    name            TEXT NOT NULL,
    status          TEXT NOT NULL,
    dataset_version TEXT REFERENCES dataset_versions (id),
    git_commit      TEXT,
    git_dirty       INTEGER,
    params_json     TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    started_at_ms   INTEGER NOT NULL,
    ended_at_ms     INTEGER
);
CREATE INDEX runs_project_started ON runs (project, started_at_ms);

CREATE TABLE model_versions (
    id              TEXT PRIMARY KEY,
    model           TEXT NOT NULL,
    version         INTEGER NOT NULL,
    artifact        TEXT NOT NULL,
    run             TEXT REFERENCES runs (id),
    dataset_version TEXT REFERENCES dataset_versions (id),
    split           TEXT,
    git_commit      TEXT,
    git_dirty       INTEGER,
    created_by      TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    UNIQUE (model, version)
);

CREATE TABLE model_aliases (
    model   TEXT NOT NULL,
    alias   TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (model, alias)
);

CREATE TABLE deployments (
    endpoint      TEXT PRIMARY KEY,
    model         TEXT NOT NULL,
    alias         TEXT NOT NULL,
    state_json    TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at_ms INTEGER NOT NULL
);

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at_ms       INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    reason      TEXT,
    details     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_object ON audit_log (object_kind, object_id);

-- The chain head, updated in the same transaction as every append, so a deleted tail is evident.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
