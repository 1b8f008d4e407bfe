//! The monitoring page: for every deployment, its drift and performance over time — the
//! monitoring history's charts (per-feature drift heatmap, prediction drift, realized versus
//! estimated performance, alerts marked where they were raised and resolved), drawn on the
//! server as inline SVG by `aidlc-service`, the same charts as the monitoring report — and the
//! endpoint's alerts.

use super::UiResult;
use super::html::{self, empty, esc, link, url};
use crate::AppState;
use aidlc_service::monitor_history::{self, render_monitoring_fragment};
use aidlc_store::{AlertFilter, AlertStore, DeploymentStore, MonitorStore};
use axum::extract::State;
use axum::response::Html;
use std::fmt::Write;

/// The latest windows charted per endpoint; the whole history is in `aidlc monitor report`.
pub const WINDOWS_SHOWN: i64 = 90;
/// The newest alerts listed per endpoint.
const ALERTS_SHOWN: i64 = 20;

/// `/ui/monitoring`: every deployment's monitoring history and alerts.
pub async fn page(State(s): State<AppState>) -> UiResult {
    let store = s.store();
    let mut deployments = store.list_deployments().await?;
    deployments.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    let mut body = String::new();
    if deployments.is_empty() {
        body.push_str(&empty(
            "No deployment to monitor.",
            "Deploy a model with <code>aidlc deploy MODEL@ALIAS --endpoint NAME</code>; its drift and performance over time appear here once the monitor records its windows.",
        ));
    }
    for d in &deployments {
        let endpoint = &d.endpoint;
        let _ = write!(
            body,
            r#"<h2>{}</h2><p class="muted">serves {}@{}</p>"#,
            link(&format!("/ui/deployments/{}", url(endpoint)), endpoint),
            esc(&d.model),
            esc(&d.alias)
        );
        match store.latest_monitor_window(endpoint).await? {
            None => body.push_str(&empty(
                "No monitoring results for this endpoint yet.",
                "The server's monitor records each complete <code>[monitor] window</code> of the prediction log; <code>aidlc monitor run ENDPOINT</code> monitors on demand.",
            )),
            Some((start, end)) => {
                // Only the latest windows: a long-lived endpoint stays a page, not a poster.
                let window_ms = (end - start).max(1);
                let from = end.saturating_sub(WINDOWS_SHOWN.saturating_mul(window_ms));
                let history = monitor_history::load(store, endpoint, Some(from), None).await?;
                body.push_str(&render_monitoring_fragment(&history));
                let _ = write!(
                    body,
                    r#"<p class="muted">The latest {WINDOWS_SHOWN} windows at most; <code>aidlc monitor report {} --out report.html</code> writes the whole history as one page.</p>"#,
                    esc(endpoint)
                );
            }
        }
        let alerts = store
            .list_alerts(&AlertFilter {
                endpoint: Some(endpoint.clone()),
                open_only: false,
                limit: Some(ALERTS_SHOWN),
            })
            .await?;
        body.push_str("<h3>Alerts</h3>");
        if alerts.is_empty() {
            body.push_str(r#"<p class="muted">No alert raised on this endpoint.</p>"#);
        } else {
            body.push_str(&super::audit::alerts_table(&alerts));
        }
    }
    Ok(Html(html::page("Monitoring", "Monitoring", &body)))
}
