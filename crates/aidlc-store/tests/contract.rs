//! The store contract: one suite, run on SQLite always and on PostgreSQL when
//! `AIDLC_TEST_POSTGRES_URL` is set (CI sets it), so both backends behave the same.

use aidlc_core::audit::{AuditBreak, NewAuditEntry};
use aidlc_core::ids::ContentHash;
use aidlc_core::records::{
    Deployment, NewDatasetVersion, NewModelVersion, NewRun, Project, RunStatus,
};
use aidlc_store::{
    ArtifactError, ArtifactStore, AuditContext, AuditFilter, AuditStore, DatasetStore,
    DeploymentStore, LocalArtifactStore, ModelStore, ProjectStore, RunStore, SqliteStore, Store,
    StoreError, StoreSync, WAL_SYNC_INTERVAL,
};
use anyhow::Result;
use std::process::Command;

mod common;

use common::{backends, ctx};

fn dataset(name: &str, bytes: &[u8]) -> NewDatasetVersion {
    NewDatasetVersion {
        name: name.to_string(),
        hash: ContentHash::of(bytes),
        artifact: ContentHash::of(bytes),
        schema: serde_json::json!({"columns": [{"name": "x", "type": "float"}]}),
        profile: serde_json::json!({"x": {"mean": 1.5}}),
        source: "data.csv".to_string(),
        rows: 3,
        valid: true,
        validation: serde_json::json!([{"rule": "not_null", "column": "x", "passed": true}]),
    }
}

