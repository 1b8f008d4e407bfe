//! aidlc-store: where aidlc keeps what it records — the metadata stores (SQLite, the embedded
//! default, and PostgreSQL) and the content-addressed artifact store.
//!
//! Invariants:
//! - This is the only crate that contains SQL. Each backend has its own migrations.
//! - One trait per area; batch writes are the primitive (single writes are batches of one).
//! - Every method that changes state takes an [`AuditContext`] and appends its audit entries in
//!   the same transaction as the change, so no change exists without its audit entry.
//! - Both backends implement every method; `tests/contract.rs` runs the same suite on both.

mod alerts;
mod alerts_backend;
mod artifacts;
mod backend;
mod monitor;
mod monitor_backend;
mod pipelines;
mod pipelines_backend;
mod postgres;
pub mod predlog;
mod splits;
mod splits_backend;
mod sqlite;
mod tracking;
mod tracking_backend;

pub use aidlc_core::audit::{AuditContext, AuditEntry, AuditVerification, NewAuditEntry};
pub use aidlc_core::spec::StoreSync;
pub use alerts::{AlertDelivery, AlertEventRecord, AlertFilter, AlertStore};
pub use artifacts::{ArtifactError, ArtifactStore, LocalArtifactStore};
pub use monitor::{MonitorPoint, MonitorQuery, MonitorStore, MonitorWriteOutcome};
pub use pipelines::{ACTIVE_PIPELINE_STATUSES, PipelineRecord, PipelineStore};
pub use postgres::PgStore;
pub use predlog::{
    AckPolicy, AnyPredictionLog, FeatureColumn, FeatureValue, FeatureValues, JetStreamConfig,
    JetStreamPredictionLog, LocalLogConfig, LocalPredictionLog, PredictionFrame, PredictionLog,
    PredictionLogError, PredictionLogStats, PredictionOutputs, PredictionRecord, ScanQuery,
    Variant,
};
pub use splits::*;
pub use sqlite::{SqliteStore, WAL_SYNC_INTERVAL};
pub use tracking::*;

use aidlc_core::ids::{ContentHash, DatasetVersionId, RunId};
use aidlc_core::records::{
    DatasetVersion, DatasetVersionOutcome, Deployment, ModelVersion, NewDatasetVersion,
    NewModelVersion, NewRun, Project, Run, RunStatus,
};
use std::future::Future;

