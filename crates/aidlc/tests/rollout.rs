//! Progressive delivery through the real binary: a canary whose model is broken (inverted
//! probabilities) is rolled back by the controller with the evidence in the audit log; a healthy
//! version goes through shadow (both versions' predictions logged for the same requests, their
//! disagreement reported) and canary steps to promotion; and a kill -9 under load loses no
//! acknowledged prediction from the log.

#[path = "common/binary.rs"]
#[allow(dead_code)] // each test binary uses a part of it
mod binary;

use aidlc_store::predlog::{LocalLogConfig, LocalPredictionLog, PredictionLog, ScanQuery, Variant};
use binary::{aidlc, run, start};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One request per connection; answers the status and the body.
fn post(addr: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    let status: u16 = raw.split_whitespace().nth(1)?.parse().ok()?;
    let payload = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Some((status, payload.to_string()))
}

/// The rainfall rows as `dataframe_records` bodies of one row each.
fn rows(dir: &Path, n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("data/rainfall.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .take(n)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let pairs: Vec<String> = header
                .iter()
                .zip(&fields)
                .filter(|(h, _)| !h.is_empty() && **h != "rain")
                .map(|(h, v)| format!("\"{h}\": {v}"))
                .collect();
            format!(r#"{{"dataframe_records": [{{{}}}]}}"#, pairs.join(", "))
        })
        .collect()
}

/// Sends rows to the endpoint from a thread until `stop` is set; each with its own entity.
fn traffic(
    addr: String,
    bodies: Arc<Vec<String>>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut ok = 0;
        let mut i = 0usize;
        while !stop.load(Ordering::Relaxed) {
            let body = &bodies[i % bodies.len()];
            let entity = format!("station-{i}");
            if let Some((200, _)) = post(
                &addr,
                "/endpoints/rain/invocations",
                &[("x-aidlc-entity-id", &entity)],
                body,
            ) {
                ok += 1;
            }
            i += 1;
        }
        ok
    })
}

fn status(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&run(dir, &["--json", "deploy", "status", "rain"])).unwrap()
}

/// Waits until the rollout reaches `wanted` (or fails the test after `limit`).
fn wait_for(dir: &Path, wanted: &str, limit: Duration) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let s = status(dir);
        let now = s["rollout"]["status"].as_str().unwrap_or("").to_string();
        if now == wanted {
            return s;
        }
        assert!(
            started.elapsed() < limit,
            "rollout still `{now}` after {limit:?}, wanted `{wanted}`: {s:#}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// A project with a trained logistic model as version 1 serving `rain` through `champion`.
fn project(dir: &Path) {
    run(dir, &["init", "--example", "rainfall"]);
    let spec = std::fs::read_to_string(dir.join("aidlc.toml"))
        .unwrap()
        .replace("builtin = \"gbdt\"", "builtin = \"logistic\"");
    let spec = spec
        + "\n[deploy]\nsteps = [\"shadow\", \"50%\", \"100%\"]\ninterval = \"1s\"\nmin_requests = 20\nfailures_to_rollback = 2\napproval = \"required\"\n";
    std::fs::write(dir.join("aidlc.toml"), spec).unwrap();
    let all = std::fs::read_to_string(dir.join("data/rainfall.csv")).unwrap();
    let early: Vec<&str> = all.lines().take(6001).collect();
    std::fs::write(dir.join("data/early.csv"), early.join("\n") + "\n").unwrap();
    run(dir, &["train", "--data", "data/early.csv"]);
    run(
        dir,
        &[
            "models",
            "alias",
            "rainfall",
            "champion",
            "1",
            "--override",
            "test",
        ],
    );
    run(dir, &["deploy", "rain", "--model", "rainfall"]);
}

/// The built-in model file of version 1, found in the artifact store by its format.
fn version_one_model(dir: &Path) -> serde_json::Value {
    let mut stack = vec![dir.join(".aidlc/artifacts")];
    while let Some(p) = stack.pop() {
        for entry in std::fs::read_dir(&p).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path)
                && text.contains("aidlc.model.v1")
                && text.contains("\"weights\"")
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            {
                return v;
            }
        }
    }
    panic!("no built-in linear model in the artifact store");
}

/// Negates every number under `weights` and `bias`: the model's probabilities invert.
fn invert(v: &mut serde_json::Value, inside: bool) {
    match v {
        serde_json::Value::Number(n) if inside => {
            *v = serde_json::json!(-n.as_f64().unwrap());
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|i| invert(i, inside)),
        serde_json::Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                invert(child, inside || k == "weights" || k == "bias");
            }
        }
        _ => {}
    }
}

