//! Loading any model file aidlc scores: the format is told from the bytes, not the file name.

use crate::Model;
use crate::builtin::BuiltinModel;
use crate::error::ModelError;
use crate::onnx::{OnnxModel, proto};
use std::path::{Path, PathBuf};

/// The formats [`load_model_bytes`] recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelFormat {
    /// aidlc's own JSON format (`{"format": "aidlc.model.v1", …}`).
    Builtin,
    /// An ONNX `ModelProto`.
    Onnx,
}

/// Tells the format from the first bytes: a JSON object is a built-in model; a protobuf message
/// carrying a graph is ONNX. `name` names the source in the error.
pub fn detect_format(bytes: &[u8], name: &str) -> Result<ModelFormat, ModelError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return Ok(ModelFormat::Builtin);
    }
    match proto::summarize(bytes) {
        Ok(_) => Ok(ModelFormat::Onnx),
        Err(e) => Err(ModelError::Format {
            path: PathBuf::from(name),
            reason: format!("neither an aidlc model (JSON) nor an ONNX model ({e})"),
        }),
    }
}

/// Reads a model file of either format.
pub fn load_model(path: &Path) -> Result<Box<dyn Model>, ModelError> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    load_model_bytes(bytes, &path.display().to_string())
}

/// Loads model bytes of either format; `name` names the source in errors. An ONNX model needs
/// ONNX Runtime ([`crate::onnx::init_runtime`]) and otherwise fails with
/// [`ModelError::RuntimeUnavailable`].
pub fn load_model_bytes(bytes: Vec<u8>, name: &str) -> Result<Box<dyn Model>, ModelError> {
    match detect_format(&bytes, name)? {
        ModelFormat::Builtin => Ok(Box::new(BuiltinModel::from_bytes(&bytes, Path::new(name))?)),
        ModelFormat::Onnx => Ok(Box::new(OnnxModel::from_bytes(bytes, name)?)),
    }
}
