//! `bptui diff` on traces made by hand from bptui's own: every record is compared or named in
//! an error (exit 2, with its record number), never "agree" after comparing nothing; an init
//! record replaces the model's init; float32 numbers are compared at float32 precision.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

fn repo(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn bptui(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bptui")).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// bptui's own trace of models/two_layer.yaml (12 epochs of 16 examples), one JSON value a line.
fn own_trace(dir: &Path) -> Vec<Value> {
    trace_of(dir, &repo("models/two_layer.yaml"), &[])
}

/// bptui's own trace of `model` (with `trace`'s extra arguments), one JSON value a line.
fn trace_of(dir: &Path, model: &Path, args: &[&str]) -> Vec<Value> {
    let stem = model.file_stem().unwrap().to_string_lossy();
    let path = dir.join(format!("own_{stem}.jsonl"));
    let mut all: Vec<&std::ffi::OsStr> = vec!["trace".as_ref(), model.as_os_str(), "--out".as_ref(), path.as_os_str()];
    all.extend(args.iter().map(|a| std::ffi::OsStr::new(*a)));
    let (code, out) = bptui(&all);
    assert_eq!(code, 0, "{out}");
    std::fs::read_to_string(&path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn write(dir: &Path, name: &str, records: &[Value]) -> PathBuf {
    let path = dir.join(name);
    let text: String = records.iter().map(|r| r.to_string() + "\n").collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn diff(trace: &Path) -> (i32, String) {
    bptui(&["diff".as_ref(), repo("models/two_layer.yaml").as_os_str(), trace.as_os_str()])
}

#[test]
fn own_trace_agrees_and_says_how_much_was_compared() {
    let dir = tempfile::tempdir().unwrap();
    let records = own_trace(dir.path());
    let (code, out) = diff(&write(dir.path(), "t.jsonl", &records));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("{0} of its {0} records compared", records.len())), "{out}");
}

/// A change made to one record.
type Edit = Box<dyn Fn(&mut Value)>;

#[test]
fn records_without_a_place_in_the_run_are_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let records = own_trace(dir.path());
    // (what is changed in record 3, the phrase of the error)
    let cases: Vec<(Edit, &str)> = vec![
        (Box::new(|r| r["row"] = json!("zero")), "\"row\" is the 0-based data row"),
        (Box::new(|r| r["row"] = json!(-1)), "\"row\" is the 0-based data row"),
        (Box::new(|r| r["row"] = json!(1e30)), "\"row\" is the 0-based data row"),
        (Box::new(|r| r["row"] = json!(16)), "row 16, but the training data has rows 0 to 15"),
        (Box::new(|r| r["example"] = json!(17)), "example 17 of epoch 1, but an epoch has 16 examples"),
        (Box::new(|r| r["example"] = json!(1)), "a second record of epoch 1 example 1"),
        (Box::new(|r| r["epoch"] = json!(0)), "counted from 1"),
        (Box::new(|r| r["adjoints"]["y*"] = json!(1.0)), "bptui computes no dJ/dy*"),
        (Box::new(|r| r["params"]["a"] = json!([0, 0, 0, 0])), "`a` is not a parameter"),
        (Box::new(|r| r["forward"]["W1"] = json!(0)), "`W1` is not a node of the model"),
        (Box::new(|r| r["extra"] = json!(0)), "unknown key \"extra\""),
    ];
    for (change, phrase) in cases {
        let mut bad = records.clone();
        change(&mut bad[2]);
        let path = write(dir.path(), "bad.jsonl", &bad);
        let (code, out) = diff(&path);
        assert_eq!(code, 2, "{phrase}: {out}");
        assert!(out.contains(&format!("{}: record 3: ", path.display())), "{phrase}: {out}");
        assert!(out.contains(phrase), "expected {phrase:?} in {out}");
    }
    // Epoch metrics the model has no number for.
    let mut bad = records.clone();
    let at = bad.iter().position(|r| r.get("metrics").is_some()).unwrap();
    bad[at]["metrics"]["accuracy"] = json!(0.5);
    let (code, out) = diff(&write(dir.path(), "bad.jsonl", &bad));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains(&format!("record {}: unknown metric \"accuracy\"", at + 1)), "{out}");
}

#[test]
fn nothing_compared_is_not_agreement() {
    let dir = tempfile::tempdir().unwrap();
    let empty = vec![json!({"epoch": 1, "example": 1}), json!({"epoch": 1, "example": 2, "forward": {}})];
    let (code, out) = diff(&write(dir.path(), "empty.jsonl", &empty));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no value of the trace could be compared"), "{out}");
}

/// A run from other initial weights agrees once its init record gives them (here: bptui's own
/// run of the model from other initial values, beta recorded as a column).
#[test]
fn an_init_record_replaces_the_models_init() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("models/two_layer.yaml"))
        .unwrap()
        .replacen(
            "init: {uniform: [-0.1, 0.1]}",
            "init: {values: [[0.1, 0.2, 0.3, 0.4], [0, 0, 0, 0.5], [-0.1, -0.2, 0, 0], [0.3, 0, 0, 0]]}",
            1,
        )
        .replacen("init: {uniform: [-0.1, 0.1]}", "init: {values: [[0.05, -0.1, 0.2, 0, 0.1]]}", 1)
        .replace("csv: data/", &format!("csv: {}/", repo("models/data").display()));
    assert!(text.contains("values"), "the model's init was replaced");
    let other = dir.path().join("other.yaml");
    std::fs::write(&other, &text).unwrap();
    let records = trace_of(dir.path(), &other, &[]);

    // Without the init record: the first value that reads alpha differs, and why is said.
    let (code, out) = diff(&write(dir.path(), "no_init.jsonl", &records));
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("first divergence: epoch 1, example 1 (data row 0), forward value a"), "{out}");
    assert!(out.contains("your initial weights are not the model's"), "{out}");

    // With it (beta as a column vector), everything agrees.
    let alpha = json!([[0.1, 0.2, 0.3, 0.4], [0, 0, 0, 0.5], [-0.1, -0.2, 0, 0], [0.3, 0, 0, 0]]);
    let beta_column = json!([[0.05], [-0.1], [0.2], [0.0], [0.1]]);
    let mut with_init = vec![json!({"init": {"alpha": alpha, "beta": beta_column}})];
    with_init.extend(records.iter().cloned());
    let (code, out) = diff(&write(dir.path(), "init.jsonl", &with_init));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("started from your initial alpha, beta (your init record)"), "{out}");
    assert!(out.contains(&format!("{0} of its {0} records compared", with_init.len())), "{out}");

    // alpha (4 × 4: square, with its bias column) recorded with the bias column last, or
    // transposed: the same shape, so the arrangement is the one under which their first value
    // of a = α·[1; x] comes out, and everything agrees (these were false alarms).
    let bias_last = json!([[0.2, 0.3, 0.4, 0.1], [0, 0, 0.5, 0], [-0.2, 0, 0, -0.1], [0, 0, 0, 0.3]]);
    let transposed = json!([[0.1, 0, -0.1, 0.3], [0.2, 0, -0.2, 0], [0.3, 0, 0, 0], [0.4, 0.5, 0, 0]]);
    let bias_column_last = |m: &Value| -> Value {
        Value::Array(
            m.as_array()
                .unwrap()
                .iter()
                .map(|row| {
                    let mut r = row.as_array().unwrap().clone();
                    let bias = r.remove(0);
                    r.push(bias);
                    Value::Array(r)
                })
                .collect(),
        )
    };
    let transpose = |m: &Value| -> Value {
        let rows = m.as_array().unwrap();
        let n = rows[0].as_array().unwrap().len();
        Value::Array((0..n).map(|j| Value::Array(rows.iter().map(|r| r[j].clone()).collect())).collect())
    };
    type Arrange = Box<dyn Fn(&Value) -> Value>;
    let cases: [(&str, Value, Arrange); 2] =
        [("bias column last", bias_last, Box::new(bias_column_last)), ("transposed", transposed, Box::new(transpose))];
    for (how, alpha, arrange) in cases {
        // Their code keeps alpha, and so its gradient, in its own arrangement throughout.
        let mut with_init = vec![json!({"init": {"alpha": alpha, "beta": beta_column.clone()}})];
        for r in &records {
            let mut r = r.clone();
            for section in ["adjoints", "params"] {
                if let Some(a) = r.get_mut(section).and_then(|s| s.get_mut("alpha")) {
                    *a = arrange(a);
                }
            }
            with_init.push(r);
        }
        let (code, out) = diff(&write(dir.path(), "init2.jsonl", &with_init));
        assert_eq!(code, 0, "alpha {how}: {out}");
    }
}

