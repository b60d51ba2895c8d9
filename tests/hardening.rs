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
    let mut child = Command::new(env!("CARGO_BIN_EXE_bptui"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bptui runs");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("bptui did not finish within 30 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
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

fn check_fails_at(yaml: &str, line: usize, needle: &str, phrases: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "m.yaml", yaml);
    let stderr = fails(&[Path::new("check"), &path], phrases);
    let prefix = located(&path, yaml, line, needle);
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
    check_fails_at(&net("1000000000"), 5, "1000000000", &["1000000000 × 4", "4000000000 numbers", "268435456"]);
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
    while (10 + header.len() + 1) % 64 != 0 {
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
