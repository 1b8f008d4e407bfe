//! Gates and known limitations, both read off a finished report: a gate compares one number of
//! the report with a number, the baseline's or champion's value, or a `[constraints]` budget;
//! limitations are sentences derived from the report's facts.

use aidlc_core::spec::{Gate, GateOp, GatePath, GateRhs, Metric, ProblemSpec, Task};

use super::{EvalReport, GateOutcome, GateStatus, Role};

/// A number for messages: whole numbers as they are, three decimals below 100, one up to
/// 10,000, none above; tiny values with two significant digits so they do not print as 0.000.
pub fn format_number(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 {
        "0".to_string()
    } else if x.fract() == 0.0 && a < 1e15 {
        format!("{x:.0}")
    } else if a < 0.001 {
        let digits = (-a.log10()).ceil() as usize + 1;
        format!("{x:.digits$}")
    } else if a < 100.0 {
        format!("{x:.3}")
    } else if a < 10_000.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    }
}

/// The gates of `[evaluate.gates]`, or the default gates when none are written: the primary
/// metric no worse than the baseline's, and latency and size within their `[constraints]`
/// budgets where those are set.
pub(crate) fn evaluate_gates(spec: &ProblemSpec, report: &EvalReport) -> Vec<GateOutcome> {
    let written: Vec<(String, Gate, bool)> = spec
        .evaluate
        .gates
        .iter()
        .map(|(name, gate)| (name.clone(), *gate, false))
        .collect();
    let gates = if written.is_empty() {
        default_gates(spec)
    } else {
        written
    };
    gates
        .into_iter()
        .map(|(name, gate, default)| outcome(spec, report, name, gate, default))
        .collect()
}

fn default_gates(spec: &ProblemSpec) -> Vec<(String, Gate, bool)> {
    let mut gates = Vec::new();
    if let Some(metric) = spec.baseline.metric {
        let op = if metric.higher_is_better() {
            GateOp::Ge
        } else {
            GateOp::Le
        };
        gates.push((
            "beats_baseline".to_string(),
            Gate {
                path: GatePath::Metric(metric),
                op,
                rhs: GateRhs::Baseline { offset: 0.0 },
            },
            true,
        ));
    }
    if spec.constraints.p99_latency_ms.is_some() {
        gates.push((
            "latency_budget".to_string(),
            Gate {
                path: GatePath::P99LatencyMs,
                op: GateOp::Le,
                rhs: GateRhs::Constraints,
            },
            true,
        ));
    }
    if spec.constraints.max_model_size_mb.is_some() {
        gates.push((
            "size_budget".to_string(),
            Gate {
                path: GatePath::ModelSizeMb,
                op: GateOp::Le,
                rhs: GateRhs::Constraints,
            },
            true,
        ));
    }
    gates
}

