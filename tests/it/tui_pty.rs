//! End to end in a real pseudo-terminal: start `bptui two_layer.yaml` at 120×40, step, read
//! numbers off the screen, check them against the headless trace, quit, and check that the
//! terminal was restored (alternate screen off); and with `--against` a tampered trace, read
//! from the file as the debugger streams it, find where it differs.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};

const ROWS: u16 = 40;
const COLS: u16 = 120;

struct Screen {
    parser: vt100::Parser,
    rx: mpsc::Receiver<Vec<u8>>,
}

impl Screen {
    /// Feeds output to the terminal emulator until `done` holds for the screen text, or fails
    /// after a timeout.
    fn wait_for(&mut self, what: &str, done: impl Fn(&vt100::Parser) -> bool) {
        self.wait_for_within(10, what, done)
    }

    fn wait_for_within(&mut self, seconds: u64, what: &str, done: impl Fn(&vt100::Parser) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            if done(&self.parser) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "timed out waiting for {what}; screen:\n{}", self.parser.screen().contents());
            match self.rx.recv_timeout(left.min(Duration::from_millis(100))) {
                Ok(bytes) => self.parser.process(&bytes),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    assert!(done(&self.parser), "the program ended before {what}");
                    return;
                }
            }
        }
    }

    fn text(&self) -> String {
        self.parser.screen().contents()
    }
}

/// The number after `label` on the screen.
fn number_after(text: &str, label: &str) -> Option<f64> {
    let start = text.find(label)? + label.len();
    let rest = text[start..].trim_start();
    let end = rest.find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '.' | 'e' | '+'))).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Decimal places as printed, for comparing to the printed precision.
fn printed_tolerance(x: f64) -> f64 {
    // numfmt::short prints 4–5 decimals (or 4 significant digits in e-notation).
    (x.abs() * 1e-4).max(1e-5)
}

/// models/two_layer.yaml, and its headless trace (with `trace`'s extra arguments) in `dir`.
fn two_layer_trace(dir: &std::path::Path, args: &[&str]) -> (PathBuf, PathBuf) {
    let model = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/two_layer.yaml");
    let trace = dir.join("trace.jsonl");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_bptui"))
        .args(["trace", model.to_str().unwrap(), "--out", trace.to_str().unwrap()])
        .args(args)
        .status()
        .expect("bptui trace runs");
    assert!(status.success());
    (model, trace)
}

#[test]
fn steps_in_a_real_terminal_match_the_headless_trace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (model, trace) = two_layer_trace(dir.path(), &["--examples", "1"]);
    let first = std::fs::read_to_string(&trace).expect("trace written");
    let record: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).expect("JSON");
    let a0 = record["forward"]["a"][0].as_f64().unwrap();
    let j = record["forward"]["J"].as_f64().unwrap();

    let (mut child, mut writer, mut screen) = start(&[model.to_str().unwrap()]);
    screen.wait_for("the first frame", |p| p.screen().contents().contains("n: load x"));
    assert!(screen.parser.screen().alternate_screen(), "the debugger draws on the alternate screen");

    // Two steps: load x, compute a = α·[1; x]; the values pane then shows a.
    writer.write_all(b"nn").unwrap();
    writer.flush().unwrap();
    screen.wait_for("a computed", |p| p.screen().contents().contains("last: computed a ="));
    let shown = number_after(&screen.text(), "│[0]").expect("a[0] on screen");
    assert!((shown - a0).abs() <= printed_tolerance(a0), "a[0]: screen {shown}, trace {a0}");

    // Finish the forward phase: the status bar shows J.
    writer.write_all(b"f").unwrap();
    writer.flush().unwrap();
    screen.wait_for("J", |p| p.screen().contents().contains("│ J = 0"));
    let shown = number_after(&screen.text(), "│ J = ").expect("J on screen");
    assert!((shown - j).abs() <= printed_tolerance(j), "J: screen {shown}, trace {j}");

    quit(&mut *child, &mut writer, &mut screen);
}

/// `bptui ARGS` in a pseudo-terminal of ROWS × COLS: the child, its input, its screen.
fn start(args: &[&str]) -> (Box<dyn portable_pty::Child + Send + Sync>, Box<dyn Write + Send>, Screen) {
    start_in(None, args)
}

/// [`start`] in the working directory `dir`.
fn start_in(
    dir: Option<&std::path::Path>,
    args: &[&str],
) -> (Box<dyn portable_pty::Child + Send + Sync>, Box<dyn Write + Send>, Screen) {
    let pty = native_pty_system();
    let pair = pty.openpty(PtySize { rows: ROWS, cols: COLS, pixel_width: 0, pixel_height: 0 }).expect("a pty");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_bptui"));
    cmd.args(args);
    if let Some(dir) = dir {
        cmd.cwd(dir);
    }
    cmd.env("TERM", "xterm-256color");
    cmd.env("NO_COLOR", "1");
    let child = pair.slave.spawn_command(cmd).expect("bptui starts");
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().expect("reader");
    let writer = pair.master.take_writer().expect("writer");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    (child, writer, Screen { parser: vt100::Parser::new(ROWS, COLS, 0), rx })
}

