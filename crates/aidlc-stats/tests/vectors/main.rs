//! One data-driven checker for every reference vector family in `testdata/vectors`.
//!
//! Each module loads its family's JSON file, computes every case with aidlc-stats and compares
//! the results with `check::Case::expect_*`, which applies the case's own tolerance. All failures
//! of a family are collected and reported together so one run shows every mismatch.

mod check;

mod distances;
mod metrics;
mod streaming;
mod two_sample;
