//! The HTTP surface driven in-process through `app()` (no socket): MLflow's wire conventions,
//! its error shape and codes, governed aliases through both APIs, and the decisions the
//! dashboard posts (promote, approve and reject a retraining run, reject a rollout).

use aidlc_server::{AppState, ServerConfig, app};
use aidlc_store::{
    AliasPolicy, AuditContext, AuditFilter, AuditStore, DeploymentStore, NewEvaluationReport,
    PipelineStore, RegistryStore, Store,
};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

struct Server {
    router: axum::Router,
    store: Store,
    _dir: tempfile::TempDir,
}

async fn server() -> Server {
    server_with_role(aidlc_server::Role::All).await
}

async fn server_with_role(role: aidlc_server::Role) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("aidlc.db").display().to_string())
        .await
        .unwrap();
    let config = ServerConfig {
        store: store.clone(),
        mlflow_artifacts: dir.path().join("mlflow"),
        alias_policy: AliasPolicy::default(),
        actor: "tester".into(),
        clock: Arc::new(|| 1_750_000_000_000),
        artifacts: dir.path().join("artifacts"),
        default_endpoint: None,
        prediction_log: None,
        shadow_queue: 64,
        role,
        monitor: None,
        spec: None,
    };
    Server {
        router: app(AppState::new(config)),
        store,
        _dir: dir,
    }
}

impl Server {
    async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json");
        let req = match body {
            Some(b) => req.body(Body::from(b.to_string())).unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let value = if bytes.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        (status, value)
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, &format!("/api/2.0/mlflow/{path}"), Some(body))
            .await
    }

    async fn get(&self, path_and_query: &str) -> (StatusCode, Value) {
        self.call(
            Method::GET,
            &format!("/api/2.0/mlflow/{path_and_query}"),
            None,
        )
        .await
    }
}

fn is_error(v: &Value, code: &str) -> bool {
    v["error_code"] == code
        && v["message"].as_str().is_some_and(|m| !m.is_empty())
        && v.as_object().unwrap().len() == 2
}

