//! The tracking and registry contract: one suite, run on SQLite always and on PostgreSQL when
//! `AIDLC_TEST_POSTGRES_URL` is set, so both backends answer MLflow clients the same way.

use aidlc_core::ids::ContentHash;
use aidlc_core::records::RunStatus;
use aidlc_store::{
    AliasPolicy, AuditFilter, AuditStore, Comparison, ExperimentSearch, FilterValue, KeyValue,
    Lifecycle, LogBatch, LoggedModelSearch, LoggedModelStatus, Metric, ModelOutput,
    NewEvaluationReport, NewLoggedModel, NewRegistryVersion, NewTrackedRun, RegistryStore,
    RegistryVersionSearch, RunAttribute, RunClause, RunField, RunOrder, RunSearch, RunUpdate,
    Store, StoreError, TrackingStore, ViewType,
};
use anyhow::Result;

mod common;

use common::{backends, ctx};

fn metric(key: &str, value: f64, timestamp: i64, step: i64) -> Metric {
    Metric {
        key: key.to_string(),
        value,
        timestamp,
        step,
        model_id: None,
        dataset_name: None,
        dataset_digest: None,
    }
}

async fn new_run(s: &Store, experiment_id: i64, name: &str, start: i64) -> Result<String> {
    let run = s
        .create_tracked_run(
            &ctx("ana"),
            NewTrackedRun {
                experiment_id,
                name: name.to_string(),
                user_id: "ana".into(),
                start_time: start,
                tags: vec![],
            },
        )
        .await?;
    Ok(run.id)
}

fn search(experiment_ids: Vec<i64>) -> RunSearch {
    RunSearch {
        experiment_ids,
        clauses: vec![],
        order: vec![],
        view: ViewType::ActiveOnly,
        max_results: 1000,
        offset: 0,
    }
}

#[tokio::test]
async fn experiments_have_a_default_and_unique_names() -> Result<()> {
    for b in backends().await? {
        let s = &b.store;
        let default = s.get_experiment(0).await?.expect("experiment 0 exists");
        assert_eq!(default.name, "Default");
        let e = s
            .create_experiment(&ctx("ana"), "rain", None, vec![KeyValue::new("team", "ml")])
            .await?;
        assert_eq!(e.artifact_location, format!("mlflow-artifacts:/{}", e.id));
        assert_eq!(e.tags, vec![KeyValue::new("team", "ml")]);
        let dup = s.create_experiment(&ctx("ana"), "rain", None, vec![]).await;
        assert!(
            matches!(dup, Err(StoreError::AlreadyExists { .. })),
            "{dup:?}"
        );
        assert_eq!(
            s.get_experiment_by_name("rain").await?.map(|x| x.id),
            Some(e.id)
        );
        assert_eq!(s.get_experiment_by_name("nope").await?, None);

        s.set_experiment_lifecycle(&ctx("ana"), e.id, Lifecycle::Deleted)
            .await?;
        let active = s
            .search_experiments(&ExperimentSearch {
                view: ViewType::ActiveOnly,
                name: None,
                max_results: 10,
                offset: 0,
            })
            .await?;
        assert_eq!(
            active.items.iter().map(|x| x.id).collect::<Vec<_>>(),
            vec![0]
        );
        s.set_experiment_lifecycle(&ctx("ana"), e.id, Lifecycle::Active)
            .await?;
        let by_name = s
            .search_experiments(&ExperimentSearch {
                view: ViewType::All,
                name: Some((Comparison::Like, "ra%".into())),
                max_results: 10,
                offset: 0,
            })
            .await?;
        assert_eq!(by_name.items.len(), 1);
        let audit = s
            .list_audit(&AuditFilter {
                object_kind: Some("experiment".into()),
                ..Default::default()
            })
            .await?;
        assert_eq!(audit.len(), 3, "{}", s.backend_name());
    }
    Ok(())
}

