//! Times a drift report in two parts, reading both files and computing every column's statistics,
//! so that I/O and compute are reported separately (used by `bench/drift.sh`).
//!
//! Usage: `drift_bench REFERENCE CURRENT [--method all|auto|<method>] [--runs N] [--report FILE] [--quiet]`
//! (`--report` writes the last run's report as JSON; `--quiet` leaves out the per-column lines).
//!
//! Besides wall-clock seconds it prints the process CPU seconds (user + system, all threads) of
//! each part, read from `/proc/self/stat` on Linux: on a shared machine the wall clock depends on
//! the other jobs, the CPU time much less.

use std::process::ExitCode;
use std::time::Instant;

use aidlc_service::drift::{DriftRequest, MethodChoice, compute_report, load_inputs};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut positional = Vec::new();
    let mut method = MethodChoice::All;
    let mut runs = 3usize;
    let mut report_path: Option<String> = None;
    let mut quiet = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--method" => match args.next().map(|m| m.parse::<MethodChoice>()) {
                Some(Ok(choice)) => method = choice,
                Some(Err(e)) => return usage(&e.to_string()),
                None => return usage("--method needs a value"),
            },
            "--runs" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) if n > 0 => runs = n,
                _ => return usage("--runs needs a positive number"),
            },
            "--quiet" => quiet = true,
            "--report" => match args.next() {
                Some(path) => report_path = Some(path),
                None => return usage("--report needs a file"),
            },
            _ => positional.push(arg),
        }
    }
    let [reference, current] = positional.as_slice() else {
        return usage("expected REFERENCE and CURRENT");
    };
    let mut request = DriftRequest::new(reference, current);
    request.method = method;

    println!(
        "run  read_s  compute_s  total_s  read_cpu_s  compute_cpu_s  columns  drifted  results"
    );
    let mut last = None;
    for run in 1..=runs {
        let cpu_start = cpu_seconds();
        let start = Instant::now();
        let inputs = match load_inputs(&request) {
            Ok(inputs) => inputs,
            Err(e) => return usage(&e.to_string()),
        };
        let read = start.elapsed().as_secs_f64();
        let cpu_read = cpu_seconds();
        let start = Instant::now();
        let report = match compute_report(&request, &inputs) {
            Ok(report) => report,
            Err(e) => return usage(&e.to_string()),
        };
        let compute = start.elapsed().as_secs_f64();
        let cpu_compute = cpu_seconds();
        let cpu = |from: Option<f64>, to: Option<f64>| match (from, to) {
            (Some(a), Some(b)) => format!("{:.2}", b - a),
            _ => "-".to_owned(),
        };
        println!(
            "{run:>3}  {read:>6.3}  {compute:>9.3}  {:>7.3}  {:>10}  {:>13}  {:>7}  {:>7}  {:>7}",
            read + compute,
            cpu(cpu_start, cpu_read),
            cpu(cpu_read, cpu_compute),
            report.columns.len(),
            report.summary.n_drifted,
            report.columns.len() + report.other_results.len()
        );
        last = Some(report);
    }
    if let Some(report) = last {
        if let Some(path) = report_path {
            let json = serde_json::to_string_pretty(&report).expect("a report serialises");
            if let Err(e) = std::fs::write(&path, json) {
                return usage(&format!("cannot write {path}: {e}"));
            }
        }
        // The deciding result of each column; the other methods' results are in the JSON report.
        for result in report.columns.iter().filter(|_| !quiet) {
            println!(
                "  {:<6} {:<20} statistic {:>10.6} threshold {:>5} drifted {}",
                result.column,
                result.method.name(),
                result.statistic.unwrap_or(f64::NAN),
                result.threshold,
                result.drifted
            );
        }
    }
    ExitCode::SUCCESS
}

/// User plus system CPU seconds of this process so far (Linux; `None` elsewhere). The kernel
/// counts in clock ticks, 100 per second on the usual configuration.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is parenthesised and may contain spaces.
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("drift_bench: {problem}");
    eprintln!(
        "usage: drift_bench REFERENCE CURRENT [--method all|auto|<method>] [--runs N] [--report FILE] [--quiet]"
    );
    ExitCode::from(2)
}
