//! Platform-run evaluation: aidlc scores a candidate model itself on held-out rows it controls,
//! beside the baseline of `[baseline]` and the current champion on the same rows, and writes
//! an [`EvalReport`] — metrics with paired bootstrap intervals, slices, calibration, ROC,
//! robustness under perturbations, business value, latency and size, and the gates of
//! `[evaluate.gates]` — from which [`render_html`] and [`render_markdown`] make a model card.
//!
//! Everything but the latency figures is a deterministic function of the inputs and the seed.

mod baseline;
mod card;
mod gates;
mod report;
pub(crate) mod scoring;
mod slices;
mod stored;

use std::borrow::Cow;
use std::time::Instant;

use aidlc_core::spec::{Metric, Perturbation, PerturbationKind, ProblemSpec, Task};
use aidlc_data::{Column, Table};
use aidlc_models::{Frame, Inputs, Model, ModelError};
use aidlc_stats::bootstrap::resample_indices;
use aidlc_stats::calibration::{BinStrategy, reliability_curve};
use aidlc_stats::metrics as stats_metrics;
use aidlc_stats::rng::Rng;

pub use baseline::{RuleModel, baseline_model, baseline_reference};
pub use card::{
    render_html, render_html_with_monitoring, render_markdown, render_markdown_with_monitoring,
};
pub use report::*;
pub use stored::{
    CHAMPION_ALIAS, EvalOptions, StoredEvalError, evaluate_version, latest_report,
    load_version_model,
};

use scoring::{Gathered, Scores, Truth, label_texts, metrics_on};

/// The threshold at which a binary prediction counts as positive: P(positive) >= 0.5, the
/// decision a served classifier makes. The business sweep reports the value-maximising one.
pub const OPERATING_THRESHOLD: f64 = 0.5;
/// Coverage of every bootstrap interval.
pub const CONFIDENCE: f64 = 0.95;
/// Single-row predictions timed for the latency figures.
pub const LATENCY_ROWS: usize = 1000;
/// Bins of the reliability curves.
pub const CALIBRATION_BINS: usize = 10;
/// Thresholds of the business sweep: 0, 0.01, …, 1.
pub const SWEEP_THRESHOLDS: usize = 101;
/// Threads of the bootstrap (one model each).
pub const BOOTSTRAP_THREADS: usize = 2;
/// Most points kept of a ROC curve.
const ROC_POINTS: usize = 200;

/// A model and how the report names it.
pub struct ModelUnderTest<'a> {
    pub model: &'a dyn Model,
    /// A short name, such as `rainfall-gbt` or `prior`.
    pub name: String,
    /// Where it comes from: `NAME/VERSION`, a run id, a path.
    pub reference: String,
}

/// Everything one evaluation needs.
pub struct EvalInput<'a> {
    pub spec: &'a ProblemSpec,
    pub candidate: ModelUnderTest<'a>,
    pub baseline: ModelUnderTest<'a>,
    pub champion: Option<ModelUnderTest<'a>>,
    /// The held-out rows, with the label column.
    pub held_out: &'a Table,
    /// The columns a tensor-input model takes, in order (`--features`); named inputs ignore it.
    pub features: Option<&'a [String]>,
    /// Overrides `[evaluate] seed`.
    pub seed: Option<u64>,
    /// Overrides `[evaluate] bootstrap`.
    pub bootstrap: Option<usize>,
    /// The candidate's artifact size.
    pub model_size_bytes: u64,
    /// Where the model and data came from, embedded as it is.
    pub lineage: serde_json::Value,
}

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    /// The contract lacks something evaluation needs.
    #[error("aidlc.toml: {0}")]
    Spec(String),
    /// A column the contract names is not in the data.
    #[error("column `{column}` is not in {table}")]
    MissingColumn { column: String, table: String },
    /// The held-out rows do not fit a model's inputs.
    #[error("{role} model `{name}`: {source}")]
    Input {
        role: &'static str,
        name: String,
        #[source]
        source: ModelError,
    },
    /// A model failed or gave predictions that do not fit the task.
    #[error("{0}")]
    Scoring(String),
    /// The baseline could not be built.
    #[error("baseline: {0}")]
    Baseline(String),
    /// A slice could not be formed.
    #[error("slice `{slice}`: {reason}")]
    Slice { slice: String, reason: String },
    /// No held-out row has a label.
    #[error("no held-out row has a value in the label column `{label}`")]
    NoRows { label: String },
}

