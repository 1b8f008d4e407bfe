//! jensen_shannon (to be written).
