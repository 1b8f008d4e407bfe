//! Inference through `app()` (no socket): deployments, the native rows endpoint, the Open
//! Inference Protocol v2 (JSON and binary tensors), MLflow's scoring protocol, hot swap when the
//! alias moves, client mistakes as 400/404/415, and `/metrics`. With ONNX Runtime configured
//! (`ORT_DYLIB_PATH`), the ten ONNX test models answer onnxruntime's own outputs through every
//! protocol.

use aidlc_data::Column;
use aidlc_models::train::{LinearParams, Target, TrainSet, TrainerSpec, train};
use aidlc_models::{BuiltinModel, Frame, Inputs, Model, Predictions};
use aidlc_server::{AppState, ServerConfig, app};
use aidlc_store::{
    AliasPolicy, AnyPredictionLog, ArtifactStore, AuditContext, LocalArtifactStore, LocalLogConfig,
    LocalPredictionLog, ModelStore, NewRegistryVersion, RegistryStore, Store,
};
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;

struct Server {
    state: AppState,
    log: Arc<AnyPredictionLog>,
    router: axum::Router,
    store: Store,
    artifacts: LocalArtifactStore,
    _dir: tempfile::TempDir,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no header {name}"))
            .to_str()
            .unwrap()
    }
}

fn ctx() -> AuditContext {
    AuditContext {
        actor: "tester".into(),
        at_ms: 1_750_000_000_000,
        reason: None,
    }
}

async fn server_with(default_endpoint: Option<&str>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("aidlc.db").display().to_string())
        .await
        .unwrap();
    let log = Arc::new(AnyPredictionLog::Local(
        LocalPredictionLog::open(LocalLogConfig::new(dir.path().join("predictions"))).unwrap(),
    ));
    let config = ServerConfig {
        store: store.clone(),
        mlflow_artifacts: dir.path().join("artifacts/mlflow"),
        alias_policy: AliasPolicy::default(),
        actor: "tester".into(),
        clock: Arc::new(|| 1_750_000_000_000),
        artifacts: dir.path().join("artifacts"),
        default_endpoint: default_endpoint.map(str::to_string),
        prediction_log: Some(Arc::clone(&log)),
        shadow_queue: 64,
        role: aidlc_server::Role::All,
        monitor: None,
        spec: None,
    };
    let state = AppState::new(config);
    Server {
        router: app(state.clone()),
        state,
        log,
        store,
        artifacts: LocalArtifactStore::new(dir.path().join("artifacts")),
        _dir: dir,
    }
}

async fn server() -> Server {
    server_with(None).await
}

