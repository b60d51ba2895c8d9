//! Hostile input: sizes that overflow or exceed the limit, array headers that claim more than
//! their files hold, files that never end, and the lesser cases of issue 11. Every one exits 2
//! with one located line, within seconds, never a panic or an abort.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs bptui with `args` (killed after 30 s); returns (status code, stdout, stderr).
fn bptui<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (Option<i32>, String, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_bptui"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bptui runs");
    let pid = child.id() as libc::pid_t;
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(Duration::from_secs(30)).is_err() {
            // SAFETY: kill sends a signal to the child this test started (not yet reaped).
            unsafe { libc::kill(pid, libc::SIGKILL) };
            return true;
        }
        false
    });
    let out = child.wait_with_output().unwrap();
    let _ = done_tx.send(());
    assert!(!watchdog.join().unwrap(), "bptui did not finish within 30 s");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// bptui `args` exits 2 with one `error: ` line saying every phrase; returns that line.
fn fails<S: AsRef<std::ffi::OsStr>>(args: &[S], phrases: &[&str]) -> String {
    let (code, stdout, stderr) = bptui(args);
    assert!(!stderr.contains("panicked"), "panicked:\n{stderr}");
    assert_eq!(code, Some(2), "expected exit 2\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line:\n{stderr}");
    assert!(stderr.len() < 400, "a short line: {} bytes", stderr.len());
    for p in phrases {
        assert!(stderr.contains(p), "the message should say {p:?}:\n{stderr}");
    }
    stderr
}

fn write(dir: &TempDir, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// `error: FILE:LINE:COLUMN: ` for `needle` on line `line` of `yaml`.
fn located(path: &Path, yaml: &str, line: usize, needle: &str) -> String {
    let text = yaml.lines().nth(line - 1).unwrap();
    let col = text[..text.find(needle).unwrap()].chars().count() + 1;
    format!("error: {}:{line}:{col}: ", path.display())
}

/// `check` fails at `needle` on `line` of `yaml` (anywhere on the line when `needle` is empty).
fn check_fails_at(yaml: &str, line: usize, needle: &str, phrases: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "m.yaml", yaml);
    let stderr = fails(&[Path::new("check"), &path], phrases);
    let prefix = if needle.is_empty() {
        format!("error: {}:{line}:", path.display())
    } else {
        located(&path, yaml, line, needle)
    };
    assert!(stderr.starts_with(&prefix), "expected {prefix}\ngot {stderr}");
}

fn net(units: &str) -> String {
    format!(
        "name: big\nnetwork:\n  inputs: 3\n  layers:\n    - {{op: linear, units: {units}}}\n    - {{op: sigmoid}}\n  \
         loss: {{op: binary_cross_entropy}}\n"
    )
}

fn graph_param(shape: &str) -> String {
    format!("name: big\ngraph:\n  inputs: {{x: 1.0}}\n  params:\n    w: {{shape: {shape}}}\n  compute:\n    - J = sum(w) * x\n  output: J\n")
}

// ---------------------------------------------------------------------------------------------
// Sizes

#[test]
fn units_that_overflow_are_located() {
    check_fails_at(
        &net("18446744073709551615"),
        5,
        "18446744073709551615",
        &["18446744073709551615 × 4", "more numbers than a computer can hold"],
    );
}

#[test]
fn units_over_the_limit_are_located_with_the_size() {
    check_fails_at(&net("1000000000"), 5, "1000000000", &["1000000000 × 4", "4000000000 numbers", "67108864"]);
}

#[test]
fn a_parameter_shape_that_overflows_is_located() {
    check_fails_at(&graph_param("[4294967296, 4294967296]"), 5, "[4294967296", &["4294967296 × 4294967296"]);
}

#[test]
fn a_parameter_shape_over_the_limit_is_located() {
    check_fails_at(&graph_param("[100000, 100000]"), 5, "[100000", &["100000 × 100000", "10000000000 numbers"]);
}

#[test]
fn max_numbers_lowers_and_raises_the_limit() {
    let model = root().join("models/two_layer.yaml");
    let stderr = fails(&["check", model.to_str().unwrap(), "--max-numbers", "20"], &["--max-numbers", "limit of 20"]);
    assert!(stderr.contains("two_layer.yaml:3:1: "), "located at network: {stderr}");
    let (code, _, stderr) = bptui(&["check", model.to_str().unwrap(), "--max-numbers", "1000"]);
    assert_eq!(code, Some(0), "{stderr}");
}

/// A .npy header claiming `shape` followed by `data` bytes.
fn npy_claiming(shape: &str, data: usize) -> Vec<u8> {
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend(std::iter::repeat_n(0u8, data));
    bytes
}

