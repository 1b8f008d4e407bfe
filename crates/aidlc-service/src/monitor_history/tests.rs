//! Unit tests of the monitoring history: arranging points into series, narrowing to a version
//! or a time range, and the SVG/HTML drawn from it.

use super::*;
use aidlc_core::alerts::{AlertKey, AlertState};
use aidlc_core::ids::AlertId;
use aidlc_core::spec::AlertCondition;
use serde_json::json;

const DAY: i64 = 86_400_000;
/// 2002-11-09, a day boundary.
const T0: i64 = 12_000 * DAY;

fn window(i: i64) -> (i64, i64) {
    (T0 + i * 30 * DAY, T0 + (i + 1) * 30 * DAY)
}

fn point(i: i64, signal: &str, feature: Option<&str>, value: f64, extra: Value) -> MonitorPoint {
    let (s, e) = window(i);
    MonitorPoint {
        endpoint: "rain".into(),
        window_start_ms: s,
        window_end_ms: e,
        signal: signal.into(),
        feature: feature.map(str::to_string),
        value,
        extra,
    }
}

fn feature(i: i64, name: &str, p: f64, drifted: bool) -> MonitorPoint {
    point(
        i,
        &format!("drift.feature.{name}"),
        Some(name),
        p,
        json!({"method": "ks", "statistic": 0.3, "p_value": p, "threshold": 0.05, "drifted": drifted}),
    )
}

fn alert(
    id: &str,
    signal: &str,
    severity: AlertSeverity,
    opened: i64,
    resolved: Option<i64>,
) -> Alert {
    Alert {
        id: AlertId(id.into()),
        state: AlertState {
            key: AlertKey {
                rule: format!("rule_{id}"),
                endpoint: "rain".into(),
                signal: signal.into(),
            },
            severity,
            condition: AlertCondition::parse("> 0.05").unwrap(),
            status: if resolved.is_some() {
                AlertStatus::Resolved
            } else {
                AlertStatus::Open
            },
            value: 0.2,
            evidence: json!({}),
            window_start_ms: opened - 30 * DAY,
            window_end_ms: opened,
            opened_ms: opened,
            last_seen_ms: opened,
            resolved_ms: resolved,
            observations: 1,
        },
    }
}

/// Three windows: version 1 serves the first two, version 2 the third; `humidity` drifts in
/// window 1; labels arrive for windows 0 and 1; CBPE estimates window 2.
fn sample() -> (Vec<MonitorPoint>, Vec<Alert>) {
    let base = |v: i64| json!({"model": "rainfall", "version": v, "rows": 30});
    let mut points = vec![
        feature(0, "humidity", 0.6, false),
        feature(0, "wind", 0.9, false),
        feature(1, "humidity", 0.0001, true),
        feature(1, "wind", 0.04, true),
        feature(2, "wind", 0.5, false),
        point(
            0,
            "drift.share",
            None,
            0.0,
            json!({"drifted_features": [], "features": 2, "dataset_drift": false, "base": base(1)}),
        ),
        point(
            1,
            "drift.share",
            None,
            1.0,
            json!({"drifted_features": ["humidity", "wind"], "features": 2, "dataset_drift": true, "base": base(1)}),
        ),
        point(
            2,
            "drift.share",
            None,
            0.0,
            json!({"drifted_features": [], "features": 1, "dataset_drift": false, "base": base(2)}),
        ),
        point(
            0,
            "prediction_drift",
            None,
            0.8,
            json!({"method": "ks", "p_value": 0.8, "threshold": 0.05, "drifted": false}),
        ),
        point(
            1,
            "prediction_drift",
            None,
            0.01,
            json!({"method": "ks", "p_value": 0.01, "threshold": 0.05, "drifted": true}),
        ),
        point(
            1,
            "prediction_drift.label",
            None,
            0.2,
            json!({"method": "jensenshannon", "p_value": null, "threshold": 0.1, "drifted": true}),
        ),
        point(
            0,
            "performance.roc_auc",
            None,
            0.85,
            json!({"labelled": 30, "evaluated": 0.86}),
        ),
        point(
            1,
            "performance.roc_auc",
            None,
            0.52,
            json!({"labelled": 30, "evaluated": 0.86}),
        ),
        point(
            1,
            "decay.roc_auc",
            None,
            0.34,
            json!({"evaluated": 0.86, "realized": 0.52}),
        ),
        point(
            2,
            "estimated.roc_auc",
            None,
            0.8,
            json!({"lower": 0.7, "upper": 0.9}),
        ),
        point(1, "concept.adwin", None, 2.0, json!({"errors": 30})),
        point(
            1,
            "multivariate",
            None,
            1.4,
            json!({"reference_error": 1.0, "upper_threshold": 1.2}),
        ),
    ];
    for i in 0..3 {
        points.push(point(i, "rows", None, 30.0, json!({})));
    }
    // Another endpoint's point is not part of this history.
    let mut other = feature(0, "humidity", 0.5, false);
    other.endpoint = "other".into();
    points.push(other);
    // Points arrive in any order.
    points.reverse();
    let alerts = vec![
        alert(
            "a1",
            "decay.roc_auc",
            AlertSeverity::Critical,
            window(1).1,
            Some(window(2).1),
        ),
        alert(
            "a2",
            "drift.share",
            AlertSeverity::Warning,
            window(1).1,
            None,
        ),
        // Resolved before the history starts: not part of it.
        alert(
            "a0",
            "drift.share",
            AlertSeverity::Info,
            T0 - 60 * DAY,
            Some(T0 - 30 * DAY),
        ),
    ];
    (points, alerts)
}

