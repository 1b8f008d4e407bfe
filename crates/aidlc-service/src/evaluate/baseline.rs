//! The baseline of `[baseline]` as a model: prior, majority and mean baselines are built-in
//! models with a constant predictor learnt from the training rows, and a rule baseline is a
//! [`RuleModel`] (an expression whose outcome groups rows).

use std::collections::BTreeMap;
use std::path::Path;

use aidlc_core::expr::{Expr, Value};
use aidlc_core::spec::{BaselineKind, LabelValue, ProblemSpec, Task};
use aidlc_data::{Column, Table};
use aidlc_models::builtin::{FORMAT, Predictor};
use aidlc_models::{
    BuiltinModel, Feature, FeatureKind, Frame, Inputs, Model, ModelError, ModelTask, Predictions,
    Signature,
};

use super::EvaluateError;
use super::scoring::label_texts;

/// The model `[baseline]` describes, learnt from the training rows where it learns anything.
/// `project_dir` resolves a relative `[baseline] model` path.
pub fn baseline_model(
    spec: &ProblemSpec,
    train: &Table,
    project_dir: &Path,
) -> Result<Box<dyn Model>, EvaluateError> {
    let kind = spec
        .baseline
        .kind
        .ok_or_else(|| EvaluateError::Spec("`baseline.kind` is not set".into()))?;
    let task = spec
        .problem
        .task
        .ok_or_else(|| EvaluateError::Spec("`problem.task` is not set".into()))?;
    if !kind.fits(task) {
        return Err(EvaluateError::Spec(format!(
            "baseline kind `{kind}` does not fit the task `{task}`"
        )));
    }
    if kind == BaselineKind::Model {
        let path = spec
            .baseline
            .model
            .as_deref()
            .ok_or_else(|| EvaluateError::Spec("`baseline.model` is not set".into()))?;
        // The file's bytes tell its format (aidlc's own or ONNX); an ONNX baseline needs ONNX
        // Runtime initialised by the caller, like any ONNX model.
        let path = project_dir.join(path);
        return aidlc_models::load_model(&path).map_err(|e| {
            EvaluateError::Baseline(format!("`baseline.model` {}: {e}", path.display()))
        });
    }
    let label = training_labels(spec, train, task)?;
    let model: Box<dyn Model> = match (kind, label) {
        (
            BaselineKind::Prior | BaselineKind::Majority,
            TrainLabels::Classes { classes, index, .. },
        ) => {
            let mut counts = vec![0usize; classes.len()];
            for &i in &index {
                counts[i] += 1;
            }
            let n = index.len() as f64;
            let scores = if kind == BaselineKind::Prior {
                counts.iter().map(|&c| c as f64 / n).collect()
            } else {
                // The most frequent class; the first in class order wins a tie.
                let best =
                    (0..counts.len()).fold(0, |b, c| if counts[c] > counts[b] { c } else { b });
                (0..counts.len()).map(|c| f64::from(c == best)).collect()
            };
            Box::new(constant_model(
                ModelTask::Classifier { classes },
                scores,
                kind,
                index.len(),
            ))
        }
        (BaselineKind::Mean, TrainLabels::Values { y, .. }) => {
            let mean = y.iter().sum::<f64>() / y.len() as f64;
            Box::new(constant_model(
                ModelTask::Regressor,
                vec![mean],
                kind,
                y.len(),
            ))
        }
        (BaselineKind::Rule, label) => {
            let rule = spec
                .baseline
                .rule
                .clone()
                .ok_or_else(|| EvaluateError::Spec("`baseline.rule` is not set".into()))?;
            Box::new(RuleModel::fit(rule, train, label)?)
        }
        (kind, _) => {
            return Err(EvaluateError::Spec(format!(
                "baseline kind `{kind}` does not fit the task `{task}`"
            )));
        }
    };
    Ok(model)
}

