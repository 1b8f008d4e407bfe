-- aidlc metadata schema, version 2 (SQLite): experiment tracking as MLflow clients use it, the
-- registry's MLflow-facing fields, and evaluation reports for governed aliases.
CREATE TABLE experiments (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    artifact_location TEXT NOT NULL,
    lifecycle_stage   TEXT NOT NULL,
    creation_time     INTEGER NOT NULL,
    last_update_time  INTEGER NOT NULL
);
-- MLflow clients start runs in experiment "0" when none was chosen, so it always exists.
INSERT INTO experiments (id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', 0, 0);

CREATE TABLE experiment_tags (
    experiment_id INTEGER NOT NULL REFERENCES experiments (id),
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (experiment_id, key)
);

ALTER TABLE runs ADD COLUMN experiment_id INTEGER REFERENCES experiments (id);
ALTER TABLE runs ADD COLUMN lifecycle_stage TEXT NOT NULL DEFAULT 'active';
ALTER TABLE runs ADD COLUMN artifact_uri TEXT;
CREATE INDEX runs_experiment_started ON runs (experiment_id, lifecycle_stage, started_at_ms, id);

CREATE TABLE run_params (
    run_id TEXT NOT NULL REFERENCES runs (id),
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX run_params_key ON run_params (key, value);

CREATE TABLE run_tags (
    run_id TEXT NOT NULL REFERENCES runs (id),
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX run_tags_key ON run_tags (key, value);

-- Every logged value (the history). SQLite cannot store NaN, so a NULL value means NaN.
CREATE TABLE metrics (
    run_id         TEXT NOT NULL REFERENCES runs (id),
    key            TEXT NOT NULL,
    value          REAL,
    timestamp      INTEGER NOT NULL,
    step           INTEGER NOT NULL,
    model_id       TEXT,
    dataset_name   TEXT,
    dataset_digest TEXT
);
CREATE INDEX metrics_history ON metrics (run_id, key, step, timestamp);

-- The latest value per run and key (largest step, then timestamp), kept in the same transaction
-- as the history so run reads and metric searches never scan the history.
CREATE TABLE latest_metrics (
    run_id    TEXT NOT NULL REFERENCES runs (id),
    key       TEXT NOT NULL,
    value     REAL,
    timestamp INTEGER NOT NULL,
    step      INTEGER NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX latest_metrics_key ON latest_metrics (key, value);

CREATE TABLE run_model_outputs (
    run_id   TEXT NOT NULL REFERENCES runs (id),
    model_id TEXT NOT NULL,
    step     INTEGER NOT NULL,
    PRIMARY KEY (run_id, model_id)
);

CREATE TABLE logged_models (
    id              TEXT PRIMARY KEY,
    experiment_id   INTEGER NOT NULL REFERENCES experiments (id),
    name            TEXT NOT NULL,
    source_run_id   TEXT,
    status          TEXT NOT NULL,
    model_type      TEXT,
    artifact_uri    TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    updated_at_ms   INTEGER NOT NULL
);
CREATE INDEX logged_models_experiment ON logged_models (experiment_id, name);

CREATE TABLE logged_model_params (
    model_id TEXT NOT NULL REFERENCES logged_models (id),
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
);

CREATE TABLE logged_model_tags (
    model_id TEXT NOT NULL REFERENCES logged_models (id),
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
);

CREATE TABLE registered_models (
    name          TEXT PRIMARY KEY,
    description   TEXT NOT NULL DEFAULT '',
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
INSERT INTO registered_models (name, description, created_at_ms, updated_at_ms)
SELECT model, '', MIN(created_at_ms), MAX(created_at_ms) FROM model_versions GROUP BY model;

CREATE TABLE registered_model_tags (
    name  TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, key)
);

ALTER TABLE model_versions ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE model_versions ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE model_versions ADD COLUMN stage TEXT NOT NULL DEFAULT 'None';
ALTER TABLE model_versions ADD COLUMN logged_model_id TEXT;
ALTER TABLE model_versions ADD COLUMN updated_at_ms INTEGER;
CREATE INDEX model_versions_run ON model_versions (run);

CREATE TABLE model_version_tags (
    model   TEXT NOT NULL,
    version INTEGER NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (model, version, key)
);

-- Evaluation reports decide whether a version may take a protected alias.
CREATE TABLE evaluation_reports (
    id            TEXT PRIMARY KEY,
    model         TEXT NOT NULL,
    version       INTEGER NOT NULL,
    passed        INTEGER NOT NULL,
    report_json   TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX evaluation_reports_version ON evaluation_reports (model, version);
