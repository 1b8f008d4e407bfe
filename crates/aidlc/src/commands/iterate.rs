//! `aidlc loop`: the governed retraining pipeline on demand (`run`), where every model is in the
//! loop (`status`), and the decision a pipeline may wait for (`approve`, `reject`). The server runs the
//! same pipeline on `[iterate] schedule` and on alerts that match `[iterate] triggers`
//! ([`start_scheduler`]).

use crate::app::{App, now_ms};
use crate::cli::{LoopApproveArgs, LoopCommand, LoopRejectArgs, LoopRunArgs};
use crate::commands::server::BackgroundServer;
use crate::output::print_json;
use aidlc_core::spec::{ProblemSpec, SignalPattern};
use aidlc_service::iterate::{self, PipelineRequest};
use aidlc_service::rollout as rollouts;
use aidlc_service::train::{TrainData, TrainRequest};
use aidlc_store::{
    AlertFilter, AlertStore, AliasPolicy, AuditContext, DeploymentStore, LocalArtifactStore,
    PipelineRecord, PipelineStore, RegistryStore, Store,
};
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// How long an external training command may run when `[train] timeout` is not written.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);

pub async fn run(app: &App, cmd: LoopCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        LoopCommand::Run(args) => run_now(app, args).await,
        LoopCommand::Status => status(app).await,
        LoopCommand::Approve(args) => approve(app, args).await,
        LoopCommand::Reject(args) => reject(app, args).await,
    }
}

/// Everything a pipeline run needs, built once per run.
#[derive(Clone)]
pub struct PipelineSettings {
    pub store_url: String,
    pub store_sync: aidlc_core::spec::StoreSync,
    pub spec: ProblemSpec,
    pub project_dir: PathBuf,
    pub artifacts: PathBuf,
    pub model: String,
}

impl PipelineSettings {
    pub fn from_app(app: &App, model: Option<String>) -> anyhow::Result<PipelineSettings> {
        let spec = app.spec("the loop follows [iterate]")?;
        let model = model
            .or_else(|| spec.problem.name.clone())
            .context("no model name: pass --model NAME or set `problem.name`")?;
        Ok(PipelineSettings {
            store_url: app.settings.store.clone(),
            store_sync: app.settings.store_sync,
            spec,
            project_dir: app.settings.project_dir.clone(),
            artifacts: app.settings.artifacts.clone(),
            model,
        })
    }

    fn request(&self, trigger: String, tracking_uri: Option<String>) -> PipelineRequest {
        PipelineRequest {
            train: TrainRequest {
                spec: self.spec.clone(),
                project_dir: self.project_dir.clone(),
                // The pipeline replaces this with its own data.
                data: TrainData::Dataset(String::new()),
                model_name: self.model.clone(),
                run_name: Some(format!("pipeline ({trigger})")),
                run_artifacts_root: self.artifacts.join("mlflow"),
                tracking_uri,
                default_timeout: DEFAULT_TIMEOUT,
                tool_versions: vec![("aidlc".into(), env!("CARGO_PKG_VERSION").into())],
            },
            trigger,
            alias_policy: AliasPolicy::default(),
            work_dir: self
                .artifacts
                .parent()
                .map_or_else(|| PathBuf::from("pipelines"), |p| p.join("pipelines")),
        }
    }
}

