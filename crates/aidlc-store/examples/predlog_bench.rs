//! Benchmark of the local prediction log: `append` latency and throughput at 1 and 32
//! concurrent tasks (both acknowledgement policies), and window scans over 1M records.
//!
//! Run: `cargo run --release -p aidlc-store --example predlog_bench [folder]` (a temporary
//! folder by default; give one on the disk you want to measure).

use aidlc_store::predlog::{
    AckPolicy, FeatureValue, LocalLogConfig, LocalPredictionLog, PredictionLog, PredictionOutputs,
    PredictionRecord, ScanQuery, Variant,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

const T0: i64 = 1_750_000_000_000;

/// A single-row request of a model with 10 numeric and 2 text features.
fn record(i: i64) -> PredictionRecord {
    let mut features: Vec<(String, FeatureValue)> = (0..10)
        .map(|f| {
            (
                format!("n{f:02}"),
                FeatureValue::Number(((i * 7919 + f * 104_729) % 10_007) as f64 / 100.0),
            )
        })
        .collect();
    features.push(("plan".into(), FeatureValue::Text(format!("plan-{}", i % 5))));
    features.push((
        "region".into(),
        FeatureValue::Text(format!("region-{}", i % 17)),
    ));
    PredictionRecord {
        request_id: format!("{i:032x}"),
        time_ms: T0 + i,
        endpoint: "churn".into(),
        model: "churn-gbm".into(),
        version: 3,
        variant: if i % 10 == 0 {
            Variant::Shadow
        } else {
            Variant::Production
        },
        features,
        outputs: PredictionOutputs {
            label: Some(if i % 3 == 0 { "leaves" } else { "stays" }.into()),
            probabilities: vec![0.3, 0.7],
            value: None,
        },
        latency_us: 250,
        entity: None,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn appends(log: Arc<LocalPredictionLog>, tasks: i64, per_task: i64) -> (f64, Vec<Duration>) {
    let start = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let log = log.clone();
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_task as usize);
            for i in 0..per_task {
                let r = record(t * 10_000_000 + i);
                let s = Instant::now();
                log.append(vec![r]).await.expect("append");
                lat.push(s.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("task"));
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort();
    (all.len() as f64 / secs, all)
}

/// The JetStream sink against a real server (a stream created and deleted for the run).
async fn jetstream(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    use aidlc_store::predlog::{JetStreamConfig, JetStreamPredictionLog};
    let mut cfg = JetStreamConfig::new(url);
    cfg.stream = "AIDLC_BENCH_PREDICTIONS".into();
    cfg.subject_prefix = "aidlcbench.predictions".into();
    let log = Arc::new(JetStreamPredictionLog::connect(cfg).await?);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    for &(tasks, per_task) in &[(1i64, 5_000i64), (32, 500)] {
        let start = Instant::now();
        let mut handles = Vec::new();
        for t in 0..tasks {
            let log = log.clone();
            handles.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                for i in 0..per_task {
                    let mut r = record(t * 10_000_000 + i);
                    r.time_ms = now;
                    let s = Instant::now();
                    log.append(vec![r]).await.expect("append");
                    lat.push(s.elapsed());
                }
                lat
            }));
        }
        let mut lat = Vec::new();
        for h in handles {
            lat.extend(h.await?);
        }
        let secs = start.elapsed().as_secs_f64();
        lat.sort();
        println!(
            "jetstream append tasks={tasks}: {:.0} records/s, p50 {:.1} us, p99 {:.1} us ({} appends)",
            lat.len() as f64 / secs,
            percentile(&lat, 0.5).as_secs_f64() * 1e6,
            percentile(&lat, 0.99).as_secs_f64() * 1e6,
            lat.len()
        );
    }
    let batch_start = Instant::now();
    for chunk in 0..100i64 {
        log.append(
            (chunk * 1000..chunk * 1000 + 1000)
                .map(|i| PredictionRecord {
                    time_ms: now,
                    ..record(1_000_000_000 + i)
                })
                .collect(),
        )
        .await?;
    }
    println!(
        "jetstream: appended 100000 records in batches of 1000: {:.2} s",
        batch_start.elapsed().as_secs_f64()
    );
    let s = Instant::now();
    let frame = log
        .scan(&ScanQuery::window("churn", now - 1, now + 1))
        .await?;
    println!(
        "jetstream scan: {} records in {:.3} s",
        frame.len(),
        s.elapsed().as_secs_f64()
    );
    Arc::into_inner(log)
        .expect("sole owner")
        .delete_stream()
        .await?;
    Ok(())
}

