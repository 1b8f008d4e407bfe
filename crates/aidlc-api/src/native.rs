//! aidlc's native API (`/api/v1/...`): the registry with lineage and governed aliases.

use serde::{Deserialize, Serialize};

/// The error body of the native API (the same shape as MLflow's, so one client handles both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error_code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub store: String,
    pub version: String,
}

/// One link of a model version's lineage; `value = None` marks a missing link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineageLink {
    pub link: String,
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelVersionView {
    pub model: String,
    pub version: i64,
    pub artifact: String,
    pub source: String,
    pub run_id: Option<String>,
    pub dataset_version: Option<String>,
    pub split: Option<String>,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub aliases: Vec<String>,
    pub created_by: String,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelView {
    pub name: String,
    pub description: String,
    pub aliases: Vec<AliasView>,
    pub versions: Vec<ModelVersionView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasView {
    pub alias: String,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelList {
    pub models: Vec<ModelView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lineage {
    pub model: String,
    pub version: i64,
    pub links: Vec<LineageLink>,
    /// True when every link is present.
    pub complete: bool,
}

/// `PUT /api/v1/models/{name}/aliases/{alias}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAliasRequest {
    pub version: i64,
    /// Required to move a protected alias to a version without a passing evaluation report;
    /// written to the audit log.
    #[serde(default)]
    pub override_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasChangeView {
    pub model: String,
    pub alias: String,
    pub version: i64,
    pub previous_version: Option<i64>,
    pub report_id: Option<String>,
    pub override_reason: Option<String>,
}

/// One alert, as `GET /api/v1/alerts` lists it and as the generic webhook sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertView {
    pub id: String,
    /// The rule's name in `[monitor.alerts]`.
    pub rule: String,
    pub endpoint: String,
    pub signal: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    /// The rule's condition, such as `> 0.3`.
    pub condition: String,
    /// `open` or `resolved`.
    pub status: String,
    /// The latest value: the last that met the condition, or the one that cleared it.
    pub value: f64,
    pub evidence: serde_json::Value,
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    pub opened_ms: i64,
    pub last_seen_ms: i64,
    pub resolved_ms: Option<i64>,
    pub observations: i64,
}

/// `GET /api/v1/alerts[?endpoint=E][&open=true][&limit=N]`: the most recently opened first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertList {
    pub alerts: Vec<AlertView>,
}

/// The body of a generic webhook channel (`kind = "webhook"`): schema `aidlc.alert.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertNotificationBody {
    /// Always `aidlc.alert.v1`.
    pub schema: String,
    /// `opened` or `resolved`.
    pub event: String,
    /// One line for people, such as `[critical] drifting opened on rain: drift.share = 0.52 (> 0.3)`.
    pub summary: String,
    /// The window end of the signal that opened or resolved the alert.
    pub at_ms: i64,
    /// The value at that moment.
    pub value: f64,
    /// The evidence at that moment.
    pub evidence: serde_json::Value,
    pub alert: AlertView,
}

/// A time on the wire: milliseconds since the Unix epoch, or an RFC 3339 / ISO 8601 text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WireTime {
    Millis(i64),
    Text(String),
}

/// A label value on the wire: text, a number or a boolean (stored as text, as label files are),
/// or `null` for a label known to be missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WireLabelValue {
    Text(String),
    Number(f64),
    Bool(bool),
}

/// One label of `POST /api/v1/labels`: keyed by the prediction's request id, or by the entity
/// and the time of the event it judges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelItem {
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub entity: Option<String>,
    #[serde(default)]
    pub event_time: Option<WireTime>,
    pub value: Option<WireLabelValue>,
    /// When the label became known [default: when the server receives it].
    #[serde(default)]
    pub available_at: Option<WireTime>,
}

/// `POST /api/v1/labels`: labels recorded in one batch, idempotent per key and availability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordLabelsRequest {
    /// The label set [default: `[problem.label] column` of the server's project].
    #[serde(default)]
    pub name: Option<String>,
    pub labels: Vec<LabelItem>,
}

/// What `POST /api/v1/labels` recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordLabelsResponse {
    pub name: String,
    pub received: usize,
    pub inserted: u64,
    pub already_present: u64,
}

/// `POST /api/v1/models/{name}/promote`: move an alias (by default the protected one production
/// follows) to a version through the governed alias service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromoteRequest {
    pub version: i64,
    /// Why (written to the audit log); required.
    #[serde(default)]
    pub reason: Option<String>,
    /// The alias to move; the server's first protected alias (`champion`) when absent.
    #[serde(default)]
    pub alias: Option<String>,
    /// Move a protected alias without a passing evaluation report; `reason` is then the
    /// override reason.
    #[serde(default, rename = "override")]
    pub override_gate: bool,
}

/// One run of the retraining pipeline, as `GET /api/v1/pipelines` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineView {
    pub id: String,
    pub model: String,
    /// What started it: `schedule`, `manual`, or the alert that triggered it.
    pub trigger: String,
    /// `running`, `awaiting_approval`, `handed_off`, `evaluated`, `rejected` or `failed`.
    pub status: String,
    /// Its steps with their evidence, the challenger, report, rollout and why it ended.
    pub state: serde_json::Value,
    pub started_by: String,
    pub started_at_ms: i64,
    pub updated_at_ms: i64,
}

/// `GET /api/v1/pipelines[?model=NAME][&limit=N]`: the newest runs first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineList {
    pub pipelines: Vec<PipelineView>,
}
