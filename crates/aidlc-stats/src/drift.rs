//! drift (to be written).
