//! Vector checks: streaming (to be written).
