//! The SQL shared by both backends, written once and instantiated per backend by a macro.
//!
//! Both SQLite and PostgreSQL accept `$N` placeholders, `RETURNING` and the same column types as
//! declared in the migrations, so the statements are identical; what differs (opening, migrating,
//! and how a writer takes the write lock) lives in `sqlite.rs` and `postgres.rs`.

/// Rows per multi-row INSERT: far below SQLite's and PostgreSQL's bind-parameter limits.
pub(crate) const INSERT_CHUNK: usize = 500;

macro_rules! impl_backend {
    ($store:ty, $db:ty, $multi_statement:expr) => {
        use aidlc_core::audit::{AuditEntry, AuditVerification, NewAuditEntry, Verifier};
        use aidlc_core::ids::{DatasetVersionId, ModelVersionId, RunId};
        use aidlc_core::records::{
            DatasetVersion, DatasetVersionOutcome, Deployment, ModelVersion, NewDatasetVersion,
            NewModelVersion, NewRun, Project, Run, RunStatus,
        };
        use sqlx::Row;
        use $crate::backend::INSERT_CHUNK;
        use $crate::{
            AuditContext, AuditFilter, AuditStore, DatasetStore, DeploymentStore, ModelStore,
            ProjectStore, Result, RunStore, StoreError, new_id, parse_hash,
        };

        type Tx = sqlx::Transaction<'static, $db>;
        type DbRow = <$db as sqlx::Database>::Row;

        /// Commits on success and rolls back explicitly on error: a dropped transaction would
        /// only roll back lazily, leaving the write lock held by an idle pooled connection.
        /// A commit is then counted, so the store's durability policy knows there is something
        /// to sync.
        async fn finish<T>(store: &$store, tx: Tx, result: Result<T>) -> Result<T> {
            match result {
                Ok(v) => {
                    tx.commit().await?;
                    store.committed();
                    Ok(v)
                }
                Err(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
            }
        }

        fn json_text(v: &serde_json::Value) -> String {
            v.to_string()
        }

        fn parse_json(s: String, what: &str) -> Result<serde_json::Value> {
            serde_json::from_str(&s)
                .map_err(|e| StoreError::Corrupt(format!("{what} is not valid JSON: {e}")))
        }

        /// Applies the migrations not yet recorded in `schema_version`, in ascending version
        /// order, inside the caller's (locked) transaction.
        async fn apply_migrations(tx: &mut Tx, migrations: &[(i64, &'static str)]) -> Result<()> {
            let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_version")
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(|r| r.try_get("version"))
                .collect::<Result<_, _>>()?;
            let mut pending: Vec<_> = migrations
                .iter()
                .filter(|(v, _)| !applied.contains(v))
                .collect();
            pending.sort_by_key(|(v, _)| *v);
            for (version, sql) in pending {
                sqlx::Executor::execute(&mut **tx, *sql).await?;
                sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                    .bind(*version)
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(())
        }

        /// Write statements that run back to back in the caller's transaction, whose results
        /// the caller does not need. SQLite's driver runs each statement as a round trip to the
        /// connection's worker thread, and that thread hand-off costs more than a small insert,
        /// so on SQLite they go as one multi-statement query (each `$N` names the same argument
        /// list); PostgreSQL prepares one command at a time, so there they run one by one.
        pub(crate) struct Script {
            done: Vec<sqlx::QueryBuilder<$db>>,
            current: sqlx::QueryBuilder<$db>,
            statements: usize,
        }

        impl Script {
            pub(crate) fn new() -> Self {
                Script {
                    done: Vec::new(),
                    current: sqlx::QueryBuilder::new(""),
                    statements: 0,
                }
            }

            /// Starts the next statement with `sql` and hands back the builder to finish it.
            pub(crate) fn statement(&mut self, sql: &str) -> &mut sqlx::QueryBuilder<$db> {
                if self.statements > 0 {
                    if $multi_statement {
                        self.current.push(";\n");
                    } else {
                        let next = sqlx::QueryBuilder::new("");
                        self.done.push(std::mem::replace(&mut self.current, next));
                    }
                }
                self.statements += 1;
                self.current.push(sql);
                &mut self.current
            }

            pub(crate) async fn run(mut self, tx: &mut Tx) -> Result<()> {
                if self.statements == 0 {
                    return Ok(());
                }
                for mut qb in self.done.drain(..) {
                    qb.build().execute(&mut **tx).await?;
                }
                self.current.build().execute(&mut **tx).await?;
                Ok(())
            }
        }

        /// The audit chain's head (last sequence number and hash), inside the caller's
        /// transaction, whose write lock keeps it current until the commit.
        async fn audit_head(tx: &mut Tx) -> Result<(i64, String)> {
            let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(&mut **tx)
                .await?;
            Ok((row.try_get("seq")?, row.try_get("hash")?))
        }

        /// Chains `batch` onto the stored head and inserts it, inside the caller's transaction.
        async fn append_in_tx(tx: &mut Tx, batch: Vec<NewAuditEntry>) -> Result<Vec<AuditEntry>> {
            if batch.is_empty() {
                return Ok(Vec::new());
            }
            let head = audit_head(tx).await?;
            let mut script = Script::new();
            let entries = push_audit(&mut script, head, batch);
            script.run(tx).await?;
            Ok(entries)
        }

        /// Chains `batch` (not empty) onto `head`, which the caller read in its transaction, and
        /// adds the inserts and the head's move to `script`.
        fn push_audit(script: &mut Script, head: (i64, String), batch: Vec<NewAuditEntry>) -> Vec<AuditEntry> {
            let entries = aidlc_core::audit::chain(head, batch);
            for chunk in entries.chunks(INSERT_CHUNK) {
                let qb = script.statement(
                    "INSERT INTO audit_log (seq, at_ms, actor, action, object_kind, object_id, reason, details, prev_hash, hash) ",
                );
                qb.push_values(chunk, |mut b, e| {
                    b.push_bind(e.seq)
                        .push_bind(e.entry.at_ms)
                        .push_bind(e.entry.actor.clone())
                        .push_bind(e.entry.action.clone())
                        .push_bind(e.entry.object_kind.clone())
                        .push_bind(e.entry.object_id.clone())
                        .push_bind(e.entry.reason.clone())
                        .push_bind(json_text(&e.entry.details))
                        .push_bind(e.prev_hash.clone())
                        .push_bind(e.hash.clone());
                });
            }
            let last = entries.last().expect("non-empty batch");
            script
                .statement("UPDATE audit_head SET seq = ")
                .push_bind(last.seq)
                .push(", hash = ")
                .push_bind(last.hash.clone())
                .push(" WHERE id = 1");
            entries
        }

        fn audit_from_row(r: &DbRow) -> Result<AuditEntry> {
            audit_from_row_with(r, |raw| parse_json(raw, "audit details"))
        }

        /// For verification: details that are no longer JSON were edited, which the hash check
        /// then reports, so they are kept as a string instead of failing the walk.
        fn audit_from_row_lenient(r: &DbRow) -> Result<AuditEntry> {
            audit_from_row_with(r, |raw| {
                Ok(serde_json::from_str(&raw).unwrap_or(serde_json::Value::String(raw)))
            })
        }

        fn audit_from_row_with(
            r: &DbRow,
            details: impl FnOnce(String) -> Result<serde_json::Value>,
        ) -> Result<AuditEntry> {
            Ok(AuditEntry {
                seq: r.try_get("seq")?,
                entry: NewAuditEntry {
                    actor: r.try_get("actor")?,
                    at_ms: r.try_get("at_ms")?,
                    action: r.try_get("action")?,
                    object_kind: r.try_get("object_kind")?,
                    object_id: r.try_get("object_id")?,
                    reason: r.try_get("reason")?,
                    details: details(r.try_get("details")?)?,
                },
                prev_hash: r.try_get("prev_hash")?,
                hash: r.try_get("hash")?,
            })
        }

        fn dataset_from_row(r: &DbRow) -> Result<DatasetVersion> {
            Ok(DatasetVersion {
                id: DatasetVersionId(r.try_get("id")?),
                version: r.try_get("version")?,
                data: NewDatasetVersion {
                    name: r.try_get("name")?,
                    hash: parse_hash(r.try_get("hash")?)?,
                    artifact: parse_hash(r.try_get("artifact")?)?,
                    schema: parse_json(r.try_get("schema_json")?, "dataset schema")?,
                    profile: parse_json(r.try_get("profile_json")?, "dataset profile")?,
                    source: r.try_get("source")?,
                    rows: r.try_get("rows")?,
                    valid: r.try_get("valid")?,
                    validation: parse_json(r.try_get("validation_json")?, "dataset validation")?,
                },
                created_by: r.try_get("created_by")?,
                created_at_ms: r.try_get("created_at_ms")?,
            })
        }

        fn run_from_row(r: &DbRow) -> Result<Run> {
            let status: String = r.try_get("status")?;
            Ok(Run {
                id: RunId(r.try_get("id")?),
                data: NewRun {
                    project: r.try_get("project")?,
                    name: r.try_get("name")?,
                    dataset_version: r.try_get::<Option<String>, _>("dataset_version")?.map(DatasetVersionId),
                    git_commit: r.try_get("git_commit")?,
                    git_dirty: r.try_get("git_dirty")?,
                    params: parse_json(r.try_get("params_json")?, "run params")?,
                },
                status: RunStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown run status `{status}`")))?,
                created_by: r.try_get("created_by")?,
                started_at_ms: r.try_get("started_at_ms")?,
                ended_at_ms: r.try_get("ended_at_ms")?,
            })
        }

        fn model_from_row(r: &DbRow) -> Result<ModelVersion> {
            Ok(ModelVersion {
                id: ModelVersionId(r.try_get("id")?),
                version: r.try_get("version")?,
                data: NewModelVersion {
                    model: r.try_get("model")?,
                    artifact: parse_hash(r.try_get("artifact")?)?,
                    run: r.try_get::<Option<String>, _>("run")?.map(RunId),
                    dataset_version: r.try_get::<Option<String>, _>("dataset_version")?.map(DatasetVersionId),
                    split: r.try_get::<Option<String>, _>("split")?.map(parse_hash).transpose()?,
                    git_commit: r.try_get("git_commit")?,
                    git_dirty: r.try_get("git_dirty")?,
                },
                created_by: r.try_get("created_by")?,
                created_at_ms: r.try_get("created_at_ms")?,
            })
        }

        fn deployment_from_row(r: &DbRow) -> Result<Deployment> {
            Ok(Deployment {
                endpoint: r.try_get("endpoint")?,
                model: r.try_get("model")?,
                alias: r.try_get("alias")?,
                state: parse_json(r.try_get("state_json")?, "deployment state")?,
                updated_by: r.try_get("updated_by")?,
                updated_at_ms: r.try_get("updated_at_ms")?,
            })
        }

        impl ProjectStore for $store {
            async fn upsert_project(&self, ctx: &AuditContext, p: &Project) -> Result<()> {
                let mut tx = self.begin_write().await?;
                let result: Result<_> = async {
                    sqlx::query(
                        "INSERT INTO projects (name, spec_toml, spec_hash, updated_at_ms) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (name) DO UPDATE SET spec_toml = excluded.spec_toml, \
                         spec_hash = excluded.spec_hash, updated_at_ms = excluded.updated_at_ms",
                    )
                    .bind(p.name.clone())
                    .bind(p.spec_toml.clone())
                    .bind(p.spec_hash.0.clone())
                    .bind(p.updated_at_ms)
                    .execute(&mut *tx)
                    .await?;
                    let e = NewAuditEntry::new(
                        ctx,
                        "project.upsert",
                        "project",
                        &p.name,
                        serde_json::json!({ "spec_hash": p.spec_hash }),
                    );
                    append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                }
                .await;
                finish(self, tx, result).await
            }

            async fn get_project(&self, name: &str) -> Result<Option<Project>> {
                let row = sqlx::query("SELECT * FROM projects WHERE name = $1")
                    .bind(name.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| {
                    Ok(Project {
                        name: r.try_get("name")?,
                        spec_toml: r.try_get("spec_toml")?,
                        spec_hash: parse_hash(r.try_get("spec_hash")?)?,
                        updated_at_ms: r.try_get("updated_at_ms")?,
                    })
                })
                .transpose()
            }

            async fn list_projects(&self) -> Result<Vec<Project>> {
                let rows = sqlx::query("SELECT * FROM projects ORDER BY name").fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|r| {
                        Ok(Project {
                            name: r.try_get("name")?,
                            spec_toml: r.try_get("spec_toml")?,
                            spec_hash: parse_hash(r.try_get("spec_hash")?)?,
                            updated_at_ms: r.try_get("updated_at_ms")?,
                        })
                    })
                    .collect()
            }
        }

        impl DatasetStore for $store {
            async fn create_dataset_versions(
                &self,
                ctx: &AuditContext,
                batch: Vec<NewDatasetVersion>,
            ) -> Result<Vec<DatasetVersionOutcome>> {
                let mut tx = self.begin_write().await?;
                let result: Result<_> = async {
                    let mut out = Vec::with_capacity(batch.len());
                    let mut audit = Vec::new();
                    for d in batch {
                        let existing = sqlx::query("SELECT * FROM dataset_versions WHERE name = $1 AND hash = $2")
                            .bind(d.name.clone())
                            .bind(d.hash.0.clone())
                            .fetch_optional(&mut *tx)
                            .await?;
                        if let Some(r) = existing {
                            out.push(DatasetVersionOutcome { version: dataset_from_row(&r)?, created: false });
                            continue;
                        }
                        let next: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) + 1 AS next FROM dataset_versions WHERE name = $1")
                            .bind(d.name.clone())
                            .fetch_one(&mut *tx)
                            .await?
                            .try_get("next")?;
                        let id = new_id();
                        let row = sqlx::query(
                            "INSERT INTO dataset_versions (id, name, version, hash, artifact, schema_json, profile_json, source, rows, valid, validation_json, created_by, created_at_ms) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *",
                        )
                        .bind(id.clone())
                        .bind(d.name.clone())
                        .bind(next)
                        .bind(d.hash.0.clone())
                        .bind(d.artifact.0.clone())
                        .bind(json_text(&d.schema))
                        .bind(json_text(&d.profile))
                        .bind(d.source.clone())
                        .bind(d.rows)
                        .bind(d.valid)
                        .bind(json_text(&d.validation))
                        .bind(ctx.actor.clone())
                        .bind(ctx.at_ms)
                        .fetch_one(&mut *tx)
                        .await?;
                        let v = dataset_from_row(&row)?;
                        audit.push(NewAuditEntry::new(
                            ctx,
                            "dataset_version.create",
                            "dataset_version",
                            &id,
                            serde_json::json!({ "name": v.data.name, "version": v.version, "hash": v.data.hash, "rows": v.data.rows, "valid": v.data.valid }),
                        ));
                        out.push(DatasetVersionOutcome { version: v, created: true });
                    }
                    append_in_tx(&mut tx, audit).await?;
                        Ok(out)
                }
                .await;
                finish(self, tx, result).await
            }

            async fn get_dataset_version(&self, name: &str, version: Option<i64>) -> Result<Option<DatasetVersion>> {
                let row = match version {
                    Some(v) => sqlx::query("SELECT * FROM dataset_versions WHERE name = $1 AND version = $2")
                        .bind(name.to_string())
                        .bind(v)
                        .fetch_optional(&self.pool)
                        .await?,
                    None => sqlx::query("SELECT * FROM dataset_versions WHERE name = $1 ORDER BY version DESC LIMIT 1")
                        .bind(name.to_string())
                        .fetch_optional(&self.pool)
                        .await?,
                };
                row.as_ref().map(dataset_from_row).transpose()
            }

            async fn get_dataset_version_by_id(&self, id: &DatasetVersionId) -> Result<Option<DatasetVersion>> {
                let row = sqlx::query("SELECT * FROM dataset_versions WHERE id = $1")
                    .bind(id.0.clone())
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(dataset_from_row).transpose()
            }

            async fn list_dataset_versions(&self, name: Option<&str>) -> Result<Vec<DatasetVersion>> {
                let rows = match name {
                    Some(n) => sqlx::query("SELECT * FROM dataset_versions WHERE name = $1 ORDER BY version")
                        .bind(n.to_string())
                        .fetch_all(&self.pool)
                        .await?,
                    None => sqlx::query("SELECT * FROM dataset_versions ORDER BY name, version")
                        .fetch_all(&self.pool)
                        .await?,
                };
                rows.iter().map(dataset_from_row).collect()
            }
        }

        impl RunStore for $store {
            async fn create_runs(&self, ctx: &AuditContext, batch: Vec<NewRun>) -> Result<Vec<Run>> {
                let runs: Vec<Run> = batch
                    .into_iter()
                    .map(|data| Run {
                        id: RunId(new_id()),
                        data,
                        status: RunStatus::Running,
                        created_by: ctx.actor.clone(),
                        started_at_ms: ctx.at_ms,
                        ended_at_ms: None,
                    })
                    .collect();
                let mut tx = self.begin_write().await?;
                let result: Result<_> = async {
                    for chunk in runs.chunks(INSERT_CHUNK) {
                        let mut qb = sqlx::QueryBuilder::<$db>::new(
                            "INSERT INTO runs (id, project, name, status, dataset_version, git_commit, git_dirty, params_json, created_by, started_at_ms, ended_at_ms) ",
                        );
                        qb.push_values(chunk, |mut b, r| {
                            b.push_bind(r.id.0.clone())
                                .push_bind(r.data.project.clone())
                                .push_bind(r.data.name.clone())
                                .push_bind(r.status.as_str())
                                .push_bind(r.data.dataset_version.as_ref().map(|d| d.0.clone()))
                                .push_bind(r.data.git_commit.clone())
                                .push_bind(r.data.git_dirty)
                                .push_bind(json_text(&r.data.params))
                                .push_bind(r.created_by.clone())
                                .push_bind(r.started_at_ms)
                                .push_bind(r.ended_at_ms);
                        });
                        qb.build().execute(&mut *tx).await?;
                    }
                    let audit = runs
                        .iter()
                        .map(|r| {
                            NewAuditEntry::new(
                                ctx,
                                "run.create",
                                "run",
                                r.id.as_str(),
                                serde_json::json!({ "project": r.data.project, "name": r.data.name, "dataset_version": r.data.dataset_version }),
                            )
                        })
                        .collect();
                    append_in_tx(&mut tx, audit).await?;
                        Ok(runs)
                }
                .await;
                finish(self, tx, result).await
            }

            async fn get_run(&self, id: &RunId) -> Result<Option<Run>> {
                let row = sqlx::query("SELECT * FROM runs WHERE id = $1")
                    .bind(id.0.clone())
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(run_from_row).transpose()
            }

            async fn list_runs(&self, project: &str) -> Result<Vec<Run>> {
                let rows = sqlx::query("SELECT * FROM runs WHERE project = $1 ORDER BY started_at_ms, id")
                    .bind(project.to_string())
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(run_from_row).collect()
            }

            async fn set_run_status(&self, ctx: &AuditContext, id: &RunId, status: RunStatus) -> Result<Run> {
                let mut tx = self.begin_write().await?;
                let result: Result<_> = async {
                    let ended = status.is_terminal().then_some(ctx.at_ms);
                    let row = sqlx::query("UPDATE runs SET status = $1, ended_at_ms = $2 WHERE id = $3 RETURNING *")
                        .bind(status.as_str())
                        .bind(ended)
                        .bind(id.0.clone())
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or_else(|| StoreError::NotFound { kind: "run", id: id.0.clone() })?;
                    let run = run_from_row(&row)?;
                    let e = NewAuditEntry::new(ctx, "run.status", "run", id.as_str(), serde_json::json!({ "status": status }));
                    append_in_tx(&mut tx, vec![e]).await?;
                        Ok(run)
                }
                .await;
                finish(self, tx, result).await
            }
        }

        impl ModelStore for $store {
            async fn create_model_versions(&self, ctx: &AuditContext, batch: Vec<NewModelVersion>) -> Result<Vec<ModelVersion>> {
                let mut tx = self.begin_write().await?;
                let result: Result<_> = async {
                    let mut out = Vec::with_capacity(batch.len());
                    for m in batch {
                        let next: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) + 1 AS next FROM model_versions WHERE model = $1")
                            .bind(m.model.clone())
                            .fetch_one(&mut *tx)
                            .await?
                            .try_get("next")?;
                        let row = sqlx::query(
                            "INSERT INTO model_versions (id, model, version, artifact, run, dataset_version, split, git_commit, git_dirty, created_by, created_at_ms) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *",
                        )
                        .bind(new_id())
                        .bind(m.model.clone())
                        .bind(next)
                        .bind(m.artifact.0.clone())
                        .bind(m.run.as_ref().map(|r| r.0.clone()))
                        .bind(m.dataset_version.as_ref().map(|d| d.0.clone()))
                        .bind(m.split.as_ref().map(|s| s.0.clone()))
                        .bind(m.git_commit.clone())
                        .bind(m.git_dirty)
                        .bind(ctx.actor.clone())
                        .bind(ctx.at_ms)
                        .fetch_one(&mut *tx)
                        .await?;
                        out.push(model_from_row(&row)?);
                    }
                    let audit = out
                        .iter()
                        .map(|m| {
                            NewAuditEntry::new(
                                ctx,
                                "model_version.create",
                                "model_version",
                                m.id.as_str(),
                                serde_json::json!({ "model": m.data.model, "version": m.version, "artifact": m.data.artifact, "run": m.data.run }),
                            )
                        })
                        .collect();
                    append_in_tx(&mut tx, audit).await?;
                        Ok(out)
                }
                .await;
                finish(self, tx, result).await
            }

            async fn get_model_version(&self, model: &str, version: i64) -> Result<Option<ModelVersion>> {
                let row = sqlx::query("SELECT * FROM model_versions WHERE model = $1 AND version = $2")
                    .bind(model.to_string())
                    .bind(version)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(model_from_row).transpose()
            }

            async fn list_model_versions(&self, model: Option<&str>) -> Result<Vec<ModelVersion>> {
                let rows = match model {
                    Some(m) => sqlx::query("SELECT * FROM model_versions WHERE model = $1 ORDER BY version")
                        .bind(m.to_string())
                        .fetch_all(&self.pool)
                        .await?,
                    None => sqlx::query("SELECT * FROM model_versions ORDER BY model, version")
                        .fetch_all(&self.pool)
                        .await?,
                };
                rows.iter().map(model_from_row).collect()
            }

            async fn set_alias(&self, ctx: &AuditContext, model: &str, alias: &str, version: i64) -> Result<()> {
                let mut tx = self.begin_write().await?;
                let result: Result<_> = async {
                    let exists = sqlx::query("SELECT id FROM model_versions WHERE model = $1 AND version = $2")
                        .bind(model.to_string())
                        .bind(version)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(row) = exists else {
                        return Err(StoreError::NotFound { kind: "model version", id: format!("{model}/{version}") });
                    };
                    let id: String = row.try_get("id")?;
                    let previous: Option<i64> = sqlx::query("SELECT version FROM model_aliases WHERE model = $1 AND alias = $2")
                        .bind(model.to_string())
                        .bind(alias.to_string())
                        .fetch_optional(&mut *tx)
                        .await?
                        .map(|r| r.try_get("version"))
                        .transpose()?;
                    sqlx::query(
                        "INSERT INTO model_aliases (model, alias, version) VALUES ($1, $2, $3) \
                         ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version",
                    )
                    .bind(model.to_string())
                    .bind(alias.to_string())
                    .bind(version)
                    .execute(&mut *tx)
                    .await?;
                    let e = NewAuditEntry::new(
                        ctx,
                        "alias.set",
                        "model_version",
                        &id,
                        serde_json::json!({ "model": model, "alias": alias, "version": version, "previous_version": previous }),
                    );
                    append_in_tx(&mut tx, vec![e]).await?;
                        Ok(())
                }
                .await;
                finish(self, tx, result).await
            }

            async fn get_alias(&self, model: &str, alias: &str) -> Result<Option<i64>> {
                let row = sqlx::query("SELECT version FROM model_aliases WHERE model = $1 AND alias = $2")
                    .bind(model.to_string())
                    .bind(alias.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|r| r.try_get("version")).transpose()?)
            }
        }

        impl DeploymentStore for $store {
            async fn upsert_deployments(&self, ctx: &AuditContext, batch: Vec<Deployment>) -> Result<()> {
                let mut tx = self.begin_write().await?;
                let result: Result<_> = async {
                    let mut audit = Vec::with_capacity(batch.len());
                    for d in &batch {
                        sqlx::query(
                            "INSERT INTO deployments (endpoint, model, alias, state_json, updated_by, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6) \
                             ON CONFLICT (endpoint) DO UPDATE SET model = excluded.model, alias = excluded.alias, \
                             state_json = excluded.state_json, updated_by = excluded.updated_by, updated_at_ms = excluded.updated_at_ms",
                        )
                        .bind(d.endpoint.clone())
                        .bind(d.model.clone())
                        .bind(d.alias.clone())
                        .bind(json_text(&d.state))
                        .bind(ctx.actor.clone())
                        .bind(ctx.at_ms)
                        .execute(&mut *tx)
                        .await?;
                        audit.push(NewAuditEntry::new(
                            ctx,
                            "deployment.upsert",
                            "deployment",
                            &d.endpoint,
                            serde_json::json!({ "model": d.model, "alias": d.alias, "state": d.state }),
                        ));
                    }
                    append_in_tx(&mut tx, audit).await?;
                        Ok(())
                }
                .await;
                finish(self, tx, result).await
            }

            async fn record_rollout(
                &self,
                ctx: &AuditContext,
                endpoint: &str,
                state: serde_json::Value,
                alias_move: Option<(String, String, i64)>,
                entries: Vec<NewAuditEntry>,
            ) -> Result<()> {
                let mut tx = self.begin_write().await?;
                let result: Result<_> = async {
                    let updated = sqlx::query(
                        "UPDATE deployments SET state_json = $1, updated_by = $2, updated_at_ms = $3 WHERE endpoint = $4",
                    )
                    .bind(json_text(&state))
                    .bind(ctx.actor.clone())
                    .bind(ctx.at_ms)
                    .bind(endpoint.to_string())
                    .execute(&mut *tx)
                    .await?;
                    if updated.rows_affected() == 0 {
                        return Err(StoreError::NotFound { kind: "deployment", id: endpoint.to_string() });
                    }
                    let mut audit = entries;
                    if let Some((model, alias, version)) = alias_move {
                        let row = sqlx::query("SELECT id FROM model_versions WHERE model = $1 AND version = $2")
                            .bind(model.clone())
                            .bind(version)
                            .fetch_optional(&mut *tx)
                            .await?
                            .ok_or_else(|| StoreError::NotFound { kind: "model version", id: format!("{model}/{version}") })?;
                        let id: String = row.try_get("id")?;
                        let previous: Option<i64> = sqlx::query("SELECT version FROM model_aliases WHERE model = $1 AND alias = $2")
                            .bind(model.clone())
                            .bind(alias.clone())
                            .fetch_optional(&mut *tx)
                            .await?
                            .map(|r| r.try_get("version"))
                            .transpose()?;
                        sqlx::query(
                            "INSERT INTO model_aliases (model, alias, version) VALUES ($1, $2, $3) \
                             ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version",
                        )
                        .bind(model.clone())
                        .bind(alias.clone())
                        .bind(version)
                        .execute(&mut *tx)
                        .await?;
                        audit.push(NewAuditEntry::new(
                            ctx,
                            "alias.set",
                            "model_version",
                            &id,
                            serde_json::json!({ "model": model, "alias": alias, "version": version, "previous_version": previous, "by": "rollout" }),
                        ));
                    }
                    append_in_tx(&mut tx, audit).await?;
                    Ok(())
                }
                .await;
                finish(self, tx, result).await
            }

            async fn get_deployment(&self, endpoint: &str) -> Result<Option<Deployment>> {
                let row = sqlx::query("SELECT * FROM deployments WHERE endpoint = $1")
                    .bind(endpoint.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(deployment_from_row).transpose()
            }

            async fn list_deployments(&self) -> Result<Vec<Deployment>> {
                let rows = sqlx::query("SELECT * FROM deployments ORDER BY endpoint").fetch_all(&self.pool).await?;
                rows.iter().map(deployment_from_row).collect()
            }
        }

        impl AuditStore for $store {
            async fn append_audit(&self, batch: Vec<NewAuditEntry>) -> Result<Vec<AuditEntry>> {
                let mut tx = self.begin_write().await?;
                let result: Result<_> = async {
                    let entries = append_in_tx(&mut tx, batch).await?;
                        Ok(entries)
                }
                .await;
                finish(self, tx, result).await
            }

            async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
                let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT * FROM audit_log WHERE 1 = 1");
                if let Some(k) = &filter.object_kind {
                    qb.push(" AND object_kind = ").push_bind(k.clone());
                }
                if let Some(id) = &filter.object_id {
                    qb.push(" AND object_id = ").push_bind(id.clone());
                }
                qb.push(" ORDER BY seq DESC");
                if let Some(limit) = filter.limit {
                    qb.push(" LIMIT ").push_bind(limit);
                }
                let rows = qb.build().fetch_all(&self.pool).await?;
                let mut entries = rows.iter().map(audit_from_row).collect::<Result<Vec<_>>>()?;
                entries.reverse();
                Ok(entries)
            }

            async fn verify_audit(&self) -> Result<AuditVerification> {
                // A read transaction gives one consistent snapshot of the log and its head even
                // while other processes append.
                let mut tx = self.pool.begin().await?;
                let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
                    .fetch_one(&mut *tx)
                    .await?;
                let (head_seq, head_hash): (i64, String) = (head.try_get("seq")?, head.try_get("hash")?);
                let mut verifier = Verifier::default();
                let mut after = i64::MIN;
                loop {
                    // Pages keep memory bounded on long logs.
                    let rows = sqlx::query("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 5000")
                        .bind(after)
                        .fetch_all(&mut *tx)
                        .await?;
                    if rows.is_empty() {
                        break;
                    }
                    for r in &rows {
                        let e = audit_from_row_lenient(r)?;
                        after = e.seq;
                        verifier.push(&e);
                    }
                }
                tx.rollback().await?;
                Ok(verifier.finish((head_seq, &head_hash)))
            }
        }
    };
}

pub(crate) use impl_backend;
