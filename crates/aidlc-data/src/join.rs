//! Point-in-time joins with Feast's semantics: for each entity row (a key and an event time), the
//! latest feature row of the same key whose feature time is at or before the event time, within
//! an optional time-to-live, ties broken by the created time.
//!
//! aidlc departs from Feast's default in one place, on purpose: unless the caller turns it off,
//! a feature row also needs `created <= event time` ("as known at the time", Feast's opt-in
//! `filter_by_created_timestamp`), so a value backfilled or corrected later cannot leak into an
//! earlier training row. The join is a LEFT join: an entity row without a match is kept, with
//! no feature row.
//!
//! It is a sort-merge: both sides are sorted once by (key, time), then each key's entity rows walk
//! forward through that key's feature rows, so the cost is O((n + m) log(n + m)) plus, with the
//! created-time filter, a backward scan over rows created after the event.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// How feature rows qualify for an entity row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PitJoinOptions {
    /// Oldest feature row still valid, relative to each entity row's own time:
    /// `feature_time >= entity_time - ttl`. `None` (or 0, as in Feast) means no limit.
    pub ttl_ms: Option<i64>,
    /// Require `created <= entity_time` when feature rows carry a created time.
    pub filter_by_created: bool,
}

impl Default for PitJoinOptions {
    fn default() -> Self {
        PitJoinOptions {
            ttl_ms: None,
            filter_by_created: true,
        }
    }
}

/// One side of the join: the key and time of every row (`None` where missing), and for feature
/// rows optionally the time each row was written.
#[derive(Debug, Clone, Copy)]
pub struct TimedKeys<'a> {
    pub keys: &'a [Option<String>],
    pub times: &'a [Option<i64>],
    pub created: Option<&'a [Option<i64>]>,
}

