//! Vector checks: distances (to be written).
