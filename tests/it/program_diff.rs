//! `bptui diff -- python3 SCRIPT ARGS...`: every homework script of tests/homework run as it
//! is (no `--trace`, so no record call of bptui_trace runs) under the recorder bptui carries,
//! with no model file and no alias: each correct one agrees, each bug is found where
//! corpus.json says (`program_at` where the unmodified program binds other values than the
//! traced one), named, and pointed at the line of the script that bound the first wrong value.
//! The output says which tracer ran (sys.settrace, or sys.monitoring on Python ≥ 3.12, where
//! the settrace path runs too).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::homework_corpus::{corpus, diagnosis_of, place, repo, strings};

fn python_minor() -> u32 {
    let out = Command::new(crate::homework_numpy::python())
        .args(["-c", "import sys; print(sys.version_info[1])"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// Runs the script under `bptui diff --` in `dir` (its working directory); exit status and
/// standard output.
fn diff_program(dir: &Path, entry: &Value, bug: Option<&str>, tracer: Option<&str>, python: &str) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bptui"));
    cmd.current_dir(dir)
        .arg("diff")
        .arg("--")
        .arg(python)
        .arg(repo(&format!("tests/homework/{}", entry["script"].as_str().unwrap())))
        .arg(repo("models/data/ocr_letters_train.csv"))
        .arg(repo("models/data/ocr_letters_test.csv"))
        .args(["train_out.labels", "validation_out.labels", "metrics_out.txt"])
        .args(strings(&entry["args"]));
    if let Some(bug) = bug {
        cmd.args(["--bug", bug]);
    }
    if let Some(t) = tracer {
        cmd.env("BPTUI_RECORD_TRACER", t);
    }
    let out = cmd.output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).to_string())
}

/// Every corpus script (correct, then each bug, or only its first with `first_bug_only`)
/// under `python`; the tracers that ran.
fn check_with(tracer: Option<&str>, python: &str, first_bug_only: bool) -> std::collections::BTreeSet<String> {
    let corpus = corpus();
    let mut tracers = std::collections::BTreeSet::new();
    let mut runs = 0;
    for entry in corpus["implementations"].as_array().unwrap() {
        if strings(&entry["args"]) != ["2", "4", "1", "0.1"] || entry.get("extra_args").is_some() {
            continue;
        }
        let script = entry["script"].as_str().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (code, out) = diff_program(dir.path(), entry, None, tracer, python);
        runs += 1;
        if let Some(line) = out.lines().find(|l| l.starts_with("recorded your program with ")) {
            tracers.insert(line.split_whitespace().nth(4).unwrap_or("").to_string());
        }
        assert_eq!(code, 0, "{script} (correct) under diff --:\n{out}");
        assert!(out.contains("\nagree: "), "{script}:\n{out}");
        assert!(out.contains(&format!("{} agrees: all 300 labels", "train_out.labels")), "{script}:\n{out}");
        let bugs = entry["bugs"].as_array().unwrap();
        for bug in &bugs[..if first_bug_only { 1 } else { bugs.len() }] {
            let name = bug["bug"].as_str().unwrap();
            let (code, out) = diff_program(dir.path(), entry, Some(name), tracer, python);
            runs += 1;
            let what = format!("{script} --bug {name} under diff --");
            assert_eq!(code, 1, "{what}:\n{out}");
            let at = bug.get("program_at").unwrap_or(bug);
            let first =
                out.lines().find(|l| l.starts_with("first divergence")).unwrap_or_else(|| panic!("{what}:\n{out}"));
            if at["section"] == "metrics" {
                let want =
                    format!("first divergence: epoch {}, epoch metric {}", at["epoch"], at["node"].as_str().unwrap());
                assert!(first.starts_with(&want), "{what}: expected {want}:\n{out}");
            } else {
                let want = format!("epoch {}, example {}", at["epoch"], at["example"]);
                let p = place(at["section"].as_str().unwrap(), at["node"].as_str().unwrap());
                assert!(
                    first.contains(&want) && first.contains(&format!(", {p}")),
                    "{what}: expected {want}, {p}:\n{out}"
                );
                // The line of their script that bound it.
                let line = out.lines().find(|l| l.starts_with("  at ") && l.contains(&format!("{script}:")));
                let line = line.unwrap_or_else(|| panic!("{what}: no source line:\n{out}"));
                let after = line.split(&format!("{script}:")).nth(1).unwrap();
                let number: usize = after.split(':').next().unwrap().parse().unwrap();
                let source = std::fs::read_to_string(repo(&format!("tests/homework/{script}"))).unwrap();
                let text = source.lines().nth(number - 1).unwrap().trim();
                assert!(line.ends_with(text), "{what}: {line} is not line {number} ({text})");
            }
            let diagnosis = bug["program_diagnosis"].as_str().unwrap_or_else(|| diagnosis_of(name));
            assert!(out.contains(diagnosis), "{what}: expected the diagnosis \"{diagnosis}\":\n{out}");
        }
    }
    eprintln!("diff -- ran {runs} programs under {python} with {tracers:?}");
    assert!(runs > if first_bug_only { 25 } else { 60 }, "{runs}");
    tracers
}

