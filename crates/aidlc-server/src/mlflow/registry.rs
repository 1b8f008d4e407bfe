//! Handlers of MLflow's model registry endpoints: registered models, versions and aliases.
//! Alias changes go through the governed path, so a protected alias refuses a version without a
//! passing evaluation report here exactly as it does through the native API.

use super::convert::{self, to_store_kvs};
use super::search::{page_token, parse_filter, parse_page_token};
use super::{Query, body, max_results, required};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use aidlc_api::mlflow as wire;
use aidlc_store::{
    Comparison, FilterValue, KeyValue, RegisteredModel, RegistryStore, RegistryVersionSearch,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};

type Reply<T> = ApiResult<Json<T>>;

fn model_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Registered Model with name={name} not found"))
}

fn version_number(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| {
        ApiError::invalid(format!(
            "Model version must be a positive integer, got `{raw}`"
        ))
    })
}

/// MLflow's alias rules: word characters and dashes; `latest` and `v<digits>` are reserved.
pub(crate) fn check_alias(alias: &str) -> ApiResult<()> {
    let valid = !alias.is_empty()
        && alias
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    let lower = alias.to_ascii_lowercase();
    let reserved = lower == "latest"
        || (lower.len() > 1
            && lower.starts_with('v')
            && lower[1..].chars().all(|c| c.is_ascii_digit()));
    if !valid || reserved {
        return Err(ApiError::invalid(format!(
            "Invalid alias name `{alias}`: aliases use letters, digits, `_` and `-`, and `latest` and `v<number>` are reserved"
        )));
    }
    Ok(())
}

async fn registered(s: &AppState, name: &str) -> ApiResult<RegisteredModel> {
    s.store()
        .get_registered_model(name)
        .await?
        .ok_or_else(|| model_not_found(name))
}

pub async fn create_registered_model(
    State(s): State<AppState>,
    b: Bytes,
) -> Reply<wire::RegisteredModelResponse> {
    let req: wire::CreateRegisteredModel = body(&b)?;
    let name = required(req.name, "name")?;
    let m = s
        .store()
        .create_registered_model(
            &s.audit(None),
            &name,
            req.description.as_deref().unwrap_or(""),
            to_store_kvs(req.tags),
        )
        .await?;
    Ok(Json(wire::RegisteredModelResponse {
        registered_model: convert::registered_model(&m),
    }))
}

