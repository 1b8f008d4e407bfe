//! Records of alerts, their history and their delivery attempts, and the store trait that
//! keeps them. The alerts themselves are the domain's ([`aidlc_core::alerts`]); the state
//! machine decides what to write, the store writes it with its audit entries.

use crate::{AuditContext, Result};
use aidlc_core::alerts::{Alert, AlertEvent, AlertEventKind, AlertWrite};
use aidlc_core::ids::AlertId;
use serde::{Deserialize, Serialize};
use std::future::Future;

/// Which alerts to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// Only this endpoint's alerts.
    pub endpoint: Option<String>,
    /// Only alerts that are still open.
    pub open_only: bool,
    /// The newest `limit` alerts (all when `None`).
    pub limit: Option<i64>,
}

/// One entry of an alert's stored history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEventRecord {
    pub alert_id: AlertId,
    /// 1-based position in the alert's history.
    pub seq: i64,
    #[serde(flatten)]
    pub event: AlertEvent,
    /// When it was written (the writer's clock).
    pub recorded_at_ms: i64,
}

/// One attempt to send an alert's opening or resolution to a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertDelivery {
    pub alert_id: AlertId,
    /// `opened` or `resolved`.
    pub event: AlertEventKind,
    /// The channel's name in `[monitor.channels]`.
    pub channel: String,
    /// `webhook` or `slack`.
    pub channel_kind: String,
    /// 1-based.
    pub attempt: i64,
    pub delivered: bool,
    /// The receiver's HTTP status, when it answered.
    pub http_status: Option<i64>,
    /// Why the attempt failed.
    pub error: Option<String>,
    /// When the attempt ended.
    pub at_ms: i64,
}

/// Alerts raised by the monitoring rules.
pub trait AlertStore {
    /// Writes what the alert state machine decided, in order, in one transaction: a write
    /// without an id inserts a new alert (the id is assigned here), one with an id changes an
    /// open alert (a [`StoreError::Conflict`](crate::StoreError::Conflict) if it is no longer
    /// open). Each write's events extend its history, and each write is audited. Returns the
    /// alerts as written, in the order of the batch. A second open alert for a key that has
    /// one is refused as a conflict.
    fn record_alerts(
        &self,
        ctx: &AuditContext,
        batch: Vec<AlertWrite>,
    ) -> impl Future<Output = Result<Vec<Alert>>> + Send;
    /// For every (rule, endpoint, signal) of these endpoints, its latest alert, open or
    /// resolved: what the state machine needs to update, resolve and cool down.
    fn current_alerts(
        &self,
        endpoints: &[String],
    ) -> impl Future<Output = Result<Vec<Alert>>> + Send;
    /// Alerts, the most recently opened first.
    fn list_alerts(&self, filter: &AlertFilter) -> impl Future<Output = Result<Vec<Alert>>> + Send;
    fn get_alert(&self, id: &AlertId) -> impl Future<Output = Result<Option<Alert>>> + Send;
    /// An alert's history, oldest first.
    fn alert_history(
        &self,
        id: &AlertId,
    ) -> impl Future<Output = Result<Vec<AlertEventRecord>>> + Send;
    /// Records delivery attempts, each with its audit entry.
    fn record_deliveries(
        &self,
        ctx: &AuditContext,
        batch: Vec<AlertDelivery>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// An alert's delivery attempts, by event, channel and attempt.
    fn alert_deliveries(
        &self,
        id: &AlertId,
    ) -> impl Future<Output = Result<Vec<AlertDelivery>>> + Send;
}
