//! The real binary splitting the CDNOW transactions: a random split of rows is reported with its
//! entity overlap, an entity-group split of the same data has none; then labels and a
//! point-in-time join from the command line. Runs on SQLite and, when `AIDLC_TEST_POSTGRES_URL`
//! is set, on a fresh PostgreSQL schema.

mod common;

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

#[tokio::test]
async fn random_rows_leak_entities_and_entity_groups_do_not() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let cdnow = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../datasets/cdnow_transactions_1997_1998.csv");
    std::fs::copy(&cdnow, dir.path().join("transactions.csv"))?;
    for (store, pg) in common::stores(dir.path(), "aidlc_cli_split").await? {
        let split = |kind: &str| {
            aidlc(
                dir.path(),
                &store,
                &[
                    "data",
                    "split",
                    "transactions.csv",
                    "--kind",
                    kind,
                    "--entity",
                    "customer_id",
                    "--time",
                    "date",
                    "--seed",
                    "3",
                    "--json",
                ],
            )
        };
        let o = split("random");
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
        let overlap = &v["report"]["entity_overlap"];
        assert!(
            overlap["held_out_seen_in_train"].as_u64().unwrap() > 1000,
            "{overlap}"
        );
        assert!(overlap["train_test"].as_u64().unwrap() > 0);
        assert!(
            v["report"]["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["check"] == "entity_overlap" && f["severity"] == "warning"),
            "{}",
            v["report"]["findings"]
        );
        assert_eq!(v["outcome"]["created"], true);

        let o = split("entity_group");
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
        let overlap = &v["report"]["entity_overlap"];
        for k in [
            "train_valid",
            "train_test",
            "valid_test",
            "held_out_seen_in_train",
        ] {
            assert_eq!(overlap[k], 0, "{k}: {overlap}");
        }
        let manifest = v["manifest_hash"].as_str().unwrap().to_string();
        // The same split of the same bytes is the same manifest, recorded once.
        let o = split("entity_group");
        let again: serde_json::Value = serde_json::from_slice(&o.stdout)?;
        assert_eq!(again["manifest_hash"], manifest);
        assert_eq!(again["outcome"]["created"], false);

        // The table form names the overlap too.
        let o = aidlc(
            dir.path(),
            &store,
            &[
                "data",
                "split",
                "transactions.csv",
                "--kind",
                "random",
                "--entity",
                "customer_id",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("warning[entity_overlap]"), "{}", text(&o));

        let o = aidlc(
            dir.path(),
            &store,
            &["audit", "list", "--object", "split", "--json"],
        );
        assert!(o.status.success(), "{}", text(&o));
        let audit: serde_json::Value = serde_json::from_slice(&o.stdout)?;
        assert_eq!(audit.as_array().map(Vec::len), Some(3), "{audit}");
        if let Some((base, schema)) = pg {
            common::drop_schema(&base, &schema).await;
        }
    }
    Ok(())
}

#[tokio::test]
async fn labels_ingest_and_a_point_in_time_join_from_the_command_line() -> Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("labels.csv"),
        "customer_id,buys_again,known_at\n00001,1,1997-04-01\n00002,0,1997-04-02\n,1,1997-04-03\n",
    )?;
    std::fs::write(
        dir.path().join("events.csv"),
        "customer_id,churned,churned_on,known_at\n00001,1,1997-05-01,1997-05-03\n00002,0,1997-05-31,1997-06-01\n00003,1,,1997-06-01\n",
    )?;
    std::fs::write(
        dir.path().join("entities.csv"),
        "customer_id,date\n00001,1997-02-01\n00001,1997-03-15\n00009,1997-03-15\n",
    )?;
    std::fs::write(
        dir.path().join("features.csv"),
        "customer_id,date,frequency,written\n00001,1997-01-10,1,1997-01-10\n00001,1997-03-01,2,1997-03-20\n",
    )?;
    for (store, pg) in common::stores(dir.path(), "aidlc_cli_split").await? {
        let ingest = [
            "labels",
            "ingest",
            "labels.csv",
            "--key",
            "customer_id",
            "--label",
            "buys_again",
            "--time",
            "known_at",
            "--json",
        ];
        let o = aidlc(dir.path(), &store, &ingest);
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
        assert_eq!(
            (v["outcome"]["inserted"].as_u64(), v["skipped"].as_u64()),
            (Some(2), Some(1))
        );
        let o = aidlc(dir.path(), &store, &ingest);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
        assert_eq!(
            v["outcome"]["already_present"], 2,
            "ingesting twice changes nothing"
        );
        // Labels keyed by entity and event time; a row without its event time cannot be placed.
        let o = aidlc(
            dir.path(),
            &store,
            &[
                "labels",
                "ingest",
                "events.csv",
                "--key",
                "customer_id",
                "--label",
                "churned",
                "--event-time",
                "churned_on",
                "--time",
                "known_at",
                "--json",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
        assert_eq!(
            (v["outcome"]["inserted"].as_u64(), v["skipped"].as_u64()),
            (Some(2), Some(1))
        );
        if let Some((base, schema)) = pg {
            common::drop_schema(&base, &schema).await;
        }
    }

    let join = |extra: &[&str]| {
        let mut args = vec![
            "features",
            "join",
            "--entities",
            "entities.csv",
            "--features",
            "features.csv",
            "--key",
            "customer_id",
            "--time",
            "date",
            "--created-column",
            "written",
            "--out",
            "train.csv",
        ];
        args.extend_from_slice(extra);
        let store = dir.path().join("aidlc.db").display().to_string();
        let o = aidlc(dir.path(), &store, &args);
        assert!(o.status.success(), "{}", text(&o));
        std::fs::read_to_string(dir.path().join("train.csv")).unwrap()
    };
    // The row for 1997-03-01 was written on 03-20: unknown on 03-15, so the older value is used.
    assert_eq!(
        join(&[]),
        "customer_id,date,frequency\n00001,1997-02-01,1\n00001,1997-03-15,1\n00009,1997-03-15,\n"
    );
    assert_eq!(
        join(&["--allow-created-after"]),
        "customer_id,date,frequency\n00001,1997-02-01,1\n00001,1997-03-15,2\n00009,1997-03-15,\n"
    );
    Ok(())
}

#[test]
fn split_settings_come_from_aidlc_toml_and_late_labels_are_counted() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let cdnow = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../datasets/cdnow_transactions_1997_1998.csv");
    std::fs::copy(&cdnow, dir.path().join("transactions.csv"))?;
    std::fs::write(
        dir.path().join("aidlc.toml"),
        "[problem]\nentity = \"customer_id\"\ntime = \"date\"\n\n[problem.label]\ndelay = \"90d\"\n\n\
         [split]\nkind = \"temporal_entity\"\ntrain = 0.6\nvalid = 0.2\ntest = 0.2\nseed = 3\ngap = \"30d\"\n",
    )?;
    let store = dir.path().join("aidlc.db").display().to_string();
    let o = aidlc(
        dir.path(),
        &store,
        &["data", "split", "transactions.csv", "--json"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
    let report = &v["report"];
    assert_eq!(report["kind"], "temporal_entity");
    assert_eq!(report["entity_overlap"]["held_out_seen_in_train"], 0);
    assert_eq!(report["time_overlap"]["held_out_rows_not_after_train"], 0);
    // A 30-day gap is shorter than the 90-day label delay: some training labels were not known
    // at the cut-off, and the report counts them.
    assert!(
        report["late_labels"]["train_rows"].as_u64().unwrap() > 0,
        "{report}"
    );
    let purged = report["rows"]["excluded"].as_u64().unwrap();
    assert!(
        purged > 0,
        "held-out entities' early rows and the gap are excluded"
    );

    // A flag overrides the file: a random split of the same rows leaks entities.
    let o = aidlc(
        dir.path(),
        &store,
        &[
            "data",
            "split",
            "transactions.csv",
            "--kind",
            "random",
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
    assert!(v["report"]["entity_overlap"]["share"].as_f64().unwrap() > 0.5);
    Ok(())
}

/// The rainfall example's time column is a day index: with `time_unit = "1d"` a one-day label
/// delay is one day, so the last training day's label is known at the first validation day and
/// no training row is late. Read as milliseconds, every training row would look late.
#[test]
fn a_numeric_day_index_uses_the_declared_time_unit() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = dir.path().join("db.sqlite").display().to_string();
    let o = aidlc(dir.path(), &store, &["init", "--example", "rainfall"]);
    assert!(o.status.success(), "{}", text(&o));
    let late_rows = |dir: &Path| -> Result<u64> {
        let o = aidlc(
            dir,
            &store,
            &[
                "data",
                "split",
                "data/rainfall.csv",
                "--kind",
                "temporal",
                "--json",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
        Ok(v["report"]["late_labels"]["train_rows"]
            .as_u64()
            .expect("late label count"))
    };
    assert_eq!(late_rows(dir.path())?, 0);
    let spec = std::fs::read_to_string(dir.path().join("aidlc.toml"))?;
    std::fs::write(
        dir.path().join("aidlc.toml"),
        // The example's one-day gap would, read as milliseconds, purge every training row; the
        // point here is the late-label count, so the gap goes too.
        spec.replace("time_unit = \"1d\"", "")
            .replace("gap = \"1d\"", ""),
    )?;
    assert_eq!(
        late_rows(dir.path())?,
        12711,
        "without a unit the day index reads as milliseconds"
    );
    Ok(())
}
