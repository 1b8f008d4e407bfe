//! Errors of loading, checking inputs against a signature, scoring and training.

use std::path::PathBuf;

/// What went wrong with a model or its input. Input mistakes name the field, so servers can
/// answer 400 with the name and the CLI can point at the column.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A feature the model needs is not in the input.
    #[error("missing feature `{name}` (the model takes: {expected})")]
    MissingFeature { name: String, expected: String },
    /// A feature has the wrong type, such as text where the model takes numbers.
    #[error("feature `{name}`: expected {expected}, got {found}")]
    WrongType {
        name: String,
        expected: String,
        found: String,
    },
    /// The input has the wrong number of features for a tensor model.
    #[error("the model takes {expected} numeric features, the input has {found}{hint}")]
    WrongCount {
        expected: usize,
        found: usize,
        hint: String,
    },
    /// A value the model cannot take, such as a missing value where none is allowed.
    #[error("feature `{name}`, row {row}: {reason}")]
    BadValue {
        name: String,
        row: usize,
        reason: String,
    },
    /// The model file is not a model aidlc can read.
    #[error("{path}: {reason}")]
    Format { path: PathBuf, reason: String },
    /// ONNX Runtime is not available: the library could not be loaded.
    #[error(
        "ONNX Runtime is not available ({reason}); set ORT_DYLIB_PATH (or `[runtime] onnxruntime` in aidlc.toml) to libonnxruntime.so, e.g. from `pip install onnxruntime==1.32.0` (site-packages/onnxruntime/capi/libonnxruntime.so.1.32.0); built-in models keep working without it"
    )]
    RuntimeUnavailable { reason: String },
    /// The runtime failed while scoring.
    #[error("scoring failed: {0}")]
    Runtime(String),
    /// Training could not proceed: bad data or parameters.
    #[error("training: {0}")]
    Training(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
