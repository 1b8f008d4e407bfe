//! The prediction log: round trips through the write-ahead segments and the Arrow files, window
//! scans, torn-tail recovery, concurrent appends, a kill -9 under load, and the JetStream sink
//! against a real server when `AIDLC_TEST_NATS_URL` is set.

use aidlc_store::predlog::{
    AckPolicy, FeatureValue, JetStreamConfig, JetStreamPredictionLog, LocalLogConfig,
    LocalPredictionLog, PredictionLog, PredictionOutputs, PredictionRecord, ScanQuery, Variant,
};
use anyhow::{Context, Result};
use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const T0: i64 = 1_750_000_000_000;

fn record(i: i64, endpoint: &str) -> PredictionRecord {
    let variant = match i % 3 {
        0 => Variant::Production,
        1 => Variant::Shadow,
        _ => Variant::Canary,
    };
    PredictionRecord {
        request_id: format!("{endpoint}-{i}"),
        time_ms: T0 + i * 10,
        endpoint: endpoint.to_string(),
        model: if i % 2 == 0 { "gbm" } else { "linear" }.to_string(),
        version: 1 + i % 4,
        variant,
        features: vec![
            ("age".into(), FeatureValue::Number(20.0 + (i % 50) as f64)),
            (
                "plan".into(),
                if i % 7 == 0 {
                    FeatureValue::Missing
                } else {
                    FeatureValue::Text(format!("plan-{}", i % 3))
                },
            ),
            (
                "income".into(),
                if i % 5 == 0 {
                    FeatureValue::Missing
                } else {
                    FeatureValue::Number(i as f64 * 1.5)
                },
            ),
        ],
        outputs: PredictionOutputs {
            label: (i % 4 != 0).then(|| format!("class-{}", i % 2)),
            probabilities: if i % 4 == 0 { vec![] } else { vec![0.25, 0.75] },
            value: (i % 4 == 0).then_some(i as f64 / 3.0),
        },
        latency_us: (100 + i % 900) as u32,
        // Some requests name no entity: both must survive sealing and scanning.
        entity: (i % 3 != 2).then(|| format!("customer-{}", i % 11)),
    }
}

fn config(dir: &Path) -> LocalLogConfig {
    LocalLogConfig::new(dir)
}

fn everything(endpoint: &str) -> ScanQuery {
    ScanQuery::window(endpoint, i64::MIN, i64::MAX)
}

fn wal_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    out.retain(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("wal-"))
    });
    out.sort();
    Ok(out)
}

fn arrow_files(dir: &Path) -> Result<usize> {
    Ok(std::fs::read_dir(dir.join("sealed"))?
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "arrow"))
        })
        .count())
}

