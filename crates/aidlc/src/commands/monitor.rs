//! `aidlc monitor run`, `aidlc monitor status` and `aidlc monitor report`: monitoring a
//! deployment on demand, the signals of its latest window, and its history as a
//! self-contained HTML report.
//!
//! The CLI reads the prediction log read-only (`LocalLogReader`): the server owns the folder
//! (an exclusive lock), and reading the sealed files and segments directly needs no server.

use crate::app::{App, now_ms};
use crate::cli::{MonitorCommand, MonitorReportArgs, MonitorRunArgs};
use crate::output::{Table, format_ms, print_json};
use aidlc_service::monitor::{self, MonitorSettings};
use aidlc_service::monitor_history::{self, render_monitoring_report};
use aidlc_store::predlog::{JetStreamConfig, LocalLogReader, PredictionLog};
use aidlc_store::{JetStreamPredictionLog, MonitorQuery, MonitorStore, Store};
use anyhow::{Context, bail};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

pub async fn run(app: &App, cmd: MonitorCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        MonitorCommand::Run(args) => run_monitors(app, args).await,
        MonitorCommand::Status { endpoint } => status(app, &endpoint).await,
        MonitorCommand::Report(args) => report(app, args).await,
    }
}

/// The project's monitoring settings from `aidlc.toml`.
pub fn settings(app: &App) -> anyhow::Result<MonitorSettings> {
    let spec = app.spec("monitoring follows its [monitor]")?;
    Ok(MonitorSettings::from_spec(&spec)?)
}

/// A time given as RFC 3339 or as milliseconds since the epoch.
fn parse_time(text: &str) -> anyhow::Result<i64> {
    if let Ok(ms) = text.trim().parse::<i64>() {
        return Ok(ms);
    }
    let at: jiff::Timestamp = text.trim().parse().with_context(|| {
        format!("`{text}` is not a time: use RFC 3339 (2025-06-01T00:00:00Z) or milliseconds")
    })?;
    Ok(at.as_millisecond())
}

async fn run_monitors(app: &App, args: MonitorRunArgs) -> anyhow::Result<ExitCode> {
    let settings = settings(app)?;
    let store = app.store().await?;
    let from = args.from.as_deref().map(parse_time).transpose()?;
    let to = args
        .to
        .as_deref()
        .map(parse_time)
        .transpose()?
        .unwrap_or_else(now_ms);
    match args.prediction_log.as_deref() {
        Some(url) if url.starts_with("nats://") => {
            let log = JetStreamPredictionLog::connect(JetStreamConfig::new(url))
                .await
                .with_context(|| format!("cannot open the prediction log on {url}"))?;
            run_with(app, &store, &log, &settings, &args.endpoint, from, to).await
        }
        flag => {
            let dir = flag.map_or_else(
                || crate::commands::server::default_prediction_log_dir(app),
                Into::into,
            );
            let log = LocalLogReader::open(&dir)
                .with_context(|| format!("cannot read the prediction log in {}", dir.display()))?;
            run_with(app, &store, &log, &settings, &args.endpoint, from, to).await
        }
    }
}

