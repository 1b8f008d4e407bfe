//! The rollout state machine: a candidate version climbs the `[deploy]` steps (shadow, then
//! growing canary shares); each step is judged by an analysis of measured signals against the
//! policy's limits; failures past a threshold roll it back, success promotes it (or waits for an
//! approval). Pure: callers measure, pass the time in and persist the result.

use crate::spec::{
    Approval, DEFAULT_FAILURES_TO_ROLLBACK, DEFAULT_INTERVAL_SECONDS, DEFAULT_MAX_DISAGREEMENT,
    DEFAULT_MAX_ERROR_RATE, DEFAULT_MAX_METRIC_DROP, DEFAULT_MAX_PREDICTION_DRIFT,
    DEFAULT_MIN_LABELS, DEFAULT_MIN_REQUESTS, DEFAULT_STEPS, ProblemSpec, RolloutStep,
};
use serde::{Deserialize, Serialize};

/// Analyses kept in the persisted state; older ones stay in the audit log.
pub const KEPT_ANALYSES: usize = 50;

/// How a new version reaches production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Move the alias now, with no analysis.
    Direct,
    /// Start with a shadow step, then climb the canary steps.
    Shadow,
    /// Climb the canary steps, skipping any shadow step.
    Canary,
}

impl Strategy {
    pub fn parse(text: &str) -> Option<Strategy> {
        match text {
            "direct" => Some(Strategy::Direct),
            "shadow" => Some(Strategy::Shadow),
            "canary" => Some(Strategy::Canary),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Direct => "direct",
            Strategy::Shadow => "shadow",
            Strategy::Canary => "canary",
        }
    }
}

/// The limits every analysis checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    pub max_error_rate: f64,
    pub max_p99_latency_ms: Option<f64>,
    pub max_disagreement: f64,
    pub max_prediction_drift: f64,
    pub max_metric_drop: f64,
}

/// The policy in force for one rollout, copied from `[deploy]` when it starts, so that editing
/// `aidlc.toml` mid-rollout changes nothing behind the operator's back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutPolicy {
    pub steps: Vec<RolloutStep>,
    pub interval_ms: i64,
    pub approval_required: bool,
    pub min_requests: u64,
    pub failures_to_rollback: u32,
    pub min_labels: u64,
    pub limits: Limits,
}

impl RolloutPolicy {
    /// The policy of `[deploy]` (defaults where it is silent) for a strategy: `canary` drops a
    /// shadow step, `shadow` adds one in front when the steps have none.
    pub fn from_spec(spec: &ProblemSpec, strategy: Strategy) -> RolloutPolicy {
        let d = &spec.deploy;
        let mut steps = if d.steps.is_empty() {
            DEFAULT_STEPS.to_vec()
        } else {
            d.steps.clone()
        };
        match strategy {
            Strategy::Canary => steps.retain(|s| *s != RolloutStep::Shadow),
            Strategy::Shadow if steps.first() != Some(&RolloutStep::Shadow) => {
                steps.insert(0, RolloutStep::Shadow)
            }
            Strategy::Shadow | Strategy::Direct => {}
        }
        if strategy == Strategy::Direct {
            steps.clear();
        }
        let whole = |v: Option<f64>, default: u64| v.map_or(default, |v| v as u64);
        RolloutPolicy {
            steps,
            interval_ms: d.interval.map_or(DEFAULT_INTERVAL_SECONDS, |i| i.seconds) as i64 * 1000,
            approval_required: d.approval == Some(Approval::Required),
            min_requests: whole(d.min_requests, DEFAULT_MIN_REQUESTS),
            failures_to_rollback: whole(d.failures_to_rollback, DEFAULT_FAILURES_TO_ROLLBACK)
                as u32,
            min_labels: whole(d.min_labels, DEFAULT_MIN_LABELS),
            limits: Limits {
                max_error_rate: d.max_error_rate.unwrap_or(DEFAULT_MAX_ERROR_RATE),
                max_p99_latency_ms: d.max_p99_latency_ms.or(spec.constraints.p99_latency_ms),
                max_disagreement: d.max_disagreement.unwrap_or(DEFAULT_MAX_DISAGREEMENT),
                max_prediction_drift: d
                    .max_prediction_drift
                    .unwrap_or(DEFAULT_MAX_PREDICTION_DRIFT),
                max_metric_drop: d.max_metric_drop.unwrap_or(DEFAULT_MAX_METRIC_DROP),
            },
        }
    }
}

