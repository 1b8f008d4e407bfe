//! The real binary on the bundled car-loan and CDNOW data: `aidlc data ingest | list | show |
//! diff`, validation against `[data.expectations]`, and bad input that must leave the store and
//! the artifact folder unchanged — on SQLite, and on PostgreSQL when `AIDLC_TEST_POSTGRES_URL`
//! is set.

use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn datasets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets")
}

/// A project folder with its own store: SQLite under the folder, or a fresh PostgreSQL schema.
struct Project {
    dir: tempfile::TempDir,
    store: Option<String>,
    pg_schema: Option<(String, String)>,
}

impl Drop for Project {
    fn drop(&mut self) {
        if let Some((base, schema)) = self.pg_schema.take() {
            // Best effort: a leftover schema only costs disk in the test database.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&base).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP SCHEMA {schema} CASCADE"
                        )))
                        .execute(&pool)
                        .await;
                    }
                });
            })
            .join();
        }
    }
}

impl Project {
    fn run(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_aidlc"));
        command
            .current_dir(self.dir.path())
            .args(args)
            .env_remove("AIDLC_STORE")
            .env_remove("AIDLC_ARTIFACTS")
            .env_remove("AIDLC_PROJECT");
        if let Some(store) = &self.store {
            command.arg("--store").arg(store);
        }
        command.output().expect("aidlc runs")
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        let o = self.run(&all);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Every file under the artifact folder (temporary ones included).
    fn artifact_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.path(".aidlc/artifacts"), &mut out);
        out.sort();
        out
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn uuid_like() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}_{}", t, std::process::id())
}

async fn projects() -> Result<Vec<Project>> {
    let mut out = vec![Project {
        dir: tempfile::tempdir()?,
        store: None,
        pg_schema: None,
    }];
    if let Ok(base) = std::env::var("AIDLC_TEST_POSTGRES_URL") {
        let schema = format!("aidlc_data_test_{}", uuid_like());
        let admin = sqlx::PgPool::connect(&base).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&admin)
            .await?;
        admin.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        out.push(Project {
            dir: tempfile::tempdir()?,
            store: Some(format!("{base}{sep}options=-c%20search_path%3D{schema}")),
            pg_schema: Some((base, schema)),
        });
    }
    Ok(out)
}

const SPEC: &str = r#"
[data.columns]
customer_id = "categorical"

[data.expectations]
rows = [1000, 1000000]
not_null = ["id"]
unique = ["id"]
range = { car_value = [0, 1000000] }
in_set = { size_of_downpayment = ["0%", "10%", "20%", "30%", "40%"] }
pattern = { salary_range = "€$" }
mean = { debt_to_income_ratio = [0, 1] }
"#;

