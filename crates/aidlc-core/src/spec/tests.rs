//! Unit tests of the `aidlc.toml` reader and its content rules.

use super::*;

const COMPLETE: &str = r#"
[problem]
name = "rain"
task = "binary_classification"
time = "day"

[problem.outcome]
metric = "rain days correctly warned"
direction = "maximize"
target = 0.8

[problem.label]
column = "rain"
positive = "it rains that day"
positive_value = 1
delay = "1d"
horizon = "2d"

[constraints]
p99_latency_ms = 50
max_model_size_mb = 10.5
cost_per_1k_predictions = 0
interpretability = "feature_importance"

[baseline]
kind = "rule"
rule = "visibility < -0.5 and `dew point` > 0"
metric = "roc_auc"

[business]
tp = 5
fp = -1
fn = -10
tn = 0

[data]
source = "data/rain.csv"
exclude = ["note"]

[data.columns]
day = "integer"

[store]
url = "postgres://localhost/aidlc"
artifacts = "artifacts"
"#;

fn columns(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn keys(report: &CheckReport) -> Vec<&str> {
    report.diagnostics.iter().map(|d| d.key.as_str()).collect()
}

#[test]
fn reads_every_section_into_typed_values() {
    let spec = ProblemSpec::parse(COMPLETE, "aidlc.toml").unwrap();
    assert_eq!(spec.problem.task, Some(Task::BinaryClassification));
    assert_eq!(spec.problem.time.as_deref(), Some("day"));
    assert_eq!(spec.problem.outcome.direction, Some(Direction::Maximize));
    assert_eq!(spec.problem.outcome.target, Some(0.8));
    assert_eq!(
        spec.problem.label.positive_value,
        Some(LabelValue::Integer(1))
    );
    assert_eq!(
        spec.problem.label.delay,
        Some(LabelDelay { seconds: 86_400 })
    );
    assert_eq!(
        spec.problem.label.horizon,
        Some(LabelDelay {
            seconds: 2 * 86_400
        })
    );
    assert_eq!(spec.constraints.p99_latency_ms, Some(50.0));
    assert_eq!(spec.constraints.max_model_size_mb, Some(10.5));
    assert_eq!(
        spec.constraints.interpretability,
        Some(Interpretability::FeatureImportance)
    );
    assert_eq!(spec.baseline.kind, Some(BaselineKind::Rule));
    assert_eq!(
        spec.baseline.rule.as_ref().map(|r| r.columns()),
        Some(vec!["visibility".to_string(), "dew point".to_string()])
    );
    assert_eq!(spec.baseline.metric, Some(Metric::RocAuc));
    assert_eq!(spec.business.false_negative, Some(-10.0));
    assert_eq!(spec.data.columns.get("day"), Some(&ColumnType::Integer));
    assert_eq!(spec.data.exclude, vec!["note".to_string()]);
    assert_eq!(spec.store.artifacts.as_deref(), Some("artifacts"));

    let data = columns(&["day", "visibility", "dew point", "note", "rain"]);
    let report = check(COMPLETE, "aidlc.toml", Some(&data));
    assert!(report.is_ok(), "{report}");
    assert!(report.diagnostics.is_empty(), "{report}");
}

#[test]
fn the_spec_serializes_for_json_output() {
    let spec = ProblemSpec::parse(COMPLETE, "aidlc.toml").unwrap();
    let json = serde_json::to_value(&spec).unwrap();
    assert_eq!(json["problem"]["task"], "binary_classification");
    assert_eq!(json["business"]["fn"], -10.0);
    assert_eq!(
        json["baseline"]["rule"],
        "visibility < -0.5 and `dew point` > 0"
    );
    let back: ProblemSpec = serde_json::from_value(json).unwrap();
    assert_eq!(back, spec);
    let report = check("[problem]\n", "aidlc.toml", None);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["diagnostics"][0]["severity"], "error");
}

#[test]
fn check_lists_every_problem_not_just_the_first() {
    let text = r#"
[problem]
name = "x"
task = "regresion"

[problem.outcome]
metric = "revenue"
direction = "maximize"

[problem.label]
column = "y"
delay = "soon"

[constraints]
p99_latency_ms = -5
interpretability = "opaque"
"#;
    let report = check(text, "aidlc.toml", None);
    assert!(!report.is_ok());
    let found = keys(&report);
    for key in [
        "problem.task",
        "problem.outcome.target",
        "problem.label.delay",
        "constraints.p99_latency_ms",
        "constraints.interpretability",
        "baseline",
    ] {
        assert!(found.contains(&key), "{key} missing from\n{report}");
    }
    let task = report
        .diagnostics
        .iter()
        .find(|d| d.key == "problem.task")
        .unwrap();
    assert_eq!(task.line, Some(4));
    assert!(
        task.message.contains("`binary_classification`"),
        "{}",
        task.message
    );
    assert!(task.message.contains("`regression`"), "{}", task.message);
    let target = report
        .diagnostics
        .iter()
        .find(|d| d.key == "problem.outcome.target")
        .unwrap();
    assert!(target.message.contains("target"), "{}", target.message);
    // An absent key points at its section's header.
    assert_eq!(target.line, Some(6));
    let baseline = report
        .diagnostics
        .iter()
        .find(|d| d.key == "baseline")
        .unwrap();
    assert_eq!(baseline.line, None);
}

