//! Invalid input, one case per test: bptui must exit with status 2, print `error: ` and the
//! location (file:LINE:COLUMN for YAML, `row N` for CSV, the file for a missing file), say what
//! was expected, and never panic.
//!
//! Expected YAML positions are computed from the YAML each test writes (`at`), so the line and
//! column asserted are exactly those of the offending token.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

fn bptui() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bptui"))
}

/// Writes `content` to `dir/name` and returns the path.
fn write(dir: &TempDir, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// A temporary directory holding `model.yaml` with `yaml`.
fn model(yaml: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "model.yaml", yaml);
    (dir, path)
}

/// Runs bptui with `args`, asserts it fails as invalid input should, and returns its stderr.
fn fails<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_os_string()).collect();
    let output = bptui().args(&args).output().expect("bptui runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(!stderr.contains("panicked"), "bptui {args:?} panicked:\n{stderr}");
    assert_eq!(
        output.status.code(),
        Some(2),
        "bptui {args:?}: expected exit status 2\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stderr.starts_with("error: "), "bptui {args:?}: stderr should start with `error: `:\n{stderr}");
    stderr
}

/// `bptui check MODEL` must fail; returns stderr.
fn check_fails(path: &Path) -> String {
    fails([Path::new("check"), path])
}

/// 1-based (line, column) of `needle` on line `line` of `yaml` (the first occurrence on it).
fn at(yaml: &str, line: usize, needle: &str) -> (usize, usize) {
    let text = yaml.lines().nth(line - 1).unwrap_or_else(|| panic!("the YAML has no line {line}"));
    let byte = text.find(needle).unwrap_or_else(|| panic!("line {line} {text:?} has no {needle:?}"));
    (line, text[..byte].chars().count() + 1)
}

/// Asserts stderr begins `error: FILE:LINE:COLUMN: ` and says `phrases`.
fn assert_yaml_error(stderr: &str, file: &Path, (line, column): (usize, usize), phrases: &[&str]) {
    let prefix = format!("error: {}:{line}:{column}: ", file.display());
    assert!(
        stderr.starts_with(&prefix),
        "expected the location {line}:{column}, i.e. a message starting\n  {prefix}\ngot\n  {stderr}"
    );
    says(stderr, phrases);
}

fn says(stderr: &str, phrases: &[&str]) {
    for p in phrases {
        assert!(stderr.contains(p), "the message should say {p:?}:\n{stderr}");
    }
}

/// A network's layers and loss around `body` (which starts at line 4 of the file).
const NET_HEAD: &str = "name: bad\nnetwork:\n  inputs: 3\n";

// ---------------------------------------------------------------------------------------------
// Model structure

#[test]
fn unknown_top_level_key() {
    let yaml = "name: bad\ncolour: red\ngraph:\n  inputs: {x: 2.0}\n  compute:\n    - y = x * x\n  output: y\n";
    let (_d, path) = model(yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(yaml, 2, "colour"), &["colour", "expected"]);
}

#[test]
fn unknown_layer_op() {
    let yaml = format!(
        "{NET_HEAD}  layers:\n    - {{op: linear, units: 1}}\n    - {{op: sigmoidd}}\n  loss: {{op: binary_cross_entropy}}\n"
    );
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(&yaml, 6, "sigmoidd"), &["sigmoidd", "sigmoid", "linear"]);
}

#[test]
fn unknown_key_inside_a_layer() {
    let yaml = format!(
        "{NET_HEAD}  layers:\n    - {{op: linear, units: 1}}\n    - {{op: sigmoid, nmae: y}}\n  loss: {{op: binary_cross_entropy}}\n"
    );
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(&yaml, 6, "nmae"), &["nmae", "name"]);
}

#[test]
fn linear_layer_without_units() {
    let yaml = format!(
        "{NET_HEAD}  layers:\n    - {{op: linear, name: a}}\n    - {{op: sigmoid}}\n  loss: {{op: binary_cross_entropy}}\n"
    );
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(&yaml, 5, "{op: linear"), &["units"]);
}

