//! Monitoring through the real binary on the car-loan example: a model trained on the reference
//! applications serves live traffic whose inputs shift half-way (NannyML's covariate shift from
//! analysis row 25,000: `car_value`, `loan_length`, `repaid_loan_on_prev_car` and
//! `salary_range` drift, the others do not). The server's scheduler monitors the windows, the
//! drift signals name exactly the drifting features, and the drift alert reaches a local
//! webhook receiver; `aidlc monitor status` and `aidlc monitor run` read the same results while
//! the server still owns the prediction log.

#[path = "common/binary.rs"]
#[allow(dead_code)] // each test binary uses a part of it
mod binary;

use aidlc_store::{MonitorQuery, MonitorStore, Store};
use binary::{run, start};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DRIFTING: [&str; 4] = [
    "car_value",
    "loan_length",
    "repaid_loan_on_prev_car",
    "salary_range",
];

fn post(addr: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let status = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    let payload = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, payload.to_string())
}

/// A webhook receiver on a thread: answers 200 and keeps every body.
fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&bodies);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            if reader.read_exact(&mut body).is_ok() {
                kept.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&body).into_owned());
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (url, bodies)
}

/// The analysis applications as JSON rows (booleans as 0/1), in file order.
fn analysis_rows(dir: &Path) -> Vec<String> {
    let file = std::fs::File::open(dir.join("data/analysis.csv.gz")).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|line| {
            let pairs: Vec<String> = header
                .iter()
                .zip(line.split(','))
                .filter(|(h, _)| !matches!(**h, "id" | "timestamp" | "y_pred_proba" | "y_pred"))
                .map(|(h, v)| match (*h, v) {
                    ("salary_range" | "size_of_downpayment", v) => format!("\"{h}\": \"{v}\""),
                    ("repaid_loan_on_prev_car", v) => {
                        format!("\"{h}\": {}", u8::from(v == "True"))
                    }
                    (_, v) => format!("\"{h}\": {v}"),
                })
                .collect();
            format!("{{{}}}", pairs.join(", "))
        })
        .collect()
}

