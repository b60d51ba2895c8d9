//! How many numbers bptui lets a model, or an array read from a file, hold: the one setting the
//! command line (`--max-numbers`) gives every reader, at the bottom of the layers so that the
//! model, the `.npy` reader and the trace reader all ask it without importing each other.
//!
//! It is a process-wide value set once by the command line before anything is read (a thread
//! may set its own, for tests that load models side by side).

/// The most numbers a model may hold unless `--max-numbers` says otherwise: 2^26 (a value
/// and an adjoint for every element of every node count two). The session keeps about twice
/// that (the evaluation's workspace, parameters before their update, optimizer state), so a
/// model at the limit stays within 1 GiB.
pub const DEFAULT_MAX_NUMBERS: usize = 1 << 26;

static MAX_NUMBERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(DEFAULT_MAX_NUMBERS);

thread_local! {
    /// This thread's own limit, over the process's: tests that load models side by side on
    /// several threads each set theirs without changing the others'.
    static THREAD_MAX_NUMBERS: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// The most numbers a model (or an array read from a file) may hold.
pub fn max_numbers() -> usize {
    THREAD_MAX_NUMBERS.with(|n| n.get()).unwrap_or_else(|| MAX_NUMBERS.load(std::sync::atomic::Ordering::Relaxed))
}

/// Sets [`max_numbers`] for the whole process (the command line's `--max-numbers`).
pub fn set_max_numbers(n: usize) {
    MAX_NUMBERS.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// Sets [`max_numbers`] for the calling thread only (`None`: the process's again).
pub fn set_thread_max_numbers(n: Option<usize>) {
    THREAD_MAX_NUMBERS.with(|t| t.set(n));
}
