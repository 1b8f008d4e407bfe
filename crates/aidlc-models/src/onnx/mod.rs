//! ONNX: scoring ONNX models through ONNX Runtime (`runtime`), exporting built-in models as ONNX
//! (`export`), and the hand-written protobuf encoding both rely on (`proto`).

pub mod export;
pub mod proto;
pub mod runtime;

pub use export::export_onnx;
pub use runtime::{OnnxModel, OnnxOptions, init_runtime, runtime_available};
