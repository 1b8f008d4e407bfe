//! A [`MonitorHistory`] drawn as inline SVG on the server: a per-feature drift heatmap
//! (features × windows), prediction drift, multivariate drift and realized-versus-estimated
//! performance over time, each with the alerts marked where they were raised and resolved.
//!
//! [`render_monitoring_fragment`] is the charts alone, for embedding (the model card, the
//! dashboard); [`render_monitoring_report`] is a whole self-contained page (inline CSS and SVG,
//! no script, no external resource) with the alert and latest-window tables. The output is a
//! function of the history only — no clock, no randomness — and every text from the store is
//! escaped. The charts are styled with SVG attributes, not classes, so they look the same in
//! whatever page embeds them.

use super::{AlertInfo, AlertMarker, DriftCell, MarkerKind, MonitorHistory, Window};
use aidlc_core::spec::AlertSeverity;
use aidlc_store::MonitorPoint;
use serde_json::Value;
use std::fmt::Write;

use crate::html::esc;
use crate::html::table;

/// Every chart's width and the left edge of its plot area: the same for all charts, so their
/// time axes line up when they are stacked.
const WIDTH: f64 = 860.0;
const LEFT: f64 = 150.0;
const RIGHT: f64 = 24.0;
const PLOT_W: f64 = WIDTH - LEFT - RIGHT;
const DAY_MS: i64 = 86_400_000;
/// `drift.share` above this is dataset drift (the statistics crate's default share).
const DATASET_DRIFT_SHARE: f64 = 0.5;
const FONT: &str = "font-family=\"system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif\"";