/// The primary metric of both variants on the requests whose labels have arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricComparison {
    pub metric: String,
    pub higher_is_better: bool,
    pub candidate: f64,
    pub production: f64,
    pub candidate_labels: u64,
    pub production_labels: u64,
}

/// What was measured over one step's window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Measurements {
    /// Predictions the candidate made (shadow copies included).
    pub candidate_requests: u64,
    pub candidate_errors: u64,
    pub production_requests: u64,
    pub production_errors: u64,
    pub candidate_p99_ms: Option<f64>,
    pub production_p99_ms: Option<f64>,
    /// Share of predictions that differ from production's: on the same requests for a shadow,
    /// between the predicted-class distributions (total variation) for a canary.
    pub disagreement: Option<f64>,
    /// How many prediction pairs (shadow) or predictions (canary) the disagreement rests on.
    pub compared: u64,
    /// PSI of the candidate's scores against production's in the same window.
    pub prediction_drift: Option<f64>,
    pub metric: Option<MetricComparison>,
}

/// One limit checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub value: f64,
    pub limit: f64,
    pub passed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    /// Too little traffic to judge; the step goes on.
    Inconclusive,
}

/// The analysis of one step's window: what was measured, each check and the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub at_ms: i64,
    pub step: usize,
    pub step_label: String,
    pub from_ms: i64,
    pub to_ms: i64,
    pub measurements: Measurements,
    pub checks: Vec<Check>,
    pub verdict: Verdict,
}

impl Analysis {
    /// The failed checks in words, for the audit log and the status.
    pub fn failed_summary(&self) -> String {
        self.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| format!("{} {:.4} > limit {:.4}", c.name, c.value, c.limit))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutStatus {
    Running,
    AwaitingApproval,
    Promoted,
    RolledBack,
}

impl RolloutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutStatus::Running => "running",
            RolloutStatus::AwaitingApproval => "awaiting_approval",
            RolloutStatus::Promoted => "promoted",
            RolloutStatus::RolledBack => "rolled_back",
        }
    }
}

/// Where the traffic goes now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Traffic {
    /// The candidate receives a copy of every request.
    pub shadow: bool,
    /// The candidate answers this share (0–100) of requests.
    pub canary_percent: f64,
}

/// What an analysis led to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
pub enum Decision {
    /// Too little traffic: the step goes on.
    Wait,
    /// A failed analysis below the rollback threshold: the step starts over.
    Retry {
        failures: u32,
    },
    Advance {
        to: usize,
    },
    AwaitApproval,
    Promote,
    Rollback {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RolloutError {
    #[error("the rollout of version {candidate} is {status}, not awaiting approval")]
    NotAwaitingApproval { candidate: i64, status: String },
    #[error("the rollout of version {candidate} has already finished ({status})")]
    Finished { candidate: i64, status: String },
}

/// One version's way to production, as persisted in the deployment's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollout {
    pub id: String,
    pub endpoint: String,
    pub model: String,
    /// The alias production follows; promotion moves it to the candidate.
    pub alias: String,
    pub candidate: i64,
    /// The version production served when the rollout started.
    pub production: Option<i64>,
    pub strategy: Strategy,
    pub policy: RolloutPolicy,
    /// The label set whose values judge the primary metric, and that metric.
    pub label_name: Option<String>,
    /// `[problem.label] horizon` in milliseconds, for labels keyed by entity and event time.
    #[serde(default)]
    pub label_horizon_ms: Option<i64>,
    pub metric: Option<String>,
    pub positive_label: Option<String>,
    pub step: usize,
    pub status: RolloutStatus,
    pub started_at_ms: i64,
    pub step_started_at_ms: i64,
    pub failures: u32,
    pub analyses: Vec<Analysis>,
    /// Why it ended (rollback reason, approval reason) once it has.
    pub reason: Option<String>,
    pub finished_at_ms: Option<i64>,
}

impl Rollout {
    pub fn current_step(&self) -> Option<RolloutStep> {
        self.policy.steps.get(self.step).copied()
    }

