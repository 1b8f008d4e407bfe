-- aidlc metadata schema, version 6: monitoring results as time series. One row per endpoint,
-- window, signal and feature ('' for signals about no single feature), so monitoring a window
-- again replaces its rows.
CREATE TABLE monitor_points (
    endpoint        TEXT NOT NULL,
    window_start_ms BIGINT NOT NULL,
    window_end_ms   BIGINT NOT NULL,
    signal          TEXT NOT NULL,
    feature         TEXT NOT NULL,
    value           DOUBLE PRECISION,
    extra_json      TEXT NOT NULL,
    recorded_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (endpoint, window_start_ms, window_end_ms, signal, feature)
);
CREATE INDEX monitor_points_end ON monitor_points (endpoint, window_end_ms);
