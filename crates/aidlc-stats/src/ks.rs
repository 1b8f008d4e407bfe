//! ks (to be written).
