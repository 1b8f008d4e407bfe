//! `[iterate]`: the retraining policy — when a pipeline runs (a cron schedule, and alert
//! triggers), on which data, and how its challenger reaches production.

use serde::{Deserialize, Serialize};

use super::deploy::Approval;
use super::reader::{ReadSection, Reader, Section};
use super::{Keyword, LabelDelay};
use crate::cron::Cron;
use std::fmt;
use std::str::FromStr;

keyword_enum! {
    /// How a challenger that passed its evaluation is rolled out.
    IterateStrategy {
        /// A shadow step first, then the `[deploy]` canary steps.
        Shadow => "shadow",
        /// The `[deploy]` canary steps.
        Canary => "canary",
    }
}

/// `[iterate]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IterateSection {
    /// When a pipeline runs on its own (cron, UTC).
    pub schedule: Option<Cron>,
    /// Alert signal patterns (as in `[monitor.alerts]`, `*` suffix wildcard) whose open alert
    /// starts a pipeline.
    pub triggers: Vec<String>,
    /// The newest data to train on; `[data] source` when not written.
    pub data: Option<String>,
    /// Train only on rows whose time is within this of the newest row (needs `problem.time`).
    pub recent: Option<LabelDelay>,
    /// The deployment the challenger is rolled out to.
    pub endpoint: Option<String>,
    pub strategy: Option<IterateStrategy>,
    /// `required`: a challenger that passed its evaluation waits for `aidlc loop approve`
    /// before its rollout starts.
    pub approval: Option<Approval>,
}

impl ReadSection for IterateSection {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        IterateSection {
            schedule: r.parsed(
                s,
                "schedule",
                "a cron schedule such as \"0 3 * * 1\"",
                |t| Cron::parse(t).map_err(|e| (e, None)),
            ),
            triggers: r.strings(s, "triggers"),
            data: r.text(s, "data"),
            recent: r.parsed(s, "recent", "a duration such as \"365d\"", |t| {
                LabelDelay::parse(t).map_err(|e| (e, None))
            }),
            endpoint: r.text(s, "endpoint"),
            strategy: r.keyword(s, "strategy"),
            approval: r.keyword(s, "approval"),
        }
    }
}

/// A content problem of `[iterate]`: the key and the message.
pub(crate) fn problems(spec: &super::ProblemSpec) -> Vec<(&'static str, String)> {
    let it = &spec.iterate;
    let mut out = Vec::new();
    if it.recent.is_some() && spec.problem.time.is_none() {
        out.push((
            "iterate.recent",
            "`iterate.recent` keeps the newest rows by time: set `problem.time`".to_string(),
        ));
    }
    for t in &it.triggers {
        if let Err((reason, _)) = super::monitor::SignalPattern::parse(t) {
            out.push(("iterate.triggers", format!("trigger `{t}`: {reason}")));
        }
    }
    out
}

/// Trigger patterns that parse but match no signal the monitors emit: warnings, as for
/// `[monitor.alerts]` signals, since such a trigger never starts a pipeline.
pub(crate) fn unknown_triggers(spec: &super::ProblemSpec) -> Vec<String> {
    spec.iterate
        .triggers
        .iter()
        .filter(|t| {
            super::monitor::SignalPattern::parse(t).is_ok_and(|p| !p.matches_a_known_family())
        })
        .map(|t| {
            format!(
                "trigger `{t}` matches no signal the monitors emit ({})",
                super::monitor::SIGNAL_FAMILIES.join(", ")
            )
        })
        .collect()
}