fn check(tracer: Option<&str>) {
    check_with(tracer, &crate::homework_numpy::python().to_string_lossy(), false);
}

/// The other Pythons scripts/test found on the machine (BPTUI_OTHER_PYTHONS, `:`-separated, each
/// with numpy): the recorder runs on each, and on 3.12 and later with sys.monitoring.
#[test]
fn on_the_other_pythons_of_the_machine() {
    let list = std::env::var("BPTUI_OTHER_PYTHONS").unwrap_or_default();
    let pythons: Vec<&str> = list.split(':').filter(|p| !p.is_empty()).collect();
    if pythons.is_empty() {
        eprintln!("no other Python with numpy on this machine (scripts/test looks for 3.8 to 3.13): none run here");
    }
    for python in pythons {
        let out = Command::new(python).args(["-c", "import sys; print(sys.version_info[1])"]).output().unwrap();
        let minor: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        let tracers = check_with(None, python, true);
        let want = if minor >= 12 { "sys.monitoring" } else { "sys.settrace" };
        assert_eq!(tracers.into_iter().collect::<Vec<_>>(), [want], "Python 3.{minor} ({python})");
        eprintln!("Python 3.{minor}: the recorder ran with {want}");
    }
}

#[test]
fn every_homework_script_as_it_is() {
    check(None);
}

#[test]
fn the_settrace_path_where_monitoring_is_the_default() {
    if python_minor() < 12 {
        eprintln!("Python 3.{} has no sys.monitoring: the settrace path is the default one, run above", python_minor());
        return;
    }
    check(Some("settrace"));
}

