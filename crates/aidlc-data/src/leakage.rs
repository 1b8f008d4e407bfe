//! The leakage report every split gets: entity overlap, time overlap, duplicate rows across
//! splits, single features that predict the label almost perfectly, and training rows whose label
//! was not yet known at the cut-off. Overlaps the split's kind promises to avoid are errors; the
//! rest are warnings for a person to judge.

use crate::column::Column;
use crate::split::{SplitAssignment, SplitKind};
use crate::time::format_instant_ms;
use aidlc_stats::metrics::roc_auc;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};

/// A single feature whose ROC AUC (as `max(auc, 1 - auc)`) or |Pearson correlation| with the
/// label reaches this is named as a target-leak suspect.
pub const TARGET_LEAK_THRESHOLD: f64 = 0.95;

/// Examples listed per finding, so a report stays readable on large tables.
const MAX_EXAMPLES: usize = 10;

/// What the report is computed from; all slices are row-aligned with the table.
#[derive(Debug, Clone, Copy)]
pub struct LeakageInput<'a> {
    pub kind: SplitKind,
    /// Every column of the table, by name.
    pub columns: &'a [(&'a str, &'a Column)],
    pub entity_column: Option<&'a str>,
    pub entities: Option<&'a [Option<String>]>,
    pub time_column: Option<&'a str>,
    pub times: Option<&'a [Option<i64>]>,
    pub label_column: Option<&'a str>,
    /// The label value that is the positive class, as text; without it a two-valued label's
    /// larger value is positive.
    pub positive_label: Option<&'a str>,
    /// `[problem.label] delay`, in ms.
    pub label_delay_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// One thing the report wants a person to see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub severity: Severity,
    /// `entity_overlap`, `time_overlap`, `duplicate_rows`, `target_leak` or `late_labels`.
    pub check: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitCounts {
    pub train: usize,
    pub valid: usize,
    pub test: usize,
    pub excluded: usize,
}

/// Entities present in training and in a held-out split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityOverlap {
    pub train_entities: usize,
    pub held_out_entities: usize,
    /// Held-out entities that also appear in training.
    pub held_out_seen_in_train: usize,
    /// Distinct entities in train and valid, train and test, valid and test.
    pub train_valid: usize,
    pub train_test: usize,
    pub valid_test: usize,
    /// Share of held-out (valid and test) entities also seen in training.
    pub share: f64,
    /// Held-out rows whose entity is in training.
    pub held_out_rows_seen: usize,
    pub examples: Vec<String>,
}

/// Whether held-out rows are dated at or before the latest training row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeOverlap {
    pub train_max_ms: Option<i64>,
    pub valid_min_ms: Option<i64>,
    pub test_min_ms: Option<i64>,
    /// Held-out rows dated at or before the latest training time.
    pub held_out_rows_not_after_train: usize,
    pub share: f64,
}

/// Held-out rows identical (in every column but the label) to a training row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateRows {
    pub valid_in_train: usize,
    pub test_in_train: usize,
    /// Share of held-out rows that duplicate a training row.
    pub share: f64,
}

/// A feature that alone nearly determines the label, on the training rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetSuspect {
    pub column: String,
    /// `max(auc, 1 - auc)` for a two-class label.
    pub roc_auc: Option<f64>,
    pub correlation: Option<f64>,
}

/// Training rows whose label matures after the cut-off (time + delay > cut-off).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LateLabels {
    pub delay_ms: i64,
    /// The first held-out instant for temporal kinds, else the latest time in the table (when the
    /// data was taken).
    pub cutoff_ms: i64,
    pub train_rows: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeakageReport {
    pub kind: SplitKind,
    pub rows: SplitCounts,
    pub entity_overlap: Option<EntityOverlap>,
    pub time_overlap: Option<TimeOverlap>,
    pub duplicates: DuplicateRows,
    pub target_suspects: Vec<TargetSuspect>,
    pub late_labels: Option<LateLabels>,
    pub findings: Vec<Finding>,
}

