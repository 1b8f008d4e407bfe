//! Shared by the contract suites: the stores under test (SQLite in a temp folder always, and a
//! fresh PostgreSQL schema per test when `AIDLC_TEST_POSTGRES_URL` is set) and their cleanup.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use aidlc_store::{AuditContext, Store};
use anyhow::Result;

/// A store under test plus what must be cleaned up afterwards.
pub struct Backend {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_schema: Option<(String, String)>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some((base, schema)) = self.pg_schema.take() {
            // Best effort: a leftover schema only costs disk in the test database.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&base).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP SCHEMA {schema} CASCADE"
                        )))
                        .execute(&pool)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

pub async fn sqlite_backend() -> Result<Backend> {
    let dir = tempfile::tempdir()?;
    let url = dir.path().join("aidlc.db").display().to_string();
    Ok(Backend {
        store: Store::open(&url).await?,
        url,
        _dir: Some(dir),
        pg_schema: None,
    })
}

/// A fresh schema per test so tests run in parallel against one database.
pub async fn postgres_backend(base: &str) -> Result<Backend> {
    let schema = format!("aidlc_test_{}", uuid_like());
    let admin = sqlx::PgPool::connect(base).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await?;
    admin.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    Ok(Backend {
        store: Store::open(&url).await?,
        url,
        _dir: None,
        pg_schema: Some((base.to_string(), schema)),
    })
}

fn uuid_like() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}_{}", t, std::process::id())
}

pub async fn backends() -> Result<Vec<Backend>> {
    let mut out = vec![sqlite_backend().await?];
    if let Ok(base) = std::env::var("AIDLC_TEST_POSTGRES_URL") {
        out.push(postgres_backend(&base).await?);
    }
    Ok(out)
}

pub fn ctx(actor: &str) -> AuditContext {
    AuditContext {
        actor: actor.to_string(),
        at_ms: 1_750_000_000_000,
        reason: None,
    }
}