#[tokio::test]
async fn records_read_back_unchanged_from_the_tail_and_from_sealed_files() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let log = LocalPredictionLog::open(config(dir.path()))?;
    let batch: Vec<_> = (0..50).map(|i| record(i, "churn")).collect();
    log.append(batch.clone()).await?;

    let tail = log.scan(&everything("churn")).await?;
    assert_eq!(tail.records("churn"), batch);
    assert_eq!(tail.numbers("age").len(), 50);
    assert_eq!(
        tail.numbers("income").len(),
        40,
        "10 of 50 incomes are missing"
    );

    log.seal().await?;
    assert_eq!(arrow_files(dir.path())?, 1);
    let sealed = log.scan(&everything("churn")).await?;
    assert_eq!(sealed.records("churn"), batch);
    assert_eq!(
        sealed, tail,
        "the Arrow file holds the same columns as the tail"
    );

    let stats = log.stats();
    assert_eq!(stats.records_appended, 50);
    assert_eq!(stats.pending_records, 0);
    assert_eq!(stats.segments_sealed, 1);
    assert_eq!(stats.segments_unconverted, 0);
    log.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_window_scan_reads_sealed_segments_unconverted_ones_and_the_tail() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let log = LocalPredictionLog::open(config(dir.path()))?;
    let mut all = Vec::new();
    // Three sealed segments and a tail, each holding two endpoints.
    for part in 0..4i64 {
        let batch: Vec<_> = (part * 100..part * 100 + 100)
            .flat_map(|i| [record(i, "churn"), record(i, "fraud/eu")])
            .collect();
        log.append(batch.clone()).await?;
        all.extend(batch);
        if part < 3 {
            log.seal().await?;
        }
    }
    assert_eq!(
        arrow_files(dir.path())?,
        6,
        "two endpoints x three segments"
    );

    let queries = [
        ScanQuery::window("churn", T0 + 1_500, T0 + 3_500),
        ScanQuery::window("fraud/eu", T0, T0 + 10),
        ScanQuery::window("churn", T0 + 3_990, T0 + 100_000),
        ScanQuery::window("churn", T0 - 100, T0),
        ScanQuery {
            model: Some("gbm".into()),
            version: Some(3),
            variant: Some(Variant::Canary),
            ..ScanQuery::window("fraud/eu", T0 + 500, T0 + 3_000)
        },
        ScanQuery::window("absent", i64::MIN, i64::MAX),
    ];
    for q in &queries {
        let expected: Vec<_> = all
            .iter()
            .filter(|r| {
                r.endpoint == q.endpoint
                    && r.time_ms >= q.from_ms
                    && r.time_ms < q.to_ms
                    && q.model.as_ref().is_none_or(|m| *m == r.model)
                    && q.version.is_none_or(|v| v == r.version)
                    && q.variant.is_none_or(|v| v == r.variant)
            })
            .cloned()
            .collect();
        let frame = log.scan(q).await?;
        assert_eq!(frame.records(&q.endpoint), expected, "query {q:?}");
    }
    log.close().await?;

    // After a reopen the tail is a sealed, unconverted segment until the converter gets to it;
    // either way the scan sees it exactly once.
    let log = LocalPredictionLog::open(config(dir.path()))?;
    let frame = log.scan(&everything("churn")).await?;
    assert_eq!(frame.len(), 400);
    log.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_torn_tail_is_cut_on_reopen_and_appends_continue() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let log = LocalPredictionLog::open(config(dir.path()))?;
    for i in 0..10 {
        log.append(vec![record(i, "churn")]).await?;
    }
    log.close().await?;

    // Cut the last record in the middle, as a crash during its write would.
    let wal = wal_files(dir.path())?.pop().context("a segment")?;
    let len = std::fs::metadata(&wal)?.len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&wal)?
        .set_len(len - 7)?;

    let log = LocalPredictionLog::open(config(dir.path()))?;
    let frame = log.scan(&everything("churn")).await?;
    let expected: Vec<_> = (0..9).map(|i| record(i, "churn")).collect();
    assert_eq!(frame.records("churn"), expected);

    log.append(vec![record(10, "churn")]).await?;
    let frame = log.scan(&everything("churn")).await?;
    let ids: Vec<_> = frame.request_id.clone();
    assert_eq!(ids.len(), 10);
    assert_eq!(ids.last().map(String::as_str), Some("churn-10"));
    assert!(
        !ids.contains(&"churn-9".to_string()),
        "the torn record is gone"
    );
    log.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_record_with_a_bad_checksum_ends_the_segment() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let log = LocalPredictionLog::open(config(dir.path()))?;
    log.append((0..5).map(|i| record(i, "churn")).collect())
        .await?;
    log.close().await?;

    let wal = wal_files(dir.path())?.pop().context("a segment")?;
    let mut bytes = std::fs::read(&wal)?;
    let last = bytes.len() - 3;
    bytes[last] ^= 0xff;
    std::fs::write(&wal, bytes)?;

    let log = LocalPredictionLog::open(config(dir.path()))?;
    let frame = log.scan(&everything("churn")).await?;
    assert_eq!(
        frame.request_id,
        vec!["churn-0", "churn-1", "churn-2", "churn-3"]
    );
    log.close().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_all_land_once() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut cfg = config(dir.path());
    // Small segments, so sealing happens while tasks append.
    cfg.segment_max_bytes = 64 << 10;
    let log = Arc::new(LocalPredictionLog::open(cfg)?);
    let mut tasks = Vec::new();
    for t in 0..32i64 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..100 {
                log.append(vec![record(t * 1000 + i, "churn")]).await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let frame = log.scan(&everything("churn")).await?;
    let ids: HashSet<_> = frame.request_id.iter().cloned().collect();
    assert_eq!(frame.len(), 3200);
    assert_eq!(ids.len(), 3200);
    assert_eq!(log.stats().records_appended, 3200);
    assert!(log.stats().segments_sealed > 0, "segments were sealed");
    Arc::into_inner(log).context("sole owner")?.close().await?;
    Ok(())
}

