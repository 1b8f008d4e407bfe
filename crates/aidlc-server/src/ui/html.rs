//! The dashboard's HTML building blocks: escaping, the page shell with its navigation, times and
//! numbers as people read them, and the `data-chart` hooks the dashboard's script draws.
//!
//! Every value that comes from the store passes through [`esc`] (or [`Chart`], which escapes its
//! JSON) before it reaches the page, so a run name or a reason cannot inject markup.

use serde::Serialize;
use std::fmt::Write;

/// Escaping is the service's, so the dashboard and the pages the service renders agree.
pub use aidlc_service::html::esc;

/// Percent-encodes one path segment or query value.
pub fn url(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A UTC time as `YYYY-MM-DD HH:MM:SS` from milliseconds since the Unix epoch.
pub fn time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A duration in milliseconds as `1.2 s`, `3 min 4 s` or `2 h 5 min`.
pub fn duration(ms: i64) -> String {
    if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000)
    } else {
        format!("{} h {} min", ms / 3_600_000, ms % 3_600_000 / 60_000)
    }
}

/// A measured number with four significant decimals at most; NaN and infinities spelled out.
pub fn num(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "∞".into()
        } else {
            "−∞".into()
        };
    }
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    let s = if x.abs() >= 1000.0 {
        format!("{x:.1}")
    } else if x.abs() >= 0.001 {
        format!("{x:.4}")
    } else {
        format!("{x:.3e}")
    };
    if s.contains('.') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// An optional number, `–` when absent.
pub fn opt_num(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), num)
}

/// The first characters of a long id or hash, whole in the tooltip.
pub fn short(id: &str) -> String {
    let shown: String = id.trim_start_matches("blake3:").chars().take(12).collect();
    format!(r#"<code title="{}">{}</code>"#, esc(id), esc(&shown))
}

/// A coloured label: `ok` green, `bad` red, `warn` amber, anything else grey.
pub fn badge(kind: &str, text: &str) -> String {
    format!(r#"<span class="badge {}">{}</span>"#, esc(kind), esc(text))
}

/// The empty state of a section: what is missing and how to make it appear.
pub fn empty(what: &str, how: &str) -> String {
    format!(
        r#"<div class="empty"><strong>{}</strong><br>{}</div>"#,
        esc(what),
        how
    )
}

/// A chart the dashboard's script draws as inline SVG from its JSON description.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Chart {
    /// Equal-width bins: `counts[i]` between `edges[i]` and `edges[i + 1]`.
    Histogram {
        title: String,
        edges: Vec<f64>,
        counts: Vec<f64>,
    },
    /// One horizontal bar per label.
    Bars {
        title: String,
        labels: Vec<String>,
        values: Vec<f64>,
    },
    /// Lines of (x, y) points sharing axes.
    Lines {
        title: String,
        x_label: String,
        series: Vec<Series>,
    },
}

#[derive(Debug, Serialize)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

impl Chart {
    /// The placeholder element the script fills. serde_json writes NaN and infinities as
    /// `null`, which the script skips.
    pub fn render(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_else(|_| "{}".into());
        format!(r#"<div class="chart" data-chart="{}"></div>"#, esc(&json))
    }
}

/// The navigation entries: (path, label).
const NAV: &[(&str, &str)] = &[
    ("/ui", "Home"),
    ("/ui/datasets", "Datasets"),
    ("/ui/runs", "Runs"),
    ("/ui/models", "Models"),
    ("/ui/evaluations", "Evaluation"),
    ("/ui/deployments", "Deployments"),
    ("/ui/monitoring", "Monitoring"),
    ("/ui/alerts", "Alerts"),
    ("/ui/audit", "Audit"),
];

/// A whole page: the shell, the navigation with `section` marked, and `body`.
pub fn page(section: &str, title: &str, body: &str) -> String {
    let mut h = String::with_capacity(body.len() + 2048);
    let _ = write!(
        h,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{} · aidlc</title><link rel="icon" href="/ui/assets/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/ui/assets/app.css"><script src="/ui/assets/app.js"></script></head><body data-page="{}"><header><a class="brand" href="/ui">aidlc</a><nav>"#,
        esc(title),
        esc(section)
    );
    for (path, label) in NAV {
        let current = if *label == section {
            r#" aria-current="page""#
        } else {
            ""
        };
        let _ = write!(h, r#"<a href="{path}"{current}>{label}</a>"#);
    }
    let _ = write!(
        h,
        "</nav></header><main><h1>{}</h1>{body}</main></body></html>",
        esc(title)
    );
    h
}

/// A table from a header row and rows of already-escaped cells.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut h = String::from("<table><thead><tr>");
    for head in headers {
        let _ = write!(h, "<th>{}</th>", esc(head));
    }
    h.push_str("</tr></thead><tbody>");
    for row in rows {
        h.push_str("<tr>");
        for cell in row {
            let _ = write!(h, "<td>{cell}</td>");
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
    h
}

/// A decision button: the script asks for the reason in the form and posts it to `api` with
/// the form's other named fields (`fields`, already-built HTML; see `fields` in `app.js`).
pub fn action_form(action: &str, api: &str, label: &str, fields: &str) -> String {
    format!(
        r#"<form class="action" data-action="{a}" data-url="{u}">{fields}<label>Reason <input name="reason" required placeholder="why (goes to the audit log)"></label> <button type="submit" class="{a}">{l}</button><output></output></form>"#,
        a = esc(action),
        u = esc(api),
        l = esc(label)
    )
}

/// A link with escaped text.
pub fn link(href: &str, text: &str) -> String {
    format!(r#"<a href="{}">{}</a>"#, esc(href), esc(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>"a" & 'b'</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn times_are_utc_calendar_dates() {
        assert_eq!(time(0), "1970-01-01 00:00:00");
        assert_eq!(time(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(time(1_700_000_000_123), "2023-11-14 22:13:20");
    }

    #[test]
    fn numbers_drop_trailing_zeros() {
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(3.0), "3");
        assert_eq!(num(0.123456), "0.1235");
        assert_eq!(num(f64::NAN), "NaN");
    }

    #[test]
    fn chart_json_is_escaped_in_its_attribute() {
        let c = Chart::Bars {
            title: "<b>\"x\"</b>".into(),
            labels: vec!["a'b".into()],
            values: vec![1.0],
        };
        let html = c.render();
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("&quot;kind&quot;:&quot;bars&quot;"), "{html}");
    }
}