#[test]
fn units_on_a_sigmoid_layer() {
    let yaml = format!(
        "{NET_HEAD}  layers:\n    - {{op: linear, units: 1}}\n    - {{op: sigmoid, units: 4}}\n  loss: {{op: binary_cross_entropy}}\n"
    );
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    // The value of the `units` that does not belong there.
    assert_yaml_error(&err, &path, at(&yaml, 6, "4}"), &["units", "linear"]);
}

/// σ and η are bptui's own symbols (the sigmoid, the learning rate) in every formula it shows,
/// so no node may read as them: a layer, a weight (sigma would be written σ) or a computed name.
#[test]
fn names_that_read_as_bptuis_symbols() {
    let yaml = format!(
        "{NET_HEAD}  layers:\n    - {{op: linear, units: 2}}\n    - {{op: sigmoid, name: σ1}}\n  loss: {{op: binary_cross_entropy}}\n"
    );
    let (_d, path) = model(&yaml);
    assert_yaml_error(&check_fails(&path), &path, at(&yaml, 6, "σ1"), &["`σ1` starts with σ", "the sigmoid"]);

    let yaml = format!(
        "{NET_HEAD}  layers:\n    - {{op: linear, weights: sigma, units: 1}}\n    - {{op: sigmoid}}\n  loss: {{op: binary_cross_entropy}}\n"
    );
    let (_d, path) = model(&yaml);
    let out = bptui().args([Path::new("check"), &path]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("= sigma·[1; x]") && !text.contains("σ·[1; x]"), "{text}");

    let yaml = "name: bad\ngraph:\n  inputs: {x: 2.0}\n  compute:\n    - \"η = x * x\"\n    - y = η + 1\n  output: y\n";
    let (_d, path) = model(yaml);
    assert_yaml_error(&check_fails(&path), &path, at(yaml, 5, "η"), &["`η` starts with η", "the learning rate"]);

    // A look-alike, and a layer name that hides σ behind a space.
    let yaml = "name: bad\ngraph:\n  inputs: {ή: 2.0}\n  compute:\n    - y = ή * ή\n  output: y\n";
    let (_d, path) = model(yaml);
    assert_yaml_error(&check_fails(&path), &path, at(yaml, 3, "ή"), &["`ή` starts with η (or looks like it: ή)"]);
    let yaml = format!(
        "{NET_HEAD}  layers:\n    - {{op: linear, units: 2}}\n    - {{op: sigmoid, name: \" σ1\"}}\n  loss: {{op: binary_cross_entropy}}\n"
    );
    let (_d, path) = model(&yaml);
    assert_yaml_error(&check_fails(&path), &path, at(&yaml, 6, "\" σ1"), &["not a usable name"]);
}

#[test]
fn softmax_not_the_last_layer() {
    let yaml = format!(
        "{NET_HEAD}  layers:\n    - {{op: linear, units: 3}}\n    - {{op: softmax}}\n    - {{op: linear, units: 3}}\n  loss: {{op: cross_entropy}}\n"
    );
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(&yaml, 6, "{op: softmax"), &["softmax", "last layer"]);
}

#[test]
fn softmax_followed_by_binary_cross_entropy() {
    let yaml = format!(
        "{NET_HEAD}  layers:\n    - {{op: linear, units: 1}}\n    - {{op: softmax}}\n  loss: {{op: binary_cross_entropy}}\n"
    );
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    // Softmax is last, as it should be; the loss is what does not fit it.
    assert_yaml_error(&err, &path, at(&yaml, 7, "{op: binary"), &["softmax", "goes with the loss cross_entropy"]);
}

