//! The kinds of invalid input bptui reports. Every one of them exits with status 2 and names
//! where the problem is: file and line and column, CSV row, or trace record.

use std::path::Path;

/// Invalid input, located.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model file is not valid YAML, does not match the model format, or describes a model
    /// that cannot be built (unknown op, shapes that do not fit, undefined names…).
    #[error("{file}:{line}:{column}: {message}")]
    Model { file: String, line: usize, column: usize, message: String },
    /// A data file has a cell, row or label the model cannot use. `row` counts from 1 and is
    /// the file's line number.
    #[error("{file}: row {row}: {message}")]
    Data { file: String, row: usize, message: String },
    /// A trace (JSON Lines or .npz) does not follow the trace format. `record` counts from 1
    /// (the line of a JSON Lines file, or the array of an .npz).
    #[error("{file}: record {record}: {message}")]
    Trace { file: String, record: usize, message: String },
    /// A file cannot be read or written at all, or is empty.
    #[error("{file}: {message}")]
    File { file: String, message: String },
    /// The reader of standard output (or of a pipe written to) went away, as `| head` does:
    /// the command ends quietly.
    #[error("the reader went away")]
    BrokenPipe,
    /// A command-line value is not usable.
    #[error("{0}")]
    Usage(String),
}

impl Error {
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        Error::File { file: path.display().to_string(), message: message.into() }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// User text made fit for a one-line message: control characters escaped as Rust writes them
/// (`\n`, `\u{1b}`), and at most `max_chars` characters of it, then `…`. Every message that
/// quotes what a user wrote (a file's text, a cell, a key, a command-line word) goes through
/// here, so none can break the line or fill the screen.
pub fn one_line(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(4 * max_chars));
    for (i, c) in text.chars().enumerate() {
        if i == max_chars {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A short quote of user text inside a message: [`one_line`] of at most 60 characters.
pub fn clip(text: &str) -> String {
    one_line(text, 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_escapes_control_characters_and_caps_the_length() {
        assert_eq!(one_line("a\nb\t\u{1b}[31m", 100), "a\\nb\\t\\u{1b}[31m");
        assert_eq!(one_line("é ≥ \"q\" \\", 100), "é ≥ \"q\" \\");
        assert_eq!(one_line("abcdef", 3), "abc…");
        assert_eq!(one_line("abc", 3), "abc");
        assert_eq!(clip(&"z".repeat(61)), format!("{}…", "z".repeat(60)));
        assert_eq!(clip(&"z".repeat(60)), "z".repeat(60));
    }
}
