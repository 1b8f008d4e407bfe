//! Evaluation on the bundled NOAA rainfall data: a logistic model fitted here on the early days
//! against the prior baseline on the late days — the report's numbers, slices, gates, seed
//! determinism and the model card.

use std::path::{Path, PathBuf};

use aidlc_core::spec::ProblemSpec;
use aidlc_core::templates::{example, rename_first_header};
use aidlc_data::{Column, ReadOptions, Table, read_table};
use aidlc_models::builtin::{Encoding, FORMAT, LinearModel, Link, Predictor};
use aidlc_models::{BuiltinModel, Feature, FeatureKind, Inputs, Model, ModelTask, Signature};
use aidlc_service::evaluate::{
    EvalInput, EvalReport, GateStatus, ModelUnderTest, baseline_model, evaluate, render_html,
    render_html_with_monitoring, render_markdown, render_markdown_with_monitoring,
};
use aidlc_service::monitor_history::MonitorHistory;
use aidlc_store::MonitorPoint;

const FEATURES: [&str; 8] = [
    "temperature",
    "dew point",
    "sea-level pressure",
    "visibility",
    "average wind speed",
    "max sustained wind-speed",
    "minimum temperature",
    "maximum temperature",
];

const EVALUATE: &str = r#"
[evaluate]
slices = ["visibility < -0.5", "temperature"]
bootstrap = 200
seed = 11

[evaluate.gates]
beats_baseline = "roc_auc >= baseline + 0.05"
too_strict = "roc_auc >= 0.99"
fast_enough = "p99_latency_ms <= constraints"
no_worse_than_champion = "roc_auc >= champion"
"#;

/// The rainfall data with its unnamed first column named `day`, as `aidlc init --example`
/// writes it.
fn rainfall() -> Table {
    let source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/noaa_rainfall_bellevue_ne.csv");
    let bytes = std::fs::read(&source).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("rainfall.csv");
    std::fs::write(&path, rename_first_header(&bytes, "day")).unwrap();
    read_table(&path, &ReadOptions::default()).unwrap()
}

fn rows(table: &Table, range: std::ops::Range<usize>) -> Table {
    let columns = table
        .columns
        .iter()
        .map(|c| match c {
            Column::Numeric(v) => Column::Numeric(v[range.clone()].to_vec()),
            Column::Categorical(v) => Column::Categorical(v[range.clone()].to_vec()),
        })
        .collect();
    Table {
        path: table.path.clone(),
        format: table.format,
        schema: table.schema.clone(),
        columns,
        n_rows: range.len(),
    }
}

fn numbers<'t>(table: &'t Table, name: &str) -> &'t [f64] {
    table.column(name).unwrap().as_numeric().unwrap()
}

/// A logistic regression on standardised features, fitted by plain gradient descent: enough
/// to beat the prior clearly, quick in a debug build.
fn fit_logistic(train: &Table) -> BuiltinModel {
    let y = numbers(train, "rain");
    let n = train.n_rows;
    let mut encodings = Vec::new();
    let mut x = Vec::new();
    for name in FEATURES {
        let v = numbers(train, name);
        let mean = v.iter().sum::<f64>() / n as f64;
        let sd = (v.iter().map(|a| (a - mean) * (a - mean)).sum::<f64>() / n as f64).sqrt();
        x.push(v.iter().map(|a| (a - mean) / sd).collect::<Vec<f64>>());
        encodings.push(Encoding::Numeric {
            fill: Some(mean),
            center: mean,
            scale: sd,
        });
    }
    let mut w = vec![0.0; FEATURES.len()];
    let mut b = 0.0;
    for _ in 0..150 {
        let mut gw = vec![0.0; w.len()];
        let mut gb = 0.0;
        for i in 0..n {
            let s: f64 = b + (0..w.len()).map(|j| w[j] * x[j][i]).sum::<f64>();
            let err = 1.0 / (1.0 + (-s).exp()) - y[i];
            gb += err;
            for j in 0..w.len() {
                gw[j] += err * x[j][i];
            }
        }
        b -= 0.5 * gb / n as f64;
        for j in 0..w.len() {
            w[j] -= 0.5 * gw[j] / n as f64;
        }
    }
    linear_model(w, b, encodings)
}