/// Errors a caller may branch on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{kind} `{id}` not found")]
    NotFound { kind: &'static str, id: String },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("{kind} `{id}` already exists")]
    AlreadyExists { kind: &'static str, id: String },
    /// The request cannot be applied as given (e.g. changing a logged param, writing to a
    /// deleted run); the message says why.
    #[error("{0}")]
    Invalid(String),
    /// A governance rule refused the change (e.g. a protected alias without a passing report).
    #[error("{0}")]
    Refused(String),
    #[error("invalid store location `{0}`: expected a SQLite path, sqlite:// or postgres:// URL")]
    InvalidUrl(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Filter for listing audit entries.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub object_kind: Option<String>,
    pub object_id: Option<String>,
    /// The newest `limit` entries (all when `None`), returned in sequence order.
    pub limit: Option<i64>,
}

/// Projects and the framing contract each was last checked in with.
pub trait ProjectStore {
    fn upsert_project(
        &self,
        ctx: &AuditContext,
        p: &Project,
    ) -> impl Future<Output = Result<()>> + Send;
    fn get_project(&self, name: &str) -> impl Future<Output = Result<Option<Project>>> + Send;
    fn list_projects(&self) -> impl Future<Output = Result<Vec<Project>>> + Send;
}

/// Immutable, numbered dataset versions.
pub trait DatasetStore {
    /// Records versions; a version whose bytes (hash) are already recorded under the same name is
    /// returned with `created = false` instead of being duplicated.
    fn create_dataset_versions(
        &self,
        ctx: &AuditContext,
        batch: Vec<NewDatasetVersion>,
    ) -> impl Future<Output = Result<Vec<DatasetVersionOutcome>>> + Send;
    /// `version = None` means the latest.
    fn get_dataset_version(
        &self,
        name: &str,
        version: Option<i64>,
    ) -> impl Future<Output = Result<Option<DatasetVersion>>> + Send;
    fn get_dataset_version_by_id(
        &self,
        id: &DatasetVersionId,
    ) -> impl Future<Output = Result<Option<DatasetVersion>>> + Send;
    /// All versions of `name`, or of every dataset when `None`, oldest first.
    fn list_dataset_versions(
        &self,
        name: Option<&str>,
    ) -> impl Future<Output = Result<Vec<DatasetVersion>>> + Send;
}

/// Tracked runs.
pub trait RunStore {
    fn create_runs(
        &self,
        ctx: &AuditContext,
        batch: Vec<NewRun>,
    ) -> impl Future<Output = Result<Vec<Run>>> + Send;
    fn get_run(&self, id: &RunId) -> impl Future<Output = Result<Option<Run>>> + Send;
    fn list_runs(&self, project: &str) -> impl Future<Output = Result<Vec<Run>>> + Send;
    /// Moves a run to a terminal or new status; `ended_at_ms` is set for terminal statuses.
    fn set_run_status(
        &self,
        ctx: &AuditContext,
        id: &RunId,
        status: RunStatus,
    ) -> impl Future<Output = Result<Run>> + Send;
}

/// The model registry: numbered versions and aliases.
pub trait ModelStore {
    fn create_model_versions(
        &self,
        ctx: &AuditContext,
        batch: Vec<NewModelVersion>,
    ) -> impl Future<Output = Result<Vec<ModelVersion>>> + Send;
    fn get_model_version(
        &self,
        model: &str,
        version: i64,
    ) -> impl Future<Output = Result<Option<ModelVersion>>> + Send;
    fn list_model_versions(
        &self,
        model: Option<&str>,
    ) -> impl Future<Output = Result<Vec<ModelVersion>>> + Send;
    /// Points `alias` at `version` (which must exist).
    fn set_alias(
        &self,
        ctx: &AuditContext,
        model: &str,
        alias: &str,
        version: i64,
    ) -> impl Future<Output = Result<()>> + Send;
    fn get_alias(
        &self,
        model: &str,
        alias: &str,
    ) -> impl Future<Output = Result<Option<i64>>> + Send;
}

/// Deployments: endpoints mapped to models through aliases.
pub trait DeploymentStore {
    fn upsert_deployments(
        &self,
        ctx: &AuditContext,
        batch: Vec<Deployment>,
    ) -> impl Future<Output = Result<()>> + Send;
    fn get_deployment(
        &self,
        endpoint: &str,
    ) -> impl Future<Output = Result<Option<Deployment>>> + Send;
    fn list_deployments(&self) -> impl Future<Output = Result<Vec<Deployment>>> + Send;
    /// Replaces a deployment's rollout state and appends the entries that explain the change,
    /// in one transaction; `alias_move` (model, alias, version) also points the alias, so a
    /// promotion is never half-done.
    fn record_rollout(
        &self,
        ctx: &AuditContext,
        endpoint: &str,
        state: serde_json::Value,
        alias_move: Option<(String, String, i64)>,
        entries: Vec<NewAuditEntry>,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// The append-only, hash-chained audit log.
pub trait AuditStore {
    /// Appends entries that are not tied to another change (e.g. an audited override).
    fn append_audit(
        &self,
        batch: Vec<NewAuditEntry>,
    ) -> impl Future<Output = Result<Vec<AuditEntry>>> + Send;
    fn list_audit(
        &self,
        filter: &AuditFilter,
    ) -> impl Future<Output = Result<Vec<AuditEntry>>> + Send;
    /// Walks the whole chain and names the first entry that was edited, deleted or reordered.
    fn verify_audit(&self) -> impl Future<Output = Result<AuditVerification>> + Send;
}

/// Every area together: what services need.
pub trait MetadataStore:
    ProjectStore + DatasetStore + RunStore + ModelStore + DeploymentStore + AuditStore + Send + Sync
{
}
impl<T> MetadataStore for T where
    T: ProjectStore
        + DatasetStore
        + RunStore
        + ModelStore
        + DeploymentStore
        + AuditStore
        + Send
        + Sync
{
}

/// The configured metadata store: the embedded SQLite default or PostgreSQL.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Store {
    /// Opens (creating and migrating as needed) the store at `location`: a path to a SQLite file,
    /// a `sqlite://` URL, or a `postgres://`/`postgresql://` URL. SQLite gets the default
    /// durability, [`StoreSync::Normal`].
    pub async fn open(location: &str) -> Result<Self> {
        Self::open_with(location, StoreSync::Normal).await
    }

    /// Like [`Store::open`], with the SQLite durability given. PostgreSQL ignores `sync`: its
    /// commits are as durable as the server's `synchronous_commit` makes them.
    pub async fn open_with(location: &str, sync: StoreSync) -> Result<Self> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            Ok(Store::Postgres(PgStore::open(location).await?))
        } else if let Some(path) = location.strip_prefix("sqlite://") {
            Ok(Store::Sqlite(
                SqliteStore::open_with(std::path::Path::new(path), sync).await?,
            ))
        } else if location.contains("://") || location.is_empty() {
            Err(StoreError::InvalidUrl(location.to_string()))
        } else {
            Ok(Store::Sqlite(
                SqliteStore::open_with(std::path::Path::new(location), sync).await?,
            ))
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }
}

/// Forwards each trait method of `Store` to the backend it holds.
macro_rules! dispatch {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            Store::Sqlite($s) => $call.await,
            Store::Postgres($s) => $call.await,
        }
    };
}

