//! Column drift: one API over every drift method, used by the CLI and by monitoring.
//!
//! A reference column is profiled once (`NumericReference::fit`, `CategoricalReference::fit`):
//! the profile keeps what every method needs — the sorted finite values, their standard
//! deviation, decile and Doane bins, category counts — so a current window is compared without
//! the raw reference data and without re-sorting it. A current numeric window is sorted once
//! (`NumericSample`) and shared by all methods; after that every method is a linear merge or a
//! few binary searches.
//!
//! Missing values: NaN (and for numeric columns ±∞, counted separately) are removed from each
//! side and reported; a side with no valid values gives an `insufficient_data` result instead of
//! a statistic. Each method carries Evidently's default threshold and comparison rule
//! (p-value tests drift when p ≤ or p < threshold, distances when score ≥ threshold), and
//! `compare_auto` applies Evidently's automatic choice of method.

use std::fmt;
use std::str::FromStr;

use crate::anderson::{AndersonVariant, anderson_ksamp};
use crate::binning::{
    evidently_bins_sorted_unchecked, n_distinct_sorted, n_distinct_union_sorted, sort_floats,
    sorted_finite, std_population, union_value_counts_sorted,
};
use crate::categorical::{
    self, CategoryCounts, chi2_contingency, chisquare_gof, count_categories, frequencies,
    hellinger, l_infinity, z_test_first_category,
};
use crate::cvm::{CvmMethod, cramervonmises_2samp};
use crate::jensen_shannon::{JsDoaneReference, js_distance, js_from_evidently_bins};
use crate::ks::{Alternative, KsMethod, ks_2samp_sorted};
use crate::psi::{self, PsiBand, PsiReference, psi_from_evidently_bins};
use crate::wasserstein::{evidently_norm, w1_sorted_unchecked};

/// Evidently's default share of drifted columns above which the dataset counts as drifted.
pub const DEFAULT_DRIFT_SHARE: f64 = 0.5;

/// Evidently's automatic choice uses p-value tests up to this many reference values and
/// distances above it.
pub const AUTO_MAX_REFERENCE_FOR_TESTS: u64 = 1000;

/// Whether a column holds numbers or category labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Numeric,
    Categorical,
}

/// How a method's score is turned into a drift decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionRule {
    /// Drift when the p-value is at most the threshold (Evidently `ks`, `cramer_von_mises`).
    PValueAtMost,
    /// Drift when the p-value is below the threshold (`chisquare`, `z`, `anderson`, NannyML `chi2`).
    PValueBelow,
    /// Drift when the distance is at least the threshold (every distance).
    ScoreAtLeast,
}

impl DecisionRule {
    /// The decision for a score; a NaN score never signals drift.
    pub fn drifted(self, score: f64, threshold: f64) -> bool {
        match self {
            DecisionRule::PValueAtMost => score <= threshold,
            DecisionRule::PValueBelow => score < threshold,
            DecisionRule::ScoreAtLeast => score >= threshold,
        }
    }

    /// Whether the score compared with the threshold is a p-value.
    pub fn uses_p_value(self) -> bool {
        !matches!(self, DecisionRule::ScoreAtLeast)
    }
}

/// Every column drift method aidlc offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DriftMethod {
    /// Two-sample Kolmogorov–Smirnov (scipy `auto`), drift when p ≤ 0.05.
    #[serde(rename = "ks")]
    Ks,
    /// Raw Wasserstein-1 distance (in the column's units, so the 0.1 default rarely fits).
    #[serde(rename = "wasserstein")]
    Wasserstein,
    /// Evidently's W1 / max(std(reference), 0.001), drift when ≥ 0.1.
    #[serde(rename = "wasserstein_normed")]
    WassersteinNormed,
    /// PSI, aidlc convention (reference deciles, ε = 1e-4), drift when ≥ 0.1.
    #[serde(rename = "psi")]
    Psi,
    /// PSI, Evidently convention (Sturges on both samples), drift when ≥ 0.1.
    #[serde(rename = "psi_evidently")]
    PsiEvidently,
    /// Jensen–Shannon distance, Evidently convention (natural log), drift when ≥ 0.1.
    #[serde(rename = "jensen_shannon")]
    JensenShannon,
    /// Jensen–Shannon distance, NannyML convention (Doane bins on reference, base 2).
    #[serde(rename = "jensen_shannon_nannyml")]
    JensenShannonNannyml,
    /// Chi-square test of homogeneity on the 2×K table (NannyML `chi2`), drift when p < 0.05.
    #[serde(rename = "chi2")]
    Chi2,
    /// Evidently's chi-square goodness of fit, drift when p < 0.05.
    #[serde(rename = "chisquare")]
    ChiSquareGof,
    /// Evidently's pooled two-proportion z-test, drift when p < 0.05.
    #[serde(rename = "z")]
    ZTest,
    /// Hellinger distance, drift when ≥ 0.1.
    #[serde(rename = "hellinger")]
    Hellinger,
    /// L-infinity distance between category frequencies, drift when ≥ 0.1.
    #[serde(rename = "l_infinity")]
    LInfinity,
    /// k-sample Anderson–Darling (scipy), drift when p < 0.1.
    #[serde(rename = "anderson")]
    AndersonDarling,
    /// Two-sample Cramér–von Mises (scipy), drift when p ≤ 0.1.
    #[serde(rename = "cramer_von_mises")]
    CramerVonMises,
}

