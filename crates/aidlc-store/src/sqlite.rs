//! The embedded SQLite backend: one file (`.aidlc/aidlc.db` by default) in WAL mode.
//!
//! Several processes may write the same file: every write transaction starts with
//! `BEGIN IMMEDIATE`, which takes SQLite's write lock up front (a deferred transaction that reads
//! and later writes could fail with SQLITE_BUSY mid-way), and a busy timeout makes other
//! writers wait for the lock instead of failing.
//!
//! Durability follows [`StoreSync`]. With `normal` (the default) SQLite runs with
//! `synchronous = NORMAL`: a commit returns once its frames are written to the WAL file with
//! `write(2)`, so it survives a crash or kill -9 of the process (the operating system holds the
//! bytes), and a syncer thread fsyncs the WAL every [`WAL_SYNC_INTERVAL`] when this store
//! committed since its last fsync, and once more when the store is dropped. That bounds what a
//! power cut or an OS crash can lose to the commits of the last interval; SQLite's recovery then
//! stops at the last complete commit, so a lost write is a whole transaction (with its audit
//! entry), never a torn one. With `full` every commit is fsynced before it returns.

use aidlc_core::spec::StoreSync;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Executor, SqlitePool};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How often the WAL is fsynced in `normal` mode, when something was committed: the power-loss
/// window, the same as the prediction log's.
pub const WAL_SYNC_INTERVAL: Duration = Duration::from_millis(100);

/// Pages the WAL may hold before a commit checkpoints it into the database file (SQLite's
/// default is 1,000). A tracking write touches many index pages (a 100-metric batch writes one
/// entry per metric key), so at the default every few batches paid for a checkpoint and its two
/// fsyncs; at 10,000 pages (about 40 MB of WAL) a page rewritten by many commits is copied once
/// per checkpoint.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

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
    /// Connections for reads outside write transactions.
    pub(crate) pool: SqlitePool,
    /// The one connection of this process that writes. SQLite lets one writer in at a time
    /// anyway; a single connection keeps its page cache valid from one write to the next
    /// (any other connection's commit empties a connection's cache), and in-process writers
    /// queue here instead of polling SQLite's busy lock.
    writer: SqlitePool,
    /// The WAL syncer's shared state, in `normal` mode; `full` mode needs none.
    wal: Option<Arc<WalSync>>,
}