#[test]
fn metric_and_baseline_kind_must_fit_the_task() {
    let text = COMPLETE
        .replace("kind = \"rule\"", "kind = \"mean\"")
        .replace("metric = \"roc_auc\"", "metric = \"rmse\"")
        .replace("rule = ", "# rule = ");
    let report = check(&text, "aidlc.toml", None);
    let metric = report
        .diagnostics
        .iter()
        .find(|d| d.key == "baseline.metric")
        .expect("metric finding");
    assert_eq!(metric.code, DiagnosticCode::Inconsistent);
    assert!(metric.message.contains("roc_auc"), "{}", metric.message);
    assert!(keys(&report).contains(&"baseline.kind"), "{report}");
    // A mismatch of content does not stop parsing.
    assert!(ProblemSpec::parse(&text, "aidlc.toml").is_ok());
}

#[test]
fn business_values_follow_the_task() {
    let text = COMPLETE.replace("fn = -10\n", "");
    let report = check(&text, "aidlc.toml", None);
    assert_eq!(keys(&report), vec!["business.fn"], "{report}");

    let text = COMPLETE
        .replace("binary_classification", "regression")
        .replace("positive = \"it rains that day\"\npositive_value = 1\n", "")
        .replace("metric = \"roc_auc\"", "metric = \"mae\"");
    let report = check(&text, "aidlc.toml", None);
    let found = keys(&report);
    for key in [
        "business.tp",
        "business.fp",
        "business.fn",
        "business.tn",
        "business.cost_per_unit_error",
    ] {
        assert!(found.contains(&key), "{key} missing from\n{report}");
    }
}

#[test]
fn data_columns_are_checked_by_name() {
    let data = columns(&["day", "visibility", "rain"]);
    let report = check(COMPLETE, "aidlc.toml", Some(&data));
    let messages: Vec<&str> = report
        .diagnostics
        .iter()
        .filter(|d| d.code == DiagnosticCode::UnknownColumn)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(messages.len(), 2, "{report}");
    assert!(messages[0].contains("`dew point`"), "{}", messages[0]);
    assert!(messages[1].contains("`note`"), "{}", messages[1]);
}

#[test]
fn a_rule_must_not_read_the_label() {
    let text = COMPLETE.replace("visibility < -0.5", "rain == 1");
    let report = check(&text, "aidlc.toml", None);
    assert_eq!(keys(&report), vec!["baseline.rule"], "{report}");
}

#[test]
fn a_bad_rule_points_into_the_expression() {
    let text = "[baseline]\nrule = \"a < < b\"\n";
    let err = ProblemSpec::parse(text, "aidlc.toml").unwrap_err();
    assert_eq!(err.key, "baseline.rule");
    // The value starts at column 8; the second `<` is the 5th character inside the quotes.
    assert_eq!((err.line, err.column), (2, 13));
    assert!(err.message.contains("column 5"), "{}", err.message);
}

#[test]
fn placeholders_parse_but_do_not_pass_check() {
    let text = "[problem]\nname = \"\"\n\n[constraints]\np99_latency_ms = \"\"\n";
    let spec = ProblemSpec::parse(text, "aidlc.toml").unwrap();
    assert_eq!(spec.problem.name, None);
    assert_eq!(spec.constraints.p99_latency_ms, None);
    let report = check(text, "aidlc.toml", None);
    let latency = report
        .diagnostics
        .iter()
        .find(|d| d.key == "constraints.p99_latency_ms")
        .unwrap();
    assert_eq!(latency.code, DiagnosticCode::Placeholder);
    assert_eq!(latency.line, Some(5));
    assert!(latency.message.contains("a number"), "{}", latency.message);
    // Reported once, as a placeholder, not again as missing.
    assert_eq!(
        report
            .diagnostics
            .iter()
            .filter(|d| d.key == "problem.name")
            .count(),
        1
    );
}

#[test]
fn a_key_without_a_value_is_named() {
    let text = "[constraints]\np99_latency_ms =\nmax_model_size_mb = 5\n";
    let err = ProblemSpec::parse(text, "aidlc.toml").unwrap_err();
    assert_eq!(
        err.to_string(),
        "aidlc.toml:2:17: `constraints.p99_latency_ms` has no value after `=`"
    );
    let report = check(text, "aidlc.toml", None);
    assert_eq!(
        report
            .diagnostics
            .iter()
            .filter(|d| d.key == "constraints.p99_latency_ms")
            .count(),
        1,
        "{report}"
    );
    // The rest of the file is still checked.
    assert!(keys(&report).contains(&"baseline"), "{report}");
}

#[test]
fn duplicate_keys_and_sections_are_named() {
    let err = ProblemSpec::parse("[problem]\nname = \"a\"\nname = \"b\"\n", "f.toml").unwrap_err();
    assert_eq!(
        err.to_string(),
        "f.toml:3:1: `problem.name` is defined twice"
    );
    let err = ProblemSpec::parse("[store]\n[store]\n", "f.toml").unwrap_err();
    assert_eq!(err.to_string(), "f.toml:2:2: `store` is defined twice");
}