fn outcome(
    spec: &ProblemSpec,
    report: &EvalReport,
    name: String,
    gate: Gate,
    default: bool,
) -> GateOutcome {
    let path = gate.path;
    let op = gate.op;
    let mut result = GateOutcome {
        name,
        rule: gate,
        default,
        status: GateStatus::Fail,
        value: None,
        threshold: None,
        op,
        reason: String::new(),
    };
    let value = match path_value(report, Role::Candidate, path) {
        Ok(v) => v,
        Err(why) => {
            result.reason = format!("{path} cannot be evaluated: {why}: fail");
            return result;
        }
    };
    result.value = Some(value);
    let with_offset = |word: &str, base: f64, offset: f64| -> (f64, String) {
        let threshold = base + offset;
        let text = if offset == 0.0 {
            format!("{word} {}", format_number(base))
        } else {
            let sign = if offset > 0.0 { '+' } else { '-' };
            format!(
                "{word} {} {sign} {} = {}",
                format_number(base),
                format_number(offset.abs()),
                format_number(threshold)
            )
        };
        (threshold, text)
    };
    let (threshold, rhs_text) = match gate.rhs {
        GateRhs::Number(n) => (n, format_number(n)),
        GateRhs::Baseline { offset } => match path_value(report, Role::Baseline, path) {
            Ok(b) => with_offset("baseline", b, offset),
            Err(why) => {
                result.reason = format!(
                    "{path} {} {op_s} baseline: the baseline's value cannot be evaluated: {why}: fail",
                    format_number(value),
                    op_s = op.symbol()
                );
                return result;
            }
        },
        GateRhs::Champion { offset } => {
            if report.models.iter().all(|m| m.role != Role::Champion) {
                result.status = GateStatus::Skipped;
                result.reason = format!(
                    "{path} {} {} champion: there is no champion to compare with: skipped",
                    format_number(value),
                    op.symbol()
                );
                return result;
            }
            match path_value(report, Role::Champion, path) {
                Ok(c) => with_offset("champion", c, offset),
                Err(why) => {
                    result.reason = format!(
                        "{path} {} {} champion: the champion's value cannot be evaluated: {why}: fail",
                        format_number(value),
                        op.symbol()
                    );
                    return result;
                }
            }
        }
        GateRhs::Constraints => {
            let budget = match path {
                GatePath::P99LatencyMs => spec
                    .constraints
                    .p99_latency_ms
                    .map(|b| (b, "constraints.p99_latency_ms")),
                GatePath::ModelSizeMb => spec
                    .constraints
                    .max_model_size_mb
                    .map(|b| (b, "constraints.max_model_size_mb")),
                _ => None,
            };
            match budget {
                Some((b, key)) => (b, format!("{key} {}", format_number(b))),
                None => {
                    result.reason = format!(
                        "{path} {} {} constraints: no matching [constraints] budget is set: fail",
                        format_number(value),
                        op.symbol()
                    );
                    return result;
                }
            }
        }
    };
    result.threshold = Some(threshold);
    let pass = op.holds(value, threshold);
    result.status = if pass {
        GateStatus::Pass
    } else {
        GateStatus::Fail
    };
    result.reason = format!(
        "{path} {} {} {rhs_text}: {}",
        format_number(value),
        op.symbol(),
        if pass { "pass" } else { "fail" }
    );
    result
}

/// The value of a metric path for a model, or why there is none.
pub(crate) fn path_value(report: &EvalReport, role: Role, path: GatePath) -> Result<f64, String> {
    let missing = |what: &str| format!("{what} is undefined for the {}", role.as_str());
    let candidate_only = || {
        if role == Role::Candidate {
            Ok(())
        } else {
            Err(format!("{path} is measured for the candidate only"))
        }
    };
    match path {
        GatePath::Metric(m) => {
            let row = report
                .metrics
                .iter()
                .find(|r| r.metric == m.as_str())
                .ok_or_else(|| format!("`{m}` is not a metric of this task"))?;
            row.values
                .get(role)
                .and_then(|e| e.value)
                .ok_or_else(|| missing(m.as_str()))
        }
        GatePath::Ece => report
            .calibration
            .as_ref()
            .ok_or_else(|| "calibration applies to classifiers only".to_string())?
            .models
            .get(role)
            .and_then(|c| c.ece)
            .ok_or_else(|| missing("ece")),
        GatePath::WorstSlice(m) => worst_slice_value(report, role, m),
        GatePath::P50LatencyMs => candidate_only().map(|_| report.latency.p50_ms),
        GatePath::P99LatencyMs => candidate_only().map(|_| report.latency.p99_ms),
        GatePath::ModelSizeMb => candidate_only().map(|_| report.model_size.mb),
        GatePath::ValuePer1k => report
            .business
            .as_ref()
            .ok_or_else(|| "[business] does not give the values this task needs".to_string())?
            .value_per_1k
            .get(role)
            .copied()
            .flatten()
            .ok_or_else(|| missing("value_per_1k")),
        GatePath::BestValuePer1k => report
            .business
            .as_ref()
            .and_then(|b| b.best.as_ref())
            .ok_or_else(|| {
                "the threshold sweep needs binary classification and [business] tp/fp/fn/tn"
                    .to_string()
            })?
            .get(role)
            .map(|t| t.value_per_1k)
            .ok_or_else(|| missing("best_value_per_1k")),
        GatePath::Robustness {
            perturbation,
            metric,
            drop,
        } => {
            candidate_only()?;
            let r = report
                .robustness
                .as_ref()
                .ok_or_else(|| "robustness checks are off".to_string())?;
            if r.metric != metric.as_str() {
                return Err(format!("robustness is measured on `{}`", r.metric));
            }
            let p = r
                .perturbations
                .iter()
                .find(|p| p.name == perturbation.as_str())
                .ok_or_else(|| format!("no perturbation `{perturbation}` in the report"))?;
            let value = if drop { p.drop } else { p.value };
            value.ok_or_else(|| {
                p.note
                    .clone()
                    .unwrap_or_else(|| format!("{perturbation} has no value"))
            })
        }
        GatePath::RobustnessMaxDrop => {
            candidate_only()?;
            report
                .robustness
                .as_ref()
                .ok_or_else(|| "robustness checks are off".to_string())?
                .max_drop
                .ok_or_else(|| "no perturbation gave a value".to_string())
        }
    }
}

