//! The model card: an [`EvalReport`] rendered as one self-contained HTML page (inline CSS and
//! SVG charts, no script, no external resource) or as Markdown. Both read the report only, so a
//! card can be regenerated from a stored report at any time.

use std::fmt::Write;

use crate::html::{esc, table};

use super::gates::format_number;
use super::{ByModel, Estimate, EvalReport, GateStatus, Role, ThresholdValue};
use crate::monitor_history::{MonitorHistory, render_monitoring_fragment};

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_string(), format_number)
}

/// `0.873 [0.851, 0.894]`.
fn estimate(e: &Estimate) -> String {
    match (e.value, e.lower, e.upper) {
        (Some(v), Some(l), Some(u)) => format!(
            "{} [{}, {}]",
            format_number(v),
            format_number(l),
            format_number(u)
        ),
        (v, _, _) => opt(v),
    }
}

fn model_name(report: &EvalReport, role: Role) -> String {
    report
        .models
        .iter()
        .find(|m| m.role == role)
        .map_or_else(|| role.as_str().to_string(), |m| m.name.clone())
}

fn has_champion(report: &EvalReport) -> bool {
    report.models.iter().any(|m| m.role == Role::Champion)
}

/// One line series of a chart.
struct Series {
    name: String,
    color: &'static str,
    dashed: bool,
    points: Vec<(f64, f64)>,
}

const COLORS: [&str; 3] = ["#1f5fbf", "#8a8a8a", "#c0602a"];

/// A line chart as inline SVG. `diagonal` draws y = x (ROC chance line, perfect calibration);
/// `marker` draws a vertical line at x with a label.
#[allow(clippy::too_many_arguments)]
fn chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    x_range: (f64, f64),
    y_range: (f64, f64),
    series: &[Series],
    diagonal: bool,
    marker: Option<(f64, String)>,
) -> String {
    let (w, h) = (380.0, 300.0);
    let (left, right, top, bottom) = (60.0, 22.0, 28.0, 44.0);
    let pw = w - left - right;
    let ph = h - top - bottom;
    let (x0, x1) = x_range;
    let (y0, y1, y_step) = nice_range(y_range.0, y_range.1);
    let sx = |x: f64| left + (x - x0) / (x1 - x0) * pw;
    let sy = |y: f64| top + ph - (y - y0) / (y1 - y0) * ph;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}">"#,
        esc(title)
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="16" class="t">{}</text>"#,
        w / 2.0,
        esc(title)
    );
    let _ = write!(
        s,
        r##"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#bbb"/>"##
    );
    for k in 0..=4 {
        let fx = x0 + (x1 - x0) * k as f64 / 4.0;
        let _ = write!(
            s,
            r##"<line x1="{x}" y1="{top}" x2="{x}" y2="{b}" stroke="#eee"/><text x="{x}" y="{ty}" class="a" text-anchor="middle">{lx}</text>"##,
            x = sx(fx),
            b = top + ph,
            ty = top + ph + 14.0,
            lx = esc(&tick(fx))
        );
    }
    let y_ticks = ((y1 - y0) / y_step).round() as usize;
    for k in 0..=y_ticks {
        let fy = y0 + y_step * k as f64;
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{y}" x2="{r}" y2="{y}" stroke="#eee"/><text x="{tx}" y="{yy}" class="a" text-anchor="end">{ly}</text>"##,
            y = sy(fy),
            r = left + pw,
            tx = left - 4.0,
            yy = sy(fy) + 3.0,
            ly = esc(&tick(fy))
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" class="a" text-anchor="middle">{}</text>"#,
        left + pw / 2.0,
        h - 8.0,
        esc(x_label)
    );
    let _ = write!(
        s,
        r#"<text x="12" y="{}" class="a" text-anchor="middle" transform="rotate(-90 12 {})">{}</text>"#,
        top + ph / 2.0,
        top + ph / 2.0,
        esc(y_label)
    );
    if diagonal {
        let lo = x0.max(y0);
        let hi = x1.min(y1);
        let _ = write!(
            s,
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#bbb" stroke-dasharray="4 3"/>"##,
            sx(lo),
            sy(lo),
            sx(hi),
            sy(hi)
        );
    }
    if let Some((x, label)) = marker {
        let _ = write!(
            s,
            r##"<line x1="{x}" y1="{top}" x2="{x}" y2="{b}" stroke="#2a8a4a" stroke-dasharray="2 2"/><text x="{tx}" y="{ty}" class="a" style="fill:#2a8a4a">{}</text>"##,
            esc(&label),
            x = sx(x),
            b = top + ph,
            tx = sx(x) + 3.0,
            ty = top + 24.0
        );
    }
    for (i, line) in series.iter().enumerate() {
        if line.points.is_empty() {
            continue;
        }
        let points: Vec<String> = line
            .points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|(x, y)| format!("{:.2},{:.2}", sx(*x), sy(*y)))
            .collect();
        let dash = if line.dashed {
            r#" stroke-dasharray="6 3""#
        } else {
            ""
        };
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{}" stroke-width="2"{dash} points="{}"/>"#,
            line.color,
            points.join(" ")
        );
        // Few points (a reliability curve, a constant model's single bin) get dots, so a
        // one-point series is still visible.
        if line.points.len() <= 20 {
            for (x, y) in line
                .points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
            {
                let _ = write!(
                    s,
                    r#"<circle cx="{:.2}" cy="{:.2}" r="3" fill="{}"/>"#,
                    sx(*x),
                    sy(*y),
                    line.color
                );
            }
        }
        let ly = top + 14.0 + 14.0 * i as f64;
        let lx = left + pw - 120.0;
        let _ = write!(
            s,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{}" stroke-width="2"{dash}/><text x="{}" y="{}" class="a">{}</text>"#,
            lx + 16.0,
            line.color,
            lx + 20.0,
            ly + 3.0,
            esc(&line.name)
        );
    }
    s.push_str("</svg>");
    s
}

