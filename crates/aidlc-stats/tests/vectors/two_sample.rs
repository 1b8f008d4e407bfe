//! Vector checks: two_sample (to be written).
