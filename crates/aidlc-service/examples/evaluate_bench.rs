//! Times a whole platform-run evaluation (`aidlc_service::evaluate::evaluate`): the rainfall
//! example's contract and gates, boosted trees trained on the early days, the prior baseline,
//! 1,000 bootstrap resamples, slices, calibration, robustness, the business sweep and latency.
//! Prints one JSON line. Used by bench/train.sh.
//!
//! Usage: evaluate_bench --train F --valid F --test F [--runs N]

use aidlc_core::spec::ProblemSpec;
use aidlc_data::{ColumnKind, ReadOptions, Table, read_table};
use aidlc_models::Model;
use aidlc_models::train::{GbdtParams, Target, TrainSet, TrainerSpec, train};
use aidlc_service::evaluate::{EvalInput, ModelUnderTest, baseline_model, evaluate};
use std::path::Path;
use std::time::Instant;

const SPEC: &str = include_str!("../../aidlc-core/templates/examples/rainfall/aidlc.toml");
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

fn read(path: &str) -> Table {
    let mut options = ReadOptions::default();
    options.kinds.insert("rain".into(), ColumnKind::Categorical);
    read_table(Path::new(path), &options).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn set(table: &Table) -> TrainSet {
    let names: Vec<String> = FEATURES.iter().map(|s| s.to_string()).collect();
    let columns = names
        .iter()
        .map(|n| table.column(n).expect("feature column").clone())
        .collect();
    TrainSet {
        features: aidlc_models::Frame::new(names, columns).expect("equal lengths"),
        target: Target::classes_from_column(table.column("rain").expect("label"), "rain")
            .expect("binary label"),
        weights: None,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let (Some(train_path), Some(valid_path), Some(test_path)) =
        (flag("--train"), flag("--valid"), flag("--test"))
    else {
        eprintln!("usage: evaluate_bench --train F --valid F --test F [--runs N]");
        std::process::exit(2);
    };
    let runs: usize = flag("--runs").and_then(|r| r.parse().ok()).unwrap_or(3);
    let spec = ProblemSpec::parse(SPEC, "rainfall/aidlc.toml").expect("the example parses");
    let (train_table, valid_table, test_table) =
        (read(&train_path), read(&valid_path), read(&test_path));
    let params = GbdtParams {
        n_trees: 500,
        early_stopping_rounds: Some(20),
        ..GbdtParams::default()
    };
    let outcome = train(
        &TrainerSpec::Gbdt(params),
        &set(&train_table),
        Some(&set(&valid_table)),
        1,
    )
    .expect("training");
    let size = outcome.model.to_bytes().len() as u64;
    let baseline = baseline_model(&spec, &train_table, Path::new(".")).expect("baseline");
    let mut seconds = Vec::new();
    let mut report = None;
    for _ in 0..runs {
        let started = Instant::now();
        let r = evaluate(&EvalInput {
            spec: &spec,
            candidate: ModelUnderTest {
                model: &outcome.model as &dyn Model,
                name: "gbdt".into(),
                reference: "bench".into(),
            },
            baseline: ModelUnderTest {
                model: baseline.as_ref(),
                name: "baseline".into(),
                reference: "prior".into(),
            },
            champion: None,
            held_out: &test_table,
            features: None,
            seed: Some(0),
            bootstrap: Some(1000),
            model_size_bytes: size,
            lineage: serde_json::Value::Null,
        })
        .expect("evaluation");
        seconds.push(started.elapsed().as_secs_f64());
        report = Some(r);
    }
    seconds.sort_by(f64::total_cmp);
    let report = report.expect("at least one run");
    let auc = report
        .metrics
        .iter()
        .find(|m| m.metric == "roc_auc")
        .and_then(|m| m.values.candidate.value);
    println!(
        "{}",
        serde_json::json!({
            "tool": "aidlc evaluate",
            "rows": report.data.rows,
            "bootstrap": 1000,
            "seconds_best": seconds[0],
            "seconds_median": seconds[seconds.len() / 2],
            "roc_auc": auc,
            "passed": report.passed,
            "gates": report.gates.len(),
            "failed_gates": report
                .gates
                .iter()
                .filter(|g| g.status == aidlc_service::evaluate::GateStatus::Fail)
                .map(|g| g.reason.clone())
                .collect::<Vec<_>>(),
        })
    );
}