impl ProjectStore for Store {
    async fn upsert_project(&self, ctx: &AuditContext, p: &Project) -> Result<()> {
        dispatch!(self, s => s.upsert_project(ctx, p))
    }
    async fn get_project(&self, name: &str) -> Result<Option<Project>> {
        dispatch!(self, s => s.get_project(name))
    }
    async fn list_projects(&self) -> Result<Vec<Project>> {
        dispatch!(self, s => s.list_projects())
    }
}

impl DatasetStore for Store {
    async fn create_dataset_versions(
        &self,
        ctx: &AuditContext,
        batch: Vec<NewDatasetVersion>,
    ) -> Result<Vec<DatasetVersionOutcome>> {
        dispatch!(self, s => s.create_dataset_versions(ctx, batch))
    }
    async fn get_dataset_version(
        &self,
        name: &str,
        version: Option<i64>,
    ) -> Result<Option<DatasetVersion>> {
        dispatch!(self, s => s.get_dataset_version(name, version))
    }
    async fn get_dataset_version_by_id(
        &self,
        id: &DatasetVersionId,
    ) -> Result<Option<DatasetVersion>> {
        dispatch!(self, s => s.get_dataset_version_by_id(id))
    }
    async fn list_dataset_versions(&self, name: Option<&str>) -> Result<Vec<DatasetVersion>> {
        dispatch!(self, s => s.list_dataset_versions(name))
    }
}

impl RunStore for Store {
    async fn create_runs(&self, ctx: &AuditContext, batch: Vec<NewRun>) -> Result<Vec<Run>> {
        dispatch!(self, s => s.create_runs(ctx, batch))
    }
    async fn get_run(&self, id: &RunId) -> Result<Option<Run>> {
        dispatch!(self, s => s.get_run(id))
    }
    async fn list_runs(&self, project: &str) -> Result<Vec<Run>> {
        dispatch!(self, s => s.list_runs(project))
    }
    async fn set_run_status(
        &self,
        ctx: &AuditContext,
        id: &RunId,
        status: RunStatus,
    ) -> Result<Run> {
        dispatch!(self, s => s.set_run_status(ctx, id, status))
    }
}