impl DriftMethod {
    /// Every method, in a stable order.
    pub const ALL: [DriftMethod; 14] = [
        DriftMethod::Ks,
        DriftMethod::Wasserstein,
        DriftMethod::WassersteinNormed,
        DriftMethod::Psi,
        DriftMethod::PsiEvidently,
        DriftMethod::JensenShannon,
        DriftMethod::JensenShannonNannyml,
        DriftMethod::Chi2,
        DriftMethod::ChiSquareGof,
        DriftMethod::ZTest,
        DriftMethod::Hellinger,
        DriftMethod::LInfinity,
        DriftMethod::AndersonDarling,
        DriftMethod::CramerVonMises,
    ];

    /// The canonical name (also the serde form).
    pub fn name(self) -> &'static str {
        match self {
            DriftMethod::Ks => "ks",
            DriftMethod::Wasserstein => "wasserstein",
            DriftMethod::WassersteinNormed => "wasserstein_normed",
            DriftMethod::Psi => "psi",
            DriftMethod::PsiEvidently => "psi_evidently",
            DriftMethod::JensenShannon => "jensen_shannon",
            DriftMethod::JensenShannonNannyml => "jensen_shannon_nannyml",
            DriftMethod::Chi2 => "chi2",
            DriftMethod::ChiSquareGof => "chisquare",
            DriftMethod::ZTest => "z",
            DriftMethod::Hellinger => "hellinger",
            DriftMethod::LInfinity => "l_infinity",
            DriftMethod::AndersonDarling => "anderson",
            DriftMethod::CramerVonMises => "cramer_von_mises",
        }
    }

    /// The name Evidently gives the equivalent stat test (`wasserstein` is its normed
    /// distance, `jensenshannon` its JS); methods Evidently lacks keep their aidlc name.
    pub fn evidently_name(self) -> &'static str {
        match self {
            DriftMethod::WassersteinNormed => "wasserstein",
            DriftMethod::Wasserstein => "wasserstein_raw",
            DriftMethod::JensenShannon => "jensenshannon",
            DriftMethod::PsiEvidently | DriftMethod::Psi => "psi",
            other => other.name(),
        }
    }

    /// Evidently's default threshold for the method.
    pub fn default_threshold(self) -> f64 {
        match self {
            DriftMethod::Ks
            | DriftMethod::Chi2
            | DriftMethod::ChiSquareGof
            | DriftMethod::ZTest => 0.05,
            _ => 0.1,
        }
    }

    /// How the score is compared with the threshold.
    pub fn rule(self) -> DecisionRule {
        match self {
            DriftMethod::Ks | DriftMethod::CramerVonMises => DecisionRule::PValueAtMost,
            DriftMethod::Chi2
            | DriftMethod::ChiSquareGof
            | DriftMethod::ZTest
            | DriftMethod::AndersonDarling => DecisionRule::PValueBelow,
            _ => DecisionRule::ScoreAtLeast,
        }
    }

    /// Whether the method can run on a column of this kind. Numeric columns also accept the
    /// categorical methods (each distinct value is a category, as Evidently does for columns
    /// with few values); categorical columns accept neither order-based tests nor Wasserstein.
    pub fn applies_to(self, kind: ColumnKind) -> bool {
        match kind {
            ColumnKind::Numeric => true,
            ColumnKind::Categorical => !matches!(
                self,
                DriftMethod::Ks
                    | DriftMethod::Wasserstein
                    | DriftMethod::WassersteinNormed
                    | DriftMethod::AndersonDarling
                    | DriftMethod::CramerVonMises
            ),
        }
    }

    /// Evidently's automatic choice from the column kind, the number of valid reference values
    /// and the number of distinct valid values over both sides.
    pub fn evidently_auto(kind: ColumnKind, n_reference: u64, n_unique: u64) -> DriftMethod {
        let small = n_reference <= AUTO_MAX_REFERENCE_FOR_TESTS;
        match kind {
            ColumnKind::Numeric if n_unique > 5 => {
                if small {
                    DriftMethod::Ks
                } else {
                    DriftMethod::WassersteinNormed
                }
            }
            _ if !small => DriftMethod::JensenShannon,
            _ if n_unique > 2 => DriftMethod::ChiSquareGof,
            _ => DriftMethod::ZTest,
        }
    }
}

impl fmt::Display for DriftMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown drift method name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMethod(pub String);

impl fmt::Display for UnknownMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = DriftMethod::ALL.iter().map(|m| m.name()).collect();
        write!(
            f,
            "unknown drift method {:?} (one of: {})",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownMethod {}

impl FromStr for DriftMethod {
    type Err = UnknownMethod;

    /// Accepts the canonical names plus Evidently's and a few common spellings.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        let method = match key.as_str() {
            "ks" | "kolmogorov_smirnov" => DriftMethod::Ks,
            "wasserstein" | "wasserstein_raw" | "w1" => DriftMethod::Wasserstein,
            "wasserstein_normed" | "wasserstein_norm" => DriftMethod::WassersteinNormed,
            "psi" | "psi_aidlc" => DriftMethod::Psi,
            "psi_evidently" => DriftMethod::PsiEvidently,
            "jensen_shannon" | "jensenshannon" | "js" => DriftMethod::JensenShannon,
            "jensen_shannon_nannyml" | "js_nannyml" => DriftMethod::JensenShannonNannyml,
            "chi2" | "chi2_contingency" => DriftMethod::Chi2,
            "chisquare" | "chisquare_gof" | "chi_square_gof" => DriftMethod::ChiSquareGof,
            "z" | "z_test" | "ztest" => DriftMethod::ZTest,
            "hellinger" => DriftMethod::Hellinger,
            "l_infinity" | "linf" | "l_inf" | "linfinity" => DriftMethod::LInfinity,
            "anderson" | "anderson_darling" | "ad" => DriftMethod::AndersonDarling,
            "cramer_von_mises" | "cvm" => DriftMethod::CramerVonMises,
            _ => return Err(UnknownMethod(s.to_string())),
        };
        Ok(method)
    }
}