#[tokio::test]
async fn car_loan_and_cdnow_through_every_data_command() -> Result<()> {
    for project in projects().await? {
        for file in [
            "synthetic_car_loan_reference.csv.gz",
            "synthetic_car_loan_analysis.csv.gz",
            "cdnow_transactions_1997_1998.csv",
        ] {
            std::fs::copy(datasets().join(file), project.path(file))?;
        }
        // CDNOW keeps its own expectations, so only the car-loan rules apply to car-loan files.
        std::fs::write(project.path("aidlc.toml"), SPEC)?;

        let first = project.json(&["data", "ingest", "synthetic_car_loan_reference.csv.gz"]);
        assert_eq!(first["created"], true, "{first}");
        assert_eq!(first["name"], "synthetic_car_loan_reference");
        assert_eq!(
            (first["version"].as_i64(), first["rows"].as_i64()),
            (Some(1), Some(50_000))
        );
        assert_eq!(first["valid"], true, "{first}");
        let types: Vec<(String, String)> = first["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().into(),
                    c["type"].as_str().unwrap().into(),
                )
            })
            .collect();
        for (name, expected) in [
            ("id", "integer"),
            ("car_value", "integer"),
            ("salary_range", "categorical"),
            ("debt_to_income_ratio", "float"),
            ("repaid_loan_on_prev_car", "boolean"),
            ("timestamp", "datetime"),
        ] {
            assert!(
                types.contains(&(name.to_string(), expected.to_string())),
                "{name}: {types:?}"
            );
        }

        // The same bytes again are reported as the same version.
        let again = project.run(&["data", "ingest", "synthetic_car_loan_reference.csv.gz"]);
        assert!(again.status.success(), "{}", text(&again));
        assert!(text(&again).contains("unchanged"), "{}", text(&again));
        assert!(text(&again).contains("synthetic_car_loan_reference@1"));

        // The analysis period as version 2 of the same dataset; it has no label column.
        let second = project.json(&[
            "data",
            "ingest",
            "synthetic_car_loan_analysis.csv.gz",
            "--name",
            "synthetic_car_loan_reference",
        ]);
        assert_eq!(second["version"], 2);

        // The car-loan expectations name columns CDNOW does not have, so it is recorded as
        // invalid and the command exits with 1.
        let o = project.run(&[
            "data",
            "ingest",
            "cdnow_transactions_1997_1998.csv",
            "--json",
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let cdnow: serde_json::Value = serde_json::from_slice(&o.stdout)?;
        assert_eq!(cdnow["valid"], false);
        let columns: Vec<&str> = cdnow["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap())
            .collect();
        assert_eq!(columns, ["categorical", "datetime", "integer", "float"]);

        let list = project.json(&["data", "list"]);
        assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
        let table = project.run(&["data", "list"]);
        assert!(text(&table).contains("cdnow_transactions_1997_1998"));

        let show = project.json(&["data", "show", "synthetic_car_loan_reference@1"]);
        let columns = show["profile"]["columns"].as_array().unwrap();
        let car_value = columns.iter().find(|c| c["name"] == "car_value").unwrap();
        assert_eq!(car_value["count"], 50_000);
        assert!(car_value["numeric_reference"]["psi"].is_object());
        let salary = columns
            .iter()
            .find(|c| c["name"] == "salary_range")
            .unwrap();
        assert!(salary["categorical_reference"]["counts"].is_object());
        assert!(!salary["top_categories"].as_array().unwrap().is_empty());
        assert_eq!(show["validation"]["passed"], true);
        let human = project.run(&["data", "show", "cdnow_transactions_1997_1998"]);
        assert!(human.status.success(), "{}", text(&human));
        assert!(
            text(&human).contains("1997-01-01T00:00:00.000Z"),
            "{}",
            text(&human)
        );

        let diff = project.json(&[
            "data",
            "diff",
            "synthetic_car_loan_reference@1",
            "synthetic_car_loan_reference@2",
        ]);
        assert_eq!(diff["removed"], serde_json::json!(["repaid"]), "{diff}");
        let drift = diff["drift"].as_array().unwrap();
        let car_value = drift.iter().find(|d| d["column"] == "car_value").unwrap();
        // The bundled analysis period drifts in car value (datasets/SOURCES.md).
        assert_eq!(car_value["drifted"], true, "{car_value}");
        let human = project.run(&[
            "data",
            "diff",
            "synthetic_car_loan_reference@1",
            "synthetic_car_loan_reference@2",
        ]);
        assert!(
            text(&human).contains("removed columns: repaid"),
            "{}",
            text(&human)
        );

        // Every version is in the audit log.
        let audit = project.run(&["audit", "list", "--object", "dataset_version"]);
        assert_eq!(text(&audit).matches("dataset_version.create").count(), 3);

        let missing = project.run(&["data", "show", "nothing@1"]);
        assert!(!missing.status.success());
        assert!(text(&missing).contains("nothing@1"), "{}", text(&missing));
    }
    Ok(())
}

#[tokio::test]
async fn failing_expectations_mark_the_version_invalid_with_a_report() -> Result<()> {
    for project in projects().await? {
        std::fs::copy(
            datasets().join("cdnow_transactions_1997_1998.csv"),
            project.path("cdnow.csv"),
        )?;
        std::fs::write(
            project.path("aidlc.toml"),
            r#"
[data.columns]
customer_id = "categorical"

[data.expectations]
rows = [10, 100]
unique = ["customer_id"]
range = { number_of_cds = [1, 5] }
pattern = { customer_id = "^[0-9]{5}$" }
mean = { dollar_value = [0, 1000] }
max_missing_share = 0.0
freshness_column = "date"
max_age = "30d"
"#,
        )?;
        let o = project.run(&["check"]);
        assert!(!text(&o).contains("data.expectations"), "{}", text(&o));

        let o = project.run(&["data", "ingest", "cdnow.csv", "--json"]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
        assert_eq!(v["valid"], false);
        let rules = v["validation"]["rules"].as_array().unwrap();
        let rule = |name: &str| rules.iter().find(|r| r["rule"] == name).unwrap().clone();
        assert_eq!(rule("rows")["passed"], false);
        let unique = rule("unique");
        assert_eq!(unique["passed"], false);
        // Customer 00001 buys once; 00002 twice, so line 4 is the first repeat.
        assert_eq!(unique["examples"][0]["position"], "line 4", "{unique}");
        assert_eq!(unique["examples"][0]["value"], "00002");
        assert_eq!(rule("range")["passed"], false);
        assert!(rule("range")["failing"].as_u64().unwrap() > 0);
        assert_eq!(rule("pattern")["passed"], true);
        assert_eq!(rule("mean")["passed"], true);
        assert_eq!(rule("freshness")["passed"], false);

        let show = project.run(&["data", "show", "cdnow"]);
        assert!(text(&show).contains("INVALID"), "{}", text(&show));
        assert!(
            text(&show).contains("validation: FAILED"),
            "{}",
            text(&show)
        );
    }
    Ok(())
}

/// Each bad file gives an error naming the file (and the line and column where they apply),
/// and leaves the store and the artifact folder as they were.
#[tokio::test]
async fn bad_input_is_named_and_leaves_nothing_behind() -> Result<()> {
    for project in projects().await? {
        std::fs::write(
            project.path("aidlc.toml"),
            "[data.columns]\nn = \"integer\"\n",
        )?;
        let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
            (
                "ragged.csv",
                b"a,b\n1,2\n3\n".to_vec(),
                vec!["ragged.csv", "line 3"],
            ),
            (
                "quoting.csv",
                b"a,b\n1,\"unclosed\n2,3\n".to_vec(),
                vec!["quoting.csv", "line 2", "column \"b\"", "never closed"],
            ),
            (
                "utf8.csv",
                b"a,b\n1,ok\n2,\xff\xfe\n".to_vec(),
                vec!["utf8.csv", "line 3", "invalid UTF-8"],
            ),
            (
                "conflict.csv",
                b"n,b\n1,x\n2.5,y\n".to_vec(),
                vec!["conflict.csv", "line 3", "\"n\"", "integer"],
            ),
            (
                "text_conflict.csv",
                b"n,b\n1,x\nabc,y\n".to_vec(),
                vec!["text_conflict.csv", "line 3", "\"n\""],
            ),
            ("empty.csv", Vec::new(), vec!["empty.csv", "no header"]),
            (
                "header_only.csv",
                b"a,b\n".to_vec(),
                vec!["header_only.csv", "no data rows"],
            ),
            (
                "dupes.csv",
                b"a,a\n1,2\n".to_vec(),
                vec!["dupes.csv", "\"a\"", "more than once"],
            ),
        ];
        for (name, bytes, expected) in &cases {
            std::fs::write(project.path(name), bytes)?;
            let o = project.run(&["data", "ingest", name]);
            assert!(!o.status.success(), "{name}: {}", text(&o));
            for needle in expected {
                assert!(
                    text(&o).contains(needle),
                    "{name}: {needle:?} in {}",
                    text(&o)
                );
            }
            assert_eq!(
                project.json(&["data", "list"]),
                serde_json::json!([]),
                "{name}"
            );
            assert_eq!(project.artifact_files(), Vec::<PathBuf>::new(), "{name}");
        }
        let o = project.run(&["data", "ingest", "missing.csv"]);
        assert!(
            text(&o).contains("missing.csv: file not found"),
            "{}",
            text(&o)
        );
        assert_eq!(project.json(&["data", "list"]), serde_json::json!([]));
    }
    Ok(())
}