#[tokio::test]
async fn runs_log_params_tags_and_metric_histories() -> Result<()> {
    for b in backends().await? {
        let s = &b.store;
        let id = new_run(s, 0, "", 100).await?;
        let run = s.get_tracked_run(&id).await?.expect("run");
        assert_eq!(run.status, RunStatus::Running);
        assert!(!run.name.is_empty(), "a name is invented");
        assert!(
            run.tags
                .iter()
                .any(|t| t.key == "mlflow.runName" && t.value == run.name)
        );
        assert_eq!(
            run.artifact_uri,
            format!("mlflow-artifacts:/0/{id}/artifacts")
        );

        s.log_batch(
            &ctx("ana"),
            &id,
            LogBatch {
                metrics: vec![
                    metric("loss", 0.9, 10, 0),
                    metric("loss", 0.5, 11, 2),
                    metric("loss", 0.7, 12, 1),
                    metric("acc", f64::NAN, 10, 0),
                ],
                params: vec![KeyValue::new("lr", "0.1"), KeyValue::new("depth", "3")],
                tags: vec![KeyValue::new("team", "ml")],
            },
        )
        .await?;
        // A later call with a lower step does not replace the latest value.
        s.log_batch(
            &ctx("ana"),
            &id,
            LogBatch {
                metrics: vec![
                    metric("loss", 0.1, 99, 1),
                    metric("loss", f64::INFINITY, 13, 2),
                ],
                ..Default::default()
            },
        )
        .await?;
        let run = s.get_tracked_run(&id).await?.expect("run");
        let loss = run.metrics.iter().find(|m| m.key == "loss").expect("loss");
        assert_eq!(
            (loss.value, loss.step, loss.timestamp),
            (f64::INFINITY, 2, 13)
        );
        assert!(
            run.metrics
                .iter()
                .find(|m| m.key == "acc")
                .expect("acc")
                .value
                .is_nan()
        );
        assert_eq!(run.params.len(), 2);
        assert!(run.tags.contains(&KeyValue::new("team", "ml")));

        let history = s.metric_history(&id, "loss", 2, 0).await?;
        assert_eq!(
            history
                .items
                .iter()
                .map(|m| (m.step, m.value))
                .collect::<Vec<_>>(),
            vec![(0, 0.9), (1, 0.7)]
        );
        assert_eq!(history.next_offset, Some(2));
        let rest = s.metric_history(&id, "loss", 25_000, 2).await?;
        assert_eq!(rest.items.len(), 3);
        assert_eq!(rest.next_offset, None);

        // The same param value again is fine; another value is refused and nothing is written.
        s.log_batch(
            &ctx("ana"),
            &id,
            LogBatch {
                params: vec![KeyValue::new("lr", "0.1")],
                ..Default::default()
            },
        )
        .await?;
        let changed = s
            .log_batch(
                &ctx("ana"),
                &id,
                LogBatch {
                    params: vec![KeyValue::new("lr", "0.2")],
                    metrics: vec![metric("later", 1.0, 1, 0)],
                    ..Default::default()
                },
            )
            .await;
        assert!(
            matches!(changed, Err(StoreError::Invalid(_))),
            "{changed:?}"
        );
        assert!(
            s.metric_history(&id, "later", 10, 0)
                .await?
                .items
                .is_empty()
        );

        let done = s
            .update_tracked_run(
                &ctx("ana"),
                &id,
                RunUpdate {
                    status: Some(RunStatus::Finished),
                    end_time: Some(500),
                    name: None,
                },
            )
            .await?;
        assert_eq!(
            (done.status, done.end_time),
            (RunStatus::Finished, Some(500))
        );

        s.set_run_lifecycle(&ctx("ana"), &id, Lifecycle::Deleted)
            .await?;
        let write = s
            .log_batch(
                &ctx("ana"),
                &id,
                LogBatch {
                    tags: vec![KeyValue::new("a", "b")],
                    ..Default::default()
                },
            )
            .await;
        assert!(matches!(write, Err(StoreError::Invalid(_))), "{write:?}");
        assert_eq!(
            s.get_tracked_run(&id).await?.expect("readable").lifecycle,
            Lifecycle::Deleted
        );
        assert!(
            s.search_tracked_runs(&search(vec![0]))
                .await?
                .items
                .is_empty()
        );
        s.set_run_lifecycle(&ctx("ana"), &id, Lifecycle::Active)
            .await?;
        assert_eq!(
            s.search_tracked_runs(&search(vec![0])).await?.items.len(),
            1
        );

        let missing = s.log_batch(&ctx("ana"), "0000", LogBatch::default()).await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { kind: "run", .. })),
            "{missing:?}"
        );
        assert_eq!(s.get_tracked_run("0000").await?, None);
    }
    Ok(())
}

