//! Monitoring results as time series: one point per endpoint, window, signal and feature, and
//! the store trait that keeps them. The monitors (`aidlc-service::monitor`) compute the points;
//! the store writes them idempotently, so monitoring a window again replaces its points instead
//! of adding a second copy.

use crate::{AuditContext, Result};
use serde::{Deserialize, Serialize};
use std::future::Future;

/// One value a monitor measured for an endpoint over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorPoint {
    pub endpoint: String,
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    /// The signal name alert rules match (`drift.feature.age`, `drift.share`,
    /// `performance.roc_auc`, …).
    pub signal: String,
    /// The feature the signal is about, for per-feature signals.
    pub feature: Option<String>,
    /// The measured value; a non-finite value is kept as "no value" and read back as NaN.
    pub value: f64,
    /// What else the monitor found (method, p-value, sizes, reference…).
    pub extra: serde_json::Value,
}

impl MonitorPoint {
    /// The identity of a point: writing a point with the same identity replaces the old one.
    pub fn key(&self) -> (&str, i64, i64, &str, &str) {
        (
            &self.endpoint,
            self.window_start_ms,
            self.window_end_ms,
            &self.signal,
            self.feature.as_deref().unwrap_or(""),
        )
    }
}

/// Which points to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonitorQuery {
    pub endpoint: String,
    /// Only windows ending after this time (ms).
    pub from_ms: Option<i64>,
    /// Only windows ending at or before this time (ms).
    pub to_ms: Option<i64>,
    /// Only signals whose name starts with this prefix.
    pub signal_prefix: Option<String>,
}

/// What a batch write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorWriteOutcome {
    /// Points in the batch after duplicates inside it were merged (the last one wins).
    pub points: usize,
    /// Distinct (endpoint, window) pairs written.
    pub windows: usize,
}

/// Monitoring time series.
pub trait MonitorStore {
    /// Writes a batch of points in one transaction with one audit entry (`monitor.record`) per
    /// endpoint. A point whose (endpoint, window, signal, feature) is already stored replaces
    /// it, so a window monitored twice keeps one point per signal and feature.
    fn record_monitor_points(
        &self,
        ctx: &AuditContext,
        batch: Vec<MonitorPoint>,
    ) -> impl Future<Output = Result<MonitorWriteOutcome>> + Send;
    /// Points ordered by window end, signal and feature.
    fn monitor_points(
        &self,
        query: &MonitorQuery,
    ) -> impl Future<Output = Result<Vec<MonitorPoint>>> + Send;
    /// The latest monitored window of an endpoint (start, end), if any.
    fn latest_monitor_window(
        &self,
        endpoint: &str,
    ) -> impl Future<Output = Result<Option<(i64, i64)>>> + Send;
}

/// Merges points with the same identity, keeping the last, in first-seen order of identities.
pub(crate) fn dedup_points(batch: Vec<MonitorPoint>) -> Vec<MonitorPoint> {
    let mut index: std::collections::HashMap<(String, i64, i64, String, String), usize> =
        std::collections::HashMap::new();
    let mut out: Vec<MonitorPoint> = Vec::with_capacity(batch.len());
    for p in batch {
        let (e, s, w, g, f) = p.key();
        let key = (e.to_string(), s, w, g.to_string(), f.to_string());
        match index.get(&key) {
            Some(&i) => out[i] = p,
            None => {
                index.insert(key, out.len());
                out.push(p);
            }
        }
    }
    out
}