#[test]
fn unknown_sections_and_nested_keys_are_reported() {
    let text = "[problem]\nname = \"x\"\n[problem.outcome]\nunit = \"eur\"\n[serving]\nby = \"time\"\nversion = 2\n";
    let report = check(text, "aidlc.toml", None);
    let unknown: Vec<(&str, &str)> = report
        .diagnostics
        .iter()
        .filter(|d| d.code == DiagnosticCode::UnknownKey)
        .map(|d| (d.key.as_str(), d.message.as_str()))
        .collect();
    assert_eq!(unknown.len(), 2, "{report}");
    assert_eq!(unknown[0].0, "problem.outcome.unit");
    assert!(
        unknown[0]
            .1
            .starts_with("unknown key `unit` in [problem.outcome]")
    );
    assert_eq!(unknown[1].0, "serving");
    assert!(unknown[1].1.starts_with("unknown section [serving]"));
    // `version = 2` is written after `[serving]`, so TOML puts it inside that section, which is
    // unknown as a whole; it is not reported separately.
}

#[test]
fn inline_and_dotted_tables_are_the_same_contract() {
    let text = "problem.name = \"x\"\nproblem.outcome = { metric = \"m\", direction = \"minimize\", target = 3 }\n";
    let spec = ProblemSpec::parse(text, "aidlc.toml").unwrap();
    assert_eq!(spec.problem.name.as_deref(), Some("x"));
    assert_eq!(spec.problem.outcome.target, Some(3.0));
    let text = "problem.outcome = { metric = \"m\", target = \"high\" }\n";
    let err = ProblemSpec::parse(text, "aidlc.toml").unwrap_err();
    assert_eq!(err.key, "problem.outcome.target");
    assert_eq!((err.line, err.column), (1, 44));
}

#[test]
fn numbers_must_be_finite() {
    let err = ProblemSpec::parse("[problem.outcome]\ntarget = inf\n", "a.toml").unwrap_err();
    assert_eq!(err.code, DiagnosticCode::InvalidValue);
    assert!(err.message.contains("finite"), "{}", err.message);
}

#[test]
fn store_url_schemes_are_limited() {
    let report = check("[store]\nurl = \"mysql://x\"\n", "aidlc.toml", None);
    assert!(keys(&report).contains(&"store.url"), "{report}");
    let report = check("[store]\nurl = \"aidlc.db\"\n", "aidlc.toml", None);
    assert!(!keys(&report).contains(&"store.url"), "{report}");
}

#[test]
fn store_sync_is_normal_or_full() {
    let spec = ProblemSpec::parse("[store]\nsync = \"full\"\n", "aidlc.toml").unwrap();
    assert_eq!(spec.store.sync, Some(StoreSync::Full));
    let report = check("[store]\nsync = \"normal\"\n", "aidlc.toml", None);
    assert!(!keys(&report).contains(&"store.sync"), "{report}");
    let report = check("[store]\nsync = \"fast\"\n", "aidlc.toml", None);
    assert!(keys(&report).contains(&"store.sync"), "{report}");
    assert!(report.to_string().contains("`normal`, `full`"), "{report}");
}

