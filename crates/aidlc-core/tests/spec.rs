//! Tests of the framing contract against the bundled template, the example projects and
//! their real data files, and of the messages for malformed files.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use aidlc_core::spec::{CheckReport, DiagnosticCode, ProblemSpec, check};
use aidlc_core::templates::{SPEC_FILE_NAME, example, examples, init_template};

fn datasets_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets")
}

/// The header line of a CSV in `datasets/`.
fn header_line(file_name: &str) -> String {
    let path = datasets_dir().join(file_name);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut line = String::new();
    BufReader::new(file).read_line(&mut line).unwrap();
    line.trim_end_matches(['\r', '\n']).to_string()
}

/// The car-loan reference and analysis files are gzip-compressed and this crate has no gzip
/// reader, so their header is taken from datasets/SOURCES.md ("Columns: reference (12) ...").
const CAR_LOAN_REFERENCE_COLUMNS: [&str; 12] = [
    "id",
    "car_value",
    "salary_range",
    "debt_to_income_ratio",
    "loan_length",
    "repaid_loan_on_prev_car",
    "size_of_downpayment",
    "driver_tenure",
    "repaid",
    "timestamp",
    "y_pred_proba",
    "y_pred",
];

/// The columns the project sees in an example's `[data] source` file.
fn source_columns(name: &str) -> Vec<String> {
    let example = example(name).unwrap();
    let file = example
        .source_file()
        .expect("the example ships its source file");
    if file.dataset_file_name == "synthetic_car_loan_reference.csv.gz" {
        return CAR_LOAN_REFERENCE_COLUMNS.map(String::from).to_vec();
    }
    assert!(
        !file.dataset_file_name.ends_with(".gz"),
        "no reader for {}",
        file.dataset_file_name
    );
    let header = header_line(file.dataset_file_name);
    let header = file.project_bytes(header.as_bytes()).into_owned();
    String::from_utf8(header)
        .unwrap()
        .split(',')
        .map(String::from)
        .collect()
}

/// The key paths and lines of the template's uncommented `key = ""` lines, read from its text.
fn placeholder_lines(text: &str) -> BTreeSet<(String, usize)> {
    let mut section = String::new();
    let mut found = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix('[') {
            section = header.trim_end_matches(']').to_string();
        } else if let Some((key, value)) = line.split_once('=')
            && !line.starts_with('#')
            && value.split('#').next().unwrap().trim() == "\"\""
        {
            found.insert((format!("{section}.{}", key.trim()), i + 1));
        }
    }
    found
}

fn report_keys(report: &CheckReport) -> BTreeSet<(String, usize)> {
    report
        .diagnostics
        .iter()
        .map(|d| (d.key.clone(), d.line.unwrap_or(0)))
        .collect()
}

#[test]
fn the_init_template_parses_and_check_lists_exactly_its_placeholders() {
    let text = init_template();
    let spec = ProblemSpec::parse(text, SPEC_FILE_NAME).expect("the template parses");
    assert_eq!(spec.problem.task, None);

    let report = check(text, SPEC_FILE_NAME, None);
    assert!(!report.is_ok());
    let expected = placeholder_lines(text);
    assert!(expected.len() >= 15, "placeholders found: {expected:?}");
    assert_eq!(report_keys(&report), expected, "\n{report}");
    for d in &report.diagnostics {
        assert_eq!(d.code, DiagnosticCode::Placeholder, "{d:?}");
    }
    let target = report
        .diagnostics
        .iter()
        .find(|d| d.key == "problem.outcome.target")
        .unwrap();
    assert!(target.message.contains("a number"), "{}", target.message);
    let task = report
        .diagnostics
        .iter()
        .find(|d| d.key == "problem.task")
        .unwrap();
    assert!(task.message.contains("`regression`"), "{}", task.message);
}

#[test]
fn every_example_passes_check_against_its_data() {
    assert!(examples().len() >= 2);
    for example in examples() {
        for file in example.files {
            let path = datasets_dir().join(file.dataset_file_name);
            assert!(
                path.is_file(),
                "{}: {} is missing",
                example.name,
                path.display()
            );
        }
        let columns = source_columns(example.name);
        let report = check(example.spec_toml, SPEC_FILE_NAME, Some(&columns));
        assert!(report.is_ok(), "{}:\n{report}", example.name);
        assert!(report.diagnostics.is_empty(), "{}:\n{report}", example.name);
        assert!(example.readme.contains("licence"), "{}", example.name);
    }
}

#[test]
fn the_rainfall_example_names_the_unnamed_index_day() {
    let columns = source_columns("rainfall");
    assert_eq!(columns.first().map(String::as_str), Some("day"));
    assert!(columns.iter().any(|c| c == "dew point"));
    assert_eq!(
        header_line("noaa_rainfall_bellevue_ne.csv")
            .split(',')
            .next(),
        Some("")
    );
    let spec = ProblemSpec::parse(example("rainfall").unwrap().spec_toml, SPEC_FILE_NAME).unwrap();
    assert_eq!(spec.problem.time.as_deref(), Some("day"));
    assert_eq!(spec.problem.label.delay.map(|d| d.seconds), Some(86_400));
}