async fn run_with<L: PredictionLog>(
    app: &App,
    store: &Store,
    log: &L,
    settings: &MonitorSettings,
    endpoint: &str,
    from: Option<i64>,
    to: i64,
) -> anyhow::Result<ExitCode> {
    let from = match from {
        Some(f) => f,
        None => {
            let reference = monitor::reference_for(store, log, settings, endpoint, to).await?;
            match monitor::next_start(store, endpoint, &reference).await? {
                Some(f) => f,
                None => {
                    println!("no predictions of the serving version of `{endpoint}` yet");
                    return Ok(ExitCode::SUCCESS);
                }
            }
        }
    };
    let ctx = app.audit_context(None);
    let outcome = monitor::run(store, log, settings, endpoint, from, to, &ctx).await?;
    let signals = outcome.signals();
    let notifier = aidlc_server::alerts::HttpNotifier::new(Arc::new(now_ms));
    let alerts =
        aidlc_service::alerts::process(store, &settings.monitor, &signals, &notifier, &ctx).await?;
    if app.settings.json {
        print_json(&serde_json::json!({
            "endpoint": outcome.endpoint,
            "version": outcome.version,
            "reference_window": outcome.reference_window,
            "windows": outcome.windows.iter().map(|w| serde_json::json!({
                "window_start_ms": w.window_start_ms, "window_end_ms": w.window_end_ms,
                "rows": w.rows, "signals": w.signals,
            })).collect::<Vec<_>>(),
            "alerts": alerts.alerts,
            "deliveries": alerts.deliveries,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "monitored {} window(s) of `{endpoint}` (version {}); {} signal(s), {} alert change(s), {} notification(s)",
        outcome.windows.len(),
        outcome.version,
        signals.len(),
        alerts.alerts.len(),
        alerts.notifications.len()
    );
    Ok(ExitCode::SUCCESS)
}

async fn status(app: &App, endpoint: &str) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let Some((start, end)) = store.latest_monitor_window(endpoint).await? else {
        if app.settings.json {
            print_json(
                &serde_json::json!({ "endpoint": endpoint, "window": null, "signals": [] }),
            )?;
        } else {
            println!("`{endpoint}` has not been monitored yet");
        }
        return Ok(ExitCode::SUCCESS);
    };
    let points: Vec<_> = store
        .monitor_points(&MonitorQuery {
            endpoint: endpoint.to_string(),
            from_ms: Some(end - 1),
            to_ms: Some(end),
            signal_prefix: None,
        })
        .await?
        .into_iter()
        .filter(|p| p.window_start_ms == start)
        .collect();
    if app.settings.json {
        print_json(&serde_json::json!({
            "endpoint": endpoint, "window_start_ms": start, "window_end_ms": end, "signals": points,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{endpoint}: window {} → {}",
        format_ms(start),
        format_ms(end)
    );
    let mut t = Table::new(["SIGNAL", "FEATURE", "VALUE", "DETAIL"]);
    for p in &points {
        let detail = match (p.extra.get("method"), p.extra.get("drifted")) {
            (Some(m), Some(d)) => format!(
                "{} {}",
                m.as_str().unwrap_or(""),
                if d.as_bool() == Some(true) {
                    "drifted"
                } else {
                    "ok"
                }
            ),
            _ => String::new(),
        };
        t.row([
            p.signal.clone(),
            p.feature.clone().unwrap_or_default(),
            format!("{:.4}", p.value),
            detail,
        ]);
    }
    print!("{}", t.render());
    Ok(ExitCode::SUCCESS)
}

async fn report(app: &App, args: MonitorReportArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let endpoint = args.endpoint.as_str();
    let from = args.from.as_deref().map(parse_time).transpose()?;
    let to = args.to.as_deref().map(parse_time).transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && t <= f
    {
        bail!("--to ({t}) must be after --from ({f})");
    }
    if store.latest_monitor_window(endpoint).await?.is_none() {
        bail!(
            "`{endpoint}` has never been monitored: no monitoring results are stored for it \
             (run `aidlc monitor run {endpoint}`, or serve it with `aidlc server`, whose monitor \
             runs every [monitor] interval)"
        );
    }
    let history = monitor_history::load(&store, endpoint, from, to).await?;
    let Some((first, last)) = history.span() else {
        bail!(
            "`{endpoint}` has no monitored window ending between {} and {}",
            from.map_or("its first window".into(), format_ms),
            to.map_or("now".into(), format_ms)
        );
    };
    let html = render_monitoring_report(&history, Some(now_ms()));
    write_atomically(&args.out, html.as_bytes())?;
    if app.settings.json {
        print_json(&serde_json::json!({
            "out": args.out.display().to_string(), "endpoint": endpoint,
            "windows": history.windows.len(), "from_ms": first, "to_ms": last,
            "alerts": history.alerts.len(),
        }))?;
    } else {
        println!(
            "wrote {}: {} window(s) of `{endpoint}` from {} to {}, {} alert(s)",
            args.out.display(),
            history.windows.len(),
            format_ms(first),
            format_ms(last),
            history.alerts.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to a temporary file beside `path` and renames it into place, so a reader
/// never sees half a report and a failed write leaves any earlier one as it was.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        bail!(
            "cannot write {}: the folder {} does not exist",
            path.display(),
            dir.display()
        );
    }
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| {
        format!(
            "cannot write {}: cannot create a file in {}",
            path.display(),
            dir.display()
        )
    })?;
    std::io::Write::write_all(&mut tmp, bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