#[test]
fn an_npy_init_claiming_more_than_its_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir, "w.npy", npy_claiming("(100000, 1000000)", 32));
    let yaml = "name: n\nnetwork:\n  inputs: 3\n  layers:\n    - {op: linear, units: 1, init: {npy: w.npy}}\n    - {op: sigmoid}\n  loss: {op: binary_cross_entropy}\n";
    let path = write(&dir, "m.yaml", yaml);
    let stderr = fails(&[Path::new("check"), &path], &["w.npy", "(100000, 1000000)", "holds 32 bytes"]);
    assert!(stderr.starts_with(&format!("error: {}:5:", path.display())), "{stderr}");
}

/// An .npz (zip) with one stored entry `name` holding `bytes`.
fn npz_with(path: &Path, name: &str, bytes: &[u8]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file(name, options).unwrap();
    zip.write_all(bytes).unwrap();
    zip.finish().unwrap();
}

#[test]
fn an_npz_trace_entry_claiming_1e11_numbers_is_refused_with_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let npz = dir.path().join("theirs.npz");
    npz_with(&npz, "e1/x1/forward/a.npy", &npy_claiming("(100000, 1000000)", 64));
    let model = root().join("models/two_layer.yaml");
    fails(&[Path::new("diff"), &model, &npz], &["record 1", "e1/x1/forward/a", "(100000, 1000000)"]);
}

// ---------------------------------------------------------------------------------------------
// Unbounded reads

#[test]
fn a_model_that_is_not_a_regular_file_is_refused() {
    for dev in ["/dev/zero", "/dev/urandom"] {
        fails(&["check", dev], &[dev, "not a regular file"]);
    }
}

#[test]
fn a_model_over_16_mib_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("name: big\n");
    while text.len() <= 16 << 20 {
        text.push_str("# a comment line that makes the file large, over and over and over again\n");
    }
    let path = write(&dir, "m.yaml", &text);
    fails(&[Path::new("check"), &path], &["m.yaml", "at most 16777216"]);
}

#[test]
fn data_and_traces_from_endless_devices_are_refused() {
    let model = root().join("models/two_layer.yaml");
    let m = model.to_str().unwrap();
    for dev in ["/dev/zero", "/dev/urandom"] {
        fails(&["check", m, "--train", dev], &[dev]);
        fails(&["diff", m, dev], &[dev]);
    }
}