/// Evaluates the candidate against the baseline (and champion) on the held-out rows.
pub fn evaluate(input: &EvalInput<'_>) -> Result<EvalReport, EvaluateError> {
    let spec = input.spec;
    let task = spec
        .problem
        .task
        .ok_or_else(|| EvaluateError::Spec("`problem.task` is not set".into()))?;
    let primary = spec
        .baseline
        .metric
        .ok_or_else(|| EvaluateError::Spec("`baseline.metric` is not set".into()))?;
    if !primary.fits(task) {
        return Err(EvaluateError::Spec(format!(
            "metric `{primary}` does not fit the task `{task}`"
        )));
    }
    let label = spec
        .problem
        .label
        .column
        .clone()
        .ok_or_else(|| EvaluateError::Spec("`problem.label.column` is not set".into()))?;
    let settings = EvalSettings {
        bootstrap_resamples: input
            .bootstrap
            .unwrap_or_else(|| spec.evaluate.bootstrap_resamples())
            .max(1),
        confidence: CONFIDENCE,
        seed: input.seed.unwrap_or_else(|| spec.evaluate.seed_value()),
        slice_bins: spec.evaluate.bins().max(2),
        min_slice_rows: spec.evaluate.min_rows(),
        operating_threshold: OPERATING_THRESHOLD,
        latency_rows: LATENCY_ROWS,
    };

    // Rows without a label cannot be scored; they are counted and left out.
    let label_column =
        input
            .held_out
            .column(&label)
            .ok_or_else(|| EvaluateError::MissingColumn {
                column: label.clone(),
                table: input.held_out.path.display().to_string(),
            })?;
    let texts = label_texts(label_column);
    let kept: Vec<usize> = (0..texts.len()).filter(|&i| texts[i].is_some()).collect();
    if kept.is_empty() {
        return Err(EvaluateError::NoRows { label });
    }
    let rows_without_label = texts.len() - kept.len();
    let held = if rows_without_label == 0 {
        Cow::Borrowed(input.held_out)
    } else {
        Cow::Owned(take_rows(input.held_out, &kept))
    };
    let label_column = held.column(&label).expect("the label column was kept");
    let truth = build_truth(spec, task, label_column, input.candidate.model)?;

    let roles: Vec<(Role, &ModelUnderTest<'_>)> = [
        Some((Role::Candidate, &input.candidate)),
        Some((Role::Baseline, &input.baseline)),
        input.champion.as_ref().map(|c| (Role::Champion, c)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let table_frame = Frame::from_table(&held);
    let default_features = default_features(spec, &held);
    let mut frames = Vec::new();
    let mut scores = Vec::new();
    for (role, m) in &roles {
        // A tensor-input model without `--features` takes the numeric columns a trainer would
        // have used: never the label, the time, the entity or an excluded column.
        let features = match (input.features, &m.model.signature().inputs) {
            (Some(list), _) => Some(list),
            (None, Inputs::Tensor { .. }) => Some(default_features.as_slice()),
            (None, Inputs::Named { .. }) => None,
        };
        let frame = table_frame
            .select(m.model.signature(), features)
            .map_err(|source| EvaluateError::Input {
                role: role.as_str(),
                name: m.name.clone(),
                source,
            })?;
        scores.push(
            scoring::score(m.model, &frame, &truth, &m.name).map_err(EvaluateError::Scoring)?,
        );
        frames.push(frame);
    }
    let mut metrics = vec![primary];
    metrics.extend(Metric::for_task(task).into_iter().filter(|m| *m != primary));
    let n = truth.len();
    let all_rows: Vec<usize> = (0..n).collect();
    let draws = paired_bootstrap(&truth, &scores, &all_rows, &metrics, &settings);
    let metric_rows: Vec<MetricRow> = metrics
        .iter()
        .enumerate()
        .map(|(j, metric)| {
            let estimates = draws.iter().map(|d| d.estimate(j)).collect();
            MetricRow {
                metric: metric.as_str().to_string(),
                higher_is_better: metric.higher_is_better(),
                values: ByModel::from_roles(estimates),
                delta_vs_baseline: draws[0].delta(&draws[1], j),
                delta_vs_champion: draws.get(2).map(|c| draws[0].delta(c, j)),
            }
        })
        .collect();

    let slice_report = slices::slice_report(
        &spec.evaluate.slices,
        &held,
        &truth,
        &scores,
        &metrics,
        &settings,
    )?;
    let overall_primary = metric_rows[0].values.candidate.value;
    let slice_report = SliceReport {
        worst: slices::worst_slice(&slice_report, primary, overall_primary),
        ..slice_report
    };

    let calibration = calibration(&truth, &scores);
    let roc = roc(&truth, &scores);
    let robustness = spec.evaluate.robustness_on().then(|| {
        robustness(
            input.candidate.model,
            &frames[0],
            &truth,
            primary,
            overall_primary,
            settings.seed,
        )
    });
    let business = business(spec, &truth, &scores);
    let latency = latency(input.candidate.model, &frames[0], spec)?;
    let mb = input.model_size_bytes as f64 / 1_000_000.0;
    let budget_mb = spec.constraints.max_model_size_mb;
    let model_size = ModelSizeReport {
        bytes: input.model_size_bytes,
        mb,
        budget_mb,
        within_budget: budget_mb.map(|b| mb <= b),
    };

    let (classes, class_counts) = class_counts(&truth, label_column);
    let mut report = EvalReport {
        format: EVAL_FORMAT.to_string(),
        passed: false,
        framing: Framing {
            problem: spec.problem.clone(),
            constraints: spec.constraints.clone(),
            baseline: spec.baseline.clone(),
            business: spec.business.clone(),
        },
        models: roles
            .iter()
            .map(|(role, m)| ModelRef {
                role: *role,
                name: m.name.clone(),
                reference: m.reference.clone(),
            })
            .collect(),
        data: DataSummary {
            rows: n,
            rows_without_label,
            label,
            classes,
            class_counts,
            positive_class: match &truth {
                Truth::Binary { positive, .. } => Some(positive.clone()),
                _ => None,
            },
            features: frames[0].names.clone(),
        },
        settings,
        primary_metric: primary.as_str().to_string(),
        metrics: metric_rows,
        slices: slice_report,
        calibration,
        roc,
        robustness,
        business,
        latency,
        model_size,
        gates: Vec::new(),
        limitations: Vec::new(),
        lineage: input.lineage.clone(),
    };
    report.gates = gates::evaluate_gates(spec, &report);
    report.passed = report.gates.iter().all(|g| g.status != GateStatus::Fail);
    report.limitations = gates::limitations(&report);
    Ok(report)
}

/// The numeric columns a tensor-input model takes by default, in table order: all but the
/// label, the time and entity columns and `[data] exclude`.
fn default_features(spec: &ProblemSpec, table: &Table) -> Vec<String> {
    let p = &spec.problem;
    let reserved: Vec<&str> = [&p.label.column, &p.time, &p.entity]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .chain(spec.data.exclude.iter().map(String::as_str))
        .collect();
    table
        .schema
        .iter()
        .zip(&table.columns)
        .filter(|(s, c)| matches!(c, Column::Numeric(_)) && !reserved.contains(&s.name.as_str()))
        .map(|(s, _)| s.name.clone())
        .collect()
}

/// The rows `rows` of a table.
fn take_rows(table: &Table, rows: &[usize]) -> Table {
    let columns = table
        .columns
        .iter()
        .map(|c| match c {
            Column::Numeric(v) => Column::Numeric(rows.iter().map(|&i| v[i]).collect()),
            Column::Categorical(v) => {
                Column::Categorical(rows.iter().map(|&i| v[i].clone()).collect())
            }
        })
        .collect();
    Table {
        path: table.path.clone(),
        format: table.format,
        schema: table.schema.clone(),
        columns,
        n_rows: rows.len(),
    }
}

/// The truth of every (labelled) held-out row.
fn build_truth(
    spec: &ProblemSpec,
    task: Task,
    column: &Column,
    candidate: &dyn Model,
) -> Result<Truth, EvaluateError> {
    let texts: Vec<String> = label_texts(column).into_iter().flatten().collect();
    match task {
        Task::Regression => match column {
            Column::Numeric(v) => Ok(Truth::Regression { y: v.clone() }),
            Column::Categorical(_) => Err(EvaluateError::Spec(
                "the label column holds text, but the task is regression".into(),
            )),
        },
        Task::BinaryClassification => {
            let classes = candidate.signature().classes();
            let positive = baseline::positive_text(spec, column)
                .or_else(|| (classes.len() == 2).then(|| classes[1].clone()))
                .ok_or_else(|| {
                    EvaluateError::Spec(
                        "set `problem.label.positive_value`: the candidate does not have two \
                         classes to take the positive one from"
                            .into(),
                    )
                })?;
            let y = texts
                .iter()
                .map(|t| f64::from(u8::from(*t == positive)))
                .collect();
            Ok(Truth::Binary { y, positive })
        }
        Task::MulticlassClassification => {
            let mut classes: Vec<String> = candidate.signature().classes().to_vec();
            for t in &texts {
                if !classes.contains(t) {
                    classes.push(t.clone());
                }
            }
            let y = texts
                .iter()
                .map(|t| {
                    classes
                        .iter()
                        .position(|c| c == t)
                        .expect("every label was added")
                })
                .collect();
            Ok(Truth::Multiclass { y, classes })
        }
    }
}

/// The classes of the held-out labels with their counts: binary classes as the label values
/// (sorted, numbers by value), multiclass in the truth's order.
fn class_counts(truth: &Truth, label: &Column) -> (Vec<String>, Vec<usize>) {
    match truth {
        Truth::Binary { .. } => {
            let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
            for t in label_texts(label).into_iter().flatten() {
                *counts.entry(t).or_default() += 1;
            }
            let mut pairs: Vec<(String, usize)> = counts.into_iter().collect();
            pairs.sort_by(
                |(a, _), (b, _)| match (a.parse::<f64>(), b.parse::<f64>()) {
                    (Ok(x), Ok(y)) => x.total_cmp(&y),
                    _ => a.cmp(b),
                },
            );
            pairs.into_iter().unzip()
        }
        Truth::Multiclass { y, classes } => {
            let mut counts = vec![0; classes.len()];
            for &c in y {
                counts[c] += 1;
            }
            (classes.clone(), counts)
        }
        Truth::Regression { .. } => (Vec::new(), Vec::new()),
    }
}

/// One model's metrics on all rows and on every resample.
pub(crate) struct Draws {
    /// `point[metric]`.
    point: Vec<Option<f64>>,
    /// `samples[metric][resample]`; resample r is the same rows for every model.
    samples: Vec<Vec<Option<f64>>>,
}

impl Draws {
    /// The point value and percentile interval of metric `j`.
    pub(crate) fn estimate(&self, j: usize) -> Estimate {
        interval(self.point[j], self.samples[j].iter().copied())
    }

    /// This model's metric `j` minus another's, on the same resamples.
    pub(crate) fn delta(&self, other: &Draws, j: usize) -> Estimate {
        let point = self.point[j].zip(other.point[j]).map(|(a, b)| a - b);
        let pairs = self.samples[j]
            .iter()
            .zip(&other.samples[j])
            .map(|(a, b)| a.zip(*b).map(|(a, b)| a - b));
        interval(point, pairs)
    }
}

/// The percentile interval (linear interpolation) of the defined samples.
fn interval(point: Option<f64>, samples: impl Iterator<Item = Option<f64>>) -> Estimate {
    let mut values: Vec<f64> = samples.flatten().filter(|v| v.is_finite()).collect();
    if values.is_empty() {
        return Estimate {
            value: point,
            lower: None,
            upper: None,
        };
    }
    values.sort_unstable_by(f64::total_cmp);
    let tail = (1.0 - CONFIDENCE) / 2.0;
    Estimate {
        value: point,
        lower: Some(quantile_sorted(&values, tail)),
        upper: Some(quantile_sorted(&values, 1.0 - tail)),
    }
}

/// Linear-interpolation quantile of sorted values (numpy's default).
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let lo = position.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo as f64)
}

