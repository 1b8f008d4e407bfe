//! The run pages: a table of tracked runs filtered with MLflow's search grammar, sorted and
//! paged by the store (so it stays one indexed query per page however many runs there are); a
//! run's params, metric history charts, tags and lineage; and two or more runs side by side.

use super::html::{Chart, Series, badge, empty, esc, link, num, page, short, table, time, url};
use super::{UiError, UiResult, not_found, query_one, query_pairs};
use crate::AppState;
use crate::mlflow::search::{run_clauses, run_order};
use aidlc_core::records::RunStatus;
use aidlc_store::{
    Experiment, ExperimentSearch, Metric, RegistryStore, RegistryVersionSearch, RunSearch, Store,
    TrackedRun, TrackingStore, ViewType,
};
use axum::extract::{Path, RawQuery, State};
use axum::response::Html;
use std::collections::BTreeSet;
use std::fmt::Write;

const DEFAULT_PAGE_SIZE: i64 = 50;
const MAX_PAGE_SIZE: i64 = 500;
/// Param and metric columns shown in the table; the run page has them all.
const MAX_COLUMNS: usize = 8;
/// Characters of a param value shown in the table.
const PARAM_CHARS: usize = 24;
/// Points of one metric's history drawn in a chart.
const MAX_HISTORY: i64 = 25_000;

async fn experiments(store: &Store) -> Result<Vec<Experiment>, UiError> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let page = store
            .search_experiments(&ExperimentSearch {
                view: ViewType::ActiveOnly,
                name: None,
                max_results: 1000,
                offset,
            })
            .await?;
        out.extend(page.items);
        match page.next_offset {
            Some(o) => offset = o,
            None => return Ok(out),
        }
    }
}

/// Quotes a key for the search grammar when it is not a plain identifier.
fn ident(prefix: &str, key: &str) -> String {
    if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!("{prefix}.{key}")
    } else {
        format!("{prefix}.`{key}`")
    }
}