impl Server {
    async fn send(&self, req: Request<Body>) -> Answer {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, uri: &str) -> Answer {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    async fn json(&self, method: Method, uri: &str, body: Value) -> Answer {
        self.send(
            Request::builder()
                .method(method)
                .uri(uri)
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    async fn raw(&self, uri: &str, content_type: &str, body: impl Into<Body>) -> Answer {
        self.send(
            Request::post(uri)
                .header("content-type", content_type)
                .body(body.into())
                .unwrap(),
        )
        .await
    }

    /// Registers model bytes as the next version of `model`.
    async fn register(&self, model: &str, bytes: Vec<u8>) -> i64 {
        let hash = self.artifacts.put_bytes(bytes).await.unwrap();
        self.store
            .create_registry_version(
                &ctx(),
                NewRegistryVersion {
                    model: model.into(),
                    artifact: hash,
                    source: "test".into(),
                    run_id: None,
                    logged_model_id: None,
                    description: String::new(),
                    tags: vec![],
                    dataset_version: None,
                    split: None,
                    git_commit: None,
                    git_dirty: None,
                    create_model: true,
                },
            )
            .await
            .unwrap()
            .version
    }

    /// Registers the model as version `v`, points `production` at it and deploys it at
    /// `endpoint`.
    async fn deploy(&self, endpoint: &str, model: &str, bytes: Vec<u8>) -> i64 {
        let v = self.register(model, bytes).await;
        self.store
            .set_alias(&ctx(), model, "production", v)
            .await
            .unwrap();
        let a = self
            .json(
                Method::PUT,
                &format!("/api/v1/deployments/{endpoint}"),
                json!({"model": model, "alias": "production"}),
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&a.body)
        );
        v
    }
}

/// Ten rows of a numeric feature `x` and a categorical `color`; `flip` inverts the labels.
fn training_frame() -> Frame {
    let x: Vec<f64> = (0..10).map(|i| i as f64).collect();
    let color = ["red", "blue"]
        .iter()
        .cycle()
        .take(10)
        .map(|c| Some(c.to_string()))
        .collect();
    Frame::new(
        vec!["x".into(), "color".into()],
        vec![Column::Numeric(x), Column::Categorical(color)],
    )
    .unwrap()
}

/// A logistic regression over classes `no`/`yes` (or `0`/`1`); `x` does not accept missing
/// values.
fn classifier(flip: bool, classes: [&str; 2]) -> BuiltinModel {
    let y: Vec<usize> = (0..10).map(|i| usize::from((i >= 5) != flip)).collect();
    let set = TrainSet {
        features: training_frame(),
        target: Target::Classes {
            classes: classes.iter().map(|c| c.to_string()).collect(),
            y,
        },
        weights: None,
    };
    let mut model = train(&TrainerSpec::Linear(LinearParams::default()), &set, None, 7)
        .unwrap()
        .model;
    let Inputs::Named { features } = &mut model.signature.inputs else {
        panic!("built-in models take named features")
    };
    features[0].nullable = false;
    model
}

fn regressor() -> BuiltinModel {
    let set = TrainSet {
        features: training_frame(),
        target: Target::Values((0..10).map(|i| 3.0 * i as f64 + 1.0).collect()),
        weights: None,
    };
    train(&TrainerSpec::Linear(LinearParams::default()), &set, None, 7)
        .unwrap()
        .model
}

fn rows_frame(x: &[f64], color: &[&str]) -> Frame {
    Frame::new(
        vec!["x".into(), "color".into()],
        vec![
            Column::Numeric(x.to_vec()),
            Column::Categorical(color.iter().map(|c| Some(c.to_string())).collect()),
        ],
    )
    .unwrap()
}

fn class_predictions(model: &BuiltinModel, frame: &Frame) -> (Vec<String>, Vec<f64>) {
    match model.predict(frame).unwrap() {
        Predictions::Classes {
            classes,
            labels,
            probabilities,
        } => (
            labels.iter().map(|&l| classes[l].clone()).collect(),
            probabilities,
        ),
        Predictions::Values(_) => panic!("a classifier"),
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn message(a: &Answer) -> String {
    let v = a.json();
    v["message"]
        .as_str()
        .or(v["error"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn deployments_are_created_listed_and_checked() {
    let s = server().await;
    let a = s
        .json(
            Method::PUT,
            "/api/v1/deployments/churn",
            json!({"model": "nope", "alias": "production"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(message(&a).contains("nope"));
    let v = s
        .register("churn-model", classifier(false, ["no", "yes"]).to_bytes())
        .await;
    let a = s
        .json(
            Method::PUT,
            "/api/v1/deployments/churn",
            json!({"model": "churn-model", "alias": "production"}),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::BAD_REQUEST,
        "an alias that names no version"
    );
    assert!(message(&a).contains("production"));
    let a = s
        .json(
            Method::PUT,
            "/api/v1/deployments/bad%20name",
            json!({"model": "churn-model", "alias": "production"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    s.store
        .set_alias(&ctx(), "churn-model", "production", v)
        .await
        .unwrap();
    let a = s
        .json(
            Method::PUT,
            "/api/v1/deployments/churn",
            json!({"model": "churn-model", "alias": "production"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["version"], v);
    let list = s.get("/api/v1/deployments").await.json();
    assert_eq!(list["deployments"][0]["endpoint"], "churn");
    assert_eq!(list["deployments"][0]["model"], "churn-model");
    assert_eq!(list["deployments"][0]["version"], v);
    assert_eq!(
        s.get("/api/v1/deployments/churn").await.json()["alias"],
        "production"
    );
    assert_eq!(
        s.get("/api/v1/deployments/other").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn native_rows_endpoint_answers_with_version_and_variant() {
    let s = server().await;
    let model = classifier(false, ["no", "yes"]);
    let v = s.deploy("churn", "churn-model", model.to_bytes()).await;
    let a = s
        .json(
            Method::POST,
            "/api/v1/endpoints/churn/predict",
            json!({"rows": [{"x": 1.0, "color": "red"}, {"x": 8, "color": "blue"}], "request_id": "r-1"}),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    assert_eq!(a.header("x-aidlc-model-version"), v.to_string());
    assert_eq!(a.header("x-aidlc-variant"), "production");
    let body = a.json();
    assert_eq!(body["model"], "churn-model");
    assert_eq!(body["version"], v);
    assert_eq!(body["variant"], "production");
    assert_eq!(body["request_id"], "r-1");
    let (labels, probs) = class_predictions(&model, &rows_frame(&[1.0, 8.0], &["red", "blue"]));
    assert_eq!(labels, ["no", "yes"]);
    for (i, label) in labels.iter().enumerate() {
        let p = &body["predictions"][i];
        assert_eq!(p["label"], label.as_str());
        assert!(close(
            p["probabilities"]["no"].as_f64().unwrap(),
            probs[2 * i],
            1e-12
        ));
        assert!(close(
            p["probabilities"]["yes"].as_f64().unwrap(),
            probs[2 * i + 1],
            1e-12
        ));
    }
    // Rows as lists take the features in the signature's order.
    let a = s
        .json(
            Method::POST,
            "/api/v1/endpoints/churn/predict",
            json!({"rows": [[1.0, "red"]]}),
        )
        .await;
    assert_eq!(a.json()["predictions"][0]["label"], "no");

    // A batch above the blocking threshold is scored off the runtime, with the same answers.
    let n = aidlc_server::inference::BLOCKING_ROWS * 2;
    let xs: Vec<f64> = (0..n).map(|i| (i % 10) as f64 + 0.5).collect();
    let colors: Vec<&str> = (0..n)
        .map(|i| if i % 3 == 0 { "red" } else { "blue" })
        .collect();
    let rows: Vec<Value> = xs
        .iter()
        .zip(&colors)
        .map(|(x, c)| json!({"x": x, "color": c}))
        .collect();
    let a = s
        .json(
            Method::POST,
            "/api/v1/endpoints/churn/predict",
            json!({ "rows": rows }),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let (labels, _) = class_predictions(&model, &rows_frame(&xs, &colors));
    let got: Vec<String> = a.json()["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, labels);

    let r = regressor();
    let v = s.deploy("price", "price-model", r.to_bytes()).await;
    let a = s
        .json(
            Method::POST,
            "/api/v1/endpoints/price/predict",
            json!({"rows": [{"x": 4, "color": "red"}]}),
        )
        .await;
    let Predictions::Values(want) = r.predict(&rows_frame(&[4.0], &["red"])).unwrap() else {
        panic!("a regressor")
    };
    assert_eq!(
        a.json()["predictions"][0]["value"].as_f64().unwrap(),
        want[0]
    );
    assert_eq!(a.json()["version"], v);
}

#[tokio::test]
async fn labels_join_predictions_by_request_id_or_by_entity_and_event_time() {
    use aidlc_service::labels::labels_for_predictions;
    use aidlc_store::predlog::{PredictionLog, ScanQuery};
    let s = server().await;
    let t0 = 1_750_000_000_000i64; // the server's clock
    s.deploy(
        "churn",
        "churn-model",
        classifier(false, ["no", "yes"]).to_bytes(),
    )
    .await;
    // The entity comes from the header or from the native body.
    for (id, entity, in_body) in [
        ("r-1", Some("e-1"), false),
        ("r-2", Some("e-2"), true),
        ("r-3", None, false),
        ("r-4", Some("e-3"), false),
    ] {
        let mut body = json!({"rows": [{"x": 1.0, "color": "red"}], "request_id": id});
        let mut req = Request::post("/api/v1/endpoints/churn/predict")
            .header("content-type", "application/json");
        match (entity, in_body) {
            (Some(e), true) => body["entity"] = json!(e),
            (Some(e), false) => req = req.header("x-aidlc-entity-id", e),
            (None, _) => {}
        }
        let a = s
            .send(req.body(Body::from(body.to_string())).unwrap())
            .await;
        assert_eq!(
            a.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&a.body)
        );
    }

    let labels = json!({"name": "churned", "labels": [
        {"request_id": "r-3", "value": "yes"},
        {"entity": "e-1", "event_time": t0 + 1_000, "value": "yes"},
        // An event before the prediction judges an earlier prediction, not this one.
        {"entity": "e-2", "event_time": "2025-06-15T00:00:00Z", "value": "no"},
        // Ten days later, as a number: whole numbers are stored as label files write them.
        {"entity": "e-3", "event_time": t0 + 10 * 86_400_000, "value": 1},
    ]});
    let a = s.json(Method::POST, "/api/v1/labels", labels.clone()).await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    assert_eq!(
        a.json(),
        json!({"name": "churned", "received": 4, "inserted": 4, "already_present": 0})
    );
    let a = s.json(Method::POST, "/api/v1/labels", labels).await;
    assert_eq!(
        a.json()["already_present"],
        4,
        "sending a batch twice changes nothing"
    );

    // Malformed labels are 400s naming the label, and record nothing of their batch.
    for (body, needle) in [
        (
            json!({"name": "churned", "labels": [{"request_id": "r-9", "value": "no"}, {"entity": "e-1", "value": "no"}]}),
            "labels[1]: an `entity` label needs the `event_time`",
        ),
        (
            json!({"name": "churned", "labels": [{"request_id": "r-1", "entity": "e-1", "event_time": t0, "value": "no"}]}),
            "labels[0]: give `request_id` or `entity` with `event_time`, not both",
        ),
        (
            json!({"name": "churned", "labels": [{"entity": "e-1", "event_time": "next tuesday", "value": "no"}]}),
            "labels[0].event_time = \"next tuesday\" is not a time",
        ),
        (
            json!({"labels": [{"request_id": "r-1", "value": "no"}]}),
            "no label set",
        ),
        (
            json!({"name": "churned", "labels": [{"value": "no"}]}),
            "labels[0]: no key",
        ),
    ] {
        let a = s.json(Method::POST, "/api/v1/labels", body).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        let message = a.json()["message"].as_str().unwrap().to_string();
        assert!(message.contains(needle), "{message}");
        assert_eq!(a.json()["error_code"], "INVALID_PARAMETER_VALUE");
    }
    let stored = aidlc_store::LabelStore::labels(&s.store, "churned", Some(&["r-9".to_string()]))
        .await
        .unwrap();
    assert!(stored.is_empty(), "a rejected batch records nothing");

    let frame = s
        .log
        .scan(&ScanQuery::window("churn", t0 - 1, t0 + 1))
        .await
        .unwrap();
    let entities: Vec<Option<&str>> = frame.entity.iter().map(|e| e.as_deref()).collect();
    assert_eq!(entities, [Some("e-1"), Some("e-2"), None, Some("e-3")]);
    let day = Some(86_400_000);
    let joined = labels_for_predictions(&s.store, "churned", &frame, day, None)
        .await
        .unwrap();
    let mut got: Vec<(&str, &str)> = joined
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    got.sort_unstable();
    assert_eq!(got, [("r-1", "yes"), ("r-3", "yes")]);
    // Without a horizon, e-3's event ten days later judges its prediction too.
    let joined = labels_for_predictions(&s.store, "churned", &frame, None, None)
        .await
        .unwrap();
    assert_eq!(joined.get("r-4").map(String::as_str), Some("1"));
    // Labels that were not available yet at the judging time are left out.
    let joined = labels_for_predictions(&s.store, "churned", &frame, None, Some(t0 - 1))
        .await
        .unwrap();
    assert!(joined.is_empty(), "{joined:?}");
}

#[tokio::test]
async fn client_mistakes_are_400s_naming_the_field_and_unknown_endpoints_404s() {
    let s = server().await;
    s.deploy(
        "churn",
        "churn-model",
        classifier(false, ["no", "yes"]).to_bytes(),
    )
    .await;
    let predict = |rows: Value| {
        let s = &s;
        async move {
            s.json(
                Method::POST,
                "/api/v1/endpoints/churn/predict",
                json!({ "rows": rows }),
            )
            .await
        }
    };
    let cases = [
        (json!([{"x": 1.0}]), "color"),
        (json!([{"x": "abc", "color": "red"}]), "x"),
        (json!([{"x": null, "color": "red"}]), "x"),
        (json!([{"x": 1.0, "colour": "red"}]), "colour"),
        (json!([{"x": 1.0, "color": "red"}, {"x": 2.0}]), "color"),
        (json!([{"x": true, "color": "red"}]), "x"),
        (json!([[1.0]]), "row 0"),
        (json!([]), "rows"),
    ];
    for (rows, field) in cases {
        let a = predict(rows.clone()).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{rows}");
        assert_eq!(a.json()["error_code"], "INVALID_PARAMETER_VALUE", "{rows}");
        assert!(message(&a).contains(field), "{rows}: {}", message(&a));
    }
    // A column the model does not take is left out, as MLflow's scoring server does.
    let a = predict(
        json!([{"x": 1.0, "color": "red", "customer": "c-7"}, {"x": 2.0, "color": "blue"}]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", message(&a));
    assert_eq!(a.json()["predictions"].as_array().unwrap().len(), 2);
    let a = s
        .raw(
            "/api/v1/endpoints/churn/predict",
            "application/json",
            "{\"rows\": [",
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let huge = vec![b' '; aidlc_server::inference::INFERENCE_BODY_LIMIT + 1];
    let a = s
        .raw("/api/v1/endpoints/churn/predict", "application/json", huge)
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(message(&a).contains("larger than"), "{}", message(&a));
    let a = s
        .json(
            Method::POST,
            "/api/v1/endpoints/nope/predict",
            json!({"rows": [{"x": 1.0, "color": "red"}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(message(&a).contains("nope"));
}

#[tokio::test]
async fn an_alias_move_swaps_the_model_and_in_flight_requests_keep_the_old_one() {
    let s = server().await;
    let first = classifier(false, ["no", "yes"]);
    let v1 = s.deploy("churn", "churn-model", first.to_bytes()).await;
    let row = json!({"rows": [{"x": 1.0, "color": "red"}]});
    let a = s
        .json(Method::POST, "/api/v1/endpoints/churn/predict", row.clone())
        .await;
    assert_eq!(a.json()["predictions"][0]["label"], "no");

    // A request that resolved its target before the swap holds version 1.
    let in_flight = s
        .state
        .serving()
        .target("churn", None, None, None)
        .await
        .unwrap();
    let v2 = s
        .register("churn-model", classifier(true, ["no", "yes"]).to_bytes())
        .await;
    let a = s
        .json(
            Method::PUT,
            "/api/v1/models/churn-model/aliases/production",
            json!({"version": v2}),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );

    let a = s
        .json(Method::POST, "/api/v1/endpoints/churn/predict", row.clone())
        .await;
    assert_eq!(a.header("x-aidlc-model-version"), v2.to_string());
    assert_eq!(a.json()["version"], v2);
    assert_eq!(a.json()["predictions"][0]["label"], "yes");
    assert_eq!(in_flight.served.version, v1);
    let frame = rows_frame(&[1.0], &["red"]);
    let Predictions::Classes { labels, .. } =
        in_flight.served.predict(Arc::new(frame)).await.unwrap()
    else {
        panic!("a classifier")
    };
    assert_eq!(labels, [0], "the old model still answers its request");

    // A pinned version answers as `pinned`; an unknown one is a 404.
    let a = s
        .json(
            Method::POST,
            &format!("/v2/models/churn/versions/{v1}/infer"),
            json!({"inputs": [
                {"name": "x", "shape": [1], "datatype": "FP64", "data": [1.0]},
                {"name": "color", "shape": [1], "datatype": "BYTES", "data": ["red"]}
            ]}),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    assert_eq!(a.header("x-aidlc-variant"), "pinned");
    assert_eq!(a.json()["model_version"], v1.to_string());
    assert_eq!(a.json()["outputs"][0]["data"][0], "no");
    let a = s.get("/v2/models/churn/versions/99").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.json()["error"].as_str().unwrap().contains("99"));
}

#[tokio::test]
async fn an_alias_moved_elsewhere_is_picked_up_by_the_recheck_not_by_each_request() {
    let s = server().await;
    let v1 = s
        .deploy(
            "churn",
            "churn-model",
            classifier(false, ["no", "yes"]).to_bytes(),
        )
        .await;
    let v2 = s
        .register("churn-model", classifier(true, ["no", "yes"]).to_bytes())
        .await;
    // Another process moves the alias: the store changes, this server is not told.
    s.store
        .set_alias(&ctx(), "churn-model", "production", v2)
        .await
        .unwrap();
    let row = json!({"rows": [{"x": 1.0, "color": "red"}]});
    let a = s
        .json(Method::POST, "/api/v1/endpoints/churn/predict", row.clone())
        .await;
    // The test clock stands still, so the binding is fresh and no request rereads the store.
    assert_eq!(a.json()["version"], v1);
    s.state.serving().recheck("churn").await.unwrap();
    let a = s
        .json(Method::POST, "/api/v1/endpoints/churn/predict", row)
        .await;
    assert_eq!(a.json()["version"], v2);
    assert_eq!(a.json()["predictions"][0]["label"], "yes");
}

#[tokio::test]
async fn open_inference_protocol_metadata_health_and_json_inference() {
    let s = server().await;
    let a = s.get("/v2/health/ready").await;
    assert_eq!(
        (a.status, a.json()),
        (StatusCode::OK, json!({"ready": true}))
    );
    let model = classifier(false, ["no", "yes"]);
    let v = s.deploy("churn", "churn-model", model.to_bytes()).await;
    let meta = s.get("/v2").await.json();
    assert_eq!(meta["name"], "aidlc");
    assert_eq!(meta["extensions"], json!(["binary_tensor_data"]));
    assert_eq!(s.get("/v2/health/live").await.json(), json!({"live": true}));
    assert_eq!(
        s.get("/v2/health/ready").await.json(),
        json!({"ready": true})
    );
    let a = s.get("/v2/models/churn/ready").await;
    assert_eq!(a.json(), json!({"name": "churn", "ready": true}));
    assert_eq!(
        s.get("/v2/models/nope/ready").await.status,
        StatusCode::NOT_FOUND
    );
    let meta = s.get("/v2/models/churn").await.json();
    assert_eq!(
        meta,
        json!({
            "name": "churn", "versions": [v.to_string()], "platform": "aidlc_builtin",
            "inputs": [
                {"name": "x", "datatype": "FP64", "shape": [-1, 1]},
                {"name": "color", "datatype": "BYTES", "shape": [-1, 1]}
            ],
            "outputs": [
                {"name": "label", "datatype": "BYTES", "shape": [-1]},
                {"name": "probabilities", "datatype": "FP32", "shape": [-1, 2]}
            ]
        })
    );
    let a = s
        .json(
            Method::POST,
            "/v2/models/churn/infer",
            json!({"id": "q1", "inputs": [
                {"name": "x", "shape": [2, 1], "datatype": "FP32", "data": [[1.0], [8.0]]},
                {"name": "color", "shape": [2, 1], "datatype": "BYTES", "data": ["red", "blue"]}
            ]}),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    assert_eq!(a.header("x-aidlc-variant"), "production");
    let body = a.json();
    assert_eq!(body["model_name"], "churn");
    assert_eq!(body["model_version"], v.to_string());
    assert_eq!(body["id"], "q1");
    let (labels, probs) = class_predictions(&model, &rows_frame(&[1.0, 8.0], &["red", "blue"]));
    assert_eq!(body["outputs"][0]["name"], "label");
    assert_eq!(body["outputs"][0]["datatype"], "BYTES");
    assert_eq!(body["outputs"][0]["data"], json!(labels));
    assert_eq!(body["outputs"][1]["shape"], json!([2, 2]));
    for (i, p) in probs.iter().enumerate() {
        let got = body["outputs"][1]["data"][i].as_f64().unwrap();
        assert!(close(got, *p as f32 as f64, 1e-7), "{got} vs {p}");
    }
    // Only the outputs asked for come back.
    let a = s
        .json(
            Method::POST,
            "/v2/models/churn/infer",
            json!({"inputs": [
                {"name": "x", "shape": [1], "datatype": "INT64", "data": [8]},
                {"name": "color", "shape": [1], "datatype": "BYTES", "data": ["blue"]}
            ], "outputs": [{"name": "probabilities"}]}),
        )
        .await;
    let outputs = a.json()["outputs"].as_array().unwrap().clone();
    assert_eq!(outputs.len(), 1);
    assert_eq!(outputs[0]["name"], "probabilities");

    // Mistakes: {"error": ...} naming the input.
    let x = json!({"name": "x", "shape": [1], "datatype": "FP32", "data": [1.0]});
    let color = json!({"name": "color", "shape": [1], "datatype": "BYTES", "data": ["red"]});
    let cases = [
        (json!({"inputs": [x]}), "color", StatusCode::BAD_REQUEST),
        (
            json!({"inputs": [x, color, {"name": "z", "shape": [1], "datatype": "FP32", "data": [1]}]}),
            "z",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "data": [1.0]}, color]}),
            "x",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"inputs": [{"name": "x", "shape": [1], "datatype": "BYTES", "data": ["a"]}, color]}),
            "x",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"inputs": [{"name": "x", "shape": [1], "datatype": "FP16", "data": [1]}, color]}),
            "x",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [null]}, color]}),
            "x",
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"inputs": [x, color], "outputs": [{"name": "score"}]}),
            "score",
            StatusCode::BAD_REQUEST,
        ),
        (json!({"inputs": []}), "inputs", StatusCode::BAD_REQUEST),
    ];
    for (req, field, status) in cases {
        let a = s
            .json(Method::POST, "/v2/models/churn/infer", req.clone())
            .await;
        assert_eq!(a.status, status, "{req}");
        let error = a.json()["error"].as_str().unwrap().to_string();
        assert!(error.contains(field), "{req}: {error}");
    }
    let a = s
        .json(Method::POST, "/v2/models/nope/infer", json!({"inputs": []}))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.json()["error"].as_str().unwrap().contains("nope"));
}

/// The binary tensor extension as `tritonclient.http` sends it by default.
fn binary_request(json_part: Value, tail: &[u8]) -> (Vec<u8>, usize) {
    let mut body = serde_json::to_vec(&json_part).unwrap();
    let len = body.len();
    body.extend_from_slice(tail);
    (body, len)
}

fn bytes_element(s: &str) -> Vec<u8> {
    let mut out = (s.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(s.as_bytes());
    out
}

/// Splits a binary answer into its JSON header and each output's bytes.
fn split_binary(a: &Answer) -> (Value, Vec<Vec<u8>>) {
    let len: usize = a.header("inference-header-content-length").parse().unwrap();
    let head: Value = serde_json::from_slice(&a.body[..len]).unwrap();
    let mut rest = &a.body[len..];
    let mut parts = Vec::new();
    for o in head["outputs"].as_array().unwrap() {
        let n = o["parameters"]["binary_data_size"].as_u64().unwrap() as usize;
        parts.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    assert!(rest.is_empty());
    (head, parts)
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[tokio::test]
async fn open_inference_protocol_binary_tensors_in_and_out() {
    let s = server().await;
    let model = classifier(false, ["0", "1"]);
    s.deploy("churn", "churn-model", model.to_bytes()).await;
    let meta = s.get("/v2/models/churn").await.json();
    assert_eq!(meta["outputs"][0]["datatype"], "INT64", "integer classes");
    let mut tail = Vec::new();
    for x in [1.0f32, 8.0] {
        tail.extend_from_slice(&x.to_le_bytes());
    }
    let x_len = tail.len();
    let colors: Vec<u8> = [bytes_element("red"), bytes_element("blue")].concat();
    tail.extend_from_slice(&colors);
    let (body, len) = binary_request(
        json!({"inputs": [
            {"name": "x", "shape": [2, 1], "datatype": "FP32", "parameters": {"binary_data_size": x_len}},
            {"name": "color", "shape": [2, 1], "datatype": "BYTES", "parameters": {"binary_data_size": colors.len()}}
        ], "parameters": {"binary_data_output": true}}),
        &tail,
    );
    let a = s
        .send(
            Request::post("/v2/models/churn/infer")
                .header("content-type", "application/octet-stream")
                .header("Inference-Header-Content-Length", len)
                .body(Body::from(body.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    let (head, parts) = split_binary(&a);
    assert_eq!(head["outputs"][0]["datatype"], "INT64");
    let labels: Vec<i64> = parts[0]
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let (want_labels, probs) =
        class_predictions(&model, &rows_frame(&[1.0, 8.0], &["red", "blue"]));
    assert_eq!(
        labels,
        want_labels
            .iter()
            .map(|l| l.parse::<i64>().unwrap())
            .collect::<Vec<_>>()
    );
    let got = f32s(&parts[1]);
    assert_eq!(got, probs.iter().map(|&p| p as f32).collect::<Vec<_>>());

    // Per-output choice: labels in JSON, probabilities in binary.
    let mut req: Value = serde_json::from_slice(&body[..len]).unwrap();
    req["parameters"] = json!({});
    req["outputs"] = json!([
        {"name": "label", "parameters": {"binary_data": false}},
        {"name": "probabilities", "parameters": {"binary_data": true}}
    ]);
    let (body2, len2) = binary_request(req, &tail);
    let a = s
        .send(
            Request::post("/v2/models/churn/infer")
                .header("Inference-Header-Content-Length", len2)
                .body(Body::from(body2))
                .unwrap(),
        )
        .await;
    let len: usize = a.header("inference-header-content-length").parse().unwrap();
    let head: Value = serde_json::from_slice(&a.body[..len]).unwrap();
    assert_eq!(head["outputs"][0]["data"], json!(labels));
    assert_eq!(f32s(&a.body[len..]), got);

    // A binary size that does not match the shape names the input.
    let (bad, len) = binary_request(
        json!({"inputs": [
            {"name": "x", "shape": [3, 1], "datatype": "FP32", "parameters": {"binary_data_size": x_len}},
            {"name": "color", "shape": [2, 1], "datatype": "BYTES", "parameters": {"binary_data_size": colors.len()}}
        ]}),
        &tail,
    );
    let a = s
        .send(
            Request::post("/v2/models/churn/infer")
                .header("Inference-Header-Content-Length", len)
                .body(Body::from(bad))
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.json()["error"].as_str().unwrap().contains("`x`"));
}

#[tokio::test]
async fn mlflow_scoring_protocol_answers_predictions() {
    let s = server().await;
    let model = classifier(false, ["0", "1"]);
    let v = s.deploy("churn", "churn-model", model.to_bytes()).await;
    let (labels, _) = class_predictions(&model, &rows_frame(&[1.0, 8.0], &["red", "blue"]));
    let want: Vec<i64> = labels.iter().map(|l| l.parse().unwrap()).collect();
    let bodies = [
        json!({"dataframe_split": {"columns": ["x", "color"], "data": [[1.0, "red"], [8.0, "blue"]]}}),
        json!({"dataframe_split": {"index": [0, 1], "data": [[1.0, "red"], [8.0, "blue"]]}}),
        json!({"dataframe_records": [{"x": 1.0, "color": "red"}, {"x": 8.0, "color": "blue"}]}),
        json!({"instances": [{"x": 1.0, "color": "red"}, {"x": 8.0, "color": "blue"}]}),
        json!({"instances": [[1.0, "red"], [8.0, "blue"]]}),
        json!({"inputs": {"x": [1.0, 8.0], "color": ["red", "blue"]}}),
        json!({"inputs": [[1.0, "red"], [8.0, "blue"]], "params": {"k": 1}}),
    ];
    for uri in ["/invocations", "/endpoints/churn/invocations"] {
        for b in &bodies {
            let a = s.json(Method::POST, uri, b.clone()).await;
            assert_eq!(
                a.status,
                StatusCode::OK,
                "{b}: {}",
                String::from_utf8_lossy(&a.body)
            );
            assert_eq!(a.json(), json!({"predictions": want}), "{b}");
            assert_eq!(a.header("x-aidlc-model-version"), v.to_string());
            assert_eq!(a.header("x-aidlc-variant"), "production");
        }
    }
    let a = s
        .raw(
            "/invocations",
            "text/csv; charset=utf-8",
            "x,color\n1.0,red\n8,\"blue\"\n",
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    assert_eq!(a.json(), json!({"predictions": want}));

    let bad = [
        (json!([[1.0, "red"]]), "list"),
        (
            json!({"inputs": [[1.0, "red"]], "instances": [[1.0, "red"]]}),
            "exactly one",
        ),
        (json!({"params": {}}), "exactly one"),
        (
            json!({"dataframe_split": {"columns": ["x"], "data": [[1.0]]}}),
            "color",
        ),
        (
            json!({"dataframe_records": [{"x": "a", "color": "red"}]}),
            "x",
        ),
    ];
    for (b, field) in bad {
        let a = s.json(Method::POST, "/invocations", b.clone()).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{b}");
        assert!(message(&a).contains(field), "{b}: {}", message(&a));
    }
    let a = s
        .raw("/invocations", "application/json", "{\"inputs\": [")
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(message(&a).contains("valid JSON"));
    let a = s.raw("/invocations", "text/plain", "x").await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let a = s
        .raw("/invocations", "application/json; charset=latin-1", "{}")
        .await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(message(&a).contains("UTF-8"));
    assert_eq!(
        s.get("/invocations").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    let a = s.get("/ping").await;
    assert_eq!(
        (a.status, a.body.as_slice()),
        (StatusCode::OK, b"\n".as_slice())
    );
    assert_eq!(
        s.get("/version").await.body,
        env!("CARGO_PKG_VERSION").as_bytes()
    );

    // A regressor answers values.
    let r = regressor();
    s.deploy("price", "price-model", r.to_bytes()).await;
    let a = s
        .json(
            Method::POST,
            "/endpoints/price/invocations",
            json!({"dataframe_records": [{"x": 4, "color": "red"}]}),
        )
        .await;
    let Predictions::Values(values) = r.predict(&rows_frame(&[4.0], &["red"])).unwrap() else {
        panic!("a regressor")
    };
    assert_eq!(a.json(), json!({"predictions": values}));
    // Two deployments and no default: /invocations cannot choose.
    let a = s
        .json(Method::POST, "/invocations", bodies[0].clone())
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(message(&a).contains("churn") && message(&a).contains("price"));
}

#[tokio::test]
async fn the_configured_default_endpoint_answers_invocations() {
    let s = server_with(Some("price")).await;
    s.deploy(
        "churn",
        "churn-model",
        classifier(false, ["0", "1"]).to_bytes(),
    )
    .await;
    let r = regressor();
    s.deploy("price", "price-model", r.to_bytes()).await;
    let a = s
        .json(
            Method::POST,
            "/invocations",
            json!({"dataframe_records": [{"x": 4, "color": "red"}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let Predictions::Values(values) = r.predict(&rows_frame(&[4.0], &["red"])).unwrap() else {
        panic!("a regressor")
    };
    assert_eq!(a.json(), json!({"predictions": values}));
}

#[tokio::test]
async fn metrics_count_requests_errors_and_latency_per_endpoint_version_and_variant() {
    let s = server().await;
    let v = s
        .deploy(
            "churn",
            "churn-model",
            classifier(false, ["no", "yes"]).to_bytes(),
        )
        .await;
    for _ in 0..3 {
        let a = s
            .json(
                Method::POST,
                "/api/v1/endpoints/churn/predict",
                json!({"rows": [{"x": 1.0, "color": "red"}]}),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK);
    }
    let a = s
        .json(
            Method::POST,
            "/api/v1/endpoints/churn/predict",
            json!({"rows": [{"x": 1.0}]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    s.json(
        Method::POST,
        "/endpoints/churn/invocations",
        json!({"inputs": [[1.0, "red"]]}),
    )
    .await;
    s.json(
        Method::POST,
        "/endpoints/nope/invocations",
        json!({"inputs": [[1.0, "red"]]}),
    )
    .await;
    // Metadata and readiness are not inference requests.
    assert_eq!(s.get("/v2/models/churn").await.status, StatusCode::OK);
    assert_eq!(s.get("/v2/models/churn/ready").await.status, StatusCode::OK);
    let a = s.get("/metrics").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.header("content-type").starts_with("text/plain"));
    let text = String::from_utf8(a.body.clone()).unwrap();
    let labels = format!(
        "endpoint=\"churn\",model=\"churn-model\",version=\"{v}\",variant=\"production\",protocol=\"native\""
    );
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no line {name} in\n{text}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        line(&format!("aidlc_inference_requests_total{{{labels}}}")),
        "4"
    );
    assert_eq!(
        line(&format!(
            "aidlc_inference_errors_total{{{labels},kind=\"client\"}}"
        )),
        "1"
    );
    assert_eq!(
        line(&format!(
            "aidlc_inference_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}}"
        )),
        "4"
    );
    assert_eq!(
        line(&format!(
            "aidlc_inference_request_duration_seconds_count{{{labels}}}"
        )),
        "4"
    );
    let mlflow = labels.replace("native", "mlflow");
    assert_eq!(
        line(&format!("aidlc_inference_requests_total{{{mlflow}}}")),
        "1"
    );
    assert_eq!(
        line("aidlc_inference_unrouted_requests_total{protocol=\"mlflow\"}"),
        "1"
    );
    assert_eq!(
        line("aidlc_endpoint_model_version{endpoint=\"churn\",model=\"churn-model\"}"),
        v.to_string()
    );
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("aidlc_inference_requests_total")
                && l.contains("protocol=\"v2\"")),
        "{text}"
    );
    // Every histogram is cumulative: bucket counts never decrease.
    let buckets: Vec<u64> = text
        .lines()
        .filter(|l| {
            l.starts_with(&format!(
                "aidlc_inference_request_duration_seconds_bucket{{{labels}"
            ))
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(buckets.len(), 17);
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]));
}

// ---- ONNX models (need ONNX Runtime) ----

const ONNX_MODELS: [&str; 10] = [
    "logreg_binary",
    "logreg_multiclass",
    "scaler_logreg",
    "scaler_div_logreg",
    "rf_classifier",
    "gb_classifier",
    "hgb_classifier",
    "gb_regressor",
    "xgb_classifier",
    "lgbm_classifier",
];

/// Loads ONNX Runtime from `ORT_DYLIB_PATH`; `false` (after saying so) when it is not set,
/// unless `AIDLC_REQUIRE_ORT=1`, where a missing runtime fails the test.
fn runtime_ready() -> bool {
    let required = std::env::var("AIDLC_REQUIRE_ORT").as_deref() == Ok("1");
    let Some(path) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) else {
        assert!(
            !required,
            "AIDLC_REQUIRE_ORT=1 but ORT_DYLIB_PATH is not set"
        );
        eprintln!("skipping the ONNX models: ORT_DYLIB_PATH not set");
        return false;
    };
    match aidlc_models::init_runtime(Some(Path::new(&path))) {
        Ok(()) => true,
        Err(e) if required => panic!("AIDLC_REQUIRE_ORT=1 but ONNX Runtime did not load: {e}"),
        Err(e) => {
            eprintln!("skipping the ONNX models: ONNX Runtime did not load: {e}");
            false
        }
    }
}

fn onnx_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/onnx")
}

/// The expected outputs as (labels, probabilities per row) or values per row.
fn check_outputs(model: &str, expected: &Value, labels: Option<Vec<i64>>, floats: Vec<f64>) {
    let want = &expected["expected"];
    if let Some(want_labels) = want["label"].as_array() {
        let want_labels: Vec<i64> = want_labels.iter().map(|v| v.as_i64().unwrap()).collect();
        assert_eq!(labels.unwrap(), want_labels, "{model}: labels");
        let want_p: Vec<f64> = want["probabilities"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
            .collect();
        assert_eq!(floats.len(), want_p.len(), "{model}: probabilities");
        for (got, w) in floats.iter().zip(&want_p) {
            assert!(close(*got, *w, 1e-5), "{model}: probability {got} vs {w}");
        }
    } else {
        let want_v: Vec<f64> = want["variable"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
            .collect();
        assert_eq!(floats.len(), want_v.len(), "{model}: values");
        for (got, w) in floats.iter().zip(&want_v) {
            assert!(close(*got, *w, 1e-5), "{model}: value {got} vs {w}");
        }
    }
}

#[tokio::test]
async fn onnx_models_answer_onnxruntimes_outputs_through_every_protocol() {
    if !runtime_ready() {
        return;
    }
    let s = server().await;
    for name in ONNX_MODELS {
        let bytes = std::fs::read(onnx_dir().join(format!("{name}.onnx"))).unwrap();
        let expected: Value = serde_json::from_slice(
            &std::fs::read(onnx_dir().join(format!("{name}.expected.json"))).unwrap(),
        )
        .unwrap();
        let endpoint = name.replace('_', "-");
        s.deploy(&endpoint, name, bytes).await;
        let rows = expected["rows"].as_array().unwrap().clone();
        let n = rows.len();
        let classifier = expected["expected"]["label"].is_array();
        let meta = s.get(&format!("/v2/models/{endpoint}")).await.json();
        assert_eq!(meta["platform"], "onnx_onnxv1", "{name}");
        assert_eq!(
            meta["inputs"],
            json!([{"name": "input", "datatype": "FP32", "shape": [-1, 10]}]),
            "{name}"
        );

        // v2 binary, as tritonclient sends it by default.
        let tail: Vec<u8> = rows
            .iter()
            .flat_map(|r| r.as_array().unwrap().iter())
            .flat_map(|v| (v.as_f64().unwrap() as f32).to_le_bytes())
            .collect();
        let (body, len) = binary_request(
            json!({"inputs": [{"name": "input", "shape": [n, 10], "datatype": "FP32", "parameters": {"binary_data_size": tail.len()}}],
                   "parameters": {"binary_data_output": true}}),
            &tail,
        );
        let a = s
            .send(
                Request::post(format!("/v2/models/{endpoint}/infer"))
                    .header("Inference-Header-Content-Length", len)
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::OK,
            "{name}: {}",
            String::from_utf8_lossy(&a.body)
        );
        let (_, parts) = split_binary(&a);
        if classifier {
            let labels = parts[0]
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
                .collect();
            let probs = f32s(&parts[1]).iter().map(|&p| p as f64).collect();
            check_outputs(name, &expected, Some(labels), probs);
        } else {
            let values = f32s(&parts[0]).iter().map(|&p| p as f64).collect();
            check_outputs(name, &expected, None, values);
        }

        // v2 JSON.
        let a = s
            .json(
                Method::POST,
                &format!("/v2/models/{endpoint}/infer"),
                json!({"inputs": [{"name": "input", "shape": [n, 10], "datatype": "FP32", "data": rows}]}),
            )
            .await;
        let body = a.json();
        let floats_of = |o: &Value| -> Vec<f64> {
            o["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        };
        if classifier {
            let labels = body["outputs"][0]["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect();
            check_outputs(
                name,
                &expected,
                Some(labels),
                floats_of(&body["outputs"][1]),
            );
        } else {
            check_outputs(name, &expected, None, floats_of(&body["outputs"][0]));
        }

        // MLflow: labels (or values) only.
        let a = s
            .json(
                Method::POST,
                &format!("/endpoints/{endpoint}/invocations"),
                json!({"dataframe_split": {"data": rows}}),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{name}");
        let predictions = a.json()["predictions"].as_array().unwrap().clone();
        if classifier {
            let got: Vec<i64> = predictions.iter().map(|v| v.as_i64().unwrap()).collect();
            let want: Vec<i64> = expected["expected"]["label"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect();
            assert_eq!(got, want, "{name}: MLflow labels");
        } else {
            let got: Vec<f64> = predictions.iter().map(|v| v.as_f64().unwrap()).collect();
            check_outputs(name, &expected, None, got);
        }

        // Native rows as lists, probabilities by class name.
        let a = s
            .json(
                Method::POST,
                &format!("/api/v1/endpoints/{endpoint}/predict"),
                json!({ "rows": rows }),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{name}");
        let body = a.json();
        let predictions = body["predictions"].as_array().unwrap();
        if classifier {
            let labels = predictions
                .iter()
                .map(|p| p["label"].as_str().unwrap().parse().unwrap())
                .collect();
            let probs = predictions
                .iter()
                .flat_map(|p| {
                    let k = p["probabilities"].as_object().unwrap().len();
                    (0..k)
                        .map(|c| p["probabilities"][c.to_string()].as_f64().unwrap())
                        .collect::<Vec<_>>()
                })
                .collect();
            check_outputs(name, &expected, Some(labels), probs);
        } else {
            let values = predictions
                .iter()
                .map(|p| p["value"].as_f64().unwrap())
                .collect();
            check_outputs(name, &expected, None, values);
        }

        // A row with the wrong width is a 400 naming the counts.
        let a = s
            .json(
                Method::POST,
                &format!("/v2/models/{endpoint}/infer"),
                json!({"inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]}),
            )
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{name}");
        assert!(a.json()["error"].as_str().unwrap().contains("[-1, 10]"));
    }
}
