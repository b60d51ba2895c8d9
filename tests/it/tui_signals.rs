//! The debugger ends on SIGTERM, SIGINT (sent as a signal, not typed), SIGHUP and every other
//! catchable signal that ends a process (SIGQUIT, SIGUSR1, SIGABRT, …) with the
//! terminal restored as `q` leaves it: main screen, mouse capture off, raw mode off (the pty
//! canonical and echoing again). One real pseudo-terminal per signal.

use std::io::Read;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, CommandBuilder, PtySize};

/// Whether the pty's line discipline is cooked (ICANON and ECHO on), as before raw mode.
fn cooked(master: &dyn portable_pty::MasterPty) -> bool {
    let fd = master.as_raw_fd().expect("a unix pty");
    // SAFETY: tcgetattr writes a termios struct for a valid fd; both live for the call.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::tcgetattr(fd, &mut t) }, 0, "tcgetattr on the pty");
    t.c_lflag & libc::ICANON != 0 && t.c_lflag & libc::ECHO != 0
}

fn ends_with_the_terminal_restored(signal: i32) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let model = root.join("models/two_layer.yaml");
    let pty = native_pty_system();
    let pair = pty.openpty(PtySize { rows: 40, cols: 120, pixel_width: 0, pixel_height: 0 }).expect("a pty");
    assert!(cooked(&*pair.master), "a new pty starts cooked");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_bptui"));
    cmd.arg(model.to_str().unwrap());
    cmd.env("TERM", "xterm-256color");
    cmd.env("NO_COLOR", "1");
    let mut child = pair.slave.spawn_command(cmd).expect("bptui starts");
    drop(pair.slave);
    let mut reader = pair.master.try_clone_reader().expect("reader");
    let _writer = pair.master.take_writer().expect("writer");
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut parser = vt100::Parser::new(40, 120, 0);
    let wait_for = |parser: &mut vt100::Parser, what: &str, done: &dyn Fn(&vt100::Parser) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done(parser) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}; screen:\n{}", parser.screen().contents());
            if let Ok(bytes) = rx.recv_timeout(Duration::from_millis(50)) {
                parser.process(&bytes);
            }
        }
    };
    wait_for(&mut parser, "the first frame", &|p| p.screen().contents().contains("n: load x"));
    assert!(parser.screen().alternate_screen());
    assert_ne!(parser.screen().mouse_protocol_mode(), vt100::MouseProtocolMode::None, "mouse captured");
    assert!(!cooked(&*pair.master), "the debugger runs in raw mode");

    let pid = child.process_id().expect("a pid") as libc::pid_t;
    // SAFETY: kill sends a signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "bptui did not end on signal {signal}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success(), "ended by a signal, not a success: {status:?}");
    wait_for(&mut parser, "the main screen back", &|p| !p.screen().alternate_screen());
    wait_for(&mut parser, "mouse capture off", &|p| p.screen().mouse_protocol_mode() == vt100::MouseProtocolMode::None);
    assert!(!parser.screen().hide_cursor(), "the cursor is shown again");
    assert!(cooked(&*pair.master), "raw mode is off after signal {signal}");
}

#[test]
fn sigterm_restores_the_terminal() {
    ends_with_the_terminal_restored(libc::SIGTERM);
}

#[test]
fn sigint_as_a_signal_restores_the_terminal() {
    ends_with_the_terminal_restored(libc::SIGINT);
}

#[test]
fn sighup_restores_the_terminal() {
    ends_with_the_terminal_restored(libc::SIGHUP);
}

/// Every other signal that ends the process and that it may catch: the terminal comes back
/// the same way (the issue found SIGQUIT, SIGUSR1 and SIGABRT leaving it raw).
#[test]
fn every_other_ending_signal_restores_the_terminal() {
    use libc::*;
    for signal in [SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGABRT, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ] {
        assert!(bptui::signals::ENDING.contains(&signal), "signal {signal} is handled");
        ends_with_the_terminal_restored(signal);
    }
}