/// The alternative the design was measured against: SQLite in WAL mode with
/// `synchronous = NORMAL` (a commit survives kill -9 and is fsynced at checkpoints, the same
/// bounds as `AckPolicy::Written`), one row per record with the record as JSON, indexed by
/// (endpoint, time).
async fn sqlite_alternative(dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    use sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
    };
    std::fs::create_dir_all(dir)?;
    let options = SqliteConnectOptions::new()
        .filename(dir.join("predictions.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    // One connection: SQLite has one writer at a time anyway.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    sqlx::query(
        "CREATE TABLE predictions (endpoint TEXT NOT NULL, time_ms INTEGER NOT NULL, record TEXT NOT NULL)",
    )
    .execute(&pool)
    .await?;
    sqlx::query("CREATE INDEX predictions_window ON predictions (endpoint, time_ms)")
        .execute(&pool)
        .await?;
    for &(tasks, per_task) in &[(1i64, 5_000i64), (32, 300)] {
        let start = Instant::now();
        let mut handles = Vec::new();
        for t in 0..tasks {
            let pool = pool.clone();
            handles.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                for i in 0..per_task {
                    let r = record(-(t * 10_000_000 + i) - 1);
                    let s = Instant::now();
                    sqlx::query("INSERT INTO predictions VALUES (?, ?, ?)")
                        .bind(&r.endpoint)
                        .bind(r.time_ms)
                        .bind(serde_json::to_string(&r).expect("json"))
                        .execute(&pool)
                        .await
                        .expect("insert");
                    lat.push(s.elapsed());
                }
                lat
            }));
        }
        let mut lat = Vec::new();
        for h in handles {
            lat.extend(h.await?);
        }
        let secs = start.elapsed().as_secs_f64();
        lat.sort();
        println!(
            "sqlite insert tasks={tasks}: {:.0} records/s, p50 {:.1} us, p99 {:.1} us ({} inserts)",
            lat.len() as f64 / secs,
            percentile(&lat, 0.5).as_secs_f64() * 1e6,
            percentile(&lat, 0.99).as_secs_f64() * 1e6,
            lat.len()
        );
    }
    let n = 1_000_000i64;
    let start = Instant::now();
    for chunk in 0..(n / 1000) {
        let mut tx = pool.begin().await?;
        for i in chunk * 1000..chunk * 1000 + 1000 {
            let r = record(i);
            sqlx::query("INSERT INTO predictions VALUES (?, ?, ?)")
                .bind(&r.endpoint)
                .bind(r.time_ms)
                .bind(serde_json::to_string(&r)?)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    println!(
        "sqlite: inserted {n} records in transactions of 1000: {:.2} s",
        start.elapsed().as_secs_f64()
    );
    for (label, from, to) in [
        ("whole 1M", T0, T0 + n),
        ("10% window", T0 + n / 2, T0 + n / 2 + n / 10),
    ] {
        let s = Instant::now();
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT record FROM predictions WHERE endpoint = ? AND time_ms >= ? AND time_ms < ? ORDER BY rowid",
        )
        .bind("churn")
        .bind(from)
        .bind(to)
        .fetch_all(&pool)
        .await?;
        let records: Vec<PredictionRecord> = rows
            .iter()
            .map(|(json,)| serde_json::from_str(json))
            .collect::<Result<_, _>>()?;
        println!(
            "sqlite scan {label}: {} records decoded in {:.3} s",
            records.len(),
            s.elapsed().as_secs_f64()
        );
    }
    pool.close().await;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Two workers, as on the 2-core serving target.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let tmp = tempfile::tempdir()?;
    let base = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    rt.block_on(async move {
        let mut bytes = Vec::new();
        for (i, ack) in [AckPolicy::Written, AckPolicy::Synced].into_iter().enumerate() {
            for &(tasks, per_task) in &[(1i64, 20_000i64), (32, 2_000)] {
                let dir = base.join(format!("append-{i}-{tasks}"));
                let mut cfg = LocalLogConfig::new(&dir);
                cfg.ack = ack;
                let log = Arc::new(LocalPredictionLog::open(cfg)?);
                let (rate, lat) = appends(log.clone(), tasks, per_task).await;
                println!(
                    "append ack={ack:?} tasks={tasks}: {rate:.0} records/s, p50 {:.1} us, p99 {:.1} us, max {:.1} us ({} appends)",
                    percentile(&lat, 0.5).as_secs_f64() * 1e6,
                    percentile(&lat, 0.99).as_secs_f64() * 1e6,
                    lat.last().expect("some").as_secs_f64() * 1e6,
                    lat.len(),
                );
                bytes.push(log.stats().bytes_appended as f64 / log.stats().records_appended as f64);
                Arc::into_inner(log).expect("sole owner").close().await?;
            }
        }
        println!("framed record size: {:.0} bytes", bytes[0]);

        let dir = base.join("scan");
        let mut cfg = LocalLogConfig::new(&dir);
        cfg.segment_max_bytes = 64 << 20;
        let log = LocalPredictionLog::open(cfg)?;
        let n = 1_000_000i64;
        let start = Instant::now();
        for chunk in 0..(n / 1000) {
            log.append((chunk * 1000..chunk * 1000 + 1000).map(record).collect())
                .await?;
        }
        println!(
            "appended {n} records in batches of 1000: {:.2} s",
            start.elapsed().as_secs_f64()
        );
        let all = ScanQuery::window("churn", T0, T0 + n);
        let tenth = ScanQuery::window("churn", T0 + n / 2, T0 + n / 2 + n / 10);
        for (label, q) in [("whole 1M", &all), ("10% window", &tenth)] {
            let s = Instant::now();
            let frame = log.scan(q).await?;
            println!(
                "scan {label} before sealing (segments, some converting): {} rows in {:.3} s",
                frame.len(),
                s.elapsed().as_secs_f64()
            );
        }
        let s = Instant::now();
        log.seal().await?;
        println!("seal of the last segment: {:.3} s", s.elapsed().as_secs_f64());
        log.close().await?;
        let log = LocalPredictionLog::open(LocalLogConfig::new(&dir))?;
        for (label, q) in [("whole 1M", &all), ("10% window", &tenth)] {
            for _ in 0..3 {
                let s = Instant::now();
                let frame = log.scan(q).await?;
                println!(
                    "scan {label} of Arrow files: {} rows, {} feature columns in {:.3} s",
                    frame.len(),
                    frame.features.len(),
                    s.elapsed().as_secs_f64()
                );
            }
        }
        let sealed: u64 = std::fs::read_dir(dir.join("sealed"))?
            .map(|e| e.map(|e| e.metadata().map(|m| m.len()).unwrap_or(0)).unwrap_or(0))
            .sum();
        println!("Arrow files: {:.1} MB", sealed as f64 / 1e6);
        // How much of a full scan is reading the IPC files themselves.
        for _ in 0..3 {
            let s = Instant::now();
            let mut rows = 0;
            for entry in std::fs::read_dir(dir.join("sealed"))? {
                let file = std::fs::File::open(entry?.path())?;
                let reader =
                    arrow::ipc::reader::FileReader::try_new(std::io::BufReader::new(file), None)?;
                for batch in reader {
                    rows += batch?.num_rows();
                }
            }
            println!(
                "read the Arrow files alone: {rows} rows in {:.3} s",
                s.elapsed().as_secs_f64()
            );
        }
        log.close().await?;

        sqlite_alternative(&base.join("sqlite")).await?;
        if let Ok(url) = std::env::var("AIDLC_BENCH_NATS_URL") {
            jetstream(&url).await?;
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    Ok(())
}