pub async fn get_registered_model(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Reply<wire::RegisteredModelResponse> {
    let name = Query::parse(q).required("name")?;
    let m = registered(&s, &name).await?;
    Ok(Json(wire::RegisteredModelResponse {
        registered_model: convert::registered_model(&m),
    }))
}

pub async fn search_registered_models(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Reply<wire::SearchRegisteredModelsResponse> {
    let q = Query::parse(q);
    let mut name_like = None;
    let mut tag_terms = Vec::new();
    for t in parse_filter(&q.one("filter").unwrap_or_default()).map_err(ApiError::invalid)? {
        match (t.prefix.as_deref(), t.key.as_str(), t.op, t.value) {
            (None, "name", Comparison::Eq | Comparison::Like, FilterValue::Text(v)) => {
                name_like = Some(v)
            }
            (
                Some("tag" | "tags"),
                key,
                op @ (Comparison::Eq | Comparison::Ne),
                FilterValue::Text(v),
            ) => tag_terms.push((key.to_string(), op, v)),
            (_, key, _, _) => {
                return Err(ApiError::invalid(format!(
                    "unsupported registered model filter on `{key}`"
                )));
            }
        }
    }
    let max = max_results(q.int("max_results")?, 100)?;
    let offset = parse_page_token(q.one("page_token").as_deref()).map_err(ApiError::invalid)?;
    let page = s
        .store()
        .search_registered_models(name_like, max, offset)
        .await?;
    // Tag terms are few (the client adds `tag.mlflow.prompt.is_prompt != 'true'`) and are
    // checked on the page; a missing tag differs from any value.
    let keep = |m: &&RegisteredModel| {
        tag_terms.iter().all(|(key, op, v)| {
            let value = m
                .tags
                .iter()
                .find(|t| &t.key == key)
                .map(|t| t.value.as_str());
            match op {
                Comparison::Eq => value == Some(v.as_str()),
                _ => value != Some(v.as_str()),
            }
        })
    };
    Ok(Json(wire::SearchRegisteredModelsResponse {
        registered_models: page
            .items
            .iter()
            .filter(keep)
            .map(convert::registered_model)
            .collect(),
        next_page_token: page_token(page.next_offset),
    }))
}

pub async fn set_registered_model_tag(State(s): State<AppState>, b: Bytes) -> Reply<wire::Empty> {
    let req: wire::SetRegisteredModelTag = body(&b)?;
    let name = required(req.name, "name")?;
    let tag = KeyValue {
        key: required(req.key, "key")?,
        value: req.value.unwrap_or_default(),
    };
    s.store()
        .set_registered_model_tag(&s.audit(None), &name, tag)
        .await?;
    Ok(Json(wire::Empty {}))
}

pub async fn delete_registered_model(State(s): State<AppState>, b: Bytes) -> Reply<wire::Empty> {
    let req: wire::RegisteredModelRef = body(&b)?;
    let name = required(req.name, "name")?;
    s.store()
        .delete_registered_model(&s.audit(None), &name)
        .await?;
    Ok(Json(wire::Empty {}))
}

pub async fn get_latest_versions(
    State(s): State<AppState>,
    b: Bytes,
) -> Reply<wire::ModelVersionsResponse> {
    let req: wire::GetLatestVersions = body(&b)?;
    let m = registered(&s, &required(req.name, "name")?).await?;
    let versions = m
        .latest_versions
        .iter()
        .filter(|v| {
            req.stages.is_empty()
                || req
                    .stages
                    .iter()
                    .any(|st| st.eq_ignore_ascii_case(&v.stage))
        })
        .map(convert::model_version)
        .collect();
    Ok(Json(wire::ModelVersionsResponse {
        model_versions: versions,
        next_page_token: None,
    }))
}

pub async fn create_model_version(
    State(s): State<AppState>,
    b: Bytes,
) -> Reply<wire::ModelVersionResponse> {
    let req: wire::CreateModelVersion = body(&b)?;
    let v = crate::mlflow::artifacts::register_version(&s, req).await?;
    Ok(Json(wire::ModelVersionResponse {
        model_version: convert::model_version(&v),
    }))
}

async fn version_from_query(s: &AppState, q: &Query) -> ApiResult<aidlc_store::RegistryVersion> {
    let name = q.required("name")?;
    let version = version_number(&q.required("version")?)?;
    s.store()
        .get_registry_version(&name, version)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Model Version (name={name}, version={version}) not found"
            ))
        })
}

