//! Tests of the alert state machine: the transitions one by one, then properties over random
//! signal streams, checked against a simulated store that keeps what the writes say.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::spec::{GateOp, SignalPattern};

const HOUR: i64 = 3_600_000;

fn rule(name: &str, signal: &str, op: GateOp, threshold: f64, cooldown_ms: i64) -> AlertRule {
    AlertRule {
        name: name.into(),
        signal: SignalPattern::parse(signal).unwrap(),
        when: AlertCondition { op, threshold },
        severity: AlertSeverity::Warning,
        cooldown_ms,
    }
}

fn signal(endpoint: &str, name: &str, value: f64, end_ms: i64) -> Signal {
    Signal {
        endpoint: endpoint.into(),
        name: name.into(),
        value,
        window_start_ms: end_ms - HOUR,
        window_end_ms: end_ms,
        evidence: serde_json::json!({ "value": value, "end": end_ms }),
    }
}

/// A store in memory: it keeps every alert by id and hands back the latest one of each key,
/// as the real store's `current_alerts` does.
#[derive(Default)]
struct Memory {
    alerts: BTreeMap<String, Alert>,
    next: u64,
    notified: Vec<(AlertKey, AlertEventKind, i64)>,
}

impl Memory {
    fn current(&self) -> Vec<Alert> {
        let mut latest: BTreeMap<AlertKey, Alert> = BTreeMap::new();
        for alert in self.alerts.values() {
            let newer = latest
                .get(&alert.state.key)
                .is_none_or(|held| alert.id.0 > held.id.0);
            if newer {
                latest.insert(alert.state.key.clone(), alert.clone());
            }
        }
        latest.into_values().collect()
    }

    fn run(&mut self, rules: &[AlertRule], signals: &[Signal]) -> AlertPlan {
        let plan = evaluate(rules, &self.current(), signals);
        for write in &plan.writes {
            let id = match &write.id {
                Some(id) => {
                    let stored = &self.alerts[&id.0];
                    assert_eq!(
                        stored.state.status,
                        AlertStatus::Open,
                        "only open alerts change"
                    );
                    id.clone()
                }
                None => {
                    self.next += 1;
                    AlertId(format!("{:08}", self.next))
                }
            };
            for e in write.events.iter().filter(|e| e.kind.notifies()) {
                self.notified
                    .push((write.state.key.clone(), e.kind, e.at_ms));
            }
            self.alerts.insert(
                id.0.clone(),
                Alert {
                    id,
                    state: write.state.clone(),
                },
            );
        }
        plan
    }

    fn open(&self) -> Vec<&Alert> {
        self.alerts
            .values()
            .filter(|a| a.state.status == AlertStatus::Open)
            .collect()
    }

    fn kinds(&self) -> Vec<AlertEventKind> {
        self.notified.iter().map(|n| n.1).collect()
    }
}

use AlertEventKind::{Opened, Resolved, Updated};

#[test]
fn fires_once_updates_while_it_persists_and_resolves_when_it_clears() {
    let rules = [rule("drifting", "drift.share", GateOp::Gt, 0.3, 0)];
    let mut m = Memory::default();
    assert!(
        m.run(&rules, &[signal("rain", "drift.share", 0.1, HOUR)])
            .writes
            .is_empty()
    );
    let plan = m.run(&rules, &[signal("rain", "drift.share", 0.5, 2 * HOUR)]);
    assert_eq!(plan.writes.len(), 1);
    assert_eq!(plan.writes[0].id, None);
    assert_eq!(plan.notifications().count(), 1);
    for t in 3..6 {
        let plan = m.run(
            &rules,
            &[signal(
                "rain",
                "drift.share",
                0.4 + t as f64 / 100.0,
                t * HOUR,
            )],
        );
        assert_eq!(plan.writes[0].events[0].kind, Updated);
        assert_eq!(
            plan.notifications().count(),
            0,
            "no notification while it persists"
        );
    }
    let open = m.open();
    assert_eq!(open.len(), 1);
    let a = &open[0].state;
    assert_eq!(
        (a.opened_ms, a.last_seen_ms, a.observations),
        (2 * HOUR, 5 * HOUR, 4)
    );
    assert_eq!(a.value, 0.45);
    assert_eq!(a.evidence["end"], 5 * HOUR);
    m.run(&rules, &[signal("rain", "drift.share", 0.2, 6 * HOUR)]);
    assert!(m.open().is_empty());
    let resolved = m.alerts.values().next().unwrap();
    assert_eq!(resolved.state.resolved_ms, Some(6 * HOUR));
    assert_eq!(resolved.state.last_seen_ms, 5 * HOUR);
    assert_eq!(resolved.state.value, 0.2);
    assert_eq!(m.kinds(), vec![Opened, Resolved]);
}

