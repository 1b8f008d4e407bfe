//! The SQL of monitoring time series, written once and instantiated per backend (like
//! `alerts_backend.rs`), in a child module of each backend so it shares that backend's
//! transaction discipline and audit chain.

macro_rules! impl_monitor {
    ($store:ty, $db:ty) => {
        mod monitor_impl {
            use super::{append_in_tx, finish, DbRow};
            use aidlc_core::audit::NewAuditEntry;
            use sqlx::Row;
            use std::collections::BTreeMap;
            use $crate::backend::INSERT_CHUNK;
            use $crate::monitor::*;
            use $crate::{AuditContext, Result, StoreError};

            fn point_from_row(r: &DbRow) -> Result<MonitorPoint> {
                let feature: String = r.try_get("feature")?;
                let extra: String = r.try_get("extra_json")?;
                let value: Option<f64> = r.try_get("value")?;
                Ok(MonitorPoint {
                    endpoint: r.try_get("endpoint")?,
                    window_start_ms: r.try_get("window_start_ms")?,
                    window_end_ms: r.try_get("window_end_ms")?,
                    signal: r.try_get("signal")?,
                    feature: (!feature.is_empty()).then_some(feature),
                    value: value.unwrap_or(f64::NAN),
                    extra: serde_json::from_str(&extra).map_err(|e| {
                        StoreError::Corrupt(format!("monitor point extra is not valid JSON: {e}"))
                    })?,
                })
            }

            impl MonitorStore for $store {
                async fn record_monitor_points(
                    &self,
                    ctx: &AuditContext,
                    batch: Vec<MonitorPoint>,
                ) -> Result<MonitorWriteOutcome> {
                    let points = dedup_points(batch);
                    if points.is_empty() {
                        return Ok(MonitorWriteOutcome::default());
                    }
                    // Per endpoint: its windows and how many points, for the audit entries.
                    let mut per_endpoint: BTreeMap<&str, (BTreeMap<(i64, i64), ()>, usize)> =
                        BTreeMap::new();
                    for p in &points {
                        let e = per_endpoint.entry(p.endpoint.as_str()).or_default();
                        e.0.insert((p.window_start_ms, p.window_end_ms), ());
                        e.1 += 1;
                    }
                    let mut tx = self.begin_write().await?;
                    let result: Result<_> = async {
                        for chunk in points.chunks(INSERT_CHUNK) {
                            let mut qb = sqlx::QueryBuilder::<$db>::new(
                                "INSERT INTO monitor_points (endpoint, window_start_ms, window_end_ms, signal, \
                                 feature, value, extra_json, recorded_at_ms) ",
                            );
                            qb.push_values(chunk, |mut b, p| {
                                b.push_bind(p.endpoint.clone())
                                    .push_bind(p.window_start_ms)
                                    .push_bind(p.window_end_ms)
                                    .push_bind(p.signal.clone())
                                    .push_bind(p.feature.clone().unwrap_or_default())
                                    .push_bind(p.value.is_finite().then_some(p.value))
                                    .push_bind(p.extra.to_string())
                                    .push_bind(ctx.at_ms);
                            });
                            qb.push(
                                " ON CONFLICT (endpoint, window_start_ms, window_end_ms, signal, feature) \
                                 DO UPDATE SET value = excluded.value, extra_json = excluded.extra_json, \
                                 recorded_at_ms = excluded.recorded_at_ms",
                            );
                            qb.build().execute(&mut *tx).await?;
                        }
                        let audit = per_endpoint
                            .iter()
                            .map(|(endpoint, (windows, n))| {
                                let first = windows.keys().next().map(|w| w.0);
                                let last = windows.keys().next_back().map(|w| w.1);
                                NewAuditEntry::new(
                                    ctx,
                                    "monitor.record",
                                    "deployment",
                                    endpoint,
                                    serde_json::json!({
                                        "windows": windows.len(), "points": n,
                                        "from_ms": first, "to_ms": last,
                                    }),
                                )
                            })
                            .collect();
                        append_in_tx(&mut tx, audit).await?;
                        Ok(())
                    }
                    .await;
                    finish(self, tx, result).await?;
                    Ok(MonitorWriteOutcome {
                        points: points.len(),
                        windows: per_endpoint.values().map(|(w, _)| w.len()).sum(),
                    })
                }

                async fn monitor_points(&self, query: &MonitorQuery) -> Result<Vec<MonitorPoint>> {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "SELECT * FROM monitor_points WHERE endpoint = ",
                    );
                    qb.push_bind(query.endpoint.clone());
                    if let Some(from) = query.from_ms {
                        qb.push(" AND window_end_ms > ").push_bind(from);
                    }
                    if let Some(to) = query.to_ms {
                        qb.push(" AND window_end_ms <= ").push_bind(to);
                    }
                    if let Some(prefix) = &query.signal_prefix {
                        // A prefix compare rather than LIKE, so `_` and `%` in names are literal.
                        qb.push(" AND substr(signal, 1, length(")
                            .push_bind(prefix.clone())
                            .push(")) = ")
                            .push_bind(prefix.clone());
                    }
                    qb.push(" ORDER BY window_end_ms, window_start_ms, signal, feature");
                    qb.build()
                        .fetch_all(&self.pool)
                        .await?
                        .iter()
                        .map(point_from_row)
                        .collect()
                }

                async fn latest_monitor_window(&self, endpoint: &str) -> Result<Option<(i64, i64)>> {
                    let row = sqlx::query(
                        "SELECT window_start_ms, window_end_ms FROM monitor_points WHERE endpoint = $1 \
                         ORDER BY window_end_ms DESC, window_start_ms DESC LIMIT 1",
                    )
                    .bind(endpoint.to_string())
                    .fetch_optional(&self.pool)
                    .await?;
                    row.map(|r| Ok((r.try_get("window_start_ms")?, r.try_get("window_end_ms")?)))
                        .transpose()
                }
            }
        }
    };
}

pub(crate) use impl_monitor;