/// Whether a result carries a statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftStatus {
    /// The method ran; `statistic` and `drifted` are meaningful.
    Ok,
    /// A side had no valid (non-missing) values.
    InsufficientData,
    /// The method does not apply to this kind of column (e.g. KS on labels).
    NotApplicable,
    /// The computation failed; `error` says why.
    Failed,
}

impl DriftStatus {
    /// `ok`, `insufficient_data`, `not_applicable` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            DriftStatus::Ok => "ok",
            DriftStatus::InsufficientData => "insufficient_data",
            DriftStatus::NotApplicable => "not_applicable",
            DriftStatus::Failed => "failed",
        }
    }
}

/// The drift verdict for one column and one method.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ColumnDriftResult {
    pub column: String,
    pub kind: ColumnKind,
    pub method: DriftMethod,
    pub status: DriftStatus,
    /// The test statistic (KS D, χ², z, A², …) or the distance.
    pub statistic: Option<f64>,
    /// The p-value for tests; `None` for distances.
    pub p_value: Option<f64>,
    /// The value compared with the threshold: the p-value for tests, the distance otherwise.
    pub drift_score: Option<f64>,
    pub threshold: f64,
    pub rule: DecisionRule,
    pub drifted: bool,
    /// Rows per side including missing values.
    pub n_reference: u64,
    pub n_current: u64,
    /// NaN values (numeric) or missing labels (categorical) removed per side.
    pub n_nan_reference: u64,
    pub n_nan_current: u64,
    /// ±∞ values removed per side (numeric only; Evidently drops them too).
    pub n_inf_reference: u64,
    pub n_inf_current: u64,
    /// Values the statistic was computed on.
    pub n_valid_reference: u64,
    pub n_valid_current: u64,
    /// Distinct valid values over both sides (set by the automatic choice).
    pub n_unique_combined: Option<u64>,
    /// Degrees of freedom of chi-square tests.
    pub dof: Option<u64>,
    /// PSI band for the PSI methods.
    pub psi_band: Option<PsiBand>,
    /// Method detail: the KS p-value path (`exact`/`asymp`), the L-infinity arg-max category.
    pub detail: Option<String>,
    /// Why the method did not run (`not_applicable`, `failed`).
    pub error: Option<String>,
}

/// What a method computed, before the decision.
struct Outcome {
    statistic: f64,
    p_value: Option<f64>,
    dof: Option<u64>,
    psi_band: Option<PsiBand>,
    detail: Option<String>,
}

impl Outcome {
    fn distance(statistic: f64) -> Outcome {
        Outcome {
            statistic,
            p_value: None,
            dof: None,
            psi_band: None,
            detail: None,
        }
    }

    fn test(statistic: f64, p_value: f64) -> Outcome {
        Outcome {
            statistic,
            p_value: Some(p_value),
            dof: None,
            psi_band: None,
            detail: None,
        }
    }
}

/// Missing-value counts of both sides, shared by numeric and categorical results.
struct SideCounts {
    n_reference: u64,
    n_current: u64,
    n_nan_reference: u64,
    n_nan_current: u64,
    n_inf_reference: u64,
    n_inf_current: u64,
    n_valid_reference: u64,
    n_valid_current: u64,
}

/// Builds the result from a method's outcome (or failure) and the side counts.
fn assemble(
    column: &str,
    kind: ColumnKind,
    method: DriftMethod,
    threshold: Option<f64>,
    sides: &SideCounts,
    computed: Result<Outcome, (DriftStatus, String)>,
) -> ColumnDriftResult {
    let threshold = threshold.unwrap_or_else(|| method.default_threshold());
    let rule = method.rule();
    let mut result = ColumnDriftResult {
        column: column.to_string(),
        kind,
        method,
        status: DriftStatus::Ok,
        statistic: None,
        p_value: None,
        drift_score: None,
        threshold,
        rule,
        drifted: false,
        n_reference: sides.n_reference,
        n_current: sides.n_current,
        n_nan_reference: sides.n_nan_reference,
        n_nan_current: sides.n_nan_current,
        n_inf_reference: sides.n_inf_reference,
        n_inf_current: sides.n_inf_current,
        n_valid_reference: sides.n_valid_reference,
        n_valid_current: sides.n_valid_current,
        n_unique_combined: None,
        dof: None,
        psi_band: None,
        detail: None,
        error: None,
    };
    match computed {
        Ok(outcome) => {
            let score = if rule.uses_p_value() {
                outcome.p_value.unwrap_or(f64::NAN)
            } else {
                outcome.statistic
            };
            result.statistic = Some(outcome.statistic);
            result.p_value = outcome.p_value;
            result.drift_score = Some(score);
            result.drifted = rule.drifted(score, threshold);
            result.dof = outcome.dof;
            result.psi_band = outcome.psi_band;
            result.detail = outcome.detail;
        }
        Err((status, message)) => {
            result.status = status;
            result.error = Some(message);
        }
    }
    result
}