fn linear_model(w: Vec<f64>, b: f64, encodings: Vec<Encoding>) -> BuiltinModel {
    BuiltinModel {
        format: FORMAT.to_string(),
        signature: Signature {
            task: ModelTask::Classifier {
                classes: vec!["0".into(), "1".into()],
            },
            inputs: Inputs::Named {
                features: FEATURES
                    .iter()
                    .map(|f| Feature {
                        name: f.to_string(),
                        kind: FeatureKind::Numeric,
                        nullable: true,
                    })
                    .collect(),
            },
        },
        encodings,
        predictor: Predictor::Linear(LinearModel {
            weights: vec![w],
            bias: vec![b],
            link: Link::Logistic,
        }),
        training: serde_json::json!({ "trainer": "test logistic" }),
    }
}

/// The rainfall example's contract with its own `[evaluate]` sections replaced by `extra`.
fn spec(extra: &str) -> ProblemSpec {
    let example = example("rainfall").unwrap().spec_toml;
    // The example ends with its [evaluate] sections.
    let own = example.find("\n[evaluate]").unwrap_or(example.len());
    assert!(
        example[own..]
            .lines()
            .filter(|l| l.starts_with('['))
            .all(|l| l.starts_with("[evaluate"))
    );
    let text = format!("{}\n{extra}", &example[..own]);
    ProblemSpec::parse(&text, "aidlc.toml").unwrap()
}

struct Fixture {
    spec: ProblemSpec,
    candidate: BuiltinModel,
    baseline: Box<dyn Model>,
    test: Table,
}

fn fixture(extra: &str) -> Fixture {
    let table = rainfall();
    // Early days train, the next 2,000 days are held out (the data are in time order; the
    // last years drift, which is the monitoring tests' business, not this one's).
    let train = rows(&table, 0..10_000);
    let test = rows(&table, 10_000..12_000);
    let spec = spec(extra);
    let baseline = baseline_model(&spec, &train, Path::new(".")).unwrap();
    Fixture {
        candidate: fit_logistic(&train),
        baseline,
        spec,
        test,
    }
}

fn run(f: &Fixture, name: &str) -> EvalReport {
    let input = EvalInput {
        spec: &f.spec,
        candidate: ModelUnderTest {
            model: &f.candidate,
            name: name.to_string(),
            reference: "rainfall/1".into(),
        },
        baseline: ModelUnderTest {
            model: f.baseline.as_ref(),
            name: "prior".into(),
            reference: "baseline: prior".into(),
        },
        champion: None,
        held_out: &f.test,
        features: None,
        seed: None,
        bootstrap: None,
        model_size_bytes: f.candidate.to_bytes().len() as u64,
        lineage: serde_json::json!({ "dataset": "rainfall@1", "split": "temporal" }),
    };
    evaluate(&input).unwrap()
}

