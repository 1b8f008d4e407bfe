//! expr (to be written).