/// Metrics of every model on `rows` and on seeded resamples of them. Every model draws its
/// resamples from a generator with the same seed, so resample r is the same rows for all of
/// them and differences between models are paired; that also lets each model run on its own
/// thread ([`BOOTSTRAP_THREADS`] at most) with the same result as one thread.
pub(crate) fn paired_bootstrap(
    truth: &Truth,
    scores: &[Scores],
    rows: &[usize],
    metrics: &[Metric],
    settings: &EvalSettings,
) -> Vec<Draws> {
    let one = |s: &Scores| -> Draws {
        let threshold = settings.operating_threshold;
        let mut gathered = Gathered::default();
        let mut draws = Draws {
            point: metrics_on(truth, s, rows, metrics, threshold, &mut gathered),
            samples: vec![Vec::with_capacity(settings.bootstrap_resamples); metrics.len()],
        };
        if rows.is_empty() {
            return draws;
        }
        let mut rng = Rng::seed_from_u64(settings.seed);
        let mut picks = Vec::with_capacity(rows.len());
        let mut sample = Vec::with_capacity(rows.len());
        for _ in 0..settings.bootstrap_resamples {
            resample_indices(&mut rng, rows.len(), &mut picks);
            sample.clear();
            sample.extend(picks.iter().map(|&j| rows[j]));
            let values = metrics_on(truth, s, &sample, metrics, threshold, &mut gathered);
            for (column, v) in draws.samples.iter_mut().zip(values) {
                column.push(v);
            }
        }
        draws
    };
    let mut out = Vec::with_capacity(scores.len());
    for chunk in scores.chunks(BOOTSTRAP_THREADS) {
        std::thread::scope(|scope| {
            let handles: Vec<_> = chunk.iter().map(|s| scope.spawn(move || one(s))).collect();
            for h in handles {
                out.push(h.join().expect("a bootstrap thread does not panic"));
            }
        });
    }
    out
}

