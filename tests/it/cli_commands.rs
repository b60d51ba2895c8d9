//! Every headless command on every model in `models/`, run as a user would run them.
//!
//! The numbers checked here are computed independently in the test (closed forms for the two
//! lecture examples) or are properties of the files written (one JSON object per line, a zip
//! archive, one label per data row, byte-identical reruns).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// The models shipped in `models/`, with the data they train on.
struct ModelInfo {
    name: &'static str,
    /// Node names `check` and `graph` must list.
    nodes: &'static [&'static str],
    /// The trainable parameters (absent from `forward`, present in `params` and `adjoints`).
    params: &'static [&'static str],
    /// The node bound to each example's label (absent from `forward`), if any.
    label: Option<&'static str>,
    /// The loss (or output) node.
    loss: &'static str,
    /// `train.epochs` of the model file; `None` for a graph model without data.
    epochs: Option<usize>,
    /// Rows of the training data file (under `models/`).
    train_csv: Option<&'static str>,
}

const SIMPLE: ModelInfo = ModelInfo {
    name: "simple",
    nodes: &["x", "u", "sin(u)", "3 * u", "sin(u) + 3 * u", "J"],
    params: &[],
    label: None,
    loss: "J",
    epochs: None,
    train_csv: None,
};
const QUIZ1: ModelInfo = ModelInfo {
    name: "quiz1",
    nodes: &["x", "z", "t", "exp(t)", "log(x)", "t / log(x)", "sin(log(x))", "sin(log(x)) / t", "y"],
    params: &[],
    label: None,
    loss: "y",
    epochs: None,
    train_csv: None,
};
const LOGISTIC: ModelInfo = ModelInfo {
    name: "logistic_regression",
    nodes: &["x", "ystar", "theta", "prepend1(x)", "a", "y", "J"],
    params: &["theta"],
    label: Some("ystar"),
    loss: "J",
    epochs: Some(5),
    train_csv: Some("data/logistic_train.csv"),
};
const TWO_LAYER: ModelInfo = ModelInfo {
    name: "two_layer",
    nodes: &["x", "alpha", "a", "z", "beta", "b", "y", "y*", "J"],
    params: &["alpha", "beta"],
    label: Some("y*"),
    loss: "J",
    epochs: Some(12),
    train_csv: Some("data/two_layer_train.csv"),
};
const TWO_HIDDEN: ModelInfo = ModelInfo {
    name: "two_hidden",
    nodes: &["x", "alpha", "a", "z", "beta", "b", "h", "gamma", "c", "y", "y*", "J"],
    params: &["alpha", "beta", "gamma"],
    label: Some("y*"),
    loss: "J",
    epochs: Some(10),
    train_csv: Some("data/two_hidden_train.csv"),
};
const OCR_LETTERS: ModelInfo = ModelInfo {
    name: "ocr_letters",
    nodes: &["x", "alpha", "a", "z", "beta", "b", "y_hat", "y*", "J"],
    params: &["alpha", "beta"],
    label: Some("y*"),
    loss: "J",
    epochs: Some(5),
    train_csv: Some("data/ocr_letters_train.csv"),
};

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

fn model_path(name: &str) -> PathBuf {
    models_dir().join(format!("{name}.yaml"))
}

fn bptui() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bptui"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("bptui writes UTF-8")
}

/// Runs bptui and asserts exit status 0; returns its output.
fn ok(args: &[&std::ffi::OsStr]) -> Output {
    let output = bptui().args(args).output().expect("bptui runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "bptui {:?} failed\nstdout:\n{}\nstderr:\n{}",
        args,
        text(&output.stdout),
        text(&output.stderr)
    );
    let stderr = text(&output.stderr);
    assert!(!stderr.contains("panicked"), "bptui {args:?} panicked:\n{stderr}");
    output
}

macro_rules! args {
    ($($a:expr),* $(,)?) => {
        &[$(::std::ffi::OsStr::new(&$a)),*]
    };
}