#[test]
fn the_car_loan_labels_arrive_in_the_targets_file() {
    let example = example("car-loan").unwrap();
    let spec = ProblemSpec::parse(example.spec_toml, SPEC_FILE_NAME).unwrap();
    let targets = example
        .files
        .iter()
        .find(|f| !f.dataset_file_name.ends_with(".gz"))
        .unwrap();
    let header = header_line(targets.dataset_file_name);
    let columns: Vec<&str> = header.split(',').collect();
    assert!(columns.contains(&spec.problem.label.column.as_deref().unwrap()));
    assert!(columns.contains(&spec.problem.entity.as_deref().unwrap()));
}

#[test]
fn an_example_checked_against_other_data_names_the_missing_columns() {
    let columns: Vec<String> = ["id", "repaid"].map(String::from).to_vec();
    let report = check(
        example("rainfall").unwrap().spec_toml,
        SPEC_FILE_NAME,
        Some(&columns),
    );
    let missing: Vec<&str> = report
        .diagnostics
        .iter()
        .filter(|d| d.code == DiagnosticCode::UnknownColumn)
        .map(|d| d.message.as_str())
        .collect();
    // The label `rain`, the time column `day`, `day` again in [data.columns], and the two slice
    // columns of [evaluate].
    assert_eq!(missing.len(), 5, "{report}");
    assert!(missing.iter().any(|m| m.contains("`rain`")));
    assert!(missing.iter().all(|m| m.contains("`id`, `repaid`")));
}

#[test]
fn removing_the_baseline_makes_check_fail_naming_it() {
    let text = example("rainfall").unwrap().spec_toml;
    let mut kept = Vec::new();
    let mut in_baseline = false;
    for line in text.lines() {
        if line.starts_with('[') {
            in_baseline = line == "[baseline]";
        }
        if !in_baseline {
            kept.push(line);
        }
    }
    let without = kept.join("\n");
    assert!(!without.contains("[baseline]"));
    let report = check(&without, SPEC_FILE_NAME, Some(&source_columns("rainfall")));
    assert!(!report.is_ok());
    let errors: Vec<_> = report.errors().collect();
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0].key, "baseline");
    assert_eq!(errors[0].code, DiagnosticCode::Missing);
    assert!(
        errors[0].message.contains("[baseline]"),
        "{}",
        errors[0].message
    );
    // Parsing still succeeds: a missing section is a matter for `check`, not for reading.
    assert!(ProblemSpec::parse(&without, SPEC_FILE_NAME).is_ok());
}

#[test]
fn a_syntax_error_names_file_line_and_key() {
    let text = "[problem]\nname = \"rain\ntask = \"regression\"\n";
    let err = ProblemSpec::parse(text, "aidlc.toml").unwrap_err();
    assert_eq!(err.code, DiagnosticCode::Syntax);
    assert_eq!((err.line, err.key.as_str()), (2, "problem.name"));
    let message = err.to_string();
    assert!(message.starts_with("aidlc.toml:2:"), "{message}");
    assert!(
        message.contains("TOML syntax error at `problem.name`"),
        "{message}"
    );
    let report = check(text, "aidlc.toml", None);
    let syntax: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.code == DiagnosticCode::Syntax)
        .collect();
    assert_eq!(syntax.len(), 1, "{report}");
    assert_eq!(
        (syntax[0].key.as_str(), syntax[0].line),
        ("problem.name", Some(2))
    );
    // The rest of the file is still checked.
    assert!(
        report.diagnostics.iter().any(|d| d.key == "baseline"),
        "{report}"
    );
}

#[test]
fn a_wrong_type_names_file_line_and_key() {
    let text = "[problem]\nname = \"rain\"\n\n[problem.outcome]\ntarget = \"high\"\n";
    let err = ProblemSpec::parse(text, "aidlc.toml").unwrap_err();
    assert_eq!(
        err.to_string(),
        "aidlc.toml:5:10: wrong type for `problem.outcome.target`: expected a number, \
         found string \"high\""
    );
    assert_eq!(err.key, "problem.outcome.target");
    assert_eq!(err.code, DiagnosticCode::WrongType);
}

#[test]
fn an_unknown_key_names_file_line_and_section() {
    let text = "[problem]\nname = \"rain\"\n\n[constraints]\np99_latency_ms = 50\n\nfoo = 1\n";
    let err = ProblemSpec::parse(text, "aidlc.toml").unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("aidlc.toml:7:1: unknown key `foo` in [constraints]"),
        "{message}"
    );
    assert!(message.contains("p99_latency_ms"), "{message}");
    assert_eq!(err.key, "constraints.foo");
    let report = check(text, "aidlc.toml", None);
    let unknown: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.code == DiagnosticCode::UnknownKey)
        .collect();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].line, Some(7));
}

