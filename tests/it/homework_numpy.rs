//! A numpy implementation of the homework (examples/hw_numpy.py) against bptui: correct, it
//! agrees to 1e-9 over whole epochs with the homework's shuffling and initialisation and writes
//! the same metrics and labels; with each deliberate bug, `bptui diff` names the first wrong
//! number and the right diagnosis. Needs numpy: `scripts/test` finds or installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// The Python that runs the homework code: `$BPTUI_PYTHON` (`scripts/test` sets it when it had
/// to make a virtual environment for numpy), else `python3`. A Python without numpy fails the
/// test, saying so: these tests never skip.
pub fn python() -> std::ffi::OsString {
    let python = std::env::var_os("BPTUI_PYTHON").unwrap_or_else(|| "python3".into());
    let numpy = Command::new(&python).args(["-c", "import numpy"]).status();
    assert!(
        numpy.is_ok_and(|s| s.success()),
        "these tests run homework code in numpy, and {python:?} cannot import numpy: run them with `scripts/test` \
         (it uses numpy if python3 has it, else installs it, into a virtual environment under target/ where \
         pip may not install into the system Python), or set BPTUI_PYTHON to a Python that has numpy"
    );
    python
}

/// Runs the numpy homework; returns the paths of its trace, metrics and labels.
fn homework(
    dir: &Path,
    tag: &str,
    epochs: u32,
    init_flag: u32,
    extra: &[&str],
) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    // The homework writes .npz when asked (the tag says so), JSON Lines otherwise.
    let trace = dir.join(if tag.ends_with("npz") { tag.replace("_npz", ".npz") } else { format!("{tag}.jsonl") });
    let metrics = dir.join(format!("{tag}.metrics"));
    let (train_out, test_out) = (dir.join(format!("{tag}.train.labels")), dir.join(format!("{tag}.test.labels")));
    let status = Command::new(python())
        .arg(repo("examples/hw_numpy.py"))
        .arg(repo("models/data/ocr_letters_train.csv"))
        .arg(repo("models/data/ocr_letters_test.csv"))
        .args([&train_out, &test_out, &metrics])
        .args([epochs.to_string(), "4".into(), init_flag.to_string(), "0.1".into()])
        .args(extra)
        .arg("--trace")
        .arg(&trace)
        .status()
        .unwrap();
    assert!(status.success(), "hw_numpy.py {tag} failed");
    (trace, metrics, train_out, test_out)
}

