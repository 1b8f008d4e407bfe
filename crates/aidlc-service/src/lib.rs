//! aidlc-service: the use cases of aidlc, one module per life-cycle stage, on top of the domain
//! (aidlc-core), statistics (aidlc-stats) and data (aidlc-data) crates.
//!
//! Invariant: no SQL, no HTTP, no environment reading and no process exit here — the CLI and the
//! server call these functions and decide how to present results and errors.

pub mod alerts;
pub mod data;
pub mod drift;
pub mod evaluate;
pub mod features;
pub mod html;
pub mod iterate;
pub mod labels;
pub mod monitor;
pub mod monitor_history;
pub mod registry;
pub mod rollout;
pub mod split;
pub mod train;

pub use drift::{DriftError, DriftInputs, DriftReport, DriftRequest, MethodChoice, drift_report};
