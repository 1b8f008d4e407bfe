//! The SQL of experiment tracking and the registry, written once and instantiated per backend
//! (like `backend.rs`). It lives in a child module of each backend so it reuses that backend's
//! `finish` and `append_in_tx` helpers: the same transaction discipline and audit chain.
//!
//! The one dialect difference is case-sensitive LIKE: SQLite's LIKE ignores ASCII case, so the
//! SQLite instantiation (`sqlite_like = true`) turns LIKE patterns into GLOB patterns.

/// Turns a LIKE pattern (`%`, `_`) into the equivalent case-sensitive GLOB pattern, escaping the
/// characters GLOB treats specially.
pub(crate) fn like_to_glob(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 4);
    for c in pattern.chars() {
        match c {
            '%' => out.push('*'),
            '_' => out.push('?'),
            '*' => out.push_str("[*]"),
            '?' => out.push_str("[?]"),
            '[' => out.push_str("[[]"),
            other => out.push(other),
        }
    }
    out
}

/// NaN cannot be stored by SQLite, so both backends store it as NULL.
pub(crate) fn stored_value(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

/// Orders metric values the way MLflow picks the latest: larger step, then timestamp, then
/// value, with NaN below every number.
pub(crate) fn metric_rank(step: i64, timestamp: i64, value: f64) -> (i64, i64, f64) {
    (
        step,
        timestamp,
        if value.is_nan() {
            f64::NEG_INFINITY
        } else {
            value
        },
    )
}

macro_rules! impl_tracking {
    ($store:ty, $db:ty, $sqlite_like:expr) => {
        mod tracking_impl {
            use super::{append_in_tx, finish, push_audit, DbRow, Script, Tx};
            use aidlc_core::audit::NewAuditEntry;
            use aidlc_core::ids::DatasetVersionId;
            use aidlc_core::records::RunStatus;
            use sqlx::Row;
            use std::collections::{BTreeMap, HashMap};
            use $crate::backend::INSERT_CHUNK;
            use $crate::tracking::*;
            use $crate::tracking_backend::{like_to_glob, metric_rank, stored_value};
            use $crate::{AuditContext, Result, StoreError, new_id, parse_hash};

            type Qb = sqlx::QueryBuilder<$db>;

            fn not_found(kind: &'static str, id: impl Into<String>) -> StoreError {
                StoreError::NotFound { kind, id: id.into() }
            }

            fn kv_rows(rows: &[DbRow]) -> Result<Vec<KeyValue>> {
                rows.iter().map(|r| Ok(KeyValue { key: r.try_get("key")?, value: r.try_get("value")? })).collect()
            }

            fn metric_from_row(r: &DbRow) -> Result<Metric> {
                Ok(Metric {
                    key: r.try_get("key")?,
                    value: r.try_get::<Option<f64>, _>("value")?.unwrap_or(f64::NAN),
                    timestamp: r.try_get("timestamp")?,
                    step: r.try_get("step")?,
                    model_id: r.try_get("model_id")?,
                    dataset_name: r.try_get("dataset_name")?,
                    dataset_digest: r.try_get("dataset_digest")?,
                })
            }

            fn lifecycle_from(s: String) -> Result<Lifecycle> {
                Lifecycle::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("unknown lifecycle stage `{s}`")))
            }

            /// Appends `col LIKE pattern` with the backend's case rules.
            fn push_text_op(qb: &mut Qb, col: &str, op: Comparison, value: &str) {
                match op {
                    Comparison::Like if $sqlite_like => {
                        qb.push(format!("{col} GLOB ")).push_bind(like_to_glob(value));
                    }
                    Comparison::ILike => {
                        qb.push(format!("LOWER({col}) LIKE ")).push_bind(value.to_lowercase());
                    }
                    other => {
                        qb.push(format!("{col} {} ", other.sql())).push_bind(value.to_string());
                    }
                }
            }

            /// The run's base columns, without params, tags, metrics or outputs.
            fn run_base(r: &DbRow) -> Result<TrackedRun> {
                let id: String = r.try_get("id")?;
                let experiment_id = r.try_get::<Option<i64>, _>("experiment_id")?.unwrap_or(0);
                let status: String = r.try_get("status")?;
                let artifact_uri = r
                    .try_get::<Option<String>, _>("artifact_uri")?
                    .unwrap_or_else(|| format!("mlflow-artifacts:/{experiment_id}/{id}/artifacts"));
                Ok(TrackedRun {
                    experiment_id,
                    name: r.try_get("name")?,
                    user_id: r.try_get("created_by")?,
                    status: RunStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown run status `{status}`")))?,
                    start_time: r.try_get("started_at_ms")?,
                    end_time: r.try_get("ended_at_ms")?,
                    artifact_uri,
                    lifecycle: lifecycle_from(r.try_get("lifecycle_stage")?)?,
                    params: Vec::new(),
                    tags: Vec::new(),
                    metrics: Vec::new(),
                    outputs: Vec::new(),
                    id,
                })
            }

            /// Rows of `table` whose `key_col` is one of `ids`, in bounded IN lists.
            async fn rows_in(pool: &sqlx::Pool<$db>, sql_prefix: &str, ids: &[String], suffix: &str) -> Result<Vec<DbRow>> {
                let mut out = Vec::new();
                for chunk in ids.chunks(INSERT_CHUNK) {
                    let mut qb = Qb::new(sql_prefix.to_string());
                    qb.push(" IN (");
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(id.clone());
                    }
                    qb.push(")");
                    qb.push(suffix.to_string());
                    out.extend(qb.build().fetch_all(pool).await?);
                }
                Ok(out)
            }

            /// Fills params, tags, latest metrics and outputs of `runs` with one query each.
            async fn hydrate_runs(pool: &sqlx::Pool<$db>, runs: &mut [TrackedRun]) -> Result<()> {
                if runs.is_empty() {
                    return Ok(());
                }
                let ids: Vec<String> = runs.iter().map(|r| r.id.clone()).collect();
                let index: HashMap<String, usize> = ids.iter().enumerate().map(|(i, id)| (id.clone(), i)).collect();
                for r in rows_in(pool, "SELECT run_id, key, value FROM run_params WHERE run_id", &ids, " ORDER BY key").await? {
                    let i = index[&r.try_get::<String, _>("run_id")?];
                    runs[i].params.push(KeyValue { key: r.try_get("key")?, value: r.try_get("value")? });
                }
                for r in rows_in(pool, "SELECT run_id, key, value FROM run_tags WHERE run_id", &ids, " ORDER BY key").await? {
                    let i = index[&r.try_get::<String, _>("run_id")?];
                    runs[i].tags.push(KeyValue { key: r.try_get("key")?, value: r.try_get("value")? });
                }
                for r in rows_in(
                    pool,
                    "SELECT run_id, key, value, timestamp, step, NULL AS model_id, NULL AS dataset_name, NULL AS dataset_digest FROM latest_metrics WHERE run_id",
                    &ids,
                    " ORDER BY key",
                )
                .await?
                {
                    let i = index[&r.try_get::<String, _>("run_id")?];
                    runs[i].metrics.push(metric_from_row(&r)?);
                }
                for r in rows_in(pool, "SELECT run_id, model_id, step FROM run_model_outputs WHERE run_id", &ids, " ORDER BY model_id").await? {
                    let i = index[&r.try_get::<String, _>("run_id")?];
                    runs[i].outputs.push(ModelOutput { model_id: r.try_get("model_id")?, step: r.try_get("step")? });
                }
                Ok(())
            }

            /// Fails unless the run exists and is active: writes to a deleted run are refused.
            async fn require_active_run(tx: &mut Tx, run_id: &str) -> Result<()> {
                let stage = sqlx::query("SELECT lifecycle_stage FROM runs WHERE id = $1")
                    .bind(run_id.to_string())
                    .fetch_optional(&mut **tx)
                    .await?
                    .map(|row| row.try_get("lifecycle_stage"))
                    .transpose()?;
                check_active(run_id, stage)
            }

            /// Writes go to active runs only; `stage` is the run's lifecycle stage, `None` when
            /// there is no such run.
            fn check_active(run_id: &str, stage: Option<String>) -> Result<()> {
                let stage = stage.ok_or_else(|| not_found("run", run_id))?;
                if stage != "active" {
                    return Err(StoreError::Invalid(format!(
                        "the run {run_id} must be in the 'active' state; its current state is {stage}"
                    )));
                }
                Ok(())
            }

            async fn experiment_from_row(pool: &sqlx::Pool<$db>, r: &DbRow) -> Result<Experiment> {
                let id: i64 = r.try_get("id")?;
                let tags = sqlx::query("SELECT key, value FROM experiment_tags WHERE experiment_id = $1 ORDER BY key")
                    .bind(id)
                    .fetch_all(pool)
                    .await?;
                Ok(Experiment {
                    id,
                    name: r.try_get("name")?,
                    artifact_location: r.try_get("artifact_location")?,
                    lifecycle: lifecycle_from(r.try_get("lifecycle_stage")?)?,
                    creation_time: r.try_get("creation_time")?,
                    last_update_time: r.try_get("last_update_time")?,
                    tags: kv_rows(&tags)?,
                })
            }

            async fn logged_model_from_row(pool: &sqlx::Pool<$db>, r: &DbRow) -> Result<LoggedModel> {
                let id: String = r.try_get("id")?;
                let status: String = r.try_get("status")?;
                let source_run_id: Option<String> = r.try_get("source_run_id")?;
                let params = sqlx::query("SELECT key, value FROM logged_model_params WHERE model_id = $1 ORDER BY key")
                    .bind(id.clone())
                    .fetch_all(pool)
                    .await?;
                let tags = sqlx::query("SELECT key, value FROM logged_model_tags WHERE model_id = $1 ORDER BY key")
                    .bind(id.clone())
                    .fetch_all(pool)
                    .await?;
                // The model's metrics were logged on its source run, tagged with its id; the
                // run prefix keeps this on the history index.
                let metrics = match &source_run_id {
                    Some(run) => sqlx::query("SELECT * FROM metrics WHERE run_id = $1 AND model_id = $2 ORDER BY key, step, timestamp")
                        .bind(run.clone())
                        .bind(id.clone())
                        .fetch_all(pool)
                        .await?
                        .iter()
                        .map(metric_from_row)
                        .collect::<Result<Vec<_>>>()?,
                    None => Vec::new(),
                };
                Ok(LoggedModel {
                    experiment_id: r.try_get("experiment_id")?,
                    name: r.try_get("name")?,
                    source_run_id,
                    model_type: r.try_get("model_type")?,
                    status: LoggedModelStatus::parse(&status)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown logged model status `{status}`")))?,
                    artifact_uri: r.try_get("artifact_uri")?,
                    created_at_ms: r.try_get("created_at_ms")?,
                    updated_at_ms: r.try_get("updated_at_ms")?,
                    params: kv_rows(&params)?,
                    tags: kv_rows(&tags)?,
                    metrics,
                    id,
                })
            }

            async fn version_from_row(pool: &sqlx::Pool<$db>, r: &DbRow) -> Result<RegistryVersion> {
                let model: String = r.try_get("model")?;
                let version: i64 = r.try_get("version")?;
                let tags = sqlx::query("SELECT key, value FROM model_version_tags WHERE model = $1 AND version = $2 ORDER BY key")
                    .bind(model.clone())
                    .bind(version)
                    .fetch_all(pool)
                    .await?;
                let aliases = sqlx::query("SELECT alias FROM model_aliases WHERE model = $1 AND version = $2 ORDER BY alias")
                    .bind(model.clone())
                    .bind(version)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(|a| a.try_get("alias"))
                    .collect::<std::result::Result<Vec<String>, _>>()?;
                let created_at_ms: i64 = r.try_get("created_at_ms")?;
                Ok(RegistryVersion {
                    id: r.try_get("id")?,
                    artifact: parse_hash(r.try_get("artifact")?)?,
                    source: r.try_get("source")?,
                    run_id: r.try_get("run")?,
                    logged_model_id: r.try_get("logged_model_id")?,
                    description: r.try_get("description")?,
                    stage: r.try_get("stage")?,
                    dataset_version: r.try_get::<Option<String>, _>("dataset_version")?.map(DatasetVersionId),
                    split: r.try_get::<Option<String>, _>("split")?.map(parse_hash).transpose()?,
                    git_commit: r.try_get("git_commit")?,
                    git_dirty: r.try_get("git_dirty")?,
                    created_by: r.try_get("created_by")?,
                    updated_at_ms: r.try_get::<Option<i64>, _>("updated_at_ms")?.unwrap_or(created_at_ms),
                    created_at_ms,
                    tags: kv_rows(&tags)?,
                    aliases,
                    model,
                    version,
                })
            }

            async fn registered_model_from_row(pool: &sqlx::Pool<$db>, r: &DbRow) -> Result<RegisteredModel> {
                let name: String = r.try_get("name")?;
                let tags = sqlx::query("SELECT key, value FROM registered_model_tags WHERE name = $1 ORDER BY key")
                    .bind(name.clone())
                    .fetch_all(pool)
                    .await?;
                let aliases = sqlx::query("SELECT alias, version FROM model_aliases WHERE model = $1 ORDER BY alias")
                    .bind(name.clone())
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(|a| Ok((a.try_get("alias")?, a.try_get("version")?)))
                    .collect::<Result<Vec<(String, i64)>>>()?;
                // The latest version per stage, as MLflow's `latest_versions` reports them.
                let rows = sqlx::query(
                    "SELECT * FROM model_versions v WHERE model = $1 AND version = \
                     (SELECT MAX(version) FROM model_versions w WHERE w.model = v.model AND w.stage = v.stage) ORDER BY version",
                )
                .bind(name.clone())
                .fetch_all(pool)
                .await?;
                let mut latest_versions = Vec::with_capacity(rows.len());
                for v in &rows {
                    latest_versions.push(version_from_row(pool, v).await?);
                }
                Ok(RegisteredModel {
                    description: r.try_get("description")?,
                    created_at_ms: r.try_get("created_at_ms")?,
                    updated_at_ms: r.try_get("updated_at_ms")?,
                    tags: kv_rows(&tags)?,
                    aliases,
                    latest_versions,
                    name,
                })
            }

            /// Appends the SQL of one field for ordering: a correlated subquery for metrics,
            /// params and tags, a column for attributes.
            fn push_order_expr(qb: &mut Qb, field: &RunField) {
                match field {
                    RunField::Metric(k) => {
                        qb.push("(SELECT m.value FROM latest_metrics m WHERE m.run_id = r.id AND m.key = ").push_bind(k.clone()).push(")");
                    }
                    RunField::Param(k) => {
                        qb.push("(SELECT p.value FROM run_params p WHERE p.run_id = r.id AND p.key = ").push_bind(k.clone()).push(")");
                    }
                    RunField::Tag(k) => {
                        qb.push("(SELECT t.value FROM run_tags t WHERE t.run_id = r.id AND t.key = ").push_bind(k.clone()).push(")");
                    }
                    RunField::Attribute(a) => {
                        qb.push(attribute_column(*a));
                    }
                }
            }

            fn attribute_column(a: RunAttribute) -> &'static str {
                match a {
                    RunAttribute::RunId => "r.id",
                    RunAttribute::RunName => "r.name",
                    RunAttribute::Status => "r.status",
                    RunAttribute::UserId => "r.created_by",
                    RunAttribute::ArtifactUri => "r.artifact_uri",
                    RunAttribute::StartTime => "r.started_at_ms",
                    RunAttribute::EndTime => "r.ended_at_ms",
                }
            }

            fn invalid_value(clause: &RunClause) -> StoreError {
                StoreError::Invalid(format!("invalid value {:?} for {:?} {}", clause.value, clause.field, clause.op.sql()))
            }

            /// Appends ` AND <clause>` for one filter term.
            fn push_clause(qb: &mut Qb, clause: &RunClause) -> Result<()> {
                qb.push(" AND ");
                let (table, alias, key) = match &clause.field {
                    RunField::Metric(k) => ("latest_metrics", "m", k),
                    RunField::Param(k) => ("run_params", "p", k),
                    RunField::Tag(k) => ("run_tags", "t", k),
                    RunField::Attribute(a) => return push_attribute_clause(qb, *a, clause),
                };
                let exists = |qb: &mut Qb, negate: bool| {
                    qb.push(if negate { "NOT EXISTS (SELECT 1 FROM " } else { "EXISTS (SELECT 1 FROM " });
                    qb.push(format!("{table} {alias} WHERE {alias}.run_id = r.id AND {alias}.key = "))
                        .push_bind(key.clone());
                };
                match (clause.op, &clause.value) {
                    (Comparison::IsNull, _) => {
                        exists(qb, true);
                        qb.push(")");
                    }
                    (Comparison::IsNotNull, _) => {
                        exists(qb, false);
                        qb.push(")");
                    }
                    (op, FilterValue::Number(n)) if matches!(clause.field, RunField::Metric(_)) && !matches!(op, Comparison::Like | Comparison::ILike | Comparison::In | Comparison::NotIn) => {
                        exists(qb, false);
                        qb.push(format!(" AND {alias}.value {} ", op.sql())).push_bind(*n).push(")");
                    }
                    (op @ (Comparison::Eq | Comparison::Ne | Comparison::Like | Comparison::ILike), FilterValue::Text(s))
                        if !matches!(clause.field, RunField::Metric(_)) =>
                    {
                        exists(qb, false);
                        qb.push(" AND ");
                        push_text_op(qb, &format!("{alias}.value"), op, s);
                        qb.push(")");
                    }
                    _ => return Err(invalid_value(clause)),
                }
                Ok(())
            }

            fn push_attribute_clause(qb: &mut Qb, a: RunAttribute, clause: &RunClause) -> Result<()> {
                let col = attribute_column(a);
                match (clause.op, &clause.value) {
                    (op @ (Comparison::In | Comparison::NotIn), FilterValue::List(items)) if a == RunAttribute::RunId => {
                        if items.is_empty() {
                            qb.push(if op == Comparison::In { "1 = 0" } else { "1 = 1" });
                            return Ok(());
                        }
                        qb.push(format!("{col} {} (", op.sql()));
                        let mut sep = qb.separated(", ");
                        for i in items {
                            sep.push_bind(i.clone());
                        }
                        qb.push(")");
                    }
                    (op, FilterValue::Number(n))
                        if a.is_numeric() && !matches!(op, Comparison::Like | Comparison::ILike | Comparison::In | Comparison::NotIn | Comparison::IsNull | Comparison::IsNotNull) =>
                    {
                        qb.push(format!("{col} {} ", op.sql())).push_bind(*n as i64);
                    }
                    (op @ (Comparison::Eq | Comparison::Ne | Comparison::Like | Comparison::ILike), FilterValue::Text(s)) if !a.is_numeric() => {
                        push_text_op(qb, col, op, s);
                    }
                    _ => return Err(invalid_value(clause)),
                }
                Ok(())
            }

            impl TrackingStore for $store {
                async fn create_experiment(
                    &self,
                    ctx: &AuditContext,
                    name: &str,
                    artifact_location: Option<String>,
                    tags: Vec<KeyValue>,
                ) -> Result<Experiment> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<i64> = async {
                        let taken = sqlx::query("SELECT id FROM experiments WHERE name = $1")
                            .bind(name.to_string())
                            .fetch_optional(&mut *tx)
                            .await?;
                        if taken.is_some() {
                            return Err(StoreError::AlreadyExists { kind: "experiment", id: name.to_string() });
                        }
                        let id: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 AS next FROM experiments")
                            .fetch_one(&mut *tx)
                            .await?
                            .try_get("next")?;
                        let location = artifact_location.filter(|l| !l.is_empty()).unwrap_or_else(|| format!("mlflow-artifacts:/{id}"));
                        sqlx::query(
                            "INSERT INTO experiments (id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) \
                             VALUES ($1, $2, $3, 'active', $4, $4)",
                        )
                        .bind(id)
                        .bind(name.to_string())
                        .bind(location)
                        .bind(ctx.at_ms)
                        .execute(&mut *tx)
                        .await?;
                        for t in &tags {
                            sqlx::query("INSERT INTO experiment_tags (experiment_id, key, value) VALUES ($1, $2, $3) \
                                         ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value")
                                .bind(id)
                                .bind(t.key.clone())
                                .bind(t.value.clone())
                                .execute(&mut *tx)
                                .await?;
                        }
                        let e = NewAuditEntry::new(ctx, "experiment.create", "experiment", &id.to_string(), serde_json::json!({ "name": name }));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(id)
                    }
                    .await;
                    let id = finish(self, tx, result).await?;
                    self.get_experiment(id).await?.ok_or_else(|| not_found("experiment", id.to_string()))
                }

                async fn get_experiment(&self, id: i64) -> Result<Option<Experiment>> {
                    let row = sqlx::query("SELECT * FROM experiments WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
                    match row {
                        Some(r) => Ok(Some(experiment_from_row(&self.pool, &r).await?)),
                        None => Ok(None),
                    }
                }

                async fn get_experiment_by_name(&self, name: &str) -> Result<Option<Experiment>> {
                    let row = sqlx::query("SELECT * FROM experiments WHERE name = $1")
                        .bind(name.to_string())
                        .fetch_optional(&self.pool)
                        .await?;
                    match row {
                        Some(r) => Ok(Some(experiment_from_row(&self.pool, &r).await?)),
                        None => Ok(None),
                    }
                }

                async fn search_experiments(&self, search: &ExperimentSearch) -> Result<Page<Experiment>> {
                    let mut qb = Qb::new("SELECT * FROM experiments WHERE 1 = 1");
                    match search.view {
                        ViewType::ActiveOnly => { qb.push(" AND lifecycle_stage = 'active'"); }
                        ViewType::DeletedOnly => { qb.push(" AND lifecycle_stage = 'deleted'"); }
                        ViewType::All => {}
                    }
                    if let Some((op, name)) = &search.name {
                        qb.push(" AND ");
                        push_text_op(&mut qb, "name", *op, name);
                    }
                    qb.push(" ORDER BY id LIMIT ").push_bind(search.max_results + 1).push(" OFFSET ").push_bind(search.offset);
                    let rows = qb.build().fetch_all(&self.pool).await?;
                    let more = rows.len() as i64 > search.max_results;
                    let mut items = Vec::with_capacity(rows.len());
                    for r in rows.iter().take(search.max_results as usize) {
                        items.push(experiment_from_row(&self.pool, r).await?);
                    }
                    Ok(Page { next_offset: more.then_some(search.offset + search.max_results), items })
                }

                async fn set_experiment_lifecycle(&self, ctx: &AuditContext, id: i64, lifecycle: Lifecycle) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        let done = sqlx::query("UPDATE experiments SET lifecycle_stage = $1, last_update_time = $2 WHERE id = $3")
                            .bind(lifecycle.as_str())
                            .bind(ctx.at_ms)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        if done.rows_affected() == 0 {
                            return Err(not_found("experiment", id.to_string()));
                        }
                        // Runs follow their experiment into and out of the bin, as in MLflow.
                        sqlx::query("UPDATE runs SET lifecycle_stage = $1 WHERE experiment_id = $2")
                            .bind(lifecycle.as_str())
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        let action = match lifecycle { Lifecycle::Active => "experiment.restore", Lifecycle::Deleted => "experiment.delete" };
                        let e = NewAuditEntry::new(ctx, action, "experiment", &id.to_string(), serde_json::json!({}));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn set_experiment_tag(&self, ctx: &AuditContext, id: i64, tag: KeyValue) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        let exists = sqlx::query("SELECT id FROM experiments WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
                        if exists.is_none() {
                            return Err(not_found("experiment", id.to_string()));
                        }
                        sqlx::query("INSERT INTO experiment_tags (experiment_id, key, value) VALUES ($1, $2, $3) \
                                     ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value")
                            .bind(id)
                            .bind(tag.key.clone())
                            .bind(tag.value.clone())
                            .execute(&mut *tx)
                            .await?;
                        let e = NewAuditEntry::new(ctx, "experiment.set_tag", "experiment", &id.to_string(), serde_json::json!({ "key": tag.key }));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn create_tracked_run(&self, ctx: &AuditContext, run: NewTrackedRun) -> Result<TrackedRun> {
                    let id = new_id();
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        let exp = sqlx::query("SELECT artifact_location, lifecycle_stage FROM experiments WHERE id = $1")
                            .bind(run.experiment_id)
                            .fetch_optional(&mut *tx)
                            .await?
                            .ok_or_else(|| not_found("experiment", run.experiment_id.to_string()))?;
                        let stage: String = exp.try_get("lifecycle_stage")?;
                        if stage != "active" {
                            return Err(StoreError::Invalid(format!("experiment {} is deleted; restore it before starting runs in it", run.experiment_id)));
                        }
                        let location: String = exp.try_get("artifact_location")?;
                        let tag_name = run.tags.iter().rev().find(|t| t.key == "mlflow.runName").map(|t| t.value.clone());
                        let name = match (run.name.is_empty(), tag_name) {
                            (false, _) => run.name.clone(),
                            (true, Some(n)) => n,
                            (true, None) => format!("run-{}", &id[id.len() - 8..]),
                        };
                        sqlx::query(
                            "INSERT INTO runs (id, project, name, status, params_json, created_by, started_at_ms, experiment_id, lifecycle_stage, artifact_uri) \
                             VALUES ($1, '', $2, 'RUNNING', '{}', $3, $4, $5, 'active', $6)",
                        )
                        .bind(id.clone())
                        .bind(name.clone())
                        .bind(run.user_id.clone())
                        .bind(run.start_time)
                        .bind(run.experiment_id)
                        .bind(format!("{location}/{id}/artifacts"))
                        .execute(&mut *tx)
                        .await?;
                        // The run name is also the `mlflow.runName` tag, which clients read.
                        let mut tags: BTreeMap<String, String> = run.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
                        tags.insert("mlflow.runName".to_string(), name.clone());
                        insert_tags(&mut tx, &id, &tags).await?;
                        let e = NewAuditEntry::new(ctx, "run.create", "run", &id, serde_json::json!({ "experiment_id": run.experiment_id, "name": name }));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await?;
                    self.get_tracked_run(&id).await?.ok_or_else(|| not_found("run", id))
                }

                async fn get_tracked_run(&self, id: &str) -> Result<Option<TrackedRun>> {
                    let row = sqlx::query("SELECT * FROM runs WHERE id = $1").bind(id.to_string()).fetch_optional(&self.pool).await?;
                    let Some(row) = row else { return Ok(None) };
                    let mut runs = vec![run_base(&row)?];
                    hydrate_runs(&self.pool, &mut runs).await?;
                    Ok(runs.pop())
                }

                async fn update_tracked_run(&self, ctx: &AuditContext, id: &str, update: RunUpdate) -> Result<TrackedRun> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        require_active_run(&mut tx, id).await?;
                        if let Some(status) = update.status {
                            let end = update.end_time.or(status.is_terminal().then_some(ctx.at_ms));
                            sqlx::query("UPDATE runs SET status = $1, ended_at_ms = $2 WHERE id = $3")
                                .bind(status.as_str())
                                .bind(end)
                                .bind(id.to_string())
                                .execute(&mut *tx)
                                .await?;
                        } else if let Some(end) = update.end_time {
                            sqlx::query("UPDATE runs SET ended_at_ms = $1 WHERE id = $2").bind(end).bind(id.to_string()).execute(&mut *tx).await?;
                        }
                        if let Some(name) = update.name.as_ref().filter(|n| !n.is_empty()) {
                            sqlx::query("UPDATE runs SET name = $1 WHERE id = $2").bind(name.clone()).bind(id.to_string()).execute(&mut *tx).await?;
                            let tags = BTreeMap::from([("mlflow.runName".to_string(), name.clone())]);
                            insert_tags(&mut tx, id, &tags).await?;
                        }
                        let e = NewAuditEntry::new(ctx, "run.update", "run", id, serde_json::json!({ "status": update.status, "end_time": update.end_time, "name": update.name }));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await?;
                    self.get_tracked_run(id).await?.ok_or_else(|| not_found("run", id))
                }

                async fn set_run_lifecycle(&self, ctx: &AuditContext, id: &str, lifecycle: Lifecycle) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        let done = sqlx::query("UPDATE runs SET lifecycle_stage = $1 WHERE id = $2")
                            .bind(lifecycle.as_str())
                            .bind(id.to_string())
                            .execute(&mut *tx)
                            .await?;
                        if done.rows_affected() == 0 {
                            return Err(not_found("run", id));
                        }
                        let action = match lifecycle { Lifecycle::Active => "run.restore", Lifecycle::Deleted => "run.delete" };
                        let e = NewAuditEntry::new(ctx, action, "run", id, serde_json::json!({}));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await
                }

                /// The hot path of tracking (every `log_metric` of a training loop lands here): one
                /// read for the run's state and the audit head, the params check when there are
                /// params, then every write as one [`Script`].
                async fn log_batch(&self, ctx: &AuditContext, run_id: &str, batch: LogBatch) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        let row = sqlx::query(
                            "SELECT h.seq, h.hash, (SELECT lifecycle_stage FROM runs WHERE id = $1) AS stage FROM audit_head h WHERE h.id = 1",
                        )
                        .bind(run_id.to_string())
                        .fetch_one(&mut *tx)
                        .await?;
                        check_active(run_id, row.try_get("stage")?)?;
                        let head: (i64, String) = (row.try_get("seq")?, row.try_get("hash")?);
                        let mut script = Script::new();
                        write_params(&mut tx, &mut script, run_id, &batch.params).await?;
                        let tags: BTreeMap<String, String> = batch.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
                        push_tags(&mut script, run_id, &tags);
                        if let Some(name) = tags.get("mlflow.runName") {
                            script
                                .statement("UPDATE runs SET name = ")
                                .push_bind(name.clone())
                                .push(" WHERE id = ")
                                .push_bind(run_id.to_string());
                        }
                        push_metrics(&mut script, run_id, &batch.metrics);
                        let e = NewAuditEntry::new(
                            ctx,
                            "run.log",
                            "run",
                            run_id,
                            serde_json::json!({ "metrics": batch.metrics.len(), "params": batch.params.len(), "tags": batch.tags.len() }),
                        );
                        push_audit(&mut script, head, vec![e]);
                        script.run(&mut tx).await
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn delete_run_tag(&self, ctx: &AuditContext, run_id: &str, key: &str) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        require_active_run(&mut tx, run_id).await?;
                        let done = sqlx::query("DELETE FROM run_tags WHERE run_id = $1 AND key = $2")
                            .bind(run_id.to_string())
                            .bind(key.to_string())
                            .execute(&mut *tx)
                            .await?;
                        if done.rows_affected() == 0 {
                            return Err(not_found("run tag", format!("{run_id}/{key}")));
                        }
                        let e = NewAuditEntry::new(ctx, "run.delete_tag", "run", run_id, serde_json::json!({ "key": key }));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn metric_history(&self, run_id: &str, key: &str, max_results: i64, offset: i64) -> Result<Page<Metric>> {
                    let rows = sqlx::query("SELECT * FROM metrics WHERE run_id = $1 AND key = $2 ORDER BY step, timestamp LIMIT $3 OFFSET $4")
                        .bind(run_id.to_string())
                        .bind(key.to_string())
                        .bind(max_results + 1)
                        .bind(offset)
                        .fetch_all(&self.pool)
                        .await?;
                    let more = rows.len() as i64 > max_results;
                    let items = rows.iter().take(max_results as usize).map(metric_from_row).collect::<Result<Vec<_>>>()?;
                    Ok(Page { items, next_offset: more.then_some(offset + max_results) })
                }

                async fn search_tracked_runs(&self, search: &RunSearch) -> Result<Page<TrackedRun>> {
                    if search.experiment_ids.is_empty() {
                        return Ok(Page { items: Vec::new(), next_offset: None });
                    }
                    let mut qb = Qb::new("SELECT r.* FROM runs r WHERE r.experiment_id IN (");
                    let mut sep = qb.separated(", ");
                    for id in &search.experiment_ids {
                        sep.push_bind(*id);
                    }
                    qb.push(")");
                    match search.view {
                        ViewType::ActiveOnly => { qb.push(" AND r.lifecycle_stage = 'active'"); }
                        ViewType::DeletedOnly => { qb.push(" AND r.lifecycle_stage = 'deleted'"); }
                        ViewType::All => {}
                    }
                    for clause in &search.clauses {
                        push_clause(&mut qb, clause)?;
                    }
                    qb.push(" ORDER BY ");
                    for o in &search.order {
                        // Missing values sort last in both directions.
                        push_order_expr(&mut qb, &o.field);
                        qb.push(" IS NULL, ");
                        push_order_expr(&mut qb, &o.field);
                        qb.push(if o.ascending { " ASC, " } else { " DESC, " });
                    }
                    if !search.order.iter().any(|o| o.field == RunField::Attribute(RunAttribute::StartTime)) {
                        qb.push("r.started_at_ms DESC, ");
                    }
                    qb.push("r.id ASC LIMIT ").push_bind(search.max_results + 1).push(" OFFSET ").push_bind(search.offset);
                    let rows = qb.build().fetch_all(&self.pool).await?;
                    let more = rows.len() as i64 > search.max_results;
                    let mut items = rows.iter().take(search.max_results as usize).map(run_base).collect::<Result<Vec<_>>>()?;
                    hydrate_runs(&self.pool, &mut items).await?;
                    Ok(Page { items, next_offset: more.then_some(search.offset + search.max_results) })
                }

                async fn log_run_outputs(&self, ctx: &AuditContext, run_id: &str, outputs: Vec<ModelOutput>) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        require_active_run(&mut tx, run_id).await?;
                        for o in &outputs {
                            sqlx::query("INSERT INTO run_model_outputs (run_id, model_id, step) VALUES ($1, $2, $3) \
                                         ON CONFLICT (run_id, model_id) DO UPDATE SET step = excluded.step")
                                .bind(run_id.to_string())
                                .bind(o.model_id.clone())
                                .bind(o.step)
                                .execute(&mut *tx)
                                .await?;
                        }
                        let e = NewAuditEntry::new(ctx, "run.outputs", "run", run_id, serde_json::json!({ "models": outputs }));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn create_logged_model(&self, ctx: &AuditContext, model: NewLoggedModel) -> Result<LoggedModel> {
                    let id = format!("m-{}", new_id());
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        let location: String = sqlx::query("SELECT artifact_location FROM experiments WHERE id = $1")
                            .bind(model.experiment_id)
                            .fetch_optional(&mut *tx)
                            .await?
                            .ok_or_else(|| not_found("experiment", model.experiment_id.to_string()))?
                            .try_get("artifact_location")?;
                        if let Some(run) = &model.source_run_id {
                            require_active_run(&mut tx, run).await?;
                        }
                        sqlx::query(
                            "INSERT INTO logged_models (id, experiment_id, name, source_run_id, status, model_type, artifact_uri, created_at_ms, updated_at_ms) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                        )
                        .bind(id.clone())
                        .bind(model.experiment_id)
                        .bind(model.name.clone())
                        .bind(model.source_run_id.clone())
                        .bind(LoggedModelStatus::Pending.as_str())
                        .bind(model.model_type.clone())
                        .bind(format!("{location}/models/{id}/artifacts"))
                        .bind(ctx.at_ms)
                        .execute(&mut *tx)
                        .await?;
                        for (table, kvs) in [("logged_model_params", &model.params), ("logged_model_tags", &model.tags)] {
                            for kv in kvs.iter() {
                                sqlx::query(sqlx::AssertSqlSafe(format!(
                                    "INSERT INTO {table} (model_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value"
                                )))
                                .bind(id.clone())
                                .bind(kv.key.clone())
                                .bind(kv.value.clone())
                                .execute(&mut *tx)
                                .await?;
                            }
                        }
                        let e = NewAuditEntry::new(ctx, "logged_model.create", "logged_model", &id, serde_json::json!({ "name": model.name, "source_run_id": model.source_run_id }));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await?;
                    self.get_logged_model(&id).await?.ok_or_else(|| not_found("logged model", id))
                }

                async fn get_logged_model(&self, id: &str) -> Result<Option<LoggedModel>> {
                    let row = sqlx::query("SELECT * FROM logged_models WHERE id = $1").bind(id.to_string()).fetch_optional(&self.pool).await?;
                    match row {
                        Some(r) => Ok(Some(logged_model_from_row(&self.pool, &r).await?)),
                        None => Ok(None),
                    }
                }

                async fn set_logged_model_status(&self, ctx: &AuditContext, id: &str, status: LoggedModelStatus) -> Result<LoggedModel> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        let done = sqlx::query("UPDATE logged_models SET status = $1, updated_at_ms = $2 WHERE id = $3")
                            .bind(status.as_str())
                            .bind(ctx.at_ms)
                            .bind(id.to_string())
                            .execute(&mut *tx)
                            .await?;
                        if done.rows_affected() == 0 {
                            return Err(not_found("logged model", id));
                        }
                        let e = NewAuditEntry::new(ctx, "logged_model.status", "logged_model", id, serde_json::json!({ "status": status.as_str() }));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await?;
                    self.get_logged_model(id).await?.ok_or_else(|| not_found("logged model", id))
                }

                async fn set_logged_model_tags(&self, ctx: &AuditContext, id: &str, tags: Vec<KeyValue>) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        let exists = sqlx::query("SELECT id FROM logged_models WHERE id = $1").bind(id.to_string()).fetch_optional(&mut *tx).await?;
                        if exists.is_none() {
                            return Err(not_found("logged model", id));
                        }
                        for t in &tags {
                            sqlx::query("INSERT INTO logged_model_tags (model_id, key, value) VALUES ($1, $2, $3) \
                                         ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value")
                                .bind(id.to_string())
                                .bind(t.key.clone())
                                .bind(t.value.clone())
                                .execute(&mut *tx)
                                .await?;
                        }
                        sqlx::query("UPDATE logged_models SET updated_at_ms = $1 WHERE id = $2").bind(ctx.at_ms).bind(id.to_string()).execute(&mut *tx).await?;
                        let keys: Vec<&str> = tags.iter().map(|t| t.key.as_str()).collect();
                        let e = NewAuditEntry::new(ctx, "logged_model.set_tags", "logged_model", id, serde_json::json!({ "keys": keys }));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn search_logged_models(&self, search: &LoggedModelSearch) -> Result<Page<LoggedModel>> {
                    let mut qb = Qb::new("SELECT * FROM logged_models WHERE 1 = 1");
                    if !search.experiment_ids.is_empty() {
                        qb.push(" AND experiment_id IN (");
                        let mut sep = qb.separated(", ");
                        for id in &search.experiment_ids {
                            sep.push_bind(*id);
                        }
                        qb.push(")");
                    }
                    if let Some(name) = &search.name {
                        qb.push(" AND name = ").push_bind(name.clone());
                    }
                    if let Some(run) = &search.source_run_id {
                        qb.push(" AND source_run_id = ").push_bind(run.clone());
                    }
                    qb.push(" ORDER BY created_at_ms DESC, id LIMIT ").push_bind(search.max_results + 1).push(" OFFSET ").push_bind(search.offset);
                    let rows = qb.build().fetch_all(&self.pool).await?;
                    let more = rows.len() as i64 > search.max_results;
                    let mut items = Vec::new();
                    for r in rows.iter().take(search.max_results as usize) {
                        items.push(logged_model_from_row(&self.pool, r).await?);
                    }
                    Ok(Page { items, next_offset: more.then_some(search.offset + search.max_results) })
                }
            }

            /// Upserts run tags with one multi-row statement per chunk (keys are unique already).
            async fn insert_tags(tx: &mut Tx, run_id: &str, tags: &BTreeMap<String, String>) -> Result<()> {
                let mut script = Script::new();
                push_tags(&mut script, run_id, tags);
                script.run(tx).await
            }

            fn push_tags(script: &mut Script, run_id: &str, tags: &BTreeMap<String, String>) {
                let tags: Vec<(&String, &String)> = tags.iter().collect();
                for chunk in tags.chunks(INSERT_CHUNK) {
                    let qb = script.statement("INSERT INTO run_tags (run_id, key, value) ");
                    qb.push_values(chunk, |mut b, (k, v)| {
                        b.push_bind(run_id.to_string()).push_bind((*k).clone()).push_bind((*v).clone());
                    });
                    qb.push(" ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value");
                }
            }

            /// Params are write-once: the same value again is fine, another value is refused.
            /// The check reads in `tx`; the inserts go to `script`.
            async fn write_params(tx: &mut Tx, script: &mut Script, run_id: &str, params: &[KeyValue]) -> Result<()> {
                if params.is_empty() {
                    return Ok(());
                }
                let mut wanted: BTreeMap<&str, &str> = BTreeMap::new();
                for p in params {
                    if let Some(prev) = wanted.insert(&p.key, &p.value) {
                        if prev != p.value {
                            return Err(StoreError::Invalid(format!(
                                "param `{}` was given twice with different values (`{prev}`, `{}`)", p.key, p.value
                            )));
                        }
                    }
                }
                let keys: Vec<&str> = wanted.keys().copied().collect();
                for chunk in keys.chunks(INSERT_CHUNK) {
                    let mut qb = Qb::new("SELECT key, value FROM run_params WHERE run_id = ");
                    qb.push_bind(run_id.to_string()).push(" AND key IN (");
                    let mut sep = qb.separated(", ");
                    for k in chunk {
                        sep.push_bind(k.to_string());
                    }
                    qb.push(")");
                    for r in qb.build().fetch_all(&mut **tx).await? {
                        let key: String = r.try_get("key")?;
                        let old: String = r.try_get("value")?;
                        let new = wanted[key.as_str()];
                        if old != new {
                            return Err(StoreError::Invalid(format!(
                                "changing param values is not allowed: param `{key}` was already logged with value `{old}` for run {run_id}; the new value is `{new}`"
                            )));
                        }
                    }
                }
                let pairs: Vec<(&str, &str)> = wanted.into_iter().collect();
                for chunk in pairs.chunks(INSERT_CHUNK) {
                    let qb = script.statement("INSERT INTO run_params (run_id, key, value) ");
                    qb.push_values(chunk, |mut b, (k, v)| {
                        b.push_bind(run_id.to_string()).push_bind(k.to_string()).push_bind(v.to_string());
                    });
                    qb.push(" ON CONFLICT (run_id, key) DO NOTHING");
                }
                Ok(())
            }

            /// Appends to the history and moves each key's latest value forward where the new
            /// value ranks higher, all with multi-row statements.
            fn push_metrics(script: &mut Script, run_id: &str, metrics: &[Metric]) {
                if metrics.is_empty() {
                    return;
                }
                for chunk in metrics.chunks(INSERT_CHUNK) {
                    let qb = script.statement("INSERT INTO metrics (run_id, key, value, timestamp, step, model_id, dataset_name, dataset_digest) ");
                    qb.push_values(chunk, |mut b, m| {
                        b.push_bind(run_id.to_string())
                            .push_bind(m.key.clone())
                            .push_bind(stored_value(m.value))
                            .push_bind(m.timestamp)
                            .push_bind(m.step)
                            .push_bind(m.model_id.clone())
                            .push_bind(m.dataset_name.clone())
                            .push_bind(m.dataset_digest.clone());
                    });
                }
                // One row per key: a statement may not update the same row twice.
                let mut latest: BTreeMap<&str, &Metric> = BTreeMap::new();
                for m in metrics {
                    let better = match latest.get(m.key.as_str()) {
                        Some(cur) => metric_rank(m.step, m.timestamp, m.value) >= metric_rank(cur.step, cur.timestamp, cur.value),
                        None => true,
                    };
                    if better {
                        latest.insert(&m.key, m);
                    }
                }
                let latest: Vec<&Metric> = latest.into_values().collect();
                for chunk in latest.chunks(INSERT_CHUNK) {
                    let qb = script.statement("INSERT INTO latest_metrics (run_id, key, value, timestamp, step) ");
                    qb.push_values(chunk, |mut b, m| {
                        b.push_bind(run_id.to_string())
                            .push_bind(m.key.clone())
                            .push_bind(stored_value(m.value))
                            .push_bind(m.timestamp)
                            .push_bind(m.step);
                    });
                    qb.push(
                        " ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp, step = excluded.step \
                         WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)",
                    );
                }
            }

            async fn require_registered_model(tx: &mut Tx, name: &str) -> Result<()> {
                let exists = sqlx::query("SELECT name FROM registered_models WHERE name = $1").bind(name.to_string()).fetch_optional(&mut **tx).await?;
                match exists {
                    Some(_) => Ok(()),
                    None => Err(not_found("registered model", name)),
                }
            }

            async fn require_version_id(tx: &mut Tx, model: &str, version: i64) -> Result<String> {
                let row = sqlx::query("SELECT id FROM model_versions WHERE model = $1 AND version = $2")
                    .bind(model.to_string())
                    .bind(version)
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or_else(|| not_found("model version", format!("{model}/{version}")))?;
                Ok(row.try_get("id")?)
            }

            impl RegistryStore for $store {
                async fn create_registered_model(&self, ctx: &AuditContext, name: &str, description: &str, tags: Vec<KeyValue>) -> Result<RegisteredModel> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        let taken = sqlx::query("SELECT name FROM registered_models WHERE name = $1").bind(name.to_string()).fetch_optional(&mut *tx).await?;
                        if taken.is_some() {
                            return Err(StoreError::AlreadyExists { kind: "registered model", id: name.to_string() });
                        }
                        sqlx::query("INSERT INTO registered_models (name, description, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $3)")
                            .bind(name.to_string())
                            .bind(description.to_string())
                            .bind(ctx.at_ms)
                            .execute(&mut *tx)
                            .await?;
                        for t in &tags {
                            sqlx::query("INSERT INTO registered_model_tags (name, key, value) VALUES ($1, $2, $3) ON CONFLICT (name, key) DO UPDATE SET value = excluded.value")
                                .bind(name.to_string())
                                .bind(t.key.clone())
                                .bind(t.value.clone())
                                .execute(&mut *tx)
                                .await?;
                        }
                        let e = NewAuditEntry::new(ctx, "registered_model.create", "registered_model", name, serde_json::json!({}));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await?;
                    self.get_registered_model(name).await?.ok_or_else(|| not_found("registered model", name))
                }

                async fn get_registered_model(&self, name: &str) -> Result<Option<RegisteredModel>> {
                    let row = sqlx::query("SELECT * FROM registered_models WHERE name = $1").bind(name.to_string()).fetch_optional(&self.pool).await?;
                    match row {
                        Some(r) => Ok(Some(registered_model_from_row(&self.pool, &r).await?)),
                        None => Ok(None),
                    }
                }

                async fn search_registered_models(&self, name_like: Option<String>, max_results: i64, offset: i64) -> Result<Page<RegisteredModel>> {
                    let mut qb = Qb::new("SELECT * FROM registered_models WHERE 1 = 1");
                    if let Some(p) = &name_like {
                        qb.push(" AND ");
                        push_text_op(&mut qb, "name", Comparison::Like, p);
                    }
                    qb.push(" ORDER BY name LIMIT ").push_bind(max_results + 1).push(" OFFSET ").push_bind(offset);
                    let rows = qb.build().fetch_all(&self.pool).await?;
                    let more = rows.len() as i64 > max_results;
                    let mut items = Vec::new();
                    for r in rows.iter().take(max_results as usize) {
                        items.push(registered_model_from_row(&self.pool, r).await?);
                    }
                    Ok(Page { items, next_offset: more.then_some(offset + max_results) })
                }

                async fn set_registered_model_tag(&self, ctx: &AuditContext, name: &str, tag: KeyValue) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        require_registered_model(&mut tx, name).await?;
                        sqlx::query("INSERT INTO registered_model_tags (name, key, value) VALUES ($1, $2, $3) ON CONFLICT (name, key) DO UPDATE SET value = excluded.value")
                            .bind(name.to_string())
                            .bind(tag.key.clone())
                            .bind(tag.value.clone())
                            .execute(&mut *tx)
                            .await?;
                        let e = NewAuditEntry::new(ctx, "registered_model.set_tag", "registered_model", name, serde_json::json!({ "key": tag.key }));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn delete_registered_model(&self, ctx: &AuditContext, name: &str) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        require_registered_model(&mut tx, name).await?;
                        for sql in [
                            "DELETE FROM model_aliases WHERE model = $1",
                            "DELETE FROM model_version_tags WHERE model = $1",
                            "DELETE FROM evaluation_reports WHERE model = $1",
                            "DELETE FROM model_versions WHERE model = $1",
                            "DELETE FROM registered_model_tags WHERE name = $1",
                            "DELETE FROM registered_models WHERE name = $1",
                        ] {
                            sqlx::query(sql).bind(name.to_string()).execute(&mut *tx).await?;
                        }
                        let e = NewAuditEntry::new(ctx, "registered_model.delete", "registered_model", name, serde_json::json!({}));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn create_registry_version(&self, ctx: &AuditContext, v: NewRegistryVersion) -> Result<RegistryVersion> {
                    let id = new_id();
                    let mut tx = self.begin_write().await?;
                    let result: Result<i64> = async {
                        let exists = sqlx::query("SELECT name FROM registered_models WHERE name = $1").bind(v.model.clone()).fetch_optional(&mut *tx).await?;
                        if exists.is_none() {
                            if !v.create_model {
                                return Err(not_found("registered model", v.model.clone()));
                            }
                            sqlx::query("INSERT INTO registered_models (name, description, created_at_ms, updated_at_ms) VALUES ($1, '', $2, $2)")
                                .bind(v.model.clone())
                                .bind(ctx.at_ms)
                                .execute(&mut *tx)
                                .await?;
                        }
                        if let Some(run) = &v.run_id {
                            let found = sqlx::query("SELECT id FROM runs WHERE id = $1").bind(run.clone()).fetch_optional(&mut *tx).await?;
                            if found.is_none() {
                                return Err(not_found("run", run.clone()));
                            }
                        }
                        let next: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) + 1 AS next FROM model_versions WHERE model = $1")
                            .bind(v.model.clone())
                            .fetch_one(&mut *tx)
                            .await?
                            .try_get("next")?;
                        sqlx::query(
                            "INSERT INTO model_versions (id, model, version, artifact, run, dataset_version, split, git_commit, git_dirty, created_by, created_at_ms, \
                             source, description, stage, logged_model_id, updated_at_ms) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'None', $14, $11)",
                        )
                        .bind(id.clone())
                        .bind(v.model.clone())
                        .bind(next)
                        .bind(v.artifact.0.clone())
                        .bind(v.run_id.clone())
                        .bind(v.dataset_version.as_ref().map(|d| d.0.clone()))
                        .bind(v.split.as_ref().map(|s| s.0.clone()))
                        .bind(v.git_commit.clone())
                        .bind(v.git_dirty)
                        .bind(ctx.actor.clone())
                        .bind(ctx.at_ms)
                        .bind(v.source.clone())
                        .bind(v.description.clone())
                        .bind(v.logged_model_id.clone())
                        .execute(&mut *tx)
                        .await?;
                        for t in &v.tags {
                            sqlx::query("INSERT INTO model_version_tags (model, version, key, value) VALUES ($1, $2, $3, $4) \
                                         ON CONFLICT (model, version, key) DO UPDATE SET value = excluded.value")
                                .bind(v.model.clone())
                                .bind(next)
                                .bind(t.key.clone())
                                .bind(t.value.clone())
                                .execute(&mut *tx)
                                .await?;
                        }
                        sqlx::query("UPDATE registered_models SET updated_at_ms = $1 WHERE name = $2").bind(ctx.at_ms).bind(v.model.clone()).execute(&mut *tx).await?;
                        let e = NewAuditEntry::new(
                            ctx,
                            "model_version.create",
                            "model_version",
                            &id,
                            serde_json::json!({ "model": v.model, "version": next, "artifact": v.artifact, "run": v.run_id, "source": v.source,
                                                "dataset_version": v.dataset_version, "split": v.split, "git_commit": v.git_commit }),
                        );
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(next)
                    }
                    .await;
                    let version = finish(self, tx, result).await?;
                    self.get_registry_version(&v.model, version).await?.ok_or_else(|| not_found("model version", format!("{}/{version}", v.model)))
                }

                async fn get_registry_version(&self, model: &str, version: i64) -> Result<Option<RegistryVersion>> {
                    let row = sqlx::query("SELECT * FROM model_versions WHERE model = $1 AND version = $2")
                        .bind(model.to_string())
                        .bind(version)
                        .fetch_optional(&self.pool)
                        .await?;
                    match row {
                        Some(r) => Ok(Some(version_from_row(&self.pool, &r).await?)),
                        None => Ok(None),
                    }
                }

                async fn search_registry_versions(&self, search: &RegistryVersionSearch) -> Result<Page<RegistryVersion>> {
                    let mut qb = Qb::new("SELECT * FROM model_versions WHERE 1 = 1");
                    if let Some(m) = &search.model {
                        qb.push(" AND model = ").push_bind(m.clone());
                    }
                    if let Some(r) = &search.run_id {
                        qb.push(" AND run = ").push_bind(r.clone());
                    }
                    qb.push(" ORDER BY model, version DESC LIMIT ").push_bind(search.max_results + 1).push(" OFFSET ").push_bind(search.offset);
                    let rows = qb.build().fetch_all(&self.pool).await?;
                    let more = rows.len() as i64 > search.max_results;
                    let mut items = Vec::new();
                    for r in rows.iter().take(search.max_results as usize) {
                        items.push(version_from_row(&self.pool, r).await?);
                    }
                    Ok(Page { items, next_offset: more.then_some(search.offset + search.max_results) })
                }

                async fn update_registry_version(
                    &self,
                    ctx: &AuditContext,
                    model: &str,
                    version: i64,
                    description: Option<String>,
                    stage: Option<String>,
                ) -> Result<RegistryVersion> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        let id = require_version_id(&mut tx, model, version).await?;
                        if let Some(d) = &description {
                            sqlx::query("UPDATE model_versions SET description = $1, updated_at_ms = $2 WHERE id = $3")
                                .bind(d.clone())
                                .bind(ctx.at_ms)
                                .bind(id.clone())
                                .execute(&mut *tx)
                                .await?;
                        }
                        if let Some(s) = &stage {
                            sqlx::query("UPDATE model_versions SET stage = $1, updated_at_ms = $2 WHERE id = $3")
                                .bind(s.clone())
                                .bind(ctx.at_ms)
                                .bind(id.clone())
                                .execute(&mut *tx)
                                .await?;
                        }
                        let e = NewAuditEntry::new(ctx, "model_version.update", "model_version", &id, serde_json::json!({ "model": model, "version": version, "description": description, "stage": stage }));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await?;
                    self.get_registry_version(model, version).await?.ok_or_else(|| not_found("model version", format!("{model}/{version}")))
                }

                async fn set_model_version_tag(&self, ctx: &AuditContext, model: &str, version: i64, tag: KeyValue) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        let id = require_version_id(&mut tx, model, version).await?;
                        sqlx::query("INSERT INTO model_version_tags (model, version, key, value) VALUES ($1, $2, $3, $4) \
                                     ON CONFLICT (model, version, key) DO UPDATE SET value = excluded.value")
                            .bind(model.to_string())
                            .bind(version)
                            .bind(tag.key.clone())
                            .bind(tag.value.clone())
                            .execute(&mut *tx)
                            .await?;
                        let e = NewAuditEntry::new(ctx, "model_version.set_tag", "model_version", &id, serde_json::json!({ "model": model, "version": version, "key": tag.key }));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn delete_model_version_tag(&self, ctx: &AuditContext, model: &str, version: i64, key: &str) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        let id = require_version_id(&mut tx, model, version).await?;
                        sqlx::query("DELETE FROM model_version_tags WHERE model = $1 AND version = $2 AND key = $3")
                            .bind(model.to_string())
                            .bind(version)
                            .bind(key.to_string())
                            .execute(&mut *tx)
                            .await?;
                        let e = NewAuditEntry::new(ctx, "model_version.delete_tag", "model_version", &id, serde_json::json!({ "model": model, "version": version, "key": key }));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn set_governed_alias(&self, ctx: &AuditContext, policy: &AliasPolicy, model: &str, alias: &str, version: i64) -> Result<AliasChange> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<AliasChange> = async {
                        let id = require_version_id(&mut tx, model, version).await?;
                        let protected = policy.is_protected(alias);
                        // The newest report decides: a version that passed once and failed
                        // a later evaluation (say, under stricter gates) is not eligible.
                        let latest: Option<(String, bool)> = if protected {
                            sqlx::query(
                                "SELECT id, passed FROM evaluation_reports WHERE model = $1 AND version = $2 ORDER BY created_at_ms DESC, id DESC LIMIT 1",
                            )
                            .bind(model.to_string())
                            .bind(version)
                            .fetch_optional(&mut *tx)
                            .await?
                            .map(|r| -> Result<(String, bool)> { Ok((r.try_get("id")?, r.try_get("passed")?)) })
                            .transpose()?
                        } else {
                            None
                        };
                        let report_id = latest.as_ref().filter(|(_, passed)| *passed).map(|(id, _)| id.clone());
                        let why = match &latest {
                            Some((id, _)) => format!("its latest evaluation report ({id}) failed"),
                            None => "it has no evaluation report".to_string(),
                        };
                        let override_reason = if protected && report_id.is_none() {
                            match ctx.reason.clone().filter(|r| !r.trim().is_empty()) {
                                Some(r) => Some(r),
                                None => {
                                    return Err(StoreError::Refused(format!(
                                        "alias `{alias}` of model `{model}` is protected: version {version} cannot take it because {why}; \
                                         evaluate it (and pass its gates) or give an override reason"
                                    )));
                                }
                            }
                        } else {
                            None
                        };
                        let previous_version: Option<i64> = sqlx::query("SELECT version FROM model_aliases WHERE model = $1 AND alias = $2")
                            .bind(model.to_string())
                            .bind(alias.to_string())
                            .fetch_optional(&mut *tx)
                            .await?
                            .map(|r| r.try_get("version"))
                            .transpose()?;
                        sqlx::query("INSERT INTO model_aliases (model, alias, version) VALUES ($1, $2, $3) ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version")
                            .bind(model.to_string())
                            .bind(alias.to_string())
                            .bind(version)
                            .execute(&mut *tx)
                            .await?;
                        let change = AliasChange {
                            model: model.to_string(),
                            alias: alias.to_string(),
                            version,
                            previous_version,
                            report_id,
                            override_reason,
                        };
                        let action = if change.override_reason.is_some() { "alias.set_override" } else { "alias.set" };
                        let e = NewAuditEntry::new(
                            ctx,
                            action,
                            "model_version",
                            &id,
                            serde_json::json!({ "model": model, "alias": alias, "version": version, "previous_version": previous_version,
                                                "protected": protected, "report_id": change.report_id }),
                        );
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(change)
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn delete_alias(&self, ctx: &AuditContext, model: &str, alias: &str) -> Result<()> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        let row = sqlx::query("DELETE FROM model_aliases WHERE model = $1 AND alias = $2 RETURNING version")
                            .bind(model.to_string())
                            .bind(alias.to_string())
                            .fetch_optional(&mut *tx)
                            .await?
                            .ok_or_else(|| not_found("alias", format!("{model}@{alias}")))?;
                        let version: i64 = row.try_get("version")?;
                        let e = NewAuditEntry::new(ctx, "alias.delete", "registered_model", model, serde_json::json!({ "alias": alias, "version": version }));
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn resolve_alias(&self, model: &str, alias: &str) -> Result<Option<RegistryVersion>> {
                    let row = sqlx::query(
                        "SELECT v.* FROM model_aliases a JOIN model_versions v ON v.model = a.model AND v.version = a.version WHERE a.model = $1 AND a.alias = $2",
                    )
                    .bind(model.to_string())
                    .bind(alias.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                    match row {
                        Some(r) => Ok(Some(version_from_row(&self.pool, &r).await?)),
                        None => Ok(None),
                    }
                }

                async fn record_evaluation_report(&self, ctx: &AuditContext, report: NewEvaluationReport) -> Result<EvaluationReport> {
                    let id = new_id();
                    let mut tx = self.begin_write().await?;
                    let result: Result<()> = async {
                        require_version_id(&mut tx, &report.model, report.version).await?;
                        sqlx::query(
                            "INSERT INTO evaluation_reports (id, model, version, passed, report_json, created_by, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        )
                        .bind(id.clone())
                        .bind(report.model.clone())
                        .bind(report.version)
                        .bind(report.passed)
                        .bind(report.report.to_string())
                        .bind(ctx.actor.clone())
                        .bind(ctx.at_ms)
                        .execute(&mut *tx)
                        .await?;
                        let e = NewAuditEntry::new(
                            ctx,
                            "evaluation_report.create",
                            "evaluation_report",
                            &id,
                            serde_json::json!({ "model": report.model, "version": report.version, "passed": report.passed }),
                        );
                        append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await?;
                    Ok(EvaluationReport { id, data: report, created_by: ctx.actor.clone(), created_at_ms: ctx.at_ms })
                }

                async fn evaluation_reports(&self, model: &str, version: i64) -> Result<Vec<EvaluationReport>> {
                    let rows = sqlx::query("SELECT * FROM evaluation_reports WHERE model = $1 AND version = $2 ORDER BY created_at_ms, id")
                        .bind(model.to_string())
                        .bind(version)
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter()
                        .map(|r| {
                            let raw: String = r.try_get("report_json")?;
                            Ok(EvaluationReport {
                                id: r.try_get("id")?,
                                data: NewEvaluationReport {
                                    model: r.try_get("model")?,
                                    version: r.try_get("version")?,
                                    passed: r.try_get("passed")?,
                                    report: serde_json::from_str(&raw)
                                        .map_err(|e| StoreError::Corrupt(format!("evaluation report is not valid JSON: {e}")))?,
                                },
                                created_by: r.try_get("created_by")?,
                                created_at_ms: r.try_get("created_at_ms")?,
                            })
                        })
                        .collect()
                }
            }

        }
    };
}

pub(crate) use impl_tracking;
