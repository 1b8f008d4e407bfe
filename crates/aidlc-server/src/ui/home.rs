//! The home page: every registered model's place in the loop — framing, data, development,
//! evaluation, deployment, monitoring — and what needs a decision (rollouts awaiting approval,
//! open alerts).

use super::html::{badge, empty, esc, link, page as shell, short, table, time, url};
use super::models::{all_models, all_versions};
use super::{UiResult, deployments::DeploymentView};
use crate::AppState;
use aidlc_core::rollout::RolloutStatus;
use aidlc_store::{
    AlertFilter, AlertStore, DatasetStore, ProjectStore, RegistryStore, RegistryVersion,
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
    let pending: Vec<&DeploymentView> = deployments
        .iter()
        .filter(|d| {
            d.rollout
                .as_ref()
                .is_some_and(|r| r.status == RolloutStatus::AwaitingApproval)
        })
        .collect();

    let mut h = String::new();
    // What needs a person first.
    h.push_str(r#"<section class="summary">"#);
    let _ = write!(
        h,
        r#"<a class="tile" href="/ui/deployments" id="pending-approvals"><span class="big">{}</span> pending approvals</a>"#,
        pending.len()
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
    for d in &pending {
        let _ = write!(
            h,
            r#"<p class="notice">Rollout of {} version {} on {} passed every step and waits for approval: {}</p>"#,
            esc(&d.deployment.model),
            d.rollout.as_ref().map_or(0, |r| r.candidate),
            esc(&d.deployment.endpoint),
            link(
                &format!("/ui/deployments/{}", url(&d.deployment.endpoint)),
                "review"
            )
        );
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
        // Deployment: champion, challenger and each endpoint's rollout.
        let mut dep = String::new();
        let _ = write!(
            dep,
            "champion {} · challenger {}",
            version_link(&m.name, champion),
            version_link(&m.name, challenger)
        );
        for d in deployments.iter().filter(|d| d.deployment.model == m.name) {
            let _ = write!(dep, "<br>{}", d.summary());
        }
        stage(&mut h, "deployment", dep);
        // Monitoring: open alerts of this model's endpoints; drift over time is a hook.
        let endpoints: Vec<&str> = deployments
            .iter()
            .filter(|d| d.deployment.model == m.name)
            .map(|d| d.deployment.endpoint.as_str())
            .collect();
        let alerts = open_alerts
            .iter()
            .filter(|a| endpoints.contains(&a.state.key.endpoint.as_str()))
            .count();
        stage(
            &mut h,
            "monitoring",
            format!(
                "{} · <a href=\"/ui/monitoring\">drift</a>",
                if alerts == 0 {
                    badge("ok", "no open alerts")
                } else {
                    badge("bad", &format!("{alerts} open alerts"))
                }
            ),
        );
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
