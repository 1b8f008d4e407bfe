//! Iteration: the governed retraining pipeline. A run takes the newest data (optionally only its
//! recent rows), ingests, validates and splits it and trains a challenger (one tracked run), has
//! the platform evaluate it against the champion on the newest held-out rows, and — when the
//! gates pass — hands it to the rollout controller (shadow → canary → promote), or stops for
//! `aidlc loop approve` (or `aidlc loop reject`). Each step is persisted with its evidence and audited; one run per model
//! at a time; a run interrupted by a crash is failed cleanly, and nothing is promoted outside
//! the controller.

use crate::evaluate::{EvalOptions, evaluate_version};
use crate::rollout::{self, StartRollout};
use crate::train::{TrainData, TrainRequest, train};
use aidlc_core::rollout::Strategy;
use aidlc_core::spec::{Approval, IterateStrategy, ProblemSpec};
use aidlc_data::{ReadOptions, read_table};
use aidlc_store::{
    AliasPolicy, AuditContext, DatasetStore, DeploymentStore, LocalArtifactStore, PipelineRecord,
    PipelineStore, RegistryStore, SplitStore, StoreError, TrackingStore,
};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum IterateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(String),
    /// An approval or rejection of a model with no run waiting for one.
    #[error("model `{model}` has no pipeline awaiting approval")]
    NotAwaitingApproval { model: String },
}

pub type Result<T> = std::result::Result<T, IterateError>;

/// One step of a run, as persisted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// `data`, `train`, `evaluate`, `approval` or `rollout`.
    pub name: String,
    /// `done`, `failed`, `rejected` or `waiting`.
    pub status: String,
    pub at_ms: i64,
    pub evidence: serde_json::Value,
}

/// A run's state: its steps so far and what it produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PipelineState {
    pub steps: Vec<StepRecord>,
    pub data: Option<String>,
    pub challenger: Option<i64>,
    pub report: Option<String>,
    pub rollout: Option<String>,
    /// Why it ended, when it did.
    pub reason: Option<String>,
}

/// What a run needs besides the store: the training request to build on (its `data` is
/// replaced by the pipeline's) and where to write the recent-rows file.
pub struct PipelineRequest {
    pub train: TrainRequest,
    /// Why this run starts: `manual`, `schedule`, or `alert:<rule>/<signal>`.
    pub trigger: String,
    pub alias_policy: AliasPolicy,
    /// A folder for the run's derived data files.
    pub work_dir: PathBuf,
}

/// The state of a stored run (a run written by an older version reads as far as it can).
pub fn state_of(r: &PipelineRecord) -> PipelineState {
    serde_json::from_value(r.state.clone()).unwrap_or_default()
}

async fn step<S: PipelineStore + Sync>(
    store: &S,
    ctx: &AuditContext,
    run: &PipelineRecord,
    state: &mut PipelineState,
    status: &str,
    step: StepRecord,
) -> Result<PipelineRecord> {
    let action = format!("pipeline.{}", step.name);
    step_as(store, ctx, run, state, status, step, &action).await
}

/// Records a step under an audit action of its own (a rejection reads `pipeline.reject` in the
/// log, not the name of the step it ends).
async fn step_as<S: PipelineStore + Sync>(
    store: &S,
    ctx: &AuditContext,
    run: &PipelineRecord,
    state: &mut PipelineState,
    status: &str,
    step: StepRecord,
    action: &str,
) -> Result<PipelineRecord> {
    let details = serde_json::json!({
        "model": run.model,
        "step": step.name,
        "step_status": step.status,
        "evidence": step.evidence,
    });
    state.steps.push(step);
    Ok(store
        .update_pipeline(
            ctx,
            &run.id,
            status,
            serde_json::to_value(&*state).unwrap_or_default(),
            action,
            details,
        )
        .await?)
}

fn record(name: &str, status: &str, ctx: &AuditContext, evidence: serde_json::Value) -> StepRecord {
    StepRecord {
        name: name.into(),
        status: status.into(),
        at_ms: ctx.at_ms,
        evidence,
    }
}

