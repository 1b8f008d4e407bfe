//! The JetStream sink of the prediction log, for deployments with several replicas.
//!
//! Each record is one message on `<subject_prefix>.<endpoint>` (the endpoint escaped like a file
//! name, so it is one subject token) with the record as JSON and its request id as the
//! `Nats-Msg-Id` header, so a retried publish within the stream's duplicate window is stored
//! once. `append` publishes the batch and resolves when the server has acknowledged every
//! message: the records are then stored by JetStream (file storage, replicated when the stream
//! has replicas). The server fsyncs on its own `sync_interval` (2 minutes by default), so on a
//! single-replica stream a power loss can lose acknowledged records; see
//! `docs/prediction-log.md`.
//!
//! A scan creates an ephemeral consumer on the endpoint's subject starting at
//! `from_ms - publish_delay_bound` (message timestamps are when the server stored them, which is
//! after the prediction was made), reads the messages that were in the stream when it started,
//! stops early once messages are stored later than `to_ms + publish_delay_bound`, and keeps the
//! records whose own `time_ms` lies in the window. That reads the window and its margins, not the
//! whole stream; for repeated monitoring of large windows, feed a local log from a consumer.

use super::columnar::FrameBuilder;
use super::{
    PredictionFrame, PredictionLog, PredictionLogError, PredictionLogResult, PredictionLogStats,
    PredictionRecord, ScanQuery, escape_name, now_ms,
};
use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Settings of a [`JetStreamPredictionLog`].
#[derive(Debug, Clone)]
pub struct JetStreamConfig {
    /// Server address, e.g. `nats://127.0.0.1:4222`.
    pub url: String,
    /// Stream name; the stream is created (file storage) when missing.
    pub stream: String,
    /// Subjects are `<subject_prefix>.<endpoint>`; the stream holds `<subject_prefix>.>`.
    pub subject_prefix: String,
    /// How long the stream keeps records (zero: until deleted).
    pub max_age: Duration,
    /// The longest time between making a prediction and the server storing it; scans widen the
    /// window by this much on both sides to find late or early stored records.
    pub publish_delay_bound: Duration,
}

impl JetStreamConfig {
    /// Stream `AIDLC_PREDICTIONS` on `aidlc.predictions.<endpoint>`, kept 30 days.
    pub fn new(url: impl Into<String>) -> JetStreamConfig {
        JetStreamConfig {
            url: url.into(),
            stream: "AIDLC_PREDICTIONS".into(),
            subject_prefix: "aidlc.predictions".into(),
            max_age: Duration::from_secs(30 * 24 * 3600),
            publish_delay_bound: Duration::from_secs(60),
        }
    }
}

/// Prediction log carried by a NATS JetStream stream.
pub struct JetStreamPredictionLog {
    context: jetstream::Context,
    config: JetStreamConfig,
    records_appended: AtomicU64,
    bytes_appended: AtomicU64,
    pending_records: AtomicU64,
    last_ack_ms: AtomicI64,
}

fn js_err(operation: &'static str) -> impl FnOnce(String) -> PredictionLogError {
    move |message| PredictionLogError::JetStream { operation, message }
}

impl JetStreamPredictionLog {
    /// Connects and creates the stream if it does not exist.
    pub async fn connect(config: JetStreamConfig) -> PredictionLogResult<JetStreamPredictionLog> {
        let client = async_nats::connect(config.url.as_str())
            .await
            .map_err(|e| js_err("connect")(format!("{}: {e}", config.url)))?;
        let context = jetstream::new(client);
        context
            .get_or_create_stream(stream::Config {
                name: config.stream.clone(),
                subjects: vec![format!("{}.>", config.subject_prefix)],
                max_age: config.max_age,
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| js_err("create stream")(format!("`{}`: {e}", config.stream)))?;
        Ok(JetStreamPredictionLog {
            context,
            config,
            records_appended: AtomicU64::new(0),
            bytes_appended: AtomicU64::new(0),
            pending_records: AtomicU64::new(0),
            last_ack_ms: AtomicI64::new(i64::MIN),
        })
    }

    /// Deletes the stream and every record in it (tests and decommissioning).
    pub async fn delete_stream(self) -> PredictionLogResult<()> {
        self.context
            .delete_stream(&self.config.stream)
            .await
            .map_err(|e| js_err("delete stream")(format!("`{}`: {e}", self.config.stream)))?;
        Ok(())
    }

    fn subject(&self, endpoint: &str) -> String {
        format!("{}.{}", self.config.subject_prefix, escape_name(endpoint))
    }

    async fn publish_all(&self, batch: &[PredictionRecord]) -> PredictionLogResult<u64> {
        let mut acks = Vec::with_capacity(batch.len());
        let mut bytes = 0u64;
        // Publish everything first, then wait: the acknowledgements of a batch overlap.
        for r in batch {
            let payload = serde_json::to_vec(r).map_err(|e| PredictionLogError::InvalidRecord {
                request_id: r.request_id.clone(),
                reason: e.to_string(),
            })?;
            bytes += payload.len() as u64;
            let message = jetstream::message::PublishMessage::build()
                .payload(payload.into())
                .message_id(&r.request_id);
            let ack = self
                .context
                .send_publish(self.subject(&r.endpoint), message)
                .await
                .map_err(|e| js_err("publish")(format!("record `{}`: {e}", r.request_id)))?;
            acks.push((ack, &r.request_id));
        }
        for (ack, request_id) in acks {
            ack.await.map_err(|e| {
                js_err("publish acknowledgement")(format!("record `{request_id}`: {e}"))
            })?;
        }
        Ok(bytes)
    }
}

impl PredictionLog for JetStreamPredictionLog {
    async fn append(&self, batch: Vec<PredictionRecord>) -> PredictionLogResult<()> {
        let n = batch.len() as u64;
        self.pending_records.fetch_add(n, Ordering::Relaxed);
        let result = self.publish_all(&batch).await;
        self.pending_records.fetch_sub(n, Ordering::Relaxed);
        let bytes = result?;
        self.records_appended.fetch_add(n, Ordering::Relaxed);
        self.bytes_appended.fetch_add(bytes, Ordering::Relaxed);
        self.last_ack_ms.store(now_ms(), Ordering::Relaxed);
        Ok(())
    }

