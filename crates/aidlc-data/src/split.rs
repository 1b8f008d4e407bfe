//! Train/validation/test splits of one table, by time, by entity, by both, or seeded random
//! (optionally stratified by the label), as row indices.
//!
//! Rules that keep a split honest:
//! - A temporal cut falls between two distinct instants, never through one, so rows that share a
//!   timestamp stay together (scikit-learn's `TimeSeriesSplit` cuts by row position instead).
//! - The gap (purge) drops rows whose time is within `gap` before the next split's start, so a
//!   label that needs `gap` to mature cannot see into the held-out period.
//! - An entity goes to one split by a seeded hash of its id, so the assignment is stable when
//!   rows are added and never depends on the order of the file.

use aidlc_stats::rng::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How rows are assigned to splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitKind {
    /// By time: train before valid before test, cut at instants.
    Temporal,
    /// By entity: each entity's rows all go to one split.
    EntityGroup,
    /// By entity and time: the held-out entities are never seen in training, and held-out rows
    /// come after the training period.
    TemporalEntity,
    /// Seeded random rows, in the label's class proportions in every split.
    Stratified,
    /// Seeded random rows. It ignores entities and time, so it leaks whenever rows repeat an
    /// entity; the leakage report says so.
    Random,
}

impl SplitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SplitKind::Temporal => "temporal",
            SplitKind::EntityGroup => "entity_group",
            SplitKind::TemporalEntity => "temporal_entity",
            SplitKind::Stratified => "stratified",
            SplitKind::Random => "random",
        }
    }

    /// Whether the kind promises that no entity is in two splits.
    pub fn forbids_entity_overlap(self) -> bool {
        matches!(self, SplitKind::EntityGroup | SplitKind::TemporalEntity)
    }

    /// Whether the kind promises that every held-out row is later than every training row.
    pub fn forbids_time_overlap(self) -> bool {
        matches!(self, SplitKind::Temporal | SplitKind::TemporalEntity)
    }
}

impl std::str::FromStr for SplitKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        [
            SplitKind::Temporal,
            SplitKind::EntityGroup,
            SplitKind::TemporalEntity,
            SplitKind::Stratified,
            SplitKind::Random,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
        .ok_or_else(|| {
            format!(
                "unknown split kind `{text}`: expected temporal, entity_group, temporal_entity, stratified or random"
            )
        })
    }
}

/// The share of rows (or of entities, or of time) for each split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fractions {
    pub train: f64,
    pub valid: f64,
    pub test: f64,
}

impl Default for Fractions {
    fn default() -> Self {
        Fractions {
            train: 0.7,
            valid: 0.15,
            test: 0.15,
        }
    }
}

impl Fractions {
    /// Fails unless every share is in [0, 1], train and test are positive and they add up to 1.
    pub fn validate(&self) -> Result<(), String> {
        let all = [self.train, self.valid, self.test];
        if all
            .iter()
            .any(|f| !f.is_finite() || !(0.0..=1.0).contains(f))
        {
            return Err("every fraction must be between 0 and 1".into());
        }
        if self.train <= 0.0 || self.test <= 0.0 {
            return Err("train and test fractions must be positive".into());
        }
        let sum: f64 = all.iter().sum();
        if (sum - 1.0).abs() > 1e-6 {
            return Err(format!("train + valid + test must be 1, not {sum}"));
        }
        Ok(())
    }
}

/// Everything that decides a split; stored in the manifest so the split can be reproduced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitPlan {
    pub kind: SplitKind,
    pub fractions: Fractions,
    pub seed: u64,
    /// Temporal kinds: the first instant of the validation split (ms); from fractions when unset.
    pub valid_start_ms: Option<i64>,
    /// Temporal kinds: the first instant of the test split (ms); from fractions when unset.
    pub test_start_ms: Option<i64>,
    /// Temporal kinds: rows within this many ms before the next split's start are dropped.
    pub gap_ms: i64,
}

/// The columns a split may need, row-aligned; `None` when the table has no such column.
#[derive(Debug, Clone, Copy, Default)]
pub struct SplitInput<'a> {
    pub n_rows: usize,
    pub entities: Option<&'a [Option<String>]>,
    pub times: Option<&'a [Option<i64>]>,
    pub labels: Option<&'a [Option<String>]>,
}