/// Sends `rows` in batches of 100 for `seconds`, cycling through them.
fn send_for(addr: &str, rows: &[String], seconds: f64) -> usize {
    let started = Instant::now();
    let mut sent = 0;
    while started.elapsed().as_secs_f64() < seconds {
        let batch: Vec<&str> = (0..100)
            .map(|k| rows[(sent + k) % rows.len()].as_str())
            .collect();
        let body = format!(r#"{{"dataframe_records": [{}]}}"#, batch.join(", "));
        let (status, answer) = post(addr, "/endpoints/cars/invocations", &body);
        assert_eq!(status, 200, "{answer}");
        sent += 100;
        std::thread::sleep(Duration::from_millis(40));
    }
    sent
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drifting_inputs_raise_drift_signals_on_exactly_the_drifting_features_and_an_alert()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let dir = dir.path();
    run(dir, &["init", "--example", "car-loan"]);
    let (hook, bodies) = receiver();
    let spec = std::fs::read_to_string(dir.join("aidlc.toml"))?
        .replace("builtin = \"gbdt\"", "builtin = \"logistic\"");
    let spec = format!(
        "{spec}\n[monitor]\nwindow = \"2s\"\ninterval = \"1s\"\n\n\
         [monitor.alerts.inputs_drift]\nsignal = \"drift.share\"\nwhen = \"> 0.3\"\nseverity = \"critical\"\n\n\
         [monitor.channels.hook]\nkind = \"webhook\"\nurl = \"{hook}\"\n"
    );
    std::fs::write(dir.join("aidlc.toml"), spec)?;
    run(dir, &["train"]);
    run(
        dir,
        &[
            "models",
            "alias",
            "car-loan",
            "champion",
            "1",
            "--override",
            "test",
        ],
    );
    run(dir, &["deploy", "cars", "--model", "car-loan"]);

    let rows = analysis_rows(dir);
    assert_eq!(rows.len(), 50_000);
    let (mut server, addr) = start(dir);
    // Before the shift (rows below 25,000), then after it.
    send_for(&addr, &rows[..20_000], 5.0);
    let shift_ms = now_ms();
    send_for(&addr, &rows[25_000..], 5.0);
    let end_ms = now_ms();

    // The scheduler monitors every second; wait for the alert at the receiver.
    let started = Instant::now();
    while !bodies
        .lock()
        .unwrap()
        .iter()
        .any(|b| b.contains("\"opened\""))
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no alert delivered to the receiver"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let alert: serde_json::Value = serde_json::from_str(
        bodies
            .lock()
            .unwrap()
            .iter()
            .find(|b| b.contains("\"opened\""))
            .unwrap(),
    )?;
    assert_eq!(alert["alert"]["signal"], "drift.share");
    assert_eq!(alert["alert"]["endpoint"], "cars");
    assert_eq!(alert["alert"]["rule"], "inputs_drift");
    assert!(alert["value"].as_f64().unwrap() > 0.3, "{alert:#}");

    // The CLI reads the log while the server owns it.
    let status: serde_json::Value =
        serde_json::from_str(&run(dir, &["--json", "monitor", "status", "cars"]))?;
    assert!(
        status["signals"].as_array().is_some_and(|s| !s.is_empty()),
        "{status:#}"
    );
    let table = run(dir, &["monitor", "status", "cars"]);
    assert!(table.contains("drift.share"), "{table}");
    let again = run(
        dir,
        &[
            "--json",
            "monitor",
            "run",
            "cars",
            "--from",
            &(shift_ms - 10_000).to_string(),
            "--to",
            &end_ms.to_string(),
        ],
    );
    let again: serde_json::Value = serde_json::from_str(&again)?;
    assert!(
        again["windows"].as_array().is_some_and(|w| !w.is_empty()),
        "{again:#}"
    );
    server.kill()?;
    server.wait()?;

    let store = Store::open(&dir.join(".aidlc/aidlc.db").display().to_string()).await?;
    let points = store
        .monitor_points(&MonitorQuery {
            endpoint: "cars".into(),
            ..MonitorQuery::default()
        })
        .await?;
    // Windows wholly after the shift: exactly the four drifting features drifted.
    let windows: BTreeSet<(i64, i64)> = points
        .iter()
        .map(|p| (p.window_start_ms, p.window_end_ms))
        .collect();
    let after: Vec<&(i64, i64)> = windows
        .iter()
        .filter(|(s, e)| *s >= shift_ms + 300 && *e <= end_ms)
        .collect();
    assert!(!after.is_empty(), "no window after the shift: {windows:?}");
    for w in &after {
        let drifted: BTreeSet<&str> = points
            .iter()
            .filter(|p| (p.window_start_ms, p.window_end_ms) == **w)
            .filter(|p| p.signal.starts_with("drift.feature.") && p.extra["drifted"] == true)
            .filter_map(|p| p.feature.as_deref())
            .collect();
        assert_eq!(
            drifted,
            DRIFTING.into_iter().collect(),
            "window {w:?}: {points:#?}"
        );
        let features = points
            .iter()
            .filter(|p| (p.window_start_ms, p.window_end_ms) == **w)
            .filter(|p| p.signal.starts_with("drift.feature."))
            .count();
        assert_eq!(features, 7, "every model feature is monitored");
    }
    // Windows wholly before the shift show no drift share above the rule.
    let before: Vec<&(i64, i64)> = windows.iter().filter(|(_, e)| *e <= shift_ms).collect();
    for w in &before {
        let share = points
            .iter()
            .find(|p| (p.window_start_ms, p.window_end_ms) == **w && p.signal == "drift.share")
            .map(|p| p.value);
        assert!(share.is_none_or(|s| s <= 2.0 / 7.0), "{w:?}: {share:?}");
    }
    // Prediction drift and multivariate drift are measured against the reference window.
    for signal in ["prediction_drift", "multivariate", "rows"] {
        assert!(
            points.iter().any(|p| p.signal == signal),
            "no `{signal}` points"
        );
    }
    Ok(())
}