#[test]
fn a_key_without_a_signal_stays_as_it_is() {
    let rules = [rule("drifting", "drift.share", GateOp::Gt, 0.3, 0)];
    let mut m = Memory::default();
    m.run(&rules, &[signal("rain", "drift.share", 0.5, HOUR)]);
    let plan = m.run(&rules, &[signal("loans", "drift.share", 0.1, 2 * HOUR)]);
    assert!(plan.writes.is_empty());
    assert_eq!(m.open().len(), 1);
}

#[test]
fn cooldown_keeps_a_resolved_rule_quiet_then_lets_it_fire() {
    let rules = [rule("drifting", "drift.share", GateOp::Gt, 0.3, 3 * HOUR)];
    let mut m = Memory::default();
    m.run(&rules, &[signal("rain", "drift.share", 0.5, HOUR)]);
    m.run(&rules, &[signal("rain", "drift.share", 0.1, 2 * HOUR)]);
    // Resolved at 2h with a 3h cooldown: quiet until 5h.
    let plan = m.run(&rules, &[signal("rain", "drift.share", 0.6, 4 * HOUR)]);
    assert!(plan.writes.is_empty());
    assert_eq!(plan.suppressed.len(), 1);
    assert_eq!(plan.suppressed[0].until_ms, 5 * HOUR);
    let plan = m.run(&rules, &[signal("rain", "drift.share", 0.6, 5 * HOUR)]);
    assert_eq!(plan.writes.len(), 1);
    assert_eq!(
        plan.writes[0].id, None,
        "a new alert, not the old one reopened"
    );
    assert_eq!(m.kinds(), vec![Opened, Resolved, Opened]);
    assert_eq!(m.alerts.len(), 2);
}

#[test]
fn a_wildcard_rule_keeps_one_alert_per_signal_and_rules_are_independent() {
    let rules = [
        rule("feature_drift", "drift.feature.*", GateOp::Gt, 0.2, 0),
        rule("age_drift", "drift.feature.age", GateOp::Gt, 0.5, 0),
    ];
    let mut m = Memory::default();
    let plan = m.run(
        &rules,
        &[
            signal("loans", "drift.feature.age", 0.6, HOUR),
            signal("loans", "drift.feature.salary", 0.3, HOUR),
            signal("loans", "drift.share", 0.9, HOUR),
            signal("rain", "drift.feature.age", 0.1, HOUR),
        ],
    );
    let mut keys: Vec<(String, String, String)> = plan
        .writes
        .iter()
        .map(|w| {
            let k = &w.state.key;
            (k.rule.clone(), k.endpoint.clone(), k.signal.clone())
        })
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            (
                "age_drift".into(),
                "loans".into(),
                "drift.feature.age".into()
            ),
            (
                "feature_drift".into(),
                "loans".into(),
                "drift.feature.age".into()
            ),
            (
                "feature_drift".into(),
                "loans".into(),
                "drift.feature.salary".into()
            ),
        ]
    );
}

#[test]
fn stale_repeated_and_non_finite_signals_change_nothing() {
    let rules = [rule("low_auc", "performance.roc_auc", GateOp::Lt, 0.75, 0)];
    let mut m = Memory::default();
    let batch = [signal("rain", "performance.roc_auc", 0.7, 2 * HOUR)];
    m.run(&rules, &batch);
    // The same batch again (a retried monitor run) and an older window are ignored.
    assert!(m.run(&rules, &batch).writes.is_empty());
    assert!(
        m.run(&rules, &[signal("rain", "performance.roc_auc", 0.9, HOUR)])
            .writes
            .is_empty()
    );
    assert!(
        m.run(
            &rules,
            &[signal("rain", "performance.roc_auc", f64::NAN, 3 * HOUR)]
        )
        .writes
        .is_empty()
    );
    assert_eq!(m.open()[0].state.observations, 1);
}