/// `/ui/runs?filter=…&order=…&experiment=ID&page=OFFSET&size=N`.
pub async fn list(State(s): State<AppState>, RawQuery(q): RawQuery) -> UiResult {
    let pairs = query_pairs(q.as_deref());
    let filter = query_one(&pairs, "filter").unwrap_or_default();
    let order = query_one(&pairs, "order");
    let experiment = query_one(&pairs, "experiment").and_then(|e| e.parse::<i64>().ok());
    let offset = query_one(&pairs, "page")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(0)
        .max(0);
    let size = query_one(&pairs, "size")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE);

    let exps = experiments(s.store()).await?;
    let mut body = String::new();
    let _ = write!(
        body,
        r#"<form method="get" class="filter" id="run-filter"><label>Filter <input name="filter" size="60" value="{}" placeholder="metrics.valid_loss &lt; 0.5 and params.trainer = 'gbdt'"></label> <label>Experiment <select name="experiment"><option value="">all</option>"#,
        esc(&filter)
    );
    for e in &exps {
        let _ = write!(
            body,
            r#"<option value="{}"{}>{}</option>"#,
            e.id,
            if experiment == Some(e.id) {
                " selected"
            } else {
                ""
            },
            esc(&e.name)
        );
    }
    let _ = write!(
        body,
        r#"</select></label>{}<button type="submit">Search</button> <a href="/ui/runs">clear</a></form>"#,
        order.as_deref().map_or_else(String::new, |o| format!(
            r#"<input type="hidden" name="order" value="{}">"#,
            esc(o)
        ))
    );

    let clauses = match run_clauses(&filter) {
        Ok(c) => c,
        Err(e) => {
            let _ = write!(
                body,
                r#"<p class="error" id="filter-error">Invalid filter: {}</p>"#,
                esc(&e)
            );
            return Ok(Html(page("Runs", "Runs", &body)));
        }
    };
    let orders = match run_order(order.as_slice()) {
        Ok(o) => o,
        Err(e) => {
            let _ = write!(
                body,
                r#"<p class="error" id="filter-error">Invalid order: {}</p>"#,
                esc(&e)
            );
            return Ok(Html(page("Runs", "Runs", &body)));
        }
    };
    let search = RunSearch {
        experiment_ids: match experiment {
            Some(e) => vec![e],
            None => exps.iter().map(|e| e.id).collect(),
        },
        clauses,
        order: orders,
        view: ViewType::ActiveOnly,
        max_results: size,
        offset,
    };
    let found = s.store().search_tracked_runs(&search).await?;
    let runs = &found.items;
    if runs.is_empty() {
        body.push_str(&empty(
            if filter.is_empty() {
                "No run tracked yet."
            } else {
                "No run matches the filter."
            },
            "Runs come from <code>aidlc train</code> and from any MLflow client pointed at this server.",
        ));
        return Ok(Html(page("Runs", "Runs", &body)));
    }

    // The most common param and metric keys on this page become columns.
    let columns = |keys: Vec<&str>| -> Vec<String> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for k in keys {
            match counts.iter_mut().find(|(c, _)| c == k) {
                Some((_, n)) => *n += 1,
                None => counts.push((k.to_string(), 1)),
            }
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        counts
            .into_iter()
            .take(MAX_COLUMNS)
            .map(|(k, _)| k)
            .collect()
    };
    let param_keys = columns(
        runs.iter()
            .flat_map(|r| r.params.iter().map(|p| p.key.as_str()))
            .collect(),
    );
    let metric_keys = columns(
        runs.iter()
            .flat_map(|r| r.metrics.iter().map(|m| m.key.as_str()))
            .collect(),
    );

    // Sort links: a header toggles its field between ascending and descending.
    let base = |order: &str, page: i64| {
        let mut qs = form_urlencoded::Serializer::new(String::new());
        if !filter.is_empty() {
            qs.append_pair("filter", &filter);
        }
        if let Some(e) = experiment {
            qs.append_pair("experiment", &e.to_string());
        }
        if !order.is_empty() {
            qs.append_pair("order", order);
        }
        if page > 0 {
            qs.append_pair("page", &page.to_string());
        }
        if size != DEFAULT_PAGE_SIZE {
            qs.append_pair("size", &size.to_string());
        }
        format!("/ui/runs?{}", qs.finish())
    };
    let current_order = order.clone().unwrap_or_default();
    let sort_header = |label: &str, field: &str| {
        let (next, arrow) = if current_order == format!("{field} DESC") {
            (format!("{field} ASC"), " ▼")
        } else if current_order == format!("{field} ASC") || current_order == field {
            (format!("{field} DESC"), " ▲")
        } else {
            (format!("{field} DESC"), "")
        };
        format!(
            r#"<a class="sort" href="{}">{}{arrow}</a>"#,
            esc(&base(&next, 0)),
            esc(label)
        )
    };

    let mut h = String::from(
        r#"<form method="get" action="/ui/compare" id="compare-form"><table id="runs"><thead><tr><th></th>"#,
    );
    for (label, field) in [
        ("run", "attributes.run_name"),
        ("status", "attributes.status"),
        ("started", "attributes.start_time"),
    ] {
        let _ = write!(h, "<th>{}</th>", sort_header(label, field));
    }
    h.push_str("<th>duration</th><th>experiment</th>");
    for k in &metric_keys {
        let _ = write!(
            h,
            r#"<th class="metric">{}</th>"#,
            sort_header(k, &ident("metrics", k))
        );
    }
    for k in &param_keys {
        let _ = write!(
            h,
            r#"<th class="param">{}</th>"#,
            sort_header(k, &ident("params", k))
        );
    }
    h.push_str("</tr></thead><tbody>");
    for r in runs {
        let exp = exps
            .iter()
            .find(|e| e.id == r.experiment_id)
            .map_or_else(|| r.experiment_id.to_string(), |e| e.name.clone());
        let _ = write!(
            h,
            r#"<tr data-run="{id}"><td><input type="checkbox" name="run" value="{id}" aria-label="compare"></td><td><a href="/ui/runs/{uid}">{name}</a></td><td>{status}</td><td>{start}</td><td>{dur}</td><td>{exp}</td>"#,
            id = esc(&r.id),
            uid = url(&r.id),
            name = esc(if r.name.is_empty() { &r.id } else { &r.name }),
            status = status_badge(r.status),
            start = esc(&time(r.start_time)),
            dur = r
                .end_time
                .map_or_else(String::new, |e| super::html::duration(e - r.start_time)),
            exp = esc(&exp)
        );
        for k in &metric_keys {
            let v = r.metrics.iter().find(|m| &m.key == k).map(|m| num(m.value));
            let _ = write!(h, r#"<td class="num">{}</td>"#, v.unwrap_or_default());
        }
        // Long values (feature lists) are cut in the table; the run page has them whole.
        for k in &param_keys {
            let v = r
                .params
                .iter()
                .find(|p| &p.key == k)
                .map_or("", |p| p.value.as_str());
            let shown: String = v.chars().take(PARAM_CHARS).collect();
            let _ = write!(
                h,
                r#"<td title="{}">{}{}</td>"#,
                esc(v),
                esc(&shown),
                if shown.len() < v.len() { "…" } else { "" }
            );
        }
        h.push_str("</tr>");
    }
    h.push_str(
        r#"</tbody></table><button type="submit" id="compare">Compare selected runs</button></form>"#,
    );
    let _ = write!(
        body,
        r#"<p class="muted" id="run-count" data-count="{}">Runs {}–{}{}.</p>"#,
        runs.len(),
        offset + 1,
        offset + runs.len() as i64,
        if found.next_offset.is_some() {
            ", more on the next page"
        } else {
            ""
        }
    );
    body.push_str(&h);
    body.push_str(r#"<nav class="pages">"#);
    if offset > 0 {
        let _ = write!(
            body,
            r#"<a id="prev-page" href="{}">← previous</a> "#,
            esc(&base(&current_order, (offset - size).max(0)))
        );
    }
    if let Some(next) = found.next_offset {
        let _ = write!(
            body,
            r#"<a id="next-page" href="{}">next →</a>"#,
            esc(&base(&current_order, next))
        );
    }
    body.push_str("</nav>");
    Ok(Html(page("Runs", "Runs", &body)))
}

fn status_badge(status: RunStatus) -> String {
    let kind = match status {
        RunStatus::Finished => "ok",
        RunStatus::Failed | RunStatus::Killed => "bad",
        RunStatus::Running | RunStatus::Scheduled => "warn",
    };
    badge(kind, status.as_str())
}

/// Every point of a run's metric, oldest step first.
async fn history(store: &Store, run: &str, key: &str) -> Result<Vec<Metric>, UiError> {
    let page = store.metric_history(run, key, MAX_HISTORY, 0).await?;
    let mut points = page.items;
    points.sort_by_key(|m| (m.step, m.timestamp));
    Ok(points)
}

async fn run_or_404(store: &Store, id: &str) -> Result<TrackedRun, UiError> {
    store
        .get_tracked_run(id)
        .await?
        .ok_or_else(|| not_found(format!("run `{id}` not found")))
}

pub async fn show(State(s): State<AppState>, Path(id): Path<String>) -> UiResult {
    let store = s.store();
    let r = run_or_404(store, &id).await?;
    let exp = store.get_experiment(r.experiment_id).await?;
    let mut body = String::new();
    let _ = write!(
        body,
        "<p>{} · experiment {} · started {} by {}{} · artifacts <code>{}</code></p>",
        status_badge(r.status),
        esc(&exp.map_or_else(|| r.experiment_id.to_string(), |e| e.name)),
        esc(&time(r.start_time)),
        esc(&r.user_id),
        r.end_time.map_or_else(String::new, |e| format!(
            ", ran {}",
            super::html::duration(e - r.start_time)
        )),
        esc(&r.artifact_uri)
    );

    // Lineage: what the run trained on and what it produced.
    let tag = |k: &str| r.tags.iter().find(|t| t.key == k).map(|t| t.value.clone());
    let versions = store
        .search_registry_versions(&RegistryVersionSearch {
            model: None,
            run_id: Some(r.id.clone()),
            max_results: 100,
            offset: 0,
        })
        .await?
        .items;
    body.push_str("<h2>Lineage</h2><ul class=\"lineage-list\">");
    match tag("aidlc.dataset_ref").and_then(|d| {
        d.rsplit_once('@')
            .map(|(n, v)| (n.to_string(), v.to_string()))
    }) {
        Some((name, version)) => {
            let _ = write!(
                body,
                "<li>dataset {}</li>",
                link(
                    &format!("/ui/datasets/{}?version={}", url(&name), url(&version)),
                    &format!("{name}@{version}")
                )
            );
        }
        None => body.push_str("<li>dataset: not recorded</li>"),
    }
    let _ = write!(
        body,
        "<li>split {}</li><li>commit {}</li>",
        tag("aidlc.split").map_or_else(|| "not recorded".into(), |h| short(&h)),
        tag("mlflow.source.git.commit")
            .or_else(|| tag("aidlc.git_commit"))
            .map_or_else(|| "not recorded".into(), |c| short(&c))
    );
    for v in &versions {
        let _ = write!(
            body,
            "<li>registered as {}</li>",
            link(
                &format!("/ui/models/{}/versions/{}", url(&v.model), v.version),
                &format!("{} v{}", v.model, v.version)
            )
        );
    }
    body.push_str("</ul>");

    body.push_str("<h2>Metrics</h2>");
    if r.metrics.is_empty() {
        body.push_str(&empty("No metric logged.", ""));
    } else {
        let rows: Vec<Vec<String>> = r
            .metrics
            .iter()
            .map(|m| vec![esc(&m.key), num(m.value), m.step.to_string()])
            .collect();
        body.push_str(&table(&["metric", "latest value", "step"], &rows));
        body.push_str(r#"<div class="charts">"#);
        for m in &r.metrics {
            let points = history(store, &r.id, &m.key).await?;
            body.push_str(
                &Chart::Lines {
                    title: m.key.clone(),
                    x_label: "step".into(),
                    series: vec![Series {
                        name: m.key.clone(),
                        points: points.iter().map(|p| (p.step as f64, p.value)).collect(),
                    }],
                }
                .render(),
            );
        }
        body.push_str("</div>");
    }

    body.push_str("<h2>Params</h2>");
    let rows: Vec<Vec<String>> = r
        .params
        .iter()
        .map(|p| vec![esc(&p.key), esc(&p.value)])
        .collect();
    body.push_str(&table(&["param", "value"], &rows));
    body.push_str("<h2>Tags</h2>");
    let rows: Vec<Vec<String>> = r
        .tags
        .iter()
        .map(|t| vec![esc(&t.key), esc(&t.value)])
        .collect();
    body.push_str(&table(&["tag", "value"], &rows));
    if !r.outputs.is_empty() {
        body.push_str("<h2>Logged models</h2>");
        let rows: Vec<Vec<String>> = r
            .outputs
            .iter()
            .map(|o| vec![short(&o.model_id), o.step.to_string()])
            .collect();
        body.push_str(&table(&["model id", "step"], &rows));
    }
    let title = if r.name.is_empty() { &r.id } else { &r.name };
    Ok(Html(page("Runs", &format!("Run {title}"), &body)))
}

/// `/ui/compare?run=A&run=B…`: params side by side (differences marked), the latest metrics,
/// and each shared metric's history overlaid.
pub async fn compare(State(s): State<AppState>, RawQuery(q): RawQuery) -> UiResult {
    let pairs = query_pairs(q.as_deref());
    let ids: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k == "run" && !v.is_empty())
        .map(|(_, v)| v.clone())
        .collect();
    if ids.len() < 2 {
        let body = empty(
            "Pick two or more runs to compare.",
            r#"Tick them in the <a href="/ui/runs">runs table</a> and press “Compare selected runs”."#,
        );
        return Ok(Html(page("Runs", "Compare runs", &body)));
    }
    let mut runs = Vec::new();
    for id in &ids {
        runs.push(run_or_404(s.store(), id).await?);
    }
    let name = |r: &TrackedRun| {
        if r.name.is_empty() {
            r.id.clone()
        } else {
            r.name.clone()
        }
    };
    let mut headers: Vec<String> = vec!["".into()];
    headers.extend(runs.iter().map(name));
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();

    let mut body = String::new();
    body.push_str("<h2>Params</h2>");
    let keys: BTreeSet<&str> = runs
        .iter()
        .flat_map(|r| r.params.iter().map(|p| p.key.as_str()))
        .collect();
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            let values: Vec<Option<&str>> = runs
                .iter()
                .map(|r| {
                    r.params
                        .iter()
                        .find(|p| p.key == *k)
                        .map(|p| p.value.as_str())
                })
                .collect();
            let differs = values.windows(2).any(|w| w[0] != w[1]);
            let mut row = vec![if differs {
                format!(r#"<strong class="differs">{}</strong>"#, esc(k))
            } else {
                esc(k)
            }];
            row.extend(values.iter().map(|v| esc(v.unwrap_or("–"))));
            row
        })
        .collect();
    body.push_str(&table(&header_refs, &rows));

    body.push_str("<h2>Metrics</h2>");
    let keys: BTreeSet<&str> = runs
        .iter()
        .flat_map(|r| r.metrics.iter().map(|m| m.key.as_str()))
        .collect();
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            let mut row = vec![esc(k)];
            row.extend(runs.iter().map(|r| {
                r.metrics
                    .iter()
                    .find(|m| m.key == *k)
                    .map_or_else(|| "–".into(), |m| num(m.value))
            }));
            row
        })
        .collect();
    body.push_str(&table(&header_refs, &rows));
    body.push_str(r#"<div class="charts">"#);
    for k in &keys {
        let mut series = Vec::new();
        for r in runs
            .iter()
            .filter(|r| r.metrics.iter().any(|m| m.key == *k))
        {
            let points = history(s.store(), &r.id, k).await?;
            series.push(Series {
                name: name(r),
                points: points.iter().map(|p| (p.step as f64, p.value)).collect(),
            });
        }
        body.push_str(
            &Chart::Lines {
                title: (*k).to_string(),
                x_label: "step".into(),
                series,
            }
            .render(),
        );
    }
    body.push_str("</div>");
    Ok(Html(page("Runs", "Compare runs", &body)))
}
