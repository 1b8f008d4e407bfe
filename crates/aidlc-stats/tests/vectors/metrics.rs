//! Vector checks: metrics (to be written).