/// Numbers that are all exactly float32 are compared at float32 precision, and said to be.
#[test]
fn float32_numbers_are_compared_at_float32_precision() {
    let dir = tempfile::tempdir().unwrap();
    let records = own_trace(dir.path());
    fn to_f32(v: &Value) -> Value {
        match v {
            Value::Number(n) => json!(n.as_f64().unwrap() as f32 as f64),
            Value::Array(a) => Value::Array(a.iter().map(to_f32).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            if ["epoch", "example", "row"].contains(&k.as_str()) { v.clone() } else { to_f32(v) },
                        )
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    let f32s: Vec<Value> = records.iter().map(to_f32).collect();
    let path = write(dir.path(), "f32.jsonl", &f32s);
    let (code, out) = diff(&path);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("your numbers are float32; comparing at float32 precision"), "{out}");
    // At float32 precision a wrong number is still wrong.
    let mut bad = f32s.clone();
    let j = bad[5]["forward"]["J"].as_f64().unwrap();
    bad[5]["forward"]["J"] = json!((j * 1.01) as f32 as f64);
    let (code, out) = diff(&write(dir.path(), "f32_bad.jsonl", &bad));
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("first divergence: epoch 1, example 6"), "{out}");
}

/// A parameter recorded in a wrong shape is the divergence itself: its gradient, right, agrees.
#[test]
fn a_parameter_of_the_wrong_shape_is_blamed_not_its_gradient() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = own_trace(dir.path());
    let alpha = records[0]["params"]["alpha"].clone();
    let cut: Vec<Value> =
        alpha.as_array().unwrap().iter().map(|row| Value::from(row.as_array().unwrap()[..3].to_vec())).collect();
    records[0]["params"]["alpha"] = Value::from(cut);
    let (code, out) = diff(&write(dir.path(), "shape.jsonl", &records));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("first divergence: epoch 1, example 1 (data row 0), parameter alpha after the update"),
        "{out}"
    );
    assert!(out.contains("adjoints alpha") && out.contains("shapes differ"), "{out}");
    assert!(!out.contains("accumulated"), "{out}");
}

