//! `aidlc predict`: batch scoring. Rows stream from a CSV or Parquet file through the model in
//! fixed-size batches (memory stays bounded) into Parquet or CSV: the input columns, then the
//! predicted class and one probability column per class, or the predicted value.

use crate::app::App;
use crate::cli::PredictArgs;
use crate::commands::models::load_model_ref;
use crate::output::print_json;
use aidlc_data::{Batch, BatchReader, Column, ColumnKind, ColumnSchema, ReadOptions, TableSink};
use aidlc_models::{Frame, ModelTask, Predictions};
use anyhow::Context;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

pub async fn run(app: &App, args: PredictArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let loaded = load_model_ref(app, &store, &args.model).await?;
    let model = loaded.model.as_ref();
    let options = ReadOptions {
        batch_size: args.batch_size.max(1),
        ..ReadOptions::default()
    };
    let reader = BatchReader::open(&args.input, &options)?;
    let input_schema = reader.schema().to_vec();
    let names: Vec<String> = input_schema.iter().map(|c| c.name.clone()).collect();
    let outputs = output_schema(&model.signature().task, &names);
    let mut schema = input_schema.clone();
    schema.extend(outputs.iter().cloned());
    let mut sink = TableSink::create(&args.out, &schema)?;

    let started = Instant::now();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} scoring: {human_pos} rows ({per_sec}, {elapsed})",
            )
            .expect("valid template"),
        );
        bar
    });
    let mut rows = 0u64;
    for batch in reader {
        let batch = batch?;
        let frame = Frame::new(names.clone(), batch.columns.clone())?;
        let input = frame
            .select(model.signature(), args.features.as_deref())
            .with_context(|| {
                format!(
                    "{}: rows {}..{}",
                    args.input.display(),
                    batch.first_row + 1,
                    batch.first_row + batch.n_rows
                )
            })?;
        let predictions = model.predict(&input)?;
        let mut columns = batch.columns;
        columns.extend(output_columns(predictions));
        sink.write(&Batch {
            first_row: batch.first_row,
            n_rows: batch.n_rows,
            columns,
        })?;
        rows += batch.n_rows as u64;
        if let Some(bar) = &bar {
            bar.set_position(rows);
        }
    }
    sink.finish()?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let seconds = started.elapsed().as_secs_f64();
    if app.settings.json {
        print_json(&serde_json::json!({
            "model": loaded.reference,
            "rows": rows,
            "out": args.out.display().to_string(),
            "columns": outputs.iter().map(|c| &c.name).collect::<Vec<_>>(),
            "seconds": seconds,
        }))?;
    } else {
        println!(
            "scored {rows} rows with {} in {seconds:.2}s; wrote {} (added {})",
            loaded.reference,
            args.out.display(),
            outputs
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The output columns: `prediction` (the class or value) and, for a classifier,
/// `probability_<class>` per class; a name already in the input gets a `_` prefix.
fn output_schema(task: &ModelTask, input: &[String]) -> Vec<ColumnSchema> {
    let free = |name: String| {
        let mut name = name;
        while input.contains(&name) {
            name.insert(0, '_');
        }
        name
    };
    match task {
        ModelTask::Classifier { classes } => {
            let mut out = vec![ColumnSchema {
                name: free("prediction".into()),
                kind: ColumnKind::Categorical,
            }];
            out.extend(classes.iter().map(|c| ColumnSchema {
                name: free(format!("probability_{c}")),
                kind: ColumnKind::Numeric,
            }));
            out
        }
        ModelTask::Regressor => vec![ColumnSchema {
            name: free("prediction".into()),
            kind: ColumnKind::Numeric,
        }],
    }
}

fn output_columns(predictions: Predictions) -> Vec<Column> {
    match predictions {
        Predictions::Classes {
            classes,
            labels,
            probabilities,
        } => {
            let k = classes.len();
            let mut out = vec![Column::Categorical(
                labels.iter().map(|&l| Some(classes[l].clone())).collect(),
            )];
            for c in 0..k {
                out.push(Column::Numeric(
                    probabilities.iter().skip(c).step_by(k).copied().collect(),
                ));
            }
            out
        }
        Predictions::Values(values) => vec![Column::Numeric(values)],
    }
}
