//! `data split`: one table split into train, validation and test, its leakage report, the
//! manifest (row ids per split) stored as a content-addressed artifact, and the split recorded
//! against the data's content hash in the metadata store.
//!
//! The data comes in as a table plus its content hash ([`SplitData`]), so the same use case
//! serves a plain file today and a stored dataset version (`NAME[@VERSION]`) as well.

use aidlc_core::ids::{ContentHash, DatasetVersionId};
use aidlc_data::leakage::{LeakageInput, LeakageReport, leakage_report};
use aidlc_data::split::{SplitAssignment, SplitError, SplitInput, SplitPlan, split};
use aidlc_data::time::instants;
use aidlc_data::{Column, ColumnKind, DataError, ReadOptions, Table, read_table};
use aidlc_store::{
    ArtifactError, ArtifactStore, AuditContext, DatasetStore, NewSplit, SplitOutcome, SplitStore,
    StoreError,
};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Why a split could not be made or recorded.
#[derive(Debug, thiserror::Error)]
pub enum SplitServiceError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Split(#[from] SplitError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    #[error("{0}")]
    Invalid(String),
    /// The split breaks what its kind promises; nothing was recorded.
    #[error("the leakage report has errors; the split was not recorded")]
    Leakage(Box<LeakageReport>),
}

type Result<T, E = SplitServiceError> = std::result::Result<T, E>;

/// A table to split and what identifies its content.
#[derive(Debug, Clone)]
pub struct SplitData {
    /// The dataset name, or the file name.
    pub name: String,
    pub table: Table,
    pub content_hash: ContentHash,
    pub dataset_version: Option<DatasetVersionId>,
}

/// The columns the split and its report read, and the label's delay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitColumns {
    pub entity: Option<String>,
    pub time: Option<String>,
    pub label: Option<String>,
    /// The label value that is the positive class, as text.
    pub positive_label: Option<String>,
    pub label_delay_ms: Option<i64>,
    /// What one unit of a numeric time column is worth in milliseconds (`[problem] time_unit`);
    /// `None` reads numbers as milliseconds. Text times are dates and need no unit.
    #[serde(default)]
    pub time_unit_ms: Option<i64>,
}

/// What is stored as the manifest artifact: enough to rebuild every split exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitManifest {
    /// `aidlc.split.v1`.
    pub format: String,
    pub name: String,
    pub source_hash: ContentHash,
    pub n_rows: usize,
    pub plan: SplitPlan,
    pub columns: SplitColumns,
    pub assignment: SplitAssignment,
}

/// A recorded split: the store's record (with `created = false` when the same manifest of the
/// same data was recorded before), the manifest's hash and the leakage report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSummary {
    pub outcome: SplitOutcome,
    pub manifest_hash: ContentHash,
    pub report: LeakageReport,
}

/// Read options that keep entity and label ids as text ("00042" stays "00042").
pub fn read_options(columns: &SplitColumns) -> ReadOptions {
    let mut options = ReadOptions::default();
    for c in [&columns.entity, &columns.label].into_iter().flatten() {
        options.kinds.insert(c.clone(), ColumnKind::Categorical);
    }
    options
}

/// BLAKE3 of a file's bytes, streamed.
pub fn file_hash(path: &Path) -> Result<ContentHash, DataError> {
    let mut hasher = blake3::Hasher::new();
    let file = std::fs::File::open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            DataError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            DataError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    hasher.update_reader(file).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(ContentHash::from_blake3(hasher.finalize()))
}

/// Reads a data file and hashes its bytes.
pub fn load_file(path: &Path, columns: &SplitColumns) -> Result<SplitData> {
    let content_hash = file_hash(path)?;
    let table = read_table(path, &read_options(columns))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    Ok(SplitData {
        name,
        table,
        content_hash,
        dataset_version: None,
    })
}

/// Resolves `NAME[@VERSION]` to a stored dataset version and reads its Parquet artifact (copied
/// into `scratch`); `Ok(None)` when no such dataset is recorded.
pub async fn load_dataset<S: DatasetStore, A: ArtifactStore>(
    store: &S,
    artifacts: &A,
    reference: &str,
    columns: &SplitColumns,
    scratch: &Path,
) -> Result<Option<SplitData>> {
    let (name, version) = match reference.rsplit_once('@') {
        Some((name, v)) => {
            let v: i64 = v.parse().map_err(|_| {
                SplitServiceError::Invalid(format!(
                    "`{reference}`: the version after @ must be a whole number"
                ))
            })?;
            (name, Some(v))
        }
        None => (reference, None),
    };
    let Some(found) = store.get_dataset_version(name, version).await? else {
        return Ok(None);
    };
    let local = scratch.join(format!("{}.parquet", found.data.artifact.hex()));
    artifacts.get_to_file(&found.data.artifact, &local).await?;
    let table = read_table(&local, &read_options(columns))?;
    Ok(Some(SplitData {
        name: found.data.name.clone(),
        table,
        content_hash: found.data.hash.clone(),
        dataset_version: Some(found.id.clone()),
    }))
}

