//! binning (to be written).
