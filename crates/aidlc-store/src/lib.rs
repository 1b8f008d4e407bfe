//! aidlc-store: where aidlc keeps what it records — the metadata stores (SQLite, the embedded
//! default, and PostgreSQL) and the content-addressed artifact store.
//!
//! Invariants:
//! - This is the only crate that contains SQL. Each backend has its own migrations.
//! - One trait per area; batch writes are the primitive (single writes are batches of one).
//! - Every method that changes state takes an [`AuditContext`] and appends its audit entries in
//!   the same transaction as the change, so no change exists without its audit entry.
//! - Both backends implement every method; `tests/contract.rs` runs the same suite on both.

mod artifacts;
mod backend;
mod postgres;
mod sqlite;

pub use aidlc_core::audit::{AuditContext, AuditEntry, AuditVerification, NewAuditEntry};
pub use artifacts::{ArtifactError, ArtifactStore, LocalArtifactStore};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

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
    /// a `sqlite://` URL, or a `postgres://`/`postgresql://` URL.
    pub async fn open(location: &str) -> Result<Self> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            Ok(Store::Postgres(PgStore::open(location).await?))
        } else if let Some(path) = location.strip_prefix("sqlite://") {
            Ok(Store::Sqlite(
                SqliteStore::open(std::path::Path::new(path)).await?,
            ))
        } else if location.contains("://") || location.is_empty() {
            Err(StoreError::InvalidUrl(location.to_string()))
        } else {
            Ok(Store::Sqlite(
                SqliteStore::open(std::path::Path::new(location)).await?,
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