impl ModelStore for Store {
    async fn create_model_versions(
        &self,
        ctx: &AuditContext,
        batch: Vec<NewModelVersion>,
    ) -> Result<Vec<ModelVersion>> {
        dispatch!(self, s => s.create_model_versions(ctx, batch))
    }
    async fn get_model_version(&self, model: &str, version: i64) -> Result<Option<ModelVersion>> {
        dispatch!(self, s => s.get_model_version(model, version))
    }
    async fn list_model_versions(&self, model: Option<&str>) -> Result<Vec<ModelVersion>> {
        dispatch!(self, s => s.list_model_versions(model))
    }
    async fn set_alias(
        &self,
        ctx: &AuditContext,
        model: &str,
        alias: &str,
        version: i64,
    ) -> Result<()> {
        dispatch!(self, s => s.set_alias(ctx, model, alias, version))
    }
    async fn get_alias(&self, model: &str, alias: &str) -> Result<Option<i64>> {
        dispatch!(self, s => s.get_alias(model, alias))
    }
}

impl DeploymentStore for Store {
    async fn upsert_deployments(&self, ctx: &AuditContext, batch: Vec<Deployment>) -> Result<()> {
        dispatch!(self, s => s.upsert_deployments(ctx, batch))
    }
    async fn get_deployment(&self, endpoint: &str) -> Result<Option<Deployment>> {
        dispatch!(self, s => s.get_deployment(endpoint))
    }
    async fn list_deployments(&self) -> Result<Vec<Deployment>> {
        dispatch!(self, s => s.list_deployments())
    }
    async fn record_rollout(
        &self,
        ctx: &AuditContext,
        endpoint: &str,
        state: serde_json::Value,
        alias_move: Option<(String, String, i64)>,
        entries: Vec<NewAuditEntry>,
    ) -> Result<()> {
        dispatch!(self, s => s.record_rollout(ctx, endpoint, state, alias_move, entries))
    }
}

impl AuditStore for Store {
    async fn append_audit(&self, batch: Vec<NewAuditEntry>) -> Result<Vec<AuditEntry>> {
        dispatch!(self, s => s.append_audit(batch))
    }
    async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        dispatch!(self, s => s.list_audit(filter))
    }
    async fn verify_audit(&self) -> Result<AuditVerification> {
        dispatch!(self, s => s.verify_audit())
    }
}

