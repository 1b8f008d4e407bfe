//! The dashboard's monitoring page against a SQLite store holding monitor points and an alert:
//! the monitoring history's charts per monitored endpoint (a heatmap cell per feature and
//! window, the alert marked), the alerts table, the empty state of an endpoint never
//! monitored, and everything from the store escaped.

use aidlc_core::alerts::{
    AlertEvent, AlertEventKind, AlertKey, AlertState, AlertStatus, AlertWrite,
};
use aidlc_core::records::Deployment;
use aidlc_core::spec::{AlertCondition, AlertSeverity};
use aidlc_server::{AppState, ServerConfig, app};
use aidlc_store::{
    AlertStore, AliasPolicy, AuditContext, DeploymentStore, MonitorPoint, MonitorStore, Store,
};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use std::sync::Arc;
use tower::ServiceExt;

const DAY: i64 = 86_400_000;
const NOW: i64 = 1_750_000_000_000;

fn ctx() -> AuditContext {
    AuditContext {
        actor: "tester".into(),
        at_ms: NOW,
        reason: None,
    }
}

fn deployment(endpoint: &str) -> Deployment {
    Deployment {
        endpoint: endpoint.into(),
        model: "rainfall".into(),
        alias: "champion".into(),
        state: json!({}),
        updated_by: "tester".into(),
        updated_at_ms: NOW,
    }
}

/// Window `i` of 30 days, aligned to whole days.
fn window(i: i64) -> (i64, i64) {
    let start = 12_000 * DAY + i * 30 * DAY;
    (start, start + 30 * DAY)
}

fn drift(endpoint: &str, i: i64, feature: &str, p: f64) -> MonitorPoint {
    let (s, e) = window(i);
    MonitorPoint {
        endpoint: endpoint.into(),
        window_start_ms: s,
        window_end_ms: e,
        signal: format!("drift.feature.{feature}"),
        feature: Some(feature.into()),
        value: p,
        extra: json!({"method": "ks", "p_value": p, "threshold": 0.05, "drifted": p < 0.05}),
    }
}

fn realized(endpoint: &str, i: i64, auc: f64) -> MonitorPoint {
    let (s, e) = window(i);
    MonitorPoint {
        endpoint: endpoint.into(),
        window_start_ms: s,
        window_end_ms: e,
        signal: "performance.roc_auc".into(),
        feature: None,
        value: auc,
        extra: json!({"labelled": 30, "evaluated": 0.86}),
    }
}

#[tokio::test]
async fn the_monitoring_page_charts_each_monitored_endpoint_with_its_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("aidlc.db").display().to_string())
        .await
        .unwrap();
    let endpoint = "rain<&>";
    store
        .upsert_deployments(&ctx(), vec![deployment(endpoint), deployment("idle")])
        .await
        .unwrap();
    let mut points = Vec::new();
    for i in 0..4 {
        points.push(drift(
            endpoint,
            i,
            "humidity",
            if i >= 2 { 0.001 } else { 0.5 },
        ));
        points.push(drift(endpoint, i, "<wind>", 0.4));
        points.push(realized(endpoint, i, if i >= 2 { 0.55 } else { 0.85 }));
    }
    store.record_monitor_points(&ctx(), points).await.unwrap();
    let (start, end) = window(2);
    let evidence = json!({"evaluated": 0.86});
    store
        .record_alerts(
            &ctx(),
            vec![AlertWrite {
                id: None,
                state: AlertState {
                    key: AlertKey {
                        rule: "performance_decay".into(),
                        endpoint: endpoint.into(),
                        signal: "decay.roc_auc".into(),
                    },
                    severity: AlertSeverity::Critical,
                    condition: AlertCondition::parse("> 0.05").unwrap(),
                    status: AlertStatus::Open,
                    value: 0.31,
                    evidence: evidence.clone(),
                    window_start_ms: start,
                    window_end_ms: end,
                    opened_ms: end,
                    last_seen_ms: end,
                    resolved_ms: None,
                    observations: 1,
                },
                events: vec![AlertEvent {
                    kind: AlertEventKind::Opened,
                    at_ms: end,
                    value: 0.31,
                    window_start_ms: start,
                    window_end_ms: end,
                    evidence,
                    note: None,
                }],
            }],
        )
        .await
        .unwrap();

    let router = app(AppState::new(ServerConfig {
        store: store.clone(),
        mlflow_artifacts: dir.path().join("mlflow"),
        alias_policy: AliasPolicy::default(),
        actor: "tester".into(),
        clock: Arc::new(|| NOW),
        artifacts: dir.path().join("artifacts"),
        default_endpoint: None,
        prediction_log: None,
        shadow_queue: 64,
        role: aidlc_server::Role::All,
        monitor: None,
        spec: None,
    }));
    let resp = router
        .oneshot(Request::get("/ui/monitoring").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let html = String::from_utf8(bytes.to_vec()).unwrap();

    // The monitored endpoint: two features × four windows, the performance chart, the alert
    // on every chart and in the table.
    assert_eq!(html.matches(r#"class="mh-cell""#).count(), 8, "{html}");
    assert!(html.contains(r#"data-features="2" data-windows="4""#));
    assert!(html.contains("Performance: roc_auc"));
    assert_eq!(
        html.matches(r#"class="mh-alert""#).count(),
        2,
        "heatmap and performance"
    );
    assert!(html.contains("performance_decay"));
    assert!(html.contains("decay.roc_auc"));
    // The endpoint never monitored keeps the empty state, once.
    assert_eq!(
        html.matches("No monitoring results for this endpoint yet.")
            .count(),
        1
    );
    assert!(html.contains("No alert raised on this endpoint."));
    // Escaped: the endpoint and the feature named with markup.
    assert!(html.contains("rain&lt;&amp;&gt;"));
    assert!(html.contains("&lt;wind&gt;"));
    assert!(!html.contains("<wind>") && !html.contains("rain<&>"));
}
