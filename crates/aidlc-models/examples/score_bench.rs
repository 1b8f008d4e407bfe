//! Micro-benchmark of `OnnxModel::predict` (Frame → tensor → ONNX Runtime → Predictions) on
//! two test models, with one row and with 1,000 rows, measured the way
//! `shared/specs/model-runtime.md` measures raw `ort` so the figures compare.
//!
//! Run: `ORT_DYLIB_PATH=…/libonnxruntime.so.1.32.0 cargo run --release -p aidlc-models --example score_bench`
//! (or pass the library path as the first argument).

use aidlc_data::Column;
use aidlc_models::{Frame, Model, OnnxModel, init_runtime};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Runs per figure; the figure is the median of the runs' medians.
const RUNS: usize = 3;
const SINGLE_CALLS: usize = 3_000;
const BATCH_CALLS: usize = 30;
const BATCH_ROWS: usize = 1_000;

fn main() {
    let library = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from))
        .expect("give the path of libonnxruntime.so as an argument or in ORT_DYLIB_PATH");
    init_runtime(Some(&library)).unwrap_or_else(|e| panic!("{e}"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/onnx");
    println!("model            rows   median µs per call  [min–max of {RUNS} run medians]");
    for name in ["logreg_binary", "hgb_classifier"] {
        let model = OnnxModel::load(&dir.join(format!("{name}.onnx"))).unwrap();
        let base = five_rows(&dir.join(format!("{name}.expected.json")));
        let one = frame(&base, 1).select(model.signature(), None).unwrap();
        let batch = frame(&base, BATCH_ROWS)
            .select(model.signature(), None)
            .unwrap();
        for (rows, input, calls) in [(1, &one, SINGLE_CALLS), (BATCH_ROWS, &batch, BATCH_CALLS)] {
            let mut medians: Vec<f64> =
                (0..RUNS).map(|_| median_us(&model, input, calls)).collect();
            medians.sort_by(f64::total_cmp);
            println!(
                "{name:<16} {rows:>5}   {:>10.2}          [{:.2}–{:.2}]",
                medians[RUNS / 2],
                medians[0],
                medians[RUNS - 1]
            );
        }
    }
}

/// The median time of one `predict` call over `calls` calls, after a few warm-up calls.
fn median_us(model: &OnnxModel, input: &Frame, calls: usize) -> f64 {
    for _ in 0..10 {
        model.predict(input).unwrap();
    }
    let mut times: Vec<f64> = (0..calls)
        .map(|_| {
            let start = Instant::now();
            let out = model.predict(input).unwrap();
            let elapsed = start.elapsed().as_secs_f64() * 1e6;
            std::hint::black_box(out);
            elapsed
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[calls / 2]
}

fn five_rows(expected: &Path) -> Vec<Vec<f64>> {
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(expected).unwrap()).unwrap();
    serde_json::from_value(json["rows"].clone()).unwrap()
}

/// `n` rows: the five fixed rows first, then pseudo-random ones spread like the `binary` data
/// set (normal values times its column scales), so a batch takes varied paths through the trees.
fn frame(base: &[Vec<f64>], n: usize) -> Frame {
    const SCALES: [f64; 10] = [1.0, 10.0, 100.0, 0.1, 5.0, 50.0, 0.5, 2.0, 20.0, 1000.0];
    let width = base[0].len();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut uniform = move || {
        // xorshift64*: a fixed sequence, enough for spreading benchmark rows.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        ((state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let rows: Vec<Vec<f64>> = (0..n)
        .map(|i| match base.get(i) {
            Some(row) => row.clone(),
            None => (0..width)
                .map(|j| {
                    let normal = (-2.0 * uniform().ln()).sqrt()
                        * (2.0 * std::f64::consts::PI * uniform()).cos();
                    1.5 * normal * SCALES[j % SCALES.len()]
                })
                .collect(),
        })
        .collect();
    Frame::new(
        (0..width).map(|j| format!("f{j}")).collect(),
        (0..width)
            .map(|j| Column::Numeric(rows.iter().map(|r| r[j]).collect()))
            .collect(),
    )
    .unwrap()
}
