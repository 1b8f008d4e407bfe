//! The SQL of pipeline runs, written once and instantiated per backend (like `backend.rs`),
//! inside each backend's module so it shares its transaction discipline and audit chain.

macro_rules! impl_pipelines {
    ($store:ty, $db:ty) => {
        mod pipelines_impl {
            use super::{append_in_tx, finish, DbRow};
            use aidlc_core::audit::NewAuditEntry;
            use sqlx::Row;
            use $crate::pipelines::*;
            use $crate::{AuditContext, Result, StoreError, new_id};

            fn record_from_row(r: &DbRow) -> Result<PipelineRecord> {
                let state: String = r.try_get("state_json")?;
                Ok(PipelineRecord {
                    id: r.try_get("id")?,
                    model: r.try_get("model")?,
                    trigger: r.try_get("trigger_text")?,
                    status: r.try_get("status")?,
                    state: serde_json::from_str(&state).map_err(|e| {
                        StoreError::Corrupt(format!("pipeline state is not valid JSON: {e}"))
                    })?,
                    started_by: r.try_get("started_by")?,
                    started_at_ms: r.try_get("started_at_ms")?,
                    updated_at_ms: r.try_get("updated_at_ms")?,
                })
            }

            impl PipelineStore for $store {
                async fn start_pipeline(
                    &self,
                    ctx: &AuditContext,
                    model: &str,
                    trigger: &str,
                    state: serde_json::Value,
                ) -> Result<PipelineRecord> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<_> = async {
                        let id = new_id();
                        sqlx::query(
                            "INSERT INTO pipeline_runs (id, model, trigger_text, status, state_json, started_by, started_at_ms, updated_at_ms) \
                             VALUES ($1, $2, $3, 'running', $4, $5, $6, $6)",
                        )
                        .bind(id.clone())
                        .bind(model.to_string())
                        .bind(trigger.to_string())
                        .bind(state.to_string())
                        .bind(ctx.actor.clone())
                        .bind(ctx.at_ms)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| match &e {
                            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(format!(
                                "model `{model}` already has a pipeline running or awaiting approval"
                            )),
                            _ => StoreError::Database(e),
                        })?;
                        append_in_tx(
                            &mut tx,
                            vec![NewAuditEntry::new(
                                ctx,
                                "pipeline.start",
                                "pipeline",
                                &id,
                                serde_json::json!({ "model": model, "trigger": trigger }),
                            )],
                        )
                        .await?;
                        Ok(PipelineRecord {
                            id,
                            model: model.to_string(),
                            trigger: trigger.to_string(),
                            status: "running".into(),
                            state,
                            started_by: ctx.actor.clone(),
                            started_at_ms: ctx.at_ms,
                            updated_at_ms: ctx.at_ms,
                        })
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn update_pipeline(
                    &self,
                    ctx: &AuditContext,
                    id: &str,
                    status: &str,
                    state: serde_json::Value,
                    action: &str,
                    details: serde_json::Value,
                ) -> Result<PipelineRecord> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<_> = async {
                        let updated = sqlx::query(
                            "UPDATE pipeline_runs SET status = $2, state_json = $3, updated_at_ms = $4 WHERE id = $1",
                        )
                        .bind(id.to_string())
                        .bind(status.to_string())
                        .bind(state.to_string())
                        .bind(ctx.at_ms)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| match &e {
                            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(format!(
                                "pipeline {id}: its model already has another active pipeline"
                            )),
                            _ => StoreError::Database(e),
                        })?;
                        if updated.rows_affected() == 0 {
                            return Err(StoreError::NotFound { kind: "pipeline run", id: id.to_string() });
                        }
                        append_in_tx(&mut tx, vec![NewAuditEntry::new(ctx, action, "pipeline", id, details)]).await?;
                        let row = sqlx::query("SELECT * FROM pipeline_runs WHERE id = $1")
                            .bind(id.to_string())
                            .fetch_one(&mut *tx)
                            .await?;
                        record_from_row(&row)
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn list_pipelines(&self, model: Option<&str>, limit: i64) -> Result<Vec<PipelineRecord>> {
                    let rows = match model {
                        Some(m) => sqlx::query("SELECT * FROM pipeline_runs WHERE model = $1 ORDER BY started_at_ms DESC, id DESC LIMIT $2")
                            .bind(m.to_string())
                            .bind(limit)
                            .fetch_all(&self.pool)
                            .await?,
                        None => sqlx::query("SELECT * FROM pipeline_runs ORDER BY started_at_ms DESC, id DESC LIMIT $1")
                            .bind(limit)
                            .fetch_all(&self.pool)
                            .await?,
                    };
                    rows.iter().map(record_from_row).collect()
                }
            }
        }
    };
}

pub(crate) use impl_pipelines;