#[test]
fn data_from_a_short_pipe_is_read() {
    // Process substitution and pipes still work when they end.
    let model = root().join("models/two_layer.yaml");
    let csv = std::fs::read(root().join("models/data/two_layer_train.csv")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bptui"))
        .args(["check", model.to_str().unwrap(), "--train", "/dev/stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&csv).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

// ---------------------------------------------------------------------------------------------
// Text

#[test]
fn a_model_with_a_byte_order_mark_loads() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("models/quiz1.yaml")).unwrap();
    let path = write(&dir, "m.yaml", format!("\u{feff}{text}"));
    let (code, _, stderr) = bptui(&[Path::new("check"), &path]);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn non_utf8_model_data_and_trace_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "m.yaml", b"name: x\nabout: caf\xe9\ngraph: {}\n");
    let stderr = fails(&[Path::new("check"), &path], &["not UTF-8"]);
    assert!(stderr.starts_with(&format!("error: {}:2:11: ", path.display())), "{stderr}");
    let model = root().join("models/two_layer.yaml");
    let csv = write(&dir, "d.csv", b"1,0.5,0.5,0.5\n0,0.5,\xff,0.5\n");
    fails(&[Path::new("check"), &model, Path::new("--train"), &csv], &["d.csv", "row 2"]);
    let trace = write(&dir, "t.jsonl", b"{\"epoch\": 1, \"metrics\": {}}\n{\"epoch\": \xff}\n");
    fails(&[Path::new("diff"), &model, &trace], &["t.jsonl", "record 2", "not UTF-8"]);
}

// ---------------------------------------------------------------------------------------------
// Standard output

#[test]
fn run_into_a_closed_pipe_ends_quietly() {
    let model = root().join("models/two_layer.yaml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bptui"))
        .args(["run", model.to_str().unwrap(), "--epochs", "3000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 5];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
    assert_eq!(&first, b"epoch");
    drop(child.stdout.take()); // as `| head -1` does
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "quiet: {stderr}");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn check_into_a_full_device_is_an_error() {
    let model = root().join("models/two_layer.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_bptui"))
        .args(["check", model.to_str().unwrap()])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: cannot write to standard output"), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Expressions

fn graph_line(line: &str) -> String {
    format!("name: g\ngraph:\n  inputs: {{x: 2.0}}\n  compute:\n    - J = {line}\n  output: J\n")
}

#[test]
fn deep_nesting_is_refused_at_its_column() {
    for line in [format!("{}x{}", "(".repeat(8000), ")".repeat(8000)), format!("{}x", "-".repeat(16000))] {
        check_fails_at(&graph_line(&line), 5, "", &["nested too deeply at column 105 of the expression"]);
    }
    let calls = format!("{}x{}", "exp(".repeat(500), ")".repeat(500));
    check_fails_at(&graph_line(&calls), 5, "", &["nested too deeply"]);
    // A hundred levels are fine.
    let dir = tempfile::tempdir().unwrap();
    let ok = format!("{}x{}", "(".repeat(99), ")".repeat(99));
    let path = write(&dir, "m.yaml", graph_line(&ok));
    let (code, _, stderr) = bptui(&[Path::new("check"), &path]);
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn a_very_long_sum_is_refused_quickly() {
    let sum = vec!["x"; 20000].join(" + ");
    let start = Instant::now();
    check_fails_at(&graph_line(&sum), 5, "", &["too long", "split it over several lines"]);
    assert!(start.elapsed() < Duration::from_secs(10));
    // Moderate sums still work.
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "m.yaml", graph_line(&vec!["x"; 400].join(" + ")));
    let (code, _, stderr) = bptui(&[Path::new("check"), &path]);
    assert_eq!(code, Some(0), "{stderr}");
}

// ---------------------------------------------------------------------------------------------
// Settings that can only make NaN

fn net_with(layer_init: &str, train: &str) -> String {
    format!(
        "name: n\nnetwork:\n  inputs: 2\n  layers:\n    - {{op: linear, units: 1, init: {layer_init}}}\n    - {{op: sigmoid}}\n  \
         loss: {{op: binary_cross_entropy}}\ndata:\n  train: {{rows: [[1, 0.5, 0.5]]}}\ntrain: {train}\n"
    )
}

#[test]
fn nan_making_inits_are_located() {
    // Each at the value that makes NaN.
    for (init, needle, phrase) in [
        ("{normal: [.nan, 1]}", "[.nan", "normal needs two finite numbers"),
        ("{normal: [0, -1]}", "[0, -1]", "std ≥ 0"),
        ("{numpy_uniform: [.nan, 1]}", "[.nan", "numpy_uniform needs two finite numbers"),
        ("{uniform: [-.inf, .inf]}", "[-.inf", "uniform needs two finite numbers"),
        ("{values: [[0, .nan, 1]]}", "[[0", "element [0,1] is nan"),
    ] {
        check_fails_at(&net_with(init, "{}"), 5, needle, &[phrase]);
    }
}

#[test]
fn adagrad_epsilon_must_be_positive() {
    for eps in [".nan", "-1", "0"] {
        let yaml = net_with("zeros", &format!("{{optimizer: adagrad, epsilon: {eps}}}"));
        check_fails_at(&yaml, 10, eps, &["epsilon must be a finite number > 0"]);
    }
}

#[test]
fn nan_in_an_npy_init_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = npy_claiming("(1, 3)", 0);
    for v in [0.0f64, f64::NAN, 1.0] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    write(&dir, "w.npy", bytes);
    let path = write(&dir, "m.yaml", net_with("{npy: w.npy}", "{}"));
    let stderr = fails(&[Path::new("check"), &path], &["w.npy", "element [0,1] is nan"]);
    assert!(stderr.starts_with(&format!("error: {}:5:", path.display())), "{stderr}");
}

#[test]
fn regression_labels_must_be_finite() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(&dir, "d.csv", "0.5,1,2\ninf,1,2\n");
    let yaml = "name: r\nnetwork:\n  inputs: 2\n  layers:\n    - {op: linear, units: 1}\n  loss: {op: squared_error}\ndata:\n  train: {csv: d.csv}\n";
    let path = write(&dir, "m.yaml", yaml);
    fails(&[Path::new("check"), &path], &["d.csv", "row 2", "label inf"]);
    std::fs::write(&csv, "0.5,1,2\nNaN,1,2\n").unwrap();
    fails(&[Path::new("check"), &path], &["d.csv", "row 2", "label nan"]);
}

#[test]
fn metrics_of_a_regression_model_name_its_loss() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "name: r\nnetwork:\n  inputs: 2\n  layers:\n    - {op: linear, units: 1}\n  loss: {op: squared_error}\ndata:\n  train: {rows: [[0.5, 1, 2], [1.5, 2, 1]]}\n";
    let path = write(&dir, "m.yaml", yaml);
    let metrics = dir.path().join("metrics.txt");
    let (code, _, stderr) = bptui(&[Path::new("run"), &path, Path::new("--metrics-out"), &metrics]);
    assert_eq!(code, Some(0), "{stderr}");
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert!(text.starts_with("epoch=1 squared_error(train): ") && !text.contains("crossentropy"), "{text}");
}

