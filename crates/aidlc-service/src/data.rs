//! The data stage: ingesting a file as a dataset version (hash, schema, profile, validation,
//! Parquet copy), listing and showing versions, comparing two versions from their stored
//! profiles, and the gate that keeps later stages off invalid versions.
//!
//! Ingest is atomic: the Parquet copy is written to a temporary file that is removed on any
//! failure, it enters the artifact store only once the whole file has been read, profiled and
//! validated, and the version is recorded in one store transaction (with its audit entry). The
//! only thing a failure after the artifact is stored can leave behind is that content-addressed
//! artifact, which no record names and which a later ingest of the same data reuses.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use aidlc_core::audit::NewAuditEntry;
use aidlc_core::ids::ContentHash;
use aidlc_core::records::{DatasetVersion, NewDatasetVersion};
use aidlc_core::spec::DataExpectations;
use aidlc_data::quotes::{QuoteParity, check_quotes};
use aidlc_data::validate::{ValidationReport, Validator};
use aidlc_data::{
    Batch, BatchReader, ColumnKind, DataError, DatasetProfile, FileFormat, ParquetSink, Position,
    ProfileOptions, Profiler, ReadOptions, ValueType, detect_format, infer_schema,
};
use aidlc_stats::drift::{ColumnDriftResult, NumericSample};
use aidlc_store::{
    ArtifactError, ArtifactStore, AuditContext, AuditStore, DatasetStore, LocalArtifactStore,
    StoreError,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum DataServiceError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error("no dataset version {0}")]
    NotFound(String),
    #[error("{0:?} is not NAME or NAME@VERSION (VERSION a positive whole number)")]
    BadReference(String),
    #[error("[data.expectations]: {0}")]
    Expectations(String),
    #[error("stored {what} of {version} cannot be read: {message}")]
    CorruptRecord {
        what: &'static str,
        version: String,
        message: String,
    },
    #[error(
        "dataset version {name}@{version} is invalid (it failed: {failed}); fix the data, or pass --override \"reason\" (audited)"
    )]
    InvalidVersion {
        name: String,
        version: i64,
        failed: String,
    },
}

/// What to ingest and how.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    pub path: PathBuf,
    /// The dataset name; `None` uses the file name without its extensions.
    pub name: Option<String>,
    /// Types set in `[data.columns]`.
    pub column_types: HashMap<String, ValueType>,
    /// Rules from `[data.expectations]`.
    pub expectations: DataExpectations,
    pub profile: ProfileOptions,
    /// Rows per batch read.
    pub batch_size: usize,
}

impl IngestRequest {
    pub fn new(path: impl Into<PathBuf>) -> IngestRequest {
        IngestRequest {
            path: path.into(),
            name: None,
            column_types: HashMap::new(),
            expectations: DataExpectations::default(),
            profile: ProfileOptions::default(),
            batch_size: aidlc_data::DEFAULT_BATCH_SIZE,
        }
    }
}

/// The result of an ingest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestOutcome {
    pub version: DatasetVersion,
    /// False when the same bytes were already recorded under this name.
    pub created: bool,
}

/// The schema stored with a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetSchema {
    pub format: FileFormat,
    pub columns: Vec<SchemaColumn>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemaColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub value_type: ValueType,
    /// True when `[data.columns]` set the type.
    pub overridden: bool,
}

/// The name a file gets by default: its file name without extensions such as `.csv.gz`.
pub fn default_name(path: &Path) -> String {
    let mut name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    loop {
        let lower = name.to_ascii_lowercase();
        let Some(stripped) = [".gz", ".csv", ".tsv", ".txt", ".parquet", ".pq"]
            .iter()
            .find(|ext| lower.ends_with(*ext) && lower.len() > ext.len())
            .map(|ext| name[..name.len() - ext.len()].to_string())
        else {
            break;
        };
        name = stripped;
    }
    name
}

