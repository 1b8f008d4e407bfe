//! The records aidlc keeps about each stage of the loop: projects, dataset versions, runs, model
//! versions and deployments. Stores persist them; services create them.

use crate::ids::{ContentHash, DatasetVersionId, ModelVersionId, RunId};
use serde::{Deserialize, Serialize};

/// A project and the framing contract it was last checked in with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub name: String,
    /// The text of `aidlc.toml`, kept so every later record can be traced to the contract in force.
    pub spec_toml: String,
    pub spec_hash: ContentHash,
    pub updated_at_ms: i64,
}

/// A dataset version before the store has numbered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewDatasetVersion {
    pub name: String,
    /// Hash of the source bytes: the same bytes always map to the same version.
    pub hash: ContentHash,
    /// The stored (Parquet) copy in the artifact store.
    pub artifact: ContentHash,
    pub schema: serde_json::Value,
    pub profile: serde_json::Value,
    pub source: String,
    pub rows: i64,
    /// False when validation failed; training then refuses it unless overridden.
    pub valid: bool,
    /// The validation report (one entry per expectation); `null` when none was configured.
    #[serde(default)]
    pub validation: serde_json::Value,
}

/// An immutable, numbered version of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetVersion {
    pub id: DatasetVersionId,
    /// 1, 2, 3… per dataset name.
    pub version: i64,
    #[serde(flatten)]
    pub data: NewDatasetVersion,
    pub created_by: String,
    pub created_at_ms: i64,
}

/// Whether a dataset version was newly created or the same bytes were already recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetVersionOutcome {
    pub version: DatasetVersion,
    pub created: bool,
}

/// Life-cycle state of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    Running,
    Scheduled,
    Finished,
    Failed,
    Killed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Scheduled => "SCHEDULED",
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
            RunStatus::Killed => "KILLED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "RUNNING" => RunStatus::Running,
            "SCHEDULED" => RunStatus::Scheduled,
            "FINISHED" => RunStatus::Finished,
            "FAILED" => RunStatus::Failed,
            "KILLED" => RunStatus::Killed,
            _ => return None,
        })
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunStatus::Finished | RunStatus::Failed | RunStatus::Killed
        )
    }
}

/// A run as it is started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    pub project: String,
    pub name: String,
    pub dataset_version: Option<DatasetVersionId>,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub params: serde_json::Value,
}

/// One tracked run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: RunId,
    #[serde(flatten)]
    pub data: NewRun,
    pub status: RunStatus,
    pub created_by: String,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
}

/// A model version before the registry has numbered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewModelVersion {
    pub model: String,
    pub artifact: ContentHash,
    pub run: Option<RunId>,
    pub dataset_version: Option<DatasetVersionId>,
    /// Hash of the split manifest the model was trained on.
    pub split: Option<ContentHash>,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
}

/// A registered, numbered model version with its lineage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    pub id: ModelVersionId,
    pub version: i64,
    #[serde(flatten)]
    pub data: NewModelVersion,
    pub created_by: String,
    pub created_at_ms: i64,
}

/// A deployment: an endpoint served from a model through a registry alias.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub endpoint: String,
    pub model: String,
    pub alias: String,
    /// Rollout state owned by the rollout controller (later issues), as JSON.
    pub state: serde_json::Value,
    pub updated_by: String,
    pub updated_at_ms: i64,
}
