//! The prediction log: every prediction of every variant (production, shadow, canary), appended
//! durably and scanned by time window for monitoring.
//!
//! Two sinks implement [`PredictionLog`]:
//! - [`LocalPredictionLog`], the embedded default: write-ahead segment files in one folder,
//!   appended by one writer thread with group commit, sealed by size or age and converted to
//!   Arrow IPC files (one per endpoint and segment, with the segment's time range in the file
//!   name) so a window scan reads only the files that overlap the window.
//! - [`JetStreamPredictionLog`], for deployments with several replicas: records are published to
//!   a NATS JetStream stream on the subject `<prefix>.<endpoint>` and `append` resolves on the
//!   server's publish acknowledgements.
//!
//! # Durability bounds of the local log
//!
//! With [`AckPolicy::Written`] (the default), `append` resolves after the records' `write(2)` to
//! the active segment has returned: from then on they survive a crash of the process (kill -9),
//! because the kernel holds them in its page cache. Segments are fsynced every
//! [`LocalLogConfig::sync_interval`] (100 ms by default) by a separate thread, and on seal and
//! shutdown, so a power loss or kernel crash loses at most the records acknowledged in the last
//! `sync_interval` plus the time one fsync takes. No request ever waits for an fsync.
//!
//! With [`AckPolicy::Synced`], `append` resolves only after the group's `fdatasync` returned:
//! acknowledged records also survive a power loss, at the price of one fsync latency per group
//! (concurrent appends share it).
//!
//! Records are framed with their length and a CRC-32; on reopen the first frame that is
//! incomplete or fails its checksum ends the segment (a torn tail), and the file is cut there.

mod codec;
mod columnar;
mod jetstream;
mod local;
mod reader;

pub use columnar::{FeatureColumn, FeatureValues, PredictionFrame};
pub use jetstream::{JetStreamConfig, JetStreamPredictionLog};
pub use local::{AckPolicy, LocalLogConfig, LocalPredictionLog};
pub use reader::LocalLogReader;

use serde::{Deserialize, Serialize};
use std::future::Future;
use std::path::PathBuf;

/// Which deployment slot answered: the production model, a shadow (answer logged, not returned)
/// or a canary (answer returned to a share of the traffic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    Production,
    Shadow,
    Canary,
}

impl Variant {
    pub(crate) fn code(self) -> u8 {
        match self {
            Variant::Production => 0,
            Variant::Shadow => 1,
            Variant::Canary => 2,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<Variant> {
        match code {
            0 => Some(Variant::Production),
            1 => Some(Variant::Shadow),
            2 => Some(Variant::Canary),
            _ => None,
        }
    }
}

/// One input feature's value as the model received it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureValue {
    Number(f64),
    Text(String),
    /// The request had no value (null or absent) for this feature.
    Missing,
}

/// What the model answered.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PredictionOutputs {
    /// The predicted class of a classifier.
    pub label: Option<String>,
    /// Class probabilities of a classifier, in the model's class order.
    pub probabilities: Vec<f64>,
    /// The predicted value of a regressor (or a score).
    pub value: Option<f64>,
}

/// One answered prediction.
///
/// Within one endpoint, a feature that a record does not list reads back as
/// [`FeatureValue::Missing`] once its segment is sealed (the columnar files have one column per
/// feature of the endpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionRecord {
    pub request_id: String,
    /// When the prediction was made, in milliseconds since the Unix epoch.
    pub time_ms: i64,
    pub endpoint: String,
    pub model: String,
    pub version: i64,
    pub variant: Variant,
    /// Input features in the order the model declares them.
    pub features: Vec<(String, FeatureValue)>,
    pub outputs: PredictionOutputs,
    /// Time spent answering, in microseconds.
    pub latency_us: u32,
    /// The entity the request was about (`x-aidlc-entity-id` or the native body's `entity`), so
    /// labels keyed by entity and event time can be joined to the prediction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
}

/// A time window of one endpoint's predictions, optionally narrowed to a model, version or
/// variant. The window is half-open: `from_ms <= time_ms < to_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanQuery {
    pub endpoint: String,
    pub from_ms: i64,
    pub to_ms: i64,
    pub model: Option<String>,
    pub version: Option<i64>,
    pub variant: Option<Variant>,
}

impl ScanQuery {
    /// Every variant and version of `endpoint` in `[from_ms, to_ms)`.
    pub fn window(endpoint: impl Into<String>, from_ms: i64, to_ms: i64) -> ScanQuery {
        ScanQuery {
            endpoint: endpoint.into(),
            from_ms,
            to_ms,
            model: None,
            version: None,
            variant: None,
        }
    }

