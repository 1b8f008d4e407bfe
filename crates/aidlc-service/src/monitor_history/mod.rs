//! Monitoring history: an endpoint's stored monitor points and alerts arranged as time series
//! over its windows — per-feature drift, drift share, prediction drift, multivariate drift,
//! realized and CBPE-estimated performance, decay, concept-drift detections and alert markers —
//! for the monitoring report, the model card and the dashboard ([`render`]).
//!
//! Building a history is pure ([`MonitorHistory::build`]); [`load`] and [`for_model_version`]
//! only read the points and alerts through the store traits first. The signal names and
//! evidence fields read here are the ones `monitor.rs` writes (see `docs/monitoring.md`).

pub mod render;

use aidlc_core::alerts::{Alert, AlertStatus};
use aidlc_core::spec::AlertSeverity;
use aidlc_store::{
    AlertFilter, AlertStore, DeploymentStore, MonitorPoint, MonitorQuery, MonitorStore, StoreError,
};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

pub use render::{render_monitoring_fragment, render_monitoring_report};

/// One monitored window of the endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
    /// Predictions in the window (the `rows` point), when recorded.
    pub rows: Option<u64>,
    /// The model and version that served the window, when a point's evidence names them
    /// (`drift.share` carries them as `base`; an empty window names none).
    pub model: Option<String>,
    pub version: Option<i64>,
}

/// One drift test of one window: a feature's, the scores' or the predicted labels'.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftCell {
    /// The drift score compared with the threshold: the p-value of a test, the distance
    /// otherwise; NaN when the method produced none.
    pub value: f64,
    pub method: Option<String>,
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
    pub threshold: Option<f64>,
    pub drifted: bool,
}

impl DriftCell {
    fn from_point(p: &MonitorPoint) -> DriftCell {
        DriftCell {
            value: p.value,
            method: p
                .extra
                .get("method")
                .and_then(Value::as_str)
                .map(str::to_string),
            statistic: number(&p.extra, "statistic"),
            p_value: number(&p.extra, "p_value"),
            threshold: number(&p.extra, "threshold"),
            drifted: p.extra.get("drifted").and_then(Value::as_bool) == Some(true),
        }
    }

    /// How far the score lies from "no drift", in units of the threshold: 0 is no sign of
    /// drift, 1 is the threshold, above 1 is drift. A test's p-value is read on a log scale
    /// (`ln p / ln threshold`: p = 1 → 0, p = threshold → 1, p = threshold² → 2), a distance
    /// linearly (`score / threshold`). `None` without a finite score or a usable threshold.
    pub fn intensity(&self) -> Option<f64> {
        let v = self.value;
        let t = self.threshold?;
        if !v.is_finite() || !t.is_finite() || t <= 0.0 {
            return None;
        }
        if self.p_value.is_some() {
            if t >= 1.0 {
                return None;
            }
            if v <= 0.0 {
                return Some(f64::INFINITY);
            }
            Some((v.min(1.0).ln() / t.ln()).max(0.0))
        } else {
            Some((v / t).max(0.0))
        }
    }
}

/// One feature's drift per window (`None`: the window has no test of this feature).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureSeries {
    pub feature: String,
    pub cells: Vec<Option<DriftCell>>,
}

/// The share of drifting features in one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftShare {
    pub share: f64,
    pub drifted_features: Vec<String>,
    pub features: Option<u64>,
    pub dataset_drift: bool,
}

/// The PCA reconstruction error of one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Multivariate {
    pub error: f64,
    pub reference_error: Option<f64>,
    pub upper_threshold: Option<f64>,
}

/// A CBPE estimate with its confidence band.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub value: f64,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// One metric over the windows: realized on the labels that arrived (`performance.<m>`),
/// estimated by CBPE (`estimated.<m>`), its decay against the evaluation report
/// (`decay.<m>`) and the report's value itself (the `evaluated` evidence).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricSeries {
    pub metric: String,
    pub realized: Vec<Option<f64>>,
    /// Labelled rows behind each realized value.
    pub labelled: Vec<Option<u64>>,
    pub estimated: Vec<Option<Estimate>>,
    pub decay: Vec<Option<f64>>,
    pub evaluated: Vec<Option<f64>>,
}