#[tokio::test]
async fn runs_round_trip_with_mlflow_conventions() {
    let s = server().await;
    let (st, run) = s
        .post(
            "runs/create",
            json!({"experiment_id": "0", "start_time": 5, "tags": [{"key": "a", "value": "b"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{run}");
    let id = run["run"]["info"]["run_id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    assert_eq!(run["run"]["info"]["run_uuid"], id.as_str());
    // Both id spellings are accepted; NaN travels as a string.
    let (st, _) = s
        .post(
            "runs/log-metric",
            json!({"run_uuid": id, "key": "m", "value": "NaN", "timestamp": 1, "step": 3}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s
        .post("runs/log-batch", json!({"run_id": id, "metrics": [{"key": "m", "value": 2.5, "timestamp": 2, "step": 4}], "params": [{"key": "p", "value": "1"}]}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, got) = s.get(&format!("runs/get?run_id={id}")).await;
    assert_eq!(got["run"]["data"]["metrics"][0]["value"], 2.5);
    let (_, hist) = s
        .get(&format!(
            "metrics/get-history?run_id={id}&metric_key=m&max_results=25000"
        ))
        .await;
    assert_eq!(hist["metrics"][0]["value"], "NaN");
    assert_eq!(hist["metrics"].as_array().unwrap().len(), 2);

    // Client mistakes are 400s with MLflow's shape, never 5xx.
    let (st, e) = s
        .post(
            "runs/log-parameter",
            json!({"run_id": id, "key": "p", "value": "2"}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(is_error(&e, "INVALID_PARAMETER_VALUE"), "{e}");
    let (st, e) = s.post("experiments/create", json!({"name": 5})).await;
    assert!(
        st == StatusCode::BAD_REQUEST && is_error(&e, "INVALID_PARAMETER_VALUE"),
        "{e}"
    );
    let (st, e) = s
        .post(
            "runs/search",
            json!({"experiment_ids": ["0"], "filter": "metrics.m > "}),
        )
        .await;
    assert!(
        st == StatusCode::BAD_REQUEST && is_error(&e, "INVALID_PARAMETER_VALUE"),
        "{e}"
    );
    let (st, e) = s
        .post(
            "runs/search",
            json!({"experiment_ids": ["0"], "max_results": 50001}),
        )
        .await;
    assert!(
        st == StatusCode::BAD_REQUEST && is_error(&e, "INVALID_PARAMETER_VALUE"),
        "{e}"
    );
    let (st, e) = s
        .get("runs/get?run_id=ffffffffffffffffffffffffffffffff")
        .await;
    assert!(
        st == StatusCode::NOT_FOUND && is_error(&e, "RESOURCE_DOES_NOT_EXIST"),
        "{e}"
    );
    let (st, e) = s
        .post("experiments/create", json!({"name": "Default"}))
        .await;
    assert!(
        st == StatusCode::BAD_REQUEST && is_error(&e, "RESOURCE_ALREADY_EXISTS"),
        "{e}"
    );
    let (st, e) = s.get("experiments/get-by-name?experiment_name=nope").await;
    assert!(
        st == StatusCode::NOT_FOUND && is_error(&e, "RESOURCE_DOES_NOT_EXIST"),
        "{e}"
    );
    // Lenient answers the client relies on.
    let (st, body) = s.get("metrics/get-history?run_id=ffff&metric_key=m").await;
    assert_eq!((st, body), (StatusCode::OK, json!({})));

    // The ajax prefix serves the same API.
    let (st, _) = s
        .call(
            Method::GET,
            &format!("/ajax-api/2.0/mlflow/runs/get?run_id={id}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, e) = s.call(Method::GET, "/api/2.0/mlflow/nope", None).await;
    assert!(
        st == StatusCode::NOT_FOUND && is_error(&e, "ENDPOINT_NOT_FOUND"),
        "{e}"
    );
}

#[tokio::test]
async fn artifact_proxy_stores_lists_and_refuses_escapes() {
    let s = server().await;
    let put = Request::builder()
        .method(Method::PUT)
        .uri("/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/a/b.txt")
        .body(Body::from("hi"))
        .unwrap();
    let resp = s.router.clone().oneshot(put).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, listing) = s
        .call(
            Method::GET,
            "/api/2.0/mlflow-artifacts/artifacts?path=0/r/artifacts",
            None,
        )
        .await;
    assert_eq!(listing, json!({"files": [{"path": "a", "is_dir": true}]}));
    let (_, listing) = s
        .call(
            Method::GET,
            "/api/2.0/mlflow-artifacts/artifacts?path=0/r/artifacts/a",
            None,
        )
        .await;
    assert_eq!(
        listing,
        json!({"files": [{"path": "b.txt", "is_dir": false, "file_size": 2}]})
    );
    let (_, empty) = s
        .call(
            Method::GET,
            "/api/2.0/mlflow-artifacts/artifacts?path=0/missing",
            None,
        )
        .await;
    assert_eq!(empty, json!({}));
    let get = Request::builder()
        .uri("/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/a/b.txt")
        .body(Body::empty())
        .unwrap();
    let resp = s.router.clone().oneshot(get).await.unwrap();
    assert_eq!(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .as_ref(),
        b"hi"
    );
    let (st, e) = s
        .call(
            Method::GET,
            "/api/2.0/mlflow-artifacts/artifacts/0/nothing.txt",
            None,
        )
        .await;
    assert!(
        st == StatusCode::NOT_FOUND && is_error(&e, "RESOURCE_DOES_NOT_EXIST"),
        "{e}"
    );
    let (st, e) = s
        .call(
            Method::GET,
            "/api/2.0/mlflow-artifacts/artifacts?path=0/../../etc",
            None,
        )
        .await;
    assert!(
        st == StatusCode::BAD_REQUEST && is_error(&e, "INVALID_PARAMETER_VALUE"),
        "{e}"
    );
}

#[tokio::test]
async fn champion_needs_a_passing_report_through_both_apis() {
    let s = server().await;
    let (_, run) = s.post("runs/create", json!({"experiment_id": "0"})).await;
    let run_id = run["run"]["info"]["run_id"].as_str().unwrap().to_string();
    assert_eq!(
        s.post("registered-models/create", json!({"name": "loans"}))
            .await
            .0,
        StatusCode::OK
    );
    let (st, v) = s
        .post(
            "model-versions/create",
            json!({"name": "loans", "source": format!("runs:/{run_id}/model"), "run_id": run_id}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (
            v["model_version"]["version"].as_str(),
            v["model_version"]["status"].as_str()
        ),
        (Some("1"), Some("READY"))
    );

    // MLflow API: refused with a clear 4xx.
    let (st, e) = s
        .post(
            "registered-models/alias",
            json!({"name": "loans", "alias": "champion", "version": "1"}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(
        is_error(&e, "PERMISSION_DENIED")
            && e["message"].as_str().unwrap().contains("evaluation report"),
        "{e}"
    );
    // Native API: refused too, then allowed with an override that is audited.
    let (st, e) = s
        .call(
            Method::PUT,
            "/api/v1/models/loans/aliases/champion",
            Some(json!({"version": 1})),
        )
        .await;
    assert!(
        st == StatusCode::FORBIDDEN && is_error(&e, "PERMISSION_DENIED"),
        "{e}"
    );
    let (st, change) = s
        .call(
            Method::PUT,
            "/api/v1/models/loans/aliases/champion",
            Some(json!({"version": 1, "override_reason": "incident 42"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{change}");
    assert_eq!(change["override_reason"], "incident 42");
    let audit = s.store.list_audit(&AuditFilter::default()).await.unwrap();
    assert!(audit.iter().any(|e| e.entry.action == "alias.set_override"
        && e.entry.reason.as_deref() == Some("incident 42")));

    // With a passing report stored, the MLflow API may move it.
    let ctx = AuditContext {
        actor: "eval".into(),
        at_ms: 1,
        reason: None,
    };
    s.store
        .record_evaluation_report(
            &ctx,
            NewEvaluationReport {
                model: "loans".into(),
                version: 1,
                passed: true,
                report: json!({}),
            },
        )
        .await
        .unwrap();
    let (st, _) = s
        .post(
            "registered-models/alias",
            json!({"name": "loans", "alias": "champion", "version": "1"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, mv) = s
        .get("registered-models/alias?name=loans&alias=champion")
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(mv["model_version"]["aliases"], json!(["champion"]));
    let (st, e) = s
        .get("registered-models/alias?name=loans&alias=missing")
        .await;
    assert!(
        st == StatusCode::BAD_REQUEST && is_error(&e, "INVALID_PARAMETER_VALUE"),
        "{e}"
    );

    let (_, lineage) = s
        .call(Method::GET, "/api/v1/models/loans/versions/1/lineage", None)
        .await;
    assert_eq!(lineage["links"][1]["value"], run_id.as_str());
    assert_eq!(
        lineage["complete"], false,
        "no dataset version was declared"
    );
    let (_, health) = s.call(Method::GET, "/health", None).await;
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn an_inference_replica_serves_inference_and_nothing_that_writes() {
    let s = server_with_role(aidlc_server::Role::Inference).await;
    let (status, body) = s.call(Method::GET, "/health", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = s.call(Method::GET, "/api/v1/deployments", None).await;
    assert_eq!(status, StatusCode::OK);
    // Inference routes are there: an unknown endpoint is the inference 404, not "no route".
    let (status, body) = s
        .call(
            Method::POST,
            "/api/v1/endpoints/nowhere/predict",
            Some(json!({"rows": [{"x": 1}]})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error_code"], "RESOURCE_DOES_NOT_EXIST", "{body}");
    // The MLflow API, registry writes, deployment writes and rollout decisions are absent.
    for (method, path) in [
        (Method::POST, "/api/2.0/mlflow/experiments/create"),
        (Method::PUT, "/api/v1/models/m/aliases/champion"),
        (Method::POST, "/api/v1/deployments/rain/approve"),
        (Method::POST, "/api/v1/deployments/rain/rollback"),
    ] {
        let (status, body) = s.call(method.clone(), path, Some(json!({}))).await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {status} {body}"
        );
        assert_ne!(
            body["error_code"], "RESOURCE_DOES_NOT_EXIST",
            "{method} {path}: {body}"
        );
    }
    let (status, _) = s
        .call(
            Method::PUT,
            "/api/v1/deployments/rain",
            Some(json!({"model": "m", "alias": "champion"})),
        )
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn decisions_map_to_their_status_and_error_codes() {
    let s = server().await;
    let ctx = AuditContext {
        actor: "seed".into(),
        at_ms: 1,
        reason: None,
    };
    assert_eq!(
        s.post("registered-models/create", json!({"name": "loans"}))
            .await
            .0,
        StatusCode::OK
    );
    for _ in 0..2 {
        let (st, v) = s
            .post(
                "model-versions/create",
                json!({"name": "loans", "source": "file:///m"}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    s.store
        .record_evaluation_report(
            &ctx,
            NewEvaluationReport {
                model: "loans".into(),
                version: 2,
                passed: false,
                report: json!({}),
            },
        )
        .await
        .unwrap();

    // Promotion: a reason is required, the gate holds without an override, an unknown version
    // is a 404, and an override goes through with its reason.
    let promote = |body: Value| s.call(Method::POST, "/api/v1/models/loans/promote", Some(body));
    let (st, e) = promote(json!({"version": 2})).await;
    assert!(
        st == StatusCode::BAD_REQUEST && is_error(&e, "INVALID_PARAMETER_VALUE"),
        "{e}"
    );
    let (st, e) = promote(json!({"version": 2, "reason": "newer"})).await;
    assert!(
        st == StatusCode::FORBIDDEN && is_error(&e, "PERMISSION_DENIED"),
        "{e}"
    );
    assert!(e["message"].as_str().unwrap().contains("failed"), "{e}");
    let (st, e) = promote(json!({"version": 7, "reason": "newer"})).await;
    assert!(
        st == StatusCode::NOT_FOUND && is_error(&e, "RESOURCE_DOES_NOT_EXIST"),
        "{e}"
    );
    let (st, e) = promote(json!({"version": 2, "reason": "x", "alias": "v2"})).await;
    assert!(
        st == StatusCode::BAD_REQUEST && is_error(&e, "INVALID_PARAMETER_VALUE"),
        "{e}"
    );
    let (st, change) =
        promote(json!({"version": 2, "reason": "incident 7", "override": true})).await;
    assert_eq!(st, StatusCode::OK, "{change}");
    assert_eq!(
        (change["alias"].as_str(), change["version"].as_i64()),
        (Some("champion"), Some(2))
    );
    assert_eq!(change["override_reason"], "incident 7");

    // A retraining run waiting for approval.
    let run = s
        .store
        .start_pipeline(&ctx, "loans", "manual", json!({}))
        .await
        .unwrap();
    s.store
        .update_pipeline(
            &ctx,
            &run.id,
            "awaiting_approval",
            json!({"steps": [], "challenger": 2}),
            "pipeline.approval",
            json!({}),
        )
        .await
        .unwrap();
    let (st, list) = s
        .call(Method::GET, "/api/v1/pipelines?model=loans", None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list["pipelines"][0]["status"], "awaiting_approval");
    let (st, e) = s
        .call(Method::GET, "/api/v1/pipelines?modle=loans", None)
        .await;
    assert!(
        st == StatusCode::BAD_REQUEST && is_error(&e, "INVALID_PARAMETER_VALUE"),
        "{e}"
    );
    let html = |path: &'static str| {
        let router = s.router.clone();
        async move {
            let resp = router
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            String::from_utf8(bytes.to_vec()).unwrap()
        }
    };
    let home = html("/ui").await;
    assert!(
        home.contains(r#"<span class="big">1</span> pending approvals"#)
            && home.contains(r##"href="/ui/models/loans#pipeline-approval""##),
        "{home}"
    );
    assert!(
        html("/ui/models/loans")
            .await
            .contains(r#"data-url="/api/v1/pipelines/loans/reject""#)
    );

    // Approving needs the project's contract, which this server was not given.
    let (st, e) = s
        .call(
            Method::POST,
            "/api/v1/pipelines/loans/approve",
            Some(json!({"reason": "ok"})),
        )
        .await;
    assert!(
        st == StatusCode::CONFLICT && is_error(&e, "INVALID_STATE"),
        "{e}"
    );
    let (st, e) = s
        .call(
            Method::POST,
            "/api/v1/pipelines/loans/reject",
            Some(json!({})),
        )
        .await;
    assert!(
        st == StatusCode::BAD_REQUEST && is_error(&e, "INVALID_PARAMETER_VALUE"),
        "{e}"
    );
    let (st, rejected) = s
        .call(
            Method::POST,
            "/api/v1/pipelines/loans/reject",
            Some(json!({"reason": "stale data"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{rejected}");
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(
        rejected["state"]["reason"],
        "challenger 2 rejected by tester: stale data"
    );
    let (st, e) = s
        .call(
            Method::POST,
            "/api/v1/pipelines/loans/reject",
            Some(json!({"reason": "again"})),
        )
        .await;
    assert!(
        st == StatusCode::BAD_REQUEST && is_error(&e, "INVALID_STATE"),
        "{e}"
    );
    assert!(!html("/ui/models/loans").await.contains("pipeline-approval"));

    // Rejecting a rollout: of no deployment, and of a deployment with nothing to reject.
    let (st, e) = s
        .call(
            Method::POST,
            "/api/v1/deployments/web/reject",
            Some(json!({"reason": "no"})),
        )
        .await;
    assert!(
        st == StatusCode::NOT_FOUND && is_error(&e, "RESOURCE_DOES_NOT_EXIST"),
        "{e}"
    );
    s.store
        .upsert_deployments(
            &ctx,
            vec![aidlc_core::records::Deployment {
                endpoint: "web".into(),
                model: "loans".into(),
                alias: "champion".into(),
                state: json!({}),
                updated_by: "seed".into(),
                updated_at_ms: 1,
            }],
        )
        .await
        .unwrap();
    let (st, e) = s
        .call(
            Method::POST,
            "/api/v1/deployments/web/reject",
            Some(json!({})),
        )
        .await;
    assert!(
        st == StatusCode::BAD_REQUEST && is_error(&e, "INVALID_PARAMETER_VALUE"),
        "{e}"
    );
    let (st, e) = s
        .call(
            Method::POST,
            "/api/v1/deployments/web/reject",
            Some(json!({"reason": "no"})),
        )
        .await;
    assert!(
        st == StatusCode::BAD_REQUEST && is_error(&e, "INVALID_STATE"),
        "{e}"
    );

    let audit = s.store.list_audit(&AuditFilter::default()).await.unwrap();
    assert!(audit.iter().any(|e| e.entry.action == "pipeline.reject"
        && e.entry.actor == "tester"
        && e.entry.reason.as_deref() == Some("stale data")));
}