impl TrackingStore for Store {
    async fn create_experiment(
        &self,
        ctx: &AuditContext,
        name: &str,
        artifact_location: Option<String>,
        tags: Vec<KeyValue>,
    ) -> Result<Experiment> {
        dispatch!(self, s => s.create_experiment(ctx, name, artifact_location, tags))
    }
    async fn get_experiment(&self, id: i64) -> Result<Option<Experiment>> {
        dispatch!(self, s => s.get_experiment(id))
    }
    async fn get_experiment_by_name(&self, name: &str) -> Result<Option<Experiment>> {
        dispatch!(self, s => s.get_experiment_by_name(name))
    }
    async fn search_experiments(&self, search: &ExperimentSearch) -> Result<Page<Experiment>> {
        dispatch!(self, s => s.search_experiments(search))
    }
    async fn set_experiment_lifecycle(
        &self,
        ctx: &AuditContext,
        id: i64,
        lifecycle: Lifecycle,
    ) -> Result<()> {
        dispatch!(self, s => s.set_experiment_lifecycle(ctx, id, lifecycle))
    }
    async fn set_experiment_tag(&self, ctx: &AuditContext, id: i64, tag: KeyValue) -> Result<()> {
        dispatch!(self, s => s.set_experiment_tag(ctx, id, tag))
    }
    async fn create_tracked_run(
        &self,
        ctx: &AuditContext,
        run: NewTrackedRun,
    ) -> Result<TrackedRun> {
        dispatch!(self, s => s.create_tracked_run(ctx, run))
    }
    async fn get_tracked_run(&self, id: &str) -> Result<Option<TrackedRun>> {
        dispatch!(self, s => s.get_tracked_run(id))
    }
    async fn update_tracked_run(
        &self,
        ctx: &AuditContext,
        id: &str,
        update: RunUpdate,
    ) -> Result<TrackedRun> {
        dispatch!(self, s => s.update_tracked_run(ctx, id, update))
    }
    async fn set_run_lifecycle(
        &self,
        ctx: &AuditContext,
        id: &str,
        lifecycle: Lifecycle,
    ) -> Result<()> {
        dispatch!(self, s => s.set_run_lifecycle(ctx, id, lifecycle))
    }
    async fn log_batch(&self, ctx: &AuditContext, run_id: &str, batch: LogBatch) -> Result<()> {
        dispatch!(self, s => s.log_batch(ctx, run_id, batch))
    }
    async fn delete_run_tag(&self, ctx: &AuditContext, run_id: &str, key: &str) -> Result<()> {
        dispatch!(self, s => s.delete_run_tag(ctx, run_id, key))
    }
    async fn metric_history(
        &self,
        run_id: &str,
        key: &str,
        max_results: i64,
        offset: i64,
    ) -> Result<Page<Metric>> {
        dispatch!(self, s => s.metric_history(run_id, key, max_results, offset))
    }
    async fn search_tracked_runs(&self, search: &RunSearch) -> Result<Page<TrackedRun>> {
        dispatch!(self, s => s.search_tracked_runs(search))
    }
    async fn log_run_outputs(
        &self,
        ctx: &AuditContext,
        run_id: &str,
        outputs: Vec<ModelOutput>,
    ) -> Result<()> {
        dispatch!(self, s => s.log_run_outputs(ctx, run_id, outputs))
    }
    async fn create_logged_model(
        &self,
        ctx: &AuditContext,
        model: NewLoggedModel,
    ) -> Result<LoggedModel> {
        dispatch!(self, s => s.create_logged_model(ctx, model))
    }
    async fn get_logged_model(&self, id: &str) -> Result<Option<LoggedModel>> {
        dispatch!(self, s => s.get_logged_model(id))
    }
    async fn set_logged_model_status(
        &self,
        ctx: &AuditContext,
        id: &str,
        status: LoggedModelStatus,
    ) -> Result<LoggedModel> {
        dispatch!(self, s => s.set_logged_model_status(ctx, id, status))
    }
    async fn set_logged_model_tags(
        &self,
        ctx: &AuditContext,
        id: &str,
        tags: Vec<KeyValue>,
    ) -> Result<()> {
        dispatch!(self, s => s.set_logged_model_tags(ctx, id, tags))
    }
    async fn search_logged_models(&self, search: &LoggedModelSearch) -> Result<Page<LoggedModel>> {
        dispatch!(self, s => s.search_logged_models(search))
    }
}

