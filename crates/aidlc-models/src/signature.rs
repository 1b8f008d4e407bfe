//! What a model takes (its inputs) and gives (classes or values), checked before every score.

use serde::{Deserialize, Serialize};

/// Whether the model predicts classes or numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ModelTask {
    /// A classifier over these classes, in the order of its probability columns. Class names
    /// are the label values as text ("0", "1", "yes").
    Classifier { classes: Vec<String> },
    /// A regressor with one output value.
    Regressor,
}

/// The kind of values a feature takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureKind {
    /// Numbers (NaN is a missing value).
    Numeric,
    /// Text labels.
    Categorical,
}

impl FeatureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureKind::Numeric => "numeric",
            FeatureKind::Categorical => "categorical",
        }
    }
}

/// One named input feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feature {
    pub name: String,
    pub kind: FeatureKind,
    /// Whether a missing value (NaN or empty) is allowed.
    pub nullable: bool,
}

/// How rows reach the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "layout")]
pub enum Inputs {
    /// Named features, matched to columns by name (built-in models, and ONNX models with one
    /// input per column or with feature names in their metadata).
    Named { features: Vec<Feature> },
    /// One float tensor `[N, width]` named `name`, whose features have no names: a table maps to
    /// it by position (its numeric columns in file order, or the columns the user lists).
    Tensor { name: String, width: usize },
}

/// A model's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub task: ModelTask,
    pub inputs: Inputs,
}

impl Signature {
    /// The classes of a classifier; empty for a regressor.
    pub fn classes(&self) -> &[String] {
        match &self.task {
            ModelTask::Classifier { classes } => classes,
            ModelTask::Regressor => &[],
        }
    }

    /// The number of input features.
    pub fn width(&self) -> usize {
        match &self.inputs {
            Inputs::Named { features } => features.len(),
            Inputs::Tensor { width, .. } => *width,
        }
    }
}