/// A trace from a pipe is read once (a pipe cannot be read twice, nor sniffed for its format).
#[test]
fn a_trace_from_a_pipe_is_compared() {
    let dir = tempfile::tempdir().unwrap();
    let records = own_trace(dir.path());
    let path = write(dir.path(), "t.jsonl", &records);
    let script = format!(
        "{} diff {} <(cat {})",
        env!("CARGO_BIN_EXE_bptui"),
        repo("models/two_layer.yaml").display(),
        path.display()
    );
    let out = Command::new("bash").args(["-c", &script]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.starts_with("agree: "), "{text}");
}

/// dJ/da written as dJ/dz ⊙ a(1 − a), the sigmoid's derivative at its input: found at dJ/da
/// and named (the numbers worked here from the record's own a and dJ/dz).
#[test]
fn a_sigmoid_derivative_taken_at_its_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = own_trace(dir.path());
    let first = &mut records[0];
    let (a, dz) = (numbers(&first["forward"]["a"]), numbers(&first["adjoints"]["z"]));
    let wrong: Vec<f64> = a.iter().zip(&dz).map(|(a, g)| g * (a * (1.0 - a))).collect();
    first["adjoints"]["a"] = json!(wrong);
    let (code, out) = diff(&write(dir.path(), "sigmoid_at_a.jsonl", &records));
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("first divergence: epoch 1, example 1 (data row 0), adjoint dJ/da"), "{out}");
    assert!(out.contains("σ′ taken at a instead of z"), "{out}");
}

