//! The split use case against a real store: a recorded dataset version (its Parquet artifact)
//! resolved as NAME@VERSION, split, its manifest stored and the split recorded against the
//! dataset's content hash.

use aidlc_core::ids::ContentHash;
use aidlc_core::records::NewDatasetVersion;
use aidlc_data::split::{Fractions, SplitKind, SplitPlan};
use aidlc_data::{Column, ColumnKind, ColumnSchema, write_table};
use aidlc_service::split::{SplitColumns, SplitManifest, load_dataset, record_split};
use aidlc_store::{
    ArtifactStore, AuditContext, DatasetStore, LocalArtifactStore, SplitStore, Store,
};

fn ctx() -> AuditContext {
    AuditContext {
        actor: "test".into(),
        at_ms: 1_750_000_000_000,
        reason: None,
    }
}

#[tokio::test]
async fn a_dataset_version_is_split_and_recorded_against_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("aidlc.db").display().to_string())
        .await
        .unwrap();
    let artifacts = LocalArtifactStore::new(dir.path().join("artifacts"));

    // 60 rows of 12 customers, with ids that only survive as text.
    let n = 60;
    let ids: Vec<Option<String>> = (0..n).map(|i| Some(format!("{:05}", i % 12))).collect();
    let amount: Vec<f64> = (0..n).map(|i| (i * 7 % 13) as f64).collect();
    let parquet = dir.path().join("orders.parquet");
    write_table(
        &parquet,
        &[
            ColumnSchema {
                name: "customer".into(),
                kind: ColumnKind::Categorical,
            },
            ColumnSchema {
                name: "amount".into(),
                kind: ColumnKind::Numeric,
            },
        ],
        &[Column::Categorical(ids), Column::Numeric(amount)],
    )
    .unwrap();
    let artifact = artifacts.put_file(&parquet).await.unwrap();
    let content = ContentHash::of(b"the original csv bytes");
    let version = store
        .create_dataset_versions(
            &ctx(),
            vec![NewDatasetVersion {
                name: "orders".into(),
                hash: content.clone(),
                artifact,
                schema: serde_json::json!({}),
                profile: serde_json::json!({}),
                source: "orders.csv".into(),
                rows: n as i64,
                valid: true,
                validation: serde_json::Value::Null,
            }],
        )
        .await
        .unwrap()
        .remove(0)
        .version;

    let columns = SplitColumns {
        entity: Some("customer".into()),
        ..SplitColumns::default()
    };
    let scratch = tempfile::tempdir().unwrap();
    assert!(
        load_dataset(&store, &artifacts, "nope@1", &columns, scratch.path())
            .await
            .unwrap()
            .is_none()
    );
    let data = load_dataset(&store, &artifacts, "orders@1", &columns, scratch.path())
        .await
        .unwrap()
        .expect("recorded dataset");
    assert_eq!(data.content_hash, content);
    assert_eq!(data.dataset_version.as_ref(), Some(&version.id));
    let plan = SplitPlan {
        kind: SplitKind::EntityGroup,
        fractions: Fractions {
            train: 0.5,
            valid: 0.0,
            test: 0.5,
        },
        seed: 11,
        valid_start_ms: None,
        test_start_ms: None,
        gap_ms: 0,
    };
    let summary = record_split(&store, &artifacts, &ctx(), &data, &plan, &columns)
        .await
        .unwrap();
    assert!(summary.outcome.created);
    let record = &summary.outcome.record;
    assert_eq!(record.split.source_hash, content);
    assert_eq!(record.split.dataset_version.as_ref(), Some(&version.id));
    assert_eq!(record.split.manifest, summary.manifest_hash);
    assert_eq!(
        (record.split.train_rows + record.split.test_rows) as usize,
        n
    );

    // The manifest artifact rebuilds the split: rows per split, from the stored bytes.
    let bytes = artifacts.get_bytes(&summary.manifest_hash).await.unwrap();
    let manifest: SplitManifest = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        manifest.assignment.train.len() as i64,
        record.split.train_rows
    );
    assert_eq!(manifest.source_hash, content);
    assert_eq!(store.list_splits(Some("orders")).await.unwrap().len(), 1);
}