impl RegistryStore for Store {
    async fn create_registered_model(
        &self,
        ctx: &AuditContext,
        name: &str,
        description: &str,
        tags: Vec<KeyValue>,
    ) -> Result<RegisteredModel> {
        dispatch!(self, s => s.create_registered_model(ctx, name, description, tags))
    }
    async fn get_registered_model(&self, name: &str) -> Result<Option<RegisteredModel>> {
        dispatch!(self, s => s.get_registered_model(name))
    }
    async fn search_registered_models(
        &self,
        name_like: Option<String>,
        max_results: i64,
        offset: i64,
    ) -> Result<Page<RegisteredModel>> {
        dispatch!(self, s => s.search_registered_models(name_like, max_results, offset))
    }
    async fn set_registered_model_tag(
        &self,
        ctx: &AuditContext,
        name: &str,
        tag: KeyValue,
    ) -> Result<()> {
        dispatch!(self, s => s.set_registered_model_tag(ctx, name, tag))
    }
    async fn delete_registered_model(&self, ctx: &AuditContext, name: &str) -> Result<()> {
        dispatch!(self, s => s.delete_registered_model(ctx, name))
    }
    async fn create_registry_version(
        &self,
        ctx: &AuditContext,
        version: NewRegistryVersion,
    ) -> Result<RegistryVersion> {
        dispatch!(self, s => s.create_registry_version(ctx, version))
    }
    async fn get_registry_version(
        &self,
        model: &str,
        version: i64,
    ) -> Result<Option<RegistryVersion>> {
        dispatch!(self, s => s.get_registry_version(model, version))
    }
    async fn search_registry_versions(
        &self,
        search: &RegistryVersionSearch,
    ) -> Result<Page<RegistryVersion>> {
        dispatch!(self, s => s.search_registry_versions(search))
    }
    async fn update_registry_version(
        &self,
        ctx: &AuditContext,
        model: &str,
        version: i64,
        description: Option<String>,
        stage: Option<String>,
    ) -> Result<RegistryVersion> {
        dispatch!(self, s => s.update_registry_version(ctx, model, version, description, stage))
    }
    async fn set_model_version_tag(
        &self,
        ctx: &AuditContext,
        model: &str,
        version: i64,
        tag: KeyValue,
    ) -> Result<()> {
        dispatch!(self, s => s.set_model_version_tag(ctx, model, version, tag))
    }
    async fn delete_model_version_tag(
        &self,
        ctx: &AuditContext,
        model: &str,
        version: i64,
        key: &str,
    ) -> Result<()> {
        dispatch!(self, s => s.delete_model_version_tag(ctx, model, version, key))
    }
    async fn set_governed_alias(
        &self,
        ctx: &AuditContext,
        policy: &AliasPolicy,
        model: &str,
        alias: &str,
        version: i64,
    ) -> Result<AliasChange> {
        dispatch!(self, s => s.set_governed_alias(ctx, policy, model, alias, version))
    }
    async fn delete_alias(&self, ctx: &AuditContext, model: &str, alias: &str) -> Result<()> {
        dispatch!(self, s => s.delete_alias(ctx, model, alias))
    }
    async fn resolve_alias(&self, model: &str, alias: &str) -> Result<Option<RegistryVersion>> {
        dispatch!(self, s => s.resolve_alias(model, alias))
    }
    async fn record_evaluation_report(
        &self,
        ctx: &AuditContext,
        report: NewEvaluationReport,
    ) -> Result<EvaluationReport> {
        dispatch!(self, s => s.record_evaluation_report(ctx, report))
    }
    async fn evaluation_reports(&self, model: &str, version: i64) -> Result<Vec<EvaluationReport>> {
        dispatch!(self, s => s.evaluation_reports(model, version))
    }
}

/// A content hash read back from the database, checked for shape.
fn parse_hash(s: String) -> Result<ContentHash> {
    ContentHash::parse(&s)
        .ok_or_else(|| StoreError::Corrupt(format!("malformed content hash `{s}`")))
}

/// A new time-ordered id: a UUID v7 as 32 lowercase hex digits (the shape MLflow clients expect
/// for run ids), so ids sort by creation time.
fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

impl SplitStore for Store {
    async fn record_splits(
        &self,
        ctx: &AuditContext,
        batch: Vec<NewSplit>,
    ) -> Result<Vec<SplitOutcome>> {
        dispatch!(self, s => s.record_splits(ctx, batch))
    }
    async fn get_split(&self, id: &str) -> Result<Option<SplitRecord>> {
        dispatch!(self, s => s.get_split(id))
    }
    async fn get_split_by_manifest(&self, manifest: &ContentHash) -> Result<Option<SplitRecord>> {
        dispatch!(self, s => s.get_split_by_manifest(manifest))
    }
    async fn list_splits(&self, name: Option<&str>) -> Result<Vec<SplitRecord>> {
        dispatch!(self, s => s.list_splits(name))
    }
}