#[test]
fn the_report_prints_like_a_compiler() {
    let report = check("[problem]\nname = 3\n", "aidlc.toml", None);
    let text = report.to_string();
    assert!(
        text.contains(
            "aidlc.toml:2:8: error: wrong type for `problem.name`: expected a string, found integer 3\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("aidlc.toml: error: missing [baseline] section"),
        "{text}"
    );
}

#[test]
fn keyword_enums_round_trip_through_text() {
    for task in Task::ALL {
        assert_eq!(task.as_str().parse::<Task>(), Ok(*task));
    }
    assert!("nope".parse::<Metric>().unwrap_err().contains("`roc_auc`"));
    assert!(Metric::for_task(Task::Regression).contains(&Metric::Rmse));
    assert!(!Metric::RocAuc.fits(Task::MulticlassClassification));
    assert!(Metric::RocAuc.higher_is_better() && !Metric::LogLoss.higher_is_better());
}

#[test]
fn the_split_section_is_read_and_checked_against_its_kind() {
    let text = format!(
        "{COMPLETE}\n[split]\nkind = \"temporal\"\ntrain = 0.6\nvalid = 0.2\ntest = 0.2\nseed = 42\ngap = \"2d\"\n"
    );
    let spec = ProblemSpec::parse(&text, "aidlc.toml").unwrap();
    assert_eq!(spec.split.kind, Some(SplitKind::Temporal));
    assert_eq!(spec.split.seed, Some(42.0));
    assert_eq!(
        spec.split.gap,
        Some(LabelDelay {
            seconds: 2 * 86_400
        })
    );
    let report = check(&text, "aidlc.toml", None);
    assert!(report.diagnostics.is_empty(), "{report}");

    // An entity split without [problem] entity, fractions that do not add up, a fractional seed.
    let text = format!(
        "{COMPLETE}\n[split]\nkind = \"entity_group\"\ntrain = 0.8\ntest = 0.1\nseed = 1.5\n"
    );
    let report = check(&text, "aidlc.toml", None);
    let found = keys(&report);
    assert!(found.contains(&"split.kind"), "{report}");
    assert!(found.contains(&"split"), "{report}");
    assert!(found.contains(&"split.seed"), "{report}");

    let text = format!("{COMPLETE}\n[split]\nkind = \"by_magic\"\n");
    assert!(ProblemSpec::parse(&text, "aidlc.toml").is_err());
}

#[test]
fn train_section_reads_trainer_and_hyperparameters() {
    let text = format!(
        "{COMPLETE}\n[train]\nbuiltin = \"gbdt\"\nseed = 7\nfeatures = [\"temperature\"]\n\n[train.gbdt]\nn_trees = 200\nlearning_rate = 0.05\nmax_leaves = 15\n\n[train.logistic]\nl2 = 0.5\nclass_weight = \"balanced\"\n"
    );
    let spec = ProblemSpec::parse(&text, "aidlc.toml").unwrap();
    assert_eq!(spec.train.builtin, Some(BuiltinTrainer::Gbdt));
    assert_eq!(spec.train.seed, Some(7.0));
    assert_eq!(spec.train.features, vec!["temperature".to_string()]);
    assert_eq!(spec.train.gbdt.n_trees, Some(200.0));
    assert_eq!(spec.train.gbdt.max_leaves, Some(15.0));
    assert_eq!(
        spec.train.logistic.class_weight,
        Some(ClassWeight::Balanced)
    );
    assert!(check(&text, "aidlc.toml", None).is_ok());
}

#[test]
fn train_section_rejects_unknown_trainers_and_bad_values() {
    let err = ProblemSpec::parse(
        &format!("{COMPLETE}\n[train]\nbuiltin = \"svm\"\n"),
        "aidlc.toml",
    )
    .unwrap_err();
    assert_eq!(err.key, "train.builtin");
    assert!(err.message.contains("`gbdt`"), "{}", err.message);
    let err = ProblemSpec::parse(
        &format!("{COMPLETE}\n[train.gbdt]\ntrees = 3\n"),
        "aidlc.toml",
    )
    .unwrap_err();
    assert_eq!(err.key, "train.gbdt.trees");
    let text = format!(
        "{COMPLETE}\n[train]\nbuiltin = \"gbdt\"\ncommand = \"python train.py\"\n\n[train.gbdt]\nlearning_rate = 2\nmax_bins = 1000\n"
    );
    let report = check(&text, "aidlc.toml", None);
    let found = keys(&report);
    for key in ["train", "train.gbdt.learning_rate", "train.gbdt.max_bins"] {
        assert!(found.contains(&key), "{key} not in {found:?}");
    }
    let line = report
        .errors()
        .find(|d| d.key == "train.gbdt.learning_rate")
        .and_then(|d| d.line);
    assert!(line.is_some());
}

const EVALUATE: &str = r#"
[evaluate]
slices = ["visibility < -0.5", "`dew point`", "note"]
slice_bins = 5
bootstrap = 500
seed = 7
robustness = true

[evaluate.gates]
beats_baseline = "roc_auc >= baseline + 0.05"
calibrated = "ece <= 0.05"
fair = "worst_slice.roc_auc >= 0.70"
fast = "p99_latency_ms <= constraints"
small = "model_size_mb < constraints"
robust = "robustness.noise_0.5.roc_auc_drop <= 0.05"
no_worse = "log_loss <= champion - 0.001"
"#;

#[test]
fn the_evaluate_section_reads_slices_and_gates() {
    let text = format!("{COMPLETE}{EVALUATE}");
    let spec = ProblemSpec::parse(&text, "aidlc.toml").unwrap();
    let e = &spec.evaluate;
    assert_eq!(e.slices.len(), 3);
    assert!(matches!(&e.slices[0], SliceSpec::Expression(_)));
    assert_eq!(e.slices[1], SliceSpec::Column("dew point".into()));
    assert_eq!(e.slices[2], SliceSpec::Column("note".into()));
    assert_eq!(
        (e.bins(), e.bootstrap_resamples(), e.seed_value()),
        (5, 500, 7)
    );
    assert!(e.robustness_on());
    assert_eq!(e.gates.len(), 7);
    let gate = e.gates["beats_baseline"];
    assert_eq!(gate.path, GatePath::Metric(Metric::RocAuc));
    assert_eq!(gate.op, GateOp::Ge);
    assert_eq!(gate.rhs, GateRhs::Baseline { offset: 0.05 });
    assert_eq!(
        e.gates["no_worse"].rhs,
        GateRhs::Champion { offset: -0.001 }
    );
    assert_eq!(
        e.gates["robust"].path,
        GatePath::Robustness {
            perturbation: Perturbation::Noise05,
            metric: Metric::RocAuc,
            drop: true
        }
    );
    assert_eq!(e.gates["fast"].rhs, GateRhs::Constraints);
    // Gates and slices print back as text that reads the same.
    for gate in e.gates.values() {
        assert_eq!(Gate::parse(&gate.to_string()).unwrap(), *gate);
    }
    let json = serde_json::to_value(&spec).unwrap();
    assert_eq!(
        json["evaluate"]["gates"]["fair"],
        "worst_slice.roc_auc >= 0.7"
    );
    assert_eq!(json["evaluate"]["slices"][1], "`dew point`");
    let back: ProblemSpec = serde_json::from_value(json).unwrap();
    assert_eq!(back, spec);

    let data = columns(&["day", "visibility", "dew point", "note", "rain"]);
    let report = check(&text, "aidlc.toml", Some(&data));
    assert!(report.diagnostics.is_empty(), "{report}");
    // Defaults when nothing is written.
    let spec = ProblemSpec::parse(COMPLETE, "aidlc.toml").unwrap();
    assert_eq!(spec.evaluate.bootstrap_resamples(), DEFAULT_BOOTSTRAP);
    assert!(spec.evaluate.robustness_on());
}

#[test]
fn an_unknown_metric_path_is_named_with_key_and_line() {
    let text = format!("{COMPLETE}\n[evaluate.gates]\nbad = \"roc_aucc >= 0.7\"\n");
    let line = text.lines().position(|l| l.starts_with("bad =")).unwrap() + 1;
    let report = check(&text, "aidlc.toml", None);
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.key == "evaluate.gates.bad")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(d.line, Some(line));
    assert_eq!(d.code, DiagnosticCode::InvalidValue);
    assert!(
        d.message.contains("unknown metric path `roc_aucc`"),
        "{}",
        d.message
    );
    let err = ProblemSpec::parse(&text, "aidlc.toml").unwrap_err();
    assert_eq!(err.key, "evaluate.gates.bad");
    assert_eq!(err.line, line);

    for (rule, wanted) in [
        ("roc_auc", "op one of"),
        ("roc_auc = 0.7", "`=` is not a gate comparison"),
        ("roc_auc >= ", "missing"),
        ("roc_auc >= baseline * 2", "expected `+ number`"),
        ("roc_auc >= somewhere", "expected a number"),
        (
            "robustness.noise_0.7.roc_auc >= 0.6",
            "unknown perturbation",
        ),
        ("worst_slice.speed >= 0.6", "unknown metric path"),
    ] {
        let err = Gate::parse(rule).unwrap_err();
        assert!(err.0.contains(wanted), "{rule}: {}", err.0);
    }
}