#[test]
fn a_program_that_binds_nothing_recognisable() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("nothing.py"), "import sys\nprint('hello', sys.argv[1:])\nn = 3\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bptui"))
        .current_dir(dir.path())
        .arg("diff")
        .arg("--")
        .arg(crate::homework_numpy::python())
        .arg("nothing.py")
        .arg(repo("models/data/ocr_letters_train.csv"))
        .arg(repo("models/data/ocr_letters_test.csv"))
        .args(["a", "b", "c", "1", "4", "1", "0.1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("nothing recognisable") && err.contains("expected an example's x"), "{err}");
}

#[test]
fn a_crash_is_reported_with_its_traceback() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(repo("tests/homework/handout_template.py")).unwrap();
    // The program dies in the middle of its first epoch.
    let src = src.replace("        self.w1 = self.w1 - self.lr * self.d_w1", "        self.w1 = self.w1 - self.lr * self.d_w1\n        if np.abs(self.w1).sum() > 0 and len(self.cache) > 0 and self.w1[0, 1] > 1e9 or getattr(self, 'n', 0) > 40: raise ValueError('boom')\n        self.n = getattr(self, 'n', 0) + 1");
    let src = src.replace("from bptui_trace import Trace", "Trace = None");
    std::fs::write(dir.path().join("crash.py"), src).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bptui"))
        .current_dir(dir.path())
        .arg("diff")
        .arg("--")
        .arg(crate::homework_numpy::python())
        .arg("crash.py")
        .arg(repo("models/data/ocr_letters_train.csv"))
        .arg(repo("models/data/ocr_letters_test.csv"))
        .args(["a", "b", "c", "2", "4", "1", "0.1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("ValueError: boom") && text.contains("ended with status 1"), "{text}");
    assert!(text.contains("the last values bptui captured"), "{text}");
}

/// Ctrl-C while their program runs (SIGINT to the terminal's whole process group, as the
/// terminal sends it), and SIGINT to bptui alone: bptui ends as SIGINT ends a process and
/// their program is not left running.
#[test]
fn ctrl_c_stops_bptui_and_their_program() {
    use std::os::unix::process::CommandExt;
    for whole_group in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let script = "import os, sys, time\nimport numpy as np\nwith open('pid.txt', 'w') as f:\n    f.write(str(os.getpid()))\nwhile True:\n    w = np.zeros(3)\n    time.sleep(0.01)\n";
        std::fs::write(dir.path().join("forever.py"), script).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_bptui"))
            .current_dir(dir.path())
            .arg("diff")
            .arg("--")
            .arg(crate::homework_numpy::python())
            .arg("forever.py")
            .arg(repo("models/data/ocr_letters_train.csv"))
            .arg(repo("models/data/ocr_letters_test.csv"))
            .args(["a", "b", "c", "1", "4", "1", "0.1"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let pid_file = dir.path().join("pid.txt");
        let started = std::time::Instant::now();
        while std::fs::read_to_string(&pid_file).map_or(true, |s| s.is_empty()) {
            assert!(started.elapsed().as_secs() < 60, "their program never started");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let theirs: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        let bptui = child.id() as i32;
        // SAFETY: kill(2) with our own child's pid or process group.
        unsafe { libc::kill(if whole_group { -bptui } else { bptui }, libc::SIGINT) };
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(started.elapsed().as_secs() < 60, "bptui did not end after SIGINT");
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        // Ended as SIGINT ends a process (what a shell expects of Ctrl-C), or with 130.
        use std::os::unix::process::ExitStatusExt;
        assert!(
            status.signal() == Some(libc::SIGINT) || status.code() == Some(130),
            "{status:?} (whole group: {whole_group})"
        );
        // Their program is gone (reaped by bptui: not even a zombie of it is left).
        let mut gone = false;
        for _ in 0..100 {
            // SAFETY: signal 0 only asks whether the process exists.
            if unsafe { libc::kill(theirs, 0) } != 0 {
                gone = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(gone, "their program (pid {theirs}) still runs after SIGINT (whole group: {whole_group})");
    }
}

/// A homework of layer objects (a list of Linear and Sigmoid objects with forward, backward and
/// step), the bias in the last column of each W, data read into lists, shuffled per epoch: run
/// as it is, the correct program agrees (no false alarm), and the handout's bias slice copied
/// into it (`W[:, 1:]` where its bias is last) is named at the line that bound the wrong dJ/dz.
#[test]
fn layer_objects_with_the_bias_last() {
    let run = |bug: Option<&str>| {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bptui"));
        cmd.current_dir(dir.path())
            .args(["diff", "--"])
            .arg(crate::homework_numpy::python())
            .arg(repo("tests/homework/layer_objects.py"))
            .arg(repo("models/data/ocr_letters_train.csv"))
            .arg(repo("models/data/ocr_letters_test.csv"))
            .args(["tl", "vl", "m.txt", "2", "4", "1", "0.1"]);
        if let Some(b) = bug {
            cmd.args(["--bug", b]);
        }
        let out = cmd.output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string())
    };
    let (code, out) = run(None);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("agree: all") && out.contains("your tl agrees") && out.contains("your vl agrees"), "{out}");
    assert!(out.contains("np.random.permutation(N) each epoch"), "the shuffle is learned: {out}");
    let (code, out) = run(Some("bias_first"));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("first divergence: epoch 1, example 1"), "{out}");
    assert!(out.contains("adjoint dJ/dz"), "{out}");
    assert!(out.contains("the bias slice is off by one: your β keeps its bias in the last column"), "{out}");
    let source = std::fs::read_to_string(repo("tests/homework/layer_objects.py")).unwrap();
    let line = source.lines().position(|l| l.trim() == "g = layer.backward(g)").expect("the backward loop") + 1;
    assert!(out.contains(&format!("layer_objects.py:{line}: g = layer.backward(g)")), "{out}");
}

/// Another semester's template, run as it is: weights in Python lists stored (in, out) with
/// separate biases, one loop for every layer's forward pass (one line binds the hidden layer
/// and the output's scores) and one for the backward pass, the layer index as the lists' key.
/// Its correct run agrees (checked against examples/hw_numpy.py --shuffle when it was written:
/// the same labels, losses within 1e-15); updating each layer inside the backward loop, before
/// the delta below is computed with its weights, is named at that line.
#[test]
fn generic_layers_in_lists() {
    let run = |bug: Option<&str>| {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bptui"));
        cmd.current_dir(dir.path())
            .args(["diff", "--"])
            .arg(crate::homework_numpy::python())
            .arg(repo("tests/homework/generic_layers.py"))
            .arg(repo("models/data/ocr_letters_train.csv"))
            .arg(repo("models/data/ocr_letters_test.csv"))
            .args(["tl", "vl", "m.txt", "2", "4", "1", "0.1"]);
        if let Some(b) = bug {
            cmd.args(["--bug", b]);
        }
        let out = cmd.output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string())
    };
    let (code, out) = run(None);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("agree: all") && out.contains("your tl agrees") && out.contains("your vl agrees"), "{out}");
    assert!(
        out.contains("602 of its 602 records compared (600 example records, 2 epoch records)"),
        "the metrics file too: {out}"
    );
    assert!(out.contains("np.random.permutation(N) each epoch"), "the shuffle is learned: {out}");
    let (code, out) = run(Some("update_before_propagating"));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("first divergence: epoch 1, example 1"), "{out}");
    assert!(out.contains("adjoint dJ/dz"), "{out}");
    assert!(out.contains("updated before backpropagating"), "{out}");
    let source = std::fs::read_to_string(repo("tests/homework/generic_layers.py")).unwrap();
    let line = source.lines().position(|l| l.trim() == "back = delta @ self.W[l].T").expect("the backward step") + 1;
    assert!(out.contains(&format!("generic_layers.py:{line}: back = delta @ self.W[l].T")), "{out}");
}