async fn run_now(app: &App, args: LoopRunArgs) -> anyhow::Result<ExitCode> {
    let settings = PipelineSettings::from_app(app, args.model)?;
    let store = app.store().await?;
    let _ = app.init_onnx_runtime();
    let server = match settings.spec.train.command {
        Some(_) => Some(BackgroundServer::start(app).context("cannot start the tracking server")?),
        None => None,
    };
    let request = settings.request(args.trigger, server.as_ref().map(|s| s.url.clone()));
    let artifacts = LocalArtifactStore::new(&settings.artifacts);
    let run = iterate::run_pipeline(&store, &artifacts, &app.audit_context(None), request).await?;
    drop(server);
    print_run(app, &run)?;
    Ok(if run.status == "failed" {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_run(app: &App, run: &PipelineRecord) -> anyhow::Result<()> {
    if app.settings.json {
        return print_json(run);
    }
    println!(
        "pipeline {} for {} ({}): {}",
        run.id, run.model, run.trigger, run.status
    );
    for step in run.state["steps"].as_array().into_iter().flatten() {
        println!(
            "  {:<12} {:<9} {}",
            step["name"].as_str().unwrap_or(""),
            step["status"].as_str().unwrap_or(""),
            step["evidence"]
        );
    }
    if let Some(reason) = run.state["reason"].as_str() {
        println!("  reason: {reason}");
    }
    Ok(())
}

async fn approve(app: &App, args: LoopApproveArgs) -> anyhow::Result<ExitCode> {
    let spec = app.spec("the loop follows [iterate]")?;
    let store = app.store().await?;
    let run = iterate::approve(
        &store,
        &app.audit_context(args.reason),
        &spec,
        &args.model,
        &AliasPolicy::default(),
    )
    .await?;
    print_run(app, &run)?;
    Ok(ExitCode::SUCCESS)
}

async fn reject(app: &App, args: LoopRejectArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let run = iterate::reject(&store, &app.audit_context(Some(args.reason)), &args.model).await?;
    print_run(app, &run)?;
    Ok(ExitCode::SUCCESS)
}

async fn status(app: &App) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let models = store.search_registered_models(None, 1000, 0).await?.items;
    let deployments = store.list_deployments().await?;
    let open = store
        .list_alerts(&AlertFilter {
            endpoint: None,
            open_only: true,
            limit: None,
        })
        .await?;
    let mut out = Vec::new();
    for m in &models {
        let champion = m.aliases.iter().find(|(a, _)| a == "champion").map(|a| a.1);
        let pipeline = store
            .list_pipelines(Some(&m.name), 1)
            .await?
            .into_iter()
            .next();
        let mut endpoints = Vec::new();
        for d in deployments.iter().filter(|d| d.model == m.name) {
            let rollout = rollouts::rollout_of(d).ok().flatten();
            let alerts = open
                .iter()
                .filter(|a| a.state.key.endpoint == d.endpoint)
                .count();
            endpoints.push(serde_json::json!({
                "endpoint": d.endpoint,
                "alias": d.alias,
                "rollout": rollout.as_ref().map(|r| serde_json::json!({
                    "candidate": r.candidate,
                    "status": r.status.as_str(),
                    "step": r.current_step().map(|s| s.to_string()),
                    "reason": r.reason,
                })),
                "open_alerts": alerts,
            }));
        }
        let stage = loop_stage(pipeline.as_ref(), &endpoints);
        out.push(serde_json::json!({
            "model": m.name,
            "champion": champion,
            "stage": stage.0,
            "why": stage.1,
            "pipeline": pipeline.as_ref().map(|p| serde_json::json!({
                "id": p.id, "trigger": p.trigger, "status": p.status,
                "steps": p.state["steps"].as_array().map(|s| s.iter().map(|s| format!("{}:{}", s["name"].as_str().unwrap_or(""), s["status"].as_str().unwrap_or(""))).collect::<Vec<_>>()),
                "reason": p.state["reason"],
            })),
            "endpoints": endpoints,
        }));
    }
    if app.settings.json {
        print_json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if out.is_empty() {
        println!("no registered models");
    }
    for m in &out {
        println!(
            "{}: champion {} — {} ({})",
            m["model"].as_str().unwrap_or(""),
            m["champion"],
            m["stage"].as_str().unwrap_or(""),
            m["why"].as_str().unwrap_or("")
        );
        if let Some(p) = m["pipeline"].as_object() {
            println!(
                "  last pipeline {} ({}): {} [{}]",
                p["id"].as_str().unwrap_or(""),
                p["trigger"].as_str().unwrap_or(""),
                p["status"].as_str().unwrap_or(""),
                p["steps"]
                    .as_array()
                    .map(|s| s
                        .iter()
                        .filter_map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default()
            );
        }
        for e in m["endpoints"].as_array().into_iter().flatten() {
            println!(
                "  endpoint {} ({}): rollout {}, {} open alert(s)",
                e["endpoint"].as_str().unwrap_or(""),
                e["alias"].as_str().unwrap_or(""),
                e["rollout"],
                e["open_alerts"]
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where a model is in the loop, and why, from its latest pipeline and its endpoints.
fn loop_stage(
    pipeline: Option<&PipelineRecord>,
    endpoints: &[serde_json::Value],
) -> (&'static str, String) {
    let rolling = endpoints.iter().find(|e| {
        matches!(
            e["rollout"]["status"].as_str(),
            Some("running" | "awaiting_approval")
        )
    });
    if let Some(e) = rolling {
        return (
            "deployment",
            format!(
                "version {} is rolling out on {} ({} at step {})",
                e["rollout"]["candidate"],
                e["endpoint"].as_str().unwrap_or(""),
                e["rollout"]["status"].as_str().unwrap_or(""),
                e["rollout"]["step"].as_str().unwrap_or("-")
            ),
        );
    }
    match pipeline.map(|p| p.status.as_str()) {
        Some("running") => ("iteration", "a retraining pipeline is running".into()),
        Some("awaiting_approval") => (
            "iteration",
            "a challenger passed its evaluation and waits for `aidlc loop approve`".into(),
        ),
        _ => {
            let alerts: u64 = endpoints
                .iter()
                .filter_map(|e| e["open_alerts"].as_u64())
                .sum();
            if alerts > 0 {
                ("monitoring", format!("{alerts} open alert(s)"))
            } else if endpoints.is_empty() {
                ("development", "not deployed".into())
            } else {
                ("monitoring", "serving; no open alert".into())
            }
        }
    }
}

/// Runs pipelines inside `aidlc server`: at `[iterate] schedule` and when an alert matching
/// `[iterate] triggers` opens after the model's last pipeline started. Runs interrupted by a
/// crash are failed first, so they never block the model.
pub fn start_scheduler(settings: PipelineSettings, store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let ctx = || AuditContext {
            actor: "retrain-scheduler".into(),
            at_ms: now_ms(),
            reason: None,
        };
        if let Err(e) = iterate::fail_interrupted(&store, &ctx()).await {
            tracing::warn!(error = %e, "could not fail interrupted pipelines");
        }
        let mut last_check = now_ms();
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            let now = now_ms();
            let trigger = match due(&settings, &store, last_check, now).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(error = %e, "the retraining scheduler could not check its triggers");
                    None
                }
            };
            last_check = now;
            let Some(trigger) = trigger else { continue };
            tracing::info!(
                model = settings.model,
                trigger,
                "starting a retraining pipeline"
            );
            match run_on_own_thread(settings.clone(), trigger, ctx()).await {
                Ok(run) => tracing::info!(
                    model = settings.model,
                    status = run.status,
                    "pipeline finished"
                ),
                Err(e) => {
                    tracing::warn!(model = settings.model, error = %e, "pipeline could not run")
                }
            }
        }
    })
}

/// Runs one pipeline on a thread of its own with its own runtime and store connection:
/// training is long and CPU-bound, and must not hold the server's workers.
async fn run_on_own_thread(
    settings: PipelineSettings,
    trigger: String,
    ctx: AuditContext,
) -> anyhow::Result<PipelineRecord> {
    let thread = std::thread::spawn(move || -> anyhow::Result<PipelineRecord> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let store = Store::open_with(&settings.store_url, settings.store_sync).await?;
            let request = settings.request(trigger, None);
            let artifacts = LocalArtifactStore::new(&settings.artifacts);
            Ok(iterate::run_pipeline(&store, &artifacts, &ctx, request).await?)
        })
    });
    tokio::task::spawn_blocking(move || {
        thread
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the pipeline thread panicked")))
    })
    .await?
}

