//! The registry pages: models with their versions and aliases, the retraining pipeline's runs
//! with the approve and reject decisions of one waiting for approval, the governed promotion
//! of a version to the protected alias, a version's lineage chain drawn as a graph (dataset →
//! split → run → commit → evaluation → approval → deployment) with its model card, and the list
//! of evaluations.

use super::deployments::DeploymentView;
use super::home::evaluation_badge;
use super::html::{action_form, badge, empty, esc, link, page, short, table, time, url};
use super::{UiError, UiResult, not_found};
use crate::AppState;
use aidlc_core::rollout::RolloutStatus;
use aidlc_service::evaluate::{StoredEvalError, latest_report, render_html_with_monitoring};
use aidlc_service::iterate::state_of;
use aidlc_service::monitor_history::for_model_version;
use aidlc_store::{
    AuditFilter, AuditStore, DatasetStore, PipelineRecord, PipelineStore, RegisteredModel,
    RegistryStore, RegistryVersion, SplitStore, Store, StoreError,
};
use axum::extract::{Path, State};
use axum::response::Html;
use std::fmt::Write;

/// Every registered model, by name.
pub async fn all_models(store: &Store) -> Result<Vec<RegisteredModel>, UiError> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = store.search_registered_models(None, 1000, offset).await?;
        out.extend(page.items);
        match page.next_offset {
            Some(o) => offset = o,
            None => return Ok(out),
        }
    }
}

/// Every version of a model, oldest first.
pub async fn all_versions(store: &Store, model: &str) -> Result<Vec<RegistryVersion>, UiError> {
    Ok(aidlc_service::registry::all_versions(store, model).await?)
}

pub async fn list(State(s): State<AppState>) -> UiResult {
    let models = all_models(s.store()).await?;
    let mut body = String::new();
    if models.is_empty() {
        body.push_str(&empty(
            "No model registered yet.",
            "Train one with <code>aidlc train</code>.",
        ));
    }
    let mut rows = Vec::new();
    for m in &models {
        let versions = all_versions(s.store(), &m.name).await?;
        rows.push(vec![
            link(&format!("/ui/models/{}", url(&m.name)), &m.name),
            versions.len().to_string(),
            aliases(m),
            versions
                .last()
                .map_or_else(String::new, |v| esc(&time(v.created_at_ms))),
        ]);
    }
    if !rows.is_empty() {
        body.push_str(&table(
            &["model", "versions", "aliases", "newest version"],
            &rows,
        ));
    }
    Ok(Html(page("Models", "Models", &body)))
}