/// Reliability curves, ECE and Brier score of every model (classifiers only).
fn calibration(truth: &Truth, scores: &[Scores]) -> Option<CalibrationReport> {
    let one = |s: &Scores| -> Calibration {
        let (y, p, brier) = match (truth, s) {
            (Truth::Binary { y, .. }, Scores::Binary(p)) => {
                (y.clone(), p.clone(), stats_metrics::brier_score(y, p).ok())
            }
            (Truth::Multiclass { y, classes }, Scores::Multiclass(probs)) => {
                let k = classes.len();
                let mut correct = Vec::with_capacity(y.len());
                let mut confidence = Vec::with_capacity(y.len());
                for (row, &t) in probs.chunks_exact(k).zip(y) {
                    let best = (0..k).fold(0, |b, c| if row[c] > row[b] { c } else { b });
                    correct.push(f64::from(u8::from(best == t)));
                    confidence.push(row[best]);
                }
                (correct, confidence, None)
            }
            _ => (Vec::new(), Vec::new(), None),
        };
        match reliability_curve(&y, &p, CALIBRATION_BINS, BinStrategy::Uniform) {
            Ok(curve) => Calibration {
                ece: Some(curve.expected_calibration_error()),
                mce: Some(curve.maximum_calibration_error()),
                brier,
                curve: curve
                    .bins
                    .iter()
                    .map(|b| ReliabilityPoint {
                        mean_predicted: b.mean_predicted,
                        observed: b.observed_frequency,
                        count: b.count,
                    })
                    .collect(),
            },
            Err(_) => Calibration {
                ece: None,
                mce: None,
                brier,
                curve: Vec::new(),
            },
        }
    };
    let of = match truth {
        Truth::Binary { positive, .. } => format!("P({positive})"),
        Truth::Multiclass { .. } => "the probability of the predicted class".to_string(),
        Truth::Regression { .. } => return None,
    };
    Some(CalibrationReport {
        of,
        bins: CALIBRATION_BINS,
        models: by_role(scores, one),
    })
}