#[test]
fn one_batch_is_evaluated_in_window_order() {
    let rules = [rule("drifting", "drift.share", GateOp::Gt, 0.3, 0)];
    let mut m = Memory::default();
    // Given out of order: 0.5 at 1h opens, 0.1 at 2h resolves, 0.6 at 3h opens again.
    let plan = m.run(
        &rules,
        &[
            signal("rain", "drift.share", 0.6, 3 * HOUR),
            signal("rain", "drift.share", 0.5, HOUR),
            signal("rain", "drift.share", 0.1, 2 * HOUR),
        ],
    );
    assert_eq!(plan.writes.len(), 2);
    assert_eq!(plan.writes[0].state.status, AlertStatus::Resolved);
    assert_eq!(plan.writes[1].state.status, AlertStatus::Open);
    assert_eq!(m.kinds(), vec![Opened, Resolved, Opened]);
    assert_eq!(m.open().len(), 1);
}

#[test]
fn an_open_alert_follows_its_rule_and_resolves_when_the_rule_is_removed() {
    let mut rules = vec![rule("drifting", "drift.share", GateOp::Gt, 0.3, 0)];
    let mut m = Memory::default();
    m.run(&rules, &[signal("rain", "drift.share", 0.5, HOUR)]);
    rules[0].severity = AlertSeverity::Critical;
    m.run(&rules, &[signal("rain", "drift.share", 0.5, 2 * HOUR)]);
    assert_eq!(m.open()[0].state.severity, AlertSeverity::Critical);
    // Without signals for its endpoint, an orphaned alert waits.
    let plan = m.run(&[], &[signal("loans", "drift.share", 0.5, 3 * HOUR)]);
    assert!(plan.writes.is_empty());
    assert_eq!(m.open().len(), 1);
    let plan = m.run(&[], &[signal("rain", "drift.share", 0.5, 4 * HOUR)]);
    assert_eq!(plan.writes.len(), 1);
    let e = &plan.writes[0].events[0];
    assert_eq!((e.kind, e.at_ms), (Resolved, 4 * HOUR));
    assert_eq!(e.note.as_deref(), Some(RULE_REMOVED_NOTE));
    assert!(m.open().is_empty());
}

#[test]
fn an_open_alert_wins_over_an_older_resolved_one_of_its_key() {
    let rules = [rule("drifting", "drift.share", GateOp::Gt, 0.3, 0)];
    let mut m = Memory::default();
    m.run(&rules, &[signal("rain", "drift.share", 0.5, HOUR)]);
    m.run(&rules, &[signal("rain", "drift.share", 0.1, 2 * HOUR)]);
    m.run(&rules, &[signal("rain", "drift.share", 0.5, 3 * HOUR)]);
    let all: Vec<Alert> = m.alerts.values().cloned().rev().collect();
    let plan = evaluate(
        &rules,
        &all,
        &[signal("rain", "drift.share", 0.1, 4 * HOUR)],
    );
    assert_eq!(plan.writes.len(), 1);
    assert_eq!(plan.writes[0].id, Some(AlertId("00000002".into())));
    assert_eq!(plan.writes[0].events[0].kind, Resolved);
}

/// A random stream: batches of signals for two endpoints and three signal names, values around
/// the thresholds, window ends that mostly advance but sometimes repeat or go back.
fn streams() -> impl Strategy<Value = Vec<Vec<(usize, usize, f64, i64)>>> {
    let one = (0..2usize, 0..3usize, 0.0..1.0f64, -2..6i64);
    prop::collection::vec(prop::collection::vec(one, 0..6), 1..25)
}

const ENDPOINTS: [&str; 2] = ["rain", "loans"];
const NAMES: [&str; 3] = ["drift.share", "drift.feature.age", "performance.roc_auc"];

