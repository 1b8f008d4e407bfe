//! `aidlc demo` end to end on a shorter replay (700 days after the change): the champion decays
//! after the documented change, monitoring raises the alerts, the retraining pipeline hands a
//! challenger to the rollout controller, the canary is promoted on its labels, and the realized
//! performance recovers — the same story twice, decision for decision — and writes a
//! self-contained monitoring report and a model card with the champion's monitoring history.

use std::process::Command;

fn demo(dir: &std::path::Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_aidlc"))
        .args(["demo", "--days", "700", "--dir"])
        .arg(dir)
        .env_remove("AIDLC_STORE")
        .env_remove("AIDLC_ARTIFACTS")
        .env_remove("AIDLC_PROJECT")
        .output()
        .expect("aidlc demo runs");
    assert!(
        o.status.success(),
        "aidlc demo: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::read_to_string(dir.join("timeline.txt")).unwrap()
}

/// The timeline without its wall-clock column.
fn decisions(timeline: &str) -> Vec<String> {
    timeline
        .lines()
        .map(|l| l.split_once("] ").map_or(l, |(_, rest)| rest).to_string())
        .filter(|l| !l.contains("answering on http://"))
        .collect()
}

#[test]
fn the_demo_tells_the_whole_story_and_tells_it_the_same_way_twice() {
    let root = tempfile::tempdir().unwrap();
    let first = demo(&root.path().join("one"));
    assert!(first.contains("ALERT performance_decay"), "{first}");
    assert!(first.contains("ALERT data_drift"), "{first}");
    assert!(first.contains("→ handed_off"), "{first}");
    assert!(first.contains(": promoted"), "{first}");
    let champion_line = first
        .lines()
        .find(|l| l.contains("champion is now version"))
        .unwrap();
    assert!(!champion_line.ends_with("version 1"), "{champion_line}");
    // Realized performance: the first windows after the change against the last ones.
    let realized: Vec<f64> = first
        .lines()
        .filter(|l| l.contains("realized roc_auc"))
        .filter_map(|l| l.rsplit(": ").next()?.trim().parse().ok())
        .collect();
    assert!(realized.len() >= 3, "{first}");
    let (before, after) = (realized[0], *realized.last().unwrap());
    assert!(before < 0.55, "the champion should have decayed: {before}");
    assert!(after > 0.75, "performance should recover: {after}");
    assert!(root.path().join("one/model-card.html").exists());
    let report = std::fs::read_to_string(root.path().join("one/monitoring-report.html"))
        .expect("the demo writes monitoring-report.html");
    check_monitoring_report(&report);
    let card = std::fs::read_to_string(root.path().join("one/model-card.html")).unwrap();
    self_contained(&card);
    assert!(card.contains("<h2>Monitoring history</h2>"), "{card}");
    assert!(card.contains(r#"class="mh-cell""#));

    let second = demo(&root.path().join("two"));
    assert_eq!(decisions(&first), decisions(&second));
    let report_two =
        std::fs::read_to_string(root.path().join("two/monitoring-report.html")).unwrap();
    assert!(
        report == report_two,
        "the monitoring report differs between two runs"
    );
}

/// No script and nothing loaded from elsewhere.
fn self_contained(html: &str) {
    assert!(!html.contains("<script"), "a script in the page");
    for attr in ["src=", "href="] {
        for quote in ['"', '\''] {
            for scheme in ["http://", "https://", "//"] {
                let needle = format!("{attr}{quote}{scheme}");
                assert!(!html.contains(&needle), "{needle} in the page");
            }
        }
    }
    assert!(
        !html.contains("url(http"),
        "a stylesheet loads from elsewhere"
    );
}

/// The report draws one heatmap cell per (feature, window) and marks at least one alert.
fn check_monitoring_report(report: &str) {
    assert!(report.starts_with("<!DOCTYPE html>"));
    self_contained(report);
    let attr = |name: &str| -> usize {
        let at = report
            .find(&format!("{name}=\""))
            .unwrap_or_else(|| panic!("no {name} on the heatmap"));
        let rest = &report[at + name.len() + 2..];
        rest[..rest.find('"').unwrap()].parse().unwrap()
    };
    let (features, windows) = (attr("data-features"), attr("data-windows"));
    assert!(features >= 5, "rainfall has more features: {features}");
    assert!(
        windows >= 10,
        "700 days are more than 10 windows of 30 days: {windows}"
    );
    assert_eq!(
        report.matches(r#"class="mh-cell""#).count(),
        features * windows,
        "one heatmap cell per feature and window"
    );
    assert!(
        report.matches(r#"class="mh-alert""#).count() >= 1,
        "no alert marker"
    );
    assert!(report.contains("Performance: roc_auc"));
    // A 120-day reference gives CBPE its 100 labelled predictions: windows are estimated before
    // their labels arrive, and every estimated metric has its realized line beside it.
    assert!(
        report.contains("estimated (CBPE) · "),
        "no CBPE estimate in the report"
    );
    for metric in ["accuracy", "f1", "precision", "recall", "specificity"] {
        assert!(
            report.contains(&format!("Performance: {metric} (realized vs estimated)")),
            "{metric}"
        );
    }
    assert!(report.contains("performance_decay"), "the alert table");
}
