//! `aidlc data ingest | list | show | diff`: dataset versions from the command line.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use aidlc_data::validate::{ValidationReport, expected_types};
use aidlc_service::data::{self as service, IngestRequest, VersionDetails};
use aidlc_store::{DatasetStore, LocalArtifactStore};

use crate::app::App;
use crate::cli::{DataCommand, DataDiffArgs, DataIngestArgs, DataListArgs, DataShowArgs};
use crate::output::{Table, format_ms, print_json};

pub async fn run(app: &App, command: DataCommand) -> anyhow::Result<ExitCode> {
    match command {
        DataCommand::Ingest(args) => ingest(app, args).await,
        DataCommand::Split(args) => super::split::split(app, args).await,
        DataCommand::List(args) => list(app, args).await,
        DataCommand::Show(args) => show(app, args).await,
        DataCommand::Diff(args) => diff(app, args).await,
    }
}

async fn ingest(app: &App, args: DataIngestArgs) -> anyhow::Result<ExitCode> {
    let spec = app.spec_if_present()?;
    let mut request = IngestRequest::new(&args.path);
    request.name = args.name;
    if let Some(spec) = &spec {
        request.column_types = expected_types(&spec.data.columns);
        request.expectations = spec.data.expectations.clone();
    }
    let store = app.store().await?;
    let artifacts = LocalArtifactStore::new(&app.settings.artifacts);
    let ctx = app.audit_context(None);

    // The bar appears only on a terminal and only once the work has lasted a second.
    let started = Instant::now();
    let terminal = std::io::stdout().is_terminal();
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut progress = |rows: u64| {
        if !terminal || started.elapsed() < Duration::from_secs(1) {
            return;
        }
        let bar = bar.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} ingesting: {human_pos} rows ({per_sec}, {elapsed})",
                )
                .expect("valid template"),
            );
            bar
        });
        bar.set_position(rows);
    };
    let outcome = service::ingest(&store, &artifacts, &ctx, &request, &mut progress).await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let outcome = outcome?;
    let v = &outcome.version;
    let details = service::details(v.clone())?;
    if app.settings.json {
        print_json(&serde_json::json!({
            "created": outcome.created,
            "name": v.data.name,
            "version": v.version,
            "id": v.id,
            "hash": v.data.hash,
            "artifact": v.data.artifact,
            "rows": v.data.rows,
            "columns": details.schema.columns,
            "valid": v.data.valid,
            "validation": details.validation,
        }))?;
    } else if outcome.created {
        println!(
            "created {}@{}: {} rows, {} columns, {} (source hash {})",
            v.data.name,
            v.version,
            v.data.rows,
            details.schema.columns.len(),
            if v.data.valid { "valid" } else { "INVALID" },
            v.data.hash
        );
        if let Some(report) = &details.validation {
            print_validation(report);
        }
    } else {
        println!(
            "unchanged: these bytes are already {}@{} (recorded {} by {})",
            v.data.name,
            v.version,
            format_ms(v.created_at_ms),
            v.created_by
        );
    }
    Ok(if v.data.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn list(app: &App, args: DataListArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let versions = store.list_dataset_versions(args.name.as_deref()).await?;
    if app.settings.json {
        let rows: Vec<_> = versions
            .iter()
            .map(|v| {
                serde_json::json!({
                    "name": v.data.name,
                    "version": v.version,
                    "id": v.id,
                    "rows": v.data.rows,
                    "valid": v.data.valid,
                    "hash": v.data.hash,
                    "source": v.data.source,
                    "created_by": v.created_by,
                    "created_at_ms": v.created_at_ms,
                })
            })
            .collect();
        print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(["NAME", "VERSION", "ROWS", "VALID", "HASH", "CREATED", "BY"]);
    for v in &versions {
        t.row([
            v.data.name.clone(),
            v.version.to_string(),
            v.data.rows.to_string(),
            if v.data.valid { "yes" } else { "NO" }.to_string(),
            short_hash(&v.data.hash.0),
            format_ms(v.created_at_ms),
            v.created_by.clone(),
        ]);
    }
    print!("{}", t.render());
    Ok(ExitCode::SUCCESS)
}

async fn show(app: &App, args: DataShowArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let version = service::find_version(&store, &args.reference).await?;
    let details = service::details(version)?;
    if app.settings.json {
        print_json(&details)?;
        return Ok(ExitCode::SUCCESS);
    }
    print_details(&details);
    Ok(ExitCode::SUCCESS)
}

fn print_details(d: &VersionDetails) {
    let v = &d.version;
    println!(
        "{}@{}  {} rows  {}  source {}  hash {}  artifact {}  by {} at {}",
        v.data.name,
        v.version,
        v.data.rows,
        if v.data.valid { "valid" } else { "INVALID" },
        v.data.source,
        v.data.hash,
        v.data.artifact,
        v.created_by,
        format_ms(v.created_at_ms)
    );
    let num = |x: Option<f64>| x.map(|v| format!("{v:.6}")).unwrap_or_else(|| "-".into());
    let mut t = Table::new([
        "COLUMN", "TYPE", "MISSING", "DISTINCT", "MIN", "MAX", "MEAN", "STD", "P50", "TOP",
    ]);
    for c in &d.profile.columns {
        let (min, max) = match (&c.min_time, &c.max_time) {
            (Some(a), Some(b)) => (a.clone(), b.clone()),
            _ => (num(c.min), num(c.max)),
        };
        let median = c
            .quantiles
            .iter()
            .find(|q| q.p == 0.5)
            .map(|q| format!("{:.6}", q.value))
            .unwrap_or_else(|| "-".into());
        let top = c
            .top_categories
            .iter()
            .take(3)
            .map(|t| format!("{} ({:.1}%)", t.value, t.share * 100.0))
            .collect::<Vec<_>>()
            .join(", ");
        t.row([
            c.name.clone(),
            c.value_type.to_string(),
            c.missing.to_string(),
            format!("{}{}", if c.distinct_exact { "" } else { "~" }, c.distinct),
            min,
            max,
            num(c.mean),
            num(c.std),
            median,
            top,
        ]);
    }
    print!("{}", t.render());
    if let Some(report) = &d.validation {
        print_validation(report);
    }
}

fn print_validation(report: &ValidationReport) {
    println!(
        "\nvalidation: {}",
        if report.passed { "passed" } else { "FAILED" }
    );
    let mut t = Table::new(["RULE", "COLUMN", "PASSED", "FAILING", "DETAIL", "EXAMPLES"]);
    for r in &report.rules {
        let examples = r
            .examples
            .iter()
            .map(|e| format!("{}: {}", e.position, e.value.as_deref().unwrap_or("null")))
            .collect::<Vec<_>>()
            .join("; ");
        t.row([
            r.rule.clone(),
            r.column.clone().unwrap_or_else(|| "-".into()),
            if r.passed { "yes" } else { "NO" }.to_string(),
            r.failing.to_string(),
            r.detail.clone(),
            examples,
        ]);
    }
    print!("{}", t.render());
}

async fn diff(app: &App, args: DataDiffArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let from = service::details(service::find_version(&store, &args.from).await?)?;
    let to = service::details(service::find_version(&store, &args.to).await?)?;
    let d = service::diff(&from, &to);
    if app.settings.json {
        print_json(&d)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} ({} rows) -> {} ({} rows)",
        d.from, d.rows_from, d.to, d.rows_to
    );
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    println!("added columns: {}", list(&d.added));
    println!("removed columns: {}", list(&d.removed));
    for r in &d.retyped {
        println!("retyped: {} {} -> {}", r.column, r.from, r.to);
    }
    for c in &d.categories {
        println!(
            "categories of {}: new [{}], vanished [{}]",
            c.column,
            c.new.join(", "),
            c.vanished.join(", ")
        );
    }
    let num = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_else(|| "-".into());
    let mut t = Table::new([
        "COLUMN",
        "METHOD",
        "STATISTIC",
        "P-VALUE",
        "THRESHOLD",
        "DRIFTED",
    ]);
    for r in &d.drift {
        t.row([
            r.column.clone(),
            r.method.name().to_string(),
            num(r.statistic),
            num(r.p_value),
            format!("{}", r.threshold),
            match &r.error {
                Some(e) => format!("n/a ({e})"),
                None if r.drifted => "yes".into(),
                None => "no".into(),
            },
        ]);
    }
    println!();
    print!("{}", t.render());
    println!("\n{} of {} columns drifted", d.n_drifted, d.drift.len());
    Ok(ExitCode::SUCCESS)
}

fn short_hash(hash: &str) -> String {
    let hex = hash.strip_prefix("blake3:").unwrap_or(hash);
    format!("blake3:{}", &hex[..hex.len().min(12)])
}