impl LeakageReport {
    /// Whether a finding breaks what the split kind promises.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// Computes the report of one split.
pub fn leakage_report(input: &LeakageInput<'_>, split: &SplitAssignment) -> LeakageReport {
    let mut findings = Vec::new();
    let held_out: Vec<u32> = split.valid.iter().chain(&split.test).copied().collect();
    let entity_overlap = input.entities.map(|e| entity_overlap(e, split));
    if let Some(o) = &entity_overlap {
        let overlapping = o.train_valid + o.train_test + o.valid_test;
        if overlapping > 0 {
            let severity = if input.kind.forbids_entity_overlap() {
                Severity::Error
            } else {
                Severity::Warning
            };
            findings.push(Finding {
                severity,
                check: "entity_overlap".into(),
                message: format!(
                    "{} of {} held-out entities ({:.1}%) also appear in training ({} held-out rows), e.g. {}",
                    o.held_out_seen_in_train,
                    o.held_out_entities,
                    100.0 * o.share,
                    o.held_out_rows_seen,
                    o.examples.join(", ")
                ),
            });
        }
    }
    let time_overlap = input.times.map(|t| time_overlap(t, split, &held_out));
    if let Some(o) = &time_overlap
        && o.held_out_rows_not_after_train > 0
    {
        let severity = if input.kind.forbids_time_overlap() {
            Severity::Error
        } else {
            Severity::Warning
        };
        findings.push(Finding {
            severity,
            check: "time_overlap".into(),
            message: format!(
                "{} held-out rows ({:.1}%) are dated at or before the latest training time {}",
                o.held_out_rows_not_after_train,
                100.0 * o.share,
                o.train_max_ms.map(format_instant_ms).unwrap_or_default()
            ),
        });
    }
    let duplicates = duplicate_rows(input, split);
    if duplicates.valid_in_train + duplicates.test_in_train > 0 {
        findings.push(Finding {
            severity: Severity::Warning,
            check: "duplicate_rows".into(),
            message: format!(
                "{} validation and {} test rows repeat a training row exactly ({:.1}% of held-out rows)",
                duplicates.valid_in_train,
                duplicates.test_in_train,
                100.0 * duplicates.share
            ),
        });
    }
    let target_suspects = target_suspects(input, &split.train);
    for s in &target_suspects {
        findings.push(Finding {
            severity: Severity::Warning,
            check: "target_leak".into(),
            message: format!(
                "column `{}` alone predicts the label (ROC AUC {}, correlation {}): is it known before the label?",
                s.column,
                s.roc_auc.map_or("-".into(), |v| format!("{v:.3}")),
                s.correlation.map_or("-".into(), |v| format!("{v:.3}")),
            ),
        });
    }
    let late_labels = late_labels(input, split);
    if let Some(l) = &late_labels
        && l.train_rows > 0
    {
        findings.push(Finding {
            severity: Severity::Warning,
            check: "late_labels".into(),
            message: format!(
                "{} training rows have a label that was not yet known at the cut-off {} (label delay {} s)",
                l.train_rows,
                format_instant_ms(l.cutoff_ms),
                l.delay_ms / 1000
            ),
        });
    }
    LeakageReport {
        kind: input.kind,
        rows: SplitCounts {
            train: split.train.len(),
            valid: split.valid.len(),
            test: split.test.len(),
            excluded: split.excluded.len(),
        },
        entity_overlap,
        time_overlap,
        duplicates,
        target_suspects,
        late_labels,
        findings,
    }
}

fn entity_overlap(entities: &[Option<String>], split: &SplitAssignment) -> EntityOverlap {
    let set = |rows: &[u32]| -> BTreeSet<&str> {
        rows.iter()
            .filter_map(|&r| entities[r as usize].as_deref())
            .collect()
    };
    let (train, valid, test) = (set(&split.train), set(&split.valid), set(&split.test));
    let held_out: BTreeSet<&str> = valid.union(&test).copied().collect();
    let seen: Vec<&str> = held_out.intersection(&train).copied().collect();
    let held_out_rows_seen = split
        .valid
        .iter()
        .chain(&split.test)
        .filter(|&&r| {
            entities[r as usize]
                .as_deref()
                .is_some_and(|e| train.contains(e))
        })
        .count();
    EntityOverlap {
        train_entities: train.len(),
        held_out_entities: held_out.len(),
        held_out_seen_in_train: seen.len(),
        train_valid: train.intersection(&valid).count(),
        train_test: train.intersection(&test).count(),
        valid_test: valid.intersection(&test).count(),
        share: if held_out.is_empty() {
            0.0
        } else {
            seen.len() as f64 / held_out.len() as f64
        },
        held_out_rows_seen,
        examples: seen
            .iter()
            .take(MAX_EXAMPLES)
            .map(|s| s.to_string())
            .collect(),
    }
}

fn time_overlap(times: &[Option<i64>], split: &SplitAssignment, held_out: &[u32]) -> TimeOverlap {
    let max = |rows: &[u32]| rows.iter().filter_map(|&r| times[r as usize]).max();
    let min = |rows: &[u32]| rows.iter().filter_map(|&r| times[r as usize]).min();
    let train_max = max(&split.train);
    let not_after = train_max.map_or(0, |m| {
        held_out
            .iter()
            .filter(|&&r| times[r as usize].is_some_and(|t| t <= m))
            .count()
    });
    TimeOverlap {
        train_max_ms: train_max,
        valid_min_ms: min(&split.valid),
        test_min_ms: min(&split.test),
        held_out_rows_not_after_train: not_after,
        share: if held_out.is_empty() {
            0.0
        } else {
            not_after as f64 / held_out.len() as f64
        },
    }
}

/// The text of a row over every column but the label, as the key for exact duplicates. The
/// unit separator cannot appear in CSV cells written by people, so keys do not run together.
fn row_key(columns: &[&Column], row: usize) -> String {
    let mut key = String::new();
    for c in columns {
        match c {
            Column::Numeric(v) => key.push_str(&v[row].to_bits().to_string()),
            Column::Categorical(v) => match &v[row] {
                Some(text) => {
                    key.push('s');
                    key.push_str(text);
                }
                None => key.push('-'),
            },
        }
        key.push('\u{1f}');
    }
    key
}

fn duplicate_rows(input: &LeakageInput<'_>, split: &SplitAssignment) -> DuplicateRows {
    let columns: Vec<&Column> = input
        .columns
        .iter()
        .filter(|(name, _)| Some(*name) != input.label_column)
        .map(|(_, c)| *c)
        .collect();
    let train: HashSet<String> = split
        .train
        .iter()
        .map(|&r| row_key(&columns, r as usize))
        .collect();
    let count = |rows: &[u32]| {
        rows.iter()
            .filter(|&&r| train.contains(&row_key(&columns, r as usize)))
            .count()
    };
    let (valid_in_train, test_in_train) = (count(&split.valid), count(&split.test));
    let held_out = split.valid.len() + split.test.len();
    DuplicateRows {
        valid_in_train,
        test_in_train,
        share: if held_out == 0 {
            0.0
        } else {
            (valid_in_train + test_in_train) as f64 / held_out as f64
        },
    }
}

/// The label of each training row as a number: 0/1 for a two-class label, the value itself for
/// a numeric label with more values; `None` when it cannot be read as either. `binary` says
/// whether ROC AUC applies.
fn numeric_label(input: &LeakageInput<'_>, rows: &[u32]) -> Option<(Vec<f64>, bool)> {
    let name = input.label_column?;
    let column = input.columns.iter().find(|(n, _)| *n == name)?.1;
    let texts: Vec<Option<String>> = match column {
        Column::Numeric(v) => {
            let values: Vec<f64> = rows.iter().map(|&r| v[r as usize]).collect();
            let distinct: BTreeSet<u64> = values
                .iter()
                .filter(|x| !x.is_nan())
                .map(|x| x.to_bits())
                .collect();
            if distinct.len() > 2 && input.positive_label.is_none() {
                return Some((values, false));
            }
            values
                .iter()
                .map(|x| (!x.is_nan()).then(|| format!("{x}")))
                .collect()
        }
        Column::Categorical(v) => rows.iter().map(|&r| v[r as usize].clone()).collect(),
    };
    let distinct: BTreeSet<&str> = texts.iter().flatten().map(String::as_str).collect();
    let positive = match input.positive_label {
        Some(p) => p.to_string(),
        None if distinct.len() == 2 => distinct.iter().next_back()?.to_string(),
        None => return None,
    };
    let values = texts
        .iter()
        .map(|t| match t {
            None => f64::NAN,
            Some(t) if *t == positive => 1.0,
            Some(_) => 0.0,
        })
        .collect();
    Some((values, true))
}

fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    if x.len() < 2 {
        return None;
    }
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

fn target_suspects(input: &LeakageInput<'_>, train: &[u32]) -> Vec<TargetSuspect> {
    let Some((label, binary)) = numeric_label(input, train) else {
        return Vec::new();
    };
    let skip = [input.label_column, input.entity_column, input.time_column];
    let mut out = Vec::new();
    for (name, column) in input.columns {
        if skip.contains(&Some(*name)) {
            continue;
        }
        // Categorical features would need out-of-fold target encoding first; only numeric
        // columns are screened.
        let Column::Numeric(values) = column else {
            continue;
        };
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for (i, &r) in train.iter().enumerate() {
            let (v, l) = (values[r as usize], label[i]);
            if v.is_finite() && l.is_finite() {
                x.push(v);
                y.push(l);
            }
        }
        let auc = if binary {
            roc_auc(&y, &x).ok().map(|a| a.max(1.0 - a))
        } else {
            None
        };
        let correlation = pearson(&x, &y);
        let suspicious = auc.is_some_and(|a| a >= TARGET_LEAK_THRESHOLD)
            || correlation.is_some_and(|c| c.abs() >= TARGET_LEAK_THRESHOLD);
        if suspicious {
            out.push(TargetSuspect {
                column: name.to_string(),
                roc_auc: auc,
                correlation,
            });
        }
    }
    out
}

fn late_labels(input: &LeakageInput<'_>, split: &SplitAssignment) -> Option<LateLabels> {
    let (delay, times) = (input.label_delay_ms?, input.times?);
    let cutoff = if input.kind.forbids_time_overlap() {
        split.valid_start_ms.or(split.test_start_ms)?
    } else {
        times.iter().flatten().copied().max()?
    };
    let train_rows = split
        .train
        .iter()
        .filter(|&&r| times[r as usize].is_some_and(|t| t.saturating_add(delay) > cutoff))
        .count();
    Some(LateLabels {
        delay_ms: delay,
        cutoff_ms: cutoff,
        train_rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::{Fractions, SplitInput, SplitPlan, split};

    #[test]
    fn random_rows_of_repeating_entities_overlap_and_entity_groups_do_not() {
        let entities: Vec<Option<String>> =
            (0..200).map(|i| Some(format!("c{}", i % 20))).collect();
        let amount = Column::Numeric((0..200).map(|i| (i % 7) as f64).collect());
        let columns = [("amount", &amount)];
        let mut plan = SplitPlan {
            kind: SplitKind::Random,
            fractions: Fractions::default(),
            seed: 1,
            valid_start_ms: None,
            test_start_ms: None,
            gap_ms: 0,
        };
        let input = SplitInput {
            n_rows: 200,
            entities: Some(&entities),
            ..SplitInput::default()
        };
        let leak_input = LeakageInput {
            kind: SplitKind::Random,
            columns: &columns,
            entity_column: Some("customer"),
            entities: Some(&entities),
            time_column: None,
            times: None,
            label_column: None,
            positive_label: None,
            label_delay_ms: None,
        };
        let random = leakage_report(&leak_input, &split(&plan, &input).unwrap());
        assert_eq!(random.entity_overlap.as_ref().unwrap().share, 1.0);
        assert!(!random.has_errors(), "a random split only warns");
        plan.kind = SplitKind::EntityGroup;
        let grouped = leakage_report(
            &LeakageInput {
                kind: SplitKind::EntityGroup,
                ..leak_input
            },
            &split(&plan, &input).unwrap(),
        );
        let o = grouped.entity_overlap.clone().unwrap();
        assert_eq!((o.train_valid, o.train_test, o.valid_test), (0, 0, 0));
        assert!(!grouped.has_errors());
    }

    #[test]
    fn a_copy_of_the_label_is_a_suspect_and_noise_is_not() {
        let n = 400;
        let label = Column::Numeric((0..n).map(|i| ((i * 7919) % 3 == 0) as u8 as f64).collect());
        let copy = label.clone();
        let noise = Column::Numeric((0..n).map(|i| ((i * 31) % 17) as f64).collect());
        let columns = [("y", &label), ("leak", &copy), ("noise", &noise)];
        let assignment = SplitAssignment {
            train: (0..300).collect(),
            valid: Vec::new(),
            test: (300..400).collect(),
            excluded: Vec::new(),
            valid_start_ms: None,
            test_start_ms: None,
        };
        let report = leakage_report(
            &LeakageInput {
                kind: SplitKind::Random,
                columns: &columns,
                entity_column: None,
                entities: None,
                time_column: None,
                times: None,
                label_column: Some("y"),
                positive_label: None,
                label_delay_ms: None,
            },
            &assignment,
        );
        let names: Vec<&str> = report
            .target_suspects
            .iter()
            .map(|s| s.column.as_str())
            .collect();
        assert_eq!(names, vec!["leak"]);
        assert_eq!(report.target_suspects[0].roc_auc, Some(1.0));
        // Every held-out row repeats some training row in the two feature columns.
        assert!(report.duplicates.test_in_train > 0);
    }

    #[test]
    fn time_overlap_and_late_labels_are_counted() {
        let times: Vec<Option<i64>> = (0..10).map(Some).collect();
        let assignment = SplitAssignment {
            train: vec![0, 1, 2, 3, 4, 5, 7],
            valid: Vec::new(),
            test: vec![6, 8, 9],
            excluded: Vec::new(),
            valid_start_ms: Some(6),
            test_start_ms: Some(6),
        };
        let report = leakage_report(
            &LeakageInput {
                kind: SplitKind::Temporal,
                columns: &[],
                entity_column: None,
                entities: None,
                time_column: Some("t"),
                times: Some(&times),
                label_column: None,
                positive_label: None,
                label_delay_ms: Some(2),
            },
            &assignment,
        );
        let o = report.time_overlap.as_ref().unwrap();
        assert_eq!(
            (o.train_max_ms, o.held_out_rows_not_after_train),
            (Some(7), 1)
        );
        assert!(report.has_errors(), "a temporal split forbids time overlap");
        // Rows at 5 and 7 have labels maturing after the cut at 6 (t + 2 > 6).
        assert_eq!(report.late_labels.unwrap().train_rows, 2);
    }
}
