//! Monitoring: for one deployment and one window of the prediction log, the signals that say
//! whether the model still sees the data it was trained on and still performs — data drift per
//! feature and its share, prediction drift, multivariate drift, realized performance and its
//! decay, concept-drift detectors over the error stream, and CBPE-estimated performance — as
//! alert [`Signal`]s (so `alerts::process` takes them as they are) and as store points.
//!
//! References (see `docs/monitoring.md`):
//! - **features**: the profile of the serving version's training dataset version (its lineage),
//!   so no raw training data is read again;
//! - **predictions, multivariate, CBPE**: the *reference window*, the first `[monitor] window`
//!   of the serving version's production predictions. The profile holds each column on its own
//!   (no joint rows, no model outputs), so what needs rows or scores takes them from the first
//!   window the version served; CBPE additionally needs that window's labels.
//!
//! All statistics are the statistics crate's; this module only gathers their inputs. It reads
//! through the store traits and the prediction log trait and never touches files itself.

use crate::drift::MethodChoice;
use crate::evaluate::scoring::{Gathered, Scores, Truth, metrics_on};
use crate::labels::labels_for_predictions;
use aidlc_core::alerts::Signal;
use aidlc_core::records::DatasetVersion;
use aidlc_core::spec::{Metric, MonitorMethod, MonitorSpec, ProblemSpec, Task};
use aidlc_data::profile::{ColumnProfile, DatasetProfile};
use aidlc_stats::cbpe::{CBPE_METRICS, CbpeConfig, CbpeEstimator};
use aidlc_stats::drift::{
    self as stats_drift, ColumnDriftResult, DriftMethod, DriftStatus, NumericSample,
};
use aidlc_stats::metrics::Metric as StatsMetric;
use aidlc_stats::multivariate::{PcaConfig, PcaReconstructionModel};
use aidlc_stats::streaming::{Adwin, AdwinConfig, Ddm, DdmConfig, DriftDetector};
use aidlc_store::predlog::{
    FeatureValues, PredictionFrame, PredictionLog, PredictionLogError, ScanQuery, Variant,
};
use aidlc_store::{
    AuditContext, DatasetStore, DeploymentStore, LabelStore, MonitorPoint, MonitorStore,
    RegistryStore, StoreError,
};
use serde_json::json;
use std::collections::HashMap;

/// Labelled reference predictions CBPE needs before it is fitted.
pub const CBPE_MIN_LABELLED: usize = 100;
/// Rows the PCA reconstruction model needs in the reference window.
pub const PCA_MIN_ROWS: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Log(#[from] PredictionLogError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the stored profile of dataset version `{id}` cannot be read: {reason}")]
    Profile { id: String, reason: String },
}

pub type Result<T> = std::result::Result<T, MonitorError>;

/// What the monitors need from `aidlc.toml`, resolved once by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorSettings {
    pub monitor: MonitorSpec,
    /// The label set labels are ingested under (`[problem.label] column`).
    pub label_name: Option<String>,
    /// `[problem.label] horizon` in milliseconds, for labels keyed by entity and event time.
    pub label_horizon_ms: Option<i64>,
    /// The positive class as class names are written, for binary classifiers.
    pub positive_label: Option<String>,
    /// `[baseline] metric`: the primary metric.
    pub metric: Option<Metric>,
    /// The drift method of a feature `[monitor.methods]` does not name (`auto` unless
    /// `[monitor] method` says otherwise).
    pub method: MethodChoice,
}

impl MonitorSettings {
    pub fn from_spec(spec: &ProblemSpec) -> Result<MonitorSettings> {
        // Method names and thresholds were checked when the file was read.
        let method = choice(spec.monitor.method.unwrap_or_default());
        Ok(MonitorSettings {
            monitor: spec.monitor.clone(),
            label_name: spec.problem.label.column.clone(),
            label_horizon_ms: spec
                .problem
                .label
                .horizon
                .map(|h| (h.seconds as i64).saturating_mul(1000)),
            positive_label: spec
                .problem
                .label
                .positive_value
                .as_ref()
                .map(crate::train::label_text),
            metric: spec.baseline.metric,
            method,
        })
    }

    /// The drift method of `feature` and its threshold (`None`: the method's default):
    /// `[monitor.methods]` and `[monitor.thresholds]`, else `method`.
    pub fn method_for(&self, feature: &str) -> (MethodChoice, Option<f64>) {
        let method = match self.monitor.methods.get(feature) {
            Some(&m) => choice(m),
            None => self.method,
        };
        (method, self.monitor.threshold_for(feature))
    }

