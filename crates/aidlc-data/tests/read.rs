//! Reading CSV, gzip CSV and Parquet files: kinds, missing values, row ranges, batching, errors,
//! and the real data sets bundled in `datasets/`.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aidlc_data::{
    BatchReader, Column, ColumnKind, DataError, FieldCount, FileFormat, Position, ReadOptions,
    column_names, detect_format, infer_schema, read_table,
};
use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray};
use arrow::record_batch::RecordBatch;
use flate2::Compression;
use flate2::write::GzEncoder;
use parquet::arrow::ArrowWriter;

/// A fresh directory for one test, under cargo's per-target temporary directory.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("aidlc-data-tests")
        .join(test);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

fn datasets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets")
}

fn numeric(column: &Column) -> &[f64] {
    column.as_numeric().expect("a numeric column")
}

fn same_numbers(actual: &[f64], expected: &[f64]) -> bool {
    actual.len() == expected.len()
        && actual
            .iter()
            .zip(expected)
            .all(|(a, e)| (a.is_nan() && e.is_nan()) || a == e)
}

#[test]
fn csv_kinds_missing_values_and_booleans() {
    let dir = scratch("csv_kinds");
    let path = write(
        &dir,
        "small.csv",
        b"id,price,band,flag,empty\n1,1.5,low,True,\n2,,high,False,\n3,NA,,true,\n4,-2e3,low,FALSE,\n",
    );
    assert_eq!(detect_format(&path).unwrap(), FileFormat::Csv);
    assert_eq!(
        column_names(&path).unwrap(),
        ["id", "price", "band", "flag", "empty"]
    );
    let table = read_table(&path, &ReadOptions::default()).unwrap();
    assert_eq!(table.n_rows, 4);
    let kinds: Vec<ColumnKind> = table.schema.iter().map(|c| c.kind).collect();
    use ColumnKind::*;
    assert_eq!(kinds, [Numeric, Numeric, Categorical, Numeric, Numeric]);
    assert!(same_numbers(
        numeric(&table.columns[0]),
        &[1.0, 2.0, 3.0, 4.0]
    ));
    assert!(same_numbers(
        numeric(&table.columns[1]),
        &[1.5, f64::NAN, f64::NAN, -2000.0]
    ));
    assert_eq!(
        table.column("band").unwrap().as_categorical().unwrap(),
        [
            Some("low".to_owned()),
            Some("high".to_owned()),
            None,
            Some("low".to_owned())
        ]
    );
    assert!(same_numbers(
        numeric(table.column("flag").unwrap()),
        &[1.0, 0.0, 1.0, 0.0]
    ));
    assert_eq!(table.column("empty").unwrap().n_missing(), 4);
}

#[test]
fn selected_columns_come_in_requested_order_with_imposed_kinds() {
    let dir = scratch("csv_select");
    let path = write(&dir, "small.csv", b"a,b,c\n1,x,3\n2,y,4\n");
    let mut options = ReadOptions::columns(&["c", "a"]);
    options.kinds = BTreeMap::from([("a".to_owned(), ColumnKind::Categorical)]);
    let table = read_table(&path, &options).unwrap();
    assert_eq!(table.names().collect::<Vec<_>>(), ["c", "a"]);
    assert!(same_numbers(numeric(&table.columns[0]), &[3.0, 4.0]));
    assert_eq!(
        table.columns[1],
        Column::Categorical(vec![Some("1".into()), Some("2".into())])
    );
}