fn failed(e: impl fmt::Display) -> (DriftStatus, String) {
    (DriftStatus::Failed, e.to_string())
}

/// Insufficient-data check shared by both column kinds.
fn check_sides(sides: &SideCounts) -> Result<(), (DriftStatus, String)> {
    let message = match (sides.n_valid_reference, sides.n_valid_current) {
        (0, 0) => "reference and current have no valid values",
        (0, _) => "reference has no valid values",
        (_, 0) => "current has no valid values",
        _ => return Ok(()),
    };
    Err((DriftStatus::InsufficientData, message.to_string()))
}

/// A numeric sample with its missing values removed and the rest sorted, ready to be compared
/// with any number of methods.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NumericSample {
    /// Finite values, ascending.
    pub sorted: Vec<f64>,
    /// Rows including missing and infinite values.
    pub n_total: u64,
    pub n_nan: u64,
    pub n_inf: u64,
}

impl NumericSample {
    /// Removes NaN and ±∞ (counting each) and sorts the remaining values.
    pub fn new(values: &[f64]) -> NumericSample {
        let (sorted, n_nan, n_inf) = sorted_finite(values);
        NumericSample {
            sorted,
            n_total: values.len() as u64,
            n_nan,
            n_inf,
        }
    }

    /// Number of finite values.
    pub fn n_valid(&self) -> u64 {
        self.sorted.len() as u64
    }
}

/// The finite values in their original order, and the NaN and infinity counts.
fn split_finite(values: &[f64]) -> (Vec<f64>, u64, u64) {
    let mut finite = Vec::with_capacity(values.len());
    let (mut n_nan, mut n_inf) = (0u64, 0u64);
    for &v in values {
        if v.is_finite() {
            finite.push(v);
        } else if v.is_nan() {
            n_nan += 1;
        } else {
            n_inf += 1;
        }
    }
    (finite, n_nan, n_inf)
}

/// The reference profile of a numeric column: enough to run every method against any current
/// window without the raw reference data.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NumericReference {
    pub column: String,
    /// Finite reference values, ascending.
    pub sorted: Vec<f64>,
    /// Rows including missing and infinite values.
    pub n_total: u64,
    pub n_nan: u64,
    pub n_inf: u64,
    /// Population standard deviation (ddof = 0) of the finite values, numpy's summation order
    /// (0 for an empty reference).
    pub std: f64,
    /// Number of distinct finite values.
    pub n_distinct: u64,
    /// aidlc PSI bins (reference deciles); `None` without valid values.
    pub psi: Option<PsiReference>,
    /// NannyML JS bins (Doane edges on the reference); `None` without valid values.
    pub js_doane: Option<JsDoaneReference>,
}

impl NumericReference {
    /// Profiles a reference column: drops and counts NaN and ±∞, then precomputes the sorted
    /// values, the standard deviation, the decile and Doane bins. A reference without valid
    /// values is allowed; every comparison with it reports `insufficient_data`.
    pub fn fit(column: impl Into<String>, values: &[f64]) -> NumericReference {
        let (finite, n_nan, n_inf) = split_finite(values);
        let mut sorted = finite.clone();
        sort_floats(&mut sorted);
        // The std and the Doane skewness are summed in the caller's row order, as numpy does,
        // so that the Doane bin count matches NannyML's to the last bit.
        // An empty reference gets 0 rather than NaN so the profile survives a JSON round trip
        // (JSON has no NaN); it is never used, since every comparison reports insufficient data.
        let std = if finite.is_empty() {
            0.0
        } else {
            std_population(&finite)
        };
        let js_doane = JsDoaneReference::fit_with_sorted(&finite, &sorted).ok();
        drop(finite);
        let psi = PsiReference::fit_sorted(&sorted).ok();
        NumericReference {
            column: column.into(),
            n_distinct: n_distinct_sorted(&sorted) as u64,
            sorted,
            n_total: values.len() as u64,
            n_nan,
            n_inf,
            std,
            psi,
            js_doane,
        }
    }

    /// Number of finite reference values.
    pub fn n_valid(&self) -> u64 {
        self.sorted.len() as u64
    }

    fn sides(&self, current: &NumericSample) -> SideCounts {
        SideCounts {
            n_reference: self.n_total,
            n_current: current.n_total,
            n_nan_reference: self.n_nan,
            n_nan_current: current.n_nan,
            n_inf_reference: self.n_inf,
            n_inf_current: current.n_inf,
            n_valid_reference: self.n_valid(),
            n_valid_current: current.n_valid(),
        }
    }

    /// Compares a raw current column (NaN/±∞ allowed) with one method; `threshold` `None`
    /// means the method's default.
    pub fn compare(
        &self,
        current: &[f64],
        method: DriftMethod,
        threshold: Option<f64>,
    ) -> ColumnDriftResult {
        self.compare_sample(&NumericSample::new(current), method, threshold)
    }

    /// Compares a raw current column with several methods, sorting it only once.
    pub fn compare_many(
        &self,
        current: &[f64],
        requests: &[(DriftMethod, Option<f64>)],
    ) -> Vec<ColumnDriftResult> {
        let sample = NumericSample::new(current);
        requests
            .iter()
            .map(|&(method, threshold)| self.compare_sample(&sample, method, threshold))
            .collect()
    }

