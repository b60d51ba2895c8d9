//! Traces: deterministic on every model, and what is written reads back identically.

use std::path::PathBuf;

use bptui::engine::Backward;
use bptui::model::Model;
use bptui::session::record_run;
use bptui::session::Session;
use bptui::trace::{read_jsonl, write_file, Record};

fn model(name: &str) -> Model {
    Model::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models").join(name)).unwrap()
}

fn records(name: &str, examples: Option<usize>) -> Vec<Record> {
    let mut s = Session::new(model(name), Backward::B);
    let mut out = Vec::new();
    record_run(&mut s, examples, |r| {
        out.push(r);
        Ok(())
    })
    .unwrap();
    out
}

const MODELS: [&str; 6] =
    ["simple.yaml", "quiz1.yaml", "logistic_regression.yaml", "two_layer.yaml", "two_hidden.yaml", "ocr_letters.yaml"];

#[test]
fn a_trace_written_and_read_back_is_identical() {
    let dir = tempfile::tempdir().unwrap();
    for name in MODELS {
        let recs = records(name, Some(3));
        let path = dir.path().join(format!("{name}.jsonl"));
        write_file(&path, &recs).unwrap();
        let back = read_jsonl(&path).unwrap();
        assert_eq!(back.len(), recs.len(), "{name}");
        for (a, b) in recs.iter().zip(&back) {
            // Shapes and every bit of every number survive (shortest round-trip decimals).
            assert_eq!(a, b, "{name}");
        }
    }
}

#[test]
fn trace_is_deterministic_on_every_model() {
    let dir = tempfile::tempdir().unwrap();
    for name in MODELS {
        let limit = if name == "ocr_letters.yaml" { Some(5) } else { None };
        let (p1, p2) = (dir.path().join("1.jsonl"), dir.path().join("2.jsonl"));
        write_file(&p1, &records(name, limit)).unwrap();
        write_file(&p2, &records(name, limit)).unwrap();
        assert_eq!(std::fs::read(&p1).unwrap(), std::fs::read(&p2).unwrap(), "{name}");
    }
}

#[test]
fn example_records_follow_the_contract() {
    let recs = records("two_layer.yaml", None);
    let examples: Vec<_> = recs
        .iter()
        .filter_map(|r| match r {
            Record::Example(e) => Some(e),
            _ => None,
        })
        .collect();
    let epochs: Vec<_> = recs.iter().filter(|r| matches!(r, Record::Epoch(_))).collect();
    assert_eq!(examples.len(), 12 * 16);
    assert_eq!(epochs.len(), 12);
    let first = examples[0];
    assert_eq!((first.epoch, first.example, first.row), (1, 1, Some(0)));
    let names = |list: &Vec<(String, ndarray::ArrayD<f64>)>| list.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&first.forward), ["x", "a", "z", "b", "y", "J"]);
    assert_eq!(names(&first.adjoints), ["J", "y", "b", "beta", "z", "a", "alpha", "x"]);
    assert_eq!(names(&first.params), ["alpha", "beta"]);
    // Denominator layout: every adjoint has its node's shape.
    for (name, adj) in &first.adjoints {
        let shape = first
            .forward
            .iter()
            .chain(&first.params)
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.shape().to_vec())
            .unwrap();
        assert_eq!(adj.shape(), shape.as_slice(), "dJ/d{name}");
    }
}