/// Applies `f` to the candidate's, baseline's and champion's scores.
fn by_role<T>(scores: &[Scores], mut f: impl FnMut(&Scores) -> T) -> ByModel<T> {
    ByModel {
        candidate: f(&scores[0]),
        baseline: f(&scores[1]),
        champion: scores.get(2).map(f),
    }
}

/// ROC curve points of every model (binary only), at most [`ROC_POINTS`] each.
fn roc(truth: &Truth, scores: &[Scores]) -> Option<ByModel<RocPoints>> {
    let Truth::Binary { y, .. } = truth else {
        return None;
    };
    Some(by_role(scores, |s| {
        let Scores::Binary(p) = s else {
            return RocPoints::default();
        };
        match stats_metrics::roc_curve(y, p, true) {
            Ok(curve) => {
                let m = curve.fpr.len();
                let keep: Vec<usize> = if m <= ROC_POINTS {
                    (0..m).collect()
                } else {
                    let mut k: Vec<usize> = (0..ROC_POINTS)
                        .map(|i| i * (m - 1) / (ROC_POINTS - 1))
                        .collect();
                    k.dedup();
                    k
                };
                RocPoints {
                    fpr: keep.iter().map(|&i| curve.fpr[i]).collect(),
                    tpr: keep.iter().map(|&i| curve.tpr[i]).collect(),
                }
            }
            Err(_) => RocPoints::default(),
        }
    }))
}