/// How a baseline is named in a report: `prior`, `rule: visibility < -0.5`, the model path.
pub fn baseline_reference(spec: &ProblemSpec) -> String {
    match (
        spec.baseline.kind,
        &spec.baseline.rule,
        &spec.baseline.model,
    ) {
        (Some(BaselineKind::Rule), Some(rule), _) => format!("rule: {rule}"),
        (Some(BaselineKind::Model), _, Some(model)) => format!("model: {model}"),
        (Some(kind), _, _) => kind.as_str().to_string(),
        (None, _, _) => "baseline".to_string(),
    }
}

fn constant_model(
    task: ModelTask,
    scores: Vec<f64>,
    kind: BaselineKind,
    rows: usize,
) -> BuiltinModel {
    BuiltinModel {
        format: FORMAT.to_string(),
        signature: Signature {
            task,
            inputs: Inputs::Named {
                features: Vec::new(),
            },
        },
        encodings: Vec::new(),
        predictor: Predictor::Constant { scores },
        training: serde_json::json!({ "trainer": format!("baseline:{kind}"), "rows": rows }),
    }
}

/// The training labels: class indices (classes sorted, numbers by value, as the built-in
/// trainers order them) or values.
pub(crate) enum TrainLabels {
    Classes {
        classes: Vec<String>,
        index: Vec<usize>,
        /// The training rows that have a label, aligned with `index`.
        rows: Vec<usize>,
        /// Binary: the positive class.
        positive: Option<usize>,
    },
    Values {
        y: Vec<f64>,
        /// The training rows that have a label, aligned with `y`.
        rows: Vec<usize>,
    },
}

impl TrainLabels {
    fn rows(&self) -> &[usize] {
        match self {
            TrainLabels::Classes { rows, .. } | TrainLabels::Values { rows, .. } => rows,
        }
    }
}

fn training_labels(
    spec: &ProblemSpec,
    train: &Table,
    task: Task,
) -> Result<TrainLabels, EvaluateError> {
    let name = spec
        .problem
        .label
        .column
        .as_deref()
        .ok_or_else(|| EvaluateError::Spec("`problem.label.column` is not set".into()))?;
    let column = train
        .column(name)
        .ok_or_else(|| EvaluateError::MissingColumn {
            column: name.to_string(),
            table: train.path.display().to_string(),
        })?;
    if task == Task::Regression {
        let Column::Numeric(v) = column else {
            return Err(EvaluateError::Spec(format!(
                "the label column `{name}` holds text, but the task is regression"
            )));
        };
        let rows: Vec<usize> = (0..v.len()).filter(|&i| !v[i].is_nan()).collect();
        let y: Vec<f64> = rows.iter().map(|&i| v[i]).collect();
        if y.is_empty() {
            return Err(EvaluateError::Spec(format!(
                "the training rows have no value in the label column `{name}`"
            )));
        }
        return Ok(TrainLabels::Values { y, rows });
    }
    let all = label_texts(column);
    let rows: Vec<usize> = (0..all.len()).filter(|&i| all[i].is_some()).collect();
    let texts: Vec<String> = all.into_iter().flatten().collect();
    if texts.is_empty() {
        return Err(EvaluateError::Spec(format!(
            "the training rows have no value in the label column `{name}`"
        )));
    }
    let mut classes: Vec<String> = texts.clone();
    classes.sort_by(|a, b| match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    });
    classes.dedup();
    // A binary rule that gives a number gives P(positive): the class of `positive_value`, else
    // the second class, as a logistic model's score is P(second class).
    let positive = (task == Task::BinaryClassification && classes.len() == 2).then(|| {
        positive_text(spec, column)
            .and_then(|p| classes.iter().position(|c| *c == p))
            .unwrap_or(1)
    });
    let lookup: BTreeMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let index = texts.iter().map(|t| lookup[t.as_str()]).collect();
    Ok(TrainLabels::Classes {
        classes,
        index,
        rows,
        positive,
    })
}