    pub fn is_active(&self) -> bool {
        matches!(
            self.status,
            RolloutStatus::Running | RolloutStatus::AwaitingApproval
        )
    }

    /// The traffic the candidate gets; none once the rollout has ended.
    pub fn traffic(&self) -> Traffic {
        match (self.is_active(), self.current_step()) {
            (true, Some(RolloutStep::Shadow)) => Traffic {
                shadow: true,
                canary_percent: 0.0,
            },
            (true, Some(RolloutStep::Canary { percent })) => Traffic {
                shadow: false,
                canary_percent: percent,
            },
            _ => Traffic {
                shadow: false,
                canary_percent: 0.0,
            },
        }
    }

    /// Whether the current step has run its interval and is to be analysed.
    pub fn due(&self, now_ms: i64) -> bool {
        self.status == RolloutStatus::Running
            && now_ms - self.step_started_at_ms >= self.policy.interval_ms
    }

    /// Checks measurements against the policy's limits.
    pub fn analyze(&self, m: Measurements, from_ms: i64, to_ms: i64) -> Analysis {
        let limits = &self.policy.limits;
        let mut checks = Vec::new();
        let mut check = |name: &str, value: f64, limit: f64| {
            checks.push(Check {
                name: name.to_string(),
                value,
                limit,
                passed: value <= limit,
            })
        };
        let verdict = if m.candidate_requests < self.policy.min_requests {
            Verdict::Inconclusive
        } else {
            check(
                "error_rate",
                m.candidate_errors as f64 / m.candidate_requests as f64,
                limits.max_error_rate,
            );
            if let (Some(limit), Some(p99)) = (limits.max_p99_latency_ms, m.candidate_p99_ms) {
                check("p99_latency_ms", p99, limit);
            }
            if let Some(d) = m.disagreement {
                check("disagreement", d, limits.max_disagreement);
            }
            if let Some(psi) = m.prediction_drift {
                check("prediction_drift_psi", psi, limits.max_prediction_drift);
            }
            if let Some(metric) = &m.metric
                && metric.candidate_labels >= self.policy.min_labels
                && metric.production_labels >= self.policy.min_labels
            {
                let drop = if metric.higher_is_better {
                    metric.production - metric.candidate
                } else {
                    metric.candidate - metric.production
                };
                check(
                    &format!("{}_drop", metric.metric),
                    drop,
                    limits.max_metric_drop,
                );
            }
            if checks.iter().all(|c| c.passed) {
                Verdict::Pass
            } else {
                Verdict::Fail
            }
        };
        Analysis {
            at_ms: to_ms,
            step: self.step,
            step_label: self
                .current_step()
                .map_or_else(|| "-".to_string(), |s| s.to_string()),
            from_ms,
            to_ms,
            measurements: m,
            checks,
            verdict,
        }
    }

    /// Applies an analysis: wait, retry, advance, stop for approval, promote or roll back.
    pub fn apply(&mut self, analysis: Analysis, now_ms: i64) -> Decision {
        let verdict = analysis.verdict;
        let summary = analysis.failed_summary();
        self.analyses.push(analysis);
        if self.analyses.len() > KEPT_ANALYSES {
            self.analyses.remove(0);
        }
        match verdict {
            Verdict::Inconclusive => Decision::Wait,
            Verdict::Fail => {
                self.failures += 1;
                if self.failures >= self.policy.failures_to_rollback {
                    let reason = format!(
                        "{} failed analyses (limit {}); last at step {}: {summary}",
                        self.failures,
                        self.policy.failures_to_rollback,
                        self.current_step()
                            .map_or_else(|| "-".to_string(), |s| s.to_string())
                    );
                    self.finish(RolloutStatus::RolledBack, Some(reason.clone()), now_ms);
                    Decision::Rollback { reason }
                } else {
                    self.step_started_at_ms = now_ms;
                    Decision::Retry {
                        failures: self.failures,
                    }
                }
            }
            Verdict::Pass if self.step + 1 < self.policy.steps.len() => {
                self.step += 1;
                self.step_started_at_ms = now_ms;
                Decision::Advance { to: self.step }
            }
            Verdict::Pass if self.policy.approval_required => {
                self.status = RolloutStatus::AwaitingApproval;
                Decision::AwaitApproval
            }
            Verdict::Pass => {
                self.finish(RolloutStatus::Promoted, None, now_ms);
                Decision::Promote
            }
        }
    }

