//! Helpers shared by the real-binary tests: the stores a test runs on.

use anyhow::Result;
use std::path::Path;

/// Store locations to test: the project's SQLite file, and a fresh PostgreSQL schema named
/// `PREFIX_<time>_<pid>` when a server is configured (drop it with [`drop_schema`]).
pub async fn stores(dir: &Path, prefix: &str) -> Result<Vec<(String, Option<(String, String)>)>> {
    let mut out = vec![(dir.join("aidlc.db").display().to_string(), None)];
    if let Ok(base) = std::env::var("AIDLC_TEST_POSTGRES_URL") {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos();
        let schema = format!("{prefix}_{t:x}_{}", std::process::id());
        let admin = sqlx::PgPool::connect(&base).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&admin)
            .await?;
        admin.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        out.push((url, Some((base, schema))));
    }
    Ok(out)
}

pub async fn drop_schema(base: &str, schema: &str) {
    if let Ok(pool) = sqlx::PgPool::connect(base).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .execute(&pool)
            .await;
    }
}
