//! aidlc-core: the domain of aidlc — the framing contract, ids, audit entries and state machines.
//!
//! Invariant: no I/O beyond parsing text handed in by the caller, no SQL, no HTTP, no clock reads
//! (times are passed in). Everything here is a value type or a pure function over value types.

pub mod alerts;
pub mod audit;
pub mod cron;
pub mod expr;
pub mod ids;
pub mod records;
pub mod rollout;
pub mod spec;
pub mod templates;
