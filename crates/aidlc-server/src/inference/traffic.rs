//! The traffic of one request: which version answers it (production, or the rollout's canary
//! for a sticky share of keys), the asynchronous shadow copy, and the prediction-log records of
//! every answer — appended before the answer leaves, so an answered request is on disk.

use super::cache::{CANARY, LiveEndpoint, PRODUCTION, SHADOW, ServedVersion, Serving, Target};
use crate::error::ApiResult;
use aidlc_data::Column;
use aidlc_models::{Frame, Predictions};
use aidlc_service::rollout::Counts;
use aidlc_store::predlog::{
    FeatureValue, PredictionLog, PredictionOutputs, PredictionRecord, Variant,
};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The request id a client may send (and always gets back).
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// The entity a request is about: the sticky key of the canary assignment.
pub const ENTITY_HEADER: &str = "x-aidlc-entity-id";
/// Shadow requests waiting to be scored, when the server is not told otherwise.
pub const DEFAULT_SHADOW_QUEUE: usize = 4096;

/// The request id and entity key from the request's headers.
pub struct RequestMeta {
    pub request_id: Option<String>,
    pub entity: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // Ids longer than this are a client mistake; they are replaced rather than logged.
        let get = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.len() <= 256)
                .map(str::to_string)
        };
        Ok(RequestMeta {
            request_id: get(REQUEST_ID_HEADER),
            entity: get(ENTITY_HEADER),
        })
    }
}

/// The candidate of an endpoint's active rollout, loaded, with its traffic.
pub struct BoundRollout {
    pub id: String,
    pub candidate: Arc<ServedVersion>,
    pub shadow: bool,
    pub canary_percent: f64,
}

/// Requests and errors per variant since the controller last judged the step.
#[derive(Default)]
pub struct StepCounts {
    candidate_requests: AtomicU64,
    candidate_errors: AtomicU64,
    production_requests: AtomicU64,
    production_errors: AtomicU64,
}

impl StepCounts {
    /// The counts so far, reset to zero.
    pub fn take(&self) -> Counts {
        Counts {
            candidate_requests: self.candidate_requests.swap(0, Ordering::Relaxed),
            candidate_errors: self.candidate_errors.swap(0, Ordering::Relaxed),
            production_requests: self.production_requests.swap(0, Ordering::Relaxed),
            production_errors: self.production_errors.swap(0, Ordering::Relaxed),
        }
    }

    /// The counts so far, left as they are.
    pub fn peek(&self) -> Counts {
        Counts {
            candidate_requests: self.candidate_requests.load(Ordering::Relaxed),
            candidate_errors: self.candidate_errors.load(Ordering::Relaxed),
            production_requests: self.production_requests.load(Ordering::Relaxed),
            production_errors: self.production_errors.load(Ordering::Relaxed),
        }
    }

    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A copy of a production request for the shadow candidate.
struct ShadowJob {
    endpoint: Arc<LiveEndpoint>,
    candidate: Arc<ServedVersion>,
    frame: Arc<Frame>,
    request_id: String,
    entity: Option<String>,
}

/// The bounded queue of shadow requests: a full queue drops the copy (counted), never delays
/// the production answer.
pub struct ShadowQueue {
    tx: mpsc::Sender<ShadowJob>,
    rx: Mutex<Option<mpsc::Receiver<ShadowJob>>>,
    pub capacity: usize,
    pub drops: AtomicU64,
    pub errors: AtomicU64,
    pub scored: AtomicU64,
}

impl ShadowQueue {
    pub fn new(capacity: usize) -> ShadowQueue {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        ShadowQueue {
            tx,
            rx: Mutex::new(Some(rx)),
            capacity: capacity.max(1),
            drops: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            scored: AtomicU64::new(0),
        }
    }

