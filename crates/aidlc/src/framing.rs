//! The framing gate: reading `aidlc.toml`, checking it against the data it names, and the rule
//! that later stages refuse to run while the check fails unless the user overrides it — audited.

use aidlc_core::audit::NewAuditEntry;
use aidlc_core::spec::{CheckReport, ProblemSpec, check};
use aidlc_store::{AuditContext, AuditStore};
use anyhow::{Context, bail};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Reads and checks the project's `aidlc.toml`, including whether the data it names has the
/// columns it refers to.
pub fn check_project(spec_path: &Path) -> anyhow::Result<CheckReport> {
    let text = match std::fs::read_to_string(spec_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!(
                "{} not found: run `aidlc init` (or `aidlc init --example rainfall`) first",
                spec_path.display()
            )
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", spec_path.display())),
    };
    let file_name = spec_path.display().to_string();
    let columns = ProblemSpec::parse(&text, &file_name)
        .ok()
        .and_then(|spec| spec.data.source)
        .map(|source| {
            let dir = spec_path.parent().unwrap_or(Path::new("."));
            let path = dir.join(&source);
            header_columns(&path).with_context(|| {
                format!(
                    "[data] source: cannot read the header of {}",
                    path.display()
                )
            })
        })
        .transpose()?;
    Ok(check(&text, &file_name, columns.as_deref()))
}

/// Later stages call this before they train or deploy: the contract must pass `check`, or the
/// user must say why it may be bypassed, which is recorded in the audit log.
pub async fn require_framing(
    spec_path: &Path,
    store: &impl AuditStore,
    ctx: &AuditContext,
    stage: &str,
) -> anyhow::Result<()> {
    let report = check_project(spec_path)?;
    if report.is_ok() {
        return Ok(());
    }
    let Some(reason) = ctx.reason.as_deref().filter(|r| !r.trim().is_empty()) else {
        bail!(
            "{stage} refused: {} fails `aidlc check` ({} error(s)); fix it, or pass --override \"reason\" (audited)\n{report}",
            report.file,
            report.errors().count()
        );
    };
    let problems: Vec<_> = report
        .errors()
        .map(|d| serde_json::json!({"key": d.key, "line": d.line, "message": d.message}))
        .collect();
    store
        .append_audit(vec![NewAuditEntry::new(
            ctx,
            "spec.override",
            "project",
            &report.file,
            serde_json::json!({ "stage": stage, "reason": reason, "problems": problems }),
        )])
        .await?;
    Ok(())
}

/// The column names in the first line of a CSV file (plain or gzip).
pub fn header_columns(path: &Path) -> anyhow::Result<Vec<String>> {
    let file = std::fs::File::open(path)?;
    let mut reader: Box<dyn Read> = Box::new(BufReader::new(file));
    let mut magic = [0u8; 2];
    let gz = {
        let mut f = std::fs::File::open(path)?;
        f.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b]
    };
    if gz {
        reader = Box::new(flate2::read::MultiGzDecoder::new(reader));
    }
    let mut line = String::new();
    BufReader::new(reader).read_line(&mut line)?;
    let line = line.trim_end_matches(['\r', '\n']);
    if line.is_empty() {
        bail!("the file is empty or has no header line");
    }
    Ok(split_csv_line(line))
}

/// Splits one CSV line, honouring double quotes (a doubled quote is a literal quote).
fn split_csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aidlc_store::{AuditFilter, Store};

    #[test]
    fn csv_header_split() {
        assert_eq!(
            split_csv_line("a,\"b,c\",\"d\"\"e\","),
            vec!["a", "b,c", "d\"e", ""]
        );
    }

    #[tokio::test]
    async fn gate_refuses_a_failing_contract_unless_overridden_and_audits_the_override()
    -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let spec = dir.path().join("aidlc.toml");
        std::fs::write(&spec, aidlc_core::templates::init_template())?;
        let store = Store::open(&dir.path().join("db.sqlite").display().to_string()).await?;
        let ctx = AuditContext {
            actor: "ana".into(),
            at_ms: 1,
            reason: None,
        };
        let err = require_framing(&spec, &store, &ctx, "train")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("train refused"), "{err}");
        assert!(store.list_audit(&AuditFilter::default()).await?.is_empty());

        let ctx = AuditContext {
            reason: Some("exploratory run".into()),
            ..ctx
        };
        require_framing(&spec, &store, &ctx, "train").await?;
        let audit = store.list_audit(&AuditFilter::default()).await?;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].entry.action, "spec.override");
        assert_eq!(audit[0].entry.reason.as_deref(), Some("exploratory run"));
        assert_eq!(audit[0].entry.details["stage"], "train");
        Ok(())
    }
}
