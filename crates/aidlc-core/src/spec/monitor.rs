//! `[monitor]`: how often each deployment is monitored and over what window, the alert rules
//! (`[monitor.alerts.<name>]`) that turn monitoring signals into alerts, and the channels
//! (`[monitor.channels.<name>]`) alerts are sent to.
//!
//! ```toml
//! [monitor]
//! interval = "1h"                 # how often the monitors run (default 1h)
//! # schedule = "5 * * * *"        # or at these times (cron, UTC) instead of an interval
//! window = "1d"                   # how much of the prediction log each run reads (default 1d)
//! reference = "30d"               # the version's first predictions that prediction drift,
//!                                 # multivariate drift and CBPE compare with (default: one window)
//! method = "auto"                 # the drift method of every feature (default auto)
//!
//! [monitor.methods]               # per feature, overriding `method`
//! car_value = "wasserstein"
//! salary_range = "jensen_shannon_nannyml"
//!
//! [monitor.thresholds]            # per feature, overriding the method's default threshold
//! car_value = 5000                # raw Wasserstein is in the feature's units (euros here)
//!
//! [monitor.alerts.feature_drift]
//! signal = "drift.feature.*"      # an exact signal name, or a prefix ending in `*`
//! when = "> 0.3"                  # >, >=, < or <= and a number
//! severity = "warning"            # info, warning or critical (default warning)
//! cooldown = "6h"                 # after resolving, no new alert for this long (default 0s)
//!
//! [monitor.channels.ops]
//! kind = "slack"                  # webhook (generic JSON) or slack (incoming webhook)
//! url = "http://hooks.internal/T0/B0"
//! min_severity = "warning"        # only alerts at least this severe (default info)
//! ```
//!
//! Rules and channels are named tables rather than arrays of tables so that each has a stable
//! name: alerts record the rule that raised them, and delivery attempts the channel.
//!
//! Drift methods are the statistics crate's ([`DriftMethod`], the names of
//! `shared/specs/drift-methods.md`), so a name is checked when the file is read. Which
//! features exist is only known once the model serves, so the monitor checks the feature
//! names of `methods` and `thresholds` (and `check` does, against the data's columns).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use aidlc_stats::drift::{DecisionRule, DriftMethod};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::diagnostic::{DiagnosticCode, Severity};
use super::reader::{ReadSection, Reader, Section};
use super::validate::Findings;
use super::{GateOp, Keyword, LabelDelay, ProblemSpec};
use crate::cron::Cron;

/// How often the monitors run when `[monitor] interval` is not written: one hour.
pub const DEFAULT_MONITOR_INTERVAL: LabelDelay = LabelDelay { seconds: 3600 };
/// How much of the prediction log one run reads when `[monitor] window` is not written: a day.
pub const DEFAULT_MONITOR_WINDOW: LabelDelay = LabelDelay { seconds: 86_400 };

/// The signal families the monitors emit, as name prefixes: a name ending in `.` is followed
/// by a column or metric name. `check` warns about a rule whose pattern can match none of them.
pub const SIGNAL_FAMILIES: &[&str] = &[
    "drift.share",
    "drift.feature.",
    "prediction_drift",
    "performance.",
    "estimated.",
    "multivariate",
    "prediction_drift.label",
    "decay.",
    "concept.adwin",
    "concept.ddm",
];

keyword_enum! {
    /// How urgent an alert is; channels can ask for a minimum.
    AlertSeverity {
        /// Worth knowing; no action expected.
        Info => "info",
        /// Someone should look soon.
        Warning => "warning",
        /// Someone should act now.
        Critical => "critical",
    }
}

keyword_enum! {
    /// How a channel delivers alerts.
    ChannelKind {
        /// An HTTP POST of the generic JSON payload (`aidlc.alert.v1`).
        Webhook => "webhook",
        /// An HTTP POST of a Slack incoming-webhook message (`text` and `blocks`).
        Slack => "slack",
    }
}

/// Which signals a rule watches: an exact signal name, or a prefix followed by `*`
/// (`drift.feature.*` matches every feature's drift, `*` every signal). It serializes as its
/// text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SignalPattern {
    text: String,
}