#[test]
fn cross_entropy_without_softmax() {
    let yaml = format!(
        "{NET_HEAD}  layers:\n    - {{op: linear, units: 3}}\n    - {{op: sigmoid, name: s}}\n  loss: {{op: cross_entropy}}\n"
    );
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(&yaml, 7, "{op: cross_entropy"), &["cross_entropy", "softmax"]);
}

#[test]
fn binary_cross_entropy_after_three_units() {
    let yaml = format!(
        "{NET_HEAD}  layers:\n    - {{op: linear, units: 3}}\n    - {{op: sigmoid}}\n  loss: {{op: binary_cross_entropy}}\n"
    );
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(&yaml, 7, "{op: binary"), &["binary_cross_entropy", "one output", "[3]"]);
}

#[test]
fn train_epochs_zero_in_the_model() {
    let yaml = "name: bad\ngraph:\n  inputs: {x: 2.0}\n  compute:\n    - y = x * x\n  output: y\ntrain: {epochs: 0}\n";
    let (_d, path) = model(yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(yaml, 7, "0}"), &["epochs", "at least 1"]);
}

// ---------------------------------------------------------------------------------------------
// init

/// A two-layer network whose first weights (`alpha`, 4 × 4 with the folded bias) start from `init`.
fn net_with_init(init: &str) -> String {
    format!(
        "{NET_HEAD}  layers:\n    - {{op: linear, weights: alpha, units: 4, init: {init}}}\n    - {{op: sigmoid}}\n    - {{op: linear, units: 1}}\n    - {{op: sigmoid}}\n  loss: {{op: binary_cross_entropy}}\n"
    )
}

#[test]
fn init_values_of_the_wrong_shape() {
    let yaml = net_with_init("{values: [[1, 2, 3], [4, 5, 6]]}");
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(&yaml, 5, "{values"), &["[2 × 3]", "[4 × 4]", "alpha"]);
}

#[test]
fn init_values_ragged() {
    let yaml = net_with_init("{values: [[1, 2, 3, 4], [1, 2], [1, 2, 3, 4], [1, 2, 3, 4]]}");
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(&yaml, 5, "[[1"), &["ragged"]);
}

#[test]
fn init_npy_missing() {
    let yaml = net_with_init("{npy: missing.npy}");
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(&yaml, 5, "missing.npy"), &["missing.npy", ".npy"]);
}

/// A NumPy v1.0 file of little-endian float64 in C order, built by hand.
fn npy_f64(shape: &[usize], data: &[f64]) -> Vec<u8> {
    assert_eq!(shape.iter().product::<usize>(), data.len());
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    // magic (6) + version (2) + header length (2) + header + '\n' is a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&u16::try_from(header.len()).unwrap().to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in data {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    assert_eq!((bytes.len() - 8 * data.len()) % 64, 0);
    bytes
}

#[test]
fn init_npy_of_the_right_shape_loads() {
    // The hand-built file is valid: with the right shape, the model checks.
    let yaml = net_with_init("{npy: right.npy}");
    let (dir, path) = model(&yaml);
    let values: Vec<f64> = (0..16).map(|i| f64::from(i) / 100.0).collect();
    write(&dir, "right.npy", npy_f64(&[4, 4], &values));
    let output = bptui().arg("check").arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn init_npy_of_the_wrong_shape() {
    let yaml = net_with_init("{npy: wrong.npy}");
    let (dir, path) = model(&yaml);
    write(&dir, "wrong.npy", npy_f64(&[2, 2], &[1.0, 2.0, 3.0, 4.0]));
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(&yaml, 5, "{npy"), &["wrong.npy", "[2 × 2]", "[4 × 4]"]);
}

// ---------------------------------------------------------------------------------------------
// Data

/// Two-layer network (3 features, one sigmoid output) training on `data` (lines 10 on).
fn net_with_data(data: &str) -> String {
    format!(
        "{NET_HEAD}  layers:\n    - {{op: linear, units: 2}}\n    - {{op: sigmoid}}\n    - {{op: linear, units: 1}}\n    - {{op: sigmoid}}\n  loss: {{op: binary_cross_entropy}}\ndata:\n{data}"
    )
}

