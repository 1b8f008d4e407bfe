//! Trained built-in models (boosted trees, linear, baselines), exported to ONNX, score like the native scorer through ONNX Runtime.
mod support;
use aidlc_data::Column;
use aidlc_models::train::{GbdtParams, LinearParams, Target, TrainSet, TrainerSpec, train};
use aidlc_models::{Frame, Model, OnnxModel, Predictions, export_onnx};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn data(n: usize, seed: u64) -> (Frame, Vec<f64>) {
    let mut r = Rng(seed);
    let colours = ["red", "blue", "green", "teal", "plum"];
    let mut a = vec![];
    let mut b = vec![];
    let mut c = vec![];
    let mut col = vec![];
    let mut y = vec![];
    for _ in 0..n {
        let x1 = r.unit() * 10.0 - 5.0;
        let x2 = (r.unit() - 0.5) * 1000.0;
        let x3 = r.unit();
        let k = (r.next() % 5) as usize;
        let s = x1 * 0.8 - x2 / 300.0 + if k < 2 { 1.5 } else { -0.5 } + r.unit() * 2.0 - 1.0 + x3;
        a.push(if r.unit() < 0.1 { f64::NAN } else { x1 });
        b.push(if r.unit() < 0.05 { f64::NAN } else { x2 });
        c.push(x3);
        col.push(if r.unit() < 0.08 {
            None
        } else {
            Some(colours[k].to_string())
        });
        y.push(s);
    }
    let frame = Frame::new(
        vec!["a".into(), "b".into(), "c".into(), "colour".into()],
        vec![
            Column::Numeric(a),
            Column::Numeric(b),
            Column::Numeric(c),
            Column::Categorical(col),
        ],
    )
    .unwrap();
    (frame, y)
}

fn close(name: &str, native: &Predictions, onnx: &Predictions) -> f64 {
    let mut worst: f64 = 0.0;
    match (native, onnx) {
        (
            Predictions::Classes {
                labels,
                probabilities,
                ..
            },
            Predictions::Classes {
                labels: l2,
                probabilities: p2,
                ..
            },
        ) => {
            let mismatched = labels.iter().zip(l2).filter(|(a, b)| a != b).count();
            assert_eq!(mismatched, 0, "{name}: labels differ");
            for (a, b) in probabilities.iter().zip(p2) {
                worst = worst.max((a - b).abs());
            }
            assert!(worst <= 1e-5, "{name}: worst {worst}");
        }
        (Predictions::Values(a), Predictions::Values(b)) => {
            for (a, b) in a.iter().zip(b) {
                worst = worst.max((a - b).abs() / a.abs().max(1.0));
            }
            assert!(worst <= 1e-4, "{name}: worst {worst}");
        }
        _ => panic!(),
    }
    worst
}

#[test]
fn trained_models_export() {
    // Without ONNX Runtime this skips with a line saying so (CI requires it: AIDLC_REQUIRE_ORT=1).
    if !support::runtime_ready() {
        return;
    }
    let (frame, s) = data(3000, 1);
    let (test, ts) = data(2000, 2);
    let bin = |s: &[f64]| s.iter().map(|&v| usize::from(v > 0.0)).collect::<Vec<_>>();
    let tri = |s: &[f64]| {
        s.iter()
            .map(|&v| {
                if v < -1.5 {
                    0
                } else if v < 1.5 {
                    1
                } else {
                    2
                }
            })
            .collect::<Vec<_>>()
    };
    let sets = [
        (
            "binary",
            Target::Classes {
                classes: vec!["0".into(), "1".into()],
                y: bin(&s),
            },
        ),
        (
            "multi",
            Target::Classes {
                classes: vec!["lo".into(), "mid".into(), "hi".into()],
                y: tri(&s),
            },
        ),
        (
            "regression",
            Target::Values(s.iter().map(|v| v * 100.0).collect()),
        ),
    ];
    let _ = (ts,);
    for (what, target) in sets {
        for spec in [
            TrainerSpec::Gbdt(GbdtParams::default()),
            TrainerSpec::Linear(LinearParams::default()),
            if matches!(target, Target::Values(_)) {
                TrainerSpec::Mean
            } else {
                TrainerSpec::Prior
            },
        ] {
            let set = TrainSet {
                features: frame.clone(),
                target: target.clone(),
                weights: None,
            };
            let model = train(&spec, &set, None, 7).unwrap().model;
            let onnx = OnnxModel::from_bytes(export_onnx(&model).unwrap(), "m").unwrap();
            assert_eq!(onnx.signature(), model.signature());
            let input = test.select(model.signature(), None).unwrap();
            let w = close(
                &format!("{what} {}", spec.name()),
                &model.predict(&input).unwrap(),
                &onnx.predict(&input).unwrap(),
            );
            println!("{what:<10} {:<7} worst diff {w:.3e}", spec.name());
        }
    }
}