/// For each entity row, the index of the feature row joined to it, or `None`.
///
/// Feature rows with a missing key or time never match; entity rows with a missing key or time
/// get no features. Among feature rows sharing the winning feature time, the greatest created
/// time wins; without created times, the one later in the file wins.
pub fn point_in_time_match(
    entities: TimedKeys<'_>,
    features: TimedKeys<'_>,
    options: &PitJoinOptions,
) -> Vec<Option<usize>> {
    let ttl = options.ttl_ms.filter(|&t| t > 0);
    let created_of = |i: usize| -> Option<i64> { features.created.and_then(|c| c[i]) };
    let mut feature_rows: Vec<usize> = (0..features.keys.len())
        .filter(|&i| features.keys[i].is_some() && features.times[i].is_some())
        .collect();
    // Sorted by key, then feature time, then created time (a missing created time sorts first),
    // then file order; so within one (key, time) the last row is the tie-break winner.
    feature_rows.sort_by(|&a, &b| {
        features.keys[a]
            .cmp(&features.keys[b])
            .then(features.times[a].cmp(&features.times[b]))
            .then(created_of(a).cmp(&created_of(b)))
            .then(a.cmp(&b))
    });
    let mut entity_rows: Vec<usize> = (0..entities.keys.len())
        .filter(|&i| entities.keys[i].is_some() && entities.times[i].is_some())
        .collect();
    entity_rows.sort_by(|&a, &b| {
        entities.keys[a]
            .cmp(&entities.keys[b])
            .then(entities.times[a].cmp(&entities.times[b]))
    });

    let mut matched = vec![None; entities.keys.len()];
    let mut f = 0;
    let mut e = 0;
    while e < entity_rows.len() {
        let key = &entities.keys[entity_rows[e]];
        // Skips feature keys that sort before this entity key.
        while f < feature_rows.len() && features.keys[feature_rows[f]].cmp(key) == Ordering::Less {
            f += 1;
        }
        let group_start = f;
        let mut group_end = f;
        while group_end < feature_rows.len() && &features.keys[feature_rows[group_end]] == key {
            group_end += 1;
        }
        // `upto` is one past the last feature row with time <= the current entity time; entity
        // times only grow within a key, so it only moves forward.
        let mut upto = group_start;
        while e < entity_rows.len() && &entities.keys[entity_rows[e]] == key {
            let row = entity_rows[e];
            let at = entities.times[row].expect("entity rows with a time");
            while upto < group_end && features.times[feature_rows[upto]].expect("timed") <= at {
                upto += 1;
            }
            let oldest = ttl.map(|t| at.saturating_sub(t));
            let mut candidate = upto;
            while candidate > group_start {
                let i = feature_rows[candidate - 1];
                let time = features.times[i].expect("timed");
                if oldest.is_some_and(|o| time < o) {
                    break;
                }
                let known = !options.filter_by_created || created_of(i).is_none_or(|c| c <= at);
                if known {
                    matched[row] = Some(i);
                    break;
                }
                candidate -= 1;
            }
            e += 1;
        }
        f = group_end;
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(k: &[&str]) -> Vec<Option<String>> {
        k.iter().map(|s| Some(s.to_string())).collect()
    }

    fn times(t: &[i64]) -> Vec<Option<i64>> {
        t.iter().copied().map(Some).collect()
    }

    #[test]
    fn latest_row_at_or_before_the_event_wins() {
        let ek = keys(&["a", "a", "b", "a"]);
        let et = times(&[5, 10, 7, 1]);
        let fk = keys(&["a", "a", "a", "b"]);
        let ft = times(&[2, 5, 11, 8]);
        let m = point_in_time_match(
            TimedKeys {
                keys: &ek,
                times: &et,
                created: None,
            },
            TimedKeys {
                keys: &fk,
                times: &ft,
                created: None,
            },
            &PitJoinOptions::default(),
        );
        // Both bounds inclusive: the row at time 5 counts for the event at 5.
        assert_eq!(m, vec![Some(1), Some(1), None, None]);
    }

    #[test]
    fn ties_on_feature_time_go_to_the_latest_created_row() {
        let ek = keys(&["a"]);
        let et = times(&[10]);
        let fk = keys(&["a", "a", "a"]);
        let ft = times(&[4, 4, 4]);
        let created = times(&[6, 9, 7]);
        let m = point_in_time_match(
            TimedKeys {
                keys: &ek,
                times: &et,
                created: None,
            },
            TimedKeys {
                keys: &fk,
                times: &ft,
                created: Some(&created),
            },
            &PitJoinOptions::default(),
        );
        assert_eq!(m, vec![Some(1)]);
        // Without created times, the later row in the file wins the tie.
        let m = point_in_time_match(
            TimedKeys {
                keys: &ek,
                times: &et,
                created: None,
            },
            TimedKeys {
                keys: &fk,
                times: &ft,
                created: None,
            },
            &PitJoinOptions::default(),
        );
        assert_eq!(m, vec![Some(2)]);
    }

    #[test]
    fn ttl_is_relative_to_each_entity_row() {
        let ek = keys(&["a", "a", "a"]);
        let et = times(&[10, 20, 40]);
        let fk = keys(&["a"]);
        let ft = times(&[8]);
        let options = PitJoinOptions {
            ttl_ms: Some(12),
            filter_by_created: true,
        };
        let m = point_in_time_match(
            TimedKeys {
                keys: &ek,
                times: &et,
                created: None,
            },
            TimedKeys {
                keys: &fk,
                times: &ft,
                created: None,
            },
            &options,
        );
        // 20 - 12 = 8 is still inside (inclusive); 40 - 12 = 28 is past the only row.
        assert_eq!(m, vec![Some(0), Some(0), None]);
        let no_limit = PitJoinOptions {
            ttl_ms: Some(0),
            filter_by_created: true,
        };
        let m = point_in_time_match(
            TimedKeys {
                keys: &ek,
                times: &et,
                created: None,
            },
            TimedKeys {
                keys: &fk,
                times: &ft,
                created: None,
            },
            &no_limit,
        );
        assert_eq!(m, vec![Some(0), Some(0), Some(0)]);
    }

    #[test]
    fn rows_created_after_the_event_do_not_leak_unless_allowed() {
        let ek = keys(&["a", "a"]);
        let et = times(&[10, 30]);
        let fk = keys(&["a", "a"]);
        let ft = times(&[3, 9]);
        // The row for time 9 was backfilled at 25: unknown at 10, known at 30.
        let created = times(&[4, 25]);
        let m = point_in_time_match(
            TimedKeys {
                keys: &ek,
                times: &et,
                created: None,
            },
            TimedKeys {
                keys: &fk,
                times: &ft,
                created: Some(&created),
            },
            &PitJoinOptions::default(),
        );
        assert_eq!(m, vec![Some(0), Some(1)]);
        let feast_default = PitJoinOptions {
            ttl_ms: None,
            filter_by_created: false,
        };
        let m = point_in_time_match(
            TimedKeys {
                keys: &ek,
                times: &et,
                created: None,
            },
            TimedKeys {
                keys: &fk,
                times: &ft,
                created: Some(&created),
            },
            &feast_default,
        );
        assert_eq!(m, vec![Some(1), Some(1)]);
    }

    #[test]
    fn missing_entities_keys_and_times_keep_their_row_without_features() {
        let ek = vec![Some("zzz".to_string()), None, Some("a".to_string())];
        let et = vec![Some(5), Some(5), None];
        let fk = vec![Some("a".to_string()), None];
        let ft = vec![Some(1), Some(1)];
        let m = point_in_time_match(
            TimedKeys {
                keys: &ek,
                times: &et,
                created: None,
            },
            TimedKeys {
                keys: &fk,
                times: &ft,
                created: None,
            },
            &PitJoinOptions::default(),
        );
        assert_eq!(m, vec![None, None, None]);
    }
}