impl SignalPattern {
    /// Reads a pattern. The error carries the reason and, where it can point, the 1-based
    /// character column inside the text.
    pub fn parse(text: &str) -> Result<SignalPattern, (String, Option<usize>)> {
        if let Some(at) = text.chars().position(char::is_whitespace) {
            return Err((
                "a signal name has no spaces, such as \"drift.share\" or \"drift.feature.*\""
                    .into(),
                Some(at + 1),
            ));
        }
        let stars: Vec<usize> = text
            .chars()
            .enumerate()
            .filter(|(_, c)| *c == '*')
            .map(|(i, _)| i)
            .collect();
        let length = text.chars().count();
        if let Some(&at) = stars.iter().find(|&&at| at + 1 != length) {
            return Err((
                "`*` may only end a pattern, as in \"drift.feature.*\"".into(),
                Some(at + 1),
            ));
        }
        Ok(SignalPattern {
            text: text.to_string(),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern ends in `*`.
    pub fn is_wildcard(&self) -> bool {
        self.text.ends_with('*')
    }

    /// Whether a signal of this name is watched.
    pub fn matches(&self, name: &str) -> bool {
        match self.text.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == self.text,
        }
    }

    /// Whether the pattern can match a signal some monitor emits ([`SIGNAL_FAMILIES`]).
    pub fn matches_a_known_family(&self) -> bool {
        SIGNAL_FAMILIES.iter().any(|family| {
            match (self.text.strip_suffix('*'), family.ends_with('.')) {
                (Some(prefix), _) => family.starts_with(prefix) || prefix.starts_with(family),
                (None, true) => self.text.len() > family.len() && self.text.starts_with(family),
                (None, false) => self.text == *family,
            }
        })
    }
}

impl fmt::Display for SignalPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for SignalPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for SignalPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SignalPattern, D::Error> {
        let text = String::deserialize(deserializer)?;
        SignalPattern::parse(&text).map_err(|(reason, _)| serde::de::Error::custom(reason))
    }
}

/// When a rule's alert fires: `<op> <threshold>`, such as `> 0.3`. It serializes as its text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertCondition {
    pub op: GateOp,
    pub threshold: f64,
}

impl AlertCondition {
    /// Reads a condition. The error carries the reason and, where it can point, the 1-based
    /// character column inside the text.
    pub fn parse(text: &str) -> Result<AlertCondition, (String, Option<usize>)> {
        let trimmed = text.trim_start();
        let lead = text.len() - trimmed.len();
        let (op, rest) = if let Some(rest) = trimmed.strip_prefix(">=") {
            (GateOp::Ge, rest)
        } else if let Some(rest) = trimmed.strip_prefix("<=") {
            (GateOp::Le, rest)
        } else if let Some(rest) = trimmed.strip_prefix('>') {
            (GateOp::Gt, rest)
        } else if let Some(rest) = trimmed.strip_prefix('<') {
            (GateOp::Lt, rest)
        } else {
            return Err((
                "a condition is a comparison and a number, such as \"> 0.3\" or \"<= 0.75\" \
                 (>, >=, < or <=)"
                    .into(),
                Some(lead + 1),
            ));
        };
        let number_column = text.len() - rest.trim_start().len() + 1;
        match rest.trim().parse::<f64>() {
            Ok(threshold) if threshold.is_finite() => Ok(AlertCondition { op, threshold }),
            _ => Err((
                format!(
                    "expected a finite number after `{}`, found `{}`",
                    op.symbol(),
                    rest.trim()
                ),
                Some(number_column),
            )),
        }
    }

    /// Whether `value` meets the condition. NaN never does.
    pub fn holds(&self, value: f64) -> bool {
        self.op.holds(value, self.threshold)
    }
}

impl fmt::Display for AlertCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.op.symbol(), self.threshold)
    }
}

impl FromStr for AlertCondition {
    type Err = String;

    fn from_str(text: &str) -> Result<AlertCondition, String> {
        AlertCondition::parse(text).map_err(|(reason, _)| reason)
    }
}

impl Serialize for AlertCondition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AlertCondition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<AlertCondition, D::Error> {
        let text = String::deserialize(deserializer)?;
        AlertCondition::parse(&text).map_err(|(reason, _)| serde::de::Error::custom(reason))
    }
}

/// A feature's drift method as `[monitor]` names it: `auto` (Evidently's choice from the
/// column's kind and size) or one of the statistics crate's methods. It serializes as its
/// name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MonitorMethod {
    #[default]
    Auto,
    Method(DriftMethod),
}

impl MonitorMethod {
    /// Reads `auto` or a method name the statistics crate accepts (its canonical names, such
    /// as `wasserstein` or `chisquare`, and the common spellings it also takes).
    pub fn parse(text: &str) -> Result<MonitorMethod, (String, Option<usize>)> {
        if text.trim().eq_ignore_ascii_case("auto") {
            return Ok(MonitorMethod::Auto);
        }
        text.parse::<DriftMethod>()
            .map(MonitorMethod::Method)
            .map_err(|_| {
                (
                    format!("unknown drift method: expected {}", Self::expected()),
                    None,
                )
            })
    }

