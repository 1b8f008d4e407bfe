//! Times the dashboard's runs page (`/ui/runs`) over a SQLite store of 10,000 runs: the first
//! page, a page deep in the pagination, and an MLflow-grammar filter with an order. The runs are
//! seeded through the store API (one `create_tracked_run` and one `log_batch` transaction per
//! run: 4 params, 3 metrics of which one has 5 steps, 2 tags), then each page is requested on
//! the `app()` router in-process (no socket), a warm-up first, and the per-request times are
//! printed as a Markdown table. Figures are in docs/benchmarks.md.
//!
//! Usage: ui_runs_bench [--runs N] [--reps R] [--db PATH]
//!   --db reuses a store seeded by an earlier invocation (seeding is skipped when the file
//!   exists); without it the store lives in a temporary folder.

use aidlc_server::{AppState, Role, ServerConfig, app};
use aidlc_store::{
    AliasPolicy, AuditContext, KeyValue, LogBatch, Metric, NewTrackedRun, RunUpdate, Store,
    TrackingStore,
};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tower::ServiceExt;

struct Args {
    runs: usize,
    reps: usize,
    db: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        runs: 10_000,
        reps: 7,
        db: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--runs" => a.runs = value.parse().expect("--runs N"),
            "--reps" => a.reps = value.parse().expect("--reps R"),
            "--db" => a.db = Some(value.into()),
            other => panic!("unknown flag {other}: use --runs N, --reps R, --db PATH"),
        }
    }
    a
}

/// A deterministic value in [0, 1) for run `i` and field `k` (SplitMix64), so every seeded
/// store holds the same numbers.
fn unit(i: u64, k: u64) -> f64 {
    let mut z = i
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(k.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

async fn seed(store: &Store, runs: usize) {
    let ctx = AuditContext {
        actor: "bench".into(),
        at_ms: 1_750_000_000_000,
        reason: None,
    };
    let kv = |k: &str, v: String| KeyValue {
        key: k.into(),
        value: v,
    };
    let started = Instant::now();
    for i in 0..runs {
        let n = i as u64;
        let run = store
            .create_tracked_run(
                &ctx,
                NewTrackedRun {
                    experiment_id: 0,
                    name: format!("run-{i:05}"),
                    user_id: "bench".into(),
                    start_time: 1_750_000_000_000 + i as i64 * 1000,
                    tags: vec![kv("team", ["search", "ranking", "ads"][i % 3].into())],
                },
            )
            .await
            .expect("create run");
        let metric = |key: &str, value: f64, step: i64| Metric {
            key: key.into(),
            value,
            timestamp: 1_750_000_000_000 + i as i64 * 1000 + step,
            step,
            model_id: None,
            dataset_name: None,
            dataset_digest: None,
        };
        let mut metrics = vec![metric("x", unit(n, 1), 0), metric("acc", unit(n, 2), 0)];
        for step in 0..5 {
            metrics.push(metric("loss", 1.0 / (step as f64 + 1.0) + unit(n, 3), step));
        }
        store
            .log_batch(
                &ctx,
                &run.id,
                LogBatch {
                    metrics,
                    params: vec![
                        kv("y", ["z", "a", "b", "c"][i % 4].into()),
                        kv("lr", format!("{:.4}", unit(n, 4) / 10.0)),
                        kv("depth", (3 + i % 8).to_string()),
                        kv("trainer", ["gbdt", "logistic"][i % 2].into()),
                    ],
                    tags: vec![kv("sweep", format!("s{}", i / 100))],
                },
            )
            .await
            .expect("log batch");
        store
            .update_tracked_run(
                &ctx,
                &run.id,
                RunUpdate {
                    status: Some(aidlc_core::records::RunStatus::Finished),
                    end_time: Some(1_750_000_000_000 + i as i64 * 1000 + 900),
                    name: None,
                },
            )
            .await
            .expect("finish run");
        if (i + 1) % 1000 == 0 {
            eprintln!(
                "seeded {} runs in {:.1} s",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
}

/// One GET on the router: the status, the body length and the milliseconds it took.
async fn get(router: &axum::Router, path: &str) -> (StatusCode, usize, f64) {
    let started = Instant::now();
    let resp = router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, body.len(), started.elapsed().as_secs_f64() * 1000.0)
}

fn main() {
    let a = args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let tmp = tempfile::tempdir().unwrap();
        let db = a.db.clone().unwrap_or_else(|| tmp.path().join("aidlc.db"));
        let fresh = !db.exists();
        let store = Store::open(&db.display().to_string()).await.unwrap();
        if fresh {
            seed(&store, a.runs).await;
        }
        let router = app(AppState::new(ServerConfig {
            store,
            mlflow_artifacts: tmp.path().join("mlflow"),
            alias_policy: AliasPolicy::default(),
            actor: "bench".into(),
            clock: Arc::new(|| 1_760_000_000_000),
            artifacts: tmp.path().join("artifacts"),
            default_endpoint: None,
            prediction_log: None,
            shadow_queue: 16,
            role: Role::All,
            monitor: None,
            spec: None,
        }));
        let deep = (a.runs as i64 - 50).max(0) / 50 * 50 - 1000;
        let cases = [
            ("first page (50 runs, newest first)", "/ui/runs".to_string()),
            (
                "a page deep in the pagination",
                format!("/ui/runs?page={}", deep.max(0)),
            ),
            (
                "filter `metrics.x > 0.5 and params.y = 'z'`, ordered by metrics.acc DESC",
                "/ui/runs?filter=metrics.x%20%3E%200.5%20and%20params.y%20%3D%20%27z%27&order=metrics.acc%20DESC"
                    .to_string(),
            ),
            (
                "the same filter, its last page",
                "/ui/runs?filter=metrics.x%20%3E%200.5%20and%20params.y%20%3D%20%27z%27&order=metrics.acc%20DESC&page=1200"
                    .to_string(),
            ),
            (
                "ordered by a param (params.lr ASC)",
                "/ui/runs?order=params.lr%20ASC".to_string(),
            ),
        ];
        println!(
            "| request ({} runs) | median ms | min ms | max ms | page bytes |",
            a.runs
        );
        println!("| --- | --- | --- | --- | --- |");
        for (label, path) in &cases {
            let (status, _, _) = get(&router, path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            let mut times = Vec::new();
            let mut bytes = 0;
            for _ in 0..a.reps {
                let (status, len, ms) = get(&router, path).await;
                assert_eq!(status, StatusCode::OK, "{path}");
                bytes = len;
                times.push(ms);
            }
            times.sort_by(f64::total_cmp);
            println!(
                "| {label} (`{path}`) | {:.1} | {:.1} | {:.1} | {bytes} |",
                times[times.len() / 2],
                times[0],
                times[times.len() - 1]
            );
        }
    });
}