#[test]
fn run_prints_no_error_rate_from_nan() {
    let dir = tempfile::tempdir().unwrap();
    // A learning rate so large that the weights overflow to NaN.
    let yaml = net_with("{values: [[1, 1, 1]]}", "{learning_rate: 1e308, epochs: 3}")
        .replace("[[1, 0.5, 0.5]]", "[[1, 0.5, 0.5], [0, 3, -2]]");
    let path = write(&dir, "m.yaml", yaml);
    let (code, stdout, stderr) = bptui(&[Path::new("run"), &path]);
    assert_eq!(code, Some(0), "{stderr}");
    for line in stdout.lines().filter(|l| l.contains("loss nan")) {
        assert!(!line.contains("error"), "an error rate beside a NaN loss: {line}");
    }
    assert!(stdout.contains("loss nan"), "the run was meant to reach NaN:\n{stdout}");
}

// ---------------------------------------------------------------------------------------------
// Command line and messages

#[test]
fn gradcheck_tol_nan_is_refused() {
    let model = root().join("models/quiz1.yaml");
    fails(&["gradcheck", model.to_str().unwrap(), "--tol", "nan"], &["--tol"]);
}

#[test]
fn an_unknown_command_is_named() {
    let model = root().join("models/two_layer.yaml");
    fails(&["frobnicate", model.to_str().unwrap()], &["unknown command `frobnicate`", "run, trace, diff"]);
}

#[test]
fn negative_epochs_say_what_is_expected() {
    let model = root().join("models/two_layer.yaml");
    let (code, _, stderr) = bptui(&["run", model.to_str().unwrap(), "--epochs", "-1"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("expected a whole number, at least 1, got -1"), "{stderr}");
}

#[test]
fn aliases_are_checked_by_every_command() {
    let text = std::fs::read_to_string(root().join("models/two_layer.yaml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    for f in ["two_layer_train.csv", "two_layer_test.csv"] {
        std::fs::copy(root().join("models/data").join(f), dir.path().join("data").join(f)).unwrap();
    }
    let path = write(&dir, "m.yaml", format!("{text}aliases: {{W1: nosuch}}\n"));
    let (out, theirs) = (dir.path().join("t.jsonl"), write(&dir, "theirs.jsonl", ""));
    for cmd in ["check", "run", "graph", "gradcheck"] {
        fails(&[Path::new(cmd), &path], &["nosuch"]);
    }
    fails(&[Path::new("trace"), &path, Path::new("--out"), &out], &["nosuch"]);
    fails(&[Path::new("diff"), &path, &theirs], &["nosuch"]);
    // The debugger checks them before it takes the terminal.
    fails(&[&path], &["nosuch"]);
    assert!(!out.exists());
    // The command line's own, for diff and the debugger, the same way.
    let good = root().join("models/two_layer.yaml");
    fails(&[Path::new("diff"), &good, &theirs, Path::new("--alias"), Path::new("W2=nosuch")], &["W2=nosuch"]);
    fails(&[good.as_path(), Path::new("--alias"), Path::new("W2=nosuch")], &["W2=nosuch"]);
    // A bias vector of their own where the model folds it into the weights' column 0.
    fails(
        &[Path::new("diff"), &good, &theirs, Path::new("--alias"), Path::new("b1=alpha_bias")],
        &["no node `alpha_bias`", "keeps alpha's bias in its column 0", "bias: separate"],
    );
}

#[test]
fn user_text_in_messages_is_short_and_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let model = root().join("models/two_layer.yaml");
    let cell = format!("\x1b[31m{}\n", "z".repeat(1 << 20));
    let csv = write(&dir, "d.csv", format!("1,0.5,0.5,0.5\n0,\"{cell}\",1,1\n"));
    let stderr = fails(&[Path::new("check"), &model, Path::new("--train"), &csv], &["d.csv", "row 2"]);
    assert!(!stderr.contains('\x1b'), "control characters escaped: {stderr:?}");
}

#[test]
fn yaml_messages_use_no_rust_type_names() {
    check_fails_at("just text\n", 1, "", &["expected a model: a map with name"]);
    check_fails_at(&net_with("{uniform: [0, 1e999]}", "{}"), 5, "", &["beyond the largest number"]);
    let stderr = {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "m.yaml", net("-3"));
        fails(&[Path::new("check"), &path], &["expected a whole number ≥ 0"])
    };
    assert!(!stderr.contains("usize") && !stderr.contains("u64"), "{stderr}");
}
