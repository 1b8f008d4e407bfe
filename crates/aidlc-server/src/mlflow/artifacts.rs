//! The MLflow artifact proxy (`/api/2.0/mlflow-artifacts/artifacts`): uploads, downloads and
//! listings of the files behind `mlflow-artifacts:/` URIs, kept under one root folder. Also the
//! registration of model versions from those files, which hashes them for lineage.

use super::{Query, required};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use aidlc_api::mlflow as wire;
use aidlc_core::ids::{ContentHash, DatasetVersionId};
use aidlc_store::{
    DatasetStore, NewRegistryVersion, RegistryStore, RegistryVersion, TrackingStore,
};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

/// Resolves a relative artifact path under the root, refusing anything that could leave it.
fn resolve(s: &AppState, rel: &str) -> ApiResult<PathBuf> {
    let mut out = s.config().mlflow_artifacts.clone();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(ApiError::invalid(format!("Invalid path: `{rel}`"))),
            p if p.contains('\\') || p.contains('\0') || (cfg!(windows) && p.contains(':')) => {
                return Err(ApiError::invalid(format!("Invalid path: `{rel}`")));
            }
            p => out.push(p),
        }
    }
    Ok(out)
}

/// The path inside the proxy named by an `mlflow-artifacts:` URI (a host part is ignored: it
/// names this server).
fn proxied_path(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("mlflow-artifacts:")?;
    let rest = match rest.strip_prefix("//") {
        Some(with_host) => with_host.split_once('/').map(|(_, p)| p).unwrap_or(""),
        None => rest,
    };
    Some(rest.trim_start_matches('/').to_string())
}

pub async fn upload(
    State(s): State<AppState>,
    Path(rel): Path<String>,
    body: Body,
) -> ApiResult<Response> {
    let dest = resolve(&s, &rel)?;
    let parent = dest
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| s.config().mlflow_artifacts.clone());
    tokio::fs::create_dir_all(&parent).await?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let tmp = parent.join(format!(".upload-{}-{nanos}", std::process::id()));
    let result = async {
        let mut file = tokio::fs::File::create(&tmp).await?;
        let mut body = body;
        let mut written: u64 = 0;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| ApiError::invalid(format!("upload interrupted: {e}")))?;
            if let Ok(data) = frame.into_data() {
                written += data.len() as u64;
                if written > crate::ARTIFACT_BODY_LIMIT {
                    return Err(ApiError::invalid(format!(
                        "artifact larger than {} bytes",
                        crate::ARTIFACT_BODY_LIMIT
                    )));
                }
                file.write_all(&data).await?;
            }
        }
        // Durable before it becomes visible, like the content-addressed store.
        file.sync_all().await?;
        tokio::fs::rename(&tmp, &dest).await?;
        Ok(())
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result?;
    Ok(().into_response())
}

