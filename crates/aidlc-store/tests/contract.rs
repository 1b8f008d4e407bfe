//! The store contract: one suite, run on SQLite always and on PostgreSQL when
//! `AIDLC_TEST_POSTGRES_URL` is set (CI sets it), so both backends behave the same.

use aidlc_core::alerts::{self, AlertEventKind, AlertStatus, Signal};
use aidlc_core::audit::{AuditBreak, NewAuditEntry};
use aidlc_core::ids::ContentHash;
use aidlc_core::records::{
    Deployment, NewDatasetVersion, NewModelVersion, NewRun, Project, RunStatus,
};
use aidlc_core::spec::{AlertCondition, AlertRule, AlertSeverity, GateOp, SignalPattern};
use aidlc_store::{
    AlertDelivery, AlertFilter, AlertStore, ArtifactError, ArtifactStore, AuditContext,
    AuditFilter, AuditStore, DatasetStore, DeploymentStore, LocalArtifactStore, ModelStore,
    ProjectStore, RunStore, SqliteStore, Store, StoreError, StoreSync, WAL_SYNC_INTERVAL,
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

        // A promotion: the state, the alias and the entries land together.
        s.create_model_versions(
            &ctx("ana"),
            vec![NewModelVersion {
                model: "rain".into(),
                artifact: ContentHash::of(b"promoted"),
                run: None,
                dataset_version: None,
                split: None,
                git_commit: None,
                git_dirty: None,
            }],
        )
        .await?;
        let entry = NewAuditEntry::new(
            &ctx("controller"),
            "rollout.promote",
            "deployment",
            "rain",
            serde_json::json!({"evidence": [1, 2]}),
        );
        s.record_rollout(
            &ctx("controller"),
            "rain",
            serde_json::json!({"rollout": {"status": "promoted"}}),
            Some(("rain".into(), "champion".into(), 1)),
            vec![entry],
        )
        .await?;
        let now = s.get_deployment("rain").await?.expect("deployment");
        assert_eq!(now.state["rollout"]["status"], "promoted");
        assert_eq!(now.updated_by, "controller");
        assert_eq!(s.get_alias("rain", "champion").await?, Some(1));
        let actions: Vec<String> = s
            .list_audit(&AuditFilter::default())
            .await?
            .into_iter()
            .map(|e| e.entry.action)
            .collect();
        assert!(actions.ends_with(&["rollout.promote".to_string(), "alias.set".to_string()]));
        // A missing version aborts the whole change.
        let err = s
            .record_rollout(
                &ctx("controller"),
                "rain",
                serde_json::json!({"rollout": "half"}),
                Some(("rain".into(), "champion".into(), 9)),
                vec![],
            )
            .await;
        assert!(matches!(err, Err(StoreError::NotFound { .. })), "{err:?}");
        assert_eq!(
            s.get_deployment("rain").await?.expect("deployment").state["rollout"]["status"],
            "promoted"
        );
        let err = s
            .record_rollout(&ctx("x"), "nowhere", serde_json::json!({}), None, vec![])
            .await;
        assert!(matches!(err, Err(StoreError::NotFound { .. })), "{err:?}");
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

fn drift_rule() -> AlertRule {
    AlertRule {
        name: "drifting".into(),
        signal: SignalPattern::parse("drift.*").unwrap(),
        when: AlertCondition {
            op: GateOp::Gt,
            threshold: 0.3,
        },
        severity: AlertSeverity::Critical,
        cooldown_ms: 0,
    }
}

fn drift_signal(endpoint: &str, name: &str, value: f64, end_ms: i64) -> Signal {
    Signal {
        endpoint: endpoint.into(),
        name: name.into(),
        value,
        window_start_ms: end_ms - 1000,
        window_end_ms: end_ms,
        evidence: serde_json::json!({"method": "psi", "score": value, "reference_rows": 1000}),
    }
}

/// One monitoring round as the service runs it: the store's current alerts, the state machine,
/// the writes.
async fn round(s: &Store, signals: &[Signal]) -> Result<Vec<aidlc_core::alerts::Alert>> {
    let mut endpoints: Vec<String> = signals.iter().map(|x| x.endpoint.clone()).collect();
    endpoints.sort();
    endpoints.dedup();
    let current = s.current_alerts(&endpoints).await?;
    let plan = alerts::evaluate(&[drift_rule()], &current, signals);
    Ok(s.record_alerts(&ctx("monitor"), plan.writes).await?)
}

#[tokio::test]
async fn alerts_open_update_resolve_with_history_and_audit() -> Result<()> {
    for b in backends().await? {
        let s = &b.store;
        let name = s.backend_name();
        let opened = round(
            s,
            &[
                drift_signal("rain", "drift.share", 0.5, 1000),
                drift_signal("rain", "drift.feature.age", 0.1, 1000),
                drift_signal("loans", "drift.share", 0.9, 1000),
            ],
        )
        .await?;
        assert_eq!(opened.len(), 2, "{name}");
        assert!(opened.iter().all(|a| a.id.as_str().len() == 32));
        let rain = opened
            .iter()
            .find(|a| a.state.key.endpoint == "rain")
            .unwrap()
            .clone();
        assert_eq!(s.get_alert(&rain.id).await?, Some(rain.clone()), "{name}");
        assert_eq!(rain.state.evidence["method"], "psi");
        assert_eq!(rain.state.condition.to_string(), "> 0.3");

        // Persisting: the same alert, updated.
        let updated = round(s, &[drift_signal("rain", "drift.share", 0.625, 2000)]).await?;
        assert_eq!(updated.len(), 1);
        assert_eq!(updated[0].id, rain.id);
        let stored = s.get_alert(&rain.id).await?.unwrap();
        assert_eq!(
            (
                stored.state.value,
                stored.state.last_seen_ms,
                stored.state.observations
            ),
            (0.625, 2000, 2),
            "{name}"
        );
        // Clearing: resolved; then holding again: a second alert of the key.
        round(s, &[drift_signal("rain", "drift.share", 0.1, 3000)]).await?;
        let resolved = s.get_alert(&rain.id).await?.unwrap();
        assert_eq!(resolved.state.status, AlertStatus::Resolved);
        assert_eq!(resolved.state.resolved_ms, Some(3000));
        let again = round(s, &[drift_signal("rain", "drift.share", 0.7, 4000)]).await?;
        assert_ne!(again[0].id, rain.id);

        let history = s.alert_history(&rain.id).await?;
        assert_eq!(
            history
                .iter()
                .map(|h| (h.seq, h.event.kind))
                .collect::<Vec<_>>(),
            vec![
                (1, AlertEventKind::Opened),
                (2, AlertEventKind::Updated),
                (3, AlertEventKind::Resolved)
            ],
            "{name}"
        );
        assert_eq!(history[1].event.value, 0.625);
        assert_eq!(history[2].event.evidence["score"], 0.1);

        // The current alert of each key is its newest one; the lists filter and order.
        let current = s.current_alerts(&["rain".to_string()]).await?;
        assert_eq!(current.len(), 1, "{name}");
        assert_eq!(current[0].id, again[0].id);
        let all = s.list_alerts(&AlertFilter::default()).await?;
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].id, again[0].id, "newest first");
        let open = s
            .list_alerts(&AlertFilter {
                open_only: true,
                ..Default::default()
            })
            .await?;
        assert_eq!(open.len(), 2);
        let rain_alerts = s
            .list_alerts(&AlertFilter {
                endpoint: Some("rain".into()),
                limit: Some(1),
                ..Default::default()
            })
            .await?;
        assert_eq!(rain_alerts.len(), 1);
        assert_eq!(rain_alerts[0].id, again[0].id);

        let audit = s
            .list_audit(&AuditFilter {
                object_kind: Some("alert".into()),
                ..Default::default()
            })
            .await?;
        let actions: Vec<&str> = audit.iter().map(|e| e.entry.action.as_str()).collect();
        assert_eq!(
            actions,
            vec![
                "alert.open",
                "alert.open",
                "alert.update",
                "alert.resolve",
                "alert.open"
            ],
            "{name}"
        );
        assert_eq!(audit[3].entry.object_id, rain.id.0);
        assert!(s.verify_audit().await?.ok);
    }
    Ok(())
}

