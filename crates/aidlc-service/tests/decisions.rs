//! The decisions a person makes, against a real store: rejecting a retraining run that waits
//! for approval, rejecting a rollout that waits for approval, and promoting a version to the
//! protected alias — each refused without a reason or in the wrong state, and each audited
//! with who and why.

use aidlc_core::records::Deployment;
use aidlc_core::rollout::{Rollout, RolloutError, RolloutPolicy, RolloutStatus, Strategy};
use aidlc_core::spec::ProblemSpec;
use aidlc_service::iterate::{self, IterateError};
use aidlc_service::registry::{Promotion, promote};
use aidlc_service::rollout::{self, RolloutServiceError};
use aidlc_store::{
    AliasPolicy, AuditContext, AuditFilter, AuditStore, DeploymentStore, NewEvaluationReport,
    NewRegistryVersion, PipelineStore, RegistryStore, Store, StoreError,
};
use serde_json::json;

fn ctx(reason: Option<&str>) -> AuditContext {
    AuditContext {
        actor: "ana".into(),
        at_ms: 1_750_000_000_000,
        reason: reason.map(str::to_string),
    }
}

async fn store(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("aidlc.db").display().to_string())
        .await
        .unwrap()
}

/// A run of `model` stopped for approval of challenger 2, as the pipeline leaves it.
async fn waiting_run(store: &Store, model: &str) -> String {
    let run = store
        .start_pipeline(&ctx(None), model, "manual", json!({}))
        .await
        .unwrap();
    let state = json!({
        "steps": [{"name": "approval", "status": "waiting", "at_ms": 1, "evidence": {"challenger": 2}}],
        "challenger": 2,
        "report": "r1",
    });
    store
        .update_pipeline(
            &ctx(None),
            &run.id,
            "awaiting_approval",
            state,
            "pipeline.approval",
            json!({}),
        )
        .await
        .unwrap();
    run.id
}

#[tokio::test]
async fn a_rejected_run_ends_with_who_and_why_and_nothing_is_handed_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let id = waiting_run(&store, "loans").await;

    for blank in [None, Some("  ")] {
        assert!(matches!(
            iterate::reject(&store, &ctx(blank), "loans").await,
            Err(IterateError::Invalid(m)) if m.contains("needs a reason")
        ));
    }
    assert!(matches!(
        iterate::reject(&store, &ctx(Some("x")), "other").await,
        Err(IterateError::NotAwaitingApproval { model }) if model == "other"
    ));

    let run = iterate::reject(&store, &ctx(Some("trained on a holiday week")), "loans")
        .await
        .unwrap();
    assert_eq!(run.id, id);
    assert_eq!(run.status, "rejected");
    let state = iterate::state_of(&run);
    assert_eq!(
        state.reason.as_deref(),
        Some("challenger 2 rejected by ana: trained on a holiday week")
    );
    let last = state.steps.last().unwrap();
    assert_eq!(
        (last.name.as_str(), last.status.as_str()),
        ("approval", "rejected")
    );
    assert_eq!(state.rollout, None, "no rollout was started");

    let audit = store
        .list_audit(&AuditFilter {
            object_kind: Some("pipeline".into()),
            object_id: Some(id),
            limit: None,
        })
        .await
        .unwrap();
    let entry = &audit.last().unwrap().entry;
    assert_eq!(entry.action, "pipeline.reject");
    assert_eq!(entry.actor, "ana");
    assert_eq!(entry.reason.as_deref(), Some("trained on a holiday week"));

    // The run is over: neither decision applies any more, and the model may run again.
    assert!(matches!(
        iterate::reject(&store, &ctx(Some("again")), "loans").await,
        Err(IterateError::NotAwaitingApproval { .. })
    ));
    let spec = ProblemSpec::default();
    assert!(matches!(
        iterate::approve(
            &store,
            &ctx(Some("ok")),
            &spec,
            "loans",
            &AliasPolicy::default()
        )
        .await,
        Err(IterateError::NotAwaitingApproval { .. })
    ));
    store
        .start_pipeline(&ctx(None), "loans", "manual", json!({}))
        .await
        .unwrap();
}

