//! Late labels: a file of labels recorded with the time each became available, and the as-of
//! join that gives each (key, time) the label known at that time, so training sets and logged
//! predictions never see a label from their future.

use crate::split::{texts, times_of};
use aidlc_data::join::{PitJoinOptions, TimedKeys, point_in_time_match};
use aidlc_data::{ColumnKind, DataError, ReadOptions, read_table};
use aidlc_store::{
    AuditContext, LabelIngestOutcome, LabelRecord, LabelStore, NewLabel, StoreError,
};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(String),
}

/// What to ingest.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelIngestRequest {
    pub path: PathBuf,
    /// The column with the entity or prediction key.
    pub key_column: String,
    /// The label column; its name also names the label set unless `name` is given.
    pub label_column: String,
    /// The column with the time each label became available; without it, every label counts as
    /// available at `now_ms` (the ingest time).
    pub time_column: Option<String>,
    pub name: Option<String>,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelIngestReport {
    pub name: String,
    pub rows: usize,
    /// Rows without a key or an availability time, which cannot be joined to anything.
    pub skipped: usize,
    pub outcome: LabelIngestOutcome,
}

/// Reads the file and records its labels in one batch (idempotent on key and availability).
pub async fn ingest_labels<S: LabelStore>(
    store: &S,
    ctx: &AuditContext,
    request: &LabelIngestRequest,
) -> Result<LabelIngestReport, LabelError> {
    let mut options = ReadOptions::default();
    options
        .kinds
        .insert(request.key_column.clone(), ColumnKind::Categorical);
    options
        .kinds
        .insert(request.label_column.clone(), ColumnKind::Categorical);
    let table = read_table(&request.path, &options)?;
    let get = |name: &str| {
        table.column(name).ok_or_else(|| {
            LabelError::Invalid(format!(
                "{}: no column `{name}`; columns: {}",
                request.path.display(),
                table.names().collect::<Vec<_>>().join(", ")
            ))
        })
    };
    let keys = texts(get(&request.key_column)?);
    let values = texts(get(&request.label_column)?);
    let available = match &request.time_column {
        Some(c) => times_of(&table, c).map_err(|e| LabelError::Invalid(e.to_string()))?,
        None => vec![Some(request.now_ms); table.n_rows],
    };
    let name = request
        .name
        .clone()
        .unwrap_or_else(|| request.label_column.clone());
    let source = request.path.display().to_string();
    let mut batch = Vec::with_capacity(table.n_rows);
    for row in 0..table.n_rows {
        let (Some(key), Some(at)) = (&keys[row], available[row]) else {
            continue;
        };
        batch.push(NewLabel {
            name: name.clone(),
            key: key.clone(),
            value: values[row].clone(),
            available_at_ms: at,
            event_at_ms: None,
            source: source.clone(),
        });
    }
    let skipped = table.n_rows - batch.len();
    let outcome = store.record_labels(ctx, batch).await?;
    Ok(LabelIngestReport {
        name,
        rows: table.n_rows,
        skipped,
        outcome,
    })
}

/// For each (key, time), the label with the latest `available_at <= time` among `labels`, or
/// `None` when no label of that key was available yet. A correction (a later availability)
/// replaces the earlier value only from its own availability time on.
pub fn labels_as_of<'l>(
    labels: &'l [LabelRecord],
    keys: &[Option<String>],
    at: &[Option<i64>],
) -> Vec<Option<&'l LabelRecord>> {
    let label_keys: Vec<Option<String>> =
        labels.iter().map(|l| Some(l.label.key.clone())).collect();
    let label_times: Vec<Option<i64>> = labels
        .iter()
        .map(|l| Some(l.label.available_at_ms))
        .collect();
    point_in_time_match(
        TimedKeys {
            keys,
            times: at,
            created: None,
        },
        TimedKeys {
            keys: &label_keys,
            times: &label_times,
            created: None,
        },
        &PitJoinOptions {
            ttl_ms: None,
            filter_by_created: false,
        },
    )
    .into_iter()
    .map(|m| m.map(|i| &labels[i]))
    .collect()
}

/// [`labels_as_of`] over the labels stored for the set `name`.
pub async fn join_labels<S: LabelStore>(
    store: &S,
    name: &str,
    keys: &[Option<String>],
    at: &[Option<i64>],
) -> Result<Vec<Option<LabelRecord>>, LabelError> {
    let mut wanted: Vec<String> = keys.iter().flatten().cloned().collect();
    wanted.sort_unstable();
    wanted.dedup();
    let labels = store.labels(name, Some(&wanted)).await?;
    Ok(labels_as_of(&labels, keys, at)
        .into_iter()
        .map(|l| l.cloned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, value: &str, at: i64) -> LabelRecord {
        LabelRecord {
            label: NewLabel {
                name: "y".into(),
                key: key.into(),
                value: Some(value.into()),
                available_at_ms: at,
                event_at_ms: None,
                source: "t".into(),
            },
            ingested_by: "t".into(),
            ingested_at_ms: 0,
        }
    }

    #[test]
    fn a_label_counts_only_from_its_availability_on() {
        let labels = vec![
            record("a", "0", 10),
            record("a", "1", 20),
            record("b", "1", 5),
        ];
        let keys: Vec<Option<String>> = ["a", "a", "a", "b", "c"]
            .iter()
            .map(|k| Some(k.to_string()))
            .collect();
        let at = vec![Some(9), Some(10), Some(25), Some(4), Some(100)];
        let got: Vec<Option<&str>> = labels_as_of(&labels, &keys, &at)
            .into_iter()
            .map(|l| l.and_then(|l| l.label.value.as_deref()))
            .collect();
        assert_eq!(got, vec![None, Some("0"), Some("1"), None, None]);
    }
}
