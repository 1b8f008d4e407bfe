//! The built-in trainers: baselines (prior, majority, mean), L2-regularised linear models
//! (logistic regression, ridge) and histogram gradient-boosted trees. Each turns a [`TrainSet`]
//! into a [`BuiltinModel`] that scores through the native scorer and exports to ONNX.
//!
//! Training is deterministic: the same data, parameters and seed give the same model bytes,
//! whatever the number of threads.

mod baseline;
mod gbdt;
mod linear;

pub use gbdt::GbdtParams;
pub use linear::{ClassWeight, LinearParams};

use crate::builtin::{BuiltinModel, Encoding, FORMAT, Predictor};
use crate::error::ModelError;
use crate::frame::Frame;
use crate::signature::{Feature, FeatureKind, Inputs, ModelTask, Signature};
use aidlc_data::Column;
use serde::{Deserialize, Serialize};

/// What a model learns to predict, one entry per row.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Classification: the class of each row, as an index into `classes`.
    Classes { classes: Vec<String>, y: Vec<usize> },
    /// Regression: the value of each row.
    Values(Vec<f64>),
}

impl Target {
    /// A classification target from a label column. Classes are the label values as text (a
    /// number as the frame prints it, "0", "1", "2.5"), sorted numerically when every label is a
    /// number and as text otherwise. A missing label is an error naming `name` and the row.
    pub fn classes_from_column(column: &Column, name: &str) -> Result<Target, ModelError> {
        let labels: Vec<String> = match column {
            Column::Numeric(v) => v
                .iter()
                .enumerate()
                .map(|(row, x)| {
                    if x.is_nan() {
                        Err(missing_label(name, row))
                    } else {
                        Ok(format!("{x}"))
                    }
                })
                .collect::<Result<_, _>>()?,
            Column::Categorical(v) => v
                .iter()
                .enumerate()
                .map(|(row, x)| x.clone().ok_or_else(|| missing_label(name, row)))
                .collect::<Result<_, _>>()?,
        };
        let mut classes: Vec<String> = labels.clone();
        classes.sort();
        classes.dedup();
        if matches!(column, Column::Numeric(_)) {
            // Every label printed from a number parses back to it.
            classes.sort_by(|a, b| {
                let (a, b) = (
                    a.parse::<f64>().unwrap_or(0.0),
                    b.parse::<f64>().unwrap_or(0.0),
                );
                a.total_cmp(&b)
            });
        }
        let y = labels
            .iter()
            .map(|l| {
                classes
                    .binary_search_by(|c| cmp_class(c, l, column))
                    .unwrap_or(0)
            })
            .collect();
        Ok(Target::Classes { classes, y })
    }

