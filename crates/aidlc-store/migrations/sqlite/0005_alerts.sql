-- aidlc metadata schema, version 5: alerts raised by the monitoring rules, each alert's history,
-- and every attempt to deliver its notifications.
CREATE TABLE alerts (
    id              TEXT PRIMARY KEY,
    rule            TEXT NOT NULL,
    endpoint        TEXT NOT NULL,
    signal          TEXT NOT NULL,
    severity        TEXT NOT NULL,
    condition_text  TEXT NOT NULL,
    status          TEXT NOT NULL,
    value           REAL NOT NULL,
    evidence_json   TEXT NOT NULL,
    window_start_ms BIGINT NOT NULL,
    window_end_ms   BIGINT NOT NULL,
    opened_ms       BIGINT NOT NULL,
    last_seen_ms    BIGINT NOT NULL,
    resolved_ms     BIGINT,
    observations    BIGINT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    updated_at_ms   BIGINT NOT NULL
);
-- At most one open alert per (rule, endpoint, signal), whatever the writers do.
CREATE UNIQUE INDEX alerts_one_open ON alerts (rule, endpoint, signal) WHERE status = 'open';
CREATE INDEX alerts_key ON alerts (rule, endpoint, signal, opened_ms);
CREATE INDEX alerts_endpoint ON alerts (endpoint, opened_ms);

-- What happened to each alert, in order: opened, updated while it persisted, resolved.
CREATE TABLE alert_events (
    alert_id        TEXT NOT NULL REFERENCES alerts (id),
    seq             BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    at_ms           BIGINT NOT NULL,
    value           REAL NOT NULL,
    window_start_ms BIGINT NOT NULL,
    window_end_ms   BIGINT NOT NULL,
    evidence_json   TEXT NOT NULL,
    note            TEXT,
    recorded_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (alert_id, seq)
);

-- One row per attempt to send an alert's opening or resolution to a channel.
CREATE TABLE alert_deliveries (
    alert_id     TEXT NOT NULL REFERENCES alerts (id),
    event        TEXT NOT NULL,
    channel      TEXT NOT NULL,
    channel_kind TEXT NOT NULL,
    attempt      BIGINT NOT NULL,
    delivered    INTEGER NOT NULL,
    http_status  BIGINT,
    error        TEXT,
    at_ms        BIGINT NOT NULL,
    PRIMARY KEY (alert_id, event, channel, attempt)
);
