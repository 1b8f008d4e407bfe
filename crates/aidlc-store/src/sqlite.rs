//! The embedded SQLite backend: one file (`.aidlc/aidlc.db` by default) in WAL mode.
//!
//! Several processes may write the same file: every write transaction starts with
//! `BEGIN IMMEDIATE`, which takes SQLite's write lock up front (a deferred transaction that reads
//! and later writes could fail with SQLITE_BUSY mid-way), and a busy timeout makes other
//! writers wait for the lock instead of failing.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Executor, SqlitePool};
use std::path::Path;
use std::time::Duration;

/// Migrations by schema version. Each version is applied once, in ascending order, whatever the
/// order in which features added them; the applied versions are kept in `schema_version`.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_tracking.sql")),
    (3, include_str!("../migrations/sqlite/0003_validation.sql")),
    (
        4,
        include_str!("../migrations/sqlite/0004_splits_labels.sql"),
    ),
    (5, include_str!("../migrations/sqlite/0005_alerts.sql")),
    (7, include_str!("../migrations/sqlite/0007_pipelines.sql")),
    (6, include_str!("../migrations/sqlite/0006_monitor.sql")),
];

#[derive(Clone, Debug)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
}

impl SqliteStore {
    /// Opens the database file, creating it and its folder if needed, and migrates it.
    pub async fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL makes every commit durable across power loss and kill -9 alike; the cost is
            // one fsync per transaction, which batch writes amortise.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(60));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn migrate(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .await?;
        apply_migrations(&mut tx, MIGRATIONS).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Direct access for tests that tamper with rows to prove verification catches it.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

crate::backend::impl_backend!(SqliteStore, sqlx::Sqlite);
crate::tracking_backend::impl_tracking!(super::SqliteStore, sqlx::Sqlite, true);
crate::splits_backend::impl_splits!(super::SqliteStore, sqlx::Sqlite);
crate::alerts_backend::impl_alerts!(super::SqliteStore, sqlx::Sqlite);
crate::pipelines_backend::impl_pipelines!(super::SqliteStore, sqlx::Sqlite);
crate::monitor_backend::impl_monitor!(super::SqliteStore, sqlx::Sqlite);
