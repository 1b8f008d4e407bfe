//! The real binary in a temporary folder: framing, config precedence and the audit log, as a
//! user would run them.

use anyhow::Result;
use std::path::Path;
use std::process::{Command, Output};

fn aidlc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aidlc"))
        .current_dir(dir)
        .args(args)
        .env_remove("AIDLC_STORE")
        .env_remove("AIDLC_ARTIFACTS")
        .env_remove("AIDLC_PROJECT")
        .output()
        .expect("aidlc runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn rainfall_example_checks_and_a_missing_baseline_is_named() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let o = aidlc(dir.path(), &["init", "--example", "rainfall"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.path().join("data/rainfall.csv").exists());
    let header = std::fs::read_to_string(dir.path().join("data/rainfall.csv"))?;
    assert!(
        header.starts_with("day,temperature"),
        "the unnamed index column is named `day`"
    );

    let o = aidlc(dir.path(), &["check"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("ok"));

    // Remove the [baseline] table: check must fail and name it.
    let spec = std::fs::read_to_string(dir.path().join("aidlc.toml"))?;
    let start = spec.find("[baseline]").expect("baseline table");
    let end = start + spec[start..].find("\n[").expect("next table");
    std::fs::write(
        dir.path().join("aidlc.toml"),
        format!("{}{}", &spec[..start], &spec[end + 1..]),
    )?;
    let o = aidlc(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("baseline"), "{}", text(&o));

    let o = aidlc(dir.path(), &["check", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
    assert_eq!(v["ok"], false);
    assert!(
        v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["key"] == "baseline"),
        "{v}"
    );
    Ok(())
}

#[test]
fn car_loan_example_checks() -> Result<()> {
    let dir = tempfile::tempdir()?;
    assert!(
        aidlc(dir.path(), &["init", "--example", "car-loan"])
            .status
            .success()
    );
    let o = aidlc(dir.path(), &["check"]);
    assert!(o.status.success(), "{}", text(&o));
    // A column the data does not have is named once the data is known.
    let spec = std::fs::read_to_string(dir.path().join("aidlc.toml"))?;
    std::fs::write(
        dir.path().join("aidlc.toml"),
        spec.replace("column = \"repaid\"", "column = \"repayed\""),
    )?;
    let o = aidlc(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("repayed"), "{}", text(&o));
    Ok(())
}

#[test]
fn init_template_fails_check_until_filled_and_never_overwrites() -> Result<()> {
    let dir = tempfile::tempdir()?;
    assert!(aidlc(dir.path(), &["init"]).status.success());
    let o = aidlc(dir.path(), &["check"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = aidlc(dir.path(), &["init"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    let o = aidlc(dir.path(), &["init", "--example", "nope"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("rainfall"),
        "lists the examples: {}",
        text(&o)
    );
    Ok(())
}

#[test]
fn malformed_files_give_one_clear_line_with_place_and_key() -> Result<()> {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "syntax",
            "[problem]\nname = \"x\nname2 = 1\n",
            &["aidlc.toml:2"],
        ),
        (
            "wrong type",
            "[problem]\nname = \"x\"\n\n[constraints]\np99_latency_ms = \"fast\"\n",
            &["aidlc.toml:5", "p99_latency_ms"],
        ),
        (
            "unknown key",
            "[problem]\nname = \"x\"\ncolour = \"red\"\n",
            &["aidlc.toml:3", "colour"],
        ),
        ("empty", "", &["aidlc.toml", "empty"]),
    ];
    for (what, content, needles) in cases {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join("aidlc.toml"), content)?;
        let o = aidlc(dir.path(), &["check"]);
        assert_eq!(o.status.code(), Some(1), "{what}: {}", text(&o));
        let out = text(&o);
        assert!(!out.contains("panicked"), "{what}: {out}");
        for n in *needles {
            assert!(out.contains(n), "{what}: expected `{n}` in: {out}");
        }
    }
    let dir = tempfile::tempdir()?;
    let o = aidlc(dir.path(), &["check"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("aidlc init"), "{}", text(&o));
    Ok(())
}

#[test]
fn config_precedence_defaults_file_env_flags() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let get = |extra_env: Option<(&str, &str)>, args: &[&str]| -> Result<serde_json::Value> {
        let mut c = Command::new(env!("CARGO_BIN_EXE_aidlc"));
        c.current_dir(dir.path())
            .env_remove("AIDLC_STORE")
            .env_remove("AIDLC_ARTIFACTS")
            .env_remove("AIDLC_PROJECT");
        if let Some((k, v)) = extra_env {
            c.env(k, v);
        }
        let o = c.args(["config", "--json"]).args(args).output()?;
        assert!(o.status.success(), "{}", text(&o));
        Ok(serde_json::from_slice(&o.stdout)?)
    };
    let v = get(None, &[])?;
    assert_eq!(v["store_source"], "default");
    assert!(v["store"].as_str().unwrap().ends_with(".aidlc/aidlc.db"));

    std::fs::write(
        dir.path().join("aidlc.toml"),
        "[store]\nurl = \"meta.db\"\nartifacts = \"blobs\"\n",
    )?;
    let v = get(None, &[])?;
    assert_eq!(v["store"], "./meta.db");
    assert_eq!(v["artifacts"], "./blobs");

    let v = get(Some(("AIDLC_STORE", "env.db")), &[])?;
    assert_eq!(v["store"], "env.db");
    assert_eq!(v["artifacts"], "./blobs", "env overrides only what it sets");

    let v = get(Some(("AIDLC_STORE", "env.db")), &["--store", "flag.db"])?;
    assert_eq!(v["store"], "flag.db");
    Ok(())
}

/// `[store] sync` < `AIDLC_STORE_SYNC` < `--store-sync`, defaulting to `normal`; a value that is
/// not a mode stops every command that opens the store, naming the file and key, instead of
/// being ignored.
#[test]
fn store_sync_precedence_and_bad_values() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let run = |extra_env: Option<(&str, &str)>, args: &[&str]| -> Result<std::process::Output> {
        let mut c = Command::new(env!("CARGO_BIN_EXE_aidlc"));
        c.current_dir(dir.path())
            .env_remove("AIDLC_STORE")
            .env_remove("AIDLC_STORE_SYNC")
            .env_remove("AIDLC_PROJECT");
        if let Some((k, v)) = extra_env {
            c.env(k, v);
        }
        Ok(c.args(args).output()?)
    };
    let config = |extra_env: Option<(&str, &str)>, args: &[&str]| -> Result<serde_json::Value> {
        let mut all = vec!["config", "--json"];
        all.extend_from_slice(args);
        let o = run(extra_env, &all)?;
        assert!(o.status.success(), "{}", text(&o));
        Ok(serde_json::from_slice(&o.stdout)?)
    };
    let v = config(None, &[])?;
    assert_eq!(
        (v["store_sync"].as_str(), v["store_sync_source"].as_str()),
        (Some("normal"), Some("default"))
    );

    std::fs::write(dir.path().join("aidlc.toml"), "[store]\nsync = \"full\"\n")?;
    let v = config(None, &[])?;
    assert_eq!(
        (v["store_sync"].as_str(), v["store_sync_source"].as_str()),
        (Some("full"), Some("aidlc.toml [store]"))
    );
    let v = config(Some(("AIDLC_STORE_SYNC", "normal")), &[])?;
    assert_eq!(v["store_sync"], "normal");
    let v = config(
        Some(("AIDLC_STORE_SYNC", "normal")),
        &["--store-sync", "full"],
    )?;
    assert_eq!(v["store_sync"], "full");
    let o = run(None, &["--store-sync", "fast", "config"])?;
    assert!(!o.status.success());
    assert!(text(&o).contains("fast"), "{}", text(&o));

    std::fs::write(dir.path().join("aidlc.toml"), "[store]\nsync = \"fast\"\n")?;
    let o = run(None, &["audit", "verify"])?;
    assert!(!o.status.success());
    let err = text(&o);
    assert!(
        err.contains("[store] sync") && err.contains("`fast`"),
        "{err}"
    );
    // A command that does not open the store still runs.
    let o = run(None, &["config"])?;
    assert!(o.status.success(), "{}", text(&o));
    Ok(())
}

#[tokio::test]
async fn audit_verify_names_an_edited_row() -> Result<()> {
    let dir = tempfile::tempdir()?;
    assert!(
        aidlc(dir.path(), &["init", "--example", "rainfall"])
            .status
            .success()
    );
    assert!(aidlc(dir.path(), &["check"]).status.success());
    // A second version of the contract is a second audited change.
    let spec = std::fs::read_to_string(dir.path().join("aidlc.toml"))?;
    std::fs::write(
        dir.path().join("aidlc.toml"),
        spec.replace("target = 0.8", "target = 0.85"),
    )?;
    let o = aidlc(dir.path(), &["check"]);
    assert!(text(&o).contains("recorded"), "{}", text(&o));
    // Unchanged contract: nothing new is recorded.
    assert!(!text(&aidlc(dir.path(), &["check"])).contains("recorded"));

    let o = aidlc(dir.path(), &["audit", "list", "--json"]);
    let entries: serde_json::Value = serde_json::from_slice(&o.stdout)?;
    assert_eq!(entries.as_array().unwrap().len(), 2, "{entries}");
    assert_eq!(entries[0]["action"], "project.upsert");
    assert!(aidlc(dir.path(), &["audit", "list"]).status.success());
    let o = aidlc(dir.path(), &["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o));

    let db = dir.path().join(".aidlc/aidlc.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await?;
    sqlx::query("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 1")
        .execute(&pool)
        .await?;
    pool.close().await;
    let o = aidlc(dir.path(), &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("audit entry 1 was edited"),
        "{}",
        text(&o)
    );
    let o = aidlc(dir.path(), &["audit", "verify", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
    assert_eq!(v["first_break"]["kind"], "edited");
    assert_eq!(v["first_break"]["seq"], 1);
    Ok(())
}

#[test]
fn drift_on_car_loan_flags_the_shifted_columns_and_names_bad_input() -> Result<()> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets");
    let dir = tempfile::tempdir()?;
    let reference = data.join("synthetic_car_loan_reference.csv.gz");
    let analysis = data.join("synthetic_car_loan_analysis.csv.gz");
    let cols = "car_value,loan_length,debt_to_income_ratio,salary_range";
    let o = aidlc(
        dir.path(),
        &[
            "drift",
            "--reference",
            reference.to_str().unwrap(),
            "--current",
            analysis.to_str().unwrap(),
            "--columns",
            cols,
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout)?;
    let drifted = |c: &str| {
        report["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["column"] == c)
            .unwrap()["drifted"]
            .as_bool()
            .unwrap()
    };
    // The whole analysis period mixes both halves; the shift in its second half still shows.
    assert!(drifted("car_value"));
    assert!(drifted("loan_length"));
    assert!(!drifted("debt_to_income_ratio"));

    let features = [
        "car_value",
        "salary_range",
        "debt_to_income_ratio",
        "loan_length",
        "repaid_loan_on_prev_car",
        "size_of_downpayment",
        "driver_tenure",
    ];
    // The shift starts at analysis row 25,000: the second half drifts, the first half does not.
    let halves = |rows: &str| -> Result<serde_json::Value> {
        let o = aidlc(
            dir.path(),
            &[
                "drift",
                "--reference",
                reference.to_str().unwrap(),
                "--current",
                analysis.to_str().unwrap(),
                "--current-rows",
                rows,
                "--columns",
                &features.join(","),
                "--json",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        Ok(serde_json::from_slice(&o.stdout)?)
    };
    let drifted_features = |r: &serde_json::Value| -> Vec<String> {
        r["columns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["drifted"] == true && features.contains(&c["column"].as_str().unwrap()))
            .map(|c| c["column"].as_str().unwrap().to_string())
            .collect()
    };
    let second = drifted_features(&halves("25000..")?);
    assert!(
        second.contains(&"car_value".to_string()) && second.contains(&"loan_length".to_string()),
        "{second:?}"
    );
    assert!(
        !second.contains(&"debt_to_income_ratio".to_string()),
        "{second:?}"
    );
    let first = drifted_features(&halves("..25000")?);
    assert!(
        first.is_empty(),
        "the first half matches the reference: {first:?}"
    );
    let o = aidlc(
        dir.path(),
        &[
            "drift",
            "--reference",
            "a.csv",
            "--current",
            "b.csv",
            "--current-rows",
            "9..3",
        ],
    );
    assert!(
        !o.status.success() && text(&o).contains("START must be below END"),
        "{}",
        text(&o)
    );
    let o = aidlc(
        dir.path(),
        &[
            "drift",
            "--reference",
            reference.to_str().unwrap(),
            "--current",
            analysis.to_str().unwrap(),
            "--columns",
            cols,
        ],
    );
    assert!(o.status.success());
    assert!(
        text(&o).contains("car_value") && text(&o).contains("columns drifted"),
        "{}",
        text(&o)
    );

    let o = aidlc(
        dir.path(),
        &[
            "drift",
            "--reference",
            "missing.csv",
            "--current",
            analysis.to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("missing.csv"), "{}", text(&o));

    std::fs::write(dir.path().join("text.csv"), "car_value\n1.5\nlots\n")?;
    let o = aidlc(
        dir.path(),
        &[
            "drift",
            "--reference",
            reference.to_str().unwrap(),
            "--current",
            "text.csv",
            "--columns",
            "car_value",
        ],
    );
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("text.csv") && t.contains("car_value") && t.contains("lots"),
        "{t}"
    );
    Ok(())
}
