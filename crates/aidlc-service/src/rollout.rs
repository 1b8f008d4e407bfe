//! Deployment use cases: start a rollout of a version on an endpoint (direct, shadow or
//! canary), measure a step's window from the prediction log, judge it, approve, roll back —
//! each persisted in the deployment's state with its audit entry and evidence in one
//! transaction, so a restarted controller resumes where it was.

use crate::evaluate::scoring::{Gathered, Scores, Truth, metrics_on};
use aidlc_core::audit::NewAuditEntry;
use aidlc_core::records::Deployment;
use aidlc_core::rollout::{
    Decision, Measurements, MetricComparison, Rollout, RolloutError, RolloutPolicy, RolloutStatus,
    Strategy,
};
use aidlc_core::spec::{Metric, ProblemSpec, Task};
use aidlc_store::predlog::{PredictionFrame, Variant};
use aidlc_store::{AliasPolicy, AuditContext, DeploymentStore, RegistryStore, StoreError};
use std::collections::HashMap;

/// The key of the rollout inside a deployment's state.
pub const STATE_KEY: &str = "rollout";

#[derive(Debug, thiserror::Error)]
pub enum RolloutServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// A decision that must say why (a rejection) came without a reason.
    #[error("{0}")]
    MissingReason(String),
    /// A protected alias refuses the candidate (no passing evaluation report, no override).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    State(#[from] RolloutError),
    #[error("the rollout state of endpoint `{endpoint}` cannot be read: {reason}")]
    Corrupt { endpoint: String, reason: String },
}

pub type Result<T> = std::result::Result<T, RolloutServiceError>;

/// The rollout kept in a deployment's state, if any (the latest one, finished or not).
pub fn rollout_of(d: &Deployment) -> Result<Option<Rollout>> {
    match d.state.get(STATE_KEY) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => {
            serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| RolloutServiceError::Corrupt {
                    endpoint: d.endpoint.clone(),
                    reason: e.to_string(),
                })
        }
    }
}

fn state_with(d: &Deployment, rollout: &Rollout) -> serde_json::Value {
    let mut state = match &d.state {
        serde_json::Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    state.insert(
        STATE_KEY.to_string(),
        serde_json::to_value(rollout).unwrap_or_default(),
    );
    serde_json::Value::Object(state)
}

async fn deployment<S: DeploymentStore>(store: &S, endpoint: &str) -> Result<Deployment> {
    store.get_deployment(endpoint).await?.ok_or_else(|| {
        RolloutServiceError::NotFound(format!(
            "no deployment at endpoint `{endpoint}`; create it with `aidlc deploy {endpoint} --model NAME`"
        ))
    })
}

/// The deployment and its latest rollout.
pub async fn status<S: DeploymentStore>(
    store: &S,
    endpoint: &str,
) -> Result<(Deployment, Option<Rollout>)> {
    let d = deployment(store, endpoint).await?;
    let r = rollout_of(&d)?;
    Ok((d, r))
}

/// What `aidlc deploy ENDPOINT --version V --strategy S` asks for.
pub struct StartRollout<'a> {
    pub endpoint: &'a str,
    pub version: i64,
    pub strategy: Strategy,
    pub alias_policy: &'a AliasPolicy,
}