    async fn scan(&self, query: &ScanQuery) -> PredictionLogResult<PredictionFrame> {
        let margin_ns = self.config.publish_delay_bound.as_nanos() as i128;
        let start_ns = i128::from(query.from_ms) * 1_000_000 - margin_ns;
        let stop_ns = i128::from(query.to_ms) * 1_000_000 + margin_ns;
        // A window open to the past reads the endpoint from its first message.
        let deliver_policy = if start_ns <= 0 {
            consumer::DeliverPolicy::All
        } else {
            consumer::DeliverPolicy::ByStartTime {
                start_time: async_nats::datetime::from_nanos(start_ns)
                    .map_err(|e| js_err("scan")(format!("start time: {e}")))?,
            }
        };
        let stream = self
            .context
            .get_stream(&self.config.stream)
            .await
            .map_err(|e| js_err("scan")(format!("stream `{}`: {e}", self.config.stream)))?;
        let mut consumer: consumer::PullConsumer = stream
            .create_consumer(consumer::pull::Config {
                filter_subject: self.subject(&query.endpoint),
                deliver_policy,
                ack_policy: consumer::AckPolicy::None,
                inactive_threshold: Duration::from_secs(60),
                ..Default::default()
            })
            .await
            .map_err(|e| js_err("scan")(format!("create consumer: {e}")))?;
        let pending = consumer
            .info()
            .await
            .map_err(|e| js_err("scan")(format!("consumer info: {e}")))?
            .num_pending;
        let consumer_name = consumer.cached_info().name.clone();
        let mut out = FrameBuilder::default();
        if pending > 0 {
            let mut messages = consumer
                .messages()
                .await
                .map_err(|e| js_err("scan")(format!("read messages: {e}")))?;
            let mut read = 0u64;
            while read < pending {
                let Some(message) = messages.next().await else {
                    break;
                };
                let message = message.map_err(|e| js_err("scan")(format!("read message: {e}")))?;
                read += 1;
                let info = message
                    .info()
                    .map_err(|e| js_err("scan")(format!("message metadata: {e}")))?;
                if info.published.unix_timestamp_nanos() > stop_ns {
                    break;
                }
                let record: PredictionRecord =
                    serde_json::from_slice(&message.payload).map_err(|e| {
                        js_err("scan")(format!(
                            "message {} of stream `{}` is not a prediction record: {e}",
                            info.stream_sequence, self.config.stream
                        ))
                    })?;
                if record.endpoint == query.endpoint
                    && query.matches(
                        record.time_ms,
                        &record.model,
                        record.version,
                        record.variant,
                    )
                {
                    out.push_record(record);
                }
            }
        }
        // The consumer is ephemeral and expires on its own; deleting it now frees it early.
        let _ = stream.delete_consumer(&consumer_name).await;
        Ok(out.finish())
    }

    fn stats(&self) -> PredictionLogStats {
        let last = self.last_ack_ms.load(Ordering::Relaxed);
        PredictionLogStats {
            records_appended: self.records_appended.load(Ordering::Relaxed),
            bytes_appended: self.bytes_appended.load(Ordering::Relaxed),
            pending_records: self.pending_records.load(Ordering::Relaxed),
            unsynced_bytes: 0,
            last_flush_ms: (last != i64::MIN).then_some(last),
            segments_sealed: 0,
            segments_unconverted: 0,
        }
    }
}
