//! `[deploy]`: the rollout policy — the steps a new version climbs (shadow, then canary shares),
//! how long each step runs before it is judged, the limits each analysis checks, and whether
//! promotion waits for a person.

use serde::{Deserialize, Serialize};

use super::reader::{ReadSection, Reader, Section};
use super::{Keyword, LabelDelay};
use std::fmt;
use std::str::FromStr;

keyword_enum! {
    /// Whether a rollout that passed every step is promoted on its own.
    Approval {
        /// Promote as soon as the last step passes.
        Auto => "auto",
        /// Stop before promotion until `aidlc approve` (who and why are audited).
        Required => "required",
    }
}

/// One step of a rollout, written `"shadow"` or `"<percent>%"`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutStep {
    /// The candidate gets a copy of every request; its answers are logged, never returned.
    Shadow,
    /// The candidate answers this share (0–100) of the requests.
    Canary { percent: f64 },
}

impl RolloutStep {
    pub fn parse(text: &str) -> Result<RolloutStep, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("shadow") {
            return Ok(RolloutStep::Shadow);
        }
        let Some(number) = t.strip_suffix('%') else {
            return Err("a step is \"shadow\" or a traffic share such as \"5%\"".into());
        };
        let percent: f64 = number
            .trim()
            .parse()
            .map_err(|_| format!("`{number}` is not a number; write a share such as \"25%\""))?;
        if !(percent > 0.0 && percent <= 100.0) {
            return Err(format!("{percent}% must be above 0% and at most 100%"));
        }
        Ok(RolloutStep::Canary { percent })
    }
}

impl std::fmt::Display for RolloutStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RolloutStep::Shadow => f.write_str("shadow"),
            RolloutStep::Canary { percent } => write!(f, "{percent}%"),
        }
    }
}

/// The steps used when `[deploy] steps` is not written.
pub const DEFAULT_STEPS: [RolloutStep; 5] = [
    RolloutStep::Shadow,
    RolloutStep::Canary { percent: 5.0 },
    RolloutStep::Canary { percent: 25.0 },
    RolloutStep::Canary { percent: 50.0 },
    RolloutStep::Canary { percent: 100.0 },
];
/// How long a step runs before its analysis, when `[deploy] interval` is not written.
pub const DEFAULT_INTERVAL_SECONDS: u64 = 600;
pub const DEFAULT_MIN_REQUESTS: u64 = 100;
pub const DEFAULT_FAILURES_TO_ROLLBACK: u64 = 2;
pub const DEFAULT_MAX_ERROR_RATE: f64 = 0.01;
pub const DEFAULT_MAX_DISAGREEMENT: f64 = 0.1;
pub const DEFAULT_MAX_PREDICTION_DRIFT: f64 = 0.2;
pub const DEFAULT_MAX_METRIC_DROP: f64 = 0.02;
pub const DEFAULT_MIN_LABELS: u64 = 50;

/// `[deploy]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeploySection {
    pub steps: Vec<RolloutStep>,
    pub interval: Option<LabelDelay>,
    pub approval: Option<Approval>,
    /// Candidate requests an analysis needs before it judges; fewer and the step waits.
    pub min_requests: Option<f64>,
    /// Failed analyses (in a row or not) that roll the candidate back.
    pub failures_to_rollback: Option<f64>,
    pub max_error_rate: Option<f64>,
    /// p99 latency limit in milliseconds; `[constraints] latency_p99_ms` when not written.
    pub max_p99_latency_ms: Option<f64>,
    pub max_disagreement: Option<f64>,
    /// Population stability index of the candidate's scores against production's.
    pub max_prediction_drift: Option<f64>,
    /// How far the primary metric may fall below production's on labelled requests.
    pub max_metric_drop: Option<f64>,
    /// Labelled requests per variant before the primary metric is judged.
    pub min_labels: Option<f64>,
}

const DURATION_EXPECTED: &str = "a duration such as \"10m\" or \"1h\"";

impl ReadSection for DeploySection {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        DeploySection {
            steps: r.parsed_list(s, "steps", "a step such as \"shadow\" or \"5%\"", |t| {
                RolloutStep::parse(t).map_err(|e| (e, None))
            }),
            interval: r.parsed(s, "interval", DURATION_EXPECTED, |text| {
                LabelDelay::parse(text).map_err(|reason| (reason, None))
            }),
            approval: r.keyword(s, "approval"),
            min_requests: r.number(s, "min_requests"),
            failures_to_rollback: r.number(s, "failures_to_rollback"),
            max_error_rate: r.number(s, "max_error_rate"),
            max_p99_latency_ms: r.number(s, "max_p99_latency_ms"),
            max_disagreement: r.number(s, "max_disagreement"),
            max_prediction_drift: r.number(s, "max_prediction_drift"),
            max_metric_drop: r.number(s, "max_metric_drop"),
            min_labels: r.number(s, "min_labels"),
        }
    }
}

/// A content problem of `[deploy]`: the key and the message.
pub(crate) fn problems(d: &DeploySection) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(i) = d
        .steps
        .iter()
        .skip(1)
        .position(|s| *s == RolloutStep::Shadow)
    {
        out.push((
            "deploy.steps",
            format!(
                "step {} is \"shadow\": a shadow step can only come first",
                i + 2
            ),
        ));
    }
    let shares: Vec<f64> = d
        .steps
        .iter()
        .filter_map(|s| match s {
            RolloutStep::Canary { percent } => Some(*percent),
            RolloutStep::Shadow => None,
        })
        .collect();
    if shares.windows(2).any(|w| w[1] <= w[0]) {
        out.push((
            "deploy.steps",
            "the traffic shares must increase from step to step".to_string(),
        ));
    }
    if d.interval.is_some_and(|i| i.seconds == 0) {
        out.push((
            "deploy.interval",
            "`deploy.interval` must be longer than 0s".into(),
        ));
    }
    for (key, v) in [
        ("deploy.min_requests", d.min_requests),
        ("deploy.failures_to_rollback", d.failures_to_rollback),
        ("deploy.min_labels", d.min_labels),
    ] {
        if let Some(v) = v
            && (v.fract() != 0.0 || v < 1.0)
        {
            out.push((key, format!("`{key}` = {v} must be a whole number >= 1")));
        }
    }
    for (key, v) in [
        ("deploy.max_error_rate", d.max_error_rate),
        ("deploy.max_disagreement", d.max_disagreement),
    ] {
        if let Some(v) = v
            && !(0.0..=1.0).contains(&v)
        {
            out.push((key, format!("`{key}` = {v} must be a share in [0, 1]")));
        }
    }
    for (key, v) in [
        ("deploy.max_p99_latency_ms", d.max_p99_latency_ms),
        ("deploy.max_prediction_drift", d.max_prediction_drift),
        ("deploy.max_metric_drop", d.max_metric_drop),
    ] {
        if let Some(v) = v
            && v < 0.0
        {
            out.push((key, format!("`{key}` = {v} must be >= 0")));
        }
    }
    out
}