pub async fn get_model_version(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Reply<wire::ModelVersionResponse> {
    let v = version_from_query(&s, &Query::parse(q)).await?;
    Ok(Json(wire::ModelVersionResponse {
        model_version: convert::model_version(&v),
    }))
}

pub async fn get_download_uri(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Reply<wire::DownloadUriResponse> {
    let v = version_from_query(&s, &Query::parse(q)).await?;
    let uri = crate::mlflow::artifacts::download_uri(&s, &v).await?;
    Ok(Json(wire::DownloadUriResponse { artifact_uri: uri }))
}

pub async fn search_model_versions(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Reply<wire::ModelVersionsResponse> {
    let q = Query::parse(q);
    let mut search = RegistryVersionSearch {
        model: None,
        run_id: None,
        max_results: max_results(q.int("max_results")?, 10_000)?,
        offset: parse_page_token(q.one("page_token").as_deref()).map_err(ApiError::invalid)?,
    };
    for t in parse_filter(&q.one("filter").unwrap_or_default()).map_err(ApiError::invalid)? {
        match (t.key.as_str(), t.op, t.value) {
            ("name", Comparison::Eq, FilterValue::Text(v)) => search.model = Some(v),
            ("run_id", Comparison::Eq, FilterValue::Text(v)) => search.run_id = Some(v),
            (key, _, _) => {
                return Err(ApiError::invalid(format!(
                    "unsupported model version filter on `{key}`"
                )));
            }
        }
    }
    let page = s.store().search_registry_versions(&search).await?;
    Ok(Json(wire::ModelVersionsResponse {
        model_versions: page.items.iter().map(convert::model_version).collect(),
        next_page_token: page_token(page.next_offset),
    }))
}

fn version_ref(req: &wire::ModelVersionRef) -> ApiResult<(String, i64)> {
    let name = required(req.name.clone(), "name")?;
    let version = version_number(&required(req.version.clone(), "version")?)?;
    Ok((name, version))
}

pub async fn set_model_version_tag(State(s): State<AppState>, b: Bytes) -> Reply<wire::Empty> {
    let req: wire::ModelVersionRef = body(&b)?;
    let (name, version) = version_ref(&req)?;
    let tag = KeyValue {
        key: required(req.key, "key")?,
        value: req.value.unwrap_or_default(),
    };
    s.store()
        .set_model_version_tag(&s.audit(None), &name, version, tag)
        .await?;
    Ok(Json(wire::Empty {}))
}

pub async fn delete_model_version_tag(State(s): State<AppState>, b: Bytes) -> Reply<wire::Empty> {
    let req: wire::ModelVersionRef = body(&b)?;
    let (name, version) = version_ref(&req)?;
    let key = required(req.key, "key")?;
    s.store()
        .delete_model_version_tag(&s.audit(None), &name, version, &key)
        .await?;
    Ok(Json(wire::Empty {}))
}

pub async fn update_model_version(
    State(s): State<AppState>,
    b: Bytes,
) -> Reply<wire::ModelVersionResponse> {
    let req: wire::ModelVersionRef = body(&b)?;
    let (name, version) = version_ref(&req)?;
    let v = s
        .store()
        .update_registry_version(&s.audit(None), &name, version, req.description, None)
        .await?;
    Ok(Json(wire::ModelVersionResponse {
        model_version: convert::model_version(&v),
    }))
}

pub async fn transition_stage(
    State(s): State<AppState>,
    b: Bytes,
) -> Reply<wire::ModelVersionResponse> {
    let req: wire::ModelVersionRef = body(&b)?;
    let (name, version) = version_ref(&req)?;
    let stage = match required(req.stage, "stage")?.to_ascii_lowercase().as_str() {
        "none" => "None",
        "staging" => "Staging",
        "production" => "Production",
        "archived" => "Archived",
        other => {
            return Err(ApiError::invalid(format!(
                "Invalid Model Version stage: {other}"
            )));
        }
    };
    let v = s
        .store()
        .update_registry_version(
            &s.audit(None),
            &name,
            version,
            None,
            Some(stage.to_string()),
        )
        .await?;
    Ok(Json(wire::ModelVersionResponse {
        model_version: convert::model_version(&v),
    }))
}

pub async fn set_alias(State(s): State<AppState>, b: Bytes) -> Reply<wire::Empty> {
    let req: wire::AliasRequest = body(&b)?;
    let name = required(req.name, "name")?;
    let alias = required(req.alias, "alias")?;
    check_alias(&alias)?;
    let version = version_number(&required(req.version, "version")?)?;
    // MLflow's API has no field for an override reason, so a protected alias needs a passing
    // evaluation report when it is moved through this endpoint.
    s.store()
        .set_governed_alias(
            &s.audit(None),
            &s.config().alias_policy,
            &name,
            &alias,
            version,
        )
        .await?;
    s.serving().alias_moved(&name).await;
    Ok(Json(wire::Empty {}))
}

pub async fn get_alias(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Reply<wire::ModelVersionResponse> {
    let q = Query::parse(q);
    let name = q.required("name")?;
    let alias = q.required("alias")?;
    registered(&s, &name).await?;
    // MLflow answers a missing alias with 400, not 404.
    let v = s
        .store()
        .resolve_alias(&name, &alias)
        .await?
        .ok_or_else(|| ApiError::invalid(format!("Registered model alias {alias} not found.")))?;
    Ok(Json(wire::ModelVersionResponse {
        model_version: convert::model_version(&v),
    }))
}

pub async fn delete_alias(State(s): State<AppState>, b: Bytes) -> Reply<wire::Empty> {
    let req: wire::AliasRequest = body(&b)?;
    let name = required(req.name, "name")?;
    let alias = required(req.alias, "alias")?;
    s.store()
        .delete_alias(&s.audit(None), &name, &alias)
        .await?;
    s.serving().alias_moved(&name).await;
    Ok(Json(wire::Empty {}))
}

#[cfg(test)]
mod tests {
    use super::check_alias;

    #[test]
    fn alias_names_follow_mlflow() {
        assert!(check_alias("champion").is_ok());
        assert!(check_alias("blue-green_2").is_ok());
        for bad in ["latest", "v3", "V12", "a b", "", "x/y"] {
            assert!(check_alias(bad).is_err(), "{bad}");
        }
        assert!(check_alias("v").is_ok());
        assert!(check_alias("vx1").is_ok());
    }
}
