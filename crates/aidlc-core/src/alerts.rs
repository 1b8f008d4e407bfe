//! The alert state machine: monitoring signals in, alert changes out.
//!
//! An alert is keyed by (rule, endpoint, signal name). For each signal, in window order, every
//! rule whose pattern matches it is evaluated:
//!
//! * the condition holds and no alert of the key is open → a new alert **opens** (notified),
//!   unless the key's last alert resolved less than the rule's cooldown ago (**suppressed**);
//! * the condition holds and an alert is open → it is **updated** (latest value, evidence and
//!   window; `last_seen_ms`), and nobody is notified again: no storm while a condition persists;
//! * the condition no longer holds and an alert is open → it **resolves** (notified);
//! * a key without a signal in the batch is left as it is: no signal is no evidence either way.
//!
//! Times are the signals' window ends (`window_end_ms`), not the clock, so a replay of past
//! windows behaves as a live run did. A signal whose window does not end after the key's last
//! observation is stale (a repeat or a late arrival) and is ignored, which makes evaluating a
//! batch twice harmless. A non-finite value is no evidence either way and is ignored too.
//!
//! The function is pure; the caller loads the current alerts from the store, writes the
//! resulting [`AlertWrite`]s in one transaction and sends the notifications.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ids::AlertId;
use crate::spec::{AlertCondition, AlertRule, AlertSeverity};

/// One value a monitor measured for an endpoint over a window, such as the share of drifting
/// features (`drift.share`) or one feature's drift score (`drift.feature.age`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub endpoint: String,
    /// The signal name rules match: `drift.share`, `drift.feature.<column>`,
    /// `prediction_drift`, `performance.<metric>`, `estimated.<metric>`, `multivariate`.
    pub name: String,
    pub value: f64,
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    /// What the monitor found, kept with the alert (test, p-value, reference, sizes…).
    pub evidence: serde_json::Value,
}

/// What an alert is about: at most one alert per key is open at any time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AlertKey {
    pub rule: String,
    pub endpoint: String,
    pub signal: String,
}

/// Whether an alert is still firing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Open,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<AlertStatus> {
        match text {
            "open" => Some(AlertStatus::Open),
            "resolved" => Some(AlertStatus::Resolved),
            _ => None,
        }
    }
}

/// What happened to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertEventKind {
    /// The condition started to hold; people are notified.
    Opened,
    /// The condition still holds; recorded, nobody is notified.
    Updated,
    /// The condition cleared (or its rule was removed); people are notified.
    Resolved,
}

impl AlertEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertEventKind::Opened => "opened",
            AlertEventKind::Updated => "updated",
            AlertEventKind::Resolved => "resolved",
        }
    }

    pub fn parse(text: &str) -> Option<AlertEventKind> {
        match text {
            "opened" => Some(AlertEventKind::Opened),
            "updated" => Some(AlertEventKind::Updated),
            "resolved" => Some(AlertEventKind::Resolved),
            _ => None,
        }
    }

    /// Whether people are told about this event.
    pub fn notifies(self) -> bool {
        self != AlertEventKind::Updated
    }
}

/// An alert without its id: what the state machine computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertState {
    #[serde(flatten)]
    pub key: AlertKey,
    /// The rule's severity (its current one, while the alert is open).
    pub severity: AlertSeverity,
    /// The rule's condition (its current one, while the alert is open).
    pub condition: AlertCondition,
    pub status: AlertStatus,
    /// The latest value: the last one that met the condition, or the one that cleared it.
    pub value: f64,
    /// The evidence of the latest value.
    pub evidence: serde_json::Value,
    /// The window of the latest value.
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    /// The window end at which the alert opened.
    pub opened_ms: i64,
    /// The last window end at which the condition held.
    pub last_seen_ms: i64,
    /// The window end at which the condition cleared.
    pub resolved_ms: Option<i64>,
    /// How many signals met the condition while the alert was open.
    pub observations: i64,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: AlertId,
    #[serde(flatten)]
    pub state: AlertState,
}