#[tokio::test]
async fn run_search_filters_orders_and_pages() -> Result<()> {
    for b in backends().await? {
        let s = &b.store;
        let exp = s
            .create_experiment(&ctx("ana"), "search", None, vec![])
            .await?
            .id;
        let mut ids = Vec::new();
        for i in 0..6_i64 {
            let id = new_run(s, exp, &format!("r{i}"), 1000 + i).await?;
            let mut metrics = vec![metric("m0", i as f64 / 10.0, 1, 0)];
            if i != 3 {
                metrics.push(metric("m1", (5 - i) as f64, 1, 0));
            }
            s.log_batch(
                &ctx("ana"),
                &id,
                LogBatch {
                    metrics,
                    params: vec![KeyValue::new("p0", (i % 2).to_string())],
                    tags: vec![KeyValue::new("kind", if i < 3 { "Alpha" } else { "beta" })],
                },
            )
            .await?;
            ids.push(id);
        }
        let names = |page: &aidlc_store::Page<aidlc_store::TrackedRun>| {
            page.items
                .iter()
                .map(|r| r.name.clone())
                .collect::<Vec<_>>()
        };
        // Default order: newest first.
        assert_eq!(
            names(&s.search_tracked_runs(&search(vec![exp])).await?),
            ["r5", "r4", "r3", "r2", "r1", "r0"]
        );

        let mut q = search(vec![exp]);
        q.clauses = vec![
            RunClause {
                field: RunField::Metric("m0".into()),
                op: Comparison::Gt,
                value: FilterValue::Number(0.15),
            },
            RunClause {
                field: RunField::Param("p0".into()),
                op: Comparison::Eq,
                value: FilterValue::Text("0".into()),
            },
        ];
        q.order = vec![RunOrder {
            field: RunField::Metric("m1".into()),
            ascending: true,
        }];
        assert_eq!(names(&s.search_tracked_runs(&q).await?), ["r4", "r2"]);

        // A run without the order key sorts last in both directions.
        let mut q = search(vec![exp]);
        q.order = vec![RunOrder {
            field: RunField::Metric("m1".into()),
            ascending: false,
        }];
        assert_eq!(
            names(&s.search_tracked_runs(&q).await?),
            ["r0", "r1", "r2", "r4", "r5", "r3"]
        );
        q.order[0].ascending = true;
        assert_eq!(
            names(&s.search_tracked_runs(&q).await?),
            ["r5", "r4", "r2", "r1", "r0", "r3"]
        );

        // LIKE is case-sensitive, ILIKE is not, on both backends.
        let mut q = search(vec![exp]);
        q.clauses = vec![RunClause {
            field: RunField::Tag("kind".into()),
            op: Comparison::Like,
            value: FilterValue::Text("a%".into()),
        }];
        assert!(s.search_tracked_runs(&q).await?.items.is_empty());
        q.clauses[0].op = Comparison::ILike;
        assert_eq!(s.search_tracked_runs(&q).await?.items.len(), 3);

        let mut q = search(vec![exp]);
        q.clauses = vec![
            RunClause {
                field: RunField::Attribute(RunAttribute::RunId),
                op: Comparison::In,
                value: FilterValue::List(vec![ids[0].clone(), ids[1].clone()]),
            },
            RunClause {
                field: RunField::Metric("m1".into()),
                op: Comparison::IsNotNull,
                value: FilterValue::None,
            },
        ];
        assert_eq!(names(&s.search_tracked_runs(&q).await?), ["r1", "r0"]);
        let mut q = search(vec![exp]);
        q.clauses = vec![RunClause {
            field: RunField::Metric("m1".into()),
            op: Comparison::IsNull,
            value: FilterValue::None,
        }];
        assert_eq!(names(&s.search_tracked_runs(&q).await?), ["r3"]);
        let mut q = search(vec![exp]);
        q.clauses = vec![RunClause {
            field: RunField::Attribute(RunAttribute::StartTime),
            op: Comparison::Ge,
            value: FilterValue::Number(1004.0),
        }];
        assert_eq!(names(&s.search_tracked_runs(&q).await?), ["r5", "r4"]);

        // Pages cover every run exactly once.
        let mut q = search(vec![exp]);
        q.max_results = 4;
        let first = s.search_tracked_runs(&q).await?;
        assert_eq!(first.next_offset, Some(4));
        q.offset = 4;
        let second = s.search_tracked_runs(&q).await?;
        assert_eq!((second.items.len(), second.next_offset), (2, None));

        let bad = RunClause {
            field: RunField::Metric("m0".into()),
            op: Comparison::Like,
            value: FilterValue::Text("x".into()),
        };
        let mut q = search(vec![exp]);
        q.clauses = vec![bad];
        assert!(matches!(
            s.search_tracked_runs(&q).await,
            Err(StoreError::Invalid(_))
        ));
    }
    Ok(())
}