fn aliases(m: &RegisteredModel) -> String {
    m.aliases
        .iter()
        .map(|(a, v)| {
            format!(
                r#"<span class="alias">{}</span> → {}"#,
                esc(a),
                link(
                    &format!("/ui/models/{}/versions/{v}", url(&m.name)),
                    &format!("v{v}")
                )
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub async fn show(State(s): State<AppState>, Path(name): Path<String>) -> UiResult {
    let m = s
        .store()
        .get_registered_model(&name)
        .await?
        .ok_or_else(|| not_found(format!("model `{name}` not found")))?;
    let versions = all_versions(s.store(), &name).await?;
    let mut body = String::new();
    if !m.description.is_empty() {
        let _ = write!(body, "<p>{}</p>", esc(&m.description));
    }
    let _ = write!(body, "<p>Aliases: {}</p>", {
        let a = aliases(&m);
        if a.is_empty() { "none".to_string() } else { a }
    });
    let mut rows = Vec::new();
    for v in versions.iter().rev() {
        rows.push(vec![
            link(
                &format!("/ui/models/{}/versions/{}", url(&name), v.version),
                &format!("v{}", v.version),
            ),
            esc(&time(v.created_at_ms)),
            v.run_id.as_ref().map_or_else(String::new, |r| {
                format!(r#"<a href="/ui/runs/{}">{}</a>"#, url(r), short(r))
            }),
            v.dataset_version
                .as_ref()
                .map_or_else(String::new, |d| short(&d.0)),
            v.aliases
                .iter()
                .map(|a| format!(r#"<span class="alias">{}</span>"#, esc(a)))
                .collect::<Vec<_>>()
                .join(" "),
            evaluation_badge(&s, v).await?,
            esc(&v.created_by),
        ]);
    }
    body.push_str(&table(
        &[
            "version",
            "created",
            "run",
            "dataset",
            "aliases",
            "evaluation",
            "by",
        ],
        &rows,
    ));
    body.push_str(&promote_form(&s, &m, &versions, None));
    let pipelines = s
        .store()
        .list_pipelines(Some(&name), PIPELINES_SHOWN)
        .await?;
    body.push_str(&pipelines_section(&name, &pipelines));
    Ok(Html(page("Models", &format!("Model {name}"), &body)))
}

/// Pipeline runs listed on a model's page.
const PIPELINES_SHOWN: i64 = 20;

/// The governed promotion: a version (fixed, or chosen among the model's), an override box for
/// a version without a passing evaluation, and the reason.
fn promote_form(
    s: &AppState,
    m: &RegisteredModel,
    versions: &[RegistryVersion],
    fixed: Option<i64>,
) -> String {
    let alias = aidlc_service::registry::default_alias(&s.config().alias_policy).to_string();
    let current = m.aliases.iter().find(|(a, _)| *a == alias).map(|(_, v)| *v);
    let candidates: Vec<i64> = match fixed {
        Some(v) => vec![v],
        None => versions.iter().rev().map(|v| v.version).collect(),
    };
    if candidates.is_empty() || (fixed.is_some() && current == fixed) {
        return String::new();
    }
    let mut h = format!(
        r#"<h2 id="promote">Promote to <span class="alias">{}</span></h2><p class="muted">Production follows this alias: {}. It moves only for a version whose latest evaluation passed its gates, unless you override (the reason is then the override reason, audited as such).</p>"#,
        esc(&alias),
        current.map_or_else(|| "unset".to_string(), |v| format!("now v{v}"))
    );
    let mut fields = String::new();
    match fixed {
        Some(v) => {
            let _ = write!(
                fields,
                r#"<input type="hidden" name="version" value="{v}" data-number>"#
            );
        }
        None => {
            fields.push_str(r#"<label>Version <select name="version" data-number>"#);
            // The newest version that is not already there comes preselected.
            let preselected = candidates.iter().copied().find(|v| Some(*v) != current);
            for v in &candidates {
                let _ = write!(
                    fields,
                    r#"<option value="{v}"{}>v{v}{}</option>"#,
                    if Some(*v) == preselected {
                        " selected"
                    } else {
                        ""
                    },
                    if Some(*v) == current {
                        " (current)"
                    } else {
                        ""
                    }
                );
            }
            fields.push_str("</select></label> ");
        }
    }
    fields.push_str(
        r#"<label><input type="checkbox" name="override"> override the evaluation gate</label> "#,
    );
    h.push_str(&action_form(
        "promote",
        &format!("/api/v1/models/{}/promote", url(&m.name)),
        &match fixed {
            Some(v) => format!("Promote v{v} to {alias}"),
            None => format!("Promote to {alias}"),
        },
        &fields,
    ));
    h
}

pub fn pipeline_badge(status: &str) -> String {
    let kind = match status {
        "handed_off" | "evaluated" => "ok",
        "running" | "awaiting_approval" => "warn",
        "rejected" | "failed" => "bad",
        _ => "",
    };
    badge(kind, status)
}

/// The model's retraining runs, newest first, with the decision forms of one that waits for
/// approval.
fn pipelines_section(model: &str, runs: &[PipelineRecord]) -> String {
    let mut h = String::from(r#"<h2 id="pipelines">Retraining pipeline</h2>"#);
    if runs.is_empty() {
        h.push_str(&empty(
            "No retraining pipeline has run for this model.",
            "Run one with <code>aidlc loop run</code>, or let the server start them by <code>[iterate] schedule</code> and <code>triggers</code>.",
        ));
        return h;
    }
    if let Some(waiting) = runs.first().filter(|r| r.status == "awaiting_approval") {
        let state = state_of(waiting);
        let challenger = state
            .challenger
            .map_or_else(|| "the challenger".to_string(), |v| format!("v{v}"));
        let _ = write!(
            h,
            r#"<div id="pipeline-approval" data-status="awaiting_approval"><p class="notice">Pipeline {} trained {} ({}), which passed its evaluation gates against the champion and waits for a decision: approve hands it to the rollout controller, reject ends the run and deploys nothing.</p>"#,
            short(&waiting.id),
            match state.challenger {
                Some(v) => link(
                    &format!("/ui/models/{}/versions/{v}", url(model)),
                    &challenger
                ),
                None => esc(&challenger),
            },
            state
                .report
                .as_deref()
                .map_or_else(|| "no report".to_string(), short)
        );
        let api = format!("/api/v1/pipelines/{}", url(model));
        h.push_str(&action_form(
            "approve",
            &format!("{api}/approve"),
            &format!("Approve {challenger} (start its rollout)"),
            "",
        ));
        h.push_str(&action_form(
            "reject",
            &format!("{api}/reject"),
            &format!("Reject {challenger}"),
            "",
        ));
        h.push_str("</div>");
    }
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let state = state_of(r);
            let steps = state
                .steps
                .iter()
                .map(|st| {
                    format!(
                        r#"<span class="{}">{} {}</span>"#,
                        match st.status.as_str() {
                            "failed" | "rejected" => "fail",
                            "done" => "pass",
                            _ => "",
                        },
                        esc(&st.name),
                        esc(&st.status)
                    )
                })
                .collect::<Vec<_>>()
                .join(" → ");
            vec![
                format!(
                    r#"<a href="/ui/audit?object=pipeline:{}" title="its audit trail">{}</a>"#,
                    url(&r.id),
                    short(&r.id)
                ),
                esc(&time(r.started_at_ms)),
                esc(&r.trigger),
                pipeline_badge(&r.status),
                steps,
                state.challenger.map_or_else(
                    || "–".to_string(),
                    |v| {
                        link(
                            &format!("/ui/models/{}/versions/{v}", url(model)),
                            &format!("v{v}"),
                        )
                    },
                ),
                esc(state.reason.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    h.push_str(&table(
        &[
            "run",
            "started",
            "trigger",
            "status",
            "steps",
            "challenger",
            "why it ended",
        ],
        &rows,
    ));
    h
}

/// One node of the lineage graph: what it is, its value (`None`: the link is missing) and where
/// it leads.
struct Node {
    stage: &'static str,
    value: Option<String>,
    detail: String,
    href: Option<String>,
}

pub async fn version(
    State(s): State<AppState>,
    Path((name, version)): Path<(String, i64)>,
) -> UiResult {
    let store = s.store();
    let v = store
        .get_registry_version(&name, version)
        .await?
        .ok_or_else(|| not_found(format!("model version {name}/{version} not found")))?;

    let dataset = match &v.dataset_version {
        Some(id) => store.get_dataset_version_by_id(id).await?,
        None => None,
    };
    let split = match &v.split {
        Some(h) => store.get_split_by_manifest(h).await?,
        None => None,
    };
    let report = latest_report(store, &v).await.map_err(report_error)?;
    let approvals = store
        .list_audit(&AuditFilter {
            object_kind: Some("model_version".into()),
            object_id: Some(v.id.clone()),
            limit: None,
        })
        .await?
        .into_iter()
        .filter(|e| e.entry.action.starts_with("alias.set"))
        .collect::<Vec<_>>();
    let deployments: Vec<DeploymentView> = DeploymentView::all(&s)
        .await?
        .into_iter()
        .filter(|d| d.deployment.model == name)
        .collect();
    let serving: Vec<&DeploymentView> = deployments
        .iter()
        .filter(|d| {
            d.production_version == Some(version)
                || d.rollout
                    .as_ref()
                    .is_some_and(|r| r.candidate == version && r.is_active())
        })
        .collect();
    let promoted_by = deployments.iter().find_map(|d| {
        d.rollout
            .as_ref()
            .filter(|r| r.candidate == version && r.status == RolloutStatus::Promoted)
    });

    let nodes = vec![
        Node {
            stage: "dataset",
            value: dataset
                .as_ref()
                .map(|d| format!("{}@{}", d.data.name, d.version))
                .or_else(|| v.dataset_version.as_ref().map(|d| d.0.clone())),
            detail: dataset
                .as_ref()
                .map_or_else(String::new, |d| format!("{} rows", d.data.rows)),
            href: dataset
                .as_ref()
                .map(|d| format!("/ui/datasets/{}?version={}", url(&d.data.name), d.version)),
        },
        Node {
            stage: "split",
            value: split
                .as_ref()
                .map(|sp| sp.split.kind.clone())
                .or_else(|| v.split.as_ref().map(|h| h.0.clone())),
            detail: split.as_ref().map_or_else(String::new, |sp| {
                format!(
                    "{}/{}/{} rows",
                    sp.split.train_rows, sp.split.valid_rows, sp.split.test_rows
                )
            }),
            href: dataset.as_ref().map(|d| {
                format!(
                    "/ui/datasets/{}?version={}#splits",
                    url(&d.data.name),
                    d.version
                )
            }),
        },
        Node {
            stage: "run",
            value: v.run_id.as_ref().map(|r| r.chars().take(12).collect()),
            detail: String::new(),
            href: v.run_id.as_ref().map(|r| format!("/ui/runs/{}", url(r))),
        },
        Node {
            stage: "commit",
            value: v.git_commit.as_ref().map(|c| c.chars().take(12).collect()),
            detail: match v.git_dirty {
                Some(true) => "dirty tree".into(),
                _ => String::new(),
            },
            href: None,
        },
        Node {
            stage: "evaluation",
            value: report.as_ref().map(|(r, _)| {
                if r.passed {
                    "gates passed"
                } else {
                    "gates failed"
                }
                .to_string()
            }),
            detail: report
                .as_ref()
                .map_or_else(String::new, |(_, rec)| time(rec.created_at_ms)),
            href: report.as_ref().map(|_| "#card".to_string()),
        },
        Node {
            stage: "approval",
            value: promoted_by
                .map(|r| format!("rollout {}", r.status.as_str()))
                .or_else(|| approvals.last().map(|e| e.entry.action.clone())),
            detail: promoted_by
                .and_then(|r| r.reason.clone())
                .or_else(|| approvals.last().map(|e| e.entry.actor.clone()))
                .unwrap_or_default(),
            href: Some(format!("/ui/audit?object=model_version:{}", url(&v.id))),
        },
        Node {
            stage: "deployment",
            value: (!serving.is_empty()).then(|| {
                serving
                    .iter()
                    .map(|d| d.deployment.endpoint.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
            detail: serving.first().map_or_else(String::new, |d| {
                if d.production_version == Some(version) {
                    "production".into()
                } else {
                    "candidate".into()
                }
            }),
            href: serving
                .first()
                .map(|d| format!("/ui/deployments/{}", url(&d.deployment.endpoint))),
        },
    ];

    let mut body = String::new();
    let _ = write!(
        body,
        "<p>Artifact {} · source <code>{}</code> · by {} at {} · aliases: {}</p>",
        short(&v.artifact.0),
        esc(&v.source),
        esc(&v.created_by),
        esc(&time(v.created_at_ms)),
        if v.aliases.is_empty() {
            "none".to_string()
        } else {
            v.aliases
                .iter()
                .map(|a| esc(a))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    body.push_str("<h2>Lineage</h2>");
    body.push_str(&lineage_svg(&nodes));
    if let Some(m) = store.get_registered_model(&name).await? {
        body.push_str(&promote_form(&s, &m, &[], Some(version)));
    }
    if !approvals.is_empty() {
        let rows: Vec<Vec<String>> = approvals
            .iter()
            .map(|e| {
                vec![
                    e.seq.to_string(),
                    esc(&time(e.entry.at_ms)),
                    esc(&e.entry.action),
                    esc(&e.entry.actor),
                    esc(e.entry.reason.as_deref().unwrap_or("")),
                    esc(&e.entry.details.to_string()),
                ]
            })
            .collect();
        body.push_str("<h3>Alias decisions</h3>");
        body.push_str(&table(
            &["seq", "at", "action", "actor", "reason", "details"],
            &rows,
        ));
    }
    body.push_str(r#"<h2 id="card">Model card</h2>"#);
    if report.is_some() {
        let _ = write!(
            body,
            r#"<iframe class="card" title="model card" src="/ui/models/{}/versions/{}/card"></iframe>"#,
            url(&name),
            version
        );
    } else {
        body.push_str(&empty(
            "This version has not been evaluated.",
            &format!(
                "Run <code>aidlc evaluate {}/{}</code>: the report and its card appear here.",
                esc(&name),
                version
            ),
        ));
    }
    Ok(Html(page(
        "Models",
        &format!("{name} version {version}"),
        &body,
    )))
}

/// The chain as an inline SVG: one box per link, arrows between; a missing link is dashed.
fn lineage_svg(nodes: &[Node]) -> String {
    const W: i64 = 150;
    const GAP: i64 = 30;
    const H: i64 = 70;
    let width = nodes.len() as i64 * (W + GAP) - GAP + 20;
    let mut svg = format!(
        r#"<svg class="lineage" viewBox="0 0 {width} {}" width="100%" role="img" aria-label="lineage graph">"#,
        H + 20
    );
    for (i, n) in nodes.iter().enumerate() {
        let x = 10 + i as i64 * (W + GAP);
        let class = if n.value.is_some() {
            "node"
        } else {
            "node missing"
        };
        let box_ = format!(
            r#"<g class="{class}" data-stage="{}"><rect x="{x}" y="10" width="{W}" height="{H}" rx="8"/><text x="{}" y="30" class="stage">{}</text><text x="{}" y="50">{}</text><text x="{}" y="66" class="detail">{}</text></g>"#,
            n.stage,
            x + W / 2,
            n.stage,
            x + W / 2,
            esc(&clip(n.value.as_deref().unwrap_or("not recorded"), 20)),
            x + W / 2,
            esc(&clip(&n.detail, 24)),
        );
        match &n.href {
            Some(href) if n.value.is_some() => {
                let _ = write!(svg, r#"<a href="{}">{box_}</a>"#, esc(href));
            }
            _ => svg.push_str(&box_),
        }
        if i + 1 < nodes.len() {
            let x1 = x + W;
            let x2 = x + W + GAP;
            let y = 10 + H / 2;
            let _ = write!(
                svg,
                r#"<path class="edge" d="M{x1} {y} L{} {y} M{} {} L{x2} {y} L{} {}"/>"#,
                x2 - 1,
                x2 - 6,
                y - 5,
                x2 - 6,
                y + 5
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

/// A stored report that cannot be read is the server's data gone wrong, not the request.
fn report_error(e: StoredEvalError) -> UiError {
    match e {
        StoredEvalError::Store(e) => UiError::from(e),
        other => UiError::from(StoreError::Corrupt(other.to_string())),
    }
}

/// The stored model card, the same HTML `aidlc report` writes, for the version page's frame.
pub async fn card(
    State(s): State<AppState>,
    Path((name, version)): Path<(String, i64)>,
) -> UiResult {
    let v = s
        .store()
        .get_registry_version(&name, version)
        .await?
        .ok_or_else(|| not_found(format!("model version {name}/{version} not found")))?;
    let (report, _) = latest_report(s.store(), &v)
        .await
        .map_err(report_error)?
        .ok_or_else(|| not_found(format!("{name}/{version} has no evaluation report")))?;
    // The same card as `aidlc report`: with the version's monitoring history where it served.
    let served = for_model_version(s.store(), &name, version).await?;
    Ok(Html(render_html_with_monitoring(&report, &served)))
}

pub async fn evaluations(State(s): State<AppState>) -> UiResult {
    let mut rows = Vec::new();
    for m in all_models(s.store()).await? {
        for v in all_versions(s.store(), &m.name).await?.iter().rev() {
            let reports = s.store().evaluation_reports(&m.name, v.version).await?;
            let Some(r) = reports.iter().max_by_key(|r| r.created_at_ms) else {
                continue;
            };
            rows.push(vec![
                link(
                    &format!("/ui/models/{}/versions/{}#card", url(&m.name), v.version),
                    &format!("{} v{}", m.name, v.version),
                ),
                if r.data.passed {
                    badge("ok", "gates passed")
                } else {
                    badge("bad", "gates failed")
                },
                reports.len().to_string(),
                esc(&time(r.created_at_ms)),
                esc(&r.created_by),
            ]);
        }
    }
    let body = if rows.is_empty() {
        empty(
            "No evaluation report stored yet.",
            "Run <code>aidlc evaluate MODEL/VERSION</code>.",
        )
    } else {
        table(&["version", "latest report", "reports", "at", "by"], &rows)
    };
    Ok(Html(page("Evaluation", "Evaluation reports", &body)))
}
