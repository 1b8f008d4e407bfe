//! Alert delivery over HTTP — the generic JSON webhook and Slack incoming webhooks — and the
//! alert list of the native API (`GET /api/v1/alerts`).
//!
//! The client is hyper's HTTP/1 connection API over a tokio socket: one connection per
//! attempt, no pooling (alerts are rare), a timeout over connect, request and answer. Only
//! `http://` URLs are supported; https would need a TLS stack in the server, which nothing else
//! here needs yet, so `check` rejects https channel URLs and a relay can bridge to one.

use crate::AppState;
use crate::error::ApiResult;
use aidlc_api::native as wire;
use aidlc_core::alerts::{Alert, AlertEventKind};
use aidlc_core::spec::{Channel, ChannelKind};
use aidlc_service::alerts::{DeliveryError, Notification, Notifier, RetryPolicy};
use aidlc_store::{AlertFilter, AlertStore};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use std::time::Duration;

/// How long one attempt may take, connect to answer, unless the notifier is told otherwise.
pub const DEFAULT_DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// The part of a failed answer's body quoted in the delivery error.
const ERROR_BODY_LIMIT: usize = 4096;

/// Delivers alert notifications to webhook and Slack channels over HTTP.
#[derive(Clone)]
pub struct HttpNotifier {
    clock: crate::Clock,
    timeout: Duration,
    policy: RetryPolicy,
}

impl HttpNotifier {
    /// A notifier with the default timeout and retry policy; `clock` stamps the attempts.
    pub fn new(clock: crate::Clock) -> Self {
        HttpNotifier {
            clock,
            timeout: DEFAULT_DELIVERY_TIMEOUT,
            policy: RetryPolicy::default(),
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }
}

impl Notifier for HttpNotifier {
    async fn send(
        &self,
        channel: &Channel,
        notification: &Notification,
    ) -> Result<(), DeliveryError> {
        let body = match channel.kind {
            ChannelKind::Webhook => serde_json::to_vec(&webhook_payload(notification)),
            ChannelKind::Slack => serde_json::to_vec(&slack_payload(notification)),
        }
        .map_err(|e| DeliveryError {
            message: format!("cannot encode the notification: {e}"),
            http_status: None,
            retryable: false,
        })?;
        post_json(&channel.url, body, self.timeout).await
    }

    async fn pause(&self, wait: Duration) {
        tokio::time::sleep(wait).await;
    }

    fn now_ms(&self) -> i64 {
        (self.clock)()
    }