/// Registers `n` versions of `model` (artifacts are not read here).
async fn versions(store: &Store, model: &str, n: i64) {
    for v in 1..=n {
        store
            .create_registry_version(
                &ctx(None),
                NewRegistryVersion {
                    model: model.into(),
                    artifact: aidlc_core::ids::ContentHash::of(format!("model {v}").as_bytes()),
                    source: format!("test:{v}"),
                    run_id: None,
                    logged_model_id: None,
                    description: String::new(),
                    tags: vec![],
                    dataset_version: None,
                    split: None,
                    git_commit: None,
                    git_dirty: None,
                    create_model: true,
                },
            )
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_rejected_rollout_ends_and_production_keeps_the_alias() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    versions(&store, "loans", 2).await;
    store
        .set_governed_alias(
            &ctx(Some("first")),
            &AliasPolicy::default(),
            "loans",
            "champion",
            1,
        )
        .await
        .unwrap();
    let policy = RolloutPolicy::from_spec(&ProblemSpec::default(), Strategy::Canary);
    let mut r = Rollout {
        id: "web-1".into(),
        endpoint: "web".into(),
        model: "loans".into(),
        alias: "champion".into(),
        candidate: 2,
        production: Some(1),
        strategy: Strategy::Canary,
        step: policy.steps.len() - 1,
        policy,
        label_name: None,
        label_horizon_ms: None,
        metric: None,
        positive_label: None,
        status: RolloutStatus::Running,
        started_at_ms: 0,
        step_started_at_ms: 0,
        failures: 0,
        analyses: vec![],
        reason: None,
        finished_at_ms: None,
    };
    let deployment = |r: &Rollout| Deployment {
        endpoint: "web".into(),
        model: "loans".into(),
        alias: "champion".into(),
        state: json!({ "rollout": r }),
        updated_by: "test".into(),
        updated_at_ms: 0,
    };
    store
        .upsert_deployments(&ctx(None), vec![deployment(&r)])
        .await
        .unwrap();
    // A running rollout is rolled back, not rejected.
    assert!(matches!(
        rollout::reject(&store, "web", &ctx(Some("no"))).await,
        Err(RolloutServiceError::State(
            RolloutError::NotAwaitingApproval { .. }
        ))
    ));
    r.status = RolloutStatus::AwaitingApproval;
    store
        .upsert_deployments(&ctx(None), vec![deployment(&r)])
        .await
        .unwrap();
    assert!(matches!(
        rollout::reject(&store, "web", &ctx(None)).await,
        Err(RolloutServiceError::MissingReason(_))
    ));
    assert!(matches!(
        rollout::reject(&store, "nowhere", &ctx(Some("no"))).await,
        Err(RolloutServiceError::NotFound(_))
    ));

    let rejected = rollout::reject(&store, "web", &ctx(Some("the canary week was odd")))
        .await
        .unwrap();
    assert_eq!(rejected.status, RolloutStatus::RolledBack);
    let (_, stored) = rollout::status(&store, "web").await.unwrap();
    let stored = stored.unwrap();
    assert_eq!(stored.status, RolloutStatus::RolledBack);
    assert_eq!(stored.reason.as_deref(), Some("the canary week was odd"));
    assert_eq!(
        store
            .resolve_alias("loans", "champion")
            .await
            .unwrap()
            .map(|v| v.version),
        Some(1),
        "production keeps serving"
    );
    let audit = store
        .list_audit(&AuditFilter {
            object_kind: Some("deployment".into()),
            object_id: Some("web".into()),
            limit: None,
        })
        .await
        .unwrap();
    let entry = &audit.last().unwrap().entry;
    assert_eq!(entry.action, "rollout.reject");
    assert_eq!(entry.actor, "ana");
    assert_eq!(entry.reason.as_deref(), Some("the canary week was odd"));
    assert_eq!(entry.details["candidate"], 2);
}

#[tokio::test]
async fn a_promotion_needs_a_reason_and_a_passing_report_or_an_override() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let policy = AliasPolicy::default();
    versions(&store, "loans", 3).await;
    let report = |version: i64, passed: bool| NewEvaluationReport {
        model: "loans".into(),
        version,
        passed,
        report: json!({}),
    };
    store
        .record_evaluation_report(&ctx(None), report(1, true))
        .await
        .unwrap();
    store
        .record_evaluation_report(&ctx(None), report(2, false))
        .await
        .unwrap();
    let promotion = |version: i64, override_gate: bool| Promotion {
        model: "loans",
        version,
        alias: None,
        override_gate,
    };

    assert!(matches!(
        promote(&store, &policy, &ctx(None), &promotion(1, false)).await,
        Err(StoreError::Invalid(m)) if m.contains("needs a reason")
    ));
    assert!(matches!(
        promote(&store, &policy, &ctx(Some("x")), &promotion(9, false)).await,
        Err(StoreError::NotFound { .. })
    ));
    // A reason alone is not an override: the failed and the unevaluated version are refused.
    for (version, why) in [(2, "failed"), (3, "has no evaluation report")] {
        match promote(
            &store,
            &policy,
            &ctx(Some("newer is better")),
            &promotion(version, false),
        )
        .await
        {
            Err(StoreError::Refused(m)) => {
                assert!(m.contains("is protected") && m.contains(why), "{m}")
            }
            other => panic!("version {version}: {other:?}"),
        }
    }
    assert_eq!(
        store.resolve_alias("loans", "champion").await.unwrap(),
        None
    );

    let change = promote(
        &store,
        &policy,
        &ctx(Some("passed its gates")),
        &promotion(1, false),
    )
    .await
    .unwrap();
    assert_eq!((change.alias.as_str(), change.version), ("champion", 1));
    assert!(change.report_id.is_some() && change.override_reason.is_none());

    let change = promote(
        &store,
        &policy,
        &ctx(Some("incident 42: v2 handles the outage")),
        &promotion(2, true),
    )
    .await
    .unwrap();
    assert_eq!(change.previous_version, Some(1));
    assert_eq!(
        change.override_reason.as_deref(),
        Some("incident 42: v2 handles the outage")
    );
    let audit = store.list_audit(&AuditFilter::default()).await.unwrap();
    let actions: Vec<(&str, Option<&str>)> = audit
        .iter()
        .filter(|e| e.entry.action.starts_with("alias."))
        .map(|e| (e.entry.action.as_str(), e.entry.reason.as_deref()))
        .collect();
    assert_eq!(
        actions,
        [
            ("alias.set", Some("passed its gates")),
            (
                "alias.set_override",
                Some("incident 42: v2 handles the outage")
            )
        ]
    );

    // An unprotected alias moves for any version, still with its reason.
    let change = promote(
        &store,
        &policy,
        &ctx(Some("try it")),
        &Promotion {
            alias: Some("challenger"),
            ..promotion(3, false)
        },
    )
    .await
    .unwrap();
    assert_eq!((change.alias.as_str(), change.version), ("challenger", 3));
}