#[tokio::test]
async fn alert_writes_keep_one_open_alert_per_key() -> Result<()> {
    for b in backends().await? {
        let s = &b.store;
        let name = s.backend_name();
        let first = round(s, &[drift_signal("rain", "drift.share", 0.5, 1000)]).await?;
        let entries = s.list_audit(&AuditFilter::default()).await?.len();
        // A second writer that did not see the open alert opens another: refused, nothing kept.
        let stale = alerts::evaluate(
            &[drift_rule()],
            &[],
            &[
                drift_signal("rain", "drift.share", 0.6, 2000),
                drift_signal("loans", "drift.share", 0.6, 2000),
            ],
        );
        let err = s.record_alerts(&ctx("monitor"), stale.writes).await;
        assert!(
            matches!(err, Err(StoreError::Conflict(_))),
            "{name}: {err:?}"
        );
        assert_eq!(s.list_audit(&AuditFilter::default()).await?.len(), entries);
        assert_eq!(
            s.list_alerts(&AlertFilter::default()).await?.len(),
            1,
            "{name}"
        );

        // Changing an alert that is no longer open, or that does not exist, is refused too.
        let plan = alerts::evaluate(
            &[drift_rule()],
            &first,
            &[drift_signal("rain", "drift.share", 0.1, 3000)],
        );
        s.record_alerts(&ctx("monitor"), plan.writes.clone())
            .await?;
        let err = s.record_alerts(&ctx("monitor"), plan.writes.clone()).await;
        assert!(
            matches!(err, Err(StoreError::Conflict(_))),
            "{name}: {err:?}"
        );
        let mut ghost = plan.writes;
        ghost[0].id = Some("0".repeat(32).into());
        let err = s.record_alerts(&ctx("monitor"), ghost).await;
        assert!(
            matches!(err, Err(StoreError::NotFound { kind: "alert", .. })),
            "{name}: {err:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn alert_deliveries_are_recorded_with_their_failures() -> Result<()> {
    for b in backends().await? {
        let s = &b.store;
        let name = s.backend_name();
        let alert = round(s, &[drift_signal("rain", "drift.share", 0.5, 1000)]).await?;
        let id = alert[0].id.clone();
        let attempt = |channel: &str, attempt: i64, delivered: bool| AlertDelivery {
            alert_id: id.clone(),
            event: AlertEventKind::Opened,
            channel: channel.into(),
            channel_kind: "webhook".into(),
            attempt,
            delivered,
            http_status: Some(if delivered { 200 } else { 503 }),
            error: (!delivered).then(|| "HTTP 503 Service Unavailable".to_string()),
            at_ms: 5000 + attempt,
        };
        s.record_deliveries(
            &ctx("monitor"),
            vec![
                attempt("ops", 1, false),
                attempt("ops", 2, false),
                attempt("ops", 3, true),
                attempt("audit", 1, true),
            ],
        )
        .await?;
        let got = s.alert_deliveries(&id).await?;
        assert_eq!(
            got.iter()
                .map(|d| (d.channel.as_str(), d.attempt, d.delivered))
                .collect::<Vec<_>>(),
            vec![
                ("audit", 1, true),
                ("ops", 1, false),
                ("ops", 2, false),
                ("ops", 3, true)
            ],
            "{name}"
        );
        assert_eq!(
            got[1].error.as_deref(),
            Some("HTTP 503 Service Unavailable")
        );
        assert_eq!(got[1].http_status, Some(503));
        let audit = s
            .list_audit(&AuditFilter {
                object_kind: Some("alert".into()),
                object_id: Some(id.0.clone()),
                ..Default::default()
            })
            .await?;
        assert_eq!(
            audit
                .iter()
                .filter(|e| e.entry.action == "alert.deliver")
                .count(),
            4,
            "{name}"
        );
        // An attempt for an alert that does not exist is refused.
        let mut ghost = attempt("ops", 1, true);
        ghost.alert_id = "f".repeat(32).into();
        let err = s.record_deliveries(&ctx("monitor"), vec![ghost]).await;
        assert!(
            matches!(err, Err(StoreError::NotFound { kind: "alert", .. })),
            "{name}: {err:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn pipelines_allow_one_active_run_per_model() -> Result<()> {
    use aidlc_store::PipelineStore;
    for b in backends().await? {
        let s = &b.store;
        let run = s
            .start_pipeline(
                &ctx("scheduler"),
                "rain",
                "schedule",
                serde_json::json!({"steps": []}),
            )
            .await?;
        assert_eq!(run.status, "running");
        let second = s
            .start_pipeline(&ctx("scheduler"), "rain", "alert", serde_json::json!({}))
            .await;
        assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
        // Another model is not blocked.
        s.start_pipeline(&ctx("scheduler"), "loans", "manual", serde_json::json!({}))
            .await?;
        let done = s
            .update_pipeline(
                &ctx("scheduler"),
                &run.id,
                "handed_off",
                serde_json::json!({"steps": ["train"]}),
                "pipeline.step",
                serde_json::json!({"evidence": 1}),
            )
            .await?;
        assert_eq!(done.status, "handed_off");
        assert_eq!(done.state["steps"][0], "train");
        // Finished, it no longer blocks a new run.
        s.start_pipeline(&ctx("scheduler"), "rain", "manual", serde_json::json!({}))
            .await?;
        assert_eq!(s.list_pipelines(Some("rain"), 10).await?.len(), 2);
        assert_eq!(s.list_pipelines(None, 10).await?.len(), 3);
        let missing = s
            .update_pipeline(
                &ctx("x"),
                "nope",
                "failed",
                serde_json::json!({}),
                "pipeline.step",
                serde_json::json!({}),
            )
            .await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { .. })),
            "{missing:?}"
        );
        let audit = s
            .list_audit(&AuditFilter {
                object_kind: Some("pipeline".into()),
                ..Default::default()
            })
            .await?;
        assert_eq!(audit.len(), 4);
    }
    Ok(())
}

fn point(signal: &str, feature: Option<&str>, start: i64, value: f64) -> aidlc_store::MonitorPoint {
    aidlc_store::MonitorPoint {
        endpoint: "rain".into(),
        window_start_ms: start,
        window_end_ms: start + 1000,
        signal: signal.into(),
        feature: feature.map(str::to_string),
        value,
        extra: serde_json::json!({ "method": "ks", "start": start }),
    }
}

#[tokio::test]
async fn monitor_points_are_time_series_written_idempotently() -> Result<()> {
    use aidlc_store::{MonitorQuery, MonitorStore};
    for b in backends().await? {
        let s = &b.store;
        let name = s.backend_name();
        assert_eq!(s.latest_monitor_window("rain").await?, None);
        let first = vec![
            point("drift.share", None, 0, 0.25),
            point("drift.feature.age", Some("age"), 0, 0.01),
            point("drift.feature.city", Some("city"), 0, 0.4),
            point("drift.share", None, 1000, 0.5),
            // The same identity twice in one batch: the last one is kept.
            point("drift.feature.age", Some("age"), 1000, 0.7),
            point("drift.feature.age", Some("age"), 1000, 0.02),
            point("performance.roc_auc", None, 1000, f64::NAN),
        ];
        let outcome = s.record_monitor_points(&ctx("monitor"), first).await?;
        assert_eq!((outcome.points, outcome.windows), (6, 2), "{name}");
        // Writing the second window again (new values) replaces its points.
        let again = vec![
            point("drift.share", None, 1000, 0.75),
            point("drift.feature.age", Some("age"), 1000, 0.03),
        ];
        s.record_monitor_points(&ctx("monitor"), again).await?;
        let all = s
            .monitor_points(&MonitorQuery {
                endpoint: "rain".into(),
                ..MonitorQuery::default()
            })
            .await?;
        assert_eq!(all.len(), 6, "{name}: {all:#?}");
        let got: Vec<(i64, &str, Option<&str>)> = all
            .iter()
            .map(|p| (p.window_start_ms, p.signal.as_str(), p.feature.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, "drift.feature.age", Some("age")),
                (0, "drift.feature.city", Some("city")),
                (0, "drift.share", None),
                (1000, "drift.feature.age", Some("age")),
                (1000, "drift.share", None),
                (1000, "performance.roc_auc", None),
            ],
            "{name}"
        );
        assert_eq!(all[3].value, 0.03, "{name}");
        assert_eq!(all[4].value, 0.75, "{name}");
        assert!(
            all[5].value.is_nan(),
            "{name}: a missing value reads back as NaN"
        );
        assert_eq!(
            all[0].extra,
            serde_json::json!({"method": "ks", "start": 0})
        );

        let drift = s
            .monitor_points(&MonitorQuery {
                endpoint: "rain".into(),
                from_ms: Some(1000),
                to_ms: Some(2000),
                signal_prefix: Some("drift.feature.".into()),
            })
            .await?;
        assert_eq!(drift.len(), 1, "{name}: {drift:#?}");
        assert_eq!(drift[0].window_start_ms, 1000);
        // `_` is not a wildcard in a prefix.
        let none = s
            .monitor_points(&MonitorQuery {
                endpoint: "rain".into(),
                signal_prefix: Some("drift_".into()),
                ..MonitorQuery::default()
            })
            .await?;
        assert!(none.is_empty(), "{name}");
        assert_eq!(s.latest_monitor_window("rain").await?, Some((1000, 2000)));
        assert_eq!(s.latest_monitor_window("other").await?, None);

        let audit = s
            .list_audit(&AuditFilter {
                object_kind: Some("deployment".into()),
                object_id: Some("rain".into()),
                limit: None,
            })
            .await?;
        let records: Vec<_> = audit
            .iter()
            .filter(|e| e.entry.action == "monitor.record")
            .collect();
        assert_eq!(records.len(), 2, "{name}");
        assert_eq!(records[0].entry.details["windows"], 2);
        assert_eq!(records[1].entry.details["points"], 2);
        assert!(s.verify_audit().await?.ok, "{name}");
    }
    Ok(())
}