    fn retry_policy(&self) -> RetryPolicy {
        self.policy
    }
}

/// The API's view of an alert.
pub fn alert_view(a: &Alert) -> wire::AlertView {
    let s = &a.state;
    wire::AlertView {
        id: a.id.0.clone(),
        rule: s.key.rule.clone(),
        endpoint: s.key.endpoint.clone(),
        signal: s.key.signal.clone(),
        severity: s.severity.as_str().to_string(),
        condition: s.condition.to_string(),
        status: s.status.as_str().to_string(),
        value: s.value,
        evidence: s.evidence.clone(),
        window_start_ms: s.window_start_ms,
        window_end_ms: s.window_end_ms,
        opened_ms: s.opened_ms,
        last_seen_ms: s.last_seen_ms,
        resolved_ms: s.resolved_ms,
        observations: s.observations,
    }
}

/// One line for people: `[critical] drifting opened on rain: drift.share = 0.52 (> 0.3)`.
pub fn summary(n: &Notification) -> String {
    let s = &n.alert.state;
    let verb = match n.event.kind {
        AlertEventKind::Resolved => "resolved",
        _ => "opened",
    };
    let mut line = format!(
        "[{}] {} {verb} on {}: {} = {} ({})",
        s.severity,
        s.key.rule,
        s.key.endpoint,
        s.key.signal,
        short_number(n.event.value),
        s.condition
    );
    if let Some(note) = &n.event.note {
        line.push_str(&format!("; {note}"));
    }
    line
}

/// A value with at most four decimals, as people read it.
fn short_number(v: f64) -> String {
    let text = format!("{v:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() || text == "-" {
        "0".into()
    } else {
        text.to_string()
    }
}

/// The generic webhook body (`aidlc.alert.v1`).
pub fn webhook_payload(n: &Notification) -> wire::AlertNotificationBody {
    wire::AlertNotificationBody {
        schema: "aidlc.alert.v1".into(),
        event: n.event.kind.as_str().into(),
        summary: summary(n),
        at_ms: n.event.at_ms,
        value: n.event.value,
        evidence: n.event.evidence.clone(),
        alert: alert_view(&n.alert),
    }
}

/// A Slack incoming-webhook message: `text` (the notification fallback) and Block Kit
/// `blocks` (a header, the facts as fields, and the window and alert id as context).
pub fn slack_payload(n: &Notification) -> serde_json::Value {
    let s = &n.alert.state;
    let header = match n.event.kind {
        AlertEventKind::Resolved => format!("Resolved: {}", s.key.rule),
        _ => format!("Alert ({}): {}", s.severity, s.key.rule),
    };
    // Slack renders `<!date^…>` in the reader's time zone; the fallback is the epoch second.
    let date = |ms: i64| {
        let secs = ms.div_euclid(1000);
        format!("<!date^{secs}^{{date_short_pretty}} {{time}}|{secs}>")
    };
    let field = |title: &str, value: String| serde_json::json!({ "type": "mrkdwn", "text": format!("*{title}*\n{value}") });
    let mut context = format!(
        "window {} → {} · alert `{}`",
        date(n.event.window_start_ms),
        date(n.event.window_end_ms),
        n.alert.id
    );
    if let Some(note) = &n.event.note {
        context.push_str(&format!(" · {note}"));
    }
    serde_json::json!({
        "text": summary(n),
        "blocks": [
            { "type": "header", "text": { "type": "plain_text", "text": header } },
            { "type": "section", "fields": [
                field("Endpoint", s.key.endpoint.clone()),
                field("Signal", format!("`{}`", s.key.signal)),
                field("Value", format!("{} (rule: {})", short_number(n.event.value), s.condition)),
                field("Severity", s.severity.to_string()),
            ] },
            { "type": "context", "elements": [ { "type": "mrkdwn", "text": context } ] },
        ],
    })
}

fn failure(message: String, http_status: Option<u16>, retryable: bool) -> DeliveryError {
    DeliveryError {
        message,
        http_status,
        retryable,
    }
}

/// POSTs a JSON body and classifies the answer: 2xx is delivered; 408, 429 and 5xx, a refused
/// connection and a timeout are worth retrying; any other status is not.
pub async fn post_json(url: &str, body: Vec<u8>, timeout: Duration) -> Result<(), DeliveryError> {
    let uri: Uri = url
        .parse()
        .map_err(|e| failure(format!("invalid URL {url:?}: {e}"), None, false))?;
    if uri.scheme_str() != Some("http") {
        return Err(failure(
            format!("{url:?}: only http:// URLs are supported (https is not yet)"),
            None,
            false,
        ));
    }
    let Some(authority) = uri.authority().cloned() else {
        return Err(failure(format!("{url:?} has no host"), None, false));
    };
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = authority.port_u16().unwrap_or(80);
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    let attempt = async {
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| failure(format!("cannot connect to {authority}: {e}"), None, true))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| failure(format!("HTTP handshake with {authority}: {e}"), None, true))?;
        // The connection is driven beside the request and ends when `sender` is dropped.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let request = Request::post(path)
            .header(header::HOST, authority.as_str())
            .header(header::CONTENT_TYPE, "application/json")
            .header(
                header::USER_AGENT,
                concat!("aidlc/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| failure(format!("cannot build the request: {e}"), None, false))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| failure(format!("no answer from {authority}: {e}"), None, true))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = match Limited::new(response.into_body(), ERROR_BODY_LIMIT)
            .collect()
            .await
        {
            Ok(collected) => String::from_utf8_lossy(&collected.to_bytes())
                .trim()
                .to_string(),
            Err(_) => String::new(),
        };
        let retryable = status.is_server_error()
            || status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT;
        let mut message = format!("HTTP {status} from {authority}");
        if !text.is_empty() {
            let shown: String = text.chars().take(200).collect();
            message.push_str(&format!(": {shown}"));
        }
        Err(failure(message, Some(status.as_u16()), retryable))
    };
    tokio::time::timeout(timeout, attempt).await.map_err(|_| {
        failure(
            format!("no answer from {url} within {timeout:?}"),
            None,
            true,
        )
    })?
}

/// `GET /api/v1/alerts[?endpoint=E][&open=true][&limit=N]`.
pub(crate) async fn list(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<wire::AlertList>> {
    let mut filter = AlertFilter::default();
    for (key, value) in form_urlencoded::parse(q.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "endpoint" => filter.endpoint = Some(value.into_owned()),
            "open" => {
                filter.open_only = match value.as_ref() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    other => {
                        return Err(crate::ApiError::invalid(format!(
                            "`open` must be true or false, not {other:?}"
                        )));
                    }
                }
            }
            "limit" => {
                filter.limit = Some(value.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(
                    || {
                        crate::ApiError::invalid(format!(
                            "`limit` must be a whole number >= 0, not {value:?}"
                        ))
                    },
                )?)
            }
            other => {
                return Err(crate::ApiError::invalid(format!(
                    "unknown parameter `{other}`: expected endpoint, open or limit"
                )));
            }
        }
    }
    let alerts = s.store().list_alerts(&filter).await?;
    Ok(Json(wire::AlertList {
        alerts: alerts.iter().map(alert_view).collect(),
    }))
}
