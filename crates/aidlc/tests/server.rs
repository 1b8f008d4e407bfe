//! The real `aidlc server` binary in a temporary folder: it starts on port 0, announces its
//! address on stdout, answers HTTP, and stops cleanly on SIGTERM. Plus `aidlc models` against
//! the same store, including the governed `champion` alias and its audited override.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

fn aidlc(dir: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aidlc"));
    c.current_dir(dir)
        .env_remove("AIDLC_STORE")
        .env_remove("AIDLC_ARTIFACTS")
        .env_remove("AIDLC_PROJECT");
    c
}

/// Starts the server and reads the ready line for its address.
fn start(dir: &std::path::Path) -> (Child, String) {
    let mut child = aidlc(dir)
        .args(["server", "--bind", "127.0.0.1:0", "--log-level", "warn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start aidlc server");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .expect("ready line");
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .filter(|a| a.contains(':'))
        .unwrap_or_else(|| panic!("unexpected ready line `{line}`"))
        .to_string();
    (child, addr)
}

/// A minimal HTTP/1.1 exchange (one request per connection).
fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, serde_json::Value) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let status: u16 = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    let payload = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (
        status,
        serde_json::from_str(payload).unwrap_or(serde_json::Value::Null),
    )
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