    /// "`auto` or one of `ks`, `wasserstein`, …", for messages.
    pub fn expected() -> String {
        let names: Vec<String> = DriftMethod::ALL
            .iter()
            .map(|m| format!("`{}`", m.name()))
            .collect();
        format!("`auto` or one of {}", names.join(", "))
    }

    /// The method's name, or `auto`.
    pub fn name(self) -> &'static str {
        match self {
            MonitorMethod::Auto => "auto",
            MonitorMethod::Method(m) => m.name(),
        }
    }

    /// The named method; `None` for `auto`.
    pub fn method(self) -> Option<DriftMethod> {
        match self {
            MonitorMethod::Auto => None,
            MonitorMethod::Method(m) => Some(m),
        }
    }
}

impl fmt::Display for MonitorMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for MonitorMethod {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for MonitorMethod {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<MonitorMethod, D::Error> {
        let text = String::deserialize(deserializer)?;
        MonitorMethod::parse(&text).map_err(|(reason, _)| serde::de::Error::custom(reason))
    }
}

/// Why `threshold` cannot be the threshold of `method`, if it cannot: a p-value test compares
/// a p-value, so its threshold lies strictly between 0 and 1; a distance's is above 0 (its
/// upper end depends on the distance, raw Wasserstein being in the feature's own units).
pub fn threshold_problem(method: DriftMethod, threshold: f64) -> Option<String> {
    if method.rule() == DecisionRule::ScoreAtLeast {
        (threshold <= 0.0).then(|| {
            format!(
                "`{}` is a distance (drift when it is at least the threshold): expected a \
                 threshold above 0",
                method.name()
            )
        })
    } else {
        (threshold <= 0.0 || threshold >= 1.0).then(|| {
            format!(
                "`{}` is a test (drift when its p-value is below the threshold): expected a \
                 p-value threshold between 0 and 1",
                method.name()
            )
        })
    }
}

/// `[monitor]`. The monitors' own settings (methods, schedules) join this struct as they land.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MonitorSpec {
    /// How often the monitors run; [`DEFAULT_MONITOR_INTERVAL`] when neither this nor
    /// `schedule` is written.
    pub interval: Option<LabelDelay>,
    /// When the monitors run (cron, UTC), instead of every `interval`.
    pub schedule: Option<Cron>,
    /// How much of the prediction log one run reads; [`DEFAULT_MONITOR_WINDOW`] when not written.
    pub window: Option<LabelDelay>,
    /// How long the reference window is: the span of the serving version's first predictions
    /// that prediction drift, multivariate drift and CBPE compare each window with; one
    /// `window` when not written. CBPE needs at least 100 labelled predictions in it.
    pub reference: Option<LabelDelay>,
    /// The drift method for every feature: `auto` (Evidently's choice per feature, the default)
    /// or a method of the statistics crate (`ks`, `psi`, `wasserstein`, …).
    pub method: Option<MonitorMethod>,
    /// `[monitor.methods]`: feature → its drift method, overriding `method`.
    pub methods: BTreeMap<String, MonitorMethod>,
    /// `[monitor.thresholds]`: feature → the threshold its method compares with, instead of
    /// the method's default. Only for a feature whose method is named (not `auto`), because
    /// `auto` picks a p-value test or a distance depending on the data.
    pub thresholds: BTreeMap<String, f64>,
    /// `[monitor.alerts.<name>]`: rule name → rule.
    pub alerts: BTreeMap<String, AlertRuleSection>,
    /// `[monitor.channels.<name>]`: channel name → channel.
    pub channels: BTreeMap<String, ChannelSection>,
}

/// `[monitor.alerts.<name>]` as written; [`MonitorSpec::rules`] gives the complete ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertRuleSection {
    /// The signal name, or a prefix ending in `*`.
    pub signal: Option<SignalPattern>,
    /// When the alert fires, such as `> 0.3`.
    pub when: Option<AlertCondition>,
    /// Warning when not written.
    pub severity: Option<AlertSeverity>,
    /// After an alert of this rule resolves, no new one opens for the same endpoint and signal
    /// for this long; none when not written.
    pub cooldown: Option<LabelDelay>,
}

/// `[monitor.channels.<name>]` as written; [`MonitorSpec::channel_list`] gives the complete ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelSection {
    pub kind: Option<ChannelKind>,
    /// Where to POST: an `http://` URL (https is not supported yet).
    pub url: Option<String>,
    /// Only alerts at least this severe are sent; every alert when not written.
    pub min_severity: Option<AlertSeverity>,
}