/// Runs raw SQL against the backend's database, to tamper with rows as an attacker would.
async fn raw_sql(store: &Store, sql: &str) -> Result<()> {
    match store {
        Store::Sqlite(s) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(s.pool())
                .await?;
        }
        Store::Postgres(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .execute(p.pool())
                .await?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn projects_round_trip_and_are_audited() -> Result<()> {
    for b in backends().await? {
        let s = &b.store;
        let p = Project {
            name: "rain".into(),
            spec_toml: "[problem]\nname = \"rain\"\n".into(),
            spec_hash: ContentHash::of(b"v1"),
            updated_at_ms: 1,
        };
        s.upsert_project(&ctx("ana"), &p).await?;
        let p2 = Project {
            spec_hash: ContentHash::of(b"v2"),
            updated_at_ms: 2,
            ..p.clone()
        };
        s.upsert_project(&ctx("ana"), &p2).await?;
        assert_eq!(
            s.get_project("rain").await?,
            Some(p2.clone()),
            "{}",
            s.backend_name()
        );
        assert_eq!(s.list_projects().await?, vec![p2]);
        assert_eq!(s.get_project("nope").await?, None);
        let audit = s
            .list_audit(&AuditFilter {
                object_kind: Some("project".into()),
                ..Default::default()
            })
            .await?;
        assert_eq!(audit.len(), 2);
        assert!(
            audit
                .iter()
                .all(|e| e.entry.actor == "ana" && e.entry.action == "project.upsert")
        );
    }
    Ok(())
}

#[tokio::test]
async fn dataset_versions_are_numbered_and_deduplicated_by_hash() -> Result<()> {
    for b in backends().await? {
        let s = &b.store;
        let out = s
            .create_dataset_versions(
                &ctx("ana"),
                vec![dataset("loans", b"a"), dataset("loans", b"b")],
            )
            .await?;
        assert_eq!(
            out.iter()
                .map(|o| (o.version.version, o.created))
                .collect::<Vec<_>>(),
            vec![(1, true), (2, true)]
        );
        // The same bytes again are the same version, reported as not created.
        let again = s
            .create_dataset_versions(&ctx("bo"), vec![dataset("loans", b"a")])
            .await?;
        assert_eq!((again[0].version.version, again[0].created), (1, false));
        assert_eq!(again[0].version.id, out[0].version.id);
        // Another name numbers independently.
        let other = s
            .create_dataset_versions(&ctx("bo"), vec![dataset("rain", b"a")])
            .await?;
        assert_eq!(other[0].version.version, 1);

        let latest = s.get_dataset_version("loans", None).await?.expect("latest");
        assert_eq!(latest.version, 2);
        assert_eq!(latest.data, dataset("loans", b"b"));
        assert_eq!(latest.created_by, "ana");
        let v1 = s.get_dataset_version("loans", Some(1)).await?.expect("v1");
        assert_eq!(s.get_dataset_version_by_id(&v1.id).await?, Some(v1));
        assert_eq!(s.list_dataset_versions(Some("loans")).await?.len(), 2);
        assert_eq!(s.list_dataset_versions(None).await?.len(), 3);
        assert_eq!(s.get_dataset_version("loans", Some(9)).await?, None);
        // Only created versions are audited.
        let audit = s
            .list_audit(&AuditFilter {
                object_kind: Some("dataset_version".into()),
                ..Default::default()
            })
            .await?;
        assert_eq!(audit.len(), 3);
    }
    Ok(())
}

#[tokio::test]
async fn runs_move_through_statuses() -> Result<()> {
    for b in backends().await? {
        let s = &b.store;
        let d = s
            .create_dataset_versions(&ctx("ana"), vec![dataset("rain", b"x")])
            .await?;
        let runs = s
            .create_runs(
                &ctx("ana"),
                (0..3)
                    .map(|i| NewRun {
                        project: "rain".into(),
                        name: format!("run-{i}"),
                        dataset_version: Some(d[0].version.id.clone()),
                        git_commit: Some("abc123".into()),
                        git_dirty: Some(false),
                        params: serde_json::json!({"lr": 0.1, "i": i}),
                    })
                    .collect(),
            )
            .await?;
        assert_eq!(runs.len(), 3);
        assert!(runs.iter().all(|r| r.id.as_str().len() == 32));
        let done = s
            .set_run_status(
                &AuditContext {
                    at_ms: 1_750_000_000_500,
                    ..ctx("ana")
                },
                &runs[1].id,
                RunStatus::Finished,
            )
            .await?;
        assert_eq!(done.status, RunStatus::Finished);
        assert_eq!(done.ended_at_ms, Some(1_750_000_000_500));
        assert_eq!(s.get_run(&runs[1].id).await?, Some(done));
        assert_eq!(s.list_runs("rain").await?.len(), 3);
        let missing = s
            .set_run_status(&ctx("ana"), &"0".repeat(32).into(), RunStatus::Failed)
            .await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { kind: "run", .. })),
            "{missing:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn model_versions_and_aliases() -> Result<()> {
    for b in backends().await? {
        let s = &b.store;
        let mv = |m: &str| NewModelVersion {
            model: m.into(),
            artifact: ContentHash::of(m.as_bytes()),
            run: None,
            dataset_version: None,
            split: Some(ContentHash::of(b"split")),
            git_commit: None,
            git_dirty: None,
        };
        let out = s
            .create_model_versions(&ctx("ana"), vec![mv("rain"), mv("rain"), mv("loans")])
            .await?;
        assert_eq!(
            out.iter().map(|m| m.version).collect::<Vec<_>>(),
            vec![1, 2, 1]
        );
        s.set_alias(&ctx("ana"), "rain", "champion", 1).await?;
        s.set_alias(
            &AuditContext {
                reason: Some("hotfix".into()),
                ..ctx("bo")
            },
            "rain",
            "champion",
            2,
        )
        .await?;
        assert_eq!(s.get_alias("rain", "champion").await?, Some(2));
        assert_eq!(s.get_alias("rain", "challenger").await?, None);
        let err = s.set_alias(&ctx("ana"), "rain", "champion", 7).await;
        assert!(matches!(err, Err(StoreError::NotFound { .. })), "{err:?}");
        assert_eq!(
            s.get_model_version("rain", 2).await?.map(|m| m.data.split),
            Some(Some(ContentHash::of(b"split")))
        );
        assert_eq!(s.list_model_versions(Some("rain")).await?.len(), 2);
        let audit = s
            .list_audit(&AuditFilter {
                object_kind: Some("model_version".into()),
                ..Default::default()
            })
            .await?;
        let alias_changes: Vec<_> = audit
            .iter()
            .filter(|e| e.entry.action == "alias.set")
            .collect();
        assert_eq!(alias_changes.len(), 2);
        assert_eq!(alias_changes[1].entry.reason.as_deref(), Some("hotfix"));
        assert_eq!(alias_changes[1].entry.details["previous_version"], 1);
    }
    Ok(())
}

#[tokio::test]
async fn deployments_upsert() -> Result<()> {
    for b in backends().await? {
        let s = &b.store;
        let d = Deployment {
            endpoint: "rain".into(),
            model: "rain".into(),
            alias: "champion".into(),
            state: serde_json::json!({"step": 0}),
            updated_by: "ana".into(),
            updated_at_ms: 1_750_000_000_000,
        };
        s.upsert_deployments(&ctx("ana"), vec![d.clone()]).await?;
        let d2 = Deployment {
            state: serde_json::json!({"step": 1}),
            ..d.clone()
        };
        s.upsert_deployments(&ctx("ana"), vec![d2.clone()]).await?;
        assert_eq!(s.get_deployment("rain").await?, Some(d2));
        assert_eq!(s.list_deployments().await?.len(), 1);
    }
    Ok(())
}

#[tokio::test]
async fn audit_chain_detects_edits_deletions_and_truncation() -> Result<()> {
    for b in backends().await? {
        let s = &b.store;
        let c = ctx("ana");
        let batch: Vec<_> = (0..5)
            .map(|i| {
                NewAuditEntry::new(
                    &c,
                    "spec.override",
                    "project",
                    "rain",
                    serde_json::json!({"i": i}),
                )
            })
            .collect();
        let entries = s.append_audit(batch).await?;
        assert_eq!(
            entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 5]
        );
        assert!(s.verify_audit().await?.ok);
        let listed = s
            .list_audit(&AuditFilter {
                limit: Some(2),
                ..Default::default()
            })
            .await?;
        assert_eq!(listed.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![4, 5]);
        assert_eq!(
            listed[1],
            entries[4],
            "{}: entries round-trip exactly",
            s.backend_name()
        );

        raw_sql(
            s,
            "UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 3",
        )
        .await?;
        let v = s.verify_audit().await?;
        assert_eq!(
            v.first_break,
            Some(AuditBreak::Edited { seq: 3 }),
            "{}",
            s.backend_name()
        );
        raw_sql(s, "UPDATE audit_log SET reason = NULL WHERE seq = 3").await?;
        assert!(
            s.verify_audit().await?.ok,
            "restoring the row restores the chain"
        );

        raw_sql(s, "UPDATE audit_log SET details = 'not json' WHERE seq = 2").await?;
        assert_eq!(
            s.verify_audit().await?.first_break,
            Some(AuditBreak::Edited { seq: 2 })
        );
        raw_sql(
            s,
            "UPDATE audit_log SET details = '{\"i\":1}' WHERE seq = 2",
        )
        .await?;
        assert!(s.verify_audit().await?.ok);

        raw_sql(s, "DELETE FROM audit_log WHERE seq = 4").await?;
        assert_eq!(
            s.verify_audit().await?.first_break,
            Some(AuditBreak::Gap { after: 3, next: 5 })
        );

        raw_sql(s, "DELETE FROM audit_log WHERE seq = 5").await?;
        assert_eq!(
            s.verify_audit().await?.first_break,
            Some(AuditBreak::HeadMismatch {
                head_seq: 5,
                last_seq: 3
            })
        );
    }
    Ok(())
}