/// Fails the runs a crash left `running`: their process is gone, so they can neither finish
/// nor block the model's next run. Called when a scheduler starts.
pub async fn fail_interrupted<S: PipelineStore + Sync>(
    store: &S,
    ctx: &AuditContext,
) -> Result<Vec<PipelineRecord>> {
    let mut failed = Vec::new();
    for r in store.list_pipelines(None, 1000).await? {
        if r.status != "running" {
            continue;
        }
        let mut state = state_of(&r);
        let last = state
            .steps
            .last()
            .map_or("start".to_string(), |s| s.name.clone());
        state.reason = Some(format!(
            "interrupted after step `{last}` (the process stopped)"
        ));
        let s = record(
            "interrupted",
            "failed",
            ctx,
            serde_json::json!({"after": last}),
        );
        failed.push(step(store, ctx, &r, &mut state, "failed", s).await?);
    }
    Ok(failed)
}

/// Runs the pipeline for `request.train.model_name` to its end: `handed_off` (the rollout
/// started), `awaiting_approval`, `rejected` (the challenger failed its gates) or `failed`.
pub async fn run_pipeline<S>(
    store: &S,
    artifacts: &LocalArtifactStore,
    ctx: &AuditContext,
    mut request: PipelineRequest,
) -> Result<PipelineRecord>
where
    S: DatasetStore
        + SplitStore
        + aidlc_store::AuditStore
        + TrackingStore
        + RegistryStore
        + DeploymentStore
        + PipelineStore
        + Sync,
{
    let spec = request.train.spec.clone();
    let model = request.train.model_name.clone();
    let mut state = PipelineState::default();
    let mut run = store
        .start_pipeline(ctx, &model, &request.trigger, serde_json::json!(state))
        .await?;

    // Data: the newest file, cut to its recent rows when `[iterate] recent` says so.
    let data = match data_file(&spec, &request) {
        Ok((path, evidence)) => {
            state.data = Some(path.display().to_string());
            run = step(
                store,
                ctx,
                &run,
                &mut state,
                "running",
                record("data", "done", ctx, evidence),
            )
            .await?;
            path
        }
        Err(reason) => return fail(store, ctx, &run, &mut state, "data", reason).await,
    };
    let mut ingest = crate::data::IngestRequest::new(data);
    ingest.column_types = aidlc_data::validate::expected_types(&spec.data.columns);
    ingest.expectations = spec.data.expectations.clone();
    request.train.data = TrainData::File(Box::new(ingest));

    // Train: ingest + validate + split + one tracked run + a registered version.
    let outcome = match train(store, artifacts, ctx, &request.train).await {
        Ok(o) => o,
        Err(e) => return fail(store, ctx, &run, &mut state, "train", e.to_string()).await,
    };
    state.challenger = Some(outcome.version.version);
    let evidence = serde_json::json!({
        "dataset": outcome.dataset,
        "split": outcome.split_manifest.0,
        "run": outcome.run.id,
        "version": outcome.version.version,
        "rows": outcome.rows,
    });
    run = step(
        store,
        ctx,
        &run,
        &mut state,
        "running",
        record("train", "done", ctx, evidence),
    )
    .await?;

    // Evaluate: run by the platform, against the champion, on the newest held-out rows.
    let evaluated = evaluate_version(
        store,
        artifacts,
        ctx,
        &spec,
        &request.train.project_dir,
        &outcome.version,
        EvalOptions {
            seed: None,
            bootstrap: None,
            data: None,
            with_champion: true,
        },
    )
    .await;
    let (report, stored) = match evaluated {
        Ok(r) => r,
        Err(e) => return fail(store, ctx, &run, &mut state, "evaluate", e.to_string()).await,
    };
    state.report = Some(stored.id.clone());
    let gates: Vec<serde_json::Value> = report
        .gates
        .iter()
        .map(|g| serde_json::to_value(g).unwrap_or_default())
        .collect();
    let evidence =
        serde_json::json!({"report": stored.id, "passed": report.passed, "gates": gates});
    if !report.passed {
        state.reason = Some(format!(
            "version {} failed its evaluation gates",
            outcome.version.version
        ));
        return step(
            store,
            ctx,
            &run,
            &mut state,
            "rejected",
            record("evaluate", "rejected", ctx, evidence),
        )
        .await;
    }
    run = step(
        store,
        ctx,
        &run,
        &mut state,
        "running",
        record("evaluate", "done", ctx, evidence),
    )
    .await?;

    if spec.iterate.approval == Some(Approval::Required) {
        let s = record(
            "approval",
            "waiting",
            ctx,
            serde_json::json!({"challenger": outcome.version.version}),
        );
        return step(store, ctx, &run, &mut state, "awaiting_approval", s).await;
    }
    hand_off(store, ctx, run, state, &spec, &request.alias_policy).await
}