#[test]
fn a_broken_canary_is_rolled_back_and_a_healthy_version_is_promoted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    project(d);
    let model = version_one_model(d);
    let mut broken = model.clone();
    invert(&mut broken, false);
    std::fs::write(d.join("broken.json"), broken.to_string()).unwrap();
    std::fs::write(d.join("healthy.json"), model.to_string()).unwrap();
    run(
        d,
        &["models", "register", "rainfall", "--file", "broken.json"],
    );
    run(
        d,
        &["models", "register", "rainfall", "--file", "healthy.json"],
    );

    // Without a passing evaluation the protected alias refuses the candidate up front.
    let refused = aidlc(d)
        .args(["deploy", "rain", "--version", "2", "--strategy", "canary"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("protected"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let (mut child, addr) = start(d);
    let bodies = Arc::new(rows(d, 400));
    let stop = Arc::new(AtomicBool::new(false));
    let sender = traffic(addr.clone(), Arc::clone(&bodies), Arc::clone(&stop));

    run(
        d,
        &[
            "deploy",
            "rain",
            "--version",
            "2",
            "--strategy",
            "canary",
            "--override",
            "testing a broken model",
        ],
    );
    let after = wait_for(d, "rolled_back", Duration::from_secs(60));
    let reason = after["rollout"]["reason"].as_str().unwrap().to_string();
    assert!(
        reason.contains("disagreement") || reason.contains("prediction_drift"),
        "{reason}"
    );
    assert_eq!(after["production_version"], 1, "{after:#}");
    let audit = run(
        d,
        &["--json", "audit", "list", "--object", "deployment:rain"],
    );
    assert!(audit.contains("rollout.rollback"), "{audit}");
    assert!(audit.contains("rollout-controller"), "{audit}");

    // A healthy version: shadow, then 50%, then 100%, then promotion.
    run(
        d,
        &[
            "deploy",
            "rain",
            "--version",
            "3",
            "--strategy",
            "shadow",
            "--override",
            "same model, new version",
        ],
    );
    // A restart mid-rollout: the state is in the store, so the new server's controller resumes.
    let started = Instant::now();
    while status(d)["rollout"]["step"].as_u64() < Some(1) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the shadow step never passed"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    stop.store(true, Ordering::Relaxed);
    let before_restart = sender.join().unwrap();
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(child.wait().unwrap().success());
    let (restarted, addr) = start(d);
    child = restarted;
    let stop = Arc::new(AtomicBool::new(false));
    let sender = traffic(addr.clone(), Arc::clone(&bodies), Arc::clone(&stop));

    // Every step passes; promotion waits for a person ([deploy] approval = "required").
    let waiting = wait_for(d, "awaiting_approval", Duration::from_secs(90));
    assert_eq!(waiting["production_version"], 1, "{waiting:#}");
    run(
        d,
        &["approve", "rain", "--reason", "shadow and canary are clean"],
    );
    let promoted = status(d);
    assert_eq!(promoted["rollout"]["status"], "promoted", "{promoted:#}");
    assert_eq!(promoted["production_version"], 3, "{promoted:#}");
    let analyses = promoted["rollout"]["analyses"].as_array().unwrap();
    let shadow = analyses
        .iter()
        .find(|a| a["step_label"] == "shadow" && a["verdict"] == "pass")
        .unwrap_or_else(|| panic!("no passing shadow analysis: {promoted:#}"));
    assert_eq!(shadow["measurements"]["disagreement"], 0.0, "{shadow:#}");
    assert!(
        shadow["measurements"]["compared"].as_u64().unwrap() >= 20,
        "{shadow:#}"
    );
    stop.store(true, Ordering::Relaxed);
    let answered = before_restart + sender.join().unwrap();
    assert!(answered > 40, "only {answered} requests answered");
    let audit = run(
        d,
        &["--json", "audit", "list", "--object", "deployment:rain"],
    );
    assert!(audit.contains("rollout.approve"), "{audit}");
    assert!(audit.contains("shadow and canary are clean"), "{audit}");

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(child.wait().unwrap().success());

    // The log holds both versions' predictions for the same shadowed requests.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let frame = runtime.block_on(async {
        let log =
            LocalPredictionLog::open(LocalLogConfig::new(d.join(".aidlc/predictions"))).unwrap();
        let frame = log
            .scan(&ScanQuery::window("rain", 0, i64::MAX))
            .await
            .unwrap();
        log.close().await.unwrap();
        frame
    });
    let shadowed: HashSet<&str> = (0..frame.len())
        .filter(|&i| frame.variant[i] == Variant::Shadow && frame.version[i] == 3)
        .map(|i| frame.request_id[i].as_str())
        .collect();
    let production: HashSet<&str> = (0..frame.len())
        .filter(|&i| frame.variant[i] == Variant::Production && frame.version[i] == 1)
        .map(|i| frame.request_id[i].as_str())
        .collect();
    assert!(shadowed.len() >= 20, "{} shadow records", shadowed.len());
    assert!(
        shadowed.iter().all(|id| production.contains(id)),
        "a shadow record without its production twin"
    );
    assert!(
        (0..frame.len()).any(|i| frame.variant[i] == Variant::Canary && frame.version[i] == 2),
        "the broken canary's answers are logged too"
    );
}