fn column<'t>(table: &'t Table, name: &str, role: &str) -> Result<&'t Column> {
    table.column(name).ok_or_else(|| {
        SplitServiceError::Invalid(format!(
            "the {role} column `{name}` is not in {}; columns: {}",
            table.path.display(),
            table.names().collect::<Vec<_>>().join(", ")
        ))
    })
}

/// A column's values as text: numbers written the shortest way, missing values as `None`.
pub fn texts(column: &Column) -> Vec<Option<String>> {
    match column {
        Column::Categorical(v) => v.clone(),
        Column::Numeric(v) => v
            .iter()
            .map(|x| (!x.is_nan()).then(|| format!("{x}")))
            .collect(),
    }
}

/// A column's instants, with an error naming the first value that is not one.
pub fn times_of(table: &Table, name: &str) -> Result<Vec<Option<i64>>> {
    instants(column(table, name, "time")?).map_err(|(row, value)| {
        SplitServiceError::Invalid(format!(
            "{}: row {} of column `{name}`: {value:?} is not a date or date-time (expected YYYY-MM-DD[THH:MM[:SS]][Z|±HH:MM])",
            table.path.display(),
            row + 1
        ))
    })
}

/// Splits the table and computes the leakage report, without storing anything.
pub fn compute_split(
    data: &SplitData,
    plan: &SplitPlan,
    columns: &SplitColumns,
) -> Result<(SplitManifest, LeakageReport)> {
    let table = &data.table;
    let entities = columns
        .entity
        .as_deref()
        .map(|c| column(table, c, "entity").map(texts))
        .transpose()?;
    let times = columns
        .time
        .as_deref()
        .map(|c| {
            // Numbers in a time column count `time_unit_ms` each (a day index, epoch seconds…),
            // so gaps, cut-offs and label delays compare in one unit.
            let unit = match column(table, c, "time")? {
                Column::Numeric(_) => columns.time_unit_ms.unwrap_or(1),
                Column::Categorical(_) => 1,
            };
            times_of(table, c).map(|ts| {
                ts.into_iter()
                    .map(|t| t.map(|v| v.saturating_mul(unit)))
                    .collect::<Vec<_>>()
            })
        })
        .transpose()?;
    let labels = columns
        .label
        .as_deref()
        .map(|c| column(table, c, "label").map(texts))
        .transpose()?;
    let assignment = split(
        plan,
        &SplitInput {
            n_rows: table.n_rows,
            entities: entities.as_deref(),
            times: times.as_deref(),
            labels: labels.as_deref(),
        },
    )?;
    let named: Vec<(&str, &Column)> = table.names().zip(&table.columns).collect();
    let report = leakage_report(
        &LeakageInput {
            kind: plan.kind,
            columns: &named,
            entity_column: columns.entity.as_deref(),
            entities: entities.as_deref(),
            time_column: columns.time.as_deref(),
            times: times.as_deref(),
            label_column: columns.label.as_deref(),
            positive_label: columns.positive_label.as_deref(),
            label_delay_ms: columns.label_delay_ms,
        },
        &assignment,
    );
    let manifest = SplitManifest {
        format: "aidlc.split.v1".into(),
        name: data.name.clone(),
        source_hash: data.content_hash.clone(),
        n_rows: table.n_rows,
        plan: plan.clone(),
        columns: columns.clone(),
        assignment,
    };
    Ok((manifest, report))
}

/// Splits, checks for leakage, stores the manifest and records the split. A report with errors
/// (an overlap the kind forbids) stops before anything is stored.
pub async fn record_split<S: SplitStore, A: ArtifactStore>(
    store: &S,
    artifacts: &A,
    ctx: &AuditContext,
    data: &SplitData,
    plan: &SplitPlan,
    columns: &SplitColumns,
) -> Result<SplitSummary> {
    let (manifest, report) = compute_split(data, plan, columns)?;
    if report.has_errors() {
        return Err(SplitServiceError::Leakage(Box::new(report)));
    }
    // serde_json writes struct fields in declaration order, so equal manifests have equal bytes
    // and therefore equal hashes.
    let bytes = serde_json::to_vec(&manifest)
        .map_err(|e| SplitServiceError::Invalid(format!("cannot serialise the manifest: {e}")))?;
    let manifest_hash = artifacts.put_bytes(bytes).await?;
    let a = &manifest.assignment;
    let outcome = store
        .record_splits(
            ctx,
            vec![NewSplit {
                name: data.name.clone(),
                source_hash: data.content_hash.clone(),
                dataset_version: data.dataset_version.clone(),
                kind: plan.kind.as_str().to_string(),
                manifest: manifest_hash.clone(),
                config: serde_json::json!({ "plan": plan, "columns": columns }),
                report: serde_json::to_value(&report).unwrap_or_default(),
                train_rows: a.train.len() as i64,
                valid_rows: a.valid.len() as i64,
                test_rows: a.test.len() as i64,
                excluded_rows: a.excluded.len() as i64,
            }],
        )
        .await?
        .pop()
        .ok_or_else(|| SplitServiceError::Invalid("the store recorded no split".into()))?;
    Ok(SplitSummary {
        outcome,
        manifest_hash,
        report,
    })
}
