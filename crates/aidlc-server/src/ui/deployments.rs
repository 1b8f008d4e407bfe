//! The deployment pages: each endpoint's production version, traffic split and rollout (its
//! steps, every analysis with its checks, shadow disagreement and latency), the approve,
//! reject and roll-back decisions and the endpoint's audit trail.

use super::html::{Chart, Series, badge, empty, esc, link, num, opt_num, page, table, time, url};
use super::{UiError, UiResult, not_found};
use crate::AppState;
use aidlc_core::records::Deployment;
use aidlc_core::rollout::{Rollout, RolloutStatus, Verdict};
use aidlc_service::rollout::rollout_of;
use aidlc_store::{AuditFilter, AuditStore, DeploymentStore, RegistryStore};
use axum::extract::{Path, State};
use axum::response::Html;
use std::fmt::Write;

/// A deployment with what the pages show about it.
pub struct DeploymentView {
    pub deployment: Deployment,
    /// The latest rollout, finished or not.
    pub rollout: Option<Rollout>,
    /// The version the alias points at: what production serves.
    pub production_version: Option<i64>,
}

impl DeploymentView {
    pub async fn all(s: &AppState) -> Result<Vec<DeploymentView>, UiError> {
        let mut out = Vec::new();
        for d in s.store().list_deployments().await? {
            out.push(Self::of(s, d).await?);
        }
        Ok(out)
    }

    async fn of(s: &AppState, d: Deployment) -> Result<DeploymentView, UiError> {
        let rollout = rollout_of(&d)?;
        let production_version = s
            .store()
            .resolve_alias(&d.model, &d.alias)
            .await?
            .map(|v| v.version);
        Ok(DeploymentView {
            deployment: d,
            rollout,
            production_version,
        })
    }

    /// Candidate traffic share (0–100) and whether it also gets shadow copies.
    fn split(&self) -> (f64, bool) {
        self.rollout.as_ref().map_or((0.0, false), |r| {
            let t = r.traffic();
            (t.canary_percent, t.shadow)
        })
    }

    /// One line: the endpoint, production version and rollout state.
    pub fn summary(&self) -> String {
        let d = &self.deployment;
        let mut s = format!(
            "{} serves {}",
            link(
                &format!("/ui/deployments/{}", url(&d.endpoint)),
                &d.endpoint
            ),
            self.production_version
                .map_or_else(|| "nothing (alias unset)".to_string(), |v| format!("v{v}"))
        );
        if let Some(r) = &self.rollout {
            let _ = write!(s, " · {}", rollout_badge(r));
            if r.is_active() {
                let (canary, shadow) = self.split();
                let _ = write!(
                    s,
                    " v{} at step {}/{} ({}{}% canary)",
                    r.candidate,
                    r.step + 1,
                    r.policy.steps.len(),
                    if shadow { "shadow, " } else { "" },
                    num(canary)
                );
            }
        }
        s
    }
}

fn rollout_badge(r: &Rollout) -> String {
    let kind = match r.status {
        RolloutStatus::Running => "warn",
        RolloutStatus::AwaitingApproval => "warn",
        RolloutStatus::Promoted => "ok",
        RolloutStatus::RolledBack => "bad",
    };
    badge(kind, r.status.as_str())
}

pub async fn list(State(s): State<AppState>) -> UiResult {
    let views = DeploymentView::all(&s).await?;
    let body = if views.is_empty() {
        empty(
            "Nothing deployed yet.",
            "Serve a model with <code>aidlc deploy ENDPOINT --model NAME</code>.",
        )
    } else {
        let rows: Vec<Vec<String>> = views
            .iter()
            .map(|v| {
                let d = &v.deployment;
                let (canary, shadow) = v.split();
                vec![
                    link(
                        &format!("/ui/deployments/{}", url(&d.endpoint)),
                        &d.endpoint,
                    ),
                    format!(
                        "{}@{}",
                        link(&format!("/ui/models/{}", url(&d.model)), &d.model),
                        esc(&d.alias)
                    ),
                    v.production_version
                        .map_or_else(|| "–".into(), |p| format!("v{p}")),
                    v.rollout.as_ref().map_or_else(
                        || "–".into(),
                        |r| format!("v{} {}", r.candidate, rollout_badge(r)),
                    ),
                    traffic_bar(100.0 - canary, canary, shadow),
                    esc(&time(d.updated_at_ms)),
                ]
            })
            .collect();
        table(
            &[
                "endpoint",
                "model@alias",
                "production",
                "latest rollout",
                "traffic",
                "updated",
            ],
            &rows,
        )
    };
    Ok(Html(page("Deployments", "Deployments", &body)))
}

