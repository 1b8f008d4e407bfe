//! `aidlc evaluate` and `aidlc report`: the platform scores a registered version on the held-out
//! rows of its own split, beside the baseline and the champion, checks the gates and stores the
//! report; the report renders as a self-contained model card.

use crate::app::App;
use crate::cli::{EvaluateArgs, ReportArgs};
use crate::commands::models::{Reference, parse_reference, resolve_version};
use crate::output::{Table, print_json};
use aidlc_service::evaluate::{
    EvalOptions, EvalReport, GateStatus, evaluate_version, latest_report,
    render_html_with_monitoring, render_markdown_with_monitoring,
};
use aidlc_service::monitor_history::for_model_version;
use aidlc_store::{
    LocalArtifactStore, RegistryStore, RegistryVersion, RegistryVersionSearch, Store,
};
use anyhow::{Context, bail};
use std::process::ExitCode;

/// A version named as NAME@ALIAS, NAME/VERSION, NAME, or by the run that produced it.
async fn find_version(store: &Store, reference: &str) -> anyhow::Result<RegistryVersion> {
    let parsed = parse_reference(reference)?;
    if let Reference::Model(name) = &parsed
        && store.get_registered_model(name).await?.is_none()
    {
        let page = store
            .search_registry_versions(&RegistryVersionSearch {
                model: None,
                run_id: Some(name.clone()),
                max_results: 1,
                offset: 0,
            })
            .await?;
        return page.items.into_iter().next().with_context(|| {
            format!(
                "`{reference}` is neither a registered model nor a run with a registered version"
            )
        });
    }
    resolve_version(store, &parsed).await
}

pub async fn run(app: &App, args: EvaluateArgs) -> anyhow::Result<ExitCode> {
    let spec = app.spec("evaluation judges against the framing contract")?;
    let store = app.store().await?;
    let version = find_version(&store, &args.reference).await?;
    // Only ONNX versions need the runtime; a missing one is reported when such a model loads.
    let _ = app.init_onnx_runtime();
    let data = match &args.data {
        Some(path) => {
            let mut options = aidlc_data::ReadOptions::default();
            if let Some(label) = &spec.problem.label.column {
                options
                    .kinds
                    .insert(label.clone(), aidlc_data::ColumnKind::Categorical);
            }
            Some(aidlc_data::read_table(path, &options)?)
        }
        None => None,
    };
    let artifacts = LocalArtifactStore::new(&app.settings.artifacts);
    let (report, record) = evaluate_version(
        &store,
        &artifacts,
        &app.audit_context(None),
        &spec,
        &app.settings.project_dir,
        &version,
        EvalOptions {
            seed: args.seed,
            bootstrap: args.bootstrap,
            data,
            with_champion: !args.no_champion,
        },
    )
    .await?;
    if app.settings.json {
        print_json(&serde_json::json!({ "id": record.id, "report": report }))?;
    } else {
        print_summary(&report);
        println!(
            "\nreport {} stored with {}/{}: {}",
            record.id,
            version.model,
            version.version,
            if report.passed {
                "every gate passed"
            } else {
                "a gate FAILED"
            }
        );
        println!(
            "model card: aidlc report {}/{} --out card.html",
            version.model, version.version
        );
    }
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn estimate(e: &aidlc_service::evaluate::Estimate) -> String {
    match (e.value, e.lower, e.upper) {
        (Some(v), Some(l), Some(u)) => format!("{v:.4} [{l:.4}, {u:.4}]"),
        (Some(v), _, _) => format!("{v:.4}"),
        _ => "-".into(),
    }
}

fn print_summary(report: &EvalReport) {
    println!(
        "{} held-out rows; primary metric {} (95% bootstrap intervals)",
        report.data.rows, report.primary_metric
    );
    let champion = report.metrics.iter().any(|m| m.values.champion.is_some());
    let mut header = vec!["METRIC", "CANDIDATE", "BASELINE"];
    if champion {
        header.push("CHAMPION");
    }
    header.push("Δ VS BASELINE");
    let mut t = Table::new(header);
    for m in &report.metrics {
        let mut row = vec![
            m.metric.clone(),
            estimate(&m.values.candidate),
            estimate(&m.values.baseline),
        ];
        if champion {
            row.push(
                m.values
                    .champion
                    .as_ref()
                    .map_or_else(|| "-".into(), estimate),
            );
        }
        row.push(estimate(&m.delta_vs_baseline));
        t.row(row);
    }
    print!("{}", t.render());
    if let Some(worst) = &report.slices.worst {
        println!(
            "worst slice: {}",
            serde_json::to_string(worst).unwrap_or_default()
        );
    }
    println!(
        "latency p50 {:.3} ms, p99 {:.3} ms; size {:.3} MB",
        report.latency.p50_ms, report.latency.p99_ms, report.model_size.mb
    );
    if !report.gates.is_empty() {
        let mut g = Table::new(["GATE", "RESULT", "WHY"]);
        for gate in &report.gates {
            g.row([
                gate.name.clone(),
                match gate.status {
                    GateStatus::Pass => "pass".to_string(),
                    GateStatus::Fail => "FAIL".to_string(),
                    GateStatus::Skipped => "skipped".to_string(),
                },
                gate.reason.clone(),
            ]);
        }
        print!("{}", g.render());
    }
    for l in &report.limitations {
        println!("limitation: {l}");
    }
}

pub async fn report(app: &App, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let version = find_version(&store, &args.reference).await?;
    let Some((report, record)) = latest_report(&store, &version).await? else {
        bail!(
            "{}/{} has no evaluation report yet: run `aidlc evaluate {}/{}` first",
            version.model,
            version.version,
            version.model,
            version.version
        );
    };
    let text = match args.format.as_str() {
        // The card shows how the version did where it served, when it has been monitored.
        "html" => {
            let history = for_model_version(&store, &version.model, version.version).await?;
            render_html_with_monitoring(&report, &history)
        }
        "md" | "markdown" => {
            let history = for_model_version(&store, &version.model, version.version).await?;
            render_markdown_with_monitoring(&report, &history)
        }
        other => bail!("--format {other}: expected html or md"),
    };
    let tmp = args.out.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &args.out))
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    if app.settings.json {
        print_json(
            &serde_json::json!({"out": args.out.display().to_string(), "report": record.id}),
        )?;
    } else {
        println!(
            "wrote {} from report {} of {}/{}",
            args.out.display(),
            record.id,
            version.model,
            version.version
        );
    }
    Ok(ExitCode::SUCCESS)
}