/// A measured number as people read it: at most four decimals, none for whole numbers, a
/// dash when there is no finite value.
fn num(x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    let a = x.abs();
    let s = if a < 0.001 {
        return format!("{x:.2e}");
    } else if a < 100.0 {
        format!("{x:.4}")
    } else {
        format!("{x:.1}")
    };
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn opt_num(x: Option<f64>) -> String {
    x.map_or_else(|| "—".into(), num)
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
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `YYYY-MM-DD` (UTC).
pub fn date(ms: i64) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD HH:MM` (UTC).
pub fn date_time(ms: i64) -> String {
    let rem = ms.rem_euclid(DAY_MS) / 60_000;
    format!("{} {:02}:{:02}", date(ms), rem / 60, rem % 60)
}

/// How a history's times are written: with the time of day when windows are shorter than a
/// day or do not start at midnight.
fn stamp(h: &MonitorHistory, ms: i64) -> String {
    let fine = h
        .windows
        .iter()
        .any(|w| w.end_ms - w.start_ms < DAY_MS || w.start_ms.rem_euclid(DAY_MS) != 0);
    if fine { date_time(ms) } else { date(ms) }
}

fn window_text(h: &MonitorHistory, w: &Window) -> String {
    format!("{} → {}", stamp(h, w.start_ms), stamp(h, w.end_ms))
}

fn severity_color(s: AlertSeverity) -> &'static str {
    match s {
        AlertSeverity::Info => "#2563eb",
        AlertSeverity::Warning => "#d97706",
        AlertSeverity::Critical => "#b3261e",
    }
}

/// The heatmap's colour for a drift intensity (1 = the threshold), in buckets so the legend
/// can name each colour; grey when the window has no test.
const HEAT: [(f64, &str, &str); 6] = [
    (0.5, "#eef6e8", "< 0.5"),
    (0.8, "#d3e8bd", "0.5–0.8"),
    (1.0, "#f8e39a", "0.8–1"),
    (1.5, "#f3a95f", "1–1.5"),
    (2.5, "#dc6237", "1.5–2.5"),
    (f64::INFINITY, "#a11d17", "≥ 2.5"),
];
const NO_TEST: &str = "#e3e3e3";

fn heat(intensity: Option<f64>) -> &'static str {
    match intensity {
        None => NO_TEST,
        Some(r) => HEAT
            .iter()
            .find(|(upper, _, _)| r < *upper)
            .map_or(HEAT[HEAT.len() - 1].1, |b| b.1),
    }
}

/// The time axis shared by every chart of a history.
struct Axis {
    t0: i64,
    t1: i64,
}

impl Axis {
    fn of(h: &MonitorHistory) -> Option<Axis> {
        let (t0, t1) = h.span()?;
        Some(Axis {
            t0,
            t1: t1.max(t0 + 1),
        })
    }

    fn x(&self, t: i64) -> f64 {
        LEFT + (t - self.t0) as f64 / (self.t1 - self.t0) as f64 * PLOT_W
    }

    fn mid(&self, w: &Window) -> f64 {
        (self.x(w.start_ms) + self.x(w.end_ms)) / 2.0
    }
}

/// The window starts labelled on the time axis: about six, evenly spaced in windows.
fn tick_windows(h: &MonitorHistory) -> Vec<usize> {
    let n = h.windows.len();
    let step = n.div_ceil(6).max(1);
    (0..n).step_by(step).collect()
}

fn svg_open(s: &mut String, height: f64, label: &str, class: &str, extra: &str) {
    let _ = write!(
        s,
        r#"<svg class="{class}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="{}" {FONT} style="max-width:100%;height:auto;display:block;margin:8px 0"{extra}>"#,
        esc(label)
    );
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#fff"/><text x="{LEFT}" y="18" font-size="14" font-weight="600" fill="#222">{}</text>"##,
        esc(label)
    );
}

/// Date ticks under a plot whose bottom edge is at `bottom`, with grid lines up to `top`.
fn time_axis(s: &mut String, h: &MonitorHistory, axis: &Axis, top: f64, bottom: f64, grid: bool) {
    for i in tick_windows(h) {
        let w = &h.windows[i];
        let x = axis.x(w.start_ms);
        if grid {
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#eee"/>"##
            );
        }
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{bottom:.1}" x2="{x:.1}" y2="{:.1}" stroke="#888"/><text x="{x:.1}" y="{:.1}" font-size="10" fill="#444" text-anchor="middle">{}</text>"##,
            bottom + 4.0,
            bottom + 15.0,
            esc(&stamp(h, w.start_ms))
        );
    }
    let _ = write!(
        s,
        r##"<text x="{:.1}" y="{:.1}" font-size="10" fill="#666" text-anchor="middle">window start (UTC)</text>"##,
        LEFT + PLOT_W / 2.0,
        bottom + 29.0
    );
}

/// The version that serves from each window on where it changes (a grey dashed line with
/// `v<N>`), and the alert markers: a triangle above the plot and a line across it at the
/// window end where the alert was raised (filled, solid) or resolved (hollow, dashed),
/// coloured by severity.
fn overlay(s: &mut String, h: &MonitorHistory, axis: &Axis, top: f64, bottom: f64, label_y: f64) {
    let mut last: Option<(Option<&str>, i64)> = None;
    for w in &h.windows {
        let Some(v) = w.version else { continue };
        let now = (w.model.as_deref(), v);
        if last.is_some_and(|l| l != now) || last.is_none() {
            let x = axis.x(w.start_ms);
            if last.is_some() {
                let _ = write!(
                    s,
                    r##"<line class="mh-version" x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#777" stroke-dasharray="5 3"/>"##
                );
            }
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{:.1}" font-size="10" fill="#555">v{v}</text>"##,
                x + 3.0,
                label_y
            );
            last = Some(now);
        }
    }
    for m in h.markers() {
        marker(s, h, axis, &m, top, bottom);
    }
}

fn marker(s: &mut String, h: &MonitorHistory, axis: &Axis, m: &AlertMarker, top: f64, bottom: f64) {
    let x = axis.x(m.at_ms);
    let color = severity_color(m.severity);
    let (fill, dash) = match m.kind {
        MarkerKind::Raised => (color, ""),
        MarkerKind::Resolved => ("#fff", r#" stroke-dasharray="3 3""#),
    };
    let _ = write!(
        s,
        r#"<g class="mh-alert" data-kind="{kind}" data-severity="{sev}"><title>{title}</title><line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="{color}" stroke-width="1.5" opacity="0.8"{dash}/><path d="M{:.1} {:.1}L{:.1} {:.1}L{x:.1} {:.1}Z" fill="{fill}" stroke="{color}" stroke-width="1.5"/></g>"#,
        x - 5.0,
        top - 10.0,
        x + 5.0,
        top - 10.0,
        top - 1.0,
        kind = m.kind.as_str(),
        sev = m.severity.as_str(),
        title = esc(&format!(
            "alert {} {} at {}: {} on {} ({})",
            m.rule,
            m.kind.as_str(),
            stamp(h, m.at_ms),
            m.signal,
            h.endpoint,
            m.severity.as_str()
        )),
    );
}

fn drift_title(what: &str, window: &str, c: &DriftCell) -> String {
    let score = match (c.method.as_deref(), c.p_value.is_some()) {
        (Some(m), true) => format!("{m} p-value {}", num(c.value)),
        (Some(m), false) => format!("{m} distance {}", num(c.value)),
        (None, _) => format!("score {}", num(c.value)),
    };
    format!(
        "{what} · {window} · {score} (threshold {}) · {}",
        opt_num(c.threshold),
        if c.drifted { "drifted" } else { "no drift" }
    )
}

/// Features × windows, coloured by each test's score against its threshold, with a dot where
/// the test found drift; the share of drifting features as a last row.
fn heatmap(h: &MonitorHistory, axis: &Axis) -> Option<String> {
    let has_share = h.drift_share.iter().any(Option::is_some);
    if h.features.is_empty() && !has_share {
        return None;
    }
    let (top, row_h, cell_h) = (36.0, 18.0, 16.0);
    let rows = h.features.len() as f64 + if has_share { 1.0 } else { 0.0 };
    let share_gap = if has_share && !h.features.is_empty() {
        6.0
    } else {
        0.0
    };
    let bottom = top + rows * row_h + share_gap;
    let height = bottom + 72.0;
    let mut s = String::new();
    svg_open(
        &mut s,
        height,
        "Data drift per feature",
        "mh-heatmap",
        &format!(
            r#" data-features="{}" data-windows="{}""#,
            h.features.len(),
            h.windows.len()
        ),
    );
    let cell = |s: &mut String, class: &str, feature: &str, w: &Window, y: f64, fill: &str| {
        let x0 = axis.x(w.start_ms);
        let width = (axis.x(w.end_ms) - x0 - 1.0).max(1.0);
        let _ = write!(
            s,
            r#"<rect class="{class}" data-feature="{}" data-window="{}" x="{x0:.1}" y="{y:.1}" width="{width:.1}" height="{cell_h}" fill="{fill}">"#,
            esc(feature),
            w.start_ms
        );
        width
    };
    let dot = |s: &mut String, w: &Window, y: f64, width: f64| {
        let _ = write!(
            s,
            r##"<circle cx="{:.1}" cy="{:.1}" r="{:.1}" fill="#2b0606" pointer-events="none"/>"##,
            axis.mid(w),
            y + cell_h / 2.0,
            (width / 3.0).clamp(0.8, 2.6)
        );
    };
    for (r, f) in h.features.iter().enumerate() {
        let y = top + r as f64 * row_h;
        let shown: String = if f.feature.chars().count() > 22 {
            f.feature.chars().take(21).collect::<String>() + "…"
        } else {
            f.feature.clone()
        };
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#222" text-anchor="end"><title>{}</title>{}</text>"##,
            LEFT - 6.0,
            y + 12.0,
            esc(&f.feature),
            esc(&shown)
        );
        for (w, c) in h.windows.iter().zip(&f.cells) {
            let fill = heat(c.as_ref().and_then(DriftCell::intensity));
            let width = cell(&mut s, "mh-cell", &f.feature, w, y, fill);
            let title = match c {
                Some(c) => drift_title(&f.feature, &window_text(h, w), c),
                None => format!("{} · {} · no test", f.feature, window_text(h, w)),
            };
            let _ = write!(s, "<title>{}</title></rect>", esc(&title));
            if c.as_ref().is_some_and(|c| c.drifted) {
                dot(&mut s, w, y, width);
            }
        }
    }
    if has_share {
        let y = top + h.features.len() as f64 * row_h + share_gap;
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" font-style="italic" fill="#222" text-anchor="end">share drifted</text>"##,
            LEFT - 6.0,
            y + 12.0
        );
        for (w, d) in h.windows.iter().zip(&h.drift_share) {
            let fill = heat(
                d.as_ref()
                    .filter(|d| d.share.is_finite())
                    .map(|d| d.share / DATASET_DRIFT_SHARE),
            );
            let width = cell(&mut s, "mh-share", "", w, y, fill);
            let title = match d {
                Some(d) => {
                    let of = d.features.map_or(String::new(), |n| format!(" of {n}"));
                    let names = if d.drifted_features.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", d.drifted_features.join(", "))
                    };
                    format!(
                        "{} · {} feature(s){of} drifted ({}){names}{}",
                        window_text(h, w),
                        d.drifted_features.len(),
                        num(d.share),
                        if d.dataset_drift {
                            " · dataset drift"
                        } else {
                            ""
                        }
                    )
                }
                None => format!("{} · no features tested", window_text(h, w)),
            };
            let _ = write!(s, "<title>{}</title></rect>", esc(&title));
            if d.as_ref().is_some_and(|d| d.dataset_drift) {
                dot(&mut s, w, y, width);
            }
        }
    }
    time_axis(&mut s, h, axis, top, bottom, false);
    // Version labels above the cells, where they hide nothing.
    overlay(&mut s, h, axis, top, bottom, top - 3.0);
    // The legend: one swatch per colour bucket, then "no test" and the drift dot.
    let ly = bottom + 44.0;
    let _ = write!(
        s,
        r##"<text x="{LEFT}" y="{:.1}" font-size="10" fill="#444">score against its threshold (p-values on a log scale; the share against 0.5):</text>"##,
        ly
    );
    let mut x = LEFT;
    for (_, color, label) in HEAT {
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{:.1}" width="14" height="10" fill="{color}" stroke="#ccc"/><text x="{:.1}" y="{:.1}" font-size="10" fill="#444">{}</text>"##,
            ly + 7.0,
            x + 17.0,
            ly + 16.0,
            esc(label)
        );
        x += 22.0 + 6.5 * label.chars().count() as f64;
    }
    let _ = write!(
        s,
        r##"<text x="{:.1}" y="{:.1}" font-size="10" fill="#444">× threshold</text><rect x="{:.1}" y="{:.1}" width="14" height="10" fill="{NO_TEST}"/><text x="{:.1}" y="{:.1}" font-size="10" fill="#444">no test</text><circle cx="{:.1}" cy="{:.1}" r="2.6" fill="#2b0606"/><text x="{:.1}" y="{:.1}" font-size="10" fill="#444">drifted</text>"##,
        x,
        ly + 16.0,
        x + 70.0,
        ly + 7.0,
        x + 87.0,
        ly + 16.0,
        x + 140.0,
        ly + 12.0,
        x + 147.0,
        ly + 16.0
    );
    s.push_str("</svg>");
    Some(s)
}

/// One line of a line chart: a value per window (a gap where there is none).
struct Line {
    name: String,
    color: &'static str,
    dashed: bool,
    values: Vec<Option<f64>>,
    /// Windows to ring in red (drift found).
    flagged: Vec<bool>,
    /// A band per window (CBPE's confidence bounds), drawn as a vertical bar.
    bands: Vec<Option<(f64, f64)>>,
}

impl Line {
    fn new(name: String, color: &'static str, values: Vec<Option<f64>>) -> Line {
        let n = values.len();
        Line {
            name,
            color,
            dashed: false,
            values,
            flagged: vec![false; n],
            bands: vec![None; n],
        }
    }
}

/// A reference level per window (the evaluated metric, a threshold), drawn as steps.
struct Level {
    name: String,
    color: &'static str,
    values: Vec<Option<f64>>,
}

/// An axis range that starts and ends on round ticks (1, 2, 2.5 or 5 × a power of ten, about
/// four steps), with its step; a flat range is widened so it still has an extent.
fn nice_range(lo: f64, hi: f64) -> (f64, f64, f64) {
    let (lo, hi) = if !(lo.is_finite() && hi.is_finite()) {
        (0.0, 1.0)
    } else if (hi - lo).abs() < 1e-12 {
        let pad = if lo.abs() < 1e-12 {
            1.0
        } else {
            lo.abs() * 0.1
        };
        (lo - pad, hi + pad)
    } else {
        (lo, hi)
    };
    let rough = (hi - lo) / 4.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * power);
    ((lo / step).floor() * step, (hi / step).ceil() * step, step)
}

fn line_chart(
    h: &MonitorHistory,
    axis: &Axis,
    title: &str,
    class: &str,
    y_label: &str,
    lines: &[Line],
    levels: &[Level],
) -> String {
    let (top, ph) = (52.0, 170.0);
    let bottom = top + ph;
    let height = bottom + 38.0;
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    let mut see = |v: f64| {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    };
    for l in lines {
        l.values.iter().flatten().for_each(|&v| see(v));
        for &(a, b) in l.bands.iter().flatten() {
            see(a);
            see(b);
        }
    }
    levels
        .iter()
        .flat_map(|l| l.values.iter().flatten())
        .for_each(|&v| see(v));
    let (y0, y1, step) = nice_range(lo, hi);
    let sy = |v: f64| top + ph - (v - y0) / (y1 - y0) * ph;
    let mut s = String::new();
    svg_open(&mut s, height, title, class, "");
    let _ = write!(
        s,
        r##"<rect x="{LEFT}" y="{top}" width="{PLOT_W}" height="{ph}" fill="#fff" stroke="#bbb"/>"##
    );
    let ticks = ((y1 - y0) / step).round() as usize;
    for k in 0..=ticks {
        let v = y0 + step * k as f64;
        let y = sy(v);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" font-size="10" fill="#444" text-anchor="end">{}</text>"##,
            LEFT + PLOT_W,
            LEFT - 6.0,
            y + 3.0,
            esc(&num(if v.abs() < 1e-12 { 0.0 } else { v }))
        );
    }
    let _ = write!(
        s,
        r##"<text x="{x:.1}" y="{y:.1}" font-size="10" fill="#444" text-anchor="middle" transform="rotate(-90 {x:.1} {y:.1})">{}</text>"##,
        esc(y_label),
        x = LEFT - 48.0,
        y = top + ph / 2.0
    );
    time_axis(&mut s, h, axis, top, bottom, true);
    // Levels as steps: one segment per run of windows with the same value.
    for level in levels {
        let mut i = 0;
        while i < h.windows.len() {
            let Some(v) = level.values[i].filter(|v| v.is_finite()) else {
                i += 1;
                continue;
            };
            let mut j = i;
            while j + 1 < h.windows.len()
                && level.values[j + 1] == Some(v)
                && h.windows[j + 1].start_ms == h.windows[j].end_ms
            {
                j += 1;
            }
            let _ = write!(
                s,
                r#"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{}" stroke-width="1.5" stroke-dasharray="2 3"><title>{}</title></line>"#,
                axis.x(h.windows[i].start_ms),
                axis.x(h.windows[j].end_ms),
                level.color,
                esc(&format!("{}: {}", level.name, num(v))),
                y = sy(v)
            );
            i = j + 1;
        }
    }
    for l in lines {
        let dash = if l.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        // One polyline per run of consecutive windows with a value, so a gap stays a gap.
        let mut run: Vec<String> = Vec::new();
        let flush = |s: &mut String, run: &mut Vec<String>| {
            if run.len() > 1 {
                let _ = write!(
                    s,
                    r#"<polyline fill="none" stroke="{}" stroke-width="2"{dash} points="{}"/>"#,
                    l.color,
                    run.join(" ")
                );
            }
            run.clear();
        };
        for (i, w) in h.windows.iter().enumerate() {
            let adjacent = i > 0 && h.windows[i - 1].end_ms == w.start_ms;
            if !adjacent {
                flush(&mut s, &mut run);
            }
            match l.values[i].filter(|v| v.is_finite()) {
                Some(v) => run.push(format!("{:.1},{:.1}", axis.mid(w), sy(v))),
                None => flush(&mut s, &mut run),
            }
        }
        flush(&mut s, &mut run);
        for (i, w) in h.windows.iter().enumerate() {
            let x = axis.mid(w);
            if let Some((a, b)) = l.bands[i].filter(|(a, b)| a.is_finite() && b.is_finite()) {
                let _ = write!(
                    s,
                    r#"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="{}" stroke-width="3" opacity="0.3"/>"#,
                    sy(a),
                    sy(b),
                    l.color
                );
            }
            let Some(v) = l.values[i].filter(|v| v.is_finite()) else {
                continue;
            };
            let y = sy(v);
            let flag = l.flagged[i];
            let _ = write!(
                s,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="{}" fill="{}" stroke="{}" stroke-width="{}"><title>{}</title></circle>"#,
                if flag { 4.5 } else { 2.5 },
                if flag { "#fff" } else { l.color },
                if flag { "#b3261e" } else { l.color },
                if flag { 2 } else { 1 },
                esc(&format!(
                    "{} · {}: {}{}",
                    l.name,
                    window_text(h, w),
                    num(v),
                    if flag { " · drifted" } else { "" }
                ))
            );
        }
    }
    overlay(&mut s, h, axis, top, bottom, top + 11.0);
    // The legend, in one row between the title and the plot.
    let mut x = LEFT;
    let y = 34.0;
    for l in lines {
        let dash = if l.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{y}" x2="{:.1}" y2="{y}" stroke="{}" stroke-width="2"{dash}/><text x="{:.1}" y="{:.1}" font-size="10" fill="#444">{}</text>"##,
            x + 18.0,
            l.color,
            x + 22.0,
            y + 3.5,
            esc(&l.name)
        );
        x += 34.0 + 5.6 * l.name.chars().count() as f64;
    }
    for l in levels {
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="{y}" x2="{:.1}" y2="{y}" stroke="{}" stroke-width="1.5" stroke-dasharray="2 3"/><text x="{:.1}" y="{:.1}" font-size="10" fill="#444">{}</text>"##,
            x + 18.0,
            l.color,
            x + 22.0,
            y + 3.5,
            esc(&l.name)
        );
        x += 34.0 + 5.6 * l.name.chars().count() as f64;
    }
    if lines.iter().any(|l| l.flagged.iter().any(|&f| f)) {
        let _ = write!(
            s,
            r##"<circle cx="{:.1}" cy="{y}" r="4.5" fill="#fff" stroke="#b3261e" stroke-width="2"/><text x="{:.1}" y="{:.1}" font-size="10" fill="#444">drifted</text>"##,
            x + 6.0,
            x + 14.0,
            y + 3.5
        );
    }
    s.push_str("</svg>");
    s
}

/// The one threshold of a series of drift tests, when every window used the same.
fn constant_threshold(cells: &[Option<DriftCell>]) -> Option<f64> {
    let mut t = cells.iter().flatten().map(|c| c.threshold);
    let first = t.next()??;
    t.all(|x| x == Some(first)).then_some(first)
}

fn methods(cells: &[Option<DriftCell>]) -> String {
    let mut names: Vec<&str> = cells
        .iter()
        .flatten()
        .filter_map(|c| c.method.as_deref())
        .collect();
    names.sort_unstable();
    names.dedup();
    names.join("/")
}

fn prediction_chart(h: &MonitorHistory, axis: &Axis) -> Option<String> {
    let mut lines = Vec::new();
    let mut levels = Vec::new();
    for (what, cells, color) in [
        ("scores", &h.prediction_drift, "#1f5fbf"),
        ("predicted labels", &h.label_drift, "#7b3fa0"),
    ] {
        if !cells.iter().any(Option::is_some) {
            continue;
        }
        let m = methods(cells);
        let name = if m.is_empty() {
            what.to_string()
        } else {
            format!("{what} ({m})")
        };
        let mut line = Line::new(
            name,
            color,
            cells.iter().map(|c| c.as_ref().map(|c| c.value)).collect(),
        );
        line.flagged = cells
            .iter()
            .map(|c| c.as_ref().is_some_and(|c| c.drifted))
            .collect();
        lines.push(line);
        if let Some(t) = constant_threshold(cells) {
            levels.push(Level {
                name: format!("{what} threshold"),
                color,
                values: vec![Some(t); h.windows.len()],
            });
        }
    }
    if lines.is_empty() {
        return None;
    }
    Some(line_chart(
        h,
        axis,
        "Prediction drift against the reference window",
        "mh-prediction",
        "drift score (p-value or distance)",
        &lines,
        &levels,
    ))
}

fn multivariate_chart(h: &MonitorHistory, axis: &Axis) -> Option<String> {
    if !h.multivariate.iter().any(Option::is_some) {
        return None;
    }
    let mut line = Line::new(
        "reconstruction error".into(),
        "#1f5fbf",
        h.multivariate
            .iter()
            .map(|m| m.as_ref().map(|m| m.error))
            .collect(),
    );
    line.flagged = h
        .multivariate
        .iter()
        .map(|m| {
            m.as_ref()
                .is_some_and(|m| m.upper_threshold.is_some_and(|t| m.error > t))
        })
        .collect();
    let levels = [Level {
        name: "upper threshold".into(),
        color: "#b3261e",
        values: h
            .multivariate
            .iter()
            .map(|m| m.as_ref().and_then(|m| m.upper_threshold))
            .collect(),
    }];
    Some(line_chart(
        h,
        axis,
        "Multivariate drift (PCA reconstruction error)",
        "mh-multivariate",
        "reconstruction error",
        &[line],
        &levels,
    ))
}

/// One chart per metric measured on labels: realized solid, the CBPE estimate dashed with its
/// band, the evaluation report's value as a dotted level. Without any realized metric, the
/// estimated ones are charted alone (labels have not arrived yet).
fn performance_charts(h: &MonitorHistory, axis: &Axis) -> Vec<String> {
    let realized: Vec<_> = h.performance.iter().filter(|m| m.has_realized()).collect();
    let charted = if realized.is_empty() {
        h.performance.iter().filter(|m| m.has_estimated()).collect()
    } else {
        realized
    };
    charted
        .into_iter()
        .map(|m| {
            let mut lines = Vec::new();
            if m.has_realized() {
                lines.push(Line::new("realized".into(), "#1f5fbf", m.realized.clone()));
            }
            if m.has_estimated() {
                let mut line = Line::new(
                    "estimated (CBPE)".into(),
                    "#c0602a",
                    m.estimated
                        .iter()
                        .map(|e| e.as_ref().map(|e| e.value))
                        .collect(),
                );
                line.dashed = true;
                line.bands = m
                    .estimated
                    .iter()
                    .map(|e| e.as_ref().and_then(|e| e.lower.zip(e.upper)))
                    .collect();
                lines.push(line);
            }
            let mut levels = Vec::new();
            if m.evaluated.iter().any(Option::is_some) {
                levels.push(Level {
                    name: "evaluated (report)".into(),
                    color: "#2a8a4a",
                    values: m.evaluated.clone(),
                });
            }
            line_chart(
                h,
                axis,
                &format!("Performance: {} (realized vs estimated)", m.metric),
                "mh-performance",
                &m.metric,
                &lines,
                &levels,
            )
        })
        .collect()
}

/// The versions that served, as `rainfall v1, v3`.
fn versions_text(h: &MonitorHistory) -> String {
    let versions = h.versions();
    if versions.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let mut model: Option<&Option<String>> = None;
    for (i, (m, v)) in versions.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if model != Some(m) {
            if let Some(name) = m {
                out.push_str(name);
                out.push(' ');
            }
            model = Some(m);
        }
        let _ = write!(out, "v{v}");
    }
    out
}

/// The charts of a history as an HTML fragment (a `<div>` with inline SVG and a one-line
/// legend), ready to embed in any page: it needs no stylesheet and no script.
pub fn render_monitoring_fragment(history: &MonitorHistory) -> String {
    let h = history;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<div class="aidlc-monitoring" data-endpoint="{}">"#,
        esc(&h.endpoint)
    );
    let Some(axis) = Axis::of(h) else {
        let _ = write!(
            s,
            r#"<p style="color:#666">No monitored windows of <code>{}</code>.</p></div>"#,
            esc(&h.endpoint)
        );
        return s;
    };
    let (first, last) = (&h.windows[0], &h.windows[h.windows.len() - 1]);
    let served = versions_text(h);
    let _ = write!(
        s,
        r#"<p style="color:#555;margin:4px 0">{} window(s) of <code>{}</code> from {} to {}{}; {} alert(s).</p>"#,
        h.windows.len(),
        esc(&h.endpoint),
        esc(&stamp(h, first.start_ms)),
        esc(&stamp(h, last.end_ms)),
        if served.is_empty() {
            String::new()
        } else {
            format!(", served by {}", esc(&served))
        },
        h.alerts.len()
    );
    let charts: Vec<String> = [heatmap(h, &axis), prediction_chart(h, &axis)]
        .into_iter()
        .flatten()
        .chain(performance_charts(h, &axis))
        .chain(multivariate_chart(h, &axis))
        .collect();
    if charts.is_empty() {
        s.push_str(
            r#"<p style="color:#666">These windows hold no drift or performance signals (only prediction counts).</p>"#,
        );
    }
    for c in charts {
        s.push_str(&c);
    }
    let swatch = |color: &str, filled: bool| {
        format!(
            r#"<span style="display:inline-block;width:0;height:0;border-left:5px solid transparent;border-right:5px solid transparent;border-top:9px solid {color};{}"></span>"#,
            if filled { "" } else { "opacity:0.45" }
        )
    };
    let _ = write!(
        s,
        r#"<p style="color:#555;font-size:12px;margin:2px 0 10px">{} alert raised · {} alert resolved (dashed line) · colour by severity: <span style="color:{}">info</span>, <span style="color:{}">warning</span>, <span style="color:{}">critical</span> · grey dashed line: another version starts serving. Points sit at the middle of their window; alerts at the window end that raised or resolved them.</p>"#,
        swatch("#555", true),
        swatch("#555", false),
        severity_color(AlertSeverity::Info),
        severity_color(AlertSeverity::Warning),
        severity_color(AlertSeverity::Critical),
    );
    s.push_str("</div>");
    s
}

const CSS: &str = "body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;\
color:#222;max-width:1100px;margin:24px auto;padding:0 16px}h1{font-size:22px;margin:0 0 4px}\
h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}\
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}th,td{border:1px solid #ddd;\
padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f6f8}td.n{text-align:right;\
font-variant-numeric:tabular-nums}.muted{color:#666}.open{color:#b3261e;font-weight:600}\
.resolved{color:#1d7a3a}code{font-size:12px;background:#f4f6f8;padding:1px 4px;border-radius:4px}";

fn alert_rows(h: &MonitorHistory, alerts: &[AlertInfo]) -> Vec<Vec<String>> {
    alerts
        .iter()
        .map(|a| {
            vec![
                if a.open {
                    r#"<span class="open">open</span>"#.to_string()
                } else {
                    r#"<span class="resolved">resolved</span>"#.to_string()
                },
                format!(
                    r#"<span style="color:{}">{}</span>"#,
                    severity_color(a.severity),
                    esc(a.severity.as_str())
                ),
                esc(&a.rule),
                esc(&a.signal),
                esc(&format!("{} ({})", num(a.value), a.condition)),
                esc(&stamp(h, a.opened_ms)),
                a.resolved_ms
                    .map_or_else(String::new, |r| esc(&stamp(h, r))),
                a.observations.to_string(),
            ]
        })
        .collect()
}

/// What else a point's evidence says, in a few words.
fn detail(p: &MonitorPoint) -> String {
    let e = &p.extra;
    let f = |k: &str| e.get(k).and_then(Value::as_f64);
    let mut parts: Vec<String> = Vec::new();
    if let Some(m) = e.get("method").and_then(Value::as_str) {
        parts.push(m.to_string());
    }
    if let Some(pv) = f("p_value") {
        parts.push(format!("p = {}", num(pv)));
    }
    if let Some(t) = f("threshold") {
        parts.push(format!("threshold {}", num(t)));
    }
    if let Some(d) = e.get("drifted").and_then(Value::as_bool) {
        parts.push(if d { "drifted" } else { "no drift" }.into());
    }
    if let Some(list) = e.get("drifted_features").and_then(Value::as_array) {
        let names: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
        if !names.is_empty() {
            parts.push(format!("drifted: {}", names.join(", ")));
        }
    }
    if let Some(n) = e.get("labelled").and_then(Value::as_u64) {
        parts.push(format!("{n} labelled"));
    }
    if let (Some(l), Some(u)) = (f("lower"), f("upper")) {
        parts.push(format!("band [{}, {}]", num(l), num(u)));
    }
    if let Some(v) = f("evaluated") {
        parts.push(format!("evaluated {}", num(v)));
    }
    if let Some(t) = f("upper_threshold") {
        parts.push(format!("upper threshold {}", num(t)));
    }
    if let Some(n) = e.get("errors").and_then(Value::as_u64) {
        parts.push(format!("{n} errors"));
    }
    parts.join(" · ")
}

/// The monitoring report: one self-contained HTML page (inline CSS and SVG, no script, no
/// external resource) with the charts, the alerts and the latest window's signals.
/// `generated_at_ms`, when given, is printed as the time the report was made; leave it out for
/// output that depends on the history alone.
pub fn render_monitoring_report(history: &MonitorHistory, generated_at_ms: Option<i64>) -> String {
    let h = history;
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Monitoring report: {}</title><style>{CSS}</style></head><body>",
        esc(&h.endpoint)
    );
    let _ = write!(
        s,
        "<h1>Monitoring report: <code>{}</code></h1>",
        esc(&h.endpoint)
    );
    let mut meta = vec![format!("{} window(s)", h.windows.len())];
    if let Some((from, to)) = h.span() {
        meta.push(format!("{} → {}", stamp(h, from), stamp(h, to)));
    }
    let served = versions_text(h);
    if !served.is_empty() {
        meta.push(format!("served by {served}"));
    }
    if let Some(at) = generated_at_ms {
        meta.push(format!("generated {} UTC", date_time(at)));
    }
    let _ = write!(s, "<p class=\"muted\">{}</p>", esc(&meta.join(" · ")));

    s.push_str("<h2>Drift and performance over time</h2>");
    s.push_str(&render_monitoring_fragment(h));

    s.push_str("<h2>Alerts</h2>");
    if h.alerts.is_empty() {
        s.push_str("<p class=\"muted\">No alert was open during these windows.</p>");
    } else {
        s.push_str(&table(
            &[
                "status",
                "severity",
                "rule",
                "signal",
                "value (condition)",
                "opened",
                "resolved",
                "observations",
            ],
            &alert_rows(h, &h.alerts),
        ));
    }

    s.push_str("<h2>Latest window</h2>");
    match h.windows.last() {
        None => s.push_str("<p class=\"muted\">No window has been monitored.</p>"),
        Some(w) => {
            let mut line = vec![window_text(h, w)];
            if let Some(r) = w.rows {
                line.push(format!("{r} prediction(s)"));
            }
            if let Some(v) = w.version {
                line.push(match &w.model {
                    Some(m) => format!("{m} v{v}"),
                    None => format!("v{v}"),
                });
            }
            let _ = write!(s, "<p>{}</p>", esc(&line.join(" · ")));
            let rows: Vec<Vec<String>> = h
                .latest()
                .iter()
                .map(|p| {
                    vec![
                        format!("<code>{}</code>", esc(&p.signal)),
                        esc(p.feature.as_deref().unwrap_or("")),
                        format!("{}", esc(&num(p.value))),
                        esc(&detail(p)),
                    ]
                })
                .collect();
            s.push_str(&table(&["signal", "feature", "value", "detail"], &rows));
        }
    }

    s.push_str("<h2>Windows</h2>");
    let metrics: Vec<&str> = h
        .performance
        .iter()
        .filter(|m| m.has_realized() || m.has_estimated())
        .map(|m| m.metric.as_str())
        .collect();
    let mut head: Vec<String> = vec![
        "window".into(),
        "predictions".into(),
        "version".into(),
        "drifted features".into(),
        "prediction drift".into(),
    ];
    for m in &metrics {
        head.push(format!("{m} realized / estimated"));
    }
    let rows: Vec<Vec<String>> = h
        .windows
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let mut row = vec![
                esc(&window_text(h, w)),
                w.rows.map_or_else(String::new, |r| r.to_string()),
                w.version.map_or_else(String::new, |v| format!("v{v}")),
                h.drift_share[i].as_ref().map_or_else(String::new, |d| {
                    if d.drifted_features.is_empty() {
                        "0".to_string()
                    } else {
                        esc(&format!(
                            "{} ({})",
                            d.drifted_features.len(),
                            d.drifted_features.join(", ")
                        ))
                    }
                }),
                h.prediction_drift[i]
                    .as_ref()
                    .map_or_else(String::new, |c| {
                        esc(&format!(
                            "{}{}",
                            num(c.value),
                            if c.drifted { " drifted" } else { "" }
                        ))
                    }),
            ];
            for m in &metrics {
                let series = h.performance.iter().find(|x| x.metric == *m);
                let realized = series.and_then(|x| x.realized[i]);
                let estimated = series.and_then(|x| x.estimated[i].as_ref().map(|e| e.value));
                row.push(esc(&format!(
                    "{} / {}",
                    opt_num(realized),
                    opt_num(estimated)
                )));
            }
            row
        })
        .collect();
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    s.push_str(&table(&head, &rows));
    s.push_str("</body></html>\n");
    s
}