    /// A person approved the promotion of a rollout that passed every step.
    pub fn approve(&mut self, reason: Option<String>, now_ms: i64) -> Result<(), RolloutError> {
        if self.status != RolloutStatus::AwaitingApproval {
            return Err(RolloutError::NotAwaitingApproval {
                candidate: self.candidate,
                status: self.status.as_str().to_string(),
            });
        }
        self.finish(RolloutStatus::Promoted, reason, now_ms);
        Ok(())
    }

    /// Turns down a rollout that waits for approval: it ends rolled back (all traffic to
    /// production, which never stopped serving), with the rejection's reason.
    pub fn reject(&mut self, reason: String, now_ms: i64) -> Result<(), RolloutError> {
        if self.status != RolloutStatus::AwaitingApproval {
            return Err(RolloutError::NotAwaitingApproval {
                candidate: self.candidate,
                status: self.status.as_str().to_string(),
            });
        }
        self.finish(RolloutStatus::RolledBack, Some(reason), now_ms);
        Ok(())
    }

    /// Stops the rollout and sends all traffic back to production.
    pub fn roll_back(&mut self, reason: String, now_ms: i64) -> Result<(), RolloutError> {
        if !self.is_active() {
            return Err(RolloutError::Finished {
                candidate: self.candidate,
                status: self.status.as_str().to_string(),
            });
        }
        self.finish(RolloutStatus::RolledBack, Some(reason), now_ms);
        Ok(())
    }