/// The positive class as label text, from `problem.label.positive_value`; a boolean matches a
/// numeric column's 1/0.
pub(crate) fn positive_text(spec: &ProblemSpec, column: &Column) -> Option<String> {
    Some(match spec.problem.label.positive_value.as_ref()? {
        LabelValue::Text(s) => s.clone(),
        LabelValue::Integer(i) => format!("{}", *i as f64),
        LabelValue::Float(f) => format!("{f}"),
        LabelValue::Bool(b) => match column {
            Column::Numeric(_) => format!("{}", f64::from(u8::from(*b))),
            Column::Categorical(_) => b.to_string(),
        },
    })
}

/// A hand-written rule as a model. The rule is evaluated on each row and its outcome decides
/// the prediction:
///
/// - classification: rows are grouped by the rule's value (`true`, `false`, missing, or a
///   text value) and each group predicts the class shares of the training rows in that group
///   (an outcome never seen in training predicts the overall shares). A number is taken as
///   P(positive), clipped to [0, 1], in a binary task.
/// - regression: a number is the prediction; any other outcome predicts the mean training
///   label of its group.
///
/// Grouping keeps the rule's meaning (who is flagged) and makes its probabilities honest, so
/// calibration and log loss compare fairly with a trained model.
#[derive(Debug, Clone)]
pub struct RuleModel {
    signature: Signature,
    rule: Expr,
    outputs: RuleOutputs,
}

#[derive(Debug, Clone)]
enum RuleOutputs {
    Classes {
        classes: Vec<String>,
        by_outcome: BTreeMap<String, Vec<f64>>,
        overall: Vec<f64>,
        /// Binary: where a numeric outcome goes (the positive class's column).
        positive: Option<usize>,
    },
    Values {
        by_outcome: BTreeMap<String, f64>,
        overall: f64,
    },
}

/// The group key of a rule outcome; `None` for a number, which is used as it is.
fn outcome_key(value: &Value) -> Option<String> {
    match value {
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some("null".to_string()),
        Value::Str(s) => Some(format!("text:{s}")),
        Value::Number(_) => None,
    }
}

impl RuleModel {
    /// Learns the group shares (or means) of the rule's outcomes from the training rows.
    pub(crate) fn fit(
        rule: Expr,
        train: &Table,
        labels: TrainLabels,
    ) -> Result<RuleModel, EvaluateError> {
        let mut features = Vec::new();
        for name in rule.columns() {
            let column = train
                .column(&name)
                .ok_or_else(|| EvaluateError::MissingColumn {
                    column: name.clone(),
                    table: train.path.display().to_string(),
                })?;
            let kind = match column {
                Column::Numeric(_) => FeatureKind::Numeric,
                Column::Categorical(_) => FeatureKind::Categorical,
            };
            features.push(Feature {
                name,
                kind,
                nullable: true,
            });
        }
        let frame = Frame::from_table(train);
        // The group key of each labelled training row's outcome (`None` for a number).
        let mut keys = Vec::with_capacity(labels.rows().len());
        for &i in labels.rows() {
            let value = eval_row(&rule, &frame, i).map_err(|e| {
                EvaluateError::Baseline(format!("the rule `{rule}` on training row {i}: {e}"))
            })?;
            keys.push(outcome_key(&value));
        }
        let (task, outputs) = match labels {
            TrainLabels::Classes {
                classes,
                index,
                positive,
                ..
            } => {
                let k = classes.len();
                let mut by_outcome: BTreeMap<String, Vec<f64>> = BTreeMap::new();
                let mut overall = vec![0.0; k];
                for (key, &class) in keys.into_iter().zip(&index) {
                    overall[class] += 1.0;
                    if let Some(key) = key {
                        by_outcome.entry(key).or_insert_with(|| vec![0.0; k])[class] += 1.0;
                    }
                }
                let normalise = |v: &mut Vec<f64>| {
                    let total: f64 = v.iter().sum();
                    if total > 0.0 {
                        v.iter_mut().for_each(|x| *x /= total);
                    }
                };
                normalise(&mut overall);
                by_outcome.values_mut().for_each(normalise);
                (
                    ModelTask::Classifier {
                        classes: classes.clone(),
                    },
                    RuleOutputs::Classes {
                        classes,
                        by_outcome,
                        overall,
                        positive,
                    },
                )
            }
            TrainLabels::Values { y, .. } => {
                let mut sums: BTreeMap<String, (f64, f64)> = BTreeMap::new();
                for (key, &v) in keys.into_iter().zip(&y) {
                    if let Some(key) = key {
                        let entry = sums.entry(key).or_insert((0.0, 0.0));
                        entry.0 += v;
                        entry.1 += 1.0;
                    }
                }
                let overall = y.iter().sum::<f64>() / y.len() as f64;
                (
                    ModelTask::Regressor,
                    RuleOutputs::Values {
                        by_outcome: sums.into_iter().map(|(k, (s, n))| (k, s / n)).collect(),
                        overall,
                    },
                )
            }
        };
        Ok(RuleModel {
            signature: Signature {
                task,
                inputs: Inputs::Named { features },
            },
            rule,
            outputs,
        })
    }
}