#[tokio::test]
async fn reopening_keeps_data_and_does_not_remigrate() -> Result<()> {
    for b in backends().await? {
        b.store
            .create_dataset_versions(&ctx("ana"), vec![dataset("rain", b"x")])
            .await?;
        let again = Store::open(&b.url).await?;
        assert_eq!(again.list_dataset_versions(None).await?.len(), 1);
        assert!(again.verify_audit().await?.ok);
    }
    Ok(())
}

/// SQLite's two durability modes: `full` runs `synchronous = FULL` (every commit fsynced before
/// it returns, so nothing is ever left unsynced); `normal` runs `synchronous = NORMAL` and its
/// syncer thread fsyncs the WAL soon after a commit. Both keep the data across a reopen.
#[tokio::test]
async fn sqlite_sync_modes() -> Result<()> {
    let dir = tempfile::tempdir()?;
    for (sync, level) in [(StoreSync::Full, 2_i64), (StoreSync::Normal, 1)] {
        let path = dir.path().join(format!("{}.db", sync.as_str()));
        let store = SqliteStore::open_with(&path, sync).await?;
        let got: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(store.pool())
            .await?;
        assert_eq!(got, level, "{sync}");
        let pages: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(store.pool())
            .await?;
        assert_eq!(pages, 10_000);
        store
            .create_dataset_versions(&ctx("ana"), vec![dataset("rain", b"x")])
            .await?;
        if sync == StoreSync::Full {
            assert_eq!(store.unsynced_commits(), 0);
        } else {
            // The syncer runs every WAL_SYNC_INTERVAL; a loaded machine may delay it a little.
            let deadline = std::time::Instant::now() + 50 * WAL_SYNC_INTERVAL;
            while store.unsynced_commits() > 0 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the WAL was never synced"
                );
                tokio::time::sleep(WAL_SYNC_INTERVAL / 10).await;
            }
            store
                .create_dataset_versions(&ctx("ana"), vec![dataset("rain", b"y")])
                .await?;
            store.sync()?;
            assert_eq!(store.unsynced_commits(), 0);
        }
        drop(store);
        let again = SqliteStore::open_with(&path, sync).await?;
        let versions = again.list_dataset_versions(Some("rain")).await?.len();
        assert_eq!(versions, if sync == StoreSync::Full { 1 } else { 2 });
    }
    Ok(())
}

