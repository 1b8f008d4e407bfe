//! The PostgreSQL backend, for teams past one machine.
//!
//! Writers serialise on an exclusive lock of the audit head, so the audit chain (which every
//! write extends) stays a single line, exactly as SQLite's write lock keeps it. Readers are not
//! blocked (EXCLUSIVE mode still admits plain SELECTs), and stores in different schemas of one
//! database do not contend.

use sqlx::Executor;
use sqlx::postgres::{PgPool, PgPoolOptions};

/// Migrations by schema version. Each version is applied once, in ascending order, whatever the
/// order in which features added them; the applied versions are kept in `schema_version`.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (2, include_str!("../migrations/postgres/0002_tracking.sql")),
    (
        3,
        include_str!("../migrations/postgres/0003_validation.sql"),
    ),
    (
        4,
        include_str!("../migrations/postgres/0004_splits_labels.sql"),
    ),
    (5, include_str!("../migrations/postgres/0005_alerts.sql")),
    (7, include_str!("../migrations/postgres/0007_pipelines.sql")),
    (6, include_str!("../migrations/postgres/0006_monitor.sql")),
];

#[derive(Clone, Debug)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

impl PgStore {
    /// Connects and migrates. The URL may carry `options=-c search_path=...` to use a schema.
    pub async fn open(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new().max_connections(8).connect(url).await?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        let mut tx = self.pool.begin().await?;
        tx.execute("LOCK TABLE audit_head IN EXCLUSIVE MODE")
            .await?;
        Ok(tx)
    }

    /// PostgreSQL makes each commit durable itself (`synchronous_commit`): nothing to count.
    pub(crate) fn committed(&self) {}

    async fn migrate(&self) -> Result<()> {
        // The tables may not exist yet, so concurrent first starts serialise on an advisory lock
        // named after the schema instead of on the audit head.
        let mut tx = self.pool.begin().await?;
        tx.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema()))")
            .await?;
        tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
            .await?;
        apply_migrations(&mut tx, MIGRATIONS).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Direct access for tests that tamper with rows to prove verification catches it.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

crate::backend::impl_backend!(PgStore, sqlx::Postgres, false);
crate::tracking_backend::impl_tracking!(super::PgStore, sqlx::Postgres, false);
crate::splits_backend::impl_splits!(super::PgStore, sqlx::Postgres);
crate::alerts_backend::impl_alerts!(super::PgStore, sqlx::Postgres);
crate::pipelines_backend::impl_pipelines!(super::PgStore, sqlx::Postgres);
crate::monitor_backend::impl_monitor!(super::PgStore, sqlx::Postgres);
