//! Late labels: a file of labels recorded with the time each became available, and the as-of
//! join that gives each (key, time) the label known at that time, so training sets and logged
//! predictions never see a label from their future; and the join of labels to logged
//! predictions, by request id or by entity and event time.

use crate::split::{texts, times_of};
use aidlc_data::join::{PitJoinOptions, TimedKeys, point_in_time_match};
use aidlc_data::{ColumnKind, DataError, ReadOptions, read_table};
use aidlc_store::predlog::PredictionFrame;
use aidlc_store::{
    AuditContext, LabelIngestOutcome, LabelRecord, LabelStore, NewLabel, StoreError,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
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
    /// The column with the time of the event each label judges. With it, the key column holds
    /// entities and each label judges that entity's predictions made before the event (see
    /// [`entity_labels`]); without it, the key column holds request ids.
    pub event_time_column: Option<String>,
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
    let events = match &request.event_time_column {
        Some(c) => Some(times_of(&table, c).map_err(|e| LabelError::Invalid(e.to_string()))?),
        None => None,
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
        // An entity label without its event time cannot be placed, so it is skipped too.
        let event_at_ms = match &events {
            Some(events) => match events[row] {
                Some(t) => Some(t),
                None => continue,
            },
            None => None,
        };
        batch.push(NewLabel {
            name: name.clone(),
            key: key.clone(),
            value: values[row].clone(),
            available_at_ms: at,
            event_at_ms,
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

/// One label sent through the API: keyed by a prediction's request id, or by an entity and the
/// time of the event it judges.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelInput {
    pub request_id: Option<String>,
    pub entity: Option<String>,
    pub event_at_ms: Option<i64>,
    /// `None` for a label known to be missing.
    pub value: Option<String>,
    /// When the label became known; `None` for the time it is recorded.
    pub available_at_ms: Option<i64>,
}

/// Records labels sent through the API in one batch. The batch is checked whole first: one
/// malformed label (named by its index) records nothing.
pub async fn record_label_inputs<S: LabelStore>(
    store: &S,
    ctx: &AuditContext,
    name: &str,
    inputs: Vec<LabelInput>,
    source: &str,
) -> Result<LabelIngestReport, LabelError> {
    if name.trim().is_empty() {
        return Err(LabelError::Invalid(
            "the label set `name` is empty; send one or set `[problem.label] column`".into(),
        ));
    }
    let rows = inputs.len();
    let mut batch = Vec::with_capacity(rows);
    for (i, l) in inputs.into_iter().enumerate() {
        let key_of = |k: Option<String>, field: &str| match k {
            Some(k) if k.trim().is_empty() => {
                Err(LabelError::Invalid(format!("labels[{i}].{field} is empty")))
            }
            k => Ok(k),
        };
        let request_id = key_of(l.request_id, "request_id")?;
        let entity = key_of(l.entity, "entity")?;
        // A request-id label may carry its event's time too, as information: the request id
        // alone names the prediction it judges.
        let (key, event_at_ms) = match (request_id, entity, l.event_at_ms) {
            (Some(id), None, at) => (id, at),
            (None, Some(entity), Some(at)) => (entity, Some(at)),
            (None, Some(_), None) => {
                return Err(LabelError::Invalid(format!(
                    "labels[{i}]: an `entity` label needs the `event_time` of the event it judges"
                )));
            }
            (Some(_), Some(_), _) => {
                return Err(LabelError::Invalid(format!(
                    "labels[{i}]: give `request_id` or `entity` with `event_time`, not both"
                )));
            }
            (None, None, _) => {
                return Err(LabelError::Invalid(format!(
                    "labels[{i}]: no key; give `request_id`, or `entity` with `event_time`"
                )));
            }
        };
        batch.push(NewLabel {
            name: name.to_string(),
            key,
            value: l.value,
            available_at_ms: l.available_at_ms.unwrap_or(ctx.at_ms),
            event_at_ms,
            source: source.to_string(),
        });
    }
    let outcome = store.record_labels(ctx, batch).await?;
    Ok(LabelIngestReport {
        name: name.to_string(),
        rows,
        skipped: 0,
        outcome,
    })
}

/// For each prediction of an entity at a time, the entity label that judges it: the one with the
/// earliest event time at or after the prediction, no later than `horizon_ms` after it (any
/// later event when `None`). Of several labels for the same event, the latest available wins (a
/// correction). Each prediction is judged on its own, so a window's predictions need no look at
/// the predictions of other windows.
pub fn entity_labels<'l>(
    labels: &'l [LabelRecord],
    entities: &[Option<String>],
    times: &[i64],
    horizon_ms: Option<i64>,
) -> Vec<Option<&'l LabelRecord>> {
    // Per entity, its labels by event time, the latest available last among equal events.
    let mut by_entity: HashMap<&str, Vec<&LabelRecord>> = HashMap::new();
    for l in labels {
        if l.label.event_at_ms.is_some() {
            by_entity.entry(l.label.key.as_str()).or_default().push(l);
        }
    }
    for list in by_entity.values_mut() {
        list.sort_by_key(|l| (l.label.event_at_ms, l.label.available_at_ms));
    }
    entities
        .iter()
        .zip(times)
        .map(|(entity, &t)| {
            let list = by_entity.get(entity.as_deref()?)?;
            let first = list.partition_point(|l| l.label.event_at_ms.unwrap_or(i64::MIN) < t);
            let event = list.get(first)?.label.event_at_ms?;
            if horizon_ms.is_some_and(|h| event - t > h) {
                return None;
            }
            let last = list.partition_point(|l| l.label.event_at_ms.unwrap_or(i64::MIN) <= event);
            Some(list[last - 1])
        })
        .collect()
}

/// The labels of the set `name` that judge a window's predictions, by request id: a label keyed
/// by the request id (or `<request id>.<row>` for a batch row; its event time, if any, is only
/// information), else a label of the prediction's entity by event time ([`entity_labels`]).
/// Entity labels are those with an event time; a label without one never joins by entity. Labels known to be missing are left out, as are
/// labels that did not exist yet at `as_of_ms`.
pub async fn labels_for_predictions<S: LabelStore + Sync>(
    store: &S,
    name: &str,
    frame: &PredictionFrame,
    horizon_ms: Option<i64>,
    as_of_ms: Option<i64>,
) -> Result<HashMap<String, String>, StoreError> {
    let mut out = HashMap::new();
    if frame.is_empty() {
        return Ok(out);
    }
    let available = |l: &LabelRecord| as_of_ms.is_none_or(|t| l.label.available_at_ms <= t);
    let by_request = store.labels(name, Some(&frame.request_id)).await?;
    let mut newest: HashMap<&str, i64> = HashMap::new();
    for rec in by_request.iter().filter(|l| available(l)) {
        let Some(value) = &rec.label.value else {
            continue;
        };
        let at = rec.label.available_at_ms;
        if newest.get(rec.label.key.as_str()).is_none_or(|&t| at >= t) {
            newest.insert(&rec.label.key, at);
            out.insert(rec.label.key.clone(), value.clone());
        }
    }
    let mut entities: Vec<String> = frame.entity.iter().flatten().cloned().collect();
    if entities.is_empty() {
        return Ok(out);
    }
    entities.sort_unstable();
    entities.dedup();
    let by_entity: Vec<LabelRecord> = store
        .labels(name, Some(&entities))
        .await?
        .into_iter()
        .filter(|l| l.label.event_at_ms.is_some() && available(l))
        .collect();
    for (i, label) in entity_labels(&by_entity, &frame.entity, &frame.time_ms, horizon_ms)
        .into_iter()
        .enumerate()
    {
        if let Some(value) = label.and_then(|l| l.label.value.as_ref())
            && !out.contains_key(&frame.request_id[i])
        {
            out.insert(frame.request_id[i].clone(), value.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(entity: &str, value: &str, event_at: i64, available_at: i64) -> LabelRecord {
        LabelRecord {
            label: NewLabel {
                name: "y".into(),
                key: entity.into(),
                value: Some(value.into()),
                available_at_ms: available_at,
                event_at_ms: Some(event_at),
                source: "t".into(),
            },
            ingested_by: "t".into(),
            ingested_at_ms: 0,
        }
    }

    #[test]
    fn a_prediction_takes_the_first_event_of_its_entity_at_or_after_it() {
        let labels = vec![
            event("a", "0", 100, 150),
            event("a", "1", 200, 250),
            // A correction of the event at 200, known later.
            event("a", "0", 200, 300),
            event("b", "1", 50, 60),
        ];
        let entities: Vec<Option<String>> = ["a", "a", "a", "a", "b", "c"]
            .iter()
            .map(|k| Some(k.to_string()))
            .chain([None])
            .collect();
        let times = [90, 100, 101, 201, 10, 10, 10];
        let value = |horizon| -> Vec<Option<&str>> {
            entity_labels(&labels, &entities, &times, horizon)
                .into_iter()
                .map(|l| l.and_then(|l| l.label.value.as_deref()))
                .collect()
        };
        assert_eq!(
            value(None),
            vec![Some("0"), Some("0"), Some("0"), None, Some("1"), None, None]
        );
        // Within 50 ms only: the prediction at 101 is 99 ms before its event, the one of `b` 40.
        assert_eq!(
            value(Some(50)),
            vec![Some("0"), Some("0"), None, None, Some("1"), None, None]
        );
    }

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