/// Starts a rollout (or, for `direct`, moves the alias now). The candidate must be able to take
/// the deployment's alias in the end: for a protected alias that is a passing evaluation report
/// or an override reason in `ctx`, checked here so a rollout never climbs to a promotion it
/// cannot make.
pub async fn start<S>(
    store: &S,
    spec: &ProblemSpec,
    req: StartRollout<'_>,
    ctx: &AuditContext,
) -> Result<Rollout>
where
    S: DeploymentStore + RegistryStore + Sync,
{
    let d = deployment(store, req.endpoint).await?;
    store
        .get_registry_version(&d.model, req.version)
        .await?
        .ok_or_else(|| {
            RolloutServiceError::NotFound(format!(
                "model `{}` has no version {}",
                d.model, req.version
            ))
        })?;
    let production = store
        .resolve_alias(&d.model, &d.alias)
        .await?
        .map(|v| v.version);
    if production == Some(req.version) {
        return Err(RolloutServiceError::Invalid(format!(
            "version {} of `{}` already serves endpoint `{}`",
            req.version, d.model, req.endpoint
        )));
    }
    if production.is_none() && req.strategy != Strategy::Direct {
        return Err(RolloutServiceError::Invalid(format!(
            "endpoint `{}` serves nothing yet ({}@{} names no version): deploy the first version with --strategy direct",
            req.endpoint, d.model, d.alias
        )));
    }
    if let Some(active) = rollout_of(&d)?.filter(Rollout::is_active) {
        return Err(RolloutServiceError::Invalid(format!(
            "endpoint `{}` is rolling out version {} ({}); roll it back or approve it first",
            req.endpoint,
            active.candidate,
            active.status.as_str()
        )));
    }
    let policy = RolloutPolicy::from_spec(spec, req.strategy);
    let mut rollout = Rollout {
        id: format!("{}-{}", req.endpoint, ctx.at_ms),
        endpoint: req.endpoint.to_string(),
        model: d.model.clone(),
        alias: d.alias.clone(),
        candidate: req.version,
        production,
        strategy: req.strategy,
        policy,
        label_name: spec.problem.label.column.clone(),
        label_horizon_ms: spec
            .problem
            .label
            .horizon
            .map(|h| (h.seconds as i64).saturating_mul(1000)),
        metric: spec.baseline.metric.map(|m| m.to_string()),
        positive_label: spec
            .problem
            .label
            .positive_value
            .as_ref()
            .map(crate::train::label_text),
        step: 0,
        status: RolloutStatus::Running,
        started_at_ms: ctx.at_ms,
        step_started_at_ms: ctx.at_ms,
        failures: 0,
        analyses: Vec::new(),
        reason: ctx.reason.clone(),
        finished_at_ms: None,
    };
    if req.strategy == Strategy::Direct {
        store
            .set_governed_alias(ctx, req.alias_policy, &d.model, &d.alias, req.version)
            .await
            .map_err(refused)?;
        rollout.status = RolloutStatus::Promoted;
        rollout.finished_at_ms = Some(ctx.at_ms);
        let entry = entry(ctx, "rollout.direct", &rollout, serde_json::json!({}));
        store
            .record_rollout(
                ctx,
                req.endpoint,
                state_with(&d, &rollout),
                None,
                vec![entry],
            )
            .await?;
        return Ok(rollout);
    }
    if req.alias_policy.is_protected(&d.alias) {
        let mut reports = store.evaluation_reports(&d.model, req.version).await?;
        reports.sort_by_key(|r| r.created_at_ms);
        let passed = reports.last().is_some_and(|r| r.data.passed);
        let overridden = ctx.reason.as_deref().is_some_and(|r| !r.trim().is_empty());
        if !passed && !overridden {
            return Err(RolloutServiceError::Refused(format!(
                "alias `{}` of model `{}` is protected and version {} {}; evaluate it (and pass its gates) or give an override reason",
                d.alias,
                d.model,
                req.version,
                if reports.is_empty() {
                    "has no evaluation report"
                } else {
                    "failed its latest evaluation"
                }
            )));
        }
    }
    let entry = entry(
        ctx,
        "rollout.start",
        &rollout,
        serde_json::json!({ "policy": rollout.policy, "override": ctx.reason }),
    );
    store
        .record_rollout(
            ctx,
            req.endpoint,
            state_with(&d, &rollout),
            None,
            vec![entry],
        )
        .await?;
    Ok(rollout)
}

fn refused(e: StoreError) -> RolloutServiceError {
    match e {
        StoreError::Refused(m) => RolloutServiceError::Refused(m),
        other => RolloutServiceError::Store(other),
    }
}

fn entry(
    ctx: &AuditContext,
    action: &str,
    r: &Rollout,
    mut details: serde_json::Value,
) -> NewAuditEntry {
    if let serde_json::Value::Object(m) = &mut details {
        m.insert("rollout".into(), r.id.clone().into());
        m.insert("model".into(), r.model.clone().into());
        m.insert("candidate".into(), r.candidate.into());
        m.insert("production".into(), r.production.into());
        m.insert("status".into(), r.status.as_str().into());
        m.insert(
            "step".into(),
            r.current_step()
                .map_or_else(|| "-".to_string(), |s| s.to_string())
                .into(),
        );
    }
    NewAuditEntry::new(ctx, action, "deployment", &r.endpoint, details)
}

