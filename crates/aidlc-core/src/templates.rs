//! templates (to be written).