#[test]
fn gates_and_slices_are_checked_against_the_contract() {
    let text = format!(
        "{COMPLETE}\n[evaluate]\nslices = [\"rain > 0\", \"speed\"]\nbootstrap = 10.5\nrobustness = false\n\
         [evaluate.gates]\nregression_metric = \"rmse <= 1\"\n\
         latency_vs_baseline = \"p99_latency_ms <= baseline\"\n\
         value_vs_constraints = \"value_per_1k >= constraints\"\n\
         other_metric = \"robustness.missing_0.1.log_loss_drop <= 0.1\"\n"
    );
    let data = columns(&["day", "visibility", "dew point", "note", "rain"]);
    let report = check(&text, "aidlc.toml", Some(&data));
    let found = keys(&report);
    for key in [
        "evaluate.slices[0]",
        "evaluate.slices[1]",
        "evaluate.bootstrap",
        "evaluate.gates.regression_metric",
        "evaluate.gates.latency_vs_baseline",
        "evaluate.gates.value_vs_constraints",
        "evaluate.gates.other_metric",
    ] {
        assert!(found.contains(&key), "{key} not in {report}");
    }
    let slice = report
        .diagnostics
        .iter()
        .find(|d| d.key == "evaluate.slices[1]")
        .unwrap();
    assert_eq!(slice.code, DiagnosticCode::UnknownColumn);
    let line = text
        .lines()
        .position(|l| l.starts_with("slices ="))
        .unwrap()
        + 1;
    assert_eq!(slice.line, Some(line));
    let other = report
        .diagnostics
        .iter()
        .filter(|d| d.key == "evaluate.gates.other_metric")
        .map(|d| d.message.as_str())
        .collect::<Vec<_>>()
        .join(" | ");
    assert!(other.contains("primary metric `roc_auc`"), "{other}");
    assert!(other.contains("robustness checks are off"), "{other}");

    // A slice that is not a valid expression is a problem of form.
    let text = format!("{COMPLETE}\n[evaluate]\nslices = [\"visibility <\"]\n");
    let err = ProblemSpec::parse(&text, "aidlc.toml").unwrap_err();
    assert_eq!(err.key, "evaluate.slices[0]");
    // `constraints` needs the budget to be written.
    let text = COMPLETE.replace("p99_latency_ms = 50\n", "")
        + "\n[evaluate.gates]\nfast = \"p99_latency_ms <= constraints\"\n";
    let report = check(&text, "aidlc.toml", None);
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.key == "evaluate.gates.fast" && d.message.contains("is not set")),
        "{report}"
    );
}

const MONITOR: &str = r#"
[monitor]
interval = "30m"

[monitor.alerts.feature_drift]
signal = "drift.feature.*"
when = "> 0.3"
cooldown = "6h"

[monitor.alerts.low_auc]
signal = "performance.roc_auc"
when = "<= 0.75"
severity = "critical"

[monitor.channels.ops]
kind = "slack"
url = "http://hooks.example.test/T0/B0"
min_severity = "warning"

[monitor.channels]
audit = { kind = "webhook", url = "http://127.0.0.1:9000/alerts" }
"#;

