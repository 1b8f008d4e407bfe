//! `aidlc data split`: a data file or dataset version split as `[split]` says (flags override),
//! with its leakage report; the manifest is stored and the split recorded, unless the report
//! shows an overlap the split's kind forbids (then exit 1 and nothing is recorded).

use crate::app::App;
use crate::cli::SplitArgs;
use crate::output::{Table, print_json};
use aidlc_core::spec::LabelDelay;
use aidlc_data::leakage::{LeakageReport, Severity};
use aidlc_data::split::{Fractions, SplitKind, SplitPlan};
use aidlc_data::time::parse_instant_ms;
use aidlc_service::split::{
    SplitColumns, SplitServiceError, load_dataset, load_file, record_split,
};
use aidlc_service::train::label_text;
use aidlc_store::LocalArtifactStore;
use anyhow::{Context, bail};
use std::path::Path;
use std::process::ExitCode;

fn instant(text: &str, key: &str) -> anyhow::Result<i64> {
    parse_instant_ms(text).with_context(|| {
        format!("`{key}` = {text:?} is not a date or date-time (YYYY-MM-DD[THH:MM[:SS]])")
    })
}

/// Runs `data split`; callable directly so a wider `data` command group can dispatch its
/// `split` verb here.
pub async fn split(app: &App, args: SplitArgs) -> anyhow::Result<ExitCode> {
    let spec = app.spec_if_present()?.unwrap_or_default();
    let s = &spec.split;
    let kind_text = args
        .kind
        .clone()
        .or_else(|| s.kind.map(|k| k.as_str().to_string()))
        .context("no split kind: pass --kind or set `kind` in [split] of aidlc.toml")?;
    let kind: SplitKind = kind_text.parse().map_err(anyhow::Error::msg)?;
    let written = [
        args.train.or(s.train),
        args.valid.or(s.valid),
        args.test.or(s.test),
    ];
    let fractions = if written.iter().all(Option::is_none) {
        Fractions::default()
    } else {
        Fractions {
            train: written[0].unwrap_or(0.0),
            valid: written[1].unwrap_or(0.0),
            test: written[2].unwrap_or(0.0),
        }
    };
    let gap = match &args.gap {
        Some(text) => {
            Some(LabelDelay::parse(text).map_err(|e| anyhow::anyhow!("--gap {text:?}: {e}"))?)
        }
        None => s.gap,
    };
    let plan = SplitPlan {
        kind,
        fractions,
        seed: args.seed.unwrap_or(s.seed.map_or(0, |x| x as u64)),
        valid_start_ms: s
            .valid_start
            .as_deref()
            .map(|t| instant(t, "split.valid_start"))
            .transpose()?,
        test_start_ms: s
            .test_start
            .as_deref()
            .map(|t| instant(t, "split.test_start"))
            .transpose()?,
        gap_ms: gap.map_or(0, |g| g.seconds as i64 * 1000),
    };
    let problem = &spec.problem;
    let columns = SplitColumns {
        entity: args.entity.clone().or_else(|| problem.entity.clone()),
        time: args.time.clone().or_else(|| problem.time.clone()),
        label: args.label.clone().or_else(|| problem.label.column.clone()),
        positive_label: problem.label.positive_value.as_ref().map(label_text),
        label_delay_ms: problem.label.delay.map(|d| d.seconds as i64 * 1000),
        time_unit_ms: problem.time_unit.map(|d| d.seconds as i64 * 1000),
    };

    let store = app.store().await?;
    let artifacts = LocalArtifactStore::new(&app.settings.artifacts);
    let path = Path::new(&args.data);
    let data = if path.is_file() {
        load_file(path, &columns)?
    } else {
        let scratch = tempfile::tempdir()?;
        match load_dataset(&store, &artifacts, &args.data, &columns, scratch.path()).await? {
            Some(data) => data,
            None => bail!(
                "`{}` is neither a data file nor a recorded dataset",
                args.data
            ),
        }
    };
    let ctx = app.audit_context(None);
    match record_split(&store, &artifacts, &ctx, &data, &plan, &columns).await {
        Ok(summary) => {
            if app.settings.json {
                print_json(&summary)?;
            } else {
                print_report(&summary.report);
                let r = &summary.outcome.record;
                println!(
                    "\n{} split {} of {} ({}): manifest {}",
                    if summary.outcome.created {
                        "recorded"
                    } else {
                        "already recorded"
                    },
                    r.id,
                    data.name,
                    data.content_hash,
                    summary.manifest_hash
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(SplitServiceError::Leakage(report)) => {
            if app.settings.json {
                print_json(&serde_json::json!({ "recorded": false, "report": report }))?;
            } else {
                print_report(&report);
                eprintln!(
                    "\nerror: the split breaks what a `{}` split promises; nothing was recorded",
                    kind.as_str()
                );
            }
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

fn print_report(report: &LeakageReport) {
    let r = &report.rows;
    println!(
        "{} split: {} train, {} valid, {} test, {} excluded rows",
        report.kind.as_str(),
        r.train,
        r.valid,
        r.test,
        r.excluded
    );
    let mut t = Table::new(["CHECK", "RESULT"]);
    if let Some(o) = &report.entity_overlap {
        t.row([
            "entity overlap".to_string(),
            format!(
                "{} of {} held-out entities in training ({:.1}%); train∩valid {}, train∩test {}, valid∩test {}",
                o.held_out_seen_in_train,
                o.held_out_entities,
                100.0 * o.share,
                o.train_valid,
                o.train_test,
                o.valid_test
            ),
        ]);
    }
    if let Some(o) = &report.time_overlap {
        t.row([
            "time overlap".to_string(),
            format!(
                "{} held-out rows at or before the latest training time ({:.1}%)",
                o.held_out_rows_not_after_train,
                100.0 * o.share
            ),
        ]);
    }
    t.row([
        "duplicate rows".to_string(),
        format!(
            "{} valid and {} test rows repeat a training row",
            report.duplicates.valid_in_train, report.duplicates.test_in_train
        ),
    ]);
    t.row([
        "target leak".to_string(),
        if report.target_suspects.is_empty() {
            "no single feature predicts the label".to_string()
        } else {
            report
                .target_suspects
                .iter()
                .map(|s| s.column.clone())
                .collect::<Vec<_>>()
                .join(", ")
        },
    ]);
    if let Some(l) = &report.late_labels {
        t.row([
            "late labels".to_string(),
            format!(
                "{} training rows with a label unknown at the cut-off",
                l.train_rows
            ),
        ]);
    }
    print!("{}", t.render());
    for f in &report.findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        eprintln!("{level}[{}]: {}", f.check, f.message);
    }
}
