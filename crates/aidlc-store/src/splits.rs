//! Records of split manifests and late-arriving labels, and the store traits that keep them.

use crate::{AuditContext, Result};
use aidlc_core::ids::{ContentHash, DatasetVersionId};
use serde::{Deserialize, Serialize};
use std::future::Future;

/// A split to record: which data it splits (by content hash), how, where its manifest artifact
/// is, and its leakage report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewSplit {
    /// The dataset name, or the file name when the data is not a stored dataset.
    pub name: String,
    /// Content hash of the data that was split.
    pub source_hash: ContentHash,
    /// The dataset version, when the data is one.
    pub dataset_version: Option<DatasetVersionId>,
    /// `temporal`, `entity_group`, `temporal_entity`, `stratified` or `random`.
    pub kind: String,
    /// Content hash of the manifest (row ids per split) in the artifact store.
    pub manifest: ContentHash,
    /// The plan that produced it (kind, fractions, seed, cuts, gap, columns).
    pub config: serde_json::Value,
    /// The leakage report.
    pub report: serde_json::Value,
    pub train_rows: i64,
    pub valid_rows: i64,
    pub test_rows: i64,
    pub excluded_rows: i64,
}

/// A recorded split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitRecord {
    pub id: String,
    pub split: NewSplit,
    pub created_by: String,
    pub created_at_ms: i64,
}

/// The result of recording one split: the same manifest of the same data is returned with
/// `created = false` instead of being recorded twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitOutcome {
    pub record: SplitRecord,
    pub created: bool,
}

/// Split manifests of data versions.
pub trait SplitStore {
    fn record_splits(
        &self,
        ctx: &AuditContext,
        batch: Vec<NewSplit>,
    ) -> impl Future<Output = Result<Vec<SplitOutcome>>> + Send;
    fn get_split(&self, id: &str) -> impl Future<Output = Result<Option<SplitRecord>>> + Send;
    fn get_split_by_manifest(
        &self,
        manifest: &ContentHash,
    ) -> impl Future<Output = Result<Option<SplitRecord>>> + Send;
    /// Splits of the data named `name` (all when `None`), oldest first.
    fn list_splits(
        &self,
        name: Option<&str>,
    ) -> impl Future<Output = Result<Vec<SplitRecord>>> + Send;
}

/// One label value and when it became known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewLabel {
    /// The label set, such as the label column's name.
    pub name: String,
    /// The entity or prediction key the label belongs to.
    pub key: String,
    /// The label as text; `None` for a label known to be missing.
    pub value: Option<String>,
    /// When the label became available (ms since the epoch).
    pub available_at_ms: i64,
    /// The time of the event the label judges, when known.
    pub event_at_ms: Option<i64>,
    /// Where it came from, such as the ingested file.
    pub source: String,
}

/// A stored label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelRecord {
    pub label: NewLabel,
    pub ingested_by: String,
    pub ingested_at_ms: i64,
}

/// How an ingest went: labels already stored for the same (name, key, available_at) are left
/// as they are, so ingesting a file twice changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelIngestOutcome {
    pub inserted: u64,
    pub already_present: u64,
}

/// Labels that arrive after the predictions they judge.
pub trait LabelStore {
    fn record_labels(
        &self,
        ctx: &AuditContext,
        batch: Vec<NewLabel>,
    ) -> impl Future<Output = Result<LabelIngestOutcome>> + Send;
    /// Every stored label of the set `name` for these keys (all keys when `None`), with every
    /// availability time, ordered by key and availability.
    fn labels(
        &self,
        name: &str,
        keys: Option<&[String]>,
    ) -> impl Future<Output = Result<Vec<LabelRecord>>> + Send;
}