/// An axis range that starts and ends on round ticks (1, 2 or 5 × a power of ten, about four
/// steps), with its step; a flat range is widened so it still has an extent.
fn nice_range(lo: f64, hi: f64) -> (f64, f64, f64) {
    let (lo, hi) = if !(lo.is_finite() && hi.is_finite()) {
        (0.0, 1.0)
    } else if (hi - lo).abs() < 1e-12 {
        (lo - 1.0, hi + 1.0)
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

/// A tick label: at most three decimals, without trailing zeros.
fn tick(x: f64) -> String {
    let text = format!("{:.3}", if x.abs() < 1e-9 { 0.0 } else { x });
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

fn roc_chart(report: &EvalReport) -> Option<String> {
    let roc = report.roc.as_ref()?;
    let series = per_model(report, roc, |p| {
        p.fpr.iter().copied().zip(p.tpr.iter().copied()).collect()
    });
    Some(chart(
        "ROC curve",
        "false-positive rate",
        "true-positive rate",
        (0.0, 1.0),
        (0.0, 1.0),
        &series,
        true,
        None,
    ))
}

fn reliability_chart(report: &EvalReport) -> Option<String> {
    let c = report.calibration.as_ref()?;
    let series = per_model(report, &c.models, |m| {
        m.curve
            .iter()
            .map(|p| (p.mean_predicted, p.observed))
            .collect()
    });
    Some(chart(
        "Reliability curve",
        &format!("mean predicted ({})", c.of),
        "observed frequency",
        (0.0, 1.0),
        (0.0, 1.0),
        &series,
        true,
        None,
    ))
}

fn value_chart(report: &EvalReport) -> Option<String> {
    let b = report.business.as_ref()?;
    if b.sweep.is_empty() {
        return None;
    }
    let to_points =
        |s: &[ThresholdValue]| s.iter().map(|t| (t.threshold, t.value_per_1k)).collect();
    let series = vec![
        Series {
            name: model_name(report, Role::Candidate),
            color: COLORS[0],
            dashed: false,
            points: to_points(&b.sweep),
        },
        Series {
            name: model_name(report, Role::Baseline),
            color: COLORS[1],
            dashed: true,
            points: to_points(&b.baseline_sweep),
        },
    ];
    let all = b
        .sweep
        .iter()
        .chain(&b.baseline_sweep)
        .map(|t| t.value_per_1k);
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let marker = b.best.as_ref().map(|best| {
        (
            best.candidate.threshold,
            format!("best {}", format_number(best.candidate.threshold)),
        )
    });
    Some(chart(
        "Value per 1,000 predictions",
        "threshold on P(positive)",
        "value per 1,000",
        (0.0, 1.0),
        (lo, hi),
        &series,
        false,
        marker,
    ))
}

fn per_model<T>(
    report: &EvalReport,
    values: &ByModel<T>,
    points: impl Fn(&T) -> Vec<(f64, f64)>,
) -> Vec<Series> {
    [Role::Candidate, Role::Baseline, Role::Champion]
        .iter()
        .enumerate()
        .filter_map(|(i, &role)| {
            values.get(role).map(|v| Series {
                name: model_name(report, role),
                color: COLORS[i],
                dashed: role == Role::Baseline,
                points: points(v),
            })
        })
        .collect()
}

fn status_html(status: GateStatus) -> String {
    match status {
        GateStatus::Pass => r#"<span class="pass">pass</span>"#.to_string(),
        GateStatus::Fail => r#"<span class="fail">fail</span>"#.to_string(),
        GateStatus::Skipped => r#"<span class="skip">skipped</span>"#.to_string(),
    }
}

/// The framing contract as (key, value) pairs.
fn framing_rows(report: &EvalReport) -> Vec<(String, String)> {
    let f = &report.framing;
    let p = &f.problem;
    let mut rows = vec![
        ("problem", p.name.clone()),
        ("task", p.task.map(|t| t.to_string())),
        (
            "outcome",
            p.outcome.metric.as_ref().map(|m| {
                format!(
                    "{m} — {} to {}",
                    p.outcome.direction.map_or("?".into(), |d| d.to_string()),
                    opt(p.outcome.target)
                )
            }),
        ),
        ("label", p.label.column.clone()),
        ("positive class", p.label.positive.clone()),
        ("label delay", p.label.delay.map(|d| d.to_string())),
        (
            "baseline",
            f.baseline
                .kind
                .map(|k| match (&f.baseline.rule, &f.baseline.model) {
                    (Some(rule), _) => format!("{k}: {rule}"),
                    (_, Some(model)) => format!("{k}: {model}"),
                    _ => k.to_string(),
                }),
        ),
        ("primary metric", Some(report.primary_metric.clone())),
        (
            "p99 latency budget",
            f.constraints
                .p99_latency_ms
                .map(|v| format!("{} ms", format_number(v))),
        ),
        (
            "model size budget",
            f.constraints
                .max_model_size_mb
                .map(|v| format!("{} MB", format_number(v))),
        ),
        (
            "cost budget",
            f.constraints
                .cost_per_1k_predictions
                .map(|v| format!("{} per 1,000 predictions", format_number(v))),
        ),
        (
            "interpretability",
            f.constraints.interpretability.map(|i| i.to_string()),
        ),
    ];
    let b = &f.business;
    if let (Some(tp), Some(fp), Some(fneg), Some(tn)) = (
        b.true_positive,
        b.false_positive,
        b.false_negative,
        b.true_negative,
    ) {
        rows.push((
            "business values",
            Some(format!(
                "tp {}, fp {}, fn {}, tn {}",
                format_number(tp),
                format_number(fp),
                format_number(fneg),
                format_number(tn)
            )),
        ));
    }
    if let Some(c) = b.cost_per_unit_error {
        rows.push(("cost per unit error", Some(format_number(c))));
    }
    rows.into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect()
}

/// Rows of the metrics table: metric, each model with its interval, differences.
fn metric_rows(report: &EvalReport) -> (Vec<String>, Vec<Vec<String>>) {
    let champion = has_champion(report);
    let mut head = vec![
        "metric".to_string(),
        format!("{} (candidate)", model_name(report, Role::Candidate)),
        format!("{} (baseline)", model_name(report, Role::Baseline)),
    ];
    if champion {
        head.push(format!("{} (champion)", model_name(report, Role::Champion)));
    }
    head.push("candidate − baseline".into());
    if champion {
        head.push("candidate − champion".into());
    }
    let rows = report
        .metrics
        .iter()
        .map(|r| {
            let name = if r.metric == report.primary_metric {
                format!("{} (primary)", r.metric)
            } else {
                r.metric.clone()
            };
            let arrow = if r.higher_is_better { "↑" } else { "↓" };
            let mut row = vec![
                format!("{name} {arrow}"),
                estimate(&r.values.candidate),
                estimate(&r.values.baseline),
            ];
            if champion {
                row.push(r.values.champion.as_ref().map_or("—".into(), estimate));
            }
            row.push(estimate(&r.delta_vs_baseline));
            if champion {
                row.push(r.delta_vs_champion.as_ref().map_or("—".into(), estimate));
            }
            row
        })
        .collect();
    (head, rows)
}

fn slice_rows(report: &EvalReport) -> (Vec<String>, Vec<Vec<String>>) {
    let champion = has_champion(report);
    let mut head = vec![
        "slice".to_string(),
        "rows".to_string(),
        format!("{} candidate", report.primary_metric),
        format!("{} baseline", report.primary_metric),
    ];
    if champion {
        head.push(format!("{} champion", report.primary_metric));
    }
    let mut rows = Vec::new();
    for g in &report.slices.groups {
        for s in &g.slices {
            let mut count = s.count.to_string();
            if !s.enough_rows {
                count.push_str(" (few)");
            }
            let mut row = vec![
                s.name.clone(),
                count,
                estimate(&s.primary.candidate),
                estimate(&s.primary.baseline),
            ];
            if champion {
                row.push(s.primary.champion.as_ref().map_or("—".into(), estimate));
            }
            rows.push(row);
        }
    }
    (head, rows)
}

const CSS: &str = "body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;\
color:#222;max-width:1100px;margin:24px auto;padding:0 16px}h1{font-size:22px;margin:0 0 4px}\
h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}\
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}th,td{border:1px solid #ddd;\
padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f6f8}\
.pass{color:#1d7a3a;font-weight:600}.fail{color:#b3261e;font-weight:600}.skip{color:#777}\
.badge{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff;font-weight:600}\
.ok{background:#1d7a3a}.bad{background:#b3261e}.muted{color:#666}\
.charts{display:flex;flex-wrap:wrap;gap:12px}svg .t{font-size:13px;font-weight:600;text-anchor:middle}\
svg .a{font-size:10px;fill:#444}pre{background:#f6f8fa;padding:8px;overflow:auto;font-size:12px}";

/// The model card as one self-contained HTML page.
pub fn render_html(report: &EvalReport) -> String {
    render_html_with_monitoring(report, &[])
}

/// The model card with the version's monitoring history: for each endpoint in `monitoring`
/// (the windows where this version served, [`crate::monitor_history::for_model_version`]), a
/// "Monitoring history" section with the drift and performance charts and the alerts marked.
/// Without histories it is [`render_html`].
pub fn render_html_with_monitoring(report: &EvalReport, monitoring: &[MonitorHistory]) -> String {
    let mut h = String::new();
    let candidate = model_name(report, Role::Candidate);
    let problem = report.framing.problem.name.clone().unwrap_or_default();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Model card: {}</title><style>{CSS}</style></head><body>",
        esc(&candidate)
    );
    let badge = if report.passed {
        r#"<span class="badge ok">gates passed</span>"#
    } else {
        r#"<span class="badge bad">gates failed</span>"#
    };
    let reference = report
        .models
        .iter()
        .find(|m| m.role == Role::Candidate)
        .map(|m| m.reference.clone())
        .unwrap_or_default();
    let _ = write!(
        h,
        "<h1>Model card: {} {badge}</h1><p class=\"muted\">{} · problem {} · evaluated on {} held-out rows · report format {}</p>",
        esc(&candidate),
        esc(&reference),
        esc(&problem),
        report.data.rows,
        esc(&report.format)
    );

    h.push_str("<h2>Framing contract</h2>");
    let rows: Vec<Vec<String>> = framing_rows(report)
        .into_iter()
        .map(|(k, v)| vec![esc(&k), esc(&v)])
        .collect();
    h.push_str(&table(&["key", "value"], &rows));

    h.push_str("<h2>Gates</h2>");
    let rows: Vec<Vec<String>> = report
        .gates
        .iter()
        .map(|g| {
            let name = if g.default {
                format!("{} (default)", g.name)
            } else {
                g.name.clone()
            };
            vec![
                esc(&name),
                format!("<code>{}</code>", esc(&g.rule.to_string())),
                status_html(g.status),
                esc(&g.reason),
            ]
        })
        .collect();
    h.push_str(&table(&["gate", "rule", "status", "reason"], &rows));

    h.push_str("<h2>Metrics against the baseline</h2>");
    let _ = write!(
        h,
        "<p class=\"muted\">Point value on all rows with its {}% bootstrap interval ({} paired resamples, seed {}). Label metrics count P(positive) ≥ {} as positive.</p>",
        (report.settings.confidence * 100.0).round(),
        report.settings.bootstrap_resamples,
        report.settings.seed,
        format_number(report.settings.operating_threshold)
    );
    let (head, rows) = metric_rows(report);
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| r.iter().map(|c| esc(c)).collect())
        .collect();
    h.push_str(&table(&head, &rows));

    let charts: Vec<String> = [
        roc_chart(report),
        reliability_chart(report),
        value_chart(report),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !charts.is_empty() {
        h.push_str("<h2>Curves</h2><div class=\"charts\">");
        for c in charts {
            h.push_str(&c);
        }
        h.push_str("</div>");
    }

    if let Some(c) = &report.calibration {
        h.push_str("<h2>Calibration</h2>");
        let rows: Vec<Vec<String>> = [Role::Candidate, Role::Baseline, Role::Champion]
            .iter()
            .filter_map(|&role| {
                c.models.get(role).map(|m| {
                    vec![
                        esc(&model_name(report, role)),
                        esc(&opt(m.ece)),
                        esc(&opt(m.mce)),
                        esc(&opt(m.brier)),
                    ]
                })
            })
            .collect();
        h.push_str(&table(&["model", "ECE", "MCE", "Brier"], &rows));
    }

    h.push_str("<h2>Slices</h2>");
    if report.slices.groups.is_empty() {
        h.push_str(
            "<p class=\"muted\">No slices are configured (<code>[evaluate] slices</code>).</p>",
        );
    } else {
        let (head, rows) = slice_rows(report);
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        let rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|r| r.iter().map(|c| esc(c)).collect())
            .collect();
        h.push_str(&table(&head, &rows));
        for g in &report.slices.groups {
            if let Some(note) = &g.note {
                let _ = write!(
                    h,
                    "<p class=\"muted\">{}: {}</p>",
                    esc(&g.source),
                    esc(note)
                );
            }
        }
        if let Some(w) = &report.slices.worst {
            let _ = write!(
                h,
                "<p>Worst slice with at least {} rows: <b>{}</b> ({} rows), {} {}.</p>",
                report.slices.min_rows,
                esc(&w.name),
                w.count,
                esc(&w.metric),
                esc(&format_number(w.value))
            );
        }
    }

    if let Some(r) = &report.robustness {
        h.push_str("<h2>Robustness</h2>");
        let _ = write!(
            h,
            "<p class=\"muted\">The candidate's {} on perturbed held-out rows; clean {}. A positive drop is worse.</p>",
            esc(&r.metric),
            esc(&opt(r.clean))
        );
        let rows: Vec<Vec<String>> = r
            .perturbations
            .iter()
            .map(|p| {
                vec![
                    esc(&p.name),
                    esc(&p.description),
                    esc(&opt(p.value)),
                    esc(&opt(p.drop)),
                    esc(p.note.as_deref().unwrap_or("")),
                ]
            })
            .collect();
        h.push_str(&table(
            &["perturbation", "what", "value", "drop", "note"],
            &rows,
        ));
    }

    if let Some(b) = &report.business {
        h.push_str("<h2>Business value</h2>");
        let mut rows = Vec::new();
        for role in [Role::Candidate, Role::Baseline, Role::Champion] {
            let Some(v) = b.value_per_1k.get(role) else {
                continue;
            };
            let best = b
                .best
                .as_ref()
                .and_then(|best| best.get(role))
                .map(|t| {
                    format!(
                        "{} at threshold {}",
                        format_number(t.value_per_1k),
                        format_number(t.threshold)
                    )
                })
                .unwrap_or_else(|| "—".into());
            rows.push(vec![
                esc(&model_name(report, role)),
                esc(&opt(*v)),
                esc(&best),
            ]);
        }
        let operating = b
            .operating_threshold
            .map(|t| {
                format!(
                    "value per 1,000 at the operating threshold {}",
                    format_number(t)
                )
            })
            .unwrap_or_else(|| "value per 1,000 (−cost × absolute error)".into());
        h.push_str(&table(
            &["model", &operating, "best value per 1,000"],
            &rows,
        ));
    }

    h.push_str("<h2>Latency and size</h2>");
    let l = &report.latency;
    let m = &report.model_size;
    let within = |w: Option<bool>| match w {
        Some(true) => r#"<span class="pass">within budget</span>"#.to_string(),
        Some(false) => r#"<span class="fail">over budget</span>"#.to_string(),
        None => "no budget".to_string(),
    };
    let rows = vec![
        vec![
            "single-row latency".to_string(),
            esc(&format!(
                "p50 {} ms, p99 {} ms ({} rows timed)",
                format_number(l.p50_ms),
                format_number(l.p99_ms),
                l.rows_timed
            )),
            esc(&l
                .budget_p99_ms
                .map_or("—".into(), |b| format!("p99 ≤ {} ms", format_number(b)))),
            within(l.within_budget),
        ],
        vec![
            "model size".to_string(),
            esc(&format!("{} MB ({} bytes)", format_number(m.mb), m.bytes)),
            esc(&m
                .budget_mb
                .map_or("—".into(), |b| format!("≤ {} MB", format_number(b)))),
            within(m.within_budget),
        ],
    ];
    h.push_str(&table(&["", "measured", "budget", ""], &rows));

    h.push_str("<h2>Known limitations</h2>");
    if report.limitations.is_empty() {
        h.push_str("<p class=\"muted\">None found in this evaluation.</p>");
    } else {
        h.push_str("<ul>");
        for l in &report.limitations {
            let _ = write!(h, "<li>{}</li>", esc(l));
        }
        h.push_str("</ul>");
    }

    let served: Vec<&MonitorHistory> = monitoring.iter().filter(|m| !m.is_empty()).collect();
    if !served.is_empty() {
        h.push_str("<h2>Monitoring history</h2>");
        h.push_str(
            "<p class=\"muted\">How this version did in production: the monitored windows where it served, with the alerts raised and resolved during them.</p>",
        );
        for m in served {
            let _ = write!(h, "<h3>Endpoint <code>{}</code></h3>", esc(&m.endpoint));
            h.push_str(&render_monitoring_fragment(m));
        }
    }

    h.push_str("<h2>Data and lineage</h2>");
    let d = &report.data;
    let mut rows = vec![
        vec!["held-out rows".to_string(), d.rows.to_string()],
        vec![
            "rows without a label (left out)".to_string(),
            d.rows_without_label.to_string(),
        ],
        vec!["label".to_string(), esc(&d.label)],
        vec!["features".to_string(), esc(&d.features.join(", "))],
    ];
    if !d.classes.is_empty() {
        let counts: Vec<String> = d
            .classes
            .iter()
            .zip(&d.class_counts)
            .map(|(c, n)| format!("{c}: {n}"))
            .collect();
        rows.push(vec!["classes".to_string(), esc(&counts.join(", "))]);
    }
    for m in &report.models {
        rows.push(vec![
            esc(&format!("{} model", m.role.as_str())),
            esc(&format!("{} — {}", m.name, m.reference)),
        ]);
    }
    h.push_str(&table(&["", ""], &rows));
    let lineage = serde_json::to_string_pretty(&report.lineage).unwrap_or_default();
    let _ = write!(h, "<pre>{}</pre>", esc(&lineage));
    h.push_str("</body></html>\n");
    h
}

/// Escapes text for a Markdown table cell.
fn md(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn md_table(out: &mut String, head: &[String], rows: &[Vec<String>]) {
    let _ = writeln!(
        out,
        "| {} |",
        head.iter().map(|h| md(h)).collect::<Vec<_>>().join(" | ")
    );
    let _ = writeln!(out, "|{}", " --- |".repeat(head.len()));
    for row in rows {
        let _ = writeln!(
            out,
            "| {} |",
            row.iter().map(|c| md(c)).collect::<Vec<_>>().join(" | ")
        );
    }
    out.push('\n');
}

/// The model card as Markdown (tables, no charts).
pub fn render_markdown(report: &EvalReport) -> String {
    let mut out = String::new();
    let candidate = model_name(report, Role::Candidate);
    let _ = writeln!(
        out,
        "# Model card: {} — {}\n",
        md(&candidate),
        if report.passed {
            "gates passed"
        } else {
            "gates failed"
        }
    );
    let _ = writeln!(
        out,
        "Evaluated on {} held-out rows; report format `{}`.\n",
        report.data.rows, report.format
    );
    out.push_str("## Framing contract\n\n");
    let rows: Vec<Vec<String>> = framing_rows(report)
        .into_iter()
        .map(|(k, v)| vec![k, v])
        .collect();
    md_table(&mut out, &["key".into(), "value".into()], &rows);

    out.push_str("## Gates\n\n");
    let rows: Vec<Vec<String>> = report
        .gates
        .iter()
        .map(|g| {
            vec![
                g.name.clone(),
                g.rule.to_string(),
                match g.status {
                    GateStatus::Pass => "pass",
                    GateStatus::Fail => "**fail**",
                    GateStatus::Skipped => "skipped",
                }
                .to_string(),
                g.reason.clone(),
            ]
        })
        .collect();
    md_table(
        &mut out,
        &[
            "gate".into(),
            "rule".into(),
            "status".into(),
            "reason".into(),
        ],
        &rows,
    );

    out.push_str("## Metrics against the baseline\n\n");
    let (head, rows) = metric_rows(report);
    md_table(&mut out, &head, &rows);

    if let Some(c) = &report.calibration {
        out.push_str("## Calibration\n\n");
        let rows: Vec<Vec<String>> = [Role::Candidate, Role::Baseline, Role::Champion]
            .iter()
            .filter_map(|&role| {
                c.models.get(role).map(|m| {
                    vec![
                        model_name(report, role),
                        opt(m.ece),
                        opt(m.mce),
                        opt(m.brier),
                    ]
                })
            })
            .collect();
        md_table(
            &mut out,
            &["model".into(), "ECE".into(), "MCE".into(), "Brier".into()],
            &rows,
        );
    }

    if !report.slices.groups.is_empty() {
        out.push_str("## Slices\n\n");
        let (head, rows) = slice_rows(report);
        md_table(&mut out, &head, &rows);
    }

    if let Some(r) = &report.robustness {
        out.push_str("## Robustness\n\n");
        let rows: Vec<Vec<String>> = r
            .perturbations
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    opt(p.value),
                    opt(p.drop),
                    p.note.clone().unwrap_or_default(),
                ]
            })
            .collect();
        md_table(
            &mut out,
            &[
                "perturbation".into(),
                r.metric.clone(),
                "drop".into(),
                "note".into(),
            ],
            &rows,
        );
    }

    if let Some(b) = &report.business {
        out.push_str("## Business value\n\n");
        let rows: Vec<Vec<String>> = [Role::Candidate, Role::Baseline, Role::Champion]
            .iter()
            .filter_map(|&role| {
                let v = b.value_per_1k.get(role)?;
                let best = b
                    .best
                    .as_ref()
                    .and_then(|best| best.get(role))
                    .map(|t| {
                        format!(
                            "{} at {}",
                            format_number(t.value_per_1k),
                            format_number(t.threshold)
                        )
                    })
                    .unwrap_or_else(|| "—".into());
                Some(vec![model_name(report, role), opt(*v), best])
            })
            .collect();
        md_table(
            &mut out,
            &[
                "model".into(),
                "value per 1,000 (operating)".into(),
                "best value per 1,000".into(),
            ],
            &rows,
        );
    }

    out.push_str("## Latency and size\n\n");
    let l = &report.latency;
    let m = &report.model_size;
    md_table(
        &mut out,
        &["".into(), "measured".into(), "budget".into()],
        &[
            vec![
                "single-row latency".into(),
                format!(
                    "p50 {} ms, p99 {} ms",
                    format_number(l.p50_ms),
                    format_number(l.p99_ms)
                ),
                l.budget_p99_ms
                    .map_or("—".into(), |b| format!("p99 ≤ {} ms", format_number(b))),
            ],
            vec![
                "model size".into(),
                format!("{} MB", format_number(m.mb)),
                m.budget_mb
                    .map_or("—".into(), |b| format!("≤ {} MB", format_number(b))),
            ],
        ],
    );

    out.push_str("## Known limitations\n\n");
    if report.limitations.is_empty() {
        out.push_str("None found in this evaluation.\n\n");
    }
    for l in &report.limitations {
        let _ = writeln!(out, "- {}", md(l));
    }
    out.push_str("\n## Lineage\n\n```json\n");
    out.push_str(&serde_json::to_string_pretty(&report.lineage).unwrap_or_default());
    out.push_str("\n```\n");
    out
}

