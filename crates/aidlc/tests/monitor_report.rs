//! `aidlc monitor report` through the real binary on a store holding monitor points: the
//! self-contained report with one heatmap cell per feature and window, `--from`/`--to`, and the
//! clear errors for an endpoint never monitored, a range without windows and an output path
//! that cannot be written (nothing half-written is left behind).

#[path = "common/binary.rs"]
#[allow(dead_code)] // each test binary uses a part of it
mod binary;

use aidlc_store::{AuditContext, MonitorPoint, MonitorStore, Store};
use binary::{aidlc, run};
use serde_json::json;
use std::path::Path;

const DAY: i64 = 86_400_000;

fn window(i: i64) -> (i64, i64) {
    let start = 12_000 * DAY + i * 30 * DAY;
    (start, start + 30 * DAY)
}

fn point(i: i64, signal: &str, feature: Option<&str>, value: f64) -> MonitorPoint {
    let (s, e) = window(i);
    MonitorPoint {
        endpoint: "rain".into(),
        window_start_ms: s,
        window_end_ms: e,
        signal: signal.into(),
        feature: feature.map(str::to_string),
        value,
        extra: json!({"method": "ks", "p_value": value, "threshold": 0.05, "drifted": value < 0.05,
            "base": {"model": "rainfall", "version": 1}}),
    }
}

async fn seed(dir: &Path) {
    std::fs::create_dir_all(dir.join(".aidlc")).unwrap();
    let store = Store::open(&dir.join(".aidlc/aidlc.db").display().to_string())
        .await
        .unwrap();
    let mut points = Vec::new();
    for i in 0..3 {
        points.push(point(
            i,
            "drift.feature.humidity",
            Some("humidity"),
            0.5 / (i + 1) as f64,
        ));
        points.push(point(i, "drift.feature.wind", Some("wind"), 0.001));
        points.push(point(i, "performance.roc_auc", None, 0.8 - 0.1 * i as f64));
    }
    let ctx = AuditContext {
        actor: "tester".into(),
        at_ms: window(3).0,
        reason: None,
    };
    store.record_monitor_points(&ctx, points).await.unwrap();
}

/// Runs `aidlc ARGS` in `dir`, expecting it to fail, and answers its standard error.
fn fail(dir: &Path, args: &[&str]) -> String {
    let o = aidlc(dir).args(args).output().unwrap();
    assert!(!o.status.success(), "aidlc {args:?} should fail");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn cells(html: &str) -> usize {
    html.matches(r#"class="mh-cell""#).count()
}

#[tokio::test]
async fn the_report_is_written_whole_or_not_at_all() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    seed(dir).await;

    let out = run(dir, &["monitor", "report", "rain", "--out", "report.html"]);
    assert!(
        out.contains("wrote report.html: 3 window(s) of `rain`"),
        "{out}"
    );
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(cells(&html), 2 * 3);
    assert!(html.contains("Performance: roc_auc"));
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"));

    // A range: the windows ending after --from and at or before --to.
    let (from, to) = (window(0).1.to_string(), window(1).1.to_string());
    let json: serde_json::Value = serde_json::from_str(&run(
        dir,
        &[
            "--json", "monitor", "report", "rain", "--out", "one.html", "--from", &from, "--to",
            &to,
        ],
    ))
    .unwrap();
    assert_eq!(json["windows"], 1);
    assert_eq!(
        cells(&std::fs::read_to_string(dir.join("one.html")).unwrap()),
        2
    );

    let err = fail(dir, &["monitor", "report", "snow", "--out", "snow.html"]);
    assert!(err.contains("`snow` has never been monitored"), "{err}");
    assert!(!dir.join("snow.html").exists());

    let late = window(5).1.to_string();
    let err = fail(
        dir,
        &[
            "monitor",
            "report",
            "rain",
            "--out",
            "late.html",
            "--from",
            &late,
        ],
    );
    assert!(err.contains("no monitored window ending between"), "{err}");

    let err = fail(
        dir,
        &[
            "monitor", "report", "rain", "--out", "x.html", "--from", &to, "--to", &from,
        ],
    );
    assert!(err.contains("must be after --from"), "{err}");

    let err = fail(
        dir,
        &["monitor", "report", "rain", "--out", "missing/report.html"],
    );
    assert!(err.contains("cannot write missing/report.html"), "{err}");
    assert!(err.contains("does not exist"), "{err}");

    // A folder in the way: the rename fails and the earlier file stays as it was.
    std::fs::create_dir(dir.join("taken")).unwrap();
    let err = fail(dir, &["monitor", "report", "rain", "--out", "taken"]);
    assert!(err.contains("cannot write taken"), "{err}");
    assert!(dir.join("taken").is_dir());
    let leftovers: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}