/// BLAKE3 of a file's bytes, read in 1 MiB blocks. A plain CSV file is checked for an unclosed
/// quoted field in the same pass (a gzip one by a separate scan of the decompressed text).
pub fn hash_file(path: &Path) -> Result<ContentHash, DataServiceError> {
    let mut file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let format = detect_format(path)?;
    let mut quotes = (format == FileFormat::Csv).then(QuoteParity::default);
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(DataError::io(path, e).into()),
        };
        hasher.update(&buffer[..n]);
        if let Some(scanner) = &mut quotes {
            scanner.feed(&buffer[..n]);
        }
    }
    // An odd quote count means a quoted field is never closed; the slower scan names where.
    if format == FileFormat::CsvGzip || quotes.is_some_and(|q| q.is_open()) {
        check_quotes(path)?;
    }
    Ok(ContentHash::from_blake3(hasher.finalize()))
}

/// What the streaming pass produced, before anything is stored.
pub struct PreparedVersion {
    pub schema: DatasetSchema,
    pub profile: DatasetProfile,
    pub validation: Option<ValidationReport>,
    /// The Parquet copy, deleted when dropped.
    pub parquet: tempfile::NamedTempFile,
}

/// Rows of a CSV file read to guess which columns are numeric before the single full pass.
pub const INFERENCE_ROWS: usize = 100_000;

/// Reads the file in one streaming pass, profiling, validating and writing the Parquet copy
/// batch by batch into `temp_dir`. `progress` gets the rows read so far.
///
/// CSV column kinds are guessed from the first [`INFERENCE_ROWS`] rows (a column is numeric
/// when every value there is a number); when a later value proves a guess wrong, that column
/// is read as text and the pass starts again, so the common file is read once and no file is
/// ever read with a wrong kind.
pub fn prepare_version(
    request: &IngestRequest,
    temp_dir: &Path,
    now_ms: i64,
    progress: &mut dyn FnMut(u64),
) -> Result<PreparedVersion, DataServiceError> {
    let path = &request.path;
    let imposed: BTreeMap<String, ColumnKind> = request
        .column_types
        .iter()
        .map(|(name, t)| (name.clone(), t.read_kind()))
        .collect();
    let prefix = ReadOptions {
        kinds: imposed.clone(),
        row_range: Some(0..INFERENCE_ROWS),
        batch_size: request.batch_size,
        ..ReadOptions::default()
    };
    let mut kinds = imposed;
    for column in infer_schema(path, &prefix)? {
        kinds.entry(column.name).or_insert(column.kind);
    }
    loop {
        match stream_once(request, &kinds, temp_dir, now_ms, progress) {
            Err(DataServiceError::Data(DataError::NotNumeric { column, .. }))
                if !request.column_types.contains_key(&column)
                    && kinds.get(&column) == Some(&ColumnKind::Numeric) =>
            {
                kinds.insert(column, ColumnKind::Categorical);
            }
            other => return other,
        }
    }
}

