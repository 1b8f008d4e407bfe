//! aidlc's own model format (`aidlc.model.v1`, JSON) and its native scorer: an encoder that turns
//! named feature columns into a dense vector, then a constant, linear or tree-ensemble predictor.
//!
//! The trainers (`train`) produce these models and the ONNX export writes the same computation as
//! ONNX operators, so both must follow the conventions written here:
//! - tree splits compare in `f32`: `x as f32 <= threshold` goes left, a missing value (NaN) goes
//!   where `missing_left` says — the same comparison ONNX Runtime's `BRANCH_LEQ` makes;
//! - encodings run in the order of the signature's features and each appends its width to the
//!   dense vector.

use crate::error::ModelError;
use crate::frame::Frame;
use crate::signature::{Inputs, ModelTask, Signature};
use crate::{Model, Predictions};
use aidlc_data::Column;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The format tag written into every built-in model file.
pub const FORMAT: &str = "aidlc.model.v1";

/// A built-in model, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuiltinModel {
    /// Always [`FORMAT`]; a reader refuses other values.
    pub format: String,
    /// Named inputs only ([`Inputs::Named`]).
    pub signature: Signature,
    /// One encoding per feature, in the signature's order.
    pub encodings: Vec<Encoding>,
    pub predictor: Predictor,
    /// How the model was trained: trainer name, parameters, rows, iterations, feature
    /// importances. Informational; scoring never reads it.
    #[serde(default)]
    pub training: serde_json::Value,
}

/// How one feature becomes numbers in the dense vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Encoding {
    /// One number: a missing value becomes `fill` (or stays NaN when `fill` is `None`), then
    /// `(x - center) / scale`.
    Numeric {
        fill: Option<f64>,
        center: f64,
        scale: f64,
    },
    /// One number per category, 1 for the row's category and 0 elsewhere; an unknown or
    /// missing category is all zeros.
    OneHot { categories: Vec<String> },
    /// One number: the category's index in `categories`; unknown or missing is NaN.
    Ordinal { categories: Vec<String> },
}

impl Encoding {
    /// How many numbers the encoding appends.
    pub fn width(&self) -> usize {
        match self {
            Encoding::Numeric { .. } | Encoding::Ordinal { .. } => 1,
            Encoding::OneHot { categories } => categories.len(),
        }
    }
}

/// How raw scores become outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// Regression: the score is the value.
    Identity,
    /// Binary classification: one score `s`, `P(class 1) = 1 / (1 + e^-s)`.
    Logistic,
    /// Multiclass: one score per class, softmax.
    Softmax,
}

/// The model proper, over the encoded dense vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Predictor {
    /// The same answer for every row: class probabilities (classifier) or one value
    /// (regressor). The prior, majority and mean baselines.
    Constant {
        scores: Vec<f64>,
    },
    Linear(LinearModel),
    Trees(TreeEnsemble),
}

/// `score[k] = bias[k] + Σ_j weights[k][j] · x[j]`, then the link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    pub weights: Vec<Vec<f64>>,
    pub bias: Vec<f64>,
    pub link: Link,
}

/// `score[k] = base_scores[k] + Σ leaf values of the trees whose output is k`, then the link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeEnsemble {
    pub base_scores: Vec<f64>,
    pub trees: Vec<Tree>,
    pub link: Link,
}

/// One regression tree, as parallel arrays indexed by node; node 0 is the root. A node is a
/// leaf when `left[i] == 0` (the root is nobody's child).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Which score the tree adds to.
    pub output: usize,
    pub feature: Vec<u32>,
    pub threshold: Vec<f32>,
    pub left: Vec<u32>,
    pub right: Vec<u32>,
    pub missing_left: Vec<bool>,
    /// Leaf values (0 on split nodes).
    pub value: Vec<f64>,
}

impl Tree {
    /// The leaf value a dense row reaches.
    pub fn leaf_value(&self, row: &[f64]) -> f64 {
        let mut i = 0usize;
        loop {
            let l = self.left[i];
            if l == 0 {
                return self.value[i];
            }
            let x = row[self.feature[i] as usize];
            let go_left = if x.is_nan() {
                self.missing_left[i]
            } else {
                (x as f32) <= self.threshold[i]
            };
            i = if go_left { l } else { self.right[i] } as usize;
        }
    }
}

