//! The SQL of splits and labels, written once and instantiated per backend (like `backend.rs`).
//! It lives in a child module of each backend so it reuses that backend's `finish` and
//! `append_in_tx`: the same transaction discipline and audit chain.

macro_rules! impl_splits {
    ($store:ty, $db:ty) => {
        mod splits_impl {
            use super::{append_in_tx, finish, DbRow};
            use aidlc_core::audit::NewAuditEntry;
            use aidlc_core::ids::{ContentHash, DatasetVersionId};
            use sqlx::Row;
            use $crate::backend::INSERT_CHUNK;
            use $crate::splits::*;
            use $crate::{AuditContext, Result, StoreError, new_id, parse_hash};

            fn parse_json(s: String, what: &str) -> Result<serde_json::Value> {
                serde_json::from_str(&s)
                    .map_err(|e| StoreError::Corrupt(format!("{what} is not valid JSON: {e}")))
            }

            fn split_from_row(r: &DbRow) -> Result<SplitRecord> {
                Ok(SplitRecord {
                    id: r.try_get("id")?,
                    split: NewSplit {
                        name: r.try_get("name")?,
                        source_hash: parse_hash(r.try_get("source_hash")?)?,
                        dataset_version: r
                            .try_get::<Option<String>, _>("dataset_version_id")?
                            .map(DatasetVersionId),
                        kind: r.try_get("kind")?,
                        manifest: parse_hash(r.try_get("manifest")?)?,
                        config: parse_json(r.try_get("config_json")?, "split config")?,
                        report: parse_json(r.try_get("report_json")?, "leakage report")?,
                        train_rows: r.try_get("train_rows")?,
                        valid_rows: r.try_get("valid_rows")?,
                        test_rows: r.try_get("test_rows")?,
                        excluded_rows: r.try_get("excluded_rows")?,
                    },
                    created_by: r.try_get("created_by")?,
                    created_at_ms: r.try_get("created_at_ms")?,
                })
            }

            fn label_from_row(r: &DbRow) -> Result<LabelRecord> {
                Ok(LabelRecord {
                    label: NewLabel {
                        name: r.try_get("name")?,
                        key: r.try_get("key")?,
                        value: r.try_get("value")?,
                        available_at_ms: r.try_get("available_at_ms")?,
                        event_at_ms: r.try_get("event_at_ms")?,
                        source: r.try_get("source")?,
                    },
                    ingested_by: r.try_get("ingested_by")?,
                    ingested_at_ms: r.try_get("ingested_at_ms")?,
                })
            }

            impl SplitStore for $store {
                async fn record_splits(&self, ctx: &AuditContext, batch: Vec<NewSplit>) -> Result<Vec<SplitOutcome>> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<_> = async {
                        let mut out = Vec::with_capacity(batch.len());
                        let mut audit = Vec::new();
                        for s in batch {
                            let existing = sqlx::query("SELECT * FROM splits WHERE source_hash = $1 AND manifest = $2")
                                .bind(s.source_hash.0.clone())
                                .bind(s.manifest.0.clone())
                                .fetch_optional(&mut *tx)
                                .await?;
                            if let Some(r) = existing {
                                out.push(SplitOutcome { record: split_from_row(&r)?, created: false });
                                continue;
                            }
                            let id = new_id();
                            let row = sqlx::query(
                                "INSERT INTO splits (id, name, source_hash, dataset_version_id, kind, manifest, config_json, report_json, \
                                 train_rows, valid_rows, test_rows, excluded_rows, created_by, created_at_ms) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING *",
                            )
                            .bind(id.clone())
                            .bind(s.name.clone())
                            .bind(s.source_hash.0.clone())
                            .bind(s.dataset_version.as_ref().map(|d| d.0.clone()))
                            .bind(s.kind.clone())
                            .bind(s.manifest.0.clone())
                            .bind(s.config.to_string())
                            .bind(s.report.to_string())
                            .bind(s.train_rows)
                            .bind(s.valid_rows)
                            .bind(s.test_rows)
                            .bind(s.excluded_rows)
                            .bind(ctx.actor.clone())
                            .bind(ctx.at_ms)
                            .fetch_one(&mut *tx)
                            .await?;
                            let record = split_from_row(&row)?;
                            audit.push(NewAuditEntry::new(
                                ctx,
                                "split.create",
                                "split",
                                &id,
                                serde_json::json!({
                                    "name": s.name, "source_hash": s.source_hash, "kind": s.kind,
                                    "manifest": s.manifest, "train_rows": s.train_rows,
                                    "valid_rows": s.valid_rows, "test_rows": s.test_rows,
                                }),
                            ));
                            out.push(SplitOutcome { record, created: true });
                        }
                        append_in_tx(&mut tx, audit).await?;
                        Ok(out)
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn get_split(&self, id: &str) -> Result<Option<SplitRecord>> {
                    sqlx::query("SELECT * FROM splits WHERE id = $1")
                        .bind(id.to_string())
                        .fetch_optional(&self.pool)
                        .await?
                        .map(|r| split_from_row(&r))
                        .transpose()
                }

                async fn get_split_by_manifest(&self, manifest: &ContentHash) -> Result<Option<SplitRecord>> {
                    sqlx::query("SELECT * FROM splits WHERE manifest = $1 ORDER BY created_at_ms, id")
                        .bind(manifest.0.clone())
                        .fetch_optional(&self.pool)
                        .await?
                        .map(|r| split_from_row(&r))
                        .transpose()
                }

                async fn list_splits(&self, name: Option<&str>) -> Result<Vec<SplitRecord>> {
                    let rows = match name {
                        Some(n) => {
                            sqlx::query("SELECT * FROM splits WHERE name = $1 ORDER BY created_at_ms, id")
                                .bind(n.to_string())
                                .fetch_all(&self.pool)
                                .await?
                        }
                        None => sqlx::query("SELECT * FROM splits ORDER BY created_at_ms, id").fetch_all(&self.pool).await?,
                    };
                    rows.iter().map(split_from_row).collect()
                }
            }

            impl LabelStore for $store {
                async fn record_labels(&self, ctx: &AuditContext, batch: Vec<NewLabel>) -> Result<LabelIngestOutcome> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<_> = async {
                        let total = batch.len() as u64;
                        let mut inserted = 0u64;
                        for chunk in batch.chunks(INSERT_CHUNK) {
                            let mut qb = sqlx::QueryBuilder::<$db>::new(
                                "INSERT INTO labels (name, key, available_at_ms, value, event_at_ms, source, ingested_by, ingested_at_ms) ",
                            );
                            qb.push_values(chunk, |mut b, l| {
                                b.push_bind(l.name.clone())
                                    .push_bind(l.key.clone())
                                    .push_bind(l.available_at_ms)
                                    .push_bind(l.value.clone())
                                    .push_bind(l.event_at_ms)
                                    .push_bind(l.source.clone())
                                    .push_bind(ctx.actor.clone())
                                    .push_bind(ctx.at_ms);
                            });
                            qb.push(" ON CONFLICT (name, key, available_at_ms) DO NOTHING");
                            inserted += qb.build().execute(&mut *tx).await?.rows_affected();
                        }
                        if inserted > 0 {
                            let mut names: Vec<&str> = batch.iter().map(|l| l.name.as_str()).collect();
                            names.sort_unstable();
                            names.dedup();
                            let sources: std::collections::BTreeSet<&str> = batch.iter().map(|l| l.source.as_str()).collect();
                            let entry = NewAuditEntry::new(
                                ctx,
                                "labels.ingest",
                                "labels",
                                &names.join(","),
                                serde_json::json!({ "inserted": inserted, "already_present": total - inserted, "sources": sources }),
                            );
                            append_in_tx(&mut tx, vec![entry]).await?;
                        }
                        Ok(LabelIngestOutcome { inserted, already_present: total - inserted })
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn labels(&self, name: &str, keys: Option<&[String]>) -> Result<Vec<LabelRecord>> {
                    let mut out = Vec::new();
                    match keys {
                        None => {
                            let rows = sqlx::query("SELECT * FROM labels WHERE name = $1 ORDER BY key, available_at_ms")
                                .bind(name.to_string())
                                .fetch_all(&self.pool)
                                .await?;
                            for r in &rows {
                                out.push(label_from_row(r)?);
                            }
                        }
                        Some(keys) => {
                            for chunk in keys.chunks(INSERT_CHUNK) {
                                let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT * FROM labels WHERE name = ");
                                qb.push_bind(name.to_string());
                                qb.push(" AND key IN (");
                                let mut sep = qb.separated(", ");
                                for k in chunk {
                                    sep.push_bind(k.clone());
                                }
                                qb.push(")");
                                for r in &qb.build().fetch_all(&self.pool).await? {
                                    out.push(label_from_row(r)?);
                                }
                            }
                            out.sort_by(|a, b| (&a.label.key, a.label.available_at_ms).cmp(&(&b.label.key, b.label.available_at_ms)));
                        }
                    }
                    Ok(out)
                }
            }
        }
    };
}

pub(crate) use impl_splits;