#[test]
fn the_report_on_rainfall_is_complete_and_sane() {
    let f = fixture(EVALUATE);
    let report = run(&f, "logistic");
    assert_eq!(report.format, "aidlc.eval.v1");
    assert_eq!(report.primary_metric, "roc_auc");
    assert_eq!(report.data.rows, 2000);
    assert_eq!(report.data.positive_class.as_deref(), Some("1"));
    assert_eq!(report.data.classes, ["0", "1"]);
    assert_eq!(report.data.class_counts.iter().sum::<usize>(), 2000);

    let auc = &report.metrics[0];
    assert_eq!(auc.metric, "roc_auc");
    assert_eq!(
        auc.values.baseline.value,
        Some(0.5),
        "the prior ranks nothing"
    );
    let candidate_auc = auc.values.candidate.value.unwrap();
    assert!(candidate_auc > 0.7, "{candidate_auc}");
    assert!(auc.delta_vs_baseline.lower.unwrap() > 0.0);
    for row in &report.metrics {
        for e in [&row.values.candidate, &row.values.baseline] {
            if let (Some(v), Some(l), Some(u)) = (e.value, e.lower, e.upper) {
                assert!(l <= v + 1e-12 && v <= u + 1e-12, "{}: {e:?}", row.metric);
            }
        }
    }

    // Slices: the expression slice holds exactly the rows where it is true, and the quartiles
    // of temperature cover every row once.
    let visibility = numbers(&f.test, "visibility");
    let low = visibility.iter().filter(|v| **v < -0.5).count();
    let groups = &report.slices.groups;
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].kind, "expression");
    assert_eq!(groups[0].slices[0].count, low);
    assert_eq!(groups[1].kind, "quantile_bins");
    assert_eq!(groups[1].slices.len(), 4);
    assert_eq!(
        groups[1].slices.iter().map(|s| s.count).sum::<usize>(),
        report.data.rows
    );
    let worst = report.slices.worst.as_ref().unwrap();
    let slice_aucs: Vec<f64> = groups
        .iter()
        .flat_map(|g| &g.slices)
        .filter(|s| s.enough_rows)
        .filter_map(|s| s.primary.candidate.value)
        .collect();
    assert_eq!(
        worst.value,
        slice_aucs.iter().copied().fold(f64::INFINITY, f64::min)
    );

    let calibration = report.calibration.as_ref().unwrap();
    assert!(calibration.models.candidate.ece.unwrap() < 0.2);
    assert!(!calibration.models.candidate.curve.is_empty());
    let roc = &report.roc.as_ref().unwrap().candidate;
    assert_eq!((roc.fpr[0], roc.tpr[0]), (0.0, 0.0));
    assert_eq!(
        (*roc.fpr.last().unwrap(), *roc.tpr.last().unwrap()),
        (1.0, 1.0)
    );

    let robustness = report.robustness.as_ref().unwrap();
    assert_eq!(robustness.perturbations.len(), 7);
    let noise: Vec<f64> = robustness.perturbations[..3]
        .iter()
        .map(|p| p.drop.unwrap())
        .collect();
    assert!(noise[2] > noise[0], "more noise hurts more: {noise:?}");
    let swap = &robustness.perturbations[5];
    assert!(swap.note.as_deref().unwrap().starts_with("not applicable"));
    assert!(
        robustness.perturbations[3].value.is_some(),
        "missing values are filled"
    );

    let business = report.business.as_ref().unwrap();
    assert_eq!(business.sweep.len(), 101);
    let best = &business.best.as_ref().unwrap().candidate;
    assert!(best.value_per_1k >= business.value_per_1k.candidate.unwrap());

    let gate = |name: &str| report.gates.iter().find(|g| g.name == name).unwrap();
    let pass = gate("beats_baseline");
    assert_eq!(pass.status, GateStatus::Pass, "{}", pass.reason);
    assert!(
        pass.reason
            .ends_with(">= baseline 0.500 + 0.050 = 0.550: pass"),
        "{}",
        pass.reason
    );
    assert!(pass.reason.starts_with("roc_auc 0."), "{}", pass.reason);
    let fail = gate("too_strict");
    assert_eq!(fail.status, GateStatus::Fail);
    assert!(fail.reason.ends_with(">= 0.990: fail"), "{}", fail.reason);
    assert_eq!(gate("no_worse_than_champion").status, GateStatus::Skipped);
    assert!(!report.passed, "one gate fails");
    assert!(
        report
            .limitations
            .iter()
            .any(|l| l.starts_with("Gate `too_strict` fails")),
        "{:?}",
        report.limitations
    );
    assert_eq!(report.lineage["dataset"], "rainfall@1");
}

#[test]
fn the_same_seed_gives_the_same_report() {
    let f = fixture(EVALUATE);
    let mut a = run(&f, "logistic");
    let mut b = run(&f, "logistic");
    // Latency is wall-clock time; everything else must repeat exactly.
    for r in [&mut a, &mut b] {
        r.latency.p50_ms = 0.0;
        r.latency.p99_ms = 0.0;
        r.latency.within_budget = None;
        for g in &mut r.gates {
            if g.name == "fast_enough" {
                g.value = None;
                g.reason.clear();
            }
        }
    }
    let (ja, jb) = (
        serde_json::to_value(&a).unwrap(),
        serde_json::to_value(&b).unwrap(),
    );
    for key in ja.as_object().unwrap().keys() {
        assert_eq!(ja[key], jb[key], "{key} differs between two runs");
    }
    assert_eq!(a, b);
    // The report is stored as JSON and reads back into the same card (serde_json may move a
    // float by one ulp when it parses, so the comparison is of what a reader sees).
    let json = serde_json::to_string(&a).unwrap();
    let back: EvalReport = serde_json::from_str(&json).unwrap();
    assert_eq!(render_markdown(&back), render_markdown(&a));
    assert_eq!(back.gates, a.gates);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["format"], "aidlc.eval.v1");
    assert_eq!(value["gates"][0]["rule"], "roc_auc >= baseline + 0.05");
}

#[test]
fn without_gates_the_defaults_compare_with_the_baseline_and_budgets() {
    let f = fixture("[evaluate]\nbootstrap = 50\nrobustness = false\n");
    let report = run(&f, "logistic");
    let names: Vec<&str> = report.gates.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["beats_baseline", "latency_budget", "size_budget"]);
    assert!(report.gates.iter().all(|g| g.default));
    assert_eq!(
        report.gates[0].status,
        GateStatus::Pass,
        "{:?}",
        report.gates
    );
    assert_eq!(
        report.gates[0].rule.to_string(),
        "roc_auc >= baseline",
        "no worse than the baseline"
    );
    assert!(report.robustness.is_none());
}