    /// A regression target from a numeric label column; a missing or text label is an error
    /// naming `name` (and the row).
    pub fn values_from_column(column: &Column, name: &str) -> Result<Target, ModelError> {
        match column {
            Column::Numeric(v) => match v.iter().position(|x| !x.is_finite()) {
                Some(row) => Err(missing_label(name, row)),
                None => Ok(Target::Values(v.clone())),
            },
            Column::Categorical(_) => Err(ModelError::WrongType {
                name: name.to_owned(),
                expected: "numbers (a regression label)".into(),
                found: "text".into(),
            }),
        }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        match self {
            Target::Classes { y, .. } => y.len(),
            Target::Values(v) => v.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn cmp_class(a: &str, b: &str, column: &Column) -> std::cmp::Ordering {
    match column {
        Column::Numeric(_) => {
            let (a, b) = (
                a.parse::<f64>().unwrap_or(0.0),
                b.parse::<f64>().unwrap_or(0.0),
            );
            a.total_cmp(&b)
        }
        Column::Categorical(_) => a.cmp(b),
    }
}

fn missing_label(name: &str, row: usize) -> ModelError {
    ModelError::BadValue {
        name: name.to_owned(),
        row,
        reason: "missing label; drop unlabelled rows before training".into(),
    }
}

/// Rows to learn from: feature columns, the target and optional row weights.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSet {
    pub features: Frame,
    pub target: Target,
    /// One non-negative weight per row; `None` weighs every row 1.
    pub weights: Option<Vec<f64>>,
}

impl TrainSet {
    fn weight(&self, i: usize) -> f64 {
        self.weights.as_ref().map_or(1.0, |w| w[i])
    }
}

/// Which trainer to run, with its parameters. As JSON or TOML the trainer's name is the `trainer`
/// field and the parameters sit beside it, each with a default:
/// `{"trainer": "gbdt", "learning_rate": 0.05, "early_stopping_rounds": 20}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "trainer", rename_all = "snake_case")]
pub enum TrainerSpec {
    /// Classification baseline: every row gets the training class frequencies.
    Prior,
    /// Classification baseline: probability 1 on the most frequent training class.
    Majority,
    /// Regression baseline: the (weighted) mean training value.
    Mean,
    /// Logistic regression for classification, ridge regression for regression.
    #[serde(alias = "logistic", alias = "ridge")]
    Linear(LinearParams),
    /// Histogram gradient-boosted trees.
    Gbdt(GbdtParams),
}

impl TrainerSpec {
    /// The trainer's name as written in specs and in the model's `training` record.
    pub fn name(&self) -> &'static str {
        match self {
            TrainerSpec::Prior => "prior",
            TrainerSpec::Majority => "majority",
            TrainerSpec::Mean => "mean",
            TrainerSpec::Linear(_) => "linear",
            TrainerSpec::Gbdt(_) => "gbdt",
        }
    }
}

/// A trained model and how training went.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    pub model: BuiltinModel,
    /// Optimiser iterations (linear) or boosting rounds run (trees); 0 for baselines.
    pub iterations: usize,
    /// With early stopping, the number of boosting rounds kept (the round with the lowest
    /// validation loss, counted from 1).
    pub best_iteration: Option<usize>,
    /// Validation loss (log loss, or mean squared error for regression) after each iteration;
    /// empty without a validation set. Baselines and linear models give one value.
    pub valid_history: Vec<f64>,
    /// Total split gain per feature (trees) or the mean absolute weight of the feature's
    /// encoded columns (linear); zero for baselines. In the frame's feature order.
    pub feature_importance: Vec<(String, f64)>,
}

/// Trains a model on `train`, using `valid` (same features and classes) for early stopping and
/// the validation history. `seed` drives every random choice (row and feature subsampling).
pub fn train(
    spec: &TrainerSpec,
    train: &TrainSet,
    valid: Option<&TrainSet>,
    seed: u64,
) -> Result<TrainOutcome, ModelError> {
    check_set(train, "training")?;
    if let Some(valid) = valid {
        check_set(valid, "validation")?;
        check_matches(train, valid)?;
    }
    let mut outcome = match spec {
        TrainerSpec::Prior => baseline::prior(train, valid, false)?,
        TrainerSpec::Majority => baseline::prior(train, valid, true)?,
        TrainerSpec::Mean => baseline::mean(train, valid)?,
        TrainerSpec::Linear(params) => linear::train(params, train, valid)?,
        TrainerSpec::Gbdt(params) => gbdt::train(params, train, valid, seed)?,
    };
    let importance: serde_json::Map<String, serde_json::Value> = outcome
        .feature_importance
        .iter()
        .map(|(n, v)| (n.clone(), serde_json::json!(v)))
        .collect();
    outcome.model.training = serde_json::json!({
        "trainer": spec.name(),
        "params": spec,
        "seed": seed,
        "rows": train.features.n_rows,
        "valid_rows": valid.map(|v| v.features.n_rows),
        "iterations": outcome.iterations,
        "best_iteration": outcome.best_iteration,
        "valid_loss": outcome.valid_history.last(),
        "feature_importance": importance,
    });
    Ok(outcome)
}

fn check_set(set: &TrainSet, which: &str) -> Result<(), ModelError> {
    let n = set.features.n_rows;
    if n == 0 {
        return Err(ModelError::Training(format!("the {which} set has no rows")));
    }
    if set.target.len() != n {
        return Err(ModelError::Training(format!(
            "the {which} set has {n} feature rows but {} labels",
            set.target.len()
        )));
    }
    if let Some(w) = &set.weights {
        if w.len() != n {
            return Err(ModelError::Training(format!(
                "the {which} set has {n} rows but {} weights",
                w.len()
            )));
        }
        if let Some(row) = w.iter().position(|x| !(x.is_finite() && *x >= 0.0)) {
            return Err(ModelError::BadValue {
                name: "weight".into(),
                row,
                reason: format!(
                    "{which} weight {} is not a finite non-negative number",
                    w[row]
                ),
            });
        }
        if w.iter().sum::<f64>() <= 0.0 {
            return Err(ModelError::Training(format!(
                "the {which} weights sum to zero"
            )));
        }
    }
    match &set.target {
        Target::Classes { classes, y } => {
            if classes.len() < 2 {
                return Err(ModelError::Training(format!(
                    "a classifier needs at least two classes, the {which} target has {}",
                    classes.len()
                )));
            }
            if let Some(row) = y.iter().position(|&c| c >= classes.len()) {
                return Err(ModelError::BadValue {
                    name: "label".into(),
                    row,
                    reason: format!("class index {} is out of range", y[row]),
                });
            }
        }
        Target::Values(v) => {
            if let Some(row) = v.iter().position(|x| !x.is_finite()) {
                return Err(missing_label("label", row));
            }
        }
    }
    Ok(())
}