pub async fn download(State(s): State<AppState>, Path(rel): Path<String>) -> ApiResult<Response> {
    let path = resolve(&s, &rel)?;
    let bytes = match tokio::fs::read(&path).await {
        Ok(b) => b,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory
            ) =>
        {
            return Err(ApiError::not_found(format!("File {rel} not found")));
        }
        Err(e) if path.is_dir() => {
            return Err(ApiError::not_found(format!("{rel} is a directory: {e}")));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

pub async fn list(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<wire::ListArtifactsResponse>> {
    let rel = Query::parse(q).one("path").unwrap_or_default();
    let dir = resolve(&s, &rel)?;
    let mut files = Vec::new();
    // A missing folder or a file lists as empty, as MLflow's server answers.
    if let Ok(mut entries) = tokio::fs::read_dir(&dir).await {
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".upload-") {
                continue;
            }
            let meta = entry.metadata().await?;
            files.push(wire::FileInfo {
                path: name,
                is_dir: meta.is_dir(),
                file_size: (!meta.is_dir()).then_some(meta.len() as i64),
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Json(wire::ListArtifactsResponse { files }))
}

pub async fn server_info(State(s): State<AppState>) -> Json<wire::ServerInfo> {
    Json(wire::ServerInfo {
        store_type: s.store().backend_name().to_string(),
        workspaces_enabled: false,
        multipart_uploads_enabled: false,
        multipart_downloads_enabled: false,
    })
}

/// A content hash of a folder: BLAKE3 over the sorted `path\thash\n` lines of its files, so the
/// same files always give the same hash wherever they are stored.
fn tree_hash(root: &std::path::Path) -> std::io::Result<Option<ContentHash>> {
    if !root.is_dir() {
        return Ok(None);
    }
    let mut lines = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                let bytes = std::fs::read(&path)?;
                lines.push(format!("{rel}\t{}\n", blake3::hash(&bytes).to_hex()));
            }
        }
    }
    if lines.is_empty() {
        return Ok(None);
    }
    lines.sort();
    Ok(Some(ContentHash::of(lines.concat().as_bytes())))
}

/// Where a registered version's files are, as an `mlflow-artifacts:` URI.
pub async fn download_uri(s: &AppState, v: &RegistryVersion) -> ApiResult<String> {
    if let Some(id) = &v.logged_model_id
        && let Some(m) = s.store().get_logged_model(id).await?
    {
        return Ok(m.artifact_uri);
    }
    if let Some(rest) = v.source.strip_prefix("runs:/") {
        let (run, sub) = rest.split_once('/').unwrap_or((rest, ""));
        if let Some(r) = s.store().get_tracked_run(run).await? {
            return Ok(format!("{}/{}", r.artifact_uri, sub)
                .trim_end_matches('/')
                .to_string());
        }
    }
    Ok(v.source.clone())
}

/// The lineage a run declares through its tags: `aidlc.dataset` (a dataset version id or
/// `name@version`), `aidlc.split` (a split manifest hash) and the git commit MLflow records.
async fn run_lineage(
    s: &AppState,
    run_id: Option<&str>,
) -> ApiResult<(
    Option<DatasetVersionId>,
    Option<ContentHash>,
    Option<String>,
)> {
    let Some(run) = run_id else {
        return Ok((None, None, None));
    };
    let Some(run) = s.store().get_tracked_run(run).await? else {
        return Ok((None, None, None));
    };
    let tag = |k: &str| {
        run.tags
            .iter()
            .find(|t| t.key == k)
            .map(|t| t.value.clone())
    };
    let dataset = match tag("aidlc.dataset") {
        Some(d) => {
            let by_id = s
                .store()
                .get_dataset_version_by_id(&DatasetVersionId(d.clone()))
                .await?;
            let found = match by_id {
                Some(v) => Some(v),
                None => match d
                    .split_once('@')
                    .and_then(|(n, v)| v.parse::<i64>().ok().map(|v| (n, v)))
                {
                    Some((name, version)) => {
                        s.store().get_dataset_version(name, Some(version)).await?
                    }
                    None => None,
                },
            };
            found.map(|v| v.id)
        }
        None => None,
    };
    let split = tag("aidlc.split").and_then(|h| ContentHash::parse(&h));
    Ok((dataset, split, tag("mlflow.source.git.commit")))
}

/// `model-versions/create`: registers the logged model (or run folder) the source names, with
/// the hash of its files and the lineage its run declares. Versions are READY at once.
pub async fn register_version(
    s: &AppState,
    req: wire::CreateModelVersion,
) -> ApiResult<RegistryVersion> {
    let name = required(req.name, "name")?;
    let source = required(req.source, "source")?;
    let logged_id = req.model_id.filter(|m| !m.is_empty()).or_else(|| {
        source
            .strip_prefix("models:/")
            .filter(|rest| !rest.contains('/') && !rest.contains('@'))
            .map(str::to_string)
    });
    let logged = match &logged_id {
        Some(id) => Some(s.store().get_logged_model(id).await?.ok_or_else(|| {
            ApiError::not_found(format!("Logged model with ID '{id}' not found"))
        })?),
        None => None,
    };
    let files_uri = match &logged {
        Some(m) => Some(m.artifact_uri.clone()),
        None if source.starts_with("mlflow-artifacts:") => Some(source.clone()),
        None => match source.strip_prefix("runs:/") {
            Some(rest) => {
                let (run, sub) = rest.split_once('/').unwrap_or((rest, ""));
                s.store()
                    .get_tracked_run(run)
                    .await?
                    .map(|r| format!("{}/{sub}", r.artifact_uri))
            }
            None => None,
        },
    };
    let hashed = match files_uri.as_deref().and_then(proxied_path) {
        Some(rel) => {
            let dir = resolve(s, &rel)?;
            tokio::task::spawn_blocking(move || tree_hash(&dir))
                .await
                .map_err(|e| ApiError::Io(std::io::Error::other(e)))??
        }
        None => None,
    };
    // Without files behind the source (an external URI), the source itself is what is pinned.
    let artifact = hashed.unwrap_or_else(|| ContentHash::of(source.as_bytes()));
    let run_id = req
        .run_id
        .filter(|r| !r.is_empty())
        .or_else(|| logged.as_ref().and_then(|m| m.source_run_id.clone()));
    let (dataset_version, split, git_commit) = run_lineage(s, run_id.as_deref()).await?;
    let v = NewRegistryVersion {
        model: name,
        artifact,
        source,
        run_id,
        logged_model_id: logged_id,
        description: req.description.unwrap_or_default(),
        tags: super::convert::to_store_kvs(req.tags),
        dataset_version,
        split,
        git_commit,
        git_dirty: None,
        create_model: false,
    };
    Ok(s.store().create_registry_version(&s.audit(None), v).await?)
}

#[cfg(test)]
mod tests {
    use super::proxied_path;

    #[test]
    fn proxied_paths_drop_scheme_and_host() {
        assert_eq!(
            proxied_path("mlflow-artifacts:/1/abc/artifacts").as_deref(),
            Some("1/abc/artifacts")
        );
        assert_eq!(
            proxied_path("mlflow-artifacts://h:5000/1/x").as_deref(),
            Some("1/x")
        );
        assert_eq!(proxied_path("s3://bucket/x"), None);
    }
}