/// A model training on `train.csv` with `csv` as its content; returns (dir, model, csv path).
fn csv_model(csv: &str) -> (TempDir, PathBuf, PathBuf) {
    let (dir, path) = model(&net_with_data("  train: {csv: train.csv}\n"));
    let csv_path = write(&dir, "train.csv", csv);
    (dir, path, csv_path)
}

fn assert_row_error(stderr: &str, csv: &Path, row: usize, phrases: &[&str]) {
    let prefix = format!("error: {}: row {row}: ", csv.display());
    assert!(stderr.starts_with(&prefix), "expected a message starting\n  {prefix}\ngot\n  {stderr}");
    says(stderr, phrases);
}

#[test]
fn binary_label_out_of_range_in_csv() {
    let (_d, path, csv) = csv_model("1,0.1,0.2,0.3\n0,0.4,0.5,0.6\n2,0.7,0.8,0.9\n");
    let err = check_fails(&path);
    assert_row_error(&err, &csv, 3, &["label 2", "0 or 1"]);
}

#[test]
fn class_label_out_of_range_inline() {
    let yaml = "name: bad\nnetwork:\n  inputs: 2\n  layers:\n    - {op: linear, units: 10}\n    - {op: softmax}\n  loss: {op: cross_entropy}\ndata:\n  train:\n    rows:\n      - [9, 0.1, 0.2]\n      - [10, 0.3, 0.4]\n";
    let (_d, path) = model(yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(yaml, 12, "[10"), &["label 10", "0 to 9"]);
}

#[test]
fn class_label_out_of_range_in_csv() {
    let yaml = "name: bad\nnetwork:\n  inputs: 2\n  layers:\n    - {op: linear, units: 10}\n    - {op: softmax}\n  loss: {op: cross_entropy}\ndata:\n  train: {csv: train.csv}\n";
    let (dir, path) = model(yaml);
    let csv = write(&dir, "train.csv", "9,0.1,0.2\n10,0.3,0.4\n");
    let err = check_fails(&path);
    assert_row_error(&err, &csv, 2, &["label 10", "0 to 9"]);
}

#[test]
fn csv_row_with_the_wrong_number_of_features() {
    let (_d, path, csv) = csv_model("1,0.1,0.2,0.3\n0,0.4,0.5,0.6\n1,0.7,0.8\n");
    let err = check_fails(&path);
    assert_row_error(&err, &csv, 3, &["expected 4", "got 3"]);
}

#[test]
fn csv_with_too_few_features_for_the_model() {
    // Every row agrees, but the model's input has 3 features.
    let (_d, path, csv) = csv_model("1,0.1,0.2\n0,0.4,0.5\n");
    let err = check_fails(&path);
    assert_row_error(&err, &csv, 1, &["expected 3 features", "got 2"]);
}

/// One pipe given as both files is read once, as the training data: the test data is then
/// empty, which is said (it is not shared out between two readers).
#[test]
fn one_pipe_as_both_data_files() {
    let (_d, path, _csv) = csv_model("1,0.1,0.2,0.3\n0,0.4,0.5,0.6\n");
    let output = bptui()
        .args([Path::new("check"), &path, Path::new("--train"), Path::new("/dev/stdin")])
        .args(["--test", "/dev/stdin"])
        .write_stdin("1,0.1,0.2,0.3\n0,0.4,0.5,0.6\n1,0.7,0.8,0.9\n".repeat(20_000))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: /dev/stdin: no examples"), "{stderr}");
}

/// A training file that cannot be read is said at once, even when the test file is a FIFO
/// that nobody writes to (reading both at once would wait for it).
#[test]
#[cfg(unix)]
fn a_bad_training_file_is_not_kept_waiting_by_a_fifo() {
    let (dir, path, _csv) = csv_model("1,0.1,0.2,0.3\n");
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        return; // no mkfifo here: nothing to test
    }
    let output = bptui()
        .args([Path::new("check"), &path, Path::new("--train"), &dir.path().join("missing.csv")])
        .args([Path::new("--test"), &fifo])
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("missing.csv") && stderr.contains("cannot read"), "{stderr}");
}

