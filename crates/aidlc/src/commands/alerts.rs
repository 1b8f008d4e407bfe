//! `aidlc alerts list`: the alerts the monitoring rules raised, newest first.

use crate::app::App;
use crate::cli::{AlertsCommand, AlertsListArgs};
use crate::output::{Table, format_ms, print_json};
use aidlc_store::{AlertFilter, AlertStore};
use std::process::ExitCode;

pub async fn run(app: &App, cmd: AlertsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AlertsCommand::List(args) => list(app, args).await,
    }
}

async fn list(app: &App, args: AlertsListArgs) -> anyhow::Result<ExitCode> {
    if args.limit.is_some_and(|n| n < 0) {
        anyhow::bail!("--limit must be 0 or more");
    }
    let store = app.store().await?;
    let alerts = store
        .list_alerts(&AlertFilter {
            endpoint: args.endpoint,
            open_only: args.open,
            limit: args.limit,
        })
        .await?;
    if app.settings.json {
        print_json(&alerts)?;
        return Ok(ExitCode::SUCCESS);
    }
    if alerts.is_empty() {
        println!("no alerts");
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new([
        "ID",
        "STATUS",
        "SEVERITY",
        "ENDPOINT",
        "RULE",
        "SIGNAL",
        "VALUE",
        "WHEN",
        "OPENED",
        "LAST SEEN",
        "RESOLVED",
    ]);
    for a in &alerts {
        let s = &a.state;
        t.row([
            a.id.0.clone(),
            s.status.as_str().to_string(),
            s.severity.to_string(),
            s.key.endpoint.clone(),
            s.key.rule.clone(),
            s.key.signal.clone(),
            format!("{:.4}", s.value),
            s.condition.to_string(),
            format_ms(s.opened_ms),
            format_ms(s.last_seen_ms),
            s.resolved_ms.map(format_ms).unwrap_or_default(),
        ]);
    }
    print!("{}", t.render());
    Ok(ExitCode::SUCCESS)
}