/// With separate biases (b = β z + β_bias), dJ/dz computed with β after the example's update
/// is named too: bptui's own trace with dJ/dz replaced by β_afterᵀ · dJ/db (worked here from
/// the record's own numbers).
#[test]
fn an_update_before_backprop_is_named_with_separate_biases() {
    let dir = tempfile::tempdir().unwrap();
    let model = repo("tests/homework/models/separate_bias_f32.yaml");
    let mut records = trace_of(dir.path(), &model, &["--examples", "2"]);
    let first = &mut records[0];
    let beta: Vec<Vec<f64>> = first["params"]["beta"].as_array().unwrap().iter().map(numbers).collect();
    let db = numbers(&first["adjoints"]["b"]);
    let dz: Vec<f64> = (0..beta[0].len()).map(|j| (0..beta.len()).map(|i| beta[i][j] * db[i]).sum()).collect();
    first["adjoints"]["z"] = json!(dz);
    let bad = dir.path().join("update_before.jsonl");
    std::fs::write(&bad, records.iter().map(|r| r.to_string() + "\n").collect::<String>()).unwrap();
    let (code, out) = bptui(&["diff".as_ref(), model.as_os_str(), bad.as_os_str()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("adjoint dJ/dz"), "{out}");
    assert!(out.contains("updated before backpropagating: your dJ/dz = βᵀ · dJ/db uses β after"), "{out}");
}

/// A student who keeps β's bias in its last column and slices β[:, 1:] for dJ/dz (taking the
/// bias, dropping the first weight): named in their arrangement (numbers worked here from the
/// record's own β and dJ/db).
#[test]
fn a_bias_slice_off_by_one_is_named_in_a_bias_last_arrangement() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = own_trace(dir.path());
    let bias_last = |m: &Value| -> Value {
        let mut rows: Vec<Value> = m.as_array().unwrap().clone();
        for row in rows.iter_mut() {
            let mut r = row.as_array().unwrap().clone();
            let bias = r.remove(0);
            r.push(bias);
            *row = Value::Array(r);
        }
        Value::Array(rows)
    };
    for r in records.iter_mut() {
        for section in ["adjoints", "params"] {
            if let Some(b) = r.get_mut(section).and_then(|s| s.get_mut("beta")) {
                *b = bias_last(b);
            }
        }
    }
    // β before the first update, θ₀ = θ₁ + η g₁, in their bias-last columns.
    let first = &mut records[0];
    let (after, grad) = (numbers(&first["params"]["beta"][0]), numbers(&first["adjoints"]["beta"][0]));
    let text = std::fs::read_to_string(repo("models/two_layer.yaml")).unwrap();
    let lr: f64 = text
        .split("learning_rate:")
        .nth(1)
        .unwrap()
        .trim_start()
        .split([',', '}', ' '])
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let before: Vec<f64> = after.iter().zip(&grad).map(|(a, g)| a + lr * g).collect();
    let db = first["adjoints"]["b"]
        .as_array()
        .map(|a| a[0].as_f64().unwrap())
        .unwrap_or_else(|| first["adjoints"]["b"].as_f64().unwrap());
    // Their β[:, 1:] in bias-last columns: w2, w3, w4, bias.
    let wrong: Vec<f64> = before[1..].iter().map(|w| w * db).collect();
    first["adjoints"]["z"] = json!(wrong);
    let (code, out) = diff(&write(dir.path(), "slice.jsonl", &records));
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("first divergence: epoch 1, example 1 (data row 0), adjoint dJ/dz"), "{out}");
    assert!(out.contains("your β keeps its bias in the last column"), "{out}");
    // bptui's rule, written for its own columns, says what it is in theirs.
    assert!(
        out.contains("dJ/dz = β[:,1:]ᵀ · dJ/db") && out.contains("so in your code this is β[:,:-1]ᵀ · dJ/db"),
        "{out}"
    );
}