#[tokio::test]
async fn synced_acknowledgements_leave_nothing_unsynced() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut cfg = config(dir.path());
    cfg.ack = AckPolicy::Synced;
    let log = LocalPredictionLog::open(cfg)?;
    log.append((0..20).map(|i| record(i, "churn")).collect())
        .await?;
    let stats = log.stats();
    assert_eq!(stats.unsynced_bytes, 0);
    assert!(stats.last_flush_ms.is_some());
    assert_eq!(log.scan(&everything("churn")).await?.len(), 20);
    log.close().await?;
    Ok(())
}

/// Set in the child process of the kill -9 test: the log folder it appends to.
const CHILD_DIR: &str = "AIDLC_PREDLOG_KILL_CHILD_DIR";

/// In the kill -9 test's child (and only there, see `CHILD_DIR`): appends from 16 tasks forever
/// and prints `ACK <request id>` once each append resolved, until it is killed.
#[test]
fn kill_child_appends_until_killed() -> Result<()> {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return Ok(());
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let log = Arc::new(LocalPredictionLog::open(config(Path::new(&dir)))?);
        let mut tasks = Vec::new();
        for t in 0..16i64 {
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0.. {
                    let r = record(t * 1_000_000_000 + i, "churn");
                    let id = r.request_id.clone();
                    log.append(vec![r]).await?;
                    // Straight to the stdout handle, which the test harness does not capture.
                    writeln!(std::io::stdout().lock(), "ACK {id}")?;
                }
                anyhow::Ok(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        anyhow::Ok(())
    })
}

#[test]
fn every_acknowledged_record_survives_kill_9() -> Result<()> {
    if std::env::var(CHILD_DIR).is_ok() {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    for round in 0..3 {
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .args([
                "--exact",
                "kill_child_appends_until_killed",
                "--test-threads=1",
            ])
            .env(CHILD_DIR, dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().context("child stdout")?;
        let mut lines = std::io::BufReader::new(stdout).lines();
        let mut acked = Vec::new();
        // Kill it mid-load, once it has acknowledged 5,000 records in this round.
        while acked.len() < 5_000 {
            let line = lines
                .next()
                .context("the child stopped before the kill")??;
            if let Some(id) = line.strip_prefix("ACK ") {
                acked.push(id.to_string());
            }
        }
        child.kill()?; // SIGKILL on Unix.
        // Lines printed before the kill are acknowledged records too.
        for line in lines {
            if let Some(id) = line?.strip_prefix("ACK ") {
                acked.push(id.to_string());
            }
        }
        child.wait()?;

        let rt = tokio::runtime::Runtime::new()?;
        let found: HashSet<String> = rt.block_on(async {
            let log = LocalPredictionLog::open(config(dir.path()))?;
            let frame = log.scan(&everything("churn")).await?;
            log.close().await?;
            anyhow::Ok(frame.request_id.into_iter().collect())
        })?;
        let lost: Vec<_> = acked.iter().filter(|id| !found.contains(*id)).collect();
        assert!(
            lost.is_empty(),
            "round {round}: {} of {} acknowledged records lost, e.g. {:?}",
            lost.len(),
            acked.len(),
            &lost[..lost.len().min(5)]
        );
    }
    Ok(())
}

#[tokio::test]
async fn jetstream_round_trip_against_a_real_server() -> Result<()> {
    let Ok(url) = std::env::var("AIDLC_TEST_NATS_URL") else {
        eprintln!("AIDLC_TEST_NATS_URL is not set: the JetStream sink is not exercised");
        return Ok(());
    };
    let unique = uuid::Uuid::now_v7().simple().to_string();
    let mut cfg = JetStreamConfig::new(url);
    cfg.stream = format!("AIDLC_TEST_{unique}");
    cfg.subject_prefix = format!("aidlctest.{unique}");
    let log = JetStreamPredictionLog::connect(cfg.clone()).await?;

    // Record times near now: scans start from the server's storage time minus a margin.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let make = |i: i64, endpoint: &str| PredictionRecord {
        time_ms: now + i * 10 - 5_000,
        ..record(i, endpoint)
    };
    let churn: Vec<_> = (0..200).map(|i| make(i, "churn")).collect();
    let fraud: Vec<_> = (0..50).map(|i| make(i, "fraud.eu")).collect();
    let result = async {
        log.append(churn.clone()).await?;
        log.append(fraud.clone()).await?;
        // A retried publish (same request id) is stored once.
        log.append(vec![churn[0].clone()]).await?;
        assert_eq!(log.stats().records_appended, 251);

        let all = log.scan(&everything("churn")).await?;
        assert_eq!(all.records("churn"), churn);
        let window = ScanQuery::window("churn", now - 4_000, now - 3_000);
        let expected: Vec<_> = churn
            .iter()
            .filter(|r| r.time_ms >= window.from_ms && r.time_ms < window.to_ms)
            .cloned()
            .collect();
        assert_eq!(expected.len(), 100);
        assert_eq!(log.scan(&window).await?.records("churn"), expected);
        assert_eq!(
            log.scan(&everything("fraud.eu")).await?.records("fraud.eu"),
            fraud
        );
        assert!(log.scan(&everything("absent")).await?.is_empty());
        anyhow::Ok(())
    }
    .await;
    log.delete_stream().await?;
    result
}

#[tokio::test]
async fn a_folder_has_one_writer_at_a_time() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let log = LocalPredictionLog::open(config(dir.path()))?;
    let second = LocalPredictionLog::open(config(dir.path()));
    let err = second.err().context("a second open must fail")?.to_string();
    assert!(err.contains("LOCK"), "{err}");
    log.close().await?;
    LocalPredictionLog::open(config(dir.path()))?
        .close()
        .await?;
    Ok(())
}

