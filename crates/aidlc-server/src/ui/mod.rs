//! The web dashboard under `/ui`: server-rendered HTML pages over the store traits and service
//! functions, with one small script (`assets/app.js`) that draws the charts as inline SVG and
//! sends the approve and roll-back decisions to the JSON API. Both assets are compiled into the
//! binary, so the dashboard works offline and needs no front-end build.
//!
//! Charts that need no interaction (the monitoring history) are drawn on the server as inline
//! SVG instead.
//!
//! Handlers stay thin: read through the store, hand the records to a page function that
//! returns HTML, escape everything that came from the store ([`html::esc`]).

mod audit;
mod datasets;
mod deployments;
mod home;
pub mod html;
mod models;
mod monitoring;
mod runs;

use crate::AppState;
use crate::error::ApiError;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");
const FAVICON: &str = include_str!("assets/favicon.svg");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui") }))
        .route("/ui", get(home::page))
        .route("/ui/", get(|| async { Redirect::to("/ui") }))
        .route("/ui/assets/app.js", get(app_js))
        .route("/ui/assets/app.css", get(app_css))
        .route("/ui/assets/favicon.svg", get(favicon))
        // Browsers ask for the icon at the root whatever the page says.
        .route("/favicon.ico", get(favicon))
        .route("/ui/datasets", get(datasets::list))
        .route("/ui/datasets/{name}", get(datasets::show))
        .route("/ui/runs", get(runs::list))
        .route("/ui/runs/{id}", get(runs::show))
        .route("/ui/compare", get(runs::compare))
        .route("/ui/models", get(models::list))
        .route("/ui/models/{name}", get(models::show))
        .route("/ui/models/{name}/versions/{version}", get(models::version))
        .route(
            "/ui/models/{name}/versions/{version}/card",
            get(models::card),
        )
        .route("/ui/evaluations", get(models::evaluations))
        .route("/ui/deployments", get(deployments::list))
        .route("/ui/deployments/{endpoint}", get(deployments::show))
        .route("/ui/monitoring", get(monitoring::page))
        .route("/ui/alerts", get(audit::alerts))
        .route("/ui/audit", get(audit::log))
}

async fn app_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        APP_JS,
    )
        .into_response()
}

async fn app_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        APP_CSS,
    )
        .into_response()
}

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

/// A failed page: the API's error, shown as a page with the same status the JSON API would
/// answer, so a person sees what went wrong instead of a JSON body.
pub struct UiError(ApiError);

impl<E: Into<ApiError>> From<E> for UiError {
    fn from(e: E) -> Self {
        UiError(e.into())
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (status, code) = self.0.classify();
        if status.is_server_error() {
            tracing::error!(error = %self.0, "dashboard page failed");
        }
        let body = format!(
            r#"<div class="error"><strong>{}</strong><p>{}</p></div>"#,
            html::esc(code),
            html::esc(&self.0.to_string())
        );
        (status, Html(html::page("", status_title(status), &body))).into_response()
    }
}

fn status_title(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Error")
}

pub type UiResult = Result<Html<String>, UiError>;

/// A 404 page for a named thing that does not exist.
pub fn not_found(what: String) -> UiError {
    UiError(ApiError::not_found(what))
}

/// Decoded query pairs, in order, repeated keys kept (`run=a&run=b`).
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value of `key`, if any and not blank.
pub fn query_one(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, v)| k == key && !v.trim().is_empty())
        .map(|(_, v)| v.clone())
}
