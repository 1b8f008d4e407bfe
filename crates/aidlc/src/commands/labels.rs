//! `aidlc labels ingest`: a labels file recorded with the time each label became available.

use crate::app::{App, now_ms};
use crate::cli::LabelsCommand;
use crate::output::print_json;
use aidlc_service::labels::{LabelIngestRequest, ingest_labels};
use std::process::ExitCode;

pub async fn run(app: &App, cmd: LabelsCommand) -> anyhow::Result<ExitCode> {
    let LabelsCommand::Ingest(args) = cmd;
    let label_column = match args.label {
        Some(c) => c,
        None => app
            .spec_if_present()?
            .unwrap_or_default()
            .problem
            .label
            .column
            .unwrap_or_else(|| "label".to_string()),
    };
    let request = LabelIngestRequest {
        path: args.path,
        key_column: args.key,
        label_column,
        time_column: args.time,
        event_time_column: args.event_time,
        name: args.name,
        now_ms: now_ms(),
    };
    let store = app.store().await?;
    let report = ingest_labels(&store, &app.audit_context(None), &request).await?;
    if app.settings.json {
        print_json(&report)?;
    } else {
        println!(
            "labels `{}`: {} rows read, {} recorded, {} already present, {} skipped (no key or time)",
            report.name,
            report.rows,
            report.outcome.inserted,
            report.outcome.already_present,
            report.skipped
        );
    }
    Ok(ExitCode::SUCCESS)
}