#[tokio::test]
async fn retention_drops_only_sealed_files_older_than_the_cutoff() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let log = LocalPredictionLog::open(config(dir.path()))?;
    log.append((0..100).map(|i| record(i, "churn")).collect())
        .await?;
    log.seal().await?;
    log.append((100..200).map(|i| record(i, "churn")).collect())
        .await?;
    log.seal().await?;
    log.append((200..300).map(|i| record(i, "churn")).collect())
        .await?;
    // The first segment ends at T0 + 990, the second at T0 + 1990.
    assert_eq!(log.drop_before(T0 + 1_000).await?, 1);
    let frame = log.scan(&everything("churn")).await?;
    assert_eq!(frame.len(), 200);
    assert_eq!(
        frame.request_id.first().map(String::as_str),
        Some("churn-100")
    );
    assert_eq!(arrow_files(dir.path())?, 1);
    log.close().await?;
    Ok(())
}

#[tokio::test]
async fn feature_columns_follow_names_not_positions_and_keep_their_kinds() -> Result<()> {
    use aidlc_store::predlog::FeatureValues;
    let dir = tempfile::tempdir()?;
    let log = LocalPredictionLog::open(config(dir.path()))?;
    let with = |i: i64, features: Vec<(&str, FeatureValue)>| PredictionRecord {
        features: features
            .into_iter()
            .map(|(n, v)| (n.to_string(), v))
            .collect(),
        ..record(i, "churn")
    };
    let num = FeatureValue::Number;
    let text = |s: &str| FeatureValue::Text(s.to_string());
    let batch = vec![
        with(
            0,
            vec![
                ("a", num(1.0)),
                ("b", FeatureValue::Missing),
                ("c", num(5.0)),
            ],
        ),
        // Same names, other order; `b` gets its first value, a text.
        with(1, vec![("c", num(6.0)), ("a", num(2.0)), ("b", text("x"))]),
        // `a` as text too (a mixed feature), `never` missing throughout, `c` absent.
        with(
            2,
            vec![
                ("a", text("two")),
                ("b", FeatureValue::Missing),
                ("never", FeatureValue::Missing),
            ],
        ),
        with(3, vec![("a", num(4.0)), ("b", text("y")), ("c", num(8.0))]),
    ];
    log.append(batch).await?;
    for phase in ["tail", "sealed"] {
        let frame = log.scan(&everything("churn")).await?;
        let column = |name: &str, number: bool| {
            frame
                .features
                .iter()
                .find(|c| c.name == name && matches!(c.values, FeatureValues::Number(_)) == number)
                .map(|c| c.values.clone())
        };
        assert_eq!(
            column("a", true),
            Some(FeatureValues::Number(vec![
                Some(1.0),
                Some(2.0),
                None,
                Some(4.0)
            ])),
            "{phase}"
        );
        assert_eq!(
            column("a", false),
            Some(FeatureValues::Text(vec![
                None,
                None,
                Some("two".into()),
                None
            ])),
            "{phase}"
        );
        assert_eq!(
            column("b", false),
            Some(FeatureValues::Text(vec![
                None,
                Some("x".into()),
                None,
                Some("y".into())
            ])),
            "{phase}: an all-missing start becomes a text column"
        );
        assert_eq!(column("b", true), None, "{phase}");
        assert_eq!(
            column("c", true),
            Some(FeatureValues::Number(vec![
                Some(5.0),
                Some(6.0),
                None,
                Some(8.0)
            ])),
            "{phase}"
        );
        assert_eq!(
            column("never", true),
            Some(FeatureValues::Number(vec![None; 4])),
            "{phase}"
        );
        assert_eq!(frame.numbers("a"), vec![1.0, 2.0, 4.0]);
        log.seal().await?;
    }
    log.close().await?;
    Ok(())
}

