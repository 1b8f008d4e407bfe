//! The real `aidlc server` binary in a temporary folder: it starts on port 0, announces its
//! address on stdout, answers HTTP, and stops cleanly on SIGTERM. Plus `aidlc models` against
//! the same store, including the governed `champion` alias and its audited override.

#[path = "common/binary.rs"]
#[allow(dead_code)] // each test binary uses a part of it
mod binary;

use binary::{aidlc, start};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command};

/// A minimal HTTP/1.1 exchange (one request per connection).
fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, serde_json::Value) {
    try_http(addr, method, path, body).expect("HTTP exchange")
}

/// Like [`http`], but a refused or cut connection (a server that died) is an error, not a panic.
fn try_http(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> std::io::Result<(u16, serde_json::Value)> {
    let mut stream = TcpStream::connect(addr)?;
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw)?;
    let status: u16 = raw
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("no HTTP status in `{raw}`"),
            )
        })?;
    let payload = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok((
        status,
        serde_json::from_str(payload).unwrap_or(serde_json::Value::Null),
    ))
}

fn stop(mut child: Child) {
    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

#[test]
fn server_starts_on_port_zero_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (child, addr) = start(dir.path());
    let (status, health) = http(&addr, "GET", "/health", None);
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let (status, created) = http(
        &addr,
        "POST",
        "/api/2.0/mlflow/experiments/create",
        Some(r#"{"name":"e1"}"#),
    );
    assert_eq!(status, 200, "{created}");
    let id = created["experiment_id"].as_str().unwrap().to_string();
    let (status, got) = http(
        &addr,
        "GET",
        &format!("/api/2.0/mlflow/experiments/get?experiment_id={id}"),
        None,
    );
    assert_eq!(
        (status, got["experiment"]["name"].as_str()),
        (200, Some("e1"))
    );
    let (status, err) = http(&addr, "GET", "/api/2.0/mlflow/runs/get?run_id=0123", None);
    assert_eq!(
        (status, err["error_code"].as_str()),
        (404, Some("RESOURCE_DOES_NOT_EXIST"))
    );
    stop(child);
    // The store outlives the process.
    assert!(dir.path().join(".aidlc/aidlc.db").exists());
}

#[test]
fn models_cli_registers_and_governs_champion() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.onnx");
    std::fs::write(&model, b"not really onnx, but bytes to hash").unwrap();
    let run = |args: &[&str]| {
        let out = aidlc(dir.path()).args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(&[
        "models",
        "register",
        "loans",
        "--file",
        model.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("registered loans version 1 (blake3:"), "{out}");
    let (ok, out, _) = run(&["models", "list"]);
    assert!(ok && out.contains("loans"), "{out}");

    // Without a passing report, champion is refused; with --override it moves and is audited.
    let (ok, _, err) = run(&["models", "alias", "loans", "champion", "1"]);
    assert!(!ok && err.contains("evaluation report"), "{err}");
    let (ok, out, err) = run(&[
        "models",
        "alias",
        "loans",
        "champion",
        "1",
        "--override",
        "launch approved by risk",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("override: launch approved by risk"), "{out}");
    let (ok, out, _) = run(&["audit", "list"]);
    assert!(
        ok && out.contains("alias.set_override") && out.contains("launch approved by risk"),
        "{out}"
    );

    let (ok, out, err) = run(&["models", "show", "loans@champion"]);
    assert!(ok && out.contains("champion"), "{out}{err}");
    let (ok, out, err) = run(&["models", "lineage", "loans@champion"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("artifact") && out.contains("dataset version") && out.contains("MISSING"),
        "{out}"
    );
    let (ok, _, err) = run(&["models", "show", "loans/9"]);
    assert!(!ok && err.contains("no version 9"), "{err}");
}

/// Train → evaluate → champion → `aidlc deploy` → the server answers the MLflow scoring
/// protocol and the native rows endpoint with the deployed version, and follows an alias move.
#[test]
fn a_deployed_endpoint_serves_the_alias_and_follows_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |args: &[&str]| {
        let o = aidlc(d).args(args).output().expect("aidlc runs");
        assert!(
            o.status.success(),
            "aidlc {args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    run(&["init", "--example", "rainfall"]);
    let all = std::fs::read_to_string(d.join("data/rainfall.csv")).unwrap();
    let early: Vec<&str> = all.lines().take(6001).collect();
    std::fs::write(d.join("data/early.csv"), early.join("\n") + "\n").unwrap();
    run(&["train", "--data", "data/early.csv"]);
    run(&[
        "models",
        "alias",
        "rainfall",
        "champion",
        "1",
        "--override",
        "test",
    ]);
    // Deploying needs the alias to exist.
    let refused = aidlc(d)
        .args([
            "deploy", "rain", "--model", "rainfall", "--alias", "missing",
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    run(&["deploy", "rain", "--model", "rainfall"]);

    let (child, addr) = start(d);
    let row = r#"{"temperature": 0.1, "dew point": 0.3, "sea-level pressure": -0.2, "visibility": -1.0, "average wind speed": 0.5, "max sustained wind-speed": 0.4, "minimum temperature": 0.0, "maximum temperature": 0.2}"#;
    let (status, body) = http(
        &addr,
        "POST",
        "/invocations",
        Some(&format!(r#"{{"dataframe_records": [{row}]}}"#)),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["predictions"].as_array().map(Vec::len),
        Some(1),
        "{body}"
    );
    let (status, body) = http(
        &addr,
        "POST",
        "/api/v1/endpoints/rain/predict",
        Some(&format!(r#"{{"rows": [{row}]}}"#)),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 1, "{body}");
    // A missing feature is a 400 naming it.
    let (status, body) = http(
        &addr,
        "POST",
        "/api/v1/endpoints/rain/predict",
        Some(r#"{"rows": [{"temperature": 0.1}]}"#),
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("dew point"), "{body}");

    // A second version takes the alias from the command line; the server follows within a
    // second (it rechecks deployments it did not change itself).
    run(&["train", "--data", "data/early.csv"]);
    run(&[
        "models",
        "alias",
        "rainfall",
        "champion",
        "2",
        "--override",
        "test",
    ]);
    let mut version = serde_json::Value::Null;
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let (_, body) = http(
            &addr,
            "POST",
            "/api/v1/endpoints/rain/predict",
            Some(&format!(r#"{{"rows": [{row}]}}"#)),
        );
        version = body["version"].clone();
        if version == 2 {
            break;
        }
    }
    assert_eq!(version, 2, "the endpoint did not follow the alias");
    stop(child);
}

/// Kills a server that a failing test did not stop, so no process outlives the test (a live
/// server would also hold the test's output pipe open).
struct Running(Option<Child>);

impl Running {
    fn take(&mut self) -> Child {
        self.0.take().expect("the server is running")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Metrics per `log-batch` request in the crash test, each its own key.
const CRASH_BATCH_KEYS: usize = 25;

/// What aidlc acknowledged survives a kill -9: a client logs metrics one at a time and in
/// batches through the MLflow API, the server is killed with SIGKILL in the middle of that stream
/// (right after an acknowledgement, with the next request possibly in flight), and after a
/// restart on the same folder every acknowledged metric is there, no batch is half there, and
/// the audit chain verifies. This holds with the default `sync = normal`, which acknowledges a
/// write once it is in SQLite's WAL file, before any fsync.
#[test]
fn acknowledged_metrics_survive_kill_9() {
    use std::os::unix::process::ExitStatusExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let dir = tempfile::tempdir().unwrap();
    let (child, addr) = start(dir.path());
    let mut first = Running(Some(child));
    let (status, exp) = http(
        &addr,
        "POST",
        "/api/2.0/mlflow/experiments/create",
        Some(r#"{"name":"crash"}"#),
    );
    assert_eq!(status, 200, "{exp}");
    let exp_id = exp["experiment_id"].as_str().unwrap().to_string();
    let (status, run) = http(
        &addr,
        "POST",
        "/api/2.0/mlflow/runs/create",
        Some(&format!(r#"{{"experiment_id":"{exp_id}"}}"#)),
    );
    assert_eq!(status, 200, "{run}");
    let run_id = run["run"]["info"]["run_id"].as_str().unwrap().to_string();

    // The client: every fifth request is a batch, the others single log-metric calls. It stops
    // at the first request the dead server cannot answer, and returns the acknowledged steps.
    let acked = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (addr, run_id, acked) = (addr.clone(), run_id.clone(), Arc::clone(&acked));
        std::thread::spawn(move || {
            let (mut singles, mut batches) = (Vec::new(), Vec::new());
            for step in 0..100_000_i64 {
                let batch = step % 5 == 4;
                let answer = if batch {
                    let metrics: Vec<String> = (0..CRASH_BATCH_KEYS)
                        .map(|k| {
                            format!(
                                r#"{{"key":"b{k}","value":{},"timestamp":1700000000000,"step":{step}}}"#,
                                step as f64 + k as f64 / 100.0
                            )
                        })
                        .collect();
                    try_http(
                        &addr,
                        "POST",
                        "/api/2.0/mlflow/runs/log-batch",
                        Some(&format!(
                            r#"{{"run_id":"{run_id}","metrics":[{}]}}"#,
                            metrics.join(",")
                        )),
                    )
                } else {
                    try_http(
                        &addr,
                        "POST",
                        "/api/2.0/mlflow/runs/log-metric",
                        Some(&format!(
                            r#"{{"run_id":"{run_id}","key":"single","value":{},"timestamp":1700000000000,"step":{step}}}"#,
                            step as f64 * 0.5
                        )),
                    )
                };
                match answer {
                    Ok((200, _)) => {
                        if batch {
                            batches.push(step);
                        } else {
                            singles.push(step);
                        }
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok((status, body)) => panic!("step {step}: {status} {body}"),
                    Err(_) => break,
                }
            }
            (singles, batches)
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while acked.load(Ordering::SeqCst) < 500 {
        assert!(
            std::time::Instant::now() < deadline,
            "the client got no 500 acknowledgements in 2 minutes"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let mut child = first.take();
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "killed by SIGKILL, got {status}");
    let (singles, batches) = writer.join().unwrap();
    assert!(singles.len() >= 400 && batches.len() >= 100, "{singles:?}");

    // The same folder, a new process: SQLite recovers from its WAL.
    let (child, addr) = start(dir.path());
    let mut second = Running(Some(child));
    let history = |key: &str| -> Vec<(i64, f64)> {
        let (status, body) = http(
            &addr,
            "GET",
            &format!(
                "/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key={key}&max_results=25000"
            ),
            None,
        );
        assert_eq!(status, 200, "{body}");
        body["metrics"]
            .as_array()
            .map(|ms| {
                ms.iter()
                    .map(|m| (m["step"].as_i64().unwrap(), m["value"].as_f64().unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let stored: std::collections::HashMap<i64, f64> = history("single").into_iter().collect();
    for step in &singles {
        assert_eq!(
            stored.get(step),
            Some(&(*step as f64 * 0.5)),
            "acknowledged log-metric at step {step} is missing after kill -9 (last acknowledged: {:?})",
            singles.last()
        );
    }
    // Each batch is one transaction: after the crash it is there whole or not at all, and it is
    // there whenever it was acknowledged.
    let first: Vec<i64> = history("b0").into_iter().map(|(s, _)| s).collect();
    for step in &batches {
        assert!(
            first.contains(step),
            "acknowledged log-batch at step {step} is missing after kill -9"
        );
    }
    for k in 1..CRASH_BATCH_KEYS {
        let got: Vec<(i64, f64)> = history(&format!("b{k}"));
        let steps: Vec<i64> = got.iter().map(|(s, _)| *s).collect();
        assert_eq!(steps, first, "key b{k} differs from b0: a batch was cut");
        for (step, value) in got {
            assert_eq!(value, step as f64 + k as f64 / 100.0);
        }
    }
    stop(second.take());

    let verify = aidlc(dir.path())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "the audit chain does not verify after kill -9: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}