fn check_matches(train: &TrainSet, valid: &TrainSet) -> Result<(), ModelError> {
    if train.features.names != valid.features.names {
        return Err(ModelError::Training(format!(
            "the validation set's features ({}) differ from the training set's ({})",
            valid.features.names.join(", "),
            train.features.names.join(", ")
        )));
    }
    for (name, (a, b)) in train
        .features
        .names
        .iter()
        .zip(train.features.columns.iter().zip(&valid.features.columns))
    {
        if std::mem::discriminant(a) != std::mem::discriminant(b) {
            return Err(ModelError::WrongType {
                name: name.clone(),
                expected: format!("{} (as in the training set)", kind_of(a).as_str()),
                found: kind_of(b).as_str().into(),
            });
        }
    }
    match (&train.target, &valid.target) {
        (Target::Classes { classes: a, .. }, Target::Classes { classes: b, .. }) if a != b => {
            Err(ModelError::Training(format!(
                "the validation classes ({}) differ from the training classes ({})",
                b.join(", "),
                a.join(", ")
            )))
        }
        (Target::Classes { .. }, Target::Values(_))
        | (Target::Values(_), Target::Classes { .. }) => Err(ModelError::Training(
            "the validation target is not of the training target's kind".into(),
        )),
        _ => Ok(()),
    }
}

fn kind_of(column: &Column) -> FeatureKind {
    match column {
        Column::Numeric(_) => FeatureKind::Numeric,
        Column::Categorical(_) => FeatureKind::Categorical,
    }
}

/// The signature of a model trained on `set`: every frame column is a nullable input.
fn signature_of(set: &TrainSet) -> Signature {
    let features = set
        .features
        .names
        .iter()
        .zip(&set.features.columns)
        .map(|(name, column)| Feature {
            name: name.clone(),
            kind: kind_of(column),
            nullable: true,
        })
        .collect();
    let task = match &set.target {
        Target::Classes { classes, .. } => ModelTask::Classifier {
            classes: classes.clone(),
        },
        Target::Values(_) => ModelTask::Regressor,
    };
    Signature {
        task,
        inputs: Inputs::Named { features },
    }
}

fn model_of(set: &TrainSet, encodings: Vec<Encoding>, predictor: Predictor) -> BuiltinModel {
    BuiltinModel {
        format: FORMAT.into(),
        signature: signature_of(set),
        encodings,
        predictor,
        training: serde_json::Value::Null,
    }
}

/// Weighted mean loss of predictions: log loss for classes (probabilities row-major, clipped
/// away from 0), squared error for values.
fn mean_loss(target: &Target, weights: Option<&[f64]>, predicted: &[f64]) -> f64 {
    let w = |i: usize| weights.map_or(1.0, |w| w[i]);
    let (mut total, mut weight) = (0.0, 0.0);
    match target {
        Target::Classes { classes, y } => {
            let k = classes.len();
            for (i, &c) in y.iter().enumerate() {
                let p = predicted[i * k + c].clamp(1e-15, 1.0);
                total -= w(i) * p.ln();
                weight += w(i);
            }
        }
        Target::Values(v) => {
            for (i, &t) in v.iter().enumerate() {
                let d = predicted[i] - t;
                total += w(i) * d * d;
                weight += w(i);
            }
        }
    }
    if weight > 0.0 { total / weight } else { 0.0 }
}

/// SplitMix64: the trainers' only random generator, seeded explicitly.
#[derive(Debug, Clone)]
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The number of worker threads: the machine's parallelism, capped by a user setting.
fn thread_count(limit: Option<usize>) -> usize {
    let available = std::thread::available_parallelism().map_or(1, usize::from);
    limit.unwrap_or(available).clamp(1, available.max(1))
}