    /// Fails, naming the key, when `[monitor.methods]` or `[monitor.thresholds]` names a
    /// feature the model does not have (`features`: the ones the endpoint logs).
    pub fn check_features<'f>(
        &self,
        features: impl IntoIterator<Item = &'f str> + Clone,
    ) -> Result<()> {
        for (key, feature) in self.monitor.named_features() {
            if !features.clone().into_iter().any(|f| f == feature) {
                let known: Vec<String> = features
                    .clone()
                    .into_iter()
                    .map(|f| format!("`{f}`"))
                    .collect();
                return Err(MonitorError::Invalid(format!(
                    "`{key}` names the feature `{feature}`, which the model does not have; its \
                     features are {}",
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The window length in milliseconds.
    pub fn window_ms(&self) -> i64 {
        (self.monitor.window_or_default().seconds as i64).saturating_mul(1000)
    }

    /// The reference window's length in milliseconds: `[monitor] reference`, else one window.
    pub fn reference_ms(&self) -> i64 {
        match self.monitor.reference {
            Some(r) => (r.seconds as i64).saturating_mul(1000),
            None => self.window_ms(),
        }
    }
}

/// `[monitor]`'s method as the drift module takes it.
fn choice(method: MonitorMethod) -> MethodChoice {
    match method {
        MonitorMethod::Auto => MethodChoice::Auto,
        MonitorMethod::Method(m) => MethodChoice::Method(m),
    }
}

/// What a deployment's windows are compared with, built once per run by [`reference_for`].
pub struct Reference {
    pub endpoint: String,
    pub model: String,
    pub version: i64,
    /// The training dataset version's column profiles, by feature name.
    pub profile: Option<(DatasetVersion, DatasetProfile)>,
    /// The reference window: `[monitor] reference` (one window by default) from the version's
    /// first production prediction.
    pub window: Option<(i64, i64)>,
    /// The reference window's scores (P(positive), or the regression value).
    pub scores: Vec<f64>,
    /// The reference window's predicted classes (classifiers).
    pub predicted: Vec<Option<String>>,
    pub pca: Option<(Vec<String>, PcaReconstructionModel)>,
    pub cbpe: Option<CbpeEstimator>,
    /// The primary metric on the version's latest evaluation report (the candidate's value).
    pub evaluated: Option<f64>,
}

/// Whether a window closes with `drift.feature.<f>` / `drift.share` signals and how it went.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowResult {
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    pub rows: usize,
    pub signals: Vec<Signal>,
    /// The store points: one per signal, with the feature set for per-feature signals.
    pub points: Vec<MonitorPoint>,
}

/// Windows `[start, start + w)` aligned to multiples of `w` since the epoch that lie inside
/// `[from_ms, to_ms)`: complete windows only, so a window is never monitored half-full.
pub fn windows_between(from_ms: i64, to_ms: i64, window_ms: i64) -> Vec<(i64, i64)> {
    if window_ms <= 0 || to_ms <= from_ms {
        return Vec::new();
    }
    let mut start = from_ms.div_euclid(window_ms) * window_ms;
    if start < from_ms {
        start += window_ms;
    }
    let mut out = Vec::new();
    while start + window_ms <= to_ms {
        out.push((start, start + window_ms));
        start += window_ms;
    }
    out
}

/// The serving version of `endpoint` and everything it is compared with: the training
/// profile, the reference window (`[monitor] reference` from its first production prediction
/// before `until_ms`) with its scores, PCA model and CBPE estimator, and the evaluated metric.
pub async fn reference_for<S, L>(
    store: &S,
    log: &L,
    settings: &MonitorSettings,
    endpoint: &str,
    until_ms: i64,
) -> Result<Reference>
where
    S: DeploymentStore + RegistryStore + DatasetStore + LabelStore + Sync,
    L: PredictionLog,
{
    let d = store
        .get_deployment(endpoint)
        .await?
        .ok_or_else(|| MonitorError::NotFound(format!("no deployment at endpoint `{endpoint}`")))?;
    let version = store
        .resolve_alias(&d.model, &d.alias)
        .await?
        .ok_or_else(|| {
            MonitorError::NotFound(format!(
                "endpoint `{endpoint}` serves nothing: {}@{} names no version",
                d.model, d.alias
            ))
        })?;
    let profile = match &version.dataset_version {
        Some(id) => match store.get_dataset_version_by_id(id).await? {
            Some(dv) => {
                let profile: DatasetProfile = serde_json::from_value(dv.data.profile.clone())
                    .map_err(|e| MonitorError::Profile {
                        id: id.to_string(),
                        reason: e.to_string(),
                    })?;
                Some((dv, profile))
            }
            None => None,
        },
        None => None,
    };
    let evaluated = match settings.metric {
        Some(metric) => {
            let mut reports = store.evaluation_reports(&d.model, version.version).await?;
            reports.sort_by_key(|r| r.created_at_ms);
            reports
                .last()
                .and_then(|r| evaluated_metric(&r.data.report, &metric.to_string()))
        }
        None => None,
    };
    let mut reference = Reference {
        endpoint: endpoint.to_string(),
        model: d.model.clone(),
        version: version.version,
        profile,
        window: None,
        scores: Vec::new(),
        predicted: Vec::new(),
        pca: None,
        cbpe: None,
        evaluated,
    };
    // The first window of the version's production predictions: step through windows from
    // the version's registration until one has predictions (each step reads only the files
    // whose time range overlaps it).
    let w = settings.window_ms().max(1);
    let mut from = version.created_at_ms;
    let mut first = None;
    while from < until_ms {
        let to = (from + w).min(until_ms);
        let frame = log
            .scan(&production(endpoint, &reference, from, to))
            .await?;
        if let Some(&t) = frame.time_ms.iter().min() {
            first = Some(t);
            break;
        }
        from = to;
    }
    let Some(start) = first else {
        return Ok(reference);
    };
    let window = (start, start + settings.reference_ms().max(1));
    let frame = log
        .scan(&production(endpoint, &reference, window.0, window.1))
        .await?;
    reference.window = Some(window);
    reference.scores = scores(&frame, settings);
    reference.predicted = frame.label.clone();
    let numeric = numeric_features(&frame);
    if frame.len() >= PCA_MIN_ROWS && !numeric.is_empty() {
        let data = matrix(&frame, &numeric);
        if let Ok(model) =
            PcaReconstructionModel::fit(&data, numeric.len(), &[], &PcaConfig::default())
        {
            reference.pca = Some((numeric, model));
        }
    }
    if let (Some(positive), Some(label_name)) = (&settings.positive_label, &settings.label_name) {
        let labels =
            labels_for_predictions(store, label_name, &frame, settings.label_horizon_ms, None)
                .await?;
        let (p, y) = labelled_binary(&frame, settings, &labels, positive);
        if y.len() >= CBPE_MIN_LABELLED && y.contains(&0.0) && y.contains(&1.0) {
            let y_pred: Vec<f64> = p.iter().map(|&v| f64::from(v >= 0.5)).collect();
            reference.cbpe = CbpeEstimator::fit(&p, &y_pred, &y, &[], &CbpeConfig::default()).ok();
        }
    }
    Ok(reference)
}

fn production(endpoint: &str, r: &Reference, from_ms: i64, to_ms: i64) -> ScanQuery {
    ScanQuery {
        model: Some(r.model.clone()),
        version: Some(r.version),
        variant: Some(Variant::Production),
        ..ScanQuery::window(endpoint, from_ms, to_ms)
    }
}

/// The candidate's value of `metric` in a stored `aidlc.eval.v1` report.
fn evaluated_metric(report: &serde_json::Value, metric: &str) -> Option<f64> {
    report
        .get("metrics")?
        .as_array()?
        .iter()
        .find(|row| row.get("metric").and_then(|m| m.as_str()) == Some(metric))?
        .pointer("/values/candidate/value")?
        .as_f64()
}

/// Computes every signal of one window of `reference`'s endpoint.
pub async fn monitor_window<S, L>(
    store: &S,
    log: &L,
    settings: &MonitorSettings,
    reference: &Reference,
    window: (i64, i64),
) -> Result<WindowResult>
where
    S: LabelStore + Sync,
    L: PredictionLog,
{
    let (start, end) = window;
    let frame = log
        .scan(&production(&reference.endpoint, reference, start, end))
        .await?;
    let mut out = Collector {
        endpoint: reference.endpoint.clone(),
        start,
        end,
        signals: Vec::new(),
        points: Vec::new(),
    };
    if frame.is_empty() {
        return Ok(out.finish(0));
    }
    let base =
        json!({ "model": reference.model, "version": reference.version, "rows": frame.len() });

    // Data drift per feature against the training profile.
    if let Some((dv, profile)) = &reference.profile {
        settings.check_features(frame.features.iter().map(|c| c.name.as_str()))?;
        let mut results = Vec::new();
        for column in &frame.features {
            let Some(p) = profile.column(&column.name) else {
                continue;
            };
            let (method, threshold) = settings.method_for(&column.name);
            if let Some(result) = feature_drift(p, &column.values, method, threshold) {
                if let Some(mistake) = inapplicable(settings, &result) {
                    return Err(mistake);
                }
                results.push((result, method));
            }
        }
        for (r, configured) in &results {
            out.push(
                &format!("drift.feature.{}", r.column),
                Some(&r.column),
                r.drift_score.unwrap_or(f64::NAN),
                json!({
                    "method": r.method.name(), "configured": configured.to_string(),
                    "statistic": r.statistic, "p_value": r.p_value,
                    "threshold": r.threshold, "drifted": r.drifted, "status": r.status.as_str(),
                    "n_reference": r.n_reference, "n_current": r.n_current,
                    "reference": format!("{}@{}", dv.data.name, dv.version),
                }),
            );
        }
        let results: Vec<ColumnDriftResult> = results.into_iter().map(|(r, _)| r).collect();
        if !results.is_empty() {
            let summary = stats_drift::dataset_drift(&results, stats_drift::DEFAULT_DRIFT_SHARE);
            let drifted: Vec<&str> = results
                .iter()
                .filter(|r| r.drifted)
                .map(|r| r.column.as_str())
                .collect();
            out.push(
                "drift.share",
                None,
                summary.share_drifted,
                json!({
                    "drifted_features": drifted, "features": results.len(),
                    "dataset_drift": summary.dataset_drift,
                    "reference": format!("{}@{}", dv.data.name, dv.version), "base": base,
                }),
            );
        }
    }

    // Prediction drift against the reference window's predictions.
    let current_scores = scores(&frame, settings);
    if !reference.scores.is_empty() && !current_scores.is_empty() {
        let r = stats_drift::NumericReference::fit("prediction", &reference.scores);
        let result = r.compare_sample_auto(&NumericSample::new(&current_scores));
        out.push(
            "prediction_drift",
            None,
            result.drift_score.unwrap_or(f64::NAN),
            json!({
                "method": result.method.name(), "statistic": result.statistic,
                "p_value": result.p_value, "threshold": result.threshold,
                "drifted": result.drifted, "reference_window": reference.window,
                "n_reference": reference.scores.len(), "n_current": current_scores.len(),
            }),
        );
    }
    if reference.predicted.iter().any(Option::is_some) {
        let current: Vec<Option<&str>> = frame.label.iter().map(|l| l.as_deref()).collect();
        if current.iter().any(Option::is_some) {
            let r = stats_drift::CategoricalReference::fit("predicted_class", &reference.predicted);
            let (counts, missing) = aidlc_stats::categorical::count_categories(&current);
            let result = r.compare_counts_auto(&counts, missing);
            out.push(
                "prediction_drift.label",
                None,
                result.drift_score.unwrap_or(f64::NAN),
                json!({
                    "method": result.method.name(), "statistic": result.statistic,
                    "p_value": result.p_value, "threshold": result.threshold,
                    "drifted": result.drifted, "reference_window": reference.window,
                }),
            );
        }
    }

    // Multivariate drift: PCA reconstruction error against the reference window's.
    if let Some((features, model)) = &reference.pca
        && let Ok(result) = model.evaluate_chunk(&matrix(&frame, features))
    {
        out.push(
            "multivariate",
            None,
            result.reconstruction_error,
            json!({
                "reference_error": model.reference_error,
                "upper_threshold": model.reference_error + 3.0 * model.reference_error_std,
                "sampling_error": result.sampling_error, "features": features,
                "reference_window": reference.window,
            }),
        );
    }

    // Realized performance, decay and concept drift, on the labels that have arrived.
    let labels = match &settings.label_name {
        Some(name) => {
            labels_for_predictions(store, name, &frame, settings.label_horizon_ms, None).await?
        }
        None => HashMap::new(),
    };
    if let Some(metric) = settings.metric {
        realized(&mut out, &frame, settings, reference, &labels, metric);
    }
    concept_drift(&mut out, &frame, settings, &labels);

    // Estimated performance (CBPE) for binary classifiers.
    if let (Some(cbpe), Some(positive)) = (&reference.cbpe, &settings.positive_label) {
        let p: Vec<f64> = probabilities_of(&frame, settings, positive);
        if !p.is_empty() {
            let y_pred: Vec<f64> = p.iter().map(|&v| f64::from(v >= 0.5)).collect();
            if let Ok(estimate) = cbpe.estimate(&p, &y_pred) {
                for m in &estimate.metrics {
                    let name = m.metric.to_string();
                    out.push(
                        &format!("estimated.{name}"),
                        None,
                        m.value,
                        json!({
                            "lower": m.lower_confidence_bound, "upper": m.upper_confidence_bound,
                            "sampling_error": m.sampling_error, "rows": p.len(),
                            "reference_window": reference.window,
                        }),
                    );
                }
            }
        }
    }
    Ok(out.finish(frame.len()))
}

struct Collector {
    endpoint: String,
    start: i64,
    end: i64,
    signals: Vec<Signal>,
    points: Vec<MonitorPoint>,
}

impl Collector {
    fn push(&mut self, name: &str, feature: Option<&str>, value: f64, evidence: serde_json::Value) {
        self.points.push(MonitorPoint {
            endpoint: self.endpoint.clone(),
            window_start_ms: self.start,
            window_end_ms: self.end,
            signal: name.to_string(),
            feature: feature.map(str::to_string),
            value,
            extra: evidence.clone(),
        });
        self.signals.push(Signal {
            endpoint: self.endpoint.clone(),
            name: name.to_string(),
            value,
            window_start_ms: self.start,
            window_end_ms: self.end,
            evidence,
        });
    }

    fn finish(mut self, rows: usize) -> WindowResult {
        // Every window records how many predictions it had, so an empty window is visible.
        self.points.push(MonitorPoint {
            endpoint: self.endpoint.clone(),
            window_start_ms: self.start,
            window_end_ms: self.end,
            signal: "rows".into(),
            feature: None,
            value: rows as f64,
            extra: json!({}),
        });
        WindowResult {
            window_start_ms: self.start,
            window_end_ms: self.end,
            rows,
            signals: self.signals,
            points: self.points,
        }
    }
}

/// A method `[monitor.methods]` chose for this very feature that cannot run on it is a
/// mistake in the file, not a window without a verdict: the error names the key and the
/// methods that can run.
fn inapplicable(settings: &MonitorSettings, result: &ColumnDriftResult) -> Option<MonitorError> {
    let method = settings.monitor.methods.get(&result.column)?;
    (result.status == DriftStatus::NotApplicable).then(|| {
        MonitorError::Invalid(format!(
            "`monitor.methods.{}` = \"{method}\": {}; `{}` is categorical, so use one of {}",
            result.column,
            result
                .error
                .as_deref()
                .unwrap_or("the method does not apply"),
            result.column,
            categorical_methods()
        ))
    })
}

/// The methods that run on categories, for messages.
fn categorical_methods() -> String {
    DriftMethod::ALL
        .iter()
        .filter(|m| m.applies_to(stats_drift::ColumnKind::Categorical))
        .map(|m| format!("`{}`", m.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One feature's drift against its training profile, with the configured method and
/// threshold. A method that cannot run on the feature's kind of column (an order-based test
/// on categories) gives a `not_applicable` result; the caller decides whether that is a
/// mistake.
fn feature_drift(
    profile: &ColumnProfile,
    values: &FeatureValues,
    method: MethodChoice,
    threshold: Option<f64>,
) -> Option<ColumnDriftResult> {
    let chosen = match method {
        MethodChoice::Method(m) => Some(m),
        MethodChoice::Auto | MethodChoice::All => None,
    };
    match (
        values,
        &profile.numeric_reference,
        &profile.categorical_reference,
    ) {
        (FeatureValues::Number(v), Some(reference), _) => {
            // Missing values count as NaN, as the profile counts them.
            let current: Vec<f64> = v.iter().map(|x| x.unwrap_or(f64::NAN)).collect();
            let sample = NumericSample::new(&current);
            Some(match chosen {
                Some(m) => reference.compare_sample(&sample, m, threshold),
                None => reference.compare_sample_auto(&sample),
            })
        }
        (values, _, Some(reference)) => {
            let labels: Vec<Option<String>> = match values {
                FeatureValues::Text(t) => t.clone(),
                FeatureValues::Number(v) => v.iter().map(|x| x.map(|n| n.to_string())).collect(),
            };
            let (counts, missing) = aidlc_stats::categorical::count_categories(&labels);
            Some(match chosen {
                Some(m) => reference.compare_counts(&counts, missing, m, threshold),
                None => reference.compare_counts_auto(&counts, missing),
            })
        }
        _ => None,
    }
}

/// The score per row: P(positive) for a binary classifier, the value for a regressor; the top
/// probability otherwise.
fn scores(frame: &PredictionFrame, settings: &MonitorSettings) -> Vec<f64> {
    let positive = settings.positive_label.as_deref();
    (0..frame.len())
        .filter_map(|i| match (frame.value[i], positive) {
            (Some(v), _) => Some(v),
            (None, Some(p)) => positive_probability(frame, i, p),
            (None, None) => frame.probabilities[i].iter().copied().reduce(f64::max),
        })
        .filter(|v| v.is_finite())
        .collect()
}

/// P(positive) of row `i`: the probability of the predicted class if it is the positive one,
/// else one minus it (binary outputs list two probabilities in class order, and the predicted
/// class is the likelier one).
fn positive_probability(frame: &PredictionFrame, i: usize, positive: &str) -> Option<f64> {
    let probabilities = &frame.probabilities[i];
    if probabilities.len() != 2 {
        return None;
    }
    let label = frame.label[i].as_deref()?;
    let top = probabilities[0].max(probabilities[1]);
    Some(if label == positive { top } else { 1.0 - top })
}

fn probabilities_of(
    frame: &PredictionFrame,
    _settings: &MonitorSettings,
    positive: &str,
) -> Vec<f64> {
    (0..frame.len())
        .filter_map(|i| positive_probability(frame, i, positive))
        .collect()
}

/// P(positive) and 0/1 truth of the labelled rows.
fn labelled_binary(
    frame: &PredictionFrame,
    _settings: &MonitorSettings,
    labels: &HashMap<String, String>,
    positive: &str,
) -> (Vec<f64>, Vec<f64>) {
    let mut p = Vec::new();
    let mut y = Vec::new();
    for i in 0..frame.len() {
        let (Some(label), Some(prob)) = (
            labels.get(&frame.request_id[i]),
            positive_probability(frame, i, positive),
        ) else {
            continue;
        };
        p.push(prob);
        y.push(f64::from(label == positive));
    }
    (p, y)
}

/// `performance.<metric>` on the labelled rows, and `decay.<metric>` against the evaluation
/// report (evaluated minus realized for a metric where higher is better, so a positive decay
/// is always a loss).
fn realized(
    out: &mut Collector,
    frame: &PredictionFrame,
    settings: &MonitorSettings,
    reference: &Reference,
    labels: &HashMap<String, String>,
    metric: Metric,
) {
    let (truth, scores, n) = match settings.positive_label.as_deref() {
        Some(positive) if metric.fits(Task::BinaryClassification) => {
            let (p, y) = labelled_binary(frame, settings, labels, positive);
            let n = y.len();
            (
                Truth::Binary {
                    y,
                    positive: positive.to_string(),
                },
                Scores::Binary(p),
                n,
            )
        }
        None if metric.fits(Task::Regression) => {
            let mut y = Vec::new();
            let mut p = Vec::new();
            for i in 0..frame.len() {
                if let (Some(label), Some(v)) = (labels.get(&frame.request_id[i]), frame.value[i])
                    && let Ok(t) = label.parse::<f64>()
                {
                    y.push(t);
                    p.push(v);
                }
            }
            let n = y.len();
            (Truth::Regression { y }, Scores::Values(p), n)
        }
        _ => return,
    };
    if n == 0 {
        return;
    }
    let rows: Vec<usize> = (0..n).collect();
    let mut gathered = Gathered::default();
    let Some(value) = metrics_on(&truth, &scores, &rows, &[metric], 0.5, &mut gathered)[0] else {
        return;
    };
    let name = metric.to_string();
    out.push(
        &format!("performance.{name}"),
        None,
        value,
        json!({ "labelled": n, "rows": frame.len(), "evaluated": reference.evaluated }),
    );
    // A binary classifier also gets every metric CBPE estimates (at its 0.5 threshold), so each
    // estimate has its realized counterpart once labels arrive; decay stays on the primary.
    if let (Truth::Binary { y, .. }, Scores::Binary(p)) = (&truth, &scores) {
        let predicted: Vec<f64> = p.iter().map(|&v| f64::from(v >= 0.5)).collect();
        for m in CBPE_METRICS {
            let other = m.to_string();
            if other == name {
                continue;
            }
            let input = if m == StatsMetric::RocAuc {
                p
            } else {
                &predicted
            };
            if let Ok(v) = aidlc_stats::metrics::evaluate(m, y, input)
                && v.is_finite()
            {
                out.push(
                    &format!("performance.{other}"),
                    None,
                    v,
                    json!({ "labelled": n, "rows": frame.len(), "threshold": 0.5 }),
                );
            }
        }
    }
    if let Some(evaluated) = reference.evaluated {
        let decay = if metric.higher_is_better() {
            evaluated - value
        } else {
            value - evaluated
        };
        out.push(
            &format!("decay.{name}"),
            None,
            decay,
            json!({ "evaluated": evaluated, "realized": value, "labelled": n }),
        );
    }
}

/// ADWIN (on the error stream) and DDM (on the 0/1 mistakes of a classifier) over the window's
/// labelled predictions in time order; each signal is the number of drifts detected. The
/// detectors start fresh each window, so a window's count never depends on earlier runs.
fn concept_drift(
    out: &mut Collector,
    frame: &PredictionFrame,
    settings: &MonitorSettings,
    labels: &HashMap<String, String>,
) {
    let mut order: Vec<usize> = (0..frame.len())
        .filter(|&i| labels.contains_key(&frame.request_id[i]))
        .collect();
    if order.is_empty() {
        return;
    }
    order.sort_by_key(|&i| frame.time_ms[i]);
    let classifier = frame.value.iter().all(Option::is_none);
    let errors: Vec<f64> = order
        .iter()
        .filter_map(|&i| {
            let label = &labels[&frame.request_id[i]];
            if classifier {
                let predicted = frame.label[i].as_deref()?;
                Some(f64::from(predicted != label.as_str()))
            } else {
                Some((frame.value[i]? - label.parse::<f64>().ok()?).abs())
            }
        })
        .collect();
    if errors.is_empty() {
        return;
    }
    let count = |detector: &mut dyn DriftDetector| {
        errors
            .iter()
            .filter(|&&x| {
                detector.update(x);
                detector.drift_detected()
            })
            .count() as f64
    };
    if let Ok(mut adwin) = Adwin::new(AdwinConfig::default()) {
        let detected = count(&mut adwin);
        out.push(
            "concept.adwin",
            None,
            detected,
            json!({ "errors": errors.len(), "mean_error": mean(&errors) }),
        );
    }
    if classifier && let Ok(mut ddm) = Ddm::new(DdmConfig::default()) {
        let detected = count(&mut ddm);
        out.push(
            "concept.ddm",
            None,
            detected,
            json!({ "errors": errors.len(), "error_rate": mean(&errors) }),
        );
    }
    let _ = settings;
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// The numeric features of a frame, in frame order.
fn numeric_features(frame: &PredictionFrame) -> Vec<String> {
    frame
        .features
        .iter()
        .filter(|c| matches!(c.values, FeatureValues::Number(_)))
        .map(|c| c.name.clone())
        .collect()
}

/// Row-major matrix of `features` (NaN for a missing value or a feature the frame lacks).
fn matrix(frame: &PredictionFrame, features: &[String]) -> Vec<f64> {
    let columns: Vec<Option<&Vec<Option<f64>>>> = features
        .iter()
        .map(|f| {
            frame
                .features
                .iter()
                .find(|c| &c.name == f)
                .and_then(|c| match &c.values {
                    FeatureValues::Number(v) => Some(v),
                    FeatureValues::Text(_) => None,
                })
        })
        .collect();
    let mut out = Vec::with_capacity(frame.len() * features.len());
    for i in 0..frame.len() {
        for c in &columns {
            out.push(c.and_then(|v| v[i]).unwrap_or(f64::NAN));
        }
    }
    out
}

/// What one run did for one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    pub endpoint: String,
    pub version: i64,
    pub reference_window: Option<(i64, i64)>,
    pub windows: Vec<WindowResult>,
}

impl RunOutcome {
    pub fn signals(&self) -> Vec<Signal> {
        self.windows
            .iter()
            .flat_map(|w| w.signals.clone())
            .collect()
    }
}

/// Monitors every complete window of `[from_ms, to_ms)` and stores the points (one
/// transaction, idempotent per window). Alerts are the caller's next step:
/// `alerts::process(store, &settings.monitor, &outcome.signals(), …)`.
pub async fn run<S, L>(
    store: &S,
    log: &L,
    settings: &MonitorSettings,
    endpoint: &str,
    from_ms: i64,
    to_ms: i64,
    ctx: &AuditContext,
) -> Result<RunOutcome>
where
    S: DeploymentStore + RegistryStore + DatasetStore + LabelStore + MonitorStore + Sync,
    L: PredictionLog,
{
    let reference = reference_for(store, log, settings, endpoint, to_ms).await?;
    let mut windows = Vec::new();
    for window in windows_between(from_ms, to_ms, settings.window_ms()) {
        windows.push(monitor_window(store, log, settings, &reference, window).await?);
    }
    let points: Vec<MonitorPoint> = windows.iter().flat_map(|w| w.points.clone()).collect();
    if !points.is_empty() {
        store.record_monitor_points(ctx, points).await?;
    }
    Ok(RunOutcome {
        endpoint: endpoint.to_string(),
        version: reference.version,
        reference_window: reference.window,
        windows,
    })
}

/// Where the next scheduled run starts for an endpoint: after its last stored window, or at
/// the serving version's first prediction when none is stored (`None`: nothing to monitor).
pub async fn next_start<S: MonitorStore + Sync>(
    store: &S,
    endpoint: &str,
    reference: &Reference,
) -> Result<Option<i64>> {
    Ok(match store.latest_monitor_window(endpoint).await? {
        Some((_, end)) => Some(end),
        None => reference.window.map(|w| w.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_and_complete() {
        assert_eq!(
            windows_between(1_500, 5_200, 1_000),
            vec![(2_000, 3_000), (3_000, 4_000), (4_000, 5_000)]
        );
        assert_eq!(windows_between(2_000, 3_000, 1_000), vec![(2_000, 3_000)]);
        assert!(windows_between(2_000, 2_999, 1_000).is_empty());
        assert!(windows_between(5, 1, 1_000).is_empty());
        assert!(windows_between(0, 10, 0).is_empty());
    }

    #[test]
    fn the_evaluated_metric_is_read_from_the_report() {
        let report = json!({"metrics": [
            {"metric": "accuracy", "values": {"candidate": {"value": 0.8}}},
            {"metric": "roc_auc", "values": {"candidate": {"value": 0.91, "lower": 0.9}}},
        ]});
        assert_eq!(evaluated_metric(&report, "roc_auc"), Some(0.91));
        assert_eq!(evaluated_metric(&report, "f1"), None);
        assert_eq!(evaluated_metric(&json!({}), "f1"), None);
    }

    fn settings(toml: &str) -> MonitorSettings {
        let text = format!("[problem]\nname = \"cars\"\n\n{toml}");
        let spec = aidlc_core::spec::ProblemSpec::parse(&text, "aidlc.toml").unwrap();
        MonitorSettings::from_spec(&spec).unwrap()
    }

    /// A column profile holding only what drift needs: the numeric or categorical reference.
    fn profile(numeric: Option<&[f64]>, categorical: Option<&[Option<&str>]>) -> ColumnProfile {
        ColumnProfile {
            name: "f".into(),
            value_type: if numeric.is_some() {
                aidlc_data::profile::ValueType::Float
            } else {
                aidlc_data::profile::ValueType::Categorical
            },
            type_overridden: false,
            count: 0,
            missing: 0,
            distinct: 0,
            distinct_exact: true,
            min: None,
            max: None,
            mean: None,
            std: None,
            min_time: None,
            max_time: None,
            quantiles: Vec::new(),
            quantiles_exact: true,
            histogram: None,
            top_categories: Vec::new(),
            categories_complete: true,
            numeric_reference: numeric.map(|v| stats_drift::NumericReference::fit("f", v)),
            categorical_reference: categorical
                .map(|v| stats_drift::CategoricalReference::fit("f", v)),
        }
    }

    #[test]
    fn each_feature_gets_its_own_method_and_threshold_over_the_default() {
        let all_auto = settings("");
        assert_eq!(all_auto.method_for("car_value"), (MethodChoice::Auto, None));
        let s = settings(
            "[monitor]\nmethod = \"psi\"\n\n[monitor.methods]\ncar_value = \"wasserstein\"\n\
             salary_range = \"auto\"\n\n[monitor.thresholds]\ncar_value = 5000\n",
        );
        assert_eq!(
            s.method_for("car_value"),
            (MethodChoice::Method(DriftMethod::Wasserstein), Some(5000.0))
        );
        assert_eq!(s.method_for("salary_range"), (MethodChoice::Auto, None));
        assert_eq!(
            s.method_for("loan_length"),
            (MethodChoice::Method(DriftMethod::Psi), None),
            "the [monitor] method"
        );
    }

    #[test]
    fn a_feature_the_model_lacks_is_named_with_its_key() {
        let s = settings("[monitor]\nmethod = \"ks\"\n\n[monitor.thresholds]\ncar_valeu = 0.01\n");
        let error = s
            .check_features(["car_value", "loan_length"])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`monitor.thresholds.car_valeu`")
                && error.contains("`car_valeu`")
                && error.contains("`car_value`, `loan_length`"),
            "{error}"
        );
        s.check_features(["car_value", "car_valeu"]).unwrap();
        settings("").check_features(std::iter::empty()).unwrap();
    }

    #[test]
    fn the_configured_method_and_threshold_decide_a_features_drift() {
        let reference: Vec<f64> = (0..2000).map(|i| f64::from(i % 100)).collect();
        let p = profile(Some(&reference), None);
        // The current values sit 3 units higher: raw W1 = 3.
        let current =
            FeatureValues::Number((0..500).map(|i| Some(f64::from(i % 100) + 3.0)).collect());
        let wasserstein = MethodChoice::Method(DriftMethod::Wasserstein);
        let r = feature_drift(&p, &current, wasserstein, None).unwrap();
        assert_eq!(r.method, DriftMethod::Wasserstein);
        assert!((r.statistic.unwrap() - 3.0).abs() < 1e-9, "{r:?}");
        assert_eq!(r.threshold, 0.1, "the method's default");
        assert!(r.drifted);
        let r = feature_drift(&p, &current, wasserstein, Some(5.0)).unwrap();
        assert_eq!(r.threshold, 5.0);
        assert!(!r.drifted, "3 is below the feature's threshold of 5");
        // Auto: Evidently's normed Wasserstein above 1,000 reference values.
        let r = feature_drift(&p, &current, MethodChoice::Auto, None).unwrap();
        assert_eq!(r.method, DriftMethod::WassersteinNormed);

        // A categorical feature: the named method runs, or says it cannot.
        let labels: Vec<Option<&str>> = (0..1000)
            .map(|i| Some(if i % 10 == 0 { "60K+" } else { "0-20K" }))
            .collect();
        let p = profile(None, Some(&labels));
        let current = FeatureValues::Text(
            (0..1000)
                .map(|i| Some(if i % 100 == 0 { "60K+" } else { "0-20K" }.to_string()))
                .collect(),
        );
        let js = MethodChoice::Method(DriftMethod::JensenShannonNannyml);
        let r = feature_drift(&p, &current, js, None).unwrap();
        assert_eq!(r.method, DriftMethod::JensenShannonNannyml);
        assert!(r.drifted, "{r:?}");
        let r = feature_drift(&p, &current, MethodChoice::Method(DriftMethod::Ks), None).unwrap();
        assert_eq!(r.status, DriftStatus::NotApplicable);
        // Named for this feature, that is an error naming the key; as the method of every
        // feature, a `not_applicable` point.
        let r = ColumnDriftResult {
            column: "salary_range".into(),
            ..r
        };
        let named = settings("[monitor.methods]\nsalary_range = \"ks\"\n");
        let error = inapplicable(&named, &r).unwrap().to_string();
        assert!(
            error.starts_with("`monitor.methods.salary_range` = \"ks\": ks needs ordered")
                && error.contains("`chisquare`")
                && !error.contains("`wasserstein`"),
            "{error}"
        );
        assert!(inapplicable(&settings("[monitor]\nmethod = \"ks\"\n"), &r).is_none());
    }

    #[test]
    fn drift_method_names_are_the_statistics_crates() {
        // The evidence names the method as the statistics crate does, so reports and docs agree.
        assert_eq!(aidlc_stats::drift::DriftMethod::Ks.name(), "ks");
    }
}
