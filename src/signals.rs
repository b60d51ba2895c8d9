//! What happens when the process is told to end (SIGTERM, SIGINT, SIGHUP): temporary output
//! files are removed and, if the debugger holds the terminal, the terminal is restored exactly
//! as `q` restores it; then the process ends as the signal would have ended it.
//!
//! A thread waits for the signals (signal-hook's self-pipe), so nothing but a write to a pipe
//! happens in the signal handler itself.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

/// The signals that end the process and that bptui cleans up after.
pub const ENDING: [i32; 3] = [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT, signal_hook::consts::SIGHUP];

/// The signal received, 0 while none.
static PENDING: AtomicI32 = AtomicI32::new(0);
/// Whether the debugger holds the terminal (raw mode, alternate screen, mouse capture).
static TUI_ACTIVE: AtomicBool = AtomicBool::new(false);
/// Temporary files being written, removed if a signal ends the process.
static TEMP_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

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
    if TUI_ACTIVE.load(Ordering::SeqCst) {
        // The debugger's loop sees the signal within a few milliseconds, restores the
        // terminal and ends the process; if it is stuck, restore from here.
        let deadline = Instant::now() + Duration::from_secs(2);
        while TUI_ACTIVE.load(Ordering::SeqCst) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if TUI_ACTIVE.swap(false, Ordering::SeqCst) {
            crate::tui::restore_terminal();
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

/// Marks whether the debugger holds the terminal.
pub fn set_tui_active(active: bool) {
    TUI_ACTIVE.store(active, Ordering::SeqCst);
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
