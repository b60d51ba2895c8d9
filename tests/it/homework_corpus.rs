//! Homework code written the ways students write it (tests/homework/: column vectors,
//! np.matrix, transposed weights, F24-style classes, separate float32 biases, Adagrad, unseeded
//! init recorded with trace.init) against `bptui diff`: each correct one agrees as written, each
//! bug is found at the place tests/homework/corpus.json names (verified there by comparing the
//! buggy run with the correct one) and named; wrong run settings are named as such; a tampered or
//! longer trace never agrees. Needs numpy: `scripts/test` finds or installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub(crate) fn repo(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(p)
}

pub(crate) fn corpus() -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo("tests/homework/corpus.json")).unwrap()).unwrap()
}

/// The manifest's entries for one script.
fn entries(script: &str) -> Vec<Value> {
    corpus()["implementations"].as_array().unwrap().iter().filter(|e| e["script"] == script).cloned().collect()
}

pub(crate) fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

/// Runs a homework script with the entry's arguments (and `bug`); returns its trace.
fn homework(dir: &Path, entry: &Value, bug: Option<&str>, tag: &str) -> PathBuf {
    let trace = dir.join(format!("{tag}.jsonl"));
    let out = |s: &str| dir.join(format!("{tag}.{s}"));
    let mut cmd = Command::new(crate::homework_numpy::python());
    cmd.arg(repo(&format!("tests/homework/{}", entry["script"].as_str().unwrap())))
        .arg(repo("models/data/ocr_letters_train.csv"))
        .arg(repo("models/data/ocr_letters_test.csv"))
        .args([out("train.labels"), out("test.labels"), out("metrics")])
        .args(strings(&entry["args"]))
        .args(strings(&entry["extra_args"]))
        .arg("--trace")
        .arg(&trace);
    if let Some(bug) = bug {
        cmd.args(["--bug", bug]);
    }
    let status = cmd.status().unwrap();
    assert!(status.success(), "{tag} failed");
    trace
}

