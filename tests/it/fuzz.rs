//! Mutation fuzzing in `cargo test` (proptest): the model loader, the expression parser, the
//! CSV reader and the trace reader get inputs made from the bundled models, their data, a real
//! trace and known bad inputs, mutated. Whatever the input: no panic, and every error is one
//! line that names the file (and a line:column, row or record where the input has one).
//!
//! PROPTEST_CASES sets the cases per test (default 300).

use std::path::{Path, PathBuf};

use bptui::limits::Limits;
use bptui::model::{DataOverride, Model};
use proptest::prelude::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: crate::proptest_cases(300), failure_persistence: None, ..ProptestConfig::default() }
}

/// Keeps fuzzed models small: a mutated `units: 4` may become `units: 49999999`.
fn small_limit() -> Limits {
    Limits { max_numbers: 1 << 20 }
}

/// Fragments that tend to break things, spliced into the seeds.
const TOKENS: &[&str] = &[
    "\n",
    " ",
    ":",
    "-",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ",",
    "\"",
    "'",
    "\t",
    "#",
    "&a",
    "*a",
    "!!str",
    "~",
    ".nan",
    ".inf",
    "-.inf",
    "1e999",
    "-1",
    "0",
    "18446744073709551615",
    "4294967296",
    "units: ",
    "op: ",
    "init: ",
    "{npy: /dev/zero}",
    "{csv: /dev/null}",
    "\u{feff}",
    "\u{0}",
    "\x1b",
    "é",
    "((((",
    "))))",
    "----",
    "^",
    "*",
    "/",
    "sum(",
    "exp(",
    "matmul(",
    "softmax(",
    "NaN",
    "Infinity",
    "\"epoch\": ",
    "\"row\": ",
    "[[",
    "]]",
    "null",
];

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, usize),
    Delete(usize, usize),
    Flip(usize, u8),
    Duplicate(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(p, t)| Edit::Insert(p, t)),
        (any::<usize>(), 1usize..40).prop_map(|(p, n)| Edit::Delete(p, n)),
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Edit::Flip(p, b)),
        (any::<usize>(), 1usize..80).prop_map(|(p, n)| Edit::Duplicate(p, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn mutate(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for e in edits {
        let at = |p: usize, b: &Vec<u8>| if b.is_empty() { 0 } else { p % (b.len() + 1) };
        match *e {
            Edit::Insert(p, t) => {
                let i = at(p, &b);
                b.splice(i..i, TOKENS[t].bytes());
            }
            Edit::Delete(p, n) => {
                let i = at(p, &b);
                let j = (i + n).min(b.len());
                b.drain(i..j);
            }
            Edit::Flip(p, v) => {
                if !b.is_empty() {
                    let i = p % b.len();
                    b[i] = v;
                }
            }
            Edit::Duplicate(p, n) => {
                let i = at(p, &b);
                let j = (i + n).min(b.len());
                let piece: Vec<u8> = b[i..j].to_vec();
                b.splice(j..j, piece);
            }
            Edit::Truncate(p) => {
                let i = at(p, &b);
                b.truncate(i);
            }
        }
    }
    b
}

fn model_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(root().join("models"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    seeds.sort();
    // Known bad inputs of the hardening tests.
    seeds.push(b"name: g\ngraph:\n  inputs: {x: 2.0}\n  params:\n    w: {shape: [4294967296, 4294967296]}\n  compute:\n    - J = sum(w) * x\n  output: J\n".to_vec());
    seeds.push(b"name: n\nnetwork:\n  inputs: 3\n  layers:\n    - {op: linear, units: 18446744073709551615}\n    - {op: sigmoid}\n  loss: {op: binary_cross_entropy}\n".to_vec());
    seeds.push(b"name: g\ngraph:\n  inputs: {x: 2.0, z: 3.0}\n  compute:\n    - t = x * z\n    - y = exp(t) + t / log(x) + sin(log(x)) / t - -x ^ 2\n  output: y\n".to_vec());
    seeds
}

/// An error message is one line that begins with the file's name.
fn one_located_line(message: &str, file: &Path) -> Result<(), TestCaseError> {
    prop_assert!(!message.contains('\n'), "several lines: {message:?}");
    prop_assert!(message.starts_with(&file.display().to_string()), "not located: {message:?}");
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn model_loader_never_panics(seed in 0usize..64, edits in prop::collection::vec(edit(), 1..6)) {
        let seeds = model_seeds();
        let bytes = mutate(&seeds[seed % seeds.len()], &edits);
        let path = root().join("models/fuzzed.yaml");
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = Model::from_source(&path, &text, &DataOverride::default(), small_limit()) {
            let message = e.to_string();
            // A data file the model names is blamed itself (`models/data/x.csv: row 3: ...`).
            let file = if message.starts_with(&path.display().to_string()) { path } else { root().join("models/data") };
            one_located_line(&message, &file)?;
        }
    }

    #[test]
    fn expression_parser_never_panics(line in prop::collection::vec(0..TOKENS.len() + 6, 0..40)) {
        const NAMES: [&str; 6] = ["x", "z", "w", "2", "0.5", " + "];
        let expr: String = line
            .iter()
            .map(|&i| if i < TOKENS.len() { TOKENS[i] } else { NAMES[i - TOKENS.len()] })
            .collect::<String>()
            .replace(['\n', '"', '\''], " ");
        let yaml = format!(
            "name: g\ngraph:\n  inputs: {{x: 2.0, z: [1.0, 2.0]}}\n  params:\n    w: {{shape: [2]}}\n  compute:\n    - \"J = {expr}\"\n  output: J\n"
        );
        let path = root().join("models/fuzzed.yaml");
        if let Err(e) = Model::from_source(&path, &yaml, &DataOverride::default(), small_limit()) {
            one_located_line(&e.to_string(), &path)?;
        }
    }

    #[test]
    fn csv_reader_never_panics(seed in 0usize..8, edits in prop::collection::vec(edit(), 1..8)) {
        let seeds = [
            std::fs::read(root().join("models/data/two_layer_train.csv")).unwrap(),
            b"1,0.5,0.5,0.5\n0,\"a\nb\",1,1\n".to_vec(),
            b"label,x1,x2,x3\n1,2,3,4\n".to_vec(),
            b"1,nan,inf,-inf\n".to_vec(),
        ];
        let bytes = mutate(&seeds[seed % seeds.len()], &edits);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::write(&path, &bytes).unwrap();
        let result = Model::load_with(
            &root().join("models/two_layer.yaml"),
            &DataOverride { train: Some(path.clone()), test: None },
            small_limit(),
        );
        if let Err(e) = result {
            one_located_line(&e.to_string(), &path)?;
        }
    }

    #[test]
    fn trace_reader_never_panics(edits in prop::collection::vec(edit(), 1..8), npz in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let name = if npz { "t.npz" } else { "t.jsonl" };
        let path = dir.path().join(name);
        std::fs::write(&path, mutate(&trace_seed(npz), &edits)).unwrap();
        let model = Model::load(&root().join("models/two_layer.yaml")).unwrap();
        if let Err(e) = bptui::diff::Theirs::load(&path, model.graph(), &[], small_limit()) {
            one_located_line(&e.to_string(), &path)?;
        }
    }
}

/// A real trace of two_layer: two examples and an epoch record, as JSON Lines or .npz bytes.
fn trace_seed(npz: bool) -> Vec<u8> {
    let model = Model::load(&root().join("models/two_layer.yaml")).unwrap();
    let mut session = bptui::session::Session::new(model, bptui::engine::Backward::B);
    let mut records = Vec::new();
    bptui::session::record_run(&mut session, Some(2), |r| {
        records.push(r);
        Ok(())
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(if npz { "seed.npz" } else { "seed.jsonl" });
    bptui::trace::write_file(&path, &records[..3]).unwrap();
    std::fs::read(path).unwrap()
}