/// The candidate's primary metric under each perturbation of its input frame.
fn robustness(
    model: &dyn Model,
    frame: &Frame,
    truth: &Truth,
    primary: Metric,
    clean: Option<f64>,
    seed: u64,
) -> RobustnessReport {
    let mut gathered = Gathered::default();
    let all_rows: Vec<usize> = (0..truth.len()).collect();
    let mut perturbations = Vec::new();
    for (index, &p) in Perturbation::ALL.iter().enumerate() {
        // Each perturbation has its own stream, so adding one never changes the others.
        let mut rng =
            Rng::seed_from_u64(seed ^ (0x5DEE_CE66_D1CE_4E5Bu64.wrapping_mul(index as u64 + 1)));
        let (perturbed, description, note) = perturb(frame, p.kind(), &mut rng);
        let mut result = PerturbationResult {
            name: p.as_str().to_string(),
            description,
            value: None,
            drop: None,
            note,
        };
        if result.note.is_none() {
            let names = perturbed.names.clone();
            let outcome = perturbed
                .select(model.signature(), Some(&names))
                .map_err(|e| format!("the model refuses the perturbed rows: {e}"))
                .and_then(|f| scoring::score(model, &f, truth, "candidate"));
            match outcome {
                Ok(s) => {
                    let value = metrics_on(
                        truth,
                        &s,
                        &all_rows,
                        &[primary],
                        OPERATING_THRESHOLD,
                        &mut gathered,
                    )[0];
                    result.value = value;
                    result.drop = value.zip(clean).map(|(v, c)| {
                        if primary.higher_is_better() {
                            c - v
                        } else {
                            v - c
                        }
                    });
                }
                Err(e) => result.note = Some(e),
            }
        }
        perturbations.push(result);
    }
    let max_drop = perturbations
        .iter()
        .filter_map(|p| p.drop)
        .fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.max(d))));
    RobustnessReport {
        metric: primary.as_str().to_string(),
        clean,
        perturbations,
        max_drop,
    }
}