impl LabelStore for Store {
    async fn record_labels(
        &self,
        ctx: &AuditContext,
        batch: Vec<NewLabel>,
    ) -> Result<LabelIngestOutcome> {
        dispatch!(self, s => s.record_labels(ctx, batch))
    }
    async fn labels(&self, name: &str, keys: Option<&[String]>) -> Result<Vec<LabelRecord>> {
        dispatch!(self, s => s.labels(name, keys))
    }
}

impl AlertStore for Store {
    async fn record_alerts(
        &self,
        ctx: &AuditContext,
        batch: Vec<aidlc_core::alerts::AlertWrite>,
    ) -> Result<Vec<aidlc_core::alerts::Alert>> {
        dispatch!(self, s => s.record_alerts(ctx, batch))
    }
    async fn current_alerts(&self, endpoints: &[String]) -> Result<Vec<aidlc_core::alerts::Alert>> {
        dispatch!(self, s => s.current_alerts(endpoints))
    }
    async fn list_alerts(&self, filter: &AlertFilter) -> Result<Vec<aidlc_core::alerts::Alert>> {
        dispatch!(self, s => s.list_alerts(filter))
    }
    async fn get_alert(
        &self,
        id: &aidlc_core::ids::AlertId,
    ) -> Result<Option<aidlc_core::alerts::Alert>> {
        dispatch!(self, s => s.get_alert(id))
    }
    async fn alert_history(&self, id: &aidlc_core::ids::AlertId) -> Result<Vec<AlertEventRecord>> {
        dispatch!(self, s => s.alert_history(id))
    }
    async fn record_deliveries(&self, ctx: &AuditContext, batch: Vec<AlertDelivery>) -> Result<()> {
        dispatch!(self, s => s.record_deliveries(ctx, batch))
    }
    async fn alert_deliveries(&self, id: &aidlc_core::ids::AlertId) -> Result<Vec<AlertDelivery>> {
        dispatch!(self, s => s.alert_deliveries(id))
    }
}

impl PipelineStore for Store {
    async fn start_pipeline(
        &self,
        ctx: &AuditContext,
        model: &str,
        trigger: &str,
        state: serde_json::Value,
    ) -> Result<PipelineRecord> {
        dispatch!(self, s => s.start_pipeline(ctx, model, trigger, state))
    }
    async fn update_pipeline(
        &self,
        ctx: &AuditContext,
        id: &str,
        status: &str,
        state: serde_json::Value,
        action: &str,
        details: serde_json::Value,
    ) -> Result<PipelineRecord> {
        dispatch!(self, s => s.update_pipeline(ctx, id, status, state, action, details))
    }
    async fn list_pipelines(&self, model: Option<&str>, limit: i64) -> Result<Vec<PipelineRecord>> {
        dispatch!(self, s => s.list_pipelines(model, limit))
    }
}

impl MonitorStore for Store {
    async fn record_monitor_points(
        &self,
        ctx: &AuditContext,
        batch: Vec<MonitorPoint>,
    ) -> Result<MonitorWriteOutcome> {
        dispatch!(self, s => s.record_monitor_points(ctx, batch))
    }
    async fn monitor_points(&self, query: &MonitorQuery) -> Result<Vec<MonitorPoint>> {
        dispatch!(self, s => s.monitor_points(query))
    }
    async fn latest_monitor_window(&self, endpoint: &str) -> Result<Option<(i64, i64)>> {
        dispatch!(self, s => s.latest_monitor_window(endpoint))
    }
}