    pub(crate) fn overlaps(&self, min_ms: i64, max_ms: i64) -> bool {
        min_ms < self.to_ms && max_ms >= self.from_ms
    }

    pub(crate) fn matches(
        &self,
        time_ms: i64,
        model: &str,
        version: i64,
        variant: Variant,
    ) -> bool {
        time_ms >= self.from_ms
            && time_ms < self.to_ms
            && self.model.as_deref().is_none_or(|m| m == model)
            && self.version.is_none_or(|v| v == version)
            && self.variant.is_none_or(|v| v == variant)
    }
}

/// Counters for metrics and health checks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PredictionLogStats {
    /// Records acknowledged since the log was opened.
    pub records_appended: u64,
    /// Bytes acknowledged since the log was opened (framed bytes for the local log, payload
    /// bytes for JetStream).
    pub bytes_appended: u64,
    /// Records handed to `append` and not yet acknowledged.
    pub pending_records: u64,
    /// Acknowledged bytes not yet fsynced (local log with [`AckPolicy::Written`]; 0 otherwise).
    pub unsynced_bytes: u64,
    /// When the last fsync (local) or acknowledgement (JetStream) completed, in ms since the epoch.
    pub last_flush_ms: Option<i64>,
    /// Segments sealed and converted to columnar files since the log was opened (local only).
    pub segments_sealed: u64,
    /// Sealed segments still waiting for conversion (local only): the converter's lag. Scans
    /// read these row by row, so a growing number means slower scans.
    pub segments_unconverted: u64,
}

/// Errors of the prediction log.
#[derive(Debug, thiserror::Error)]
pub enum PredictionLogError {
    #[error("prediction log I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("prediction log file {path} is corrupt at byte {offset}: {reason}")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("prediction log columnar file {path}: {source}")]
    Arrow {
        path: PathBuf,
        source: arrow::error::ArrowError,
    },
    #[error("prediction log is closed: its writer has stopped")]
    Closed,
    #[error("JetStream prediction log, {operation}: {message}")]
    JetStream {
        operation: &'static str,
        message: String,
    },
    #[error("invalid prediction record `{request_id}`: {reason}")]
    InvalidRecord { request_id: String, reason: String },
}

pub type PredictionLogResult<T> = std::result::Result<T, PredictionLogError>;

/// A durable, append-only log of predictions.
///
/// `append` resolves once the records are acknowledged-durable under the sink's stated policy
/// (see the module docs); a batch is the primitive and concurrent calls share one write.
pub trait PredictionLog: Send + Sync {
    fn append(
        &self,
        batch: Vec<PredictionRecord>,
    ) -> impl Future<Output = PredictionLogResult<()>> + Send;

    /// The records of a time window, as columns (one per feature) for drift computations, in
    /// append order.
    fn scan(
        &self,
        query: &ScanQuery,
    ) -> impl Future<Output = PredictionLogResult<PredictionFrame>> + Send;

    fn stats(&self) -> PredictionLogStats;
}

/// Escapes a name (an endpoint) so it is one file-name component and one NATS subject token:
/// ASCII letters, digits, `_` and `-` stay, every other byte becomes `%XX`.
pub(crate) fn escape_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn unescape_name(escaped: &str) -> Option<String> {
    let bytes = escaped.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = escaped.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Either sink, chosen from configuration at start-up (the trait's `async fn`s make it
/// unusable as `dyn PredictionLog`).
pub enum AnyPredictionLog {
    Local(LocalPredictionLog),
    JetStream(Box<JetStreamPredictionLog>),
}

impl AnyPredictionLog {
    /// Makes every acknowledged record durable: an fsync of the local log's active segment; the
    /// JetStream sink's records are durable once acknowledged, so nothing is left to do.
    pub async fn flush(&self) -> PredictionLogResult<()> {
        match self {
            AnyPredictionLog::Local(log) => log.flush().await,
            AnyPredictionLog::JetStream(_) => Ok(()),
        }
    }
}

impl PredictionLog for AnyPredictionLog {
    async fn append(&self, batch: Vec<PredictionRecord>) -> PredictionLogResult<()> {
        match self {
            AnyPredictionLog::Local(log) => log.append(batch).await,
            AnyPredictionLog::JetStream(log) => log.append(batch).await,
        }
    }

    async fn scan(&self, query: &ScanQuery) -> PredictionLogResult<PredictionFrame> {
        match self {
            AnyPredictionLog::Local(log) => log.scan(query).await,
            AnyPredictionLog::JetStream(log) => log.scan(query).await,
        }
    }

    fn stats(&self) -> PredictionLogStats {
        match self {
            AnyPredictionLog::Local(log) => log.stats(),
            AnyPredictionLog::JetStream(log) => log.stats(),
        }
    }
}