/// The worst value of `metric` for a model over the slices with enough rows.
fn worst_slice_value(report: &EvalReport, role: Role, metric: Metric) -> Result<f64, String> {
    let j = report
        .metrics
        .iter()
        .position(|r| r.metric == metric.as_str())
        .ok_or_else(|| format!("`{metric}` is not a metric of this task"))?;
    let values = report
        .slices
        .groups
        .iter()
        .flat_map(|g| &g.slices)
        .filter(|s| s.enough_rows)
        .filter_map(|s| s.metrics.get(role).and_then(|m| m[j]));
    let worst = values.fold(None, |w: Option<f64>, v| {
        Some(match w {
            None => v,
            Some(w) if metric.higher_is_better() => w.min(v),
            Some(w) => w.max(v),
        })
    });
    worst.ok_or_else(|| {
        format!(
            "no slice has {} rows or more with a defined {metric}",
            report.slices.min_rows
        )
    })
}

/// ECE above which probabilities are called miscalibrated in the limitations.
const ECE_WARNING: f64 = 0.05;
/// Drop of the primary metric above which a perturbation is called harmful.
const DROP_WARNING: f64 = 0.05;

/// Known limitations, derived from the report's facts only.
pub(crate) fn limitations(report: &EvalReport) -> Vec<String> {
    let mut out = Vec::new();
    let primary = &report.primary_metric;
    for g in report.gates.iter().filter(|g| g.status == GateStatus::Fail) {
        out.push(format!("Gate `{}` fails: {}.", g.name, g.reason));
    }
    if let Some(row) = report.metrics.first() {
        let d = row.delta_vs_baseline;
        let (lower, upper) = (d.lower.unwrap_or(f64::NAN), d.upper.unwrap_or(f64::NAN));
        let not_better = if row.higher_is_better {
            lower <= 0.0
        } else {
            upper >= 0.0
        };
        if not_better {
            out.push(format!(
                "The candidate is not clearly better than the baseline on {primary}: the 95% \
                 interval of the difference is [{}, {}].",
                format_number(lower),
                format_number(upper)
            ));
        }
    }
    if let Some(w) = &report.slices.worst {
        let overall = w
            .overall
            .map(|o| format!(" against {} on all rows", format_number(o)))
            .unwrap_or_default();
        out.push(format!(
            "Weakest on the slice {} ({} rows): {} {}{overall}.",
            w.name,
            w.count,
            w.metric,
            format_number(w.value)
        ));
    }
    let small: Vec<String> = report
        .slices
        .groups
        .iter()
        .flat_map(|g| &g.slices)
        .filter(|s| !s.enough_rows)
        .map(|s| format!("{} ({} rows)", s.name, s.count))
        .collect();
    if !small.is_empty() {
        out.push(format!(
            "{} slice(s) have fewer than {} rows, so their metrics are too uncertain to judge \
             and they are not considered for the worst slice: {}.",
            small.len(),
            report.slices.min_rows,
            small.join(", ")
        ));
    }
    let undefined: Vec<&str> = report
        .slices
        .groups
        .iter()
        .flat_map(|g| &g.slices)
        .filter(|s| s.count > 0 && s.primary.candidate.value.is_none())
        .map(|s| s.name.as_str())
        .collect();
    if !undefined.is_empty() {
        out.push(format!(
            "{primary} is undefined on {} slice(s), usually because they hold one class only: {}.",
            undefined.len(),
            undefined.join(", ")
        ));
    }
    if let Some(c) = &report.calibration
        && let Some(ece) = c.models.candidate.ece
        && ece > ECE_WARNING
    {
        out.push(format!(
            "Probabilities are miscalibrated (ECE {} over {} bins): read them as scores, not as \
             frequencies, or calibrate the model.",
            format_number(ece),
            c.bins
        ));
    }
    if let Some(r) = &report.robustness {
        for p in &r.perturbations {
            if let Some(d) = p.drop
                && d > DROP_WARNING
            {
                out.push(format!(
                    "Sensitive to {}: {} drops by {} ({}).",
                    p.name,
                    r.metric,
                    format_number(d),
                    p.description
                ));
            }
            if let Some(note) = &p.note
                && !note.starts_with("not applicable")
            {
                out.push(format!("Robustness check {} did not run: {note}.", p.name));
            }
        }
    }
    if report.latency.within_budget == Some(false) {
        out.push(format!(
            "Single-row p99 latency {} ms exceeds the budget of {} ms.",
            format_number(report.latency.p99_ms),
            format_number(report.latency.budget_p99_ms.unwrap_or(f64::NAN))
        ));
    }
    if report.model_size.within_budget == Some(false) {
        out.push(format!(
            "The model is {} MB, over the budget of {} MB.",
            format_number(report.model_size.mb),
            format_number(report.model_size.budget_mb.unwrap_or(f64::NAN))
        ));
    }
    if let Some(b) = &report.business
        && let Some(best) = &b.best
        && let (Some(at), Some(t)) = (b.value_per_1k.candidate, b.operating_threshold)
        && best.candidate.value_per_1k > at
        && (best.candidate.threshold - t).abs() > 1e-9
    {
        out.push(format!(
            "At the operating threshold {} the model earns {} per 1,000 predictions; the \
             threshold {} would earn {}.",
            format_number(t),
            format_number(at),
            format_number(best.candidate.threshold),
            format_number(best.candidate.value_per_1k)
        ));
    }
    if report.business.is_none() {
        let why = match report.framing.problem.task {
            Some(Task::MulticlassClassification) => {
                "[business] values (tp, fp, fn, tn) describe two classes, and this task has more"
            }
            Some(Task::Regression) => "[business] has no cost_per_unit_error",
            _ => "[business] does not give all of tp, fp, fn and tn",
        };
        out.push(format!(
            "Business value is not reported: {why}. The metrics alone do not say what the \
             model is worth."
        ));
    }
    if report.data.rows_without_label > 0 {
        out.push(format!(
            "{} held-out row(s) without a label were left out.",
            report.data.rows_without_label
        ));
    }
    if report.models.iter().all(|m| m.role != Role::Champion) {
        out.push(
            "There is no champion yet: the candidate is compared with the baseline only.".into(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::format_number;

    #[test]
    fn numbers_print_for_people() {
        for (x, shown) in [
            (0.0, "0"),
            (50.0, "50"),
            (-10.0, "-10"),
            (0.5, "0.500"),
            (0.87345, "0.873"),
            (0.000787, "0.00079"),
            (1083.25, "1083.2"),
            (123_456.7, "123457"),
        ] {
            assert_eq!(format_number(x), shown, "{x}");
        }
    }
}