/// `q`, then the exit status 0 and the terminal restored.
fn quit(child: &mut (dyn portable_pty::Child + Send + Sync), writer: &mut Box<dyn Write + Send>, screen: &mut Screen) {
    writer.write_all(b"q").unwrap();
    writer.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "bptui did not quit on q");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status:?}");
    screen.wait_for("the terminal restored", |p| !p.screen().alternate_screen());
}

/// `--against` a trace whose a[0] of example 1 was changed by 0.5: the debugger reads it from
/// the file (streaming), shows theirs beside bptui's a as differing, and `d` goes there.
#[test]
fn against_a_tampered_trace_shows_where_it_differs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (model, trace) = two_layer_trace(dir.path(), &[]);
    let text = std::fs::read_to_string(&trace).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    let a0 = first["forward"]["a"][0].as_f64().unwrap();
    first["forward"]["a"][0] = serde_json::json!(a0 + 0.5);
    lines[0] = first.to_string();
    std::fs::write(&trace, lines.join("\n") + "\n").unwrap();

    // `d` from the start: the first differing value, with both numbers.
    let (mut child, mut writer, mut screen) = start(&[model.to_str().unwrap(), "--against", trace.to_str().unwrap()]);
    screen.wait_for("the first frame", |p| p.screen().contents().contains("n: load x"));
    writer.write_all(b"d").unwrap();
    writer.flush().unwrap();
    screen.wait_for("d at the divergence", |p| {
        p.screen().contents().contains("DIFFERS at epoch 1 example 1: forward value a[0]")
    });
    let shown = number_after(&screen.text(), "yours ").expect("their a[0] on the status line");
    assert!((shown - (a0 + 0.5)).abs() <= printed_tolerance(a0 + 0.5), "theirs: screen {shown}, file {}", a0 + 0.5);
    quit(&mut *child, &mut writer, &mut screen);

    // Stepping by hand: theirs beside bptui's a, in the values pane.
    let (mut child, mut writer, mut screen) = start(&[model.to_str().unwrap(), "--against", trace.to_str().unwrap()]);
    screen.wait_for("the first frame", |p| p.screen().contents().contains("n: load x"));
    writer.write_all(b"nn").unwrap();
    writer.flush().unwrap();
    screen.wait_for("theirs beside a", |p| p.screen().contents().contains("yours: DIFFERS at [0]"));
    quit(&mut *child, &mut writer, &mut screen);
}

/// `bptui --against -- python3 SCRIPT ...`: a homework program with a missing σ′ recorded as it
/// runs, then the debugger beside it: `d` lands on their dJ/da, named in their words, with the
/// line of their script that bound it.
#[test]
fn against_their_program_as_it_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = |p: &str| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(p).to_string_lossy().into_owned();
    let python = crate::homework_numpy::python().to_string_lossy().into_owned();
    let (script, train, test) = (
        repo("tests/homework/column_vectors.py"),
        repo("models/data/ocr_letters_train.csv"),
        repo("models/data/ocr_letters_test.csv"),
    );
    // Run from the repository, as a student runs from their homework's folder: the source line
    // is shown relative to it (an absolute path of a deep checkout would wrap in the pane).
    let out = |f: &str| dir.path().join(f).to_string_lossy().into_owned();
    let (tl, vl, m) = (out("tl"), out("vl"), out("m.txt"));
    let args = [
        "--against",
        "--",
        &python,
        &script,
        &train,
        &test,
        &tl,
        &vl,
        &m,
        "2",
        "4",
        "1",
        "0.1",
        "--bug",
        "missing_sigmoid_derivative",
    ];
    let (mut child, mut writer, mut screen) = start_in(Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR"))), &args);
    screen.wait_for_within(120, "the first frame after the recording", |p| p.screen().contents().contains("n: load x"));
    writer.write_all(b"d").unwrap();
    writer.flush().unwrap();
    screen.wait_for("d at the divergence", |p| {
        p.screen().contents().contains("DIFFERS at epoch 1 example 1: adjoint dJ/da (your `g_a`)")
    });
    let text = screen.text();
    let source = std::fs::read_to_string(&script).unwrap();
    let line = source.lines().position(|l| l.trim() == "g_a = g_z").expect("the bug's line") + 1;
    assert!(text.contains(&format!("your line tests/homework/column_vectors.py:{line}: g_a = g_z")), "{text}");
    quit(&mut *child, &mut writer, &mut screen);
}
