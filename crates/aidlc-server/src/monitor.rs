//! The monitor scheduler of the `all` server: every `[monitor] interval` (or at the times of
//! `[monitor] schedule`) it monitors, for each
//! deployment, the complete windows since the last stored one (from the serving version's first
//! prediction when none is stored), stores the results and runs the alert rules, delivering to
//! the channels with [`HttpNotifier`](crate::alerts::HttpNotifier).

use crate::AppState;
use crate::alerts::HttpNotifier;
use aidlc_service::monitor::{self, MonitorSettings};
use aidlc_store::{AnyPredictionLog, AuditContext, DeploymentStore};
use std::sync::Arc;
use std::time::Duration;

/// The actor the audit log names for scheduled monitoring.
pub const MONITOR_ACTOR: &str = "monitor";

/// Starts the scheduler; the caller aborts the task at shutdown (each window's points are one
/// transaction and alerts another, so stopping anywhere loses nothing the next run cannot redo).
pub fn start_monitor(
    state: AppState,
    settings: MonitorSettings,
    log: Arc<AnyPredictionLog>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_secs(settings.monitor.interval_or_default().seconds.max(1));
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await;
        loop {
            match &settings.monitor.schedule {
                Some(cron) => match until_next(cron, state.now_ms()) {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => {
                        tracing::warn!(
                            "[monitor] schedule never matches; scheduled monitoring stops"
                        );
                        return;
                    }
                },
                None => {
                    interval.tick().await;
                }
            }
            if let Err(e) = tick(&state, &settings, &log).await {
                tracing::warn!(error = %e, "a monitoring round failed; retrying at the next interval");
            }
        }
    })
}

/// How long from `now_ms` until the schedule's next time (strictly later), if it has one.
fn until_next(cron: &aidlc_core::cron::Cron, now_ms: i64) -> Option<Duration> {
    let next = cron.next_after(now_ms)?;
    Some(Duration::from_millis((next - now_ms).max(0) as u64))
}

/// One round over every deployment.
pub async fn tick(
    state: &AppState,
    settings: &MonitorSettings,
    log: &AnyPredictionLog,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let store = state.store();
    let notifier = HttpNotifier::new(Arc::clone(&state.config().clock));
    for d in store.list_deployments().await? {
        let now = state.now_ms();
        let reference = match monitor::reference_for(store, log, settings, &d.endpoint, now).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(endpoint = d.endpoint, error = %e, "not monitored this round");
                continue;
            }
        };
        let Some(from) = monitor::next_start(store, &d.endpoint, &reference).await? else {
            continue;
        };
        let ctx = AuditContext {
            actor: MONITOR_ACTOR.into(),
            at_ms: now,
            reason: None,
        };
        let outcome = monitor::run(store, log, settings, &d.endpoint, from, now, &ctx).await?;
        if outcome.windows.is_empty() {
            continue;
        }
        let signals = outcome.signals();
        let report =
            aidlc_service::alerts::process(store, &settings.monitor, &signals, &notifier, &ctx)
                .await?;
        tracing::info!(
            endpoint = d.endpoint,
            windows = outcome.windows.len(),
            signals = signals.len(),
            alerts = report.alerts.len(),
            "monitored"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aidlc_core::cron::Cron;

    #[test]
    fn a_schedule_waits_until_its_next_time() {
        // 2026-12-05T12:00:30Z: every five minutes next runs at 12:05, every hour at 13:00.
        let now = 1_796_472_030_000;
        let every_five = Cron::parse("*/5 * * * *").unwrap();
        assert_eq!(
            until_next(&every_five, now),
            Some(Duration::from_millis(270_000))
        );
        let hourly = Cron::parse("0 * * * *").unwrap();
        assert_eq!(
            until_next(&hourly, now),
            Some(Duration::from_millis(3_570_000))
        );
        // Exactly on a scheduled minute, the next run is the following one, never now again.
        assert_eq!(
            until_next(&every_five, now - 30_000),
            Some(Duration::from_millis(300_000))
        );
    }
}
