//! The split and label contract: one suite, run on SQLite always and on PostgreSQL when
//! `AIDLC_TEST_POSTGRES_URL` is set (CI sets it), so both backends behave the same.

use aidlc_core::ids::ContentHash;
use aidlc_store::{AuditFilter, AuditStore, LabelStore, NewLabel, NewSplit, SplitStore};
use anyhow::Result;

mod common;

use common::{backends, ctx};

fn split(source: &[u8], manifest: &[u8]) -> NewSplit {
    NewSplit {
        name: "transactions.csv".to_string(),
        source_hash: ContentHash::of(source),
        dataset_version: None,
        kind: "entity_group".to_string(),
        manifest: ContentHash::of(manifest),
        config: serde_json::json!({"seed": 7, "fractions": {"train": 0.7, "valid": 0.15, "test": 0.15}}),
        report: serde_json::json!({"findings": []}),
        train_rows: 70,
        valid_rows: 15,
        test_rows: 14,
        excluded_rows: 1,
    }
}

fn label(key: &str, value: &str, available_at_ms: i64) -> NewLabel {
    NewLabel {
        name: "buys_again".to_string(),
        key: key.to_string(),
        value: Some(value.to_string()),
        available_at_ms,
        event_at_ms: Some(available_at_ms - 1000),
        source: "labels.csv".to_string(),
    }
}

#[tokio::test]
async fn a_split_is_recorded_once_with_its_audit_entry() -> Result<()> {
    for b in backends().await? {
        let s = &b.store;
        let first = s
            .record_splits(&ctx("ana"), vec![split(b"data", b"manifest-1")])
            .await?;
        assert!(first[0].created, "{}", s.backend_name());
        let id = first[0].record.id.clone();
        // The same manifest of the same data is not recorded twice.
        let again = s
            .record_splits(&ctx("bob"), vec![split(b"data", b"manifest-1")])
            .await?;
        assert!(!again[0].created);
        assert_eq!(again[0].record.id, id);
        assert_eq!(again[0].record.created_by, "ana");
        let other = s
            .record_splits(&ctx("ana"), vec![split(b"data", b"manifest-2")])
            .await?;
        assert!(other[0].created);

        let got = s.get_split(&id).await?.expect("recorded");
        assert_eq!(got, first[0].record);
        assert_eq!(got.split.config["seed"], 7);
        let by_manifest = s
            .get_split_by_manifest(&ContentHash::of(b"manifest-1"))
            .await?
            .expect("by manifest");
        assert_eq!(by_manifest.id, id);
        assert_eq!(s.list_splits(Some("transactions.csv")).await?.len(), 2);
        assert!(s.list_splits(Some("other")).await?.is_empty());
        assert!(s.get_split("nope").await?.is_none());

        let audit = s
            .list_audit(&AuditFilter {
                object_kind: Some("split".into()),
                ..AuditFilter::default()
            })
            .await?;
        assert_eq!(audit.len(), 2, "one entry per created split");
        assert_eq!(audit[0].entry.object_id, id);
        assert!(s.verify_audit().await?.ok);
    }
    Ok(())
}

#[tokio::test]
async fn labels_are_idempotent_per_key_and_availability() -> Result<()> {
    for b in backends().await? {
        let s = &b.store;
        // More rows than one INSERT chunk, to cross the batch boundary.
        let batch: Vec<NewLabel> = (0..1200)
            .map(|i| {
                label(
                    &format!("c{i:05}"),
                    if i % 3 == 0 { "1" } else { "0" },
                    1_000 + i,
                )
            })
            .collect();
        let outcome = s.record_labels(&ctx("ana"), batch.clone()).await?;
        assert_eq!((outcome.inserted, outcome.already_present), (1200, 0));
        let again = s.record_labels(&ctx("ana"), batch).await?;
        assert_eq!((again.inserted, again.already_present), (0, 1200));
        // A correction arrives later for one key: a second row, not an overwrite.
        let fix = s
            .record_labels(&ctx("ana"), vec![label("c00001", "1", 50_000)])
            .await?;
        assert_eq!(fix.inserted, 1);

        let keys = vec![
            "c00001".to_string(),
            "c00002".to_string(),
            "zzz".to_string(),
        ];
        let got = s.labels("buys_again", Some(&keys)).await?;
        let seen: Vec<(&str, i64, Option<&str>)> = got
            .iter()
            .map(|l| {
                (
                    l.label.key.as_str(),
                    l.label.available_at_ms,
                    l.label.value.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("c00001", 1_001, Some("0")),
                ("c00001", 50_000, Some("1")),
                ("c00002", 1_002, Some("0")),
            ]
        );
        assert_eq!(s.labels("buys_again", None).await?.len(), 1201);
        assert!(s.labels("other", None).await?.is_empty());

        let audit = s
            .list_audit(&AuditFilter {
                object_kind: Some("labels".into()),
                ..AuditFilter::default()
            })
            .await?;
        // The repeated ingest changed nothing, so it wrote no entry.
        assert_eq!(audit.len(), 2, "{}", s.backend_name());
        assert_eq!(audit[0].entry.details["inserted"], 1200);
        assert!(s.verify_audit().await?.ok);
    }
    Ok(())
}
