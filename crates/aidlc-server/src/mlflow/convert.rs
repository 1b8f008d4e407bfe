//! Store records to MLflow wire messages and back. Pure field mapping.

use aidlc_api::mlflow as wire;
use aidlc_store as store;

pub fn kv(k: &store::KeyValue) -> wire::KeyValue {
    wire::KeyValue {
        key: k.key.clone(),
        value: k.value.clone(),
    }
}

pub fn kvs(list: &[store::KeyValue]) -> Vec<wire::KeyValue> {
    list.iter().map(kv).collect()
}

pub fn to_store_kvs(list: Vec<wire::KeyValue>) -> Vec<store::KeyValue> {
    list.into_iter()
        .map(|k| store::KeyValue {
            key: k.key,
            value: k.value,
        })
        .collect()
}

pub fn experiment(e: &store::Experiment) -> wire::Experiment {
    wire::Experiment {
        experiment_id: e.id.to_string(),
        name: e.name.clone(),
        artifact_location: e.artifact_location.clone(),
        lifecycle_stage: e.lifecycle.as_str().to_string(),
        creation_time: e.creation_time,
        last_update_time: e.last_update_time,
        tags: kvs(&e.tags),
    }
}

pub fn metric(m: &store::Metric) -> wire::Metric {
    wire::Metric {
        key: m.key.clone(),
        value: m.value,
        timestamp: Some(m.timestamp),
        step: Some(m.step),
        model_id: m.model_id.clone(),
        dataset_name: m.dataset_name.clone(),
        dataset_digest: m.dataset_digest.clone(),
        run_id: None,
    }
}

pub fn run_info(r: &store::TrackedRun) -> wire::RunInfo {
    wire::RunInfo {
        run_id: r.id.clone(),
        run_uuid: r.id.clone(),
        run_name: r.name.clone(),
        experiment_id: r.experiment_id.to_string(),
        user_id: r.user_id.clone(),
        status: r.status.as_str().to_string(),
        start_time: r.start_time,
        end_time: r.end_time,
        artifact_uri: r.artifact_uri.clone(),
        lifecycle_stage: r.lifecycle.as_str().to_string(),
    }
}

pub fn run(r: &store::TrackedRun) -> wire::Run {
    wire::Run {
        info: run_info(r),
        data: wire::RunData {
            metrics: r.metrics.iter().map(metric).collect(),
            params: kvs(&r.params),
            tags: kvs(&r.tags),
        },
        inputs: wire::RunInputs {},
        outputs: wire::RunOutputs {
            model_outputs: r
                .outputs
                .iter()
                .map(|o| wire::ModelOutput {
                    model_id: o.model_id.clone(),
                    step: Some(o.step),
                })
                .collect(),
        },
    }
}

pub fn logged_model(m: &store::LoggedModel) -> wire::LoggedModel {
    wire::LoggedModel {
        info: wire::LoggedModelInfo {
            model_id: m.id.clone(),
            experiment_id: m.experiment_id.to_string(),
            name: m.name.clone(),
            creation_timestamp_ms: m.created_at_ms,
            last_updated_timestamp_ms: m.updated_at_ms,
            artifact_uri: m.artifact_uri.clone(),
            status: m.status.as_str().to_string(),
            model_type: m.model_type.clone(),
            source_run_id: m.source_run_id.clone(),
            tags: kvs(&m.tags),
        },
        data: wire::LoggedModelData {
            params: kvs(&m.params),
            metrics: m.metrics.iter().map(metric).collect(),
        },
    }
}

pub fn model_version(v: &store::RegistryVersion) -> wire::ModelVersion {
    wire::ModelVersion {
        name: v.model.clone(),
        version: v.version.to_string(),
        creation_timestamp: v.created_at_ms,
        last_updated_timestamp: v.updated_at_ms,
        user_id: v.created_by.clone(),
        current_stage: v.stage.clone(),
        description: v.description.clone(),
        source: v.source.clone(),
        run_id: v.run_id.clone(),
        // Registration is synchronous here, so a version is READY as soon as it exists (a
        // PENDING answer would make the client poll for minutes).
        status: "READY".to_string(),
        run_link: String::new(),
        tags: kvs(&v.tags),
        aliases: v.aliases.clone(),
        model_id: v.logged_model_id.clone(),
    }
}

pub fn registered_model(m: &store::RegisteredModel) -> wire::RegisteredModel {
    wire::RegisteredModel {
        name: m.name.clone(),
        creation_timestamp: m.created_at_ms,
        last_updated_timestamp: m.updated_at_ms,
        description: m.description.clone(),
        latest_versions: m.latest_versions.iter().map(model_version).collect(),
        tags: kvs(&m.tags),
        aliases: m
            .aliases
            .iter()
            .map(|(alias, version)| wire::RegisteredModelAlias {
                alias: alias.clone(),
                version: version.to_string(),
            })
            .collect(),
    }
}