#[test]
fn the_model_card_is_self_contained_and_escaped() {
    let f = fixture(EVALUATE);
    let report = run(&f, "logistic <v1> & \"friends\"");
    let html = render_html(&report);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("<svg").count(), 3, "ROC, reliability, value");
    for title in [
        "ROC curve",
        "Reliability curve",
        "Value per 1,000 predictions",
    ] {
        assert!(html.contains(title), "{title}");
    }
    assert!(!html.contains("http"), "no URL in the card");
    assert!(!html.contains("<script"));
    assert!(html.contains("logistic &lt;v1&gt; &amp; &quot;friends&quot;"));
    assert!(!html.contains("<v1>"));
    assert!(html.contains("too_strict"));
    assert!(html.contains("class=\"fail\""));
    assert!(html.contains("Known limitations"));
    assert!(html.contains("rainfall@1"), "lineage is shown");
    assert!(!html.contains("Monitoring history"), "no history given");

    // With the version's monitoring history, the card gains its section and stays
    // self-contained.
    let point = |day: i64, signal: &str, feature: Option<&str>, value: f64| MonitorPoint {
        endpoint: "rain <prod>".into(),
        window_start_ms: day * 86_400_000,
        window_end_ms: (day + 30) * 86_400_000,
        signal: signal.into(),
        feature: feature.map(str::to_string),
        value,
        extra: serde_json::json!({"method": "ks", "p_value": value, "threshold": 0.05,
            "drifted": value < 0.05, "base": {"model": "rainfall", "version": 1}}),
    };
    let points = [
        point(12_000, "drift.feature.humidity", Some("humidity"), 0.5),
        point(12_000, "drift.share", None, 0.0),
        point(12_030, "drift.feature.humidity", Some("humidity"), 0.001),
        point(12_030, "drift.share", None, 1.0),
    ];
    let history = MonitorHistory::build("rain <prod>", &points, &[]);
    let with = render_html_with_monitoring(&report, std::slice::from_ref(&history));
    assert!(with.contains("<h2>Monitoring history</h2>"));
    assert!(with.contains("Endpoint <code>rain &lt;prod&gt;</code>"));
    assert_eq!(with.matches(r#"class="mh-cell""#).count(), 2);
    assert!(!with.contains("http"), "no URL in the card");
    assert!(!with.contains("<script"));
    let empty = MonitorHistory::build("rain", &[], &[]);
    assert_eq!(render_html_with_monitoring(&report, &[empty]), html);

    let md = render_markdown(&report);
    assert!(md.contains("| metric |"), "{md}");
    assert!(md.contains("## Slices"));
    assert!(md.contains("| visibility &lt; -0.5 |"), "{md}");
    assert!(md.contains("logistic &lt;v1&gt;"));
    assert!(md.contains("## Robustness"));
    assert!(md.contains("**fail**"));

    // The Markdown card gains the history as tables: a row per window, realized beside
    // estimated performance.
    assert_eq!(render_markdown_with_monitoring(&report, &[]), md);
    let mut with_performance = points.to_vec();
    with_performance.push(point(12_030, "performance.roc_auc", None, 0.71));
    with_performance.push(point(12_030, "estimated.roc_auc", None, 0.74));
    let history = MonitorHistory::build("rain <prod>", &with_performance, &[]);
    let md = render_markdown_with_monitoring(&report, &[history]);
    assert!(
        md.contains("## Monitoring history: `rain &lt;prod&gt;`"),
        "{md}"
    );
    assert!(
        md.contains("| roc_auc realized | roc_auc estimated |"),
        "{md}"
    );
    let last = md
        .lines()
        .rev()
        .find(|l| l.starts_with("| 1970-") || l.contains(" → "))
        .unwrap();
    assert!(last.contains("0.71") && last.contains("0.74"), "{last}");
}

#[test]
fn the_value_maximising_threshold_is_never_worse_than_the_operating_one() {
    let f = fixture("[evaluate]\nrobustness = false\n");
    let table = rainfall();
    let small = rows(&table, 0..400);
    let means: Vec<Encoding> = FEATURES
        .iter()
        .map(|_| Encoding::Numeric {
            fill: Some(0.0),
            center: 0.0,
            scale: 1.0,
        })
        .collect();
    // Models with arbitrary weights: the best threshold of the sweep includes 0.5, so its
    // value can only be higher or equal, whatever the model.
    for k in 0..6u32 {
        let w: Vec<f64> = (0..FEATURES.len())
            .map(|j| ((k * 7 + j as u32 * 3) % 11) as f64 / 5.0 - 1.0)
            .collect();
        let model = linear_model(w, f64::from(k) / 3.0 - 1.0, means.clone());
        let input = EvalInput {
            spec: &f.spec,
            candidate: ModelUnderTest {
                model: &model,
                name: format!("random-{k}"),
                reference: String::new(),
            },
            baseline: ModelUnderTest {
                model: f.baseline.as_ref(),
                name: "prior".into(),
                reference: String::new(),
            },
            champion: None,
            held_out: &small,
            features: None,
            seed: Some(u64::from(k)),
            bootstrap: Some(1),
            model_size_bytes: 0,
            lineage: serde_json::Value::Null,
        };
        let report = evaluate(&input).unwrap();
        let business = report.business.unwrap();
        let at_operating = business.value_per_1k.candidate.unwrap();
        let best = business.best.unwrap().candidate;
        assert!(best.value_per_1k >= at_operating, "model {k}");
        let max = business
            .sweep
            .iter()
            .map(|t| t.value_per_1k)
            .fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(best.value_per_1k, max);
    }
}

#[test]
fn a_rule_baseline_predicts_the_training_shares_of_its_groups() {
    let table = rainfall();
    let train = rows(&table, 0..10_000);
    let spec = spec("").clone();
    let mut spec = spec;
    spec.baseline.kind = Some(aidlc_core::spec::BaselineKind::Rule);
    spec.baseline.rule = Some(aidlc_core::expr::Expr::parse("visibility < -0.5").unwrap());
    let model = baseline_model(&spec, &train, Path::new(".")).unwrap();
    let frame = aidlc_models::Frame::from_table(&train)
        .select(model.signature(), None)
        .unwrap();
    let predictions = model.predict(&frame).unwrap();
    let p = predictions.class_probabilities(1).unwrap();
    let visibility = numbers(&train, "visibility");
    let rain = numbers(&train, "rain");
    let low: Vec<usize> = (0..train.n_rows)
        .filter(|&i| visibility[i] < -0.5)
        .collect();
    let share = low.iter().map(|&i| rain[i]).sum::<f64>() / low.len() as f64;
    assert!((p[low[0]] - share).abs() < 1e-12);
    let high = (0..train.n_rows).find(|&i| visibility[i] >= -0.5).unwrap();
    assert!(p[high] < share, "low visibility means rain more often");

    // A model baseline is loaded from its file, relative to the project folder.
    let dir = tempfile::tempdir().unwrap();
    let old = fit_logistic(&train);
    std::fs::create_dir(dir.path().join("models")).unwrap();
    std::fs::write(dir.path().join("models/old.json"), old.to_bytes()).unwrap();
    spec.baseline.kind = Some(aidlc_core::spec::BaselineKind::Model);
    spec.baseline.rule = None;
    spec.baseline.model = Some("models/old.json".into());
    let loaded = baseline_model(&spec, &train, dir.path()).unwrap();
    let frame = aidlc_models::Frame::from_table(&train)
        .select(loaded.signature(), None)
        .unwrap();
    assert_eq!(
        loaded.predict(&frame).unwrap(),
        old.predict(&frame).unwrap()
    );
    spec.baseline.model = Some("models/missing.onnx".into());
    let err = baseline_model(&spec, &train, dir.path()).err().unwrap();
    assert!(err.to_string().contains("models/missing.onnx"), "{err}");
}

fn spec_text(text: &str) -> ProblemSpec {
    ProblemSpec::parse(text, "aidlc.toml").unwrap()
}

fn evaluate_simple(
    spec: &ProblemSpec,
    candidate: &dyn Model,
    train: &Table,
    test: &Table,
) -> EvalReport {
    let baseline = baseline_model(spec, train, Path::new(".")).unwrap();
    evaluate(&EvalInput {
        spec,
        candidate: ModelUnderTest {
            model: candidate,
            name: "candidate".into(),
            reference: String::new(),
        },
        baseline: ModelUnderTest {
            model: baseline.as_ref(),
            name: "baseline".into(),
            reference: String::new(),
        },
        champion: None,
        held_out: test,
        features: None,
        seed: None,
        bootstrap: None,
        model_size_bytes: 100,
        lineage: serde_json::Value::Null,
    })
    .unwrap()
}

#[test]
fn a_regression_is_judged_by_error_and_its_cost() {
    let table = rainfall();
    let train = rows(&table, 0..10_000);
    let test = rows(&table, 10_000..11_000);
    // Least squares of the day's maximum temperature on its mean temperature.
    let (x, y) = (
        numbers(&train, "temperature"),
        numbers(&train, "maximum temperature"),
    );
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    let slope = sxy / sxx;
    let model = BuiltinModel {
        format: FORMAT.to_string(),
        signature: Signature {
            task: ModelTask::Regressor,
            inputs: Inputs::Named {
                features: vec![Feature {
                    name: "temperature".into(),
                    kind: FeatureKind::Numeric,
                    nullable: true,
                }],
            },
        },
        encodings: vec![Encoding::Numeric {
            fill: Some(mx),
            center: 0.0,
            scale: 1.0,
        }],
        predictor: Predictor::Linear(LinearModel {
            weights: vec![vec![slope]],
            bias: vec![my - slope * mx],
            link: Link::Identity,
        }),
        training: serde_json::Value::Null,
    };
    let spec = spec_text(
        r#"
[problem]
task = "regression"
[problem.label]
column = "maximum temperature"
[baseline]
kind = "mean"
metric = "rmse"
[business]
cost_per_unit_error = 2
[evaluate]
slices = ["visibility"]
bootstrap = 100
"#,
    );
    let report = evaluate_simple(&spec, &model, &train, &test);
    let rmse = &report.metrics[0];
    assert_eq!(rmse.metric, "rmse");
    assert!(!rmse.higher_is_better);
    assert!(rmse.delta_vs_baseline.upper.unwrap() < 0.0, "{rmse:?}");
    assert!(report.calibration.is_none() && report.roc.is_none());
    let mae = report.metrics.iter().find(|m| m.metric == "mae").unwrap();
    let business = report.business.as_ref().unwrap();
    assert_eq!(business.kind, "error_cost");
    let value = business.value_per_1k.candidate.unwrap();
    assert!((value + 2.0 * mae.values.candidate.value.unwrap() * 1000.0).abs() < 1e-6);
    assert_eq!(report.gates[0].rule.to_string(), "rmse <= baseline");
    assert_eq!(report.gates[0].status, GateStatus::Pass);
    let bins = &report.slices.groups[0];
    assert_eq!(bins.slices.iter().map(|s| s.count).sum::<usize>(), 1000);
    // The worst slice is the one with the largest error.
    let worst = report.slices.worst.as_ref().unwrap();
    let max = bins
        .slices
        .iter()
        .filter_map(|s| s.primary.candidate.value)
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(worst.value, max);
}

/// Three classes that follow `x`, and a categorical `group` that does not matter.
fn three_classes(n: usize, offset: usize) -> Table {
    let mut x = Vec::new();
    let mut group = Vec::new();
    let mut kind = Vec::new();
    for i in 0..n {
        let j = i + offset;
        let v = ((j * 37) % 101) as f64 / 50.0 - 1.0;
        let noise = ((j * 53) % 7) as f64 / 20.0 - 0.15;
        x.push(v);
        group.push(Some(["a", "b", "c"][j % 3].to_string()));
        let label = if v + noise < -0.3 {
            "low"
        } else if v + noise > 0.3 {
            "high"
        } else {
            "mid"
        };
        kind.push(Some(label.to_string()));
    }
    Table {
        path: PathBuf::from("three_classes.csv"),
        format: aidlc_data::FileFormat::Csv,
        schema: vec![
            aidlc_data::ColumnSchema {
                name: "x".into(),
                kind: aidlc_data::ColumnKind::Numeric,
            },
            aidlc_data::ColumnSchema {
                name: "group".into(),
                kind: aidlc_data::ColumnKind::Categorical,
            },
            aidlc_data::ColumnSchema {
                name: "kind".into(),
                kind: aidlc_data::ColumnKind::Categorical,
            },
        ],
        columns: vec![
            Column::Numeric(x),
            Column::Categorical(group),
            Column::Categorical(kind),
        ],
        n_rows: n,
    }
}

#[test]
fn a_multiclass_model_gets_class_metrics_top_class_calibration_and_category_swaps() {
    let train = three_classes(600, 0);
    let test = three_classes(400, 600);
    let classes: Vec<String> = ["high", "low", "mid"].map(String::from).to_vec();
    let model = BuiltinModel {
        format: FORMAT.to_string(),
        signature: Signature {
            task: ModelTask::Classifier {
                classes: classes.clone(),
            },
            inputs: Inputs::Named {
                features: vec![
                    Feature {
                        name: "x".into(),
                        kind: FeatureKind::Numeric,
                        nullable: true,
                    },
                    Feature {
                        name: "group".into(),
                        kind: FeatureKind::Categorical,
                        nullable: true,
                    },
                ],
            },
        },
        encodings: vec![
            Encoding::Numeric {
                fill: Some(0.0),
                center: 0.0,
                scale: 1.0,
            },
            Encoding::OneHot {
                categories: vec!["a".into(), "b".into(), "c".into()],
            },
        ],
        predictor: Predictor::Linear(LinearModel {
            weights: vec![
                vec![6.0, 0.2, 0.0, -0.2],
                vec![-6.0, 0.0, 0.2, 0.0],
                vec![0.0, 0.0, 0.0, 0.2],
            ],
            bias: vec![-1.0, -1.0, 1.0],
            link: Link::Softmax,
        }),
        training: serde_json::Value::Null,
    };
    let spec = spec_text(
        r#"
[problem]
task = "multiclass_classification"
[problem.label]
column = "kind"
[baseline]
kind = "prior"
metric = "accuracy"
[evaluate]
slices = ["group"]
bootstrap = 100
"#,
    );
    let report = evaluate_simple(&spec, &model, &train, &test);
    let names: Vec<&str> = report.metrics.iter().map(|m| m.metric.as_str()).collect();
    assert_eq!(
        names,
        [
            "accuracy",
            "balanced_accuracy",
            "log_loss",
            "f1_macro",
            "f1_weighted"
        ]
    );
    let accuracy = &report.metrics[0].values;
    assert!(accuracy.candidate.value.unwrap() > 0.8, "{accuracy:?}");
    assert!(accuracy.candidate.value > accuracy.baseline.value);
    assert_eq!(report.data.classes, classes);
    assert_eq!(report.data.class_counts.iter().sum::<usize>(), 400);
    let calibration = report.calibration.as_ref().unwrap();
    assert!(calibration.of.contains("predicted class"));
    assert!(calibration.models.candidate.brier.is_none());
    assert!(report.roc.is_none() && report.business.is_none());
    assert!(
        report
            .limitations
            .iter()
            .any(|l| l.starts_with("Business value is not reported")),
        "{:?}",
        report.limitations
    );
    let groups = &report.slices.groups[0];
    assert_eq!(groups.kind, "categories");
    assert_eq!(groups.slices.len(), 3);
    assert_eq!(groups.slices.iter().map(|s| s.count).sum::<usize>(), 400);
    let swaps: Vec<_> = report
        .robustness
        .as_ref()
        .unwrap()
        .perturbations
        .iter()
        .filter(|p| p.name.starts_with("swap"))
        .collect();
    assert!(
        swaps.iter().all(|p| p.value.is_some() && p.note.is_none()),
        "{swaps:?}"
    );
    assert_eq!(report.gates[0].status, GateStatus::Pass);
    let html = render_html(&report);
    assert_eq!(html.matches("<svg").count(), 1, "a reliability curve only");
}

/// A model with one `[N, 8]` tensor input, as many ONNX models have: P(rain) falls with
/// visibility, the fourth column it is given.
struct TensorModel {
    signature: Signature,
}

impl Model for TensorModel {
    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn predict(
        &self,
        frame: &aidlc_models::Frame,
    ) -> Result<aidlc_models::Predictions, aidlc_models::ModelError> {
        let visibility = frame.columns[3].as_numeric().unwrap();
        let p: Vec<f64> = visibility.iter().map(|v| 1.0 / (1.0 + v.exp())).collect();
        Ok(aidlc_models::Predictions::Classes {
            classes: vec!["0".into(), "1".into()],
            labels: p.iter().map(|p| usize::from(*p > 0.5)).collect(),
            probabilities: p.iter().flat_map(|p| [1.0 - p, *p]).collect(),
        })
    }
}

#[test]
fn a_tensor_model_takes_the_numeric_columns_but_label_and_time() {
    let table = rainfall();
    let train = rows(&table, 0..10_000);
    let test = rows(&table, 10_000..10_500);
    let model = TensorModel {
        signature: Signature {
            task: ModelTask::Classifier {
                classes: vec!["0".into(), "1".into()],
            },
            inputs: Inputs::Tensor {
                name: "input".into(),
                width: 8,
            },
        },
    };
    let spec = spec("[evaluate]\nbootstrap = 20\nrobustness = false\n");
    let report = evaluate_simple(&spec, &model, &train, &test);
    assert_eq!(report.data.features, FEATURES);
    assert!(report.metrics[0].values.candidate.value.unwrap() > 0.6);
}

#[test]
fn a_model_that_refuses_missing_values_says_so_in_robustness_and_limitations() {
    let f = fixture("[evaluate]\nbootstrap = 20\n");
    let mut strict = f.candidate.clone();
    if let Inputs::Named { features } = &mut strict.signature.inputs {
        features
            .iter_mut()
            .for_each(|feature| feature.nullable = false);
    }
    let table = rainfall();
    let train = rows(&table, 0..10_000);
    let report = evaluate_simple(&f.spec, &strict, &train, &f.test);
    let missing = &report.robustness.as_ref().unwrap().perturbations[3];
    assert_eq!(missing.name, "missing_0.1");
    assert!(missing.value.is_none());
    let note = missing.note.as_deref().unwrap();
    assert!(
        note.contains("refuses") && note.contains("missing value"),
        "{note}"
    );
    assert!(
        report
            .limitations
            .iter()
            .any(|l| l.starts_with("Robustness check missing_0.1 did not run")),
        "{:?}",
        report.limitations
    );
    // Noise keeps every value present, so it still runs.
    assert!(
        report.robustness.as_ref().unwrap().perturbations[0]
            .value
            .is_some()
    );
}

#[test]
fn a_champion_is_compared_on_the_same_resamples() {
    let f = fixture(
        "[evaluate]\nbootstrap = 50\nrobustness = false\n\n[evaluate.gates]\n\
         as_good = \"roc_auc >= champion\"\nclearly_better = \"roc_auc >= champion + 0.01\"\n\
         calibrated_as_champion = \"ece <= champion\"\n",
    );
    let champion = f.candidate.clone();
    let input = EvalInput {
        spec: &f.spec,
        candidate: ModelUnderTest {
            model: &f.candidate,
            name: "new".into(),
            reference: "rainfall/2".into(),
        },
        baseline: ModelUnderTest {
            model: f.baseline.as_ref(),
            name: "prior".into(),
            reference: "prior".into(),
        },
        champion: Some(ModelUnderTest {
            model: &champion,
            name: "current".into(),
            reference: "rainfall@champion".into(),
        }),
        held_out: &f.test,
        features: None,
        seed: None,
        bootstrap: None,
        model_size_bytes: 10,
        lineage: serde_json::Value::Null,
    };
    let report = evaluate(&input).unwrap();
    // The same model as champion: every paired difference is exactly zero.
    for row in &report.metrics {
        let d = row.delta_vs_champion.unwrap();
        assert_eq!(
            (d.value, d.lower, d.upper),
            (Some(0.0), Some(0.0), Some(0.0)),
            "{}",
            row.metric
        );
    }
    let status = |name: &str| report.gates.iter().find(|g| g.name == name).unwrap().status;
    assert_eq!(status("as_good"), GateStatus::Pass);
    assert_eq!(status("clearly_better"), GateStatus::Fail);
    assert_eq!(status("calibrated_as_champion"), GateStatus::Pass);
    let html = render_html(&report);
    assert!(html.contains("current (champion)"));
    assert!(html.contains("candidate − champion"));
}

#[test]
fn built_in_boosted_trees_beat_the_prior_with_gates_passing() {
    use aidlc_models::train::{GbdtParams, Target, TrainSet, TrainerSpec, train};
    let f = fixture(
        "[evaluate]\nbootstrap = 100\nslices = [\"visibility < -0.5\"]\n\n[evaluate.gates]\n\
         beats_baseline = \"roc_auc >= baseline + 0.05\"\n\
         sharper = \"log_loss <= baseline\"\n\
         weakest_slice = \"worst_slice.roc_auc >= 0.6\"\n",
    );
    let table = rainfall();
    let set = |t: &Table| TrainSet {
        features: aidlc_models::Frame::from_table(t)
            .select(f.candidate.signature(), None)
            .unwrap(),
        target: Target::classes_from_column(t.column("rain").unwrap(), "rain").unwrap(),
        weights: None,
    };
    let (train_set, valid_set) = (
        set(&rows(&table, 0..8_500)),
        set(&rows(&table, 8_500..10_000)),
    );
    // The hand-fitted logistic model is covered above; the built-in linear trainer is left out
    // here only because it is slow in a debug build.
    let spec = TrainerSpec::Gbdt(GbdtParams {
        n_trees: 20,
        max_bins: 32,
        early_stopping_rounds: Some(5),
        ..GbdtParams::default()
    });
    let model = train(&spec, &train_set, Some(&valid_set), 0).unwrap().model;
    let report = evaluate_simple(&f.spec, &model, &rows(&table, 0..10_000), &f.test);
    assert!(report.passed, "{:#?}", report.gates);
    let auc = &report.metrics[0].values;
    assert!(auc.candidate.lower > auc.baseline.upper);
}