/// Rows of a data file under `models/` (non-blank lines).
fn csv_rows(rel: &str) -> usize {
    let s = std::fs::read_to_string(models_dir().join(rel)).expect("data file");
    s.lines().filter(|l| !l.trim().is_empty()).count()
}

/// Whether `out` has a table line `  ID  NAME  ...` for the node `name`.
fn has_node_line(out: &str, name: &str) -> bool {
    out.lines().any(|l| {
        let t = l.trim_start();
        match t.split_once("  ") {
            Some((id, rest)) => id.parse::<usize>().is_ok() && rest.starts_with(&format!("{name}  ")),
            None => false,
        }
    })
}

fn f64_after(line: &str, prefix: &str) -> f64 {
    let rest = line.strip_prefix(prefix).unwrap_or_else(|| panic!("{line:?} does not start with {prefix:?}"));
    rest.trim().parse().unwrap_or_else(|e| panic!("{rest:?} is not a number: {e}"))
}

fn assert_rel_close(actual: f64, expected: f64, rel: f64) {
    let err = (actual - expected).abs() / expected.abs().max(f64::MIN_POSITIVE);
    assert!(err <= rel, "got {actual:e}, expected {expected:e} (relative error {err:e} > {rel:e})");
}

// ---------------------------------------------------------------------------------------------
// check

fn check(m: &ModelInfo) {
    let path = model_path(m.name);
    let out = text(&ok(args!["check", path]).stdout);
    assert!(out.contains(m.name), "check does not name the model {}:\n{out}", m.name);
    for node in m.nodes {
        assert!(has_node_line(&out, node), "check of {} does not list the node `{node}`:\n{out}", m.name);
    }
    if let Some(csv) = m.train_csv {
        let n = csv_rows(csv);
        assert!(
            out.contains(&format!("{n} examples")),
            "check of {} does not report {n} training examples:\n{out}",
            m.name
        );
    }
}

// ---------------------------------------------------------------------------------------------
// graph

fn graph_text(m: &ModelInfo) -> String {
    let path = model_path(m.name);
    let out = text(&ok(args!["graph", path, "--format", "text"]).stdout);
    for node in m.nodes {
        assert!(has_node_line(&out, node), "graph of {} does not list the node `{node}`:\n{out}", m.name);
    }
    out
}

/// The DOT output's nodes (id → name, from the first line of the label) and edges.
fn parse_dot(dot: &str) -> (BTreeMap<usize, String>, Vec<(usize, usize)>) {
    let mut nodes = BTreeMap::new();
    let mut edges = Vec::new();
    for line in dot.lines() {
        let t = line.trim();
        if let Some((lhs, rhs)) = t.split_once(" -> ") {
            let from = lhs.trim_start_matches('n').parse().unwrap_or_else(|_| panic!("edge line {t:?}"));
            let to = rhs.trim_end_matches(';').trim_start_matches('n').parse().unwrap_or_else(|_| panic!("edge {t:?}"));
            edges.push((from, to));
        } else if let Some((id, rest)) = t.split_once(" [label=\"") {
            if let Ok(id) = id.trim_start_matches('n').parse::<usize>() {
                let name = rest.split("\\n").next().unwrap_or_default().to_string();
                nodes.insert(id, name);
            }
        }
    }
    (nodes, edges)
}

/// From the text table: node id → its inputs as written after `←` (empty for leaves).
fn text_inputs(table: &str) -> BTreeMap<usize, String> {
    let mut out = BTreeMap::new();
    for line in table.lines() {
        let t = line.trim_start();
        let Some((id, _)) = t.split_once("  ") else { continue };
        let Ok(id) = id.parse::<usize>() else { continue };
        let inputs = t.rsplit_once(" ← ").map(|(_, i)| i.trim().to_string()).unwrap_or_default();
        out.insert(id, inputs);
    }
    out
}

