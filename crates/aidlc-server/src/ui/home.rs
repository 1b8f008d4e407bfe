//! The home page: every registered model's place in the loop — framing, data, development,
//! evaluation, deployment (champion, challenger, rollout step and traffic split), monitoring
//! (latest drift, open alerts) and iteration (the retraining pipeline) — and what needs a
//! decision: rollouts and retraining runs waiting for approval, each linked to where it is
//! made.

use super::html::{badge, empty, esc, link, num, page as shell, short, table, time, url};
use super::models::{all_models, all_versions};
use super::{UiResult, deployments::DeploymentView};
use crate::AppState;
use aidlc_core::rollout::RolloutStatus;
use aidlc_service::iterate::state_of;
use aidlc_store::{
    AlertFilter, AlertStore, DatasetStore, MonitorQuery, MonitorStore, PipelineRecord,
    PipelineStore, ProjectStore, RegistryStore, RegistryVersion,
};
use axum::extract::State;
use axum::response::Html;
use std::fmt::Write;

pub async fn page(State(s): State<AppState>) -> UiResult {
    let store = s.store();
    let projects = store.list_projects().await?;
    let models = all_models(store).await?;
    let deployments = DeploymentView::all(&s).await?;
    let open_alerts = store
        .list_alerts(&AlertFilter {
            endpoint: None,
            open_only: true,
            limit: None,
        })
        .await?;
    // Each model's latest retraining run: at most one is active per model.
    let mut pipelines: Vec<(String, PipelineRecord)> = Vec::new();
    for m in &models {
        if let Some(r) = store
            .list_pipelines(Some(&m.name), 1)
            .await?
            .into_iter()
            .next()
        {
            pipelines.push((m.name.clone(), r));
        }
    }
    let pending_rollouts: Vec<&DeploymentView> = deployments
        .iter()
        .filter(|d| {
            d.rollout
                .as_ref()
                .is_some_and(|r| r.status == RolloutStatus::AwaitingApproval)
        })
        .collect();
    let pending_pipelines: Vec<&PipelineRecord> = pipelines
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r.status == "awaiting_approval")
        .collect();

    let mut h = String::new();
    // What needs a person first.
    h.push_str(r#"<section class="summary">"#);
    let _ = write!(
        h,
        r##"<a class="tile" href="#pending" id="pending-approvals"><span class="big">{}</span> pending approvals</a>"##,
        pending_rollouts.len() + pending_pipelines.len()
    );
    let _ = write!(
        h,
        r#"<a class="tile" href="/ui/alerts" id="open-alerts"><span class="big">{}</span> open alerts</a>"#,
        open_alerts.len()
    );
    let _ = write!(
        h,
        r#"<a class="tile" href="/ui/models"><span class="big">{}</span> models</a><a class="tile" href="/ui/deployments"><span class="big">{}</span> deployments</a>"#,
        models.len(),
        deployments.len()
    );
    h.push_str("</section>");
    if !pending_rollouts.is_empty() || !pending_pipelines.is_empty() {
        h.push_str(r#"<h2 id="pending">Pending approvals</h2><ul class="pending">"#);
        for d in &pending_rollouts {
            let _ = write!(
                h,
                r#"<li data-kind="rollout">Rollout of {} version {} on {} passed every step and waits for approval: {}</li>"#,
                esc(&d.deployment.model),
                d.rollout.as_ref().map_or(0, |r| r.candidate),
                esc(&d.deployment.endpoint),
                link(
                    &format!("/ui/deployments/{}#rollout", url(&d.deployment.endpoint)),
                    "approve or reject"
                )
            );
        }
        for r in &pending_pipelines {
            let state = state_of(r);
            let _ = write!(
                h,
                r#"<li data-kind="pipeline">Retraining pipeline of {} trained version {}, which passed its evaluation gates, and waits for approval: {}</li>"#,
                esc(&r.model),
                state
                    .challenger
                    .map_or_else(|| "–".to_string(), |v| v.to_string()),
                link(
                    &format!("/ui/models/{}#pipeline-approval", url(&r.model)),
                    "approve or reject"
                )
            );
        }
        h.push_str("</ul>");
    }

    h.push_str("<h2>Framing</h2>");
    if projects.is_empty() {
        h.push_str(&empty(
            "No framing contract recorded yet.",
            "Run <code>aidlc check</code> in the project folder: a passing <code>aidlc.toml</code> is stored with its hash.",
        ));
    } else {
        let rows: Vec<Vec<String>> = projects
            .iter()
            .map(|p| {
                vec![
                    esc(&p.name),
                    badge("ok", "check passed"),
                    short(&p.spec_hash.0),
                    esc(&time(p.updated_at_ms)),
                ]
            })
            .collect();
        h.push_str(&table(
            &["project", "framing", "contract", "checked at"],
            &rows,
        ));
    }

    h.push_str("<h2>Models in the loop</h2>");
    if models.is_empty() {
        h.push_str(&empty(
            "No model registered yet.",
            "Train one with <code>aidlc train</code> or register a file with <code>aidlc models register</code>.",
        ));
    }
    for m in &models {
        let versions = all_versions(store, &m.name).await?;
        let alias_of = |alias: &str| m.aliases.iter().find(|(a, _)| a == alias).map(|(_, v)| *v);
        let champion = alias_of("champion");
        let challenger = alias_of("challenger");
        let latest = versions.last();
        let _ = write!(
            h,
            r#"<article class="model" data-model="{}"><h3>{}</h3><ol class="loop">"#,
            esc(&m.name),
            link(&format!("/ui/models/{}", url(&m.name)), &m.name)
        );
        // Framing.
        // A server usually serves one project, whose name need not be the model's.
        let project = projects
            .iter()
            .find(|p| p.name == m.name)
            .or(if projects.len() == 1 {
                projects.first()
            } else {
                None
            });
        stage(
            &mut h,
            "framing",
            match project {
                Some(p) => format!("{} {}", badge("ok", "check passed"), short(&p.spec_hash.0)),
                None => badge("", "not checked"),
            },
        );
        // Data: the dataset version the newest version was trained on.
        let data = match latest.and_then(|v| v.dataset_version.clone()) {
            Some(id) => match store.get_dataset_version_by_id(&id).await? {
                Some(dv) => format!(
                    "{} {}",
                    link(
                        &format!("/ui/datasets/{}?version={}", url(&dv.data.name), dv.version),
                        &format!("{}@{}", dv.data.name, dv.version)
                    ),
                    if dv.data.valid {
                        badge("ok", "valid")
                    } else {
                        badge("bad", "invalid")
                    }
                ),
                None => short(&id.0),
            },
            None => "–".to_string(),
        };
        stage(&mut h, "data", data);
        // Development: the run behind the newest version.
        let dev = match latest.and_then(|v| v.run_id.clone()) {
            Some(run) => format!(
                r#"run <a href="/ui/runs/{}">{}</a>"#,
                url(&run),
                short(&run)
            ),
            None => "–".to_string(),
        };
        stage(&mut h, "development", dev);
        // Evaluation: the newest version's latest report.
        let eval = match latest {
            Some(v) => evaluation_badge(&s, v).await?,
            None => "–".to_string(),
        };
        stage(&mut h, "evaluation", eval);
        // Deployment: champion, challenger and each endpoint's rollout step and traffic split.
        let own: Vec<&DeploymentView> = deployments
            .iter()
            .filter(|d| d.deployment.model == m.name)
            .collect();
        let pipeline = pipelines
            .iter()
            .find(|(name, _)| *name == m.name)
            .map(|(_, r)| r);
        let mut dep = String::new();
        let _ = write!(
            dep,
            r#"champion {} · challenger <span class="challenger">{}</span>"#,
            version_link(&m.name, champion),
            challenger_of(&m.name, pipeline, &own, challenger)
        );
        for d in &own {
            let _ = write!(dep, "<br>{}", d.summary());
        }
        stage(&mut h, "deployment", dep);
        // Monitoring: each endpoint's latest drift and the open alerts.
        let alerts = open_alerts
            .iter()
            .filter(|a| {
                own.iter()
                    .any(|d| d.deployment.endpoint == a.state.key.endpoint)
            })
            .count();
        let mut mon = if alerts == 0 {
            badge("ok", "no open alerts")
        } else {
            format!(r#"<a class="badge bad" href="/ui/alerts">{alerts} open alerts</a>"#)
        };
        for d in &own {
            let _ = write!(
                mon,
                "<br>{}",
                drift_status(&s, &d.deployment.endpoint).await?
            );
        }
        stage(&mut h, "monitoring", mon);
        // Iteration: the latest retraining run.
        let iteration = match pipeline {
            None => r#"<span class="muted">no retraining run yet</span>"#.to_string(),
            Some(r) => format!(
                r#"<a href="/ui/models/{}#pipelines">pipeline</a> {} {} <span class="muted">({}, {})</span>"#,
                url(&m.name),
                super::models::pipeline_badge(&r.status),
                if r.status == "awaiting_approval" {
                    link(
                        &format!("/ui/models/{}#pipeline-approval", url(&m.name)),
                        "decide",
                    )
                } else {
                    String::new()
                },
                esc(&r.trigger),
                esc(&time(r.updated_at_ms))
            ),
        };
        stage(&mut h, "iteration", iteration);
        h.push_str("</ol>");
        let _ = write!(
            h,
            r#"<p class="muted">{} versions; aliases: {}</p></article>"#,
            versions.len(),
            if m.aliases.is_empty() {
                "none".to_string()
            } else {
                m.aliases
                    .iter()
                    .map(|(a, v)| format!("{}→{v}", esc(a)))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    }

    let latest_data = latest_datasets(&s).await?;
    h.push_str("<h2>Latest data</h2>");
    if latest_data.is_empty() {
        h.push_str(&empty(
            "No dataset ingested yet.",
            "Run <code>aidlc data ingest FILE</code>.",
        ));
    } else {
        h.push_str(&table(
            &["dataset", "latest version", "rows", "valid"],
            &latest_data,
        ));
    }
    Ok(Html(shell("Home", "The loop at a glance", &h)))
}

fn stage(h: &mut String, name: &str, content: String) {
    let _ = write!(
        h,
        r#"<li class="stage" data-stage="{name}"><span class="stage-name">{name}</span>{content}</li>"#
    );
}

/// The challenger: the candidate of an active retraining run, else of an active rollout, else
/// the version the `challenger` alias names; with where it comes from.
fn challenger_of(
    model: &str,
    pipeline: Option<&PipelineRecord>,
    deployments: &[&DeploymentView],
    alias: Option<i64>,
) -> String {
    if let Some(r) =
        pipeline.filter(|r| aidlc_store::ACTIVE_PIPELINE_STATUSES.contains(&r.status.as_str()))
        && let Some(v) = state_of(r).challenger
    {
        return format!(
            "{} (pipeline, {})",
            version_link(model, Some(v)),
            esc(&r.status.replace('_', " "))
        );
    }
    if let Some(r) = deployments
        .iter()
        .filter_map(|d| d.rollout.as_ref())
        .find(|r| r.is_active())
    {
        return format!(
            "{} (rollout on {})",
            version_link(model, Some(r.candidate)),
            esc(&r.endpoint)
        );
    }
    match alias {
        Some(v) => format!("{} (alias)", version_link(model, Some(v))),
        None => "–".to_string(),
    }
}

/// The latest monitored window of an endpoint: its share of drifted features and how many of
/// its features drifted, linked to the monitoring page.
async fn drift_status(s: &AppState, endpoint: &str) -> Result<String, super::UiError> {
    let store = s.store();
    let Some((start, end)) = store.latest_monitor_window(endpoint).await? else {
        return Ok(format!(
            r#"<span class="drift muted" data-endpoint="{}">{}: not monitored yet</span>"#,
            esc(endpoint),
            esc(endpoint)
        ));
    };
    let points: Vec<_> = store
        .monitor_points(&MonitorQuery {
            endpoint: endpoint.to_string(),
            from_ms: Some(end - 1),
            to_ms: Some(end),
            signal_prefix: Some("drift.".into()),
        })
        .await?
        .into_iter()
        .filter(|p| p.window_start_ms == start)
        .collect();
    let share = points
        .iter()
        .find(|p| p.signal == "drift.share" && p.feature.is_none())
        .map(|p| p.value);
    let features: Vec<_> = points
        .iter()
        .filter(|p| p.signal.starts_with("drift.feature."))
        .collect();
    let drifted = features
        .iter()
        .filter(|p| p.extra["drifted"].as_bool() == Some(true))
        .count();
    let verdict = if features.is_empty() {
        badge("", "no drift test")
    } else if drifted == 0 {
        badge("ok", "no drift")
    } else {
        badge(
            "warn",
            &format!("{drifted} of {} features drifted", features.len()),
        )
    };
    Ok(format!(
        r#"<span class="drift" data-endpoint="{}" data-drifted="{drifted}">{}: {} · share {} <span class="muted">(window to {})</span> · <a href="/ui/monitoring">drift over time</a></span>"#,
        esc(endpoint),
        esc(endpoint),
        verdict,
        share.map_or_else(|| "–".to_string(), num),
        esc(&time(end))
    ))
}

fn version_link(model: &str, version: Option<i64>) -> String {
    match version {
        Some(v) => link(
            &format!("/ui/models/{}/versions/{v}", url(model)),
            &format!("v{v}"),
        ),
        None => "–".to_string(),
    }
}

/// A pass or fail badge for a version's latest evaluation report, linked to its card.
pub async fn evaluation_badge(s: &AppState, v: &RegistryVersion) -> Result<String, super::UiError> {
    let reports = s.store().evaluation_reports(&v.model, v.version).await?;
    Ok(match reports.iter().max_by_key(|r| r.created_at_ms) {
        Some(r) => format!(
            r#"<a href="/ui/models/{}/versions/{}">v{}</a> {}"#,
            url(&v.model),
            v.version,
            v.version,
            if r.data.passed {
                badge("ok", "gates passed")
            } else {
                badge("bad", "gates failed")
            }
        ),
        None => format!("v{} {}", v.version, badge("", "not evaluated")),
    })
}

async fn latest_datasets(s: &AppState) -> Result<Vec<Vec<String>>, super::UiError> {
    let all = s.store().list_dataset_versions(None).await?;
    let mut latest: Vec<&aidlc_core::records::DatasetVersion> = Vec::new();
    for dv in &all {
        match latest.iter_mut().find(|l| l.data.name == dv.data.name) {
            Some(l) if l.version < dv.version => *l = dv,
            Some(_) => {}
            None => latest.push(dv),
        }
    }
    Ok(latest
        .iter()
        .map(|dv| {
            vec![
                link(
                    &format!("/ui/datasets/{}", url(&dv.data.name)),
                    &dv.data.name,
                ),
                dv.version.to_string(),
                dv.data.rows.to_string(),
                if dv.data.valid {
                    badge("ok", "valid")
                } else {
                    badge("bad", "invalid")
                },
            ]
        })
        .collect())
}
