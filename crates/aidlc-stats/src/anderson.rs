//! anderson (to be written).
