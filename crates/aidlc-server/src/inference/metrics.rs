//! Prometheus metrics of the inference endpoints, written by hand in the text exposition format:
//! request and error counts and latency histograms per endpoint, model version, variant and
//! protocol. Counters are atomics found without allocating, so recording costs a few
//! nanoseconds on the hot path.

use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The protocol a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    OpenInference,
    Mlflow,
    Native,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::OpenInference => "v2",
            Protocol::Mlflow => "mlflow",
            Protocol::Native => "native",
        }
    }

    const ALL: [Protocol; 3] = [Protocol::OpenInference, Protocol::Mlflow, Protocol::Native];
}

/// Upper bounds of the latency buckets, in seconds: fine below a millisecond, where a Rust
/// server's single-row answers fall, and coarse up to seconds for large batches.
const BUCKETS: [f64; 16] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 10.0,
];

/// One series: the requests answered by one version of one endpoint, for one variant and
/// protocol.
#[derive(Default)]
pub struct Series {
    requests: AtomicU64,
    client_errors: AtomicU64,
    server_errors: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
    sum_nanos: AtomicU64,
}

impl Series {
    fn record(&self, status: u16, took: Duration) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if (400..500).contains(&status) {
            self.client_errors.fetch_add(1, Ordering::Relaxed);
        } else if status >= 500 {
            self.server_errors.fetch_add(1, Ordering::Relaxed);
        }
        let secs = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.sum_nanos
            .fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
    }
}

type SeriesKey = (i64, &'static str, Protocol);

/// The series of one endpoint, by (version, variant, protocol): a handful, searched linearly.
#[derive(Default)]
pub struct EndpointSeries(Mutex<Vec<(SeriesKey, std::sync::Arc<Series>)>>);

impl EndpointSeries {
    pub fn record(
        &self,
        version: i64,
        variant: &'static str,
        protocol: Protocol,
        status: u16,
        took: Duration,
    ) {
        let key = (version, variant, protocol);
        let series = {
            let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
            match all.iter().find(|(k, _)| *k == key) {
                Some((_, s)) => std::sync::Arc::clone(s),
                None => {
                    let s = std::sync::Arc::new(Series::default());
                    all.push((key, std::sync::Arc::clone(&s)));
                    s
                }
            }
        };
        series.record(status, took);
    }

    fn snapshot(&self) -> Vec<(SeriesKey, std::sync::Arc<Series>)> {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        all.sort_by_key(|((v, variant, p), _)| (*v, *variant, p.as_str()));
        all
    }
}

/// Counters not tied to a served version.
#[derive(Default)]
pub struct Metrics {
    /// Requests that reached no model (unknown endpoint, alias not set), by protocol.
    unrouted: [AtomicU64; 3],
}

impl Metrics {
    pub fn unrouted(&self, protocol: Protocol) {
        let i = Protocol::ALL
            .iter()
            .position(|p| *p == protocol)
            .unwrap_or(0);
        self.unrouted[i].fetch_add(1, Ordering::Relaxed);
    }
}

/// A label value with `\`, `"` and newlines escaped as the exposition format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// What one endpoint contributes to the exposition.
pub struct EndpointView<'a> {
    pub name: &'a str,
    pub model: String,
    pub version: Option<i64>,
    pub swaps: u64,
    pub series: &'a EndpointSeries,
}