#[test]
fn csv_non_numeric_cell() {
    let (_d, path, csv) = csv_model("1,0.1,0.2,0.3\n0,0.4,abc,0.6\n");
    let err = check_fails(&path);
    assert_row_error(&err, &csv, 2, &["column 3", "abc", "expected a number"]);
}

#[test]
fn csv_header_row() {
    let (_d, path, csv) = csv_model("label,x1,x2,x3\n1,0.1,0.2,0.3\n");
    let err = check_fails(&path);
    assert_row_error(&err, &csv, 1, &["header", "expected a number"]);
}

#[test]
fn csv_empty() {
    let (_d, path, csv) = csv_model("");
    let err = check_fails(&path);
    let prefix = format!("error: {}: ", csv.display());
    assert!(err.starts_with(&prefix), "expected a message starting {prefix:?}, got {err}");
    says(&err, &["empty"]);
}

#[test]
fn csv_missing() {
    let yaml = net_with_data("  train: {csv: missing.csv}\n");
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(&yaml, 11, "missing.csv"), &["missing.csv", "does not exist"]);
}

#[test]
fn inline_rows_ragged() {
    let yaml = net_with_data(
        "  train:\n    rows:\n      - [1, 0.1, 0.2, 0.3]\n      - [0, 0.4, 0.5]\n      - [1, 0.7, 0.8, 0.9]\n",
    );
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(&yaml, 14, "[0, 0.4"), &["expected 4 numbers", "got 3"]);
}

// ---------------------------------------------------------------------------------------------
// network and graph

/// A network model without `data:`: it checks, but there is nothing to train on.
const NET_WITHOUT_DATA: &str =
    "name: bad\nnetwork:\n  inputs: 2\n  layers:\n    - {op: linear, units: 1}\n  loss: {op: squared_error}\n";

#[test]
fn run_network_without_data() {
    let (_d, path) = model(NET_WITHOUT_DATA);
    let err = fails([Path::new("run"), &path]);
    assert!(err.starts_with(&format!("error: {}", path.display())), "the message should name the model file: {err}");
    says(&err, &["data"]);
}

#[test]
fn trace_network_without_data() {
    let (dir, path) = model(NET_WITHOUT_DATA);
    let out = dir.path().join("t.jsonl");
    let err = fails([Path::new("trace"), &path, Path::new("--out"), &out]);
    assert!(err.starts_with(&format!("error: {}", path.display())), "the message should name the model file: {err}");
    says(&err, &["data"]);
    assert!(!out.exists());
}

#[test]
fn both_network_and_graph() {
    let yaml = "name: bad\nnetwork:\n  inputs: 1\n  layers:\n    - {op: linear, units: 1}\n  loss: {op: squared_error}\ngraph:\n  inputs: {x: 2.0}\n  compute:\n    - y = x * x\n  output: y\n";
    let (_d, path) = model(yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(yaml, 7, "graph"), &["network", "graph", "not both"]);
}

#[test]
fn neither_network_nor_graph() {
    let yaml = "name: bad\ndata:\n  train: {rows: [[1, 0.5]]}\n";
    let (_d, path) = model(yaml);
    let err = check_fails(&path);
    // Nothing to point at but the model itself: its first key.
    assert_yaml_error(&err, &path, (1, 1), &["network", "graph"]);
}

// ---------------------------------------------------------------------------------------------
// The graph form

const GRAPH_HEAD: &str = "name: bad\ngraph:\n  inputs: {x: 2.0, z: 3.0}\n  compute:\n    - t = x * z\n";

