//! The real binary listing alerts that a monitoring round recorded in the store: the table,
//! the filters and `--json`. Runs on SQLite and, when `AIDLC_TEST_POSTGRES_URL` is set, on a
//! fresh PostgreSQL schema.

mod common;

use aidlc_core::alerts::{Signal, evaluate};
use aidlc_core::spec::ProblemSpec;
use aidlc_store::{AlertStore, AuditContext, Store};
use anyhow::Result;
use std::path::Path;
use std::process::{Command, Output};

fn aidlc(dir: &Path, store: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aidlc"))
        .current_dir(dir)
        .args(args)
        .args(["--store", store])
        .env_remove("AIDLC_STORE")
        .env_remove("AIDLC_ARTIFACTS")
        .env_remove("AIDLC_PROJECT")
        .output()
        .expect("aidlc runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const RULES: &str = r#"
[monitor.alerts.drifting]
signal = "drift.share"
when = "> 0.3"
severity = "critical"
"#;

fn signal(endpoint: &str, value: f64, end_ms: i64) -> Signal {
    Signal {
        endpoint: endpoint.into(),
        name: "drift.share".into(),
        value,
        window_start_ms: end_ms - 86_400_000,
        window_end_ms: end_ms,
        evidence: serde_json::json!({ "drifting_features": 3 }),
    }
}

/// One monitoring round, as the server's scheduler runs it, without the channels.
async fn round(store: &Store, signals: &[Signal]) -> Result<()> {
    let rules = ProblemSpec::parse(RULES, "aidlc.toml")?.monitor.rules();
    let endpoints: Vec<String> = signals.iter().map(|s| s.endpoint.clone()).collect();
    let plan = evaluate(&rules, &store.current_alerts(&endpoints).await?, signals);
    let ctx = AuditContext {
        actor: "monitor".into(),
        at_ms: 1_750_000_000_000,
        reason: None,
    };
    store.record_alerts(&ctx, plan.writes).await?;
    Ok(())
}

#[tokio::test]
async fn alerts_list_shows_open_and_resolved_alerts() -> Result<()> {
    let dir = tempfile::tempdir()?;
    for (url, pg) in common::stores(dir.path(), "aidlc_cli_alerts").await? {
        let o = aidlc(dir.path(), &url, &["alerts", "list"]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("no alerts"), "{}", text(&o));

        let store = Store::open(&url).await?;
        // 2025-06-01 and 2025-06-02 (UTC): rain opens and resolves, loans opens.
        round(
            &store,
            &[
                signal("rain", 0.5, 1_748_736_000_000),
                signal("loans", 0.8, 1_748_736_000_000),
            ],
        )
        .await?;
        round(&store, &[signal("rain", 0.1, 1_748_822_400_000)]).await?;

        let o = aidlc(dir.path(), &url, &["alerts", "list"]);
        assert!(o.status.success(), "{}", text(&o));
        let out = String::from_utf8(o.stdout)?;
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(
            lines[0].starts_with("ID") && lines[0].contains("RESOLVED"),
            "{out}"
        );
        let rain = lines.iter().find(|l| l.contains(" rain ")).expect(&out);
        assert!(
            rain.contains("resolved") && rain.contains("critical"),
            "{rain}"
        );
        assert!(
            rain.contains("2025-06-01T00:00:00Z") && rain.contains("2025-06-02T00:00:00Z"),
            "{rain}"
        );
        assert!(rain.contains("0.1000") && rain.contains("> 0.3"), "{rain}");

        let o = aidlc(dir.path(), &url, &["alerts", "list", "--open", "--json"]);
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
        let open = v.as_array().expect("a JSON array");
        assert_eq!(open.len(), 1);
        assert_eq!(open[0]["endpoint"], "loans");
        assert_eq!(open[0]["status"], "open");
        assert_eq!(open[0]["evidence"]["drifting_features"], 3);
        assert_eq!(open[0]["id"].as_str().map(str::len), Some(32));

        let o = aidlc(
            dir.path(),
            &url,
            &["alerts", "list", "--endpoint", "rain", "--json"],
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
        assert_eq!(v.as_array().map(Vec::len), Some(1));
        assert_eq!(v[0]["resolved_ms"], 1_748_822_400_000i64);
        drop(store);
        if let Some((base, schema)) = pg {
            common::drop_schema(&base, &schema).await;
        }
    }
    Ok(())
}