#[test]
fn points_become_series_over_the_windows() {
    let (points, alerts) = sample();
    let h = MonitorHistory::build("rain", &points, &alerts);
    assert_eq!(h.windows.len(), 3);
    assert_eq!(
        h.windows.iter().map(|w| w.start_ms).collect::<Vec<_>>(),
        vec![window(0).0, window(1).0, window(2).0]
    );
    assert_eq!(h.windows[0].rows, Some(30));
    assert_eq!(h.windows[0].version, Some(1));
    assert_eq!(h.windows[2].version, Some(2));
    assert_eq!(h.windows[2].model.as_deref(), Some("rainfall"));
    assert_eq!(
        h.versions(),
        vec![(Some("rainfall".into()), 1), (Some("rainfall".into()), 2)]
    );

    let names: Vec<&str> = h.features.iter().map(|f| f.feature.as_str()).collect();
    assert_eq!(names, ["humidity", "wind"]);
    let humidity = &h.features[0];
    assert_eq!(humidity.cells.len(), 3);
    assert!(!humidity.cells[0].as_ref().unwrap().drifted);
    let drifted = humidity.cells[1].as_ref().unwrap();
    assert!(drifted.drifted);
    assert_eq!(drifted.method.as_deref(), Some("ks"));
    assert_eq!(drifted.value, 0.0001);
    assert!(
        humidity.cells[2].is_none(),
        "no test of humidity in window 2"
    );

    assert_eq!(
        h.drift_share[1].as_ref().unwrap().drifted_features,
        ["humidity", "wind"]
    );
    assert!(h.drift_share[1].as_ref().unwrap().dataset_drift);
    assert!(h.prediction_drift[1].as_ref().unwrap().drifted);
    assert!(h.label_drift[0].is_none());
    assert_eq!(h.label_drift[1].as_ref().unwrap().p_value, None);
    assert_eq!(
        h.multivariate[1].as_ref().unwrap().upper_threshold,
        Some(1.2)
    );

    assert_eq!(h.performance.len(), 1);
    let auc = &h.performance[0];
    assert_eq!(auc.metric, "roc_auc");
    assert_eq!(auc.realized, vec![Some(0.85), Some(0.52), None]);
    assert_eq!(auc.labelled, vec![Some(30), Some(30), None]);
    assert_eq!(auc.decay, vec![None, Some(0.34), None]);
    assert_eq!(auc.evaluated, vec![Some(0.86), Some(0.86), None]);
    let est = auc.estimated[2].as_ref().unwrap();
    assert_eq!(
        (est.value, est.lower, est.upper),
        (0.8, Some(0.7), Some(0.9))
    );
    assert_eq!(h.concept.len(), 1);
    assert_eq!(h.concept[0].detector, "adwin");
    assert_eq!(h.concept[0].detections, vec![None, Some(2.0), None]);

    // Alerts of the span only, the most recently opened first; opened together, by rule (not
    // by their random ids).
    let ids: Vec<&str> = h.alerts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["a1", "a2"]);
    let markers = h.markers();
    assert_eq!(markers.len(), 3);
    assert_eq!(markers[0].kind, MarkerKind::Raised);
    assert_eq!(markers[2].kind, MarkerKind::Resolved);
    assert_eq!(markers[2].at_ms, window(2).1);

    let latest: Vec<&str> = h.latest().iter().map(|p| p.signal.as_str()).collect();
    assert_eq!(
        latest,
        [
            "drift.feature.wind",
            "drift.share",
            "estimated.roc_auc",
            "rows"
        ]
    );
}