#[tokio::test]
async fn segments_are_sealed_by_age() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut cfg = config(dir.path());
    // Every segment is old enough to seal as soon as it holds a record.
    cfg.segment_max_age = std::time::Duration::ZERO;
    let log = LocalPredictionLog::open(cfg)?;
    for i in 0..3 {
        log.append(vec![record(i, "churn")]).await?;
    }
    // With nothing left to seal, `seal` only waits for the conversions queued before it.
    log.seal().await?;
    assert_eq!(arrow_files(dir.path())?, 3);
    assert_eq!(log.stats().segments_sealed, 3);
    let frame = log.scan(&everything("churn")).await?;
    assert_eq!(frame.request_id, vec!["churn-0", "churn-1", "churn-2"]);
    log.close().await?;
    Ok(())
}

/// A second process cannot open the folder the server owns; the read-only reader can, and sees
/// what the owner sees: sealed files, the active tail, a window — while the owner keeps
/// appending. A torn frame at the tail ends the reader's view of that segment.
#[tokio::test]
async fn a_read_only_reader_scans_a_log_another_handle_owns() -> Result<()> {
    use aidlc_store::predlog::LocalLogReader;
    let dir = tempfile::tempdir()?;
    let log = LocalPredictionLog::open(config(dir.path()))?;
    let second = LocalPredictionLog::open(config(dir.path()));
    assert!(second.is_err(), "two owners of one folder must conflict");

    let sealed: Vec<_> = (0..40).map(|i| record(i, "churn")).collect();
    log.append(sealed.clone()).await?;
    log.seal().await?;
    let tail: Vec<_> = (40..70).map(|i| record(i, "churn")).collect();
    log.append(tail.clone()).await?;
    log.append((0..5).map(|i| record(i, "other")).collect())
        .await?;

    let reader = LocalLogReader::open(dir.path())?;
    let all = reader.scan(&everything("churn")).await?;
    assert_eq!(all, log.scan(&everything("churn")).await?);
    assert_eq!(all.len(), 70);
    let window = ScanQuery::window("churn", T0 + 100, T0 + 500);
    assert_eq!(reader.scan(&window).await?, log.scan(&window).await?);
    assert_eq!(reader.scan(&window).await?.len(), 40);
    assert!(reader.append(vec![record(99, "churn")]).await.is_err());

    // More appends after the reader was made are visible to its next scan.
    log.append((70..80).map(|i| record(i, "churn")).collect())
        .await?;
    assert_eq!(reader.scan(&everything("churn")).await?.len(), 80);

    // A half-written frame at the end of the active segment (a write in progress) is not read.
    let active = wal_files(dir.path())?.pop().context("an active segment")?;
    let mut f = std::fs::OpenOptions::new().append(true).open(&active)?;
    f.write_all(&[200, 0, 0, 0, 1, 2, 3, 4, 9])?;
    drop(f);
    assert_eq!(reader.scan(&everything("churn")).await?.len(), 80);
    log.close().await?;
    assert!(LocalLogReader::open(dir.path().join("missing")).is_err());
    Ok(())
}