/// The traffic split as a two-part bar.
fn traffic_bar(production: f64, candidate: f64, shadow: bool) -> String {
    format!(
        r#"<div class="split" title="production {p}%, candidate {c}%"><span class="prod" style="width:{p}%">{pl}</span><span class="cand" style="width:{c}%">{cl}</span></div>{s}"#,
        p = num(production),
        c = num(candidate),
        pl = if production > 0.0 {
            format!("prod {}%", num(production))
        } else {
            String::new()
        },
        cl = if candidate > 0.0 {
            format!("cand {}%", num(candidate))
        } else {
            String::new()
        },
        s = if shadow {
            r#"<span class="muted">+ shadow copy of every request to the candidate</span>"#
        } else {
            ""
        }
    )
}

pub async fn show(State(s): State<AppState>, Path(endpoint): Path<String>) -> UiResult {
    let d = s
        .store()
        .get_deployment(&endpoint)
        .await?
        .ok_or_else(|| not_found(format!("no deployment at endpoint `{endpoint}`")))?;
    let view = DeploymentView::of(&s, d).await?;
    let d = &view.deployment;
    let mut body = String::new();
    let _ = write!(
        body,
        r#"<p>Model {} through alias <span class="alias">{}</span>: production serves <strong id="production-version">{}</strong>. Updated {} by {}.</p>"#,
        link(&format!("/ui/models/{}", url(&d.model)), &d.model),
        esc(&d.alias),
        view.production_version
            .map_or_else(|| "nothing (alias unset)".into(), |v| format!("v{v}")),
        esc(&time(d.updated_at_ms)),
        esc(&d.updated_by)
    );
    let (canary, shadow) = view.split();
    body.push_str("<h2>Traffic</h2>");
    body.push_str(&traffic_bar(100.0 - canary, canary, shadow));

    body.push_str("<h2>Rollout</h2>");
    match &view.rollout {
        None => body.push_str(&empty(
            "No rollout on this endpoint yet.",
            "Start one with <code>aidlc deploy ENDPOINT --version V --strategy canary|shadow</code>.",
        )),
        Some(r) => rollout_section(&mut body, &endpoint, r),
    }

    let trail = s
        .store()
        .list_audit(&AuditFilter {
            object_kind: Some("deployment".into()),
            object_id: Some(endpoint.clone()),
            limit: Some(50),
        })
        .await?;
    body.push_str("<h2>Audit trail</h2>");
    body.push_str(&super::audit::entries_table(&trail));
    Ok(Html(page(
        "Deployments",
        &format!("Deployment {endpoint}"),
        &body,
    )))
}

