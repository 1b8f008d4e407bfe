//! categorical (to be written).