/// What should start a pipeline now, if anything.
pub(crate) async fn due(
    settings: &PipelineSettings,
    store: &Store,
    last_check: i64,
    now: i64,
) -> anyhow::Result<Option<String>> {
    let it = &settings.spec.iterate;
    let latest = store.list_pipelines(Some(&settings.model), 1).await?;
    if latest
        .first()
        .is_some_and(|p| aidlc_store::ACTIVE_PIPELINE_STATUSES.contains(&p.status.as_str()))
    {
        return Ok(None);
    }
    if let Some(cron) = &it.schedule {
        let mut minute = (last_check / 60_000 + 1) * 60_000;
        while minute <= now {
            if cron.matches(minute) {
                return Ok(Some(format!("schedule ({})", cron.text)));
            }
            minute += 60_000;
        }
    }
    if it.triggers.is_empty() {
        return Ok(None);
    }
    let since = latest.first().map_or(i64::MIN, |p| p.started_at_ms);
    let endpoints: Vec<String> = store
        .list_deployments()
        .await?
        .into_iter()
        .filter(|d| d.model == settings.model)
        .map(|d| d.endpoint)
        .collect();
    let open = store
        .list_alerts(&AlertFilter {
            endpoint: None,
            open_only: true,
            limit: None,
        })
        .await?;
    let hit = open.iter().find(|a| {
        endpoints.contains(&a.state.key.endpoint)
            && a.state.opened_ms > since
            && it
                .triggers
                .iter()
                .filter_map(|t| SignalPattern::parse(t).ok())
                .any(|p| p.matches(&a.state.key.signal))
    });
    Ok(hit.map(|a| format!("alert:{}/{}", a.state.key.rule, a.state.key.signal)))
}

/// Whether `[iterate]` asks for pipelines to start on their own (the server starts the
/// scheduler only then).
pub fn wants_scheduler(spec: &ProblemSpec) -> bool {
    spec.iterate.schedule.is_some() || !spec.iterate.triggers.is_empty()
}