impl BuiltinModel {
    /// Reads a model file, refusing other formats with the reason.
    pub fn load(path: &Path) -> Result<BuiltinModel, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, path)
    }

    /// Parses model bytes; `path` only names the source in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<BuiltinModel, ModelError> {
        let model: BuiltinModel =
            serde_json::from_slice(bytes).map_err(|e| ModelError::Format {
                path: path.to_path_buf(),
                reason: format!("not an aidlc model: {e}"),
            })?;
        if model.format != FORMAT {
            return Err(ModelError::Format {
                path: path.to_path_buf(),
                reason: format!(
                    "model format `{}` is not supported (this aidlc reads `{FORMAT}`)",
                    model.format
                ),
            });
        }
        model.check().map_err(|reason| ModelError::Format {
            path: path.to_path_buf(),
            reason,
        })?;
        Ok(model)
    }

    /// The model as file bytes (pretty JSON keeps diffs of small models readable).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a built-in model always serialises")
    }

    /// The width of the dense vector the encodings produce.
    pub fn dense_width(&self) -> usize {
        self.encodings.iter().map(Encoding::width).sum()
    }

    /// Checks the parts fit together, so scoring never indexes out of bounds.
    pub fn check(&self) -> Result<(), String> {
        let Inputs::Named { features } = &self.signature.inputs else {
            return Err("a built-in model has named inputs".into());
        };
        if features.len() != self.encodings.len() {
            return Err(format!(
                "{} features but {} encodings",
                features.len(),
                self.encodings.len()
            ));
        }
        let width = self.dense_width();
        let outputs = match &self.signature.task {
            ModelTask::Classifier { classes } if classes.len() == 2 => 1,
            ModelTask::Classifier { classes } => classes.len(),
            ModelTask::Regressor => 1,
        };
        match &self.predictor {
            Predictor::Constant { scores } => {
                let want = self.signature.classes().len().max(1);
                if scores.len() != want {
                    return Err(format!("constant has {} scores, want {want}", scores.len()));
                }
            }
            Predictor::Linear(m) => {
                if m.weights.len() != outputs || m.bias.len() != outputs {
                    return Err(format!(
                        "linear model has {} outputs, want {outputs}",
                        m.bias.len()
                    ));
                }
                if m.weights.iter().any(|w| w.len() != width) {
                    return Err(format!("linear weights are not {width} wide"));
                }
            }
            Predictor::Trees(e) => {
                if e.base_scores.len() != outputs {
                    return Err(format!(
                        "tree ensemble has {} base scores, want {outputs}",
                        e.base_scores.len()
                    ));
                }
                for (t, tree) in e.trees.iter().enumerate() {
                    let n = tree.feature.len();
                    let same = [
                        tree.threshold.len(),
                        tree.left.len(),
                        tree.right.len(),
                        tree.missing_left.len(),
                        tree.value.len(),
                    ];
                    if n == 0 || same.iter().any(|&m| m != n) || tree.output >= outputs {
                        return Err(format!("tree {t} is malformed"));
                    }
                    for i in 0..n {
                        let (l, r) = (tree.left[i] as usize, tree.right[i] as usize);
                        if l != 0
                            && (l <= i
                                || r <= i
                                || l >= n
                                || r >= n
                                || tree.feature[i] as usize >= width)
                        {
                            return Err(format!("tree {t}, node {i}: bad child or feature"));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Encodes row `i` of a frame (already in signature order) into `out`.
    fn encode_row(&self, frame: &Frame, i: usize, out: &mut Vec<f64>) {
        out.clear();
        for (encoding, column) in self.encodings.iter().zip(&frame.columns) {
            match (encoding, column) {
                (
                    Encoding::Numeric {
                        fill,
                        center,
                        scale,
                    },
                    Column::Numeric(v),
                ) => {
                    let mut x = v[i];
                    if x.is_nan()
                        && let Some(f) = fill
                    {
                        x = *f;
                    }
                    out.push((x - center) / scale);
                }
                (Encoding::OneHot { categories }, Column::Categorical(v)) => {
                    let at = v[i]
                        .as_deref()
                        .and_then(|c| categories.iter().position(|k| k == c));
                    out.extend((0..categories.len()).map(|k| f64::from(Some(k) == at)));
                }
                (Encoding::Ordinal { categories }, Column::Categorical(v)) => {
                    let at = v[i]
                        .as_deref()
                        .and_then(|c| categories.iter().position(|k| k == c));
                    out.push(at.map_or(f64::NAN, |k| k as f64));
                }
                // `Frame::select` converts columns to the signature's kinds, and encodings
                // follow the kinds, so a mismatch means a numeric encoding met text: missing.
                (encoding, _) => out.extend(std::iter::repeat_n(f64::NAN, encoding.width())),
            }
        }
    }

    /// Raw scores of one dense row.
    fn raw_scores(&self, row: &[f64], scores: &mut Vec<f64>) {
        scores.clear();
        match &self.predictor {
            Predictor::Constant { scores: s } => scores.extend_from_slice(s),
            Predictor::Linear(m) => scores.extend(
                m.weights
                    .iter()
                    .zip(&m.bias)
                    .map(|(w, b)| b + w.iter().zip(row).map(|(w, x)| w * x).sum::<f64>()),
            ),
            Predictor::Trees(e) => {
                scores.extend_from_slice(&e.base_scores);
                for tree in &e.trees {
                    scores[tree.output] += tree.leaf_value(row);
                }
            }
        }
    }

    fn link(&self) -> Option<Link> {
        match &self.predictor {
            Predictor::Constant { .. } => None,
            Predictor::Linear(m) => Some(m.link),
            Predictor::Trees(e) => Some(e.link),
        }
    }
}

/// The probabilities of every class from raw scores: a constant is already probabilities; one
/// logistic score is P(class 1).
fn to_probabilities(link: Option<Link>, scores: &[f64], k: usize, out: &mut Vec<f64>) {
    match link {
        None | Some(Link::Identity) => out.extend_from_slice(&scores[..k]),
        Some(Link::Logistic) => {
            let p = 1.0 / (1.0 + (-scores[0]).exp());
            out.push(1.0 - p);
            out.push(p);
        }
        Some(Link::Softmax) => {
            let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let start = out.len();
            let mut sum = 0.0;
            for s in scores {
                let e = (s - max).exp();
                sum += e;
                out.push(e);
            }
            for p in &mut out[start..] {
                *p /= sum;
            }
        }
    }
}

impl Model for BuiltinModel {
    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn predict(&self, features: &Frame) -> Result<Predictions, ModelError> {
        let n = features.n_rows;
        let mut row = Vec::with_capacity(self.dense_width());
        let mut scores = Vec::new();
        let link = self.link();
        match &self.signature.task {
            ModelTask::Regressor => {
                let mut values = Vec::with_capacity(n);
                for i in 0..n {
                    self.encode_row(features, i, &mut row);
                    self.raw_scores(&row, &mut scores);
                    values.push(scores[0]);
                }
                Ok(Predictions::Values(values))
            }
            ModelTask::Classifier { classes } => {
                let k = classes.len();
                let mut probabilities = Vec::with_capacity(n * k);
                let mut labels = Vec::with_capacity(n);
                for i in 0..n {
                    self.encode_row(features, i, &mut row);
                    self.raw_scores(&row, &mut scores);
                    let start = probabilities.len();
                    to_probabilities(link, &scores, k, &mut probabilities);
                    let p = &probabilities[start..];
                    // The first class wins ties, as argmax does in scikit-learn and ONNX Runtime.
                    let best = (0..k).fold(0, |b, c| if p[c] > p[b] { c } else { b });
                    labels.push(best);
                }
                Ok(Predictions::Classes {
                    classes: classes.clone(),
                    labels,
                    probabilities,
                })
            }
        }
    }
}