/// Every parameter in one flat vector θ (alpha and beta reshaped views of its slices, the
/// gradient one flat vector, the step `theta -= lr * grad`, np.einsum products, script-level
/// code): the correct run agrees; dJ/dβ packed into the flat gradient in column order is found
/// where it first shows (β is never bound after an update, so in the next example's b), the
/// examples before are said to agree only in what was recorded, and the column order is named.
#[test]
fn a_flat_parameter_vector() {
    let run = |bug: Option<&str>| {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bptui"));
        cmd.current_dir(dir.path())
            .args(["diff", "--"])
            .arg(crate::homework_numpy::python())
            .arg(repo("tests/homework/flat_theta.py"))
            .arg(repo("models/data/ocr_letters_train.csv"))
            .arg(repo("models/data/ocr_letters_test.csv"))
            .args(["tl", "vl", "m.txt", "2", "4", "1", "0.1"]);
        if let Some(b) = bug {
            cmd.args(["--bug", b]);
        }
        let out = cmd.output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string())
    };
    let (code, out) = run(None);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("agree: all") && out.contains("your tl agrees") && out.contains("your vl agrees"), "{out}");
    assert!(out.contains("602 of its 602 records compared"), "{out}");
    let (code, out) = run(Some("beta_grad_packed_transposed"));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("first divergence: epoch 1, example 2 (data row 188), forward value b"), "{out}");
    assert!(out.contains("flat_theta.py:55: b = np.einsum"), "{out}");
    assert!(
        out.contains("agreed before it: 1 example(s) in every value you recorded (you recorded no `alpha`, `beta`"),
        "example 1's update was never compared: {out}"
    );
    assert!(!out.contains("completely"), "{out}");
    assert!(out.contains("your records never show `beta` after an update, though your dJ/dβ (your `g_beta`) agreed"));
    assert!(out.contains("entries taken in column order") && out.contains("ravel(order=\"F\")"), "{out}");
    assert!(!out.contains("no known pattern"), "{out}");
}
