//! The content rules of `aidlc.toml`: what a complete framing contract must say, and which
//! values contradict each other, the task, or the data.

use super::diagnostic::{Diagnostic, DiagnosticCode, Severity};
use super::reader::Places;
use super::{BaselineKind, Keyword, Metric, ProblemSpec, SplitKind, Task};

/// Collects the content findings, with positions from `places`.
pub(super) struct Findings<'p> {
    places: &'p Places,
    diagnostics: Vec<Diagnostic>,
}

impl Findings<'_> {
    pub(super) fn push(
        &mut self,
        key: &str,
        severity: Severity,
        code: DiagnosticCode,
        message: String,
    ) {
        let position = self.places.position(key);
        self.diagnostics.push(Diagnostic {
            key: key.to_string(),
            line: position.map(|p| p.0),
            column: position.map(|p| p.1),
            severity,
            code,
            message,
        });
    }

    pub(super) fn error(&mut self, key: &str, code: DiagnosticCode, message: String) {
        self.push(key, Severity::Error, code, message);
    }

    /// Reports a required key that is not written. A placeholder `""` was already reported by
    /// the reader, so it is not reported twice.
    pub(super) fn require<T>(&mut self, key: &str, value: &Option<T>, what: &str) {
        if value.is_none() && !self.places.is_placeholder(key) && !self.places.present(key) {
            self.error(
                key,
                DiagnosticCode::Missing,
                format!("missing `{key}`: {what}"),
            );
        }
    }

    /// Reports a required section that is not written; returns whether its contents can be
    /// checked. A section of the wrong type was reported by the reader, and listing every key
    /// it lacks would only repeat that.
    fn require_section(&mut self, key: &str, what: &str) -> bool {
        let present = self.places.present(key);
        if self.places.is_broken(key) {
            return false;
        }
        if !present {
            self.error(
                key,
                DiagnosticCode::Missing,
                format!("missing [{key}] section: {what}"),
            );
        }
        present
    }
}

/// Runs every content rule. `data_columns`, when given, is the header of the data.
pub(crate) fn validate(
    spec: &ProblemSpec,
    places: &Places,
    data_columns: Option<&[String]>,
) -> Vec<Diagnostic> {
    let mut findings = Findings {
        places,
        diagnostics: Vec::new(),
    };
    let task = spec.problem.task;
    problem(spec, &mut findings);
    constraints(spec, &mut findings);
    baseline(spec, task, &mut findings);
    business(spec, task, &mut findings);
    data_and_store(spec, &mut findings);
    split(spec, &mut findings);
    for (key, message) in super::train::problems(&spec.train, task) {
        findings.error(key, DiagnosticCode::BadValue, message);
    }
    super::evaluate::validate(spec, &mut findings);
    for (key, message) in super::deploy::problems(&spec.deploy) {
        findings.error(key, DiagnosticCode::BadValue, message);
    }
    for (key, message) in super::iterate::problems(spec) {
        findings.error(key, DiagnosticCode::BadValue, message);
    }
    for message in super::iterate::unknown_triggers(spec) {
        findings.push(
            "iterate.triggers",
            Severity::Warning,
            DiagnosticCode::BadValue,
            message,
        );
    }
    super::monitor::validate(spec, &mut findings);
    if let Some(columns) = data_columns {
        columns_exist(spec, columns, &mut findings);
    }
    findings.diagnostics
}