#[test]
fn an_endpoint_without_points_has_an_empty_history() {
    let (points, alerts) = sample();
    let h = MonitorHistory::build("nowhere", &points, &alerts);
    assert!(h.is_empty());
    assert!(h.alerts.is_empty());
    assert!(h.markers().is_empty());
    assert!(h.latest().is_empty());
    assert_eq!(h.span(), None);
}

#[test]
fn a_version_keeps_only_the_windows_it_served() {
    let (points, alerts) = sample();
    let h = MonitorHistory::build("rain", &points, &alerts);
    let v1 = h.for_version("rainfall", 1);
    assert_eq!(v1.windows.len(), 2);
    assert_eq!(v1.features[0].cells.len(), 2);
    assert_eq!(v1.performance[0].realized, vec![Some(0.85), Some(0.52)]);
    assert!(v1.performance[0].estimated.iter().all(Option::is_none));
    assert_eq!(
        v1.latest()
            .iter()
            .filter(|p| p.signal == "drift.share")
            .count(),
        1
    );
    assert_eq!(v1.latest()[0].window_start_ms, window(1).0);
    assert_eq!(
        v1.alerts.len(),
        2,
        "both alerts opened at the end of a version-1 window"
    );

    let v2 = h.for_version("rainfall", 2);
    assert_eq!(v2.windows.len(), 1);
    // humidity was not tested while version 2 served.
    assert_eq!(v2.features.len(), 1);
    assert_eq!(v2.features[0].feature, "wind");
    assert!(v2.concept.is_empty());
    // a1 resolved at the end of the version-2 window, a2 is still open.
    assert_eq!(v2.alerts.len(), 2);

    assert!(h.for_version("rainfall", 3).is_empty());
    assert!(h.for_version("other_model", 1).is_empty());
}

#[test]
fn a_time_range_selects_windows_by_their_end() {
    let (points, alerts) = sample();
    let h = MonitorHistory::build("rain", &points, &alerts);
    assert_eq!(h.between(Some(window(0).1), None).windows.len(), 2);
    assert_eq!(h.between(None, Some(window(0).1)).windows.len(), 1);
    assert_eq!(
        h.between(Some(window(0).1), Some(window(1).1))
            .windows
            .len(),
        1
    );
    assert!(h.between(Some(window(2).1), None).is_empty());
}

#[test]
fn drift_intensity_is_one_at_the_threshold() {
    let cell = |value: f64, p: bool, threshold: f64| DriftCell {
        value,
        method: None,
        statistic: None,
        p_value: p.then_some(value),
        threshold: Some(threshold),
        drifted: false,
    };
    assert!((cell(0.05, true, 0.05).intensity().unwrap() - 1.0).abs() < 1e-12);
    assert_eq!(cell(1.0, true, 0.05).intensity(), Some(0.0));
    assert!((cell(0.0025, true, 0.05).intensity().unwrap() - 2.0).abs() < 1e-9);
    assert_eq!(cell(0.0, true, 0.05).intensity(), Some(f64::INFINITY));
    assert_eq!(cell(0.2, false, 0.1).intensity(), Some(2.0));
    assert_eq!(cell(f64::NAN, false, 0.1).intensity(), None);
    let mut no_threshold = cell(0.2, false, 0.1);
    no_threshold.threshold = None;
    assert_eq!(no_threshold.intensity(), None);
}