#[test]
fn graph_undefined_name() {
    let yaml = format!("{GRAPH_HEAD}    - y = t + w * x\n  output: y\n");
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(&yaml, 6, "w"), &["`w`", "not defined"]);
}

#[test]
fn graph_undefined_name_in_a_quoted_line() {
    let yaml = format!("{GRAPH_HEAD}    - \"y = t + w * x\"\n  output: y\n");
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(&yaml, 6, "w"), &["`w`", "not defined"]);
}

#[test]
fn graph_unknown_function() {
    let yaml = format!("{GRAPH_HEAD}    - y = t + foo(x)\n  output: y\n");
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(&yaml, 6, "foo"), &["unknown function `foo`", "exp"]);
}

#[test]
fn graph_unbalanced_parenthesis() {
    let yaml = format!("{GRAPH_HEAD}    - y = exp(x * (t + 1)\n  output: y\n");
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    // The `)` is missing at the end of the line: the column just after its last character.
    let line = yaml.lines().nth(5).unwrap();
    assert_yaml_error(&err, &path, (6, line.chars().count() + 1), &["expected `)`"]);
}

#[test]
fn graph_power_with_a_non_constant_exponent() {
    let yaml = format!("{GRAPH_HEAD}    - y = x ^ z\n  output: y\n");
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(&yaml, 6, "z"), &["exponent", "number"]);
}

#[test]
fn graph_output_not_defined() {
    let yaml = format!("{GRAPH_HEAD}    - y = t * t\n  output: w\n");
    let (_d, path) = model(&yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(&yaml, 7, "w"), &["`w`", "not defined"]);
}

#[test]
fn graph_non_scalar_output() {
    let yaml = "name: bad\ngraph:\n  inputs: {a: [1.0, 2.0]}\n  compute:\n    - y = sigmoid(a)\n  output: y\n";
    let (_d, path) = model(yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(yaml, 6, "y"), &["[2]", "scalar"]);
}

#[test]
fn graph_shapes_that_do_not_fit() {
    let yaml = "name: bad\ngraph:\n  inputs: {a: [1.0, 2.0], b: [1.0, 2.0, 3.0]}\n  compute:\n    - y = dot(a, b)\n  output: y\n";
    let (_d, path) = model(yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, at(yaml, 5, "dot"), &["[2]", "[3]"]);
}

// ---------------------------------------------------------------------------------------------
// Files and YAML syntax

#[test]
fn missing_model_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.yaml");
    let err = check_fails(&path);
    let prefix = format!("error: {}: ", path.display());
    assert!(err.starts_with(&prefix), "expected a message starting {prefix:?}, got {err}");
    says(&err, &["cannot read"]);
}

#[test]
fn missing_model_file_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.yaml");
    let out = dir.path().join("t.jsonl");
    for args in [
        vec![Path::new("run"), &path],
        vec![Path::new("trace"), &path, Path::new("--out"), &out],
        vec![Path::new("graph"), &path],
        vec![Path::new("gradcheck"), &path],
    ] {
        let err = fails(&args);
        assert!(err.contains("nope.yaml"), "{args:?}: {err}");
    }
    assert!(!out.exists());
}

#[test]
fn yaml_tab_indentation() {
    let yaml = "name: bad\ngraph:\n  inputs: {x: 2.0}\n\tcompute:\n    - y = x * x\n  output: y\n";
    let (_d, path) = model(yaml);
    let err = check_fails(&path);
    assert_yaml_error(&err, &path, (4, 1), &["tab"]);
}