/// The record of (epoch, example).
fn record_of(records: &mut [Value], epoch: u64, example: u64) -> &mut Value {
    records
        .iter_mut()
        .find(|r| r["epoch"] == json!(epoch) && r["example"] == json!(example))
        .unwrap_or_else(|| panic!("no record of epoch {epoch} example {example}"))
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

/// A hidden layer computed with tanh where the model has σ is named as another activation;
/// with a loosened --tol, a value only near tanh(a) is not said to be tanh(a) (a diagnosis
/// holds their number to the default tolerance, so that a loose --tol names no mistake by
/// coincidence).
#[test]
fn another_activation_is_named_and_a_loose_tol_names_nothing_by_coincidence() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = own_trace(dir.path());
    let first = record_of(&mut records, 1, 1);
    let a = numbers(&first["forward"]["a"]);
    first["forward"]["z"] = json!(a.iter().map(|v| v.tanh()).collect::<Vec<_>>());
    let (code, out) = diff(&write(dir.path(), "tanh.jsonl", &records));
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("first divergence: epoch 1, example 1 (data row 0), forward value z"), "{out}");
    assert!(out.contains("your z is tanh(a), where the model computes z = σ(a)"), "{out}");

    let first = record_of(&mut records, 1, 1);
    first["forward"]["z"] = json!(a.iter().map(|v| v.tanh() + 0.01).collect::<Vec<_>>());
    let path = write(dir.path(), "near.jsonl", &records);
    let (code, out) = bptui(&[
        "diff".as_ref(),
        repo("models/two_layer.yaml").as_os_str(),
        path.as_os_str(),
        "--tol".as_ref(),
        "0.1".as_ref(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("first divergence: epoch 1, example 1 (data row 0), forward value z"), "{out}");
    assert!(!out.contains("tanh"), "a value within 0.1 of tanh(a) is not tanh(a):\n{out}");
}

/// A learning rate that halves in epoch 2 (η/epoch), after a first epoch whose updates were
/// bptui's: named as a rate that changed during the run, not as a wrong learning_rate.
#[test]
fn a_decaying_learning_rate_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = own_trace(dir.path());
    let rows = |v: &Value| -> Vec<Vec<f64>> { v.as_array().unwrap().iter().map(numbers).collect() };
    let before = rows(&record_of(&mut records, 1, 16)["params"]["alpha"]);
    let record = record_of(&mut records, 2, 1);
    let g = rows(&record["adjoints"]["alpha"]);
    // θ − (η/2) g, with the model's η = 1.
    let after: Vec<Vec<f64>> =
        before.iter().zip(&g).map(|(t, g)| t.iter().zip(g).map(|(t, g)| t - 0.5 * g).collect()).collect();
    record["params"]["alpha"] = json!(after);
    let (code, out) = diff(&write(dir.path(), "decay.jsonl", &records));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("first divergence: epoch 2, example 1 (data row 0), parameter alpha after the update"),
        "{out}"
    );
    assert!(out.contains("your learning rate changed during the run"), "{out}");
    assert!(out.contains("this step is 0.5 × bptui's") && out.contains("η/epoch from epoch 2 on?"), "{out}");
    assert!(!out.contains("is learning_rate in the model"), "{out}");
}

