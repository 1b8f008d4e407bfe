//! cbpe (to be written).