#[test]
fn yaml_unclosed_bracket() {
    let yaml = "name: bad\ngraph:\n  inputs: {x: 2.0, z: 3.0\n  compute:\n    - y = x * z\n  output: y\n";
    let (_d, path) = model(yaml);
    let err = check_fails(&path);
    // The parser notices only on line 4, at the `:` of `compute:`; that is the location. The
    // message must say what it expected and also where the unclosed `{` is (line 3, column 11).
    let (line, column) = at(yaml, 4, ":");
    assert_yaml_error(&err, &path, (line, column), &["expected ',' or '}'"]);
    let (open_line, open_column) = at(yaml, 3, "{");
    assert!(
        err.contains(&format!("line {open_line} column {open_column}"))
            || err.contains(&format!(":{open_line}:{open_column}")),
        "the message should say where the unclosed `{{` is (line {open_line}, column {open_column}):\n{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Command-line values

fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models").join(format!("{name}.yaml"))
}

#[test]
fn run_epochs_zero() {
    let err = fails([Path::new("run"), &shipped("two_layer"), Path::new("--epochs"), Path::new("0")]);
    says(&err, &["--epochs", "at least 1"]);
}

#[test]
fn trace_epochs_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.jsonl");
    let err = fails([
        Path::new("trace"),
        &shipped("two_layer"),
        Path::new("--out"),
        &out,
        Path::new("--epochs"),
        Path::new("0"),
    ]);
    says(&err, &["--epochs", "at least 1"]);
    assert!(!out.exists(), "no trace is written for invalid input");
}

#[test]
fn gradcheck_eps_zero() {
    let err = fails([Path::new("gradcheck"), &shipped("quiz1"), Path::new("--eps"), Path::new("0")]);
    says(&err, &["--eps", "positive"]);
}

#[test]
fn trace_into_a_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("missing").join("t.jsonl");
    let err = fails([Path::new("trace"), &shipped("quiz1"), Path::new("--out"), &out]);
    let prefix = format!("error: {}: ", out.display());
    assert!(err.starts_with(&prefix), "expected a message starting {prefix:?}, got {err}");
    says(&err, &["cannot write"]);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing is left behind");
}

#[test]
fn labels_for_a_model_without_data() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tr.labels");
    let err = fails([Path::new("run"), &shipped("quiz1"), Path::new("--train-out"), &out]);
    says(&err, &["data"]);
    assert!(!out.exists());
}

/// Class labels are checked wherever a classification loss stands, not only when it is the
/// output (these ran into a panic before).
#[test]
fn labels_out_of_range_for_a_loss_inside_the_output() {
    let head = "name: twice\ngraph:\n  inputs: {x: features, t: label}\n  params: {w: {shape: [3, 3], init: zeros}}\n  compute:\n    - v = linear(w, x)\n";
    let yaml = format!("{head}    - J = 2 * cross_entropy(softmax(v), t)\n  output: J\ndata:\n  train: {{rows: [[1, 1.0, 2.0], [7, 0.5, 0.1]]}}\n");
    let (_dir, path) = model(&yaml);
    let err = fails([Path::new("run"), &path]);
    says(&err, &["label 7 is out of range", "0 to 2"]);
    let yaml = format!(
        "{head}    - J = cross_entropy(softmax(v), 5)\n  output: J\ndata:\n  train: {{rows: [[1, 1.0, 2.0]]}}\n"
    );
    let (_dir, path) = model(&yaml);
    let err = check_fails(&path);
    says(&err, &["the class 5 is out of range", "0 to 2"]);
    let yaml = format!(
        "{head}    - J = cross_entropy(softmax(v), t)\n  output: J\ndata:\n  train: {{rows: [[-1.5, 1.0, 2.0]]}}\n"
    );
    let (_dir, path) = model(&yaml);
    let err = check_fails(&path);
    says(&err, &["label -1.5 is out of range"]);
}

