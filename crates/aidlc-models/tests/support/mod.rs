//! What the ONNX tests share: finding ONNX Runtime and the repository's test models.

// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Loads ONNX Runtime from `ORT_DYLIB_PATH`. Returns `false` (after saying so) when the variable
/// is unset or the library does not load, unless `AIDLC_REQUIRE_ORT=1`, where both fail the test:
/// CI sets it so the ONNX tests can never be skipped there.
pub fn runtime_ready() -> bool {
    let required = std::env::var("AIDLC_REQUIRE_ORT").as_deref() == Ok("1");
    let Some(path) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) else {
        assert!(
            !required,
            "AIDLC_REQUIRE_ORT=1 but ORT_DYLIB_PATH is not set"
        );
        eprintln!("skipping: ORT_DYLIB_PATH not set");
        return false;
    };
    match aidlc_models::init_runtime(Some(Path::new(&path))) {
        Ok(()) => true,
        Err(e) if required => panic!("AIDLC_REQUIRE_ORT=1 but ONNX Runtime did not load: {e}"),
        Err(e) => {
            eprintln!("skipping: ONNX Runtime did not load: {e}");
            false
        }
    }
}

/// The repository's ONNX test models (`testdata/onnx`, a copy of the shared models).
pub fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/onnx")
}
