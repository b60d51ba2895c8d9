//! Output files: an unnamed temporary file named and renamed into place when complete, so that
//! no signal, SIGKILL included, leaves a file behind; a target that is not a regular file (a
//! FIFO, a device) is written directly and never replaced, and one of the process's own
//! descriptors (`/dev/stdout`) is written through it; a symbolic link stays a link.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bptui() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bptui"))
}

fn model() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/two_layer.yaml")
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

/// Every line is a JSON object with an epoch (the trace's records).
fn assert_trace(text: &str, records: usize) {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), records, "records in:\n{text}");
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
        assert!(v["epoch"].as_u64().is_some(), "{l}");
    }
}

#[test]
fn trace_to_dev_stdout_streams_to_standard_output() {
    let out = bptui()
        .args(["trace", model().to_str().unwrap(), "--out", "/dev/stdout", "--epochs", "1", "--examples", "2"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_trace(&String::from_utf8_lossy(&out.stdout), 3);
    assert!(std::fs::symlink_metadata("/dev/stdout").unwrap().file_type().is_symlink(), "/dev/stdout untouched");
}

#[test]
fn npz_trace_to_dev_stdout_is_a_whole_archive() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("out.npz");
    std::os::unix::fs::symlink("/dev/stdout", &link).unwrap();
    let out = bptui()
        .args(["trace", model().to_str().unwrap(), "--epochs", "1", "--examples", "1", "--out"])
        .arg(&link)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.starts_with(b"PK\x03\x04"), "a zip on stdout");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays");
}

#[test]
fn trace_into_a_fifo_writes_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.jsonl");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            std::fs::File::open(&fifo).unwrap().read_to_string(&mut text).unwrap();
            text
        })
    };
    let out = bptui()
        .args(["trace", model().to_str().unwrap(), "--epochs", "2", "--examples", "1", "--out"])
        .arg(&fifo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    use std::os::unix::fs::FileTypeExt;
    // Checked first: had the FIFO been replaced, the reader would wait forever.
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "still a FIFO");
    assert_trace(&reader.join().unwrap(), 4);
    assert_eq!(names(dir.path()), ["pipe.jsonl"], "no temporary file left");
}

#[test]
fn a_symlink_to_a_file_stays_a_link_and_its_file_gets_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.txt");
    std::fs::write(&real, "old\n").unwrap();
    let link = dir.path().join("metrics.txt");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = bptui().args(["run", model().to_str().unwrap(), "--metrics-out"]).arg(&link).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
    assert!(std::fs::read_to_string(&real).unwrap().starts_with("epoch=1 "), "the linked file holds the metrics");
    assert_eq!(names(dir.path()), ["metrics.txt", "real.txt"]);
}

#[test]
fn another_files_dot_partial_name_is_left_alone() {
    // The old writer used the fixed name `.NAME.partial` and renamed it away.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("t.jsonl");
    let other = dir.path().join(".t.jsonl.partial");
    std::fs::write(&other, "someone else's\n").unwrap();
    let out = bptui()
        .args(["trace", model().to_str().unwrap(), "--epochs", "1", "--examples", "1", "--out"])
        .arg(&target)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "someone else's\n");
    assert_trace(&std::fs::read_to_string(&target).unwrap(), 2);
}

#[test]
fn two_traces_to_one_target_at_once_leave_one_whole_trace() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("t.jsonl");
    let spawn = || {
        bptui()
            .args(["trace", model().to_str().unwrap(), "--epochs", "200", "--out"])
            .arg(&target)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(names(dir.path()), ["t.jsonl"]);
    let reference = dir.path().join("alone.jsonl");
    let out = bptui()
        .args(["trace", model().to_str().unwrap(), "--epochs", "200", "--out"])
        .arg(&reference)
        .output()
        .unwrap();
    assert!(out.status.success());
    let (got, want) = (std::fs::read(&target).unwrap(), std::fs::read(&reference).unwrap());
    assert!(got == want, "the target is not the trace one run alone writes");
}

/// Whether `pid` is writing into `dir`: a new name in it, or a descriptor open on a file there
/// (an unnamed `O_TMPFILE` shows as `DIR/#123 (deleted)`).
fn writing_into(pid: u32, dir: &Path, before: &[String]) -> bool {
    if names(dir).len() != before.len() {
        return true;
    }
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return false };
    fds.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok()).any(|target| target.starts_with(dir))
}

