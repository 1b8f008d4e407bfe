//! `features join`: a training set built by a point-in-time join of an entity file (one row per
//! prediction event: key, time, label…) with a feature file, written as CSV or Parquet.

use crate::split::{texts, times_of};
use aidlc_data::join::{PitJoinOptions, TimedKeys, point_in_time_match};
use aidlc_data::{
    Column, ColumnKind, ColumnSchema, DataError, ReadOptions, read_table, write_table,
};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum FeatureJoinError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("{0}")]
    Invalid(String),
}

/// What to join.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureJoinRequest {
    pub entities: PathBuf,
    pub features: PathBuf,
    /// The key column, in both files.
    pub key: String,
    /// The time column, in both files: the event time of entity rows, the feature time of
    /// feature rows.
    pub time: String,
    /// The feature file's created (written) time column, for tie-breaks and "as known at".
    pub created_column: Option<String>,
    pub options: PitJoinOptions,
    pub out: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureJoinReport {
    pub entity_rows: usize,
    pub feature_rows: usize,
    /// Entity rows that got a feature row.
    pub matched: usize,
    /// Entity rows kept with empty features (left join).
    pub unmatched: usize,
    /// The feature columns added, as named in the output.
    pub feature_columns: Vec<String>,
    pub out: PathBuf,
}

fn gather(column: &Column, rows: &[Option<usize>]) -> Column {
    match column {
        Column::Numeric(v) => {
            Column::Numeric(rows.iter().map(|r| r.map_or(f64::NAN, |i| v[i])).collect())
        }
        Column::Categorical(v) => {
            Column::Categorical(rows.iter().map(|r| r.and_then(|i| v[i].clone())).collect())
        }
    }
}

/// Joins and writes the output: every entity column, then each feature column (except the key,
/// time and created columns), named `features__NAME` where the entity file has a column of the
/// same name.
pub fn join_features(request: &FeatureJoinRequest) -> Result<FeatureJoinReport, FeatureJoinError> {
    let mut options = ReadOptions::default();
    options
        .kinds
        .insert(request.key.clone(), ColumnKind::Categorical);
    let entities = read_table(&request.entities, &options)?;
    let features = read_table(&request.features, &options)?;
    let key_of = |table: &aidlc_data::Table| {
        table.column(&request.key).map(texts).ok_or_else(|| {
            FeatureJoinError::Invalid(format!(
                "{}: no key column `{}`",
                table.path.display(),
                request.key
            ))
        })
    };
    let time_of = |table: &aidlc_data::Table, name: &str| {
        times_of(table, name).map_err(|e| FeatureJoinError::Invalid(e.to_string()))
    };
    let entity_keys = key_of(&entities)?;
    let entity_times = time_of(&entities, &request.time)?;
    let feature_keys = key_of(&features)?;
    let feature_times = time_of(&features, &request.time)?;
    let created = request
        .created_column
        .as_deref()
        .map(|c| time_of(&features, c))
        .transpose()?;
    let matched = point_in_time_match(
        TimedKeys {
            keys: &entity_keys,
            times: &entity_times,
            created: None,
        },
        TimedKeys {
            keys: &feature_keys,
            times: &feature_times,
            created: created.as_deref(),
        },
        &request.options,
    );
    let mut schema: Vec<ColumnSchema> = entities.schema.clone();
    let mut columns: Vec<Column> = entities.columns.clone();
    let mut feature_columns = Vec::new();
    let skip = [
        Some(request.key.as_str()),
        Some(request.time.as_str()),
        request.created_column.as_deref(),
    ];
    for (s, c) in features.schema.iter().zip(&features.columns) {
        if skip.contains(&Some(s.name.as_str())) {
            continue;
        }
        let name = if entities.column(&s.name).is_some() {
            format!("features__{}", s.name)
        } else {
            s.name.clone()
        };
        feature_columns.push(name.clone());
        schema.push(ColumnSchema { name, kind: s.kind });
        columns.push(gather(c, &matched));
    }
    write_table(&request.out, &schema, &columns)?;
    let n_matched = matched.iter().filter(|m| m.is_some()).count();
    Ok(FeatureJoinReport {
        entity_rows: entities.n_rows,
        feature_rows: features.n_rows,
        matched: n_matched,
        unmatched: entities.n_rows - n_matched,
        feature_columns,
        out: request.out.clone(),
    })
}
