//! The alerts page and the audit trail, with the result of verifying the audit hash chain
//! (what `aidlc audit verify` reports).

use super::html::{badge, empty, esc, num, page, short, table, time};
use super::{UiResult, query_one, query_pairs};
use crate::AppState;
use aidlc_core::alerts::{Alert, AlertStatus};
use aidlc_store::{AlertFilter, AlertStore, AuditEntry, AuditFilter, AuditStore};
use axum::extract::{RawQuery, State};
use axum::response::Html;
use std::fmt::Write;

/// Audit entries shown on one page, newest first.
const AUDIT_PAGE: i64 = 200;

pub fn alerts_table(alerts: &[Alert]) -> String {
    let rows: Vec<Vec<String>> = alerts
        .iter()
        .map(|a| {
            let st = &a.state;
            vec![
                match st.status {
                    AlertStatus::Open => badge("bad", "open"),
                    AlertStatus::Resolved => badge("ok", "resolved"),
                },
                esc(st.severity.as_str()),
                esc(&st.key.rule),
                esc(&st.key.endpoint),
                esc(&st.key.signal),
                format!("{} ({})", num(st.value), esc(&st.condition.to_string())),
                esc(&time(st.opened_ms)),
                esc(&time(st.last_seen_ms)),
                st.resolved_ms.map_or_else(String::new, |r| esc(&time(r))),
                st.observations.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "status",
            "severity",
            "rule",
            "endpoint",
            "signal",
            "value (condition)",
            "opened",
            "last seen",
            "resolved",
            "observations",
        ],
        &rows,
    )
}

pub async fn alerts(State(s): State<AppState>) -> UiResult {
    let all = s
        .store()
        .list_alerts(&AlertFilter {
            endpoint: None,
            open_only: false,
            limit: Some(500),
        })
        .await?;
    let open = all
        .iter()
        .filter(|a| a.state.status == AlertStatus::Open)
        .count();
    let mut body = format!(
        r#"<p><strong id="open-count">{open}</strong> open of {} shown.</p>"#,
        all.len()
    );
    if all.is_empty() {
        body.push_str(&empty(
            "No alert raised.",
            "Alerts open when a <code>[monitor.alerts]</code> rule's condition holds on a monitoring window.",
        ));
    } else {
        body.push_str(&alerts_table(&all));
    }
    Ok(Html(page("Alerts", "Alerts", &body)))
}

pub fn entries_table(entries: &[AuditEntry]) -> String {
    if entries.is_empty() {
        return empty(
            "No audit entry.",
            "Every change to the store is recorded here.",
        );
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .rev()
        .map(|e| {
            let details = e.entry.details.to_string();
            vec![
                e.seq.to_string(),
                esc(&time(e.entry.at_ms)),
                esc(&e.entry.actor),
                format!(
                    r#"<span class="action-name">{}</span>"#,
                    esc(&e.entry.action)
                ),
                format!(
                    r#"<a href="/ui/audit?object={}:{}">{}:{}</a>"#,
                    super::html::url(&e.entry.object_kind),
                    super::html::url(&e.entry.object_id),
                    esc(&e.entry.object_kind),
                    esc(&e.entry.object_id)
                ),
                esc(e.entry.reason.as_deref().unwrap_or("")),
                format!(
                    r#"<details><summary>{}</summary><pre>{}</pre></details>"#,
                    esc(&details.chars().take(60).collect::<String>()),
                    esc(&serde_json::to_string_pretty(&e.entry.details).unwrap_or(details))
                ),
                short(&e.hash),
            ]
        })
        .collect();
    table(
        &[
            "seq", "at", "actor", "action", "object", "reason", "details", "hash",
        ],
        &rows,
    )
}

/// `/ui/audit?object=KIND:ID`: the newest entries, of one object when asked, and the chain's
/// verification.
pub async fn log(State(s): State<AppState>, RawQuery(q): RawQuery) -> UiResult {
    let pairs = query_pairs(q.as_deref());
    let object = query_one(&pairs, "object");
    let (kind, id) = match object.as_deref().and_then(|o| o.split_once(':')) {
        Some((k, i)) => (Some(k.to_string()), Some(i.to_string())),
        None => (None, None),
    };
    let verification = s.store().verify_audit().await?;
    let entries = s
        .store()
        .list_audit(&AuditFilter {
            object_kind: kind,
            object_id: id,
            limit: Some(AUDIT_PAGE),
        })
        .await?;
    let mut body = String::new();
    if verification.ok {
        let _ = write!(
            body,
            r#"<p class="verify ok" id="audit-verify" data-ok="true">Audit chain verified: all {} entries link and hash correctly.</p>"#,
            verification.entries
        );
    } else {
        let _ = write!(
            body,
            r#"<p class="verify bad" id="audit-verify" data-ok="false">Audit chain broken: {}</p>"#,
            esc(&verification
                .first_break
                .as_ref()
                .map_or_else(|| "unknown break".to_string(), |b| b.to_string()))
        );
    }
    let _ = write!(
        body,
        r#"<form method="get" class="filter"><label>Object <input name="object" value="{}" placeholder="deployment:rain"></label> <button type="submit">Filter</button> <a href="/ui/audit">all</a></form>"#,
        esc(object.as_deref().unwrap_or(""))
    );
    let _ = write!(
        body,
        r#"<p class="muted">The newest {} entries, newest first.</p>"#,
        entries.len()
    );
    body.push_str(&entries_table(&entries));
    Ok(Html(page("Audit", "Audit trail", &body)))
}
