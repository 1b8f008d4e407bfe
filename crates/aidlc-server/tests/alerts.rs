//! Alert delivery over real HTTP to a local receiver (an axum server on port 0 that records
//! what it is sent, and fails where told to), through the whole `alerts::process` path with a
//! SQLite store; and the alert list of the native API.

use aidlc_api::native::{AlertList, AlertNotificationBody};
use aidlc_core::alerts::{AlertEventKind, Signal};
use aidlc_core::spec::ProblemSpec;
use aidlc_server::alerts::HttpNotifier;
use aidlc_server::{AppState, ServerConfig, app};
use aidlc_service::alerts::{RetryPolicy, process};
use aidlc_store::{AlertStore, AliasPolicy, AuditContext, Store};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{Request, StatusCode};
use axum::routing::post;
use http_body_util::BodyExt;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;

/// What the receiver was sent, per path, and how many requests each path has answered.
#[derive(Default)]
struct Received {
    bodies: BTreeMap<String, Vec<Value>>,
    calls: BTreeMap<String, u32>,
}

type Shared = Arc<Mutex<Received>>;

/// `/flaky` fails twice then succeeds, `/down` always fails, every other path succeeds.
async fn receive(
    State(shared): State<Shared>,
    Path(path): Path<String>,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let mut r = shared.lock().unwrap();
    let calls = r.calls.entry(path.clone()).or_default();
    *calls += 1;
    let calls = *calls;
    match path.as_str() {
        "flaky" if calls <= 2 => return (StatusCode::SERVICE_UNAVAILABLE, "try later"),
        "down" => return (StatusCode::INTERNAL_SERVER_ERROR, "receiver broken"),
        _ => {}
    }
    let value = serde_json::from_slice(&body).expect("a JSON body");
    r.bodies.entry(path).or_default().push(value);
    (StatusCode::OK, "ok")
}

async fn receiver() -> (u16, Shared) {
    let shared = Shared::default();
    let router = axum::Router::new()
        .route("/{path}", post(receive))
        .with_state(Arc::clone(&shared));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (port, shared)
}

/// A port nothing listens on.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

fn signal(name: &str, value: f64, end_ms: i64) -> Signal {
    Signal {
        endpoint: "rain".into(),
        name: name.into(),
        value,
        window_start_ms: end_ms - 86_400_000,
        window_end_ms: end_ms,
        evidence: serde_json::json!({ "method": "psi", "score": value }),
    }
}

fn ctx() -> AuditContext {
    AuditContext {
        actor: "monitor".into(),
        at_ms: 1_750_000_000_000,
        reason: None,
    }
}