impl MetricSeries {
    fn new(metric: &str, n: usize) -> MetricSeries {
        MetricSeries {
            metric: metric.to_string(),
            realized: vec![None; n],
            labelled: vec![None; n],
            estimated: vec![None; n],
            decay: vec![None; n],
            evaluated: vec![None; n],
        }
    }

    pub fn has_realized(&self) -> bool {
        self.realized.iter().any(Option::is_some)
    }

    pub fn has_estimated(&self) -> bool {
        self.estimated.iter().any(Option::is_some)
    }
}

/// A concept-drift detector's detections per window (`concept.adwin`, `concept.ddm`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConceptSeries {
    pub detector: String,
    pub detections: Vec<Option<f64>>,
}

/// An alert of the endpoint, as the history shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertInfo {
    pub id: String,
    pub rule: String,
    pub signal: String,
    pub severity: AlertSeverity,
    /// The rule's condition as written (`> 0.05`).
    pub condition: String,
    pub open: bool,
    pub value: f64,
    pub opened_ms: i64,
    pub last_seen_ms: i64,
    pub resolved_ms: Option<i64>,
    pub observations: i64,
}

impl AlertInfo {
    fn from_alert(a: &Alert) -> AlertInfo {
        let s = &a.state;
        AlertInfo {
            id: a.id.0.clone(),
            rule: s.key.rule.clone(),
            signal: s.key.signal.clone(),
            severity: s.severity,
            condition: s.condition.to_string(),
            open: s.status == AlertStatus::Open,
            value: s.value,
            opened_ms: s.opened_ms,
            last_seen_ms: s.last_seen_ms,
            resolved_ms: s.resolved_ms,
            observations: s.observations,
        }
    }

    /// Whether the alert was open at some time in `[from_ms, to_ms]`.
    fn overlaps(&self, from_ms: i64, to_ms: i64) -> bool {
        self.opened_ms <= to_ms && self.resolved_ms.is_none_or(|r| r >= from_ms)
    }
}

/// Whether a marker shows an alert being raised or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkerKind {
    Raised,
    Resolved,
}

impl MarkerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MarkerKind::Raised => "raised",
            MarkerKind::Resolved => "resolved",
        }
    }
}

/// A point in time where an alert was raised or resolved (a window end: alerts run on window
/// time, not on the clock).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertMarker {
    pub at_ms: i64,
    pub kind: MarkerKind,
    pub rule: String,
    pub signal: String,
    pub severity: AlertSeverity,
    pub alert_id: String,
}

/// An endpoint's monitoring over time; every per-window series has one entry per window, in
/// window order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorHistory {
    pub endpoint: String,
    pub windows: Vec<Window>,
    /// Features in name order.
    pub features: Vec<FeatureSeries>,
    pub drift_share: Vec<Option<DriftShare>>,
    /// Drift of the scores (`prediction_drift`).
    pub prediction_drift: Vec<Option<DriftCell>>,
    /// Drift of the predicted labels (`prediction_drift.label`).
    pub label_drift: Vec<Option<DriftCell>>,
    pub multivariate: Vec<Option<Multivariate>>,
    /// Metrics in name order.
    pub performance: Vec<MetricSeries>,
    /// Detectors in name order.
    pub concept: Vec<ConceptSeries>,
    /// Alerts open at some time of the history's span, the most recently opened first.
    pub alerts: Vec<AlertInfo>,
    /// Every point per window, by signal and feature: what the summary tables list.
    pub points: Vec<Vec<MonitorPoint>>,
}

