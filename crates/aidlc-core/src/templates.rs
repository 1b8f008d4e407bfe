//! Bundled `aidlc.toml` texts: the commented template `aidlc init` writes, and the example
//! projects with the data files they need.
//!
//! The data bytes are not here: this crate does no I/O, so the binary embeds the files of the
//! repository's `datasets/` folder and copies them as each [`ExampleFile`] describes.

use std::borrow::Cow;

use serde::Serialize;

/// The file name of the framing contract in a project folder.
pub const SPEC_FILE_NAME: &str = "aidlc.toml";

/// The commented `aidlc.toml` that `aidlc init` writes. Every value the user must decide is
/// the placeholder `""`, so `aidlc check` lists exactly what is left to fill in.
pub fn init_template() -> &'static str {
    include_str!("../templates/init.toml")
}

/// One data file of an example project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExampleFile {
    /// Where the file goes, relative to the project folder, such as `data/rainfall.csv`.
    pub path_in_project: &'static str,
    /// The file's name in the repository's `datasets/` folder.
    pub dataset_file_name: &'static str,
    /// When set, the first field of the CSV header is replaced by this name on copying
    /// (see [`rename_first_header`]). Used where the source's first column has no name.
    pub rename_first_header_to: Option<&'static str>,
    /// What the file holds in the project, in one sentence.
    pub description: &'static str,
}

impl ExampleFile {
    /// The bytes to write into the project, given the bytes of the dataset file.
    pub fn project_bytes<'a>(&self, dataset_bytes: &'a [u8]) -> Cow<'a, [u8]> {
        match self.rename_first_header_to {
            Some(name) => Cow::Owned(rename_first_header(dataset_bytes, name)),
            None => Cow::Borrowed(dataset_bytes),
        }
    }
}

/// An example project that `aidlc init --example <name>` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Example {
    /// The name used on the command line.
    pub name: &'static str,
    /// One line about the problem.
    pub summary: &'static str,
    /// The project's `aidlc.toml`.
    pub spec_toml: &'static str,
    /// The project's README: the problem, the data's source and licence.
    pub readme: &'static str,
    /// The data files to copy into the project.
    pub files: &'static [ExampleFile],
}

impl Example {
    /// The file the contract's `[data] source` names, if the example ships it.
    pub fn source_file(&self) -> Option<&'static ExampleFile> {
        let spec = crate::spec::ProblemSpec::parse(self.spec_toml, SPEC_FILE_NAME).ok()?;
        let source = spec.data.source?;
        self.files.iter().find(|f| f.path_in_project == source)
    }
}

// The CDNOW transactions in `datasets/` are not an example: their label ("buys again within
// 90 days") has to be derived first, and the original data carry no licence, so they stay
// test data until that is resolved.
const EXAMPLES: &[Example] = &[
    Example {
        name: "rainfall",
        summary: "Does it rain on a day? Daily NOAA weather readings, with a sharp concept drift.",
        spec_toml: include_str!("../templates/examples/rainfall/aidlc.toml"),
        readme: include_str!("../templates/examples/rainfall/README.md"),
        files: &[ExampleFile {
            path_in_project: "data/rainfall.csv",
            dataset_file_name: "noaa_rainfall_bellevue_ne.csv",
            rename_first_header_to: Some("day"),
            description: "18,159 days of weather readings with the label `rain`.",
        }],
    },
    Example {
        name: "car-loan",
        summary: "Will a car loan be repaid? Synthetic applications with a covariate shift \
                  and labels that arrive later.",
        spec_toml: include_str!("../templates/examples/car-loan/aidlc.toml"),
        readme: include_str!("../templates/examples/car-loan/README.md"),
        files: &[
            ExampleFile {
                path_in_project: "data/reference.csv.gz",
                dataset_file_name: "synthetic_car_loan_reference.csv.gz",
                rename_first_header_to: None,
                description: "50,000 labelled applications: the training data (gzip CSV).",
            },
            ExampleFile {
                path_in_project: "data/analysis.csv.gz",
                dataset_file_name: "synthetic_car_loan_analysis.csv.gz",
                rename_first_header_to: None,
                description: "The next 50,000 applications without labels: the production \
                              log (gzip CSV).",
            },
            ExampleFile {
                path_in_project: "data/analysis_targets.csv",
                dataset_file_name: "synthetic_car_loan_analysis_target.csv",
                rename_first_header_to: None,
                description: "`id` and `repaid` of the analysis rows: the labels that \
                              arrive later.",
            },
        ],
    },
];

/// The bundled example projects.
pub fn examples() -> &'static [Example] {
    EXAMPLES
}

/// The example of that name.
pub fn example(name: &str) -> Option<&'static Example> {
    EXAMPLES.iter().find(|e| e.name == name)
}

/// Replaces the first field of a CSV's header line with `name`, leaving every other byte as
/// it was. The first field ends at the first comma or line break; a quoted first field is
/// replaced as a whole when its quotes hold no comma.
pub fn rename_first_header(csv: &[u8], name: &str) -> Vec<u8> {
    let end = csv
        .iter()
        .position(|&b| matches!(b, b',' | b'\r' | b'\n'))
        .unwrap_or(csv.len());
    let mut renamed = Vec::with_capacity(csv.len() + name.len());
    renamed.extend_from_slice(name.as_bytes());
    renamed.extend_from_slice(&csv[end..]);
    renamed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_only_the_first_header_field() {
        assert_eq!(
            rename_first_header(b",a,b\n0,1,2\n", "day"),
            b"day,a,b\n0,1,2\n".to_vec()
        );
        assert_eq!(
            rename_first_header(b"x,a\r\n1,2", "id"),
            b"id,a\r\n1,2".to_vec()
        );
        assert_eq!(rename_first_header(b"only\n1\n", "n"), b"n\n1\n".to_vec());
        assert_eq!(rename_first_header(b"", "day"), b"day".to_vec());
    }

    #[test]
    fn examples_have_unique_names_and_their_source_file() {
        let mut names: Vec<&str> = examples().iter().map(|e| e.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), examples().len());
        for e in examples() {
            assert!(
                e.source_file().is_some(),
                "{}: [data] source not shipped",
                e.name
            );
            assert_eq!(example(e.name), Some(e));
            for f in e.files {
                // The rename rewrites text, so it cannot apply to a compressed file.
                assert!(
                    f.rename_first_header_to.is_none() || !f.dataset_file_name.ends_with(".gz"),
                    "{}",
                    f.dataset_file_name
                );
            }
        }
        assert_eq!(example("nope"), None);
    }
}