fn graph_dot(m: &ModelInfo) {
    let path = model_path(m.name);
    let dot = text(&ok(args!["graph", path, "--format", "dot"]).stdout);
    assert!(dot.starts_with("digraph"), "DOT output of {} does not start with `digraph`:\n{dot}", m.name);
    assert!(dot.trim_end().ends_with('}'), "DOT output of {} is not closed:\n{dot}", m.name);
    let (nodes, edges) = parse_dot(&dot);
    let names: Vec<&str> = nodes.values().map(String::as_str).collect();
    for node in m.nodes {
        assert!(names.contains(node), "DOT output of {} has no node `{node}`:\n{dot}", m.name);
    }
    // One edge line per input: the sources of each node's edges, in order, are its inputs as the
    // text format lists them.
    let table = graph_text(m);
    let inputs = text_inputs(&table);
    assert_eq!(inputs.len(), nodes.len(), "text and DOT list different numbers of nodes:\n{table}\n{dot}");
    assert!(!edges.is_empty(), "no edges in the DOT output of {}:\n{dot}", m.name);
    for &(from, to) in &edges {
        assert!(nodes.contains_key(&from) && nodes.contains_key(&to), "edge n{from} -> n{to} to an undeclared node");
    }
    for (&id, listed) in &inputs {
        let sources: Vec<&str> =
            edges.iter().filter(|&&(_, to)| to == id).map(|&(from, _)| nodes[&from].as_str()).collect();
        assert_eq!(
            sources.join(", "),
            *listed,
            "node {id} (`{}`) of {}: DOT edges into it do not match its inputs\n{table}\n{dot}",
            nodes[&id],
            m.name
        );
    }
}

// ---------------------------------------------------------------------------------------------
// run

fn epoch_lines(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.trim_start().starts_with("epoch")).collect()
}