/// dJ/dβ whose bias column was left at zero (the bias never trained) is named, and dJ/db's
/// sign flipped is said once (as a sign, not also as a factor of −1).
#[test]
fn a_missing_bias_gradient_and_a_flipped_sign_are_named_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = own_trace(dir.path());
    let first = record_of(&mut records, 1, 1);
    for row in first["adjoints"]["beta"].as_array_mut().unwrap() {
        row[0] = json!(0.0);
    }
    let (code, out) = diff(&write(dir.path(), "bias.jsonl", &records));
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("first divergence: epoch 1, example 1 (data row 0), adjoint dJ/dbeta"), "{out}");
    assert!(
        out.contains("the bias's gradient is missing: the bias column of your dJ/dβ is zero and the rest is bptui's"),
        "{out}"
    );

    let mut records = own_trace(dir.path());
    let first = record_of(&mut records, 1, 1);
    let flipped: Vec<f64> = numbers(&first["adjoints"]["b"]).iter().map(|v| -v).collect();
    first["adjoints"]["b"] = json!(flipped);
    let (code, out) = diff(&write(dir.path(), "sign.jsonl", &records));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("sign flipped: your adjoint dJ/db is the negative of bptui's"), "{out}");
    assert!(!out.contains("a constant factor"), "{out}");
}

/// From a review, three sentences that were not true of the numbers: ŷ − onehot(y*) offered
/// for a loss that is 2 · cross-entropy; "your z is tanh(a)" for a z of zeros when a = 0 (zero
/// initial weights); the loss's logit form ("y = 1 in floating point") for a y that is not 1.
#[test]
fn sentences_hold_only_where_the_numbers_bear_them_out() {
    let dir = tempfile::tempdir().unwrap();
    let model = |name: &str, yaml: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, yaml).unwrap();
        bptui::model::Model::load(&path).unwrap()
    };
    let twice = model(
        "twice.yaml",
        "name: twice\ngraph:\n  inputs: {x: features, t: label}\n  params: {w: {shape: [3, 2], init: {values: [[0.1, 0.2], [0.3, -0.1], [0.0, 0.5]]}}}\n  compute:\n    - v = matmul(w, x)\n    - J = 2 * cross_entropy(softmax(v), t)\n  output: J\ndata:\n  train: {rows: [[1, 1.0, 2.0]]}\n",
    );
    let v = twice.graph().find("v").unwrap();
    assert_eq!(twice.graph().softmax_cross_entropy(v), None, "J is twice the cross-entropy");
    let hw = bptui::model::Model::load(&repo("models/hw_network.yaml")).unwrap();
    assert!(hw.graph().softmax_cross_entropy(hw.graph().find("b").unwrap()).is_some());

    // Zero initial weights: a = 0, so tanh(a) = 0 says nothing about a z of zeros.
    let text = std::fs::read_to_string(repo("models/two_layer.yaml"))
        .unwrap()
        .replace("init: {uniform: [-0.1, 0.1]}", "init: zeros");
    let zero = dir.path().join("zero.yaml");
    std::fs::write(&zero, text.replace("data/", &format!("{}/models/data/", env!("CARGO_MANIFEST_DIR")))).unwrap();
    let mut records = trace_of(dir.path(), &zero, &[]);
    record_of(&mut records, 1, 1)["forward"]["z"] = json!([0.0, 0.0, 0.0, 0.0]);
    let trace = write(dir.path(), "zeros.jsonl", &records);
    let (code, out) = bptui(&["diff".as_ref(), zero.as_os_str(), trace.as_os_str()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("forward value z") && !out.contains("tanh") && !out.contains("equals bptui's"), "{out}");

    // y = σ(20) = 0.999999998: the lecture's formula with its numbers, not the logit form.
    let sat = model(
        "sat.yaml",
        "name: sat\nnetwork:\n  inputs: 1\n  layers:\n    - {op: linear, name: b, weights: beta, units: 1, init: {values: [[0.0, 20.0]]}}\n    - {op: sigmoid, name: y}\n  loss: {op: binary_cross_entropy, name: J}\ndata:\n  train: {rows: [[1, 1.0]]}\n",
    );
    let mut s = bptui::session::Session::new(sat, bptui::engine::Backward::B);
    let j = s.graph().find("J").unwrap();
    while !s.value_ready(j) {
        s.step();
    }
    let story =
        bptui::engine::rules::forward_story(s.graph(), s.workspace(), j, 0, bptui::numfmt::Digits::Short).unwrap();
    assert!(story.contains("−[1 log 1 + 0 log 2.0612e-9]") && !story.contains("floating point"), "{story}");
}

