//! multivariate (to be written).