#[test]
fn no_acknowledged_prediction_is_lost_to_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    project(d);
    let (mut child, addr) = start(d);
    let bodies = Arc::new(rows(d, 50));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..4)
        .map(|t| {
            let (addr, bodies, stop) = (addr.clone(), Arc::clone(&bodies), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let id = format!("kill-{t}-{i}");
                    if let Some((200, _)) = post(
                        &addr,
                        "/invocations",
                        &[("x-request-id", &id)],
                        &bodies[i % bodies.len()],
                    ) {
                        acked.push(id);
                    }
                    i += 1;
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    // kill -9 while the senders are still sending.
    child.kill().unwrap();
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<String> = senders
        .into_iter()
        .flat_map(|s| s.join().unwrap())
        .collect();
    assert!(
        acked.len() > 50,
        "only {} answers before the kill",
        acked.len()
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let logged: HashSet<String> = runtime.block_on(async {
        let log =
            LocalPredictionLog::open(LocalLogConfig::new(d.join(".aidlc/predictions"))).unwrap();
        let frame = log
            .scan(&ScanQuery::window("rain", 0, i64::MAX))
            .await
            .unwrap();
        log.close().await.unwrap();
        frame.request_id.into_iter().collect()
    });
    let missing: Vec<&String> = acked.iter().filter(|id| !logged.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged predictions missing from the log, e.g. {:?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
}

#[test]
fn the_retraining_pipeline_trains_evaluates_waits_for_approval_and_hands_off() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    project(d);
    // The challenger is judged by the example's gates without the calibration one.
    let spec = std::fs::read_to_string(d.join("aidlc.toml"))
        .unwrap()
        .replace("calibrated = \"ece <= 0.05\"\n", "")
        + "\n[iterate]\ndata = \"data/rainfall.csv\"\nrecent = \"3000d\"\nendpoint = \"rain\"\nstrategy = \"canary\"\napproval = \"required\"\n";
    std::fs::write(d.join("aidlc.toml"), spec).unwrap();
    let out = run(d, &["--json", "loop", "run"]);
    let run_json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(run_json["status"], "awaiting_approval", "{run_json:#}");
    let steps: Vec<String> = run_json["state"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}:{}",
                s["name"].as_str().unwrap(),
                s["status"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            "data:done",
            "train:done",
            "evaluate:done",
            "approval:waiting"
        ]
    );
    assert_eq!(run_json["state"]["steps"][0]["evidence"]["rows"], 3000);
    assert_eq!(run_json["state"]["challenger"], 2);
    // One pipeline per model at a time.
    let second = aidlc(d).args(["loop", "run"]).output().unwrap();
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("already has a pipeline"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let status_text = run(d, &["loop", "status"]);
    assert!(
        status_text.contains("waits for `aidlc loop approve`"),
        "{status_text}"
    );

    // Rejected: the run ends with who and why, nothing is rolled out, and the model may run
    // again (the same data trains the same challenger, which waits again).
    let rejected: serde_json::Value = serde_json::from_str(&run(
        d,
        &[
            "--json",
            "loop",
            "reject",
            "rainfall",
            "--reason",
            "wait for the new labels",
        ],
    ))
    .unwrap();
    assert_eq!(rejected["status"], "rejected", "{rejected:#}");
    assert!(
        rejected["state"]["reason"]
            .as_str()
            .unwrap()
            .ends_with(": wait for the new labels"),
        "{rejected:#}"
    );
    assert!(status(d)["rollout"].is_null(), "nothing rolled out");
    let nothing = aidlc(d)
        .args(["reject", "rain", "--reason", "x"])
        .output()
        .unwrap();
    assert!(
        !nothing.status.success()
            && String::from_utf8_lossy(&nothing.stderr).contains("has no rollout to reject"),
        "{}",
        String::from_utf8_lossy(&nothing.stderr)
    );
    let again = aidlc(d)
        .args(["loop", "reject", "rainfall", "--reason", "x"])
        .output()
        .unwrap();
    assert!(
        !again.status.success()
            && String::from_utf8_lossy(&again.stderr).contains("no pipeline awaiting approval"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let rerun: serde_json::Value =
        serde_json::from_str(&run(d, &["--json", "loop", "run"])).unwrap();
    assert_eq!(rerun["status"], "awaiting_approval", "{rerun:#}");
    assert_eq!(rerun["state"]["challenger"], 3);

    let approved: serde_json::Value = serde_json::from_str(&run(
        d,
        &[
            "--json",
            "loop",
            "approve",
            "rainfall",
            "--reason",
            "reviewed the card",
        ],
    ))
    .unwrap();
    assert_eq!(approved["status"], "handed_off", "{approved:#}");
    // The controller now owns the challenger: a canary rollout of version 3 on `rain`.
    let s = status(d);
    assert_eq!(s["rollout"]["candidate"], 3, "{s:#}");
    assert_eq!(s["rollout"]["status"], "running", "{s:#}");
    assert_eq!(s["rollout"]["strategy"], "canary", "{s:#}");
    assert_eq!(s["production_version"], 1);
    let audit = run(d, &["--json", "audit", "list", "--object", "pipeline"]);
    for action in [
        "pipeline.start",
        "pipeline.train",
        "pipeline.evaluate",
        "pipeline.approval",
        "pipeline.reject",
        "pipeline.rollout",
    ] {
        assert!(audit.contains(action), "{action} missing: {audit}");
    }
    assert!(audit.contains("reviewed the card"), "{audit}");
    assert!(audit.contains("wait for the new labels"), "{audit}");
}
