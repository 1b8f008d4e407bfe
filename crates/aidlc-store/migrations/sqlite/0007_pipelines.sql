-- aidlc metadata schema, version 7: retraining pipeline runs (the iteration stage), each with
-- its steps' state and evidence as JSON. At most one active run per model.
CREATE TABLE pipeline_runs (
    id            TEXT PRIMARY KEY,
    model         TEXT NOT NULL,
    trigger_text  TEXT NOT NULL,
    status        TEXT NOT NULL,
    state_json    TEXT NOT NULL,
    started_by    TEXT NOT NULL,
    started_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX pipeline_runs_one_active ON pipeline_runs (model)
    WHERE status IN ('running', 'awaiting_approval');
CREATE INDEX pipeline_runs_model ON pipeline_runs (model, started_at_ms);
