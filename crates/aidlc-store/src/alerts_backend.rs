//! The SQL of alerts, written once and instantiated per backend (like `backend.rs`). It lives
//! in a child module of each backend so it reuses that backend's `finish` and `append_in_tx`:
//! the same transaction discipline and audit chain.

macro_rules! impl_alerts {
    ($store:ty, $db:ty) => {
        mod alerts_impl {
            use super::{append_in_tx, finish, DbRow};
            use aidlc_core::alerts::{
                Alert, AlertEvent, AlertEventKind, AlertKey, AlertState, AlertStatus, AlertWrite,
            };
            use aidlc_core::audit::NewAuditEntry;
            use aidlc_core::ids::AlertId;
            use aidlc_core::spec::{AlertCondition, AlertSeverity};
            use sqlx::Row;
            use $crate::alerts::*;
            use $crate::backend::INSERT_CHUNK;
            use $crate::{AuditContext, Result, StoreError, new_id};

            fn parse_json(s: String, what: &str) -> Result<serde_json::Value> {
                serde_json::from_str(&s)
                    .map_err(|e| StoreError::Corrupt(format!("{what} is not valid JSON: {e}")))
            }

            fn corrupt(what: &str, text: &str) -> StoreError {
                StoreError::Corrupt(format!("unknown {what} `{text}`"))
            }

            fn event_kind(text: String) -> Result<AlertEventKind> {
                AlertEventKind::parse(&text).ok_or_else(|| corrupt("alert event", &text))
            }

            fn alert_from_row(r: &DbRow) -> Result<Alert> {
                let severity: String = r.try_get("severity")?;
                let condition: String = r.try_get("condition_text")?;
                let status: String = r.try_get("status")?;
                Ok(Alert {
                    id: AlertId(r.try_get("id")?),
                    state: AlertState {
                        key: AlertKey {
                            rule: r.try_get("rule")?,
                            endpoint: r.try_get("endpoint")?,
                            signal: r.try_get("signal")?,
                        },
                        severity: severity
                            .parse::<AlertSeverity>()
                            .map_err(|_| corrupt("alert severity", &severity))?,
                        condition: AlertCondition::parse(&condition)
                            .map_err(|_| corrupt("alert condition", &condition))?,
                        status: AlertStatus::parse(&status)
                            .ok_or_else(|| corrupt("alert status", &status))?,
                        value: r.try_get("value")?,
                        evidence: parse_json(r.try_get("evidence_json")?, "alert evidence")?,
                        window_start_ms: r.try_get("window_start_ms")?,
                        window_end_ms: r.try_get("window_end_ms")?,
                        opened_ms: r.try_get("opened_ms")?,
                        last_seen_ms: r.try_get("last_seen_ms")?,
                        resolved_ms: r.try_get("resolved_ms")?,
                        observations: r.try_get("observations")?,
                    },
                })
            }

            fn event_from_row(r: &DbRow) -> Result<AlertEventRecord> {
                Ok(AlertEventRecord {
                    alert_id: AlertId(r.try_get("alert_id")?),
                    seq: r.try_get("seq")?,
                    event: AlertEvent {
                        kind: event_kind(r.try_get("kind")?)?,
                        at_ms: r.try_get("at_ms")?,
                        value: r.try_get("value")?,
                        window_start_ms: r.try_get("window_start_ms")?,
                        window_end_ms: r.try_get("window_end_ms")?,
                        evidence: parse_json(r.try_get("evidence_json")?, "alert evidence")?,
                        note: r.try_get("note")?,
                    },
                    recorded_at_ms: r.try_get("recorded_at_ms")?,
                })
            }

            fn delivery_from_row(r: &DbRow) -> Result<AlertDelivery> {
                Ok(AlertDelivery {
                    alert_id: AlertId(r.try_get("alert_id")?),
                    event: event_kind(r.try_get("event")?)?,
                    channel: r.try_get("channel")?,
                    channel_kind: r.try_get("channel_kind")?,
                    attempt: r.try_get("attempt")?,
                    delivered: r.try_get("delivered")?,
                    http_status: r.try_get("http_status")?,
                    error: r.try_get("error")?,
                    at_ms: r.try_get("at_ms")?,
                })
            }

            /// A unique-index violation means another writer opened an alert for the key.
            fn open_conflict(e: sqlx::Error, key: &AlertKey) -> StoreError {
                match &e {
                    sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(format!(
                        "an alert of rule `{}` for `{}` / `{}` is already open",
                        key.rule, key.endpoint, key.signal
                    )),
                    _ => StoreError::Database(e),
                }
            }

            /// The audit action of a write: its most telling event.
            fn action(write: &AlertWrite) -> &'static str {
                let has = |k| write.events.iter().any(|e| e.kind == k);
                if has(AlertEventKind::Opened) {
                    "alert.open"
                } else if has(AlertEventKind::Resolved) {
                    "alert.resolve"
                } else {
                    "alert.update"
                }
            }

            impl AlertStore for $store {
                async fn record_alerts(&self, ctx: &AuditContext, batch: Vec<AlertWrite>) -> Result<Vec<Alert>> {
                    let mut tx = self.begin_write().await?;
                    let result: Result<_> = async {
                        let mut out = Vec::with_capacity(batch.len());
                        let mut audit = Vec::with_capacity(batch.len());
                        for write in &batch {
                            let s = &write.state;
                            let id = match &write.id {
                                None => {
                                    let id = new_id();
                                    sqlx::query(
                                        "INSERT INTO alerts (id, rule, endpoint, signal, severity, condition_text, status, value, \
                                         evidence_json, window_start_ms, window_end_ms, opened_ms, last_seen_ms, resolved_ms, \
                                         observations, created_by, created_at_ms, updated_at_ms) \
                                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)",
                                    )
                                    .bind(id.clone())
                                    .bind(s.key.rule.clone())
                                    .bind(s.key.endpoint.clone())
                                    .bind(s.key.signal.clone())
                                    .bind(s.severity.as_str())
                                    .bind(s.condition.to_string())
                                    .bind(s.status.as_str())
                                    .bind(s.value)
                                    .bind(s.evidence.to_string())
                                    .bind(s.window_start_ms)
                                    .bind(s.window_end_ms)
                                    .bind(s.opened_ms)
                                    .bind(s.last_seen_ms)
                                    .bind(s.resolved_ms)
                                    .bind(s.observations)
                                    .bind(ctx.actor.clone())
                                    .bind(ctx.at_ms)
                                    .execute(&mut *tx)
                                    .await
                                    .map_err(|e| open_conflict(e, &s.key))?;
                                    id
                                }
                                Some(id) => {
                                    let changed = sqlx::query(
                                        "UPDATE alerts SET severity = $2, condition_text = $3, status = $4, value = $5, \
                                         evidence_json = $6, window_start_ms = $7, window_end_ms = $8, last_seen_ms = $9, \
                                         resolved_ms = $10, observations = $11, updated_at_ms = $12 \
                                         WHERE id = $1 AND status = 'open'",
                                    )
                                    .bind(id.0.clone())
                                    .bind(s.severity.as_str())
                                    .bind(s.condition.to_string())
                                    .bind(s.status.as_str())
                                    .bind(s.value)
                                    .bind(s.evidence.to_string())
                                    .bind(s.window_start_ms)
                                    .bind(s.window_end_ms)
                                    .bind(s.last_seen_ms)
                                    .bind(s.resolved_ms)
                                    .bind(s.observations)
                                    .bind(ctx.at_ms)
                                    .execute(&mut *tx)
                                    .await?
                                    .rows_affected();
                                    if changed == 0 {
                                        let exists = sqlx::query("SELECT 1 FROM alerts WHERE id = $1")
                                            .bind(id.0.clone())
                                            .fetch_optional(&mut *tx)
                                            .await?
                                            .is_some();
                                        return Err(if exists {
                                            StoreError::Conflict(format!("alert `{id}` is already resolved"))
                                        } else {
                                            StoreError::NotFound { kind: "alert", id: id.0.clone() }
                                        });
                                    }
                                    id.0.clone()
                                }
                            };
                            let last: i64 = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS last FROM alert_events WHERE alert_id = $1")
                                .bind(id.clone())
                                .fetch_one(&mut *tx)
                                .await?
                                .try_get("last")?;
                            for (chunk_start, chunk) in write.events.chunks(INSERT_CHUNK).enumerate() {
                                let mut qb = sqlx::QueryBuilder::<$db>::new(
                                    "INSERT INTO alert_events (alert_id, seq, kind, at_ms, value, window_start_ms, window_end_ms, \
                                     evidence_json, note, recorded_at_ms) ",
                                );
                                let first = last + (chunk_start * INSERT_CHUNK) as i64 + 1;
                                qb.push_values(chunk.iter().enumerate(), |mut b, (i, e)| {
                                    b.push_bind(id.clone())
                                        .push_bind(first + i as i64)
                                        .push_bind(e.kind.as_str())
                                        .push_bind(e.at_ms)
                                        .push_bind(e.value)
                                        .push_bind(e.window_start_ms)
                                        .push_bind(e.window_end_ms)
                                        .push_bind(e.evidence.to_string())
                                        .push_bind(e.note.clone())
                                        .push_bind(ctx.at_ms);
                                });
                                qb.build().execute(&mut *tx).await?;
                            }
                            audit.push(NewAuditEntry::new(
                                ctx,
                                action(write),
                                "alert",
                                &id,
                                serde_json::json!({
                                    "rule": s.key.rule, "endpoint": s.key.endpoint, "signal": s.key.signal,
                                    "severity": s.severity, "condition": s.condition, "status": s.status,
                                    "value": s.value,
                                    "events": write.events.iter().map(|e| e.kind).collect::<Vec<_>>(),
                                }),
                            ));
                            out.push(Alert { id: AlertId(id), state: s.clone() });
                        }
                        append_in_tx(&mut tx, audit).await?;
                        Ok(out)
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn current_alerts(&self, endpoints: &[String]) -> Result<Vec<Alert>> {
                    let mut out = Vec::new();
                    for chunk in endpoints.chunks(INSERT_CHUNK) {
                        // The open alert of a key, else its most recently opened one.
                        let mut qb = sqlx::QueryBuilder::<$db>::new(
                            "SELECT a.* FROM alerts a WHERE (a.status = 'open' OR NOT EXISTS (\
                             SELECT 1 FROM alerts b WHERE b.rule = a.rule AND b.endpoint = a.endpoint \
                             AND b.signal = a.signal AND (b.opened_ms > a.opened_ms \
                             OR (b.opened_ms = a.opened_ms AND b.id > a.id)))) AND a.endpoint IN (",
                        );
                        let mut sep = qb.separated(", ");
                        for e in chunk {
                            sep.push_bind(e.clone());
                        }
                        qb.push(") ORDER BY a.endpoint, a.rule, a.signal, a.opened_ms, a.id");
                        for r in &qb.build().fetch_all(&self.pool).await? {
                            out.push(alert_from_row(r)?);
                        }
                    }
                    Ok(out)
                }

                async fn list_alerts(&self, filter: &AlertFilter) -> Result<Vec<Alert>> {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT * FROM alerts WHERE 1 = 1");
                    if let Some(endpoint) = &filter.endpoint {
                        qb.push(" AND endpoint = ").push_bind(endpoint.clone());
                    }
                    if filter.open_only {
                        qb.push(" AND status = 'open'");
                    }
                    qb.push(" ORDER BY opened_ms DESC, id DESC");
                    if let Some(limit) = filter.limit {
                        qb.push(" LIMIT ").push_bind(limit.max(0));
                    }
                    qb.build().fetch_all(&self.pool).await?.iter().map(alert_from_row).collect()
                }

                async fn get_alert(&self, id: &AlertId) -> Result<Option<Alert>> {
                    sqlx::query("SELECT * FROM alerts WHERE id = $1")
                        .bind(id.0.clone())
                        .fetch_optional(&self.pool)
                        .await?
                        .map(|r| alert_from_row(&r))
                        .transpose()
                }

                async fn alert_history(&self, id: &AlertId) -> Result<Vec<AlertEventRecord>> {
                    sqlx::query("SELECT * FROM alert_events WHERE alert_id = $1 ORDER BY seq")
                        .bind(id.0.clone())
                        .fetch_all(&self.pool)
                        .await?
                        .iter()
                        .map(event_from_row)
                        .collect()
                }

                async fn record_deliveries(&self, ctx: &AuditContext, batch: Vec<AlertDelivery>) -> Result<()> {
                    if batch.is_empty() {
                        return Ok(());
                    }
                    let mut tx = self.begin_write().await?;
                    let result: Result<_> = async {
                        for chunk in batch.chunks(INSERT_CHUNK) {
                            let mut qb = sqlx::QueryBuilder::<$db>::new(
                                "INSERT INTO alert_deliveries (alert_id, event, channel, channel_kind, attempt, delivered, \
                                 http_status, error, at_ms) ",
                            );
                            qb.push_values(chunk, |mut b, d| {
                                b.push_bind(d.alert_id.0.clone())
                                    .push_bind(d.event.as_str())
                                    .push_bind(d.channel.clone())
                                    .push_bind(d.channel_kind.clone())
                                    .push_bind(d.attempt)
                                    .push_bind(d.delivered)
                                    .push_bind(d.http_status)
                                    .push_bind(d.error.clone())
                                    .push_bind(d.at_ms);
                            });
                            qb.build().execute(&mut *tx).await.map_err(|e| match &e {
                                sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                                    StoreError::NotFound { kind: "alert", id: chunk.iter().map(|d| d.alert_id.0.as_str()).collect::<Vec<_>>().join(",") }
                                }
                                _ => StoreError::Database(e),
                            })?;
                        }
                        let audit = batch
                            .iter()
                            .map(|d| {
                                NewAuditEntry::new(
                                    ctx,
                                    "alert.deliver",
                                    "alert",
                                    &d.alert_id.0,
                                    serde_json::json!({
                                        "event": d.event, "channel": d.channel, "channel_kind": d.channel_kind,
                                        "attempt": d.attempt, "delivered": d.delivered,
                                        "http_status": d.http_status, "error": d.error,
                                    }),
                                )
                            })
                            .collect();
                        append_in_tx(&mut tx, audit).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await
                }

                async fn alert_deliveries(&self, id: &AlertId) -> Result<Vec<AlertDelivery>> {
                    sqlx::query(
                        "SELECT * FROM alert_deliveries WHERE alert_id = $1 \
                         ORDER BY CASE event WHEN 'opened' THEN 0 ELSE 1 END, channel, attempt",
                    )
                    .bind(id.0.clone())
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(delivery_from_row)
                    .collect()
                }
            }
        }
    };
}

pub(crate) use impl_alerts;
