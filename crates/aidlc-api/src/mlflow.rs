//! MLflow REST API messages (`/api/2.0/mlflow/...`), named as in MLflow's `service.proto`,
//! `model_registry.proto` and `mlflow_artifacts.proto`.
//!
//! Requests deserialize leniently (every field optional, so the server can answer a missing
//! required field with MLflow's own 400 instead of a generic parse error). Responses omit empty
//! repeated fields and absent optionals, as MLflow's server does.

use crate::proto_json::{double, opt_int64};
use serde::{Deserialize, Serialize};

/// MLflow's error body: exactly these two fields are read by the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error_code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct KeyValue {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub value: String,
}

// ---------------------------------------------------------------------------------------------
// Entities.

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    pub experiment_id: String,
    pub name: String,
    pub artifact_location: String,
    pub lifecycle_stage: String,
    pub creation_time: i64,
    pub last_update_time: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    #[serde(default)]
    pub key: String,
    #[serde(with = "double")]
    pub value: f64,
    #[serde(default, with = "opt_int64", skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    #[serde(default, with = "opt_int64", skip_serializing_if = "Option::is_none")]
    pub step: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub run_id: String,
    pub run_uuid: String,
    pub run_name: String,
    pub experiment_id: String,
    pub user_id: String,
    pub status: String,
    pub start_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    pub artifact_uri: String,
    pub lifecycle_stage: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RunData {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<Metric>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelOutput {
    #[serde(default)]
    pub model_id: String,
    #[serde(default, with = "opt_int64", skip_serializing_if = "Option::is_none")]
    pub step: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RunInputs {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RunOutputs {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_outputs: Vec<ModelOutput>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub info: RunInfo,
    pub data: RunData,
    pub inputs: RunInputs,
    pub outputs: RunOutputs,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedModelInfo {
    pub model_id: String,
    pub experiment_id: String,
    pub name: String,
    pub creation_timestamp_ms: i64,
    pub last_updated_timestamp_ms: i64,
    pub artifact_uri: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct LoggedModelData {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<Metric>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedModel {
    pub info: LoggedModelInfo,
    pub data: LoggedModelData,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredModelAlias {
    pub alias: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    pub name: String,
    pub version: String,
    pub creation_timestamp: i64,
    pub last_updated_timestamp: i64,
    pub user_id: String,
    pub current_stage: String,
    pub description: String,
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    pub status: String,
    pub run_link: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredModel {
    pub name: String,
    pub creation_timestamp: i64,
    pub last_updated_timestamp: i64,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub latest_versions: Vec<ModelVersion>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<RegisteredModelAlias>,
}

// ---------------------------------------------------------------------------------------------
// Requests (JSON bodies). GET requests arrive as query strings and are read by the server into
// the same shapes.

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CreateExperiment {
    pub name: Option<String>,
    pub artifact_location: Option<String>,
    pub tags: Vec<KeyValue>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ExperimentRef {
    pub experiment_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SetExperimentTag {
    pub experiment_id: Option<String>,
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SearchExperiments {
    #[serde(with = "opt_int64")]
    pub max_results: Option<i64>,
    pub filter: Option<String>,
    pub view_type: Option<String>,
    pub order_by: Vec<String>,
    pub page_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CreateRun {
    pub experiment_id: Option<String>,
    pub user_id: Option<String>,
    pub run_name: Option<String>,
    #[serde(with = "opt_int64")]
    pub start_time: Option<i64>,
    pub tags: Vec<KeyValue>,
}

/// Any request naming a run: clients send `run_id`, `run_uuid` or both.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RunRef {
    pub run_id: Option<String>,
    pub run_uuid: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct UpdateRun {
    pub run_id: Option<String>,
    pub run_uuid: Option<String>,
    pub status: Option<String>,
    #[serde(with = "opt_int64")]
    pub end_time: Option<i64>,
    pub run_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LogParam {
    pub run_id: Option<String>,
    pub run_uuid: Option<String>,
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SetTag {
    pub run_id: Option<String>,
    pub run_uuid: Option<String>,
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DeleteTag {
    pub run_id: Option<String>,
    pub key: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogMetric {
    #[serde(default)]
    pub run_id: Option<String>,
    #[serde(default)]
    pub run_uuid: Option<String>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(with = "double")]
    pub value: f64,
    #[serde(default, with = "opt_int64")]
    pub timestamp: Option<i64>,
    #[serde(default, with = "opt_int64")]
    pub step: Option<i64>,
    #[serde(default)]
    pub model_id: Option<String>,
    #[serde(default)]
    pub dataset_name: Option<String>,
    #[serde(default)]
    pub dataset_digest: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LogBatch {
    pub run_id: Option<String>,
    pub metrics: Vec<Metric>,
    pub params: Vec<KeyValue>,
    pub tags: Vec<KeyValue>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SearchRuns {
    pub experiment_ids: Vec<String>,
    pub filter: Option<String>,
    pub run_view_type: Option<String>,
    #[serde(with = "opt_int64")]
    pub max_results: Option<i64>,
    pub order_by: Vec<String>,
    pub page_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LogOutputs {
    pub run_id: Option<String>,
    pub models: Vec<ModelOutput>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CreateLoggedModel {
    pub experiment_id: Option<String>,
    pub name: Option<String>,
    pub source_run_id: Option<String>,
    pub params: Vec<KeyValue>,
    pub tags: Vec<KeyValue>,
    pub model_type: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FinalizeLoggedModel {
    pub model_id: Option<String>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SetLoggedModelTags {
    pub tags: Vec<KeyValue>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SearchLoggedModels {
    pub experiment_ids: Vec<String>,
    pub filter: Option<String>,
    #[serde(with = "opt_int64")]
    pub max_results: Option<i64>,
    pub order_by: Vec<serde_json::Value>,
    pub page_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CreateRegisteredModel {
    pub name: Option<String>,
    pub tags: Vec<KeyValue>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RegisteredModelRef {
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SetRegisteredModelTag {
    pub name: Option<String>,
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GetLatestVersions {
    pub name: Option<String>,
    pub stages: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CreateModelVersion {
    pub name: Option<String>,
    pub source: Option<String>,
    pub run_id: Option<String>,
    pub tags: Vec<KeyValue>,
    pub description: Option<String>,
    pub model_id: Option<String>,
}

/// Any request naming a model version, with the optional fields of the calls that use it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ModelVersionRef {
    pub name: Option<String>,
    pub version: Option<String>,
    pub key: Option<String>,
    pub value: Option<String>,
    pub description: Option<String>,
    pub stage: Option<String>,
    pub archive_existing_versions: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AliasRequest {
    pub name: Option<String>,
    pub alias: Option<String>,
    pub version: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Responses.

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentResponse {
    pub experiment: Experiment,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateExperimentResponse {
    pub experiment_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchExperimentsResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub experiments: Vec<Experiment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunResponse {
    pub run: Run,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateRunResponse {
    pub run_info: RunInfo,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchRunsResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<Run>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricHistoryResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<Metric>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedModelResponse {
    pub model: LoggedModel,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchLoggedModelsResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<LoggedModel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegisteredModelResponse {
    pub registered_model: RegisteredModel,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchRegisteredModelsResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub registered_models: Vec<RegisteredModel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelVersionResponse {
    pub model_version: ModelVersion,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelVersionsResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub model_versions: Vec<ModelVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DownloadUriResponse {
    pub artifact_uri: String,
}

/// One entry of an artifact listing; `path` is relative to the listed folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    pub path: String,
    pub is_dir: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_size: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListArtifactsResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileInfo>,
}

/// `GET /api/3.0/mlflow/server-info`: what the client probes before downloads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerInfo {
    pub store_type: String,
    pub workspaces_enabled: bool,
    pub multipart_uploads_enabled: bool,
    pub multipart_downloads_enabled: bool,
}

/// The empty success body `{}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Empty {}