#[tokio::test]
async fn alerts_reach_a_local_receiver_with_retries_and_recorded_failures() {
    let (port, received) = receiver().await;
    let closed = closed_port().await;
    let spec = format!(
        r#"
[monitor.alerts.drifting]
signal = "drift.share"
when = "> 0.3"
severity = "critical"

[monitor.alerts.feature]
signal = "drift.feature.*"
when = "> 0.5"
severity = "info"

[monitor.channels.hook]
kind = "webhook"
url = "http://127.0.0.1:{port}/hook"

[monitor.channels.team]
kind = "slack"
url = "http://127.0.0.1:{port}/slack"
min_severity = "warning"

[monitor.channels.flaky]
kind = "webhook"
url = "http://127.0.0.1:{port}/flaky"
min_severity = "critical"

[monitor.channels.down]
kind = "webhook"
url = "http://127.0.0.1:{port}/down"
min_severity = "critical"

[monitor.channels.nobody]
kind = "webhook"
url = "http://127.0.0.1:{closed}/hook"
min_severity = "critical"
"#
    );
    let monitor = ProblemSpec::parse(&spec, "aidlc.toml").unwrap().monitor;
    assert_eq!(monitor.channel_list().len(), 5);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("aidlc.db").display().to_string())
        .await
        .unwrap();
    let notifier = HttpNotifier::new(Arc::new(|| 1_750_000_000_123))
        .with_timeout(Duration::from_secs(5))
        .with_retry_policy(RetryPolicy {
            attempts: 3,
            first_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(40),
        });

    let report = process(
        &store,
        &monitor,
        &[
            signal("drift.share", 0.52, 1_700_000_000_000),
            signal("drift.feature.age", 0.9, 1_700_000_000_000),
        ],
        &notifier,
        &ctx(),
    )
    .await
    .expect("failing channels do not fail the batch");
    assert_eq!(report.alerts.len(), 2);
    let share = report
        .alerts
        .iter()
        .find(|a| a.state.key.signal == "drift.share")
        .unwrap()
        .clone();

    {
        let r = received.lock().unwrap();
        // The generic webhook: both openings, in the documented shape.
        let hook = &r.bodies["hook"];
        assert_eq!(hook.len(), 2);
        let bodies: Vec<AlertNotificationBody> = hook
            .iter()
            .map(|v| serde_json::from_value(v.clone()).unwrap())
            .collect();
        let body = bodies
            .iter()
            .find(|b| b.alert.signal == "drift.share")
            .unwrap();
        assert_eq!(body.schema, "aidlc.alert.v1");
        assert_eq!(body.event, "opened");
        assert_eq!(body.alert.id, share.id.0);
        assert_eq!(body.alert.rule, "drifting");
        assert_eq!(body.alert.severity, "critical");
        assert_eq!(body.alert.condition, "> 0.3");
        assert_eq!(body.alert.status, "open");
        assert_eq!(body.value, 0.52);
        assert_eq!(body.evidence["method"], "psi");
        assert_eq!(body.at_ms, 1_700_000_000_000);
        assert_eq!(
            body.summary,
            "[critical] drifting opened on rain: drift.share = 0.52 (> 0.3)"
        );
        // Slack: only the critical alert (min_severity = warning), as text plus blocks.
        let slack = &r.bodies["slack"];
        assert_eq!(slack.len(), 1);
        assert_eq!(slack[0]["text"], body.summary);
        let blocks = slack[0]["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(blocks[0]["text"]["text"], "Alert (critical): drifting");
        assert_eq!(blocks[1]["fields"].as_array().unwrap().len(), 4);
        assert!(
            blocks[2]["elements"][0]["text"]
                .as_str()
                .unwrap()
                .contains(&share.id.0)
        );
        // Retries: the flaky receiver answered three times and kept the third.
        assert_eq!(r.calls["flaky"], 3);
        assert_eq!(r.bodies["flaky"].len(), 1);
        assert_eq!(r.calls["down"], 3);
    }

    let attempts = store.alert_deliveries(&share.id).await.unwrap();
    let by_channel = |channel: &str| -> Vec<(i64, bool, Option<i64>)> {
        attempts
            .iter()
            .filter(|d| d.channel == channel)
            .map(|d| (d.attempt, d.delivered, d.http_status))
            .collect()
    };
    assert_eq!(by_channel("hook"), vec![(1, true, None)]);
    assert_eq!(by_channel("team"), vec![(1, true, None)]);
    assert_eq!(
        by_channel("flaky"),
        vec![
            (1, false, Some(503)),
            (2, false, Some(503)),
            (3, true, None)
        ]
    );
    assert_eq!(
        by_channel("down"),
        vec![
            (1, false, Some(500)),
            (2, false, Some(500)),
            (3, false, Some(500))
        ]
    );
    assert_eq!(by_channel("nobody").len(), 3);
    let down = attempts.iter().find(|d| d.channel == "down").unwrap();
    assert!(
        down.error.as_deref().unwrap().contains("receiver broken"),
        "{down:?}"
    );
    let nobody = attempts.iter().find(|d| d.channel == "nobody").unwrap();
    assert!(
        nobody.error.as_deref().unwrap().contains("cannot connect"),
        "{nobody:?}"
    );
    assert!(attempts.iter().all(|d| d.at_ms == 1_750_000_000_123));
    let outcome = |channel: &str| {
        report
            .deliveries
            .iter()
            .find(|d| d.channel == channel && d.alert_id == share.id.0)
            .unwrap()
    };
    assert!(outcome("flaky").delivered);
    assert!(!outcome("down").delivered && outcome("down").attempts == 3);

    // The condition clears: the resolution reaches the webhook too.
    let report = process(
        &store,
        &monitor,
        &[signal("drift.share", 0.1, 1_700_086_400_000)],
        &notifier,
        &ctx(),
    )
    .await
    .unwrap();
    assert_eq!(report.notifications.len(), 1);
    assert_eq!(report.notifications[0].event.kind, AlertEventKind::Resolved);
    let resolved: AlertNotificationBody = {
        let r = received.lock().unwrap();
        serde_json::from_value(r.bodies["hook"].last().unwrap().clone()).unwrap()
    };
    assert_eq!(resolved.event, "resolved");
    assert_eq!(resolved.alert.status, "resolved");
    assert_eq!(resolved.alert.resolved_ms, Some(1_700_086_400_000));
    assert_eq!(resolved.value, 0.1);

    // The native API lists them.
    let router = app(AppState::new(ServerConfig {
        store: store.clone(),
        mlflow_artifacts: dir.path().join("mlflow"),
        alias_policy: AliasPolicy::default(),
        actor: "tester".into(),
        clock: Arc::new(|| 1_750_000_000_000),
        artifacts: dir.path().join("artifacts"),
        default_endpoint: None,
        prediction_log: None,
        shadow_queue: 64,
        role: aidlc_server::Role::All,
        monitor: None,
        spec: None,
    }));
    let get = |uri: &str| {
        let router = router.clone();
        let uri = uri.to_string();
        async move {
            let resp = router
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let status = resp.status();
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }
    };
    let (status, all) = get("/api/v1/alerts").await;
    assert_eq!(status, StatusCode::OK);
    let all: AlertList = serde_json::from_value(all).unwrap();
    assert_eq!(all.alerts.len(), 2);
    let (_, open) = get("/api/v1/alerts?open=true&endpoint=rain").await;
    let open: AlertList = serde_json::from_value(open).unwrap();
    assert_eq!(open.alerts.len(), 1);
    assert_eq!(open.alerts[0].signal, "drift.feature.age");
    let (_, none) = get("/api/v1/alerts?endpoint=loans").await;
    assert_eq!(none["alerts"].as_array().unwrap().len(), 0);
    let (status, err) = get("/api/v1/alerts?open=maybe").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["message"].as_str().unwrap().contains("`open`"));
}
