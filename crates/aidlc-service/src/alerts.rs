//! Alerts: one batch of monitoring signals evaluated against `[monitor.alerts]`, what changed
//! recorded in the store, and the openings and resolutions sent to `[monitor.channels]`.
//!
//! Delivery never fails the caller: each channel gets its notifications in order, each one
//! retried with exponential backoff up to a bounded number of attempts, and every attempt —
//! delivered or not — is recorded. Channels are served concurrently, so a slow or failing
//! channel delays only itself, and the whole call is bounded by the retry policy.
//!
//! The [`Notifier`] is the service's only window on the outside: it sends (over HTTP, in the
//! server), waits between attempts and reads the clock, so this module stays free of both.

use aidlc_core::alerts::{Alert, AlertEvent, AlertEventKind, AlertPlan, Signal, Suppressed};
use aidlc_core::spec::{Channel, MonitorSpec};
use aidlc_store::{AlertDelivery, AlertStore, AuditContext, StoreError};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::time::Duration;

/// What a channel is told: an alert opened or resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// `opened` or `resolved`, with the value and evidence of that moment.
    pub event: AlertEvent,
    /// The alert as written after the batch.
    pub alert: Alert,
}

/// Why one attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    pub message: String,
    /// The receiver's HTTP status, when it answered.
    pub http_status: Option<u16>,
    /// Whether another attempt may succeed (a refused connection or a 5xx may pass; a 4xx
    /// will not).
    pub retryable: bool,
}

/// How often and how patiently a notification is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per notification and channel, the first included; at least 1.
    pub attempts: u32,
    /// The wait after the first failure; each later wait doubles.
    pub first_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Four attempts, waiting 0.5 s, 1 s and 2 s between them.
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.first_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Sends notifications to channels, waits between attempts and tells the time.
pub trait Notifier: Send + Sync {
    /// One attempt to deliver `notification` to `channel`.
    fn send(
        &self,
        channel: &Channel,
        notification: &Notification,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send;
    /// Waits before the next attempt.
    fn pause(&self, wait: Duration) -> impl Future<Output = ()> + Send;
    /// Milliseconds since the Unix epoch, for the delivery records.
    fn now_ms(&self) -> i64;
    /// The retry policy; [`RetryPolicy::default`] unless the notifier says otherwise.
    fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy::default()
    }
}

/// How one notification went on one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryOutcome {
    pub channel: String,
    pub alert_id: String,
    pub event: AlertEventKind,
    pub delivered: bool,
    pub attempts: u32,
    /// The last failure, when not delivered.
    pub error: Option<String>,
}

/// What one batch did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertReport {
    /// Every alert that opened, changed or resolved, as written.
    pub alerts: Vec<Alert>,
    /// Openings and resolutions, in order.
    pub notifications: Vec<Notification>,
    /// One entry per notification and channel that accepts its severity.
    pub deliveries: Vec<DeliveryOutcome>,
    /// Conditions that held while their rule was cooling down.
    pub suppressed: Vec<Suppressed>,
}

/// Evaluates `signals` against the rules of `monitor`, records the changes (one transaction,
/// audited with `ctx`), delivers the openings and resolutions to the channels and records every
/// delivery attempt. Fails only when the store does; a channel that cannot be reached shows up
/// as undelivered in the report and in the store.
pub async fn process<S, N>(
    store: &S,
    monitor: &MonitorSpec,
    signals: &[Signal],
    notifier: &N,
    ctx: &AuditContext,
) -> Result<AlertReport, StoreError>
where
    S: AlertStore + Sync,
    N: Notifier,
{
    let mut endpoints: Vec<String> = signals.iter().map(|s| s.endpoint.clone()).collect();
    endpoints.sort_unstable();
    endpoints.dedup();
    let current = store.current_alerts(&endpoints).await?;
    let plan = aidlc_core::alerts::evaluate(&monitor.rules(), &current, signals);
    let alerts = if plan.writes.is_empty() {
        Vec::new()
    } else {
        store.record_alerts(ctx, plan.writes.clone()).await?
    };
    let notifications = notifications(&plan, &alerts);
    let channels = monitor.channel_list();
    let policy = notifier.retry_policy();
    let per_channel = channels.iter().map(|channel| {
        let accepted: Vec<&Notification> = notifications
            .iter()
            .filter(|n| channel.accepts(n.alert.state.severity))
            .collect();
        deliver_in_order(notifier, channel, accepted, policy)
    });
    let mut attempts = Vec::new();
    let mut deliveries = Vec::new();
    for (outcomes, tried) in futures_util::future::join_all(per_channel).await {
        deliveries.extend(outcomes);
        attempts.extend(tried);
    }
    store.record_deliveries(ctx, attempts).await?;
    Ok(AlertReport {
        alerts,
        notifications,
        deliveries,
        suppressed: plan.suppressed,
    })
}

