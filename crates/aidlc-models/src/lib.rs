//! aidlc-models: every model aidlc can score sits behind the [`Model`] trait — aidlc's own
//! built-in models (scored natively) and ONNX models (through ONNX Runtime) — together with the
//! built-in trainers and the ONNX export of built-in models.
//!
//! The crate knows nothing of the store, HTTP or the CLI: it turns named columns into
//! predictions, and training data into models.

pub mod builtin;
pub mod error;
pub mod frame;
pub mod load;
pub mod onnx;
pub mod signature;
pub mod train;

pub use builtin::BuiltinModel;
pub use error::ModelError;
pub use frame::Frame;
pub use load::{ModelFormat, detect_format, load_model, load_model_bytes};
pub use onnx::{OnnxModel, export_onnx, init_runtime};
pub use signature::{Feature, FeatureKind, Inputs, ModelTask, Signature};

/// What a model answers for a batch of rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Predictions {
    /// A classifier: the predicted class of each row (an index into `classes`) and the
    /// probability of every class, row-major (`n_rows × classes.len()`).
    Classes {
        classes: Vec<String>,
        labels: Vec<usize>,
        probabilities: Vec<f64>,
    },
    /// A regressor: one value per row.
    Values(Vec<f64>),
}

impl Predictions {
    /// The number of rows predicted.
    pub fn n_rows(&self) -> usize {
        match self {
            Predictions::Classes { labels, .. } => labels.len(),
            Predictions::Values(values) => values.len(),
        }
    }

    /// The probability of class `class` (an index into `classes`) for every row; `None` for a
    /// regressor.
    pub fn class_probabilities(&self, class: usize) -> Option<Vec<f64>> {
        match self {
            Predictions::Classes {
                classes,
                probabilities,
                ..
            } => {
                let k = classes.len();
                (class < k).then(|| {
                    probabilities
                        .iter()
                        .skip(class)
                        .step_by(k)
                        .copied()
                        .collect()
                })
            }
            Predictions::Values(_) => None,
        }
    }
}

/// A model that scores batches of rows. Implementations are cheap to share between threads:
/// serving calls `predict` from many requests at once.
pub trait Model: Send + Sync {
    /// What the model takes and gives.
    fn signature(&self) -> &Signature;

    /// Scores a frame whose columns are exactly the model's inputs, in the signature's order
    /// (see [`Frame::select`], which builds such a frame from any table and checks it).
    fn predict(&self, features: &Frame) -> Result<Predictions, ModelError>;
}