/// Seeds `n` runs with rows written directly (the scale, not the write path, is under test).
async fn seed_runs(s: &Store, experiment_id: i64, n: usize) -> Result<()> {
    let mut statements = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(400) {
        let runs: Vec<String> = chunk
            .iter()
            .map(|i| format!("('seed{i:08}', '', 'seed{i}', 'FINISHED', '{{}}', 'ana', {}, {experiment_id}, 'active', 'x')", 10_000 + i))
            .collect();
        statements.push(format!(
            "INSERT INTO runs (id, project, name, status, params_json, created_by, started_at_ms, experiment_id, lifecycle_stage, artifact_uri) VALUES {}",
            runs.join(", ")
        ));
        let params: Vec<String> = chunk
            .iter()
            .map(|i| format!("('seed{i:08}', 'p0', '{}')", i % 4))
            .collect();
        statements.push(format!(
            "INSERT INTO run_params (run_id, key, value) VALUES {}",
            params.join(", ")
        ));
        let metrics: Vec<String> = chunk
            .iter()
            .map(|i| {
                format!(
                    "('seed{i:08}', 'm0', {}, 1, 0)",
                    (i * 7919 % n) as f64 / n as f64
                )
            })
            .collect();
        statements.push(format!(
            "INSERT INTO latest_metrics (run_id, key, value, timestamp, step) VALUES {}",
            metrics.join(", ")
        ));
    }
    for sql in statements {
        match s {
            Store::Sqlite(x) => {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(x.pool())
                    .await?;
            }
            Store::Postgres(x) => {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(x.pool())
                    .await?;
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn search_over_ten_thousand_runs() -> Result<()> {
    for b in backends().await? {
        let s = &b.store;
        let exp = s
            .create_experiment(&ctx("ana"), "big", None, vec![])
            .await?
            .id;
        seed_runs(s, exp, 10_000).await?;
        let mut q = search(vec![exp]);
        q.clauses = vec![
            RunClause {
                field: RunField::Metric("m0".into()),
                op: Comparison::Gt,
                value: FilterValue::Number(0.5),
            },
            RunClause {
                field: RunField::Param("p0".into()),
                op: Comparison::Eq,
                value: FilterValue::Text("0".into()),
            },
        ];
        q.order = vec![RunOrder {
            field: RunField::Metric("m0".into()),
            ascending: false,
        }];
        q.max_results = 100;
        let page = s.search_tracked_runs(&q).await?;
        assert_eq!(page.items.len(), 100);
        assert!(page.next_offset.is_some());
        let values: Vec<f64> = page.items.iter().map(|r| r.metrics[0].value).collect();
        assert!(
            values.windows(2).all(|w| w[0] >= w[1]),
            "ordered by m0 desc"
        );
        assert!(values.iter().all(|v| *v > 0.5));
        assert!(
            page.items
                .iter()
                .all(|r| r.params == vec![KeyValue::new("p0", "0")])
        );
        // Every match is found once across pages.
        let mut total = 0;
        let mut offset = 0;
        q.max_results = 1000;
        loop {
            q.offset = offset;
            let p = s.search_tracked_runs(&q).await?;
            total += p.items.len();
            match p.next_offset {
                Some(o) => offset = o,
                None => break,
            }
        }
        let expected = (0..10_000usize)
            .filter(|i| i % 4 == 0 && (i * 7919 % 10_000) as f64 / 10_000.0 > 0.5)
            .count();
        assert_eq!(total, expected, "{}", s.backend_name());
    }
    Ok(())
}

#[tokio::test]
async fn logged_models_and_run_outputs() -> Result<()> {
    for b in backends().await? {
        let s = &b.store;
        let run = new_run(s, 0, "train", 1).await?;
        let m = s
            .create_logged_model(
                &ctx("ana"),
                NewLoggedModel {
                    experiment_id: 0,
                    name: "model".into(),
                    source_run_id: Some(run.clone()),
                    model_type: None,
                    params: vec![KeyValue::new("depth", "3")],
                    tags: vec![],
                },
            )
            .await?;
        assert!(m.id.starts_with("m-") && m.id.len() == 34, "{}", m.id);
        assert_eq!(m.status, LoggedModelStatus::Pending);
        assert_eq!(
            m.artifact_uri,
            format!("mlflow-artifacts:/0/models/{}/artifacts", m.id)
        );
        s.log_run_outputs(
            &ctx("ana"),
            &run,
            vec![ModelOutput {
                model_id: m.id.clone(),
                step: 0,
            }],
        )
        .await?;
        let mut with_model = metric("acc", 0.9, 5, 0);
        with_model.model_id = Some(m.id.clone());
        s.log_batch(
            &ctx("ana"),
            &run,
            LogBatch {
                metrics: vec![with_model],
                ..Default::default()
            },
        )
        .await?;
        let ready = s
            .set_logged_model_status(&ctx("ana"), &m.id, LoggedModelStatus::Ready)
            .await?;
        assert_eq!(ready.status, LoggedModelStatus::Ready);
        assert_eq!(ready.metrics.len(), 1);
        s.set_logged_model_tags(
            &ctx("ana"),
            &m.id,
            vec![KeyValue::new("mlflow.modelVersions", "[]")],
        )
        .await?;
        let found = s
            .search_logged_models(&LoggedModelSearch {
                experiment_ids: vec![0],
                name: Some("model".into()),
                source_run_id: Some(run.clone()),
                max_results: 50,
                offset: 0,
            })
            .await?;
        assert_eq!(found.items.len(), 1);
        assert_eq!(found.items[0].tags.len(), 1);
        let r = s.get_tracked_run(&run).await?.expect("run");
        assert_eq!(
            r.outputs,
            vec![ModelOutput {
                model_id: m.id.clone(),
                step: 0
            }]
        );
    }
    Ok(())
}

#[tokio::test]
async fn protected_aliases_need_a_passing_report_or_an_override() -> Result<()> {
    for b in backends().await? {
        let s = &b.store;
        let policy = AliasPolicy::default();
        s.create_registered_model(&ctx("ana"), "loans", "", vec![])
            .await?;
        let dup = s
            .create_registered_model(&ctx("ana"), "loans", "", vec![])
            .await;
        assert!(matches!(dup, Err(StoreError::AlreadyExists { .. })));
        let run = new_run(s, 0, "train", 1).await?;
        let new_version = |artifact: &[u8]| NewRegistryVersion {
            model: "loans".into(),
            artifact: ContentHash::of(artifact),
            source: "models:/m-1".into(),
            run_id: Some(run.clone()),
            logged_model_id: None,
            description: String::new(),
            tags: vec![KeyValue::new("k", "v")],
            dataset_version: None,
            split: None,
            git_commit: Some("abc".into()),
            git_dirty: Some(false),
            create_model: false,
        };
        let v1 = s
            .create_registry_version(&ctx("ana"), new_version(b"one"))
            .await?;
        let v2 = s
            .create_registry_version(&ctx("ana"), new_version(b"two"))
            .await?;
        assert_eq!((v1.version, v2.version), (1, 2));
        let orphan = NewRegistryVersion {
            model: "ghost".into(),
            ..new_version(b"x")
        };
        assert!(matches!(
            s.create_registry_version(&ctx("ana"), orphan).await,
            Err(StoreError::NotFound { .. })
        ));

        // An unprotected alias moves freely.
        s.set_governed_alias(&ctx("ana"), &policy, "loans", "challenger", 2)
            .await?;
        // The protected alias is refused without a passing report, and a failing report does
        // not count.
        s.record_evaluation_report(
            &ctx("eval"),
            NewEvaluationReport {
                model: "loans".into(),
                version: 1,
                passed: false,
                report: serde_json::json!({"auc": 0.5}),
            },
        )
        .await?;
        let refused = s
            .set_governed_alias(&ctx("ana"), &policy, "loans", "champion", 1)
            .await;
        assert!(
            matches!(refused, Err(StoreError::Refused(_))),
            "{refused:?}"
        );
        assert_eq!(s.resolve_alias("loans", "champion").await?, None);

        // An override reason lets it through and is audited.
        let mut why = ctx("ana");
        why.reason = Some("hotfix approved by risk".into());
        let change = s
            .set_governed_alias(&why, &policy, "loans", "champion", 1)
            .await?;
        assert_eq!(
            change.override_reason.as_deref(),
            Some("hotfix approved by risk")
        );

        // A passing report lets it move without a reason.
        let report = s
            .record_evaluation_report(
                &ctx("eval"),
                NewEvaluationReport {
                    model: "loans".into(),
                    version: 2,
                    passed: true,
                    report: serde_json::json!({"auc": 0.8}),
                },
            )
            .await?;
        let change = s
            .set_governed_alias(&ctx("ana"), &policy, "loans", "champion", 2)
            .await?;
        assert_eq!(
            (change.previous_version, change.report_id.clone()),
            (Some(1), Some(report.id.clone()))
        );
        let resolved = s.resolve_alias("loans", "champion").await?.expect("alias");
        assert_eq!(resolved.version, 2);
        assert_eq!(
            resolved.aliases,
            vec!["challenger".to_string(), "champion".to_string()]
        );
        assert_eq!(s.evaluation_reports("loans", 2).await?.len(), 1);

        // The newest report decides: version 1 passed once, then failed a stricter evaluation,
        // so it cannot take the alias back without a reason.
        for passed in [true, false] {
            s.record_evaluation_report(
                &ctx("eval"),
                NewEvaluationReport {
                    model: "loans".into(),
                    version: 1,
                    passed,
                    report: serde_json::json!({"passed": passed}),
                },
            )
            .await?;
        }
        let refused = s
            .set_governed_alias(&ctx("ana"), &policy, "loans", "champion", 1)
            .await
            .expect_err("a version whose latest report failed is refused");
        assert!(
            refused.to_string().contains("latest evaluation report"),
            "{refused}"
        );
        assert_eq!(
            s.resolve_alias("loans", "champion")
                .await?
                .map(|v| v.version),
            Some(2)
        );

        let audit = s.list_audit(&AuditFilter::default()).await?;
        let overrides: Vec<_> = audit
            .iter()
            .filter(|e| e.entry.action == "alias.set_override")
            .collect();
        assert_eq!(overrides.len(), 1);
        assert_eq!(
            overrides[0].entry.reason.as_deref(),
            Some("hotfix approved by risk")
        );
        assert_eq!(
            audit
                .iter()
                .filter(|e| e.entry.action == "alias.set")
                .count(),
            2
        );

        let model = s.get_registered_model("loans").await?.expect("model");
        assert_eq!(
            model.aliases,
            vec![("challenger".to_string(), 2), ("champion".to_string(), 2)]
        );
        assert_eq!(
            model
                .latest_versions
                .iter()
                .map(|v| v.version)
                .collect::<Vec<_>>(),
            vec![2]
        );
        s.set_model_version_tag(&ctx("ana"), "loans", 1, KeyValue::new("k", "w"))
            .await?;
        s.delete_model_version_tag(&ctx("ana"), "loans", 2, "k")
            .await?;
        let page = s
            .search_registry_versions(&RegistryVersionSearch {
                model: Some("loans".into()),
                run_id: None,
                max_results: 10,
                offset: 0,
            })
            .await?;
        assert_eq!(
            page.items
                .iter()
                .map(|v| (v.version, v.tags.len()))
                .collect::<Vec<_>>(),
            vec![(2, 0), (1, 1)]
        );
        s.delete_alias(&ctx("ana"), "loans", "challenger").await?;
        assert_eq!(s.resolve_alias("loans", "challenger").await?, None);
        s.delete_registered_model(&ctx("ana"), "loans").await?;
        assert_eq!(s.get_registered_model("loans").await?, None);
        assert!(s.verify_audit().await?.ok, "{}", s.backend_name());
    }
    Ok(())
}