fn notifications(plan: &AlertPlan, written: &[Alert]) -> Vec<Notification> {
    plan.notifications()
        .map(|(i, event)| Notification {
            event: event.clone(),
            alert: written[i].clone(),
        })
        .collect()
}

/// Sends a channel's notifications one after the other, so a receiver never hears of a
/// resolution before the opening it resolves.
async fn deliver_in_order<N: Notifier>(
    notifier: &N,
    channel: &Channel,
    notifications: Vec<&Notification>,
    policy: RetryPolicy,
) -> (Vec<DeliveryOutcome>, Vec<AlertDelivery>) {
    let mut outcomes = Vec::with_capacity(notifications.len());
    let mut attempts = Vec::new();
    for notification in notifications {
        let (outcome, tried) = deliver(notifier, channel, notification, policy).await;
        outcomes.push(outcome);
        attempts.extend(tried);
    }
    (outcomes, attempts)
}

async fn deliver<N: Notifier>(
    notifier: &N,
    channel: &Channel,
    notification: &Notification,
    policy: RetryPolicy,
) -> (DeliveryOutcome, Vec<AlertDelivery>) {
    let mut tried = Vec::new();
    let mut last_error = None;
    let limit = policy.attempts.max(1);
    for attempt in 1..=limit {
        let result = notifier.send(channel, notification).await;
        let record = |delivered, http_status: Option<u16>, error| AlertDelivery {
            alert_id: notification.alert.id.clone(),
            event: notification.event.kind,
            channel: channel.name.clone(),
            channel_kind: channel.kind.as_str().to_string(),
            attempt: i64::from(attempt),
            delivered,
            http_status: http_status.map(i64::from),
            error,
            at_ms: notifier.now_ms(),
        };
        match result {
            Ok(()) => {
                tried.push(record(true, None, None));
                last_error = None;
                break;
            }
            Err(e) => {
                tried.push(record(false, e.http_status, Some(e.message.clone())));
                let retry = e.retryable && attempt < limit;
                last_error = Some(e.message);
                if !retry {
                    break;
                }
                notifier.pause(policy.backoff(attempt)).await;
            }
        }
    }
    let outcome = DeliveryOutcome {
        channel: channel.name.clone(),
        alert_id: notification.alert.id.0.clone(),
        event: notification.event.kind,
        delivered: last_error.is_none(),
        attempts: tried.len() as u32,
        error: last_error,
    };
    (outcome, tried)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aidlc_core::spec::ProblemSpec;
    use aidlc_store::{AlertFilter, AuditFilter, AuditStore, Store};
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    const SPEC: &str = r#"
[monitor.alerts.drifting]
signal = "drift.share"
when = "> 0.3"
severity = "critical"

[monitor.alerts.feature]
signal = "drift.feature.*"
when = "> 0.5"
severity = "info"

[monitor.channels.ops]
kind = "slack"
url = "http://127.0.0.1:1/ops"
min_severity = "warning"

[monitor.channels.flaky]
kind = "webhook"
url = "http://127.0.0.1:1/flaky"

[monitor.channels.down]
kind = "webhook"
url = "http://127.0.0.1:1/down"
"#;

    /// A notifier in memory: `flaky` fails twice per notification then succeeds, `down` always
    /// fails, the others succeed; it keeps what it delivered and how long it was told to wait.
    #[derive(Default)]
    struct Scripted {
        delivered: Mutex<Vec<(String, AlertEventKind, String)>>,
        failures: Mutex<BTreeMap<(String, String, AlertEventKind), u32>>,
        pauses: Mutex<Vec<Duration>>,
        refuse_as_client_error: bool,
    }

    impl Notifier for Scripted {
        async fn send(&self, channel: &Channel, n: &Notification) -> Result<(), DeliveryError> {
            let key = (channel.name.clone(), n.alert.id.0.clone(), n.event.kind);
            let mut failures = self.failures.lock().unwrap();
            let failed = failures.entry(key).or_default();
            let fail = match channel.name.as_str() {
                "flaky" => *failed < 2,
                "down" => true,
                _ => false,
            };
            if fail {
                *failed += 1;
                return Err(DeliveryError {
                    message: format!("HTTP 503 from {}", channel.url),
                    http_status: Some(if self.refuse_as_client_error {
                        404
                    } else {
                        503
                    }),
                    retryable: !self.refuse_as_client_error,
                });
            }
            self.delivered.lock().unwrap().push((
                channel.name.clone(),
                n.event.kind,
                n.alert.state.key.signal.clone(),
            ));
            Ok(())
        }

        async fn pause(&self, wait: Duration) {
            self.pauses.lock().unwrap().push(wait);
        }

        fn now_ms(&self) -> i64 {
            1_750_000_000_000
        }

        fn retry_policy(&self) -> RetryPolicy {
            RetryPolicy {
                attempts: 3,
                first_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_millis(150),
            }
        }
    }

    fn signal(name: &str, value: f64, end_ms: i64) -> Signal {
        Signal {
            endpoint: "rain".into(),
            name: name.into(),
            value,
            window_start_ms: end_ms - 10,
            window_end_ms: end_ms,
            evidence: serde_json::json!({ "score": value }),
        }
    }

    fn ctx() -> AuditContext {
        AuditContext {
            actor: "monitor".into(),
            at_ms: 1_750_000_000_000,
            reason: None,
        }
    }

    async fn store(dir: &tempfile::TempDir) -> Store {
        Store::open(&dir.path().join("aidlc.db").display().to_string())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn openings_and_resolutions_reach_every_channel_that_accepts_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let monitor = ProblemSpec::parse(SPEC, "aidlc.toml").unwrap().monitor;
        let notifier = Scripted::default();

        let report = process(
            &store,
            &monitor,
            &[
                signal("drift.share", 0.5, 100),
                signal("drift.feature.age", 0.9, 100),
            ],
            &notifier,
            &ctx(),
        )
        .await
        .unwrap();
        assert_eq!(report.alerts.len(), 2);
        assert_eq!(report.notifications.len(), 2);
        // ops takes warning and above (the critical one); flaky and down take both.
        let mut delivered = notifier.delivered.lock().unwrap().clone();
        delivered.sort();
        assert_eq!(
            delivered,
            vec![
                (
                    "flaky".into(),
                    AlertEventKind::Opened,
                    "drift.feature.age".into()
                ),
                ("flaky".into(), AlertEventKind::Opened, "drift.share".into()),
                ("ops".into(), AlertEventKind::Opened, "drift.share".into()),
            ]
        );
        // flaky: two failures, then delivered; down: every attempt failed; both waited with
        // doubling backoff up to the maximum.
        let outcome = |channel: &str, signal: &str| {
            report
                .deliveries
                .iter()
                .find(|d| {
                    d.channel == channel
                        && report
                            .alerts
                            .iter()
                            .any(|a| a.id.0 == d.alert_id && a.state.key.signal == signal)
                })
                .unwrap()
                .clone()
        };
        let flaky = outcome("flaky", "drift.share");
        assert!(flaky.delivered && flaky.attempts == 3 && flaky.error.is_none());
        let down = outcome("down", "drift.share");
        assert!(!down.delivered && down.attempts == 3);
        assert!(down.error.as_deref().unwrap().contains("HTTP 503"));
        let mut pauses = notifier.pauses.lock().unwrap().clone();
        pauses.sort();
        assert_eq!(
            pauses.len(),
            8,
            "2 pauses per notification on flaky and on down"
        );
        assert_eq!(pauses[0], Duration::from_millis(100));
        assert_eq!(pauses[7], Duration::from_millis(150), "capped");

        // Every attempt is in the store, the failures with their error.
        let id = &report
            .alerts
            .iter()
            .find(|a| a.state.key.signal == "drift.share")
            .unwrap()
            .id;
        let attempts = store.alert_deliveries(id).await.unwrap();
        let summary: Vec<(&str, i64, bool)> = attempts
            .iter()
            .map(|d| (d.channel.as_str(), d.attempt, d.delivered))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("down", 1, false),
                ("down", 2, false),
                ("down", 3, false),
                ("flaky", 1, false),
                ("flaky", 2, false),
                ("flaky", 3, true),
                ("ops", 1, true),
            ]
        );
        assert_eq!(attempts[0].http_status, Some(503));
        assert_eq!(attempts[0].at_ms, 1_750_000_000_000);

        // While the condition persists nobody is told again; when it clears, everyone is.
        notifier.delivered.lock().unwrap().clear();
        let report = process(
            &store,
            &monitor,
            &[signal("drift.share", 0.6, 200)],
            &notifier,
            &ctx(),
        )
        .await
        .unwrap();
        assert_eq!(report.alerts.len(), 1);
        assert!(report.notifications.is_empty() && report.deliveries.is_empty());
        let report = process(
            &store,
            &monitor,
            &[signal("drift.share", 0.1, 300)],
            &notifier,
            &ctx(),
        )
        .await
        .unwrap();
        assert_eq!(report.notifications.len(), 1);
        assert_eq!(report.notifications[0].event.kind, AlertEventKind::Resolved);
        let delivered = notifier.delivered.lock().unwrap().clone();
        assert_eq!(
            delivered
                .iter()
                .map(|d| d.0.as_str())
                .collect::<Vec<_>>()
                .len(),
            2,
            "ops and flaky: {delivered:?}"
        );
        assert!(delivered.iter().all(|d| d.1 == AlertEventKind::Resolved));
        let open = store
            .list_alerts(&AlertFilter {
                open_only: true,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(open.len(), 1, "the info alert on drift.feature.age");
        assert!(store.verify_audit().await.unwrap().ok);
        let audited = store
            .list_audit(&AuditFilter {
                object_kind: Some("alert".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(audited.iter().any(|e| e.entry.action == "alert.deliver"));
    }

    #[tokio::test]
    async fn a_client_error_is_not_retried() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let monitor = ProblemSpec::parse(SPEC, "aidlc.toml").unwrap().monitor;
        let notifier = Scripted {
            refuse_as_client_error: true,
            ..Default::default()
        };
        let report = process(
            &store,
            &monitor,
            &[signal("drift.share", 0.5, 100)],
            &notifier,
            &ctx(),
        )
        .await
        .unwrap();
        let down = report
            .deliveries
            .iter()
            .find(|d| d.channel == "down")
            .unwrap();
        assert_eq!((down.delivered, down.attempts), (false, 1));
        assert!(notifier.pauses.lock().unwrap().is_empty());
    }

    #[test]
    fn backoff_doubles_up_to_its_maximum() {
        let p = RetryPolicy::default();
        let waits: Vec<u128> = (1..=8).map(|a| p.backoff(a).as_millis()).collect();
        assert_eq!(
            waits,
            vec![500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]
        );
    }
}