#[test]
fn a_late_text_value_turns_the_column_categorical_without_losing_values() {
    let dir = scratch("csv_late_text");
    let mut text = String::from("code,value\n");
    for i in 0..50 {
        text.push_str(&format!("{i}.50,{i}\n"));
    }
    text.push_str("unknown,50\n");
    let path = write(&dir, "late.csv", text.as_bytes());
    // Batches of 8 rows: the text value arrives in the seventh batch, after numbers were kept.
    let options = ReadOptions {
        batch_size: 8,
        ..ReadOptions::default()
    };
    let table = read_table(&path, &options).unwrap();
    assert_eq!(table.schema[0].kind, ColumnKind::Categorical);
    assert_eq!(table.schema[1].kind, ColumnKind::Numeric);
    let codes = table.columns[0].as_categorical().unwrap();
    assert_eq!(codes.len(), 51);
    // The text is kept as written ("0.50", not "0.5").
    assert_eq!(codes[0].as_deref(), Some("0.50"));
    assert_eq!(codes[50].as_deref(), Some("unknown"));
    assert_eq!(infer_schema(&path, &options).unwrap(), table.schema);
}

#[test]
fn text_in_a_numeric_column_names_file_line_column_and_value() {
    let dir = scratch("csv_not_numeric");
    let path = write(&dir, "bad.csv", b"a,b\n1,2\n3,4\n5,oops\n");
    let mut options = ReadOptions::default();
    options.kinds.insert("b".to_owned(), ColumnKind::Numeric);
    let error = read_table(&path, &options).unwrap_err();
    match &error {
        DataError::NotNumeric {
            path: p,
            position,
            column,
            value,
        } => {
            assert_eq!(p, &path);
            assert_eq!(*position, Position::Line(4));
            assert_eq!(column, "b");
            assert_eq!(value, "oops");
        }
        other => panic!("unexpected error {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("bad.csv") && message.contains("line 4") && message.contains("\"b\""),
        "{message}"
    );
}

