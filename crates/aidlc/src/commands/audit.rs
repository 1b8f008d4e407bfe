//! `aidlc audit list` and `aidlc audit verify`.

use crate::app::App;
use crate::cli::{AuditCommand, AuditListArgs};
use crate::output::{Table, format_ms, print_json};
use aidlc_store::{AuditFilter, AuditStore};
use std::process::ExitCode;

pub async fn run(app: &App, cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::List(args) => list(app, args).await,
        AuditCommand::Verify => verify(app).await,
    }
}

async fn list(app: &App, args: AuditListArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let (object_kind, object_id) = match args.object.as_deref() {
        None => (None, None),
        Some(o) => match o.split_once(':') {
            Some((k, id)) => (Some(k.to_string()), Some(id.to_string())),
            None => (Some(o.to_string()), None),
        },
    };
    let entries = store
        .list_audit(&AuditFilter {
            object_kind,
            object_id,
            limit: args.limit,
        })
        .await?;
    if app.settings.json {
        print_json(&entries)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(["SEQ", "WHEN", "WHO", "ACTION", "OBJECT", "REASON"]);
    for e in &entries {
        t.row([
            e.seq.to_string(),
            format_ms(e.entry.at_ms),
            e.entry.actor.clone(),
            e.entry.action.clone(),
            format!("{}:{}", e.entry.object_kind, e.entry.object_id),
            e.entry.reason.clone().unwrap_or_default(),
        ]);
    }
    print!("{}", t.render());
    Ok(ExitCode::SUCCESS)
}

async fn verify(app: &App) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let v = store.verify_audit().await?;
    if app.settings.json {
        print_json(&v)?;
    } else if let Some(b) = &v.first_break {
        eprintln!(
            "audit log verification FAILED after checking {} entries: {b}",
            v.entries
        );
    } else {
        println!("audit log verified: {} entries, chain intact", v.entries);
    }
    Ok(if v.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