/// Judges the active rollout of `endpoint` on measurements of `[from_ms, to_ms)` and persists
/// the decision with its evidence. Answers `None` when the rollout `rollout_id` is no longer the
/// running one (someone approved, rolled back or restarted it meanwhile).
pub async fn judge<S>(
    store: &S,
    endpoint: &str,
    rollout_id: &str,
    measurements: Measurements,
    from_ms: i64,
    ctx: &AuditContext,
) -> Result<Option<(Rollout, Decision)>>
where
    S: DeploymentStore + Sync,
{
    let d = deployment(store, endpoint).await?;
    let Some(mut r) = rollout_of(&d)? else {
        return Ok(None);
    };
    if r.id != rollout_id || r.status != RolloutStatus::Running {
        return Ok(None);
    }
    let analysis = r.analyze(measurements, from_ms, ctx.at_ms);
    let evidence = serde_json::to_value(&analysis).unwrap_or_default();
    let decision = r.apply(analysis, ctx.at_ms);
    // Too little traffic changes nothing: the step goes on, and the log is not filled with an
    // entry per tick while an endpoint is quiet.
    if decision == Decision::Wait {
        return Ok(Some((r, decision)));
    }
    let (action, alias_move) = match &decision {
        Decision::Wait => ("rollout.wait", None),
        Decision::Retry { .. } => ("rollout.retry", None),
        Decision::Advance { .. } => ("rollout.advance", None),
        Decision::AwaitApproval => ("rollout.await_approval", None),
        Decision::Promote => (
            "rollout.promote",
            Some((r.model.clone(), r.alias.clone(), r.candidate)),
        ),
        Decision::Rollback { .. } => ("rollout.rollback", None),
    };
    let details = serde_json::json!({ "analysis": evidence, "decision": decision });
    let e = entry(ctx, action, &r, details);
    store
        .record_rollout(ctx, endpoint, state_with(&d, &r), alias_move, vec![e])
        .await?;
    Ok(Some((r, decision)))
}

/// Promotes a rollout that passed every step and waits for approval; `ctx.reason` is the
/// approver's reason.
pub async fn approve<S>(store: &S, endpoint: &str, ctx: &AuditContext) -> Result<Rollout>
where
    S: DeploymentStore + Sync,
{
    let d = deployment(store, endpoint).await?;
    let mut r = rollout_of(&d)?.ok_or_else(|| {
        RolloutServiceError::Invalid(format!("endpoint `{endpoint}` has no rollout to approve"))
    })?;
    r.approve(ctx.reason.clone(), ctx.at_ms)?;
    let e = entry(ctx, "rollout.approve", &r, serde_json::json!({}));
    store
        .record_rollout(
            ctx,
            endpoint,
            state_with(&d, &r),
            Some((r.model.clone(), r.alias.clone(), r.candidate)),
            vec![e],
        )
        .await?;
    Ok(r)
}

/// Turns down a rollout that passed every step and waits for approval: it ends rolled back,
/// production (which never stopped serving) keeps the alias, and the audit log records
/// `rollout.reject` with who and why (`ctx.reason`, which a rejection must give).
pub async fn reject<S>(store: &S, endpoint: &str, ctx: &AuditContext) -> Result<Rollout>
where
    S: DeploymentStore + Sync,
{
    let reason = ctx
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            RolloutServiceError::MissingReason(format!(
                "rejecting the rollout on `{endpoint}` needs a reason (it goes to the audit log)"
            ))
        })?
        .to_string();
    let d = deployment(store, endpoint).await?;
    let mut r = rollout_of(&d)?.ok_or_else(|| {
        RolloutServiceError::Invalid(format!("endpoint `{endpoint}` has no rollout to reject"))
    })?;
    r.reject(reason, ctx.at_ms)?;
    let e = entry(ctx, "rollout.reject", &r, serde_json::json!({}));
    store
        .record_rollout(ctx, endpoint, state_with(&d, &r), None, vec![e])
        .await?;
    Ok(r)
}