/// From a third student trial: features scaled by 1/255, η left out of one parameter's update
/// (the other's agreeing), and a loss in log base 2, each named for what it is.
#[test]
fn scaling_a_missing_learning_rate_and_log2_are_named() {
    let dir = tempfile::tempdir().unwrap();
    // A learning rate other than 1, so that a step without η is another step.
    let text = std::fs::read_to_string(repo("models/two_layer.yaml"))
        .unwrap()
        .replace("learning_rate: 1.0, epochs: 12", "learning_rate: 0.1, epochs: 3")
        .replace("csv: data/", &format!("csv: {}/", repo("models/data").display()));
    assert!(text.contains("learning_rate: 0.1"), "the model's learning rate was replaced");
    let model = dir.path().join("eta.yaml");
    std::fs::write(&model, &text).unwrap();
    let records = trace_of(dir.path(), &model, &[]);
    let edit = |name: &str, change: &dyn Fn(&mut Value)| -> String {
        let mut records = records.clone();
        change(record_of(&mut records, 1, 1));
        let trace = write(dir.path(), name, &records);
        let (code, out) = bptui(&["diff".as_ref(), model.as_os_str(), trace.as_os_str()]);
        assert_eq!(code, 1, "{out}");
        out
    };
    let out = edit("scaled.jsonl", &|r| {
        let x: Vec<f64> = numbers(&r["forward"]["x"]).iter().map(|v| v / 255.0).collect();
        r["forward"]["x"] = json!(x);
    });
    assert!(out.contains("forward value x") && out.contains("your x is the data's × 3.9216e-3 (÷ 255)"), "{out}");
    assert!(!out.contains("not a row"), "{out}");

    // β − g where bptui steps β − η·g (η = 0.1): their β after = ours + (η − 1)·g.
    let out = edit("no_eta.jsonl", &|r| {
        let g: Vec<Vec<f64>> = r["adjoints"]["beta"].as_array().unwrap().iter().map(numbers).collect();
        let after: Vec<Vec<f64>> = r["params"]["beta"].as_array().unwrap().iter().map(numbers).collect();
        let theirs: Vec<Vec<f64>> =
            after.iter().zip(&g).map(|(a, g)| a.iter().zip(g).map(|(a, g)| a + (0.1 - 1.0) * g).collect()).collect();
        r["params"]["beta"] = json!(theirs);
    });
    assert!(out.contains("parameter beta after the update"), "{out}");
    assert!(out.contains("while your update of alpha agreed") && out.contains("is η missing from its update"), "{out}");
    assert!(!out.contains("is learning_rate in the model"), "{out}");

    let out = edit("log2.jsonl", &|r| {
        let j = r["forward"]["J"].as_f64().unwrap();
        r["forward"]["J"] = json!(j / std::f64::consts::LN_2);
    });
    assert!(out.contains("forward value J") && out.contains("a logarithm to base 2 (np.log2)"), "{out}");
}

