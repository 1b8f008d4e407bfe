//! The dataset pages: names with their versions; a version's schema, profile charts
//! (histograms, top categories), validation results, the change from the previous version and
//! the splits made of it with their leakage reports.

use super::html::{Chart, badge, empty, esc, link, num, opt_num, page, short, table, time, url};
use super::{UiResult, not_found, query_one, query_pairs};
use crate::AppState;
use aidlc_core::records::DatasetVersion;
use aidlc_data::profile::{ColumnProfile, DatasetProfile};
use aidlc_data::validate::ValidationReport;
use aidlc_store::{DatasetStore, SplitStore};
use axum::extract::{Path, RawQuery, State};
use axum::response::Html;
use std::fmt::Write;

pub async fn list(State(s): State<AppState>) -> UiResult {
    let all = s.store().list_dataset_versions(None).await?;
    let mut names: Vec<(String, Vec<&DatasetVersion>)> = Vec::new();
    for dv in &all {
        match names.iter_mut().find(|(n, _)| *n == dv.data.name) {
            Some((_, vs)) => vs.push(dv),
            None => names.push((dv.data.name.clone(), vec![dv])),
        }
    }
    let body = if names.is_empty() {
        empty(
            "No dataset ingested yet.",
            "Run <code>aidlc data ingest FILE</code>: each distinct file becomes a numbered version.",
        )
    } else {
        let rows: Vec<Vec<String>> = names
            .iter()
            .map(|(name, vs)| {
                let latest = vs.iter().max_by_key(|v| v.version).expect("non-empty");
                vec![
                    link(&format!("/ui/datasets/{}", url(name)), name),
                    vs.len().to_string(),
                    latest.version.to_string(),
                    latest.data.rows.to_string(),
                    validity(latest),
                    esc(&time(latest.created_at_ms)),
                ]
            })
            .collect();
        table(
            &[
                "dataset",
                "versions",
                "latest",
                "rows",
                "validation",
                "ingested",
            ],
            &rows,
        )
    };
    Ok(Html(page("Datasets", "Datasets", &body)))
}

fn validity(dv: &DatasetVersion) -> String {
    if dv.data.validation.is_null() {
        badge("", "no expectations")
    } else if dv.data.valid {
        badge("ok", "valid")
    } else {
        badge("bad", "invalid")
    }
}