/// Stops an active rollout (all traffic back to production); with none active, moves the alias
/// back to the version the last promoted rollout replaced.
pub async fn roll_back<S>(store: &S, endpoint: &str, ctx: &AuditContext) -> Result<Rollout>
where
    S: DeploymentStore + Sync,
{
    let d = deployment(store, endpoint).await?;
    let mut r = rollout_of(&d)?.ok_or_else(|| {
        RolloutServiceError::Invalid(format!("endpoint `{endpoint}` has no rollout to roll back"))
    })?;
    let reason = ctx
        .reason
        .clone()
        .unwrap_or_else(|| "rolled back by hand".to_string());
    if r.is_active() {
        r.roll_back(reason, ctx.at_ms)?;
        let e = entry(
            ctx,
            "rollout.rollback",
            &r,
            serde_json::json!({"manual": true}),
        );
        store
            .record_rollout(ctx, endpoint, state_with(&d, &r), None, vec![e])
            .await?;
        return Ok(r);
    }
    match (r.status, r.production) {
        (RolloutStatus::Promoted, Some(previous)) => {
            r.status = RolloutStatus::RolledBack;
            r.reason = Some(reason);
            r.finished_at_ms = Some(ctx.at_ms);
            let e = entry(
                ctx,
                "rollout.revert",
                &r,
                serde_json::json!({"restored_version": previous}),
            );
            store
                .record_rollout(
                    ctx,
                    endpoint,
                    state_with(&d, &r),
                    Some((r.model.clone(), r.alias.clone(), previous)),
                    vec![e],
                )
                .await?;
            Ok(r)
        }
        _ => Err(RolloutServiceError::Invalid(format!(
            "the last rollout on `{endpoint}` ({}, version {}) left nothing to roll back",
            r.status.as_str(),
            r.candidate
        ))),
    }
}

/// Request and error counts per variant, kept by the server for the current step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub candidate_requests: u64,
    pub candidate_errors: u64,
    pub production_requests: u64,
    pub production_errors: u64,
}

/// What the measurement needs besides the prediction log.
pub struct MeasureInputs<'a> {
    /// The endpoint's predictions in the step's window.
    pub window: &'a PredictionFrame,
    /// The candidate's class names in the order of its probabilities (empty for a regressor).
    pub classes: &'a [String],
    pub counts: Counts,
    /// Labels of the window's requests, by request id (from the label store).
    pub labels: &'a HashMap<String, String>,
}

/// Measures a window: error rate (from the counts), p99 latency, disagreement with production
/// (same requests for a shadow, predicted-class distributions for a canary), PSI of the
/// candidate's scores against production's, and the primary metric where labels have arrived.
pub fn measure(r: &Rollout, inputs: &MeasureInputs<'_>) -> Measurements {
    let w = inputs.window;
    let candidate_variant = if r.traffic().shadow {
        Variant::Shadow
    } else {
        Variant::Canary
    };
    let is_candidate = |i: usize| w.variant[i] == candidate_variant && w.version[i] == r.candidate;
    let is_production = |i: usize| w.variant[i] == Variant::Production;
    let cand: Vec<usize> = (0..w.len()).filter(|&i| is_candidate(i)).collect();
    let prod: Vec<usize> = (0..w.len()).filter(|&i| is_production(i)).collect();
    let positive = positive_index(r, inputs.classes);
    let score = |i: usize| -> Option<f64> {
        match positive {
            Some(k) => w.probabilities[i].get(k).copied(),
            None => w.value[i],
        }
    };
    let mut m = Measurements {
        candidate_requests: inputs.counts.candidate_requests.max(cand.len() as u64),
        candidate_errors: inputs.counts.candidate_errors,
        production_requests: inputs.counts.production_requests.max(prod.len() as u64),
        production_errors: inputs.counts.production_errors,
        candidate_p99_ms: p99_ms(cand.iter().map(|&i| w.latency_us[i])),
        production_p99_ms: p99_ms(prod.iter().map(|&i| w.latency_us[i])),
        ..Measurements::default()
    };
    if candidate_variant == Variant::Shadow {
        let by_request: HashMap<&str, usize> = prod
            .iter()
            .map(|&i| (w.request_id[i].as_str(), i))
            .collect();
        let mut differ = 0u64;
        let mut pairs = 0u64;
        for &c in &cand {
            let Some(&p) = by_request.get(w.request_id[c].as_str()) else {
                continue;
            };
            pairs += 1;
            let same = match (&w.label[c], &w.label[p], w.value[c], w.value[p]) {
                (Some(a), Some(b), _, _) => a == b,
                (_, _, Some(a), Some(b)) => (a - b).abs() <= 0.05 * a.abs().max(b.abs()),
                _ => true,
            };
            differ += u64::from(!same);
        }
        if pairs > 0 {
            m.disagreement = Some(differ as f64 / pairs as f64);
            m.compared = pairs;
        }
    } else if !cand.is_empty() && !prod.is_empty() {
        m.compared = cand.len() as u64;
        m.disagreement = if w.label[cand[0]].is_some() {
            Some(label_distance(w, &cand, &prod))
        } else {
            let mean = |rows: &[usize]| {
                rows.iter().filter_map(|&i| w.value[i]).sum::<f64>() / rows.len() as f64
            };
            let sd = std_dev(prod.iter().filter_map(|&i| w.value[i]));
            (sd > 0.0).then(|| ((mean(&cand) - mean(&prod)).abs() / sd).min(1.0))
        };
    }
    let cand_scores: Vec<f64> = cand
        .iter()
        .filter_map(|&i| score(i))
        .filter(|v| v.is_finite())
        .collect();
    let prod_scores: Vec<f64> = prod
        .iter()
        .filter_map(|&i| score(i))
        .filter(|v| v.is_finite())
        .collect();
    if !cand_scores.is_empty() && !prod_scores.is_empty() {
        m.prediction_drift = aidlc_stats::psi::psi(&prod_scores, &cand_scores)
            .ok()
            .map(|p| p.psi);
    }
    m.metric = metric_comparison(r, inputs, &cand, &prod, positive);
    m
}

