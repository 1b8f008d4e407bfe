//! `aidlc models`: register a model trained anywhere, list and show versions, move governed
//! aliases and print a version's lineage with its missing links marked.

use crate::app::App;
use crate::cli::{ModelsAliasArgs, ModelsCommand, ModelsRegisterArgs};
use crate::output::{Table, format_ms, print_json};
use aidlc_core::ids::{ContentHash, DatasetVersionId, RunId};
use aidlc_store::{
    AliasPolicy, ArtifactStore, LocalArtifactStore, NewRegistryVersion, RegistryStore,
    RegistryVersion, RunStore, Store, TrackingStore,
};
use anyhow::{Context, bail};
use std::process::ExitCode;

pub async fn run(app: &App, cmd: ModelsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ModelsCommand::Register(args) => register(app, args).await,
        ModelsCommand::List => list(app).await,
        ModelsCommand::Show { reference } => show(app, &reference).await,
        ModelsCommand::Alias(args) => alias(app, args).await,
        ModelsCommand::Lineage { reference } => lineage(app, &reference).await,
        ModelsCommand::Export { reference, out } => export(app, &reference, &out).await,
    }
}

/// A model to score with, and how the user named it.
pub struct LoadedModel {
    pub model: Box<dyn aidlc_models::Model>,
    pub reference: String,
}

/// Loads NAME@ALIAS, NAME/VERSION or a model file (aidlc JSON or ONNX). A path that exists is a
/// file; anything else is a registry reference.
pub async fn load_model_ref(
    app: &App,
    store: &Store,
    reference: &str,
) -> anyhow::Result<LoadedModel> {
    let path = std::path::Path::new(reference);
    let (bytes, name) = if path.is_file() {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        (bytes, reference.to_string())
    } else {
        let version = resolve_version(store, &parse_reference(reference)?).await?;
        let artifacts = LocalArtifactStore::new(&app.settings.artifacts);
        let bytes = artifacts
            .get_bytes(&version.artifact)
            .await
            .with_context(|| {
                format!(
                    "cannot read the artifact of {} version {}",
                    version.model, version.version
                )
            })?;
        let name = format!("{}/{}", version.model, version.version);
        (bytes, name)
    };
    if aidlc_models::detect_format(&bytes, &name)? == aidlc_models::ModelFormat::Onnx {
        app.init_onnx_runtime()?;
    }
    let model = aidlc_models::load_model_bytes(bytes, &name)?;
    Ok(LoadedModel {
        model,
        reference: reference.to_string(),
    })
}

