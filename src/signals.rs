//! What happens when a signal ends the process (SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1,
//! SIGUSR2, SIGALRM, SIGABRT, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ: every one whose default
//! action ends it and that a process may catch): temporary output files are removed, a program
//! bptui runs is stopped and, if the debugger holds the terminal, the terminal is restored
//! exactly as `q` restores it; then the process ends as the signal would have ended it.
//! (SIGKILL cannot be caught: an output file is then never half-written either, see `output`.
//! SIGPIPE stays ignored, as Rust sets it: a closed reader is an error of the write.)
//!
//! A thread waits for the signals (signal-hook's self-pipe), so nothing but a write to a pipe
//! happens in the signal handler itself.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

/// The signals that end the process and that bptui cleans up after.
pub const ENDING: [i32; 12] = {
    use signal_hook::consts::*;
    [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGABRT, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ]
};

/// The signal received, 0 while none.
static PENDING: AtomicI32 = AtomicI32::new(0);
/// Whether the debugger holds the terminal (raw mode, alternate screen, mouse capture).
static TUI_ACTIVE: AtomicBool = AtomicBool::new(false);
/// How the debugger gives the terminal back: registered by the debugger itself, so that this
/// module, below every other, imports nothing of the terminal.
static RESTORE: Mutex<Option<fn()>> = Mutex::new(None);
/// Temporary files being written, removed if a signal ends the process.
static TEMP_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();
/// What else must end with the process (a program bptui runs), by a number its owner forgets.
type Ender = Box<dyn Fn() + Send>;
static ENDERS: Mutex<Vec<(u64, Ender)>> = Mutex::new(Vec::new());

/// Starts the thread that handles [`ENDING`] signals (once; later calls do nothing).
pub fn install() {
    INSTALL.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new(ENDING) else { return };
        let _ = std::thread::Builder::new().name("signals".into()).spawn(move || {
            if let Some(sig) = signals.forever().next() {
                on_signal(sig);
            }
        });
    });
}

fn on_signal(sig: i32) -> ! {
    PENDING.store(sig, Ordering::SeqCst);
    remove_temp_files();
    for (_, end) in ENDERS.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
        end();
    }
    if TUI_ACTIVE.load(Ordering::SeqCst) {
        // The debugger's loop sees the signal within a few milliseconds, restores the
        // terminal and ends the process; if it is stuck, restore from here.
        let deadline = Instant::now() + Duration::from_secs(2);
        while TUI_ACTIVE.load(Ordering::SeqCst) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if TUI_ACTIVE.swap(false, Ordering::SeqCst) {
            if let Some(restore) = *RESTORE.lock().unwrap_or_else(|e| e.into_inner()) {
                restore();
            }
        }
    }
    die(sig)
}

/// Ends the process as `sig` would have (status 128 + sig if that fails).
pub fn die(sig: i32) -> ! {
    let _ = signal_hook::low_level::emulate_default_handler(sig);
    std::process::exit(128 + sig)
}

/// The ending signal received, if any.
pub fn pending() -> Option<i32> {
    match PENDING.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

/// Marks that the debugger holds the terminal, and how to give it back (`restore`), or that it
/// has given it back (`None`).
pub fn set_tui_active(restore: Option<fn()>) {
    if restore.is_some() {
        *RESTORE.lock().unwrap_or_else(|e| e.into_inner()) = restore;
    }
    TUI_ACTIVE.store(restore.is_some(), Ordering::SeqCst);
}

fn remove_temp_files() {
    // A poisoned lock still holds the paths.
    let mut files = TEMP_FILES.lock().unwrap_or_else(|e| e.into_inner());
    for path in files.drain(..) {
        let _ = std::fs::remove_file(path);
    }
    // Keep the lock: a writer renaming its temporary file into place waits, then ends with us.
    std::mem::forget(files);
}

/// Registers `end` (which stops a process bptui started) to run if a signal ends bptui: the
/// student's program is never left running. Returns the number [`forget_ender`] takes.
pub fn register_ender(end: impl Fn() + Send + 'static) -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let id = NEXT.fetch_add(1, Ordering::SeqCst);
    ENDERS.lock().unwrap_or_else(|e| e.into_inner()).push((id, Box::new(end)));
    id
}

pub fn forget_ender(id: u64) {
    ENDERS.lock().unwrap_or_else(|e| e.into_inner()).retain(|(i, _)| *i != id);
}

/// Registers a temporary file to remove if a signal ends the process.
pub fn register_temp(path: &Path) {
    TEMP_FILES.lock().unwrap_or_else(|e| e.into_inner()).push(path.to_path_buf());
}

/// Runs `f` (which renames or removes the temporary file `path`) and forgets `path`, with no
/// signal handling in between.
pub fn finish_temp<T>(path: &Path, f: impl FnOnce() -> T) -> T {
    let mut files = TEMP_FILES.lock().unwrap_or_else(|e| e.into_inner());
    let out = f();
    files.retain(|p| p != path);
    out
}
