//! The held-out truth, each model's predictions aligned to it, and the metrics of `aidlc.toml`
//! computed on any subset of rows (all rows, a bootstrap resample, a slice).

use aidlc_core::spec::Metric;
use aidlc_data::Column;
use aidlc_models::{Model, Predictions};
use aidlc_stats::metrics::{self as m, Average};

/// The label of every held-out row, in the form the task needs.
#[derive(Debug, Clone)]
pub(crate) enum Truth {
    /// 1 for the positive class, 0 otherwise.
    Binary {
        y: Vec<f64>,
        positive: String,
    },
    /// Index into `classes`.
    Multiclass {
        y: Vec<usize>,
        classes: Vec<String>,
    },
    Regression {
        y: Vec<f64>,
    },
}

impl Truth {
    pub(crate) fn len(&self) -> usize {
        match self {
            Truth::Binary { y, .. } | Truth::Regression { y } => y.len(),
            Truth::Multiclass { y, .. } => y.len(),
        }
    }
}

/// One model's predictions, aligned with the truth.
#[derive(Debug, Clone)]
pub(crate) enum Scores {
    /// P(positive) per row.
    Binary(Vec<f64>),
    /// Row-major probabilities over the truth's classes.
    Multiclass(Vec<f64>),
    Values(Vec<f64>),
}

/// The text of a label value as class names are written: numbers as Rust prints them (`1`,
/// `0.5`), text as it is. `None` for a missing value.
pub(crate) fn label_texts(column: &Column) -> Vec<Option<String>> {
    crate::split::texts(column)
}

/// Turns a model's predictions into scores aligned with `truth`; the error says what does not
/// fit.
pub(crate) fn align(
    predictions: Predictions,
    truth: &Truth,
    model_name: &str,
) -> Result<Scores, String> {
    match (truth, predictions) {
        (
            Truth::Binary { positive, .. },
            Predictions::Classes {
                classes,
                probabilities,
                ..
            },
        ) => {
            let k = classes.len();
            let at = classes.iter().position(|c| c == positive).ok_or_else(|| {
                format!(
                    "model `{model_name}` predicts the classes [{}], not the positive class `{positive}`",
                    classes.join(", ")
                )
            })?;
            Ok(Scores::Binary(
                probabilities.iter().skip(at).step_by(k).copied().collect(),
            ))
        }
        (
            Truth::Multiclass {
                classes: wanted, ..
            },
            Predictions::Classes {
                classes,
                probabilities,
                labels,
            },
        ) => {
            let k = classes.len();
            let columns: Vec<Option<usize>> = wanted
                .iter()
                .map(|w| classes.iter().position(|c| c == w))
                .collect();
            let mut out = Vec::with_capacity(labels.len() * wanted.len());
            for row in probabilities.chunks_exact(k) {
                out.extend(columns.iter().map(|c| c.map_or(0.0, |c| row[c])));
            }
            Ok(Scores::Multiclass(out))
        }
        (Truth::Regression { .. }, Predictions::Values(v)) => Ok(Scores::Values(v)),
        (Truth::Regression { .. }, Predictions::Classes { .. }) => Err(format!(
            "model `{model_name}` is a classifier, but the task is regression"
        )),
        (_, Predictions::Values(_)) => Err(format!(
            "model `{model_name}` is a regressor, but the task is classification"
        )),
    }
}

/// Scores a frame with a model and aligns the predictions.
pub(crate) fn score(
    model: &dyn Model,
    frame: &aidlc_models::Frame,
    truth: &Truth,
    model_name: &str,
) -> Result<Scores, String> {
    let predictions = model
        .predict(frame)
        .map_err(|e| format!("model `{model_name}`: {e}"))?;
    if predictions.n_rows() != truth.len() {
        return Err(format!(
            "model `{model_name}` returned {} predictions for {} rows",
            predictions.n_rows(),
            truth.len()
        ));
    }
    let mut scores = align(predictions, truth, model_name)?;
    if let Scores::Binary(p) | Scores::Multiclass(p) = &mut scores {
        // Runtimes that compute in f32 can land a hair outside [0, 1]; that is rounding, not
        // a wrong model, so it is clipped. Anything further out is an error.
        const SLACK: f64 = 1e-5;
        if let Some(i) = p.iter().position(|x| !(-SLACK..=1.0 + SLACK).contains(x)) {
            return Err(format!(
                "model `{model_name}` returned the probability {} (row {i}), outside [0, 1]",
                p[i]
            ));
        }
        p.iter_mut().for_each(|x| *x = x.clamp(0.0, 1.0));
    }
    Ok(scores)
}

/// Gathered values of some rows, reused between metrics so a resample is copied once.
#[derive(Default)]
pub(crate) struct Gathered {
    y: Vec<f64>,
    p: Vec<f64>,
    classes_true: Vec<usize>,
    classes_pred: Vec<usize>,
    probabilities: Vec<f64>,
}

