//! `aidlc demo` end to end on a shorter replay (700 days after the change): the champion decays
//! after the documented change, monitoring raises the alerts, the retraining pipeline hands a
//! challenger to the rollout controller, the canary is promoted on its labels, and the realized
//! performance recovers — the same story twice, decision for decision.

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

    let second = demo(&root.path().join("two"));
    assert_eq!(decisions(&first), decisions(&second));
}
