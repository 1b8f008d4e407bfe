//! Streaming drift detectors with river's semantics and defaults (river 0.26).
