//! The application: settings resolved once, the store opened when a command needs it, and the
//! dispatch from verbs to command functions.

use crate::cli::{Cli, Command};
use crate::commands;
use crate::config::{FileStoreSettings, Settings};
use aidlc_core::spec::ProblemSpec;
use aidlc_store::{AuditContext, Store};
use anyhow::Context;
use std::process::ExitCode;

pub struct App {
    pub settings: Settings,
}

impl App {
    pub fn build(cli: &Cli) -> Self {
        let project_dir = cli.global.project.clone().unwrap_or_else(|| ".".into());
        let file = read_store_settings(&project_dir.join(crate::config::SPEC_FILE));
        Self {
            settings: Settings::resolve(&cli.global, file),
        }
    }

    /// Opens (and migrates) the metadata store.
    pub async fn store(&self) -> anyhow::Result<Store> {
        if let Some(e) = &self.settings.store_sync_error {
            anyhow::bail!("{e}");
        }
        Store::open_with(&self.settings.store, self.settings.store_sync)
            .await
            .with_context(|| format!("cannot open the metadata store at {}", self.settings.store))
    }

    /// Loads ONNX Runtime from the configured library, once; without one configured, ONNX
    /// models fail with a message saying how to get it, and built-in models keep working.
    pub fn init_onnx_runtime(&self) -> Result<(), aidlc_models::ModelError> {
        aidlc_models::init_runtime(self.settings.onnxruntime.as_deref())
    }

    /// The project's `aidlc.toml`, which the command needs for `purpose` (said in the error
    /// when the file cannot be read, such as "a rollout follows its [deploy] policy").
    pub fn spec(&self, purpose: &str) -> anyhow::Result<ProblemSpec> {
        let path = self.settings.spec_path();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}: {purpose}", path.display()))?;
        Ok(ProblemSpec::parse(&text, &path.display().to_string())?)
    }

    /// The project's `aidlc.toml` if there is one; a missing file is `None`, a broken one an
    /// error, since its settings would otherwise be silently ignored.
    pub fn spec_if_present(&self) -> anyhow::Result<Option<ProblemSpec>> {
        let path = self.settings.spec_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(ProblemSpec::parse(
                &text,
                &path.display().to_string(),
            )?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Who, when and why, for the audit entries of a change made now.
    pub fn audit_context(&self, reason: Option<String>) -> AuditContext {
        AuditContext {
            actor: self.settings.actor.clone(),
            at_ms: now_ms(),
            reason,
        }
    }
}

pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// `[store]` from aidlc.toml, read leniently: a broken file is reported by the command that
/// needs the spec (`check`, training…), not by every command that merely opens the store.
fn read_store_settings(path: &std::path::Path) -> FileStoreSettings {
    let Ok(text) = std::fs::read_to_string(path) else {
        return FileStoreSettings::default();
    };
    let Ok(doc) = text.parse::<toml::Table>() else {
        return FileStoreSettings::default();
    };
    let get = |section: &str, k: &str| {
        doc.get(section)
            .and_then(|s| s.as_table())
            .and_then(|s| s.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    FileStoreSettings {
        url: get("store", "url"),
        artifacts: get("store", "artifacts"),
        onnxruntime: get("runtime", "onnxruntime"),
        // A value of another type is kept as its TOML text, so it is reported, not ignored.
        sync: doc
            .get("store")
            .and_then(|s| s.as_table())
            .and_then(|s| s.get("sync"))
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let app = App::build(&cli);
    match cli.command {
        Command::Init(args) => commands::init::run(&app, args),
        Command::Check(args) => commands::check::run(&app, args).await,
        Command::Config => commands::config::run(&app),
        Command::Data(cmd) => commands::data::run(&app, cmd).await,
        Command::Drift(args) => commands::drift::run(app.settings.json, args),
        Command::Audit(cmd) => commands::audit::run(&app, cmd).await,
        Command::Server(args) => commands::server::run(&app, args).await,
        Command::Models(cmd) => commands::models::run(&app, cmd).await,
        Command::Labels(cmd) => commands::labels::run(&app, cmd).await,
        Command::Features(cmd) => commands::features::run(&app, cmd),
        Command::Train(args) => commands::train::run(&app, args).await,
        Command::Predict(args) => commands::predict::run(&app, args).await,
        Command::Evaluate(args) => commands::evaluate::run(&app, args).await,
        Command::Report(args) => commands::evaluate::report(&app, args).await,
        Command::Deploy(args) => commands::deploy::run(&app, args).await,
        Command::Approve(args) => commands::deploy::approve(&app, args).await,
        Command::Reject(args) => commands::deploy::reject(&app, args).await,
        Command::Loop(cmd) => commands::iterate::run(&app, cmd).await,
        Command::Demo(args) => commands::demo::run(&app, args).await,
        Command::Rollback(args) => commands::deploy::rollback(&app, args).await,
        Command::Alerts(cmd) => commands::alerts::run(&app, cmd).await,
        Command::Monitor(cmd) => commands::monitor::run(&app, cmd).await,
    }
}