/// Continues a run that waits for approval: `ctx.reason` is the approver's reason.
pub async fn approve<S>(
    store: &S,
    ctx: &AuditContext,
    spec: &ProblemSpec,
    model: &str,
    alias_policy: &AliasPolicy,
) -> Result<PipelineRecord>
where
    S: DeploymentStore + RegistryStore + PipelineStore + Sync,
{
    let run = awaiting_approval(store, model).await?;
    let mut state = state_of(&run);
    let s = record(
        "approval",
        "done",
        ctx,
        serde_json::json!({"approver": ctx.actor, "reason": ctx.reason}),
    );
    let run = step(store, ctx, &run, &mut state, "running", s).await?;
    hand_off(store, ctx, run, state, spec, alias_policy).await
}

/// The model's latest run, when it waits for approval.
async fn awaiting_approval<S: PipelineStore + Sync>(
    store: &S,
    model: &str,
) -> Result<PipelineRecord> {
    store
        .list_pipelines(Some(model), 1)
        .await?
        .into_iter()
        .next()
        .filter(|r| r.status == "awaiting_approval")
        .ok_or_else(|| IterateError::NotAwaitingApproval {
            model: model.to_string(),
        })
}

/// Ends a run that waits for approval without handing its challenger on: the run is
/// `rejected`, nothing is deployed, and the audit log names who rejected it and why
/// (`ctx.reason`, which a rejection must give).
pub async fn reject<S: PipelineStore + Sync>(
    store: &S,
    ctx: &AuditContext,
    model: &str,
) -> Result<PipelineRecord> {
    let reason = ctx
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            IterateError::Invalid(format!(
                "rejecting the pipeline of `{model}` needs a reason (it goes to the audit log)"
            ))
        })?
        .to_string();
    let run = awaiting_approval(store, model).await?;
    let mut state = state_of(&run);
    state.reason = Some(format!(
        "challenger {} rejected by {}: {reason}",
        state
            .challenger
            .map_or_else(|| "-".to_string(), |v| v.to_string()),
        ctx.actor
    ));
    let s = record(
        "approval",
        "rejected",
        ctx,
        serde_json::json!({"approver": ctx.actor, "reason": reason, "challenger": state.challenger}),
    );
    step_as(
        store,
        ctx,
        &run,
        &mut state,
        "rejected",
        s,
        "pipeline.reject",
    )
    .await
}

/// Starts the challenger's rollout on `[iterate] endpoint`; the controller takes it from there.
async fn hand_off<S>(
    store: &S,
    ctx: &AuditContext,
    run: PipelineRecord,
    mut state: PipelineState,
    spec: &ProblemSpec,
    alias_policy: &AliasPolicy,
) -> Result<PipelineRecord>
where
    S: DeploymentStore + RegistryStore + PipelineStore + Sync,
{
    let Some(endpoint) = spec.iterate.endpoint.clone() else {
        state.reason = Some(
            "no `[iterate] endpoint`: the challenger is registered and evaluated, not rolled out"
                .into(),
        );
        let s = record("rollout", "skipped", ctx, serde_json::json!({}));
        return step(store, ctx, &run, &mut state, "evaluated", s).await;
    };
    let Some(version) = state.challenger else {
        return fail(
            store,
            ctx,
            &run,
            &mut state,
            "rollout",
            "no challenger".into(),
        )
        .await;
    };
    let strategy = match spec.iterate.strategy {
        Some(IterateStrategy::Canary) => Strategy::Canary,
        Some(IterateStrategy::Shadow) | None => Strategy::Shadow,
    };
    let started = rollout::start(
        store,
        spec,
        StartRollout {
            endpoint: &endpoint,
            version,
            strategy,
            alias_policy,
        },
        ctx,
    )
    .await;
    match started {
        Ok(r) => {
            state.rollout = Some(r.id.clone());
            let s = record(
                "rollout",
                "done",
                ctx,
                serde_json::json!({"rollout": r.id, "endpoint": endpoint, "strategy": strategy.as_str()}),
            );
            step(store, ctx, &run, &mut state, "handed_off", s).await
        }
        Err(e) => fail(store, ctx, &run, &mut state, "rollout", e.to_string()).await,
    }
}

