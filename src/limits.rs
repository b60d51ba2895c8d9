//! How many numbers bptui lets a model, or an array read from a file, hold: the one setting
//! every reader needs (`--max-numbers`), at the bottom of the layers so that the model, the
//! `.npy` reader and the trace reader all take it without importing each other.
//!
//! It is a value, settled once by the command line and passed down to each reader (as
//! ripgrep's settled arguments are): no reader looks it up.

/// The most numbers a model may hold unless `--max-numbers` says otherwise: 2^26 (a value
/// and an adjoint for every element of every node count two). The session keeps about twice
/// that (the evaluation's workspace, parameters before their update, optimizer state), so a
/// model at the limit stays within 1 GiB.
pub const DEFAULT_MAX_NUMBERS: usize = 1 << 26;

/// The limits a reader checks what it reads against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most numbers a model (or an array read from a file) may hold.
    pub max_numbers: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_numbers: DEFAULT_MAX_NUMBERS }
    }
}

impl Limits {
    /// `--max-numbers N`, or the default.
    pub fn with_max_numbers(n: Option<usize>) -> Limits {
        Limits { max_numbers: n.unwrap_or(DEFAULT_MAX_NUMBERS) }
    }
}