pub async fn show(
    State(s): State<AppState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> UiResult {
    let versions = s.store().list_dataset_versions(Some(&name)).await?;
    if versions.is_empty() {
        return Err(not_found(format!("dataset `{name}` not found")));
    }
    let pairs = query_pairs(q.as_deref());
    let wanted = query_one(&pairs, "version").and_then(|v| v.parse::<i64>().ok());
    let current = match wanted {
        Some(n) => versions
            .iter()
            .find(|v| v.version == n)
            .ok_or_else(|| not_found(format!("dataset version {name}@{n} not found")))?,
        None => versions
            .iter()
            .max_by_key(|v| v.version)
            .expect("non-empty"),
    };
    let previous = versions
        .iter()
        .filter(|v| v.version < current.version)
        .max_by_key(|v| v.version);

    let mut body = String::new();
    body.push_str("<h2>Versions</h2>");
    let rows: Vec<Vec<String>> = versions
        .iter()
        .rev()
        .map(|v| {
            let label = format!("v{}", v.version);
            vec![
                if v.version == current.version {
                    format!("<strong>{label}</strong>")
                } else {
                    link(
                        &format!("/ui/datasets/{}?version={}", url(&name), v.version),
                        &label,
                    )
                },
                v.data.rows.to_string(),
                validity(v),
                short(&v.data.hash.0),
                esc(&v.data.source),
                esc(&time(v.created_at_ms)),
                esc(&v.created_by),
            ]
        })
        .collect();
    body.push_str(&table(
        &[
            "version",
            "rows",
            "validation",
            "hash",
            "source",
            "ingested",
            "by",
        ],
        &rows,
    ));

    let _ = write!(body, "<h2>Version {} </h2>", current.version);
    let profile: Option<DatasetProfile> = serde_json::from_value(current.data.profile.clone()).ok();
    match &profile {
        None => body.push_str(&empty(
            "This version has no readable profile.",
            "Ingest it again with the current <code>aidlc</code>.",
        )),
        Some(p) => profile_section(&mut body, p, previous),
    }

    body.push_str("<h2>Validation</h2>");
    match serde_json::from_value::<ValidationReport>(current.data.validation.clone()) {
        Ok(report) => {
            let rows: Vec<Vec<String>> = report
                .rules
                .iter()
                .map(|r| {
                    vec![
                        if r.passed {
                            badge("ok", "pass")
                        } else {
                            badge("bad", "fail")
                        },
                        esc(&r.rule),
                        esc(r.column.as_deref().unwrap_or("")),
                        r.failing.to_string(),
                        esc(&r.detail),
                        esc(&r
                            .examples
                            .iter()
                            .map(|e| {
                                format!(
                                    "{}: {}",
                                    e.position,
                                    e.value.as_deref().unwrap_or("(missing)")
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("; ")),
                    ]
                })
                .collect();
            body.push_str(&table(
                &["result", "rule", "column", "failing", "detail", "examples"],
                &rows,
            ));
        }
        Err(_) => body.push_str(&empty(
            "No expectations were checked for this version.",
            "Add <code>[data.expectations]</code> to <code>aidlc.toml</code>.",
        )),
    }

    body.push_str(r#"<h2 id="splits">Splits and leakage</h2>"#);
    let splits: Vec<_> = s
        .store()
        .list_splits(None)
        .await?
        .into_iter()
        .filter(|sp| {
            sp.split.dataset_version.as_ref() == Some(&current.id)
                || sp.split.source_hash == current.data.hash
        })
        .collect();
    if splits.is_empty() {
        body.push_str(&empty(
            "No split made of this version.",
            "<code>aidlc split</code> and <code>aidlc train</code> record theirs.",
        ));
    }
    for sp in &splits {
        let _ = write!(
            body,
            r#"<h3>{} split {}</h3><p>{} train / {} valid / {} test rows, {} excluded · {}</p><details><summary>leakage report</summary><pre>{}</pre></details>"#,
            esc(&sp.split.kind),
            short(&sp.split.manifest.0),
            sp.split.train_rows,
            sp.split.valid_rows,
            sp.split.test_rows,
            sp.split.excluded_rows,
            esc(&time(sp.created_at_ms)),
            esc(&serde_json::to_string_pretty(&sp.split.report).unwrap_or_default())
        );
    }
    Ok(Html(page("Datasets", &format!("Dataset {name}"), &body)))
}

fn profile_section(body: &mut String, p: &DatasetProfile, previous: Option<&DatasetVersion>) {
    let prev: Option<DatasetProfile> =
        previous.and_then(|v| serde_json::from_value(v.data.profile.clone()).ok());
    let find_prev = |c: &ColumnProfile| {
        prev.as_ref()
            .and_then(|pp| pp.columns.iter().find(|pc| pc.name == c.name))
    };
    let _ = write!(
        body,
        "<p>{} rows; quantiles and histograms over a sample of {} rows.</p>",
        p.rows, p.sample_rows
    );
    let rows: Vec<Vec<String>> = p
        .columns
        .iter()
        .map(|c| {
            let change = match (find_prev(c), c.mean) {
                (Some(pc), Some(m)) => match pc.mean {
                    Some(pm) => format!("mean {} → {}", num(pm), num(m)),
                    None => String::new(),
                },
                (None, _) if prev.is_some() => "new column".to_string(),
                _ => String::new(),
            };
            vec![
                esc(&c.name),
                esc(&format!("{:?}", c.value_type).to_lowercase()),
                c.missing.to_string(),
                c.distinct.to_string(),
                opt_num(c.min),
                opt_num(c.mean),
                opt_num(c.max),
                opt_num(c.std),
                esc(&change),
            ]
        })
        .collect();
    body.push_str(&table(
        &[
            "column",
            "type",
            "missing",
            "distinct",
            "min",
            "mean",
            "max",
            "std",
            previous.map_or("change", |_| "change from previous version"),
        ],
        &rows,
    ));
    body.push_str(r#"<div class="charts">"#);
    for c in &p.columns {
        if let Some(hist) = &c.histogram {
            body.push_str(
                &Chart::Histogram {
                    title: c.name.clone(),
                    edges: hist.edges.clone(),
                    counts: hist.counts.iter().map(|&n| n as f64).collect(),
                }
                .render(),
            );
        } else if !c.top_categories.is_empty() {
            body.push_str(
                &Chart::Bars {
                    title: c.name.clone(),
                    labels: c.top_categories.iter().map(|t| t.value.clone()).collect(),
                    values: c.top_categories.iter().map(|t| t.count as f64).collect(),
                }
                .render(),
            );
        }
    }
    body.push_str("</div>");
}