/// Starts `args`, waits until it writes its output into `dir`, sends `signal`, and checks that
/// the process ended and left `dir` as it was.
fn signal_leaves_nothing(args: &[&str], dir: &Path, signal: i32) {
    let before = names(dir);
    let mut child = bptui().args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !writing_into(child.id(), dir, &before) {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("no output file was opened in {}", dir.display());
        }
        assert!(child.try_wait().unwrap().is_none(), "ended before writing");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(30));
    // SAFETY: kill sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert_eq!(names(dir), before, "signal {signal} left a file behind");
}

/// Every signal that ends the process, the ones it catches (`signals::ENDING`) and SIGKILL,
/// which it cannot: none leaves a file in the target's folder, for JSON Lines or `.npz`.
#[test]
fn no_signal_during_trace_leaves_a_file() {
    use libc::*;
    let ending =
        [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGABRT, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ];
    assert_eq!(ending.as_slice(), bptui::signals::ENDING.as_slice(), "the list the process catches");
    for signal in ending.into_iter().chain([SIGKILL]) {
        let dir = tempfile::tempdir().unwrap();
        let m = model();
        for name in ["big.jsonl", "big.npz"] {
            let out = dir.path().join(name);
            signal_leaves_nothing(
                &["trace", m.to_str().unwrap(), "--epochs", "100000000", "--out", out.to_str().unwrap()],
                dir.path(),
                signal,
            );
        }
    }
}

/// In `(echo before; bptui trace … --out /dev/stdout; echo after) > out.txt` the trace goes
/// through the shell's descriptor, at its offset: out.txt keeps what came before and after.
#[test]
fn dev_stdout_redirected_to_a_file_keeps_what_the_shell_wrote_around_it() {
    let dir = tempfile::tempdir().unwrap();
    let links = tempfile::tempdir().unwrap();
    let npz = links.path().join("out.npz");
    std::os::unix::fs::symlink("/dev/fd/1", &npz).unwrap();
    let bin = env!("CARGO_BIN_EXE_bptui");
    let m = model();
    for (out, fmt) in [("/dev/stdout", "jsonl"), (npz.to_str().unwrap(), "npz"), ("/proc/self/fd/1", "jsonl")] {
        let script = format!(
            "(echo before; '{bin}' trace '{}' --out '{out}' --epochs 1 --examples 2; echo after) > out.txt",
            m.display()
        );
        let status = Command::new("sh").arg("-c").arg(&script).current_dir(dir.path()).status().unwrap();
        assert!(status.success(), "{script}");
        let bytes = std::fs::read(dir.path().join("out.txt")).unwrap();
        assert!(bytes.starts_with(b"before\n"), "{out}: the line before is kept");
        assert!(bytes.ends_with(b"after\n"), "{out}: the line after is kept");
        let inner = &bytes[7..bytes.len() - 6];
        if fmt == "npz" {
            assert!(inner.starts_with(b"PK\x03\x04"), "{out}: a zip between the two lines");
        } else {
            assert_trace(&String::from_utf8_lossy(inner), 3);
        }
        assert_eq!(names(dir.path()), ["out.txt"], "{out}: the file the shell opened is still the file");
    }
}

/// A file replaced keeps its mode even under a strict umask (the umask shapes new files, not
/// the one a student already has); a new file gets the umask's.
#[test]
fn a_replaced_file_keeps_its_mode_under_any_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.txt");
    std::fs::write(&old, "old\n").unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o664)).unwrap();
    let bin = env!("CARGO_BIN_EXE_bptui");
    let m = model();
    let script = format!(
        "umask 077; '{bin}' run '{}' --metrics-out old.txt > /dev/null && '{bin}' run '{}' --metrics-out new.txt > /dev/null",
        m.display(),
        m.display()
    );
    assert!(Command::new("sh").arg("-c").arg(&script).current_dir(dir.path()).status().unwrap().success());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert!(std::fs::read_to_string(&old).unwrap().starts_with("epoch=1 "), "replaced");
    assert_eq!(mode(&old), 0o664, "the replaced file's mode");
    assert_eq!(mode(&dir.path().join("new.txt")), 0o600, "a new file's, from the umask");
}