impl SqliteStore {
    /// Opens the database file with the default durability (`normal`).
    pub async fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, StoreSync::Normal).await
    }

    /// Opens the database file, creating it and its folder if needed, and migrates it.
    pub async fn open_with(path: &Path, sync: StoreSync) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
        }
        let synchronous = match sync {
            StoreSync::Normal => SqliteSynchronous::Normal,
            StoreSync::Full => SqliteSynchronous::Full,
        };
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(60))
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string());
        // A pinged connection costs a round trip to its worker thread on every acquire, and a
        // local file cannot drop a connection the way a network server can.
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        let wal = match sync {
            StoreSync::Normal => Some(WalSync::start(path).map_err(sqlx::Error::Io)?),
            StoreSync::Full => None,
        };
        let store = Self { pool, writer, wal };
        store.migrate().await?;
        Ok(store)
    }

    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Called after every commit of a write, so the syncer knows the WAL has new frames.
    pub(crate) fn committed(&self) {
        if let Some(wal) = &self.wal {
            wal.commits.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Commits made through this store that are written but not yet known to be fsynced: what
    /// a power cut right now could lose (always 0 with `full`).
    pub fn unsynced_commits(&self) -> u64 {
        self.wal.as_ref().map_or(0, |wal| wal.unsynced())
    }

    /// Fsyncs the WAL now if this store committed since the last fsync (the syncer thread does
    /// this every [`WAL_SYNC_INTERVAL`]).
    pub fn sync(&self) -> std::io::Result<()> {
        self.wal.as_ref().map_or(Ok(()), |wal| wal.sync())
    }

    async fn migrate(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .await?;
        apply_migrations(&mut tx, MIGRATIONS).await?;
        tx.commit().await?;
        self.committed();
        Ok(())
    }

    /// Direct access for tests that tamper with rows to prove verification catches it.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// What the syncer thread and the writers share in `normal` mode.
#[derive(Debug)]
struct WalSync {
    /// `<database>-wal`, where SQLite appends committed frames.
    wal_path: PathBuf,
    /// Commits made through this store, counted after each returned.
    commits: AtomicU64,
    /// The commit count covered by the last successful fsync, and the WAL file (inode) that
    /// fsync was of; the lock also keeps two fsyncs of this store from overlapping.
    synced: Mutex<Synced>,
}

#[derive(Debug, Default)]
struct Synced {
    commits: u64,
    wal_inode: Option<u64>,
}

impl WalSync {
    /// Starts the syncer thread, which holds only a weak reference and stops once the store's
    /// last clone is dropped (whose drop runs a final sync).
    fn start(db_path: &Path) -> std::io::Result<Arc<WalSync>> {
        let mut name = db_path.as_os_str().to_owned();
        name.push("-wal");
        let wal = Arc::new(WalSync {
            wal_path: PathBuf::from(name),
            commits: AtomicU64::new(0),
            synced: Mutex::new(Synced::default()),
        });
        let weak = Arc::downgrade(&wal);
        std::thread::Builder::new()
            .name("aidlc-wal-sync".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(WAL_SYNC_INTERVAL);
                    let Some(wal) = weak.upgrade() else { return };
                    // A failed fsync leaves the commits counted as unsynced, so the next tick
                    // tries again; the writes themselves already succeeded.
                    let _ = wal.sync();
                }
            })?;
        Ok(wal)
    }

    fn unsynced(&self) -> u64 {
        let synced = self.synced.lock().unwrap_or_else(PoisonError::into_inner);
        self.commits.load(Ordering::Acquire) - synced.commits
    }

    /// Fsyncs the WAL if commits were made since the last fsync. The count is read before the
    /// fsync, so every commit it covers had written its frames before the fsync started.
    fn sync(&self) -> std::io::Result<()> {
        let mut synced = self.synced.lock().unwrap_or_else(PoisonError::into_inner);
        let commits = self.commits.load(Ordering::Acquire);
        if commits == synced.commits {
            return Ok(());
        }
        match std::fs::File::open(&self.wal_path) {
            Ok(file) => {
                file.sync_data()?;
                // A WAL file new since the last fsync also needs its folder entry on disk,
                // which SQLite itself syncs only on its first fsync of the file (a checkpoint,
                // in `normal` mode).
                let inode = inode(&file)?;
                if synced.wal_inode != Some(inode) {
                    if let Some(dir) = self.wal_path.parent() {
                        let dir = if dir.as_os_str().is_empty() {
                            Path::new(".")
                        } else {
                            dir
                        };
                        sync_dir(dir)?;
                    }
                    synced.wal_inode = Some(inode);
                }
            }
            // No WAL file: the last connection checkpointed it into the database file, which
            // SQLite fsyncs before removing the WAL.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        synced.commits = commits;
        Ok(())
    }
}

impl Drop for WalSync {
    fn drop(&mut self) {
        // The last chance to shorten the power-loss window of this store's commits; an error
        // has nowhere to go, and the writes themselves succeeded.
        let _ = self.sync();
    }
}

#[cfg(unix)]
fn inode(file: &std::fs::File) -> std::io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    Ok(file.metadata()?.ino())
}

#[cfg(not(unix))]
fn inode(_file: &std::fs::File) -> std::io::Result<u64> {
    Ok(0)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

crate::backend::impl_backend!(SqliteStore, sqlx::Sqlite, true);
crate::tracking_backend::impl_tracking!(super::SqliteStore, sqlx::Sqlite, true);
crate::splits_backend::impl_splits!(super::SqliteStore, sqlx::Sqlite);
crate::alerts_backend::impl_alerts!(super::SqliteStore, sqlx::Sqlite);
crate::pipelines_backend::impl_pipelines!(super::SqliteStore, sqlx::Sqlite);
crate::monitor_backend::impl_monitor!(super::SqliteStore, sqlx::Sqlite);
