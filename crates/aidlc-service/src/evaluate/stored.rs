//! Evaluation of a registered model version from its recorded lineage: the held-out rows are the
//! test rows of the split manifest it was trained on, the baseline learns from that split's
//! training rows, and the champion (if another version holds the alias) is scored on the same
//! rows. The report is stored with the version, where the registry's protected-alias rule reads
//! it.

use std::path::Path;

use aidlc_core::spec::ProblemSpec;
use aidlc_data::Table;
use aidlc_models::{Model, ModelError};
use aidlc_store::{
    ArtifactStore, AuditContext, DatasetStore, EvaluationReport, LocalArtifactStore,
    NewEvaluationReport, RegistryStore, RegistryVersion, TrackingStore,
};

use super::{
    EvalInput, EvalReport, EvaluateError, ModelUnderTest, baseline_model, baseline_reference,
};
use crate::split::{SplitManifest, read_options};
use crate::train::take_rows;

/// The alias whose holder a candidate is compared with.
pub const CHAMPION_ALIAS: &str = "champion";

/// Why a stored evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum StoredEvalError {
    #[error(transparent)]
    Evaluate(#[from] EvaluateError),
    #[error(transparent)]
    Store(#[from] aidlc_store::StoreError),
    #[error(transparent)]
    Artifact(#[from] aidlc_store::ArtifactError),
    #[error(transparent)]
    Data(#[from] aidlc_data::DataError),
    #[error("{what}: {source}")]
    Model {
        what: String,
        #[source]
        source: ModelError,
    },
    #[error("{0}")]
    Lineage(String),
}

/// Options of one evaluation.
#[derive(Debug, Clone, Default)]
pub struct EvalOptions {
    pub seed: Option<u64>,
    pub bootstrap: Option<usize>,
    /// Held-out rows to use instead of the split's test rows (for versions registered without
    /// split lineage); the baseline then learns from these rows too.
    pub data: Option<Table>,
    /// Compare with the champion (when another version holds the alias).
    pub with_champion: bool,
}

/// A version's model, loaded from the artifact store.
pub async fn load_version_model(
    artifacts: &LocalArtifactStore,
    version: &RegistryVersion,
) -> Result<(Box<dyn Model>, u64), StoredEvalError> {
    let bytes = artifacts.get_bytes(&version.artifact).await?;
    let size = bytes.len() as u64;
    let name = format!("{}/{}", version.model, version.version);
    let model = aidlc_models::load_model_bytes(bytes, &name)
        .map_err(|source| StoredEvalError::Model { what: name, source })?;
    Ok((model, size))
}

/// The training and held-out tables of a version's split.
async fn split_tables<S: DatasetStore>(
    store: &S,
    artifacts: &LocalArtifactStore,
    version: &RegistryVersion,
) -> Result<(Table, Table, serde_json::Value), StoredEvalError> {
    let name = format!("{}/{}", version.model, version.version);
    let (Some(manifest_hash), Some(dataset)) = (&version.split, &version.dataset_version) else {
        return Err(StoredEvalError::Lineage(format!(
            "{name} has no recorded split and dataset version (it was registered without lineage); pass --data FILE to evaluate it on other rows"
        )));
    };
    let manifest: SplitManifest =
        serde_json::from_slice(&artifacts.get_bytes(manifest_hash).await?).map_err(|e| {
            StoredEvalError::Lineage(format!("split manifest {manifest_hash}: {e}"))
        })?;
    let found = store
        .get_dataset_version_by_id(dataset)
        .await?
        .ok_or_else(|| {
            StoredEvalError::Lineage(format!("{name}: dataset version {dataset} is not recorded"))
        })?;
    let scratch = tempfile::tempdir().map_err(|e| StoredEvalError::Lineage(e.to_string()))?;
    let local = scratch.path().join("data.parquet");
    artifacts.get_to_file(&found.data.artifact, &local).await?;
    let table = aidlc_data::read_table(&local, &read_options(&manifest.columns))?;
    if table.n_rows != manifest.n_rows {
        return Err(StoredEvalError::Lineage(format!(
            "{name}: the split manifest has {} rows but dataset {}@{} has {}",
            manifest.n_rows, found.data.name, found.version, table.n_rows
        )));
    }
    let a = &manifest.assignment;
    if a.test.is_empty() {
        return Err(StoredEvalError::Lineage(format!(
            "{name}: the split has no test rows to evaluate on"
        )));
    }
    let dataset_ref = serde_json::json!({
        "id": found.id, "name": found.data.name, "version": found.version, "hash": found.data.hash,
    });
    Ok((
        take_rows(&table, &a.train),
        take_rows(&table, &a.test),
        dataset_ref,
    ))
}

/// Evaluates `version` and stores the report with it.
pub async fn evaluate_version<S>(
    store: &S,
    artifacts: &LocalArtifactStore,
    ctx: &AuditContext,
    spec: &ProblemSpec,
    project_dir: &Path,
    version: &RegistryVersion,
    options: EvalOptions,
) -> Result<(EvalReport, EvaluationReport), StoredEvalError>
where
    S: DatasetStore + RegistryStore + TrackingStore + Sync,
{
    let (model, size) = load_version_model(artifacts, version).await?;
    let (train, held_out, dataset) = match options.data {
        Some(table) => (table.clone(), table, serde_json::Value::Null),
        None => split_tables(store, artifacts, version).await?,
    };
    let baseline = baseline_model(spec, &train, project_dir)?;
    let champion = if options.with_champion {
        match store.resolve_alias(&version.model, CHAMPION_ALIAS).await? {
            Some(ch) if ch.version != version.version => {
                let (m, _) = load_version_model(artifacts, &ch).await?;
                Some((m, ch))
            }
            _ => None,
        }
    } else {
        None
    };
    // A tensor-input model's columns are the features its run trained on.
    let features: Option<Vec<String>> = match &version.run_id {
        Some(run) => store.get_tracked_run(run).await?.and_then(|r| {
            r.params
                .iter()
                .find(|p| p.key == "features")
                .map(|p| p.value.split(',').map(str::to_owned).collect())
        }),
        None => None,
    };
    let lineage = serde_json::json!({
        "model": version.model,
        "version": version.version,
        "artifact": version.artifact,
        "source": version.source,
        "run_id": version.run_id,
        "dataset": dataset,
        "split": version.split,
        "git_commit": version.git_commit,
        "git_dirty": version.git_dirty,
        "registered_by": version.created_by,
        "registered_at_ms": version.created_at_ms,
    });
    let reference = format!("{}/{}", version.model, version.version);
    let input = EvalInput {
        spec,
        candidate: ModelUnderTest {
            model: model.as_ref(),
            name: version.model.clone(),
            reference: reference.clone(),
        },
        baseline: ModelUnderTest {
            model: baseline.as_ref(),
            name: "baseline".into(),
            reference: baseline_reference(spec),
        },
        champion: champion.as_ref().map(|(m, v)| ModelUnderTest {
            model: m.as_ref(),
            name: format!("{} ({CHAMPION_ALIAS})", v.model),
            reference: format!("{}/{}", v.model, v.version),
        }),
        held_out: &held_out,
        features: features.as_deref(),
        seed: options.seed,
        bootstrap: options.bootstrap,
        model_size_bytes: size,
        lineage,
    };
    let report = super::evaluate(&input)?;
    let record = store
        .record_evaluation_report(
            ctx,
            NewEvaluationReport {
                model: version.model.clone(),
                version: version.version,
                passed: report.passed,
                report: serde_json::to_value(&report)
                    .map_err(|e| StoredEvalError::Lineage(e.to_string()))?,
            },
        )
        .await?;
    Ok((report, record))
}

/// The newest stored report of a version.
pub async fn latest_report<S: RegistryStore>(
    store: &S,
    version: &RegistryVersion,
) -> Result<Option<(EvalReport, EvaluationReport)>, StoredEvalError> {
    let mut reports = store
        .evaluation_reports(&version.model, version.version)
        .await?;
    reports.sort_by_key(|r| r.created_at_ms);
    let Some(record) = reports.pop() else {
        return Ok(None);
    };
    let report: EvalReport = serde_json::from_value(record.data.report.clone()).map_err(|e| {
        StoredEvalError::Lineage(format!(
            "the stored report {} of {}/{} cannot be read: {e}",
            record.id, version.model, version.version
        ))
    })?;
    Ok(Some((report, record)))
}