#[test]
fn the_monitor_section_reads_rules_and_channels() {
    let text = format!("{COMPLETE}{MONITOR}");
    let spec = ProblemSpec::parse(&text, "aidlc.toml").unwrap();
    let m = &spec.monitor;
    assert_eq!(m.interval_or_default(), LabelDelay { seconds: 1800 });
    assert_eq!(m.window_or_default(), DEFAULT_MONITOR_WINDOW);
    let rules = m.rules();
    assert_eq!(rules.len(), 2);
    let drift = &rules[0];
    assert_eq!(drift.name, "feature_drift");
    assert!(drift.signal.matches("drift.feature.age"));
    assert!(!drift.signal.matches("drift.share"));
    assert_eq!(drift.when.op, GateOp::Gt);
    assert_eq!(drift.when.threshold, 0.3);
    assert_eq!(drift.severity, AlertSeverity::Warning, "the default");
    assert_eq!(drift.cooldown_ms, 6 * 3_600_000);
    assert_eq!(rules[1].severity, AlertSeverity::Critical);
    assert_eq!(rules[1].cooldown_ms, 0, "the default");
    assert!(rules[1].when.holds(0.75) && !rules[1].when.holds(0.76));
    let channels = m.channel_list();
    assert_eq!(
        channels
            .iter()
            .map(|c| (c.name.as_str(), c.kind, c.min_severity))
            .collect::<Vec<_>>(),
        vec![
            ("audit", ChannelKind::Webhook, AlertSeverity::Info),
            ("ops", ChannelKind::Slack, AlertSeverity::Warning),
        ]
    );
    assert!(channels[1].accepts(AlertSeverity::Critical));
    assert!(!channels[1].accepts(AlertSeverity::Info));
    let json = serde_json::to_value(&spec).unwrap();
    assert_eq!(json["monitor"]["alerts"]["low_auc"]["when"], "<= 0.75");
    assert_eq!(
        json["monitor"]["alerts"]["feature_drift"]["signal"],
        "drift.feature.*"
    );
    let back: ProblemSpec = serde_json::from_value(json).unwrap();
    assert_eq!(back, spec);
    let report = check(&text, "aidlc.toml", None);
    assert!(report.diagnostics.is_empty(), "{report}");
    // Defaults when nothing is written.
    let spec = ProblemSpec::parse(COMPLETE, "aidlc.toml").unwrap();
    assert_eq!(spec.monitor.interval_or_default(), DEFAULT_MONITOR_INTERVAL);
    assert!(spec.monitor.rules().is_empty());
}

#[test]
fn monitor_problems_are_named_with_key_and_line() {
    let line_of =
        |text: &str, start: &str| text.lines().position(|l| l.starts_with(start)).unwrap() + 1;
    // Problems of form: parse fails on the first, check lists each.
    for (body, key, wanted) in [
        (
            "signal = \"drift share\"\nwhen = \"> 1\"",
            "monitor.alerts.r.signal",
            "no spaces",
        ),
        (
            "signal = \"drift.*.age\"\nwhen = \"> 1\"",
            "monitor.alerts.r.signal",
            "`*` may only end",
        ),
        (
            "signal = \"drift.share\"\nwhen = \"0.3\"",
            "monitor.alerts.r.when",
            "a comparison and a number",
        ),
        (
            "signal = \"drift.share\"\nwhen = \"> high\"",
            "monitor.alerts.r.when",
            "expected a finite number",
        ),
        (
            "signal = \"drift.share\"\nwhen = \"> 1\"\nseverity = \"page\"",
            "monitor.alerts.r.severity",
            "`critical`",
        ),
        (
            "signal = \"drift.share\"\nwhen = \"> 1\"\ncooldown = \"soon\"",
            "monitor.alerts.r.cooldown",
            "whole number",
        ),
        (
            "signal = \"drift.share\"\nwhen = \"> 1\"\nthreshold = 1",
            "monitor.alerts.r.threshold",
            "unknown key `threshold` in [monitor.alerts.r]",
        ),
    ] {
        let text = format!("{COMPLETE}\n[monitor.alerts.r]\n{body}\n");
        let first_line = body
            .lines()
            .find(|l| l.split('=').next().unwrap().trim() == key.rsplit('.').next().unwrap())
            .unwrap();
        let line = line_of(&text, first_line);
        let err = ProblemSpec::parse(&text, "aidlc.toml").unwrap_err();
        assert_eq!((err.key.as_str(), err.line), (key, line), "{body}: {err}");
        assert!(err.message.contains(wanted), "{body}: {}", err.message);
    }
    let text = format!("{COMPLETE}\n[monitor]\nalerts = 3\n");
    let err = ProblemSpec::parse(&text, "aidlc.toml").unwrap_err();
    assert_eq!(err.key, "monitor.alerts");
    let text = format!("{COMPLETE}\n[monitor.alerts]\nr = \"drift.share > 0.3\"\n");
    let err = ProblemSpec::parse(&text, "aidlc.toml").unwrap_err();
    assert_eq!(err.key, "monitor.alerts.r");
    assert!(err.message.contains("expected a table"), "{}", err.message);

    // Problems of content: only check reports them.
    let text = format!(
        "{COMPLETE}\n[monitor]\nwindow = \"0s\"\n\n[monitor.alerts.half]\nsignal = \"latency.p99\"\n\n\
         [monitor.channels.secure]\nkind = \"webhook\"\nurl = \"https://hooks.example.test/x\"\n\n\
         [monitor.channels.bare]\nurl = \"ftp://x\"\n"
    );
    ProblemSpec::parse(&text, "aidlc.toml").expect("an unfinished monitor section parses");
    let report = check(&text, "aidlc.toml", None);
    let found: Vec<(&str, Severity, usize)> = report
        .diagnostics
        .iter()
        .map(|d| (d.key.as_str(), d.severity, d.line.unwrap_or(0)))
        .collect();
    let expect = [
        (
            "monitor.window",
            Severity::Error,
            line_of(&text, "window ="),
        ),
        (
            "monitor.alerts.half.signal",
            Severity::Warning,
            line_of(&text, "signal = \"latency"),
        ),
        (
            "monitor.alerts.half.when",
            Severity::Error,
            line_of(&text, "[monitor.alerts.half]"),
        ),
        (
            "monitor.channels.secure.url",
            Severity::Error,
            line_of(&text, "url = \"https"),
        ),
        (
            "monitor.channels.bare.kind",
            Severity::Error,
            line_of(&text, "[monitor.channels.bare]"),
        ),
        (
            "monitor.channels.bare.url",
            Severity::Error,
            line_of(&text, "url = \"ftp"),
        ),
    ];
    for e in expect {
        assert!(found.contains(&e), "{e:?} not in\n{report}");
    }
    assert_eq!(found.len(), expect.len(), "{report}");
    let https = report
        .diagnostics
        .iter()
        .find(|d| d.key == "monitor.channels.secure.url")
        .unwrap();
    assert!(
        https.message.contains("https is not supported yet"),
        "{}",
        https.message
    );
    // Incomplete or unusable rules and channels are left out of what the monitor uses.
    let spec = ProblemSpec::parse(&text, "aidlc.toml").unwrap();
    assert!(spec.monitor.rules().is_empty());
    assert!(spec.monitor.channel_list().is_empty());
}