/// A gradient that carries its bias entry's adjoint (dJ/d[1; z], as `W2.T @ g_b` gives it) agrees,
/// that entry included; with a wrong number there it differs, and the message never suggests
/// another layer size, since z itself agreed in bptui's size.
#[test]
fn a_gradient_carrying_its_bias_entry_agrees_and_its_entry_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = own_trace(dir.path());
    // β before each example's update: the model's init for the first, then the record before.
    let beta = bptui::model::Model::load(&repo("models/two_layer.yaml")).unwrap();
    let id = beta.graph().find("beta").unwrap();
    let mut before: Vec<f64> = beta.initial().iter().find(|(p, _)| *p == id).unwrap().1.iter().copied().collect();
    for r in records.iter_mut().filter(|r| r.get("adjoints").is_some()) {
        let g_b = r["adjoints"]["b"][0].as_f64().unwrap();
        let mut g_z: Vec<Value> = r["adjoints"]["z"].as_array().unwrap().clone();
        g_z.insert(0, json!(before[0] * g_b));
        r["adjoints"]["z"] = Value::from(g_z);
        before = r["params"]["beta"][0].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    }
    let (code, out) = diff(&write(dir.path(), "carried.jsonl", &records));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("stored with the bias entry's own adjoint first"), "{out}");

    records[0]["adjoints"]["z"][0] = json!(records[0]["adjoints"]["z"][0].as_f64().unwrap() + 0.5);
    let (code, out) = diff(&write(dir.path(), "wrong.jsonl", &records));
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("first divergence: epoch 1, example 1 (data row 0), adjoint dJ/dz"), "{out}");
    assert!(!out.contains("HIDDEN_UNITS") && !out.contains("units:"), "{out}");
}

/// σ′ taken of σ(z) (the sigmoid applied to its own output again), and a test mean divided by
/// the training set's size, are named: their numbers are made here from the record's own values.
#[test]
fn sigmoid_applied_twice_and_a_mean_over_the_wrong_count_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = own_trace(dir.path());
    let r = &mut records[0];
    let z: Vec<f64> = r["forward"]["z"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let g: Vec<f64> = r["adjoints"]["z"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let twice: Vec<f64> = z
        .iter()
        .zip(&g)
        .map(|(z, g)| {
            let s = 1.0 / (1.0 + (-z).exp());
            g * s * (1.0 - s)
        })
        .collect();
    r["adjoints"]["a"] = json!(twice);
    let (code, out) = diff(&write(dir.path(), "twice.jsonl", &records));
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("first divergence: epoch 1, example 1 (data row 0), adjoint dJ/da"), "{out}");
    assert!(out.contains("σ applied twice"), "{out}");

    let mut records = own_trace(dir.path());
    let lines = |f: &str| std::fs::read_to_string(repo(f)).unwrap().lines().filter(|l| !l.trim().is_empty()).count();
    let (train, test) =
        (lines("models/data/two_layer_train.csv") as f64, lines("models/data/two_layer_test.csv") as f64);
    let epoch = records.iter_mut().find(|r| r.get("metrics").is_some()).unwrap();
    let mean = epoch["metrics"]["test_loss"].as_f64().unwrap();
    epoch["metrics"]["test_loss"] = json!(mean * test / train);
    let (code, out) = diff(&write(dir.path(), "count.jsonl", &records));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("divided by {train}, the size of the training set")), "{out}");
}

/// An update stepped uphill, whose gradient agreed, is named as such and never blamed on the
/// initial weights (recovering them as θ₁ + η·g₁ assumes the very update that differs).
#[test]
fn a_wrong_update_with_a_right_gradient_is_not_called_a_wrong_init() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = own_trace(dir.path());
    let model = bptui::model::Model::load(&repo("models/two_layer.yaml")).unwrap();
    let id = model.graph().find("beta").unwrap();
    let before: Vec<f64> = model.initial().iter().find(|(p, _)| *p == id).unwrap().1.iter().copied().collect();
    let r = &mut records[0];
    // θ + η·g where θ − η·g was meant: 2θ₀ − θ₁, entry by entry.
    let after: Vec<f64> = r["params"]["beta"][0].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let uphill: Vec<f64> = before.iter().zip(&after).map(|(b, a)| 2.0 * b - a).collect();
    r["params"]["beta"] = json!([uphill]);
    // Without b, no forward value that reads β shows their init was right.
    r["forward"].as_object_mut().unwrap().remove("b");
    let (code, out) = diff(&write(dir.path(), "uphill.jsonl", &records));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("first divergence: epoch 1, example 1 (data row 0), parameter beta after the update"),
        "{out}"
    );
    assert!(out.contains("sign flipped"), "{out}");
    assert!(!out.contains("initial weights are not the model's"), "{out}");
}