    /// Compares a prepared current sample with one method.
    pub fn compare_sample(
        &self,
        current: &NumericSample,
        method: DriftMethod,
        threshold: Option<f64>,
    ) -> ColumnDriftResult {
        let sides = self.sides(current);
        let computed = check_sides(&sides).and_then(|()| self.run(&current.sorted, method));
        assemble(
            &self.column,
            ColumnKind::Numeric,
            method,
            threshold,
            &sides,
            computed,
        )
    }

    /// Number of distinct finite values over reference and current together.
    pub fn n_unique_combined(&self, current: &NumericSample) -> u64 {
        n_distinct_union_sorted(&self.sorted, &current.sorted) as u64
    }

    /// Evidently's automatic method for this reference and a current sample.
    pub fn auto_method(&self, current: &NumericSample) -> DriftMethod {
        DriftMethod::evidently_auto(
            ColumnKind::Numeric,
            self.n_valid(),
            self.n_unique_combined(current),
        )
    }

    /// Compares a raw current column with the method Evidently would choose, at its default
    /// threshold; the result records the distinct-value count behind the choice.
    pub fn compare_auto(&self, current: &[f64]) -> ColumnDriftResult {
        self.compare_sample_auto(&NumericSample::new(current))
    }

    /// `compare_auto` for a prepared current sample.
    pub fn compare_sample_auto(&self, current: &NumericSample) -> ColumnDriftResult {
        let n_unique = self.n_unique_combined(current);
        let method = DriftMethod::evidently_auto(ColumnKind::Numeric, self.n_valid(), n_unique);
        let mut result = self.compare_sample(current, method, None);
        result.n_unique_combined = Some(n_unique);
        result
    }

    /// Runs one method on the sorted finite current values (both sides non-empty).
    fn run(&self, current: &[f64], method: DriftMethod) -> Result<Outcome, (DriftStatus, String)> {
        let reference = self.sorted.as_slice();
        match method {
            DriftMethod::Ks => {
                let r = ks_2samp_sorted(reference, current, Alternative::TwoSided, KsMethod::Auto)
                    .map_err(failed)?;
                let mut outcome = Outcome::test(r.statistic, r.pvalue);
                outcome.detail = Some(ks_method_name(r.method_used).to_string());
                Ok(outcome)
            }
            DriftMethod::Wasserstein => {
                Ok(Outcome::distance(w1_sorted_unchecked(reference, current)))
            }
            DriftMethod::WassersteinNormed => {
                let distance = w1_sorted_unchecked(reference, current);
                Ok(Outcome::distance(distance / evidently_norm(self.std)))
            }
            DriftMethod::Psi => {
                let bins = self
                    .psi
                    .as_ref()
                    .ok_or_else(|| failed("reference PSI bins missing"))?;
                let r = bins
                    .compare_sorted_unchecked(current, psi::DEFAULT_EPSILON)
                    .map_err(failed)?;
                let mut outcome = Outcome::distance(r.psi);
                outcome.psi_band = Some(r.band);
                Ok(outcome)
            }
            DriftMethod::PsiEvidently => {
                let bins = evidently_bins_sorted_unchecked(
                    reference,
                    current,
                    self.n_distinct as usize,
                    true,
                );
                let r = psi_from_evidently_bins(bins);
                let mut outcome = Outcome::distance(r.psi);
                outcome.psi_band = Some(PsiBand::of(r.psi));
                Ok(outcome)
            }
            DriftMethod::JensenShannon => {
                let bins = evidently_bins_sorted_unchecked(
                    reference,
                    current,
                    self.n_distinct as usize,
                    false,
                );
                Ok(Outcome::distance(
                    js_from_evidently_bins(bins).map_err(failed)?.distance,
                ))
            }
            DriftMethod::JensenShannonNannyml => {
                let bins = self
                    .js_doane
                    .as_ref()
                    .ok_or_else(|| failed("reference Doane bins missing"))?;
                Ok(Outcome::distance(
                    bins.compare_sorted_unchecked(current)
                        .map_err(failed)?
                        .distance,
                ))
            }
            DriftMethod::Hellinger => {
                // NannyML's continuous Hellinger: the JS binning (Doane + leftover bin).
                let bins = self
                    .js_doane
                    .as_ref()
                    .ok_or_else(|| failed("reference Doane bins missing"))?;
                let binned = bins.compare_sorted_unchecked(current).map_err(failed)?;
                let h = hellinger(&binned.reference_proportions, &binned.current_proportions)
                    .map_err(failed)?;
                Ok(Outcome::distance(h.hellinger))
            }
            DriftMethod::Chi2
            | DriftMethod::ChiSquareGof
            | DriftMethod::ZTest
            | DriftMethod::LInfinity => {
                // Each distinct value is a category, in ascending numeric order.
                let (values, reference_counts, current_counts) =
                    union_value_counts_sorted(reference, current);
                let labels: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                run_on_counts(method, &labels, &reference_counts, &current_counts)
            }
            DriftMethod::AndersonDarling => anderson_darling(reference, current),
            DriftMethod::CramerVonMises => cramer_von_mises(reference, current),
        }
    }
}

fn ks_method_name(method: KsMethod) -> &'static str {
    match method {
        KsMethod::Auto => "auto",
        KsMethod::Exact => "exact",
        KsMethod::Asymp => "asymp",
    }
}