#[tokio::test]
async fn bad_locations_are_clear_errors() {
    let err = Store::open("mysql://x").await.unwrap_err();
    assert!(err.to_string().contains("mysql://x"), "{err}");
}

/// Writes done by one child process of the concurrency test; a no-op unless the parent set the
/// environment, so it also passes when the suite runs normally.
#[tokio::test]
async fn concurrent_writer_child() -> Result<()> {
    let Ok(url) = std::env::var("AIDLC_TEST_CHILD_STORE") else {
        return Ok(());
    };
    let who = std::env::var("AIDLC_TEST_CHILD_NAME")?;
    let store = Store::open(&url).await?;
    for i in 0..40 {
        let c = ctx(&who);
        store
            .append_audit(vec![
                NewAuditEntry::new(
                    &c,
                    "test.write",
                    "run",
                    &format!("{who}-{i}"),
                    serde_json::json!({"i": i}),
                ),
                NewAuditEntry::new(
                    &c,
                    "test.write",
                    "run",
                    &format!("{who}-{i}b"),
                    serde_json::json!({"i": i}),
                ),
            ])
            .await?;
        store
            .create_dataset_versions(&c, vec![dataset("shared", format!("{who}-{i}").as_bytes())])
            .await?;
    }
    Ok(())
}

/// Two processes writing one store at once lose nothing and keep the audit chain intact.
#[tokio::test]
async fn two_processes_write_one_store() -> Result<()> {
    for b in backends().await? {
        let exe = std::env::current_exe()?;
        let children: Vec<_> = ["p1", "p2"]
            .iter()
            .map(|name| {
                Command::new(&exe)
                    .args([
                        "--exact",
                        "concurrent_writer_child",
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env("AIDLC_TEST_CHILD_STORE", &b.url)
                    .env("AIDLC_TEST_CHILD_NAME", name)
                    .spawn()
            })
            .collect::<std::io::Result<_>>()?;
        for mut c in children {
            assert!(
                c.wait()?.success(),
                "a writer process failed ({})",
                b.store.backend_name()
            );
        }
        let s = &b.store;
        let all = s.list_audit(&AuditFilter::default()).await?;
        let writes = all
            .iter()
            .filter(|e| e.entry.action == "test.write")
            .count();
        assert_eq!(writes, 2 * 40 * 2, "{}", s.backend_name());
        let versions = s.list_dataset_versions(Some("shared")).await?;
        assert_eq!(
            versions.iter().map(|v| v.version).collect::<Vec<_>>(),
            (1..=80).collect::<Vec<i64>>()
        );
        let v = s.verify_audit().await?;
        assert!(v.ok, "{:?}", v.first_break);
        assert_eq!(v.entries, 2 * 40 * 3);
    }
    Ok(())
}

#[tokio::test]
async fn artifacts_are_content_addressed_and_verified() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let a = LocalArtifactStore::new(dir.path().join("artifacts"));
    let h = a.put_bytes(b"model bytes".to_vec()).await?;
    assert_eq!(h, ContentHash::of(b"model bytes"));
    assert_eq!(
        a.put_bytes(b"model bytes".to_vec()).await?,
        h,
        "same bytes, same address"
    );
    assert_eq!(a.get_bytes(&h).await?, b"model bytes");

    let src = dir.path().join("big.bin");
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&src, &big)?;
    let hb = a.put_file(&src).await?;
    assert_eq!(hb, ContentHash::of(&big));
    let out = dir.path().join("out.bin");
    a.get_to_file(&hb, &out).await?;
    assert_eq!(std::fs::read(&out)?, big);
    assert!(a.exists(&hb).await?);

    // A corrupted file is reported, never served.
    std::fs::write(a.path_of(&h), b"tampered")?;
    match a.get_bytes(&h).await {
        Err(ArtifactError::Corrupt { hash, actual }) => {
            assert_eq!(hash, h);
            assert_eq!(actual, ContentHash::of(b"tampered"));
        }
        other => panic!("expected corruption to be reported, got {other:?}"),
    }
    let missing = ContentHash::of(b"never stored");
    assert!(matches!(
        a.get_bytes(&missing).await,
        Err(ArtifactError::NotFound(_))
    ));
    // No temporary files are left behind.
    let tmp = std::fs::read_dir(dir.path().join("artifacts/tmp"))?.count();
    assert_eq!(tmp, 0);
    Ok(())
}