#[test]
fn an_empty_file_is_an_error_not_a_panic() {
    for text in ["", "\n\n", "# only a comment\n"] {
        let err = ProblemSpec::parse(text, "aidlc.toml").unwrap_err();
        assert_eq!(err.code, DiagnosticCode::Empty);
        let message = err.to_string();
        assert!(
            message.starts_with("aidlc.toml:1:1: the file is empty"),
            "{message}"
        );
        assert!(message.contains("[problem]"), "{message}");
        let report = check(text, "aidlc.toml", None);
        assert_eq!(report.diagnostics.len(), 1, "{report}");
        assert_eq!(report.diagnostics[0].code, DiagnosticCode::Empty);
    }
}

#[test]
fn arbitrary_text_never_panics() {
    let samples = [
        "[[problem]]\nname = 1\n",
        "problem = 3\nbaseline = []\n",
        "[problem]\ntask = [\"a\"]\n[problem.label]\ndelay = 5\n",
        "[data]\ncolumns = 3\nexclude = [1, \"\"]\n",
        "[data.columns]\nx = \"blob\"\ny = 2\nz = \"\"\n",
        "[baseline]\nrule = \"(((\"\nkind = \"rule\"\n",
        "\u{feff}[problem]\nname = \"bom\"\n",
        "[problem]\nname = \"é\u{301}\" = 3\n",
        "a.b.c.d = 1\n[a.b]\n",
        "=\n[\n]]\n\"",
    ];
    for text in samples {
        let report = check(text, "aidlc.toml", Some(&[]));
        assert!(!report.is_ok(), "{text:?}\n{report}");
        let _ = ProblemSpec::parse(text, "aidlc.toml");
    }
}

#[test]
fn data_expectations_are_read_and_checked() {
    let text = r#"
[data.expectations]
rows = [10, 100]
max_missing_share = 1.5
not_null = ["id"]
range = { age = [0, 120] }
in_set = { country = ["DE", "FR"] }
pattern = { zip = "([0-9]" }
mean = { income = [1, 2] }
freshness_column = "ts"
"#;
    let spec = ProblemSpec::parse(text, "aidlc.toml").expect("well-formed");
    let e = &spec.data.expectations;
    assert_eq!(e.rows.map(|b| (b.low, b.high)), Some((10.0, 100.0)));
    assert_eq!(e.not_null, ["id"]);
    assert_eq!(e.range["age"].high, 120.0);
    assert_eq!(e.in_set["country"], ["DE", "FR"]);
    let report = check(text, "aidlc.toml", Some(&["id".to_string()]));
    let keys: BTreeSet<String> = report.diagnostics.iter().map(|d| d.key.clone()).collect();
    for key in [
        "data.expectations.max_missing_share",
        "data.expectations.pattern.zip",
        "data.expectations.freshness_column",
        "data.expectations.range.age",
    ] {
        assert!(keys.contains(key), "{key} in {keys:?}");
    }
    // A reversed range is a problem of form, named with its key.
    let reversed = "[data.expectations]\nrange = { age = [5, 1] }\n";
    let report = check(reversed, "aidlc.toml", None);
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.key == "data.expectations.range.age"
                && d.code == DiagnosticCode::InvalidValue),
        "{report}"
    );
}

/// The example's `[evaluate]` block, uncommented when it is shown commented out.
fn with_evaluate_uncommented(text: &str) -> String {
    let Some(start) = text.find("# [evaluate]") else {
        assert!(
            text.contains("\n[evaluate]"),
            "the example shows [evaluate]"
        );
        return text.to_string();
    };
    let block: String = text[start..]
        .lines()
        .map(|l| {
            l.strip_prefix("# ")
                .or_else(|| l.strip_prefix('#'))
                .unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n");
    format!("{}{block}\n", &text[..start])
}

#[test]
fn the_examples_evaluate_blocks_pass_check() {
    for name in ["rainfall", "car-loan"] {
        let text = with_evaluate_uncommented(example(name).unwrap().spec_toml);
        let columns = source_columns(name);
        let report = check(&text, SPEC_FILE_NAME, Some(&columns));
        assert!(report.diagnostics.is_empty(), "{name}:\n{report}");
        let spec = ProblemSpec::parse(&text, SPEC_FILE_NAME).unwrap();
        assert!(!spec.evaluate.gates.is_empty() && !spec.evaluate.slices.is_empty());
    }
}

#[test]
fn the_templates_commented_monitor_section_checks_clean_when_uncommented() {
    let text = init_template();
    let start = text
        .lines()
        .position(|l| l == "# [monitor]")
        .expect("the template shows [monitor]");
    let block: Vec<&str> = text
        .lines()
        .skip(start)
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim_start())
        .collect();
    assert!(block.iter().any(|l| l.starts_with("[monitor.channels.")));
    let spec_text = format!(
        "{}\n{}\n",
        example("rainfall").unwrap().spec_toml,
        block.join("\n")
    );
    let columns = source_columns("rainfall");
    let report = check(&spec_text, SPEC_FILE_NAME, Some(&columns));
    assert!(report.diagnostics.is_empty(), "{report}");
    let spec = ProblemSpec::parse(&spec_text, SPEC_FILE_NAME).unwrap();
    assert_eq!(spec.monitor.rules().len(), 1);
    assert_eq!(spec.monitor.channel_list().len(), 1);
}