impl Gathered {
    /// Copies `rows` of the truth and the scores.
    pub(crate) fn fill(&mut self, truth: &Truth, scores: &Scores, rows: &[usize]) {
        self.y.clear();
        self.p.clear();
        self.classes_true.clear();
        self.classes_pred.clear();
        self.probabilities.clear();
        match (truth, scores) {
            (Truth::Binary { y, .. }, Scores::Binary(p))
            | (Truth::Regression { y }, Scores::Values(p)) => {
                self.y.extend(rows.iter().map(|&i| y[i]));
                self.p.extend(rows.iter().map(|&i| p[i]));
            }
            (Truth::Multiclass { y, classes }, Scores::Multiclass(p)) => {
                let k = classes.len();
                for &i in rows {
                    let row = &p[i * k..(i + 1) * k];
                    self.classes_true.push(y[i]);
                    // The first class wins ties, as the models' own argmax does.
                    let best = (0..k).fold(0, |b, c| if row[c] > row[b] { c } else { b });
                    self.classes_pred.push(best);
                    self.probabilities.extend_from_slice(row);
                }
            }
            _ => unreachable!("scores are aligned with the truth's task by `align`"),
        }
    }

    /// A metric on the gathered rows at the operating threshold; `None` when undefined.
    pub(crate) fn metric(&self, metric: Metric, threshold: f64, n_classes: usize) -> Option<f64> {
        let value = match metric {
            Metric::RocAuc => m::roc_auc(&self.y, &self.p).ok(),
            Metric::PrAuc => m::average_precision(&self.y, &self.p).ok(),
            Metric::LogLoss if !self.classes_true.is_empty() => {
                m::multiclass_log_loss(&self.classes_true, &self.probabilities, n_classes).ok()
            }
            Metric::LogLoss => m::log_loss(&self.y, &self.p).ok(),
            Metric::Brier => m::brier_score(&self.y, &self.p).ok(),
            Metric::Accuracy if !self.classes_true.is_empty() => {
                m::multiclass_accuracy(&self.classes_true, &self.classes_pred).ok()
            }
            Metric::Accuracy => Some(self.confusion(threshold)?.accuracy().value),
            Metric::BalancedAccuracy if !self.classes_true.is_empty() => {
                balanced_accuracy(&self.classes_true, &self.classes_pred, n_classes)
            }
            Metric::BalancedAccuracy => {
                let c = self.confusion(threshold)?;
                let recalls: Vec<f64> = [c.recall(), c.specificity()]
                    .into_iter()
                    .filter(|r| !r.ill_defined)
                    .map(|r| r.value)
                    .collect();
                (!recalls.is_empty()).then(|| recalls.iter().sum::<f64>() / recalls.len() as f64)
            }
            Metric::F1 => Some(self.confusion(threshold)?.f1().value),
            Metric::Precision => Some(self.confusion(threshold)?.precision().value),
            Metric::Recall => Some(self.confusion(threshold)?.recall().value),
            Metric::F1Macro => {
                m::multiclass_f1(&self.classes_true, &self.classes_pred, Average::Macro)
                    .ok()
                    .map(|v| v.value)
            }
            Metric::F1Weighted => {
                m::multiclass_f1(&self.classes_true, &self.classes_pred, Average::Weighted)
                    .ok()
                    .map(|v| v.value)
            }
            Metric::Rmse => m::root_mean_squared_error(&self.y, &self.p).ok(),
            Metric::Mae => m::mean_absolute_error(&self.y, &self.p).ok(),
            Metric::R2 => m::r2_score(&self.y, &self.p).ok().map(|v| v.value),
            Metric::Mape => m::mean_absolute_percentage_error(&self.y, &self.p).ok(),
        };
        value.filter(|v| v.is_finite())
    }

    fn confusion(&self, threshold: f64) -> Option<m::BinaryConfusion> {
        m::binary_confusion(&self.y, &self.p, threshold).ok()
    }
}

/// Mean recall over the classes present in the truth (scikit-learn's `balanced_accuracy_score`).
fn balanced_accuracy(truth: &[usize], predicted: &[usize], n_classes: usize) -> Option<f64> {
    let mut support = vec![0usize; n_classes];
    let mut hits = vec![0usize; n_classes];
    for (&t, &p) in truth.iter().zip(predicted) {
        support[t] += 1;
        if t == p {
            hits[t] += 1;
        }
    }
    let recalls: Vec<f64> = (0..n_classes)
        .filter(|&c| support[c] > 0)
        .map(|c| hits[c] as f64 / support[c] as f64)
        .collect();
    (!recalls.is_empty()).then(|| recalls.iter().sum::<f64>() / recalls.len() as f64)
}

/// The number of classes a metric sees (0 for binary and regression).
pub(crate) fn n_classes(truth: &Truth) -> usize {
    match truth {
        Truth::Multiclass { classes, .. } => classes.len(),
        _ => 0,
    }
}

/// Every metric of `metrics` for one model on `rows`.
pub(crate) fn metrics_on(
    truth: &Truth,
    scores: &Scores,
    rows: &[usize],
    metrics: &[Metric],
    threshold: f64,
    gathered: &mut Gathered,
) -> Vec<Option<f64>> {
    if rows.is_empty() {
        return vec![None; metrics.len()];
    }
    gathered.fill(truth, scores, rows);
    let k = n_classes(truth);
    metrics
        .iter()
        .map(|&metric| gathered.metric(metric, threshold, k))
        .collect()
}
