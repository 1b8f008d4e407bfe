//! Without ONNX Runtime, ONNX models are refused with `RuntimeUnavailable` — never a panic —
//! and built-in models keep working. Its own test binary, so no other test has loaded the
//! runtime in this process.

use aidlc_models::{ModelError, init_runtime, load_model_bytes};
use std::path::Path;

#[test]
fn onnx_models_need_the_runtime_and_a_bad_library_path_is_an_error() {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/onnx/logreg_binary.onnx"),
    )
    .unwrap();
    let err = load_model_bytes(bytes.clone(), "logreg_binary.onnx")
        .err()
        .expect("refused without the runtime");
    assert!(
        matches!(err, ModelError::RuntimeUnavailable { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("ORT_DYLIB_PATH"), "{err}");

    let err = init_runtime(Some(Path::new("/nonexistent/libonnxruntime.so.1.32.0"))).unwrap_err();
    match &err {
        ModelError::RuntimeUnavailable { reason } => {
            assert!(
                reason.contains("/nonexistent/libonnxruntime.so.1.32.0"),
                "{reason}"
            )
        }
        other => panic!("expected RuntimeUnavailable, got {other}"),
    }
    assert!(!aidlc_models::onnx::runtime_available());
    let err = load_model_bytes(bytes, "logreg_binary.onnx").err().unwrap();
    assert!(
        matches!(err, ModelError::RuntimeUnavailable { .. }),
        "{err}"
    );
}