fn problem(spec: &ProblemSpec, f: &mut Findings<'_>) {
    if !f.require_section(
        "problem",
        "say what is predicted (name, task), the business outcome and the label",
    ) {
        return;
    }
    let p = &spec.problem;
    f.require("problem.name", &p.name, "a short name for the problem");
    f.require(
        "problem.task",
        &p.task,
        &format!("the kind of prediction, {}", Task::expected()),
    );

    if f.require_section(
        "problem.outcome",
        "the business metric the model should move (metric, direction, target)",
    ) {
        let o = &p.outcome;
        f.require(
            "problem.outcome.metric",
            &o.metric,
            "the business metric in words, such as \"rain days correctly warned\"",
        );
        f.require(
            "problem.outcome.direction",
            &o.direction,
            "`maximize` or `minimize`",
        );
        f.require(
            "problem.outcome.target",
            &o.target,
            "the outcome needs a target number that counts as success",
        );
    }

    if f.require_section(
        "problem.label",
        "the column to predict and how long its truth takes to arrive",
    ) {
        let l = &p.label;
        f.require("problem.label.column", &l.column, "the label column");
        f.require(
            "problem.label.delay",
            &l.delay,
            "how long after a prediction the label is known, such as \"1d\" or \"90d\"",
        );
        match p.task {
            Some(task) if task.is_classification() => f.require(
                "problem.label.positive",
                &l.positive,
                "the positive class in words, such as \"it rains on that day\"",
            ),
            Some(Task::Regression) => {
                for (key, present) in [
                    ("problem.label.positive", l.positive.is_some()),
                    ("problem.label.positive_value", l.positive_value.is_some()),
                ] {
                    if present {
                        f.error(
                            key,
                            DiagnosticCode::Inconsistent,
                            format!(
                                "`{key}` applies to classification, but the task is regression"
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    // One column cannot play two roles: a label that is also the time or entity column would be
    // known at prediction time, and an entity that is also the time makes no sense.
    let label = p.label.column.as_deref();
    for (key, role, column) in [
        ("problem.entity", "entity", p.entity.as_deref()),
        ("problem.time", "time", p.time.as_deref()),
    ] {
        if column.is_some() && column == label {
            f.error(
                key,
                DiagnosticCode::Inconsistent,
                format!(
                    "the {role} column `{}` is also the label column",
                    column.unwrap_or_default()
                ),
            );
        }
    }
    if p.entity.is_some() && p.entity == p.time {
        f.error(
            "problem.time",
            DiagnosticCode::Inconsistent,
            format!(
                "`{}` is both the entity and the time column",
                p.time.as_deref().unwrap_or_default()
            ),
        );
    }
}

fn constraints(spec: &ProblemSpec, f: &mut Findings<'_>) {
    if !f.places.present("constraints") {
        f.push(
            "constraints",
            Severity::Warning,
            DiagnosticCode::Missing,
            "no [constraints] section: nothing will stop a model that is too slow, too large or \
             too costly to serve"
                .to_string(),
        );
        return;
    }
    let c = &spec.constraints;
    for (key, value, allow_zero, unit) in [
        (
            "constraints.p99_latency_ms",
            c.p99_latency_ms,
            false,
            "milliseconds",
        ),
        (
            "constraints.max_model_size_mb",
            c.max_model_size_mb,
            false,
            "megabytes",
        ),
        (
            "constraints.cost_per_1k_predictions",
            c.cost_per_1k_predictions,
            true,
            "currency units",
        ),
    ] {
        let Some(value) = value else { continue };
        let bad = if allow_zero {
            value < 0.0
        } else {
            value <= 0.0
        };
        if bad {
            let bound = if allow_zero {
                "zero or more"
            } else {
                "more than zero"
            };
            f.error(
                key,
                DiagnosticCode::BadValue,
                format!("`{key}` = {value} is invalid: it must be {bound} {unit}"),
            );
        }
    }
}

fn baseline(spec: &ProblemSpec, task: Option<Task>, f: &mut Findings<'_>) {
    if !f.require_section(
        "baseline",
        "every model is judged against a baseline; for example kind = \"prior\" with \
         metric = \"roc_auc\"",
    ) {
        return;
    }
    let b = &spec.baseline;
    f.require(
        "baseline.kind",
        &b.kind,
        &format!("the kind of baseline, {}", BaselineKind::expected()),
    );
    f.require(
        "baseline.metric",
        &b.metric,
        "the primary metric models are compared on",
    );

    if let (Some(kind), Some(task)) = (b.kind, task)
        && !kind.fits(task)
    {
        let fitting: Vec<&str> = BaselineKind::ALL
            .iter()
            .filter(|k| k.fits(task))
            .map(|k| k.as_str())
            .collect();
        f.error(
            "baseline.kind",
            DiagnosticCode::Inconsistent,
            format!(
                "baseline kind `{kind}` does not fit the task `{task}`; use one of {}",
                fitting.join(", ")
            ),
        );
    }
    if let (Some(metric), Some(task)) = (b.metric, task)
        && !metric.fits(task)
    {
        let fitting: Vec<&str> = Metric::for_task(task).iter().map(|m| m.as_str()).collect();
        f.error(
            "baseline.metric",
            DiagnosticCode::Inconsistent,
            format!(
                "metric `{metric}` does not fit the task `{task}`; use one of {}",
                fitting.join(", ")
            ),
        );
    }

    let rule_written = b.rule.is_some() || f.places.present("baseline.rule");
    let model_written = b.model.is_some() || f.places.present("baseline.model");
    match b.kind {
        Some(BaselineKind::Rule) => f.require(
            "baseline.rule",
            &b.rule,
            "kind = \"rule\" needs a rule, an expression such as \"visibility < -0.5\"",
        ),
        Some(BaselineKind::Model) => f.require(
            "baseline.model",
            &b.model,
            "kind = \"model\" needs the path or URI of the model",
        ),
        _ => {}
    }
    if let Some(kind) = b.kind {
        for (key, written, wanted) in [
            ("baseline.rule", rule_written, BaselineKind::Rule),
            ("baseline.model", model_written, BaselineKind::Model),
        ] {
            if written && kind != wanted {
                f.error(
                    key,
                    DiagnosticCode::Inconsistent,
                    format!(
                        "`{key}` is only used with kind = \"{wanted}\", but kind is \"{kind}\""
                    ),
                );
            }
        }
    }

    // A rule that reads the label would score perfectly on history and be useless in
    // production, where the label is not yet known.
    if let (Some(rule), Some(label)) = (&b.rule, &spec.problem.label.column)
        && rule.columns().contains(label)
    {
        f.error(
            "baseline.rule",
            DiagnosticCode::Inconsistent,
            format!(
                "the rule reads the label column `{label}`, which is unknown at prediction time"
            ),
        );
    }
}

fn business(spec: &ProblemSpec, task: Option<Task>, f: &mut Findings<'_>) {
    let Some(task) = task else {
        // Which values are needed depends on the task; the missing task is reported already.
        return;
    };
    let b = &spec.business;
    let confusion = [
        (
            "business.tp",
            b.true_positive,
            "a correctly predicted positive",
        ),
        (
            "business.fp",
            b.false_positive,
            "a negative predicted as positive",
        ),
        (
            "business.fn",
            b.false_negative,
            "a positive predicted as negative",
        ),
        (
            "business.tn",
            b.true_negative,
            "a correctly predicted negative",
        ),
    ];
    let (needed, unused): (Vec<&str>, Vec<&str>) = if task.is_classification() {
        (
            confusion.iter().map(|c| c.0).collect(),
            vec!["business.cost_per_unit_error"],
        )
    } else {
        (
            vec!["business.cost_per_unit_error"],
            confusion.iter().map(|c| c.0).collect(),
        )
    };
    let short: Vec<&str> = needed.iter().map(|k| &k["business.".len()..]).collect();
    if !f.require_section(
        "business",
        &format!(
            "{task} needs the value of each outcome: {}",
            short.join(", ")
        ),
    ) {
        return;
    }
    if task.is_classification() {
        for (key, value, meaning) in confusion {
            f.require(
                key,
                &value,
                &format!(
                    "{task} needs the value of {meaning} (a gain is positive, a cost negative)"
                ),
            );
        }
        let values: Vec<f64> = confusion.iter().filter_map(|c| c.1).collect();
        if values.len() == 4 && values.iter().all(|v| *v == values[0]) {
            f.push(
                "business",
                Severity::Warning,
                DiagnosticCode::BadValue,
                "tp, fp, fn and tn are all equal, so no model can change the business value"
                    .to_string(),
            );
        }
    } else {
        f.require(
            "business.cost_per_unit_error",
            &b.cost_per_unit_error,
            "regression needs the cost of one unit of error",
        );
        if let Some(cost) = b.cost_per_unit_error
            && cost < 0.0
        {
            f.error(
                "business.cost_per_unit_error",
                DiagnosticCode::BadValue,
                format!(
                    "`business.cost_per_unit_error` = {cost} is invalid: a cost is zero or more"
                ),
            );
        }
    }
    for key in unused {
        if f.places.present(key) && !f.places.is_placeholder(key) {
            f.error(
                key,
                DiagnosticCode::Inconsistent,
                format!("`{key}` does not apply to the task `{task}`"),
            );
        }
    }
}

fn data_and_store(spec: &ProblemSpec, f: &mut Findings<'_>) {
    if let Some(source) = &spec.data.source
        && (source.starts_with('/') || source.get(1..3) == Some(":\\"))
    {
        f.push(
            "data.source",
            Severity::Warning,
            DiagnosticCode::BadValue,
            format!(
                "`data.source` = \"{source}\" is an absolute path; a path relative to the project \
                 folder keeps the project movable"
            ),
        );
    }
    let label = spec.problem.label.column.as_ref();
    if let Some(label) = label
        && spec.data.exclude.contains(label)
    {
        f.error(
            "data.exclude",
            DiagnosticCode::Inconsistent,
            format!("the label column `{label}` is in `data.exclude`; the label is never a feature anyway"),
        );
    }
    expectations(spec, f);
    if let Some(url) = &spec.store.url
        && let Some((scheme, _)) = url.split_once("://")
        && !matches!(scheme, "postgres" | "postgresql" | "sqlite")
    {
        f.error(
            "store.url",
            DiagnosticCode::BadValue,
            format!(
                "`store.url` uses the scheme `{scheme}://`; use a SQLite file path or a \
                 postgres:// URL"
            ),
        );
    }
}

/// `[data.expectations]`: shares between 0 and 1, patterns that compile, freshness complete.
fn expectations(spec: &ProblemSpec, f: &mut Findings<'_>) {
    let e = &spec.data.expectations;
    if let Some(share) = e.max_missing_share
        && !(0.0..=1.0).contains(&share)
    {
        f.error(
            "data.expectations.max_missing_share",
            DiagnosticCode::BadValue,
            format!("`data.expectations.max_missing_share` = {share} must be between 0 and 1"),
        );
    }
    if let Some(rows) = e.rows
        && rows.low < 0.0
    {
        f.error(
            "data.expectations.rows",
            DiagnosticCode::BadValue,
            "`data.expectations.rows` cannot have a negative lower bound".to_string(),
        );
    }
    for (column, pattern) in &e.pattern {
        if let Err(error) = regex::Regex::new(pattern) {
            let key = format!("data.expectations.pattern.{column}");
            let first_line = error.to_string();
            let reason = first_line.lines().last().unwrap_or("").trim().to_string();
            f.error(
                &key,
                DiagnosticCode::InvalidValue,
                format!("`{key}` is not a valid regular expression: {reason}"),
            );
        }
    }
    match (&e.freshness_column, &e.max_age) {
        (Some(_), None) => f.error(
            "data.expectations.freshness_column",
            DiagnosticCode::Missing,
            "`data.expectations.freshness_column` needs `max_age` (such as \"30d\")".to_string(),
        ),
        (None, Some(_)) => f.error(
            "data.expectations.max_age",
            DiagnosticCode::Missing,
            "`data.expectations.max_age` needs `freshness_column` (the timestamp column)"
                .to_string(),
        ),
        _ => {}
    }
}

/// Names every column the contract mentions that the data does not have.
fn columns_exist(spec: &ProblemSpec, data_columns: &[String], f: &mut Findings<'_>) {
    let mut references: Vec<(String, String, &str)> = Vec::new();
    let p = &spec.problem;
    if let Some(c) = &p.label.column {
        references.push(("problem.label.column".into(), c.clone(), "label column"));
    }
    if let Some(c) = &p.entity {
        references.push(("problem.entity".into(), c.clone(), "entity column"));
    }
    if let Some(c) = &p.time {
        references.push(("problem.time".into(), c.clone(), "time column"));
    }
    if let Some(rule) = &spec.baseline.rule {
        for c in rule.columns() {
            references.push(("baseline.rule".into(), c, "baseline rule column"));
        }
    }
    for (i, slice) in spec.evaluate.slices.iter().enumerate() {
        for c in slice.columns() {
            references.push((format!("evaluate.slices[{i}]"), c, "slice column"));
        }
    }
    for c in spec.data.columns.keys() {
        references.push((
            format!("data.columns.{c}"),
            c.clone(),
            "column in [data.columns]",
        ));
    }
    for c in &spec.data.exclude {
        references.push(("data.exclude".into(), c.clone(), "excluded column"));
    }
    let e = &spec.data.expectations;
    for (key, columns) in [("not_null", &e.not_null), ("unique", &e.unique)] {
        for c in columns {
            references.push((
                format!("data.expectations.{key}"),
                c.clone(),
                "expectation column",
            ));
        }
    }
    let keyed = [
        ("range", e.range.keys().collect::<Vec<_>>()),
        ("in_set", e.in_set.keys().collect()),
        ("pattern", e.pattern.keys().collect()),
        ("mean", e.mean.keys().collect()),
    ];
    for (key, columns) in keyed {
        for c in columns {
            references.push((
                format!("data.expectations.{key}.{c}"),
                c.clone(),
                "expectation column",
            ));
        }
    }
    if let Some(c) = &e.freshness_column {
        references.push((
            "data.expectations.freshness_column".into(),
            c.clone(),
            "freshness column",
        ));
    }
    for (key, feature) in spec.monitor.named_features() {
        references.push((key, feature.to_string(), "monitored feature"));
    }
    for (key, column, role) in references {
        if !data_columns.contains(&column) {
            f.error(
                &key,
                DiagnosticCode::UnknownColumn,
                format!(
                    "{role} `{column}` is not in the data; its columns are {}",
                    list_columns(data_columns)
                ),
            );
        }
    }
}

/// The data's columns for a message, cut after a dozen so a wide table does not flood it.
fn list_columns(columns: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut text: Vec<String> = columns
        .iter()
        .take(SHOWN)
        .map(|c| format!("`{c}`"))
        .collect();
    if columns.len() > SHOWN {
        text.push(format!("and {} more", columns.len() - SHOWN));
    }
    if text.is_empty() {
        "none".to_string()
    } else {
        text.join(", ")
    }
}

/// `[split]` is optional; when written it must say its kind, and the columns its kind needs
/// must be named in `[problem]`.
fn split(spec: &ProblemSpec, f: &mut Findings<'_>) {
    if !f.places.present("split") || f.places.is_broken("split") {
        return;
    }
    let s = &spec.split;
    f.require(
        "split.kind",
        &s.kind,
        &format!("how rows are split, {}", SplitKind::expected()),
    );
    let fractions = [
        ("split.train", s.train),
        ("split.valid", s.valid),
        ("split.test", s.test),
    ];
    for (key, value) in fractions {
        if let Some(v) = value
            && !(0.0..=1.0).contains(&v)
        {
            f.error(
                key,
                DiagnosticCode::BadValue,
                format!("`{key}` = {v} must be between 0 and 1"),
            );
        }
    }
    if fractions.iter().any(|(_, v)| v.is_some()) {
        let train = s.train.unwrap_or(0.0);
        let valid = s.valid.unwrap_or(0.0);
        let test = s.test.unwrap_or(0.0);
        let sum = train + valid + test;
        if (sum - 1.0).abs() > 1e-6 {
            f.error(
                "split",
                DiagnosticCode::Inconsistent,
                format!("split.train + split.valid + split.test must be 1, not {sum}"),
            );
        }
        if train <= 0.0 || test <= 0.0 {
            f.error(
                "split",
                DiagnosticCode::Inconsistent,
                "split.train and split.test must both be positive".to_string(),
            );
        }
    }
    if let Some(seed) = s.seed
        && (seed < 0.0 || seed.fract() != 0.0 || seed > u64::MAX as f64)
    {
        f.error(
            "split.seed",
            DiagnosticCode::BadValue,
            format!("`split.seed` = {seed} must be a whole number >= 0"),
        );
    }
    let Some(kind) = s.kind else {
        return;
    };
    if kind.needs_entity() && spec.problem.entity.is_none() {
        f.error(
            "split.kind",
            DiagnosticCode::Inconsistent,
            format!(
                "a `{kind}` split needs `problem.entity`, the column that identifies an entity"
            ),
        );
    }
    if kind.needs_time() && spec.problem.time.is_none() {
        f.error(
            "split.kind",
            DiagnosticCode::Inconsistent,
            format!("a `{kind}` split needs `problem.time`, the column holding each row's time"),
        );
    }
    if kind == SplitKind::Stratified && spec.problem.label.column.is_none() {
        f.error(
            "split.kind",
            DiagnosticCode::Inconsistent,
            "a `stratified` split needs `problem.label.column`".to_string(),
        );
    }
    let temporal_only = [
        ("split.valid_start", s.valid_start.is_some()),
        ("split.test_start", s.test_start.is_some()),
        ("split.gap", s.gap.is_some()),
    ];
    for (key, written) in temporal_only {
        if written && !kind.needs_time() {
            f.push(
                key,
                Severity::Warning,
                DiagnosticCode::Inconsistent,
                format!("`{key}` only applies to temporal splits; a `{kind}` split ignores it"),
            );
        }
    }
    if s.valid_start.is_some() != s.test_start.is_some() && kind.needs_time() {
        f.error(
            "split",
            DiagnosticCode::Inconsistent,
            "give both `split.valid_start` and `split.test_start`, or neither".to_string(),
        );
    }
    if let (Some(gap), Some(delay)) = (s.gap, spec.problem.label.delay)
        && kind.needs_time()
        && gap < delay
    {
        f.push(
            "split.gap",
            Severity::Warning,
            DiagnosticCode::Inconsistent,
            format!(
                "`split.gap` = {gap} is shorter than the label delay {delay}: training labels can mature inside the held-out period"
            ),
        );
    }
}
