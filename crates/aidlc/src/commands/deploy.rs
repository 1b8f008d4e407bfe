//! `aidlc deploy`: an endpoint served from a registry alias. The endpoint follows the alias, so
//! promotion and rollback are alias moves (governed for protected aliases); servers reading the
//! same store bind the change within a second.

use crate::app::App;
use crate::cli::DeployArgs;
use crate::output::print_json;
use aidlc_core::records::Deployment;
use aidlc_store::{DeploymentStore, RegistryStore};
use anyhow::Context;
use std::process::ExitCode;

pub async fn run(app: &App, args: DeployArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let version = store
        .resolve_alias(&args.model, &args.alias)
        .await?
        .with_context(|| {
            format!(
                "model `{}` has no alias `{}`: point it at a version first (aidlc models alias {} {} VERSION)",
                args.model, args.alias, args.model, args.alias
            )
        })?;
    let ctx = app.audit_context(None);
    // A redeploy keeps the rollout state a controller may have written.
    let state = store
        .get_deployment(&args.endpoint)
        .await?
        .map_or(serde_json::json!({}), |d| d.state);
    let deployment = Deployment {
        endpoint: args.endpoint.clone(),
        model: args.model.clone(),
        alias: args.alias.clone(),
        state,
        updated_by: ctx.actor.clone(),
        updated_at_ms: ctx.at_ms,
    };
    store
        .upsert_deployments(&ctx, vec![deployment.clone()])
        .await?;
    if app.settings.json {
        print_json(&serde_json::json!({"deployment": deployment, "version": version.version}))?;
    } else {
        println!(
            "endpoint {} serves {}@{} (now version {})",
            args.endpoint, args.model, args.alias, version.version
        );
    }
    Ok(ExitCode::SUCCESS)
}