fn bptui(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bptui")).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

fn diff(model: &Path, trace: &Path) -> (i32, String) {
    bptui(&["diff".as_ref(), model.as_os_str(), trace.as_os_str(), "--tol".as_ref(), "1e-9".as_ref()])
}

/// The homework's network with the initialisation and shuffling of the run being compared.
fn model(dir: &Path, init: &str, shuffle: &str, epochs: u32) -> PathBuf {
    let text = std::fs::read_to_string(repo("models/hw_network.yaml"))
        .unwrap()
        .replace("{numpy_uniform: [-0.1, 0.1]}", init)
        .replace("shuffle: numpy_epoch", &format!("shuffle: {shuffle}"))
        .replace("epochs: 2", &format!("epochs: {epochs}"))
        .replace("csv: data/", &format!("csv: {}/", repo("models/data").display()));
    let path = dir.join(format!("hw_{shuffle}_{epochs}.yaml"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn correct_implementation_agrees_over_whole_epochs() {
    let dir = tempfile::tempdir().unwrap();
    // Newer semesters: numpy's random init (INIT_FLAG 1) and per-epoch shuffling.
    let (trace, metrics, train_labels, test_labels) = homework(dir.path(), "ok", 2, 1, &["--shuffle"]);
    let m = model(dir.path(), "{numpy_uniform: [-0.1, 0.1]}", "numpy_epoch", 2);
    let (code, out) = diff(&m, &trace);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("agree: all "), "{out}");
    assert!(out.contains("602 of its 602 records compared (600 example records, 2 epoch records)"), "{out}");

    // The homework's output formats: same lines, same labels, numbers to 1e-12.
    let ours = dir.path().join("ours.metrics");
    let (ours_train, ours_test) = (dir.path().join("ours.train.labels"), dir.path().join("ours.test.labels"));
    let (code, out) = bptui(&[
        "run".as_ref(),
        m.as_os_str(),
        "--metrics-out".as_ref(),
        ours.as_os_str(),
        "--train-out".as_ref(),
        ours_train.as_os_str(),
        "--test-out".as_ref(),
        ours_test.as_os_str(),
    ]);
    assert_eq!(code, 0, "{out}");
    let theirs = std::fs::read_to_string(&metrics).unwrap();
    let ours = std::fs::read_to_string(&ours).unwrap();
    assert_eq!(theirs.lines().count(), ours.lines().count());
    for (t, o) in theirs.lines().zip(ours.lines()) {
        let (tk, tv) = t.rsplit_once(' ').unwrap();
        let (ok, ov) = o.rsplit_once(' ').unwrap();
        assert_eq!(tk, ok, "metrics line key");
        let (tv, ov): (f64, f64) = (tv.parse().unwrap(), ov.parse().unwrap());
        assert!((tv - ov).abs() <= 1e-12 * tv.abs().max(1e-300) + 1e-15, "{t} vs {o}");
    }
    assert!(theirs.ends_with('\n') && ours.ends_with('\n'));
    assert_eq!(std::fs::read(train_labels).unwrap(), std::fs::read(ours_train).unwrap());
    assert_eq!(std::fs::read(test_labels).unwrap(), std::fs::read(ours_test).unwrap());
}

#[test]
fn older_semesters_zero_init_and_file_order_agree_too() {
    let dir = tempfile::tempdir().unwrap();
    let (trace, ..) = homework(dir.path(), "zeros", 2, 2, &[]);
    let m = model(dir.path(), "zeros", "none", 2);
    let (code, out) = diff(&m, &trace);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn storage_conventions_are_not_bugs() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), "{numpy_uniform: [-0.1, 0.1]}", "numpy_epoch", 1);
    for (layout, tag, note) in
        [("transposed", "transposed", "stored transposed"), ("bias_last", "bias_last_npz", "bias in the last column")]
    {
        let (trace, ..) = homework(dir.path(), tag, 1, 1, &["--shuffle", "--layout", layout]);
        let (code, out) = diff(&m, &trace);
        assert_eq!(code, 0, "{layout}: {out}");
        assert!(out.contains(note), "{layout}: {out}");
    }
}

#[test]
fn each_bug_is_found_where_it_is_and_diagnosed() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), "{numpy_uniform: [-0.1, 0.1]}", "numpy_epoch", 1);
    // (bug, where the first divergence is, a phrase of the diagnosis)
    let cases = [
        ("transposed_gradient", "example 1 (data row 208), adjoint dJ/dalpha", "is transposed"),
        ("bias_last_gradient", "example 1 (data row 208), adjoint dJ/dbeta", "bias in the last column"),
        ("loss_without_minus", "example 1 (data row 208), forward value J", "sign flipped"),
        ("gradient_ascent", "parameter alpha after the update", "gradient ascent"),
        ("learning_rate_twice", "parameter alpha after the update", "was η applied twice"),
        ("mean_gradient", "adjoint dJ/dbeta", "the factor is 1/N = 1/300"),
        ("missing_sigmoid_derivative", "adjoint dJ/da", "your dJ/da equals bptui's dJ/dz"),
        ("stale_gradient", "parameter alpha after the update", "stale gradient"),
        ("accumulated_gradient", "example 2 (data row 188), adjoint dJ/dbeta", "accumulated across examples"),
        ("no_hidden_bias", "example 2 (data row 188), forward value b", "the bias is missing"),
    ];
    for (bug, place, diagnosis) in cases {
        let (trace, ..) = homework(dir.path(), bug, 1, 1, &["--shuffle", "--bug", bug]);
        let (code, out) = diff(&m, &trace);
        assert_eq!(code, 1, "{bug}: {out}");
        let first = out.lines().next().unwrap();
        assert!(first.contains(place), "{bug}: expected the divergence at {place}, got: {first}");
        assert!(out.contains(diagnosis), "{bug}: expected the diagnosis {diagnosis:?} in:\n{out}");
    }
}

#[test]
fn first_wrong_forward_value_is_named_as_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(dir.path(), "{numpy_uniform: [-0.1, 0.1]}", "numpy_epoch", 1);
    let (trace, ..) = homework(dir.path(), "fwd", 1, 1, &["--shuffle", "--bug", "no_hidden_bias"]);
    let (_, out) = diff(&m, &trace);
    assert!(out.contains("Fix this one first"), "{out}");
    // Only the first divergence is reported, not its consequences.
    assert_eq!(out.matches("first divergence").count(), 1);
}

#[test]
fn a_different_shuffle_is_reported_as_the_order_of_examples() {
    let dir = tempfile::tempdir().unwrap();
    let (trace, ..) = homework(dir.path(), "order", 1, 1, &["--shuffle"]);
    let m = model(dir.path(), "{numpy_uniform: [-0.1, 0.1]}", "none", 1);
    let (code, out) = diff(&m, &trace);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("the order of examples differs"), "{out}");
}
