//! Times the built-in gradient-boosted trees trainer on train/valid/test files (CSV or Parquet,
//! read with aidlc-data) and prints one JSON line: training and scoring seconds, held-out ROC AUC
//! and rounds. Used by bench/train.sh next to LightGBM and scikit-learn.
//!
//! Usage: train_bench --train F --valid F --test F --label NAME --rounds N
//!        [--early-stopping R] [--threads T] [--runs N] [--seed S]

use aidlc_data::{ReadOptions, read_table};
use aidlc_models::train::{GbdtParams, Target, TrainSet, TrainerSpec, train};
use aidlc_models::{Frame, Model};
use aidlc_stats::metrics::roc_auc;
use std::path::{Path, PathBuf};
use std::time::Instant;

struct Args {
    train: PathBuf,
    valid: PathBuf,
    test: PathBuf,
    label: String,
    rounds: usize,
    early_stopping: Option<usize>,
    threads: Option<usize>,
    runs: usize,
    seed: u64,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        train: PathBuf::new(),
        valid: PathBuf::new(),
        test: PathBuf::new(),
        label: String::new(),
        rounds: 100,
        early_stopping: None,
        threads: None,
        runs: 1,
        seed: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let number = || value.parse::<usize>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--train" => args.train = value.clone().into(),
            "--valid" => args.valid = value.clone().into(),
            "--test" => args.test = value.clone().into(),
            "--label" => args.label = value.clone(),
            "--rounds" => args.rounds = number()?,
            "--early-stopping" => args.early_stopping = Some(number()?).filter(|&r| r > 0),
            "--threads" => args.threads = Some(number()?),
            "--runs" => args.runs = number()?.max(1),
            "--seed" => args.seed = number()? as u64,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if args.label.is_empty() || args.train.as_os_str().is_empty() {
        return Err("usage: train_bench --train F --valid F --test F --label NAME --rounds N [--early-stopping R] [--threads T] [--runs N] [--seed S]".into());
    }
    Ok(args)
}

/// CPU seconds (user + system, all threads) this process has used so far, from
/// /proc/self/stat in USER_HZ ticks (100 per second on Linux); 0 elsewhere.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// A file's features and label.
fn read(path: &Path, label: &str) -> Result<(TrainSet, Vec<f64>), Box<dyn std::error::Error>> {
    let table = read_table(path, &ReadOptions::default())?;
    let frame = Frame::from_table(&table);
    let at = frame
        .names
        .iter()
        .position(|n| n == label)
        .ok_or(format!("{}: no column {label}", path.display()))?;
    let target = Target::classes_from_column(&frame.columns[at], label)?;
    let mut features = frame;
    features.names.remove(at);
    features.columns.remove(at);
    let Target::Classes { y, .. } = &target else {
        unreachable!("classes_from_column gives classes")
    };
    let y = y.iter().map(|&c| c as f64).collect();
    Ok((
        TrainSet {
            features,
            target,
            weights: None,
        },
        y,
    ))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse()?;
    let start = Instant::now();
    let (train_set, _) = read(&args.train, &args.label)?;
    let (valid_set, _) = read(&args.valid, &args.label)?;
    let (test_set, test_y) = read(&args.test, &args.label)?;
    let read_s = start.elapsed().as_secs_f64();
    let spec = TrainerSpec::Gbdt(GbdtParams {
        n_trees: args.rounds,
        early_stopping_rounds: args.early_stopping,
        threads: args.threads,
        ..GbdtParams::default()
    });
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let mut outcome = None;
    for _ in 0..args.runs {
        let (start, cpu_start) = (Instant::now(), cpu_seconds());
        let result = train(&spec, &train_set, Some(&valid_set), args.seed)?;
        times.push(start.elapsed().as_secs_f64());
        cpu.push(cpu_seconds() - cpu_start);
        outcome = Some(result);
    }
    let outcome = outcome.expect("at least one run");
    let start = Instant::now();
    let input = test_set.features.select(&outcome.model.signature, None)?;
    let predictions = outcome.model.predict(&input)?;
    let score_s = start.elapsed().as_secs_f64();
    let p = predictions
        .class_probabilities(1)
        .ok_or("the label has fewer than two classes")?;
    let auc = roc_auc(&test_y, &p)?;
    let fastest = (0..times.len())
        .min_by(|&a, &b| times[a].total_cmp(&times[b]))
        .unwrap_or(0);
    let rounded: Vec<f64> = times
        .iter()
        .map(|t| (t * 1000.0).round() / 1000.0)
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "tool": "aidlc gbdt",
            "train_s": times[fastest],
            "train_cpu_s": cpu[fastest],
            "train_s_all": rounded,
            "score_s": score_s,
            "auc": auc,
            "rounds": outcome.iterations,
            "best": outcome.best_iteration,
            "read_s": read_s,
        })
    );
    Ok(())
}