/// A graph without data: its class is a number, a computation of numbers and inputs, or
/// something that trains (refused: it could leave the classes); `run` on these panicked before.
#[test]
fn classes_of_a_graph_without_data_are_checked_before_it_runs() {
    let graph = |class: &str| {
        format!(
            "name: g\ngraph:\n  inputs: {{v: [1.0, 2.0, 3.0], c: 1.0}}\n  params:\n    w: {{shape: [3]}}\n  compute:\n    \
             - \"u = w * v\"\n    - \"J = 2 * cross_entropy(softmax(u), {class})\"\n  output: J\n"
        )
    };
    for (class, phrases) in [
        ("5", &["the class 5 is out of range", "classes 0 to 2"][..]),
        ("-1.5", &["the class -1.5 is out of range"]),
        ("c + 3", &["the class 4 is out of range"]),
        ("sum(w)", &["depends on a parameter", "a fixed class"]),
    ] {
        let (_dir, path) = model(&graph(class));
        for command in ["check", "run"] {
            let err = fails([Path::new(command), &path]);
            says(&err, phrases);
            assert!(err.starts_with(&format!("error: {}:7:", path.display())), "{class}: located: {err}");
        }
    }
    // A class computed from the data's label is checked row by row, where the row is.
    let data = |rows: &str| {
        format!(
            "name: t\ngraph:\n  inputs: {{x: features, t: label}}\n  params: {{w: {{shape: [3, 3], init: zeros}}}}\n  \
             compute:\n    - v = linear(w, x)\n    - J = cross_entropy(softmax(v), t - 1)\n  output: J\ndata:\n  \
             train: {{rows: {rows}}}\n"
        )
    };
    let (_dir, path) = model(&data("[[1, 1.0, 2.0], [3, 0.5, 0.1]]"));
    let out = bptui().arg("run").arg(&path).assert().success().get_output().stdout.clone();
    // The error rate counts against the class the loss reads (t − 1 = 0 and 2), not t: with
    // zero weights every class is as likely and the prediction is class 0, right once in two.
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("train error 0.5"), "{out}");
    let (_dir, path) = model(&data("[[1, 1.0, 2.0], [4, 0.5, 0.1]]"));
    let err = fails([Path::new("run"), &path]);
    says(&err, &["the class `t - 1` is 3 for this row", "classes 0 to 2"]);
    assert!(err.contains("rows[1]") || err.contains(&format!("{}:10:", path.display())), "located: {err}");
    // A class made of numbers and inputs that is in range runs, with J = 2 · log 3 when the
    // weights start at zero (every class equally likely).
    for class in ["2", "c + 1", "-(1 - 3)"] {
        let (_dir, path) = model(&graph(class));
        let out = bptui().arg("run").arg(&path).assert().success().get_output().stdout.clone();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains(&format!("J = {}", 2.0 * 3f64.ln())), "{class}: {out}");
    }
}

#[test]
fn a_trace_is_not_written_as_csv() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.csv");
    let model = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/two_layer.yaml");
    let err = fails([Path::new("trace"), &model, Path::new("--out"), &out]);
    says(&err, &["JSON Lines (.jsonl) or .npz, not .csv"]);
    assert!(!out.exists());
}

/// An argument clap refuses (unknown, missing, extra, a bad value) is one line like every
/// other invalid input, naming the command whose `--help` shows the usage.
#[test]
fn every_argument_error_is_one_line() {
    let m = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/two_layer.yaml");
    let m = m.to_str().unwrap();
    let cases: [(&[&str], &[&str]); 6] = [
        (&["run", m, "--bogus"], &["unexpected argument '--bogus'", "use '-- --bogus'", "see bptui run --help"]),
        (&["run"], &["required arguments were not provided: <MODEL>", "see bptui run --help"]),
        (&["trace", m], &["not provided: --out", "see bptui trace --help"]),
        (&["run", m, m], &["unexpected argument", "see bptui run --help"]),
        (&["diff", "--tol", "nan", m, "t.jsonl"], &["invalid value 'nan' for '--tol <T>'", "see bptui diff --help"]),
        (&["trace", m, "--out"], &["a value is required for '--out", "see bptui trace --help"]),
    ];
    for (args, phrases) in cases {
        let stderr = fails(args);
        assert_eq!(stderr.lines().count(), 1, "{args:?}:\n{stderr}");
        says(&stderr, phrases);
    }
}