/// Evaluates the rule on row `i` of a frame.
fn eval_row(rule: &Expr, frame: &Frame, i: usize) -> Result<Value, aidlc_core::expr::ExprError> {
    rule.eval(&|name: &str| {
        frame.column(name).map(|column| match column {
            Column::Numeric(v) if v[i].is_nan() => Value::Null,
            Column::Numeric(v) => Value::Number(v[i]),
            Column::Categorical(v) => v[i].clone().map_or(Value::Null, Value::Str),
        })
    })
}

impl Model for RuleModel {
    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn predict(&self, features: &Frame) -> Result<Predictions, ModelError> {
        let n = features.n_rows;
        match &self.outputs {
            RuleOutputs::Classes {
                classes,
                by_outcome,
                overall,
                positive,
            } => {
                let k = classes.len();
                let mut probabilities = Vec::with_capacity(n * k);
                let mut labels = Vec::with_capacity(n);
                for i in 0..n {
                    let value = eval_row(&self.rule, features, i).map_err(|e| {
                        ModelError::Runtime(format!("rule `{}`, row {i}: {e}", self.rule))
                    })?;
                    let start = probabilities.len();
                    match (outcome_key(&value), &value, positive) {
                        (None, Value::Number(p), Some(pos)) => {
                            let p = p.clamp(0.0, 1.0);
                            for c in 0..k {
                                probabilities.push(if c == *pos { p } else { 1.0 - p });
                            }
                        }
                        (Some(key), _, _) => {
                            probabilities.extend_from_slice(by_outcome.get(&key).unwrap_or(overall))
                        }
                        _ => probabilities.extend_from_slice(overall),
                    }
                    let row = &probabilities[start..];
                    labels.push((0..k).fold(0, |b, c| if row[c] > row[b] { c } else { b }));
                }
                Ok(Predictions::Classes {
                    classes: classes.clone(),
                    labels,
                    probabilities,
                })
            }
            RuleOutputs::Values {
                by_outcome,
                overall,
            } => {
                let mut values = Vec::with_capacity(n);
                for i in 0..n {
                    let value = eval_row(&self.rule, features, i).map_err(|e| {
                        ModelError::Runtime(format!("rule `{}`, row {i}: {e}", self.rule))
                    })?;
                    values.push(match (&value, outcome_key(&value)) {
                        (Value::Number(x), _) => *x,
                        (_, Some(key)) => *by_outcome.get(&key).unwrap_or(overall),
                        (_, None) => *overall,
                    });
                }
                Ok(Predictions::Values(values))
            }
        }
    }
}