#[test]
fn the_report_draws_a_cell_per_feature_and_window_and_marks_the_alerts() {
    let (points, alerts) = sample();
    let h = MonitorHistory::build("rain", &points, &alerts);
    let html = render_monitoring_report(&h, None);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches(r#"class="mh-cell""#).count(), 2 * 3);
    assert_eq!(html.matches(r#"class="mh-share""#).count(), 3);
    assert!(html.contains(r#"data-features="2" data-windows="3""#));
    // Three markers (two raised, one resolved) on each of the four charts: the heatmap,
    // prediction drift, roc_auc and multivariate drift.
    let charts = html.matches("<svg ").count();
    assert_eq!(charts, 4, "{html}");
    assert_eq!(html.matches(r#"class="mh-alert""#).count(), 3 * charts);
    assert_eq!(html.matches(r#"data-kind="resolved""#).count(), charts);
    assert!(html.contains(r#"data-severity="critical""#));
    // Dates on the axis, the version change, the realized and estimated lines and the report's
    // value, the alert table and the latest window.
    assert!(html.contains(">2002-11-09<"), "{html}");
    assert!(html.contains(">v2<"));
    assert!(html.contains("realized"));
    assert!(html.contains("estimated (CBPE)"));
    assert!(html.contains(r#"stroke-dasharray="6 4""#));
    assert!(html.contains("evaluated (report): 0.86"));
    assert!(html.contains("rule_a1"));
    assert!(!html.contains("rule_a0"));
    assert!(html.contains("<code>estimated.roc_auc</code>"));
    // Self-contained and deterministic.
    assert!(!html.contains("<script"));
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert_eq!(html, render_monitoring_report(&h, None));
    assert!(render_monitoring_report(&h, Some(T0)).contains("generated 2002-11-09 00:00 UTC"));
}

#[test]
fn every_text_from_the_store_is_escaped() {
    let mut points = vec![feature(0, "<script>alert('x')</script>", 0.5, false)];
    for p in &mut points {
        p.endpoint = "a&b\"".into();
    }
    let mut a = alert("<b>", "<i>", AlertSeverity::Info, window(0).1, None);
    a.state.key.endpoint = "a&b\"".into();
    let h = MonitorHistory::build("a&b\"", &points, &[a]);
    let html = render_monitoring_report(&h, None);
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<b>") && !html.contains("<i>"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(html.contains("a&amp;b&quot;"));
    let fragment = render_monitoring_fragment(&h);
    assert!(
        fragment.starts_with(r#"<div class="aidlc-monitoring" data-endpoint="a&amp;b&quot;">"#)
    );
}

#[test]
fn a_history_without_windows_renders_a_note() {
    let h = MonitorHistory::build("rain", &[], &[]);
    let fragment = render_monitoring_fragment(&h);
    assert!(fragment.contains("No monitored windows"));
    assert!(!fragment.contains("<svg"));
    let html = render_monitoring_report(&h, None);
    assert!(html.contains("No window has been monitored."));
}

#[test]
fn sub_day_windows_label_the_time_of_day() {
    let mut p = feature(0, "x", 0.5, false);
    p.window_start_ms = T0 + 3_600_000;
    p.window_end_ms = T0 + 7_200_000;
    let h = MonitorHistory::build("rain", &[p], &[]);
    assert!(render_monitoring_fragment(&h).contains(">2002-11-09 01:00<"));
    assert_eq!(render::date(951_782_400_000), "2000-02-29");
    assert_eq!(render::date_time(1_700_000_000_123), "2023-11-14 22:13");
}