/// Anderson–Darling k-sample test of the two samples (scipy's default midrank variant), as
/// Evidently's `anderson` runs it; the p-value is scipy's interpolated one, within [0.001, 0.25].
fn anderson_darling(reference: &[f64], current: &[f64]) -> Result<Outcome, (DriftStatus, String)> {
    let r = anderson_ksamp(&[reference, current], AndersonVariant::Midrank).map_err(failed)?;
    let mut outcome = Outcome::test(r.statistic, r.pvalue);
    if r.pvalue_capped {
        outcome.detail = Some("p-value capped at 0.25".to_string());
    } else if r.pvalue_floored {
        outcome.detail = Some("p-value floored at 0.001".to_string());
    }
    Ok(outcome)
}

/// Two-sample Cramér–von Mises test (scipy `auto`: exact up to 20 values per side).
fn cramer_von_mises(reference: &[f64], current: &[f64]) -> Result<Outcome, (DriftStatus, String)> {
    let r = cramervonmises_2samp(reference, current, CvmMethod::Auto).map_err(failed)?;
    let mut outcome = Outcome::test(r.statistic, r.pvalue);
    outcome.detail = Some(
        match r.method_used {
            CvmMethod::Exact => "exact",
            CvmMethod::Asymptotic => "asymptotic",
            CvmMethod::Auto => "auto",
        }
        .to_string(),
    );
    Ok(outcome)
}

/// Runs a method on counts aligned over sorted categories (both sides non-empty).
fn run_on_counts(
    method: DriftMethod,
    categories: &[String],
    reference_counts: &[u64],
    current_counts: &[u64],
) -> Result<Outcome, (DriftStatus, String)> {
    let shares = |counts: &[u64], what| categorical::shares(counts, what).map_err(failed);
    match method {
        DriftMethod::Chi2 => {
            let r = chi2_contingency(categories, reference_counts, current_counts, true)
                .map_err(failed)?;
            let mut outcome = Outcome::test(r.statistic, r.p_value);
            outcome.dof = Some(r.dof as u64);
            Ok(outcome)
        }
        DriftMethod::ChiSquareGof => {
            let r = chisquare_gof(reference_counts, current_counts).map_err(failed)?;
            let mut outcome = Outcome::test(r.statistic, r.p_value);
            outcome.dof = Some(r.dof as u64);
            Ok(outcome)
        }
        DriftMethod::ZTest => {
            let r = z_test_first_category(reference_counts, current_counts).map_err(failed)?;
            Ok(Outcome::test(r.z, r.p_value))
        }
        DriftMethod::LInfinity => {
            let r = l_infinity(
                &shares(reference_counts, "reference")?,
                &shares(current_counts, "current")?,
            )
            .map_err(failed)?;
            let mut outcome = Outcome::distance(r.distance);
            outcome.detail = r.argmax.map(|i| categories[i].clone());
            Ok(outcome)
        }
        DriftMethod::Hellinger => {
            let h = hellinger(
                &shares(reference_counts, "reference")?,
                &shares(current_counts, "current")?,
            )
            .map_err(failed)?;
            Ok(Outcome::distance(h.hellinger))
        }
        DriftMethod::JensenShannon | DriftMethod::JensenShannonNannyml => {
            let base = if method == DriftMethod::JensenShannon {
                None
            } else {
                Some(2.0)
            };
            let p: Vec<f64> = reference_counts.iter().map(|&c| c as f64).collect();
            let q: Vec<f64> = current_counts.iter().map(|&c| c as f64).collect();
            Ok(Outcome::distance(
                js_distance(&p, &q, base).map_err(failed)?,
            ))
        }
        DriftMethod::Psi | DriftMethod::PsiEvidently => {
            let mut p = shares(reference_counts, "reference")?;
            let mut q = shares(current_counts, "current")?;
            if method == DriftMethod::Psi {
                for share in p.iter_mut().chain(q.iter_mut()).filter(|s| **s == 0.0) {
                    *share = psi::DEFAULT_EPSILON;
                }
            } else {
                crate::binning::evidently_fill_zeroes(&mut p);
                crate::binning::evidently_fill_zeroes(&mut q);
            }
            let value: f64 = p
                .iter()
                .zip(&q)
                .map(|(&r, &c)| (c - r) * (c / r).ln())
                .sum();
            let mut outcome = Outcome::distance(value);
            outcome.psi_band = Some(PsiBand::of(value));
            Ok(outcome)
        }
        DriftMethod::Ks
        | DriftMethod::Wasserstein
        | DriftMethod::WassersteinNormed
        | DriftMethod::AndersonDarling
        | DriftMethod::CramerVonMises => Err((
            DriftStatus::NotApplicable,
            format!("{method} needs ordered numeric values, not categories"),
        )),
    }
}

/// The reference profile of a categorical column: counts per category and missing labels.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CategoricalReference {
    pub column: String,
    /// Counts of the categories seen (all non-zero).
    pub counts: CategoryCounts,
    /// Rows including missing labels.
    pub n_total: u64,
    /// Missing labels (a missing label is not a category).
    pub n_missing: u64,
}

impl CategoricalReference {
    /// Profiles a reference column of labels, `None` being a missing label.
    pub fn fit<S: AsRef<str>>(
        column: impl Into<String>,
        labels: &[Option<S>],
    ) -> CategoricalReference {
        let (counts, n_missing) = count_categories(labels);
        CategoricalReference {
            column: column.into(),
            counts,
            n_total: labels.len() as u64,
            n_missing,
        }
    }

    /// Builds a profile from counts already aggregated elsewhere; zero counts are dropped.
    pub fn from_counts(
        column: impl Into<String>,
        counts: CategoryCounts,
        n_missing: u64,
    ) -> CategoricalReference {
        let counts: CategoryCounts = counts.into_iter().filter(|(_, n)| *n > 0).collect();
        let n_total = counts.values().sum::<u64>() + n_missing;
        CategoricalReference {
            column: column.into(),
            counts,
            n_total,
            n_missing,
        }
    }

