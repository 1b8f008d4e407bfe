//! `aidlc features join`: a point-in-time join of entity rows with feature rows, written as CSV
//! or Parquet.

use crate::app::App;
use crate::cli::FeaturesCommand;
use crate::output::print_json;
use aidlc_core::spec::LabelDelay;
use aidlc_data::join::PitJoinOptions;
use aidlc_service::features::{FeatureJoinRequest, join_features};
use std::process::ExitCode;

pub fn run(app: &App, cmd: FeaturesCommand) -> anyhow::Result<ExitCode> {
    let FeaturesCommand::Join(args) = cmd;
    let ttl_ms = match &args.ttl {
        Some(text) => Some(
            LabelDelay::parse(text)
                .map_err(|e| anyhow::anyhow!("--ttl {text:?}: {e}"))?
                .seconds as i64
                * 1000,
        ),
        None => None,
    };
    let report = join_features(&FeatureJoinRequest {
        entities: args.entities,
        features: args.features,
        key: args.key,
        time: args.time,
        created_column: args.created_column,
        options: PitJoinOptions {
            ttl_ms,
            filter_by_created: !args.allow_created_after,
        },
        out: args.out,
    })?;
    if app.settings.json {
        print_json(&report)?;
    } else {
        println!(
            "{} entity rows joined with {} feature rows: {} matched, {} without features; added {}; wrote {}",
            report.entity_rows,
            report.feature_rows,
            report.matched,
            report.unmatched,
            report.feature_columns.join(", "),
            report.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
