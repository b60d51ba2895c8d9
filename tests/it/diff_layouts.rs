//! `diff` against bptui's own trace stored the ways students store it, chosen at random per name
//! (weights transposed or with the bias column last, vectors as columns or rows, x and z with
//! their bias entry 1 first or last, dJ/dz carrying the adjoint of that entry, J as (1, 1),
//! everything rounded to float32), from a random and from an all-zero init (where the first
//! numbers fit every layout): the correct trace always agrees, and one number changed anywhere
//! (a weight, the carried entry, the bias entry 1, a metric) never does. The storage is written
//! here independently of bptui's layout code.

use std::path::{Path, PathBuf};

use bptui::diff::{prepare, run, Theirs};
use bptui::engine::Backward;
use bptui::model::{DataOverride, Model};
use bptui::session::record_run;
use bptui::session::Session;
use bptui::trace::write_file;
use proptest::prelude::*;
use serde_json::Value;

fn repo(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// The lecture's Case 2 network; `zeros` makes both weight matrices start at zero.
fn model(zeros: bool) -> Model {
    let path = repo("models/two_layer.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = if zeros { text.replace("init: {uniform: [-0.1, 0.1]}", "init: zeros") } else { text };
    Model::from_source(&path, &text, &DataOverride::default(), Default::default()).expect("model loads")
}

/// bptui's own trace of the model, one JSON value a record.
fn own_trace(dir: &Path, zeros: bool) -> Vec<Value> {
    let mut session = Session::new(model(zeros), Backward::B);
    let mut records = Vec::new();
    record_run(&mut session, None, |r| {
        records.push(r);
        Ok(())
    })
    .unwrap();
    let path = dir.join("own.jsonl");
    write_file(&path, &records).unwrap();
    std::fs::read_to_string(&path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A nested list as (shape, numbers).
fn flat(v: &Value) -> (Vec<usize>, Vec<f64>) {
    match v {
        Value::Array(items) => {
            let parts: Vec<(Vec<usize>, Vec<f64>)> = items.iter().map(flat).collect();
            let inner = parts.first().map(|p| p.0.clone()).unwrap_or_default();
            let mut shape = vec![items.len()];
            shape.extend(inner);
            (shape, parts.into_iter().flat_map(|p| p.1).collect())
        }
        v => (vec![], vec![v.as_f64().unwrap()]),
    }
}

fn nested(shape: &[usize], numbers: &[f64]) -> Value {
    match shape {
        [] => Value::from(numbers[0]),
        [n, rest @ ..] => {
            let size: usize = rest.iter().product();
            Value::Array((0..*n).map(|i| nested(rest, &numbers[i * size..(i + 1) * size])).collect())
        }
    }
}

/// How a student's code stores one name (the same for every record of it).
#[derive(Debug, Clone, Copy)]
struct Storage {
    /// Weights: transposed, bias column last.
    transposed: bool,
    bias_last: bool,
    /// Vectors: 0 as they are, 1 a column (n, 1), 2 a row (1, n); the bias entry (x and z's 1, or
    /// dJ/dz's carried adjoint of it) kept first or last.
    axes: u8,
    entry: Option<bool>,
}

/// A weight matrix (rows × cols, bias in column 0) stored the student's way.
fn store_matrix(s: Storage, rows: usize, cols: usize, v: &[f64]) -> Value {
    let at = |r: usize, c: usize| v[r * cols + c];
    let col = |c: usize| if s.bias_last { (c + 1) % cols } else { c };
    if s.transposed {
        let out: Vec<f64> =
            (0..cols).flat_map(|c| (0..rows).map(move |r| (r, c))).map(|(r, c)| at(r, col(c))).collect();
        nested(&[cols, rows], &out)
    } else {
        let out: Vec<f64> =
            (0..rows).flat_map(|r| (0..cols).map(move |c| (r, c))).map(|(r, c)| at(r, col(c))).collect();
        nested(&[rows, cols], &out)
    }
}

/// A vector stored the student's way, with `entry` (1, or a carried adjoint) where it keeps it.
fn store_vector(s: Storage, v: &[f64], entry: f64) -> Value {
    let mut out = v.to_vec();
    match s.entry {
        Some(false) => out.insert(0, entry),
        Some(true) => out.push(entry),
        None => {}
    }
    let n = out.len();
    match s.axes {
        1 => nested(&[n, 1], &out),
        2 => nested(&[1, n], &out),
        _ => nested(&[n], &out),
    }
}

fn storage() -> impl Strategy<Value = Storage> {
    (any::<bool>(), any::<bool>(), 0u8..3, prop::option::of(any::<bool>()))
        .prop_map(|(transposed, bias_last, axes, entry)| Storage { transposed, bias_last, axes, entry })
}

/// β before example `i`'s update: the parameters after the record before, or the initial ones.
fn beta_before(records: &[Value], i: usize, zeros: bool) -> Vec<f64> {
    let before = records[..i].iter().rev().find(|r| r.get("params").is_some());
    match before {
        Some(r) => flat(&r["params"]["beta"]).1,
        None => {
            let m = model(zeros);
            let id = m.graph().find("beta").unwrap();
            m.initial().iter().find(|(p, _)| *p == id).unwrap().1.iter().copied().collect()
        }
    }
}

/// Their trace: `records` stored with one storage per name, float32 when `f32`.
fn stored(records: &[Value], zeros: bool, s: &[Storage; 6], f32: bool) -> Vec<Value> {
    let round = |v: f64| if f32 { f64::from(v as f32) } else { v };
    let mut out = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let mut r = r.clone();
        if r.get("forward").is_some() {
            let beta0 = beta_before(records, i, zeros);
            for section in ["forward", "adjoints", "params"] {
                let Some(values) = r.get_mut(section).and_then(Value::as_object_mut) else { continue };
                for (name, v) in values.iter_mut() {
                    let (shape, mut numbers) = flat(v);
                    numbers.iter_mut().for_each(|x| *x = round(*x));
                    *v = match (section, name.as_str()) {
                        (_, "alpha") => store_matrix(s[0], shape[0], shape[1], &numbers),
                        (_, "beta") => store_matrix(s[1], shape[0], shape[1], &numbers),
                        ("forward", "x") => store_vector(s[2], &numbers, 1.0),
                        ("forward", "z") => store_vector(s[3], &numbers, 1.0),
                        ("adjoints", "z") => {
                            let g = flat(&r_adjoint_b(records, i)).1;
                            let carried = round(beta0[0] * g[0]);
                            store_vector(s[4], &numbers, carried)
                        }
                        (_, "J") | (_, "y") if s[5].axes == 1 => nested(&[1, 1], &numbers),
                        _ if shape.len() == 1 => store_vector(Storage { entry: None, ..s[5] }, &numbers, 0.0),
                        _ => nested(&shape, &numbers),
                    };
                }
            }
        } else if let Some(metrics) = r.get_mut("metrics").and_then(Value::as_object_mut) {
            metrics.values_mut().for_each(|v| *v = Value::from(round(v.as_f64().unwrap())));
        }
        out.push(r);
    }
    out
}

/// dJ/db of record `i` (b has one unit: β is 1 × 5, so the carried entry is β[0,0]·dJ/db[0]).
fn r_adjoint_b(records: &[Value], i: usize) -> Value {
    records[i]["adjoints"]["b"].clone()
}

/// `diff`'s verdict on a trace: Some(true) agree, Some(false) a divergence, None an error.
fn verdict(dir: &Path, zeros: bool, records: &[Value]) -> (Option<bool>, String) {
    let path = dir.join("theirs.jsonl");
    std::fs::write(&path, records.iter().map(|r| r.to_string() + "\n").collect::<String>()).unwrap();
    let m = model(zeros);
    let theirs = match Theirs::load(&path, m.graph(), &[], Default::default()) {
        Ok(t) => t,
        Err(e) => return (None, e.to_string()),
    };
    let (m, _) = match prepare(&m, &theirs) {
        Ok(p) => p,
        Err(e) => return (None, e.to_string()),
    };
    let mut session = Session::new(m, Backward::B);
    match run(&mut session, &theirs, bptui::diff::Tolerance::DEFAULT) {
        Ok(report) => {
            let text = bptui::diff::render(&report, &theirs);
            (Some(report.divergence.is_none()), text)
        }
        Err(e) => (None, e.to_string()),
    }
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: crate::proptest_cases(40), failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_correct_trace_agrees_however_it_is_stored(
        zeros in any::<bool>(),
        s in [storage(), storage(), storage(), storage(), storage(), storage()],
        f32 in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let records = own_trace(dir.path(), zeros);
        let theirs = stored(&records, zeros, &s, f32);
        let (agrees, text) = verdict(dir.path(), zeros, &theirs);
        prop_assert_eq!(agrees, Some(true), "{:?} float32 {}:\n{}", s, f32, text);
    }

    #[test]
    fn one_changed_number_never_agrees(
        zeros in any::<bool>(),
        s in [storage(), storage(), storage(), storage(), storage(), storage()],
        f32 in any::<bool>(),
        which in any::<prop::sample::Index>(),
        section in 0usize..4,
        name in any::<prop::sample::Index>(),
        entry in any::<prop::sample::Index>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let records = own_trace(dir.path(), zeros);
        let mut theirs = stored(&records, zeros, &s, f32);
        let r = which.index(theirs.len());
        let what;
        if theirs[r].get("metrics").is_some() {
            let m = theirs[r]["metrics"].as_object_mut().unwrap();
            let key = m.keys().nth(name.index(m.len())).unwrap().clone();
            let v = m[&key].as_f64().unwrap();
            m[&key] = Value::from(v + 0.01 * (1.0 + v.abs()));
            what = format!("record {r} metric {key}");
        } else {
            let key = ["forward", "adjoints", "params", "forward"][section];
            let values = theirs[r][key].as_object_mut().unwrap();
            let n = values.keys().nth(name.index(values.len())).unwrap().clone();
            let (shape, mut numbers) = flat(&values[&n]);
            let scale = numbers.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let k = entry.index(numbers.len());
            numbers[k] += 0.01 * (1.0 + scale);
            values[&n] = nested(&shape, &numbers);
            what = format!("record {r} {key}.{n}[{k}]");
        }
        let (agrees, text) = verdict(dir.path(), zeros, &theirs);
        prop_assert_ne!(agrees, Some(true), "{} {:?} float32 {}:\n{}", what, s, f32, text);
    }
}
