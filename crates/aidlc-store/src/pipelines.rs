//! Retraining pipeline runs: one row per run of the iteration stage, its status and the state
//! of its steps (JSON owned by `aidlc-service::iterate`), at most one active run per model.

use crate::{AuditContext, Result};
use serde::{Deserialize, Serialize};
use std::future::Future;

/// A stored pipeline run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineRecord {
    pub id: String,
    pub model: String,
    /// What started it: `schedule`, `manual`, or the alert that triggered it.
    pub trigger: String,
    /// `running`, `awaiting_approval`, or a final status.
    pub status: String,
    pub state: serde_json::Value,
    pub started_by: String,
    pub started_at_ms: i64,
    pub updated_at_ms: i64,
}

/// Statuses during which a model's pipeline blocks another.
pub const ACTIVE_PIPELINE_STATUSES: [&str; 2] = ["running", "awaiting_approval"];

pub trait PipelineStore {
    /// Starts a run (status `running`); a [`StoreError::Conflict`](crate::StoreError::Conflict)
    /// when the model already has an active one. Audited as `pipeline.start`.
    fn start_pipeline(
        &self,
        ctx: &AuditContext,
        model: &str,
        trigger: &str,
        state: serde_json::Value,
    ) -> impl Future<Output = Result<PipelineRecord>> + Send;
    /// Records a step: the new status and state, and the audit entry `action` with `details`
    /// (the step's evidence), in one transaction.
    fn update_pipeline(
        &self,
        ctx: &AuditContext,
        id: &str,
        status: &str,
        state: serde_json::Value,
        action: &str,
        details: serde_json::Value,
    ) -> impl Future<Output = Result<PipelineRecord>> + Send;
    /// Runs, newest first; of one model when given.
    fn list_pipelines(
        &self,
        model: Option<&str>,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<PipelineRecord>>> + Send;
}