/// One entry of an alert's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    pub kind: AlertEventKind,
    /// The window end of the signal that caused it.
    pub at_ms: i64,
    pub value: f64,
    pub window_start_ms: i64,
    pub window_end_ms: i64,
    pub evidence: serde_json::Value,
    /// Why, when it is not the signal itself (a resolution because the rule was removed).
    pub note: Option<String>,
}

/// An alert to write: a new one (`id = None`, the store assigns the id) or a change of an open
/// one, with its final state after the batch and the history events that led there, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertWrite {
    pub id: Option<AlertId>,
    pub state: AlertState,
    pub events: Vec<AlertEvent>,
}

/// A condition that held while its rule was cooling down after a resolution: no alert opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suppressed {
    pub key: AlertKey,
    pub value: f64,
    pub at_ms: i64,
    /// The first window end at which the rule may fire again for this key.
    pub until_ms: i64,
}

/// The outcome of evaluating one batch of signals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertPlan {
    /// Existing alerts first (in the order given), then new ones in the order they opened, so
    /// a key's open alert is always written as resolved before its successor is inserted.
    pub writes: Vec<AlertWrite>,
    pub suppressed: Vec<Suppressed>,
}

impl AlertPlan {
    /// The events people are told about, with the alert each belongs to, in write order.
    pub fn notifications(&self) -> impl Iterator<Item = (usize, &AlertEvent)> {
        self.writes.iter().enumerate().flat_map(|(i, w)| {
            w.events
                .iter()
                .filter(|e| e.kind.notifies())
                .map(move |e| (i, e))
        })
    }
}

/// The note of a resolution caused by the rule leaving `[monitor.alerts]`.
pub const RULE_REMOVED_NOTE: &str = "the rule was removed from [monitor.alerts]";

struct Slot {
    id: Option<AlertId>,
    state: AlertState,
    events: Vec<AlertEvent>,
}

/// Evaluates a batch of signals against the rules.
///
/// `current` holds, for each key, its latest alert (open or resolved) — the open ones are
/// updated or resolved, the resolved ones give the cooldown. Where several alerts of one key
/// are given, an open one wins, else the one that opened last. An open alert whose rule is no
/// longer among `rules` is resolved when its endpoint has signals in the batch.
pub fn evaluate(rules: &[AlertRule], current: &[Alert], signals: &[Signal]) -> AlertPlan {
    let mut slots: Vec<Slot> = Vec::new();
    let mut latest: BTreeMap<AlertKey, usize> = BTreeMap::new();
    for alert in current {
        let slot = Slot {
            id: Some(alert.id.clone()),
            state: alert.state.clone(),
            events: Vec::new(),
        };
        match latest.get(&alert.state.key) {
            Some(&i) if !supersedes(&slot.state, &slots[i].state) => {}
            Some(&i) => slots[i] = slot,
            None => {
                latest.insert(alert.state.key.clone(), slots.len());
                slots.push(slot);
            }
        }
    }
    let mut order: Vec<&Signal> = signals.iter().filter(|s| s.value.is_finite()).collect();
    order.sort_by_key(|s| s.window_end_ms);
    let mut suppressed = Vec::new();
    for signal in order {
        for rule in rules.iter().filter(|r| r.signal.matches(&signal.name)) {
            let key = AlertKey {
                rule: rule.name.clone(),
                endpoint: signal.endpoint.clone(),
                signal: signal.name.clone(),
            };
            let at = signal.window_end_ms;
            let holds = rule.when.holds(signal.value);
            let previous = latest.get(&key).copied();
            match previous.map(|i| (i, slots[i].state.status)) {
                Some((i, AlertStatus::Open)) => {
                    let slot = &mut slots[i];
                    if at <= slot.state.last_seen_ms {
                        continue;
                    }
                    let kind = if holds {
                        slot.state.severity = rule.severity;
                        slot.state.condition = rule.when;
                        slot.state.last_seen_ms = at;
                        slot.state.observations += 1;
                        AlertEventKind::Updated
                    } else {
                        slot.state.status = AlertStatus::Resolved;
                        slot.state.resolved_ms = Some(at);
                        AlertEventKind::Resolved
                    };
                    observe(&mut slot.state, signal);
                    slot.events.push(event(kind, signal, None));
                }
                Some((i, AlertStatus::Resolved)) => {
                    let resolved = slots[i].state.resolved_ms.unwrap_or(i64::MIN);
                    if at <= resolved || !holds {
                        continue;
                    }
                    let until = resolved.saturating_add(rule.cooldown_ms);
                    if at < until {
                        suppressed.push(Suppressed {
                            key,
                            value: signal.value,
                            at_ms: at,
                            until_ms: until,
                        });
                        continue;
                    }
                    latest.insert(key.clone(), slots.len());
                    slots.push(open(key, rule, signal));
                }
                None if holds => {
                    latest.insert(key.clone(), slots.len());
                    slots.push(open(key, rule, signal));
                }
                None => {}
            }
        }
    }
    resolve_removed_rules(rules, signals, &mut slots);
    AlertPlan {
        writes: slots
            .into_iter()
            .filter(|s| !s.events.is_empty())
            .map(|s| AlertWrite {
                id: s.id,
                state: s.state,
                events: s.events,
            })
            .collect(),
        suppressed,
    }
}