fn diff(model: &Path, trace: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bptui"))
        .arg("diff")
        .arg(model)
        .arg(trace)
        .arg("--train")
        .arg(repo("models/data/ocr_letters_train.csv"))
        .arg("--test")
        .arg(repo("models/data/ocr_letters_test.csv"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// What `diff` must say about each bug of the corpus: the mistake by name.
pub(crate) fn diagnosis_of(bug: &str) -> &'static str {
    match bug {
        "bias_slice_off_by_one" => "the bias slice is off by one",
        "missing_sigmoid_derivative" => "σ'(·) = z(1 − z) was left out",
        "sigmoid_derivative_z_only" => "half of σ′: your dJ/da = dJ/dz ⊙ z, but σ′(a) = z(1 − z)",
        "no_hidden_bias" => "the bias is missing",
        "update_before_backprop" => "updated before backpropagating",
        "gradient_ascent" => "gradient ascent",
        "loss_mean_over_classes" => "÷ 10, the number of classes",
        "softmax_elementwise" => "Jacobian was taken element-wise",
        "onehot_off_by_one" => "the one-hot marks the wrong class (off by",
        "loss_label_off_by_one" => "the loss picked the wrong class",
        "no_bias_x" => "no 1 was prepended to x, so your first layer has no bias",
        "no_bias_z" => "no 1 was prepended to z, so your second layer has no bias",
        "carried_slice_shifted" => "a slice shifted by one",
        "validation_on_train" => "the validation loss is computed on the wrong data set",
        "running_mean_divided" => "a running mean divided at every step",
        "metric_sum" => "not their mean",
        "metric_last_example" => "a variable left over from the",
        "metric_start_params" => "with the parameters of the start of epoch 1",
        "metric_training_losses" => "the mean of the J's computed during the epoch's training",
        "forward_once" | "forward_epoch_start" | "forward_previous_example" => "stale parameters in the forward pass",
        "adagrad_eps_outside" => "ε outside the square root",
        "adagrad_s_after_step" => "s updated after the step",
        "adagrad_s_reset_example" => "s reset every example",
        "adagrad_s_reset_epoch" => "s reset at the start of every epoch",
        "adagrad_lr_in_root" => "the learning rate inside the square root",
        other => panic!("no expected diagnosis for the corpus bug {other}"),
    }
}

/// "forward value a", "adjoint dJ/da", "parameter alpha after the update".
pub(crate) fn place(section: &str, node: &str) -> String {
    match section {
        "forward" => format!("forward value {node}"),
        "adjoints" => format!("adjoint dJ/d{node}"),
        "params" => format!("parameter {node} after the update"),
        s => panic!("unknown section {s}"),
    }
}

fn assert_found(out: &str, entry: &Value, what: &str) {
    let first = out.lines().next().unwrap_or("");
    if entry["section"] == "metrics" {
        let at =
            format!("first divergence: epoch {}, epoch metric {}", entry["epoch"], entry["node"].as_str().unwrap());
        assert!(first.starts_with(&at), "{what}: expected {at}, got:\n{out}");
        return;
    }
    let at = format!("epoch {}, example {}", entry["epoch"], entry["example"]);
    let place = place(entry["section"].as_str().unwrap(), entry["node"].as_str().unwrap());
    assert!(first.starts_with("first divergence: ") && first.contains(&at), "{what}: expected {at}, got:\n{out}");
    assert!(first.contains(&format!(", {place}")), "{what}: expected {place}, got:\n{out}");
}

/// Every correct script agrees, every bug is found and named, every mismatch named.
fn check_script(script: &str) {
    let dir = tempfile::tempdir().unwrap();
    let all = entries(script);
    let correct = all.iter().find(|e| e.get("mismatch").is_none()).expect("a correct entry");
    let model = repo(&format!("tests/homework/{}", correct["model"].as_str().unwrap()));
    let trace = homework(dir.path(), correct, None, "ok");
    let (code, out) = diff(&model, &trace);
    assert_eq!(code, 0, "{script} as written must agree:\n{out}");
    let records = std::fs::read_to_string(&trace).unwrap().lines().count();
    assert!(out.contains(&format!("{records} of its {records} records compared")), "{script}:\n{out}");
    if correct["float32"] == true {
        assert!(out.contains("your numbers are float32"), "{script}:\n{out}");
    }
    if correct["records_init"] == true {
        assert!(out.contains("started from your initial"), "{script}:\n{out}");
    }
    for bug in correct["bugs"].as_array().unwrap() {
        let name = bug["bug"].as_str().unwrap();
        let trace = homework(dir.path(), correct, Some(name), name);
        let (code, out) = diff(&model, &trace);
        assert_eq!(code, 1, "{script} --bug {name}:\n{out}");
        assert_found(&out, bug, &format!("{script} --bug {name}"));
        assert!(
            out.contains(diagnosis_of(name)),
            "{script} --bug {name}: expected {:?} in:\n{out}",
            diagnosis_of(name)
        );
    }
    correct_in_other_settings(dir.path(), correct, &model);
    for m in all.iter().filter(|e| e.get("mismatch").is_some()) {
        let kind = m["mismatch"].as_str().unwrap();
        let trace = homework(dir.path(), m, None, kind);
        let (code, out) = diff(&model, &trace);
        assert_eq!(code, 1, "{script} {kind}:\n{out}");
        assert_found(&out, m, &format!("{script} {kind}"));
        let said = match kind {
            "learning_rate" => "is learning_rate in the model 0.05 (it says 0.1)?",
            "units" => "your layer a has 5 units where the model has units: 4",
            "init" => "your initial weights are not the model's",
            other => panic!("unknown mismatch {other}"),
        };
        assert!(out.contains(said), "{script} {kind}: expected {said:?} in:\n{out}");
    }
}

/// The model of `model` with another HIDDEN_UNITS (the first linear layer's units) and, for
/// INIT_FLAG 2, every linear layer's init zeros; written in `dir` (its data is given on the
/// command line).
fn variant(dir: &Path, model: &Path, units: u64, zeros: bool, tag: &str) -> PathBuf {
    let mut spec: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(model).unwrap()).unwrap();
    let layers = spec["network"]["layers"].as_sequence_mut().unwrap();
    let mut first = true;
    for layer in layers.iter_mut().filter(|l| l["op"] == "linear") {
        if first {
            layer["units"] = serde_yaml::Value::from(units);
            first = false;
        }
        if zeros {
            layer["init"] = serde_yaml::Value::from("zeros");
        }
    }
    let path = dir.join(format!("{tag}.yaml"));
    std::fs::write(&path, serde_yaml::to_string(&spec).unwrap()).unwrap();
    path
}

/// A correct script agrees with 7 hidden units and with INIT_FLAG 2 (all weights zero, where
/// every layout fits the first numbers), each against the model set the same way.
fn correct_in_other_settings(dir: &Path, correct: &Value, model: &Path) {
    let script = correct["script"].as_str().unwrap();
    for (units, flag) in [(7u64, "1"), (4, "2"), (7, "2")] {
        let tag = format!("ok-h{units}-i{flag}");
        let mut entry = correct.clone();
        entry["args"][1] = Value::from(units.to_string());
        entry["args"][2] = Value::from(flag);
        let trace = homework(dir, &entry, None, &tag);
        let (code, out) = diff(&variant(dir, model, units, flag == "2", &tag), &trace);
        assert_eq!(code, 0, "{script} {} must agree:\n{out}", strings(&entry["args"]).join(" "));
    }
}

#[test]
fn column_vectors() {
    check_script("column_vectors.py");
}

#[test]
fn np_matrix_rows_and_transposed_weights() {
    check_script("np_matrix.py");
}

#[test]
fn f24_classes() {
    check_script("f24_classes.py");
}

#[test]
fn bias_column_drawn() {
    check_script("bias_drawn.py");
}

#[test]
fn separate_biases_in_float32() {
    check_script("separate_bias_f32.py");
}

#[test]
fn adagrad() {
    check_script("adagrad.py");
}

#[test]
fn unseeded_init_recorded_with_trace_init() {
    check_script("unseeded.py");
}

/// A trace with more epochs than the model runs them all; a changed number in the last epoch,
/// or a record that has no place in the run, never agrees.
#[test]
fn longer_or_tampered_traces_never_agree() {
    let dir = tempfile::tempdir().unwrap();
    let mut entry = entries("f24_classes.py").into_iter().find(|e| e.get("mismatch").is_none()).unwrap();
    entry["args"][0] = Value::from("3");
    let model = repo("tests/homework/models/f24_classes.yaml");
    let trace = homework(dir.path(), &entry, None, "three");
    let (code, out) = diff(&model, &trace);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("your trace has 3 epochs, the model 2: bptui ran 3"), "{out}");
    assert!(out.contains("903 of its 903 records compared"), "{out}");

    // One number of epoch 3, example 150, changed in the 4th significant digit.
    let text = std::fs::read_to_string(&trace).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let at = lines.iter().position(|l| l.starts_with("{\"epoch\": 3, \"example\": 150,")).unwrap();
    let mut record: Value = serde_json::from_str(&lines[at]).unwrap();
    let j = record["forward"]["J"].as_f64().unwrap();
    record["forward"]["J"] = Value::from(j * 1.001);
    lines[at] = record.to_string();
    let tampered = dir.path().join("tampered.jsonl");
    std::fs::write(&tampered, lines.join("\n") + "\n").unwrap();
    let (code, out) = diff(&model, &tampered);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("first divergence: epoch 3, example 150"), "{out}");

    // An example counter that does not restart: example 301 of a 300-example epoch.
    lines[at] = text.lines().nth(at).unwrap().replacen("\"example\": 150", "\"example\": 301", 1);
    std::fs::write(&tampered, lines.join("\n") + "\n").unwrap();
    let (code, out) = diff(&model, &tampered);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(&format!("record {}: example 301 of epoch 3, but an epoch has 300 examples", at + 1)),
        "{out}"
    );
}