async fn fail<S: PipelineStore + Sync>(
    store: &S,
    ctx: &AuditContext,
    run: &PipelineRecord,
    state: &mut PipelineState,
    name: &str,
    reason: String,
) -> Result<PipelineRecord> {
    state.reason = Some(format!("{name}: {reason}"));
    let s = record(name, "failed", ctx, serde_json::json!({"error": reason}));
    step(store, ctx, run, state, "failed", s).await
}

/// The data file of a run: `[iterate] data` (else `[data] source`), cut to the rows within
/// `[iterate] recent` of the newest row when that is set.
fn data_file(
    spec: &ProblemSpec,
    request: &PipelineRequest,
) -> std::result::Result<(PathBuf, serde_json::Value), String> {
    let source = spec
        .iterate
        .data
        .as_deref()
        .or(spec.data.source.as_deref())
        .ok_or("no data: set `[iterate] data` or `[data] source`")?;
    let path = request.train.project_dir.join(source);
    let Some(recent) = spec.iterate.recent else {
        return Ok((path.clone(), serde_json::json!({"file": path})));
    };
    let time = spec
        .problem
        .time
        .as_deref()
        .ok_or("`[iterate] recent` needs `problem.time`")?;
    let mut options = ReadOptions::default();
    for (name, kind) in aidlc_data::validate::expected_types(&spec.data.columns) {
        options.kinds.insert(name, kind.read_kind());
    }
    let table = read_table(&path, &options).map_err(|e| e.to_string())?;
    let column = table
        .schema
        .iter()
        .position(|c| c.name == time)
        .ok_or_else(|| format!("the time column `{time}` is not in {}", path.display()))?;
    let unit_ms = match &table.columns[column] {
        aidlc_data::Column::Numeric(_) => spec
            .problem
            .time_unit
            .map_or(1, |u| u.seconds as i64 * 1000),
        aidlc_data::Column::Categorical(_) => 1,
    };
    let instants = aidlc_data::time::instants(&table.columns[column])
        .map_err(|(row, e)| format!("{} row {}: {e}", path.display(), row + 2))?;
    let newest = instants
        .iter()
        .flatten()
        .max()
        .copied()
        .ok_or("the data has no time values")?;
    let cutoff = newest.saturating_mul(unit_ms) - recent.seconds as i64 * 1000;
    let keep: Vec<usize> = instants
        .iter()
        .enumerate()
        .filter(|(_, t)| t.is_some_and(|t| t.saturating_mul(unit_ms) > cutoff))
        .map(|(i, _)| i)
        .collect();
    let columns: Vec<aidlc_data::Column> = table
        .columns
        .iter()
        .map(|c| match c {
            aidlc_data::Column::Numeric(v) => {
                aidlc_data::Column::Numeric(keep.iter().map(|&i| v[i]).collect())
            }
            aidlc_data::Column::Categorical(v) => {
                aidlc_data::Column::Categorical(keep.iter().map(|&i| v[i].clone()).collect())
            }
        })
        .collect();
    std::fs::create_dir_all(&request.work_dir).map_err(|e| e.to_string())?;
    // One file per model, so its dataset versions line up under one name across runs (one run
    // per model at a time writes it).
    let out = request
        .work_dir
        .join(format!("{}-recent.csv", request.train.model_name));
    aidlc_data::writer::write_table(&out, &table.schema, &columns).map_err(|e| e.to_string())?;
    Ok((
        out.clone(),
        serde_json::json!({
            "source": path,
            "file": out,
            "rows": keep.len(),
            "of_rows": table.n_rows,
            "recent_seconds": recent.seconds,
        }),
    ))
}
