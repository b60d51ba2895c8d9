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
fn diff_program(dir: &Path, entry: &Value, bug: Option<&str>, tracer: Option<&str>) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bptui"));
    cmd.current_dir(dir)
        .arg("diff")
        .arg("--")
        .arg(crate::homework_numpy::python())
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

fn check(tracer: Option<&str>) {
    let corpus = corpus();
    let mut tracers = std::collections::BTreeSet::new();
    let mut runs = 0;
    for entry in corpus["implementations"].as_array().unwrap() {
        if strings(&entry["args"]) != ["2", "4", "1", "0.1"] || entry.get("extra_args").is_some() {
            continue;
        }
        let script = entry["script"].as_str().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (code, out) = diff_program(dir.path(), entry, None, tracer);
        runs += 1;
        if let Some(line) = out.lines().find(|l| l.starts_with("recorded your program with ")) {
            tracers.insert(line.split_whitespace().nth(4).unwrap_or("").to_string());
        }
        assert_eq!(code, 0, "{script} (correct) under diff --:\n{out}");
        assert!(out.contains("\nagree: "), "{script}:\n{out}");
        assert!(out.contains(&format!("{} agrees: all 300 labels", "train_out.labels")), "{script}:\n{out}");
        for bug in entry["bugs"].as_array().unwrap() {
            let name = bug["bug"].as_str().unwrap();
            let (code, out) = diff_program(dir.path(), entry, Some(name), tracer);
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
    eprintln!("diff -- ran {runs} programs with {tracers:?}");
    assert!(runs > 60, "{runs}");
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
