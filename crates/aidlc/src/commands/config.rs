//! `aidlc config`: the settings this invocation resolved, and where each came from.

use crate::app::App;
use crate::output::{Table, print_json};
use std::process::ExitCode;

pub fn run(app: &App) -> anyhow::Result<ExitCode> {
    let s = &app.settings;
    if s.json {
        print_json(s)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(["SETTING", "VALUE", "FROM"]);
    t.row([
        "project".to_string(),
        s.project_dir.display().to_string(),
        "flag, AIDLC_PROJECT or current folder".into(),
    ]);
    t.row([
        "store".to_string(),
        redact(&s.store),
        s.store_source.to_string(),
    ]);
    t.row([
        "artifacts".to_string(),
        s.artifacts.display().to_string(),
        s.artifacts_source.to_string(),
    ]);
    t.row([
        "store sync".to_string(),
        s.store_sync_error
            .clone()
            .unwrap_or_else(|| s.store_sync.as_str().to_string()),
        s.store_sync_source.to_string(),
    ]);
    t.row([
        "onnxruntime".to_string(),
        s.onnxruntime
            .as_ref()
            .map_or_else(|| "-".to_string(), |p| p.display().to_string()),
        "flag, AIDLC_ONNXRUNTIME, ORT_DYLIB_PATH or [runtime] onnxruntime".into(),
    ]);
    t.row(["actor".to_string(), s.actor.clone(), "OS user".into()]);
    print!("{}", t.render());
    Ok(ExitCode::SUCCESS)
}

/// Hides a password in a database URL before printing it.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact(".aidlc/aidlc.db"), ".aidlc/aidlc.db");
    }
}
