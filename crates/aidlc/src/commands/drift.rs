//! `aidlc drift`: per-column drift between a reference and a current file (CSV, gzip CSV or
//! Parquet), and the dataset-level share of drifted columns.

use crate::cli::DriftArgs;
use crate::output::{Table, print_json, spinner};
use aidlc_service::drift::{DriftRequest, MethodChoice, drift_report};
use aidlc_stats::drift::ColumnDriftResult;
use anyhow::Context;
use std::process::ExitCode;

pub fn run(json: bool, args: DriftArgs) -> anyhow::Result<ExitCode> {
    let method: MethodChoice = args
        .method
        .parse()
        .with_context(|| format!("--method `{}`", args.method))?;
    let mut request = DriftRequest::new(&args.reference, &args.current);
    request.columns = args.columns.map(|c| {
        c.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    });
    request.method = method;
    request.threshold = args.threshold;
    request.reference_rows = args.reference_rows;
    request.current_rows = args.current_rows;
    if let Some(share) = args.drift_share {
        request.drift_share = share;
    }
    let progress = spinner("reading both files and comparing columns");
    let report = drift_report(&request);
    progress.finish_and_clear();
    let report = report?;
    if json {
        print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new([
        "COLUMN",
        "KIND",
        "METHOD",
        "STATISTIC",
        "P-VALUE",
        "THRESHOLD",
        "DRIFTED",
        "N_REF",
        "N_CUR",
        "NAN_REF",
        "NAN_CUR",
    ]);
    for r in report.columns.iter().chain(&report.other_results) {
        t.row(row(r));
    }
    print!("{}", t.render());
    let s = &report.summary;
    println!(
        "\n{} of {} columns drifted (share {:.3}; dataset drift when share >= {}): {}",
        s.n_drifted,
        s.n_evaluated,
        s.share_drifted,
        s.drift_share,
        if s.dataset_drift {
            "DATASET DRIFT"
        } else {
            "no dataset drift"
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn row(r: &ColumnDriftResult) -> Vec<String> {
    let num = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_else(|| "-".into());
    let verdict = match &r.error {
        Some(e) => format!("n/a ({e})"),
        None if r.drifted => "yes".into(),
        None => "no".into(),
    };
    vec![
        r.column.clone(),
        format!("{:?}", r.kind).to_lowercase(),
        r.method.name().to_string(),
        num(r.statistic),
        num(r.p_value),
        format!("{}", r.threshold),
        verdict,
        r.n_reference.to_string(),
        r.n_current.to_string(),
        r.n_nan_reference.to_string(),
        r.n_nan_current.to_string(),
    ]
}