fn run(m: &ModelInfo) -> String {
    let path = model_path(m.name);
    let out = text(&ok(args!["run", path]).stdout);
    match m.epochs {
        Some(epochs) => {
            let lines = epoch_lines(&out);
            assert_eq!(lines.len(), epochs, "run of {} should print one line per epoch:\n{out}", m.name);
            for (i, line) in lines.iter().enumerate() {
                assert!(line.contains("train loss"), "epoch line without `train loss`: {line:?}");
                let n: usize = line
                    .trim_start()
                    .strip_prefix("epoch")
                    .unwrap()
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert_eq!(n, i + 1, "epochs are numbered from 1 in order:\n{out}");
            }
        }
        None => {
            let line = out.lines().find(|l| l.starts_with(&format!("{} = ", m.loss)));
            assert!(line.is_some(), "run of {} should print `{} = value`:\n{out}", m.name, m.loss);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// trace

fn trace_jsonl(m: &ModelInfo) {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("trace.jsonl");
    let path = model_path(m.name);
    let big = m.name == "ocr_letters";
    if big {
        ok(args!["trace", path, "--out", out_path, "--examples", "2", "--epochs", "1"]);
    } else {
        ok(args!["trace", path, "--out", out_path]);
    }
    let content = std::fs::read_to_string(&out_path).expect("the trace file exists");
    assert!(content.ends_with('\n'), "a JSON Lines file ends with a newline");
    let mut examples = 0;
    let mut epochs = 0;
    for (i, line) in content.lines().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("line {} is not JSON: {e}\n{line}", i + 1));
        let obj = v.as_object().unwrap_or_else(|| panic!("line {} is not a JSON object", i + 1));
        let epoch = obj.get("epoch").and_then(Value::as_u64).unwrap_or_else(|| panic!("line {}: no epoch", i + 1));
        assert!(epoch >= 1, "epochs count from 1");
        if obj.contains_key("metrics") {
            epochs += 1;
            let metrics = obj["metrics"].as_object().expect("metrics is an object");
            let loss = metrics.get("train_loss").and_then(Value::as_f64).expect("train_loss");
            assert!(loss.is_finite() && loss >= 0.0);
            assert!(metrics.contains_key("test_loss"), "every data model here has test data: {line}");
            assert!(metrics.contains_key("train_error"), "every data model here is a classifier: {line}");
        } else {
            examples += 1;
            let example = obj.get("example").and_then(Value::as_u64).expect("example");
            assert!(example >= 1, "examples count from 1");
            for section in ["forward", "adjoints", "params"] {
                assert!(
                    obj.get(section).is_some_and(Value::is_object),
                    "line {}: no `{section}` object: {line}",
                    i + 1
                );
            }
            let forward = obj["forward"].as_object().unwrap();
            for node in m.nodes.iter().filter(|n| !m.params.contains(n) && m.label != Some(**n)) {
                assert!(forward.contains_key(*node), "line {}: forward lacks `{node}`", i + 1);
            }
            let params = obj["params"].as_object().unwrap();
            let mut names: Vec<&str> = params.keys().map(String::as_str).collect();
            names.sort_unstable();
            let mut expected = m.params.to_vec();
            expected.sort_unstable();
            assert_eq!(names, expected, "line {}: params holds every parameter", i + 1);
            for p in m.params {
                assert!(obj["adjoints"].get(*p).is_some(), "line {}: adjoints lack the parameter `{p}`", i + 1);
            }
            let dj = obj["adjoints"].get(m.loss).and_then(Value::as_f64);
            assert_eq!(dj, Some(1.0), "line {}: the loss's own adjoint is 1", i + 1);
            if m.train_csv.is_some() {
                assert!(obj.get("row").is_some_and(Value::is_u64), "line {}: no row", i + 1);
            }
        }
    }
    match (m.epochs, m.train_csv) {
        (Some(_), Some(_)) if big => {
            assert_eq!((examples, epochs), (2, 1), "--examples 2 --epochs 1");
        }
        (Some(e), Some(csv)) => {
            assert_eq!(epochs, e, "one epoch record per epoch");
            assert_eq!(examples, e * csv_rows(csv), "one example record per example per epoch");
        }
        _ => assert_eq!((examples, epochs), (1, 0), "a graph model without data writes one example record"),
    }
}

fn trace_npz(m: &ModelInfo) {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("trace.npz");
    let path = model_path(m.name);
    ok(args!["trace", path, "--out", out_path, "--examples", "2", "--epochs", "1"]);
    let bytes = std::fs::read(&out_path).expect("the .npz file exists");
    assert!(bytes.starts_with(b"PK"), "an .npz file is a zip archive");
    assert!(bytes.len() > 22, "the archive holds something");
}

// ---------------------------------------------------------------------------------------------
// gradcheck

fn gradcheck(m: &ModelInfo) {
    let path = model_path(m.name);
    let out = text(&ok(args!["gradcheck", path]).stdout);
    assert!(out.contains("all gradients agree"), "gradcheck of {}:\n{out}", m.name);
}

macro_rules! every_command {
    ($($module:ident => $info:expr),* $(,)?) => {$(
        mod $module {
            use super::*;
            #[test]
            fn check_lists_every_node() {
                check(&$info);
            }
            #[test]
            fn graph_text_lists_every_node() {
                graph_text(&$info);
            }
            #[test]
            fn graph_dot_has_an_edge_per_input() {
                graph_dot(&$info);
            }
            #[test]
            fn run_prints_the_epochs_or_the_value() {
                run(&$info);
            }
            #[test]
            fn trace_jsonl_has_one_object_per_line() {
                trace_jsonl(&$info);
            }
            #[test]
            fn trace_npz_is_a_zip() {
                trace_npz(&$info);
            }
            #[test]
            fn gradcheck_agrees() {
                gradcheck(&$info);
            }
        }
    )*};
}

every_command! {
    simple => SIMPLE,
    quiz1 => QUIZ1,
    logistic_regression => LOGISTIC,
    two_layer => TWO_LAYER,
    two_hidden => TWO_HIDDEN,
    ocr_letters => OCR_LETTERS,
}

// ---------------------------------------------------------------------------------------------
// Numbers checked independently

#[test]
fn quiz1_value_matches_the_closed_form() {
    let out = run(&QUIZ1);
    let line = out.lines().find(|l| l.starts_with("y = ")).unwrap();
    let (x, z) = (2.0f64, 3.0f64);
    let t = x * z;
    let expected = t.exp() + t / x.ln() + x.ln().sin() / t;
    assert_rel_close(f64_after(line, "y = "), expected, 1e-12);
}

#[test]
fn simple_value_matches_the_closed_form() {
    let out = run(&SIMPLE);
    let line = out.lines().find(|l| l.starts_with("J = ")).unwrap();
    let x = 2.0f64;
    let expected = ((x * x).sin() + 3.0 * x * x).cos();
    assert_rel_close(f64_after(line, "J = "), expected, 1e-12);
}

/// The numbers of one `epoch` line: train loss, train error, test loss, test error.
fn epoch_numbers(line: &str) -> [f64; 4] {
    let words: Vec<&str> = line.split_whitespace().collect();
    let after = |label: &str| -> f64 {
        let at = words.windows(2).position(|w| format!("{} {}", w[0], w[1]) == label).expect(label);
        words[at + 2].parse().unwrap()
    };
    // The homework's letters call their held-out set "validation".
    let test = if line.contains("validation loss") { "validation" } else { "test" };
    [after("train loss"), after("train error"), after(&format!("{test} loss")), after(&format!("{test} error"))]
}

/// The lecture's networks are there to show SGD working: over the model file's own epochs the
/// train and test losses fall by a fifth at least, neither error rises and the test error falls,
/// so the chart a student
/// sees falls.
#[test]
fn the_demo_networks_learn_within_their_epochs() {
    for m in [&TWO_LAYER, &LOGISTIC, &TWO_HIDDEN, &OCR_LETTERS] {
        let out = run(m);
        let lines = epoch_lines(&out);
        let (first, last) = (epoch_numbers(lines[0]), epoch_numbers(lines[lines.len() - 1]));
        for (i, what) in [(0, "train loss"), (2, "test loss")] {
            assert!(last[i] < 0.8 * first[i], "{}: {what} {} → {}:\n{out}", m.name, first[i], last[i]);
        }
        for (i, what) in [(1, "train error"), (3, "test error")] {
            assert!(last[i] <= first[i], "{}: {what} {} → {}:\n{out}", m.name, first[i], last[i]);
        }
        assert!(last[3] < first[3], "{}: the test error should fall:\n{out}", m.name);
    }
}

#[test]
fn run_epochs_option_overrides_the_model() {
    for m in [&TWO_LAYER, &LOGISTIC, &TWO_HIDDEN] {
        let path = model_path(m.name);
        let out = text(&ok(args!["run", path, "--epochs", "2"]).stdout);
        assert_eq!(epoch_lines(&out).len(), 2, "run {} --epochs 2:\n{out}", m.name);
    }
}

#[test]
fn check_spells_the_settings_as_the_model_file_does() {
    let out = text(&ok(args!["check", model_path("hw_network")]).stdout);
    assert!(out.contains("optimizer sgd, shuffle numpy_epoch\n"), "{out}");
    let dir = tempfile::tempdir().unwrap();
    let yaml = std::fs::read_to_string(model_path("two_layer")).unwrap().replace(
        "train: {learning_rate: 1.0, epochs: 12, seed: 1, shuffle: none}",
        "train: {learning_rate: 0.1, epochs: 3, seed: 1, shuffle: seeded, optimizer: adagrad}",
    );
    let path = dir.path().join("m.yaml");
    std::fs::write(&path, yaml).unwrap();
    let (train, test) = (models_dir().join("data/two_layer_train.csv"), models_dir().join("data/two_layer_test.csv"));
    let out = text(&ok(args!["check", path, "--train", train, "--test", test]).stdout);
    assert!(out.contains("optimizer adagrad (epsilon 1e-05), shuffle seeded\n"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// run's output files

/// `^epoch=\d+ crossentropy\((train|test)\): \S+$`, returning (epoch, split, value).
fn parse_metrics_line(line: &str) -> Option<(usize, &str, &str)> {
    let rest = line.strip_prefix("epoch=")?;
    let digits = rest.find(|c: char| !c.is_ascii_digit())?;
    if digits == 0 {
        return None;
    }
    let epoch = rest[..digits].parse().ok()?;
    let rest = rest[digits..].strip_prefix(" crossentropy(")?;
    let (split, rest) = rest.split_once("): ")?;
    if split != "train" && split != "test" {
        return None;
    }
    if rest.is_empty() || rest.chars().any(char::is_whitespace) {
        return None;
    }
    Some((epoch, split, rest))
}

#[test]
fn metrics_line_pattern_is_strict() {
    assert_eq!(parse_metrics_line("epoch=12 crossentropy(test): 0.5"), Some((12, "test", "0.5")));
    for bad in [
        "epoch= crossentropy(test): 0.5",
        "epoch=1 crossentropy(valid): 0.5",
        "epoch=1 crossentropy(train): ",
        "epoch=1 crossentropy(train): 1 2",
    ] {
        assert_eq!(parse_metrics_line(bad), None, "{bad:?}");
    }
}

fn labels_file(path: &Path, rows: usize) {
    let s = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(s.ends_with('\n'), "{}: the last label ends its line", path.display());
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines.len(), rows, "{}: one label per data row", path.display());
    for (i, l) in lines.iter().enumerate() {
        assert!(*l == "0" || *l == "1", "{} line {}: {l:?} is not 0 or 1", path.display(), i + 1);
    }
}

#[test]
fn run_writes_metrics_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let (metrics, train, test) = (dir.path().join("m.txt"), dir.path().join("tr.labels"), dir.path().join("te.labels"));
    let path = model_path("two_layer");
    let stdout =
        text(&ok(args!["run", path, "--metrics-out", metrics, "--train-out", train, "--test-out", test]).stdout);
    let epochs = TWO_LAYER.epochs.unwrap();
    let m = std::fs::read_to_string(&metrics).unwrap();
    assert!(m.ends_with('\n'));
    let lines: Vec<&str> = m.lines().collect();
    assert_eq!(lines.len(), 2 * epochs + 2, "a pair of lines per epoch, then two error lines:\n{m}");
    let printed = epoch_lines(&stdout);
    for e in 0..epochs {
        for (k, split) in ["train", "test"].iter().enumerate() {
            let line = lines[2 * e + k];
            let parsed = parse_metrics_line(line);
            assert!(parsed.is_some(), "{line:?} does not match ^epoch=\\d+ crossentropy\\((train|test)\\): \\S+$");
            let (epoch, s, value) = parsed.unwrap();
            assert_eq!((epoch, s), (e + 1, *split), "{m}");
            let v: f64 = value.parse().unwrap_or_else(|_| panic!("{value:?} is not a number"));
            // The same number run prints on the terminal for that epoch.
            assert!(printed[e].contains(&format!("{split} loss {value}")), "{v} not in {:?}", printed[e]);
        }
    }
    let train_err = f64_after(lines[2 * epochs], "error(train): ");
    let test_err = f64_after(lines[2 * epochs + 1], "error(test): ");
    assert!((0.0..=1.0).contains(&train_err) && (0.0..=1.0).contains(&test_err));
    labels_file(&train, csv_rows("data/two_layer_train.csv"));
    labels_file(&test, csv_rows("data/two_layer_test.csv"));

    // The error rates agree with the labels written and the data's labels.
    for (labels, csv, err) in
        [(&train, "data/two_layer_train.csv", train_err), (&test, "data/two_layer_test.csv", test_err)]
    {
        let predicted = std::fs::read_to_string(labels).unwrap();
        let data = std::fs::read_to_string(models_dir().join(csv)).unwrap();
        let truth: Vec<f64> = data.lines().map(|l| l.split(',').next().unwrap().trim().parse().unwrap()).collect();
        let wrong = predicted.lines().zip(&truth).filter(|(p, t)| p.parse::<f64>().unwrap() != **t).count();
        assert!((wrong as f64 / truth.len() as f64 - err).abs() < 1e-12, "{csv}: {wrong} wrong, error {err}");
    }
}

/// Names of the entries of a directory.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

fn assert_fails_with_2(args: &[&std::ffi::OsStr], names: &str) {
    let output = bptui().args(args).output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "bptui {args:?}: expected exit 2\nstderr:\n{stderr}");
    assert!(stderr.starts_with("error: "), "stderr: {stderr}");
    assert!(stderr.contains(names), "stderr does not name {names}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn failed_metrics_write_exits_2_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("no_such_dir").join("m.txt");
    let path = model_path("two_layer");
    assert_fails_with_2(args!["run", path, "--metrics-out", target], "m.txt");
    assert!(!target.exists());
    assert!(entries(dir.path()).is_empty(), "left behind: {:?}", entries(dir.path()));
}

#[test]
fn failed_labels_write_over_a_directory_leaves_no_partial_file() {
    // The output path is an existing directory: writing must fail, and no temporary file may stay.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("tr.labels");
    std::fs::create_dir(&target).unwrap();
    let path = model_path("two_layer");
    assert_fails_with_2(args!["run", path, "--train-out", target], "tr.labels");
    assert_eq!(entries(dir.path()), vec!["tr.labels".to_string()]);
    assert!(entries(&target).is_empty());
}

#[test]
fn failed_trace_write_exits_2_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = model_path("two_layer");
    for name in ["t.jsonl", "t.npz"] {
        let target = dir.path().join("no_such_dir").join(name);
        assert_fails_with_2(args!["trace", path, "--out", target], name);
        assert!(!target.exists());
    }
    assert!(entries(dir.path()).is_empty(), "left behind: {:?}", entries(dir.path()));
}

// ---------------------------------------------------------------------------------------------
// Determinism

#[test]
fn trace_is_byte_identical_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    for (model, ext) in
        [("two_layer", "jsonl"), ("two_hidden", "jsonl"), ("logistic_regression", "jsonl"), ("two_layer", "npz")]
    {
        let path = model_path(model);
        let a = dir.path().join(format!("{model}_a.{ext}"));
        let b = dir.path().join(format!("{model}_b.{ext}"));
        ok(args!["trace", path, "--out", a]);
        ok(args!["trace", path, "--out", b]);
        let (a, b) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert!(!a.is_empty());
        assert!(a == b, "two traces of {model} (.{ext}) differ");
    }
}

#[test]
fn run_is_deterministic() {
    let path = model_path("two_hidden");
    let a = text(&ok(args!["run", path]).stdout);
    let b = text(&ok(args!["run", path]).stdout);
    assert_eq!(a, b);
}

#[test]
fn graph_whose_output_is_an_input() {
    // `check` accepts J = x (dJ/dx = 1), so `run` and `trace` must handle it too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("identity.yaml");
    std::fs::write(&path, "name: identity\ngraph:\n  inputs: {x: 2.0}\n  compute: []\n  output: x\n").unwrap();
    ok(args!["check", path]);
    let out = text(&ok(args!["run", path]).stdout);
    assert!(out.lines().any(|l| l == "x = 2.0"), "run should print `x = 2.0`:\n{out}");
    let trace = dir.path().join("t.jsonl");
    ok(args!["trace", path, "--out", trace]);
    let line = std::fs::read_to_string(&trace).unwrap();
    let v: Value = serde_json::from_str(line.trim_end()).unwrap();
    assert_eq!(v["adjoints"]["x"].as_f64(), Some(1.0), "{line}");
}
