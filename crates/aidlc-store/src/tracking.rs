//! Experiment tracking and the model registry as MLflow clients see them: the records, the
//! structured search requests (parsed by the server, translated to SQL by the backends) and the
//! two traits, [`TrackingStore`] and [`RegistryStore`].

use crate::{AuditContext, Result};
use aidlc_core::ids::{ContentHash, DatasetVersionId};
use aidlc_core::records::RunStatus;
use serde::{Deserialize, Serialize};
use std::future::Future;

/// A key and its value: params, tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

impl KeyValue {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// Whether a run or experiment is live or in the bin (restorable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lifecycle {
    Active,
    Deleted,
}

impl Lifecycle {
    pub fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Active => "active",
            Lifecycle::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Lifecycle::Active),
            "deleted" => Some(Lifecycle::Deleted),
            _ => None,
        }
    }
}

/// Which lifecycle stages a search returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ViewType {
    #[default]
    ActiveOnly,
    DeletedOnly,
    All,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    pub id: i64,
    pub name: String,
    pub artifact_location: String,
    pub lifecycle: Lifecycle,
    pub creation_time: i64,
    pub last_update_time: i64,
    pub tags: Vec<KeyValue>,
}

/// One logged metric value. `value` may be NaN or infinite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    pub key: String,
    pub value: f64,
    pub timestamp: i64,
    pub step: i64,
    pub model_id: Option<String>,
    pub dataset_name: Option<String>,
    pub dataset_digest: Option<String>,
}

/// A model a run produced (MLflow 3 `runs/outputs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelOutput {
    pub model_id: String,
    pub step: i64,
}

/// A run with its data: params, tags, the latest value of each metric and its outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackedRun {
    pub id: String,
    pub experiment_id: i64,
    pub name: String,
    pub user_id: String,
    pub status: RunStatus,
    pub start_time: i64,
    pub end_time: Option<i64>,
    pub artifact_uri: String,
    pub lifecycle: Lifecycle,
    pub params: Vec<KeyValue>,
    pub tags: Vec<KeyValue>,
    pub metrics: Vec<Metric>,
    pub outputs: Vec<ModelOutput>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTrackedRun {
    pub experiment_id: i64,
    /// Empty means "invent one", as MLflow's server does.
    pub name: String,
    pub user_id: String,
    pub start_time: i64,
    pub tags: Vec<KeyValue>,
}

/// A partial update of a run (MLflow `runs/update`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunUpdate {
    pub status: Option<RunStatus>,
    pub end_time: Option<i64>,
    pub name: Option<String>,
}

/// What one `log-batch` call writes, in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogBatch {
    pub metrics: Vec<Metric>,
    pub params: Vec<KeyValue>,
    pub tags: Vec<KeyValue>,
}

/// A run field a search filters or orders on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunField {
    Metric(String),
    Param(String),
    Tag(String),
    Attribute(RunAttribute),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunAttribute {
    RunId,
    RunName,
    Status,
    UserId,
    ArtifactUri,
    StartTime,
    EndTime,
}

