//! `aidlc check`: every problem of the framing contract, with its key and line; exit 1 if any.
//! A passing contract is recorded in the store (once per version), so every later record can
//! name the contract that was in force.

use crate::app::App;
use crate::cli::CheckArgs;
use crate::framing;
use crate::output::print_json;
use aidlc_core::ids::ContentHash;
use aidlc_core::records::Project;
use aidlc_core::spec::ProblemSpec;
use aidlc_store::ProjectStore;
use std::process::ExitCode;

pub async fn run(app: &App, _args: CheckArgs) -> anyhow::Result<ExitCode> {
    let spec_path = app.settings.spec_path();
    let report = framing::check_project(&spec_path)?;
    let recorded = if report.is_ok() {
        record_contract(app, &spec_path).await?
    } else {
        None
    };
    if app.settings.json {
        print_json(&serde_json::json!({
            "ok": report.is_ok(),
            "file": report.file,
            "diagnostics": report.diagnostics,
            "recorded_spec_hash": recorded,
        }))?;
    } else {
        // Problems go to stderr like a compiler's, so stdout stays clean for scripts.
        eprint!("{report}");
        let errors = report.errors().count();
        let warnings = report.warnings().count();
        if errors == 0 {
            println!("{}: ok ({warnings} warning(s))", report.file);
            if let Some(h) = &recorded {
                println!("recorded this version of the contract ({h})");
            }
        } else {
            eprintln!("{}: {errors} error(s), {warnings} warning(s)", report.file);
        }
    }
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Stores the contract's text and hash under the project name when this version is new.
pub(crate) async fn record_contract(
    app: &App,
    spec_path: &std::path::Path,
) -> anyhow::Result<Option<ContentHash>> {
    let text = std::fs::read_to_string(spec_path)?;
    let spec = ProblemSpec::parse(&text, &spec_path.display().to_string())?;
    let Some(name) = spec.problem.name else {
        return Ok(None);
    };
    let hash = ContentHash::of(text.as_bytes());
    let store = app.store().await?;
    if store
        .get_project(&name)
        .await?
        .is_some_and(|p| p.spec_hash == hash)
    {
        return Ok(None);
    }
    let ctx = app.audit_context(None);
    let project = Project {
        name,
        spec_toml: text,
        spec_hash: hash.clone(),
        updated_at_ms: ctx.at_ms,
    };
    store.upsert_project(&ctx, &project).await?;
    Ok(Some(hash))
}
