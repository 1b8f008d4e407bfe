//! Settings resolved once per invocation: defaults < `aidlc.toml` `[store]` < env < flags.
//!
//! clap already merges flags over `AIDLC_*` variables (a flag wins), so what is left here is to
//! fall back to the project file and then to the defaults under `<project>/.aidlc/`.

use crate::cli::GlobalArgs;
use aidlc_core::spec::StoreSync;
use std::path::{Path, PathBuf};

/// Name of the framing contract inside a project folder.
pub const SPEC_FILE: &str = "aidlc.toml";

const FROM_ARGS: &str = "flag or AIDLC_* env";
const FROM_FILE: &str = "aidlc.toml [store]";
const FROM_DEFAULT: &str = "default";

#[derive(Debug, Clone, serde::Serialize)]
pub struct Settings {
    pub project_dir: PathBuf,
    pub store: String,
    pub artifacts: PathBuf,
    /// Where `store` and `artifacts` came from: `flag or env`, `aidlc.toml`, or `default`.
    pub store_source: &'static str,
    pub artifacts_source: &'static str,
    /// When a SQLite write is acknowledged, and where that came from.
    pub store_sync: StoreSync,
    pub store_sync_source: &'static str,
    /// A `[store] sync` that is not a mode: opening the store fails with this message (commands
    /// that do not open the store are not stopped by it, like the rest of a broken file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_sync_error: Option<String>,
    pub json: bool,
    /// Who is acting, for the audit log.
    pub actor: String,
    /// The ONNX Runtime library, when one is configured.
    pub onnxruntime: Option<PathBuf>,
}

/// The `[store]` keys read from aidlc.toml, when present and readable.
#[derive(Debug, Default)]
pub struct FileStoreSettings {
    pub url: Option<String>,
    pub artifacts: Option<String>,
    /// `[runtime] onnxruntime`.
    pub onnxruntime: Option<String>,
    /// `[store] sync`, as written (checked when resolving).
    pub sync: Option<String>,
}

impl Settings {
    pub fn resolve(g: &GlobalArgs, file: FileStoreSettings) -> Self {
        let project_dir = g.project.clone().unwrap_or_else(|| PathBuf::from("."));
        let in_project = |p: &str| -> String {
            if p.contains("://") || Path::new(p).is_absolute() {
                p.to_string()
            } else {
                project_dir.join(p).display().to_string()
            }
        };
        let (store, store_source) = match (&g.store, &file.url) {
            (Some(s), _) => (s.clone(), FROM_ARGS),
            (None, Some(u)) => (in_project(u), FROM_FILE),
            (None, None) => (
                project_dir
                    .join(".aidlc")
                    .join("aidlc.db")
                    .display()
                    .to_string(),
                FROM_DEFAULT,
            ),
        };
        let (artifacts, artifacts_source) = match (&g.artifacts, &file.artifacts) {
            (Some(a), _) => (a.clone(), FROM_ARGS),
            (None, Some(a)) => (PathBuf::from(in_project(a)), FROM_FILE),
            (None, None) => (project_dir.join(".aidlc").join("artifacts"), FROM_DEFAULT),
        };
        let mut store_sync_error = None;
        let (store_sync, store_sync_source) = match (g.store_sync, &file.sync) {
            (Some(s), _) => (s, FROM_ARGS),
            (None, Some(text)) => match text.parse::<StoreSync>() {
                Ok(sync) => (sync, FROM_FILE),
                Err(e) => {
                    store_sync_error = Some(format!(
                        "{}: [store] sync {e}",
                        project_dir.join(SPEC_FILE).display()
                    ));
                    (StoreSync::Normal, FROM_FILE)
                }
            },
            (None, None) => (StoreSync::Normal, FROM_DEFAULT),
        };
        // The flag (or AIDLC_ONNXRUNTIME) wins over ORT_DYLIB_PATH, the variable ONNX Runtime's
        // own tools read, which wins over aidlc.toml.
        let onnxruntime = g
            .onnxruntime
            .clone()
            .or_else(|| std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from))
            .or_else(|| {
                file.onnxruntime
                    .as_deref()
                    .map(|p| PathBuf::from(in_project(p)))
            });
        Self {
            project_dir,
            store,
            artifacts,
            store_source,
            artifacts_source,
            store_sync,
            store_sync_source,
            store_sync_error,
            json: g.json,
            actor: os_user(),
            onnxruntime,
        }
    }

    pub fn spec_path(&self) -> PathBuf {
        self.project_dir.join(SPEC_FILE)
    }
}

/// The OS user name, for the audit log: from the environment, else the passwd entry of the
/// process's uid (services and containers often run without `USER`), else `uid:N`.
fn os_user() -> String {
    if let Some(u) = ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    {
        return u;
    }
    passwd_user().unwrap_or_else(|| "unknown".to_string())
}

#[cfg(unix)]
fn passwd_user() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let name = passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)? == uid.to_string()).then(|| name.to_string())
    });
    Some(name.unwrap_or_else(|| format!("uid:{uid}")))
}

#[cfg(not(unix))]
fn passwd_user() -> Option<String> {
    None
}