fn batches(stream: &[Vec<(usize, usize, f64, i64)>]) -> Vec<Vec<Signal>> {
    let mut clock = 10 * HOUR;
    stream
        .iter()
        .map(|batch| {
            batch
                .iter()
                .map(|&(e, n, value, step)| {
                    clock += step * HOUR;
                    signal(ENDPOINTS[e], NAMES[n], value, clock)
                })
                .collect()
        })
        .collect()
}

fn property_rules(cooldown_hours: i64) -> Vec<AlertRule> {
    vec![
        rule(
            "share",
            "drift.share",
            GateOp::Gt,
            0.5,
            cooldown_hours * HOUR,
        ),
        rule(
            "any_drift",
            "drift.*",
            GateOp::Ge,
            0.7,
            cooldown_hours * HOUR,
        ),
        rule(
            "low_auc",
            "performance.roc_auc",
            GateOp::Lt,
            0.4,
            cooldown_hours * HOUR,
        ),
    ]
}

proptest! {
    #[test]
    fn at_most_one_alert_per_key_is_open(stream in streams(), cooldown in 0..4i64) {
        let rules = property_rules(cooldown);
        let mut m = Memory::default();
        for batch in batches(&stream) {
            m.run(&rules, &batch);
            let mut keys: Vec<&AlertKey> = m.open().iter().map(|a| &a.state.key).collect();
            let total = keys.len();
            keys.sort();
            keys.dedup();
            prop_assert_eq!(keys.len(), total);
        }
    }

    #[test]
    fn notifications_alternate_per_key_and_respect_the_cooldown(
        stream in streams(),
        cooldown in 0..4i64,
    ) {
        let rules = property_rules(cooldown);
        let mut m = Memory::default();
        for batch in batches(&stream) {
            m.run(&rules, &batch);
        }
        let mut per_key: BTreeMap<&AlertKey, Vec<(AlertEventKind, i64)>> = BTreeMap::new();
        for (key, kind, at) in &m.notified {
            per_key.entry(key).or_default().push((*kind, *at));
        }
        for events in per_key.values() {
            for (i, (kind, _)) in events.iter().enumerate() {
                let expected = if i % 2 == 0 { Opened } else { Resolved };
                prop_assert_eq!(*kind, expected, "{:?}", events);
            }
            for pair in events.windows(2) {
                prop_assert!(pair[0].1 <= pair[1].1, "{:?}", events);
                if pair[0].0 == Resolved {
                    prop_assert!(pair[1].1 >= pair[0].1 + cooldown * HOUR, "{:?}", events);
                }
            }
        }
    }

    #[test]
    fn a_persisting_condition_notifies_once(
        values in prop::collection::vec(0.51..1.0f64, 1..40),
    ) {
        let rules = property_rules(0);
        let mut m = Memory::default();
        for (i, value) in values.iter().enumerate() {
            m.run(&rules, &[signal("rain", "drift.share", *value, (i as i64 + 1) * HOUR)]);
        }
        let share: Vec<_> = m.notified.iter().filter(|n| n.0.rule == "share").collect();
        prop_assert_eq!(share.len(), 1);
        prop_assert_eq!(m.open().iter().filter(|a| a.state.key.rule == "share").count(), 1);
        let open = m.open().into_iter().find(|a| a.state.key.rule == "share").unwrap();
        prop_assert_eq!(open.state.observations, values.len() as i64);
    }

    #[test]
    fn batching_does_not_change_what_people_are_told(stream in streams(), cooldown in 0..4i64) {
        let rules = property_rules(cooldown);
        let signals: Vec<Signal> = batches(&stream).into_iter().flatten().collect();
        let mut together = Memory::default();
        together.run(&rules, &signals);
        // One at a time, in window order (the order a single batch is evaluated in).
        let mut sorted = signals.clone();
        sorted.sort_by_key(|s| s.window_end_ms);
        let mut apart = Memory::default();
        for s in sorted {
            apart.run(&rules, std::slice::from_ref(&s));
        }
        let mut a = together.notified.clone();
        let mut b = apart.notified.clone();
        a.sort();
        b.sort();
        prop_assert_eq!(a, b);
    }
}