/// A complete alert rule, what the alert state machine evaluates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRule {
    pub name: String,
    pub signal: SignalPattern,
    pub when: AlertCondition,
    pub severity: AlertSeverity,
    /// Milliseconds after a resolution during which the rule does not fire again for the same
    /// endpoint and signal.
    pub cooldown_ms: i64,
}

/// A complete channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub name: String,
    pub kind: ChannelKind,
    pub url: String,
    pub min_severity: AlertSeverity,
}

impl Channel {
    /// Whether an alert of this severity goes to the channel.
    pub fn accepts(&self, severity: AlertSeverity) -> bool {
        severity >= self.min_severity
    }
}

impl MonitorSpec {
    /// The interval, with the default.
    pub fn interval_or_default(&self) -> LabelDelay {
        self.interval.unwrap_or(DEFAULT_MONITOR_INTERVAL)
    }

    /// The window, with the default.
    pub fn window_or_default(&self) -> LabelDelay {
        self.window.unwrap_or(DEFAULT_MONITOR_WINDOW)
    }

    /// The drift method of `feature`: its `[monitor.methods]` entry, else `method`, else
    /// `auto`.
    pub fn method_for(&self, feature: &str) -> MonitorMethod {
        self.methods
            .get(feature)
            .copied()
            .or(self.method)
            .unwrap_or_default()
    }

    /// The threshold `[monitor.thresholds]` sets for `feature`; `None`: the method's default.
    pub fn threshold_for(&self, feature: &str) -> Option<f64> {
        self.thresholds.get(feature).copied()
    }

    /// The features `[monitor.methods]` and `[monitor.thresholds]` name, with the key naming
    /// each (`monitor.methods.<feature>`), so the monitor can report one the model lacks.
    pub fn named_features(&self) -> Vec<(String, &str)> {
        let methods = self
            .methods
            .keys()
            .map(|f| (format!("monitor.methods.{f}"), f.as_str()));
        let thresholds = self
            .thresholds
            .keys()
            .map(|f| (format!("monitor.thresholds.{f}"), f.as_str()));
        methods.chain(thresholds).collect()
    }

    /// The complete rules, by name, with defaults filled in. A rule without `signal` or `when`
    /// is left out: `check` reports it, and an unfinished rule must not raise alerts.
    pub fn rules(&self) -> Vec<AlertRule> {
        self.alerts
            .iter()
            .filter_map(|(name, r)| {
                Some(AlertRule {
                    name: name.clone(),
                    signal: r.signal.clone()?,
                    when: r.when?,
                    severity: r.severity.unwrap_or(AlertSeverity::Warning),
                    cooldown_ms: r.cooldown.map_or(0, |c| {
                        i64::try_from(c.seconds.saturating_mul(1000)).unwrap_or(i64::MAX)
                    }),
                })
            })
            .collect()
    }

    /// The complete channels, by name, with defaults filled in; incomplete ones (which `check`
    /// reports) are left out.
    pub fn channel_list(&self) -> Vec<Channel> {
        self.channels
            .iter()
            .filter_map(|(name, c)| {
                let url = c.url.clone()?;
                if url_problem(&url).is_some() {
                    return None;
                }
                Some(Channel {
                    name: name.clone(),
                    kind: c.kind?,
                    url,
                    min_severity: c.min_severity.unwrap_or(AlertSeverity::Info),
                })
            })
            .collect()
    }
}

const DURATION_EXPECTED: &str = "a duration such as \"1h\", \"30m\" or \"1d\"";

fn duration(text: &str) -> Result<LabelDelay, (String, Option<usize>)> {
    LabelDelay::parse(text).map_err(|reason| (reason, None))
}