    fn offer(&self, job: ShadowJob) {
        if self.tx.try_send(job).is_err() {
            self.drops.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Shadow requests waiting now.
    pub fn depth(&self) -> usize {
        self.capacity - self.tx.capacity()
    }
}

/// Starts the task that scores shadow copies (once; later calls do nothing). It holds the
/// serving state weakly, so dropping the state ends it.
pub fn start_shadow_worker(serving: &Arc<Serving>) {
    let Some(mut rx) = serving
        .shadow
        .rx
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    else {
        return;
    };
    let weak: Weak<Serving> = Arc::downgrade(serving);
    tokio::spawn(async move {
        while let Some(job) = rx.recv().await {
            let Some(serving) = weak.upgrade() else {
                break;
            };
            let time_ms = serving.now_ms();
            let started = Instant::now();
            let counts = &job.endpoint.counts;
            StepCounts::add(&counts.candidate_requests);
            match job.candidate.predict(Arc::clone(&job.frame)).await {
                Ok(predictions) => {
                    serving.shadow.scored.fetch_add(1, Ordering::Relaxed);
                    if let Some(log) = &serving.log {
                        let batch = records(
                            &job.endpoint.name,
                            &job.candidate,
                            Variant::Shadow,
                            &job.request_id,
                            job.entity.as_deref(),
                            time_ms,
                            started.elapsed(),
                            &job.frame,
                            &predictions,
                        );
                        if let Err(e) = log.append(batch).await {
                            tracing::warn!(endpoint = job.endpoint.name, error = %e, "the shadow's predictions could not be logged");
                        }
                    }
                }
                Err(e) => {
                    StepCounts::add(&counts.candidate_errors);
                    serving.shadow.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(endpoint = job.endpoint.name, error = %e, "the shadow failed to score a request");
                }
            }
        }
    });
}

/// What answered a request.
pub struct Scored {
    pub served: Arc<ServedVersion>,
    pub variant: &'static str,
    pub predictions: Predictions,
}

/// Where a key falls in [0, 100): FNV-1a, so one entity always lands on the same side of a
/// canary share, and a growing share only adds entities.
pub fn canary_position(key: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % 10_000) as f64 / 100.0
}

impl Target {
    /// Scores `frame` (checked against the production signature) on the version that answers
    /// this request, logs the answer, and sends a copy to the shadow. A canary that fails hands
    /// the request back to production (the failure counts against the canary), so a broken
    /// candidate never reaches a client.
    pub async fn score(&self, frame: Frame) -> ApiResult<Scored> {
        let frame = Arc::new(frame);
        let rollout = if self.variant == PRODUCTION {
            self.endpoint.rollout()
        } else {
            None
        };
        let counts = &self.endpoint.counts;
        let key = self.entity.as_deref().unwrap_or(&self.request_id);
        let time_ms = self.serving.now_ms();
        let mut answered = None;
        if let Some(r) = rollout
            .as_ref()
            .filter(|r| r.canary_percent > 0.0 && canary_position(key) < r.canary_percent)
        {
            StepCounts::add(&counts.candidate_requests);
            let started = Instant::now();
            match r.candidate.predict(Arc::clone(&frame)).await {
                Ok(p) => answered = Some((Arc::clone(&r.candidate), CANARY, p, started.elapsed())),
                Err(e) => {
                    StepCounts::add(&counts.candidate_errors);
                    tracing::debug!(endpoint = self.endpoint.name, error = %e, "the canary failed; production answers");
                }
            }
        }
        let (served, variant, predictions, took) = match answered {
            Some(a) => a,
            None => {
                if self.variant == PRODUCTION {
                    StepCounts::add(&counts.production_requests);
                }
                let started = Instant::now();
                match self.served.predict(Arc::clone(&frame)).await {
                    Ok(p) => (Arc::clone(&self.served), self.variant, p, started.elapsed()),
                    Err(e) => {
                        if self.variant == PRODUCTION {
                            StepCounts::add(&counts.production_errors);
                        }
                        return Err(e);
                    }
                }
            }
        };
        if let Some(log) = &self.serving.log {
            let log_variant = if variant == CANARY {
                Variant::Canary
            } else {
                Variant::Production
            };
            let batch = records(
                &self.endpoint.name,
                &served,
                log_variant,
                &self.request_id,
                self.entity.as_deref(),
                time_ms,
                took,
                &frame,
                &predictions,
            );
            log.append(batch).await?;
        }
        if let Some(r) = rollout.as_ref().filter(|r| r.shadow) {
            self.serving.shadow.offer(ShadowJob {
                endpoint: Arc::clone(&self.endpoint),
                candidate: Arc::clone(&r.candidate),
                frame,
                request_id: self.request_id.clone(),
                entity: self.entity.clone(),
            });
        }
        Ok(Scored {
            served,
            variant,
            predictions,
        })
    }
}

/// The variant name a response header carries back as the `'static` name metrics use.
pub fn variant_name(header: &str) -> Option<&'static str> {
    [PRODUCTION, CANARY, SHADOW, super::cache::PINNED]
        .into_iter()
        .find(|v| *v == header)
}

/// One record per scored row. A single-row request's record carries the request id; row `i` of
/// a batch carries `<request id>.<i>`, so labels can be joined to each row. Every row carries
/// the request's entity: a request is about one entity.
#[allow(clippy::too_many_arguments)]
fn records(
    endpoint: &str,
    served: &ServedVersion,
    variant: Variant,
    request_id: &str,
    entity: Option<&str>,
    time_ms: i64,
    took: Duration,
    frame: &Frame,
    predictions: &Predictions,
) -> Vec<PredictionRecord> {
    let n = frame.n_rows;
    let latency_us = took.as_micros().min(u128::from(u32::MAX)) as u32;
    (0..n)
        .map(|i| PredictionRecord {
            request_id: if n == 1 {
                request_id.to_string()
            } else {
                format!("{request_id}.{i}")
            },
            time_ms,
            endpoint: endpoint.to_string(),
            model: served.model.clone(),
            version: served.version,
            variant,
            features: frame
                .names
                .iter()
                .zip(&frame.columns)
                .map(|(name, column)| {
                    let value = match column {
                        Column::Numeric(v) if v[i].is_nan() => FeatureValue::Missing,
                        Column::Numeric(v) => FeatureValue::Number(v[i]),
                        Column::Categorical(v) => v[i]
                            .clone()
                            .map_or(FeatureValue::Missing, FeatureValue::Text),
                    };
                    (name.clone(), value)
                })
                .collect(),
            outputs: match predictions {
                Predictions::Classes {
                    classes,
                    labels,
                    probabilities,
                } => {
                    let k = classes.len();
                    PredictionOutputs {
                        label: classes.get(labels[i]).cloned(),
                        probabilities: probabilities[i * k..(i + 1) * k].to_vec(),
                        value: None,
                    }
                }
                Predictions::Values(values) => PredictionOutputs {
                    label: None,
                    probabilities: Vec::new(),
                    value: Some(values[i]),
                },
            },
            latency_us,
            entity: entity.map(str::to_string),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canary_positions_spread_evenly_and_stick() {
        let inside = (0..10_000)
            .filter(|i| canary_position(&format!("user-{i}")) < 25.0)
            .count();
        assert!((2_300..2_700).contains(&inside), "{inside}");
        assert_eq!(canary_position("user-7"), canary_position("user-7"));
    }
}