/// A perturbed copy of the frame, what was done in words, and a note when nothing applied.
fn perturb(
    frame: &Frame,
    kind: PerturbationKind,
    rng: &mut Rng,
) -> (Frame, String, Option<String>) {
    let mut out = frame.clone();
    let mut touched = 0usize;
    let description = match kind {
        PerturbationKind::Noise(scale) => {
            for column in &mut out.columns {
                if let Column::Numeric(v) = column {
                    let sd = std_dev(v);
                    if sd > 0.0 {
                        touched += 1;
                        for x in v.iter_mut().filter(|x| !x.is_nan()) {
                            *x += rng.normal(0.0, scale * sd);
                        }
                    }
                }
            }
            format!("Gaussian noise of {scale} × each numeric feature's standard deviation")
        }
        PerturbationKind::Missing(share) => {
            for column in &mut out.columns {
                touched += 1;
                match column {
                    Column::Numeric(v) => v.iter_mut().for_each(|x| {
                        if rng.next_f64() < share {
                            *x = f64::NAN;
                        }
                    }),
                    Column::Categorical(v) => v.iter_mut().for_each(|x| {
                        if rng.next_f64() < share {
                            *x = None;
                        }
                    }),
                }
            }
            format!(
                "{:.0}% of every feature's values made missing",
                share * 100.0
            )
        }
        PerturbationKind::Swap(share) => {
            for column in &mut out.columns {
                if let Column::Categorical(v) = column {
                    let mut seen: Vec<String> = v.iter().flatten().cloned().collect();
                    seen.sort();
                    seen.dedup();
                    if seen.len() < 2 {
                        continue;
                    }
                    touched += 1;
                    for x in v.iter_mut() {
                        let Some(current) = x.as_ref() else { continue };
                        if rng.next_f64() < share {
                            let at = seen.iter().position(|c| c == current).unwrap_or(0);
                            // Another category, uniformly among the others.
                            let pick = (at + 1 + rng.below_usize(seen.len() - 1)) % seen.len();
                            *x = Some(seen[pick].clone());
                        }
                    }
                }
            }
            format!(
                "{:.0}% of every categorical feature's values replaced by another seen category",
                share * 100.0
            )
        }
    };
    let note = (touched == 0).then(|| match kind {
        PerturbationKind::Noise(_) => "not applicable: no numeric feature varies".to_string(),
        PerturbationKind::Missing(_) => "not applicable: the model takes no features".to_string(),
        PerturbationKind::Swap(_) => {
            "not applicable: no categorical feature with two or more categories".to_string()
        }
    });
    (out, description, note)
}

/// Population standard deviation of the non-missing values.
fn std_dev(values: &[f64]) -> f64 {
    let present: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if present.len() < 2 {
        return 0.0;
    }
    let mean = present.iter().sum::<f64>() / present.len() as f64;
    (present.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / present.len() as f64).sqrt()
}