async fn export(app: &App, reference: &str, out: &std::path::Path) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let version = resolve_version(&store, &parse_reference(reference)?).await?;
    let artifacts = LocalArtifactStore::new(&app.settings.artifacts);
    let bytes = artifacts.get_bytes(&version.artifact).await?;
    let name = format!("{}/{}", version.model, version.version);
    if aidlc_models::detect_format(&bytes, &name)? != aidlc_models::ModelFormat::Builtin {
        bail!("{name} is already an ONNX model; `aidlc models show {name}` names its artifact");
    }
    let model = aidlc_models::BuiltinModel::from_bytes(&bytes, std::path::Path::new(&name))?;
    let onnx = aidlc_models::export_onnx(&model)?;
    let tmp = out.with_extension("onnx.tmp");
    std::fs::write(&tmp, &onnx)
        .and_then(|()| std::fs::rename(&tmp, out))
        .with_context(|| format!("cannot write {}", out.display()))?;
    if app.settings.json {
        print_json(&serde_json::json!({
            "model": version.model, "version": version.version,
            "out": out.display().to_string(), "bytes": onnx.len(),
        }))?;
    } else {
        println!(
            "wrote {} ({} bytes): {name} as ONNX (ai.onnx 17, ai.onnx.ml 3)",
            out.display(),
            onnx.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Where a version's lineage comes from when it was registered with `--run`: a native run
/// records its dataset version and commit; an MLflow run declares them through tags.
async fn run_lineage(
    store: &Store,
    run: &str,
) -> anyhow::Result<(
    Option<DatasetVersionId>,
    Option<ContentHash>,
    Option<String>,
    Option<bool>,
)> {
    if let Some(r) = store.get_run(&RunId(run.to_string())).await? {
        let split = r
            .data
            .params
            .get("split")
            .and_then(|v| v.as_str())
            .and_then(ContentHash::parse);
        if r.data.dataset_version.is_some() || r.data.git_commit.is_some() {
            return Ok((
                r.data.dataset_version,
                split,
                r.data.git_commit,
                r.data.git_dirty,
            ));
        }
    }
    let tracked = store
        .get_tracked_run(run)
        .await?
        .with_context(|| format!("run `{run}` not found"))?;
    let tag = |k: &str| {
        tracked
            .tags
            .iter()
            .find(|t| t.key == k)
            .map(|t| t.value.clone())
    };
    let dataset = match tag("aidlc.dataset") {
        Some(d) => {
            use aidlc_store::DatasetStore;
            store
                .get_dataset_version_by_id(&DatasetVersionId(d))
                .await?
                .map(|v| v.id)
        }
        None => None,
    };
    let split = tag("aidlc.split").and_then(|h| ContentHash::parse(&h));
    Ok((dataset, split, tag("mlflow.source.git.commit"), None))
}

async fn register(app: &App, args: ModelsRegisterArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let artifacts = LocalArtifactStore::new(&app.settings.artifacts);
    let hash = artifacts
        .put_file(&args.file)
        .await
        .with_context(|| format!("cannot store {}", args.file.display()))?;
    let (dataset_version, split, git_commit, git_dirty) = match &args.run {
        Some(run) => run_lineage(&store, run).await?,
        None => (None, None, None, None),
    };
    let v = store
        .create_registry_version(
            &app.audit_context(None),
            NewRegistryVersion {
                model: args.name.clone(),
                artifact: hash.clone(),
                source: format!("{}", args.file.display()),
                run_id: args.run.clone(),
                logged_model_id: None,
                description: String::new(),
                tags: Vec::new(),
                dataset_version,
                split,
                git_commit,
                git_dirty,
                create_model: true,
            },
        )
        .await?;
    if app.settings.json {
        print_json(&v)?;
    } else {
        println!(
            "registered {} version {} ({})",
            v.model, v.version, v.artifact.0
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(app: &App) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let mut models = Vec::new();
    let mut offset = 0;
    loop {
        let page = store.search_registered_models(None, 1000, offset).await?;
        models.extend(page.items);
        match page.next_offset {
            Some(o) => offset = o,
            None => break,
        }
    }
    if app.settings.json {
        print_json(&models)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(["MODEL", "LATEST", "ALIASES", "UPDATED"]);
    for m in &models {
        let latest = m.latest_versions.iter().map(|v| v.version).max();
        let aliases: Vec<String> = m.aliases.iter().map(|(a, v)| format!("{a}→{v}")).collect();
        t.row([
            m.name.clone(),
            latest.map(|v| v.to_string()).unwrap_or_else(|| "-".into()),
            aliases.join(", "),
            format_ms(m.updated_at_ms),
        ]);
    }
    print!("{}", t.render());
    Ok(ExitCode::SUCCESS)
}

/// `NAME`, `NAME@ALIAS` or `NAME/VERSION`.
pub enum Reference {
    Model(String),
    Alias(String, String),
    Version(String, i64),
}

pub fn parse_reference(text: &str) -> anyhow::Result<Reference> {
    if let Some((name, alias)) = text.split_once('@') {
        return Ok(Reference::Alias(name.to_string(), alias.to_string()));
    }
    if let Some((name, version)) = text.rsplit_once('/') {
        let v = version
            .parse::<i64>()
            .with_context(|| format!("`{text}`: the version after `/` must be a number"))?;
        return Ok(Reference::Version(name.to_string(), v));
    }
    if text.is_empty() {
        bail!("expected NAME, NAME@ALIAS or NAME/VERSION");
    }
    Ok(Reference::Model(text.to_string()))
}

pub async fn resolve_version(
    store: &Store,
    reference: &Reference,
) -> anyhow::Result<RegistryVersion> {
    match reference {
        Reference::Alias(name, alias) => store
            .resolve_alias(name, alias)
            .await?
            .with_context(|| format!("model `{name}` has no alias `{alias}`")),
        Reference::Version(name, v) => store
            .get_registry_version(name, *v)
            .await?
            .with_context(|| format!("model `{name}` has no version {v}")),
        Reference::Model(name) => aidlc_service::registry::all_versions(store, name)
            .await?
            .pop()
            .with_context(|| format!("model `{name}` not found")),
    }
}

fn version_table(versions: &[RegistryVersion]) -> String {
    let mut t = Table::new(["VERSION", "ALIASES", "ARTIFACT", "RUN", "CREATED", "BY"]);
    for v in versions {
        t.row([
            v.version.to_string(),
            v.aliases.join(", "),
            v.artifact.0.clone(),
            v.run_id.clone().unwrap_or_else(|| "-".into()),
            format_ms(v.created_at_ms),
            v.created_by.clone(),
        ]);
    }
    t.render()
}

async fn show(app: &App, reference: &str) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let versions = match parse_reference(reference)? {
        Reference::Model(name) => {
            let versions = aidlc_service::registry::all_versions(&store, &name).await?;
            if versions.is_empty() && store.get_registered_model(&name).await?.is_none() {
                bail!("model `{name}` not found");
            }
            versions
        }
        other => vec![resolve_version(&store, &other).await?],
    };
    if app.settings.json {
        print_json(&versions)?;
    } else {
        print!("{}", version_table(&versions));
    }
    Ok(ExitCode::SUCCESS)
}

async fn alias(app: &App, args: ModelsAliasArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let change = store
        .set_governed_alias(
            &app.audit_context(args.override_reason.clone()),
            &AliasPolicy::default(),
            &args.name,
            &args.alias,
            args.target_version,
        )
        .await?;
    if app.settings.json {
        print_json(&change)?;
    } else {
        let how = match (&change.report_id, &change.override_reason) {
            (Some(r), _) => format!(" (evaluation report {r} passed)"),
            (None, Some(reason)) => format!(" (override: {reason})"),
            (None, None) => String::new(),
        };
        println!(
            "{}@{} → version {}{how}",
            change.model, change.alias, change.version
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn lineage(app: &App, reference: &str) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let v = resolve_version(&store, &parse_reference(reference)?).await?;
    let reports = store.evaluation_reports(&v.model, v.version).await?;
    let links: Vec<(&str, Option<String>)> = vec![
        ("artifact", Some(v.artifact.0.clone())),
        ("run", v.run_id.clone()),
        (
            "dataset version",
            v.dataset_version.as_ref().map(|d| d.0.clone()),
        ),
        ("split manifest", v.split.as_ref().map(|s| s.0.clone())),
        (
            "git commit",
            v.git_commit.as_ref().map(|c| match v.git_dirty {
                Some(true) => format!("{c} (dirty)"),
                _ => c.clone(),
            }),
        ),
        (
            "evaluation report",
            reports.last().map(|r| {
                format!(
                    "{} ({})",
                    r.id,
                    if r.data.passed { "passed" } else { "failed" }
                )
            }),
        ),
    ];
    if app.settings.json {
        let value: serde_json::Map<String, serde_json::Value> = links
            .iter()
            .map(|(k, v)| {
                (
                    k.replace(' ', "_"),
                    v.clone()
                        .map(serde_json::Value::String)
                        .unwrap_or(serde_json::Value::Null),
                )
            })
            .collect();
        print_json(
            &serde_json::json!({ "model": v.model, "version": v.version, "lineage": value }),
        )?;
    } else {
        println!("{} version {}", v.model, v.version);
        for (name, value) in &links {
            match value {
                Some(x) => println!("  {name:<18} {x}"),
                None => println!("  {name:<18} MISSING"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