/// One full pass with every column's kind fixed.
fn stream_once(
    request: &IngestRequest,
    kinds: &BTreeMap<String, ColumnKind>,
    temp_dir: &Path,
    now_ms: i64,
    progress: &mut dyn FnMut(u64),
) -> Result<PreparedVersion, DataServiceError> {
    let path = &request.path;
    let format = detect_format(path)?;
    let options = ReadOptions {
        kinds: kinds.clone(),
        batch_size: request.batch_size,
        ..ReadOptions::default()
    };
    let reader = BatchReader::open(path, &options)?;
    let read_schema = reader.schema().to_vec();
    let mut validator = Validator::new(&request.expectations, &read_schema, format)
        .map_err(DataServiceError::Expectations)?;
    let mut profiler = Profiler::new(&read_schema, &request.column_types, request.profile.clone());
    std::fs::create_dir_all(temp_dir).map_err(|e| DataServiceError::Io {
        path: temp_dir.to_path_buf(),
        message: e.to_string(),
    })?;
    sweep_abandoned_temp_files(temp_dir);
    let parquet = tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
        .suffix(".parquet")
        .tempfile_in(temp_dir)
        .map_err(|e| DataServiceError::Io {
            path: temp_dir.to_path_buf(),
            message: e.to_string(),
        })?;
    let sink = ParquetSink::create(parquet.path(), &read_schema)?;
    // Parquet encoding runs on its own thread, fed batch by batch through a channel of two, so
    // it overlaps with parsing and profiling on the other core while memory stays bounded.
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Batch>(2);
    std::thread::scope(|scope| -> Result<(), DataServiceError> {
        let writer = scope.spawn(move || -> Result<(), DataError> {
            let mut sink = sink;
            for batch in receiver {
                sink.write(&batch)?;
            }
            sink.finish()
        });
        let read = (|| -> Result<(), DataServiceError> {
            for batch in reader {
                let batch = batch?;
                profiler
                    .update(&batch)
                    .map_err(|conflict| DataError::TypeConflict {
                        path: path.clone(),
                        position: Position::of_row(format, conflict.row),
                        column: conflict.column,
                        value: conflict.value,
                        expected: conflict.expected.to_string(),
                    })?;
                validator.update(&batch);
                progress(profiler.rows());
                if sender.send(batch).is_err() {
                    // The writer stopped on an error, which its join below reports.
                    break;
                }
            }
            Ok(())
        })();
        drop(sender);
        let written = writer
            .join()
            .expect("the Parquet writer thread does not panic");
        read?;
        written?;
        Ok(())
    })?;
    if profiler.rows() == 0 {
        return Err(DataError::NoRows { path: path.clone() }.into());
    }
    let profile = profiler.finish();
    let validation = (!request.expectations.is_empty()).then(|| validator.finish(&profile, now_ms));
    let schema = DatasetSchema {
        format,
        columns: profile
            .columns
            .iter()
            .map(|c| SchemaColumn {
                name: c.name.clone(),
                value_type: c.value_type,
                overridden: c.type_overridden,
            })
            .collect(),
    };
    Ok(PreparedVersion {
        schema,
        profile,
        validation,
        parquet,
    })
}

/// Ingests a file: the same bytes under the same name give the existing version back
/// (`created = false`) without reading the file again.
pub async fn ingest<S: DatasetStore>(
    store: &S,
    artifacts: &LocalArtifactStore,
    ctx: &AuditContext,
    request: &IngestRequest,
    progress: &mut dyn FnMut(u64),
) -> Result<IngestOutcome, DataServiceError> {
    let name = request
        .name
        .clone()
        .unwrap_or_else(|| default_name(&request.path));
    let hash = hash_file(&request.path)?;
    let existing = store.list_dataset_versions(Some(&name)).await?;
    if let Some(version) = existing.into_iter().find(|v| v.data.hash == hash) {
        return Ok(IngestOutcome {
            version,
            created: false,
        });
    }
    let prepared = prepare_version(request, &artifacts.root().join("tmp"), ctx.at_ms, progress)?;
    let artifact = artifacts.put_file(prepared.parquet.path()).await?;
    drop(prepared.parquet);
    let to_json = |value: serde_json::Result<serde_json::Value>| {
        value.map_err(|e| DataServiceError::Expectations(e.to_string()))
    };
    let valid = prepared.validation.as_ref().is_none_or(|v| v.passed);
    let record = NewDatasetVersion {
        name,
        hash,
        artifact,
        schema: to_json(serde_json::to_value(&prepared.schema))?,
        profile: to_json(serde_json::to_value(&prepared.profile))?,
        source: request.path.display().to_string(),
        rows: prepared.profile.rows as i64,
        valid,
        validation: to_json(serde_json::to_value(&prepared.validation))?,
    };
    let mut outcomes = store.create_dataset_versions(ctx, vec![record]).await?;
    let outcome = outcomes.remove(0);
    Ok(IngestOutcome {
        version: outcome.version,
        created: outcome.created,
    })
}

