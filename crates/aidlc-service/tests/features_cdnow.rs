//! The point-in-time join on real data: CDNOW transactions turned into recency / frequency /
//! monetary features per purchase day, joined to customer snapshots labelled "buys again within
//! 90 days", and every joined value checked against a direct computation from the raw rows.

use aidlc_data::join::PitJoinOptions;
use aidlc_data::time::{format_instant_ms, parse_instant_ms};
use aidlc_data::{ColumnKind, ReadOptions, read_table};
use aidlc_service::features::{FeatureJoinRequest, join_features};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const DAY: i64 = 86_400_000;

fn cdnow() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/cdnow_transactions_1997_1998.csv")
}

/// Purchases per customer: (day, dollars), in day order, with same-day purchases summed.
fn purchases() -> BTreeMap<String, Vec<(i64, f64)>> {
    let mut options = ReadOptions::default();
    options
        .kinds
        .insert("customer_id".into(), ColumnKind::Categorical);
    options.kinds.insert("date".into(), ColumnKind::Categorical);
    let t = read_table(&cdnow(), &options).unwrap();
    let ids = t.column("customer_id").unwrap().as_categorical().unwrap();
    let dates = t.column("date").unwrap().as_categorical().unwrap();
    let dollars = t.column("dollar_value").unwrap().as_numeric().unwrap();
    let mut by_customer: BTreeMap<String, BTreeMap<i64, f64>> = BTreeMap::new();
    for i in 0..t.n_rows {
        let day = parse_instant_ms(dates[i].as_deref().unwrap()).unwrap();
        *by_customer
            .entry(ids[i].clone().unwrap())
            .or_default()
            .entry(day)
            .or_default() += dollars[i];
    }
    by_customer
        .into_iter()
        .map(|(c, days)| (c, days.into_iter().collect()))
        .collect()
}

#[test]
fn rfm_features_join_as_of_each_snapshot_with_a_90_day_label() {
    let dir = tempfile::tempdir().unwrap();
    let by_customer = purchases();
    assert!(by_customer.len() > 20_000, "CDNOW has 23,570 customers");

    // Feature rows: after each purchase day, the customer's RFM so far.
    let mut features = String::from("customer_id,date,recency_days,frequency,monetary\n");
    for (c, days) in &by_customer {
        let mut total = 0.0;
        for (i, (day, dollars)) in days.iter().enumerate() {
            total += dollars;
            let recency = if i == 0 {
                String::new()
            } else {
                ((day - days[i - 1].0) / DAY).to_string()
            };
            writeln!(
                features,
                "{c},{},{recency},{},{total}",
                &format_instant_ms(*day)[..10],
                i + 1
            )
            .unwrap();
        }
    }
    // Entity rows: every customer at three snapshots, labelled from the purchases after it.
    let snapshots =
        ["1997-03-31", "1997-09-30", "1998-03-31"].map(|d| parse_instant_ms(d).unwrap());
    let mut entities = String::from("customer_id,date,buys_again_90d\n");
    for (c, days) in &by_customer {
        for &s in &snapshots {
            let again = days.iter().any(|(d, _)| *d > s && *d <= s + 90 * DAY);
            writeln!(
                entities,
                "{c},{},{}",
                &format_instant_ms(s)[..10],
                u8::from(again)
            )
            .unwrap();
        }
    }
    let features_path = dir.path().join("rfm.csv");
    let entities_path = dir.path().join("snapshots.csv");
    std::fs::write(&features_path, features).unwrap();
    std::fs::write(&entities_path, entities).unwrap();

    for (ttl_days, out_name) in [(None, "train.parquet"), (Some(90), "train_ttl.csv")] {
        let out = dir.path().join(out_name);
        let report = join_features(&FeatureJoinRequest {
            entities: entities_path.clone(),
            features: features_path.clone(),
            key: "customer_id".into(),
            time: "date".into(),
            created_column: None,
            options: PitJoinOptions {
                ttl_ms: ttl_days.map(|d: i64| d * DAY),
                filter_by_created: true,
            },
            out: out.clone(),
        })
        .unwrap();
        assert_eq!(
            report.entity_rows,
            by_customer.len() * 3,
            "a left join keeps every row"
        );
        assert_eq!(
            report.feature_columns,
            ["recency_days", "frequency", "monetary"]
        );

        let mut options = ReadOptions::default();
        options
            .kinds
            .insert("customer_id".into(), ColumnKind::Categorical);
        let joined = read_table(&out, &options).unwrap();
        assert_eq!(joined.n_rows, report.entity_rows);
        let ids = joined
            .column("customer_id")
            .unwrap()
            .as_categorical()
            .unwrap();
        let dates = joined.column("date").unwrap().as_categorical().unwrap();
        let frequency = joined.column("frequency").unwrap().as_numeric().unwrap();
        let monetary = joined.column("monetary").unwrap().as_numeric().unwrap();
        let label = joined
            .column("buys_again_90d")
            .unwrap()
            .as_numeric()
            .unwrap();
        let mut matched = 0;
        let mut positives = 0;
        for row in 0..joined.n_rows {
            let days = &by_customer[ids[row].as_deref().unwrap()];
            let at = parse_instant_ms(dates[row].as_deref().unwrap()).unwrap();
            // Directly from the raw purchases: what was known at the snapshot.
            let known: Vec<&(i64, f64)> = days.iter().filter(|(d, _)| *d <= at).collect();
            let fresh = known
                .last()
                .is_some_and(|(d, _)| ttl_days.is_none_or(|t| *d >= at - t * DAY));
            if fresh {
                matched += 1;
                assert_eq!(frequency[row], known.len() as f64, "row {row}");
                let total: f64 = known.iter().map(|(_, x)| x).sum();
                assert!((monetary[row] - total).abs() < 1e-6, "row {row}");
            } else {
                assert!(
                    frequency[row].is_nan() && monetary[row].is_nan(),
                    "row {row}"
                );
            }
            positives += label[row] as usize;
        }
        assert_eq!(matched, report.matched);
        assert!(positives > 0 && positives < joined.n_rows);
        if ttl_days.is_some() {
            assert!(
                report.unmatched > report.entity_rows / 2,
                "most customers lapse for 90 days"
            );
        }
    }
}
