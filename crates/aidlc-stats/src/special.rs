//! special (to be written).
