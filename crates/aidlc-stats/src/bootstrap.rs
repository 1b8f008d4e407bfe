//! bootstrap (to be written).