#[test]
fn ragged_rows_report_the_line() {
    let dir = scratch("csv_ragged");
    let short = write(&dir, "short.csv", b"a,b,c\n1,2,3\n4,5\n");
    match read_table(&short, &ReadOptions::default()).unwrap_err() {
        DataError::RaggedRow {
            line,
            expected,
            found,
            ..
        } => {
            assert_eq!((line, expected, found), (3, 3, FieldCount::Exactly(2)));
        }
        other => panic!("unexpected error {other:?}"),
    }
    let long = write(&dir, "long.csv", b"a,b\n1,2\n3,4\n5,6,7\n");
    let error = read_table(&long, &ReadOptions::default()).unwrap_err();
    assert!(
        matches!(
            error,
            DataError::RaggedRow {
                line: 4,
                expected: 2,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("long.csv: line 4"), "{error}");
}

#[test]
fn missing_file_empty_file_and_unknown_column() {
    let dir = scratch("csv_errors");
    let missing = dir.join("nope.csv");
    let error = read_table(&missing, &ReadOptions::default()).unwrap_err();
    assert!(matches!(error, DataError::NotFound { .. }), "{error:?}");
    assert!(error.to_string().contains("nope.csv"));

    let empty = write(&dir, "empty.csv", b"");
    assert!(matches!(
        read_table(&empty, &ReadOptions::default()).unwrap_err(),
        DataError::NoHeader { .. }
    ));

    let path = write(&dir, "small.csv", b"alpha,beta\n1,2\n");
    match read_table(&path, &ReadOptions::columns(&["gamma"])).unwrap_err() {
        DataError::UnknownColumn {
            column, available, ..
        } => {
            assert_eq!(column, "gamma");
            assert_eq!(available, ["alpha", "beta"]);
        }
        other => panic!("unexpected error {other:?}"),
    }
    let error = read_table(&path, &ReadOptions::columns(&["alpha", "alpha"])).unwrap_err();
    assert!(
        matches!(error, DataError::DuplicateColumn { .. }),
        "{error:?}"
    );
}

#[test]
fn invalid_utf8_names_line_and_column() {
    let dir = scratch("csv_utf8");
    let path = write(&dir, "latin1.csv", b"name,value\nok,1\ncaf\xe9,2\n");
    match read_table(&path, &ReadOptions::default()).unwrap_err() {
        DataError::InvalidUtf8 { line, column, .. } => {
            assert_eq!(line, 3);
            assert_eq!(column.as_deref(), Some("name"));
        }
        other => panic!("unexpected error {other:?}"),
    }
    let header = write(&dir, "latin1_header.csv", b"caf\xe9,value\n1,2\n");
    assert!(matches!(
        read_table(&header, &ReadOptions::default()).unwrap_err(),
        DataError::InvalidUtf8 { line: 1, .. }
    ));
}

#[test]
fn gzip_csv_by_magic_bytes_and_row_ranges() {
    let dir = scratch("csv_gzip");
    let mut text = String::from("i,sq\n");
    for i in 0..1000 {
        text.push_str(&format!("{i},{}\n", i * i));
    }
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(text.as_bytes()).unwrap();
    // No .gz extension: the magic bytes decide.
    let path = write(&dir, "squares.data", &encoder.finish().unwrap());
    assert_eq!(detect_format(&path).unwrap(), FileFormat::CsvGzip);
    let options = ReadOptions {
        row_range: Some(250..260),
        batch_size: 4,
        ..ReadOptions::default()
    };
    let table = read_table(&path, &options).unwrap();
    assert_eq!(table.n_rows, 10);
    let expected: Vec<f64> = (250..260).map(|i| i as f64).collect();
    assert!(same_numbers(numeric(&table.columns[0]), &expected));
    // A range past the end is cut to the file.
    let tail = read_table(
        &path,
        &ReadOptions {
            row_range: Some(995..2000),
            ..ReadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(tail.n_rows, 5);

    // Errors after a skipped range still carry the file's line numbers.
    let bad = write(&dir, "bad.csv", b"x\n1\n2\n3\nz\n");
    let mut options = ReadOptions {
        row_range: Some(1..10),
        ..ReadOptions::default()
    };
    options.kinds.insert("x".to_owned(), ColumnKind::Numeric);
    let error = read_table(&bad, &options).unwrap_err();
    assert!(
        matches!(
            error,
            DataError::NotNumeric {
                position: Position::Line(5),
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn batch_reader_streams_bounded_batches() {
    let dir = scratch("csv_batches");
    let mut text = String::from("n,label\n");
    for i in 0..103 {
        text.push_str(&format!(
            "{i},{}\n",
            if i % 2 == 0 { "even" } else { "odd" }
        ));
    }
    let path = write(&dir, "numbers.csv", text.as_bytes());
    let options = ReadOptions {
        batch_size: 10,
        ..ReadOptions::default()
    };
    let reader = BatchReader::open(&path, &options).unwrap();
    assert_eq!(reader.schema()[1].kind, ColumnKind::Categorical);
    let batches: Vec<_> = reader.collect::<Result<_, _>>().unwrap();
    assert_eq!(batches.len(), 11);
    assert!(batches.iter().all(|b| b.n_rows <= 10));
    assert_eq!(batches[3].first_row, 30);
    assert_eq!(numeric(&batches[3].columns[0])[0], 30.0);
    assert_eq!(batches.iter().map(|b| b.n_rows).sum::<usize>(), 103);
}

fn write_parquet(path: &Path, batch: RecordBatch) {
    let file = fs::File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[test]
fn parquet_types_nulls_and_overrides() {
    let dir = scratch("parquet_types");
    let path = dir.join("typed.parquet");
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "f",
            Arc::new(Float64Array::from(vec![Some(0.5), None, Some(2.5)])),
        ),
        ("i", Arc::new(Int64Array::from(vec![1, 2, 3]))),
        (
            "b",
            Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
        ),
        (
            "s",
            Arc::new(StringArray::from(vec![Some("NA"), None, Some("c")])),
        ),
        (
            "t",
            Arc::new(StringArray::from(vec![Some("1.5"), Some("x"), None])),
        ),
    ];
    write_parquet(&path, RecordBatch::try_from_iter(columns).unwrap());
    assert_eq!(detect_format(&path).unwrap(), FileFormat::Parquet);
    let table = read_table(&path, &ReadOptions::columns(&["s", "b", "i", "f"])).unwrap();
    assert_eq!(table.n_rows, 3);
    assert!(same_numbers(
        numeric(&table.columns[3]),
        &[0.5, f64::NAN, 2.5]
    ));
    assert!(same_numbers(numeric(&table.columns[2]), &[1.0, 2.0, 3.0]));
    assert!(same_numbers(
        numeric(&table.columns[1]),
        &[1.0, 0.0, f64::NAN]
    ));
    // Parquet strings are kept as stored: only real nulls are missing.
    assert_eq!(
        table.columns[0],
        Column::Categorical(vec![Some("NA".into()), None, Some("c".into())])
    );

    let mut options = ReadOptions::columns(&["i", "t"]);
    options
        .kinds
        .insert("i".to_owned(), ColumnKind::Categorical);
    options.kinds.insert("t".to_owned(), ColumnKind::Numeric);
    match read_table(&path, &options).unwrap_err() {
        DataError::NotNumeric {
            position,
            column,
            value,
            ..
        } => {
            assert_eq!(
                (position, column.as_str(), value.as_str()),
                (Position::Row(2), "t", "x")
            );
        }
        other => panic!("unexpected error {other:?}"),
    }
    options.row_range = Some(0..1);
    let table = read_table(&path, &options).unwrap();
    assert_eq!(
        table.columns[0],
        Column::Categorical(vec![Some("1".into())])
    );
    assert!(same_numbers(numeric(&table.columns[1]), &[1.5]));
}

#[test]
fn bundled_car_loan_reference_csv_gz() {
    let path = datasets().join("synthetic_car_loan_reference.csv.gz");
    assert_eq!(detect_format(&path).unwrap(), FileFormat::CsvGzip);
    let table = read_table(&path, &ReadOptions::default()).unwrap();
    assert_eq!(table.n_rows, 50_000);
    let kind = |name: &str| table.schema.iter().find(|c| c.name == name).unwrap().kind;
    assert_eq!(kind("car_value"), ColumnKind::Numeric);
    assert_eq!(kind("repaid_loan_on_prev_car"), ColumnKind::Numeric);
    assert_eq!(kind("salary_range"), ColumnKind::Categorical);
    assert_eq!(kind("size_of_downpayment"), ColumnKind::Categorical);
    assert_eq!(kind("timestamp"), ColumnKind::Categorical);
    let ids = numeric(table.column("id").unwrap());
    assert_eq!((ids[0], ids[49_999]), (0.0, 49_999.0));
    assert!(
        table.columns.iter().all(|c| c.n_missing() == 0),
        "the car-loan data has no missing values"
    );
    assert_eq!(
        table
            .column("salary_range")
            .unwrap()
            .as_categorical()
            .unwrap()[0]
            .as_deref(),
        Some("40K - 60K €")
    );
    // The bools read as 0/1: the share of `True` is a mean.
    let previous = numeric(table.column("repaid_loan_on_prev_car").unwrap());
    let share = previous.iter().sum::<f64>() / previous.len() as f64;
    assert!((0.0..=1.0).contains(&share) && previous.iter().all(|&v| v == 0.0 || v == 1.0));
}

#[test]
fn bundled_census_parquet() {
    let path = datasets().join("us_census_ma_employment_2015_2018.parquet");
    let names = column_names(&path).unwrap();
    assert_eq!(names.len(), 21);
    let table = read_table(&path, &ReadOptions::columns(&["year", "AGEP", "employed"])).unwrap();
    assert_eq!(table.n_rows, 277_677);
    let years = numeric(&table.columns[0]);
    let in_2015 = years.iter().filter(|&&y| y == 2015.0).count();
    assert_eq!(in_2015, 68_785);
    assert!(table.schema.iter().all(|c| c.kind == ColumnKind::Numeric));
    let error = read_table(&path, &ReadOptions::columns(&["AGE"])).unwrap_err();
    assert!(
        error.to_string().contains("AGEP"),
        "the error lists the available columns: {error}"
    );
}