/// A trace without rows: its x finds the data row, so another order is named with the shuffle
/// setting that gives it, and an x that is no row of the training data is named as such.
#[test]
fn rows_are_found_by_their_x() {
    let dir = tempfile::tempdir().unwrap();
    let entry = entries("f24_classes.py").into_iter().find(|e| e.get("mismatch").is_none()).unwrap();
    assert_eq!(entry["records_row"], false, "f24_classes.py records no rows");
    let trace = homework(dir.path(), &entry, None, "ok");
    let text = std::fs::read_to_string(repo("tests/homework/models/f24_classes.yaml"))
        .unwrap()
        .replace("shuffle: numpy_epoch", "shuffle: none")
        .replace("../../../models/data/", &format!("{}/", repo("models/data").display()));
    let file_order = dir.path().join("file_order.yaml");
    std::fs::write(&file_order, text).unwrap();
    let (code, out) = diff(&file_order, &trace);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("first divergence: epoch 1, example 1 (data row 0), forward value x"), "{out}");
    assert!(out.contains("is data row 208 (found by its x)"), "{out}");
    assert!(out.contains("Your order matches shuffle: numpy_epoch"), "{out}");

    // The same run compared with other training data (one pixel of every row flipped).
    let rows = std::fs::read_to_string(repo("models/data/ocr_letters_train.csv")).unwrap();
    let flipped: String = rows
        .lines()
        .map(|r| {
            let mut v: Vec<&str> = r.split(',').collect();
            v[5] = if v[5] == "0" { "1" } else { "0" };
            v.join(",") + "\n"
        })
        .collect();
    let other = dir.path().join("other.csv");
    std::fs::write(&other, flipped).unwrap();
    let model = repo("tests/homework/models/f24_classes.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_bptui"))
        .arg("diff")
        .arg(&model)
        .arg(&trace)
        .arg("--train")
        .arg(&other)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("your x is not a row of") && text.contains("did you pass your training file with --train?"),
        "{text}"
    );
}