    /// Number of non-missing reference labels.
    pub fn n_valid(&self) -> u64 {
        self.counts.values().sum()
    }

    fn sides(&self, current: &CategoryCounts, n_missing_current: u64) -> SideCounts {
        let n_valid_current: u64 = current.values().sum();
        SideCounts {
            n_reference: self.n_total,
            n_current: n_valid_current + n_missing_current,
            n_nan_reference: self.n_missing,
            n_nan_current: n_missing_current,
            n_inf_reference: 0,
            n_inf_current: 0,
            n_valid_reference: self.n_valid(),
            n_valid_current,
        }
    }

    /// Compares a current column of labels with one method.
    pub fn compare<S: AsRef<str>>(
        &self,
        current: &[Option<S>],
        method: DriftMethod,
        threshold: Option<f64>,
    ) -> ColumnDriftResult {
        let (counts, n_missing) = count_categories(current);
        self.compare_counts(&counts, n_missing, method, threshold)
    }

    /// Compares current category counts (plus the number of missing current labels).
    pub fn compare_counts(
        &self,
        current: &CategoryCounts,
        n_missing_current: u64,
        method: DriftMethod,
        threshold: Option<f64>,
    ) -> ColumnDriftResult {
        let sides = self.sides(current, n_missing_current);
        let computed = check_sides(&sides).and_then(|()| {
            let f = frequencies(&self.counts, current).map_err(failed)?;
            run_on_counts(
                method,
                &f.categories,
                &f.reference_counts,
                &f.current_counts,
            )
        });
        assemble(
            &self.column,
            ColumnKind::Categorical,
            method,
            threshold,
            &sides,
            computed,
        )
    }

    /// Number of distinct categories over both sides.
    pub fn n_unique_combined(&self, current: &CategoryCounts) -> u64 {
        let extra = current
            .iter()
            .filter(|(category, n)| **n > 0 && !self.counts.contains_key(*category))
            .count();
        (self.counts.len() + extra) as u64
    }

    /// Compares a current column of labels with the method Evidently would choose.
    pub fn compare_auto<S: AsRef<str>>(&self, current: &[Option<S>]) -> ColumnDriftResult {
        let (counts, n_missing) = count_categories(current);
        self.compare_counts_auto(&counts, n_missing)
    }

    /// `compare_auto` on current counts.
    pub fn compare_counts_auto(
        &self,
        current: &CategoryCounts,
        n_missing_current: u64,
    ) -> ColumnDriftResult {
        let n_unique = self.n_unique_combined(current);
        let method = DriftMethod::evidently_auto(ColumnKind::Categorical, self.n_valid(), n_unique);
        let mut result = self.compare_counts(current, n_missing_current, method, None);
        result.n_unique_combined = Some(n_unique);
        result
    }
}

/// Dataset-level drift: the share of drifted columns against `drift_share`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DatasetDriftSummary {
    /// Results considered.
    pub n_columns: u64,
    /// Results with a statistic (status `ok`); the share is taken over these.
    pub n_evaluated: u64,
    pub n_drifted: u64,
    /// n_drifted / n_evaluated (0 when nothing was evaluated).
    pub share_drifted: f64,
    pub drift_share: f64,
    /// share_drifted ≥ drift_share, and at least one column evaluated.
    pub dataset_drift: bool,
}