/// The Markdown card with the version's monitoring history: per endpoint, one table row per
/// window (rows, drift share and the drifted features, every realized metric with its CBPE
/// estimate, decay) and the alerts. Without histories it is [`render_markdown`].
pub fn render_markdown_with_monitoring(
    report: &EvalReport,
    monitoring: &[MonitorHistory],
) -> String {
    let mut out = render_markdown(report);
    for h in monitoring.iter().filter(|h| !h.windows.is_empty()) {
        let _ = writeln!(out, "\n## Monitoring history: `{}`\n", md(&h.endpoint));
        let mut head: Vec<String> = ["window (UTC)", "rows", "drift share", "drifted features"]
            .into_iter()
            .map(String::from)
            .collect();
        for m in &h.performance {
            if m.has_realized() {
                head.push(format!("{} realized", m.metric));
            }
            if m.has_estimated() {
                head.push(format!("{} estimated", m.metric));
            }
        }
        let rows: Vec<Vec<String>> = h
            .windows
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let share = h.drift_share.get(i).and_then(Option::as_ref);
                let mut row = vec![
                    format!(
                        "{} → {}",
                        crate::monitor_history::render::date_time(w.start_ms),
                        crate::monitor_history::render::date_time(w.end_ms)
                    ),
                    w.rows.map_or_else(|| "—".into(), |r| r.to_string()),
                    share.map_or_else(|| "—".into(), |s| format_number(s.share)),
                    share.map_or_else(String::new, |s| s.drifted_features.join(", ")),
                ];
                for m in &h.performance {
                    if m.has_realized() {
                        row.push(opt(m.realized.get(i).copied().flatten()));
                    }
                    if m.has_estimated() {
                        row.push(opt(m
                            .estimated
                            .get(i)
                            .and_then(Option::as_ref)
                            .map(|e| e.value)));
                    }
                }
                row
            })
            .collect();
        md_table(&mut out, &head, &rows);
        if !h.alerts.is_empty() {
            out.push_str("Alerts:\n\n");
            let rows: Vec<Vec<String>> = h
                .alerts
                .iter()
                .map(|a| {
                    vec![
                        a.rule.clone(),
                        a.signal.clone(),
                        a.severity.as_str().to_string(),
                        crate::monitor_history::render::date_time(a.opened_ms),
                        a.resolved_ms.map_or_else(
                            || "open".to_string(),
                            crate::monitor_history::render::date_time,
                        ),
                    ]
                })
                .collect();
            md_table(
                &mut out,
                &["rule", "signal", "severity", "opened", "resolved"].map(String::from),
                &rows,
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{esc, md, nice_range, tick};

    #[test]
    fn axis_ranges_end_on_round_ticks() {
        assert_eq!(nice_range(0.0, 1.0), (0.0, 1.0, 0.25));
        assert_eq!(nice_range(-2610.0, 752.0), (-3000.0, 1000.0, 1000.0));
        let (lo, hi, step) = nice_range(3.0, 3.0);
        assert!(lo < 3.0 && hi > 3.0 && step > 0.0);
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(-3000.0), "-3000");
        assert_eq!(tick(1e-12), "0");
    }

    #[test]
    fn text_is_escaped_for_html_and_markdown() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(md("a | b <i>"), "a \\| b &lt;i&gt;");
    }
}
