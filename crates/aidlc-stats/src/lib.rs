//! aidlc-stats: the pure numerics of aidlc — drift tests, model metrics, calibration, streaming
//! detectors and label-free performance estimation.
//!
//! Invariant: this crate does no I/O, reads no clock, uses no global random number generator and
//! has no async code. Every function is a deterministic function of its arguments (randomness comes
//! in as an explicit seed), so every number it produces can be checked against reference vectors.

pub mod special;

pub mod anderson;
pub mod cvm;
pub mod ks;

pub mod binning;
pub mod categorical;
pub mod drift;
pub mod jensen_shannon;
pub mod psi;
pub mod wasserstein;

pub mod streaming;

pub mod bootstrap;
pub mod calibration;
pub mod cbpe;
pub mod metrics;
pub mod multivariate;
pub mod rng;