fn number(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// The model and version named in a point's evidence, at its top level or under `base`.
fn served_by(extra: &Value) -> (Option<String>, Option<i64>) {
    for v in [Some(extra), extra.get("base")].into_iter().flatten() {
        if let Some(version) = v.get("version").and_then(Value::as_i64) {
            let model = v.get("model").and_then(Value::as_str).map(str::to_string);
            return (model, Some(version));
        }
    }
    (None, None)
}

impl MonitorHistory {
    /// Arranges `endpoint`'s points (any order; points of other endpoints are skipped) and
    /// alerts into series over its windows. A point whose signal the history does not chart
    /// is still kept with its window ([`MonitorHistory::points`]).
    pub fn build(endpoint: &str, points: &[MonitorPoint], alerts: &[Alert]) -> MonitorHistory {
        let points: Vec<&MonitorPoint> = points.iter().filter(|p| p.endpoint == endpoint).collect();
        let mut spans: Vec<(i64, i64)> = points
            .iter()
            .map(|p| (p.window_start_ms, p.window_end_ms))
            .collect();
        spans.sort_unstable();
        spans.dedup();
        let n = spans.len();
        let index: HashMap<(i64, i64), usize> =
            spans.iter().enumerate().map(|(i, &w)| (w, i)).collect();
        let mut windows: Vec<Window> = spans
            .iter()
            .map(|&(start_ms, end_ms)| Window {
                start_ms,
                end_ms,
                rows: None,
                model: None,
                version: None,
            })
            .collect();
        let mut features: BTreeMap<String, Vec<Option<DriftCell>>> = BTreeMap::new();
        let mut drift_share = vec![None; n];
        let mut prediction_drift = vec![None; n];
        let mut label_drift = vec![None; n];
        let mut multivariate = vec![None; n];
        let mut performance: BTreeMap<String, MetricSeries> = BTreeMap::new();
        let mut concept: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
        for p in &points {
            let i = index[&(p.window_start_ms, p.window_end_ms)];
            if windows[i].version.is_none() {
                let (model, version) = served_by(&p.extra);
                if version.is_some() {
                    windows[i].model = model;
                    windows[i].version = version;
                }
            }
            let signal = p.signal.as_str();
            let metric = |prefix: &str| signal.strip_prefix(prefix).filter(|m| !m.is_empty());
            if signal == "rows" {
                windows[i].rows = (p.value.is_finite() && p.value >= 0.0).then_some(p.value as u64);
            } else if let Some(name) = signal.strip_prefix("drift.feature.") {
                let feature = p.feature.clone().unwrap_or_else(|| name.to_string());
                features.entry(feature).or_insert_with(|| vec![None; n])[i] =
                    Some(DriftCell::from_point(p));
            } else if signal == "drift.share" {
                drift_share[i] = Some(DriftShare {
                    share: p.value,
                    drifted_features: p
                        .extra
                        .get("drifted_features")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|f| f.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                    features: p.extra.get("features").and_then(Value::as_u64),
                    dataset_drift: p.extra.get("dataset_drift").and_then(Value::as_bool)
                        == Some(true),
                });
            } else if signal == "prediction_drift" {
                prediction_drift[i] = Some(DriftCell::from_point(p));
            } else if signal == "prediction_drift.label" {
                label_drift[i] = Some(DriftCell::from_point(p));
            } else if signal == "multivariate" {
                multivariate[i] = Some(Multivariate {
                    error: p.value,
                    reference_error: number(&p.extra, "reference_error"),
                    upper_threshold: number(&p.extra, "upper_threshold"),
                });
            } else if let Some(m) = metric("performance.") {
                let s = performance
                    .entry(m.to_string())
                    .or_insert_with(|| MetricSeries::new(m, n));
                s.realized[i] = Some(p.value);
                s.labelled[i] = p.extra.get("labelled").and_then(Value::as_u64);
                if let Some(e) = number(&p.extra, "evaluated") {
                    s.evaluated[i] = Some(e);
                }
            } else if let Some(m) = metric("estimated.") {
                let s = performance
                    .entry(m.to_string())
                    .or_insert_with(|| MetricSeries::new(m, n));
                s.estimated[i] = Some(Estimate {
                    value: p.value,
                    lower: number(&p.extra, "lower"),
                    upper: number(&p.extra, "upper"),
                });
            } else if let Some(m) = metric("decay.") {
                let s = performance
                    .entry(m.to_string())
                    .or_insert_with(|| MetricSeries::new(m, n));
                s.decay[i] = Some(p.value);
                if let Some(e) = number(&p.extra, "evaluated") {
                    s.evaluated[i] = Some(e);
                }
            } else if let Some(d) = metric("concept.") {
                concept
                    .entry(d.to_string())
                    .or_insert_with(|| vec![None; n])[i] = Some(p.value);
            }
        }
        let mut by_window: Vec<Vec<MonitorPoint>> = vec![Vec::new(); n];
        for p in &points {
            by_window[index[&(p.window_start_ms, p.window_end_ms)]].push((*p).clone());
        }
        for w in &mut by_window {
            w.sort_by(|a, b| (&a.signal, &a.feature).cmp(&(&b.signal, &b.feature)));
        }
        let span = spans.first().zip(spans.last()).map(|(f, l)| (f.0, l.1));
        let mut alerts: Vec<AlertInfo> = alerts
            .iter()
            .filter(|a| a.state.key.endpoint == endpoint)
            .map(AlertInfo::from_alert)
            .filter(|a| span.is_some_and(|(from, to)| a.overlaps(from, to)))
            .collect();
        // Ties are broken by what the alert is about, never by its id (a random UUID), so the
        // same history always lists its alerts in the same order.
        alerts.sort_by(|a, b| {
            (b.opened_ms, &a.rule, &a.signal, a.resolved_ms).cmp(&(
                a.opened_ms,
                &b.rule,
                &b.signal,
                b.resolved_ms,
            ))
        });
        MonitorHistory {
            endpoint: endpoint.to_string(),
            windows,
            features: features
                .into_iter()
                .map(|(feature, cells)| FeatureSeries { feature, cells })
                .collect(),
            drift_share,
            prediction_drift,
            label_drift,
            multivariate,
            performance: performance.into_values().collect(),
            concept: concept
                .into_iter()
                .map(|(detector, detections)| ConceptSeries {
                    detector,
                    detections,
                })
                .collect(),
            alerts,
            points: by_window,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// From the first window's start to the last window's end.
    pub fn span(&self) -> Option<(i64, i64)> {
        Some((self.windows.first()?.start_ms, self.windows.last()?.end_ms))
    }

    /// The versions that served the windows, in the order they first served.
    pub fn versions(&self) -> Vec<(Option<String>, i64)> {
        let mut out: Vec<(Option<String>, i64)> = Vec::new();
        for w in &self.windows {
            if let Some(v) = w.version
                && !out.iter().any(|(m, x)| *x == v && *m == w.model)
            {
                out.push((w.model.clone(), v));
            }
        }
        out
    }

    /// The history restricted to the windows `keep` accepts: every series re-indexed, the
    /// features and metrics left without a value dropped, the alerts narrowed to those open
    /// during a kept window.
    pub fn select(&self, keep: impl Fn(&Window) -> bool) -> MonitorHistory {
        let kept: Vec<usize> = (0..self.windows.len())
            .filter(|&i| keep(&self.windows[i]))
            .collect();
        fn pick<T: Clone>(v: &[Option<T>], kept: &[usize]) -> Vec<Option<T>> {
            kept.iter().map(|&i| v[i].clone()).collect()
        }
        let windows: Vec<Window> = kept.iter().map(|&i| self.windows[i].clone()).collect();
        let features = self
            .features
            .iter()
            .map(|f| FeatureSeries {
                feature: f.feature.clone(),
                cells: pick(&f.cells, &kept),
            })
            .filter(|f| f.cells.iter().any(Option::is_some))
            .collect();
        let performance = self
            .performance
            .iter()
            .map(|m| MetricSeries {
                metric: m.metric.clone(),
                realized: pick(&m.realized, &kept),
                labelled: pick(&m.labelled, &kept),
                estimated: pick(&m.estimated, &kept),
                decay: pick(&m.decay, &kept),
                evaluated: pick(&m.evaluated, &kept),
            })
            .filter(|m| {
                m.has_realized() || m.has_estimated() || m.decay.iter().any(Option::is_some)
            })
            .collect();
        let concept = self
            .concept
            .iter()
            .map(|c| ConceptSeries {
                detector: c.detector.clone(),
                detections: pick(&c.detections, &kept),
            })
            .filter(|c| c.detections.iter().any(Option::is_some))
            .collect();
        let alerts = self
            .alerts
            .iter()
            .filter(|a| windows.iter().any(|w| a.overlaps(w.start_ms, w.end_ms)))
            .cloned()
            .collect();
        MonitorHistory {
            endpoint: self.endpoint.clone(),
            drift_share: pick(&self.drift_share, &kept),
            prediction_drift: pick(&self.prediction_drift, &kept),
            label_drift: pick(&self.label_drift, &kept),
            multivariate: pick(&self.multivariate, &kept),
            windows,
            features,
            performance,
            concept,
            alerts,
            points: kept.iter().map(|&i| self.points[i].clone()).collect(),
        }
    }

    /// The points of the latest window, by signal and feature.
    pub fn latest(&self) -> &[MonitorPoint] {
        self.points.last().map_or(&[], Vec::as_slice)
    }

    /// The windows served by `version` of `model` (a window whose evidence names a version but
    /// no model counts when the version matches). Windows that name no version — empty
    /// windows — are left out.
    pub fn for_version(&self, model: &str, version: i64) -> MonitorHistory {
        self.select(|w| w.version == Some(version) && w.model.as_deref().is_none_or(|m| m == model))
    }

    /// Only the windows ending in `(from_ms, to_ms]` (an open side when `None`), as
    /// [`MonitorQuery`] selects them.
    pub fn between(&self, from_ms: Option<i64>, to_ms: Option<i64>) -> MonitorHistory {
        self.select(|w| from_ms.is_none_or(|f| w.end_ms > f) && to_ms.is_none_or(|t| w.end_ms <= t))
    }

    /// Where alerts were raised and resolved inside the history's span, in time order.
    pub fn markers(&self) -> Vec<AlertMarker> {
        let Some((from, to)) = self.span() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for a in &self.alerts {
            let events = [
                Some((a.opened_ms, MarkerKind::Raised)),
                a.resolved_ms.map(|r| (r, MarkerKind::Resolved)),
            ];
            for (at_ms, kind) in events.into_iter().flatten() {
                if at_ms >= from && at_ms <= to {
                    out.push(AlertMarker {
                        at_ms,
                        kind,
                        rule: a.rule.clone(),
                        signal: a.signal.clone(),
                        severity: a.severity,
                        alert_id: a.id.clone(),
                    });
                }
            }
        }
        // In time order, ties by kind, severity and rule (not by the random id): deterministic.
        out.sort_by(|a, b| {
            (
                a.at_ms,
                a.kind.as_str(),
                a.severity.as_str(),
                &a.rule,
                &a.signal,
            )
                .cmp(&(
                    b.at_ms,
                    b.kind.as_str(),
                    b.severity.as_str(),
                    &b.rule,
                    &b.signal,
                ))
        });
        out
    }
}

/// The history of `endpoint`'s windows ending in `(from_ms, to_ms]`, with its alerts.
pub async fn load<S>(
    store: &S,
    endpoint: &str,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
) -> Result<MonitorHistory, StoreError>
where
    S: MonitorStore + AlertStore + Sync,
{
    let points = store
        .monitor_points(&MonitorQuery {
            endpoint: endpoint.to_string(),
            from_ms,
            to_ms,
            signal_prefix: None,
        })
        .await?;
    let alerts = store
        .list_alerts(&AlertFilter {
            endpoint: Some(endpoint.to_string()),
            open_only: false,
            limit: None,
        })
        .await?;
    Ok(MonitorHistory::build(endpoint, &points, &alerts))
}

/// For every endpoint deployed with `model`, the windows where `version` served it (with the
/// alerts open during them); endpoints where it never served are left out. What the model
/// card shows as the version's monitoring history.
pub async fn for_model_version<S>(
    store: &S,
    model: &str,
    version: i64,
) -> Result<Vec<MonitorHistory>, StoreError>
where
    S: DeploymentStore + MonitorStore + AlertStore + Sync,
{
    let mut deployments = store.list_deployments().await?;
    deployments.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    let mut out = Vec::new();
    for d in deployments.iter().filter(|d| d.model == model) {
        let history = load(store, &d.endpoint, None, None)
            .await?
            .for_version(model, version);
        if !history.is_empty() {
            out.push(history);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
