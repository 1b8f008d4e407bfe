//! The bundled example data, embedded in the binary so `aidlc init --example` needs nothing but
//! the binary itself. Sources and licences are in `datasets/SOURCES.md` and each example's README.

/// The bytes of a bundled data set, by its file name under `datasets/`.
pub fn dataset_bytes(file_name: &str) -> Option<&'static [u8]> {
    Some(match file_name {
        "noaa_rainfall_bellevue_ne.csv" => {
            include_bytes!("../../../datasets/noaa_rainfall_bellevue_ne.csv")
        }
        "synthetic_car_loan_reference.csv.gz" => {
            include_bytes!("../../../datasets/synthetic_car_loan_reference.csv.gz")
        }
        "synthetic_car_loan_analysis.csv.gz" => {
            include_bytes!("../../../datasets/synthetic_car_loan_analysis.csv.gz")
        }
        "synthetic_car_loan_analysis_target.csv" => {
            include_bytes!("../../../datasets/synthetic_car_loan_analysis_target.csv")
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_example_file_is_embedded() {
        for ex in aidlc_core::templates::examples() {
            for f in ex.files {
                assert!(
                    super::dataset_bytes(f.dataset_file_name).is_some(),
                    "{} is not embedded",
                    f.dataset_file_name
                );
            }
        }
    }
}
