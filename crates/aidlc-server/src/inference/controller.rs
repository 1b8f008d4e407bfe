//! The rollout controller: once a second it looks for rollouts whose step has run its
//! interval, measures the step's window (prediction log, request counts, labels that have
//! arrived), judges it through the service and rebinds the endpoint to the decision. Its state
//! lives in the store, so a restarted server resumes the rollout where it was.

use super::cache::Serving;
use crate::AppState;
use crate::error::ApiResult;
use aidlc_core::rollout::{Decision, Rollout, RolloutStatus};
use aidlc_service::rollout::{self as service, MeasureInputs};
use aidlc_store::predlog::{PredictionFrame, PredictionLog, ScanQuery};
use aidlc_store::{AuditContext, DeploymentStore};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How often the controller looks for rollout steps that are due.
pub const TICK: Duration = Duration::from_millis(1000);

/// The actor the audit log names for the controller's decisions.
pub const CONTROLLER_ACTOR: &str = "rollout-controller";

/// Starts the controller; the caller aborts the task at shutdown (every decision is one
/// transaction, so stopping between ticks or in one loses nothing).
pub fn start_controller(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(e) = tick(&state).await {
                tracing::warn!(error = %e, "the rollout controller's tick failed; retrying");
            }
        }
    })
}

/// One pass over the deployments: judges every rollout step that is due.
pub async fn tick(state: &AppState) -> ApiResult<()> {
    for d in state.store().list_deployments().await? {
        let rollout = match service::rollout_of(&d) {
            Ok(Some(r)) if r.status == RolloutStatus::Running => r,
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(endpoint = d.endpoint, error = %e, "skipping an unreadable rollout");
                continue;
            }
        };
        let now = state.now_ms();
        if rollout.due(now) {
            judge_step(state, &rollout, now).await?;
        }
    }
    Ok(())
}

async fn judge_step(state: &AppState, r: &Rollout, now: i64) -> ApiResult<()> {
    let serving: &Arc<Serving> = state.serving();
    let live = serving.endpoint(&r.endpoint).await?;
    // The candidate's classes name the columns of its probabilities.
    let classes = match live.rollout() {
        Some(b) if b.id == r.id => b.candidate.scorer.signature().classes().to_vec(),
        _ => {
            // Not bound yet (a restart, or it failed to load): bind and judge on the next tick.
            serving.deployment_changed(&r.endpoint).await?;
            return Ok(());
        }
    };
    let from = r.step_started_at_ms;
    let window = match &serving.log {
        Some(log) => log.scan(&ScanQuery::window(&r.endpoint, from, now)).await?,
        None => PredictionFrame::default(),
    };
    let labels = match &r.label_name {
        Some(name) if r.metric.is_some() && !window.is_empty() => {
            aidlc_service::labels::labels_for_predictions(
                state.store(),
                name,
                &window,
                r.label_horizon_ms,
                Some(now),
            )
            .await?
        }
        _ => HashMap::new(),
    };
    let counts = live.counts.peek();
    let measurements = service::measure(
        r,
        &MeasureInputs {
            window: &window,
            classes: &classes,
            counts,
            labels: &labels,
        },
    );
    let ctx = AuditContext {
        actor: CONTROLLER_ACTOR.to_string(),
        at_ms: now,
        reason: None,
    };
    let Some((after, decision)) =
        service::judge(state.store(), &r.endpoint, &r.id, measurements, from, &ctx).await?
    else {
        return Ok(());
    };
    if decision == Decision::Wait {
        return Ok(());
    }
    live.counts.take();
    tracing::info!(
        endpoint = r.endpoint,
        candidate = r.candidate,
        status = after.status.as_str(),
        step = after.step,
        decision = ?decision,
        "rollout step judged"
    );
    serving.deployment_changed(&r.endpoint).await?;
    Ok(())
}