/// Row indices (from 0, ascending) of each split, and the rows no split took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitAssignment {
    pub train: Vec<u32>,
    pub valid: Vec<u32>,
    pub test: Vec<u32>,
    /// Rows dropped by the gap, rows missing the time or entity the kind needs, and (temporal
    /// entity splits) rows of an entity outside its split's period.
    pub excluded: Vec<u32>,
    /// Temporal kinds: the cut instants used.
    pub valid_start_ms: Option<i64>,
    pub test_start_ms: Option<i64>,
}

/// Why a split could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SplitError {
    #[error("a {kind} split needs the {what} column ({hint})")]
    MissingColumn {
        kind: &'static str,
        what: &'static str,
        hint: &'static str,
    },
    #[error("invalid fractions: {0}")]
    Fractions(String),
    #[error("{0}")]
    Cut(String),
    #[error("the table has more than 4294967295 rows")]
    TooManyRows,
}

/// A stable number in [0, 1) for an entity id under a seed: FNV-1a over the seed and the id,
/// then a SplitMix64 finaliser so that nearby ids spread out.
pub fn entity_unit(seed: u64, entity: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.to_le_bytes().iter().chain(entity.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Train,
    Valid,
    Test,
    Excluded,
}

fn part_of_unit(u: f64, f: &Fractions) -> Part {
    if u < f.train {
        Part::Train
    } else if u < f.train + f.valid {
        Part::Valid
    } else {
        Part::Test
    }
}

/// Splits the rows as `plan` says.
pub fn split(plan: &SplitPlan, input: &SplitInput<'_>) -> Result<SplitAssignment, SplitError> {
    plan.fractions.validate().map_err(SplitError::Fractions)?;
    if input.n_rows > u32::MAX as usize {
        return Err(SplitError::TooManyRows);
    }
    let kind = plan.kind.as_str();
    let need_entities = || {
        input.entities.ok_or(SplitError::MissingColumn {
            kind,
            what: "entity",
            hint: "set [problem] entity in aidlc.toml or pass --entity",
        })
    };
    let need_times = || {
        input.times.ok_or(SplitError::MissingColumn {
            kind,
            what: "time",
            hint: "set [problem] time in aidlc.toml or pass --time",
        })
    };
    let mut cuts = (None, None);
    let parts: Vec<Part> = match plan.kind {
        SplitKind::Random => random_parts(plan, input.n_rows, None),
        SplitKind::Stratified => {
            let labels = input.labels.ok_or(SplitError::MissingColumn {
                kind,
                what: "label",
                hint: "set [problem.label] column in aidlc.toml or pass --label",
            })?;
            random_parts(plan, input.n_rows, Some(labels))
        }
        SplitKind::EntityGroup => entity_parts(plan, need_entities()?),
        SplitKind::Temporal => {
            let times = need_times()?;
            let (valid_start, test_start) = cut_times(plan, times)?;
            cuts = (Some(valid_start), Some(test_start));
            times
                .iter()
                .map(|t| time_part(*t, valid_start, test_start, plan.gap_ms))
                .collect()
        }
        SplitKind::TemporalEntity => {
            let times = need_times()?;
            let by_entity = entity_parts(plan, need_entities()?);
            let (valid_start, test_start) = cut_times(plan, times)?;
            cuts = (Some(valid_start), Some(test_start));
            times
                .iter()
                .zip(by_entity)
                .map(|(t, entity_part)| {
                    let by_time = time_part(*t, valid_start, test_start, plan.gap_ms);
                    if by_time == entity_part {
                        by_time
                    } else {
                        Part::Excluded
                    }
                })
                .collect()
        }
    };
    let mut out = SplitAssignment {
        train: Vec::new(),
        valid: Vec::new(),
        test: Vec::new(),
        excluded: Vec::new(),
        valid_start_ms: cuts.0,
        test_start_ms: cuts.1,
    };
    for (row, part) in parts.into_iter().enumerate() {
        let row = row as u32;
        match part {
            Part::Train => out.train.push(row),
            Part::Valid => out.valid.push(row),
            Part::Test => out.test.push(row),
            Part::Excluded => out.excluded.push(row),
        }
    }
    if out.train.is_empty() || out.test.is_empty() {
        return Err(SplitError::Cut(format!(
            "the split leaves {} training and {} test rows; both need at least one",
            out.train.len(),
            out.test.len()
        )));
    }
    Ok(out)
}

fn entity_parts(plan: &SplitPlan, entities: &[Option<String>]) -> Vec<Part> {
    // Hashing each distinct id once keeps this fast when entities repeat many times.
    let mut memo: BTreeMap<&str, Part> = BTreeMap::new();
    entities
        .iter()
        .map(|e| match e {
            None => Part::Excluded,
            Some(id) => *memo
                .entry(id.as_str())
                .or_insert_with(|| part_of_unit(entity_unit(plan.seed, id), &plan.fractions)),
        })
        .collect()
}

/// Shuffles each stratum (every row, or each label value) with the seeded generator and cuts it
/// by the fractions, so every split keeps the label's proportions up to rounding.
fn random_parts(plan: &SplitPlan, n_rows: usize, labels: Option<&[Option<String>]>) -> Vec<Part> {
    let mut strata: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
    for row in 0..n_rows {
        let key = labels.and_then(|l| l[row].as_deref());
        strata.entry(key).or_default().push(row);
    }
    let mut rng = Rng::seed_from_u64(plan.seed);
    let mut parts = vec![Part::Excluded; n_rows];
    for rows in strata.values_mut() {
        rng.shuffle(rows);
        let n = rows.len() as f64;
        let n_train = (plan.fractions.train * n).round() as usize;
        let n_train_valid =
            (((plan.fractions.train + plan.fractions.valid) * n).round() as usize).max(n_train);
        for (i, &row) in rows.iter().enumerate() {
            parts[row] = if i < n_train {
                Part::Train
            } else if i < n_train_valid {
                Part::Valid
            } else {
                Part::Test
            };
        }
    }
    parts
}

fn time_part(time: Option<i64>, valid_start: i64, test_start: i64, gap: i64) -> Part {
    let Some(t) = time else {
        return Part::Excluded;
    };
    if t >= test_start {
        Part::Test
    } else if t >= valid_start {
        if t.saturating_add(gap) < test_start {
            Part::Valid
        } else {
            Part::Excluded
        }
    } else if t.saturating_add(gap) < valid_start {
        Part::Train
    } else {
        Part::Excluded
    }
}

/// The cut instants: given ones, or the first distinct instants at which the share of earlier
/// rows reaches `train` and `train + valid`.
fn cut_times(plan: &SplitPlan, times: &[Option<i64>]) -> Result<(i64, i64), SplitError> {
    if let (Some(v), Some(t)) = (plan.valid_start_ms, plan.test_start_ms) {
        if v > t {
            return Err(SplitError::Cut(
                "the validation start must not be after the test start".into(),
            ));
        }
        return Ok((v, t));
    }
    let mut sorted: Vec<i64> = times.iter().flatten().copied().collect();
    if sorted.is_empty() {
        return Err(SplitError::Cut("the time column has no values".into()));
    }
    sorted.sort_unstable();
    let n = sorted.len() as f64;
    // The first instant whose earlier rows reach `share` of all rows; a cut through the middle of
    // equal instants moves forward to the next distinct instant.
    let cut_at = |share: f64| -> Option<i64> {
        let target = (share * n).round() as usize;
        let idx = target.min(sorted.len());
        if idx == sorted.len() {
            return None;
        }
        let mut i = idx;
        while i > 0 && i < sorted.len() && sorted[i] == sorted[i - 1] {
            i += 1;
        }
        sorted.get(i).copied()
    };
    let test_start = match plan.test_start_ms {
        Some(t) => t,
        None => cut_at(plan.fractions.train + plan.fractions.valid).ok_or_else(|| {
            SplitError::Cut(
                "no distinct instant is left for the test split; the times are too coarse".into(),
            )
        })?,
    };
    let valid_start = match plan.valid_start_ms {
        Some(v) => v,
        None if plan.fractions.valid == 0.0 => test_start,
        None => cut_at(plan.fractions.train)
            .unwrap_or(test_start)
            .min(test_start),
    };
    Ok((valid_start, test_start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(kind: SplitKind) -> SplitPlan {
        SplitPlan {
            kind,
            fractions: Fractions {
                train: 0.6,
                valid: 0.2,
                test: 0.2,
            },
            seed: 7,
            valid_start_ms: None,
            test_start_ms: None,
            gap_ms: 0,
        }
    }

    #[test]
    fn temporal_cuts_never_split_one_instant_and_purge_the_gap() {
        let times: Vec<Option<i64>> = [1, 2, 3, 3, 3, 4, 5, 6, 7, 8].map(Some).to_vec();
        let input = SplitInput {
            n_rows: times.len(),
            times: Some(&times),
            ..SplitInput::default()
        };
        let a = split(&plan(SplitKind::Temporal), &input).unwrap();
        // 60% of 10 rows is row 6 (time 5); the three rows at time 3 stay together in train.
        assert_eq!(a.train, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(a.valid, vec![6, 7]);
        assert_eq!(a.test, vec![8, 9]);
        let mut gapped = plan(SplitKind::Temporal);
        gapped.gap_ms = 1;
        let a = split(&gapped, &input).unwrap();
        assert_eq!(a.train, vec![0, 1, 2, 3, 4]);
        assert_eq!(a.valid, vec![6]);
        assert_eq!(a.excluded, vec![5, 7]);
    }

    #[test]
    fn entity_groups_are_stable_and_disjoint() {
        let entities: Vec<Option<String>> =
            (0..300).map(|i| Some(format!("c{}", i % 50))).collect();
        let input = SplitInput {
            n_rows: entities.len(),
            entities: Some(&entities),
            ..SplitInput::default()
        };
        let a = split(&plan(SplitKind::EntityGroup), &input).unwrap();
        let of = |rows: &[u32]| -> std::collections::BTreeSet<String> {
            rows.iter()
                .map(|&r| entities[r as usize].clone().unwrap())
                .collect()
        };
        assert!(of(&a.train).is_disjoint(&of(&a.test)));
        assert!(of(&a.train).is_disjoint(&of(&a.valid)));
        // The same entity goes to the same split when other entities are dropped.
        let fewer: Vec<Option<String>> = entities[..100].to_vec();
        let b = split(
            &plan(SplitKind::EntityGroup),
            &SplitInput {
                n_rows: 100,
                entities: Some(&fewer),
                ..SplitInput::default()
            },
        )
        .unwrap();
        assert!(of(&b.train).is_subset(&of(&a.train)));
    }

    #[test]
    fn stratified_keeps_class_shares_and_depends_on_the_seed() {
        let labels: Vec<Option<String>> = (0..1000)
            .map(|i| Some(if i % 10 == 0 { "1" } else { "0" }.to_string()))
            .collect();
        let input = SplitInput {
            n_rows: 1000,
            labels: Some(&labels),
            ..SplitInput::default()
        };
        let a = split(&plan(SplitKind::Stratified), &input).unwrap();
        let positives = |rows: &[u32]| rows.iter().filter(|&&r| r % 10 == 0).count();
        assert_eq!((a.train.len(), positives(&a.train)), (600, 60));
        assert_eq!((a.test.len(), positives(&a.test)), (200, 20));
        let mut other = plan(SplitKind::Stratified);
        other.seed = 8;
        assert_ne!(split(&other, &input).unwrap().train, a.train);
        assert_eq!(split(&plan(SplitKind::Stratified), &input).unwrap(), a);
    }

    #[test]
    fn temporal_entity_holds_out_entities_and_time() {
        let entities: Vec<Option<String>> =
            (0..400).map(|i| Some(format!("e{}", i % 40))).collect();
        let times: Vec<Option<i64>> = (0..400).map(|i| Some(i / 4)).collect();
        let input = SplitInput {
            n_rows: 400,
            entities: Some(&entities),
            times: Some(&times),
            labels: None,
        };
        let a = split(&plan(SplitKind::TemporalEntity), &input).unwrap();
        let last_train = a.train.iter().map(|&r| times[r as usize]).max().unwrap();
        let first_test = a.test.iter().map(|&r| times[r as usize]).min().unwrap();
        assert!(last_train < first_test);
        let train_entities: std::collections::BTreeSet<_> =
            a.train.iter().map(|&r| &entities[r as usize]).collect();
        assert!(
            a.test
                .iter()
                .all(|&r| !train_entities.contains(&entities[r as usize]))
        );
    }

    #[test]
    fn missing_columns_and_bad_fractions_are_errors() {
        let input = SplitInput {
            n_rows: 3,
            ..SplitInput::default()
        };
        assert!(matches!(
            split(&plan(SplitKind::Temporal), &input),
            Err(SplitError::MissingColumn { what: "time", .. })
        ));
        let mut bad = plan(SplitKind::Random);
        bad.fractions.train = 0.9;
        assert!(matches!(split(&bad, &input), Err(SplitError::Fractions(_))));
    }
}
