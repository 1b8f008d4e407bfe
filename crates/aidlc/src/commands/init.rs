//! `aidlc init`: write the commented template, or a bundled example project with its data.

use crate::app::App;
use crate::cli::InitArgs;
use crate::examples::dataset_bytes;
use crate::output::{Table, print_json};
use aidlc_core::templates::{self, Example};
use anyhow::{Context, bail};
use std::path::Path;
use std::process::ExitCode;

pub fn run(app: &App, args: InitArgs) -> anyhow::Result<ExitCode> {
    let examples = templates::examples();
    if args.list_examples {
        if app.settings.json {
            let list: Vec<_> = examples
                .iter()
                .map(|e| serde_json::json!({"name": e.name, "summary": e.summary}))
                .collect();
            print_json(&list)?;
        } else {
            let mut t = Table::new(["EXAMPLE", "SUMMARY"]);
            for e in examples {
                t.row([e.name, e.summary]);
            }
            print!("{}", t.render());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let dir = &app.settings.project_dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the project folder {}", dir.display()))?;
    let spec_path = app.settings.spec_path();
    match args.example.as_deref() {
        None => {
            write_new(
                &spec_path,
                templates::init_template().as_bytes(),
                args.force,
            )?;
            println!(
                "wrote {}: fill in every \"\" and run `aidlc check`",
                spec_path.display()
            );
        }
        Some(name) => {
            let Some(example) = examples.iter().find(|e| e.name == name) else {
                let names: Vec<_> = examples.iter().map(|e| e.name).collect();
                bail!(
                    "unknown example `{name}`; bundled examples: {}",
                    names.join(", ")
                );
            };
            write_example(dir, example, args.force)?;
            println!(
                "wrote example project `{}` into {} ({}); next: `aidlc check`",
                example.name,
                dir.display(),
                example.summary
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_example(dir: &Path, example: &Example, force: bool) -> anyhow::Result<()> {
    // Check everything exists before writing anything, so a refusal leaves the folder untouched.
    let spec_path = dir.join(templates::SPEC_FILE_NAME);
    let mut targets = vec![spec_path.clone(), dir.join("README.md")];
    targets.extend(example.files.iter().map(|f| dir.join(f.path_in_project)));
    if !force && let Some(existing) = targets.iter().find(|p| p.exists()) {
        bail!(
            "{} already exists; use --force to overwrite",
            existing.display()
        );
    }
    for f in example.files {
        let bytes = dataset_bytes(f.dataset_file_name).with_context(|| {
            format!(
                "bundled data set {} is missing from this build",
                f.dataset_file_name
            )
        })?;
        write_atomic(&dir.join(f.path_in_project), &f.project_bytes(bytes))?;
    }
    write_atomic(&dir.join("README.md"), example.readme.as_bytes())?;
    write_atomic(&spec_path, example.spec_toml.as_bytes())?;
    Ok(())
}

fn write_new(path: &Path, bytes: &[u8], force: bool) -> anyhow::Result<()> {
    if path.exists() && !force {
        bail!(
            "{} already exists; use --force to overwrite",
            path.display()
        );
    }
    write_atomic(path, bytes)
}

/// Writes through a temporary file and a rename, so an interrupted init never leaves half a file.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