impl ReadSection for MonitorSpec {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        let spec = MonitorSpec {
            interval: r.parsed(s, "interval", DURATION_EXPECTED, duration),
            schedule: r.parsed(
                s,
                "schedule",
                "a cron schedule such as \"5 * * * *\" (minute hour day month weekday, UTC)",
                |t| Cron::parse(t).map_err(|e| (e, None)),
            ),
            window: r.parsed(s, "window", DURATION_EXPECTED, duration),
            reference: r.parsed(s, "reference", DURATION_EXPECTED, duration),
            method: r.parsed(
                s,
                "method",
                &MonitorMethod::expected(),
                MonitorMethod::parse,
            ),
            methods: r.parsed_map(
                s,
                "methods",
                "a drift method such as \"wasserstein\"",
                MonitorMethod::parse,
            ),
            thresholds: r.number_map(s, "thresholds"),
            alerts: r.section_map(
                s,
                "alerts",
                "an alert rule: signal, when, severity, cooldown",
            ),
            channels: r.section_map(s, "channels", "a channel: kind, url, min_severity"),
        };
        // A threshold means something only for a known method: a p-value for a test, a
        // distance otherwise. Both are read by now, so the pair is checked with the file.
        for (feature, &threshold) in &spec.thresholds {
            let key = format!("monitor.thresholds.{feature}");
            let problem = match spec.method_for(feature).method() {
                None => Some(format!(
                    "`{key}` needs a named method for `{feature}`: with `auto` the method, and \
                     so whether the threshold is a p-value or a distance, depends on the data; \
                     set `monitor.methods.{feature}` (or `monitor.method`) to {}",
                    MonitorMethod::expected().trim_start_matches("`auto` or ")
                )),
                Some(method) => threshold_problem(method, threshold)
                    .map(|reason| format!("`{key}` = {threshold}: {reason}")),
            };
            if let Some(message) = problem {
                let position = r.places.position(&key);
                r.report(
                    &key,
                    position,
                    Severity::Error,
                    DiagnosticCode::InvalidValue,
                    message,
                );
            }
        }
        spec
    }
}

impl ReadSection for AlertRuleSection {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        AlertRuleSection {
            signal: r.parsed(
                s,
                "signal",
                "a signal name such as \"drift.share\" or \"drift.feature.*\"",
                SignalPattern::parse,
            ),
            when: r.parsed(
                s,
                "when",
                "a condition such as \"> 0.3\"",
                AlertCondition::parse,
            ),
            severity: r.keyword(s, "severity"),
            cooldown: r.parsed(s, "cooldown", DURATION_EXPECTED, duration),
        }
    }
}

impl ReadSection for ChannelSection {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        ChannelSection {
            kind: r.keyword(s, "kind"),
            url: r.text(s, "url"),
            min_severity: r.keyword(s, "min_severity"),
        }
    }
}

/// Why a channel URL cannot be used, if it cannot.
fn url_problem(url: &str) -> Option<String> {
    if url.starts_with("https://") {
        return Some(
            "https is not supported yet: aidlc sends alerts over plain http; point the channel \
             at an http:// relay"
                .into(),
        );
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Some("expected an http:// URL".into());
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.ends_with(':') {
        return Some("the URL has no host".into());
    }
    None
}

/// The content rules of `[monitor]`: positive durations, complete rules and channels, usable
/// URLs, and patterns that can match a signal the monitors emit.
pub(super) fn validate(spec: &ProblemSpec, f: &mut Findings<'_>) {
    let m = &spec.monitor;
    if m.interval.is_some() && m.schedule.is_some() {
        f.error(
            "monitor.schedule",
            DiagnosticCode::BadValue,
            "set `monitor.interval` or `monitor.schedule`, not both: the monitors run either every interval or at the scheduled times".to_string(),
        );
    }
    for (key, value) in [
        ("monitor.interval", m.interval),
        ("monitor.window", m.window),
        ("monitor.reference", m.reference),
    ] {
        if value.is_some_and(|d| d.seconds == 0) {
            f.error(
                key,
                DiagnosticCode::BadValue,
                format!("`{key}` must be longer than 0s"),
            );
        }
    }
    for (name, rule) in &m.alerts {
        let key = format!("monitor.alerts.{name}");
        f.require(
            &format!("{key}.signal"),
            &rule.signal,
            "the signal it watches, such as \"drift.share\" or \"drift.feature.*\"",
        );
        f.require(
            &format!("{key}.when"),
            &rule.when,
            "when it fires, such as \"> 0.3\"",
        );
        if let Some(signal) = &rule.signal
            && !signal.matches_a_known_family()
        {
            f.push(
                &format!("{key}.signal"),
                Severity::Warning,
                DiagnosticCode::BadValue,
                format!(
                    "alert `{name}`: `{signal}` matches no signal the monitors emit ({})",
                    SIGNAL_FAMILIES
                        .iter()
                        .map(|s| if s.ends_with('.') {
                            format!("{s}<name>")
                        } else {
                            s.to_string()
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }
    for (name, channel) in &m.channels {
        let key = format!("monitor.channels.{name}");
        f.require(
            &format!("{key}.kind"),
            &channel.kind,
            &format!("how alerts are sent, {}", ChannelKind::expected()),
        );
        f.require(
            &format!("{key}.url"),
            &channel.url,
            "where alerts are sent, an http:// URL",
        );
        if let Some(url) = &channel.url
            && let Some(problem) = url_problem(url)
        {
            f.error(
                &format!("{key}.url"),
                DiagnosticCode::BadValue,
                format!("`{key}.url` = {url:?}: {problem}"),
            );
        }
    }
}
