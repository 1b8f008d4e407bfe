//! `aidlc deploy`, `aidlc approve`, `aidlc rollback`: an endpoint served from a registry alias,
//! and new versions rolled out to it under the `[deploy]` policy. Everything goes through the
//! store: a running server's controller picks a new rollout up within a second and its state
//! survives restarts.

use crate::app::App;
use crate::cli::{DecisionArgs, DeployArgs, DeployCommand, RejectArgs};
use crate::output::print_json;
use aidlc_core::records::Deployment;
use aidlc_core::rollout::{Rollout, Strategy};
use aidlc_core::spec::ProblemSpec;
use aidlc_service::rollout::{self as service, StartRollout};
use aidlc_store::{AliasPolicy, DeploymentStore, RegistryStore};
use anyhow::{Context, bail};
use std::process::ExitCode;

pub async fn run(app: &App, args: DeployArgs) -> anyhow::Result<ExitCode> {
    if let Some(DeployCommand::Status { endpoint }) = &args.command {
        return status(app, endpoint).await;
    }
    let Some(endpoint) = args.endpoint.clone() else {
        bail!("name the endpoint: aidlc deploy ENDPOINT --model NAME");
    };
    let store = app.store().await?;
    let existing = store.get_deployment(&endpoint).await?;
    if args.model.is_some() || existing.is_none() {
        let Some(model) = args.model.clone() else {
            bail!(
                "endpoint `{endpoint}` has no deployment yet: give the model (aidlc deploy {endpoint} --model NAME)"
            );
        };
        // A rollout's first version goes in directly: point the alias, then the endpoint.
        if let Some(v) = args.version
            && store.resolve_alias(&model, &args.alias).await?.is_none()
        {
            store
                .set_governed_alias(
                    &app.audit_context(args.override_reason.clone()),
                    &AliasPolicy::default(),
                    &model,
                    &args.alias,
                    v,
                )
                .await?;
        }
        point(app, &store, &endpoint, &model, &args.alias, existing).await?;
    }
    let Some(version) = args.version else {
        return Ok(ExitCode::SUCCESS);
    };
    let strategy = Strategy::parse(&args.strategy).context("unknown strategy")?;
    let spec = if strategy == Strategy::Direct {
        ProblemSpec::default()
    } else {
        app.spec("a rollout follows its [deploy] policy")?
    };
    let ctx = app.audit_context(args.override_reason.clone());
    let policy = AliasPolicy::default();
    let rollout = service::start(
        &store,
        &spec,
        StartRollout {
            endpoint: &endpoint,
            version,
            strategy,
            alias_policy: &policy,
        },
        &ctx,
    )
    .await?;
    if app.settings.json {
        print_json(&rollout)?;
    } else if strategy == Strategy::Direct {
        println!(
            "endpoint {endpoint} now serves {}@{} = version {version} (direct)",
            rollout.model, rollout.alias
        );
    } else {
        println!(
            "rollout {} started: version {version} of {} on {endpoint}, steps {} every {}; production stays on version {}",
            rollout.id,
            rollout.model,
            steps_text(&rollout),
            seconds_text(rollout.policy.interval_ms / 1000),
            rollout
                .production
                .map_or_else(|| "-".to_string(), |v| v.to_string())
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates or re-points the deployment (keeping a rollout state the controller wrote).
async fn point(
    app: &App,
    store: &aidlc_store::Store,
    endpoint: &str,
    model: &str,
    alias: &str,
    existing: Option<Deployment>,
) -> anyhow::Result<()> {
    let version = store.resolve_alias(model, alias).await?.with_context(|| {
        format!(
            "model `{model}` has no alias `{alias}`: point it at a version first (aidlc models alias {model} {alias} VERSION), or give --version"
        )
    })?;
    let ctx = app.audit_context(None);
    let state = existing.map_or(serde_json::json!({}), |d| d.state);
    let deployment = Deployment {
        endpoint: endpoint.to_string(),
        model: model.to_string(),
        alias: alias.to_string(),
        state,
        updated_by: ctx.actor.clone(),
        updated_at_ms: ctx.at_ms,
    };
    store
        .upsert_deployments(&ctx, vec![deployment.clone()])
        .await?;
    if app.settings.json {
        print_json(&serde_json::json!({"deployment": deployment, "version": version.version}))?;
    } else {
        println!(
            "endpoint {endpoint} serves {model}@{alias} (now version {})",
            version.version
        );
    }
    Ok(())
}

fn steps_text(r: &Rollout) -> String {
    r.policy
        .steps
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" → ")
}

fn seconds_text(s: i64) -> String {
    match s {
        s if s % 3600 == 0 && s > 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 && s > 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

async fn status(app: &App, endpoint: &str) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let (d, rollout) = service::status(&store, endpoint).await?;
    let production = store
        .resolve_alias(&d.model, &d.alias)
        .await?
        .map(|v| v.version);
    if app.settings.json {
        print_json(&serde_json::json!({
            "endpoint": d.endpoint,
            "model": d.model,
            "alias": d.alias,
            "production_version": production,
            "rollout": rollout,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "endpoint {}: {}@{} = version {}",
        d.endpoint,
        d.model,
        d.alias,
        production.map_or_else(|| "-".to_string(), |v| v.to_string())
    );
    let Some(r) = rollout else {
        println!("no rollout");
        return Ok(ExitCode::SUCCESS);
    };
    let traffic = r.traffic();
    println!(
        "rollout {}: version {} ({}), {}",
        r.id,
        r.candidate,
        r.strategy.as_str(),
        r.status.as_str()
    );
    println!(
        "  steps: {} (at step {} of {}: {})",
        steps_text(&r),
        r.step + 1,
        r.policy.steps.len(),
        r.current_step()
            .map_or_else(|| "-".to_string(), |s| s.to_string())
    );
    println!(
        "  traffic: production {}%, canary {}%, shadow {}",
        100.0 - traffic.canary_percent,
        traffic.canary_percent,
        if traffic.shadow { "on" } else { "off" }
    );
    println!(
        "  failed analyses: {} (rollback at {})",
        r.failures, r.policy.failures_to_rollback
    );
    if let Some(reason) = &r.reason {
        println!("  reason: {reason}");
    }
    if let Some(a) = r.analyses.last() {
        let m = &a.measurements;
        println!(
            "  last analysis at step {} ({:?}): {} candidate / {} production predictions",
            a.step_label, a.verdict, m.candidate_requests, m.production_requests
        );
        for c in &a.checks {
            println!(
                "    {:<24} {:>10.4}  limit {:>10.4}  {}",
                c.name,
                c.value,
                c.limit,
                if c.passed { "pass" } else { "FAIL" }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn approve(app: &App, args: DecisionArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let r = service::approve(&store, &args.endpoint, &app.audit_context(args.reason)).await?;
    if app.settings.json {
        print_json(&r)?;
    } else {
        println!(
            "approved: {}@{} = version {} on {}",
            r.model, r.alias, r.candidate, r.endpoint
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn reject(app: &App, args: RejectArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let r = service::reject(
        &store,
        &args.endpoint,
        &app.audit_context(Some(args.reason)),
    )
    .await?;
    if app.settings.json {
        print_json(&r)?;
    } else {
        println!(
            "rejected on {}: version {} no longer gets traffic; {}@{} stays version {}",
            r.endpoint,
            r.candidate,
            r.model,
            r.alias,
            r.production
                .map_or_else(|| "-".to_string(), |v| v.to_string())
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn rollback(app: &App, args: DecisionArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let r = service::roll_back(&store, &args.endpoint, &app.audit_context(args.reason)).await?;
    if app.settings.json {
        print_json(&r)?;
    } else {
        println!(
            "rolled back on {}: version {} no longer gets traffic; {}@{} = version {}",
            r.endpoint,
            r.candidate,
            r.model,
            r.alias,
            r.production
                .map_or_else(|| "-".to_string(), |v| v.to_string())
        );
    }
    Ok(ExitCode::SUCCESS)
}
