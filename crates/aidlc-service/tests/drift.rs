//! Drift reports on the bundled car-loan data (the covariate shift from analysis row 25,000 on),
//! on the census Parquet file, and the errors a user meets: missing file, columns that do not
//! match, text where numbers are needed.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aidlc_data::{Column, DataError, Position, ReadOptions, read_table};
use aidlc_service::drift::{DriftError, DriftReport, DriftRequest, MethodChoice, drift_report};
use aidlc_stats::drift::{ColumnDriftResult, DriftMethod, DriftStatus};
use arrow::array::{ArrayRef, Float64Array, StringArray};
use arrow::record_batch::RecordBatch;

/// The car-loan columns a model uses (id and timestamp change by construction, so they are left
/// out), plus the model's outputs.
const CAR_LOAN_COLUMNS: [&str; 9] = [
    "car_value",
    "salary_range",
    "debt_to_income_ratio",
    "loan_length",
    "repaid_loan_on_prev_car",
    "size_of_downpayment",
    "driver_tenure",
    "y_pred_proba",
    "y_pred",
];

fn datasets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets")
}

fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("aidlc-service-tests")
        .join(test);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn car_loan_request(current_rows: std::ops::Range<usize>) -> DriftRequest {
    let mut request = DriftRequest::new(
        datasets().join("synthetic_car_loan_reference.csv.gz"),
        datasets().join("synthetic_car_loan_analysis.csv.gz"),
    );
    request.columns = Some(CAR_LOAN_COLUMNS.iter().map(|c| c.to_string()).collect());
    request.current_rows = Some(current_rows);
    request
}