/// Business value from `[business]`, per 1,000 predictions.
fn business(spec: &ProblemSpec, truth: &Truth, scores: &[Scores]) -> Option<BusinessReport> {
    let b = &spec.business;
    match truth {
        Truth::Binary { y, .. } => {
            let values = [
                b.true_positive?,
                b.false_positive?,
                b.false_negative?,
                b.true_negative?,
            ];
            let value_at = |p: &[f64], t: f64| -> f64 {
                let mut total = 0.0;
                for (&yi, &pi) in y.iter().zip(p) {
                    total += match (yi == 1.0, pi >= t) {
                        (true, true) => values[0],
                        (false, true) => values[1],
                        (true, false) => values[2],
                        (false, false) => values[3],
                    };
                }
                total / y.len() as f64 * 1000.0
            };
            let sweep_of = |s: &Scores| -> Vec<ThresholdValue> {
                let Scores::Binary(p) = s else {
                    return Vec::new();
                };
                (0..SWEEP_THRESHOLDS)
                    .map(|i| {
                        let threshold = i as f64 / (SWEEP_THRESHOLDS - 1) as f64;
                        ThresholdValue {
                            threshold,
                            value_per_1k: value_at(p, threshold),
                        }
                    })
                    .collect()
            };
            let best_of = |s: &Scores| -> ThresholdValue {
                // The first threshold reaching the largest value wins a tie.
                sweep_of(s)
                    .into_iter()
                    .fold(None, |best: Option<ThresholdValue>, t| match best {
                        Some(b) if b.value_per_1k >= t.value_per_1k => Some(b),
                        _ => Some(t),
                    })
                    .expect("the sweep has thresholds")
            };
            Some(BusinessReport {
                kind: "confusion".into(),
                operating_threshold: Some(OPERATING_THRESHOLD),
                value_per_1k: by_role(scores, |s| match s {
                    Scores::Binary(p) => Some(value_at(p, OPERATING_THRESHOLD)),
                    _ => None,
                }),
                best: Some(by_role(scores, best_of)),
                sweep: sweep_of(&scores[0]),
                baseline_sweep: sweep_of(&scores[1]),
            })
        }
        Truth::Regression { y } => {
            let cost = b.cost_per_unit_error?;
            Some(BusinessReport {
                kind: "error_cost".into(),
                operating_threshold: None,
                value_per_1k: by_role(scores, |s| match s {
                    Scores::Values(p) => {
                        let error: f64 = y.iter().zip(p).map(|(a, b)| (a - b).abs()).sum();
                        Some(-cost * error / y.len() as f64 * 1000.0)
                    }
                    _ => None,
                }),
                best: None,
                sweep: Vec::new(),
                baseline_sweep: Vec::new(),
            })
        }
        Truth::Multiclass { .. } => None,
    }
}

/// Single-row prediction latency of the candidate on the first [`LATENCY_ROWS`] rows (cycling
/// when there are fewer), after a short warm-up.
fn latency(
    model: &dyn Model,
    frame: &Frame,
    spec: &ProblemSpec,
) -> Result<LatencyReport, EvaluateError> {
    let n = frame.n_rows;
    let singles: Vec<Frame> = (0..LATENCY_ROWS.min(n))
        .map(|i| frame.slice(i..i + 1))
        .collect();
    let run = |f: &Frame| {
        model
            .predict(f)
            .map_err(|e| EvaluateError::Scoring(format!("single-row prediction: {e}")))
    };
    for f in singles.iter().take(10) {
        run(f)?;
    }
    let mut times = Vec::with_capacity(LATENCY_ROWS);
    for i in 0..LATENCY_ROWS {
        let f = &singles[i % singles.len()];
        let start = Instant::now();
        run(f)?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_unstable_by(f64::total_cmp);
    let p99 = quantile_sorted(&times, 0.99);
    let budget = spec.constraints.p99_latency_ms;
    Ok(LatencyReport {
        rows_timed: times.len(),
        p50_ms: quantile_sorted(&times, 0.5),
        p99_ms: p99,
        budget_p99_ms: budget,
        within_budget: budget.map(|b| p99 <= b),
    })
}