#[test]
fn column_major_data_matrix() {
    check_script("column_major.py");
}

#[test]
fn layers_whose_backward_carries_the_bias_entry() {
    check_script("carried_layers.py");
}

#[test]
fn python_lists() {
    check_script("pure_lists.py");
}

#[test]
fn script_level_code_without_functions() {
    check_script("script_level.py");
}

#[test]
fn handout_class_template() {
    check_script("handout_template.py");
}

#[test]
fn bias_last_everywhere_with_adagrad() {
    check_script("bias_last_adagrad.py");
}

#[test]
fn asmatrix_gradients_with_adagrad() {
    check_script("asmatrix_grads.py");
}

#[test]
fn weights_in_a_dict_transposed_and_unseeded() {
    check_script("dict_params.py");
}

/// The README's walkthrough works as written: every name its recording snippet records is a node
/// of models/hw_network.yaml or mapped to one by an `--alias` of its `diff` command (and of its
/// `--against` command).
#[test]
fn the_readme_walkthrough_maps_every_name_it_records() {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let start = readme.find("from bptui_trace import Trace").expect("the snippet");
    let end = start + readme[start..].find("trace.close()").expect("its end");
    let snippet = &readme[start..end];
    let mut recorded = Vec::new();
    for call in ["trace.init(", "trace.forward(", "trace.adjoints(", "trace.params("] {
        for (at, _) in snippet.match_indices(call) {
            let args = &snippet[at + call.len()..];
            let args = &args[..args.find(')').unwrap()];
            recorded.extend(args.split(',').filter_map(|a| a.split_once('=')).map(|(k, _)| k.trim().to_string()));
        }
    }
    assert!(recorded.len() >= 10, "{recorded:?}");
    let model = bptui::model::Model::load(&repo("models/hw_network.yaml")).unwrap();
    for command in ["bptui diff models/hw_network.yaml mine.jsonl", "bptui models/hw_network.yaml --against mine.jsonl"]
    {
        let at = readme.find(command).unwrap_or_else(|| panic!("no `{command}` in the README"));
        let line: String = readme[at..].lines().take(2).collect::<Vec<_>>().join(" ");
        let line = &line[..line.find("```").or_else(|| line.find('`')).unwrap_or(line.len())];
        let aliases: Vec<(String, String)> = line
            .split("--alias ")
            .skip(1)
            .filter_map(|a| a.split_whitespace().next()?.split_once('='))
            .map(|(t, o)| (t.to_string(), o.to_string()))
            .collect();
        for (_, ours) in &aliases {
            assert!(model.graph().find(ours).is_some(), "`{command}`: --alias to `{ours}`, no node of the model");
        }
        for name in &recorded {
            let mapped = aliases.iter().find(|(t, _)| t == name).map(|(_, o)| o.as_str()).unwrap_or(name);
            assert!(
                model.graph().find(mapped).is_some(),
                "the README records `{name}`, which `{command}` maps to no node (aliases {aliases:?})"
            );
        }
    }
}