fn column<'a>(report: &'a DriftReport, name: &str) -> &'a ColumnDriftResult {
    report
        .columns
        .iter()
        .find(|c| c.column == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

fn print_report(label: &str, report: &DriftReport) {
    println!(
        "{label}: {} of {} columns drifted",
        report.summary.n_drifted, report.summary.n_evaluated
    );
    for c in report.columns.iter().chain(&report.other_results) {
        println!(
            "  {:<24} {:<20} statistic {:>10.5} p {:?} drifted {}",
            c.column,
            c.method.name(),
            c.statistic.unwrap_or(f64::NAN),
            c.p_value,
            c.drifted
        );
    }
}

#[test]
fn second_half_of_the_analysis_period_drifts() {
    let report = drift_report(&car_loan_request(25_000..50_000)).unwrap();
    print_report("car loan, analysis rows 25,000..50,000, auto", &report);
    assert_eq!(report.reference.n_rows, 50_000);
    assert_eq!(report.current.n_rows, 25_000);
    for name in ["car_value", "loan_length"] {
        let result = column(&report, name);
        assert_eq!(
            result.method,
            DriftMethod::WassersteinNormed,
            "{name}: more than 1,000 values and many distinct"
        );
        assert!(result.drifted, "{name} should drift: {result:?}");
    }
    let stable = column(&report, "debt_to_income_ratio");
    assert_eq!(stable.status, DriftStatus::Ok);
    assert!(
        !stable.drifted,
        "debt_to_income_ratio should not drift: {stable:?}"
    );
    // Categorical columns and low-cardinality numbers go to Jensen–Shannon under the auto rule.
    assert_eq!(
        column(&report, "salary_range").method,
        DriftMethod::JensenShannon
    );
    assert_eq!(
        column(&report, "repaid_loan_on_prev_car").method,
        DriftMethod::JensenShannon
    );
    assert!(report.other_results.is_empty());
    assert_eq!(report.summary.n_evaluated, CAR_LOAN_COLUMNS.len() as u64);
    assert!(
        column(&report, "car_value").n_nan_current == 0
            && column(&report, "car_value").n_valid_current == 25_000
    );
}

#[test]
fn first_half_of_the_analysis_period_does_not_drift() {
    let report = drift_report(&car_loan_request(0..25_000)).unwrap();
    print_report("car loan, analysis rows 0..25,000, auto", &report);
    let drifted: Vec<&str> = report
        .columns
        .iter()
        .filter(|c| c.drifted)
        .map(|c| c.column.as_str())
        .collect();
    assert!(
        drifted.is_empty(),
        "no column should drift before the shift, got {drifted:?}"
    );
    assert!(!report.summary.dataset_drift);
}

#[test]
fn all_methods_share_the_auto_verdict_and_add_the_other_statistics() {
    let mut request = car_loan_request(25_000..50_000);
    request.method = MethodChoice::All;
    let report = drift_report(&request).unwrap();
    let auto = drift_report(&car_loan_request(25_000..50_000)).unwrap();
    assert_eq!(
        report.columns, auto.columns,
        "All decides each column like auto"
    );
    assert_eq!(report.summary, auto.summary);
    let others_of = |name: &str| -> Vec<DriftMethod> {
        report
            .other_results
            .iter()
            .filter(|r| r.column == name)
            .map(|r| r.method)
            .collect()
    };
    assert_eq!(
        others_of("car_value"),
        [
            DriftMethod::Ks,
            DriftMethod::Psi,
            DriftMethod::JensenShannon
        ]
    );
    assert_eq!(
        others_of("salary_range"),
        [
            DriftMethod::ChiSquareGof,
            DriftMethod::Psi,
            DriftMethod::LInfinity
        ]
    );
    let ks = report
        .other_results
        .iter()
        .find(|r| r.column == "car_value" && r.method == DriftMethod::Ks)
        .unwrap();
    assert!(
        ks.statistic.unwrap() > 0.3 && ks.p_value.unwrap() < 1e-12,
        "{ks:?}"
    );
    let json = serde_json::to_string(&report).unwrap();
    let back: DriftReport = serde_json::from_str(&json).unwrap();
    // serde_json may round the last bit of a float, so the round trip is checked field by field.
    assert_eq!(back.summary, report.summary);
    assert_eq!(back.method, MethodChoice::All);
    for (a, b) in back
        .columns
        .iter()
        .chain(&back.other_results)
        .zip(report.columns.iter().chain(&report.other_results))
    {
        assert_eq!(
            (&a.column, a.method, a.drifted, a.n_valid_current),
            (&b.column, b.method, b.drifted, b.n_valid_current)
        );
        let (x, y) = (a.statistic.unwrap(), b.statistic.unwrap());
        assert!((x - y).abs() <= 1e-12 * y.abs().max(1.0), "{x} vs {y}");
    }
    assert!(json.contains("\"method\":\"all\""));
}

/// Writes a table read by aidlc-data back out as CSV with arrow's writer.
fn write_csv(path: &Path, names: &[String], columns: &[Column]) {
    let arrays: Vec<(String, ArrayRef)> = names
        .iter()
        .zip(columns)
        .map(|(name, column)| {
            let array: ArrayRef = match column {
                Column::Numeric(values) => Arc::new(Float64Array::from(values.clone())),
                Column::Categorical(labels) => Arc::new(StringArray::from(labels.clone())),
            };
            (name.clone(), array)
        })
        .collect();
    let batch = RecordBatch::try_from_iter(arrays).unwrap();
    let mut writer = arrow::csv::WriterBuilder::new()
        .with_header(true)
        .build(fs::File::create(path).unwrap());
    writer.write(&batch).unwrap();
}

#[test]
fn a_written_half_file_gives_the_same_report_as_a_row_range() {
    let dir = scratch("half_file");
    let analysis = datasets().join("synthetic_car_loan_analysis.csv.gz");
    let options = ReadOptions {
        row_range: Some(25_000..50_000),
        ..ReadOptions::columns(&CAR_LOAN_COLUMNS)
    };
    let half = read_table(&analysis, &options).unwrap();
    let names: Vec<String> = half.names().map(str::to_owned).collect();
    let path = dir.join("analysis_second_half.csv");
    write_csv(&path, &names, &half.columns);

    let mut request = DriftRequest::new(
        datasets().join("synthetic_car_loan_reference.csv.gz"),
        &path,
    );
    request.columns = Some(names);
    let from_file = drift_report(&request).unwrap();
    let from_range = drift_report(&car_loan_request(25_000..50_000)).unwrap();
    for (a, b) in from_file.columns.iter().zip(&from_range.columns) {
        assert_eq!(
            (&a.column, a.method, a.drifted),
            (&b.column, b.method, b.drifted)
        );
        assert_eq!(a.statistic, b.statistic, "{}", a.column);
    }
}

#[test]
fn census_parquet_runs_with_typed_columns() {
    let path = datasets().join("us_census_ma_employment_2015_2018.parquet");
    let mut request = DriftRequest::new(&path, &path);
    request.columns = Some(
        ["AGEP", "SCHL", "SEX", "employed"]
            .iter()
            .map(|c| c.to_string())
            .collect(),
    );
    request.reference_rows = Some(0..100_000);
    request.current_rows = Some(100_000..277_677);
    request.method = MethodChoice::Method(DriftMethod::Psi);
    let report = drift_report(&request).unwrap();
    print_report("census rows 0..100,000 vs 100,000.., psi", &report);
    assert_eq!(report.current.n_rows, 177_677);
    assert!(
        report
            .columns
            .iter()
            .all(|c| c.status == DriftStatus::Ok && c.method == DriftMethod::Psi)
    );
    // The file is ordered by person id, so both row blocks sample the same population.
    assert!(
        report.columns.iter().all(|c| !c.drifted),
        "{:?}",
        report.columns
    );
}

#[test]
fn a_missing_file_is_named() {
    let mut request = car_loan_request(0..10);
    request.current = datasets().join("no_such_file.csv");
    let error = drift_report(&request).unwrap_err();
    assert!(
        matches!(&error, DriftError::Data(DataError::NotFound { path }) if path.ends_with("no_such_file.csv"))
    );
    assert!(error.to_string().contains("no_such_file.csv"), "{error}");
}

#[test]
fn columns_missing_on_one_side_name_the_file_and_column() {
    // The reference holds the label `repaid`, the analysis file does not.
    let reference = datasets().join("synthetic_car_loan_reference.csv.gz");
    let analysis = datasets().join("synthetic_car_loan_analysis.csv.gz");
    let error = drift_report(&DriftRequest::new(&reference, &analysis)).unwrap_err();
    match &error {
        DriftError::Data(DataError::UnknownColumn { path, column, .. }) => {
            assert_eq!(path, &analysis);
            assert_eq!(column, "repaid");
        }
        other => panic!("unexpected error {other:?}"),
    }
    // The other way round, the file lacking the column is the reference.
    let error = drift_report(&DriftRequest::new(&analysis, &reference)).unwrap_err();
    assert!(
        matches!(&error, DriftError::Data(DataError::UnknownColumn { path, .. }) if path == &analysis)
    );

    let mut request = DriftRequest::new(&reference, &analysis);
    request.columns = Some(vec!["car_value".into(), "repaid".into()]);
    let message = drift_report(&request).unwrap_err().to_string();
    assert!(
        message.contains("synthetic_car_loan_analysis") && message.contains("\"repaid\""),
        "{message}"
    );
}

#[test]
fn text_where_numbers_are_needed_names_file_line_and_column() {
    let dir = scratch("text_in_numbers");
    let reference = dir.join("reference.csv");
    let current = dir.join("current.csv");
    let mut text = String::from("x,y\n");
    for i in 0..40 {
        text.push_str(&format!("{i},{}\n", i % 7));
    }
    fs::write(&reference, &text).unwrap();
    fs::write(&current, "x,y\n1,2\n2,3\nseven,4\n").unwrap();

    // Auto: the reference says numbers, the current file has text in `x`.
    let error = drift_report(&DriftRequest::new(&reference, &current)).unwrap_err();
    match &error {
        DriftError::Data(DataError::NotNumeric {
            path,
            position,
            column,
            value,
        }) => {
            assert_eq!(path, &current);
            assert_eq!(*position, Position::Line(4));
            assert_eq!((column.as_str(), value.as_str()), ("x", "seven"));
        }
        other => panic!("unexpected error {other:?}"),
    }

    // A numeric method on a text column of the real data names the reference file.
    let mut request = car_loan_request(0..100);
    request.columns = Some(vec!["salary_range".into()]);
    request.method = MethodChoice::Method(DriftMethod::Ks);
    let error = drift_report(&request).unwrap_err();
    match &error {
        DriftError::Data(DataError::NotNumeric {
            path,
            position,
            column,
            ..
        }) => {
            assert!(path.ends_with("synthetic_car_loan_reference.csv.gz"));
            assert_eq!(*position, Position::Line(2));
            assert_eq!(column, "salary_range");
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn invalid_requests_are_rejected() {
    let mut request = car_loan_request(0..10);
    request.drift_share = 1.5;
    assert!(matches!(
        drift_report(&request).unwrap_err(),
        DriftError::InvalidRequest(_)
    ));
    let mut request = car_loan_request(0..10);
    request.threshold = Some(f64::NAN);
    assert!(matches!(
        drift_report(&request).unwrap_err(),
        DriftError::InvalidRequest(_)
    ));
    let mut request = car_loan_request(0..10);
    request.columns = Some(Vec::new());
    assert!(matches!(
        drift_report(&request).unwrap_err(),
        DriftError::InvalidRequest(_)
    ));
}

#[test]
fn a_threshold_overrides_the_deciding_method() {
    let mut request = car_loan_request(25_000..50_000);
    request.method = MethodChoice::Method(DriftMethod::Ks);
    request.columns = Some(vec!["debt_to_income_ratio".into()]);
    let default = drift_report(&request).unwrap();
    let p = default.columns[0].p_value.unwrap();
    request.threshold = Some((p * 1.01).min(1.0));
    let loose = drift_report(&request).unwrap();
    assert_eq!(default.columns[0].threshold, 0.05);
    assert!(
        !default.columns[0].drifted && loose.columns[0].drifted,
        "p = {p}"
    );
}

#[test]
fn missing_values_are_counted_per_side_and_left_out_of_the_statistics() {
    let dir = scratch("missing_values");
    let reference = dir.join("reference.csv");
    let current = dir.join("current.parquet");
    let mut text = String::from("x,label\n");
    for i in 0..1500 {
        // Every tenth x is missing (empty or NA) and every seventh label is empty.
        let x = match i % 10 {
            0 => String::new(),
            5 if i % 20 == 5 => "NA".to_owned(),
            _ => format!("{}", (i % 97) as f64 * 0.5),
        };
        let label = if i % 7 == 0 {
            ""
        } else if i % 2 == 0 {
            "even"
        } else {
            "odd"
        };
        text.push_str(&format!("{x},{label}\n"));
    }
    fs::write(&reference, text).unwrap();
    let xs: Vec<Option<f64>> = (0..1200)
        .map(|i| {
            if i % 4 == 0 {
                None
            } else {
                Some((i % 89) as f64 * 0.5 + 10.0)
            }
        })
        .collect();
    let labels: Vec<Option<&str>> = (0..1200)
        .map(|i| {
            if i % 3 == 0 {
                Some("odd")
            } else {
                Some("even")
            }
        })
        .collect();
    let batch = RecordBatch::try_from_iter([
        ("x", Arc::new(Float64Array::from(xs)) as ArrayRef),
        ("label", Arc::new(StringArray::from(labels)) as ArrayRef),
    ])
    .unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(
        fs::File::create(&current).unwrap(),
        batch.schema(),
        None,
    )
    .unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();

    let report = drift_report(&DriftRequest::new(&reference, &current)).unwrap();
    let x = column(&report, "x");
    assert_eq!(
        (x.n_reference, x.n_nan_reference, x.n_valid_reference),
        (1500, 225, 1275)
    );
    assert_eq!(
        (x.n_current, x.n_nan_current, x.n_valid_current),
        (1200, 300, 900)
    );
    assert_eq!(x.status, DriftStatus::Ok);
    assert!(x.drifted, "x moved by 10: {x:?}");
    let label = column(&report, "label");
    assert_eq!(label.kind, aidlc_stats::drift::ColumnKind::Categorical);
    assert_eq!((label.n_nan_reference, label.n_nan_current), (215, 0));
    assert_eq!(label.n_valid_reference + label.n_nan_reference, 1500);
}