/// `NAME` or `NAME@VERSION`.
pub fn parse_reference(text: &str) -> Result<(String, Option<i64>), DataServiceError> {
    let bad = || DataServiceError::BadReference(text.to_string());
    match text.rsplit_once('@') {
        Some((name, version)) => {
            let version: i64 = version.parse().map_err(|_| bad())?;
            if name.is_empty() || version < 1 {
                return Err(bad());
            }
            Ok((name.to_string(), Some(version)))
        }
        None if !text.is_empty() => Ok((text.to_string(), None)),
        None => Err(bad()),
    }
}

/// The version named by `NAME` (the latest) or `NAME@VERSION`.
pub async fn find_version<S: DatasetStore>(
    store: &S,
    reference: &str,
) -> Result<DatasetVersion, DataServiceError> {
    let (name, version) = parse_reference(reference)?;
    store
        .get_dataset_version(&name, version)
        .await?
        .ok_or_else(|| DataServiceError::NotFound(reference.to_string()))
}

/// A version with its schema and profile read back into their types.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionDetails {
    pub version: DatasetVersion,
    pub schema: DatasetSchema,
    pub profile: DatasetProfile,
    pub validation: Option<ValidationReport>,
}

pub fn details(version: DatasetVersion) -> Result<VersionDetails, DataServiceError> {
    let label = format!("{}@{}", version.data.name, version.version);
    let corrupt = |what: &'static str| {
        let label = label.clone();
        move |e: serde_json::Error| DataServiceError::CorruptRecord {
            what,
            version: label,
            message: e.to_string(),
        }
    };
    let schema = serde_json::from_value(version.data.schema.clone()).map_err(corrupt("schema"))?;
    let profile =
        serde_json::from_value(version.data.profile.clone()).map_err(corrupt("profile"))?;
    let validation =
        serde_json::from_value(version.data.validation.clone()).map_err(corrupt("validation"))?;
    Ok(VersionDetails {
        version,
        schema,
        profile,
        validation,
    })
}

/// One column whose type differs between the versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Retyped {
    pub column: String,
    pub from: ValueType,
    pub to: ValueType,
}

/// Categories that appear or vanish in a column present in both versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryChanges {
    pub column: String,
    pub new: Vec<String>,
    pub vanished: Vec<String>,
}

/// What changed from version A to version B.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetDiff {
    pub from: String,
    pub to: String,
    pub rows_from: u64,
    pub rows_to: u64,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub retyped: Vec<Retyped>,
    pub categories: Vec<CategoryChanges>,
    /// Per-column drift of B against A (A is the reference), each with the method Evidently
    /// would choose, computed from the stored profiles alone.
    pub drift: Vec<ColumnDriftResult>,
    pub n_drifted: usize,
}

/// Compares two versions from their stored profiles (no raw data is read).
pub fn diff(from: &VersionDetails, to: &VersionDetails) -> DatasetDiff {
    let label = |d: &VersionDetails| format!("{}@{}", d.version.data.name, d.version.version);
    let types = |d: &VersionDetails| -> BTreeMap<String, ValueType> {
        d.schema
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.value_type))
            .collect()
    };
    let (a, b) = (types(from), types(to));
    let added = b.keys().filter(|k| !a.contains_key(*k)).cloned().collect();
    let removed = a.keys().filter(|k| !b.contains_key(*k)).cloned().collect();
    let mut retyped = Vec::new();
    let mut categories = Vec::new();
    let mut drift = Vec::new();
    for column in &from.profile.columns {
        let Some(other) = to.profile.column(&column.name) else {
            continue;
        };
        if column.value_type != other.value_type {
            retyped.push(Retyped {
                column: column.name.clone(),
                from: column.value_type,
                to: other.value_type,
            });
        }
        match (&column.categorical_reference, &other.categorical_reference) {
            (Some(reference), Some(current)) => {
                let before: BTreeSet<&String> = reference.counts.keys().collect();
                let after: BTreeSet<&String> = current.counts.keys().collect();
                let new: Vec<String> = after.difference(&before).map(|s| s.to_string()).collect();
                let vanished: Vec<String> =
                    before.difference(&after).map(|s| s.to_string()).collect();
                if !new.is_empty() || !vanished.is_empty() {
                    categories.push(CategoryChanges {
                        column: column.name.clone(),
                        new,
                        vanished,
                    });
                }
                drift.push(reference.compare_counts_auto(&current.counts, current.n_missing));
            }
            _ => {
                if let (Some(reference), Some(current)) =
                    (&column.numeric_reference, &other.numeric_reference)
                {
                    let sample = NumericSample {
                        sorted: current.sorted.clone(),
                        n_total: current.n_total,
                        n_nan: current.n_nan,
                        n_inf: current.n_inf,
                    };
                    drift.push(reference.compare_sample_auto(&sample));
                }
            }
        }
    }
    let n_drifted = drift.iter().filter(|r| r.drifted).count();
    DatasetDiff {
        from: label(from),
        to: label(to),
        rows_from: from.profile.rows,
        rows_to: to.profile.rows,
        added,
        removed,
        retyped,
        categories,
        drift,
        n_drifted,
    }
}