/// The whole exposition.
pub fn render(metrics: &Metrics, endpoints: &[EndpointView<'_>]) -> String {
    let mut out = String::new();
    let mut rows = Vec::new();
    for e in endpoints {
        for ((version, variant, protocol), s) in e.series.snapshot() {
            let labels = format!(
                "endpoint=\"{}\",model=\"{}\",version=\"{version}\",variant=\"{variant}\",protocol=\"{}\"",
                escape(e.name),
                escape(&e.model),
                protocol.as_str()
            );
            rows.push((labels, s));
        }
    }
    out.push_str("# HELP aidlc_inference_requests_total Inference requests answered, by endpoint, model version, variant and protocol.\n# TYPE aidlc_inference_requests_total counter\n");
    for (labels, s) in &rows {
        let _ = writeln!(
            out,
            "aidlc_inference_requests_total{{{labels}}} {}",
            s.requests.load(Ordering::Relaxed)
        );
    }
    out.push_str("# HELP aidlc_inference_errors_total Inference requests answered with an error status: kind=\"client\" for 4xx, \"server\" for 5xx.\n# TYPE aidlc_inference_errors_total counter\n");
    for (labels, s) in &rows {
        for (kind, n) in [("client", &s.client_errors), ("server", &s.server_errors)] {
            let _ = writeln!(
                out,
                "aidlc_inference_errors_total{{{labels},kind=\"{kind}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
    }
    out.push_str("# HELP aidlc_inference_request_duration_seconds Time from a request's arrival at its handler to its answer.\n# TYPE aidlc_inference_request_duration_seconds histogram\n");
    for (labels, s) in &rows {
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(&s.buckets) {
            cumulative += n.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "aidlc_inference_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = s.requests.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "aidlc_inference_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "aidlc_inference_request_duration_seconds_sum{{{labels}}} {}",
            s.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9
        );
        let _ = writeln!(
            out,
            "aidlc_inference_request_duration_seconds_count{{{labels}}} {count}"
        );
    }
    out.push_str("# HELP aidlc_inference_unrouted_requests_total Inference requests that reached no model (unknown endpoint, or an alias that names no version).\n# TYPE aidlc_inference_unrouted_requests_total counter\n");
    for (p, n) in Protocol::ALL.iter().zip(&metrics.unrouted) {
        let _ = writeln!(
            out,
            "aidlc_inference_unrouted_requests_total{{protocol=\"{}\"}} {}",
            p.as_str(),
            n.load(Ordering::Relaxed)
        );
    }
    out.push_str("# HELP aidlc_endpoint_model_version The registry version an endpoint's production variant serves (absent while its alias names none).\n# TYPE aidlc_endpoint_model_version gauge\n");
    for e in endpoints {
        if let Some(v) = e.version {
            let _ = writeln!(
                out,
                "aidlc_endpoint_model_version{{endpoint=\"{}\",model=\"{}\"}} {v}",
                escape(e.name),
                escape(&e.model)
            );
        }
    }
    out.push_str("# HELP aidlc_endpoint_model_swaps_total Times an endpoint's production model was swapped (binding included).\n# TYPE aidlc_endpoint_model_swaps_total counter\n");
    for e in endpoints {
        let _ = writeln!(
            out,
            "aidlc_endpoint_model_swaps_total{{endpoint=\"{}\"}} {}",
            escape(e.name),
            e.swaps
        );
    }
    out
}

/// The shadow queue's and the prediction log's counters.
pub struct TrafficView {
    pub shadow_scored: u64,
    pub shadow_dropped: u64,
    pub shadow_errors: u64,
    pub shadow_queue_depth: u64,
    pub log: Option<aidlc_store::PredictionLogStats>,
}

/// Appends the shadow and prediction-log series to the exposition.
pub fn render_traffic(out: &mut String, t: &TrafficView) {
    let mut one = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    one(
        "aidlc_shadow_requests_scored_total",
        "counter",
        "Shadow copies the candidate scored.",
        t.shadow_scored,
    );
    one(
        "aidlc_shadow_requests_dropped_total",
        "counter",
        "Shadow copies dropped because the shadow queue was full (the production answer never waits).",
        t.shadow_dropped,
    );
    one(
        "aidlc_shadow_errors_total",
        "counter",
        "Shadow copies the candidate failed to score.",
        t.shadow_errors,
    );
    one(
        "aidlc_shadow_queue_depth",
        "gauge",
        "Shadow copies waiting to be scored.",
        t.shadow_queue_depth,
    );
    if let Some(log) = &t.log {
        one(
            "aidlc_prediction_log_records_total",
            "counter",
            "Prediction records the log acknowledged since the server started.",
            log.records_appended,
        );
        one(
            "aidlc_prediction_log_pending_records",
            "gauge",
            "Records handed to the log and not yet acknowledged (the log's lag).",
            log.pending_records,
        );
        one(
            "aidlc_prediction_log_unsynced_bytes",
            "gauge",
            "Acknowledged bytes written but not yet fsynced (local log).",
            log.unsynced_bytes,
        );
        one(
            "aidlc_prediction_log_unconverted_segments",
            "gauge",
            "Sealed segments waiting for conversion to columnar files (local log).",
            log.segments_unconverted,
        );
    }
}