/// Whether `candidate` is the better "latest alert" of its key than `held`.
fn supersedes(candidate: &AlertState, held: &AlertState) -> bool {
    match (candidate.status, held.status) {
        (AlertStatus::Open, AlertStatus::Resolved) => true,
        (AlertStatus::Resolved, AlertStatus::Open) => false,
        _ => candidate.opened_ms > held.opened_ms,
    }
}

fn observe(state: &mut AlertState, signal: &Signal) {
    state.value = signal.value;
    state.evidence = signal.evidence.clone();
    state.window_start_ms = signal.window_start_ms;
    state.window_end_ms = signal.window_end_ms;
}

fn event(kind: AlertEventKind, signal: &Signal, note: Option<String>) -> AlertEvent {
    AlertEvent {
        kind,
        at_ms: signal.window_end_ms,
        value: signal.value,
        window_start_ms: signal.window_start_ms,
        window_end_ms: signal.window_end_ms,
        evidence: signal.evidence.clone(),
        note,
    }
}

fn open(key: AlertKey, rule: &AlertRule, signal: &Signal) -> Slot {
    Slot {
        id: None,
        state: AlertState {
            key,
            severity: rule.severity,
            condition: rule.when,
            status: AlertStatus::Open,
            value: signal.value,
            evidence: signal.evidence.clone(),
            window_start_ms: signal.window_start_ms,
            window_end_ms: signal.window_end_ms,
            opened_ms: signal.window_end_ms,
            last_seen_ms: signal.window_end_ms,
            resolved_ms: None,
            observations: 1,
        },
        events: vec![event(AlertEventKind::Opened, signal, None)],
    }
}

/// Resolves the open alerts whose rule is gone, at the latest window end of their endpoint's
/// signals in the batch; an endpoint without signals is not being monitored now, so its alerts
/// are left for a batch that speaks about it.
fn resolve_removed_rules(rules: &[AlertRule], signals: &[Signal], slots: &mut [Slot]) {
    let names: BTreeSet<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    let mut newest: BTreeMap<&str, i64> = BTreeMap::new();
    for s in signals {
        let end = newest.entry(s.endpoint.as_str()).or_insert(s.window_end_ms);
        *end = (*end).max(s.window_end_ms);
    }
    for slot in slots.iter_mut() {
        let state = &mut slot.state;
        if state.status != AlertStatus::Open || names.contains(state.key.rule.as_str()) {
            continue;
        }
        let Some(&end) = newest.get(state.key.endpoint.as_str()) else {
            continue;
        };
        let at = end.max(state.last_seen_ms);
        state.status = AlertStatus::Resolved;
        state.resolved_ms = Some(at);
        slot.events.push(AlertEvent {
            kind: AlertEventKind::Resolved,
            at_ms: at,
            value: state.value,
            window_start_ms: state.window_start_ms,
            window_end_ms: state.window_end_ms,
            evidence: state.evidence.clone(),
            note: Some(RULE_REMOVED_NOTE.to_string()),
        });
    }
}

#[cfg(test)]
mod tests;