#[test]
fn signal_patterns_know_the_monitor_signal_families() {
    for (pattern, known) in [
        ("drift.share", true),
        ("drift.feature.age", true),
        ("drift.feature.", false),
        ("drift.*", true),
        ("*", true),
        ("perf*", true),
        ("performance.roc_auc", true),
        ("estimated.*", true),
        ("multivariate", true),
        ("prediction_drift", true),
        ("latency.p99", false),
        ("latency.*", false),
    ] {
        let p = SignalPattern::parse(pattern).unwrap();
        assert_eq!(p.matches_a_known_family(), known, "{pattern}");
    }
    let cond = AlertCondition::parse("  >= -1.5").unwrap();
    assert_eq!(cond.to_string(), ">= -1.5");
    assert_eq!(AlertCondition::parse(&cond.to_string()).unwrap(), cond);
    assert!(!AlertCondition::parse("> 0").unwrap().holds(f64::NAN));
    assert_eq!(AlertCondition::parse("> inf").unwrap_err().1, Some(3));
}

#[test]
fn iterate_triggers_are_signal_patterns() {
    let with = |triggers: &str| {
        let text = format!("{COMPLETE}\n[iterate]\ntriggers = {triggers}\n");
        check(&text, "aidlc.toml", None)
    };
    let find = |report: &CheckReport| -> Vec<(Severity, String)> {
        report
            .diagnostics
            .iter()
            .filter(|d| d.key == "iterate.triggers")
            .map(|d| (d.severity, d.message.clone()))
            .collect()
    };
    assert!(find(&with(r#"["drift.*", "decay.roc_auc"]"#)).is_empty());
    let bad = find(&with(r#"["drift share"]"#));
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].0, Severity::Error);
    assert!(bad[0].1.contains("trigger `drift share`"), "{}", bad[0].1);
    let unknown = find(&with(r#"["latency.*"]"#));
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert_eq!(unknown[0].0, Severity::Warning);
    assert!(
        unknown[0].1.contains("matches no signal"),
        "{}",
        unknown[0].1
    );
}

#[test]
fn drift_methods_are_set_per_feature_over_the_default() {
    use aidlc_stats::drift::DriftMethod;
    let text = format!(
        "{COMPLETE}\n[monitor]\nmethod = \"psi\"\n\n[monitor.methods]\nvisibility = \"wasserstein\"\n\
         \"dew point\" = \"auto\"\ncloud = \"Jensen-Shannon\"\nwind = \"chisquare\"\n\n\
         [monitor.thresholds]\nvisibility = 2.5\nwind = 0.01\n"
    );
    let spec = ProblemSpec::parse(&text, "aidlc.toml").unwrap();
    let m = &spec.monitor;
    let method = MonitorMethod::Method;
    assert_eq!(m.method_for("visibility"), method(DriftMethod::Wasserstein));
    assert_eq!(m.method_for("dew point"), MonitorMethod::Auto);
    // The statistics crate's spellings are accepted and stored under its canonical name.
    assert_eq!(m.method_for("cloud"), method(DriftMethod::JensenShannon));
    assert_eq!(m.method_for("wind"), method(DriftMethod::ChiSquareGof));
    assert_eq!(
        m.method_for("humidity"),
        method(DriftMethod::Psi),
        "the default"
    );
    assert_eq!(m.threshold_for("visibility"), Some(2.5));
    assert_eq!(m.threshold_for("humidity"), None);
    let json = serde_json::to_value(&spec).unwrap();
    assert_eq!(json["monitor"]["methods"]["cloud"], "jensen_shannon");
    assert_eq!(json["monitor"]["method"], "psi");
    let back: ProblemSpec = serde_json::from_value(json).unwrap();
    assert_eq!(back, spec);
    // Nothing written: auto for every feature, the methods' own thresholds.
    let spec = ProblemSpec::parse(COMPLETE, "aidlc.toml").unwrap();
    assert_eq!(spec.monitor.method_for("visibility"), MonitorMethod::Auto);
    assert_eq!(spec.monitor.threshold_for("visibility"), None);
    assert!(spec.monitor.named_features().is_empty());
}

#[test]
fn bad_drift_methods_and_thresholds_fail_parsing_with_file_key_line_and_choices() {
    let line_of =
        |text: &str, start: &str| text.lines().position(|l| l.starts_with(start)).unwrap() + 1;
    for (body, key, first, wanted) in [
        (
            "[monitor]\nmethod = \"t-test\"",
            "monitor.method",
            "method =",
            "unknown drift method: expected `auto` or one of `ks`, `wasserstein`",
        ),
        (
            "[monitor.methods]\nvisibility = \"kolmogorov\"",
            "monitor.methods.visibility",
            "visibility =",
            "`chisquare`",
        ),
        (
            "[monitor]\nmethod = \"all\"",
            "monitor.method",
            "method =",
            "`cramer_von_mises`",
        ),
        (
            "[monitor.methods]\nvisibility = 3",
            "monitor.methods.visibility",
            "visibility =",
            "a drift method",
        ),
        (
            "[monitor.thresholds]\nvisibility = \"high\"",
            "monitor.thresholds.visibility",
            "visibility =",
            "a number",
        ),
        (
            "[monitor.thresholds]\nvisibility = 0.2",
            "monitor.thresholds.visibility",
            "visibility =",
            "needs a named method for `visibility`",
        ),
        (
            "[monitor.methods]\nvisibility = \"ks\"\n\n[monitor.thresholds]\nvisibility = 5",
            "monitor.thresholds.visibility",
            "visibility = 5",
            "p-value threshold between 0 and 1",
        ),
        (
            "[monitor.methods]\nvisibility = \"wasserstein\"\n\n[monitor.thresholds]\nvisibility = 0",
            "monitor.thresholds.visibility",
            "visibility = 0",
            "a threshold above 0",
        ),
    ] {
        let text = format!("{COMPLETE}\n{body}\n");
        let err = ProblemSpec::parse(&text, "conf/aidlc.toml").unwrap_err();
        assert_eq!(
            (err.key.as_str(), err.line),
            (key, line_of(&text, first)),
            "{body}: {err}"
        );
        let shown = err.to_string();
        assert!(shown.starts_with("conf/aidlc.toml:"), "{shown}");
        assert!(shown.contains(&format!("`{key}`")), "{shown}");
        assert!(shown.contains(wanted), "{body}: {shown}");
    }
    // A global method gives a threshold its meaning too.
    let text =
        format!("{COMPLETE}\n[monitor]\nmethod = \"psi\"\n\n[monitor.thresholds]\nday = 0.2\n");
    assert_eq!(
        ProblemSpec::parse(&text, "aidlc.toml")
            .unwrap()
            .monitor
            .threshold_for("day"),
        Some(0.2)
    );
}

#[test]
fn check_names_monitored_features_the_data_lacks() {
    let text = format!(
        "{COMPLETE}\n[monitor.methods]\nvisibility = \"ks\"\nvisibilty = \"psi\"\n\n\
         [monitor.thresholds]\nvisibility = 0.01\n"
    );
    let columns = columns(&["day", "rain", "visibility", "dew point", "note"]);
    let report = check(&text, "aidlc.toml", Some(&columns));
    let unknown: Vec<&Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| d.code == DiagnosticCode::UnknownColumn)
        .collect();
    assert_eq!(unknown.len(), 1, "{report}");
    assert_eq!(unknown[0].key, "monitor.methods.visibilty");
    assert!(
        unknown[0].message.contains("monitored feature `visibilty`"),
        "{}",
        unknown[0].message
    );
    assert_eq!(
        unknown[0].line,
        Some(
            text.lines()
                .position(|l| l.starts_with("visibilty"))
                .unwrap()
                + 1
        )
    );
}

#[test]
fn monitors_run_every_interval_or_on_a_schedule_not_both() {
    let spec = ProblemSpec::parse(
        &format!("{COMPLETE}\n[monitor]\nschedule = \"5 * * * *\"\n"),
        "aidlc.toml",
    )
    .unwrap();
    let cron = spec.monitor.schedule.expect("the schedule");
    // 2026-12-05T12:00:30Z → 12:05.
    assert_eq!(cron.next_after(1_796_472_030_000), Some(1_796_472_300_000));
    assert_eq!(spec.monitor.interval, None);

    let both = check(
        &format!("{COMPLETE}\n[monitor]\ninterval = \"1h\"\nschedule = \"5 * * * *\"\n"),
        "aidlc.toml",
        None,
    );
    assert!(keys(&both).contains(&"monitor.schedule"), "{both}");
    let bad = check(
        &format!("{COMPLETE}\n[monitor]\nschedule = \"every hour\"\n"),
        "aidlc.toml",
        None,
    );
    let d = bad
        .diagnostics
        .iter()
        .find(|d| d.key == "monitor.schedule")
        .expect("a bad schedule is named");
    assert!(d.message.contains("5 fields"), "{}", d.message);
}

#[test]
fn the_reference_window_is_set_apart_from_the_monitoring_window() {
    let spec = ProblemSpec::parse(
        &format!("{COMPLETE}\n[monitor]\nwindow = \"1d\"\nreference = \"30d\"\n"),
        "aidlc.toml",
    )
    .unwrap();
    assert_eq!(
        spec.monitor.reference,
        Some(LabelDelay {
            seconds: 30 * 86_400
        })
    );
    let zero = check(
        &format!("{COMPLETE}\n[monitor]\nreference = \"0s\"\n"),
        "aidlc.toml",
        None,
    );
    assert!(keys(&zero).contains(&"monitor.reference"), "{zero}");
}