fn rollout_section(body: &mut String, endpoint: &str, r: &Rollout) {
    let _ = write!(
        body,
        r#"<p id="rollout" data-status="{}">Version <strong>v{}</strong> replacing {} ({} strategy): {} — started {}{}.</p>"#,
        r.status.as_str(),
        r.candidate,
        r.production
            .map_or_else(|| "nothing".to_string(), |p| format!("v{p}")),
        r.strategy.as_str(),
        rollout_badge(r),
        esc(&time(r.started_at_ms)),
        r.finished_at_ms
            .map_or_else(String::new, |f| format!(", finished {}", esc(&time(f))))
    );
    if let Some(reason) = &r.reason {
        let _ = write!(body, "<p>Reason: {}</p>", esc(reason));
    }
    // The steps, the current one marked.
    body.push_str(r#"<ol class="steps">"#);
    for (i, step) in r.policy.steps.iter().enumerate() {
        let class = if i < r.step || (i == r.step && r.status == RolloutStatus::Promoted) {
            "done"
        } else if i == r.step && r.is_active() {
            "current"
        } else {
            "todo"
        };
        let _ = write!(
            body,
            r#"<li class="{class}">{}</li>"#,
            esc(&step.to_string())
        );
    }
    if r.policy.approval_required {
        let class = match r.status {
            RolloutStatus::AwaitingApproval => "current",
            RolloutStatus::Promoted => "done",
            _ => "todo",
        };
        let _ = write!(body, r#"<li class="{class}">approval</li>"#);
    }
    body.push_str("</ol>");
    let l = &r.policy.limits;
    let _ = write!(
        body,
        r#"<p class="muted">Each step runs {} and needs {} requests; {} failed analyses roll back. Limits: error rate ≤ {}, p99 ≤ {} ms, disagreement ≤ {}, prediction drift ≤ {}, metric drop ≤ {}.</p>"#,
        super::html::duration(r.policy.interval_ms),
        r.policy.min_requests,
        r.policy.failures_to_rollback,
        num(l.max_error_rate),
        opt_num(l.max_p99_latency_ms),
        num(l.max_disagreement),
        num(l.max_prediction_drift),
        num(l.max_metric_drop)
    );

    // The decisions a person makes.
    let api = format!("/api/v1/deployments/{}", url(endpoint));
    if r.status == RolloutStatus::AwaitingApproval {
        body.push_str(&action_form(
            "approve",
            &format!("{api}/approve"),
            &format!("Approve promotion of v{}", r.candidate),
        ));
        body.push_str(&action_form(
            "reject",
            &format!("{api}/reject"),
            &format!("Reject v{} (production keeps serving)", r.candidate),
        ));
    }
    if r.is_active() {
        body.push_str(&action_form(
            "rollback",
            &format!("{api}/rollback"),
            "Roll back (all traffic to production)",
        ));
    } else if let (RolloutStatus::Promoted, Some(previous)) = (r.status, r.production) {
        body.push_str(&action_form(
            "rollback",
            &format!("{api}/rollback"),
            &format!("Roll back to v{previous}"),
        ));
    }

    body.push_str("<h3>Analyses</h3>");
    if r.analyses.is_empty() {
        body.push_str(&empty(
            "No step analysed yet.",
            "The controller analyses the current step once its interval has passed.",
        ));
        return;
    }
    let index = |i: usize| (i + 1) as f64;
    let series = |name: &str, f: &dyn Fn(&aidlc_core::rollout::Analysis) -> Option<f64>| Series {
        name: name.to_string(),
        points: r
            .analyses
            .iter()
            .enumerate()
            .filter_map(|(i, a)| f(a).map(|y| (index(i), y)))
            .collect(),
    };
    body.push_str(r#"<div class="charts">"#);
    body.push_str(
        &Chart::Lines {
            title: "Disagreement with production".into(),
            x_label: "analysis".into(),
            series: vec![
                series("disagreement", &|a| a.measurements.disagreement),
                series("prediction drift (PSI)", &|a| {
                    a.measurements.prediction_drift
                }),
            ],
        }
        .render(),
    );
    body.push_str(
        &Chart::Lines {
            title: "p99 latency (ms)".into(),
            x_label: "analysis".into(),
            series: vec![
                series("candidate", &|a| a.measurements.candidate_p99_ms),
                series("production", &|a| a.measurements.production_p99_ms),
            ],
        }
        .render(),
    );
    body.push_str("</div>");
    let rows: Vec<Vec<String>> = r
        .analyses
        .iter()
        .enumerate()
        .rev()
        .map(|(i, a)| {
            let m = &a.measurements;
            let verdict = match a.verdict {
                Verdict::Pass => badge("ok", "pass"),
                Verdict::Fail => badge("bad", "fail"),
                Verdict::Inconclusive => badge("", "inconclusive"),
            };
            let checks = a
                .checks
                .iter()
                .map(|c| {
                    format!(
                        r#"<span class="{}">{} {} / {}</span>"#,
                        if c.passed { "pass" } else { "fail" },
                        esc(&c.name),
                        num(c.value),
                        num(c.limit)
                    )
                })
                .collect::<Vec<_>>()
                .join("<br>");
            vec![
                (i + 1).to_string(),
                esc(&a.step_label),
                esc(&time(a.to_ms)),
                verdict,
                format!(
                    "{} ({} err) / {} ({} err)",
                    m.candidate_requests,
                    m.candidate_errors,
                    m.production_requests,
                    m.production_errors
                ),
                format!("{} on {} compared", opt_num(m.disagreement), m.compared),
                format!(
                    "{} / {}",
                    opt_num(m.candidate_p99_ms),
                    opt_num(m.production_p99_ms)
                ),
                m.metric.as_ref().map_or_else(
                    || "–".into(),
                    |mc| {
                        format!(
                            "{}: {} vs {}",
                            esc(&mc.metric),
                            num(mc.candidate),
                            num(mc.production)
                        )
                    },
                ),
                checks,
            ]
        })
        .collect();
    body.push_str(&table(
        &[
            "#",
            "step",
            "window end",
            "verdict",
            "requests cand / prod",
            "disagreement",
            "p99 ms cand / prod",
            "metric",
            "checks",
        ],
        &rows,
    ));
}

/// A decision button: the script asks for the reason in the form and posts it to `api`.
fn action_form(action: &str, api: &str, label: &str) -> String {
    super::html::action_form(action, api, label, "")
}
