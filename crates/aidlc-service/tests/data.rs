//! The data use case against a real SQLite store: ingest (new, repeated, invalid), details,
//! diff from stored profiles, and the gate that refuses invalid versions unless overridden.

use aidlc_core::spec::{Bounds, DataExpectations};
use aidlc_data::ValueType;
use aidlc_service::data::{
    DataServiceError, IngestRequest, default_name, details, diff, ingest, parse_reference,
    require_valid,
};
use aidlc_store::{AuditContext, AuditFilter, AuditStore, LocalArtifactStore, Store};
use std::path::Path;

fn ctx(reason: Option<&str>) -> AuditContext {
    AuditContext {
        actor: "tester".into(),
        at_ms: 1_750_000_000_000,
        reason: reason.map(str::to_string),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn names_and_references() {
    assert_eq!(default_name(Path::new("a/b/car_loan.csv.gz")), "car_loan");
    assert_eq!(default_name(Path::new("x.parquet")), "x");
    assert_eq!(default_name(Path::new("plain")), "plain");
    assert_eq!(parse_reference("d@3").unwrap(), ("d".to_string(), Some(3)));
    assert_eq!(parse_reference("d").unwrap(), ("d".to_string(), None));
    assert!(parse_reference("d@x").is_err());
    assert!(parse_reference("@1").is_err());
    assert!(parse_reference("d@0").is_err());
}

#[tokio::test]
async fn ingest_diff_and_the_validity_gate() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("aidlc.db").display().to_string())
        .await
        .unwrap();
    let artifacts = LocalArtifactStore::new(dir.path().join("artifacts"));

    let a = write(
        dir.path(),
        "a.csv",
        "x,c,t\n1,red,2024-01-01\n2,red,2024-01-02\n3,blue,2024-01-03\n4,,2024-01-04\n",
    );
    let mut request = IngestRequest::new(&a);
    request.name = Some("d".into());
    let mut rows_seen = 0;
    let first = ingest(&store, &artifacts, &ctx(None), &request, &mut |r| {
        rows_seen = r
    })
    .await
    .unwrap();
    assert!(first.created);
    assert_eq!(rows_seen, 4);
    assert!(first.version.data.valid);
    assert!(artifacts.path_of(&first.version.data.artifact).exists());
    let again = ingest(&store, &artifacts, &ctx(None), &request, &mut |_| {})
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.version.id, first.version.id);

    // Version 2: x becomes text, c gains green and loses blue, t is dropped, y is added.
    let b = write(dir.path(), "b.csv", "x,c,y\n1,red,5\nx,green,6\n");
    let mut request = IngestRequest::new(&b);
    request.name = Some("d".into());
    request.expectations = DataExpectations {
        rows: Some(Bounds {
            low: 3.0,
            high: 10.0,
        }),
        ..DataExpectations::default()
    };
    request.column_types = [("y".to_string(), ValueType::Float)].into();
    let second = ingest(&store, &artifacts, &ctx(None), &request, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(second.version.version, 2);
    assert!(!second.version.data.valid);

    let one = details(first.version.clone()).unwrap();
    let two = details(second.version.clone()).unwrap();
    assert_eq!(two.schema.columns[2].value_type, ValueType::Float);
    assert!(two.schema.columns[2].overridden);
    let d = diff(&one, &two);
    assert_eq!(d.added, ["y"]);
    assert_eq!(d.removed, ["t"]);
    assert_eq!(d.retyped.len(), 1);
    assert_eq!(d.retyped[0].column, "x");
    assert_eq!(d.categories[0].new, ["green"]);
    assert_eq!(d.categories[0].vanished, ["blue"]);
    assert!(d.drift.iter().any(|r| r.column == "c"));

    // The gate: a valid version passes, an invalid one is refused, an override is audited.
    require_valid(&store, &ctx(None), &first.version, "training")
        .await
        .unwrap();
    let refused = require_valid(&store, &ctx(None), &second.version, "training").await;
    match refused {
        Err(DataServiceError::InvalidVersion { failed, .. }) => assert_eq!(failed, "rows"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    require_valid(
        &store,
        &ctx(Some("known short file")),
        &second.version,
        "training",
    )
    .await
    .unwrap();
    let entries = store.list_audit(&AuditFilter::default()).await.unwrap();
    let last = entries.last().unwrap();
    assert_eq!(last.entry.action, "dataset_version.override_invalid");
    assert_eq!(last.entry.reason.as_deref(), Some("known short file"));
}

/// A column that looks numeric in the rows used for the guess and holds text further down is
/// read as text, with every row kept.
#[tokio::test]
async fn a_late_text_value_turns_a_guessed_numeric_column_into_text() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("aidlc.db").display().to_string())
        .await
        .unwrap();
    let artifacts = LocalArtifactStore::new(dir.path().join("artifacts"));
    let rows = aidlc_service::data::INFERENCE_ROWS + 10;
    let mut text = String::from("x,y\n");
    for i in 0..rows {
        let x = if i == rows - 3 {
            "late".to_string()
        } else {
            (i % 7).to_string()
        };
        text.push_str(&format!("{x},{}\n", i as f64 * 0.5));
    }
    let path = write(dir.path(), "late.csv", &text);
    let outcome = ingest(
        &store,
        &artifacts,
        &ctx(None),
        &IngestRequest::new(&path),
        &mut |_| {},
    )
    .await
    .unwrap();
    let d = details(outcome.version).unwrap();
    assert_eq!(d.profile.rows as usize, rows);
    assert_eq!(d.schema.columns[0].value_type, ValueType::Categorical);
    assert_eq!(d.profile.columns[0].distinct, 8);
    assert_eq!(d.schema.columns[1].value_type, ValueType::Float);
    // Nothing of the abandoned pass is left in the temporary folder.
    let leftovers = std::fs::read_dir(artifacts.root().join("tmp"))
        .unwrap()
        .count();
    assert_eq!(leftovers, 0);
}