impl RunAttribute {
    /// Numeric attributes compare as numbers; the others as text.
    pub fn is_numeric(self) -> bool {
        matches!(self, RunAttribute::StartTime | RunAttribute::EndTime)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Like,
    ILike,
    IsNull,
    IsNotNull,
    In,
    NotIn,
}

impl Comparison {
    /// The SQL operator of the plain comparisons.
    pub fn sql(self) -> &'static str {
        match self {
            Comparison::Eq => "=",
            Comparison::Ne => "<>",
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Like => "LIKE",
            Comparison::ILike => "ILIKE",
            Comparison::IsNull => "IS NULL",
            Comparison::IsNotNull => "IS NOT NULL",
            Comparison::In => "IN",
            Comparison::NotIn => "NOT IN",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FilterValue {
    Number(f64),
    Text(String),
    List(Vec<String>),
    None,
}

/// One `<field> <op> <value>` term; a filter is their conjunction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunClause {
    pub field: RunField,
    pub op: Comparison,
    pub value: FilterValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunOrder {
    pub field: RunField,
    pub ascending: bool,
}

/// A structured `runs/search`. Runs missing an order key sort last in both directions; ties
/// break on start time (newest first) and then run id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSearch {
    pub experiment_ids: Vec<i64>,
    pub clauses: Vec<RunClause>,
    pub order: Vec<RunOrder>,
    pub view: ViewType,
    pub max_results: i64,
    pub offset: i64,
}

/// One page of results and the offset of the next page, if there are more rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_offset: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoggedModelStatus {
    Pending,
    Ready,
    UploadFailed,
}

impl LoggedModelStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LoggedModelStatus::Pending => "LOGGED_MODEL_PENDING",
            LoggedModelStatus::Ready => "LOGGED_MODEL_READY",
            LoggedModelStatus::UploadFailed => "LOGGED_MODEL_UPLOAD_FAILED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "LOGGED_MODEL_PENDING" => Some(LoggedModelStatus::Pending),
            "LOGGED_MODEL_READY" => Some(LoggedModelStatus::Ready),
            "LOGGED_MODEL_UPLOAD_FAILED" => Some(LoggedModelStatus::UploadFailed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewLoggedModel {
    pub experiment_id: i64,
    pub name: String,
    pub source_run_id: Option<String>,
    pub model_type: Option<String>,
    pub params: Vec<KeyValue>,
    pub tags: Vec<KeyValue>,
}

/// An MLflow 3 logged model: artifacts under its own URI, metrics logged with its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedModel {
    pub id: String,
    pub experiment_id: i64,
    pub name: String,
    pub source_run_id: Option<String>,
    pub model_type: Option<String>,
    pub status: LoggedModelStatus,
    pub artifact_uri: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub params: Vec<KeyValue>,
    pub tags: Vec<KeyValue>,
    pub metrics: Vec<Metric>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedModelSearch {
    pub experiment_ids: Vec<i64>,
    pub name: Option<String>,
    pub source_run_id: Option<String>,
    pub max_results: i64,
    pub offset: i64,
}

/// Experiments matching a view type and, optionally, an exact name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentSearch {
    pub view: ViewType,
    pub name: Option<(Comparison, String)>,
    pub max_results: i64,
    pub offset: i64,
}

/// MLflow experiment tracking: experiments, runs and their params, metrics, tags and outputs,
/// and logged models. Every change is audited in its own transaction.
pub trait TrackingStore {
    /// Fails with `AlreadyExists` on a duplicate name. `artifact_location` defaults to
    /// `mlflow-artifacts:/<id>`.
    fn create_experiment(
        &self,
        ctx: &AuditContext,
        name: &str,
        artifact_location: Option<String>,
        tags: Vec<KeyValue>,
    ) -> impl Future<Output = Result<Experiment>> + Send;
    fn get_experiment(&self, id: i64) -> impl Future<Output = Result<Option<Experiment>>> + Send;
    fn get_experiment_by_name(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<Experiment>>> + Send;
    fn search_experiments(
        &self,
        search: &ExperimentSearch,
    ) -> impl Future<Output = Result<Page<Experiment>>> + Send;
    fn set_experiment_lifecycle(
        &self,
        ctx: &AuditContext,
        id: i64,
        lifecycle: Lifecycle,
    ) -> impl Future<Output = Result<()>> + Send;
    fn set_experiment_tag(
        &self,
        ctx: &AuditContext,
        id: i64,
        tag: KeyValue,
    ) -> impl Future<Output = Result<()>> + Send;

    fn create_tracked_run(
        &self,
        ctx: &AuditContext,
        run: NewTrackedRun,
    ) -> impl Future<Output = Result<TrackedRun>> + Send;
    fn get_tracked_run(&self, id: &str) -> impl Future<Output = Result<Option<TrackedRun>>> + Send;
    fn update_tracked_run(
        &self,
        ctx: &AuditContext,
        id: &str,
        update: RunUpdate,
    ) -> impl Future<Output = Result<TrackedRun>> + Send;
    fn set_run_lifecycle(
        &self,
        ctx: &AuditContext,
        id: &str,
        lifecycle: Lifecycle,
    ) -> impl Future<Output = Result<()>> + Send;
    /// One transaction with multi-row inserts. Re-logging a param with another value is
    /// `Invalid`; so is writing to a deleted run.
    fn log_batch(
        &self,
        ctx: &AuditContext,
        run_id: &str,
        batch: LogBatch,
    ) -> impl Future<Output = Result<()>> + Send;
    fn delete_run_tag(
        &self,
        ctx: &AuditContext,
        run_id: &str,
        key: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The history of one metric ordered by step, timestamp.
    fn metric_history(
        &self,
        run_id: &str,
        key: &str,
        max_results: i64,
        offset: i64,
    ) -> impl Future<Output = Result<Page<Metric>>> + Send;
    fn search_tracked_runs(
        &self,
        search: &RunSearch,
    ) -> impl Future<Output = Result<Page<TrackedRun>>> + Send;
    fn log_run_outputs(
        &self,
        ctx: &AuditContext,
        run_id: &str,
        outputs: Vec<ModelOutput>,
    ) -> impl Future<Output = Result<()>> + Send;

    fn create_logged_model(
        &self,
        ctx: &AuditContext,
        model: NewLoggedModel,
    ) -> impl Future<Output = Result<LoggedModel>> + Send;
    fn get_logged_model(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<LoggedModel>>> + Send;
    fn set_logged_model_status(
        &self,
        ctx: &AuditContext,
        id: &str,
        status: LoggedModelStatus,
    ) -> impl Future<Output = Result<LoggedModel>> + Send;
    fn set_logged_model_tags(
        &self,
        ctx: &AuditContext,
        id: &str,
        tags: Vec<KeyValue>,
    ) -> impl Future<Output = Result<()>> + Send;
    fn search_logged_models(
        &self,
        search: &LoggedModelSearch,
    ) -> impl Future<Output = Result<Page<LoggedModel>>> + Send;
}

/// A registered model with its tags, aliases and the latest version per stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredModel {
    pub name: String,
    pub description: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub tags: Vec<KeyValue>,
    /// (alias, version), sorted by alias.
    pub aliases: Vec<(String, i64)>,
    pub latest_versions: Vec<RegistryVersion>,
}

/// A model version as the registry presents it: MLflow's fields plus aidlc's lineage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryVersion {
    pub id: String,
    pub model: String,
    pub version: i64,
    pub artifact: ContentHash,
    pub source: String,
    pub run_id: Option<String>,
    pub logged_model_id: Option<String>,
    pub description: String,
    pub stage: String,
    pub dataset_version: Option<DatasetVersionId>,
    pub split: Option<ContentHash>,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub created_by: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub tags: Vec<KeyValue>,
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRegistryVersion {
    pub model: String,
    pub artifact: ContentHash,
    pub source: String,
    pub run_id: Option<String>,
    pub logged_model_id: Option<String>,
    pub description: String,
    pub tags: Vec<KeyValue>,
    pub dataset_version: Option<DatasetVersionId>,
    pub split: Option<ContentHash>,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    /// Create the registered model when it does not exist (the native CLI); MLflow clients
    /// create it first and expect `NotFound` otherwise.
    pub create_model: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryVersionSearch {
    pub model: Option<String>,
    pub run_id: Option<String>,
    pub max_results: i64,
    pub offset: i64,
}

/// Which aliases are deployment pointers that need a passing evaluation report (or an override
/// reason, taken from the audit context) before they may move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasPolicy {
    pub protected: Vec<String>,
}

impl Default for AliasPolicy {
    fn default() -> Self {
        Self {
            protected: vec!["champion".to_string()],
        }
    }
}

impl AliasPolicy {
    pub fn is_protected(&self, alias: &str) -> bool {
        self.protected.iter().any(|p| p == alias)
    }
}

/// What an alias change did, for the caller to report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AliasChange {
    pub model: String,
    pub alias: String,
    pub version: i64,
    pub previous_version: Option<i64>,
    /// The passing report that allowed the move, if the alias is protected.
    pub report_id: Option<String>,
    /// The override reason, when a protected alias moved without a passing report.
    pub override_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvaluationReport {
    pub model: String,
    pub version: i64,
    pub passed: bool,
    pub report: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationReport {
    pub id: String,
    #[serde(flatten)]
    pub data: NewEvaluationReport,
    pub created_by: String,
    pub created_at_ms: i64,
}

/// The registry: registered models, versions with tags and lineage, governed aliases and the
/// evaluation reports that govern them.
pub trait RegistryStore {
    /// Fails with `AlreadyExists` on a duplicate name.
    fn create_registered_model(
        &self,
        ctx: &AuditContext,
        name: &str,
        description: &str,
        tags: Vec<KeyValue>,
    ) -> impl Future<Output = Result<RegisteredModel>> + Send;
    fn get_registered_model(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<RegisteredModel>>> + Send;
    /// Models whose name matches `name_like` (a LIKE pattern), by name.
    fn search_registered_models(
        &self,
        name_like: Option<String>,
        max_results: i64,
        offset: i64,
    ) -> impl Future<Output = Result<Page<RegisteredModel>>> + Send;
    fn set_registered_model_tag(
        &self,
        ctx: &AuditContext,
        name: &str,
        tag: KeyValue,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Deletes the model, its versions, tags and aliases (the audit log keeps the history).
    fn delete_registered_model(
        &self,
        ctx: &AuditContext,
        name: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    fn create_registry_version(
        &self,
        ctx: &AuditContext,
        version: NewRegistryVersion,
    ) -> impl Future<Output = Result<RegistryVersion>> + Send;
    fn get_registry_version(
        &self,
        model: &str,
        version: i64,
    ) -> impl Future<Output = Result<Option<RegistryVersion>>> + Send;
    fn search_registry_versions(
        &self,
        search: &RegistryVersionSearch,
    ) -> impl Future<Output = Result<Page<RegistryVersion>>> + Send;
    fn update_registry_version(
        &self,
        ctx: &AuditContext,
        model: &str,
        version: i64,
        description: Option<String>,
        stage: Option<String>,
    ) -> impl Future<Output = Result<RegistryVersion>> + Send;
    fn set_model_version_tag(
        &self,
        ctx: &AuditContext,
        model: &str,
        version: i64,
        tag: KeyValue,
    ) -> impl Future<Output = Result<()>> + Send;
    fn delete_model_version_tag(
        &self,
        ctx: &AuditContext,
        model: &str,
        version: i64,
        key: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Points `alias` at `version`. A protected alias needs a passing evaluation report for that
    /// version or an override reason in `ctx.reason`; otherwise `Refused`. Audited either way it
    /// succeeds, with the report or the reason.
    fn set_governed_alias(
        &self,
        ctx: &AuditContext,
        policy: &AliasPolicy,
        model: &str,
        alias: &str,
        version: i64,
    ) -> impl Future<Output = Result<AliasChange>> + Send;
    fn delete_alias(
        &self,
        ctx: &AuditContext,
        model: &str,
        alias: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    fn resolve_alias(
        &self,
        model: &str,
        alias: &str,
    ) -> impl Future<Output = Result<Option<RegistryVersion>>> + Send;

    fn record_evaluation_report(
        &self,
        ctx: &AuditContext,
        report: NewEvaluationReport,
    ) -> impl Future<Output = Result<EvaluationReport>> + Send;
    fn evaluation_reports(
        &self,
        model: &str,
        version: i64,
    ) -> impl Future<Output = Result<Vec<EvaluationReport>>> + Send;
}
