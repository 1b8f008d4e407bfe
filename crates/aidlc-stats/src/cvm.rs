//! cvm (to be written).