/// The gate later stages (training) call before they use a dataset version: an invalid version
/// is refused unless `ctx.reason` says why it may be used, in which case the override is written
/// to the audit log.
pub async fn require_valid<S: AuditStore>(
    store: &S,
    ctx: &AuditContext,
    version: &DatasetVersion,
    stage: &str,
) -> Result<(), DataServiceError> {
    if version.data.valid {
        return Ok(());
    }
    let failed: Vec<String> = version
        .data
        .validation
        .get("rules")
        .and_then(|r| r.as_array())
        .map(|rules| {
            rules
                .iter()
                .filter(|r| r.get("passed") == Some(&serde_json::Value::Bool(false)))
                .map(|r| {
                    let rule = r.get("rule").and_then(|v| v.as_str()).unwrap_or("?");
                    match r.get("column").and_then(|v| v.as_str()) {
                        Some(column) => format!("{rule} on {column}"),
                        None => rule.to_string(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let Some(reason) = ctx.reason.as_deref().filter(|r| !r.trim().is_empty()) else {
        return Err(DataServiceError::InvalidVersion {
            name: version.data.name.clone(),
            version: version.version,
            failed: if failed.is_empty() {
                "validation".to_string()
            } else {
                failed.join(", ")
            },
        });
    };
    store
        .append_audit(vec![NewAuditEntry::new(
            ctx,
            "dataset_version.override_invalid",
            "dataset_version",
            version.id.as_str(),
            serde_json::json!({
                "stage": stage,
                "name": version.data.name,
                "version": version.version,
                "failed": failed,
                "reason": reason,
            }),
        )])
        .await?;
    Ok(())
}

/// Temporary Parquet copies are named `ingest-<pid>-…` so that one left by a killed ingest
/// (no destructor runs on kill -9) can be told apart from one a live ingest is writing.
const TEMP_PREFIX: &str = "ingest-";

/// Removes temporary ingest files whose process no longer exists, so an interrupted ingest
/// leaves nothing behind once the next ingest starts. Files of live processes are kept.
pub fn sweep_abandoned_temp_files(temp_dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(temp_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(TEMP_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !process_alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether a process exists; where this cannot be told (no `/proc`), it is assumed alive so
/// nothing in use is ever removed.
fn process_alive(pid: u32) -> bool {
    let proc_root = std::path::Path::new("/proc");
    if !proc_root.join("self").exists() {
        return true;
    }
    proc_root.join(pid.to_string()).exists()
}

#[cfg(test)]
mod temp_file_tests {
    #[test]
    fn abandoned_temp_files_are_swept_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        // Pid 4194304 is above Linux's largest pid (2^22), so no process can have it.
        let dead = dir.path().join("ingest-4194304-abc.parquet");
        let live = dir
            .path()
            .join(format!("ingest-{}-abc.parquet", std::process::id()));
        let other = dir.path().join("unrelated.bin");
        for f in [&dead, &live, &other] {
            std::fs::write(f, b"x").unwrap();
        }
        super::sweep_abandoned_temp_files(dir.path());
        assert!(!dead.exists());
        assert!(live.exists());
        assert!(other.exists());
    }
}