    fn finish(&mut self, status: RolloutStatus, reason: Option<String>, now_ms: i64) {
        self.status = status;
        self.reason = reason;
        self.finished_at_ms = Some(now_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout(steps: Vec<RolloutStep>, approval: bool) -> Rollout {
        Rollout {
            id: "r1".into(),
            endpoint: "e".into(),
            model: "m".into(),
            alias: "champion".into(),
            candidate: 2,
            production: Some(1),
            strategy: Strategy::Canary,
            policy: RolloutPolicy {
                steps,
                interval_ms: 1000,
                approval_required: approval,
                min_requests: 10,
                failures_to_rollback: 2,
                min_labels: 5,
                limits: Limits {
                    max_error_rate: 0.01,
                    max_p99_latency_ms: Some(5.0),
                    max_disagreement: 0.1,
                    max_prediction_drift: 0.2,
                    max_metric_drop: 0.02,
                },
            },
            label_name: None,
            label_horizon_ms: None,
            metric: None,
            positive_label: None,
            step: 0,
            status: RolloutStatus::Running,
            started_at_ms: 0,
            step_started_at_ms: 0,
            failures: 0,
            analyses: vec![],
            reason: None,
            finished_at_ms: None,
        }
    }

    fn healthy() -> Measurements {
        Measurements {
            candidate_requests: 100,
            production_requests: 100,
            candidate_p99_ms: Some(1.0),
            disagreement: Some(0.01),
            prediction_drift: Some(0.01),
            ..Measurements::default()
        }
    }

    #[test]
    fn healthy_rollout_climbs_every_step_and_promotes() {
        let mut r = rollout(DEFAULT_STEPS.to_vec(), false);
        assert!(r.traffic().shadow);
        assert!(!r.due(999));
        for (i, expected) in [1, 2, 3, 4].into_iter().enumerate() {
            let now = 1000 * (i as i64 + 1);
            assert!(r.due(now));
            let a = r.analyze(healthy(), now - 1000, now);
            assert_eq!(a.verdict, Verdict::Pass);
            assert_eq!(r.apply(a, now), Decision::Advance { to: expected });
        }
        assert_eq!(r.traffic().canary_percent, 100.0);
        let a = r.analyze(healthy(), 4000, 5000);
        assert_eq!(r.apply(a, 5000), Decision::Promote);
        assert_eq!(r.status, RolloutStatus::Promoted);
        assert_eq!(r.traffic().canary_percent, 0.0);
    }

    #[test]
    fn failing_checks_count_toward_rollback() {
        let mut r = rollout(vec![RolloutStep::Canary { percent: 10.0 }], false);
        let bad = Measurements {
            disagreement: Some(0.6),
            ..healthy()
        };
        let a = r.analyze(bad.clone(), 0, 1000);
        assert_eq!(a.verdict, Verdict::Fail);
        assert!(a.failed_summary().contains("disagreement"));
        assert_eq!(r.apply(a, 1000), Decision::Retry { failures: 1 });
        assert!(!r.due(1500));
        let a = r.analyze(bad, 1000, 2000);
        let Decision::Rollback { reason } = r.apply(a, 2000) else {
            panic!("expected a rollback");
        };
        assert!(reason.contains("disagreement 0.6"), "{reason}");
        assert_eq!(r.status, RolloutStatus::RolledBack);
        assert!(r.roll_back("again".into(), 3000).is_err());
    }

    #[test]
    fn too_little_traffic_waits_and_labels_judge_the_metric() {
        let mut r = rollout(vec![RolloutStep::Canary { percent: 50.0 }], true);
        let quiet = Measurements {
            candidate_requests: 3,
            ..healthy()
        };
        let a = r.analyze(quiet, 0, 1000);
        assert_eq!(a.verdict, Verdict::Inconclusive);
        assert_eq!(r.apply(a, 1000), Decision::Wait);
        let worse = Measurements {
            metric: Some(MetricComparison {
                metric: "roc_auc".into(),
                higher_is_better: true,
                candidate: 0.70,
                production: 0.80,
                candidate_labels: 50,
                production_labels: 50,
            }),
            ..healthy()
        };
        assert_eq!(r.analyze(worse, 0, 1000).verdict, Verdict::Fail);
        let a = r.analyze(healthy(), 0, 1000);
        assert_eq!(r.apply(a, 1000), Decision::AwaitApproval);
        assert!(r.is_active());
        r.approve(Some("looks good".into()), 2000).unwrap();
        assert_eq!(r.status, RolloutStatus::Promoted);
    }

    #[test]
    fn only_a_rollout_awaiting_approval_can_be_rejected() {
        let mut r = rollout(vec![RolloutStep::Canary { percent: 50.0 }], true);
        assert!(matches!(
            r.reject("not yet".into(), 500),
            Err(RolloutError::NotAwaitingApproval { .. })
        ));
        let a = r.analyze(healthy(), 0, 1000);
        assert_eq!(r.apply(a, 1000), Decision::AwaitApproval);
        r.reject("the canary week was a holiday".into(), 2000)
            .unwrap();
        assert_eq!(r.status, RolloutStatus::RolledBack);
        assert_eq!(r.reason.as_deref(), Some("the canary week was a holiday"));
        assert_eq!(r.finished_at_ms, Some(2000));
        assert_eq!(r.traffic().canary_percent, 0.0);
        assert!(r.approve(None, 3000).is_err());
    }

    #[test]
    fn strategies_shape_the_steps() {
        let spec = ProblemSpec::default();
        let canary = RolloutPolicy::from_spec(&spec, Strategy::Canary);
        assert!(!canary.steps.contains(&RolloutStep::Shadow));
        let shadow = RolloutPolicy::from_spec(&spec, Strategy::Shadow);
        assert_eq!(shadow.steps[0], RolloutStep::Shadow);
        assert!(
            RolloutPolicy::from_spec(&spec, Strategy::Direct)
                .steps
                .is_empty()
        );
    }
}