/// Evidently's dataset verdict over per-column results (one result per column expected):
/// drift when the share of drifted columns is at least `drift_share` (default 0.5). Columns
/// without a statistic (insufficient data, not applicable) are left out of the share.
pub fn dataset_drift(results: &[ColumnDriftResult], drift_share: f64) -> DatasetDriftSummary {
    let evaluated = results.iter().filter(|r| r.status == DriftStatus::Ok);
    let n_evaluated = evaluated.clone().count() as u64;
    let n_drifted = evaluated.filter(|r| r.drifted).count() as u64;
    let share_drifted = if n_evaluated == 0 {
        0.0
    } else {
        n_drifted as f64 / n_evaluated as f64
    };
    DatasetDriftSummary {
        n_columns: results.len() as u64,
        n_evaluated,
        n_drifted,
        share_drifted,
        drift_share,
        dataset_drift: n_evaluated > 0 && share_drifted >= drift_share,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for method in DriftMethod::ALL {
            assert_eq!(method.name().parse::<DriftMethod>().unwrap(), method);
            let json = serde_json::to_string(&method).unwrap();
            assert_eq!(json, format!("\"{}\"", method.name()));
        }
        assert_eq!(
            "jensenshannon".parse::<DriftMethod>().unwrap(),
            DriftMethod::JensenShannon
        );
        assert!("nope".parse::<DriftMethod>().is_err());
    }

    #[test]
    fn evidently_auto_rule() {
        use DriftMethod::*;
        assert_eq!(
            DriftMethod::evidently_auto(ColumnKind::Numeric, 1000, 900),
            Ks
        );
        assert_eq!(
            DriftMethod::evidently_auto(ColumnKind::Numeric, 1001, 900),
            WassersteinNormed
        );
        assert_eq!(
            DriftMethod::evidently_auto(ColumnKind::Numeric, 1001, 5),
            JensenShannon
        );
        assert_eq!(
            DriftMethod::evidently_auto(ColumnKind::Numeric, 600, 4),
            ChiSquareGof
        );
        assert_eq!(
            DriftMethod::evidently_auto(ColumnKind::Numeric, 600, 2),
            ZTest
        );
        assert_eq!(
            DriftMethod::evidently_auto(ColumnKind::Categorical, 800, 2),
            ZTest
        );
        assert_eq!(
            DriftMethod::evidently_auto(ColumnKind::Categorical, 900, 4),
            ChiSquareGof
        );
        assert_eq!(
            DriftMethod::evidently_auto(ColumnKind::Categorical, 3000, 40),
            JensenShannon
        );
    }

    #[test]
    fn rules_and_thresholds() {
        assert!(DriftMethod::Ks.rule().drifted(0.05, 0.05));
        assert!(!DriftMethod::ChiSquareGof.rule().drifted(0.05, 0.05));
        assert!(DriftMethod::JensenShannon.rule().drifted(0.1, 0.1));
        assert!(!DriftMethod::JensenShannon.rule().drifted(f64::NAN, 0.1));
        assert_eq!(DriftMethod::Ks.default_threshold(), 0.05);
        assert_eq!(DriftMethod::AndersonDarling.default_threshold(), 0.1);
    }

    #[test]
    fn missing_values_are_counted_and_insufficient_data_reported() {
        let reference = NumericReference::fit("x", &[1.0, 2.0, f64::NAN, f64::INFINITY, 3.0]);
        assert_eq!(
            (reference.n_nan, reference.n_inf, reference.n_valid()),
            (1, 1, 3)
        );
        let r = reference.compare(
            &[f64::NAN, f64::NEG_INFINITY],
            DriftMethod::Wasserstein,
            None,
        );
        assert_eq!(r.status, DriftStatus::InsufficientData);
        assert_eq!(
            (r.n_nan_current, r.n_inf_current, r.n_valid_current),
            (1, 1, 0)
        );
        assert!(!r.drifted);
        let r = reference.compare(&[1.0, 2.0, 3.0, f64::NAN], DriftMethod::Wasserstein, None);
        assert_eq!(r.status, DriftStatus::Ok);
        assert_eq!(r.statistic, Some(0.0));
        assert!(!r.drifted);
    }

    #[test]
    fn profiles_and_results_survive_json() {
        let reference = NumericReference::fit("x", &[0.5, 1.5, f64::NAN, 2.5, 2.5, 9.0]);
        let json = serde_json::to_string(&reference).unwrap();
        let back: NumericReference = serde_json::from_str(&json).unwrap();
        assert_eq!(back, reference);
        let result = back.compare(&[1.0, 2.0, 3.0], DriftMethod::Psi, None);
        let json = serde_json::to_string(&result).unwrap();
        let back: ColumnDriftResult = serde_json::from_str(&json).unwrap();
        assert_eq!(back, result);
        let empty = NumericReference::fit("e", &[f64::NAN]);
        let json = serde_json::to_string(&empty).unwrap();
        assert_eq!(
            serde_json::from_str::<NumericReference>(&json).unwrap(),
            empty
        );
        let categorical = CategoricalReference::fit("c", &[Some("a"), None, Some("b")]);
        let json = serde_json::to_string(&categorical).unwrap();
        assert_eq!(
            serde_json::from_str::<CategoricalReference>(&json).unwrap(),
            categorical
        );
    }

    #[test]
    fn categorical_methods_reject_order_based_tests() {
        let reference = CategoricalReference::fit("c", &[Some("a"), Some("b"), None]);
        let r = reference.compare(&[Some("a"), Some("a")], DriftMethod::Ks, None);
        assert_eq!(r.status, DriftStatus::NotApplicable);
        let r = reference.compare(&[Some("a"), Some("c")], DriftMethod::LInfinity, None);
        assert_eq!(r.status, DriftStatus::Ok);
        assert_eq!(r.n_nan_reference, 1);
    }

    #[test]
    fn order_based_tests_run_on_numeric_columns() {
        let reference: Vec<f64> = (0..40).map(|i| f64::from(i) * 0.25).collect();
        let shifted: Vec<f64> = reference.iter().map(|v| v + 5.0).collect();
        let profile = NumericReference::fit("x", &reference);
        for method in [
            DriftMethod::Ks,
            DriftMethod::AndersonDarling,
            DriftMethod::CramerVonMises,
        ] {
            let same = profile.compare(&reference, method, None);
            assert_eq!(same.status, DriftStatus::Ok, "{method}: {:?}", same.error);
            assert!(!same.drifted, "{method} flags identical samples");
            let moved = profile.compare(&shifted, method, None);
            assert!(moved.drifted, "{method} misses a shift of half the range");
            assert!(moved.p_value.is_some());
        }
    }

    #[test]
    fn dataset_share_rule() {
        let reference = NumericReference::fit("x", &[0.0, 1.0, 2.0, 3.0]);
        let drifted = reference.compare(&[10.0, 11.0], DriftMethod::WassersteinNormed, None);
        let stable = reference.compare(&[0.0, 1.0, 2.0, 3.0], DriftMethod::WassersteinNormed, None);
        let summary = dataset_drift(&[drifted.clone(), stable.clone()], DEFAULT_DRIFT_SHARE);
        assert_eq!(summary.share_drifted, 0.5);
        assert!(summary.dataset_drift);
        assert!(
            !dataset_drift(&[stable.clone(), stable, drifted], DEFAULT_DRIFT_SHARE).dataset_drift
        );
    }
}