/// The index of the positive class among the candidate's classes, for a binary classifier.
fn positive_index(r: &Rollout, classes: &[String]) -> Option<usize> {
    if classes.len() != 2 {
        return None;
    }
    let positive = r.positive_label.as_deref()?;
    classes.iter().position(|c| c == positive)
}

/// Total variation distance between the predicted-class distributions of two row sets.
fn label_distance(w: &PredictionFrame, a: &[usize], b: &[usize]) -> f64 {
    let share = |rows: &[usize]| {
        let mut counts: HashMap<&str, f64> = HashMap::new();
        for &i in rows {
            *counts
                .entry(w.label[i].as_deref().unwrap_or(""))
                .or_default() += 1.0;
        }
        counts.values_mut().for_each(|c| *c /= rows.len() as f64);
        counts
    };
    let (sa, sb) = (share(a), share(b));
    let keys: std::collections::HashSet<&str> = sa.keys().chain(sb.keys()).copied().collect();
    0.5 * keys
        .iter()
        .map(|k| (sa.get(k).unwrap_or(&0.0) - sb.get(k).unwrap_or(&0.0)).abs())
        .sum::<f64>()
}

fn std_dev(values: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = values.collect();
    if v.len() < 2 {
        return 0.0;
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// The 99th percentile (nearest rank) of latencies in microseconds, in milliseconds.
fn p99_ms(latencies: impl Iterator<Item = u32>) -> Option<f64> {
    let mut v: Vec<u32> = latencies.collect();
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let rank = ((0.99 * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(v[rank - 1] as f64 / 1000.0)
}

/// The primary metric of each variant on its labelled requests (binary classification and
/// regression; other tasks are judged without it).
fn metric_comparison(
    r: &Rollout,
    inputs: &MeasureInputs<'_>,
    cand: &[usize],
    prod: &[usize],
    positive: Option<usize>,
) -> Option<MetricComparison> {
    let metric: Metric = r.metric.as_deref()?.parse().ok()?;
    let w = inputs.window;
    let task = if positive.is_some() {
        Task::BinaryClassification
    } else if w.value.iter().any(Option::is_some) {
        Task::Regression
    } else {
        return None;
    };
    if !metric.fits(task) {
        return None;
    }
    let value_of = |rows: &[usize]| -> Option<(f64, u64)> {
        let mut y = Vec::new();
        let mut p = Vec::new();
        for &i in rows {
            let Some(label) = inputs.labels.get(&w.request_id[i]) else {
                continue;
            };
            match positive {
                Some(k) => {
                    y.push(f64::from(
                        Some(label.as_str()) == r.positive_label.as_deref(),
                    ));
                    p.push(*w.probabilities[i].get(k)?);
                }
                None => {
                    y.push(label.parse::<f64>().ok()?);
                    p.push(w.value[i]?);
                }
            }
        }
        if y.is_empty() {
            return None;
        }
        let n = y.len() as u64;
        let rows: Vec<usize> = (0..y.len()).collect();
        let (truth, scores) = match positive {
            Some(_) => (
                Truth::Binary {
                    y,
                    positive: r.positive_label.clone().unwrap_or_default(),
                },
                Scores::Binary(p),
            ),
            None => (Truth::Regression { y }, Scores::Values(p)),
        };
        let mut gathered = Gathered::default();
        let value = metrics_on(&truth, &scores, &rows, &[metric], 0.5, &mut gathered)[0]?;
        Some((value, n))
    };
    let (candidate, candidate_labels) = value_of(cand)?;
    let (production, production_labels) = value_of(prod)?;
    Some(MetricComparison {
        metric: metric.to_string(),
        higher_is_better: metric.higher_is_better(),
        candidate,
        production,
        candidate_labels,
        production_labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use aidlc_core::rollout::{Limits, RolloutPolicy};
    use aidlc_core::spec::RolloutStep;

    fn canary_rollout() -> Rollout {
        Rollout {
            id: "r".into(),
            endpoint: "e".into(),
            model: "m".into(),
            alias: "champion".into(),
            candidate: 2,
            production: Some(1),
            strategy: Strategy::Canary,
            policy: RolloutPolicy {
                steps: vec![RolloutStep::Canary { percent: 50.0 }],
                interval_ms: 1000,
                approval_required: false,
                min_requests: 4,
                failures_to_rollback: 1,
                min_labels: 4,
                limits: Limits {
                    max_error_rate: 0.01,
                    max_p99_latency_ms: None,
                    max_disagreement: 0.1,
                    max_prediction_drift: 10.0,
                    max_metric_drop: 0.02,
                },
            },
            label_name: Some("rain".into()),
            label_horizon_ms: None,
            metric: Some("roc_auc".into()),
            positive_label: Some("1".into()),
            step: 0,
            status: RolloutStatus::Running,
            started_at_ms: 0,
            step_started_at_ms: 0,
            failures: 0,
            analyses: vec![],
            reason: None,
            finished_at_ms: None,
        }
    }

    /// Eight requests per variant; the canary's probabilities are production's inverted.
    fn window() -> (PredictionFrame, HashMap<String, String>) {
        let mut w = PredictionFrame::default();
        let mut labels = HashMap::new();
        let truth = [1, 0, 1, 0, 1, 0, 0, 0];
        let good = [0.9, 0.2, 0.8, 0.3, 0.7, 0.1, 0.4, 0.35];
        for (variant, version, invert) in
            [(Variant::Production, 1, false), (Variant::Canary, 2, true)]
        {
            for (i, (&y, &p)) in truth.iter().zip(&good).enumerate() {
                let p = if invert { 1.0 - p } else { p };
                let id = format!("{version}-{i}");
                w.request_id.push(id.clone());
                w.time_ms.push(i as i64);
                w.model.push("m".into());
                w.version.push(version);
                w.variant.push(variant);
                w.latency_us.push(100);
                w.label
                    .push(Some(if p >= 0.5 { "1" } else { "0" }.to_string()));
                w.value.push(None);
                w.probabilities.push(vec![1.0 - p, p]);
                labels.insert(id, y.to_string());
            }
        }
        (w, labels)
    }

    #[test]
    fn an_inverted_canary_disagrees_and_loses_its_metric_on_labels() {
        let r = canary_rollout();
        let (w, labels) = window();
        let classes = vec!["0".to_string(), "1".to_string()];
        let m = measure(
            &r,
            &MeasureInputs {
                window: &w,
                classes: &classes,
                counts: Counts::default(),
                labels: &labels,
            },
        );
        assert_eq!(m.candidate_requests, 8);
        assert_eq!(m.production_requests, 8);
        // Production predicts 3 of 8 positive, the inverted canary 5 of 8.
        assert!((m.disagreement.unwrap() - 0.25).abs() < 1e-12, "{m:?}");
        let metric = m.metric.clone().unwrap();
        assert_eq!(metric.metric, "roc_auc");
        assert_eq!(metric.production, 1.0);
        assert_eq!(metric.candidate, 0.0);
        assert_eq!(metric.candidate_labels, 8);
        let a = r.analyze(m, 0, 1000);
        assert!(
            a.failed_summary().contains("roc_auc_drop 1.0000"),
            "{}",
            a.failed_summary()
        );
    }

    #[test]
    fn p99_is_the_nearest_rank() {
        assert_eq!(p99_ms((1..=100).map(|v| v * 1000)), Some(99.0));
        assert_eq!(p99_ms([500u32].into_iter()), Some(0.5));
        assert_eq!(p99_ms(std::iter::empty()), None);
    }
}
